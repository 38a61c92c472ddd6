// Wiring: controls → worker commands, worker messages → views. The worker owns the model;
// this thread keeps only what the views need and never computes on the model itself.

import { Msg, Phase, cmd, loadModelTransfer } from './protocol.js';
import { CURVE, DATASETS, MANIFOLD, MODEL_FIELDS, OWN_DATA, QUICK_SUBSET, SETTINGS, TRAIN_FIELDS, TRAINING } from './config.js';
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
import { DrawPadView } from './views/drawpad.js';
import { CompareView } from './views/compare.js';
import { sortIdxFiles } from './idxfiles.js';
import { LectureView } from './views/lecture.js';
import { LECTURES } from './lectures.js';
import { initPresenter } from './presenter.js';
import { registerOffline } from './offline.js';

const $ = (id) => document.getElementById(id);
const controls = {
  dataset: $('dataset'),
  learningRate: $('learning-rate'),
  quick: $('quick'),
  train: $('train'),
  step: $('step'),
  reset: $('reset'),
  showManifold: $('show-manifold'),
  compare: $('compare-toggle'),
  idxFiles: $('idx-files'),
  saveModel: $('save-model'),
  loadModel: $('load-model'),
  modelFile: $('model-file'),
};
const modelForm = $('model');
const modelInputs = [...modelForm.querySelectorAll('[data-field]')];
const trainInputs = [...modelForm.querySelectorAll('[data-train-field]')];
const errorBox = $('error');

const scatter = new ScatterView($('scatter'), $('legend'));
const progress = new ProgressView($('progress'));
const metrics = new MetricsView($('metrics'), $('loss-charts'));
const klBars = new KlBarsView($('kl-dims'));
const redrawMap = () => scatter.requestDraw();
const codebook = new CodebookView($('codebook'), redrawMap, () => scatter.plane);
const manifold = new ManifoldLayer(redrawMap);
const reparam = new ReparamView($('reparam'), (epsilon) => send(cmd.addEpsilon(epsilon)), redrawMap);
const generation = new GenerationView($('generation'), (count, seed) => send(cmd.sample(count, seed)));
const traversal = new TraversalView($('traversal'), (z, id) => replica.postMessage(cmd.decode(z, id)));
const stepView = new StepView($('step-mode'), redrawMap);
const interpolation = new InterpolationView($('interpolation'), (a, b, steps) => send(cmd.interpolate(a, b, steps)), redrawMap);
const dimRows = new DimRowsView($('dim-rows'), (count, values) => send(cmd.dimRows(count, values)));
const symbolic = new SymbolicView($('symbolic'), (codes, id) => send(cmd.decodeCodes(codes, id)));
const drawpad = new DrawPadView($('drawpad'), (pixels, id) => send(cmd.draw(pixels, id)), redrawMap);
const compare = new CompareView($('compare'), showError);
// Drawn in this order: cells, then tiles (a requested manifold covers the cells), then the
// points, then the selected digit's μ, ellipses and samples.
scatter.addLayer(codebook);
scatter.addLayer(manifold);
scatter.addLayer(reparam);
scatter.addLayer(stepView);
const hoverCard = new HoverCard($('hover-card'), (index) => replica.postMessage(cmd.hover(index)), () => scatter.classNames);
new MapNavigation(scatter, {
  select: selectDigit,
  clear: () => selectDigit(null),
  hover: (index, x, y) => hoverCard.show(index, x, y),
  announce: (text) => {
    $('map-status').textContent = text;
  },
});
/** The test image the reparameterization view follows; a reply for an earlier pick is dropped. */
let selectedIndex = null;
function selectDigit(index) {
  selectedIndex = index;
  if (index === null) reparam.clear();
  send(cmd.select(index));
}
/** Whether an Export codes request is out; its button waits for the file. */
let exportingCodes = false;
scatter.addLayer(interpolation);
scatter.addLayer(drawpad);

