// Latent traversal: one slider per dimension of z and the decoder's image of z, so students
// see what each direction of the latent space means to the decoder. AE and VAE only: a
// VQ-VAE's codes are discrete.

import { TRAVERSAL } from '../app/config.js';
import { SIDE, greyLevels, showDigits, sizeCanvas } from './digits.js';
import { measureSince } from '../app/timing.js';

/** The User Timing name of "slider moved → its image drawn". */
export const LATENCY_MEASURE = 'latent-lab:slider-to-image';

export class TraversalView {
  /**
   * @param {HTMLElement} panel holds data-role="sliders", "image", "note"
   * @param {(z: Float32Array, id: number) => void} onDecode sends one DECODE request
   * @param {{give: (canvas: OffscreenCanvas) => void, read: () => void} | null} replica hands the
   *   image's canvas to the worker that decodes (which then draws every answer itself) and asks
   *   it for the canvas's pixels; null, or a browser without OffscreenCanvas, draws here
   */
  constructor(panel, onDecode, replica = null) {
    this.panel = panel;
    this.sliders = panel.querySelector('[data-role="sliders"]');
    this.image = panel.querySelector('[data-role="image"]');
    this.note = panel.querySelector('[data-role="note"]');
    this.onDecode = onDecode;
    this.z = new Float32Array(0);
    this.nextId = 0;
    /** The id of the newest request sent; only its reply (or refreshes of it) is the image shown. */
    this.sentId = -1;
    /** The newest id answered: requests after it are in flight. */
    this.answeredId = -1;
    /** A move made while TRAVERSAL.inFlight requests were out, and when the oldest such move happened. */
    this.dirty = false;
    this.unsentSince = null;
    this.shownZ = null;
    this.shownPixels = null;
    /** When the slider move behind each request not yet answered happened. */
    this.movedAt = new Map();
    this.readers = [];
    this.replica = replica;
    this.drawnByReplica = Boolean(replica) && typeof this.image.transferControlToOffscreen === 'function';
    if (this.drawnByReplica) {
      // A transferred canvas keeps the size it had and can no longer be resized from here.
      sizeCanvas(this.image, SIDE, SIDE);
      this.image.style.width = `${SIDE * TRAVERSAL.zoom}px`;
      replica.give(this.image.transferControlToOffscreen());
    }
  }

  /**
   * Sliders for the model's latent dimension, all at the prior's mean. Settings of the same
   * shape (a new learning rate, a reset) keep the sliders where the student left them.
   */
  setModel({ kind, latentDim }) {
    this.panel.hidden = kind === 'vqvae';
    // The worker drops a z that no longer fits the model, so no reply may come for it.
    if (this.panel.hidden) this.answeredId = this.sentId;
    if (this.panel.hidden || this.z.length === latentDim) return;
    this.z = new Float32Array(latentDim);
    const shown = Math.min(latentDim, TRAVERSAL.maxSliders);
    this.note.textContent = `The first ${shown} of ${latentDim} dimensions; the others stay at 0.`;
    this.note.hidden = latentDim === shown;
    this.sliders.replaceChildren(...Array.from({ length: shown }, (_, j) => this.slider(j)));
    // A reply still in flight is for the old dimension; the worker rejects or drops that z.
    this.answeredId = this.sentId;
    this.movedAt.clear();
    this.unsentSince = null;
    this.request();
  }

  slider(j) {
    const label = document.createElement('label');
    const name = document.createElement('span');
    name.textContent = `z${j + 1}`;
    const input = document.createElement('input');
    // Named by its dimension alone: the wrapping label also holds the changing value.
    input.setAttribute('aria-label', name.textContent);
    Object.assign(input, { type: 'range', min: -TRAVERSAL.range, max: TRAVERSAL.range, step: TRAVERSAL.step, value: 0 });
    const value = document.createElement('output');
    value.textContent = '0.00';
    input.addEventListener('input', () => {
      this.z[j] = Number(input.value);
      value.textContent = this.z[j].toFixed(2);
      this.request(performance.now());
    });
    label.append(name, input, value);
    return label;
  }

  /**
   * Sends the current z unless TRAVERSAL.inFlight requests are out already; moves made
   * meanwhile go out as one, with the latest z, when an answer comes. Two in flight: the replica
   * draws each answer itself, so the next move need not wait for an answer's trip back through
   * this thread, while after a stall of the replica (a new model, a new test set) only the
   * latest z is decoded, not every move made meanwhile. `movedAt`: when the slider move behind it
   * happened (none for a new model's z).
   */
  request(movedAt = null) {
    this.unsentSince ??= movedAt;
    if (this.sentId - this.answeredId >= TRAVERSAL.inFlight) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    this.sentId = this.nextId++;
    if (this.unsentSince !== null) this.movedAt.set(this.sentId, this.unsentSince);
    this.unsentSince = null;
    this.onDecode(Float32Array.from(this.z), this.sentId);
  }

  /** @param {object} m a protocol DECODED message */
  setDecoded(m) {
    // Slider move to drawn image, as a User Timing measure: the latency benchmark reads it.
    const movedAt = this.movedAt.get(m.id);
    if (movedAt !== undefined && (m.drawnAt !== null || m.id === this.sentId)) {
      measureSince(LATENCY_MEASURE, movedAt, m.drawnAt === null ? performance.now() : m.drawnAt - performance.timeOrigin);
    }
    // Answers come in the order sent: those before this one are settled too.
    for (const id of this.movedAt.keys()) if (id <= m.id) this.movedAt.delete(id);
    this.answeredId = Math.max(this.answeredId, m.id);
    // Drawn by the replica, every answer is on the canvas in turn; drawn here, only the newest.
    if (this.drawnByReplica || m.id === this.sentId) {
      if (!this.drawnByReplica) showDigits(this.image, m.pixels, 1, 1, TRAVERSAL.zoom);
      this.shownZ = Array.from(m.z);
      this.shownPixels = m.pixels;
    }
    if (this.dirty) this.request();
  }

  /** The image's grey levels (0 ink … 255 paper) as its canvas holds them, for tests: a promise. */
  readImage() {
    if (!this.drawnByReplica) return Promise.resolve(Array.from(greyLevels(this.image.getContext('2d'))));
    return new Promise((resolve) => {
      this.readers.push(resolve);
      this.replica.read();
    });
  }

  /** @param {object} m a protocol TRAVERSAL_IMAGE message, the answer to the oldest readImage() */
  setImage(m) {
    this.readers.shift()?.(Array.from(m.greys));
  }

  /** The shown image on its own canvas at its size on screen, for Export PNG (null before one). */
  exportCanvas() {
    if (!this.shownPixels) return null;
    const digit = document.createElement('canvas');
    showDigits(digit, this.shownPixels, 1, 1, 1);
    const side = Math.round(SIDE * TRAVERSAL.zoom * (window.devicePixelRatio || 1));
    const out = Object.assign(document.createElement('canvas'), { width: side, height: side });
    const ctx = out.getContext('2d');
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(digit, 0, 0, side, side);
    return out;
  }

  /** What the view shows, for tests. */
  snapshot() {
    return { visible: !this.panel.hidden, z: Array.from(this.z), shownZ: this.shownZ, inFlight: this.sentId > this.answeredId || this.dirty };
  }
}
