// The card beside the pointer on the map: the test image under it, the current model's
// reconstruction of it, and its class. At most one request is in flight; moving on to other
// points meanwhile sends only the latest one when the reply is in, so the worker never
// queues up work the pointer has left behind.

import { HOVER } from '../app/config.js';
import { showDigits } from './digits.js';
import { classPhrase } from './scatter.js';
import { measureSince } from '../app/timing.js';

/** The User Timing name of "pointer reached a point → its card drawn". */
export const HOVER_MEASURE = 'latent-lab:hover-to-card';

export class HoverCard {
  /**
   * @param {HTMLElement} card holds data-role="title", "input", "recon" (canvases); positioned
   *   against its parent element
   * @param {(index: number) => void} onRequest asks the worker for test image `index`
   * @param {() => string[]} classNames the dataset's class names
   */
  constructor(card, onRequest, classNames) {
    this.card = card;
    this.title = card.querySelector('[data-role="title"]');
    this.input = card.querySelector('[data-role="input"]');
    this.recon = card.querySelector('[data-role="recon"]');
    this.onRequest = onRequest;
    this.wanted = -1; // point under the pointer, −1 for none
    this.inFlight = false;
    this.hoveredAt = null;
    this.pending = false; // the pointer moved on (or the model changed) while a request was out
    this.shown = null;
    this.classNames = classNames;
  }

  /** The pointer rests near point `index` (−1: none) at client position (x, y). */
  show(index, x, y) {
    if (index < 0) {
      this.wanted = -1;
      this.card.hidden = true;
      return;
    }
    this.place(x, y);
    if (index === this.wanted) return;
    this.wanted = index;
    this.hoveredAt = performance.now();
    // The previous point's images would mislabel this one; the card waits for its own.
    this.card.hidden = this.shown?.index !== index;
    this.request();
  }

  /** Asks again for the point shown, for a model that changed under a resting pointer. */
  refresh() {
    if (this.wanted >= 0) this.request();
  }

  request() {
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    this.inFlight = true;
    this.pending = false;
    this.onRequest(this.wanted);
  }

  /** @param {object} m a protocol HOVERED message */
  setData(m) {
    this.inFlight = false;
    if (m.index === this.wanted) {
      this.title.textContent = `Test image ${m.index} · ${classPhrase(this.classNames(), m.label)}`;
      showDigits(this.input, m.image, 1, 1, HOVER.zoom);
      showDigits(this.recon, m.recon, 1, 1, HOVER.zoom);
      this.shown = { index: m.index, label: m.label, recon: Array.from(m.recon) };
      this.card.hidden = false;
      // Pointer reached the point → its card drawn, as a User Timing measure for the latency benchmark.
      if (this.hoveredAt !== null) measureSince(HOVER_MEASURE, this.hoveredAt);
      this.hoveredAt = null;
    }
    if (this.pending && this.wanted >= 0) this.request();
  }

  /** Puts the card below and right of the pointer, flipped to stay inside its container. */
  place(x, y) {
    // The parent, not offsetParent: a hidden card has none.
    const box = this.card.parentElement.getBoundingClientRect();
    const gap = HOVER.offset;
    const w = this.card.offsetWidth || HOVER.width;
    const h = this.card.offsetHeight || HOVER.height;
    let left = x - box.left + gap;
    let top = y - box.top + gap;
    if (left + w > box.width) left = x - box.left - gap - w;
    if (top + h > box.height) top = y - box.top - gap - h;
    this.card.style.left = `${Math.max(0, left)}px`;
    this.card.style.top = `${Math.max(0, top)}px`;
  }

  /** What the card shows, for tests: null while hidden. */
  snapshot() {
    if (this.card.hidden || !this.shown) return null;
    const { index, label, recon } = this.shown;
    return { index, label, title: this.title.textContent, recon };
  }
}
