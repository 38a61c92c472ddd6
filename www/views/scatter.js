// The latent-space scatter: test-set codes as points coloured by class, with axes, a legend,
// and a view that follows the data smoothly as the codes move during training, until the
// person zooms or pans (views/mapnav.js): their rectangle then stays until Reset view. Other
// views draw on the same plane as layers (under or over the points), through the same transform.

import { SCATTER, classColor, hexRgb } from '../app/config.js';
import { fitCanvas, formatTick, niceTicks } from './axes.js';
import { sizeCanvas } from './digits.js';

const PAD = { left: 44, right: 12, top: 12, bottom: 36 };

export class ScatterView {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {HTMLElement} legend a list element; the view fills it with one item per class
   */
  constructor(canvas, legend) {
    this.canvas = canvas;
    this.legend = legend;
    this.plane = new Float32Array(0);
    this.labels = new Uint8Array(0);
    this.axisNames = ['z₁', 'z₂'];
    this.classNames = [];
    this.updates = 0; // setData calls so far
    this.view = null; // bounds drawn now {x0, x1, y0, y1}
    this.fit = null; // bounds that fit the data
    this.userView = null; // bounds the person zoomed or panned to, kept through training; or null
    this.frame = 0;
    this.layers = [];
    /** Points ringed on the map: the keyboard's (drawn while the map has focus) and the pointer's. */
    this.highlight = -1;
    this.hovered = -1;
    /** Called with the plane rectangle the view settles on, each time it changes. */
    this.onTarget = null;
    this.transform = null;
    this.ctx = fitCanvas(canvas, () => {
      this.requestDraw(true);
      this.announceTarget();
    });
    for (const type of ['focus', 'blur']) canvas.addEventListener(type, () => this.requestDraw());
  }

  /** Bounds the view eases towards: the person's, else the data's. */
  get target() {
    return this.userView ?? this.fit;
  }

  /**
   * Adds a layer: an object with `under(ctx, t)` and/or `over(ctx, t)`, called on each draw
   * with `t = {px, py, sx, sy, bounds}` (plane → canvas pixels), clipped to the plot.
   */
  addLayer(layer) {
    this.layers.push(layer);
    this.requestDraw();
  }

  /** The plane rectangle shown once the view has settled (equal units on both axes). */
  targetRect() {
    if (!this.target) return null;
    const { plotW, plotH } = this.plotSize();
    return equalAspect(this.target, plotW / plotH);
  }

  plotSize() {
    return {
      plotW: this.canvas.clientWidth - PAD.left - PAD.right,
      plotH: this.canvas.clientHeight - PAD.top - PAD.bottom,
    };
  }

  announceTarget() {
    const rect = this.targetRect();
    if (rect && this.onTarget) this.onTarget(rect);
  }

  /** The plot area in canvas pixels. */
  plotBox() {
    const { plotW, plotH } = this.plotSize();
    return { left: PAD.left, top: PAD.top, right: PAD.left + plotW, bottom: PAD.top + plotH };
  }

  /** Whether the person's rectangle, rather than the data's, sets the view. */
  get zoomed() {
    return this.userView !== null;
  }

  /**
   * Zooms by `factor` (below 1 zooms in) about canvas pixel (x, y), which keeps showing the
   * same plane point. The width stays within SCATTER.zoomRange of the fitted view's.
   */
  zoomAt(factor, x, y) {
    const t = this.transform;
    if (!t || !this.fit) return;
    const b = t.bounds;
    const fitWidth = this.fitRect().x1 - this.fitRect().x0;
    const [least, most] = SCATTER.zoomRange;
    const width = Math.min(most * fitWidth, Math.max(least * fitWidth, (b.x1 - b.x0) * factor));
    const f = width / (b.x1 - b.x0);
    const cx = b.x0 + (x - PAD.left) / t.sx;
    const cy = b.y1 - (y - PAD.top) / t.sy;
    this.setUserView({ x0: cx - (cx - b.x0) * f, x1: cx + (b.x1 - cx) * f, y0: cy - (cy - b.y0) * f, y1: cy + (b.y1 - cy) * f });
  }

