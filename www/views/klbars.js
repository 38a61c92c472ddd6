// KL(q(z|x) ‖ p(z)) per latent dimension of a VAE, train and test side by side, on a log axis
// so that a dimension whose KL falls towards zero stays visible: that is posterior collapse,
// the dimension's q equals the prior and the decoder ignores it.

import { CURVE, KL_BARS } from '../app/config.js';
import { fitCanvas } from './axes.js';
import { throttled } from './throttle.js';

const PAD = { left: 46, right: 8, top: 10, bottom: 32 };

export class KlBarsView {
  /** @param {HTMLElement} panel holds data-role="bars" (canvas) and "summary" */
  constructor(panel) {
    this.panel = panel;
    this.canvas = panel.querySelector('[data-role="bars"]');
    this.summary = panel.querySelector('[data-role="summary"]');
    /** Redraws at most every KL_BARS.redrawMs, however often reports arrive. */
    this.requestDraw = throttled(() => this.draw(), KL_BARS.redrawMs);
    this.bars = 0; // bars drawn on the last draw
    this.clear();
    this.ctx = fitCanvas(this.canvas, () => this.draw());
  }

  /** Shown only for a VAE: the other models have no KL term. */
  setModel({ kind, latentDim }) {
    this.panel.hidden = kind !== 'vae';
    if (latentDim !== this.dim) this.clear();
    this.dim = latentDim;
  }

  clear() {
    this.train = null;
    this.test = null;
    this.activeUnits = null;
    this.requestDraw();
  }

  /** @param {object|null} report StepReport  @param {object|null} evaluation EvalReport */
  show(report, evaluation) {
    if (report?.klPerDim) this.train = report.klPerDim;
    if (evaluation?.klPerDim) {
      this.test = evaluation.klPerDim;
      this.activeUnits = evaluation.activeUnits ?? null;
    }
    this.requestDraw();
  }

  /** Dimensions whose held-out KL is below KL_BARS.collapsed (the newest numbers of either source before any evaluation). */
  collapsed() {
    const kl = this.test ?? this.train;
    return kl ? kl.flatMap((v, j) => (v < KL_BARS.collapsed ? [j] : [])) : [];
  }

  draw() {
    this.showSummary();
    const { ctx, canvas } = this;
    if (!ctx) return;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    ctx.clearRect(0, 0, width, height);
    this.bars = 0;
    const series = [
      [this.train, CURVE.trainColor],
      [this.test, CURVE.testColor],
    ].filter(([values]) => values);
    if (series.length === 0 || width === 0) return;
    const dims = series[0][0].length;
    const collapsed = new Set(this.collapsed());

    // Decades from the floor up to the largest value, at least up to 1 nat.
    const top = Math.max(1, ...series.flatMap(([values]) => values));
    const lo = Math.log10(KL_BARS.floor);
    const hi = Math.max(0, Math.ceil(Math.log10(top)));
    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    const py = (v) => PAD.top + plotH * (1 - (Math.log10(Math.max(v, KL_BARS.floor)) - lo) / (hi - lo));

    ctx.font = KL_BARS.font;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let e = lo; e <= hi; e++) {
      const y = Math.round(py(10 ** e)) + 0.5;
      ctx.strokeStyle = CURVE.gridColor;
      ctx.beginPath();
      ctx.moveTo(PAD.left, y);
      ctx.lineTo(PAD.left + plotW, y);
      ctx.stroke();
      ctx.fillStyle = CURVE.axisColor;
      ctx.fillText(decade(e), PAD.left - 4, y);
    }
    ctx.save();
    ctx.translate(10, PAD.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText('KL, nats / image', 0, 0);
    ctx.restore();

    const slot = plotW / dims;
    const barW = Math.max(1, (slot - 2) / series.length);
    for (let j = 0; j < dims; j++) {
      series.forEach(([values, color], s) => {
        const y = py(values[j]);
        ctx.fillStyle = collapsed.has(j) ? KL_BARS.collapsedColor : color;
        ctx.fillRect(PAD.left + j * slot + 1 + s * barW, y, barW, PAD.top + plotH - y);
        this.bars++;
      });
    }

    // The collapse threshold, dashed, across the plot.
    const yc = Math.round(py(KL_BARS.collapsed)) + 0.5;
    ctx.strokeStyle = CURVE.axisColor;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(PAD.left, yc);
    ctx.lineTo(PAD.left + plotW, yc);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.moveTo(PAD.left + 0.5, PAD.top);
    ctx.lineTo(PAD.left + 0.5, PAD.top + plotH + 0.5);
    ctx.lineTo(PAD.left + plotW, PAD.top + plotH + 0.5);
    ctx.stroke();

    // Dimension names under the bars, as many as fit; collapsed ones in grey.
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const every = Math.ceil(26 / slot);
    for (let j = 0; j < dims; j++) {
      if (j % every !== 0 && !collapsed.has(j)) continue;
      ctx.fillStyle = collapsed.has(j) ? KL_BARS.collapsedColor : CURVE.axisColor;
      ctx.fillText(slot >= 22 ? `z${j + 1}` : String(j + 1), PAD.left + (j + 0.5) * slot, PAD.top + plotH + 4);
    }
    ctx.fillStyle = CURVE.axisColor;
    ctx.fillText('latent dimension', PAD.left + plotW / 2, PAD.top + plotH + 18);
  }

  showSummary() {
    const kl = this.test ?? this.train;
    if (!kl) {
      this.summary.textContent = 'Train to see how much each dimension of z carries.';
      return;
    }
    const collapsed = this.collapsed();
    const names = collapsed.map((j) => `z${j + 1}`).join(', ');
    const total = kl.reduce((a, b) => a + b, 0);
    this.summary.textContent =
      `${kl.length - collapsed.length} of ${kl.length} dimensions carry information (KL ≥ ${KL_BARS.collapsed} nats)` +
      (collapsed.length ? `; collapsed to the prior: ${names}` : '') +
      `. Total ${total.toFixed(2)} nats${this.test ? ' on test images' : ''}` +
      (this.activeUnits === null ? '.' : `; active units (variance of μ over the test images above 0.01): ${this.activeUnits}.`);
  }

  /** What the view shows, for tests. */
  snapshot() {
    return {
      visible: !this.panel.hidden,
      train: this.train && [...this.train],
      test: this.test && [...this.test],
      collapsed: this.collapsed(),
      activeUnits: this.activeUnits,
      bars: this.bars,
    };
  }
}

/** 10^e as a short tick label: 0.001, 0.01, 0.1, 1, 10, 100. */
function decade(e) {
  return e < 0 ? (10 ** e).toFixed(-e) : String(10 ** e);
}