const state = {
  phase: Phase.STARTING,
  step: 0,
  epoch: 0,
  lastReport: null,
  lastEval: null,
  /** `{model, train}` of the model that exists, as the worker reported it. */
  settings: null,
  /** Key of the data it trains on: one of DATASETS, OWN_DATA.key, or null before any loaded. */
  dataset: null,
  /** `{name, step}` of the checkpoint the model came from, or null for one trained here from scratch. */
  loaded: null,
};
/** The bytes of the student's own files: sent to the worker, kept once it took them (for the comparison model). */
let ownFiles = null;
/** What the main map shows, set with the model's settings. */
let mapCaption = '';
let pendingOwnFiles = null;

// Settings that a link should reproduce live in the URL: ?dataset=fashion&lr=0.002
const params = new URLSearchParams(location.search);
const initialDataset = Object.hasOwn(DATASETS, params.get('dataset') ?? '') ? params.get('dataset') : 'mnist';

for (const [key, { label }] of Object.entries(DATASETS)) controls.dataset.add(new Option(label, key));
controls.dataset.add(new Option(OWN_DATA.label, OWN_DATA.key));
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
// Slider decodes and hover reconstructions go to a replica of the model that never trains,
// so they answer within a frame while the training worker is in the middle of a chunk.
const replica = new Worker(new URL('./replica.js', import.meta.url), { type: 'module' });
const weightsChannel = new MessageChannel();
worker.postMessage(cmd.connect(), [weightsChannel.port1]);
replica.postMessage(cmd.connect(), [weightsChannel.port2]);
replica.onmessage = ({ data: m }) => {
  if (m.type === Msg.DECODED) traversal.setDecoded(m);
  else if (m.type === Msg.HOVERED) hoverCard.setData(m);
  else if (m.type === Msg.ERROR) {
    showError(m.message);
    hoverCard.inFlight = false;
  } else showError(`unexpected message from the replica: ${m.type}`);
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
    case Msg.DRAWN:
      drawpad.setResult(m);
      break;
    case Msg.SAVED:
      offerDownload(m.filename, m.bytes);
      break;
    case Msg.LOADED:
      onLoaded(m.name, m.step);
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
  // A loaded checkpoint brings its own training subset.
  controls.quick.checked = settings.train.trainSubset > 0;
  if (controls.quick.checked) setUrlParam('quick', '1');
  else deleteUrlParam('quick');
  const { model } = settings;
  for (const input of modelInputs) {
    const field = input.dataset.field;
    input.value = model[field];
    const { param, kinds } = MODEL_FIELDS[field];
    // A link names only the settings that matter for its kind of model.
    if (!kinds || kinds.includes(model.kind)) setUrlParam(param, String(model[field]));
    else deleteUrlParam(param);
  }
  for (const input of trainInputs) {
    const field = input.dataset.trainField;
    input.value = settings.train[field];
    setUrlParam(TRAIN_FIELDS[field].param, String(settings.train[field]));
  }
  showModelFields();
  metrics.setModel(model);
  klBars.setModel(model.kind, model.latentDim);
  interpolation.setKind(model.kind);
  dimRows.setModel(model.kind, model.latentDim);
  symbolic.setModel(model);
  drawpad.setKind(model.kind);
  codebook.setVisible(model.kind === 'vqvae');
  reparam.setKind(model.kind);
  generation.setKind(model.kind);
  traversal.setModel(model.kind, model.latentDim);
  const dim = model.kind === 'vqvae' ? model.codeDim * model.codesPerImage : model.latentDim;
  const code = { ae: 'code z', vae: 'mean μ', vqvae: 'encoder output z_e' }[model.kind];
  mapCaption =
    dim === 2
      ? `Latent space: the ${code} of each test image, coloured by class`
      : `PCA of the ${dim}-D latent space: the ${code} of each test image on its first two principal components`;
  if (dataset) {
    state.dataset = dataset;
    controls.dataset.value = dataset;
    const { classNames } = DATASETS[dataset] ?? OWN_DATA;
    scatter.setClasses(classNames);
    compare.setClasses(classNames);
    // A link cannot carry the student's files; it opens on MNIST.
    if (dataset === OWN_DATA.key) deleteUrlParam('dataset');
    else setUrlParam('dataset', dataset);
    if (dataset === OWN_DATA.key && pendingOwnFiles) {
      ownFiles = pendingOwnFiles;
      pendingOwnFiles = null;
    }
    compare.setMain(settings, { dataset, files: dataset === OWN_DATA.key ? ownFiles : null });
    // A new main kind may have given the comparison another partner.
    if (compare.active) setUrlParam('compare', compare.kind);
    // A link with ?compare=vae opens comparing, once the main model knows its data.
    if (comparePartnerInUrl) {
      setComparing(true, comparePartnerInUrl);
      comparePartnerInUrl = null;
    }
  }
  showMapCaption();
}

