// Browser side of the benchmark: Latent Lab's wasm Session (the default MLP VAE, and the same
// with the convolutional encoder and decoder) and the MLP's TF.js twin (bench-tfjs.js), all
// trained in this page on the bundled MNIST training images.
//
// pkg-config/bench.mjs opens bench.html?driven and calls `window.bench.*` between its native
// runs. Opened by hand, the page offers a button that runs a few in-page rounds instead.
// Training runs on the page's main thread on purpose: one thread for each implementation,
// no worker messaging in the measurement, and nothing else competing in the page.
//
// bench.html?pkg=URL loads another build's wasm glue instead (bench.mjs --baseline-www): that
// page trains Candle only, so an older build runs side by side with this one.
// bench.html?tfjs-threads=N gives TF.js N threads (the page must be cross-origin isolated; a
// backend's thread count is fixed once it starts, so each count needs a page of its own), and
// 0 leaves TF.js out. The default is one thread, like Candle's.

import { TfjsVae, useWasmBackend } from './bench-tfjs.js';
import { Team } from '../workers/team.js';
import loadWasm from '../app/wasm.js';
import { cmd } from '../app/protocol.js';
import { SIDE } from '../views/digits.js';
import { gridRows } from '../workers/followers.js';

const PARAMS = new URLSearchParams(location.search);
const PKG = PARAMS.get('pkg');
const CURRENT_PKG = '../pkg/latent_lab.js';
const PLAIN_WASM = new URL('../pkg/latent_lab_bg.wasm', import.meta.url);
const TFJS_THREADS = PKG ? 0 : Number(PARAMS.get('tfjs-threads') ?? 1);

const DATA_DIR = '../data/mnist/';
const DATA_FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
];
const IDX_IMAGES_MAGIC = 0x803;
const IDX_IMAGES_HEADER = 16;

async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The pixels of an IDX image file (TF.js needs them in JS; Candle parses its own copy). */
function parseImages(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [magic, count, rows, cols] = [0, 4, 8, 12].map((o) => view.getUint32(o));
  if (magic !== IDX_IMAGES_MAGIC || rows !== 28 || cols !== 28) throw new Error('not a 28×28 IDX image file');
  return { count, pixels: bytes.subarray(IDX_IMAGES_HEADER, IDX_IMAGES_HEADER + count * 784) };
}

let state; // { wasm, candle, conv, tfjs, files, teams, batchSize }

/**
 * The default model of the wasm glue at `url` as `{glue, wasm, config, session, trainSteps(n),
 * decodeGrid()}`. Builds before the one-style boundary took settings and gave reports as JSON
 * strings; both are understood, so an old build can be measured beside this one.
 */
async function openSession(url) {
  const glue = await import(url);
  // This build as the lab loads it (relaxed SIMD where the browser has it), or its plain
  // simd128 module with `wasm=plain`; another build (`pkg=`) as its glue loads it.
  const current = url === CURRENT_PKG;
  const plain = current && PARAMS.get('wasm') === 'plain';
  const wasm = current && !plain ? await loadWasm() : await glue.default(plain ? { module_or_path: PLAIN_WASM } : undefined);
  if (glue.defaultSettings) {
    const config = glue.defaultSettings();
    const session = new glue.Session(config);
    const rect = { x0: -3, x1: 3, y0: -3, y1: 3 };
    return { glue, wasm, config, session, trainSteps: (n) => session.trainSteps(n), decodeGrid: () => session.manifold(rect, 20) };
  }
  const config = JSON.parse(glue.defaultConfig());
  const session = new glue.Session(JSON.stringify(config.model), JSON.stringify(config.train));
  return { wasm, config, session, trainSteps: (n) => JSON.parse(session.trainSteps(n)), decodeGrid: () => session.decodeGrid(-3, 3, -3, 3, 20, 20) };
}

