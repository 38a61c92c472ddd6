// The training controls above the map: dataset, learning rate, Quick, Workers, Train/Pause, Step,
// Reset, Compare, Save and Load model, and the map's Reset view and Export codes. Each sends
// its command; `update()` enables what the current phase allows.

import { Phase, cmd } from './protocol.js';
import { MAX_WORKERS, OWN_DATA, QUICK_SUBSET } from './config.js';

const $ = (id) => document.getElementById(id);

export class TrainingControls {
  /**
   * @param {object} page `{send, state, compare, scatter, form, clearError, showError, newModel,
   *   hasModel, datasetChoices}`: the training worker's command, the PageState, the comparison,
   *   the map, the settings form, the error area, a new model on the loaded data, whether a
   *   model exists, and what the dataset list's other entries do (key → action: a picker opens)
   */
  constructor(page) {
    this.page = page;
    Object.assign(this, {
      dataset: $('dataset'),
      learningRate: $('learning-rate'),
      quick: $('quick'),
      workers: $('workers'),
      train: $('train'),
      step: $('step'),
      reset: $('reset'),
      showManifold: $('show-manifold'),
      compare: $('compare-toggle'),
      idxFiles: $('idx-files'),
      saveModel: $('save-model'),
      loadModel: $('load-model'),
      resetView: $('reset-view'),
      exportCodes: $('export-codes'),
    });
    const { send, state, compare, clearError, showError } = page;
    const on = (element, type, action) =>
      element.addEventListener(type, () => {
        clearError();
        action();
      });
    on(this.train, 'click', () => send(state.phase === Phase.TRAINING ? cmd.pause() : cmd.train()));
    on(this.step, 'click', () => {
      send(cmd.step());
      compare.step();
    });
    on(this.reset, 'click', () => {
      send(cmd.reset());
      compare.restart();
    });
    on(this.dataset, 'change', () => {
      const value = this.dataset.value;
      const choose = value === OWN_DATA.key ? () => this.idxFiles.click() : page.datasetChoices[value];
      if (!choose) {
        send(cmd.loadData(value));
        return;
      }
      // The list shows the data in use until the worker took the files.
      this.dataset.value = state.dataset ?? '';
      choose();
    });
    // The subset is part of the training settings, so it takes a new model on the same data.
    on(this.quick, 'change', () =>
      page.newModel({ model: state.settings.model, train: { ...state.settings.train, trainSubset: this.quick.checked ? QUICK_SUBSET : 0 } }),
    );
    this.learningRate.addEventListener('change', () => {
      const lr = Number(this.learningRate.value);
      if (this.learningRate.value.trim() === '' || !Number.isFinite(lr)) {
        showError('The learning rate must be a number, for example 0.001.');
        return;
      }
      clearError();
      send(cmd.setLearningRate(lr));
    });
    this.workers.value = state.workers;
    this.workers.addEventListener('change', () => {
      const count = Number(this.workers.value);
      if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) {
        showError(`Workers must be a whole number from 1 to ${MAX_WORKERS}.`);
        this.workers.value = state.workers;
        return;
      }
      clearError();
      state.set({ workers: count });
      send(cmd.setWorkers(count));
    });
    on(this.saveModel, 'click', () => send(cmd.saveModel()));
    this.loadModel.addEventListener('click', () => $('model-file').click());
    this.resetView.addEventListener('click', () => page.scatter.resetView());
    on(this.exportCodes, 'click', () => {
      state.exportingCodes = true;
      this.update();
      send(cmd.exportCodes());
    });
    // Enter in the number field would otherwise submit the form and reload the page.
    document.querySelector('.controls').addEventListener('submit', (event) => event.preventDefault());
  }

  /** Enables what the current phase allows. */
  update() {
    const { state, form } = this.page;
    const ready = this.page.hasModel();
    const training = state.phase === Phase.TRAINING;
    const starting = state.phase === Phase.STARTING || state.phase === Phase.LOADING;
    form.setEnabled(ready);
    for (const control of [this.compare, this.reset, this.resetView, this.saveModel, this.loadModel, this.train]) control.disabled = !ready;
    this.dataset.disabled = starting;
    this.quick.disabled = starting;
    this.learningRate.disabled = state.phase === Phase.STARTING;
    this.train.textContent = training ? 'Pause' : 'Train';
    this.step.disabled = !ready || training;
    this.exportCodes.disabled = !ready || state.exportingCodes;
  }
}
