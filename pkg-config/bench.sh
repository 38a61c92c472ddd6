#!/usr/bin/env bash
# The benchmark: builds the native `bench` binary and the wasm, then runs bench.mjs, which in
# interleaved rounds trains the default model (2-D MLP VAE) and its convolutional twin: Candle
# in headless Chromium with W = 1 and W = 2 … cores data-parallel workers (replica 0's per-step
# profile included), native Candle on 1 and 2 threads, and for the MLP TF.js's wasm backend on
# one thread and threaded (the bench page is cross-origin isolated). Every figure is printed as
# a ratio to W = 1 with the CPU share the run got; then the wasm/native ratios against their
# targets, decode latency, the memory of W = 1, 2 and 4 (page and helpers), the wasm size; it
# writes tests/artifacts/bench.json. Then latency.mjs measures the lab page's interaction
# latency, sliders and hovers (tests/artifacts/latency.json). About six minutes after the builds.
#
#   pkg-config/bench.sh [--quality] [--rounds 3] [--seconds 6] [--warmup 1] [--chunk 10] [--conv-chunk 2] [--baseline REV]
#
# --baseline REV (a commit, say main~5) builds that revision's page in target/baseline-tree and
# measures it side by side with this one: its wasm training rounds interleave with ours, and the
# latency run measures both pages.
#
# --quality also trains the 2-D and 20-D VAE for 20 epochs with the train CLI and reports
# their test −ELBO (several more minutes; on a machine already busy, RAYON_NUM_THREADS=1 made
# the train CLI several times faster here than two threads fighting for one core). Throughput is wall-clock: on a shared machine read
# the cpu/others columns before trusting a ratio.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CFG="$ROOT/pkg-config"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

# --baseline REV: build revision REV's page beside this one and measure both in one run.
baseline_rev=""
args=()
while (($#)); do
  if [[ "$1" == --baseline ]]; then baseline_rev="$2"; shift 2; else args+=("$1"); shift; fi
done

# Data, vendored TF.js and playwright-core; quick when everything is already there.
"$CFG/setup.sh" >/dev/null
echo "[bench] cargo build --release --bin bench"
cargo build --release --locked --bin bench
"$CFG/build.sh"

baseline=()
if [[ -n "$baseline_rev" ]]; then
  tree="$ROOT/target/baseline-tree"
  git worktree remove --force "$tree" 2>/dev/null || rm -rf "$tree"
  git worktree add --detach "$tree" "$baseline_rev" >/dev/null
  # Its own target dir, kept between runs, so a second comparison builds nothing.
  echo "[bench] building the baseline $baseline_rev ($(git rev-parse --short "$baseline_rev"))"
  CARGO_TARGET_DIR="$ROOT/target/baseline" "$tree/pkg-config/build.sh"
  ln -sfn "$ROOT/www/data" "$tree/www/data"
  ln -sfn "$ROOT/www/vendor" "$tree/www/vendor"
  baseline=(--baseline-www "$tree/www")
fi

echo "[bench] running (the page freezes while it trains; that is intended)"
node "$CFG/bench.mjs" --native "$ROOT/target/release/bench" "${baseline[@]}" "${args[@]}"
echo "[bench] interaction latency of the lab page"
exec node "$CFG/latency.mjs" "${baseline[@]}"
