#!/usr/bin/env bash
# Builds the wasm module and its JS glue into www/pkg, then prints its size.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$ROOT"

echo "[build] wasm-pack build --release --target web -> www/pkg"
# --mode no-install: use the wasm-bindgen on PATH and fail on a version mismatch
# instead of trying a download. --out-dir is relative to the crate root.
# --no-pack: the page imports the files directly and needs no npm package.json.
wasm-pack build --release --target web --mode no-install --no-typescript --no-pack \
  --out-dir www/pkg "$ROOT"

wasm="www/pkg/latent_lab_bg.wasm"
[[ -f "$wasm" ]] || { echo "[build] error: $wasm was not produced" >&2; exit 1; }
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
printf '[build] %s: %d KiB raw, %d KiB gzipped\n' "$wasm" $((raw / 1024)) $((gz / 1024))
