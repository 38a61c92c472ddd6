// Live numbers of the objective, in nats per image, for the last training chunk and for
// held-out test images, and one small chart per term of the loss over training steps. The
// terms follow the model: the negative ELBO, the reconstruction and β·KL for a VAE; the
// reconstruction, codebook and commitment losses (and, on test images, codes used and
// perplexity) for a VQ-VAE; the reconstruction alone for an autoencoder.

import uPlot from '../vendor/uplot/uPlot.esm.js';
import { CURVE, LOSS_CHARTS } from '../app/config.js';
import { throttled } from './throttle.js';

const METRICS = ['loss', 'recon', 'kl', 'codebookLoss', 'commitmentLoss', 'codesUsed', 'perplexity'];
const LOSS_NAMES = { ae: 'reconstruction', vae: 'loss (−ELBO)', vqvae: 'loss' };
const NATS = 'nats / image';
const SQUARED = '‖z_e − e‖² / image';

/**
 * The charted terms of each model kind. `train` and `test` read a term from a StepReport or an
 * EvalReport (absent: the term has no curve of that source); `zero` starts the y axis at 0;
 * `spoken` names the chart for screen readers where `name` is written in symbols.
 */
const TERMS = {
  ae: [{ key: 'recon', name: () => 'reconstruction', unit: NATS, train: (r) => r.recon, test: (e) => e.recon }],
  vae: [
    {
      key: 'negElbo',
      name: () => '−ELBO = reconstruction + KL',
      spoken: 'negative ELBO',
      unit: NATS,
      train: (r) => r.recon + r.kl,
      test: (e) => e.negElbo,
    },
    { key: 'recon', name: () => 'reconstruction', unit: NATS, train: (r) => r.recon, test: (e) => e.recon },
    {
      key: 'betaKl',
      name: (m) => `β·KL (β = ${m.beta})`,
      spoken: 'weighted KL term',
      unit: NATS,
      train: (r, m) => m.beta * r.kl,
      test: (e, m) => m.beta * e.kl,
    },
  ],
  vqvae: [
    { key: 'recon', name: () => 'reconstruction', unit: NATS, train: (r) => r.recon, test: (e) => e.recon },
    // Squared distances ‖z_e − e‖² (equal in value; they differ in what the gradient moves).
    { key: 'codebookLoss', name: () => 'codebook loss', unit: SQUARED, train: (r) => r.codebookLoss, test: (e) => e.codebookLoss },
    { key: 'commitmentLoss', name: () => 'commitment loss', unit: SQUARED, train: (r) => r.commitmentLoss, test: (e) => e.commitmentLoss },
    { key: 'codesUsed', name: () => 'codes used (test)', unit: 'codes', test: (e) => e.codesUsed, zero: true },
    { key: 'perplexity', name: () => 'perplexity (test)', unit: 'codes', test: (e) => e.perplexity, zero: true },
  ],
};

export class MetricsView {
  /**
   * @param {HTMLElement} table holds cells with data-metric (one of METRICS) and
   *   data-source="train|test", in rows marked with the model kinds they apply to (data-kinds,
   *   which also marks notes that apply to some kinds only)
   * @param {HTMLElement} chartsHost the charts go here, one figure per term
   */
  constructor(table, chartsHost) {
    this.rows = [...table.querySelectorAll('[data-kinds]')];
    this.names = [...table.querySelectorAll('[data-role="loss-name"]')];
    this.cells = new Map(
      [...table.querySelectorAll('[data-metric]')].map((cell) => [`${cell.dataset.source}.${cell.dataset.metric}`, cell]),
    );
    this.chartsHost = chartsHost;
    this.model = null;
    /** `{term, plot, value}` per chart of the current model kind. */
    this.charts = [];
    /** Redraws at most every LOSS_CHARTS.redrawMs, however often reports arrive. */
    this.requestDraw = throttled(() => this.draw(), LOSS_CHARTS.redrawMs);
    new ResizeObserver(() => this.resize()).observe(chartsHost);
    this.clear();
  }

  /** Shows the rows and charts that apply to `model` ({kind, beta, …}). */
  setModel(model) {
    const same = this.model && this.model.kind === model.kind && this.model.beta === model.beta;
    this.model = model;
    for (const row of this.rows) row.hidden = !row.dataset.kinds.split(' ').includes(model.kind);
    for (const name of this.names) name.textContent = LOSS_NAMES[model.kind];
    if (!same) this.buildCharts();
  }