async function setup() {
  const candle = await openSession(PKG ?? CURRENT_PKG);
  const { config, wasm } = candle;
  // The TF.js twin has no weight decay; a changed default would make the comparison unfair.
  if (config.train.weightDecay !== 0) throw new Error(`default weight decay is ${config.train.weightDecay}, TF.js twin assumes 0`);
  const files = await Promise.all(DATA_FILES.map((f) => fetchBytes(DATA_DIR + f)));
  candle.session.setData(...files);
  const { count, pixels } = parseImages(await gunzip(files[0]));
  const tfjsInfo = TFJS_THREADS ? await useWasmBackend(globalThis.tf, '../vendor/tfjs/', TFJS_THREADS) : null;
  const tfjs =
    tfjsInfo &&
    new TfjsVae(globalThis.tf, pixels, count, {
      hidden: config.model.hidden,
      latentDim: config.model.latentDim,
      batchSize: config.train.batchSize,
      learningRate: config.train.learningRate,
    });
  state = { wasm, candle, conv: null, tfjs, files, teams: new Map(), batchSize: config.train.batchSize };
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    model: config.model,
    train: config.train,
    trainImages: count,
    tfjs: tfjsInfo,
    wasmMemoryAfterData: wasm.memory.buffer.byteLength,
    // How the products add each step ({relaxedSimd, fused}), from builds that say.
    products: candle.glue?.productArithmetic?.() ?? null,
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
  };
}

/**
 * Calls `trainChunk(chunk)` until `seconds` have passed. `trainChunk` returns
 * `{ step, loss }` only after its steps have fully finished. A warm-up is simply an earlier
 * call whose result is ignored.
 */
function timeTraining(trainChunk, { seconds, chunk }) {
  const history = [];
  const chunkMs = [];
  const start = performance.now();
  let steps = 0;
  while (performance.now() - start < seconds * 1000) {
    const t0 = performance.now();
    const { step, loss } = trainChunk(chunk);
    chunkMs.push(performance.now() - t0);
    steps += chunk;
    history.push([step, loss]);
  }
  const elapsed = (performance.now() - start) / 1000;
  return {
    imagesPerSec: (steps * state.batchSize) / elapsed,
    medianStepMs: medianStepMs(chunkMs, chunk),
    steps,
    seconds: elapsed,
    loss: history.at(-1)[1],
    history,
    visibility: document.visibilityState,
  };
}

/**
 * Milliseconds per step of the median chunk of `chunk` steps: the pace of a typical stretch of
 * training. Bursts of other work on the machine slow some chunks; they move img/s (a mean) but
 * not this, unless they last half the run.
 */
function medianStepMs(chunkMs, chunk) {
  return summary(chunkMs).medianMs / chunk;
}

/** The default settings with the convolutional encoder and decoder (settings param "arch"). */
const convConfig = () => ({ ...state.candle.config, model: { ...state.candle.config.model, arch: 'conv' } });

/** A new session of `arch` on the training images. */
function newSession(arch) {
  const session = new state.candle.glue.Session(arch === 'conv' ? convConfig() : state.candle.config);
  session.setData(...state.files);
  return session;
}

/** Trains the default model (`arch` 'mlp') or its convolutional twin ('conv'), one replica. */
function trainCandle({ arch = 'mlp', ...opts }) {
  const session = arch === 'conv' ? (state.conv ??= newSession('conv')) : state.candle.session;
  return timeTraining((n) => {
    const report = session.trainSteps(n);
    return { step: report.step, loss: report.loss };
  }, opts);
}

function trainTfjs(opts) {
  const tf = globalThis.tf;
  const result = timeTraining((n) => state.tfjs.trainSteps(n), opts);
  // A leak would show here as a growing count between rounds.
  return { ...result, tensors: tf.memory().numTensors };
}

/**
 * Data-parallel training with `workers` replicas, as the lab's training worker runs it: this
 * page is replica 0 (as the single-replica run above is) and `workers − 1` helper workers
 * (www/workers/team.js) the others. Each architecture, count and transport (`shared`: the
 * SharedArrayBuffer boards of an isolated page, or messages) keeps its own model across
 * rounds. Adds the mean milliseconds per step of every replica's phases (allreduce.js `step`):
 * replica 0's as `perStepMs`, the helpers' as `helpersPerStepMs`.
 */
