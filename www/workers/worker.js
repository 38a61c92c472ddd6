// Owns the wasm Session and the training loop, so the page's thread only draws.
// Commands arrive as protocol.js messages and run one at a time; training runs in short
// chunks with a yield to the event loop between them, so Pause and the other commands get
// through within one chunk.

import init, { Session, defaultConfig } from '../pkg/latent_lab.js';
import { Cmd, Phase, manifoldTransfer, msg, scatterTransfer } from '../app/protocol.js';
import { DATASETS, GENERATION, IDX_FILES, OWN_DATA, STEP_MODE, TRAINING } from '../app/config.js';
import { PIXELS, asModelInput } from '../views/digits.js';


/** `{model, train}` with every field filled in; kept so Reset rebuilds the same model. */
let settings = null;
let session = null;
/** The downloaded files of the current dataset, kept for Reset (a fresh model needs them again). */
let data = null;
let phase = Phase.STARTING;
/** Bumping it stops the running training loop at its next chunk. */
let loopId = 0;
let chunkSteps = 4;
let lastScatterAt = -Infinity;
let scatterCostMs = 0;
let lastEvalAt = -Infinity;
/** `{rect, n}` of the decoded manifold the page shows, or null when it is off. */
let manifold = null;
/** `{index, epsilons}`: the test image the page follows and its ε draws, or null. */
let selection = null;
/** `{count, seed}` of the prior samples the page shows, or null before it asked. */
let generation = null;
/** The replica worker's end of our channel: it gets the weights after every refresh. */
let replicaPort = null;
let lastGeneratedAt = -Infinity;
/** `{a, b, steps}`: the test images the page interpolates between, or null. */
let interpolation = null;
/** `{count, values}`: the page's one-dimension-at-a-time rows, or null before it asked. */
let dimRows = null;
/** `{codes, id}`: VQ-VAE code grids the page shows decoded, or null. */
let codeGrids = null;
/** `{pixels, id}`: the digit drawn on the page's pad, re-encoded as the model changes. */
let drawing = null;

const post = (m, transfer = []) => self.postMessage(m, transfer);
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

function setPhase(p, message) {
  phase = p;
  post(msg.status(p, message));
}

