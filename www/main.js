// Wiring: controls → worker commands, worker messages → views. The worker owns the model;
// this thread keeps only what the views need and never computes on the model itself.

import { Msg, Phase, cmd } from './protocol.js';
import { CURVE, DATASETS, MANIFOLD, MODEL_FIELDS, QUICK_SUBSET, SETTINGS, TRAINING } from './config.js';
import { ScatterView } from './views/scatter.js';
import { ProgressView } from './views/progress.js';
import { MetricsView } from './views/metrics.js';
import { ManifoldLayer } from './views/manifold.js';
import { CodebookView } from './views/codebook.js';
import { ReparamView } from './views/reparam.js';
import { GenerationView } from './views/generation.js';
import { TraversalView } from './views/traversal.js';
import { StepView } from './views/stepmode.js';
import { MapNavigation } from './views/mapnav.js';
import { HoverCard } from './views/hovercard.js';
import { addPngExport, buttonRow, downloadBlob, stackCanvases } from './views/export.js';
import { KlBarsView } from './views/klbars.js';
import { InterpolationView } from './views/interpolation.js';
import { DimRowsView } from './views/dimrows.js';
import { SymbolicView } from './views/symbolic.js';

const $ = (id) => document.getElementById(id);
const controls = {
  dataset: $('dataset'),
  learningRate: $('learning-rate'),
  quick: $('quick'),
  train: $('train'),
  step: $('step'),
  reset: $('reset'),
  showManifold: $('show-manifold'),
};
const modelForm = $('model');
const modelInputs = [...modelForm.querySelectorAll('[data-field]')];
const errorBox = $('error');

const scatter = new ScatterView($('scatter'), $('legend'));
const progress = new ProgressView($('progress'));
const metrics = new MetricsView($('metrics'), $('loss-charts'));
const klBars = new KlBarsView($('kl-dims'));
const redrawMap = () => scatter.requestDraw();
const codebook = new CodebookView($('codebook'), redrawMap);
const manifold = new ManifoldLayer(redrawMap);
const reparam = new ReparamView($('reparam'), (epsilon) => send(cmd.addEpsilon(epsilon)), redrawMap);
const generation = new GenerationView($('generation'), (count, seed) => send(cmd.sample(count, seed)));
const traversal = new TraversalView($('traversal'), (z, id) => replica.postMessage(cmd.decode(z, id)));
const stepView = new StepView($('step-mode'), redrawMap);
const interpolation = new InterpolationView($('interpolation'), (a, b, steps) => send(cmd.interpolate(a, b, steps)), redrawMap);
const dimRows = new DimRowsView($('dim-rows'), (count, values) => send(cmd.dimRows(count, values)));
const symbolic = new SymbolicView($('symbolic'), (codes, id) => send(cmd.decodeCodes(codes, id)));
// Drawn in this order: cells, then tiles (a requested manifold covers the cells), then the
// points, then the selected digit's μ, ellipses and samples.
scatter.addLayer(codebook);
scatter.addLayer(manifold);
scatter.addLayer(reparam);
scatter.addLayer(stepView);
const hoverCard = new HoverCard($('hover-card'), (index) => send(cmd.hover(index)), () => scatter.classNames);
new MapNavigation(scatter, {
  select,
  clear: () => select(null),
  hover: (index, x, y) => hoverCard.show(index, x, y),
  announce: (text) => {
    $('map-status').textContent = text;
  },
});
/** The test image the reparameterization view follows; a reply for an earlier pick is dropped. */
let selectedIndex = null;
function select(index) {
  selectedIndex = index;
  if (index === null) reparam.clear();
  send(cmd.select(index));
}
/** Whether an Export codes request is out; its button waits for the file. */
let exportingCodes = false;
scatter.addLayer(interpolation);

const state = {
  phase: Phase.STARTING,
  step: 0,
  epoch: 0,
  lastReport: null,
  lastEval: null,
  /** `{model, train}` of the model that exists, as the worker reported it. */
  settings: null,
};