async function trainWorkers({ seconds, chunk, workers, arch = 'mlp', shared = globalThis.crossOriginIsolated === true }) {
  const key = `${arch} ${workers} ${shared}`;
  if (!state.teams.has(key)) {
    const session = newSession(arch);
    const team = new Team();
    await team.start(session, workers, shared);
    state.teams.set(key, { session, team });
  }
  const { session, team } = state.teams.get(key);
  const timing = {};
  const history = [];
  const start = performance.now();
  let steps = 0;
  const chunkMs = [];
  while (performance.now() - start < seconds * 1000) {
    const t0 = performance.now();
    const report = await team.steps(session, chunk, () => true, timing);
    chunkMs.push(performance.now() - t0);
    steps += chunk;
    history.push([report.step, report.loss]);
  }
  const elapsed = (performance.now() - start) / 1000;
  const perStep = (sums) => Object.fromEntries(Object.entries(sums).filter(([k]) => k !== 'steps').map(([k, v]) => [k, v / sums.steps]));
  // The helpers' phases beside replica 0's: a wait on every replica is the steps' jitter, a
  // wait on some only is one replica slower than the others.
  const helpersPerStepMs = (await team.helperTimings()).map(perStep);
  return { workers, imagesPerSec: (steps * state.batchSize) / elapsed, medianStepMs: medianStepMs(chunkMs, chunk), steps, seconds: elapsed, loss: history.at(-1)[1], history, perStepMs: perStep(timing), helpersPerStepMs };
}

/** Posts `message` to `worker` and resolves with its answer (an `{error}` answer rejects). */
function ask(worker, message) {
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.error ? reject(new Error(`solo worker: ${data.error}`)) : resolve(data));
    worker.postMessage(message);
  });
}

/**
 * `copies` workers (solo.js) each training its own model of `arch` at once, nothing exchanged:
 * their images per second together, the most W = `copies` data-parallel workers could reach in
 * this round. The copies live on across rounds, as the teams do.
 */
async function trainSolo({ seconds, chunk, copies, arch = 'mlp' }) {
  const key = `${arch} ${copies}`;
  state.solos ??= new Map();
  if (!state.solos.has(key)) {
    const workers = Array.from({ length: copies }, () => new Worker(new URL('./solo.js', import.meta.url), { type: 'module' }));
    const settings = arch === 'conv' ? convConfig() : state.candle.config;
    await Promise.all(workers.map((w) => ask(w, { settings, files: state.files })));
    state.solos.set(key, workers);
  }
  const workers = state.solos.get(key);
  const start = performance.now();
  const until = performance.timeOrigin + start + seconds * 1000;
  const runs = await Promise.all(workers.map((w) => ask(w, { chunk, until })));
  const elapsed = (performance.now() - start) / 1000;
  const steps = runs.reduce((sum, r) => sum + r.steps, 0);
  return { copies, imagesPerSec: runs.reduce((sum, r) => sum + (r.steps * state.batchSize) / r.seconds, 0), steps, seconds: elapsed, history: [] };
}

/** Milliseconds per decoded 20 × 20 grid over [−3, 3]², after three untimed calls. */
function decodeLatency(calls) {
  const grid = () => state.candle.decodeGrid();
  for (let i = 0; i < 3; i++) grid();
  const times = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    grid();
    times.push(performance.now() - start);
  }
  return summary(times);
}

/** `{calls, medianMs, p95Ms, minMs, maxMs}` of call times. */
function summary(times) {
  times.sort((a, b) => a - b);
  const quantile = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { calls: times.length, medianMs: quantile(0.5), p95Ms: quantile(0.95), minMs: times[0], maxMs: times.at(-1) };
}

/**
 * The same grid decoded on two cores as the lab page does while paused: this thread (in the
 * training worker's place) decodes the upper 10 rows and draws their tiles while the page's own
 * replica worker (www/workers/replica.js, holding this session's weights) does the lower 10.
 * Milliseconds from the request to both parts' images in this thread.
 */