const handlers = {
  async [Cmd.INIT]({ settings: requested }) {
    await init();
    stopTraining();
    session?.free();
    const defaults = JSON.parse(defaultConfig());
    settings = {
      model: { ...defaults.model, ...requested.model },
      train: { ...defaults.train, ...requested.train },
    };
    try {
      session = newSession();
    } catch (err) {
      // Bad settings (say, from an edited URL) should not leave the page without a model.
      post(msg.error(`${messageOf(err)}; using the default settings instead.`));
      settings = defaults;
      session = newSession();
    }
    // ε draws have the old model's latent dimension; the followed digit itself stays.
    if (selection) selection.epsilons = [];
    // Code grids may not fit the new codebook; the page sends new ones.
    codeGrids = null;
    postSettings();
    // With data already loaded (a settings change), RESET follows and builds on it.
    setPhase(Phase.STARTING, data ? 'New settings; starting a new model…' : 'Model ready; loading data…');
  },

  async [Cmd.LOAD_DATA]({ dataset }) {
    requireSession();
    stopTraining();
    if (!Object.hasOwn(DATASETS, dataset)) throw new Error(`unknown dataset "${dataset}"`);
    const info = DATASETS[dataset];
    setPhase(Phase.LOADING, `Downloading ${info.label}…`);
    try {
      const files = await download(info.dir);
      setPhase(Phase.LOADING, `Unpacking ${info.label}…`);
      // A new dataset gets a new model: codes learned on one dataset mean nothing on another.
      startSessionOn(files);
      data = { name: dataset, label: info.label, files };
    } catch (err) {
      // The previous model and data (if any) are still in place and usable.
      if (data) setPhase(Phase.PAUSED, `Kept ${data.label}.`);
      else setPhase(Phase.FAILED, 'No data loaded.');
      throw err;
    } finally {
      postSettings();
    }
    setPhase(Phase.READY, `${info.label} loaded (${session.testLength} test images). Press Train.`);
    sendPictures(null);
  },

  [Cmd.TRAIN]() {
    requireData();
    if (phase === Phase.TRAINING) return;
    setPhase(Phase.TRAINING, 'Training…');
    trainLoop(++loopId).catch((err) => post(msg.error(messageOf(err))));
  },

  [Cmd.PAUSE]() {
    if (phase !== Phase.TRAINING) return;
    stopTraining();
    setPhase(Phase.PAUSED, 'Paused.');
    sendPictures(null);
  },

  [Cmd.STEP]() {
    requireData();
    if (phase === Phase.TRAINING) return;
    setPhase(Phase.PAUSED, 'Stepped.');
    // A failed step is reported like any command error; the weights stay as they were.
    const trace = JSON.parse(session.traceStep());
    sendStepTrace(trace);
    sendPictures(trace.report);
  },

  [Cmd.RESET]() {
    requireData();
    stopTraining();
    startSessionOn(data.files);
    if (selection) selection.epsilons = [];
    setPhase(Phase.READY, `New untrained model on ${data.label}. Press Train.`);
    sendPictures(null);
  },

  [Cmd.SET_LEARNING_RATE]({ learningRate }) {
    requireSession();
    try {
      session.setLearningRate(learningRate);
      settings.train.learningRate = learningRate;
    } finally {
      // On a rejected value this puts the rate still in use back into the page's field.
      postSettings();
    }
  },

  [Cmd.MANIFOLD]({ rect, n }) {
    manifold = rect ? { rect, n } : null;
    // While training, the next scatter refresh brings it, at the pace its cost allows.
    if (manifold && data && phase !== Phase.TRAINING) sendManifold();
  },

  [Cmd.SELECT]({ index }) {
    selection = index === null ? null : { index, epsilons: [] };
    if (data && selection) sendSelection();
    // The rows start from the selected digit's code.
    if (data && dimRows) sendDimRows();
  },

  [Cmd.ADD_EPSILON]({ epsilon }) {
    if (!selection) throw new Error('select a digit on the map before drawing ε');
    if (epsilon.length !== session.latentDim) {
      throw new Error(`ε has ${epsilon.length} numbers; the latent space has ${session.latentDim}`);
    }
    selection.epsilons.push(epsilon);
    sendSelection();
  },

  [Cmd.SAMPLE]({ count, seed }) {
    generation = { count, seed };
    if (data) sendSamples();
  },

  [Cmd.CONNECT](m, ports) {
    replicaPort = ports[0];
    if (data) sendWeights();
  },

  [Cmd.EXPORT_CODES]() {
    requireData();
    const encoding = session.encodeTest(0);
    const csv = codesCsv(settings.model.kind, session.testLabels(0), encoding.mean, encoding.logvar, encoding.codes);
    encoding.free();
    post(msg.codes(`latent-lab-codes-${settings.model.kind}.csv`, csv));
    // encodeTest(0) fitted the view plane to all test images; the map, the selection and the
    // manifold use the plane of its points, which a paused model would otherwise not refit.
    if (phase !== Phase.TRAINING) sendScatter();
  },

  [Cmd.INTERPOLATE]({ a, b, steps }) {
    if (a === null || b === null) {
      interpolation = null;
      return;
    }
    requireData();
    for (const index of [a, b]) {
      if (!(Number.isInteger(index) && index >= 0 && index < session.testLength)) {
        throw new Error(`there is no test image ${index}: the test set has ${session.testLength} (0 to ${session.testLength - 1})`);
      }
    }
    if (!(Number.isInteger(steps) && steps >= 2 && steps <= 64)) throw new Error(`interpolation needs 2 to 64 steps, got ${steps}`);
    interpolation = { a, b, steps };
    sendInterpolation();
  },

  [Cmd.DIM_ROWS]({ count, values }) {
    dimRows = { count, values };
    if (data) sendDimRows();
  },

  [Cmd.DECODE_CODES]({ codes, id }) {
    requireSession();
    codeGrids = { codes, id };
    sendCodesDecoded();
  },

  [Cmd.LOAD_FILES]({ files }) {
    requireSession();
    // Training goes on until the files are known to be good: a refused upload changes nothing.
    try {
      startSessionOn(files);
    } catch (err) {
      throw new Error(`Your files were not loaded: ${messageOf(err)}. The current model and data stay.`);
    }
    stopTraining();
    data = { name: OWN_DATA.key, label: 'your files', files };
    if (selection && selection.index >= session.testLength) selection = null;
    postSettings();
    setPhase(Phase.READY, `Your files loaded (${session.testLength} test images). Press Train.`);
    sendPictures(null);
  },

  [Cmd.DRAW]({ pixels, id }) {
    drawing = pixels ? { pixels, id } : null;
    if (drawing && session) sendDrawing();
  },

  [Cmd.SAVE_MODEL]() {
    requireSession();
    const bytes = session.save();
    const { model, step } = JSON.parse(session.config());
    const m = msg.saved(`${model.kind}-${session.latentDim}d-step${step}.safetensors`, bytes);
    post(m, [m.bytes.buffer]);
  },

  [Cmd.LOAD_MODEL]({ bytes, name }) {
    requireData();
    loadModel(new Uint8Array(bytes), name);
  },

  async [Cmd.LOAD_CHECKPOINT]({ url, name, dataset }) {
    requireSession();
    if (data?.name !== dataset) await handlers[Cmd.LOAD_DATA]({ dataset });
    post(msg.status(phase, `Loading ${name}…`));
    const response = await fetch(new URL(url, new URL('../', import.meta.url)));
    if (!response.ok) throw new Error(`could not download ${response.url}: HTTP ${response.status}`);
    loadModel(new Uint8Array(await response.arrayBuffer()), name);
  },
};

