// Checkpoints and lectures: saving the model, loading a shipped checkpoint by name (a link's
// ?checkpoint=), and the Lecture presets, which open a checkpoint (or a live model) with the
// views their picture needs.

import { cmd } from './protocol.js';

export class Checkpoints {
  /**
   * @param {object} page `{send, state, onError, clearError}`: a worker command, the PageState,
   *   and the error area
   */
  constructor(page) {
    this.page = page;
    /** The shipped checkpoint asked for and not loaded yet. */
    this.requested = null;
    /** The pretrained checkpoints that ship with the page (checkpoints/manifest.json), fetched once. */
    this.manifest = null;
    this.downloadUrl = null;
  }

  /** The list of shipped checkpoints and priors, fetched once. */
  list() {
    this.manifest ??= fetch(new URL('checkpoints/manifest.json', location.href)).then((r) => {
      if (!r.ok) throw new Error(`could not read the list of pretrained models: HTTP ${r.status}`);
      return r.json();
    });
    return this.manifest;
  }

  /** The address of shipped learned prior `name` (the `priors` of the manifest). */
  async priorSource(name) {
    const entry = (await this.list()).priors?.find((p) => p.name === name);
    if (!entry) throw new Error(`There is no pretrained prior "${name}".`);
    return `checkpoints/${entry.url}`;
  }

  /** `{url, dataset}` of shipped checkpoint `name`; its hash in the address lets caches keep it. */
  async source(name) {
    const manifest = await this.list();
    const entry = manifest.checkpoints.find((c) => c.name === name);
    if (!entry) throw new Error(`There is no pretrained model "${name}".`);
    return { url: `checkpoints/${entry.file}?v=${entry.sha256.slice(0, 16)}`, dataset: manifest.dataset };
  }

  /** Loads shipped checkpoint `name` on its dataset; the URL names it once it is in. */
  async load(name) {
    // Set before the manifest arrives: the data loading first must not drop it from the URL.
    this.requested = name;
    let source;
    try {
      source = await this.source(name);
    } catch (err) {
      this.requested = null;
      throw err;
    }
    this.page.send(cmd.loadCheckpoint(source.url, name, source.dataset));
  }

  /**
   * A checkpoint named `name` replaced the model: only a shipped one can be named in a link.
   * One that arrives while another is on its way (a choice clicked before the last one was
   * in) leaves the link to the later one.
   */
  loaded(name) {
    if (name === this.requested) {
      this.page.state.set({ checkpoint: name });
      this.requested = null;
    } else if (this.requested === null) {
      this.page.state.set({ checkpoint: null });
    }
  }

  /** A new untrained model: the link no longer names a pretrained one (unless one is on its way). */
  untrained() {
    if (!this.requested) this.page.state.set({ checkpoint: null });
  }

  /** Offers `bytes` as a file download, as a link with a download attribute would. */
  offerDownload(filename, bytes) {
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
    this.downloadUrl = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    Object.assign(document.createElement('a'), { href: this.downloadUrl, download: filename }).click();
  }
}

export class Lectures {
  /**
   * @param {object} page `{send, state, checkpoints, onError, clearError, newModel, compare,
   *   setComparing, setManifold, selectDigit, interpolation, symbolic, lessons, prior, judge, shallow}`
   */
  constructor(page) {
    this.page = page;
    /** `{preset, checkpoint}` whose checkpoint is on its way: the views that need the model wait for it. */
    this.loading = null;
  }

  /**
   * Opens a preset's model (a shipped checkpoint, or a new one trained live; a lesson that
   * needs no model keeps the one there is) and its views.
   */
  open(preset, choice) {
    const { page } = this;
    page.clearError();
    page.state.set({ lecture: preset?.id ?? null });
    page.lessons.show(preset?.views.lesson ?? null).catch((err) => page.onError(err.message));
    page.shallow.show(preset?.views.shallow ?? false);
    if (!preset) return;
    if (preset.live) {
      page.newModel(preset.live);
      page.send(cmd.train());
    } else if (choice) {
      this.loading = { preset, checkpoint: choice.checkpoint };
      page.checkpoints.load(choice.checkpoint).catch((err) => page.onError(err.message));
    }
    const { manifold, select, panel } = preset.views;
    // A comparison left on from before would train beside another preset's picture.
    if (!preset.views.compare && page.compare.active) page.setComparing(false);
    page.setManifold(manifold);
    if (select !== null) page.selectDigit(select);
    // The lecture's panels move up to just under its caption, beside the map.
    if (panel) {
      const panels = [panel].flat().map((id) => document.getElementById(id));
      document.getElementById('lecture-panel').after(...panels);
      panels[0].scrollIntoView({ block: 'nearest' });
    }
  }

  /**
   * Checkpoint `name` is in: if a preset waited for it, the second model, the interpolation,
   * the random codes, the GMM prior, the learned prior, the judge's table and map and a shallow VQ run follow.
   */
  loaded(name) {
    if (this.loading?.checkpoint !== name) return;
    const { page } = this;
    const { compare: partner, interpolate, randomCodes, gmmPrior, prior, judge, shallow } = this.loading.preset.views;
    this.loading = null;
    if (partner) {
      page.setComparing(true, partner.kind);
      page.checkpoints
        .source(partner.checkpoint)
        .then(({ url, dataset }) => {
          page.compare.showCheckpoint(partner.kind, url, partner.checkpoint, dataset);
          page.state.set({ compare: page.compare.kind });
        })
        .catch((err) => page.onError(err.message));
    }
    if (interpolate) page.interpolation.setPair(interpolate.a, interpolate.b, interpolate.steps);
    if (randomCodes) page.symbolic.drawRandom();
    if (gmmPrior) page.lessons.showPrior();
    if (prior) page.prior.loadShipped(prior);
    if (judge) {
      page.judge.colourMap(true);
      page.judge.run();
    }
    if (shallow) page.shallow.runDefault();
  }
}
