#!/usr/bin/env bash
# Command (a): install what is missing, build the wasm, serve the page at
# http://localhost:${PORT:-8080}.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/setup.sh"
"$HERE/build.sh"
exec "$HERE/serve.sh"