/**
 * Replaces the model by a checkpoint's, keeping the data. Rust checks the whole file before
 * anything changes, so a refused one throws here with the model (and any training) untouched.
 */
function loadModel(bytes, name) {
  try {
    session.load(bytes);
  } catch (err) {
    throw new Error(`Could not load ${name}: ${messageOf(err)}. The current model is unchanged.`);
  }
  stopTraining();
  const { model, train, step } = JSON.parse(session.config());
  settings = { model, train };
  // ε draws may not fit the loaded model's latent dimension; the followed digit stays.
  if (selection) selection.epsilons = [];
  postSettings();
  post(msg.loaded(name, step));
  setPhase(Phase.PAUSED, `Loaded ${name}: trained for ${step.toLocaleString('en-US')} steps. Press Train to continue.`);
  sendPictures(null);
}

// Commands run in arrival order, each after the previous one finished (INIT awaits the wasm,
// LOAD_DATA the network). The training loop is not a command: it runs beside the queue.
let queue = Promise.resolve();
self.onmessage = (event) => {
  const m = event.data;
  queue = queue
    .then(() => {
      if (!Object.hasOwn(handlers, m.type)) throw new Error(`unknown command "${m.type}"`);
      return handlers[m.type](m, event.ports);
    })
    .catch((err) => {
      if (!session) setPhase(Phase.FAILED, 'The model could not start.');
      post(msg.error(messageOf(err)));
    });
};

function postSettings() {
  post(msg.settings(settings, data?.name ?? null));
}

function newSession() {
  return new Session(JSON.stringify(settings.model), JSON.stringify(settings.train));
}

/** Replaces the session with a new model on `files`; if they are refused the old one stays. */
function startSessionOn(files) {
  const fresh = newSession();
  try {
    fresh.setData(...files);
  } catch (err) {
    fresh.free();
    throw err;
  }
  session.free();
  session = fresh;
  // The replica answers hovers over test images, so it needs the same test set.
  if (files !== data?.files) replicaPort?.postMessage({ kind: 'test', images: files[2], labels: files[3] });
}

function requireSession() {
  if (!session) throw new Error('the model has not started (init failed or was not sent)');
}

function requireData() {
  requireSession();
  if (!data) throw new Error('no dataset loaded yet');
}

function stopTraining() {
  loopId++;
}

async function trainLoop(id) {
  try {
    while (id === loopId) {
      const started = performance.now();
      const report = JSON.parse(session.trainSteps(chunkSteps));
      adaptChunk(performance.now() - started);
      sendUpdates(report);
      await yieldToEvents();
    }
  } catch (err) {
    // Typically a NaN blow-up: Rust restored the weights from before this chunk. Show them,
    // and let the student change the learning rate and continue.
    stopTraining();
    setPhase(Phase.PAUSED, 'Training stopped.');
    post(msg.error(messageOf(err)));
    sendPictures(null);
  }
}

/** Scales the steps per chunk towards TRAINING.chunkMs, at most doubling at a time. */
function adaptChunk(ms) {
  const ideal = (chunkSteps * TRAINING.chunkMs) / Math.max(ms, 1);
  chunkSteps = Math.max(1, Math.min(TRAINING.maxChunkSteps, Math.round(Math.min(ideal, chunkSteps * 2))));
}

