// Generation: images decoded from codes drawn from the prior, the model's answer to "make a
// new digit". Only a model whose codes were pushed towards the prior makes digits this way.

import { GENERATION } from '../app/config.js';
import { showDigits } from './digits.js';

const CAPTIONS = {
  vae: 'z ~ N(0, I), decoded.',
  vqvae: 'Random codes, decoded: each position of the code grid picks a codebook vector uniformly.',
  ae: 'z ~ N(0, I), decoded. The autoencoder’s codes were never pushed towards N(0, I), so many samples look like no digit.',
};

export class GenerationView {
  /**
   * @param {HTMLElement} panel holds data-role="caption", "grid", "resample"
   * @param {(count: number, seed: number) => void} onSample asks the worker for samples
   */
  constructor(panel, onSample) {
    this.caption = panel.querySelector('[data-role="caption"]');
    this.grid = panel.querySelector('[data-role="grid"]');
    this.onSample = onSample;
    this.count = GENERATION.side * GENERATION.side;
    this.seed = null;
    this.shown = null;
    panel.querySelector('[data-role="resample"]').addEventListener('click', () => this.resample());
  }

  /** A new seed: new codes, while training refreshes keep the codes and show the decoder learn. */
  resample() {
    this.seed = Math.floor(Math.random() * 2 ** 32);
    this.onSample(this.count, this.seed);
  }

  setModel({ kind }) {
    this.caption.textContent = CAPTIONS[kind];
  }

  /** @param {object} m a protocol SAMPLES message */
  setSamples(m) {
    // Samples of a seed replaced by Resample are on their way out; the new ones follow.
    if (m.seed !== this.seed) return;
    this.shown = { kind: m.kind, seed: m.seed, count: m.count };
    showDigits(this.grid, m.pixels, m.count, GENERATION.side, GENERATION.zoom);
  }

  /** What the view shows, for tests. */
  snapshot() {
    return this.shown;
  }
}
