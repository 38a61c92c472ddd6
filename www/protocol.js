// The messages between the page (main.js) and the training worker (worker.js), defined once.
// Every message is a plain object `{type, ...fields}`; the constructors below are the only
// places that build them, so the field names live here.

/** Commands from the page to the worker. */
export const Cmd = Object.freeze({
  INIT: 'init',
  LOAD_DATA: 'loadData',
  TRAIN: 'train',
  PAUSE: 'pause',
  STEP: 'step',
  RESET: 'reset',
  SET_LEARNING_RATE: 'setLearningRate',
});

/** Messages from the worker to the page. */
export const Msg = Object.freeze({
  STATUS: 'status',
  SETTINGS: 'settings',
  PROGRESS: 'progress',
  REPORT: 'report',
  SCATTER: 'scatter',
  ERROR: 'error',
});

/** What the worker is doing; carried by every status message. */
export const Phase = Object.freeze({
  STARTING: 'starting', // loading the wasm module
  LOADING: 'loading', // downloading and parsing a dataset
  READY: 'ready', // a new, untrained model on loaded data: the page starts its history afresh
  TRAINING: 'training',
  PAUSED: 'paused',
  FAILED: 'failed', // nothing works until a dataset loads (e.g. the wasm or data failed)
});

export const cmd = {
  /** Creates the wasm session. `settings` is `{model, train}` as in `defaultConfig()`; missing fields take the defaults. */
  init: (settings = {}) => ({ type: Cmd.INIT, settings }),
  /** Downloads one of config.DATASETS and starts a fresh model on it. */
  loadData: (dataset) => ({ type: Cmd.LOAD_DATA, dataset }),
  train: () => ({ type: Cmd.TRAIN }),
  pause: () => ({ type: Cmd.PAUSE }),
  step: () => ({ type: Cmd.STEP }),
  /** A fresh model with the current settings and data. */
  reset: () => ({ type: Cmd.RESET }),
  setLearningRate: (learningRate) => ({ type: Cmd.SET_LEARNING_RATE, learningRate }),
};

export const msg = {
  /** @param {string} phase one of Phase  @param {string} message for people */
  status: (phase, message) => ({ type: Msg.STATUS, phase, message }),
  /**
   * What the model is: its settings `{model, train}` and the key of its dataset in
   * config.DATASETS (null before one loaded). Sent after INIT and every change or failed change.
   */
  settings: (settings, dataset) => ({ type: Msg.SETTINGS, settings, dataset }),
  /** Download progress in bytes; `total` is null when the server does not say. */
  progress: (loaded, total) => ({ type: Msg.PROGRESS, loaded, total }),
  /**
   * `step` is the StepReport of the last trainSteps call, or null when the model changed
   * otherwise (new, paused); `evaluation` the EvalReport on held-out test images when one
   * was computed with it, else null.
   */
  report: (step, evaluation = null) => ({ type: Msg.REPORT, step, evaluation }),
  /** `plane`: Float32Array (N·2) of test codes; `labels`: Uint8Array (N). Send with scatterTransfer. */
  scatter: (plane, labels) => ({ type: Msg.SCATTER, plane, labels }),
  error: (message) => ({ type: Msg.ERROR, message }),
};

/** The buffers to transfer (not copy) with a scatter message. */
export const scatterTransfer = (m) => [m.plane.buffer, m.labels.buffer];
