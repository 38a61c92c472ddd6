#!/usr/bin/env bash
# Installs what the tests need on top of setup.sh: headless Chromium and Firefox
# with their WebDriver servers (chromedriver from Debian, geckodriver from crates.io).
# The page tests drive Debian's firefox-esr and chromium themselves, through
# playwright-core and puppeteer-core (npm packages that setup.sh installs).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Matches the default of wasm-pack 0.15.1, which is what it was tested with.
GECKODRIVER_VERSION="0.37.1"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '[test-setup] %s\n' "$*"; }

"$HERE/setup.sh"

# The format and lint checks of test.sh.
for component in rustfmt clippy; do
  # grep reads the whole list: with -q it would stop early, and rustup panics on the closed pipe.
  if rustup component list --installed | grep "^$component" >/dev/null; then
    log "rust component $component: present"
  else
    log "adding rust component $component"
    rustup component add "$component"
  fi
done

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
if ((${#missing[@]})); then
  [[ "$(id -u)" == 0 ]] || { echo "[test-setup] error: need root to apt-get install ${missing[*]}" >&2; exit 1; }
  log "apt-get install ${missing[*]}"
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
else
  log "chromium, chromium-driver, firefox-esr: present"
fi

# Its whole --version text is read first: a pipe that closes early makes geckodriver panic.
gecko_version() { local text; text="$(geckodriver --version 2>/dev/null)"; echo "${text%%$'\n'*}"; }
if [[ "$(gecko_version)" == "geckodriver $GECKODRIVER_VERSION"* ]]; then
  log "geckodriver $GECKODRIVER_VERSION: present"
else
  log "installing geckodriver $GECKODRIVER_VERSION (cargo install, a few minutes)"
  cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked
fi

# chromedriver only drives the Chromium of the same major version; Debian ships
# them as a pair, so a mismatch means a half-upgraded system.
chromium_major="$(chromium --version 2>/dev/null | grep -oE '[0-9]+\.' | head -n1)"
driver_major="$(chromedriver --version | grep -oE '[0-9]+\.' | head -n1)"
if [[ "$chromium_major" != "$driver_major" ]]; then
  echo "[test-setup] error: chromium ${chromium_major%.} but chromedriver ${driver_major%.}; apt-get install chromium chromium-driver" >&2
  exit 1
fi
log "$(chromium --version 2>/dev/null); $(chromedriver --version | cut -d' ' -f1-2); $(firefox-esr --version 2>/dev/null); $(gecko_version)"
