// Draw a digit: a pad for mouse, finger or pen, the drawing preprocessed by Rust the way MNIST's
// digits were, as the student's image files are (ink's bounding box scaled into 20 × 20 keeping
// its aspect ratio, placed in 28 × 28 with its centre of mass at the centre), and what the model
// makes of it: its code
// as a star on the map and its reconstruction. The worker re-encodes it as the model trains.

import { DRAWPAD } from '../app/config.js';
import { prepareImage } from '../pkg/latent_lab.js';
import { showDigits } from './digits.js';

const NAMES = {
  ae: { code: 'z', recon: 'decode(z)' },
  vae: { code: 'μ', recon: 'decode(μ)' },
  vqvae: { code: 'z_e', recon: 'decode(z_q)' },
};

export class DrawPadView {
  /**
   * @param {HTMLElement} panel holds data-role="pad", "clear", "input", "recon", "code"
   * @param {(pixels: Float32Array|null, id: number) => void} onDrawing sends the preprocessed
   *   drawing (784 values in [0, 1], ink = 1) to be encoded; null forgets it
   * @param {() => void} redrawMap asks the map to draw again
   */
  constructor(panel, onDrawing, redrawMap) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.pad = find('pad');
    this.inputCanvas = find('input');
    this.reconCanvas = find('recon');
    this.code = find('code');
    this.onDrawing = onDrawing;
    this.redrawMap = redrawMap;
    this.kind = 'vae';
    this.input = null; // the preprocessed drawing last sent
    this.result = null; // the worker's answer for it
    this.sentId = 0;
    this.inFlight = false;
    this.dirty = false;
    this.frame = 0;
    this.pen = null; // {id, x, y} of the pointer drawing now
    this.strokes = 0;