  /** Moves the picture by (dx, dy) canvas pixels from `from` (bounds; default: those drawn now). */
  panBy(dx, dy, from = this.transform?.bounds) {
    if (!from) return;
    const { sx, sy } = this.transform;
    this.setUserView({ x0: from.x0 - dx / sx, x1: from.x1 - dx / sx, y0: from.y0 + dy / sy, y1: from.y1 + dy / sy });
  }

  /** Shows `bounds` at once (no easing: the picture follows the hand) and keeps them. */
  setUserView(bounds) {
    this.userView = bounds;
    this.view = { ...bounds };
    this.requestDraw();
    this.announceTarget();
  }

  /** Back to the rectangle that fits the data, eased there. */
  resetView() {
    if (!this.userView) return;
    this.userView = null;
    this.requestDraw();
    this.announceTarget();
  }

  /** The fitted view as drawn (equal units on both axes), or null before data. */
  fitRect() {
    if (!this.fit) return null;
    const { plotW, plotH } = this.plotSize();
    return equalAspect(this.fit, plotW / plotH);
  }

  /** Where point `index` is drawn, in canvas pixels (null before the first draw). */
  pointAt(index) {
    if (!this.transform || index < 0 || index >= this.labels.length) return null;
    return { x: this.transform.px(this.plane[2 * index]), y: this.transform.py(this.plane[2 * index + 1]) };
  }

  setHighlight(index) {
    this.highlight = index;
    this.requestDraw();
  }

  setHovered(index) {
    if (index === this.hovered) return;
    this.hovered = index;
    this.requestDraw();
  }

