// How the training worker divides its time: chunks of steps sized to TRAINING.chunkMs, a yield
// to pending messages between chunks, and refresh clocks that keep pictures in proportion to
// their cost.

import { GENERATION, TRAINING } from '../app/config.js';

export class Pacing {
  constructor() {
    this.chunkSteps = 4;
    this.scatterAt = -Infinity;
    this.scatterCostMs = 0;
    this.evalAt = -Infinity;
    this.generatedAt = -Infinity;
    // A MessageChannel round trip yields to pending messages without setTimeout's minimum delay.
    this.channel = new MessageChannel();
    this.channel.port1.onmessage = () => this.wake();
  }

  /** Scales the steps per chunk towards TRAINING.chunkMs, at most doubling at a time. */
  chunkTook(ms) {
    const ideal = (this.chunkSteps * TRAINING.chunkMs) / Math.max(ms, 1);
    this.chunkSteps = Math.max(1, Math.min(TRAINING.maxChunkSteps, Math.round(Math.min(ideal, this.chunkSteps * 2))));
  }

  evaluationDue(now) {
    return now - this.evalAt >= TRAINING.evalMs;
  }

  /** The map refresh: at most every scatterMs, and never more than 1/scatterCostRatio of the time. */
  scatterDue(now) {
    return now - this.scatterAt >= Math.max(TRAINING.scatterMs, this.scatterCostMs * TRAINING.scatterCostRatio);
  }

  generatedDue(now) {
    return now - this.generatedAt >= GENERATION.refreshMs;
  }

  /** Resolves once every message that arrived meanwhile has been handled. */
  yieldToEvents() {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.channel.port2.postMessage(null);
    });
  }
}
