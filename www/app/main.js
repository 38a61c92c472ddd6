// Wiring: controls → worker commands, worker messages → views. The worker owns the model;
// this thread keeps only what the views need and never computes on the model itself. The
// page's state and its URL live in state.js, files in files.js, checkpoints and lectures in
// checkpoints.js, the settings form in form.js.

import { Msg, Phase, cmd } from './protocol.js';
import { CURVE, DATASETS, OWN_DATA, OWN_IMAGES, QUICK_SUBSET, SETTINGS, TRAINING } from './config.js';
import { loadSchema, optionLabel } from './schema.js';
import { PageState } from './state.js';
import { SettingsForm } from './form.js';
import { FileInput } from './files.js';
import { ImageUpload, saveIdxZip } from './imagefiles.js';
import { TrainingControls } from './controls.js';
import { Checkpoints, Lectures } from './checkpoints.js';
import { LECTURES } from './lectures.js';
import { DiscreteLessons } from './discrete.js';
import { initPresenter } from './presenter.js';
import { registerOffline } from './offline.js';
import { exposeHandle } from './handle.js';
import { PriorPanel } from './prior.js';
import { JudgePanel } from './judge.js';
import { ShallowPanel } from './shallow.js';
import { ScatterView } from '../views/scatter.js';
import { ProgressView } from '../views/progress.js';
import { MetricsView } from '../views/metrics.js';
import { ManifoldLayer, pacedManifoldRequests } from '../views/manifold.js';
import { CodebookView } from '../views/codebook.js';
import { ReparamView } from '../views/reparam.js';
import { GenerationView } from '../views/generation.js';
import { TraversalView } from '../views/traversal.js';
import { StepView } from '../views/stepmode.js';
import { MapNavigation } from '../views/mapnav.js';
import { HoverCard } from '../views/hovercard.js';
import { addPanelPngExports, addPngExport, buttonRow, downloadBlob } from '../views/export.js';
import { KlBarsView } from '../views/klbars.js';
import { InterpolationView } from '../views/interpolation.js';
import { DimRowsView } from '../views/dimrows.js';
import { SymbolicView } from '../views/symbolic.js';
import { DrawPadView } from '../views/drawpad.js';
import { CompareView } from '../views/compare.js';
import { LectureView } from '../views/lecture.js';
import { ErrorArea } from '../views/errors.js';
import { OwnImagesView } from '../views/ownimages.js';

const $ = (id) => document.getElementById(id);
const errors = new ErrorArea($('error'));
const showError = (message) => errors.show(message);
const clearError = () => errors.clear();

// The workers start loading while the settings schema comes from the same wasm module.
const worker = new Worker(new URL('../workers/worker.js', import.meta.url), { type: 'module' });
const send = (message) => worker.postMessage(message);
// Slider decodes and hover reconstructions go to a replica of the model that never trains,
// so they answer within a frame while the training worker is in the middle of a chunk.
const replica = new Worker(new URL('../workers/replica.js', import.meta.url), { type: 'module' });
const weightsChannel = new MessageChannel();
worker.postMessage(cmd.connect(), [weightsChannel.port1]);
replica.postMessage(cmd.connect(), [weightsChannel.port2]);
const state = new PageState(location.search);

