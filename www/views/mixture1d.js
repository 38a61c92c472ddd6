// A mixture of two Gaussians in 1-D, the lecture's latent-variable model: sliders for π, μ_c
// and σ_c (and the lecture's two settings as presets), the curves P(x|z=c)P(z=c) and their sum
// p(x), and at the x the student clicks or drags to, the posterior P(z|x) as bars with Bayes'
// rule written out in the numbers Rust computed.

import { MIXTURE, hexRgb } from '../app/config.js';
import { fitCanvas, formatTick, niceTicks } from './axes.js';

const PAD = { left: 44, right: 10, top: 10, bottom: 26 };
const BAR_PAD = { left: 34, right: 8, top: 10, bottom: 22 };

/** A number as the formula shows it: 3 significant digits, exponent form when tiny. */
export const formatNumber = (v) => (v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3)).toString());

export class MixtureView {
  /**
   * @param {HTMLElement} panel holds data-role="presets", "sliders", "curves", "posterior", "formula"
   * @param {{params: (p: object) => void, pickX: (x: number) => void}} on the student changed
   *   the mixture's parameters, or picked an x
   */
  constructor(panel, on) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.on = on;
    this.curvesCanvas = find('curves');
    this.barsCanvas = find('posterior');
    this.formula = find('formula');
    this.params = null;
    this.curves = null;
    this.bayes = null;
    this.inputs = {};
    this.buildPresets(find('presets'));
    this.buildSliders(find('sliders'));
    this.curvesCtx = fitCanvas(this.curvesCanvas, () => this.drawCurves());
    this.barsCtx = fitCanvas(this.barsCanvas, () => this.drawBars());
    this.listenForPicks();
  }

  buildPresets(holder) {
    holder.replaceChildren(
      ...MIXTURE.presets.map(({ label, params }) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = label;
        button.addEventListener('click', () => this.on.params(structuredClone(params)));
        return button;
      }),
    );
  }

  buildSliders(holder) {
    const slider = (key, label, range) => {
      const wrap = document.createElement('label');
      const input = Object.assign(document.createElement('input'), { type: 'range', min: range.min, max: range.max, step: range.step });
      const value = document.createElement('output');
      wrap.append(`${label} `, input, value);
      input.addEventListener('input', () => this.on.params(this.fromSliders()));
      this.inputs[key] = { input, value };
      return wrap;
    };
    holder.replaceChildren(
      slider('weight', 'P(z=1) = π₁', MIXTURE.weight),
      slider('mean0', 'μ₁', MIXTURE.mean),
      slider('sigma0', 'σ₁', MIXTURE.sigma),
      slider('mean1', 'μ₂', MIXTURE.mean),
      slider('sigma1', 'σ₂', MIXTURE.sigma),
    );
  }

  /** The mixture the sliders show; π₂ is what π₁ leaves. */
  fromSliders() {
    const v = (key) => Number(this.inputs[key].input.value);
    const w = v('weight');
    return { weights: [w, Number((1 - w).toFixed(4))], means: [v('mean0'), v('mean1')], sigmas: [v('sigma0'), v('sigma1')] };
  }

  /** Click or drag on the curves picks x. */
  listenForPicks() {
    const canvas = this.curvesCanvas;
    const pick = (event) => {
      const t = this.transform();
      if (!t) return;
      const box = canvas.getBoundingClientRect();
      this.on.pickX(t.xAt(event.clientX - box.left));
    };
    canvas.addEventListener('pointerdown', (event) => {
      canvas.setPointerCapture(event.pointerId);
      pick(event);
    });
    canvas.addEventListener('pointermove', (event) => {
      if (event.buttons & 1) pick(event);
    });
    canvas.addEventListener('keydown', (event) => {
      const step = { ArrowLeft: -0.5, ArrowRight: 0.5 }[event.key];
      if (step === undefined || !this.bayes) return;
      event.preventDefault();
      this.on.pickX(this.bayes.x + step);
    });
  }

  /** @param {{weights, means, sigmas}} params  @param {object} curves Rust's `{xs, joint, marginal}` */
  setMixture(params, curves) {
    this.params = params;
    this.curves = curves;
    const set = (key, value) => {
      this.inputs[key].input.value = value;
      this.inputs[key].value.textContent = key === 'weight' ? `${value.toFixed(2)}, π₂ = ${(params.weights[1]).toFixed(2)}` : value.toFixed(1);
    };
    set('weight', params.weights[0]);
    params.means.forEach((m, c) => set(`mean${c}`, m));
    params.sigmas.forEach((s, c) => set(`sigma${c}`, s));
    this.drawCurves();
  }

  /** @param {object} bayes Rust's `{x, prior, likelihood, joint, marginal, posterior}` */
  setBayes(bayes) {
    this.bayes = bayes;
    this.drawCurves();
    this.drawBars();
    this.showFormula();
  }

  transform() {
    if (!this.curves) return null;
    const { xs, marginal, joint } = this.curves;
    const { width, height } = this.curvesCanvas.getBoundingClientRect();
    const x0 = xs[0];
    const x1 = xs[xs.length - 1];
    const top = Math.max(...marginal, ...joint) * 1.08 || 1;
    const w = width - PAD.left - PAD.right;
    const h = height - PAD.top - PAD.bottom;
    return {
      x0, x1, top, width, height,
      px: (x) => PAD.left + ((x - x0) / (x1 - x0)) * w,
      py: (y) => PAD.top + h - (y / top) * h,
      xAt: (px) => x0 + ((Math.min(Math.max(px, PAD.left), PAD.left + w) - PAD.left) / w) * (x1 - x0),
    };
  }

  drawCurves() {
    const ctx = this.curvesCtx;
    const t = this.transform();
    if (!ctx || !t) return;
    ctx.clearRect(0, 0, t.width, t.height);
    drawAxes(ctx, t, 'x', 'density');
    const { xs, joint, marginal } = this.curves;
    const n = xs.length;
    const line = (values, color, width, dash = []) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.setLineDash(dash);
      ctx.beginPath();
      for (let i = 0; i < n; i++) ctx[i ? 'lineTo' : 'moveTo'](t.px(xs[i]), t.py(values[i]));
      ctx.stroke();
    };
    // p(x) first, so the joints, which coincide with it wherever one component dominates, stay visible on top.
    line(marginal, '#000000', 4);
    for (let c = 0; c < joint.length / n; c++) line(joint.subarray(c * n, (c + 1) * n), MIXTURE.colors[c], 2, [6, 4]);
    ctx.setLineDash([]);
    const b = this.bayes;
    if (!b) return;
    ctx.strokeStyle = '#555555';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(t.px(b.x), t.py(0));
    ctx.lineTo(t.px(b.x), PAD.top);
    ctx.stroke();
    const dot = (y, color) => {
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(t.px(b.x), t.py(y), 4, 0, 2 * Math.PI);
      ctx.fill();
    };
    b.joint.forEach((y, c) => dot(y, MIXTURE.colors[c]));
    dot(b.marginal, '#000000');
  }

  drawBars() {
    const ctx = this.barsCtx;
    const b = this.bayes;
    const { width, height } = this.barsCanvas.getBoundingClientRect();
    if (!ctx) return;
    ctx.clearRect(0, 0, width, height);
    if (!b) return;
    const h = height - BAR_PAD.top - BAR_PAD.bottom;
    const slot = (width - BAR_PAD.left - BAR_PAD.right) / b.posterior.length;
    ctx.font = MIXTURE.font;
    ctx.fillStyle = '#000000';
    ctx.textAlign = 'right';
    for (const v of [0, 0.5, 1]) ctx.fillText(v.toFixed(1), BAR_PAD.left - 4, BAR_PAD.top + h - v * h + 4);
    b.posterior.forEach((p, c) => {
      const x = BAR_PAD.left + c * slot + slot * 0.2;
      // The prior as an outline behind the posterior: how much seeing x moved the belief.
      ctx.strokeStyle = MIXTURE.colors[c];
      ctx.setLineDash([3, 3]);
      ctx.strokeRect(x, BAR_PAD.top + h - b.prior[c] * h, slot * 0.6, b.prior[c] * h);
      ctx.setLineDash([]);
      ctx.fillStyle = MIXTURE.colors[c];
      ctx.fillRect(x + slot * 0.1, BAR_PAD.top + h - p * h, slot * 0.4, p * h);
      ctx.fillStyle = '#000000';
      ctx.textAlign = 'center';
      ctx.fillText(`z=${c + 1}: ${p.toFixed(3)}`, x + slot * 0.3, height - 6);
    });
  }

  showFormula() {
    const b = this.bayes;
    const f = formatNumber;
    const terms = b.likelihood.map((l, c) => `${f(l)} × ${f(b.prior[c])}`);
    const lines = [
      ['formula-main', `P(z=c | x) = P(x | z=c) P(z=c) / Σ_j P(x | z=j) P(z=j)   at x = ${b.x.toFixed(2)}`],
      ...b.posterior.map((p, c) => [`component-${c}`, `P(z=${c + 1} | x) = ${terms[c]} / (${terms.join(' + ')}) = ${f(b.joint[c])} / ${f(b.marginal)} = ${p.toFixed(4)}`]),
      ['', `p(x) = Σ_c P(x | z=c) P(z=c) = ${f(b.marginal)}   (the marginal: z summed out)`],
    ];
    this.formula.replaceChildren(
      ...lines.map(([cls, text]) => {
        const line = document.createElement('div');
        if (cls) line.className = cls;
        line.textContent = text;
        return line;
      }),
    );
  }

  /** What the view shows, for tests. */
  snapshot() {
    return {
      visible: !this.panel.hidden,
      params: this.params,
      curvePoints: this.curves?.xs.length ?? 0,
      bayes: this.bayes && structuredClone(this.bayes),
      formula: this.formula.textContent,
    };
  }
}