/** Report every chunk; evaluation and scatter only as often as their cost allows. */
function sendUpdates(report) {
  const now = performance.now();
  let evaluation = null;
  if (now - lastEvalAt >= TRAINING.evalMs) {
    evaluation = JSON.parse(session.evaluate(TRAINING.evalImages));
    lastEvalAt = now;
  }
  post(msg.report(report, evaluation));
  if (now - lastScatterAt >= Math.max(TRAINING.scatterMs, scatterCostMs * TRAINING.scatterCostRatio)) {
    sendScatter();
  }
  if (now - lastGeneratedAt >= GENERATION.refreshMs) sendGenerated();
}

/** Everything at once, for a model that just changed outside the loop (loaded, reset, stepped, paused). */
function sendPictures(report) {
  post(msg.report(report, JSON.parse(session.evaluate(TRAINING.evalImages))));
  lastEvalAt = performance.now();
  sendScatter();
  sendGenerated();
}

/** The decoder's pictures that do not depend on test images: prior samples, and the replica's weights. */
function sendGenerated() {
  if (generation) sendSamples();
  if (codeGrids && settings.model.kind === 'vqvae') sendCodesDecoded();
  lastGeneratedAt = performance.now();
}

/** The current weights to the replica, which redraws the slider image and hover card with them. */
function sendWeights() {
  if (!replicaPort) return;
  const bytes = session.save();
  replicaPort.postMessage({ kind: 'weights', bytes }, [bytes.buffer]);
}

function sendSamples() {
  const { count, seed } = generation;
  const m = msg.samples(settings.model.kind, count, seed, session.samplePrior(count, BigInt(seed)));
  post(m, [m.pixels.buffer]);
}

/**
 * The scatter and every picture that moves with the model (codebook, manifold, selection);
 * their combined cost paces the next refresh.
 */
function sendScatter() {
  const started = performance.now();
  const vq = settings.model.kind === 'vqvae';
  // The codebook view counts assignments over the whole test set, so VQ encodes all of it
  // once and the scatter takes its first points from the same pass.
  const encoding = session.encodeTest(vq ? 0 : TRAINING.scatterPoints);
  const plane = encoding.plane;
  const codes = encoding.codes;
  encoding.free();
  const labels = session.testLabels(vq ? 0 : TRAINING.scatterPoints);
  const points = Math.min(TRAINING.scatterPoints, labels.length);
  const m = msg.scatter(plane.slice(0, 2 * points), labels.slice(0, points));
  post(m, scatterTransfer(m));
  if (vq) sendCodebook(codes, labels);
  if (manifold) sendManifold();
  if (selection) sendSelection();
  if (interpolation) sendInterpolation();
  if (dimRows) sendDimRows();
  if (drawing) sendDrawing();
  sendWeights();
  lastScatterAt = performance.now();
  scatterCostMs = lastScatterAt - started;
}

/** What the Step button's single step did, trimmed to what the step panel shows. */
function sendStepTrace({ report, indices, epsilon, codes, codebookBefore, codebookAfter }) {
  const { latentDim, beta, codebookSize, codeDim } = settings.model;
  const shown = Uint32Array.from(indices.slice(0, STEP_MODE.images));
  const rows = epsilon && Array.from({ length: shown.length }, (_, i) => epsilon.slice(i * latentDim, (i + 1) * latentDim));
  let vq = { codesPicked: null, codebookSize, codeDim, codesMoved: null, largestMove: null, codebookBefore: null, codebookAfter: null };
  if (codes) {
    const moves = Array.from({ length: codebookSize }, (_, k) =>
      Math.hypot(...Array.from({ length: codeDim }, (_, j) => codebookAfter[k * codeDim + j] - codebookBefore[k * codeDim + j])),
    );
    vq = {
      ...vq,
      codesPicked: new Set(codes).size,
      codesMoved: moves.filter((d) => d > 0).length,
      largestMove: Math.max(...moves),
      codebookBefore: Float32Array.from(codebookBefore),
      codebookAfter: Float32Array.from(codebookAfter),
    };
  }
  const m = msg.stepTrace({
    report,
    batchSize: indices.length,
    images: session.trainImages(shown),
    labels: session.trainLabels(shown),
    epsilon: rows,
    latentDim,
    beta,
    ...vq,
  });
  post(m, [m.images.buffer]);
}

