// The training worker: owns the wasm Session, runs the training loop and answers the page's
// commands. Commands arrive as protocol.js messages and run one at a time; training runs in
// short chunks with a yield between them, so Pause and the other commands get through within
// one chunk. Every picture that follows the model is an entry of followers.js; this file only
// keeps their requests and decides when to answer them.

import { Session, checkSettings, defaultSettings, productArithmetic } from '../pkg/latent_lab.js';
import loadWasm from '../app/wasm.js';
import { Cmd, Phase, idxExportTransfer, msg, scatterTransfer } from '../app/protocol.js';
import { DATASETS, OWN_DATA, OWN_IMAGES, TRAINING } from '../app/config.js';
import { Followers, traceStep } from './followers.js';
import { downloadDataset } from './download.js';
import { setIdxFiles } from './staging.js';
import { Pacing } from './pacing.js';
import { Team } from './team.js';
import { PriorRunner } from './prior.js';
import { JudgeRunner } from './judge.js';
import { ShallowRunner } from './shallow.js';

let session = null;
/** `{model, train}` in use, with every field filled in. */
let settings = null;
/** `{name, label, classNames}` of the data loaded, or null before any. */
let data = null;
let phase = Phase.STARTING;
/** Bumping it stops the running training loop at its next chunk. */
let loopId = 0;
const pacing = new Pacing();
/** Data-parallel helpers, and how many replicas training uses (the page's Workers setting). */
const team = new Team();
let workers = 1;
/** How this build's matrix products add ({relaxedSimd, fused}), asked of Rust once. */
let arithmetic = null;
// The wasm compiles while the page's thread loads the settings schema, not after it sends INIT.
const wasmReady = loadWasm();
// This worker's wasm memory in bytes, for the soak (pkg-config/soak.mjs) and the console.
self.wasmBytes = async () => (await wasmReady).memory.buffer.byteLength;
const post = (m, transfer = []) => self.postMessage(m, transfer);
/** The page's standing requests for pictures of the model, and how to answer them. */
const followers = new Followers(post, () => phase !== Phase.TRAINING);
/** The learned prior over a VQ-VAE's codes: trained beside the queue, dropped when the model changes. */
const prior = new PriorRunner(post);
/** The classifier that judges samples, and its table of sample kinds. */
const judge = new JudgeRunner(post);
/** Shallow VQ (k-means on the training pixels): run beside the queue, kept while the data stays. */
const shallow = new ShallowRunner(post);
const messageOf = (err) => (err instanceof Error ? err.message : String(err));
const kind = () => settings.model.kind;

function setPhase(p, message) {
  phase = p;
  post(msg.status(p, message));
}