// Settings that a link should reproduce live in the URL: ?dataset=fashion&lr=0.002
const params = new URLSearchParams(location.search);
const initialDataset = Object.hasOwn(DATASETS, params.get('dataset') ?? '') ? params.get('dataset') : 'mnist';

for (const [key, { label }] of Object.entries(DATASETS)) controls.dataset.add(new Option(label, key));
for (const input of modelInputs) {
  for (const [value, label] of Object.entries(MODEL_FIELDS[input.dataset.field].options ?? {})) input.add(new Option(label, value));
}
controls.dataset.value = initialDataset;
scatter.setClasses(DATASETS[initialDataset].classNames);
document.documentElement.style.setProperty('--train', CURVE.trainColor);
document.documentElement.style.setProperty('--test', CURVE.testColor);
$('metrics-note').textContent =
  `train: mean over the last batches; test: ${TRAINING.evalImages.toLocaleString('en-US')} held-out images.`;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (message) => worker.postMessage(message);
// Slider decodes go to a replica of the model that never trains, so they answer within a
// frame while the training worker is in the middle of a chunk.
const replica = new Worker(new URL('./replica.js', import.meta.url), { type: 'module' });
const weightsChannel = new MessageChannel();
worker.postMessage(cmd.connect(), [weightsChannel.port1]);
replica.postMessage(cmd.connect(), [weightsChannel.port2]);
replica.onmessage = ({ data: m }) => {
  if (m.type === Msg.DECODED) traversal.setDecoded(m);
  else if (m.type === Msg.ERROR) showError(m.message);
  else showError(`unexpected message from the replica: ${m.type}`);
};
replica.onerror = (event) => {
  event.preventDefault();
  showError(event.message || 'The decoding worker could not start.');
};

worker.onmessage = ({ data: m }) => {
  switch (m.type) {
    case Msg.STATUS:
      onStatus(m.phase, m.message);
      break;
    case Msg.SETTINGS:
      onSettings(m.settings, m.dataset);
      break;
    case Msg.PROGRESS:
      progress.showDownload(m.loaded, m.total);
      break;
    case Msg.REPORT:
      onReport(m.step, m.evaluation);
      break;
    case Msg.SCATTER:
      scatter.setData(m.plane, m.labels);
      // The model under a resting pointer changed: so did its reconstruction.
      hoverCard.refresh();
      break;
    case Msg.MANIFOLD:
      // A tile set still in flight when the toggle went off is dropped.
      if (controls.showManifold.checked) manifold.setImages(m.rect, m.n, m.pixels);
      break;
    case Msg.CODEBOOK:
      codebook.setData(m);
      break;
    case Msg.SELECTION:
      if (m.index !== selectedIndex) break;
      reparam.setSelection(m);
      interpolation.setSelected(m.index);
      symbolic.setSelection(m);
      break;
    case Msg.SAMPLES:
      generation.setSamples(m);
      break;
    case Msg.STEP_TRACE:
      stepView.setTrace(m);
      break;
    case Msg.HOVERED:
      hoverCard.setData(m);
      break;
    case Msg.CODES:
      downloadBlob(new Blob([m.csv], { type: 'text/csv' }), m.filename);
      exportingCodes = false;
      updateControls();
      break;
    case Msg.INTERPOLATION:
      interpolation.setInterpolation(m);
      break;
    case Msg.DIM_ROWS:
      dimRows.setRows(m);
      break;
    case Msg.CODES_DECODED:
      symbolic.setDecoded(m);
      break;
    case Msg.ERROR:
      showError(m.message);
      // A failed export or hover answers with an error only; neither may wait for ever.
      exportingCodes = false;
      updateControls();
      hoverCard.inFlight = false;
      break;
    default:
      showError(`unexpected message from the worker: ${m.type}`);
  }
};
// Only a broken or missing worker script lands here; errors inside it arrive as Msg.ERROR.
worker.onerror = (event) => {
  event.preventDefault();
  onStatus(Phase.FAILED, 'The training worker could not start.');
  showError(event.message || 'The training worker could not start (is the page served over http?).');
};

