// Owns the wasm Session and the training loop, so the page's thread only draws.
// Commands arrive as protocol.js messages and run one at a time; training runs in short
// chunks with a yield to the event loop between them, so Pause and the other commands get
// through within one chunk.

import init, { Session, defaultConfig } from './pkg/latent_lab.js';
import { Cmd, Phase, msg, scatterTransfer } from './protocol.js';
import { DATASETS, IDX_FILES, TRAINING } from './config.js';

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
    postSettings();
    setPhase(Phase.STARTING, 'Model ready; loading data…');
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
      const fresh = newSession();
      try {
        fresh.setData(...files);
      } catch (err) {
        fresh.free();
        throw err;
      }
      session.free();
      session = fresh;
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
    const fresh = newSession();
    try {
      fresh.setData(...data.files);
    } catch (err) {
      fresh.free();
      throw err;
    }
    session.free();
    session = fresh;
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
};

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
}

/** Everything at once, for a model that just changed outside the loop (loaded, reset, stepped, paused). */
function sendPictures(report) {
  post(msg.report(report, JSON.parse(session.evaluate(TRAINING.evalImages))));
  lastEvalAt = performance.now();
  sendScatter();
}

function sendScatter() {
  const started = performance.now();
  const encoding = session.encodeTest(TRAINING.scatterPoints);
  const plane = encoding.plane;
  encoding.free();
  const m = msg.scatter(plane, session.testLabels(TRAINING.scatterPoints));
  post(m, scatterTransfer(m));
  lastScatterAt = performance.now();
  scatterCostMs = lastScatterAt - started;
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
