// Traverse one dimension: for the selected digit's code (the origin when none), one row per
// latent dimension, that dimension swept from −range to +range while the others stay fixed.
// A row that does not change is a dimension the decoder ignores (collapsed, for a VAE).

import { DIM_ROWS } from '../app/config.js';
import { PIXELS, SIDE, showDigits } from './digits.js';

export class DimRowsView {
  /**
   * @param {HTMLElement} panel holds data-role="caption", "rows", "show-all" (checkbox),
   *   "show-all-label", "show-all-text", "values"
   * @param {(count: number) => void} onRequest asks the worker for the first `count` rows
   */
  constructor(panel, onRequest) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.caption = find('caption');
    this.rowsBox = find('rows');
    this.showAll = find('show-all');
    this.showAllLabel = find('show-all-label');
    this.showAllText = find('show-all-text');
    this.onRequest = onRequest;
    this.valuesRow = find('values');
    this.dim = 0;
    this.shown = null;
    this.showAll.addEventListener('change', () => this.request());
  }

  /** One row per dimension up to DIM_ROWS.defaultRows, all of them on request; none for a VQ-VAE. */
  setModel({ kind, latentDim }) {
    this.panel.hidden = kind === 'vqvae';
    if (this.panel.hidden) return;
    const hasMore = latentDim > DIM_ROWS.defaultRows;
    this.showAllLabel.hidden = !hasMore;
    this.showAllText.textContent = `Show all ${latentDim} dimensions`;
    if (latentDim !== this.dim) this.showAll.checked = false;
    this.dim = latentDim;
    this.request();
  }

  count() {
    return this.showAll.checked ? this.dim : Math.min(this.dim, DIM_ROWS.defaultRows);
  }

  request() {
    this.onRequest(this.count());
  }

  /** @param {object} m a protocol DIM_ROWS message */
  setRows(m) {
    // Rows of a former request (other count or model) are replaced by the next message.
    if (m.count !== this.count() || this.panel.hidden) return;
    const steps = m.values.length;
    if (this.valuesRow.children.length !== steps) this.showValues(m.values);
    if (this.rowsBox.children.length !== m.count) {
      this.rowsBox.replaceChildren(...Array.from({ length: m.count }, (_, j) => row(j)));
    }
    [...this.rowsBox.children].forEach((el, j) => {
      const canvas = el.querySelector('canvas');
      showDigits(canvas, m.pixels.subarray(j * steps * PIXELS, (j + 1) * steps * PIXELS), steps, steps, DIM_ROWS.zoom);
    });
    const others = this.dim > m.count ? ` Dimensions beyond z${m.count} stay fixed too.` : '';
    this.caption.textContent =
      (m.base === null
        ? 'From the origin z = 0 (pick a digit on the map to start from its code): '
        : `From the code of test image #${m.base} (class ${m.baseLabel}): `) +
      `each row sweeps one dimension from −${DIM_ROWS.range} to +${DIM_ROWS.range}, the others fixed.${others}`;
    this.shown = { base: m.base, count: m.count, steps };
  }

  /** The swept values above the rows, every other one so the labels stay readable over images this small. */
  showValues(values) {
    this.valuesRow.replaceChildren(
      ...Array.from(values, (v, i) => {
        const cell = document.createElement('span');
        if (i % 2 === 0) cell.textContent = v === 0 ? '0' : `${v > 0 ? '+' : '−'}${Number(Math.abs(v).toFixed(2))}`;
        return cell;
      }),
    );
    this.valuesRow.style.setProperty('--cols', values.length);
    this.valuesRow.style.width = `${values.length * SIDE * DIM_ROWS.zoom}px`;
  }

  /** What the view shows, for tests. */
  snapshot() {
    return { visible: !this.panel.hidden, dim: this.dim, count: this.count(), shown: this.shown };
  }
}

function row(j) {
  const el = document.createElement('div');
  el.className = 'dim-row';
  const name = document.createElement('span');
  name.textContent = `z${j + 1}`;
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Decoded images as z${j + 1} goes from −${DIM_ROWS.range} to +${DIM_ROWS.range}`);
  el.append(name, canvas);
  return el;
}