/** While comparing, the main map's caption also names its model. */
function showMapCaption() {
  const name = state.settings && MODEL_FIELDS.kind.options[state.settings.model.kind];
  $('scatter-caption').textContent = compare.active ? `${name} (main model) · ${mapCaption}` : mapCaption;
}

function onStatus(phase, message) {
  state.phase = phase;
  progress.showStatus(message);
  if (phase !== Phase.LOADING) progress.hideDownload();
  if (phase === Phase.READY) {
    // Once the first dataset is in, so that precaching does not compete with its download.
    registerOffline();
    startHistory();
    // A new untrained model: the link no longer names a pretrained one.
    if (!requestedCheckpoint) deleteUrlParam('checkpoint');
  }
  // The step panel's arrows describe the last single step only.
  if (phase === Phase.READY || phase === Phase.TRAINING) stepView.clear();
  compare.followPhase(phase);
  updateControls();
}

/** A new, untrained model: the numbers and curve of the previous one no longer apply. */
function startHistory() {
  state.step = 0;
  state.epoch = 0;
  state.lastReport = null;
  state.lastEval = null;
  state.loaded = null;
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
  const more = $('more-settings').getAttribute('aria-expanded') === 'true';
  for (const label of modelForm.querySelectorAll('label')) {
    const kinds = label.dataset.kinds?.split(' ');
    label.hidden = (kinds && !kinds.includes(kind)) || (label.hasAttribute('data-advanced') && !more);
  }
  updateControls();
}
// The rarer settings wait behind a button, so the form fits one line above the map.
$('more-settings').addEventListener('click', (event) => {
  const more = event.currentTarget.getAttribute('aria-expanded') !== 'true';
  event.currentTarget.setAttribute('aria-expanded', String(more));
  event.currentTarget.textContent = more ? 'Fewer settings' : 'More settings';
  showModelFields();
});

/** The model and training settings in the form, or a message naming the first one out of range. */
function formModel() {
  const model = {};
  const train = {};
  const read = (input, spec, applies) => {
    const value = Number(input.value);
    const name = input.labels[0].textContent.trim();
    if (!applies) return { value: null };
    if (input.value.trim() === '' || !(value >= spec.min && value <= spec.max)) {
      return { error: `${name} must be ${spec.min} to ${spec.max}.` };
    }
    // serde refuses a fraction where Rust wants an integer.
    if (input.step === '1' && !Number.isInteger(value)) return { error: `${name} must be a whole number.` };
    return { value };
  };
  for (const input of modelInputs) {
    const field = input.dataset.field;
    const spec = MODEL_FIELDS[field];
    if (spec.options) {
      model[field] = input.value;
      continue;
    }
    const { value, error } = read(input, spec, !spec.kinds || spec.kinds.includes(model.kind));
    if (error) return { error };
    // An out-of-range field of another model kind is never used; keep the model's own value.
    model[field] = value ?? state.settings.model[field];
  }
  if (model.kind === 'vqvae' && model.codesPerImage * model.codeDim > 256) {
    return { error: `l · D must be at most 256; it is ${model.codesPerImage} · ${model.codeDim}.` };
  }
  for (const input of trainInputs) {
    const field = input.dataset.trainField;
    const { value, error } = read(input, TRAIN_FIELDS[field], true);
    if (error) return { error };
    train[field] = value;
  }
  return { model, train };
}

