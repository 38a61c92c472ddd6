// Interpolation between two test digits A and B: the decoder's images at evenly spaced
// points on the straight line from A's code to B's (μ for a VAE, z for an autoencoder),
// between the two originals, and the same line on the map as an arrow with a dot per point.
// A good VAE stays on the data manifold all the way; an autoencoder may pass through junk.

import { INTERPOLATION } from '../app/config.js';
import { PIXELS, showDigits } from './digits.js';

export class InterpolationView {
  /**
   * @param {HTMLElement} panel holds data-role="set-a", "set-b", "index-a", "index-b", "steps",
   *   "image-a", "image-b", "strip", "hint"
   * @param {(a: number|null, b: number|null, steps: number) => void} onChange asks the worker
   * @param {() => void} redrawMap asks the map to draw again
   */
  constructor(panel, onChange, redrawMap) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.hint = find('hint');
    this.strip = find('strip');
    this.images = { a: find('image-a'), b: find('image-b') };
    this.inputs = { a: find('index-a'), b: find('index-b') };
    this.setButtons = { a: find('set-a'), b: find('set-b') };
    this.stepsInput = find('steps');
    this.onChange = onChange;
    this.redrawMap = redrawMap;
    /** Test indices of A and B (null: not chosen) and the number of decoded points. */
    this.a = null;
    this.b = null;
    this.steps = INTERPOLATION.defaultSteps;
    /** The test index the map's selection points at, for the Set buttons. */
    this.selected = null;
    this.shown = null;
    this.arrowDrawn = false;
    Object.assign(this.stepsInput, { min: INTERPOLATION.minSteps, max: INTERPOLATION.maxSteps, value: this.steps });
    for (const end of ['a', 'b']) {
      this.setButtons[end].addEventListener('click', () => this.setEnd(end, this.selected));
      // A number typed (Enter or leaving the field) picks a test image from the keyboard.
      this.inputs[end].addEventListener('change', () => {
        const text = this.inputs[end].value.trim();
        this.setEnd(end, text === '' ? null : Number(text));
      });
    }
    this.stepsInput.addEventListener('change', () => {
      const n = Math.round(Number(this.stepsInput.value));
      this.steps = Math.min(INTERPOLATION.maxSteps, Math.max(INTERPOLATION.minSteps, Number.isFinite(n) ? n : this.steps));
      this.stepsInput.value = this.steps;
      this.request();
    });
    this.update();
  }

  /** Hidden for a VQ-VAE: its decoder only ever sees codebook vectors, not points between them. */
  setModel({ kind }) {
    const hidden = kind === 'vqvae';
    if (hidden !== this.panel.hidden) this.clearShown();
    this.panel.hidden = hidden;
  }

  /** @param {number|null} index the test image selected on the map */
  setSelected(index) {
    this.selected = index;
    for (const button of Object.values(this.setButtons)) button.disabled = index === null;
  }

  setEnd(end, index) {
    // The worker checks the upper bound: it knows the test set's length.
    const valid = index === null || (Number.isInteger(index) && index >= 0);
    if (valid) this[end] = index;
    this.inputs[end].value = this[end] ?? '';
    this.request();
  }

  /** Sets A, B and the number of points at once (a lecture preset), with one request. */
  setPair(a, b, steps) {
    this.steps = Math.min(INTERPOLATION.maxSteps, Math.max(INTERPOLATION.minSteps, steps));
    this.stepsInput.value = this.steps;
    this.a = a;
    this.b = b;
    this.inputs.a.value = a;
    this.inputs.b.value = b;
    this.request();
  }

  request() {
    this.onChange(this.a, this.b, this.steps);
    if (this.a === null || this.b === null) this.clearShown();
    this.update();
  }

  clearShown() {
    this.shown = null;
    this.update();
    this.redrawMap();
  }

  /** @param {object} m a protocol INTERPOLATION message */
  setInterpolation(m) {
    // A reply to a pair or length since replaced is dropped; the new one is on its way.
    if (m.a !== this.a || m.b !== this.b || m.steps !== this.steps || this.panel.hidden) return;
    this.shown = m;
    showDigits(this.images.a, m.images.subarray(0, PIXELS), 1, 1, INTERPOLATION.zoom);
    showDigits(this.images.b, m.images.subarray(PIXELS), 1, 1, INTERPOLATION.zoom);
    showDigits(this.strip, m.pixels, m.steps, m.steps, INTERPOLATION.zoom);
    this.update();
    this.redrawMap();
  }

  update() {
    const s = this.shown;
    for (const el of [this.images.a, this.images.b, this.strip]) el.hidden = !s;
    if (s) {
      this.hint.textContent =
        `From A, test image #${s.a} (class ${s.labels[0]}), to B, #${s.b} (class ${s.labels[1]}): ` +
        `${s.steps} points evenly spaced on the line between their codes, A's first, decoded.`;
    } else if (this.a === null || this.b === null) {
      this.hint.textContent = 'Pick a digit on the map and press “Set as A”, then another and “Set as B”, or type test image numbers.';
    }
  }

  over(ctx, t) {
    this.arrowDrawn = false;
    const path = this.shown?.path;
    if (!path) return;
    const n = path.length / 2;
    const pts = Array.from({ length: n }, (_, i) => [t.px(path[2 * i]), t.py(path[2 * i + 1])]);
    const [x0, y0] = pts[0];
    const [x1, y1] = pts[n - 1];
    // A white halo under the black line keeps it readable over points of any colour.
    for (const [color, width] of [[INTERPOLATION.halo, 5], [INTERPOLATION.color, 2.5]]) {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
    }
    const length = Math.hypot(x1 - x0, y1 - y0);
    if (length > 1) {
      const [ux, uy] = [(x1 - x0) / length, (y1 - y0) / length];
      const head = 11;
      ctx.fillStyle = INTERPOLATION.color;
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - head * ux - 0.5 * head * uy, y1 - head * uy + 0.5 * head * ux);
      ctx.lineTo(x1 - head * ux + 0.5 * head * uy, y1 - head * uy - 0.5 * head * ux);
      ctx.closePath();
      ctx.fill();
    }
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = INTERPOLATION.color;
    ctx.fillStyle = INTERPOLATION.halo;
    for (const [x, y] of pts.slice(0, -1)) {
      ctx.beginPath();
      ctx.arc(x, y, 3.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    ctx.font = 'bold 13px system-ui, sans-serif';
    ctx.textBaseline = 'bottom';
    ctx.textAlign = 'left';
    for (const [label, [x, y]] of [['A', pts[0]], ['B', pts[n - 1]]]) {
      ctx.lineWidth = 3;
      ctx.strokeStyle = INTERPOLATION.halo;
      ctx.strokeText(label, x + 6, y - 4);
      ctx.fillStyle = INTERPOLATION.color;
      ctx.fillText(label, x + 6, y - 4);
    }
    this.arrowDrawn = true;
  }

  /** What the view shows, for tests. */
  snapshot() {
    const s = this.shown;
    return {
      a: this.a,
      b: this.b,
      steps: this.steps,
      shown: s ? { a: s.a, b: s.b, steps: s.steps, labels: [...s.labels], path: s.path ? Array.from(s.path) : null } : null,
      arrowDrawn: this.arrowDrawn,
    };
  }
}