/** `codes` (N·l) nearest-code indices of all test images, `labels` (N) their classes. */
function sendCodebook(codes, labels) {
  const { codebookSize: k, codeDim, codesPerImage: perCode } = settings.model;
  const usage = new Uint32Array(k);
  const votes = new Uint32Array(k * 10);
  for (let i = 0; i < codes.length; i++) {
    usage[codes[i]]++;
    votes[codes[i] * 10 + labels[Math.floor(i / perCode)]]++;
  }
  const majority = new Int16Array(k);
  for (let c = 0; c < k; c++) {
    const row = votes.subarray(c * 10, c * 10 + 10);
    majority[c] = usage[c] === 0 ? -1 : row.indexOf(Math.max(...row));
  }
  const m = msg.codebook({
    codebook: new Float32Array(session.codebook()),
    images: new Float32Array(session.decodeCodebook()),
    usage,
    majority,
    codeDim,
    perCode,
  });
  post(m, [m.codebook.buffer, m.images.buffer, m.usage.buffer, m.majority.buffer]);
}

function sendManifold() {
  const { rect, n } = manifold;
  const pixels = new Float32Array(session.decodeGrid(rect.x0, rect.x1, rect.y0, rect.y1, n, n));
  const m = msg.manifold(rect, n, pixels);
  post(m, manifoldTransfer(m));
}

/** The followed digit under the current weights: μ, log σ², and z = μ + σ ⊙ ε for each draw. */
function sendSelection() {
  const { index, epsilons } = selection;
  if (index >= session.testLength) throw new Error(`test image ${index} does not exist`);
  const image = session.testImages(index, 1);
  const encoding = session.encode(asModelInput(image));
  const mu = Array.from(encoding.mean);
  const logvar = encoding.logvar ? Array.from(encoding.logvar) : null;
  const muPlane = Array.from(encoding.plane);
  const codes = encoding.codes ?? null;
  encoding.free();
  // Only the VAE has a σ to sample with; other models show the digit and its reconstruction.
  const zs = logvar ? epsilons.map((eps) => mu.map((m, j) => m + Math.exp(0.5 * logvar[j]) * eps[j])) : [];
  const decoded = new Float32Array(session.decode(Float32Array.from([mu, ...zs].flat())));
  const label = session.testLabels(index + 1)[index];
  // Where σ's ellipse and the draws fall on the map's plane (the identity for d = 2).
  const axes = logvar ? Array.from(session.planeAxes()) : null;
  const zsPlane = zs.length > 0 ? Array.from(session.project(Float32Array.from(zs.flat()))) : [];
  const m = msg.selection({ index, label, image, mu, logvar, muPlane, axes, epsilons, zs, zsPlane, decoded, codes });
  post(m, [m.image.buffer, m.decoded.buffer]);
}

/**
 * One CSV row per test image: index, label, the code (z of an AE, μ of a VAE, z_e of a VQ-VAE),
 * then log σ² (VAE) or the nearest-code indices (VQ-VAE).
 */
