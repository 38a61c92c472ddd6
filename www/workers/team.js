// The training worker's data-parallel helpers (www/workers/shard.js): W − 1 more replicas of
// the model, each on its shard of the training set. The training worker reaches each helper
// through the helper's own worker channel (a WorkerLink), and every pair of helpers gets its
// own MessageChannel; per step each replica sends its share to all the others and takes the
// step from all W at the same time as they do (allreduce.js).

import { Peers, WorkerLink, step } from './allreduce.js';

export class Team {
  constructor() {
    /** Helper workers, kept across runs (each compiles the wasm once). */
    this.helpers = [];
    /** Per helper: resolvers waiting for its 'ready'. */
    this.waiting = [];
    /** Replicas in the current run (1 = training alone). */
    this.count = 1;
    /** The training worker's links to the helpers in the current run. */
    this.peers = null;
    /** Numbers the runs, so a helper's share of an earlier run is told apart. */
    this.run = 0;
  }

  /** How the current run's replicas exchange their shares: 'shared memory', 'messages', or null alone. */
  get exchange() {
    if (!this.active) return null;
    return this.peers.shared ? 'shared memory' : 'messages';
  }

  get active() {
    return this.count > 1;
  }

  /**
   * Makes `session` replica 0 of `count` and starts `count − 1` helpers from its checkpoint,
   * each with its own shard of the training set (one copy of the data between them).
   * `shared`: shares go through SharedArrayBuffers (allreduce.js), as they do by default when
   * the page is cross-origin isolated.
   */
  async start(session, count, shared = globalThis.crossOriginIsolated === true) {
    this.stop(session);
    if (count <= 1) return;
    while (this.helpers.length < count - 1) this.spawn();
    const checkpoint = session.startParallel(count);
    this.count = count;
    const run = ++this.run;
    // ports[i][j]: helper replica i's end of its channel to helper replica j (i, j ≥ 1).
    const ports = Array.from({ length: count }, () => []);
    for (let i = 1; i < count; i++) {
      for (let j = i + 1; j < count; j++) {
        const { port1, port2 } = new MessageChannel();
        ports[i][j] = port1;
        ports[j][i] = port2;
      }
    }
    this.peers = new Peers(
      this.helpers.slice(0, count - 1).map((helper) => new WorkerLink(helper, run)),
      shared,
    );
    const ready = this.helpers.slice(0, count - 1).map((helper, h) => {
      const index = h + 1;
      const { pixels, labels } = session.trainShard(index, count);
      const answer = this.next(h);
      const mine = ports[index].filter(Boolean);
      helper.postMessage({ type: 'start', checkpoint, pixels, labels, index, count, run, shared, ports: mine }, [pixels.buffer, labels.buffer, ...mine]);
      return answer;
    });
    await Promise.all(ready);
  }

  /**
   * Training alone again, on the whole training set. Returns the report of the steps taken
   * since the last one (a paused chunk's), or null when there were none.
   */
  stop(session) {
    if (!this.active) return null;
    const [workers, exchange] = [this.count, this.exchange];
    this.count = 1;
    this.peers.close();
    this.peers = null;
    for (const helper of this.helpers) helper.postMessage({ type: 'stop' });
    // Replaced meanwhile (new data, a loaded model): the new one trains alone already.
    if (!session.isParallel()) return null;
    const report = session.parallelReport();
    session.stopParallel();
    return report.steps > 0 ? { ...report, workers, exchange } : null;
  }

  /**
   * `steps` data-parallel steps. Returns the chunk's StepReport, or null when `stillWanted()`
   * turned false on the way (the session may have been replaced: nothing more is asked of it).
   * `timing`, if given, sums where each step's time went (allreduce.js `step`).
   */
  async steps(session, steps, stillWanted, timing = null) {
    for (let s = 0; s < steps; s++) {
      if (!stillWanted()) return null;
      await step(session, this.peers, timing);
    }
    return session.parallelReport();
  }

  /**
   * Each helper's sums of its step phases (allreduce.js `step` timing) since the last call, in
   * replica order; for the benchmark, between runs (a training helper answers messages only
   * while it waits).
   */
  helperTimings() {
    const asked = this.helpers.slice(0, this.count - 1).map((helper, h) => {
      const answer = this.next(h);
      helper.postMessage({ type: 'timing' });
      return answer.then((data) => data.timing);
    });
    return Promise.all(asked);
  }

  spawn() {
    const h = this.helpers.length;
    const helper = new Worker(new URL('./shard.js', import.meta.url), { type: 'module' });
    this.waiting.push([]);
    const failed = (message) => {
      const error = new Error(`training helper ${h + 1}: ${message}`);
      const waiters = this.waiting[h].splice(0);
      for (const waiter of waiters) waiter.reject(error);
      // Failing mid-run: the training worker's waiting step throws it.
      if (!waiters.length) this.peers?.close(error);
    };
    helper.onmessage = ({ data }) => {
      if (data.type === 'share') this.peers?.ports[h]?.deliver(data);
      else if (data.type === 'error') failed(data.message);
      else this.waiting[h].shift()?.resolve(data);
    };
    helper.onerror = (event) => failed(`failed: ${event.message}`);
    this.helpers.push(helper);
  }

  /** The next message of helper `h`. */
  next(h) {
    return new Promise((resolve, reject) => this.waiting[h].push({ resolve, reject }));
  }
}
