// Latent traversal: one slider per dimension of z and the decoder's image of z, so students
// see what each direction of the latent space means to the decoder. AE and VAE only: a
// VQ-VAE's codes are discrete.

import { TRAVERSAL } from '../app/config.js';
import { showDigits } from './digits.js';
import { measureSince } from '../app/timing.js';

/** The User Timing name of "slider moved → its image drawn". */
export const LATENCY_MEASURE = 'latent-lab:slider-to-image';

export class TraversalView {
  /**
   * @param {HTMLElement} panel holds data-role="sliders", "image", "note"
   * @param {(z: Float32Array, id: number) => void} onDecode sends one DECODE request
   */
  constructor(panel, onDecode) {
    this.panel = panel;
    this.sliders = panel.querySelector('[data-role="sliders"]');
    this.image = panel.querySelector('[data-role="image"]');
    this.note = panel.querySelector('[data-role="note"]');
    this.onDecode = onDecode;
    this.z = new Float32Array(0);
    this.nextId = 0;
    /** The id of the newest request sent; only its reply (or refreshes of it) is drawn. */
    this.sentId = -1;
    this.inFlight = false;
    this.dirty = false;
    this.shownZ = null;
    /** When the oldest slider move not yet sent happened, and each sent request's oldest move. */
    this.unsentSince = null;
    this.movedAt = new Map();
  }

  /**
   * Sliders for the model's latent dimension, all at the prior's mean. Settings of the same
   * shape (a new learning rate, a reset) keep the sliders where the student left them.
   */
  setModel({ kind, latentDim }) {
    this.panel.hidden = kind === 'vqvae';
    // The worker drops a z that no longer fits the model, so no reply may come for it.
    if (this.panel.hidden) this.inFlight = false;
    if (this.panel.hidden || this.z.length === latentDim) return;
    this.z = new Float32Array(latentDim);
    const shown = Math.min(latentDim, TRAVERSAL.maxSliders);
    this.note.textContent = `The first ${shown} of ${latentDim} dimensions; the others stay at 0.`;
    this.note.hidden = latentDim === shown;
    this.sliders.replaceChildren(...Array.from({ length: shown }, (_, j) => this.slider(j)));
    // A reply still in flight is for the old dimension; the worker rejects or drops that z.
    this.inFlight = false;
    this.movedAt.clear();
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
      this.unsentSince ??= performance.now();
      this.z[j] = Number(input.value);
      value.textContent = this.z[j].toFixed(2);
      this.request();
    });
    label.append(name, input, value);
    return label;
  }

  /** At most one request in flight; moves made meanwhile go out as one, with the latest z. */
  request() {
    if (this.inFlight) {
      this.dirty = true;
      return;
    }
    this.inFlight = true;
    this.dirty = false;
    this.sentId = this.nextId++;
    if (this.unsentSince !== null) this.movedAt.set(this.sentId, this.unsentSince);
    this.unsentSince = null;
    this.onDecode(Float32Array.from(this.z), this.sentId);
  }

  /** @param {object} m a protocol DECODED message */
  setDecoded(m) {
    if (m.id !== this.sentId) return;
    showDigits(this.image, m.pixels, 1, 1, TRAVERSAL.zoom);
    this.shownZ = Array.from(m.z);
    // Slider move to redrawn image, as a User Timing measure: the latency benchmark reads it.
    const movedAt = this.movedAt.get(m.id);
    if (movedAt !== undefined) {
      measureSince(LATENCY_MEASURE, movedAt);
      this.movedAt.delete(m.id);
    }
    if (this.inFlight) {
      this.inFlight = false;
      if (this.dirty) this.request();
    }
  }

  /** What the view shows, for tests. */
  snapshot() {
    return { visible: !this.panel.hidden, z: Array.from(this.z), shownZ: this.shownZ, inFlight: this.inFlight };
  }
}