/** Axes with ticks for the 1-D pictures (`t` from a view's transform). */
export function drawAxes(ctx, t, xLabel, yLabel) {
  ctx.font = MIXTURE.font;
  ctx.strokeStyle = '#999999';
  ctx.fillStyle = '#333333';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(PAD.left, t.py(0));
  ctx.lineTo(t.px(t.x1), t.py(0));
  ctx.moveTo(PAD.left, t.py(0));
  ctx.lineTo(PAD.left, PAD.top);
  ctx.stroke();
  const xt = niceTicks(t.x0, t.x1, 8);
  ctx.textAlign = 'center';
  for (const v of xt) ctx.fillText(formatTick(v, xt), t.px(v), t.py(0) + 13);
  ctx.fillText(xLabel, t.px(t.x1) - 6, t.py(0) + 24);
  const yt = niceTicks(0, t.top, 3);
  ctx.textAlign = 'right';
  for (const v of yt) ctx.fillText(formatTick(v, yt), PAD.left - 4, t.py(v) + 4);
  ctx.save();
  ctx.translate(10, PAD.top + 40);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(yLabel, 0, 0);
  ctx.restore();
}

/** `#rrggbb` colours mixed in proportion to `weights` (responsibilities, summing to 1): a soft assignment's colour. */
export function mixColors(colors, weights) {
  const rgb = [0, 0, 0];
  weights.forEach((w, c) => {
    hexRgb(colors[c]).forEach((byte, i) => (rgb[i] += w * byte));
  });
  return `rgb(${rgb.map(Math.round).join(', ')})`;
}

/** The padding the 1-D pictures share, for views that draw on the same axes. */
export const CURVE_PAD = PAD;