async function decodeSplitLatency(calls) {
  const { session, glue } = state.candle;
  if (!glue.Session.prototype.manifoldRowsImage) return null; // a build before the split
  const replica = new Worker(new URL('../workers/replica.js', import.meta.url), { type: 'module' });
  const channel = new MessageChannel();
  replica.postMessage(cmd.connect(), [channel.port2]);
  const bytes = session.save();
  channel.port1.postMessage({ kind: 'checkpoint', bytes }, [bytes.buffer]);
  const rect = { x0: -3, x1: 3, y0: -3, y1: 3 };
  const n = 20;
  const half = n / 2;
  const once = async (id) => {
    const start = performance.now();
    const lower = new Promise((resolve, reject) => {
      replica.onmessage = ({ data }) => (data.part?.id === id ? resolve(data.rgba) : reject(new Error(`replica: ${data.message ?? data.type}`)));
    });
    channel.port1.postMessage({ kind: 'rows', id, rect, n, first: half, end: n, plane: session.viewPlane() });
    const [{ rgba: upper }] = gridRows(session, { id, rect, n, first: 0, end: half, plane: null });
    const rgba = await lower;
    if (upper.length + rgba.length !== 4 * (n * SIDE) ** 2) throw new Error('the two parts are not the whole grid');
    return performance.now() - start;
  };
  try {
    // The lab's replica is long warm (it answers every slider move and hover); a fresh one's
    // first hundred calls or so run partly in V8's baseline tier (3 untimed calls: median 9.1 ms).
    for (let i = 1; i <= 100; i++) await once(-i);
    const times = [];
    for (let i = 1; i <= calls; i++) times.push(await once(i));
    return summary(times);
  } finally {
    replica.terminate();
  }
}

/** The wasm module's linear memory; it only grows, so this is the peak so far. */
function wasmMemory() {
  return state.wasm.memory.buffer.byteLength;
}

/**
 * For the memory table, in a page of its own: trains `steps` steps of the default model with
 * `workers` replicas, this page's session (the only one here) as replica 0, as the lab's
 * training worker holds it; then returns this page's wasm memory. The helpers stay up, so
 * the driver can read theirs.
 */
async function trainForMemory({ workers, steps }) {
  const { session } = state.candle;
  let boardBytes = 0;
  if (workers === 1) session.trainSteps(steps);
  else {
    const team = new Team();
    await team.start(session, workers);
    await team.steps(session, steps, () => true);
    // Every replica's board has the size of this one's (the same model and shard size).
    boardBytes = team.peers.board?.layout.buffer.byteLength ?? 0;
  }
  return { wasm: wasmMemory(), boardBytes };
}

const ready = setup();
window.bench = { ready, trainCandle, trainWorkers, trainSolo, trainTfjs, decodeLatency, decodeSplitLatency, wasmMemory, trainForMemory };

// --- by hand: a few rounds in this page, printed below the button -------------------------

const out = document.getElementById('out');
const button = document.getElementById('run');
const print = (line) => { out.textContent += `${line}\n`; };

ready.then(
  (info) => {
    print(`ready: ${info.trainImages} training images; ${info.tfjs ? `TF.js ${info.tfjs.version} wasm, SIMD ${info.tfjs.simd}, threads ${info.tfjs.threads}` : 'Candle only'}`);
    button.disabled = new URLSearchParams(location.search).has('driven');
  },
  (err) => print(`setup failed: ${err.message}`),
);

button.addEventListener('click', async () => {
  button.disabled = true;
  const warmup = { seconds: 1, chunk: 10 };
  const opts = { seconds: 5, chunk: 10 };
  const pause = () => new Promise((r) => setTimeout(r, 50)); // lets the page repaint
  for (let round = 1; round <= 3; round++) {
    await pause();
    trainCandle(warmup);
    const candle = trainCandle(opts);
    await pause();
    trainTfjs(warmup);
    const tfjs = trainTfjs(opts);
    print(`round ${round}: Candle ${candle.imagesPerSec.toFixed(0)} img/s, TF.js ${tfjs.imagesPerSec.toFixed(0)} img/s, ratio ${(candle.imagesPerSec / tfjs.imagesPerSec).toFixed(2)}`);
  }
  const d = decodeLatency(50);
  print(`decodeGrid 20×20: median ${d.medianMs.toFixed(1)} ms, p95 ${d.p95Ms.toFixed(1)} ms; wasm memory ${(wasmMemory() / 2 ** 20).toFixed(0)} MiB`);
  button.disabled = false;
});
