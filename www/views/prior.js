// The learned prior over the VQ-VAE's code grids: its test-set cost in bits per image beside the
// uniform prior's l·log₂K and the per-position unigram's, its training curve, and grids sampled
// from it next to uniform grids, decoded. All numbers arrive from Rust; this view draws them.

import { CURVE, PRIOR } from '../app/config.js';
import { fitCanvas, formatTick, niceTicks } from './axes.js';
import { showDigits } from './digits.js';

const MARGIN = { left: 44, right: 70, top: 10, bottom: 26 };
const bits = (v) => `${v.toFixed(2)} bits`;

export class PriorView {
  /**
   * @param {HTMLElement} panel holds data-role="hint", "learned", "unigram", "uniform", "progress",
   *   "chart", "train", "stop", "resample", "samples", "uniform-samples"
   * @param {{train: () => void, stop: () => void, resample: () => void}} actions
   */
  constructor(panel, actions) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.hint = find('hint');
    this.cells = { learned: find('learned'), unigram: find('unigram'), uniform: find('uniform') };
    this.progressText = find('progress');
    this.chart = find('chart');
    this.trainButton = find('train');
    this.stopButton = find('stop');
    this.resampleButton = find('resample');
    this.samples = find('samples');
    this.uniformSamples = find('uniform-samples');
    this.trainButton.addEventListener('click', actions.train);
    this.stopButton.addEventListener('click', actions.stop);
    this.resampleButton.addEventListener('click', actions.resample);
    this.ctx = fitCanvas(this.chart, () => this.draw());
    this.clear();
  }

  setModel(model) {
    this.panel.hidden = model.kind !== 'vqvae';
  }

  /** No prior (a new or further-trained VQ-VAE): nothing to show until one is trained or loaded. */
  clear() {
    this.report = null;
    this.training = false;
    this.losses = []; // [step, bits] per training chunk
    this.tests = []; // [step, bits] per epoch
    this.shown = null;
    for (const canvas of [this.samples, this.uniformSamples]) canvas.hidden = true;
    this.update();
  }

  /** @param {object} m a protocol PRIOR_REPORT message */
  setReport(m) {
    if (!m.report) {
      this.clear();
      return;
    }
    // A report at step 0 is a new prior: its curve starts afresh.
    if (m.report.step === 0) this.clear();
    this.report = m.report;
    this.training = !m.done;
    if (this.tests.at(-1)?.[0] !== m.report.step) this.tests.push([m.report.step, m.report.testNllBits]);
    this.update();
  }

  /** @param {object} m a protocol PRIOR_PROGRESS message */
  setProgress(m) {
    this.training = true;
    this.losses.push([m.step, m.lossBits]);
    this.progressText.textContent = `Training the prior: step ${m.step} of ${m.totalSteps} (epoch ${(m.epoch + m.epochProgress).toFixed(2)}), training loss ${bits(m.lossBits)} per image.`;
    this.update();
  }

  /** @param {object} m a protocol PRIOR_SAMPLES message */
  setSamples(m) {
    showDigits(this.samples, m.pixels, m.count, m.count, PRIOR.zoom);
    showDigits(this.uniformSamples, m.uniformPixels, m.count, m.count, PRIOR.zoom);
    for (const canvas of [this.samples, this.uniformSamples]) canvas.hidden = false;
    this.shown = { seed: m.seed, count: m.count, codes: [...m.codes], uniformCodes: [...m.uniformCodes] };
  }

  update() {
    const r = this.report;
    this.cells.learned.textContent = r ? bits(r.testNllBits) : '–';
    this.cells.unigram.textContent = r ? bits(r.unigramBits) : '–';
    this.cells.uniform.textContent = r ? bits(r.uniformBits) : '–';
    this.trainButton.disabled = this.training;
    this.stopButton.disabled = !this.training;
    this.resampleButton.disabled = !r || this.training;
    this.hint.textContent = r
      ? `A masked-MLP prior with ${r.parameters.toLocaleString('en-US')} parameters over l = ${r.positions} codes from K = ${r.codebookSize}, ` +
        `trained for ${r.step.toLocaleString('en-US')} steps on the codes of ${r.trainGrids.toLocaleString('en-US')} training images` +
        (r.trainSeconds > 0 ? ` (${r.trainSeconds.toFixed(1)} s of training in this page)` : ' (shipped pretrained)') +
        `; scored on ${r.testGrids.toLocaleString('en-US')} test images.`
      : `No learned prior yet: Train prior fits one to this VQ-VAE's training codes (${PRIOR.epochs} epochs), with the VQ-VAE frozen.`;
    if (!this.training && r) this.progressText.textContent = '';
    this.draw();
  }

  /** Training loss per chunk (line), test NLL per epoch (dots), the two baselines (dashed). */
  draw() {
    const { ctx, chart } = this;
    // fitCanvas draws once before it returns the context.
    if (!ctx) return;
    const { width, height } = chart.getBoundingClientRect();
    ctx.clearRect(0, 0, width, height);
    const r = this.report;
    if (!r || width === 0) return;
    const points = [...this.losses, ...this.tests];
    const xMax = Math.max(1, ...points.map((p) => p[0]));
    const ys = [...points.map((p) => p[1]), r.unigramBits, r.uniformBits];
    const [yLo, yHi] = [Math.min(...ys) - 1, Math.max(...ys) + 1];
    const x = (v) => MARGIN.left + (v / xMax) * (width - MARGIN.left - MARGIN.right);
    const y = (v) => MARGIN.top + (1 - (v - yLo) / (yHi - yLo)) * (height - MARGIN.top - MARGIN.bottom);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = ctx.strokeStyle = '#666';
    const yTicks = niceTicks(yLo, yHi, 4);
    ctx.textAlign = 'right';
    for (const t of yTicks) ctx.fillText(formatTick(t, yTicks), MARGIN.left - 4, y(t) + 4);
    const xTicks = niceTicks(0, xMax, 4);
    ctx.textAlign = 'center';
    for (const t of xTicks) ctx.fillText(formatTick(t, xTicks), x(t), height - 12);
    ctx.fillText('step', (MARGIN.left + width - MARGIN.right) / 2, height - 1);
    ctx.textAlign = 'left';
    ctx.setLineDash([4, 3]);
    for (const [value, name] of [[r.uniformBits, 'uniform'], [r.unigramBits, 'unigram']]) {
      ctx.beginPath();
      ctx.moveTo(x(0), y(value));
      ctx.lineTo(x(xMax), y(value));
      ctx.stroke();
      ctx.fillText(name, x(xMax) + 4, y(value) + 4);
    }
    ctx.setLineDash([]);
    ctx.strokeStyle = CURVE.trainColor;
    ctx.beginPath();
    this.losses.forEach(([s, b], i) => (i ? ctx.lineTo(x(s), y(b)) : ctx.moveTo(x(s), y(b))));
    ctx.stroke();
    ctx.fillStyle = CURVE.testColor;
    for (const [s, b] of this.tests) {
      ctx.beginPath();
      ctx.arc(x(s), y(b), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    const last = this.tests.at(-1);
    if (last) ctx.fillText('test', x(last[0]) + 4, y(last[1]) - 4);
  }

  /** What the view shows, for tests. */
  snapshot() {
    return {
      visible: !this.panel.hidden,
      report: this.report,
      training: this.training,
      cells: Object.fromEntries(Object.entries(this.cells).map(([k, el]) => [k, el.textContent])),
      losses: this.losses.length,
      tests: this.tests.map((t) => [...t]),
      samples: this.shown,
    };
  }
}
