// A GMM prior: K Gaussians fitted by EM (in Rust, in the worker) to the training set's codes,
// drawn on the map as their 1σ and 2σ ellipses, and samples z ~ GMM decoded. An autoencoder's
// codes were never pulled towards N(0, I), so its N(0, I) samples (the Generation panel) often
// decode to no digit; a prior fitted to where its codes actually are fixes that without a KL term.

import { GMM_PRIOR } from '../app/config.js';
import { showDigits } from './digits.js';

export class GmmPriorView {
  /**
   * @param {HTMLElement} panel holds data-role="show", "k", "resample", "stats", "grid"
   * @param {(k: number|null, count: number, seed: number) => void} onRequest asks the worker for the prior (k null: off)
   * @param {() => void} redrawMap asks the map to draw again
   */
  constructor(panel, onRequest, redrawMap) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.toggle = find('show');
    this.kInput = Object.assign(find('k'), { min: GMM_PRIOR.minK, max: GMM_PRIOR.maxK, value: GMM_PRIOR.defaultK });
    this.resampleButton = find('resample');
    this.stats = find('stats');
    this.grid = find('grid');
    this.onRequest = onRequest;
    this.redrawMap = redrawMap;
    this.count = GMM_PRIOR.side * GMM_PRIOR.side;
    this.seed = null;
    this.prior = null;
    this.toggle.addEventListener('change', () => this.request());
    this.kInput.addEventListener('change', () => this.request());
    this.resampleButton.addEventListener('click', () => this.request(true));
    this.update();
  }

  /** Only a continuous code (AE, VAE) has a density to fit. */
  setModel({ kind }) {
    this.panel.hidden = kind === 'vqvae';
    this.prior = null;
    this.update();
  }

  /** Turns the prior on (K from the field) or off. */
  show(on) {
    this.toggle.checked = on;
    this.request();
  }

  request(newSeed = false) {
    if (newSeed || this.seed === null) this.seed = Math.floor(Math.random() * 2 ** 32);
    const k = Math.round(Number(this.kInput.value));
    const on = this.toggle.checked && k >= GMM_PRIOR.minK && k <= GMM_PRIOR.maxK;
    if (!on) this.prior = null;
    this.onRequest(on ? k : null, this.count, this.seed);
    this.update();
  }

  /** @param {object} p a protocol GMM_PRIOR message */
  setPrior(p) {
    // An answer for a request since replaced (another K or seed, or turned off) is dropped.
    if (!this.toggle.checked || p.seed !== this.seed || p.k !== Math.round(Number(this.kInput.value))) return;
    this.prior = p;
    this.update();
  }

  update() {
    const p = this.prior;
    this.resampleButton.disabled = !this.toggle.checked;
    this.grid.hidden = !p;
    if (!p) {
      this.stats.textContent = this.toggle.checked ? 'Fitting…' : 'Fit K Gaussians to the training codes by EM and sample from them instead of N(0, I).';
    } else {
      this.stats.textContent =
        `K = ${p.k} components fitted by EM to the codes of ${p.fittedTo.toLocaleString('en-US')} training images in ${p.emSteps} steps. ` +
        `Mean log-density of those codes: ${p.logLikelihood.toFixed(2)} nats under the mixture, ` +
        `${p.standardNormalLogLikelihood.toFixed(2)} under N(0, I). Below: z ~ GMM, decoded (the + on the map).`;
      showDigits(this.grid, p.pixels, p.count, GMM_PRIOR.side, GMM_PRIOR.zoom);
    }
    this.redrawMap();
  }

  /** The components' ellipses and the samples, over the points. */
  over(ctx, t) {
    const p = this.prior;
    if (!p) return;
    ctx.strokeStyle = GMM_PRIOR.color;
    p.ellipses.forEach((e, c) => {
      const [mx, my] = [t.px(p.meansPlane[2 * c]), t.py(p.meansPlane[2 * c + 1])];
      for (const [scale, dash] of [[1, []], [2, [5, 4]]]) {
        ctx.setLineDash(dash);
        // The heavier a component, the thicker its outline.
        ctx.lineWidth = 1 + 3 * Math.sqrt(p.weights[c]);
        ctx.beginPath();
        // The canvas's y axis points down, so the plane's angle turns the other way.
        ctx.ellipse(mx, my, scale * e.r1 * t.sx, scale * e.r2 * t.sy, -e.angle, 0, 2 * Math.PI);
        ctx.stroke();
      }
    });
    ctx.setLineDash([]);
    ctx.strokeStyle = GMM_PRIOR.sampleColor;
    ctx.lineWidth = 2;
    for (let i = 0; i < p.samplesPlane.length; i += 2) {
      const [x, y] = [t.px(p.samplesPlane[i]), t.py(p.samplesPlane[i + 1])];
      ctx.beginPath();
      ctx.moveTo(x - 4, y);
      ctx.lineTo(x + 4, y);
      ctx.moveTo(x, y - 4);
      ctx.lineTo(x, y + 4);
      ctx.stroke();
    }
  }

  /** What the view shows, for tests. */
  snapshot() {
    const p = this.prior;
    return {
      visible: !this.panel.hidden,
      on: this.toggle.checked,
      prior: p && {
        k: p.k,
        seed: p.seed,
        count: p.count,
        fittedTo: p.fittedTo,
        emSteps: p.emSteps,
        logLikelihood: p.logLikelihood,
        standardNormalLogLikelihood: p.standardNormalLogLikelihood,
        weights: p.weights,
        ellipses: p.ellipses,
        meansPlane: Array.from(p.meansPlane),
        samples: Array.from(p.samples),
      },
    };
  }
}