function codesCsv(kind, labels, mean, logvar, codes) {
  const n = labels.length;
  const d = mean.length / n;
  const l = codes ? codes.length / n : 0;
  const names = (prefix, count) => Array.from({ length: count }, (_, j) => `${prefix}_${j + 1}`);
  const header = ['index', 'label', ...names({ ae: 'z', vae: 'mu', vqvae: 'ze' }[kind], d)];
  if (logvar) header.push(...names('logvar', d));
  if (codes) header.push(...names('code', l));
  // Seven significant digits carry everything a float32 holds.
  const num = (v) => String(Number(v.toPrecision(7)));
  const lines = [header.join(',')];
  for (let i = 0; i < n; i++) {
    const row = [i, labels[i]];
    for (let j = 0; j < d; j++) row.push(num(mean[i * d + j]));
    if (logvar) for (let j = 0; j < d; j++) row.push(num(logvar[i * d + j]));
    if (codes) for (let j = 0; j < l; j++) row.push(codes[i * l + j]);
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The decoded line between the codes of test images a and b, and its points on the map's
 * plane. A VQ-VAE's decoder sees only codebook vectors, so it has no line to decode.
 */
function sendInterpolation() {
  if (settings.model.kind === 'vqvae') return;
  const { a, b, steps } = interpolation;
  const d = session.latentDim;
  const images = new Uint8Array(2 * PIXELS);
  images.set(session.testImages(a, 1));
  images.set(session.testImages(b, 1), PIXELS);
  const encoding = session.encode(asModelInput(images));
  const codes = encoding.mean;
  encoding.free();
  const [za, zb] = [codes.subarray(0, d), codes.subarray(d)];
  const pixels = new Float32Array(session.interpolate(za, zb, steps));
  // The same points as interpolate decodes (t = i / (steps − 1)), placed on the map's plane.
  const line = new Float32Array(steps * d);
  for (let i = 0; i < steps; i++) {
    for (let j = 0; j < d; j++) line[i * d + j] = za[j] + (i / (steps - 1)) * (zb[j] - za[j]);
  }
  const path = new Float32Array(session.project(line));
  const classes = session.testLabels(Math.max(a, b) + 1);
  const m = msg.interpolation({ a, b, steps, labels: [classes[a], classes[b]], images, pixels, path });
  post(m, [images.buffer, pixels.buffer, path.buffer]);
}

/**
 * Rows of decoded images, one per latent dimension: dimension j takes each of `values` while
 * the others keep the selected digit's code (μ for the VAE), or 0 when none is selected.
 */
function sendDimRows() {
  const d = session.latentDim;
  const { count, values } = dimRows;
  // A request for another model's dimension is followed by one for this model's.
  if (settings.model.kind === 'vqvae' || count > d) return;
  let base = new Float32Array(d);
  let baseLabel = null;
  const index = selection?.index ?? null;
  if (index !== null) {
    const encoding = session.encode(asModelInput(session.testImages(index, 1)));
    base = encoding.mean;
    encoding.free();
    baseLabel = session.testLabels(index + 1)[index];
  }
  const z = new Float32Array(count * values.length * d);
  for (let j = 0; j < count; j++) {
    values.forEach((v, s) => {
      const at = (j * values.length + s) * d;
      z.set(base, at);
      z[at + j] = v;
    });
  }
  const pixels = new Float32Array(session.decode(z));
  const m = msg.dimRows({ base: index, baseLabel, count, values, pixels });
  post(m, [m.pixels.buffer]);
}

function sendCodesDecoded() {
  const { codes, id } = codeGrids;
  const m = msg.codesDecoded(id, codes, new Float32Array(session.decodeCodes(codes)));
  post(m, [m.pixels.buffer]);
}

/** The drawn digit under the current weights: its code, where it lies on the map, its reconstruction. */
function sendDrawing() {
  const { pixels, id } = drawing;
  const encoding = session.encode(pixels);
  const mean = Array.from(encoding.mean);
  const plane = Array.from(encoding.plane);
  const codes = encoding.codes ? Array.from(encoding.codes) : null;
  encoding.free();
  // AE: decode(z); VAE: decode(μ); VQ-VAE: decode(z_q), the nearest codes.
  const recon = session.reconstruct(pixels);
  const m = msg.drawn({ id, mean, codes, plane, recon });
  post(m, [m.recon.buffer]);
}

// A MessageChannel round trip yields to pending messages without setTimeout's minimum delay.
const channel = new MessageChannel();
let wake = null;
channel.port1.onmessage = () => wake();
function yieldToEvents() {
  return new Promise((resolve) => {
    wake = resolve;
    channel.port2.postMessage(null);
  });
}

/** Fetches the four IDX files under `dir` as raw bytes, posting progress as they stream in. */
async function download(dir) {
  const base = new URL(dir, new URL('../', import.meta.url));
  const responses = await Promise.all(IDX_FILES.map((name) => fetch(new URL(name, base))));
  responses.forEach((r) => {
    if (!r.ok) throw new Error(`could not download ${r.url}: HTTP ${r.status}`);
  });
  // Content-Length counts bytes on the wire; if the server compressed them, the body we read
  // is longer, so the total is then unknown.
  const sizes = responses.map((r) => {
    const length = r.headers.get('Content-Length');
    return length === null || r.headers.has('Content-Encoding') ? NaN : Number(length);
  });
  const total = sizes.every((n) => n > 0) ? sizes.reduce((a, b) => a + b, 0) : null;
  let loaded = 0;
  let postedAt = 0;
  const report = (force) => {
    const now = performance.now();
    if (force || now - postedAt > 50) {
      post(msg.progress(loaded, total));
      postedAt = now;
    }
  };
  report(true);
  const files = await Promise.all(
    responses.map(async (r) => {
      const chunks = [];
      const reader = r.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.length;
        report(false);
      }
      return concat(chunks);
    }),
  );
  report(true);
  return files;
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