const scatter = new ScatterView($('scatter'), $('legend'));
const progress = new ProgressView($('progress'));
const metrics = new MetricsView($('metrics'), $('loss-charts'));
const klBars = new KlBarsView($('kl-dims'));
const redrawMap = () => scatter.requestDraw();
const codebook = new CodebookView($('codebook'), redrawMap, () => scatter.plane);
const manifold = new ManifoldLayer(redrawMap);
const reparam = new ReparamView($('reparam'), (count) => send(cmd.addDraws(count)), redrawMap);
const generation = new GenerationView($('generation'), (count, seed) => send(cmd.sample(count, seed)));
const traversal = new TraversalView($('traversal'), (z, id) => replica.postMessage(cmd.decode(z, id)), {
  give: (canvas) => replica.postMessage(cmd.traversalCanvas(canvas), [canvas]),
  read: () => replica.postMessage(cmd.readTraversal()),
});
const stepView = new StepView($('step-mode'), redrawMap);
const interpolation = new InterpolationView($('interpolation'), (a, b, steps) => send(cmd.interpolate(a, b, steps)), redrawMap);
const dimRows = new DimRowsView($('dim-rows'), (count) => send(cmd.dimRows(count)));
const symbolic = new SymbolicView(
  $('symbolic'),
  (codes, id) => send(cmd.decodeCodes(codes, id)),
  (codes, keep, count, id) => send(cmd.priorComplete(codes, keep, count, Math.floor(Math.random() * 2 ** 32), id)),
);
const drawpad = new DrawPadView($('drawpad'), (pixels, id) => send(cmd.draw(pixels, id)), redrawMap);
const discrete = new DiscreteLessons({ send, redrawMap, onError: showError });
const hoverCard = new HoverCard($('hover-card'), (index) => replica.postMessage(cmd.hover(index)), () => scatter.classNames);
// Drawn in this order: cells, then tiles (a requested manifold covers the cells), then the
// points, then the GMM prior's ellipses and samples, the selected digit's μ, ellipses and
// samples, the step's arrows, the interpolation's path and the drawn digit's star.
for (const layer of [codebook, manifold, ...discrete.layers, reparam, stepView, interpolation, drawpad]) scatter.addLayer(layer);
/** Every view that follows the model's settings: each gets the same `model` object. */
const modelViews = [metrics, klBars, interpolation, dimRows, symbolic, drawpad, codebook, reparam, generation, traversal, ...discrete.modelViews];
new MapNavigation(scatter, {
  select: selectDigit,
  clear: () => selectDigit(null),
  hover: (index, x, y) => hoverCard.show(index, x, y),
  announce: (text) => {
    $('map-status').textContent = text;
  },
});
// The handle for tests and the console, and the presenter toggles, exist from the first
// moment; the views that need the settings schema join the handle once it has arrived.
const views = {
  manifold, codebook, reparam, generation, traversal, step: stepView, hover: hoverCard, losses: metrics, klBars,
  interpolation, dimRows, symbolic, drawing: drawpad, ...discrete.views,
};
exposeHandle(state, scatter, [...Object.keys(views), 'compare', 'lecture', 'ownImages', 'prior', 'judge', 'shallow'], views);
initPresenter(state.url, (key, on) => state.set({ [key]: on }));

const schema = await loadSchema().catch((err) => {
  showError(`The model code could not load: ${err.message}`);
  throw err;
});
state.useSchema(schema.fields);
const compare = new CompareView($('compare'), schema, showError);

const form = new SettingsForm($('model'), schema, (settings) => {
  clearError();
  newModel(settings);
}, showError);
const ownImages = new OwnImagesView($('own-images'), () => images.exportIdx());
const images = new ImageUpload({ send, onError: showError, clearError }, ownImages, {
  folderInput: $('image-folder'),
  filesInput: $('image-files'),
});
const controls = new TrainingControls({
  send, state, compare, scatter, form, clearError, showError, newModel, hasModel, datasetChoices: images.datasetChoices(),
});
const files = new FileInput(
  { worker, canLoad: hasModel, onError: showError, clearError, images },
  { modelFile: $('model-file'), idxFiles: controls.idxFiles, dropHint: $('drop-hint') },
);
const checkpoints = new Checkpoints({ send, state, onError: showError, clearError });
const prior = new PriorPanel($('learned-prior'), { send, symbolic, checkpoints, onError: showError });
modelViews.push(prior.view);
const judge = new JudgePanel($('judge'), $('judge-map'), {
  send, state, checkpoints, onError: showError, setManifold, showsManifold: () => controls.showManifold.checked,
});
const shallow = new ShallowPanel($('shallow-vq'), send);
const lectures = new Lectures({
  send, state, checkpoints, compare, interpolation, symbolic, prior, judge, shallow, newModel, setComparing, setManifold, selectDigit,
  lessons: discrete, onError: showError, clearError,
});
const lecture = new LectureView($('lecture'), $('lecture-panel'), LECTURES, (preset, choice) => lectures.open(preset, choice));
Object.assign(views, { compare, lecture, ownImages, prior: prior.view, judge: judge.view, shallow: shallow.view });

function selectDigit(index) {
  state.selected = index;
  if (index === null) reparam.clear();
  discrete.select(index);
  send(cmd.select(index));
}

function hasModel() {
  return [Phase.READY, Phase.TRAINING, Phase.PAUSED].includes(state.phase);
}

for (const [key, { label }] of Object.entries(DATASETS)) controls.dataset.add(new Option(label, key));
controls.dataset.add(new Option(OWN_DATA.label, OWN_DATA.key));
images.addOptions(controls.dataset);
const initialDataset = state.url.dataset ?? 'mnist';
controls.dataset.value = initialDataset;
scatter.setClasses(DATASETS[initialDataset].classNames);
document.documentElement.style.setProperty('--train', CURVE.trainColor);
document.documentElement.style.setProperty('--test', CURVE.testColor);
$('metrics-note').textContent =
  `train: mean over the last batches; test: ${TRAINING.evalImages.toLocaleString('en-US')} held-out images.`;

replica.onmessage = ({ data: m }) => {
  if (m.type === Msg.DECODED) traversal.setDecoded(m);
  else if (m.type === Msg.TRAVERSAL_IMAGE) traversal.setImage(m);
  else if (m.type === Msg.HOVERED) hoverCard.setData(m);
  else if (m.type === Msg.MANIFOLD) onManifold(m);
  else if (m.type === Msg.ERROR) {
    showError(m.message);
    hoverCard.inFlight = false;
  } else showError(`unexpected message from the replica: ${m.type}`);
};
replica.onerror = (event) => {
  event.preventDefault();
  showError(event.message || 'The decoding worker could not start.');
};

