#!/usr/bin/env bash
# Serves www/ at http://localhost:${PORT:-8080} (Ctrl-C stops). The page must come
# over http: file:// breaks module workers and fetch.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -f "$ROOT/www/pkg/latent_lab_bg.wasm" ]] || echo "[serve] warning: www/pkg has no wasm yet; run pkg-config/build.sh" >&2
exec node "$ROOT/pkg-config/serve.mjs" "$ROOT/www" "${PORT:-8080}"
