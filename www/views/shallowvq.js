// Shallow VQ on pixels: k-means over the training images as a quantizing autoencoder. Shows the
// run's progress, the K centroids (they are the reconstructions), test digits beside their
// centroids, a table of reconstruction cost against rate beside the VQ-VAE in the page, and
// shallow VQ-VAE samples μ_z + σε beside the VQ-VAE's uniform samples. Every number is Rust's.

import { SHALLOW } from '../app/config.js';
import { PIXELS, showDigits } from './digits.js';

const nats = (v) => v.toFixed(1);
const bits = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

export class ShallowVqView {
  /**
   * @param {HTMLElement} panel holds data-role="hint", "k", "images", "run", "cancel", "bar",
   *   "progress", "table", "centroids", "shown", "shown-centroids", "shown-nll", "sigma",
   *   "sigma-value", "resample", "samples", "vq-samples", "vq-samples-figure"
   * @param {{run: (k, images) => void, cancel: () => void, sample: (sigma) => void}} actions
   */
  constructor(panel, actions) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.actions = actions;
    for (const role of ['hint', 'k', 'images', 'run', 'cancel', 'bar', 'progress', 'table', 'centroids', 'shown', 'sigma', 'resample']) this[role] = find(role);
    Object.assign(this, {
      shownCentroids: find('shown-centroids'),
      shownNll: find('shown-nll'),
      sigmaValue: find('sigma-value'),
      samplesCanvas: find('samples'),
      vqSamplesCanvas: find('vq-samples'),
      vqSamplesFigure: find('vq-samples-figure'),
    });
    for (const k of SHALLOW.ks) this.k.add(new Option(`K = ${k} (${Math.log2(k)} bits)`, String(k)));
    this.k.value = String(SHALLOW.defaultK);
    for (const n of SHALLOW.images) this.images.add(new Option(n ? `first ${n.toLocaleString('en-US')} training images` : 'all training images', String(n)));
    Object.assign(this.sigma, { min: 0, max: SHALLOW.sigmaMax, step: SHALLOW.sigmaStep, value: SHALLOW.defaultSigma });
    this.run.addEventListener('click', () => this.start());
    this.cancel.addEventListener('click', actions.cancel);
    this.resample.addEventListener('click', () => actions.sample(Number(this.sigma.value)));
    this.sigma.addEventListener('input', () => this.showSigma());
    this.sigma.addEventListener('change', () => actions.sample(Number(this.sigma.value)));
    /** The last finished run of each K: `{codebookSize, rateBits, testNllNats, …}` (no bulk). */
    this.runs = new Map();
    this.report = null;
    this.progressSeen = [];
    this.running = false;
    this.samples = null;
    this.showSigma();
    this.update();
  }

  /** Starts a run with the chosen K and images (a preset may choose them first). */
  start(k = Number(this.k.value), images = Number(this.images.value)) {
    this.k.value = String(k);
    this.images.value = String(images);
    this.progressSeen = [];
    this.running = true;
    this.update();
    this.actions.run(k, images);
  }

  showSigma() {
    this.sigmaValue.textContent = `σ = ${Number(this.sigma.value).toFixed(2)}`;
  }

  /** @param {object} m a protocol KMEANS_PROGRESS message */
  setProgress({ progress }) {
    if (!progress) {
      // Cancelled, or new data dropped the run.
      this.running = false;
      this.progressSeen = [];
      this.update();
      return;
    }
    this.running = progress.stage !== 'finished';
    this.progressSeen.push({ ...progress });
    this.update();
  }

  /** @param {object} m a protocol SHALLOW_REPORT message */
  setReport({ report }) {
    if (!report) {
      // New data: the centroids and scores of the old images no longer apply.
      Object.assign(this, { report: null, samples: null, progressSeen: [], running: false });
      this.runs.clear();
      this.update();
      return;
    }
    this.report = report;
    const { centroids, shownPixels, shownCodes, shownNll, ...numbers } = report;
    this.runs.set(report.codebookSize, numbers);
    showDigits(this.centroids, centroids, report.codebookSize, Math.min(report.codebookSize, 16), SHALLOW.centroidZoom * (report.codebookSize > 64 ? 1 : 2));
    const shownCentroids = new Float32Array(report.shown * PIXELS);
    shownCodes.forEach((z, i) => shownCentroids.set(centroids.subarray(z * PIXELS, (z + 1) * PIXELS), i * PIXELS));
    showDigits(this.shown, shownPixels, report.shown, report.shown, SHALLOW.zoom);
    showDigits(this.shownCentroids, shownCentroids, report.shown, report.shown, SHALLOW.zoom);
    this.shownNll.replaceChildren(...Array.from(shownNll, (v, i) => Object.assign(document.createElement('span'), { textContent: `${nats(v)} (z=${shownCodes[i]})` })));
    this.running = false;
    this.update();
    this.actions.sample(Number(this.sigma.value));
  }

  /** @param {object} m a protocol SHALLOW_SAMPLES message */
  setSamples(m) {
    showDigits(this.samplesCanvas, m.pixels, m.count, m.count, SHALLOW.zoom);
    this.vqSamplesFigure.hidden = !m.vqPixels;
    if (m.vqPixels) showDigits(this.vqSamplesCanvas, m.vqPixels, m.count, m.count, SHALLOW.zoom);
    this.samples = { seed: m.seed, sigma: m.sigma, codes: [...m.codes], vqCodes: m.vqCodes ? [...m.vqCodes] : null };
  }

  /** The table: each K run so far, then the VQ-VAE in the page, scored on the same test images. */
  tableRows() {
    const rows = [...this.runs.values()]
      .sort((a, b) => a.codebookSize - b.codebookSize)
      .map((r) => ({ model: 'shallow VQ (k-means on pixels)', k: r.codebookSize, l: 1, rate: r.rateBits, nats: r.testNllNats }));
    const vq = this.report?.vq;
    if (vq) rows.push({ model: `VQ-VAE in the page (D = ${vq.codeDim})`, k: vq.codebookSize, l: vq.codesPerImage, rate: vq.rateBits, nats: vq.reconNats });
    return rows;
  }

  update() {
    const last = this.progressSeen.at(-1);
    this.run.disabled = this.running;
    this.cancel.disabled = !this.running;
    this.resample.disabled = !this.report;
    this.sigma.disabled = !this.report;
    if (last) {
      const seeding = last.stage === 'seeding' || last.iterations === 0;
      this.bar.max = last.codebookSize + last.maxIterations;
      this.bar.value = last.stage === 'finished' ? this.bar.max : last.seeds + last.iterations;
      const images = last.images.toLocaleString('en-US');
      this.progress.textContent = seeding
        ? `k-means++ seeding on ${images} images: ${last.seeds} of ${last.codebookSize} centroids picked`
        : `Lloyd iteration ${last.iterations}${last.stage === 'finished' ? '' : ` (at most ${last.maxIterations})`}: ` +
          `mean ‖x − μ_z‖² ${last.objectivePerImage.toFixed(2)}, ${last.changed.toLocaleString('en-US')} images moved` +
          (last.stage === 'finished' ? ` — ${last.converged ? 'converged' : 'stopped at the cap'} after ${last.seconds.toFixed(1)} s.` : '');
    } else {
      this.bar.removeAttribute('value');
      this.progress.textContent = '';
    }
    this.bar.hidden = !last;
    const r = this.report;
    // ε is Rust's f32 10⁻³, widened to a double on its way here.
    const eps = r && Number(r.epsilon.toPrecision(6));
    this.hint.textContent = r
      ? `K = ${r.codebookSize} centroids from ${r.trainImages.toLocaleString('en-US')} training images, ${r.codesUsed} of them nearest to some test image. ` +
        `Reconstruction cost: Bernoulli NLL with the centroid's pixels as means, clamped to [${eps}, 1 − ${eps}], ` +
        `on ${r.testImages.toLocaleString('en-US')} test images.`
      : 'Run k-means: each image is sent as the index of its nearest centroid (log₂ K bits) and rebuilt as that centroid.';
    const body = this.table.tBodies[0];
    body.replaceChildren(
      ...this.tableRows().map((row) => {
        const tr = document.createElement('tr');
        for (const text of [row.model, row.k, row.l, bits(row.rate), nats(row.nats)]) tr.append(Object.assign(document.createElement('td'), { textContent: String(text) }));
        return tr;
      }),
    );
    for (const canvas of [this.centroids, this.shown, this.shownCentroids, this.samplesCanvas]) canvas.hidden = !r;
    if (!r) this.vqSamplesFigure.hidden = true;
  }

  /** What the view shows, for tests. */
  snapshot() {
    const { centroids, shownPixels, shownCodes, shownNll, ...numbers } = this.report ?? {};
    return {
      visible: !this.panel.hidden,
      running: this.running,
      progress: this.progressSeen.map((p) => ({ ...p })),
      bar: this.bar.hidden ? null : { value: this.bar.value, max: this.bar.max },
      report: this.report ? { ...numbers, centroids: [...centroids], shownPixels: [...shownPixels], shownCodes: [...shownCodes], shownNll: [...shownNll] } : null,
      rows: this.tableRows(),
      cells: [...this.table.tBodies[0].rows].map((tr) => [...tr.cells].map((td) => td.textContent)),
      shownNllText: [...this.shownNll.children].map((s) => s.textContent),
      samples: this.samples,
    };
  }
}
