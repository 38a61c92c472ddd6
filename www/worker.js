// Owns the wasm Session and the training loop, so the page's thread only draws.
// Commands arrive as protocol.js messages and run one at a time; training runs in short
// chunks with a yield to the event loop between them, so Pause and the other commands get
// through within one chunk.

import init, { Session, defaultConfig } from './pkg/latent_lab.js';
import { Cmd, Phase, manifoldTransfer, msg, scatterTransfer } from './protocol.js';
import { DATASETS, GENERATION, IDX_FILES, TRAINING } from './config.js';

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
/** `{z, id}`: the code of the page's traversal sliders, re-decoded as the model changes. */
let traversal = null;
let lastGeneratedAt = -Infinity;

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
    sendPictures(JSON.parse(session.trainSteps(TRAINING.stepButtonSteps)));
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
    if (data) sendSelection();
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

  [Cmd.DECODE]({ z, id }) {
    requireSession();
    // A z sent for the previous model (a loaded checkpoint or new settings replaced it while
    // the request was queued) is dropped: the page sends one that fits after SETTINGS.
    if (z.length !== session.latentDim) return;
    traversal = { z, id };
    sendDecoded();
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
    const response = await fetch(new URL(url, new URL('./', import.meta.url)));
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
      return handlers[m.type](m);
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

/** The decoder's pictures that do not depend on test images: prior samples and the slider code. */
function sendGenerated() {
  if (generation) sendSamples();
  // After a change of latent dimension the old code does not fit; the page sends a new one.
  // A VQ-VAE has no continuous code to traverse.
  if (traversal && settings.model.kind !== 'vqvae' && traversal.z.length === session.latentDim) sendDecoded();
  lastGeneratedAt = performance.now();
}

function sendSamples() {
  const { count, seed } = generation;
  const m = msg.samples(settings.model.kind, count, seed, session.samplePrior(count, BigInt(seed)));
  post(m, [m.pixels.buffer]);
}

function sendDecoded() {
  const { z, id } = traversal;
  const m = msg.decoded(id, z, new Float32Array(session.decode(z)));
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
  lastScatterAt = performance.now();
  scatterCostMs = lastScatterAt - started;
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
  const encoding = session.encode(Float32Array.from(image, (v) => v / 255));
  const mu = Array.from(encoding.mean);
  const logvar = encoding.logvar ? Array.from(encoding.logvar) : null;
  const muPlane = Array.from(encoding.plane);
  encoding.free();
  // Only the VAE has a σ to sample with; other models show the digit and its reconstruction.
  const zs = logvar ? epsilons.map((eps) => mu.map((m, j) => m + Math.exp(0.5 * logvar[j]) * eps[j])) : [];
  const decoded = new Float32Array(session.decode(Float32Array.from([mu, ...zs].flat())));
  const label = session.testLabels(index + 1)[index];
  const m = msg.selection({ index, label, image, mu, logvar, muPlane, epsilons, zs, decoded });
  post(m, [m.image.buffer, m.decoded.buffer]);
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
  const base = new URL(dir, new URL('./', import.meta.url));
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
