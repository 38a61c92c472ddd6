// Shallow VQ in the training worker: k-means over the training pixels, one chunk (16 k-means++
// seeds or one Lloyd iteration) per call with a yield between, so progress reaches the page and
// Cancel or any other command gets through. Every number comes from the Session.

import { Cmd, msg } from '../app/protocol.js';
import { SHALLOW } from '../app/config.js';

export class ShallowRunner {
  /** @param {(message, transfer) => void} post sends to the page */
  constructor(post) {
    this.post = post;
    /** Bumping it stops a running k-means loop at its next chunk. */
    this.loopId = 0;
  }

  /** New data: a run over the old images is gone (Rust dropped it with them). */
  dataChanged() {
    this.loopId++;
    this.post(msg.kmeansProgress(null));
    this.post(msg.shallowReport(null));
  }

  /** A new model: a finished shallow VQ is scored again beside it (the VQ-VAE row changed). */
  modelChanged(session) {
    if (session.hasShallow()) this.postReport(session);
  }

  postReport(session) {
    const report = session.shallowReport(SHALLOW.shown);
    this.post(msg.shallowReport(report), [report.centroids.buffer, report.shownPixels.buffer, report.shownCodes.buffer, report.shownNll.buffer]);
  }

  /**
   * @param {() => object} dataSession the Session with data loaded, or throws why not
   * @param {() => void} pauseModel pauses the model's training (both would share one core)
   */
  handlers(dataSession, pauseModel) {
    return {
      [Cmd.KMEANS_RUN]: ({ k, images, seed }) => {
        const session = dataSession();
        pauseModel();
        const id = ++this.loopId;
        this.post(msg.kmeansProgress(session.startKmeans(k, images, BigInt(seed))));
        this.run(session, id).catch((err) => this.post(msg.error(err instanceof Error ? err.message : String(err))));
      },
      [Cmd.KMEANS_CANCEL]: () => {
        this.loopId++;
        dataSession().cancelKmeans();
        this.post(msg.kmeansProgress(null));
      },
      [Cmd.SHALLOW_SAMPLE]: ({ count, sigma, seed }) => {
        const m = msg.shallowSamples(seed, dataSession().shallowSamples(count, sigma, BigInt(seed)));
        this.post(m, [m.codes.buffer, m.pixels.buffer, ...(m.vqPixels ? [m.vqCodes.buffer, m.vqPixels.buffer] : [])]);
      },
    };
  }

  /** Chunks until the run finishes, then the report on the test set. */
  async run(session, id) {
    while (id === this.loopId) {
      // Queued commands (Cancel, a new model, a hover) run between chunks.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (id !== this.loopId) return;
      const progress = session.kmeansStep();
      this.post(msg.kmeansProgress(progress));
      if (progress.stage === 'finished') {
        this.postReport(session);
        return;
      }
    }
  }
}
