#!/usr/bin/env bash
# Builds the wasm module and its JS glue into www/pkg, twice: plain simd128
# (latent_lab_bg.wasm) and with relaxed SIMD (latent_lab_relaxed_bg.wasm), whose
# multiply-add runs the matrix products 20-27 % faster; www/app/wasm.js loads the second
# where the browser has relaxed SIMD. Then prints their sizes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$ROOT"

echo "[build] wasm-pack build --release --target web -> www/pkg"
# --mode no-install: use the wasm-bindgen on PATH and fail on a version mismatch
# instead of trying a download. --out-dir is relative to the crate root.
# --no-pack: the page imports the files directly and needs no npm package.json.
build() {
  wasm-pack build --release --target web --mode no-install --no-typescript --no-pack --out-dir "$1" "$ROOT"
}
build www/pkg

echo "[build] the same with relaxed SIMD -> www/pkg/latent_lab_relaxed_bg.wasm"
# Its own target directory: other flags in the same one would rebuild every crate each time.
relaxed_out="target/relaxed-simd/pkg"
CARGO_TARGET_DIR="$ROOT/target/relaxed-simd" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  build "$relaxed_out"
# One glue serves both modules, so the two builds must export the same surface.
cmp -s "$relaxed_out/latent_lab.js" www/pkg/latent_lab.js ||
  { echo "[build] error: the relaxed build's JS glue differs from the plain build's" >&2; exit 1; }
cp "$relaxed_out/latent_lab_bg.wasm" www/pkg/latent_lab_relaxed_bg.wasm

for wasm in www/pkg/latent_lab_bg.wasm www/pkg/latent_lab_relaxed_bg.wasm; do
  [[ -f "$wasm" ]] || { echo "[build] error: $wasm was not produced" >&2; exit 1; }
  raw=$(stat -c %s "$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  printf '[build] %s: %d KiB raw, %d KiB gzipped\n' "$wasm" $((raw / 1024)) $((gz / 1024))
done