    const dpr = window.devicePixelRatio || 1;
    this.pad.width = this.pad.height = Math.round(DRAWPAD.size * dpr);
    this.pad.style.width = this.pad.style.height = `${DRAWPAD.size}px`;
    this.ctx = this.pad.getContext('2d', { willReadFrequently: true });
    this.ctx.scale(dpr, dpr);
    this.pad.addEventListener('pointerdown', (e) => this.down(e));
    this.pad.addEventListener('pointermove', (e) => this.move(e));
    for (const type of ['pointerup', 'pointercancel']) this.pad.addEventListener(type, (e) => this.up(e));
    find('clear').addEventListener('click', () => this.clear());
    this.wipe();
  }

  setModel({ kind }) {
    this.kind = kind;
    this.show();
  }

  /** Empties the pad and forgets the drawing, here and in the worker. */
  clear() {
    this.wipe();
    // A reply still on its way belongs to the cleared drawing; the new id drops it.
    this.onDrawing(null, ++this.sentId);
  }

  wipe() {
    this.ctx.fillStyle = '#ffffff';
    this.ctx.fillRect(0, 0, DRAWPAD.size, DRAWPAD.size);
    this.pen = null;
    this.strokes = 0;
    this.dirty = false;
    this.inFlight = false;
    this.input = null;
    this.result = null;
    this.show();
  }

  down(event) {
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    event.preventDefault();
    this.pad.setPointerCapture(event.pointerId);
    const [x, y] = this.at(event);
    this.pen = { id: event.pointerId, x, y };
    this.strokes++;
    // A tap leaves a dot, as a pen would.
    this.segment(x, y, x, y);
  }

  move(event) {
    if (!this.pen || event.pointerId !== this.pen.id) return;
    // Coalesced events keep fast strokes smooth where the browser merges pointer moves.
    for (const e of event.getCoalescedEvents?.() ?? [event]) {
      const [x, y] = this.at(e);
      this.segment(this.pen.x, this.pen.y, x, y);
      this.pen.x = x;
      this.pen.y = y;
    }
  }

  up(event) {
    if (this.pen && event.pointerId === this.pen.id) this.pen = null;
  }

  /** Pointer position in the pad's CSS pixels. */
  at(event) {
    const box = this.pad.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  segment(x0, y0, x1, y1) {
    const { ctx } = this;
    ctx.strokeStyle = '#000000';
    ctx.lineWidth = DRAWPAD.size * DRAWPAD.penShare;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
    this.changed();
  }

  /** At most one encoding per animation frame and one in flight; the newest drawing wins. */
  changed() {
    this.dirty = true;
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.flush();
      });
    }
  }

  flush() {
    if (!this.dirty || this.inFlight) return;
    this.dirty = false;
    const { width, height } = this.pad;
    const rgba = this.ctx.getImageData(0, 0, width, height).data;
    // Rust prepares a drawing exactly as it prepares the student's image files.
    let prepared;
    try {
      prepared = prepareImage(new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length), width, height);
    } catch {
      return; // a blank pad (the only refusal a pad can earn): nothing to encode
    }
    const pixels = Float32Array.from(prepared.pixels, (v) => v / 255);
    this.input = pixels;
    this.inFlight = true;
    this.onDrawing(pixels, ++this.sentId);
    this.show();
  }

  /** @param {object} m a protocol DRAWN message: the drawing's code and reconstruction */
  setResult(m) {
    if (m.id !== this.sentId) return;
    this.inFlight = false;
    this.result = m;
    this.show();
    if (this.dirty) this.changed();
  }

  show() {
    const hasInput = this.input !== null;
    this.inputCanvas.hidden = !hasInput;
    this.reconCanvas.hidden = !this.result;
    if (hasInput) showDigits(this.inputCanvas, this.input, 1, 1, DRAWPAD.zoom);
    const r = this.result;
    const names = NAMES[this.kind];
    if (!r) {
      this.code.textContent = hasInput ? 'Encoding…' : 'Draw a digit in the box: the model encodes it as you draw.';
    } else {
      showDigits(this.reconCanvas, r.recon, 1, 1, DRAWPAD.zoom);
      const plane = r.mean.length === 2 ? '' : ' (on the map: its first two principal components)';
      const codes = r.codes ? `, code${r.codes.length > 1 ? 's' : ''} k = ${r.codes.join(' ')}` : '';
      this.code.textContent =
        `Left: your digit as the model sees it (28 × 28); right: ${names.recon}. ` +
        `${names.code} = ${vector(r.mean)}${codes}${plane}.`;
    }
    this.redrawMap();
  }

  /** The star at the drawing's code, over the points and the other markers. */
  over(ctx, t) {
    if (!this.result) return;
    const [x, y] = this.result.plane.map(Number);
    const cx = t.px(x);
    const cy = t.py(y);
    const r = DRAWPAD.markerRadius;
    ctx.beginPath();
    for (let k = 0; k < 10; k++) {
      const radius = k % 2 === 0 ? r : r * 0.45;
      const angle = -Math.PI / 2 + (k * Math.PI) / 5;
      ctx.lineTo(cx + radius * Math.cos(angle), cy + radius * Math.sin(angle));
    }
    ctx.closePath();
    ctx.fillStyle = DRAWPAD.markerFill;
    ctx.fill();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = DRAWPAD.markerStroke;
    ctx.stroke();
    ctx.font = DRAWPAD.font;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    // A white halo keeps the label readable over points and decoded tiles.
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#ffffff';
    ctx.strokeText('your digit', cx + r + 3, cy);
    ctx.fillStyle = DRAWPAD.markerStroke;
    ctx.fillText('your digit', cx + r + 3, cy);
  }

  /** What the view shows, for tests. */
  snapshot() {
    const r = this.result;
    return {
      strokes: this.strokes,
      input: this.input ? Array.from(this.input) : null,
      plane: r ? r.plane.map(Number) : null,
      code: r ? r.mean : null,
      codes: r ? r.codes : null,
      recon: r ? Array.from(r.recon) : null,
    };
  }
}

function vector(values) {
  const shown = values.slice(0, 4).map((v) => v.toFixed(2));
  return `(${shown.join(', ')}${values.length > shown.length ? `, … ${values.length - shown.length} more` : ''})`;
}
