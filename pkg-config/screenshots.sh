#!/usr/bin/env bash
# Refreshes the README's screenshots from the page tests: every tests/screenshots/<name>.png
# the README shows is copied from tests/artifacts/<name>.png, which the page tests write
# (tests/page/harness.mjs `screenshot`). Run the page tests first (pkg-config/test.sh, or
# `node --test tests/page/*.test.mjs`); a missing artifact is an error, so a renamed
# screenshot cannot leave a stale picture in the README.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mapfile -t names < <(grep -o 'tests/screenshots/[A-Za-z0-9._-]*\.png' README.md | sed 's#tests/screenshots/##' | sort -u)
missing=0
for name in "${names[@]}"; do
  if [[ -f "tests/artifacts/$name" ]]; then
    cp "tests/artifacts/$name" "tests/screenshots/$name"
  else
    echo "[screenshots] missing tests/artifacts/$name: no page test wrote it" >&2
    missing=1
  fi
done
echo "[screenshots] ${#names[@]} README screenshots checked, copied those present"
exit "$missing"
