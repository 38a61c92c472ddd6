// Side by side: a second model of another kind trained next to the main one on the same data
// with the same seed, hidden size, latent dimension and training settings, in its own worker
// (the same worker.js with its own session), its map drawn with the decoded manifold under the
// points. An autoencoder's map leaves gaps that decode to junk; a VAE's fills in.

import { Msg, Phase, cmd } from '../app/protocol.js';
import { COMPARE } from '../app/config.js';
import { fieldOf, optionLabel } from '../app/schema.js';
import { ScatterView } from './scatter.js';
import { ManifoldLayer, pacedManifoldRequests } from './manifold.js';

/**
 * The second model's settings: the main model's, with `kind` and a latent space of the same
 * size (d for the AE and VAE, l·D for the VQ-VAE, which keeps its own l·D when that matches d).
 */
export function partnerSettings(main, kind, schema) {
  const model = { ...main.model, kind };
  if (kind === 'vqvae' && main.model.kind !== 'vqvae' && model.codeDim * model.codesPerImage !== main.model.latentDim) {
    model.codeDim = main.model.latentDim;
    model.codesPerImage = 1;
  }
  if (kind !== 'vqvae' && main.model.kind === 'vqvae') {
    const { min, max } = fieldOf(schema, 'latentDim');
    model.latentDim = Math.min(max, Math.max(min, main.model.codeDim * main.model.codesPerImage));
  }
  return { model, train: { ...main.train } };
}

/** The size of a model's latent space, in words. */
function latentSize(model) {
  return model.kind === 'vqvae'
    ? `l·D = ${model.codesPerImage}·${model.codeDim}, K = ${model.codebookSize}`
    : `d = ${model.latentDim}`;
}

export class CompareView {
  /**
   * @param {HTMLElement} panel holds data-role="partner", "caption", "status", "map", "legend", "same"
   * @param {{fields, rules}} schema the settings schema (kind names, the latent dimension's range)
   * @param {(message: string) => void} onError shows a message of the second model's worker
   */
  constructor(panel, schema, onError) {
    this.schema = schema;
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.partner = find('partner');
    this.caption = find('caption');
    this.status = find('status');
    this.same = find('same');
    this.onError = onError;
    this.scatter = new ScatterView(find('map'), find('legend'));
    this.manifold = new ManifoldLayer(() => this.scatter.requestDraw());
    this.scatter.addLayer(this.manifold);
    this.scatter.onTarget = () => this.requestManifold();
    this.worker = null;
    this.kind = null;
    this.showManifold = false;
    /** The main model's `{settings, source}`; source is `{dataset, files, images}` (files or images for own data). */
    this.main = null;
    this.requested = null; // settings last sent to the second worker
    this.loadedSource = null;
    // As on the main map: at most one request per MANIFOLD.minMs while the view moves.
    this.requestManifold = pacedManifoldRequests(this.manifold, this.scatter, () => this.showManifold, (m) => this.send(m));
    this.reset();
    this.partner.addEventListener('change', () => {
      this.kind = this.partner.value;
      if (this.worker) this.sync();
    });
  }

  kindName(kind) {
    return optionLabel(this.schema, 'kind', kind);
  }

  get active() {
    return this.worker !== null;
  }

