// Quantization, step by step, for the digit picked on the map (VQ-VAE): at one of its l code
// positions, the distance from the encoder output z_e to every code e_k as a bar (the argmin
// k* highlighted), the lookup z_q = e_{k*}, the decoder's image of the whole z_q, and the
// straight-through estimator written out: z_q = z_e + sg[e − z_e] has the value e and passes
// the decoder's gradient to z_e unchanged. Every number is Rust's.

import { QUANTIZE, SYMBOLIC } from '../app/config.js';
import { fitCanvas } from './axes.js';
import { showDigits } from './digits.js';

const PAD = { left: 40, right: 8, top: 10, bottom: 20 };

const vector = (values) => {
  const shown = Array.from(values.slice(0, QUANTIZE.maxComponents), (v) => v.toFixed(3));
  return `(${shown.join(', ')}${values.length > shown.length ? `, … ${values.length - shown.length} more` : ''})`;
};

export class QuantizeView {
  /**
   * @param {HTMLElement} panel holds data-role="hint", "positions", "bars", "lookup", "input", "decoded"
   */
  constructor(panel) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.hint = find('hint');
    this.positions = find('positions');
    this.barsCanvas = find('bars');
    this.lookup = find('lookup');
    this.input = find('input');
    this.decoded = find('decoded');
    this.q = null;
    this.position = 0;
    this.ctx = fitCanvas(this.barsCanvas, () => this.drawBars());
    this.clear();
  }

  /** Only a VQ-VAE quantizes. */
  setModel({ kind }) {
    this.panel.hidden = kind !== 'vqvae';
    this.clear();
  }

  clear() {
    this.q = null;
    this.update();
  }

  /** @param {object} q a protocol QUANTIZATION message */
  setQuantization(q) {
    if (this.q?.index !== q.index || this.q.positions !== q.positions) this.position = 0;
    this.q = q;
    this.update();
  }

  /** Shows code position `p` (0 … l − 1). */
  choose(p) {
    this.position = p;
    this.update();
  }

  update() {
    const q = this.q;
    this.input.hidden = this.decoded.hidden = !q;
    if (!q) {
      this.hint.textContent = 'Pick a test digit on the map to quantize it.';
      this.positions.replaceChildren();
      this.lookup.replaceChildren();
      this.drawBars();
      return;
    }
    this.hint.textContent =
      `Test image #${q.index} (class ${q.label}): ${q.positions} encoder output${q.positions > 1 ? 's' : ''} z_e of ${q.codeDim} numbers, ` +
      `each replaced by the nearest of K = ${q.codebookSize} codes.` +
      (q.positions > 1 ? ' Pick a position:' : '');
    this.showPositions();
    showDigits(this.input, q.image, 1, 1, QUANTIZE.zoom);
    showDigits(this.decoded, q.decoded, 1, 1, QUANTIZE.zoom);
    this.showLookup();
    this.drawBars();
  }

  showPositions() {
    const q = this.q;
    this.positions.hidden = q.positions < 2;
    // A square l lays out as the symbolic image's grid; any other l as one row.
    const side = Math.round(Math.sqrt(q.positions));
    this.positions.style.setProperty('--cols', String(side * side === q.positions ? side : q.positions));
    this.positions.replaceChildren(
      ...Array.from({ length: q.positions }, (_, p) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'code-cell';
        button.textContent = String(q.nearest[p]);
        button.title = `position ${p}: code ${q.nearest[p]}`;
        button.style.background = SYMBOLIC.fills[q.nearest[p] % SYMBOLIC.fills.length];
        button.setAttribute('aria-pressed', String(p === this.position));
        button.addEventListener('click', () => this.choose(p));
        return button;
      }),
    );
  }

  showLookup() {
    const q = this.q;
    const p = this.position;
    const d = q.codeDim;
    const k = q.nearest[p];
    const at = (array) => array.subarray(p * d, (p + 1) * d);
    const lines = [
      ['formula-main', `k* = argmin_k ‖z_e − e_k‖₂ = ${k}   (distance ${q.distances[p * q.codebookSize + k].toFixed(3)})`],
      ['', `z_e = ${vector(at(q.zE))}`],
      ['', `z_q = e_${k} = ${vector(at(q.zQ))}   (the lookup)`],
      ['', `straight-through: z_q = z_e + sg[e − z_e], e − z_e = ${vector(at(q.offset))}`],
      ['note', 'forward: the decoder sees e; backward: sg[·] stops the gradient, so ∂L/∂z_e = ∂L/∂z_q — copied past the argmin, which has none.'],
    ];
    this.lookup.replaceChildren(
      ...lines.map(([cls, text]) => {
        const line = document.createElement('div');
        if (cls) line.className = cls;
        line.textContent = text;
        return line;
      }),
    );
  }

  drawBars() {
    const ctx = this.ctx;
    if (!ctx) return;
    const { width, height } = this.barsCanvas.getBoundingClientRect();
    ctx.clearRect(0, 0, width, height);
    const q = this.q;
    if (!q) return;
    const kk = q.codebookSize;
    const row = q.distances.subarray(this.position * kk, (this.position + 1) * kk);
    const top = Math.max(...row) * 1.05 || 1;
    const h = height - PAD.top - PAD.bottom;
    const slot = (width - PAD.left - PAD.right) / kk;
    const chosen = q.nearest[this.position];
    ctx.font = QUANTIZE.font;
    ctx.fillStyle = '#333333';
    ctx.textAlign = 'right';
    ctx.fillText(top.toPrecision(2), PAD.left - 4, PAD.top + 8);
    ctx.fillText('0', PAD.left - 4, PAD.top + h);
    ctx.textAlign = 'center';
    const labelEvery = Math.ceil(kk / 32);
    row.forEach((v, c) => {
      ctx.fillStyle = c === chosen ? QUANTIZE.chosenColor : QUANTIZE.barColor;
      ctx.fillRect(PAD.left + c * slot + slot * 0.1, PAD.top + h - (v / top) * h, Math.max(1, slot * 0.8), (v / top) * h);
      if (c % labelEvery === 0 || c === chosen) {
        ctx.fillStyle = c === chosen ? QUANTIZE.chosenColor : '#333333';
        ctx.fillText(String(c), PAD.left + (c + 0.5) * slot, height - 6);
      }
    });
  }

  /** What the view shows, for tests. */
  snapshot() {
    const q = this.q;
    if (!q) return { visible: !this.panel.hidden, index: null };
    return {
      visible: !this.panel.hidden,
      index: q.index,
      position: this.position,
      positions: q.positions,
      codebookSize: q.codebookSize,
      codeDim: q.codeDim,
      zE: Array.from(q.zE),
      zQ: Array.from(q.zQ),
      offset: Array.from(q.offset),
      distances: Array.from(q.distances),
      nearest: Array.from(q.nearest),
      lookup: this.lookup.textContent,
    };
  }
}