/** The controls and the legend show the model that exists, not the last request. */
function onSettings(settings, dataset) {
  state.settings = settings;
  controls.learningRate.value = settings.train.learningRate;
  setUrlParam('lr', String(settings.train.learningRate));
  const { model } = settings;
  for (const input of modelInputs) {
    const field = input.dataset.field;
    input.value = model[field];
    const { param, kinds } = MODEL_FIELDS[field];
    // A link names only the settings that matter for its kind of model.
    if (!kinds || kinds.includes(model.kind)) setUrlParam(param, String(model[field]));
    else deleteUrlParam(param);
  }
  showModelFields();
  metrics.setModel(model);
  klBars.setModel(model.kind, model.latentDim);
  interpolation.setKind(model.kind);
  dimRows.setModel(model.kind, model.latentDim);
  symbolic.setModel(model);
  codebook.setVisible(model.kind === 'vqvae');
  reparam.setKind(model.kind);
  generation.setKind(model.kind);
  traversal.setModel(model.kind, model.latentDim);
  const dim = model.kind === 'vqvae' ? model.codeDim * model.codesPerImage : model.latentDim;
  const code = { ae: 'code z', vae: 'mean μ', vqvae: 'encoder output z_e' }[model.kind];
  $('scatter-caption').textContent =
    dim === 2
      ? `Latent space: the ${code} of each test image, coloured by class`
      : `PCA of the ${dim}-D latent space: the ${code} of each test image on its first two principal components`;
  if (dataset) {
    controls.dataset.value = dataset;
    scatter.setClasses(DATASETS[dataset].classNames);
    setUrlParam('dataset', dataset);
  }
}

function onStatus(phase, message) {
  state.phase = phase;
  progress.showStatus(message);
  if (phase !== Phase.LOADING) progress.hideDownload();
  if (phase === Phase.READY) startHistory();
  // The step panel's arrows describe the last single step only.
  if (phase === Phase.READY || phase === Phase.TRAINING) stepView.clear();
  updateControls();
}

/** A new, untrained model: the numbers and curve of the previous one no longer apply. */
function startHistory() {
  state.step = 0;
  state.epoch = 0;
  state.lastReport = null;
  state.lastEval = null;
  metrics.clear();
  // A rectangle of the old model's plane means nothing on the new one.
  scatter.resetView();
  klBars.clear();
  progress.showTraining(null);
}

function onReport(report, evaluation) {
  if (report) {
    state.lastReport = report;
    state.step = report.step;
    state.epoch = report.epoch + report.epochProgress;
    progress.showTraining(report);
  }
  if (evaluation) state.lastEval = evaluation;
  metrics.show(report, evaluation, state.step);
  klBars.show(report, evaluation);
}

/** Shows the fields of the model kind chosen in the form, and whether Apply has work to do. */
function showModelFields() {
  const kind = $('kind').value;
  for (const label of modelForm.querySelectorAll('[data-kinds]')) label.hidden = !label.dataset.kinds.split(' ').includes(kind);
  updateControls();
}

/** The model settings in the form, or a message naming the first one out of range. */
function formModel() {
  const model = {};
  for (const input of modelInputs) {
    const field = input.dataset.field;
    const spec = MODEL_FIELDS[field];
    if (spec.options) {
      model[field] = input.value;
      continue;
    }
    const value = Number(input.value);
    const applies = !spec.kinds || spec.kinds.includes(model.kind);
    if (applies && (input.value.trim() === '' || !(value >= spec.min && value <= spec.max))) {
      return { error: `${input.labels[0].textContent.trim()} must be ${spec.min} to ${spec.max}.` };
    }
    // An out-of-range field of another model kind is never used; keep the model's own value.
    model[field] = applies ? value : state.settings.model[field];
  }
  return { model };
}

