// Ancestral sampling and EM, one step at a time: the samples drawn z first, then x | z (their
// histogram, and each sample as a tick coloured by its E-step responsibilities under the
// current fit), the fitted p(x) over them, the M-step's update of π, μ and σ beside the true
// values, and the log-likelihood after every step, which EM never lowers.

import { MIXTURE } from '../app/config.js';
import { fitCanvas, formatTick, niceTicks } from './axes.js';
import { CURVE_PAD as PAD, drawAxes, mixColors as mix } from './mixture1d.js';

const CHART_PAD = { left: 64, right: 10, top: 10, bottom: 26 };
const RUG = 14;

export class EmFitView {
  /**
   * @param {HTMLElement} panel holds data-role="sample", "count", "step", "run", "restart",
   *   "samples" (canvas), "update" (table), "loglik" (canvas), "status"
   * @param {{sample: (count: number) => void, step: (steps: number) => void, restart: () => void}} on
   */
  constructor(panel, on) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.samplesCanvas = find('samples');
    this.chartCanvas = find('loglik');
    this.table = find('update');
    this.status = find('status');
    this.count = find('count');
    this.count.max = MIXTURE.maxSamples;
    this.count.value = MIXTURE.samples;
    this.stepButtons = [find('step'), find('run'), find('restart')];
    find('run').textContent = `${MIXTURE.runSteps} steps`;
    find('sample').addEventListener('click', () => on.sample(Number(this.count.value)));
    find('step').addEventListener('click', () => on.step(1));
    find('run').addEventListener('click', () => on.step(MIXTURE.runSteps));
    find('restart').addEventListener('click', () => on.restart());
    this.samples = null;
    this.em = null;
    this.truth = null;
    this.samplesCtx = fitCanvas(this.samplesCanvas, () => this.drawSamples());
    this.chartCtx = fitCanvas(this.chartCanvas, () => this.drawChart());
    this.update();
  }

  /** The mixture the samples come from (its samples and fit are gone when it changes). */
  setTruth(params) {
    this.truth = params;
    this.samples = null;
    this.em = null;
    this.update();
  }

  /** @param {object} samples Rust's `{seed, count, range, bins, zs, xs, histogram}` */
  setSamples(samples) {
    this.samples = samples;
  }

  /** @param {object} em Rust's EM state `{step, params, previous, logLikelihoods, responsibilities, fittedXs, fittedMarginal}` */
  setEm(em) {
    this.em = em;
    this.update();
  }

  update() {
    for (const b of this.stepButtons) b.disabled = !this.em;
    const em = this.em;
    this.status.textContent = em
      ? `${this.samples.count.toLocaleString('en-US')} samples (seed ${this.samples.seed}): EM step ${em.step}, ` +
        `log-likelihood Σ log p(x_n) = ${em.logLikelihoods[em.step].toFixed(2)} nats.`
      : 'Draw samples: each picks z from P(z), then x from N(μ_z, σ_z²) — ancestral sampling. EM then fits a mixture to the x alone.';
    this.showTable();
    this.drawSamples();
    this.drawChart();
  }

  showTable() {
    const em = this.em;
    const rows = [
      ['π', 'weights'],
      ['μ', 'means'],
      ['σ', 'sigmas'],
    ];
    const head = document.createElement('tr');
    head.append(...['', 'before the step', 'after (M-step)', 'true'].map((text) => Object.assign(document.createElement('th'), { textContent: text, scope: 'col' })));
    const body = [];
    if (em) {
      for (const [name, key] of rows) {
        for (let c = 0; c < em.params[key].length; c++) {
          const tr = document.createElement('tr');
          tr.className = `component-${c}`;
          const cells = [em.previous ? em.previous[key][c].toFixed(3) : '–', em.params[key][c].toFixed(3), this.truth[key][c].toFixed(3)];
          tr.append(Object.assign(document.createElement('th'), { textContent: `${name}${'₁₂₃'[c]}`, scope: 'row' }), ...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
          body.push(tr);
        }
      }
    }
    this.table.replaceChildren(head, ...body);
    this.table.hidden = !em;
  }

  transform() {
    const s = this.samples;
    if (!s) return null;
    const { width, height } = this.samplesCanvas.getBoundingClientRect();
    const [x0, x1] = s.range;
    const top = Math.max(...s.histogram, ...(this.em?.fittedMarginal ?? [])) * 1.08 || 1;
    const w = width - PAD.left - PAD.right;
    const h = height - PAD.top - PAD.bottom - RUG;
    return {
      x0, x1, top, width, height,
      px: (x) => PAD.left + ((x - x0) / (x1 - x0)) * w,
      py: (y) => PAD.top + h - (y / top) * h,
    };
  }

  drawSamples() {
    const ctx = this.samplesCtx;
    const t = this.transform();
    if (!ctx) return;
    const { width, height } = this.samplesCanvas.getBoundingClientRect();
    ctx.clearRect(0, 0, width, height);
    if (!t) return;
    const s = this.samples;
    drawAxes(ctx, t, 'x', 'density');
    const bw = (s.range[1] - s.range[0]) / s.bins;
    ctx.fillStyle = '#cccccc';
    s.histogram.forEach((v, i) => {
      const left = t.px(s.range[0] + i * bw);
      ctx.fillRect(left, t.py(v), t.px(s.range[0] + (i + 1) * bw) - left - 1, t.py(0) - t.py(v));
    });
    const em = this.em;
    if (em) {
      ctx.strokeStyle = '#000000';
      ctx.lineWidth = 2;
      ctx.beginPath();
      em.fittedXs.forEach((x, i) => ctx[i ? 'lineTo' : 'moveTo'](t.px(x), t.py(em.fittedMarginal[i])));
      ctx.stroke();
    }
    // The rug: one tick per sample (the first thousands), coloured by P(z | x) under the fit.
    const k = em ? em.responsibilities.length / s.count : 0;
    const y = t.py(0) + 16;
    const shown = Math.min(s.count, 5000);
    ctx.lineWidth = 1;
    for (let i = 0; i < shown; i++) {
      ctx.strokeStyle = em ? mix(MIXTURE.colors, Array.from(em.responsibilities.subarray(i * k, (i + 1) * k))) : '#555555';
      ctx.beginPath();
      ctx.moveTo(t.px(s.xs[i]), y);
      ctx.lineTo(t.px(s.xs[i]), y + RUG - 2);
      ctx.stroke();
    }
  }

  drawChart() {
    const ctx = this.chartCtx;
    if (!ctx) return;
    const { width, height } = this.chartCanvas.getBoundingClientRect();
    ctx.clearRect(0, 0, width, height);
    const values = this.em?.logLikelihoods;
    if (!values) return;
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const span = hi - lo || 1;
    const steps = Math.max(values.length - 1, 1);
    const w = width - CHART_PAD.left - CHART_PAD.right;
    const h = height - CHART_PAD.top - CHART_PAD.bottom;
    const px = (i) => CHART_PAD.left + (i / steps) * w;
    const py = (v) => CHART_PAD.top + h - ((v - lo) / span) * h;
    ctx.font = MIXTURE.font;
    ctx.fillStyle = '#333333';
    const yt = niceTicks(lo, lo + span, 3);
    ctx.textAlign = 'right';
    for (const v of yt) ctx.fillText(formatTick(v, yt), CHART_PAD.left - 4, py(v) + 4);
    const xt = niceTicks(0, steps, 5).filter(Number.isInteger);
    ctx.textAlign = 'center';
    for (const v of xt) ctx.fillText(String(v), px(v), height - 12);
    ctx.fillText('EM step', CHART_PAD.left + w / 2, height - 1);
    ctx.strokeStyle = '#000000';
    ctx.lineWidth = 2;
    ctx.beginPath();
    values.forEach((v, i) => ctx[i ? 'lineTo' : 'moveTo'](px(i), py(v)));
    ctx.stroke();
    ctx.fillStyle = '#000000';
    values.forEach((v, i) => ctx.fillRect(px(i) - 2, py(v) - 2, 4, 4));
  }

  /** What the view shows, for tests. */
  snapshot() {
    const em = this.em;
    return {
      visible: !this.panel.hidden,
      samples: this.samples && { seed: this.samples.seed, count: this.samples.count, xs: Array.from(this.samples.xs.subarray(0, 20)) },
      em: em && {
        step: em.step,
        params: em.params,
        previous: em.previous,
        logLikelihoods: em.logLikelihoods,
        responsibilities: Array.from(em.responsibilities.subarray(0, 40)),
      },
      tableRows: this.table.hidden ? 0 : this.table.rows.length - 1,
    };
  }
}
