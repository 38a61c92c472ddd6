// The reparameterization trick for the digit picked on the map: its μ, the 1σ and 2σ ellipses
// of q(z|x) = N(μ, diag σ²) (projected onto the map's plane when d > 2), and each
// z = μ + σ ⊙ ε for ε ~ N(0, I) drawn by the model (seeded), with the decoder's image of every z. The
// randomness is an input (ε); μ and σ stay differentiable.

import { REPARAM } from '../app/config.js';
import { PIXELS, showDigits } from './digits.js';

export class ReparamView {
  /**
   * @param {HTMLElement} panel holds data-role="hint", "input", "recon", "draw", "draw-many",
   *   "formula", "samples"
   * @param {(count: number) => void} onDraw asks the worker for `count` more draws ε ~ N(0, I)
   * @param {() => void} redrawMap asks the map to draw again
   */
  constructor(panel, onDraw, redrawMap) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.hint = find('hint');
    this.input = find('input');
    this.recon = find('recon');
    this.formula = find('formula');
    this.samples = find('samples');
    this.drawButtons = [find('draw'), find('draw-many')];
    this.title = panel.querySelector('h2');
    this.formulaTitle = this.title.innerHTML;
    this.redrawMap = redrawMap;
    this.selection = null;
    this.isVae = true;
    find('draw').addEventListener('click', () => onDraw(1));
    find('draw-many').addEventListener('click', () => {
      onDraw(REPARAM.manyDraws);
    });
    this.clear();
  }

  /** The model kind decides whether there is a σ to sample with. */
  setModel({ kind }) {
    this.isVae = kind === 'vae';
    // Without a σ there is nothing to reparameterize: the panel just shows the picked digit.
    if (this.isVae) this.title.innerHTML = this.formulaTitle;
    else this.title.textContent = 'Selected digit';
    for (const b of this.drawButtons) b.hidden = !this.isVae;
    this.update();
  }

  clear() {
    this.selection = null;
    this.update();
  }

  /** @param {object} s a protocol SELECTION message */
  setSelection(s) {
    this.selection = s;
    this.update();
  }

  update() {
    const s = this.selection;
    for (const b of this.drawButtons) b.disabled = !s || !this.isVae;
    this.input.hidden = this.recon.hidden = !s;
    if (!s) {
      this.hint.textContent = 'Click a point on the map (or Tab to the map, step with the arrows, press Enter) to pick a test image.';
      this.formula.replaceChildren();
      this.samples.hidden = true;
      this.redrawMap();
      return;
    }
    const d = s.mu.length;
    this.hint.textContent =
      `Test image #${s.index} (class ${s.label}): the input, and the decoder's image of ${this.isVae ? 'μ' : 'its code'}.` +
      (this.isVae && d > 2
        ? ` The map is a projection onto two principal axes A: the ellipses are q(z|x)'s 1σ and 2σ contours ` +
          `projected, with covariance A diag(σ²) Aᵀ, and each × is a z projected.`
        : '');
    showDigits(this.input, s.image, 1, 1, REPARAM.zoom);
    showDigits(this.recon, s.decoded.subarray(0, PIXELS), 1, 1, REPARAM.zoom);
    this.showFormula();
    const n = s.zs.length;
    this.samples.hidden = n === 0;
    if (n > 0) {
      // The newest draws first, so the one the formula describes leads the strip.
      const shown = Math.min(n, REPARAM.maxShown);
      const newest = new Float32Array(shown * PIXELS);
      for (let i = 0; i < shown; i++) newest.set(s.decoded.subarray((n - i) * PIXELS, (n - i + 1) * PIXELS), i * PIXELS);
      showDigits(this.samples, newest, shown, REPARAM.stripColumns, REPARAM.sampleZoom);
    }
    this.redrawMap();
  }

  showFormula() {
    const s = this.selection;
    if (!this.isVae || !s.logvar) {
      this.formula.textContent = 'Only the VAE samples z: switch the model to VAE to draw ε.';
      return;
    }
    const { sigma } = s;
    const last = s.zs.length - 1;
    const rows = [
      ['z', last >= 0 ? s.zs[last] : null],
      ['μ', s.mu],
      ['σ = exp(½ log σ²)', sigma],
      ['ε ~ N(0, I)', last >= 0 ? s.epsilons[last] : null],
    ];
    const lines = rows.map(([name, values]) => {
      const line = document.createElement('div');
      line.textContent = `${name} = ${values ? vector(values) : '(press Draw ε)'}`;
      return line;
    });
    const heading = document.createElement('div');
    heading.className = 'formula-main';
    heading.textContent = `z = μ + σ ⊙ ε${last >= 0 ? `   (draw ${last + 1})` : ''}`;
    this.formula.replaceChildren(heading, ...lines);
  }

  over(ctx, t) {
    const s = this.selection;
    if (!s) return;
    const [mx, my] = s.muPlane;
    const shape = this.isVae ? s.ellipse : null;
    if (shape) {
      ctx.strokeStyle = REPARAM.color;
      for (const [k, dash] of [[1, []], [2, [5, 4]]]) {
        ctx.setLineDash(dash);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        // The canvas's y axis points down, so the plane's angle turns the other way.
        ctx.ellipse(t.px(mx), t.py(my), k * shape.r1 * t.sx, k * shape.r2 * t.sy, -shape.angle, 0, 2 * Math.PI);
        ctx.stroke();
      }
      ctx.setLineDash([]);
      ctx.lineWidth = 2;
      for (let i = 0; i < s.zsPlane.length; i += 2) {
        const x = t.px(s.zsPlane[i]);
        const y = t.py(s.zsPlane[i + 1]);
        ctx.beginPath();
        ctx.moveTo(x - 4, y - 4);
        ctx.lineTo(x + 4, y + 4);
        ctx.moveTo(x - 4, y + 4);
        ctx.lineTo(x + 4, y - 4);
        ctx.stroke();
      }
    }
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = '#000000';
    ctx.fillStyle = '#ffffff';
    ctx.beginPath();
    ctx.arc(t.px(mx), t.py(my), 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }

  /** What the view shows, for tests. */
  snapshot() {
    const s = this.selection;
    if (!s) return null;
    return {
      index: s.index,
      label: s.label,
      mu: s.mu,
      sigma: s.sigma,
      zs: s.zs,
      zsPlane: s.zsPlane,
      muPlane: s.muPlane,
      axes: s.axes,
      ellipse: this.isVae ? s.ellipse : null,
      samplesShown: this.samples.hidden ? 0 : Math.min(s.zs.length, REPARAM.maxShown),
    };
  }
}

function vector(values) {
  const shown = values.slice(0, REPARAM.maxComponents).map((v) => v.toFixed(2));
  return `(${shown.join(', ')}${values.length > shown.length ? `, … ${values.length - shown.length} more` : ''})`;
}