  /** Starts the second model beside the main one; `kind` null picks the usual partner. */
  start(kind = null) {
    if (this.worker) return;
    this.panel.hidden = false;
    this.worker = new Worker(new URL('../workers/worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = ({ data }) => this.onMessage(data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.onError(`Comparison model: ${event.message || 'its worker could not start'}`);
    };
    this.requested = null;
    this.loadedSource = null;
    this.choosePartners(kind);
    if (this.main) this.sync();
  }

  /** Ends the comparison: the second worker and its model go. */
  stop() {
    if (!this.worker) return;
    this.worker.terminate();
    this.worker = null;
    this.panel.hidden = true;
    this.reset();
  }

  reset() {
    this.phase = Phase.STARTING;
    this.settings = null;
    this.dataset = null;
    this.report = null;
    this.evaluation = null;
    this.statusMessage = '';
    this.scatter.setData(new Float32Array(0), new Uint8Array(0));
    this.manifold.clear();
    this.status.textContent = '';
  }

  /** The main model changed (or was reported again): the second follows where it must. */
  setMain(settings, source) {
    const kindChanged = this.main?.settings.model.kind !== settings.model.kind;
    this.main = { settings, source };
    if (!this.worker) return;
    if (kindChanged) this.choosePartners(this.kind);
    this.sync();
  }

  /** Fills the partner list for the main model's kind, keeping `wanted` when it is allowed. */
  choosePartners(wanted) {
    const kinds = COMPARE.partners[this.main?.settings.model.kind ?? 'vae'];
    this.partner.replaceChildren(...kinds.map((k) => new Option(this.kindName(k), k)));
    this.kind = kinds.includes(wanted) ? wanted : kinds[0];
    this.partner.value = this.kind;
  }

  /** Sends the second worker what it needs to match the main model: new data, a new model or a rate. */
  sync() {
    const want = partnerSettings(this.main.settings, this.kind, this.schema);
    const { source } = this.main;
    const before = this.requested;
    this.requested = want;
    this.showSame();
    const loaded = this.loadedSource;
    if (loaded?.dataset !== source.dataset || loaded?.files !== source.files || loaded?.images !== source.images) {
      this.loadedSource = source;
      this.send(cmd.init(want));
      if (source.images) this.send(cmd.loadImages(source.images));
      else this.send(source.files ? cmd.loadFiles(source.files) : cmd.loadData(source.dataset));
      return;
    }
    const sameModel = JSON.stringify(before.model) === JSON.stringify(want.model);
    const sameTrain = JSON.stringify({ ...before.train, learningRate: 0 }) === JSON.stringify({ ...want.train, learningRate: 0 });
    if (!sameModel || !sameTrain) {
      this.send(cmd.init(want));
    } else if (before.train.learningRate !== want.train.learningRate) {
      this.send(cmd.setLearningRate(want.train.learningRate));
    }
  }

  /**
   * Makes the shipped checkpoint at `url` (of kind `kind`, on `dataset`) the second model: its
   * worker loads it after the data, in place of a partner trained from scratch, so both maps
   * show trained models at once. The comparison must be on.
   */
  showCheckpoint(kind, url, name, dataset) {
    if (kind !== this.kind && [...this.partner.options].some((o) => o.value === kind)) {
      this.partner.value = kind;
      this.kind = kind;
      this.sync();
    }
    this.send(cmd.loadCheckpoint(url, name, dataset));
  }

  send(message) {
    this.worker?.postMessage(message);
  }

  /** Mirrors the main model's training: both train while the main one trains. */
  followPhase(mainPhase) {
    if (mainPhase === Phase.TRAINING && this.phase !== Phase.TRAINING) this.send(cmd.train());
    if (mainPhase === Phase.PAUSED && this.phase === Phase.TRAINING) this.send(cmd.pause());
  }

  step() {
    this.send(cmd.step());
  }

  restart() {
    this.send(cmd.reset());
  }

  setClasses(names) {
    this.scatter.setClasses(names);
  }

  setManifold(on) {
    this.showManifold = on;
    if (on) this.requestManifold();
    else {
      this.send(cmd.manifold(null, 0));
      this.manifold.clear();
    }
  }

  onMessage(m) {
    switch (m.type) {
      case Msg.STATUS:
        this.phase = m.phase;
        if (m.phase === Phase.READY) {
          this.report = null;
          this.evaluation = null;
        }
        this.statusMessage = m.message;
        break;
      case Msg.SETTINGS:
        this.settings = m.settings;
        this.dataset = m.dataset;
        break;
      case Msg.PROGRESS:
        this.statusMessage = `Downloading the data: ${(m.loaded / 2 ** 20).toFixed(1)} MB`;
        break;
      case Msg.REPORT:
        if (m.step) this.report = m.step;
        if (m.evaluation) this.evaluation = m.evaluation;
        break;
      case Msg.LOADED:
        // A shipped checkpoint (showCheckpoint) counts on from the step it was saved at.
        this.report = { step: m.step };
        break;
      case Msg.SCATTER:
        this.scatter.setData(m.plane, m.labels, m.axisNames);
        break;
      case Msg.MANIFOLD:
        if (this.showManifold) this.manifold.receive(m, false);
        break;
      case Msg.ERROR:
        this.onError(`Comparison model: ${m.message}`);
        break;
      default:
        // The codebook and the other views' pictures belong to the main model's panels.
        break;
    }
    this.showStatus();
  }

  showSame() {
    const main = this.main.settings;
    const { model, train } = main;
    this.same.textContent =
      `Both: same data, seed ${train.seed}, ${optionLabel(this.schema, 'arch', model.arch)} with hidden size ${model.hidden}, ` +
      `batches of ${train.batchSize}, learning rate ${train.learningRate}. ` +
      `Latent space: ${this.kindName(model.kind)} ${latentSize(model)}; ${this.kindName(this.kind)} ${latentSize(this.requested.model)}.`;
  }

  showStatus() {
    const kind = this.settings?.model.kind ?? this.kind;
    this.caption.textContent = `Comparison: ${this.kindName(kind)}`;
    const r = this.report;
    const e = this.evaluation;
    if (this.phase === Phase.TRAINING || this.phase === Phase.PAUSED) {
      const parts = [`step ${(r?.step ?? 0).toLocaleString('en-US')}`];
      if (e) parts.push(`test loss ${e.loss.toFixed(1)} nats`);
      this.status.textContent = parts.join(' · ');
    } else {
      this.status.textContent = this.statusMessage ?? '';
    }
  }

  /** What the view shows, for tests. */
  snapshot() {
    return {
      active: this.active,
      phase: this.phase,
      kind: this.kind,
      settings: this.settings,
      dataset: this.dataset,
      step: this.report?.step ?? 0,
      caption: this.caption.textContent,
      manifold: this.manifold.snapshot(),
      ...this.scatter.snapshot(),
    };
  }
}
