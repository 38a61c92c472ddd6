// The decoded manifold: the visible plane tiled with the decoder's image at each tile's centre,
// drawn under the scatter's points. An AE leaves junk between its clusters; a VAE fills in.
// Judged, each tile is tinted with the colour of the digit the classifier sees in it.

import { SIDE, digitsImage, sizeCanvas } from './digits.js';
import { cmd } from '../app/protocol.js';
import { JUDGE, MANIFOLD, classColor } from '../app/config.js';
import { measureSince } from '../app/timing.js';

/** User Timing name of "the map asked for a grid → the grid is drawn"; pkg-config/latency.mjs reads it. */
export const GRID_MEASURE = 'latent-lab:map-to-grid';

const sameRect = (a, b) => a.x0 === b.x0 && a.x1 === b.x1 && a.y0 === b.y0 && a.y1 === b.y1;

export class ManifoldLayer {
  /** @param {() => void} redraw asks the map to draw again */
  constructor(redraw) {
    this.redraw = redraw;
    this.tiles = null; // canvas holding n × n tiles
    this.rect = null;
    this.n = 0;
    this.classes = null;
    this.confidence = null;
    /** How many workers' parts the grid shown was drawn from (1, or 2 when split). */
    this.parts = 0;
    /** `{rect, at}` of the last grid asked for and not drawn yet, for GRID_MEASURE. */
    this.waiting = null;
    /** The parts of the newest split grid so far (`{id, messages}`; see `receive`). */
    this.split = { id: 0, messages: null };
  }

  /** The map asks for the grid over `rect` now. */
  asked(rect) {
    this.waiting = { rect, at: performance.now() };
  }

  /**
   * A manifold message (protocol.js `msg.manifold`; classes only when `judged`). A whole grid
   * is drawn at once. The parts of a split grid wait until all its rows have come, so the map
   * never shows half of one grid over another; parts of an older grid than the newest, or of
   * one a whole grid has replaced meanwhile, are dropped.
   */
  receive(m, judged) {
    if (!m.part) {
      this.split.messages = null;
      this.setImages(m.rect, m.n, [digitsImage(m.pixels, m.n * m.n, m.n)], ...(judged ? [m.classes, m.confidence] : []));
      return;
    }
    const { id } = m.part;
    if (id > this.split.id) this.split = { id, messages: [] };
    if (id < this.split.id || !this.split.messages) return;
    const parts = this.split.messages;
    parts.push(m);
    if (parts.reduce((rows, p) => rows + p.part.end - p.part.first, 0) < m.n) return;
    this.split.messages = null;
    parts.sort((a, b) => a.part.first - b.part.first);
    this.setImages(m.rect, m.n, parts.map((p) => new ImageData(p.rgba, m.n * SIDE)));
  }

  /**
   * @param {{x0: number, x1: number, y0: number, y1: number}} rect plane region the tiles cover
   * @param {number} n tiles per side
   * @param {ImageData[]} rowParts the tiles' image (views/digits.js), top row first, in
   *   consecutive parts of whole rows
   * @param {Uint8Array|null} classes (n·n) the digit the judge sees in each tile, or null
   * @param {Float32Array|null} confidence (n·n) the judge's probability of that digit
   */
  setImages(rect, n, rowParts, classes = null, confidence = null) {
    if (rowParts.some((image) => image.width !== n * SIDE) || rowParts.reduce((h, image) => h + image.height, 0) !== n * SIDE) {
      throw new RangeError(`manifold: the parts are not ${n} rows of ${n} tiles`);
    }
    if (classes && (classes.length !== n * n || confidence?.length !== n * n)) {
      throw new RangeError(`manifold: ${classes.length} classes for ${n * n} tiles`);
    }
    this.tiles ??= document.createElement('canvas');
    sizeCanvas(this.tiles, n * SIDE, n * SIDE);
    const ctx = this.tiles.getContext('2d');
    let top = 0;
    for (const image of rowParts) {
      ctx.putImageData(image, 0, top);
      top += image.height;
    }
    if (classes) {
      // Each tile under its digit's colour, as opaque as the judge is sure.
      for (let k = 0; k < n * n; k++) {
        ctx.globalAlpha = JUDGE.tint * confidence[k];
        ctx.fillStyle = classColor(classes[k]);
        ctx.fillRect((k % n) * SIDE, Math.floor(k / n) * SIDE, SIDE, SIDE);
      }
      ctx.globalAlpha = 1;
    }
    this.rect = rect;
    this.n = n;
    this.classes = classes;
    this.confidence = confidence;
    this.parts = rowParts.length;
    this.redraw();
    if (this.waiting && sameRect(this.waiting.rect, rect)) {
      measureSince(GRID_MEASURE, this.waiting.at);
      this.waiting = null;
    }
  }

  clear() {
    this.rect = null;
    this.redraw();
  }

  under(ctx, t) {
    if (!this.rect) return;
    const { x0, x1, y0, y1 } = this.rect;
    ctx.drawImage(this.tiles, t.px(x0), t.py(y1), (x1 - x0) * t.sx, (y1 - y0) * t.sy);
  }

  snapshot() {
    const judged = this.rect && this.classes;
    return {
      n: this.rect ? this.n : 0,
      rect: this.rect,
      parts: this.rect ? this.parts : 0,
      classes: judged ? Array.from(this.classes) : null,
      confidence: judged ? Array.from(this.confidence) : null,
    };
  }
}

/**
 * A function that asks for `layer`'s decoded manifold over `scatter`'s target view through
 * `send` while `isOn()`. The view's rectangle changes with every scatter while training; asking at
 * most every MANIFOLD.minMs (and once more at the end) keeps the worker's decoding in proportion.
 * While `judged()`, each tile comes with the judge's class.
 */
export function pacedManifoldRequests(layer, scatter, isOn, send, judged = () => false) {
  const pace = { timer: 0, sentAt: -Infinity };
  return () => {
    if (pace.timer || !isOn()) return;
    const wait = Math.max(0, pace.sentAt + MANIFOLD.minMs - performance.now());
    pace.timer = setTimeout(() => {
      pace.timer = 0;
      const rect = scatter.targetRect();
      if (!rect || !isOn()) return;
      pace.sentAt = performance.now();
      layer.asked(rect);
      send(cmd.manifold(rect, MANIFOLD.tiles, judged()));
    }, wait);
  };
}
