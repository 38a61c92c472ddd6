// The same 2-D points clustered two ways, side by side: k-means (hard: each point takes its
// nearest centroid's colour) and a Gaussian mixture fitted by EM (soft: each point's colour is
// its responsibilities' mix; the 1σ and 2σ ellipses are the components' covariances). Both start
// from the same centroids and step together.

import { MIXTURE } from '../app/config.js';
import { fitCanvas } from './axes.js';
import { mixColors as mix } from './mixture1d.js';

const MARGIN = 12;

export class ClustersView {
  /**
   * @param {HTMLElement} panel holds data-role="kmeans" and "gmm" (canvases), "step", "run",
   *   "reset", "stats"
   * @param {{step: (steps: number) => void, reset: () => void}} on
   */
  constructor(panel, on) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.kmeansCanvas = find('kmeans');
    this.gmmCanvas = find('gmm');
    this.stats = find('stats');
    find('run').textContent = `${MIXTURE.runSteps} steps`;
    find('step').addEventListener('click', () => on.step(1));
    find('run').addEventListener('click', () => on.step(MIXTURE.runSteps));
    find('reset').addEventListener('click', () => on.reset());
    this.clusters = null;
    this.kmeansCtx = fitCanvas(this.kmeansCanvas, () => this.draw());
    this.gmmCtx = fitCanvas(this.gmmCanvas, () => this.draw());
  }

  /** @param {object} clusters Rust's `{step, k, points, labels, centroids, assignments, kmeansObjectives, gmmMeans, gmmWeights, gmmEllipses, responsibilities, logLikelihoods}` */
  setClusters(clusters) {
    this.clusters = clusters;
    const c = clusters;
    this.stats.textContent =
      `Step ${c.step}: k-means J = Σ‖x − μ_z‖² = ${c.kmeansObjectives[c.step].toFixed(1)} (it never rises); ` +
      `GMM log-likelihood Σ log p(x) = ${c.logLikelihoods[c.step].toFixed(1)} nats (it never falls). ` +
      `π = (${c.gmmWeights.map((w) => w.toFixed(2)).join(', ')}).`;
    this.draw();
  }

  /** One square-cell transform for both canvases, over the points' bounding box. */
  transform(canvas) {
    const { points } = this.clusters;
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < points.length; i += 2) {
      x0 = Math.min(x0, points[i]);
      x1 = Math.max(x1, points[i]);
      y0 = Math.min(y0, points[i + 1]);
      y1 = Math.max(y1, points[i + 1]);
    }
    const { width, height } = canvas.getBoundingClientRect();
    const s = Math.min((width - 2 * MARGIN) / (x1 - x0 || 1), (height - 2 * MARGIN) / (y1 - y0 || 1));
    const ox = (width - s * (x1 - x0)) / 2;
    const oy = (height - s * (y1 - y0)) / 2;
    return { width, height, s, px: (x) => ox + (x - x0) * s, py: (y) => height - oy - (y - y0) * s };
  }

  draw() {
    if (!this.clusters || !this.kmeansCtx || !this.gmmCtx) return;
    const c = this.clusters;
    const n = c.points.length / 2;
    const paint = (ctx, canvas, colorOf, overlay) => {
      const t = this.transform(canvas);
      // A hidden panel's canvas has no size, so no scale: nothing to draw until it is shown.
      if (!(t.s > 0)) return;
      ctx.clearRect(0, 0, t.width, t.height);
      for (let i = 0; i < n; i++) {
        ctx.fillStyle = colorOf(i);
        ctx.beginPath();
        ctx.arc(t.px(c.points[2 * i]), t.py(c.points[2 * i + 1]), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
      overlay(ctx, t);
    };
    const cross = (ctx, x, y, color) => {
      for (const [w, col] of [[5, '#ffffff'], [2.5, color]]) {
        ctx.lineWidth = w;
        ctx.strokeStyle = col;
        ctx.beginPath();
        ctx.moveTo(x - 7, y - 7);
        ctx.lineTo(x + 7, y + 7);
        ctx.moveTo(x - 7, y + 7);
        ctx.lineTo(x + 7, y - 7);
        ctx.stroke();
      }
    };
    paint(this.kmeansCtx, this.kmeansCanvas, (i) => MIXTURE.colors[c.assignments[i]], (ctx, t) => {
      for (let k = 0; k < c.k; k++) cross(ctx, t.px(c.centroids[2 * k]), t.py(c.centroids[2 * k + 1]), MIXTURE.colors[k]);
    });
    paint(this.gmmCtx, this.gmmCanvas, (i) => mix(MIXTURE.colors, Array.from(c.responsibilities.subarray(i * c.k, (i + 1) * c.k))), (ctx, t) => {
      c.gmmEllipses.forEach((e, k) => {
        const [mx, my] = [t.px(c.gmmMeans[2 * k]), t.py(c.gmmMeans[2 * k + 1])];
        ctx.strokeStyle = MIXTURE.colors[k];
        for (const [scale, dash] of [[1, []], [2, [5, 4]]]) {
          ctx.setLineDash(dash);
          ctx.lineWidth = 2;
          ctx.beginPath();
          // The canvas's y axis points down, so the plane's angle turns the other way.
          ctx.ellipse(mx, my, scale * e.r1 * t.s, scale * e.r2 * t.s, -e.angle, 0, 2 * Math.PI);
          ctx.stroke();
        }
        ctx.setLineDash([]);
        cross(ctx, mx, my, MIXTURE.colors[k]);
      });
    });
  }

  /** What the view shows, for tests. */
  snapshot() {
    const c = this.clusters;
    if (!c) return { visible: !this.panel.hidden, step: null };
    return {
      visible: !this.panel.hidden,
      step: c.step,
      k: c.k,
      points: c.points.length / 2,
      kmeansObjectives: c.kmeansObjectives,
      logLikelihoods: c.logLikelihoods,
      gmmWeights: c.gmmWeights,
      ellipses: c.gmmEllipses.length,
      stats: this.stats.textContent,
    };
  }
}