/** What each worker message does on the page. */
const onMessage = {
  [Msg.STATUS]: (m) => onStatus(m.phase, m.message),
  [Msg.SETTINGS]: (m) => onSettings(m.settings, m.dataset, m.classNames),
  [Msg.PROGRESS]: (m) => progress.showDownload(m.loaded, m.total),
  [Msg.REPORT]: (m) => onReport(m.step, m.evaluation),
  [Msg.SCATTER]: (m) => {
    scatter.setData(m.plane, m.labels, m.axisNames);
    // The model under a resting pointer changed: so did its reconstruction.
    hoverCard.refresh();
  },
  // A tile set still in flight when the toggle went off is dropped.
  [Msg.MANIFOLD]: onManifold,
  [Msg.CODEBOOK]: (m) => codebook.setData(m),
  [Msg.SELECTION]: (m) => {
    if (m.index !== state.selected) return;
    reparam.setSelection(m);
    interpolation.setSelected(m.index);
    symbolic.setSelection(m);
  },
  [Msg.SAMPLES]: (m) => generation.setSamples(m),
  [Msg.STEP_TRACE]: (m) => stepView.setTrace(m),
  [Msg.CODES]: (m) => {
    downloadBlob(new Blob([m.csv], { type: 'text/csv' }), m.filename);
    state.exportingCodes = false;
    controls.update();
  },
  [Msg.INTERPOLATION]: (m) => interpolation.setInterpolation(m),
  [Msg.DIM_ROWS]: (m) => dimRows.setRows(m),
  [Msg.CODES_DECODED]: (m) => symbolic.setDecoded(m),
  [Msg.DRAWN]: (m) => drawpad.setResult(m),
  [Msg.SAVED]: (m) => checkpoints.offerDownload(m.filename, m.bytes),
  [Msg.LOADED]: (m) => onLoaded(m.name, m.step),
  [Msg.IMAGES_LOADED]: (m) => images.loaded(m),
  [Msg.IDX_EXPORT]: (m) => saveIdxZip(m),
  ...discrete.handlers,
  ...prior.handlers(),
  ...judge.handlers(),
  ...shallow.handlers(),
  [Msg.ERROR]: (m) => {
    showError(m.message);
    // A failed export or hover answers with an error only; neither may wait for ever.
    state.exportingCodes = false;
    controls.update();
    hoverCard.inFlight = false;
  },
};
worker.onmessage = ({ data: m }) => {
  if (Object.hasOwn(onMessage, m.type)) onMessage[m.type](m);
  else showError(`unexpected message from the worker: ${m.type}`);
};
// Only a broken or missing worker script lands here; errors inside it arrive as Msg.ERROR.
worker.onerror = (event) => {
  event.preventDefault();
  onStatus(Phase.FAILED, 'The training worker could not start.');
  showError(event.message || 'The training worker could not start (is the page served over http?).');
};

/** The controls, the views and the URL show the model that exists, not the last request. */
function onSettings(settings, dataset, classNames) {
  state.setSettings(settings);
  controls.learningRate.value = settings.train.learningRate;
  // A loaded checkpoint brings its own training subset.
  controls.quick.checked = settings.train.trainSubset > 0;
  form.setSettings(settings);
  for (const view of modelViews) view.setModel(settings.model);
  if (dataset) {
    state.dataset = dataset;
    controls.dataset.value = dataset;
    scatter.setClasses(classNames);
    compare.setClasses(classNames);
    const own = dataset === OWN_DATA.key || dataset === OWN_IMAGES.key;
    compare.setMain(settings, {
      dataset,
      files: dataset === OWN_DATA.key ? files.ownFilesTaken() : null,
      images: dataset === OWN_IMAGES.key ? images.taken() : null,
    });
    ownImages.setInUse(dataset === OWN_IMAGES.key);
    // A link cannot carry the student's files; it opens on MNIST. A new main kind may have
    // given the comparison another partner.
    state.set({ dataset: own ? null : dataset, compare: compare.active ? compare.kind : state.url.compare });
    // A link with ?compare=vae opens comparing, once the main model knows its data.
    if (!compare.active && state.url.compare) setComparing(true, state.url.compare);
  }
  showMapCaption();
}

