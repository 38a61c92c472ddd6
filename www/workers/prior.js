// The learned prior's commands in the training worker: start and train it in chunks beside
// the command queue (as the model's training loop runs), load a shipped one, sample and
// complete grids. Every number comes from the Session; this file only paces and routes.

import { Cmd, msg } from '../app/protocol.js';
import { PRIOR } from '../app/config.js';

export class PriorRunner {
  /** @param {(message, transfer) => void} post sends to the page */
  constructor(post) {
    this.post = post;
    /** Bumping it stops a running prior loop at its next chunk. */
    this.loopId = 0;
  }

  /** Stops training the prior; the model changed or trains again, which drops the prior (said to the page). */
  modelChanged() {
    this.loopId++;
    this.post(msg.priorReport(null));
  }

  /**
   * @param {() => object} vqSession the Session holding a VQ-VAE on data, or throws why not
   * @param {() => void} pauseModel pauses the model's training (its codes must stay frozen)
   */
  handlers(vqSession, pauseModel) {
    return {
      [Cmd.PRIOR_TRAIN]: ({ epochs, seed }) => {
        const session = vqSession();
        pauseModel();
        const id = ++this.loopId;
        const start = session.startPrior(BigInt(seed));
        this.post(msg.priorReport(start));
        this.train(session, id, start, epochs).catch((err) => this.post(msg.error(err instanceof Error ? err.message : String(err))));
      },
      [Cmd.PRIOR_STOP]: () => {
        this.loopId++;
        const session = vqSession();
        if (session.hasPrior()) this.post(msg.priorReport(session.priorReport(), true));
      },
      [Cmd.PRIOR_LOAD]: async ({ url }) => {
        const session = vqSession();
        this.loopId++;
        const response = await fetch(new URL(url, new URL('../', import.meta.url)));
        if (!response.ok) throw new Error(`could not download ${response.url}: HTTP ${response.status}`);
        this.post(msg.priorReport(session.loadPrior(new Uint8Array(await response.arrayBuffer())), true));
      },
      [Cmd.PRIOR_SAMPLE]: ({ count, seed }) => {
        const s = vqSession().priorSamples(count, BigInt(seed));
        const m = msg.priorSamples(seed, s);
        this.post(m, [m.codes.buffer, m.pixels.buffer, m.uniformCodes.buffer, m.uniformPixels.buffer]);
      },
      [Cmd.PRIOR_COMPLETE]: ({ codes, keep, count, seed, id }) => {
        const c = vqSession().completeCodes(codes, keep, count, BigInt(seed));
        const m = msg.priorCompleted(id, c);
        this.post(m, [m.codes.buffer, m.pixels.buffer]);
      },
    };
  }

  /** `epochs` passes in chunks of PRIOR.chunkSteps; the test NLL after every epoch and at the end. */
  async train(session, id, start, epochs) {
    const total = epochs * start.stepsPerEpoch;
    let done = 0;
    while (id === this.loopId && done < total) {
      const n = Math.min(PRIOR.chunkSteps, total - done);
      const step = session.trainPrior(n);
      const epochEnded = Math.floor((done + n) / start.stepsPerEpoch) > Math.floor(done / start.stepsPerEpoch);
      done += n;
      this.post(msg.priorProgress(step, start.step + total));
      if (epochEnded || done === total) this.post(msg.priorReport(session.priorReport(), done === total));
      // Queued commands (Stop, sample, a new model) run between chunks.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}
