// The training worker's data-parallel helpers (www/workers/shard.js): W − 1 more replicas of
// the model, each on its shard of the training set. Per step every replica computes its share;
// the training worker's session reduces them, takes the step and sends the whole-batch share
// back, and the helpers apply the same one and start their next share at once.

export class Team {
  constructor() {
    /** Helper workers, kept across runs (each compiles the wasm once). */
    this.helpers = [];
    /** Per helper: resolvers waiting for its next message. */
    this.waiting = [];
    /** Replicas in the current run (1 = training alone). */
    this.count = 1;
  }

  get active() {
    return this.count > 1;
  }

  /**
   * Makes `session` replica 0 of `count` and starts `count − 1` helpers from its checkpoint,
   * each with its own shard of the training set (one copy of the data between them).
   */
  async start(session, count) {
    this.stop(session);
    if (count <= 1) return;
    while (this.helpers.length < count - 1) this.spawn();
    const checkpoint = session.startParallel(count);
    this.count = count;
    const ready = this.helpers.slice(0, count - 1).map((helper, i) => {
      const { pixels, labels } = session.trainShard(i + 1, count);
      const answer = this.next(i);
      helper.postMessage({ type: 'start', checkpoint, pixels, labels, index: i + 1, count }, [pixels.buffer, labels.buffer]);
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
    const workers = this.count;
    this.count = 1;
    // Replaced meanwhile (new data, a loaded model): the new one trains alone already.
    if (!session.isParallel()) return null;
    const report = session.parallelReport();
    session.stopParallel();
    return report.steps > 0 ? { ...report, workers } : null;
  }

  /**
   * `steps` data-parallel steps. Returns the chunk's StepReport, or null when `stillWanted()`
   * turned false on the way (the session may have been replaced: nothing more is asked of it).
   */
  async steps(session, steps, stillWanted) {
    const helpers = this.helpers.slice(0, this.count - 1);
    let pending = helpers.map((helper, i) => {
      const answer = this.next(i);
      helper.postMessage({ type: 'share' });
      return answer;
    });
    for (let s = 0; s < steps; s++) {
      if (!stillWanted()) return null;
      const own = session.share();
      const theirs = await Promise.all(pending);
      if (!stillWanted()) return null;
      const whole = session.applyShares([own, ...theirs.map((m) => m.share)]);
      const more = s < steps - 1;
      // One helper can take the arrays themselves; several get copies.
      const transfer = helpers.length === 1 ? [whole.gradient.buffer, whole.z?.buffer, whole.codes?.buffer].filter(Boolean) : [];
      pending = helpers.map((helper, i) => {
        const answer = more ? this.next(i) : null;
        helper.postMessage({ type: 'whole', whole, more }, transfer);
        return answer;
      });
    }
    return session.parallelReport();
  }

  spawn() {
    const i = this.helpers.length;
    const helper = new Worker(new URL('./shard.js', import.meta.url), { type: 'module' });
    this.waiting.push([]);
    helper.onmessage = ({ data }) => {
      const waiter = this.waiting[i].shift();
      if (!waiter) return;
      if (data.type === 'error') waiter.reject(new Error(`training helper ${i + 1}: ${data.message}`));
      else waiter.resolve(data);
    };
    helper.onerror = (event) => {
      for (const waiter of this.waiting[i].splice(0)) waiter.reject(new Error(`training helper ${i + 1} failed: ${event.message}`));
    };
    this.helpers.push(helper);
  }

  /** The next message of helper `i`. */
  next(i) {
    return new Promise((resolve, reject) => this.waiting[i].push({ resolve, reject }));
  }
}