/** Whether the form asks for a model different from the one that exists. */
function modelChanged() {
  if (!state.settings) return false;
  return modelInputs.some((input) => String(state.settings.model[input.dataset.field]) !== input.value);
}

function updateControls() {
  const { phase } = state;
  const hasModel = phase === Phase.READY || phase === Phase.TRAINING || phase === Phase.PAUSED;
  for (const input of modelInputs) input.disabled = !hasModel;
  $('apply').disabled = !hasModel || !modelChanged();
  const training = phase === Phase.TRAINING;
  controls.dataset.disabled = phase === Phase.STARTING || phase === Phase.LOADING;
  controls.quick.disabled = phase === Phase.STARTING || phase === Phase.LOADING;
  controls.learningRate.disabled = phase === Phase.STARTING;
  controls.train.disabled = !hasModel;
  controls.train.textContent = training ? 'Pause' : 'Train';
  controls.step.disabled = !hasModel || training;
  controls.reset.disabled = !hasModel;
  $('reset-view').disabled = !hasModel;
  $('export-codes').disabled = !hasModel || exportingCodes;
}

/** Adds a message to the error area; earlier ones stay until dismissed, as they may name the cause. */
function showError(message) {
  const list = errorBox.querySelector('[data-role="messages"]');
  if (errorBox.hidden) list.replaceChildren();
  if (list.lastElementChild?.textContent !== message) {
    const item = document.createElement('p');
    item.textContent = message;
    list.append(item);
  }
  errorBox.hidden = false;
}

function clearError() {
  errorBox.hidden = true;
}

errorBox.querySelector('[data-role="dismiss"]').addEventListener('click', clearError);

controls.train.addEventListener('click', () => {
  clearError();
  send(state.phase === Phase.TRAINING ? cmd.pause() : cmd.train());
});
controls.step.addEventListener('click', () => {
  clearError();
  send(cmd.step());
});
controls.reset.addEventListener('click', () => {
  clearError();
  send(cmd.reset());
});
controls.dataset.addEventListener('change', () => {
  clearError();
  send(cmd.loadData(controls.dataset.value));
});
controls.quick.addEventListener('change', () => {
  clearError();
  setUrlParam('quick', controls.quick.checked ? '1' : '0');
  // The subset is part of the training settings, so it takes a new model on the same data.
  const trainSubset = controls.quick.checked ? QUICK_SUBSET : 0;
  newModel(state.settings.model, { ...state.settings.train, trainSubset });
});
modelForm.addEventListener('input', showModelFields);
modelForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const { model, error } = formModel();
  if (error) {
    showError(error);
    return;
  }
  clearError();
  newModel({ ...state.settings.model, ...model }, state.settings.train);
});

/** A new untrained model on the data already loaded: the worker frees the old one. */
function newModel(model, train) {
  send(cmd.init({ model, train }));
  send(cmd.reset());
}

controls.showManifold.addEventListener('change', () => {
  setUrlParam('manifold', controls.showManifold.checked ? '1' : '0');
  if (controls.showManifold.checked) requestManifold();
  else {
    send(cmd.manifold(null, 0));
    manifold.clear();
  }
});
scatter.onTarget = () => {
  if (controls.showManifold.checked) requestManifold();
};
$('reset-view').addEventListener('click', () => scatter.resetView());
$('export-codes').addEventListener('click', () => {
  clearError();
  exportingCodes = true;
  updateControls();
  send(cmd.exportCodes());
});
addPngExport($('map-tools'), 'map', 'the latent map', () => scatter.exportCanvas());
for (const [id, what] of [
  ['metrics', 'the loss curve'],
  ['codebook', 'the codebook usage and decoded codes'],
  ['reparam', 'the picked digit and its samples'],
  ['generation', 'the samples from the prior'],
  ['traversal', 'the decoded traversal code'],
  ['step-mode', 'the batch of the last step'],
]) {
  const panel = $(id);
  addPngExport(buttonRow(panel), id, what, () => stackCanvases([...panel.querySelectorAll('canvas')]));
}

