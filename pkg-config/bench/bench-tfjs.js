// The benchmark's TF.js twin of Latent Lab's default model, for comparing training speed
// with the same work: a 2-D MLP VAE trained by Adam on MNIST, written with TF.js ops.
//
//   encoder  x (B, 784) → dense 512 → ReLU → dense 2d → [μ | log σ²]
//   decoder  z (B, d)   → dense 512 → ReLU → dense 784 → logits
//   z        = μ + exp(½ log σ²) ⊙ ε,  ε ~ N(0, I)
//   loss     = mean over the batch of  Σ_pixels [relu(l) − l·x + log(1 + e^{−|l|})]
//                                    + ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1)
//
// Everything that sets the amount of work or the scale of the loss matches the Candle model
// (src/model/blocks.rs, vae.rs): weights N(0, 2/fan_in), biases U(±1/√fan_in), batch 128,
// the stable BCE summed over pixels, Adam with lr 1e-3, β 0.9/0.999 and ε 1e-8 (candle's
// AdamW defaults; weight decay is 0 there). Weights are stored (in, out), TF.js's own layout
// for dense layers, so each library runs its natural matmuls.
//
// `tf` is the global the UMD scripts define (tf.min.js, then tf-backend-wasm.min.js).

const PIXELS = 784;

/**
 * Selects the wasm backend with its binaries from `wasmDir` and `threads` threads; returns
 * what it got. More than one thread takes the vendored threaded build, which needs
 * SharedArrayBuffer and so a cross-origin-isolated page (COOP/COEP); without one it runs on one.
 * Whatever is asked, the backend takes at most half of navigator.hardwareConcurrency threads
 * (bench.mjs tells the threaded page twice the cores).
 */
export async function useWasmBackend(tf, wasmDir, threads = 1) {
  tf.wasm.setWasmPaths(wasmDir);
  // Isolated, the backend would take the threaded build on its own: one thread means the
  // single-threaded build, as on a page that is not isolated.
  if (threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  else tf.wasm.setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js wasm backend failed to initialise');
  await tf.ready();
  return {
    backend: tf.getBackend(),
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    threads: tf.wasm.getThreadsCount(),
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    version: tf.version.tfjs,
  };
}

export class TfjsVae {
  /**
   * @param tf        the TF.js namespace
   * @param images    training images as bytes, `count × 784`
   * @param count     number of images
   */
  constructor(tf, images, count, { hidden = 512, latentDim = 2, batchSize = 128, learningRate = 1e-3 } = {}) {
    this.tf = tf;
    this.images = images;
    this.count = count;
    this.latentDim = latentDim;
    this.batchSize = batchSize;
    this.step = 0;
    const dense = (name, fanIn, fanOut) => {
      const bound = 1 / Math.sqrt(fanIn);
      return {
        w: tf.variable(tf.randomNormal([fanIn, fanOut], 0, Math.sqrt(2 / fanIn)), true, `${name}.w`),
        b: tf.variable(tf.randomUniform([fanOut], -bound, bound), true, `${name}.b`),
      };
    };
    this.layers = {
      enc1: dense('enc1', PIXELS, hidden),
      enc2: dense('enc2', hidden, 2 * latentDim),
      dec1: dense('dec1', latentDim, hidden),
      dec2: dense('dec2', hidden, PIXELS),
    };
    this.vars = Object.values(this.layers).flatMap((l) => [l.w, l.b]);
    this.optimizer = tf.train.adam(learningRate, 0.9, 0.999, 1e-8);
    this.batch = new Float32Array(batchSize * PIXELS);
    this.order = new Int32Array(count).map((_, i) => i);
    this.cursor = count; // forces a shuffle before the first batch
  }

  /** Fills `this.batch` with the next images of a shuffled epoch, as pixel / 255. */
  nextBatch() {
    if (this.cursor + this.batchSize > this.count) {
      // Fisher–Yates; like Candle's batcher, the incomplete last batch of an epoch is dropped.
      for (let i = this.count - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
      }
      this.cursor = 0;
    }
    for (let r = 0; r < this.batchSize; r++) {
      const src = this.order[this.cursor + r] * PIXELS;
      const dst = r * PIXELS;
      for (let p = 0; p < PIXELS; p++) this.batch[dst + p] = this.images[src + p] / 255;
    }
    this.cursor += this.batchSize;
  }

  /** −ELBO per image, averaged over the batch (a scalar tensor). */
  loss(x, eps) {
    const tf = this.tf;
    const { enc1, enc2, dec1, dec2 } = this.layers;
    const d = this.latentDim;
    const h = tf.relu(tf.add(tf.matMul(x, enc1.w), enc1.b));
    const stats = tf.add(tf.matMul(h, enc2.w), enc2.b);
    const mu = tf.slice(stats, [0, 0], [-1, d]);
    const logvar = tf.slice(stats, [0, d], [-1, d]);
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps));
    const hd = tf.relu(tf.add(tf.matMul(z, dec1.w), dec1.b));
    const logits = tf.add(tf.matMul(hd, dec2.w), dec2.b);
    const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    const kl = tf.mul(tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(logvar, 1)), 1), 0.5);
    return tf.mean(tf.add(tf.sum(bce, 1), kl));
  }

  /**
   * Runs `n` Adam steps; returns the mean loss. Each step reads its loss back (as Candle's
   * trainer does for its NaN guard), so every step has finished when this returns.
   */
  trainSteps(n) {
    const tf = this.tf;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      this.nextBatch();
      sum += tf.tidy(() => {
        const x = tf.tensor2d(this.batch, [this.batchSize, PIXELS]);
        const eps = tf.randomNormal([this.batchSize, this.latentDim]);
        const cost = this.optimizer.minimize(() => this.loss(x, eps), true, this.vars);
        return cost.dataSync()[0];
      });
      this.step += 1;
    }
    return { step: this.step, loss: sum / n };
  }
}