  /** Forgets the history, for a new model. */
  clear() {
    this.steps = [];
    /** `source.term` → values aligned with `steps`, null where that source has no number. */
    this.series = new Map();
    for (const cell of this.cells.values()) cell.textContent = '–';
    this.requestDraw();
  }

  /**
   * @param {object|null} report StepReport of the last chunk
   * @param {object|null} evaluation EvalReport on test images
   * @param {number} step the model's step count the numbers belong to
   */
  show(report, evaluation, step) {
    if (report) this.set('train', report);
    if (evaluation) {
      // For a VAE the loss is the negative ELBO; negElbo is absent only for other model kinds.
      this.set('test', { ...evaluation, loss: evaluation.negElbo ?? evaluation.loss });
    }
    if (this.model) {
      for (const term of TERMS[this.model.kind]) {
        if (report && term.train) this.record(step, `train.${term.key}`, term.train(report, this.model));
        if (evaluation && term.test) this.record(step, `test.${term.key}`, term.test(evaluation, this.model));
      }
    }
    this.requestDraw();
  }

  /** Fills the `source` column from a report; a field the report lacks shows as –. */
  set(source, values) {
    for (const metric of METRICS) {
      const v = values[metric];
      this.cells.get(`${source}.${metric}`).textContent = v == null ? '–' : format(metric, v);
    }
  }

  /** Puts `value` in the row of `step` (a new last row unless it is the last row's step). */
  record(step, key, value) {
    if (value == null || !Number.isFinite(value)) return;
    const last = this.steps.length - 1;
    if (last < 0 || this.steps[last] !== step) {
      this.steps.push(step);
      for (const values of this.series.values()) values.push(null);
    }
    if (!this.series.has(key)) this.series.set(key, new Array(this.steps.length).fill(null));
    this.series.get(key)[this.steps.length - 1] = value;
    if (this.steps.length > LOSS_CHARTS.maxRows) this.thin();
  }

  /**
   * Halves the train-only rows, keeping every held-out evaluation (there are few) and the
   * newest row; if evaluations alone fill the budget, halves all rows.
   */
  thin() {
    const tests = [...this.series].filter(([key]) => key.startsWith('test.')).map(([, v]) => v);
    const last = this.steps.length - 1;
    let keep = this.steps.map((_, i) => i % 2 === 0 || i === last || tests.some((v) => v[i] !== null));
    if (keep.filter(Boolean).length > LOSS_CHARTS.maxRows * 0.9) keep = this.steps.map((_, i) => i % 2 === 0 || i === last);
    this.steps = this.steps.filter((_, i) => keep[i]);
    for (const [key, values] of this.series) this.series.set(key, values.filter((_, i) => keep[i]));
  }

  buildCharts() {
    for (const { plot } of this.charts) plot.destroy();
    const figures = [];
    this.charts = TERMS[this.model.kind].map((term) => {
      const figure = document.createElement('figure');
      figure.className = 'loss-chart';
      const caption = document.createElement('figcaption');
      const name = document.createElement('span');
      name.className = 'loss-chart-name';
      name.textContent = term.name(this.model);
      const value = document.createElement('span');
      value.className = 'loss-chart-value';
      caption.append(name, ' ', value);
      const host = document.createElement('div');
      host.setAttribute('role', 'img');
      // Named in words: the caption's symbols (β) would clash with the form's labels.
      host.setAttribute('aria-label', `Chart of the ${term.spoken ?? name.textContent} by training step${term.train ? ': train and test' : ''}`);
      figure.append(caption, host);
      figures.push(figure);
      const chart = { term, host, value, plot: null };
      chart.plot = new uPlot(this.plotOptions(chart), this.dataOf(term), host);
      return chart;
    });
    this.chartsHost.replaceChildren(...figures);
    this.resize();
    this.requestDraw();
  }

