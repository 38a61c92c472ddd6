// The decoded manifold: the visible plane tiled with the decoder's image at each tile's centre,
// drawn under the scatter's points. An AE leaves junk between its clusters; a VAE fills in.
// Judged, each tile is tinted with the colour of the digit the classifier sees in it.

import { SIDE, digitsImage, sizeCanvas } from './digits.js';
import { cmd } from '../app/protocol.js';
import { JUDGE, MANIFOLD, classColor } from '../app/config.js';

export class ManifoldLayer {
  /** @param {() => void} redraw asks the map to draw again */
  constructor(redraw) {
    this.redraw = redraw;
    this.tiles = null; // canvas holding n × n tiles
    this.rect = null;
    this.n = 0;
    this.classes = null;
    this.confidence = null;
  }

  /**
   * @param {{x0: number, x1: number, y0: number, y1: number}} rect plane region the tiles cover
   * @param {number} n tiles per side
   * @param {Float32Array} pixels (n·n·784) images in [0, 1], top row first
   * @param {Uint8Array|null} classes (n·n) the digit the judge sees in each tile, or null
   * @param {Float32Array|null} confidence (n·n) the judge's probability of that digit
   */
  setImages(rect, n, pixels, classes = null, confidence = null) {
    const image = digitsImage(pixels, n * n, n);
    if (classes && (classes.length !== n * n || confidence?.length !== n * n)) {
      throw new RangeError(`manifold: ${classes.length} classes for ${n * n} tiles`);
    }
    this.tiles ??= document.createElement('canvas');
    sizeCanvas(this.tiles, image.width, image.height);
    const ctx = this.tiles.getContext('2d');
    ctx.putImageData(image, 0, 0);
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
    this.redraw();
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
      classes: judged ? Array.from(this.classes) : null,
      confidence: judged ? Array.from(this.confidence) : null,
    };
  }
}

/**
 * A function that asks for the decoded manifold over `scatter`'s target view through `send`
 * while `isOn()`. The view's rectangle changes with every scatter while training; asking at
 * most every MANIFOLD.minMs (and once more at the end) keeps the worker's decoding in proportion.
 * While `judged()`, each tile comes with the judge's class.
 */
export function pacedManifoldRequests(scatter, isOn, send, judged = () => false) {
  const pace = { timer: 0, sentAt: -Infinity };
  return () => {
    if (pace.timer || !isOn()) return;
    const wait = Math.max(0, pace.sentAt + MANIFOLD.minMs - performance.now());
    pace.timer = setTimeout(() => {
      pace.timer = 0;
      const rect = scatter.targetRect();
      if (!rect || !isOn()) return;
      pace.sentAt = performance.now();
      send(cmd.manifold(rect, MANIFOLD.tiles, judged()));
    }, wait);
  };
}
