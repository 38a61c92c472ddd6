// The decoded manifold: the visible plane tiled with the decoder's image at each tile's centre,
// drawn under the scatter's points. An AE leaves junk between its clusters; a VAE fills in.

import { digitsImage } from './digits.js';
import { cmd } from '../app/protocol.js';
import { MANIFOLD } from '../app/config.js';

export class ManifoldLayer {
  /** @param {() => void} redraw asks the map to draw again */
  constructor(redraw) {
    this.redraw = redraw;
    this.tiles = null; // canvas holding n × n tiles
    this.rect = null;
    this.n = 0;
  }

  /**
   * @param {{x0: number, x1: number, y0: number, y1: number}} rect plane region the tiles cover
   * @param {number} n tiles per side
   * @param {Float32Array} pixels (n·n·784) images in [0, 1], top row first
   */
  setImages(rect, n, pixels) {
    const image = digitsImage(pixels, n * n, n);
    this.tiles ??= document.createElement('canvas');
    this.tiles.width = image.width;
    this.tiles.height = image.height;
    this.tiles.getContext('2d').putImageData(image, 0, 0);
    this.rect = rect;
    this.n = n;
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
    return { n: this.rect ? this.n : 0, rect: this.rect };
  }
}

/**
 * A function that asks for the decoded manifold over `scatter`'s target view through `send`
 * while `isOn()`. The view's rectangle changes with every scatter while training; asking at
 * most every MANIFOLD.minMs (and once more at the end) keeps the worker's decoding in proportion.
 */
export function pacedManifoldRequests(scatter, isOn, send) {
  const pace = { timer: 0, sentAt: -Infinity };
  return () => {
    if (pace.timer || !isOn()) return;
    const wait = Math.max(0, pace.sentAt + MANIFOLD.minMs - performance.now());
    pace.timer = setTimeout(() => {
      pace.timer = 0;
      const rect = scatter.targetRect();
      if (!rect || !isOn()) return;
      pace.sentAt = performance.now();
      send(cmd.manifold(rect, MANIFOLD.tiles));
    }, wait);
  };
}
