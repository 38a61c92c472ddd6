// One data-parallel step, the same in the training worker (replica 0) and in every helper
// (src/parallel.rs has the mathematics): compute this replica's share, send it straight to
// every other replica (over the worker's own channel to its parent or child, else over a
// MessagePort of the pair), wait for theirs, and let the session reduce
// all W in shard order and take the step. Every replica does this at the same time, so no
// replica waits on another's AdamW, and nothing passes through a hub.

/** Thrown into a waiting step when its run was stopped or replaced. */
export class Stopped extends Error {
  constructor() {
    super('data-parallel run stopped');
  }
}

/** Messages from one peer, in order, whether they come before or after they are awaited. */
class Inbox {
  constructor(port) {
    this.queue = [];
    this.waiting = [];
    this.failure = null;
    port.onmessage = ({ data }) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(data);
      else this.queue.push(data);
    };
  }

  next() {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  fail(error) {
    this.failure = error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

/**
 * A replica's link to its parent or child worker through the worker's own `postMessage`, which
 * transfers the gradient's buffer in Firefox ESR, where a MessagePort copied it (7.6 ms per
 * send and 29–41 ms per round trip of 3.2 MB, against 0.8 ms through the worker; Chromium
 * moves it either way in under 1 ms). Shares travel as `{type: 'share', run, share}` beside the
 * worker's other messages; its message handler passes them to `deliver`, which drops those of
 * another run (a message sent before a stop can still arrive after the next start).
 */
export class WorkerLink {
  constructor(target, run) {
    this.target = target;
    this.run = run;
    this.onmessage = null;
    this.closed = false;
  }

  postMessage(share, transfer) {
    if (!this.closed) this.target.postMessage({ type: 'share', run: this.run, share }, transfer);
  }

  deliver({ run, share }) {
    if (!this.closed && run === this.run) this.onmessage?.({ data: share });
  }

  close() {
    this.closed = true;
  }
}

/** A replica's ports (MessagePorts or WorkerLinks) to the W − 1 others. */
export class Peers {
  constructor(ports) {
    this.ports = ports;
    this.inboxes = ports.map((port) => new Inbox(port));
    // A gradient array received last step: the next share is written into it, because a new
    // 3.2 MB array every step costs its page faults (about 2.5 ms in Chromium).
    this.spare = null;
  }

  /** Sends `share` to every peer: copies to all but the last, which takes the arrays themselves. */
  send(share) {
    const transfer = [share.gradient.buffer, share.z?.buffer, share.codes?.buffer].filter(Boolean);
    this.ports.forEach((port, k) => port.postMessage(share, k === this.ports.length - 1 ? transfer : []));
  }

  /** The next share of every peer. */
  receive() {
    return Promise.all(this.inboxes.map((inbox) => inbox.next()));
  }

  /** Ends the run: waiting steps throw {@link Stopped} (or `error`), the ports close. */
  close(error = new Stopped()) {
    for (const inbox of this.inboxes) inbox.fail(error);
    for (const port of this.ports) port.close();
  }
}

/**
 * One step of `session` with its `peers`. With `timing` (an object of sums in ms), adds where
 * the time went: `share` (the half batch's forward and backward and the gradient's copy out of
 * wasm), `send`, `wait` (for the slowest peer's share to arrive) and `apply` (copying the
 * peers' gradients in, the reduce and AdamW).
 */
export async function step(session, peers, timing = null) {
  const t0 = performance.now();
  const own = session.share(peers.spare);
  peers.spare = null;
  const t1 = performance.now();
  peers.send(own);
  const t2 = performance.now();
  const theirs = await peers.receive();
  const t3 = performance.now();
  session.applyShares(theirs);
  peers.spare = theirs[0].gradient;
  if (timing) {
    timing.share = (timing.share ?? 0) + (t1 - t0);
    timing.send = (timing.send ?? 0) + (t2 - t1);
    timing.wait = (timing.wait ?? 0) + (t3 - t2);
    timing.apply = (timing.apply ?? 0) + (performance.now() - t3);
    timing.steps = (timing.steps ?? 0) + 1;
  }
}
