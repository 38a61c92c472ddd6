#!/usr/bin/env bash
# The benchmark: builds the native `bench` binary and the wasm, then runs bench.mjs, which
# interleaves native Candle, Candle in headless Chromium and TF.js (wasm backend) training
# rounds of the default model, measures decode latency, wasm memory and size, prints a table
# and writes tests/artifacts/bench.json; then latency.mjs measures the lab page's interaction
# latency (tests/artifacts/latency.json). About three minutes after the builds.
#
#   pkg-config/bench.sh [--quality] [--rounds 3] [--seconds 6] [--warmup 1] [--chunk 10]
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

# Data, vendored TF.js and playwright-core; quick when everything is already there.
"$CFG/setup.sh" >/dev/null
echo "[bench] cargo build --release --bin bench"
cargo build --release --locked --bin bench
"$CFG/build.sh"
echo "[bench] running (the page freezes while it trains; that is intended)"
node "$CFG/bench.mjs" --native "$ROOT/target/release/bench" "$@"
echo "[bench] interaction latency of the lab page"
exec node "$CFG/latency.mjs"