/** Whether the form asks for a model different from the one that exists. */
function modelChanged() {
  if (!state.settings) return false;
  return (
    modelInputs.some((input) => String(state.settings.model[input.dataset.field]) !== input.value) ||
    trainInputs.some((input) => String(state.settings.train[input.dataset.trainField]) !== input.value)
  );
}

function updateControls() {
  const { phase } = state;
  const hasModel = phase === Phase.READY || phase === Phase.TRAINING || phase === Phase.PAUSED;
  for (const input of [...modelInputs, ...trainInputs]) input.disabled = !hasModel;
  controls.compare.disabled = !hasModel;
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
  controls.saveModel.disabled = !hasModel;
  controls.loadModel.disabled = !hasModel;
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
  compare.step();
});
controls.reset.addEventListener('click', () => {
  clearError();
  send(cmd.reset());
  compare.restart();
});
controls.dataset.addEventListener('change', () => {
  clearError();
  if (controls.dataset.value === OWN_DATA.key) {
    // The list shows the data in use until the worker took the files.
    controls.dataset.value = state.dataset ?? '';
    controls.idxFiles.click();
    return;
  }
  send(cmd.loadData(controls.dataset.value));
});
controls.idxFiles.addEventListener('change', () => {
  const files = [...controls.idxFiles.files];
  // Choosing the same files again should load them again.
  controls.idxFiles.value = '';
  loadOwnFiles(files);
});

/** Sorts the four IDX files, then hands their bytes to the worker, which may still refuse them. */
async function loadOwnFiles(files) {
  clearError();
  try {
    pendingOwnFiles = await sortIdxFiles(files);
  } catch (err) {
    showError(`Your files were not loaded: ${err.message}`);
    return;
  }
  // Copied, not transferred: the comparison model needs the same bytes.
  send(cmd.loadFiles(pendingOwnFiles));
}

// Files dropped anywhere on the page are the student's own dataset.
const carriesFiles = (event) => event.dataTransfer?.types.includes('Files');
document.addEventListener('dragover', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  document.body.classList.add('dropping');
});
document.addEventListener('dragleave', (event) => {
  if (event.relatedTarget === null) document.body.classList.remove('dropping');
});
document.addEventListener('drop', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  document.body.classList.remove('dropping');
  const hasModel = [Phase.READY, Phase.TRAINING, Phase.PAUSED].includes(state.phase);
  if (!hasModel) {
    showError('Wait until the model and its data have loaded, then drop your files again.');
    return;
  }
  loadOwnFiles([...event.dataTransfer.files]);
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
  const { model, train, error } = formModel();
  if (error) {
    showError(error);
    return;
  }
  clearError();
  newModel({ ...state.settings.model, ...model }, { ...state.settings.train, ...train });
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
  compare.setManifold(controls.showManifold.checked);
});

controls.compare.addEventListener('change', () => setComparing(controls.compare.checked));