const handlers = {
  // Each follower's commands update its request; with data loaded it is answered at once (a
  // lazy one waits for the next refresh while training).
  ...followers.handlers(() => data && { session, kind: kind(), training: phase === Phase.TRAINING }),
  ...prior.handlers(vqSession, pauseModel),
  ...judge.handlers(
    () => {
      requireSession();
      return session;
    },
    () => {
      requireData();
      return session;
    },
  ),
  ...shallow.handlers(() => {
    requireData();
    return session;
  }, pauseModel),

  async [Cmd.INIT]({ settings: requested, workers: count }) {
    await wasmReady;
    workers = count;
    stopTraining();
    const defaults = defaultSettings();
    let wanted;
    try {
      wanted = checkSettings({ model: { ...defaults.model, ...requested.model }, train: { ...defaults.train, ...requested.train } });
    } catch (err) {
      // Bad settings (say, from an edited URL) should not leave the page without a model.
      post(msg.error(`${messageOf(err)}; using the default settings instead.`));
      wanted = defaults;
    }
    if (session) session.rebuild(wanted);
    else session = new Session(wanted);
    const sameSettings = JSON.stringify(wanted) === JSON.stringify(settings);
    settings = wanted;
    modelReplaced({ sameSettings });
    if (data) setPhase(Phase.READY, `New untrained model on ${data.label}. Press Train.`);
    else setPhase(Phase.STARTING, 'Model ready; loading data…');
    if (data) refreshAll(null);
  },

  async [Cmd.LOAD_DATA]({ dataset }) {
    requireSession();
    stopTraining();
    if (!Object.hasOwn(DATASETS, dataset)) throw new Error(`unknown dataset "${dataset}"`);
    const { label, dir, classNames } = DATASETS[dataset];
    setPhase(Phase.LOADING, `Downloading ${label}…`);
    try {
      const files = await downloadDataset(new URL(dir, new URL('../', import.meta.url)), (loaded, total) => post(msg.progress(loaded, total)));
      setPhase(Phase.LOADING, `Unpacking ${label}…`);
      useData(() => {
        setIdxFiles(session, files);
        return files.slice(2);
      }, { name: dataset, label, classNames });
    } catch (err) {
      // The previous model and data (if any) are still in place and usable.
      if (data) setPhase(Phase.PAUSED, `Kept ${data.label}.`);
      else setPhase(Phase.FAILED, 'No data loaded.');
      postSettings();
      throw err;
    }
    setPhase(Phase.READY, `${label} loaded (${session.config().testLength} test images). Press Train.`);
    refreshAll(null);
  },

  [Cmd.LOAD_FILES]({ files }) {
    requireSession();
    // Training goes on until the files are known to be good: a refused upload changes nothing.
    try {
      useData(() => {
        const { order } = session.setFiles(
          files.map((f) => f.name),
          files.map((f) => f.bytes),
        );
        return [files[order[2]].bytes, files[order[3]].bytes];
      }, { name: OWN_DATA.key, label: 'your files', classNames: OWN_DATA.classNames });
    } catch (err) {
      throw new Error(`Your files were not loaded: ${messageOf(err)}. The current model and data stay.`);
    }
    setPhase(Phase.READY, `Your files loaded (${session.config().testLength} test images). Press Train.`);
    refreshAll(null);
  },

  [Cmd.LOAD_IMAGES]({ pixels, paths }) {
    requireSession();
    // As with files: training goes on until Rust has made the sets, and a refusal changes nothing.
    let loaded;
    try {
      loaded = session.setImages(pixels, paths);
    } catch (err) {
      throw new Error(`Your images were not loaded: ${messageOf(err)}. The current model and data stay.`);
    }
    stopTraining();
    shallow.dataChanged();
    data = { name: OWN_IMAGES.key, label: 'your images', classNames: loaded.classNames };
    // Before the settings, so the page knows these images are the ones in use when it hears them.
    post(msg.imagesLoaded(loaded));
    modelReplaced({ sameSettings: true });
    followers.replicaPort()?.postMessage({ kind: 'images', pixels, paths });
    setPhase(Phase.READY, `Your images loaded (${loaded.testLength.toLocaleString('en-US')} test images). Press Train.`);
    refreshAll(null);
  },

  [Cmd.EXPORT_IDX]() {
    requireData();
    const m = msg.idxExport(session.exportIdx());
    post(m, idxExportTransfer(m));
  },

  [Cmd.TRAIN]({ restart = false } = {}) {
    requireData();
    if (phase === Phase.TRAINING && !restart) return;
    stopTraining();
    // New weights mean new codes: the prior fitted to the old ones goes.
    prior.modelChanged();
    setPhase(Phase.TRAINING, workers > 1 ? `Training in ${workers} workers…` : 'Training…');
    trainLoop(++loopId).catch((err) => post(msg.error(messageOf(err))));
  },

  [Cmd.PAUSE]() {
    if (phase !== Phase.TRAINING) return;
    const unreported = stopTraining();
    setPhase(Phase.PAUSED, 'Paused.');
    refreshAll(unreported);
  },

  [Cmd.STEP]() {
    requireData();
    if (phase === Phase.TRAINING) return;
    prior.modelChanged();
    setPhase(Phase.PAUSED, 'Stepped.');
    // A failed step is reported like any command error; the weights stay as they were.
    const [m, transfer] = traceStep(session);
    post(m, transfer);
    refreshAll(m.report);
  },

  [Cmd.RESET]() {
    requireData();
    stopTraining();
    session.rebuild(settings);
    modelReplaced({ sameSettings: true });
    setPhase(Phase.READY, `New untrained model on ${data.label}. Press Train.`);
    refreshAll(null);
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
    // While training, the pictures catch up with the weights the new rate starts from. A rate
    // that blows up soon after gets exactly these weights put back (Rust keeps a copy), so the
    // pictures after the blow-up are the ones shown before it.
    if (phase === Phase.TRAINING) refreshAll(null);
  },

  [Cmd.SET_WORKERS]({ count }) {
    workers = count;
    // A run in progress goes on with the new count from its next chunk.
    if (phase === Phase.TRAINING) handlers[Cmd.TRAIN]({ restart: true });
  },

  [Cmd.EXPORT_CODES]() {
    requireData();
    post(msg.codes(`latent-lab-codes-${kind()}.csv`, session.codesCsv()));
  },

  [Cmd.SAVE_MODEL]() {
    requireSession();
    const { model, step, latentDim } = session.config();
    const m = msg.saved(`${model.kind}-${latentDim}d-step${step}.safetensors`, session.save());
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

function pauseModel() {
  if (phase === Phase.TRAINING) handlers[Cmd.PAUSE]();
}

/** Replaces the model by a checkpoint's, keeping the data; a refused file changes nothing. */
function loadModel(bytes, name) {
  let note;
  try {
    note = session.load(bytes);
  } catch (err) {
    throw new Error(`Could not load ${name}: ${messageOf(err)}. The current model is unchanged.`);
  }
  stopTraining();
  const { model, train, step } = session.config();
  const sameSettings = JSON.stringify({ model, train }) === JSON.stringify(settings);
  settings = { model, train };
  modelReplaced({ sameSettings });
  post(msg.loaded(name, step));
  const unverified = note ? ` Note: ${note}.` : '';
  setPhase(Phase.PAUSED, `Loaded ${name}: trained for ${step.toLocaleString('en-US')} steps. Press Train to continue.${unverified}`);
  refreshAll(null);
}

/**
 * New data: `read` hands the files to Rust, which checks them in full and starts a new model on
 * them or changes nothing (and throws), and returns the test set's [images, labels] IDX bytes.
 */
function useData(read, loaded) {
  const [images, labels] = read();
  stopTraining();
  shallow.dataChanged();
  data = loaded;
  modelReplaced({ sameSettings: true });
  // The replica answers hovers over test images, so it needs the same test set.
  followers.replicaPort()?.postMessage({ kind: 'test', images, labels });
}

/** A new model: each follower keeps what still makes sense of its request; the page hears the settings. */
function modelReplaced({ sameSettings }) {
  followers.modelReplaced({ sameSettings, testLength: session.config().testLength });
  prior.modelChanged();
  postSettings();
  shallow.modelChanged(session);
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
  post(msg.settings(settings, data?.name ?? null, data?.classNames ?? null));
}

function requireSession() {
  if (!session) throw new Error('the model has not started (init failed or was not sent)');
}

function requireData() {
  requireSession();
  if (!data) throw new Error('no dataset loaded yet');
}

/** The session, when it holds a VQ-VAE on data (a learned prior models its codes). */
function vqSession() {
  requireData();
  if (kind() !== 'vqvae') throw new Error('a learned prior over codes needs a VQ-VAE');
  return session;
}

/** Stops the training loop; returns the report of parallel steps not reported yet, or null. */
function stopTraining() {
  loopId++;
  // At once, not when the loop notices: the next command may step or replace the model.
  return session ? team.stop(session) : null;
}

async function trainLoop(id) {
  const stillWanted = () => id === loopId;
  try {
    await team.start(session, workers);
    while (stillWanted()) {
      const started = performance.now();
      const report = team.active ? await team.steps(session, pacing.chunkSteps, stillWanted) : session.trainSteps(pacing.chunkSteps);
      if (!report) break;
      pacing.chunkTook(performance.now() - started);
      refreshPaced({ ...report, workers: team.count, exchange: team.exchange, products: (arithmetic ??= productArithmetic()) });
      await pacing.yieldToEvents();
    }
  } catch (err) {
    if (!stillWanted()) return;
    // Typically a NaN blow-up: Rust restored the weights from before this chunk. Show them,
    // and let the student change the learning rate and continue.
    stopTraining();
    setPhase(Phase.PAUSED, 'Training stopped.');
    post(msg.error(messageOf(err)));
    refreshAll(null);
  }
}

/** While training: the report every chunk; evaluation and pictures only as often as their cost allows. */
function refreshPaced(report) {
  const now = performance.now();
  postReport(report, pacing.evaluationDue(now));
  if (pacing.scatterDue(now)) refreshScatter();
  if (pacing.generatedDue(now)) refreshGenerated();
}

/** Everything at once, for a model that just changed outside the loop (loaded, reset, stepped, paused). */
function refreshAll(report) {
  postReport(report, true);
  refreshScatter();
  refreshGenerated();
}

function postReport(report, evaluate) {
  const evaluation = evaluate ? session.evaluate(TRAINING.evalImages) : null;
  if (evaluate) pacing.evalAt = performance.now();
  post(msg.report(report, evaluation));
}

/** The map (its view plane refitted) and every follower that moves with it; their cost paces the next refresh. */
function refreshScatter() {
  const started = performance.now();
  const m = msg.scatter(session.fitView(TRAINING.scatterPoints));
  post(m, scatterTransfer(m));
  followers.refresh('scatter', session, kind());
  pacing.scatterAt = performance.now();
  pacing.scatterCostMs = pacing.scatterAt - started;
}

/** The decoder's pictures that do not depend on test images. */
function refreshGenerated() {
  followers.refresh('generated', session, kind());
  pacing.generatedAt = performance.now();
}
