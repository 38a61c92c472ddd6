// Wiring: controls → worker commands, worker messages → views. The worker owns the model;
// this thread keeps only what the views need and never computes on the model itself.

import { Msg, Phase, cmd } from './protocol.js';
import { CURVE, DATASETS, QUICK_SUBSET, SETTINGS, TRAINING } from './config.js';
import { ScatterView } from './views/scatter.js';
import { ProgressView } from './views/progress.js';
import { MetricsView } from './views/metrics.js';

const $ = (id) => document.getElementById(id);
const controls = {
  dataset: $('dataset'),
  learningRate: $('learning-rate'),
  quick: $('quick'),
  train: $('train'),
  step: $('step'),
  reset: $('reset'),
};
const errorBox = $('error');

const scatter = new ScatterView($('scatter'), $('legend'));
const progress = new ProgressView($('progress'));
const metrics = new MetricsView($('metrics'), $('loss-curve'));

const state = {
  phase: Phase.STARTING,
  step: 0,
  epoch: 0,
  lastReport: null,
  lastEval: null,
};

// Settings that a link should reproduce live in the URL: ?dataset=fashion&lr=0.002
const params = new URLSearchParams(location.search);
const initialDataset = Object.hasOwn(DATASETS, params.get('dataset') ?? '') ? params.get('dataset') : 'mnist';

for (const [key, { label }] of Object.entries(DATASETS)) controls.dataset.add(new Option(label, key));
controls.dataset.value = initialDataset;
scatter.setClasses(DATASETS[initialDataset].classNames);
document.documentElement.style.setProperty('--train', CURVE.trainColor);
document.documentElement.style.setProperty('--test', CURVE.testColor);
$('metrics-note').textContent =
  `train: mean over the last batches; test: ${TRAINING.evalImages.toLocaleString('en-US')} held-out images.`;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (message) => worker.postMessage(message);

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
      break;
    case Msg.ERROR:
      showError(m.message);
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
  controls.learningRate.value = settings.train.learningRate;
  setUrlParam('lr', String(settings.train.learningRate));
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
  updateControls();
}

/** A new, untrained model: the numbers and curve of the previous one no longer apply. */
function startHistory() {
  state.step = 0;
  state.epoch = 0;
  state.lastReport = null;
  state.lastEval = null;
  metrics.clear();
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
}

function updateControls() {
  const { phase } = state;
  const hasModel = phase === Phase.READY || phase === Phase.TRAINING || phase === Phase.PAUSED;
  const training = phase === Phase.TRAINING;
  controls.dataset.disabled = phase === Phase.STARTING || phase === Phase.LOADING;
  controls.quick.disabled = phase === Phase.STARTING || phase === Phase.LOADING;
  controls.learningRate.disabled = phase === Phase.STARTING;
  controls.train.disabled = !hasModel;
  controls.train.textContent = training ? 'Pause' : 'Train';
  controls.step.disabled = !hasModel || training;
  controls.reset.disabled = !hasModel;
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
  send(cmd.init(initialSettings()));
  send(cmd.reset());
});
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

// The worker fills in every setting not given here from the model's defaults and answers
// with the settings in use, which fill the learning-rate field. A rate in the URL wins.
function initialSettings() {
  const lrParam = Number(params.get('lr'));
  const learningRate = lrParam > 0 ? { learningRate: lrParam } : {};
  const trainSubset = controls.quick.checked ? QUICK_SUBSET : 0;
  return { model: SETTINGS.model, train: { ...SETTINGS.train, ...learningRate, trainSubset } };
}
controls.quick.checked = params.get('quick') === '1';
send(cmd.init(initialSettings()));
send(cmd.loadData(initialDataset));

/** Read-only handle for tests and the console. */
window.latentLab = Object.freeze({
  state: () => structuredClone(state),
  scatter: () => scatter.snapshot(),
});