  plotOptions(chart) {
    const { term } = chart;
    const axis = (label) => ({
      label,
      stroke: CURVE.axisColor,
      font: CURVE.font,
      labelFont: CURVE.font,
      labelSize: 14,
      grid: { stroke: CURVE.gridColor, width: 1 },
      ticks: { stroke: CURVE.gridColor, width: 1, size: 3 },
    });
    const line = (label, color, points) => ({
      label,
      stroke: color,
      width: 1.5,
      // Evaluations are sparse rows among the training ones: join them across the gaps.
      spanGaps: true,
      points: points ? { show: true, size: 4, fill: color, stroke: color } : { show: false },
    });
    const series = [{ label: 'step' }];
    if (term.train) series.push(line('train', CURVE.trainColor, false));
    series.push(line('test', CURVE.testColor, true));
    return {
      width: Math.max(120, chart.host.clientWidth),
      height: LOSS_CHARTS.height,
      legend: { show: false },
      // Hovering reads values off the curve; no drag-zoom, since the next update would undo it.
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        // Steps are whole numbers: an x range of at least 10 keeps the ticks on integers.
        x: { time: false, range: (u, lo, hi) => [0, Math.max(10, hi ?? 0)] },
        y: { range: (u) => fitRange(u.data, term.zero) },
      },
      // Ticks closer than uPlot's default spacing: these charts are small.
      axes: [{ ...axis('step'), size: 28 }, { ...axis(term.unit), size: 46, space: 22 }],
      series,
      hooks: { setCursor: [(u) => this.showValue(chart, u.cursor.idx)] },
    };
  }

  /** uPlot's columns for `term`: steps, then train (if charted) and test values. */
  dataOf(term) {
    const column = (key) => this.series.get(key) ?? new Array(this.steps.length).fill(null);
    const data = [this.steps];
    if (term.train) data.push(column(`train.${term.key}`));
    data.push(column(`test.${term.key}`));
    return data;
  }

  /** The caption's numbers: at the hovered step, else the newest of each source. */
  showValue(chart, idx) {
    const parts = [];
    const sources = chart.term.train ? ['train', 'test'] : ['test'];
    const data = chart.plot?.data ?? this.dataOf(chart.term);
    let step = null;
    sources.forEach((source, s) => {
      const values = data[s + 1];
      let i = idx ?? values.length - 1;
      if (idx == null) while (i >= 0 && values[i] === null) i--;
      if (i < 0 || values[i] == null) return;
      parts.push(`${source} ${formatTerm(chart.term, values[i])}`);
      if (idx != null) step = data[0][i];
    });
    chart.value.textContent = parts.length ? `${parts.join(' · ')}${step === null ? '' : ` at step ${step}`}` : '';
  }

  resize() {
    for (const chart of this.charts) {
      const width = chart.host.clientWidth;
      if (width > 0 && width !== chart.plot.width) chart.plot.setSize({ width, height: LOSS_CHARTS.height });
    }
  }

  draw() {
    for (const chart of this.charts) {
      chart.plot.setData(this.dataOf(chart.term));
      this.showValue(chart, chart.plot.cursor.idx ?? null);
    }
  }

  /** What the charts hold, for tests. */
  snapshot() {
    return {
      kind: this.model?.kind ?? null,
      steps: this.steps.length,
      charts: this.charts.map(({ term }) => {
        const points = (source) => (this.series.get(`${source}.${term.key}`) ?? []).filter((v) => v !== null);
        const [train, test] = [points('train'), points('test')];
        return { key: term.key, name: term.name(this.model), unit: term.unit, train, test };
      }),
    };
  }
}

/**
 * y bounds fitted to the last 90 % of steps: the untrained loss is several times the trained
 * one, and fitting it would flatten everything after, so the early spike leaves the top.
 */
function fitRange(data, zero) {
  const xs = data[0];
  const xMax = xs.length ? xs[xs.length - 1] : 0;
  const all = [];
  const late = [];
  for (let s = 1; s < data.length; s++) {
    data[s].forEach((y, i) => {
      if (y === null) return;
      all.push(y);
      if (xs[i] >= xMax * 0.1) late.push(y);
    });
  }
  const ys = late.length > 1 ? late : all;
  if (ys.length === 0) return [0, 1];
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  if (zero) return [0, Math.max(1, hi * 1.08)];
  // A single value still gets a readable range around it.
  const span = Math.max(hi - lo, Math.abs(hi) * 0.1, 1e-6);
  return [lo - span * 0.05, hi + span * 0.05];
}

function format(metric, v) {
  if (metric === 'codesUsed') return String(v);
  // The VQ terms sit on a smaller scale than the reconstruction; keep three digits of them.
  if (metric === 'codebookLoss' || metric === 'commitmentLoss') return v.toPrecision(3);
  return v.toFixed(1);
}

function formatTerm(term, v) {
  if (term.key === 'codesUsed') return String(v);
  return Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(3);
}
