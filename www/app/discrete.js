// Wiring of the discrete-latent lessons: the mixture lesson (1-D mixture, sampling and EM; 2-D
// k-means against a GMM), and the two views that follow the worker's model, the GMM prior
// (AE, VAE) and quantization step by step (VQ-VAE).
//
// The mixture lesson needs no model, so a MixtureLesson on this thread answers it, in the wasm
// instance schema.js already started: each answer (a Bayes table, 401 curve points, an EM step
// on 500 samples) takes well under a millisecond, so a drag over the curves is answered within
// the frame, where a question to the worker would wait behind a training chunk. Its state is a
// few thousand numbers; it is made when its lecture first opens.

import { MixtureLesson } from '../pkg/latent_lab.js';
import { loadSchema } from './schema.js';
import { Msg, cmd } from './protocol.js';
import { MIXTURE } from './config.js';
import { MixtureView } from '../views/mixture1d.js';
import { EmFitView } from '../views/emfit.js';
import { ClustersView } from '../views/clusters2d.js';
import { GmmPriorView } from '../views/gmmprior.js';
import { QuantizeView } from '../views/quantize.js';

/** The lessons' panels, by the name a lecture preset gives in `views.lesson`. */
const LESSON_PANELS = { mixture: ['mixture', 'em-fit', 'clusters'] };

export class DiscreteLessons {
  /**
   * @param {object} page `{send, redrawMap, onError}`: a worker command, the map's redraw, the error area
   */
  constructor({ send, redrawMap, onError }) {
    const $ = (id) => document.getElementById(id);
    this.onError = onError;
    this.gmmPrior = new GmmPriorView($('gmm-prior'), (k, count, seed) => send(cmd.gmmPrior(k, count, seed)), redrawMap);
    this.quantize = new QuantizeView($('quantize'));
    this.lesson = null;
    this.mixture = new MixtureView($('mixture'), {
      params: (params) => this.run(() => this.setParams(params)),
      pickX: (x) => this.run(() => this.mixture.setBayes(this.lesson.bayes(x))),
    });
    this.emFit = new EmFitView($('em-fit'), {
      sample: (count) => this.run(() => this.sample(count)),
      step: (steps) => this.run(() => this.emFit.setEm(this.lesson.emStep(steps))),
      restart: () => this.run(() => this.emFit.setEm(this.lesson.emReset())),
    });
    this.clusters = new ClustersView($('clusters'), {
      step: (steps) => this.run(() => this.clusters.setClusters(this.lesson.clustersStep(steps))),
      reset: () => this.run(() => this.clusters.setClusters(this.lesson.clustersReset(BigInt(Math.floor(Math.random() * 2 ** 32))))),
    });
    /** Worker messages these views take. */
    this.handlers = {
      [Msg.GMM_PRIOR]: (m) => this.gmmPrior.setPrior(m),
      [Msg.QUANTIZATION]: (m) => this.quantize.setQuantization(m),
    };
    /** Views that follow the model's settings, and the map's layers. */
    this.modelViews = [this.gmmPrior, this.quantize];
    this.layers = [this.gmmPrior];
    /** For the page's handle (app/handle.js). */
    this.views = { mixture: this.mixture, emFit: this.emFit, clusters: this.clusters, gmmPrior: this.gmmPrior, quantize: this.quantize };
  }

  /** Runs a lesson call; a refused value (the lesson's message) goes to the error area. */
  run(call) {
    try {
      call();
    } catch (err) {
      this.onError(err instanceof Error ? err.message : String(err));
    }
  }

  /** The picked digit changed (null: none): the quantization follows it. */
  select(index) {
    if (index === null) this.quantize.clear();
  }

  /** Shows lesson `name`'s panels (starting the lesson the first time) and hides the others; null hides all. */
  async show(name) {
    for (const [lesson, ids] of Object.entries(LESSON_PANELS)) {
      for (const id of ids) document.getElementById(id).hidden = lesson !== name;
    }
    if (name === 'mixture' && !this.lesson) {
      // The wasm module is the one the settings schema came from; this waits for it, if at all.
      await loadSchema();
      this.lesson = new MixtureLesson();
      this.run(() => {
        this.setParams(this.lesson.params());
        this.sample(MIXTURE.samples);
        this.clusters.setClusters(this.lesson.clustersReset(BigInt(MIXTURE.clusterSeed)));
      });
    }
  }

  /** Opens the GMM prior (a lecture preset asks for it). */
  showPrior() {
    this.gmmPrior.show(true);
  }

  setParams(params) {
    this.lesson.setParams(params);
    const accepted = this.lesson.params();
    this.mixture.setMixture(accepted, this.lesson.curves(MIXTURE.curvePoints));
    this.mixture.setBayes(this.lesson.bayes(this.mixture.bayes?.x ?? MIXTURE.startX));
    this.emFit.setTruth(accepted);
  }

  /** New ancestral samples and EM restarted on them: the first from seed 0, so the lesson always opens on the same picture. */
  sample(count) {
    const seed = this.emFit.samples ? Math.floor(Math.random() * 2 ** 32) : 0;
    this.emFit.setSamples(this.lesson.sample(count, BigInt(seed)));
    this.emFit.setEm(this.lesson.emReset());
  }
}
