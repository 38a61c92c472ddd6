#!/usr/bin/env bash
# Trains the pretrained models the lecture presets open, with the native trainer (the same
# Candle code the page runs) on the bundled MNIST, and writes www/checkpoints/<name>.safetensors
# plus www/checkpoints/manifest.json (settings, epochs, steps, test metrics, size, sha256).
#
#   pkg-config/checkpoints.sh            # all presets, 2 at a time, one thread each
#   JOBS=1 pkg-config/checkpoints.sh     # one at a time
#   PRIORS_ONLY=1 pkg-config/checkpoints.sh   # only the learned priors, for the checkpoints in place
#   JUDGE_ONLY=1 pkg-config/checkpoints.sh    # only the judge (the classifier that scores samples)
#
# After the models, the learned priors over VQ code grids (PRIORS below) are trained for the
# checkpoints just written (`train --prior-for`) and listed under `priors` in the manifest; then
# the judge, an MNIST classifier (`train --judge`), listed under `judge` with its test accuracy.
#
# Fixed seeds and one thread per training run make the output reproducible: a second run
# writes the same bytes (compare with `sha256sum www/checkpoints/*`). The files are committed,
# so a fresh clone serves them without training. Needs www/data/mnist (pkg-config/setup.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/www/checkpoints"
JOBS="${JOBS:-2}"
export PATH="$HOME/.cargo/bin:$PATH"
# candle's matmuls on several threads are not needed for these small MLPs, and one thread per
# run keeps each run's arithmetic, and so its bytes, independent of the machine's load.
export RAYON_NUM_THREADS=1

log() { printf '[checkpoints] %s\n' "$*"; }

# The page's hidden size (config.js SETTINGS) and the trainer's default optimizer settings.
COMMON=(--hidden 256 --seed 0 --learning-rate 0.001 --batch-size 128)

# name | epochs | model flags. Longest runs first, so two workers finish close together.
PRESETS=(
  "vq-l16|10|--kind vqvae --codebook-size 16 --code-dim 2 --codes-per-image 16"
  "ae-2d|20|--kind ae --latent-dim 2"
  "vae-2d|20|--kind vae --latent-dim 2"
  "vae-10d|12|--kind vae --latent-dim 10 --beta 1"
  "vae-10d-beta0.1|12|--kind vae --latent-dim 10 --beta 0.1"
  "vae-10d-beta4|12|--kind vae --latent-dim 10 --beta 4"
  "vae-10d-beta10|12|--kind vae --latent-dim 10 --beta 10"
  "vq-k128-loss|6|--kind vqvae --codebook-size 128 --code-dim 16 --codebook-init smallUniform --codebook-update loss"
  "vq-k128-ema-restart|6|--kind vqvae --codebook-size 128 --code-dim 16 --codebook-init smallUniform --codebook-update emaRestart"
)

# name | the VQ-VAE checkpoint it models | epochs over that checkpoint's training codes.
PRIORS=(
  "vq-l16-prior|vq-l16|10"
)

# The judge's epochs (hidden 256 and the optimizer settings are the trainer's defaults).
JUDGE_EPOCHS=10

[[ -f "$ROOT/www/data/mnist/train-images-idx3-ubyte.gz" ]] || { echo "[checkpoints] www/data/mnist is missing: run pkg-config/setup.sh" >&2; exit 1; }

