// Live numbers of the objective, in nats per image, for the last training chunk and for
// held-out test images, plus a loss curve over steps. The rows follow the model: the negative
// ELBO and its two terms for a VAE; reconstruction, codebook and commitment losses, codes
// used and perplexity for a VQ-VAE; reconstruction alone for an autoencoder.

import { CURVE } from '../config.js';
import { fitCanvas, formatTick, niceTicks } from './axes.js';

const PAD = { left: 40, right: 8, top: 8, bottom: 20 };
const METRICS = ['loss', 'recon', 'kl', 'codebookLoss', 'commitmentLoss', 'codesUsed', 'perplexity'];
const LOSS_NAMES = { ae: 'reconstruction', vae: 'loss (−ELBO)', vqvae: 'loss' };

export class MetricsView {
  /**
   * @param {HTMLElement} table holds cells with data-metric (one of METRICS) and
   *   data-source="train|test", in rows marked with the model kinds they apply to (data-kinds)
   * @param {HTMLCanvasElement} canvas for the loss curve
   */
  constructor(table, canvas) {
    this.rows = [...table.querySelectorAll('tr[data-kinds]')];
    this.names = [...table.querySelectorAll('[data-role="loss-name"], [data-role="curve-name"]')];
    this.cells = new Map(
      [...table.querySelectorAll('[data-metric]')].map((cell) => [`${cell.dataset.source}.${cell.dataset.metric}`, cell]),
    );
    this.canvas = canvas;
    this.frame = 0;
    this.clear();
    this.ctx = fitCanvas(canvas, () => this.requestDraw());
  }

  /** Shows the rows that apply to `kind` (ae, vae or vqvae). */
  setKind(kind) {
    for (const row of this.rows) row.hidden = !row.dataset.kinds.split(' ').includes(kind);
    for (const name of this.names) name.textContent = LOSS_NAMES[kind];
  }

  /** Forgets the history, for a new model. */
  clear() {
    this.train = []; // [step, loss] per report
    this.test = []; // [step, −ELBO] per evaluation
    for (const cell of this.cells.values()) cell.textContent = '–';
    this.requestDraw();
  }

  /**
   * @param {object|null} report StepReport of the last chunk
   * @param {object|null} evaluation EvalReport on test images
   * @param {number} step the model's step count the numbers belong to
   */
  show(report, evaluation, step) {
    if (report) {
      this.set('train', report);
      push(this.train, [step, report.loss]);
    }
    if (evaluation) {
      // For a VAE the loss is the negative ELBO; negElbo is absent only for other model kinds.
      const loss = evaluation.negElbo ?? evaluation.loss;
      this.set('test', { ...evaluation, loss });
      push(this.test, [step, loss]);
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

  requestDraw() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = 0;
    const { ctx, canvas } = this;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    ctx.clearRect(0, 0, width, height);
    const all = [...this.train, ...this.test];
    if (all.length === 0) return;

    // Steps are whole numbers: an x range of at least 10 keeps the ticks on integers.
    const xMax = Math.max(10, ...all.map(([x]) => x));
    // The untrained loss is several times the trained one; fitting the y axis to it would
    // flatten everything after. Fit to the last 90 % of steps and let the early spike leave
    // the top.
    const late = all.filter(([x]) => x >= xMax * 0.1);
    const ys = (late.length > 1 ? late : all).map(([, y]) => y);
    const [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
    // A single value still gets a readable range around it.
    const ySpan = Math.max(yMax - yMin, Math.abs(yMax) * 0.1, 1e-6);
    const [y0, y1] = [yMin - ySpan * 0.05, yMax + ySpan * 0.05];
    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    const px = (x) => PAD.left + (x / xMax) * plotW;
    const py = (y) => PAD.top + ((y1 - y) / (y1 - y0)) * plotH;

    ctx.font = CURVE.font;
    ctx.lineWidth = 1;
    const yTicks = niceTicks(y0, y1, 3);
    ctx.strokeStyle = CURVE.gridColor;
    ctx.beginPath();
    for (const t of yTicks) {
      ctx.moveTo(PAD.left, Math.round(py(t)) + 0.5);
      ctx.lineTo(PAD.left + plotW, Math.round(py(t)) + 0.5);
    }
    ctx.stroke();
    ctx.fillStyle = CURVE.axisColor;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of yTicks) ctx.fillText(formatTick(t, yTicks), PAD.left - 4, py(t));
    const xTicks = niceTicks(0, xMax, 4);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of xTicks) ctx.fillText(formatTick(t, xTicks), px(t), PAD.top + plotH + 4);
    ctx.strokeStyle = CURVE.axisColor;
    ctx.beginPath();
    ctx.moveTo(PAD.left + 0.5, PAD.top);
    ctx.lineTo(PAD.left + 0.5, PAD.top + plotH + 0.5);
    ctx.lineTo(PAD.left + plotW, PAD.top + plotH + 0.5);
    ctx.stroke();

    ctx.save();
    ctx.beginPath();
    ctx.rect(PAD.left, PAD.top, plotW, plotH);
    ctx.clip();
    for (const [series, color] of [[this.train, CURVE.trainColor], [this.test, CURVE.testColor]]) {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      series.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
      ctx.stroke();
    }
    ctx.restore();
    // A lone evaluation (before training) has no line; a dot, unclipped, keeps it visible.
    for (const [series, color] of [[this.train, CURVE.trainColor], [this.test, CURVE.testColor]]) {
      if (series.length !== 1) continue;
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(px(series[0][0]), py(series[0][1]), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

function format(metric, v) {
  if (metric === 'codesUsed') return String(v);
  // The VQ terms sit on a smaller scale than the reconstruction; keep three digits of them.
  if (metric === 'codebookLoss' || metric === 'commitmentLoss') return v.toPrecision(3);
  return v.toFixed(1);
}

/** Appends, halving the history (every other point) when it grows past CURVE.maxPoints. */
function push(series, point) {
  series.push(point);
  if (series.length > CURVE.maxPoints) {
    const kept = series.filter((_, i) => i % 2 === 0 || i === series.length - 1);
    series.splice(0, series.length, ...kept);
  }
}
