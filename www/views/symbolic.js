// The VQ-VAE's symbolic image: the selected digit as its grid of l code indices (√l × √l when l
// is a square, else a row), each cell coloured by its code. Editing a cell picks another
// codebook vector for that position and shows what the decoder makes of the edited grid;
// "Random codes" decodes grids drawn uniformly, the simplest prior over code grids. Once a
// learned prior is in, "Complete the rest" keeps the grid's first codes (up to the last one the
// student changed) and draws the later positions from it, in raster order.

import { PRIOR, SYMBOLIC } from '../app/config.js';
import { PIXELS, showDigits } from './digits.js';

export class SymbolicView {
  /**
   * @param {HTMLElement} panel holds data-role="hint", "grid", "input", "decoded", "edited",
   *   "restore", "random", "random-images", "rate", "keep", "complete", "completions"
   * @param {(codes: Uint32Array, id: number) => void} onDecode sends one DECODE_CODES request
   * @param {(codes: Uint32Array, keep: number, count: number, id: number) => void} onComplete
   *   sends one PRIOR_COMPLETE request
   */
  constructor(panel, onDecode, onComplete) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.hint = find('hint');
    this.gridBox = find('grid');
    this.input = find('input');
    this.decoded = find('decoded');
    this.edited = find('edited');
    this.restoreButton = find('restore');
    this.randomImages = find('random-images');
    this.rate = find('rate');
    this.onDecode = onDecode;
    this.onComplete = onComplete;
    this.keepInput = find('keep');
    this.completeButton = find('complete');
    this.completions = find('completions');
    /** Whether a learned prior is in; the last completion asked for `{id, grid, keep}` and shown. */
    this.hasPrior = false;
    this.completion = null;
    this.completed = null;
    this.k = 0;
    this.l = 0;
    /** The selected digit: `{index, label, codes}` as the encoder assigns them now, or null. */
    this.selection = null;
    /** The grid in the editor (Uint32Array of l), and whether the student changed it. */
    this.grid = null;
    this.isEdited = false;
    this.random = null; // Uint32Array of randomCount·l indices, or null
    this.nextId = 0;
    this.sentId = -1;
    this.sent = null; // what request sentId holds: {grid, original, random}
    this.inFlight = false;
    this.dirty = false;
    this.shown = null;
    this.restoreButton.addEventListener('click', () => this.restore());
    find('random').addEventListener('click', () => this.drawRandom());
    this.completeButton.addEventListener('click', () => this.complete());
  }

  /** A learned prior arrived (true) or was dropped with the model it fitted (false). */
  setPrior(available) {
    this.hasPrior = available;
    if (!available) {
      this.completed = null;
      this.completions.hidden = true;
    }
    this.update();
  }

  /** Asks for completions of the grid: its first `keep` codes stay, the prior draws the rest. */
  complete() {
    if (!this.grid || !this.hasPrior) return;
    const keep = Math.min(this.l, Math.max(0, Math.round(Number(this.keepInput.value)) || 0));
    this.keepInput.value = keep;
    this.completion = { id: this.nextId++, grid: Uint32Array.from(this.grid), keep };
    this.onComplete(this.completion.grid, keep, PRIOR.completions, this.completion.id);
  }

  /** @param {object} m a protocol PRIOR_COMPLETED message */
  setCompleted(m) {
    if (m.id !== this.completion?.id) return;
    showDigits(this.completions, m.pixels, m.count, m.count, SYMBOLIC.randomZoom);
    this.completions.hidden = false;
    this.completed = { keep: m.keep, grid: [...this.completion.grid], codes: [...m.codes], count: m.count };
  }

  setModel(model) {
    this.panel.hidden = model.kind !== 'vqvae';
    if (this.panel.hidden) return;
    const { codebookSize: k, codesPerImage: l } = model;
    this.rate.textContent =
      `${l} code${l > 1 ? 's' : ''} per image from K = ${k}: ${l} × log₂ ${k} = ${(l * Math.log2(k)).toFixed(1)} bits.` +
      (k > SYMBOLIC.fills.length ? ` Cell colours repeat every ${SYMBOLIC.fills.length} codes; the number names the code.` : '');
    // Same shape (a reset, new settings): the grids still fit; decode them with the new model.
    if (k === this.k && l === this.l) {
      this.request();
      return;
    }
    this.k = k;
    this.l = l;
    // Grids of another shape or codebook no longer apply; the next selection brings new codes.
    this.selection = null;
    this.grid = null;
    this.isEdited = false;
    this.random = null;
    this.shown = null;
    // A reply still in flight belongs to the old grids.
    this.inFlight = false;
    this.sentId = -1;
    this.keepInput.max = l;
    this.keepInput.value = Math.floor(l / 2);
    this.buildCells();
    this.update();
  }

  buildCells() {
    const side = Math.sqrt(this.l);
    const cols = Number.isInteger(side) ? side : this.l;
    this.gridBox.style.setProperty('--cols', cols);
    this.cells = Array.from({ length: this.l }, (_, i) => {
      const input = document.createElement('input');
      Object.assign(input, { type: 'number', min: 0, max: this.k - 1, step: 1, className: 'code-cell' });
      input.setAttribute('aria-label', `Code at row ${Math.floor(i / cols) + 1}, column ${(i % cols) + 1}`);
      input.addEventListener('input', () => this.edit(i, input.value));
      return input;
    });
    this.gridBox.replaceChildren(...this.cells);
  }

  /** @param {object} s a protocol SELECTION message; carries the codes for a VQ-VAE */
  setSelection(s) {
    if (this.panel.hidden || !s.codes || s.codes.length !== this.l) return;
    const fresh = this.selection?.index !== s.index;
    const changed = fresh || s.codes.some((c, i) => c !== this.selection.codes[i]);
    this.selection = { index: s.index, label: s.label, codes: Uint32Array.from(s.codes), image: s.image };
    showDigits(this.input, s.image, 1, 1, SYMBOLIC.zoom);
    // A new digit starts from its own codes; training refreshes keep the student's edits.
    if (fresh || !this.isEdited) {
      this.isEdited = false;
      this.grid = Uint32Array.from(s.codes);
    }
    if (changed) this.request();
    this.update();
  }

  edit(i, text) {
    const v = Number(text);
    if (text.trim() === '' || !Number.isInteger(v) || v < 0 || v >= this.k) return;
    this.grid[i] = v;
    this.isEdited = this.grid.some((c, j) => c !== this.selection.codes[j]);
    // Completion keeps every code up to the last one the student set.
    this.keepInput.value = this.lastEdited() + 1 || Math.floor(this.l / 2);
    this.paintCell(i);
    this.request();
    this.update();
  }

  /** The position of the last cell that differs from the encoder's codes, or −1. */
  lastEdited() {
    return this.grid.findLastIndex((c, j) => c !== this.selection.codes[j]);
  }

  restore() {
    if (!this.selection) return;
    this.grid = Uint32Array.from(this.selection.codes);
    this.isEdited = false;
    this.request();
    this.update();
  }

  drawRandom() {
    if (!this.k) return;
    this.random = Uint32Array.from({ length: SYMBOLIC.randomCount * this.l }, () => Math.floor(Math.random() * this.k));
    this.request();
  }

  /** At most one request in flight; changes made meanwhile go out as one. */
  request() {
    if (this.inFlight) {
      this.dirty = true;
      return;
    }
    const parts = [];
    const sent = { grid: null, original: null, random: null };
    if (this.grid) {
      sent.grid = Uint32Array.from(this.grid);
      sent.original = Uint32Array.from(this.selection.codes);
      parts.push(sent.grid, sent.original);
    }
    if (this.random) {
      sent.random = this.random;
      parts.push(this.random);
    }
    if (parts.length === 0) return;
    const codes = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (codes.set(p, at), at + p.length), 0);
    this.inFlight = true;
    this.dirty = false;
    this.sentId = this.nextId++;
    this.sent = sent;
    this.onDecode(codes, this.sentId);
  }

  /** @param {object} m a protocol CODES_DECODED message */
  setDecoded(m) {
    if (m.id !== this.sentId || this.panel.hidden) return;
    const { grid, original, random } = this.sent;
    let at = 0;
    const next = (n) => m.pixels.subarray(at * PIXELS, (at += n) * PIXELS);
    if (grid) {
      showDigits(this.edited, next(1), 1, 1, SYMBOLIC.zoom);
      showDigits(this.decoded, next(1), 1, 1, SYMBOLIC.zoom);
    }
    if (random) showDigits(this.randomImages, next(SYMBOLIC.randomCount), SYMBOLIC.randomCount, SYMBOLIC.randomCount, SYMBOLIC.randomZoom);
    this.shown = { grid: grid && [...grid], original: original && [...original], random: random ? SYMBOLIC.randomCount : 0 };
    this.randomImages.hidden = !random;
    if (this.inFlight) {
      this.inFlight = false;
      if (this.dirty) this.request();
    }
    this.update();
  }

  paintCell(i) {
    const cell = this.cells[i];
    const code = this.grid[i];
    cell.style.background = SYMBOLIC.fills[code % SYMBOLIC.fills.length];
    // An edited cell is outlined, so the student sees which positions differ from the encoder's.
    cell.classList.toggle('edited', code !== this.selection.codes[i]);
  }

  update() {
    const s = this.selection;
    for (const el of [this.input, this.decoded, this.edited]) el.hidden = !s || !this.shown?.grid;
    this.restoreButton.disabled = !this.isEdited;
    this.completeButton.disabled = !this.grid || !this.hasPrior;
    this.completeButton.title = this.hasPrior ? '' : 'Train or load a learned prior first (the Learned prior panel).';
    this.cells?.forEach((cell, i) => {
      cell.disabled = !this.grid;
      if (!this.grid) {
        cell.value = '';
        cell.style.background = '';
        return;
      }
      // Leave a cell the student is typing in alone.
      if (document.activeElement !== cell) cell.value = this.grid[i];
      this.paintCell(i);
    });
    this.hint.textContent = s
      ? `Test image #${s.index} (class ${s.label}) as ${this.l} code indices. Change a cell (type, or arrow keys) to swap its codebook vector: ` +
        'the input, the decoder’s image of its codes, and of the grid as edited.'
      : 'Pick a digit on the map to see its codes.';
  }

  /** What the view shows, for tests. */
  snapshot() {
    return {
      visible: !this.panel.hidden,
      k: this.k,
      l: this.l,
      cells: this.cells?.length ?? 0,
      index: this.selection?.index ?? null,
      codes: this.selection ? [...this.selection.codes] : null,
      grid: this.grid ? [...this.grid] : null,
      edited: this.isEdited,
      shown: this.shown,
      inFlight: this.inFlight,
      hasPrior: this.hasPrior,
      completed: this.completed,
    };
  }
}
