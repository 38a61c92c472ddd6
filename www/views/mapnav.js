// Input on the latent map. Pointer: the wheel zooms about the cursor, a drag pans, a click
// picks the nearest point, resting near a point hovers it. Keyboard, with the map focused:
// arrows step a highlight to the nearest point in that direction, Enter or Space picks it,
// Escape clears; Shift+arrows pan, + and − zoom about the highlight, 0 resets the view.

import { SCATTER } from '../app/config.js';
import { classPhrase } from './scatter.js';

const DIRECTIONS = {
  ArrowLeft: [-1, 0, 'left'],
  ArrowRight: [1, 0, 'right'],
  ArrowUp: [0, -1, 'up'],
  ArrowDown: [0, 1, 'down'],
};

export class MapNavigation {
  /**
   * @param {import('./scatter.js').ScatterView} scatter
   * @param {object} on callbacks: `select(index)` a point is picked; `clear()` Escape;
   *   `hover(index, clientX, clientY)` the pointer rests near point `index` (−1: near none);
   *   `announce(text)` a sentence for people about the keyboard highlight
   */
  constructor(scatter, on) {
    this.scatter = scatter;
    this.on = on;
    this.drag = null;
    const canvas = scatter.canvas;
    canvas.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', () => this.endDrag());
    canvas.addEventListener('pointerleave', () => this.hover(-1));
    canvas.addEventListener('keydown', (e) => this.key(e));
  }

  /** Canvas pixel position of a pointer event. */
  local(e) {
    const box = this.scatter.canvas.getBoundingClientRect();
    return { x: e.clientX - box.left, y: e.clientY - box.top };
  }

  wheel(e) {
    if (!this.scatter.transform) return;
    e.preventDefault();
    // deltaMode 1 and 2 count lines and pages; about 40 and 800 pixels.
    const pixels = e.deltaY * [1, 40, 800][e.deltaMode];
    const { x, y } = this.local(e);
    this.scatter.zoomAt(SCATTER.zoomStep ** (pixels / 100), x, y);
  }

  down(e) {
    if (e.button !== 0 || !this.scatter.transform) return;
    this.drag = { x: e.clientX, y: e.clientY, from: { ...this.scatter.transform.bounds }, id: e.pointerId, moved: false };
  }

  move(e) {
    const d = this.drag;
    if (d) {
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (!d.moved && Math.hypot(dx, dy) <= SCATTER.dragPixels) return;
      if (!d.moved) {
        d.moved = true;
        this.scatter.canvas.setPointerCapture(d.id);
        this.scatter.canvas.classList.add('panning');
        this.hover(-1);
      }
      // From where the drag began, so rounding never accumulates.
      this.scatter.panBy(dx, dy, d.from);
      return;
    }
    if (!this.scatter.transform) return;
    const { x, y } = this.local(e);
    this.hover(this.scatter.nearest(x, y, SCATTER.pickRadius), e);
  }

  /** A press that did not move is a click: it picks the nearest point within reach. */
  up(e) {
    const d = this.drag;
    this.endDrag();
    if (!d || d.moved || !this.scatter.transform) return;
    const { x, y } = this.local(e);
    const index = this.scatter.nearest(x, y, SCATTER.pickRadius);
    if (index < 0) return;
    this.scatter.setHighlight(index);
    this.on.select(index);
  }

  endDrag() {
    this.drag = null;
    this.scatter.canvas.classList.remove('panning');
  }

  hover(index, e = null) {
    this.scatter.setHovered(index);
    this.on.hover(index, e?.clientX ?? 0, e?.clientY ?? 0);
  }

  key(e) {
    const s = this.scatter;
    if (e.altKey || e.ctrlKey || e.metaKey || !s.transform) return;
    const direction = DIRECTIONS[e.key];
    if (direction && e.shiftKey) {
      // The view moves the way the arrow points, so the picture moves the other way.
      const box = s.plotBox();
      s.panBy(-direction[0] * SCATTER.panShare * (box.right - box.left), -direction[1] * SCATTER.panShare * (box.bottom - box.top));
    } else if (direction) this.step(direction);
    else if (e.key === '+' || e.key === '=') this.zoomKey(1 / SCATTER.zoomStep);
    else if (e.key === '-' || e.key === '_') this.zoomKey(SCATTER.zoomStep);
    else if (e.key === '0') s.resetView();
    else if (e.key === 'Enter' || e.key === ' ') {
      if (s.highlight >= 0) this.on.select(s.highlight);
    } else if (e.key === 'Escape') {
      s.setHighlight(-1);
      this.on.clear();
      this.on.announce('Cleared.');
    } else return;
    e.preventDefault();
  }

  /** Zooms about the highlighted point when it is in view, else about the plot's centre. */
  zoomKey(factor) {
    const s = this.scatter;
    const box = s.plotBox();
    const p = s.pointAt(s.highlight);
    const inside = p && p.x >= box.left && p.x <= box.right && p.y >= box.top && p.y <= box.bottom;
    s.zoomAt(factor, inside ? p.x : (box.left + box.right) / 2, inside ? p.y : (box.top + box.bottom) / 2);
  }

  /**
   * Moves the highlight to the nearest point within 45° of the arrow's direction on screen,
   * preferring points straight ahead; the first press highlights the point nearest the centre.
   */
  step([dx, dy, word]) {
    const s = this.scatter;
    if (s.labels.length === 0) return;
    let next = -1;
    if (s.highlight < 0) {
      const box = s.plotBox();
      next = s.nearest((box.left + box.right) / 2, (box.top + box.bottom) / 2, Infinity);
    } else {
      const from = s.pointAt(s.highlight);
      const { px, py } = s.transform;
      let best = Infinity;
      for (let i = 0; i < s.labels.length; i++) {
        const ox = px(s.plane[2 * i]) - from.x;
        const oy = py(s.plane[2 * i + 1]) - from.y;
        const along = ox * dx + oy * dy;
        const across = Math.abs(oy * dx - ox * dy);
        if (along <= 0 || across > along) continue;
        const score = along + 2 * across;
        if (score < best) {
          best = score;
          next = i;
        }
      }
      if (next < 0) {
        this.on.announce(`No point further ${word}.`);
        return;
      }
    }
    s.setHighlight(next);
    this.keepInView(next);
    this.on.announce(this.describe(next));
  }

  /** Pans just enough that point `index` sits inside the plot. */
  keepInView(index) {
    const s = this.scatter;
    const p = s.pointAt(index);
    const box = s.plotBox();
    const m = 2 * SCATTER.ringRadius;
    const shift = (v, lo, hi) => (v < lo + m ? lo + m - v : v > hi - m ? hi - m - v : 0);
    const dx = shift(p.x, box.left, box.right);
    const dy = shift(p.y, box.top, box.bottom);
    if (dx || dy) s.panBy(dx, dy);
  }

  /** "test image 123, digit 7". */
  describe(index) {
    return `test image ${index}, ${classPhrase(this.scatter.classNames, this.scatter.labels[index])}`;
  }
}