started=$SECONDS
log "building the trainer"
(cd "$ROOT" && cargo build --release --quiet --bin train)
TRAIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/train"
[[ "$TRAIN" = /* ]] || TRAIN="$ROOT/$TRAIN"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

train_one() {
  local name="$1" epochs="$2" flags="$3" t0=$SECONDS rc=0
  # shellcheck disable=SC2086  # the flags are words
  "$TRAIN" --data "$ROOT/www/data/mnist" --epochs "$epochs" "${COMMON[@]}" $flags \
    --out "$WORK/$name.safetensors" > "$WORK/$name.log" 2>&1 || rc=$?
  echo "$rc" > "$WORK/$name.rc"
  log "$(printf '%-20s %2d epochs  %4d s  %s' "$name" "$epochs" $((SECONDS - t0)) "$(grep '^epoch' "$WORK/$name.log" | tail -n 1 | sed 's/.*| //')")"
}

# The priors model the checkpoints in www/checkpoints; their entries replace the manifest's `priors`.
train_priors() {
  for entry in "${PRIORS[@]}"; do
    IFS='|' read -r name vq epochs <<< "$entry"
    local t0=$SECONDS
    "$TRAIN" --data "$ROOT/www/data/mnist" --epochs "$epochs" --seed 0 --prior-for "$OUT/$vq.safetensors" \
      --out "$OUT/$name.safetensors" > "$WORK/$name.log" 2>&1 || { tail -n 20 "$WORK/$name.log" >&2; exit 1; }
    log "$(printf '%-20s %2d epochs  %4d s  %s' "$name" "$epochs" $((SECONDS - t0)) "$(grep '^epoch' "$WORK/$name.log" | tail -n 1 | sed 's/.*| //')")"
  done
  printf '%s\n' "${PRIORS[@]}" | node --input-type=module -e '
    import { readFileSync, writeFileSync } from "node:fs";
    import { createHash } from "node:crypto";
    const [work, out] = process.argv.slice(1);
    const manifest = JSON.parse(readFileSync(`${out}/manifest.json`, "utf8"));
    manifest.priors = readFileSync(0, "utf8").trim().split("\n").map((line) => {
      const [name, checkpoint, epochs] = line.split("|");
      const log = readFileSync(`${work}/${name}.log`, "utf8");
      const bytes = readFileSync(`${out}/${name}.safetensors`);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const file = `${name}.safetensors`;
      // Seconds depend on the machine; the file and the rest of the manifest do not.
      const { trainSeconds, ...test } = JSON.parse(log.match(/^test +(\{.*\})$/m)[1]);
      return { name, checkpoint, file, url: `${file}?v=${sha256.slice(0, 16)}`, bytes: bytes.length, sha256, epochs: Number(epochs), steps: test.step, test };
    });
    writeFileSync(`${out}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
  ' "$WORK" "$OUT"
}

# The judge scores samples; its entry replaces the manifest's `judge`.
train_judge() {
  local t0=$SECONDS
  "$TRAIN" --data "$ROOT/www/data/mnist" --epochs "$JUDGE_EPOCHS" --seed 0 --judge \
    --out "$OUT/judge.safetensors" > "$WORK/judge.log" 2>&1 || { tail -n 20 "$WORK/judge.log" >&2; exit 1; }
  log "$(printf '%-20s %2d epochs  %4d s  %s' judge "$JUDGE_EPOCHS" $((SECONDS - t0)) "$(grep '^epoch' "$WORK/judge.log" | tail -n 1 | sed 's/.*| //')")"
  node --input-type=module -e '
    import { readFileSync, writeFileSync } from "node:fs";
    import { createHash } from "node:crypto";
    const [work, out, epochs] = process.argv.slice(1);
    const manifest = JSON.parse(readFileSync(`${out}/manifest.json`, "utf8"));
    const log = readFileSync(`${work}/judge.log`, "utf8");
    const json = (tag) => JSON.parse(log.match(new RegExp(`^${tag} +(\\{.*\\})$`, "m"))[1]);
    const bytes = readFileSync(`${out}/judge.safetensors`);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const file = "judge.safetensors";
    const { step, testAccuracy } = json("test");
    manifest.judge = { name: "judge", file, url: `${file}?v=${sha256.slice(0, 16)}`, bytes: bytes.length, sha256, epochs: Number(epochs), steps: step, judge: json("judge"), testAccuracy };
    writeFileSync(`${out}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
  ' "$WORK" "$OUT" "$JUDGE_EPOCHS"
}

if [[ -n "${JUDGE_ONLY:-}" ]]; then
  log "training the judge"
  train_judge
  log "done in $((SECONDS - started)) s"
  exit 0
fi

if [[ -n "${PRIORS_ONLY:-}" ]]; then
  log "training ${#PRIORS[@]} learned priors for the checkpoints in place"
  train_priors
  log "done in $((SECONDS - started)) s"
  exit 0
fi

log "training ${#PRESETS[@]} models, $JOBS at a time"
for preset in "${PRESETS[@]}"; do
  IFS='|' read -r name epochs flags <<< "$preset"
  while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n || true; done
  train_one "$name" "$epochs" "$flags" &
done
wait

failed=0
for preset in "${PRESETS[@]}"; do
  name="${preset%%|*}"
  if [[ "$(cat "$WORK/$name.rc")" != 0 ]]; then
    echo "[checkpoints] $name failed:" >&2
    tail -n 20 "$WORK/$name.log" >&2
    failed=1
  fi
done
(( failed == 0 )) || exit 1

# The manifest: one entry per preset, in the order above, with what the trainer printed.
mkdir -p "$OUT"
rm -f "$OUT"/*.safetensors
printf '%s\n' "${PRESETS[@]}" | node --input-type=module -e '
  import { readFileSync, writeFileSync, copyFileSync } from "node:fs";
  import { createHash } from "node:crypto";
  const [work, out] = process.argv.slice(1);
  const lines = readFileSync(0, "utf8").trim().split("\n");
  const checkpoints = lines.map((line) => {
    const [name, epochs] = line.split("|");
    const log = readFileSync(`${work}/${name}.log`, "utf8");
    const json = (tag) => JSON.parse(log.match(new RegExp(`^${tag} +(\\{.*\\})$`, "m"))[1]);
    const bytes = readFileSync(`${work}/${name}.safetensors`);
    // The step count is in the checkpoint header (8-byte length, then JSON).
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString());
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const file = `${name}.safetensors`;
    copyFileSync(`${work}/${name}.safetensors`, `${out}/${file}`);
    const { codeUsage, ...test } = json("test");
    return {
      name,
      file,
      // The address the page and the offline cache use: a new file gets a new address.
      url: `${file}?v=${sha256.slice(0, 16)}`,
      bytes: bytes.length,
      sha256,
      epochs: Number(epochs),
      steps: Number(header.__metadata__.step),
      model: json("model"),
      train: json("train"),
      test,
    };
  });
  const manifest = { generatedBy: "pkg-config/checkpoints.sh", dataset: "mnist", checkpoints };
  writeFileSync(`${out}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
  const total = checkpoints.reduce((n, c) => n + c.bytes, 0);
  console.log(`[checkpoints] wrote ${checkpoints.length} checkpoints, ${(total / 1e6).toFixed(1)} MB in all, and manifest.json`);
' "$WORK" "$OUT"

train_priors
train_judge
log "done in $((SECONDS - started)) s (wall clock, including the build)"