/** Turns the side-by-side comparison on (with `kind`, or the usual partner) or off. */
function setComparing(on, kind = null) {
  controls.compare.checked = on;
  if (on) {
    compare.start(kind);
    // Gaps against filled space is what the comparison is for: both maps show the manifold.
    if (controls.showManifold.checked) compare.setManifold(true);
    else controls.showManifold.click();
    compare.followPhase(state.phase);
    setUrlParam('compare', compare.kind);
  } else {
    compare.stop();
    deleteUrlParam('compare');
  }
  showMapCaption();
}
$('compare').querySelector('[data-role="partner"]').addEventListener('change', () => setUrlParam('compare', compare.kind));
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
  const train = { ...SETTINGS.train, ...learningRate, trainSubset };
  for (const [field, { param }] of Object.entries(TRAIN_FIELDS)) {
    const value = params.get(param);
    if (value !== null && value.trim() !== '' && Number.isFinite(Number(value))) train[field] = Number(value);
  }
  return { model, train };
}
let comparePartnerInUrl = params.get('compare');
controls.quick.checked = params.get('quick') === '1';
controls.showManifold.checked = params.get('manifold') === '1';
send(cmd.init(initialSettings()));
send(cmd.loadData(initialDataset));
// The worker keeps the seed and draws the samples as soon as the data (and so a model) is in.
generation.resample();

// ---- Save and load ----

/** A checkpoint replaced the model: its curve starts afresh, at the step it was saved at. */
function onLoaded(name, step) {
  startHistory();
  state.step = step;
  state.loaded = { name, step };
  progress.showLoaded(step);
  // Only a shipped checkpoint can be named in a link; a loaded file cannot.
  if (name === requestedCheckpoint) setUrlParam('checkpoint', name);
  else deleteUrlParam('checkpoint');
  requestedCheckpoint = null;
  if (lectureLoading?.checkpoint === name) lectureLoaded(lectureLoading.preset);
}

let downloadUrl = null;
/** Offers `bytes` as a file download, as a link with a download attribute would. */
function offerDownload(filename, bytes) {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const link = Object.assign(document.createElement('a'), { href: downloadUrl, download: filename });
  link.click();
}

/** Sends a checkpoint file (from the picker or a drop) to the worker; Rust checks it. */
async function loadModelFile(file) {
  clearError();
  const m = cmd.loadModel(await file.arrayBuffer(), file.name);
  worker.postMessage(m, loadModelTransfer(m));
}

controls.saveModel.addEventListener('click', () => {
  clearError();
  send(cmd.saveModel());
});
controls.loadModel.addEventListener('click', () => controls.modelFile.click());
controls.modelFile.addEventListener('change', () => {
  const [file] = controls.modelFile.files;
  // Cleared so that choosing the same file again still fires a change.
  controls.modelFile.value = '';
  if (file) loadModelFile(file);
});

// A model file dropped anywhere on the page loads it; the overlay says so while files are
// dragged over. The drop is caught in the capture phase, before any other drop handler, so a
// checkpoint is never taken for something else; other files are left to those handlers.
const dropHint = $('drop-hint');
const isModelFile = (files) => files.length === 1 && files[0].name.toLowerCase().endsWith('.safetensors');
let dragDepth = 0;
document.addEventListener('dragenter', (event) => {
  if (!carriesFiles(event)) return;
  dragDepth++;
  dropHint.hidden = controls.loadModel.disabled;
});
document.addEventListener('dragleave', (event) => {
  if (carriesFiles(event) && --dragDepth <= 0) {
    dragDepth = 0;
    dropHint.hidden = true;
  }
});
document.addEventListener('dragover', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = controls.loadModel.disabled ? 'none' : 'copy';
});
document.addEventListener(
  'drop',
  (event) => {
    if (!carriesFiles(event)) return;
    // The browser would otherwise open the file in place of the page.
    event.preventDefault();
    dragDepth = 0;
    dropHint.hidden = true;
    const files = [...event.dataTransfer.files];
    if (!isModelFile(files)) return;
    event.stopImmediatePropagation();
    if (controls.loadModel.disabled) showError('Wait until the data has loaded, then drop the model again.');
    else loadModelFile(files[0]);
  },
  { capture: true },
);

/** The shipped checkpoint asked for and not loaded yet. */
let requestedCheckpoint = null;

/** The pretrained checkpoints that ship with the page (checkpoints/manifest.json), fetched once. */
let manifestRequest = null;
function checkpointManifest() {
  manifestRequest ??= fetch(new URL('checkpoints/manifest.json', location.href)).then((r) => {
    if (!r.ok) throw new Error(`could not read the list of pretrained models: HTTP ${r.status}`);
    return r.json();
  });
  return manifestRequest;
}