/** What the main map shows, and while comparing, which model it is. */
function showMapCaption() {
  if (!state.settings) return;
  const { model } = state.settings;
  const dim = model.kind === 'vqvae' ? model.codeDim * model.codesPerImage : model.latentDim;
  const code = { ae: 'code z', vae: 'mean μ', vqvae: 'encoder output z_e' }[model.kind];
  const caption =
    dim === 2
      ? `Latent space: the ${code} of each test image, coloured by class`
      : `PCA of the ${dim}-D latent space: the ${code} of each test image on its first two principal components`;
  $('scatter-caption').textContent = compare.active ? `${optionLabel(schema, 'kind', model.kind)} (main model) · ${caption}` : caption;
}

function onStatus(phase, message) {
  state.phase = phase;
  progress.showStatus(message);
  if (phase !== Phase.LOADING) progress.hideDownload();
  if (phase === Phase.READY) {
    // Once the first dataset is in, so that precaching does not compete with its download.
    registerOffline();
    startHistory();
    checkpoints.untrained();
  }
  // The step panel's arrows describe the last single step only.
  if (phase === Phase.READY || phase === Phase.TRAINING) stepView.clear();
  compare.followPhase(phase);
  controls.update();
}

/** A new, untrained model: the numbers and curve of the previous one no longer apply. */
function startHistory() {
  Object.assign(state, { step: 0, epoch: 0, lastReport: null, lastEval: null, loaded: null });
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

/** A checkpoint replaced the model: its curve starts afresh, at the step it was saved at. */
function onLoaded(name, step) {
  startHistory();
  state.step = step;
  state.loaded = { name, step };
  progress.showLoaded(step);
  checkpoints.loaded(name);
  lectures.loaded(name);
}


/** A new untrained model with `settings` on the data already loaded. */
function newModel(settings) {
  send(cmd.init(settings, state.workers));
}

/** Turns the side-by-side comparison on (with `kind`, or the usual partner) or off. */
function setComparing(on, kind = null) {
  controls.compare.checked = on;
  if (on) {
    compare.start(kind);
    // Gaps against filled space is what the comparison is for: both maps show the manifold.
    if (controls.showManifold.checked) compare.setManifold(true);
    else setManifold(true);
    compare.followPhase(state.phase);
  } else {
    compare.stop();
  }
  state.set({ compare: on ? compare.kind : null });
  showMapCaption();
}

/** A manifold from the training worker, or the replica's part of one. */
function onManifold(m) {
  if (controls.showManifold.checked) manifold.receive(m, judge.judged());
}

/** Shows or hides the decoded manifold on the map (and the comparison's). */
function setManifold(on) {
  controls.showManifold.checked = on;
  state.set({ manifold: on });
  if (on) requestManifold();
  else {
    send(cmd.manifold(null, 0));
    manifold.clear();
  }
  compare.setManifold(on);
}
const requestManifold = pacedManifoldRequests(manifold, scatter, () => controls.showManifold.checked, send, () => judge.judged());
scatter.onTarget = requestManifold;

controls.showManifold.addEventListener('change', () => setManifold(controls.showManifold.checked));
controls.compare.addEventListener('change', () => setComparing(controls.compare.checked));
$('compare').querySelector('[data-role="partner"]').addEventListener('change', () => state.set({ compare: compare.kind }));
addPngExport($('map-tools'), 'map', 'the latent map', () => scatter.exportCanvas());
// The replica draws the traversal's canvas, which this thread cannot read; the view paints its last image afresh.
addPngExport(buttonRow($('traversal')), 'traversal', 'the decoded traversal code', () => traversal.exportCanvas());
addPanelPngExports({
  metrics: 'the loss curve',
  codebook: 'the codebook usage and decoded codes',
  reparam: 'the picked digit and its samples',
  generation: 'the samples from the prior',
  'step-mode': 'the batch of the last step',
  'learned-prior': 'the learned prior and its samples',
  'shallow-vq': 'the shallow VQ, its centroids and samples',
});

// The worker fills in every setting not given here from the model's defaults and answers
// with the settings in use, which fill the form. Settings in the URL win; the model checks
// their ranges and falls back to its defaults, with a message, on a bad one.
controls.quick.checked = state.url.quick;
controls.showManifold.checked = state.url.manifold;
// A link with ?judge=1 loads the judge once the data is in (the worker runs commands in order).
if (state.url.judge) judge.colourMap(true);
send(
  cmd.init({
    model: { ...SETTINGS.model, ...state.requested.model },
    train: { ...SETTINGS.train, ...state.requested.train, trainSubset: state.url.quick ? QUICK_SUBSET : 0 },
  }, state.workers),
);
send(cmd.loadData(initialDataset));
// The worker keeps the seed and draws the samples as soon as the data (and so a model) is in.
generation.resample();
// A link names a lecture (and which of its models), or just a pretrained model; either loads
// once the data is in, because the worker runs commands in order.
if (state.url.lecture) lecture.open(state.url.lecture, state.url.checkpoint);
else if (state.url.checkpoint) checkpoints.load(state.url.checkpoint).catch((err) => showError(err.message));
