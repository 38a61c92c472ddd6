// The VQ-VAE codebook. On the map (D = 2, one code per image): the Voronoi cells of the codes,
// since every encoder output in a cell is quantized to its code, filled lightly with the
// colour of the digit most often assigned there, and the codes as marked points; dead codes
// (no test image assigned) grey; on request, a line from each encoder output z_e to the code
// it snaps to (its nearest code e_k: what the decoder gets instead of z_e). In the panel: how
// many test codes each code receives, the perplexity of that usage, and every code decoded.

import { Delaunay } from '../vendor/d3-delaunay/d3-delaunay.mjs';
import { CODEBOOK, classColor, hexRgb } from '../app/config.js';
import { fitCanvas } from './axes.js';
import { showDigits } from './digits.js';

export class CodebookView {
  /**
   * @param {HTMLElement} panel holds data-role="stats", "usage" (canvas), "strip" (canvas), "note"
   * @param {() => void} redrawMap asks the map to draw again
   * @param {() => Float32Array | null} mapPoints the map's points (N·2), the encoder outputs z_e
   */
  constructor(panel, redrawMap, mapPoints) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.stats = find('stats');
    this.strip = find('strip');
    this.note = find('note');
    this.usageCanvas = find('usage');
    this.redrawMap = redrawMap;
    this.data = null;
    this.cells = 0; // Voronoi cells drawn on the last map draw
    this.drawnBounds = null; // the plane rectangle of that draw
    this.usageCtx = fitCanvas(this.usageCanvas, () => this.drawUsage());
    this.mapPoints = mapPoints;
    this.snapToggle = find('snap');
    this.snapToggle.addEventListener('change', redrawMap);
    this.snapLines = 0; // snap lines drawn on the last map draw
    /** `{points, codebook, nearest}` of the last snap lines drawn. */
    this.snapDrawn = null;
  }

  /** Shown only for a VQ-VAE; hiding forgets the last codebook. */
  setModel({ kind }) {
    const visible = kind === 'vqvae';
    this.panel.hidden = !visible;
    if (!visible) this.clear();
  }

  clear() {
    this.data = null;
    this.cells = 0;
    this.stats.textContent = 'Train to see how the test images use the codes.';
    this.drawUsage();
    this.redrawMap();
  }

  /** @param {object} c a protocol CODEBOOK message */
  setData(c) {
    const k = c.usage.length;
    if (c.codebook.length !== k * c.codeDim) throw new RangeError(`codebook: ${c.codebook.length} numbers for ${k} codes of ${c.codeDim}`);
    // Perplexity: exp of the entropy of the usage, the number of equally used codes it is worth (Rust's).
    const total = c.nearest.length;
    this.data = { ...c, total, used: c.codesUsed };
    this.stats.textContent =
      `${c.codesUsed} of ${k} codes used by the ${total.toLocaleString('en-US')} test codes · perplexity ` +
      `${c.perplexity.toFixed(1)} · rate ${c.perCode} × log₂ ${k} = ${(c.perCode * Math.log2(k)).toFixed(1)} bits per image`;
    this.note.textContent = this.onMap()
      ? 'On the map: each code (◆) owns the cell of plane points nearer to it than to any other code.'
      : 'The map shows Voronoi cells only for D = 2 with one code per image.';
    showDigits(this.strip, c.images, k, Math.min(k, CODEBOOK.stripColumns), CODEBOOK.stripZoom);
    this.drawUsage();
    this.redrawMap();
  }

  onMap() {
    return this.data && this.data.codeDim === 2 && this.data.perCode === 1;
  }

  /** The light fill of a code's cell: its majority digit's colour mixed with white; grey when dead. */
  cellColor(code) {
    const m = this.data.majority[code];
    return m < 0 ? lighten(CODEBOOK.deadFill, 0) : lighten(classColor(m), CODEBOOK.fillMix);
  }

  under(ctx, t) {
    this.cells = 0;
    this.drawnBounds = { ...t.bounds };
    if (!this.onMap()) return;
    const { codebook } = this.data;
    const k = codebook.length / 2;
    // Cells are bounded by the visible area grown to hold every code, so each code gets one.
    const b = t.bounds;
    let [x0, x1, y0, y1] = [b.x0, b.x1, b.y0, b.y1];
    for (let i = 0; i < k; i++) {
      x0 = Math.min(x0, codebook[2 * i]);
      x1 = Math.max(x1, codebook[2 * i]);
      y0 = Math.min(y0, codebook[2 * i + 1]);
      y1 = Math.max(y1, codebook[2 * i + 1]);
    }
    const voronoi = new Delaunay(Float64Array.from(codebook)).voronoi([x0 - 1, y0 - 1, x1 + 1, y1 + 1]);
    ctx.strokeStyle = CODEBOOK.edge;
    ctx.lineWidth = 1;
    for (let i = 0; i < k; i++) {
      const polygon = voronoi.cellPolygon(i);
      // Two codes at the same point share one cell; the second has none.
      if (!polygon) continue;
      this.cells++;
      ctx.beginPath();
      polygon.forEach(([x, y], j) => (j ? ctx.lineTo(t.px(x), t.py(y)) : ctx.moveTo(t.px(x), t.py(y))));
      ctx.closePath();
      ctx.fillStyle = this.cellColor(i);
      ctx.fill();
      ctx.stroke();
    }
  }

  /** Thin lines from each encoder output to its code: the quantization step on the map. */
  drawSnaps(ctx, t) {
    this.snapLines = 0;
    const points = this.mapPoints();
    if (!this.snapToggle.checked || !points) return;
    const { codebook } = this.data;
    // The map shows the first test points; Rust's nearest codes cover the whole test set in the same order.
    const nearest = this.data.nearest.subarray(0, points.length / 2);
    this.snapDrawn = { points, codebook, nearest };
    ctx.strokeStyle = CODEBOOK.snapLine;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let i = 0; i < nearest.length; i++) {
      ctx.moveTo(t.px(points[2 * i]), t.py(points[2 * i + 1]));
      ctx.lineTo(t.px(codebook[2 * nearest[i]]), t.py(codebook[2 * nearest[i] + 1]));
    }
    ctx.stroke();
    this.snapLines = nearest.length;
  }

  over(ctx, t) {
    if (!this.onMap()) return;
    this.drawSnaps(ctx, t);
    const { codebook, usage } = this.data;
    const r = CODEBOOK.markerRadius;
    ctx.lineWidth = 1.5;
    for (let i = 0; i < usage.length; i++) {
      const x = t.px(codebook[2 * i]);
      const y = t.py(codebook[2 * i + 1]);
      ctx.beginPath();
      ctx.moveTo(x, y - r);
      ctx.lineTo(x + r, y);
      ctx.lineTo(x, y + r);
      ctx.lineTo(x - r, y);
      ctx.closePath();
      ctx.fillStyle = usage[i] === 0 ? CODEBOOK.deadMarker : '#ffffff';
      ctx.strokeStyle = usage[i] === 0 ? CODEBOOK.deadMarker : '#000000';
      ctx.fill();
      ctx.stroke();
    }
  }

  drawUsage() {
    const ctx = this.usageCtx;
    if (!ctx) return;
    const width = this.usageCanvas.clientWidth;
    const height = this.usageCanvas.clientHeight;
    ctx.clearRect(0, 0, width, height);
    if (!this.data) return;
    const { usage, majority } = this.data;
    const top = Math.max(...usage, 1);
    const bottom = 14;
    const slot = width / usage.length;
    ctx.font = CODEBOOK.font;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (let i = 0; i < usage.length; i++) {
      const h = (usage[i] / top) * (height - bottom - 2);
      ctx.fillStyle = majority[i] < 0 ? CODEBOOK.deadMarker : classColor(majority[i]);
      ctx.fillRect(i * slot + 1, height - bottom - h, Math.max(1, slot - 2), h);
      // Dead codes have no bar; a cross keeps them visible.
      ctx.fillStyle = majority[i] < 0 ? CODEBOOK.deadMarker : '#333333';
      if (slot >= 12 || usage[i] === 0) ctx.fillText(usage[i] === 0 ? '×' : String(i), (i + 0.5) * slot, height - bottom + 2);
    }
  }

  /** What the view shows, for tests. */
  snapshot() {
    if (!this.data) return null;
    const { usage, majority, total, used, perplexity } = this.data;
    const fills = this.onMap() ? Array.from(usage, (_, i) => this.cellColor(i)) : [];
    return {
      codes: usage.length,
      cells: this.cells,
      bounds: this.drawnBounds,
      usage: Array.from(usage),
      majority: Array.from(majority),
      total,
      used,
      perplexity,
      fills,
      snapLines: this.snapLines,
      // The points and codebook the last snap lines were drawn for, and each point's code.
      snap: this.snapDrawn && {
        points: Array.from(this.snapDrawn.points),
        codebook: Array.from(this.snapDrawn.codebook),
        nearest: Array.from(this.snapDrawn.nearest),
      },
    };
  }
}

/** `hex` mixed with white as an rgb() colour: `mix` 0 gives the colour, 1 white. */
function lighten(hex, mix) {
  const channels = hexRgb(hex).map((byte) => Math.round(byte * (1 - mix) + 255 * mix));
  return `rgb(${channels.join(', ')})`;
}