  /** Index of the point nearest canvas position (x, y) within `radius` pixels, else −1. */
  nearest(x, y, radius) {
    const { px, py } = this.transform;
    let best = -1;
    let bestD = radius * radius;
    for (let i = 0; i < this.labels.length; i++) {
      const dx = px(this.plane[2 * i]) - x;
      const dy = py(this.plane[2 * i + 1]) - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  /** Class names for the legend, label i named names[i]. */
  setClasses(names) {
    this.classNames = names;
    this.legend.replaceChildren(
      ...names.map((name, i) => {
        const item = document.createElement('li');
        const swatch = document.createElement('span');
        swatch.className = 'swatch';
        swatch.style.background = classColor(i);
        item.append(swatch, name);
        return item;
      }),
    );
  }

  /**
   * @param {Float32Array} plane (N·2) codes as x, y pairs
   * @param {Uint8Array} labels (N) class of each code
   * @param {string[]} axisNames the plane's x and y axes, as Rust names them
   */
  setData(plane, labels, axisNames = this.axisNames) {
    if (!(plane instanceof Float32Array)) throw new TypeError('scatter: plane must be a Float32Array');
    if (!(labels instanceof Uint8Array)) throw new TypeError('scatter: labels must be a Uint8Array');
    if (plane.length !== labels.length * 2) {
      throw new RangeError(`scatter: plane has ${plane.length} numbers for ${labels.length} labels; expected ${labels.length * 2}`);
    }
    this.plane = plane;
    this.labels = labels;
    this.axisNames = axisNames;
    this.updates++;
    const before = this.fit;
    this.fit = fitBounds(plane);
    if (this.highlight >= labels.length) this.highlight = -1;
    if (this.hovered >= labels.length) this.hovered = -1;
    // While training, the fit moves a little at every refresh: easing each of those moves kept
    // the map redrawing at every frame. Small moves jump; large ones still ease.
    this.requestDraw(this.view === null || sameBounds(this.view, this.target, SCATTER.jumpShare));
    if (!this.zoomed && (!before || !sameBounds(before, this.fit))) this.announceTarget();
  }

  /**
   * A copy of the points shown, for tests and future views, with `bounds` the plane rectangle
   * drawn now, `fit` the one that fits the data, `target` the one the view settles on and
   * `updates` the number of point sets received so far.
   */
  snapshot() {
    return {
      plane: this.plane.slice(),
      labels: this.labels.slice(),
      bounds: this.transform ? { ...this.transform.bounds } : null,
      fit: this.fitRect(),
      target: this.targetRect(),
      zoomed: this.zoomed,
      updates: this.updates,
      highlight: this.highlight,
      hovered: this.hovered,
      axisNames: [...this.axisNames],
    };
  }

  /**
   * The map as drawn, at device resolution, with the colour key beside it: a canvas for export.
   */
  exportCanvas() {
    const dpr = this.canvas.width / this.canvas.clientWidth;
    const keyWidth = Math.round(110 * dpr);
    const out = document.createElement('canvas');
    out.width = this.canvas.width + keyWidth;
    out.height = this.canvas.height;
    const ctx = out.getContext('2d');
    ctx.fillStyle = SCATTER.background;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(this.canvas, 0, 0);
    ctx.scale(dpr, dpr);
    ctx.font = SCATTER.font;
    ctx.textBaseline = 'middle';
    const left = this.canvas.clientWidth + 8;
    this.classNames.forEach((name, i) => {
      const y = PAD.top + 8 + i * 20;
      ctx.fillStyle = classColor(i);
      ctx.beginPath();
      ctx.arc(left + 6, y, 6, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = SCATTER.axisColor;
      ctx.fillText(name, left + 18, y);
    });
    return out;
  }

  /** Schedules a redraw; `snap` jumps to the target bounds instead of easing. */
  requestDraw(snap = false) {
    if (snap && this.target) this.view = { ...this.target };
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  /**
   * The points, from a canvas of their own painted again only when the points change or the
   * view has zoomed or moved by more than SCATTER.redotZoom or redotShift since: a hover or a layer's redraw, several
   * a second while training, repaints the map, and while the view eases (after a new model, at
   * every frame) rasterizing 3,000 anti-aliased dots took 20–40 ms of each frame. In between,
   * the dots' canvas is mapped onto the new view (scaled and shifted, at most a few per cent).
   */
  drawPoints(ctx) {
    const { plane, labels, canvas } = this;
    const { sx, sy, bounds } = this.transform;
    this.points ??= { canvas: document.createElement('canvas'), plane: null, labels: null, sx: 0, sy: 0, x0: 0, y1: 0 };
    const dots = this.points;
    // Plane → CSS pixels is px(x) = PAD.left + (x − x0)·sx: the dots were drawn with (x0, sx)
    // of then, and this maps them to those of now; device pixel for device pixel when unmoved.
    const dpr = canvas.width / canvas.clientWidth;
    const mapping = () => {
      const [kx, ky] = [sx / dots.sx, sy / dots.sy];
      const ex = dpr * (PAD.left * (1 - kx) + (dots.x0 - bounds.x0) * sx);
      const ey = dpr * (PAD.top * (1 - ky) + (bounds.y1 - dots.y1) * sy);
      return { kx, ky, ex, ey };
    };
    let m = mapping();
    const { redotZoom, redotShift } = SCATTER;
    const near = Math.max(m.kx, 1 / m.kx, m.ky, 1 / m.ky) <= redotZoom && Math.abs(m.ex) <= redotShift * canvas.width && Math.abs(m.ey) <= redotShift * canvas.height;
    if (dots.plane !== plane || dots.labels !== labels || dots.canvas.width !== canvas.width || dots.canvas.height !== canvas.height || !near) {
      Object.assign(dots, { plane, labels, sx, sy, x0: bounds.x0, y1: bounds.y1 });
      sizeCanvas(dots.canvas, canvas.width, canvas.height);
      if (dots.image?.width !== canvas.width || dots.image?.height !== canvas.height) dots.image = new ImageData(canvas.width, canvas.height);
      this.paintPoints(dots.image, dpr);
      dots.canvas.getContext('2d').putImageData(dots.image, 0, 0);
      m = mapping();
    }
    ctx.save();
    ctx.setTransform(m.kx, 0, 0, m.ky, m.ex, m.ey);
    ctx.drawImage(dots.canvas, 0, 0);
    ctx.restore();
  }

  /**
   * Every point as an anti-aliased dot in `image` (device pixels, cleared first), in test-set
   * order, which mixes the classes, so no class is always on top. Written as pixels, not as
   * canvas arcs: a new point set arrives several times a second while training, and 3,000 arcs
   * cost Chromium 25–35 ms of script plus their rasterization inside the frame's commit.
   */
  paintPoints(image, dpr) {
    const { plane, labels } = this;
    const { px, py } = this.transform;
    const { width, height, data } = image;
    data.fill(0);
    const r = SCATTER.pointRadius * dpr;
    for (let i = 0; i < labels.length; i++) {
      const [red, green, blue] = classRgb(labels[i]);
      const cx = dpr * px(plane[2 * i]);
      const cy = dpr * py(plane[2 * i + 1]);
      const [x0, x1] = [Math.max(0, Math.floor(cx - r - 0.5)), Math.min(width - 1, Math.floor(cx + r + 0.5))];
      const [y0, y1] = [Math.max(0, Math.floor(cy - r - 0.5)), Math.min(height - 1, Math.floor(cy + r + 0.5))];
      for (let y = y0; y <= y1; y++) {
        const dy = y + 0.5 - cy;
        for (let x = x0; x <= x1; x++) {
          // Coverage of the pixel: 1 inside the disc, falling to 0 over the pixel at its edge.
          const dx = x + 0.5 - cx;
          const alpha = Math.min(1, r + 0.5 - Math.sqrt(dx * dx + dy * dy));
          if (alpha <= 0) continue;
          // Source-over on straight (not premultiplied) RGBA, as ImageData holds it.
          const o = 4 * (y * width + x);
          const below = (data[o + 3] / 255) * (1 - alpha);
          const out = alpha + below;
          data[o] = (red * alpha + data[o] * below) / out;
          data[o + 1] = (green * alpha + data[o + 1] * below) / out;
          data[o + 2] = (blue * alpha + data[o + 2] * below) / out;
          data[o + 3] = 255 * out;
        }
      }
    }
  }

  draw() {
    this.frame = 0;
    if (this.target) {
      this.view = this.view ? ease(this.view, this.target) : { ...this.target };
      // The last step lands exactly, so a settled view is the target itself.
      if (sameBounds(this.view, this.target)) this.view = { ...this.target };
      else this.requestDraw();
    }
    const { ctx, canvas } = this;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    ctx.fillStyle = SCATTER.background;
    ctx.fillRect(0, 0, width, height);
    if (!this.view) return;

    // Equal units on both axes, so distances and the prior's round shape are not distorted.
    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    const b = equalAspect(this.view, plotW / plotH);
    const sx = plotW / (b.x1 - b.x0);
    const sy = plotH / (b.y1 - b.y0);
    const px = (x) => PAD.left + (x - b.x0) * sx;
    const py = (y) => PAD.top + (b.y1 - y) * sy;
    this.transform = { px, py, sx, sy, bounds: b };

    const xTicks = niceTicks(b.x0, b.x1, Math.max(2, Math.round(plotW / 80)));
    const yTicks = niceTicks(b.y0, b.y1, Math.max(2, Math.round(plotH / 80)));
    ctx.strokeStyle = SCATTER.gridColor;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const t of xTicks) {
      ctx.moveTo(Math.round(px(t)) + 0.5, PAD.top);
      ctx.lineTo(Math.round(px(t)) + 0.5, PAD.top + plotH);
    }
    for (const t of yTicks) {
      ctx.moveTo(PAD.left, Math.round(py(t)) + 0.5);
      ctx.lineTo(PAD.left + plotW, Math.round(py(t)) + 0.5);
    }
    ctx.stroke();

    ctx.save();
    ctx.beginPath();
    ctx.rect(PAD.left, PAD.top, plotW, plotH);
    ctx.clip();
    for (const layer of this.layers) layer.under?.(ctx, this.transform);
    this.drawPoints(ctx);
    for (const layer of this.layers) layer.over?.(ctx, this.transform);
    const focused = document.activeElement === this.canvas;
    for (const index of [this.hovered, focused ? this.highlight : -1]) {
      if (index < 0) continue;
      const x = px(this.plane[2 * index]);
      const y = py(this.plane[2 * index + 1]);
      // A dark ring inside a light one reads on the points, the tiles and the cells alike.
      for (const [color, width] of [[SCATTER.background, 5], [SCATTER.axisColor, 2]]) {
        ctx.strokeStyle = color;
        ctx.lineWidth = width;
        ctx.beginPath();
        ctx.arc(x, y, SCATTER.ringRadius, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    ctx.restore();

    ctx.strokeStyle = SCATTER.axisColor;
    ctx.strokeRect(PAD.left + 0.5, PAD.top + 0.5, plotW - 1, plotH - 1);
    ctx.fillStyle = SCATTER.axisColor;
    ctx.font = SCATTER.font;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of xTicks) ctx.fillText(formatTick(t, xTicks), px(t), PAD.top + plotH + 4);
    ctx.fillText(this.axisNames[0], PAD.left + plotW / 2, PAD.top + plotH + 19);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of yTicks) ctx.fillText(formatTick(t, yTicks), PAD.left - 5, py(t));
    ctx.save();
    ctx.translate(11, PAD.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(this.axisNames[1], 0, 0);
    ctx.restore();
  }
}

/** A class's colour as [r, g, b] bytes (memoised: the dots are painted pixel by pixel). */
function classRgb(label) {
  rgbCache[label] ??= hexRgb(classColor(label));
  return rgbCache[label];
}
const rgbCache = [];

/** How people name class `label`: "digit 7" for digit datasets, else the class's name. */
export function classPhrase(names, label) {
  const name = names[label] ?? String(label);
  return /^\d+$/.test(name) ? `digit ${name}` : name;
}

/** Bounds holding all but the outermost 0.5 % of points per axis, plus a margin. */
function fitBounds(plane) {
  const n = plane.length / 2;
  if (n === 0) return { x0: -3, x1: 3, y0: -3, y1: 3 };
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = plane[2 * i];
    ys[i] = plane[2 * i + 1];
  }
  xs.sort();
  ys.sort();
  // A few stray codes would otherwise squeeze the clusters into a corner.
  const lo = Math.floor(n * 0.005);
  const hi = n - 1 - lo;
  const pad = (a, b) => Math.max((b - a) * SCATTER.margin, 1e-3);
  const [x0, x1, y0, y1] = [xs[lo], xs[hi], ys[lo], ys[hi]];
  return { x0: x0 - pad(x0, x1), x1: x1 + pad(x0, x1), y0: y0 - pad(y0, y1), y1: y1 + pad(y0, y1) };
}

/** Widens the narrower side of `b` so that width / height equals `aspect`. */
function equalAspect(b, aspect) {
  const w = b.x1 - b.x0;
  const h = b.y1 - b.y0;
  if (w / h < aspect) {
    const extra = (h * aspect - w) / 2;
    return { ...b, x0: b.x0 - extra, x1: b.x1 + extra };
  }
  const extra = (w / aspect - h) / 2;
  return { ...b, y0: b.y0 - extra, y1: b.y1 + extra };
}

/** One animation frame's move of the view's bounds `from` towards `to`. */
const ease = (from, to) => Object.fromEntries(Object.keys(to).map((k) => [k, from[k] + (to[k] - from[k]) * SCATTER.easing]));

/** Within `share` of `b`'s extent on every side: by default, close enough that further easing would move nothing visibly. */
function sameBounds(a, b, share = 1e-3) {
  const tol = share * Math.max(b.x1 - b.x0, b.y1 - b.y0);
  return ['x0', 'x1', 'y0', 'y1'].every((k) => Math.abs(a[k] - b[k]) < tol);
}