// The view's rectangle changes with every scatter while training; asking at most every
// MANIFOLD.minMs (and once more at the end) keeps the worker's decoding in proportion.
let manifoldSentAt = -Infinity;
let manifoldTimer = 0;
function requestManifold() {
  if (manifoldTimer) return;
  const wait = Math.max(0, manifoldSentAt + MANIFOLD.minMs - performance.now());
  manifoldTimer = setTimeout(() => {
    manifoldTimer = 0;
    const rect = scatter.targetRect();
    if (!rect || !controls.showManifold.checked) return;
    manifoldSentAt = performance.now();
    send(cmd.manifold(rect, MANIFOLD.tiles));
  }, wait);
}
controls.learningRate.addEventListener('change', () => {
  const lr = Number(controls.learningRate.value);
  if (controls.learningRate.value.trim() === '' || !Number.isFinite(lr)) {
    showError('The learning rate must be a number, for example 0.001.');
    return;
  }
  clearError();
  send(cmd.setLearningRate(lr));
});
// Enter in the number field would otherwise submit the form and reload the page.
document.querySelector('.controls').addEventListener('submit', (event) => event.preventDefault());

function setUrlParam(key, value) {
  params.set(key, value);
  history.replaceState(null, '', `?${params}`);
}

function deleteUrlParam(key) {
  params.delete(key);
  history.replaceState(null, '', `?${params}`);
}

// The worker fills in every setting not given here from the model's defaults and answers
// with the settings in use, which fill the form. Settings in the URL win; the model checks
// their ranges and falls back to its defaults, with a message, on a bad one.
function initialSettings() {
  const lrParam = Number(params.get('lr'));
  const learningRate = lrParam > 0 ? { learningRate: lrParam } : {};
  const trainSubset = controls.quick.checked ? QUICK_SUBSET : 0;
  const model = { ...SETTINGS.model };
  for (const [field, { param, options }] of Object.entries(MODEL_FIELDS)) {
    const value = params.get(param);
    if (value === null) continue;
    if (options) {
      if (Object.hasOwn(options, value)) model[field] = value;
    } else if (value.trim() !== '' && Number.isFinite(Number(value))) {
      model[field] = Number(value);
    }
  }
  return { model, train: { ...SETTINGS.train, ...learningRate, trainSubset } };
}
controls.quick.checked = params.get('quick') === '1';
controls.showManifold.checked = params.get('manifold') === '1';
send(cmd.init(initialSettings()));
send(cmd.loadData(initialDataset));
// The worker keeps the seed and draws the samples as soon as the data (and so a model) is in.
generation.resample();

/** Read-only handle for tests and the console. */
window.latentLab = Object.freeze({
  state: () => structuredClone(state),
  scatter: () => scatter.snapshot(),
  manifold: () => manifold.snapshot(),
  codebook: () => codebook.snapshot(),
  reparam: () => reparam.snapshot(),
  generation: () => generation.snapshot(),
  traversal: () => traversal.snapshot(),
  step: () => stepView.snapshot(),
  hover: () => hoverCard.snapshot(),
  losses: () => metrics.snapshot(),
  klBars: () => klBars.snapshot(),
  interpolation: () => interpolation.snapshot(),
  dimRows: () => dimRows.snapshot(),
  symbolic: () => symbolic.snapshot(),
  /** Where scatter point `index` is drawn, in viewport pixels (null before the first draw). */
  pointOnScreen: (index) => {
    const { plane } = scatter;
    return window.latentLab.planeOnScreen(plane[2 * index], plane[2 * index + 1]);
  },
  /** Where plane point (x, y) is drawn, in viewport pixels (null before the first draw). */
  planeOnScreen: (x, y) => {
    const { transform } = scatter;
    if (!transform) return null;
    const box = scatter.canvas.getBoundingClientRect();
    return { x: box.left + transform.px(x), y: box.top + transform.py(y) };
  },
});
