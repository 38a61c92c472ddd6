// Wiring of the learned prior: the Learned prior panel's buttons and the symbolic editor's
// "complete the rest" to worker commands, the worker's prior messages to those two views, and
// the shipped prior a lecture preset opens.

import { Msg, cmd } from './protocol.js';
import { PRIOR } from './config.js';
import { PriorView } from '../views/prior.js';

const randomSeed = () => Math.floor(Math.random() * 2 ** 32);

export class PriorPanel {
  /**
   * @param {HTMLElement} panel the Learned prior section
   * @param {object} page `{send, symbolic, checkpoints, onError}`
   */
  constructor(panel, page) {
    this.page = page;
    this.view = new PriorView(panel, {
      train: () => page.send(cmd.priorTrain(PRIOR.epochs, randomSeed())),
      stop: () => page.send(cmd.priorStop()),
      resample: () => this.resample(),
    });
  }

  resample() {
    this.page.send(cmd.priorSample(PRIOR.samples, randomSeed()));
  }

  /** Loads the shipped prior `name` (checkpoints/manifest.json) for the VQ-VAE just loaded. */
  loadShipped(name) {
    this.page.checkpoints
      .priorSource(name)
      .then((url) => this.page.send(cmd.priorLoad(url)))
      .catch((err) => this.page.onError(err.message));
  }

  /** The worker messages this panel answers, as `{type: handler}` for main.js's table. */
  handlers() {
    return {
      [Msg.PRIOR_PROGRESS]: (m) => this.view.setProgress(m),
      [Msg.PRIOR_REPORT]: (m) => {
        this.view.setReport(m);
        this.page.symbolic.setPrior(m.report !== null);
        // A finished prior shows what it has learned at once.
        if (m.done) this.resample();
      },
      [Msg.PRIOR_SAMPLES]: (m) => this.view.setSamples(m),
      [Msg.PRIOR_COMPLETED]: (m) => this.page.symbolic.setCompleted(m),
    };
  }
}