/**
 * Loads the shipped checkpoint `name` (on its dataset) and records it in the URL. Its file's
 * hash is part of the address, so the offline cache can keep checkpoints forever.
 */
async function loadCheckpoint(name) {
  // Set before the manifest arrives: the data loading first must not drop it from the URL.
  requestedCheckpoint = name;
  let source;
  try {
    source = await checkpointSource(name);
  } catch (err) {
    requestedCheckpoint = null;
    throw err;
  }
  send(cmd.loadCheckpoint(source.url, name, source.dataset));
}

/** Where shipped checkpoint `name` is (`{url, dataset}`); its hash in the address lets caches keep it. */
async function checkpointSource(name) {
  const manifest = await checkpointManifest();
  const entry = manifest.checkpoints.find((c) => c.name === name);
  if (!entry) throw new Error(`There is no pretrained model "${name}".`);
  return { url: `checkpoints/${entry.file}?v=${entry.sha256.slice(0, 16)}`, dataset: manifest.dataset };
}

// ---- Lectures ----

const lecture = new LectureView($('lecture'), $('lecture-panel'), LECTURES, openLecture);

/** Opens a preset's model (a shipped checkpoint, or a new one trained live) and its views. */
function openLecture(preset, choice) {
  clearError();
  if (!preset) {
    deleteUrlParam('lecture');
    return;
  }
  setUrlParam('lecture', preset.id);
  if (preset.live) {
    newModel(preset.live.model, preset.live.train);
    send(cmd.train());
  } else {
    lectureLoading = { preset, checkpoint: choice.checkpoint };
    loadCheckpoint(choice.checkpoint).catch((err) => showError(err.message));
  }
  const { manifold, select, panel } = preset.views;
  // A comparison left on from before would train beside another preset's picture.
  if (!preset.views.compare && compare.active) setComparing(false);
  if (controls.showManifold.checked !== manifold) {
    controls.showManifold.checked = manifold;
    controls.showManifold.dispatchEvent(new Event('change'));
  }
  if (select !== null) selectDigit(select);
  // The lecture's panels move up to just under its caption, beside the map.
  if (panel) {
    const panels = [panel].flat().map($);
    $('lecture-panel').after(...panels);
    panels[0].scrollIntoView({ block: 'nearest' });
  }
}

/** The preset whose checkpoint is on its way: the views that need the model wait for it. */
let lectureLoading = null;

/** The preset's checkpoint is in: the second model, the interpolation and the random codes follow. */
function lectureLoaded(preset) {
  lectureLoading = null;
  const { compare: partner, interpolate, randomCodes } = preset.views;
  if (partner) {
    setComparing(true, partner.kind);
    checkpointSource(partner.checkpoint)
      .then(({ url, dataset }) => {
        compare.showCheckpoint(partner.kind, url, partner.checkpoint, dataset);
        setUrlParam('compare', compare.kind);
      })
      .catch((err) => showError(err.message));
  }
  if (interpolate) interpolation.setPair(interpolate.a, interpolate.b, interpolate.steps);
  if (randomCodes) symbolic.drawRandom();
}

// A link names a lecture (and which of its models), or just a pretrained model; either loads
// once the data is in, because the worker runs commands in order.
if (params.has('lecture')) lecture.open(params.get('lecture'), params.get('checkpoint'));
else if (params.has('checkpoint')) loadCheckpoint(params.get('checkpoint')).catch((err) => showError(err.message));

// Presenter toggles (kept in the URL) and the offline cache.
initPresenter(params, (key, on) => (on ? setUrlParam(key, '1') : deleteUrlParam(key)));

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
  drawing: () => drawpad.snapshot(),
  compare: () => compare.snapshot(),
  lecture: () => lecture.snapshot(),
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
