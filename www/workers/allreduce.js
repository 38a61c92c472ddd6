// One data-parallel step, the same in the training worker (replica 0) and in every helper
// (src/parallel.rs has the mathematics): compute this replica's share, send it straight to
// every other replica, wait for theirs, and let the session reduce all W in shard order and
// take the step. Every replica does this at the same time, and nothing passes through a hub.
// Through messages each replica takes the whole step; through shared memory the replicas split
// it: each runs AdamW on its part of the parameters only and puts the result on its board,
// where the others take it.
//
// A share travels in one of two ways. Cross-origin isolated, after the first step of a run,
// each replica writes its share once into its own SharedArrayBuffer (a Board) that every peer
// reads, and wakes them with Atomics: no message per peer, no clone of the 3.2 MB gradient for
// every peer but the last, and no trip through the receiver's event loop. Otherwise (and for
// the first step, which hands each peer the sender's board) it goes as a message, the arrays
// transferred.

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

/** Bytes before a board's slots: Int32 [shares published, split steps whose part is on the board], padded. */
const BOARD_HEAD = 16;
/** Bytes before a slot's small fields: Int32 [their JSON's length], padded. */
const SLOT_HEAD = 16;
const roundUp = (n, to) => Math.ceil(n / to) * to;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const smallFields = ({ shard, reached, metrics, bounded }) => encoder.encode(JSON.stringify({ shard, reached, metrics, bounded }));
/** Bytes of one slot of a board with `layout`'s sizes. */
const slotBytes = ({ json, gradient, z, codes }) => SLOT_HEAD + json + 4 * (gradient + (z ?? 0) + (codes ?? 0));

/**
 * One replica's shares in a SharedArrayBuffer: two slots, share s in slot s mod 2, so the
 * sender writes share s + 2 only after every peer has sent share s + 1, which each does after
 * it has read share s. After the slots, the parameters: the replica's part of a split step is
 * written there after it has every share of the step, and each peer reads it before it sends
 * its next share, so one copy suffices. Sized by the run's first share: a run's shares keep
 * their sizes.
 */
class Board {
  /** `layout`: {buffer, json, gradient, z, codes}, the sizes in bytes and values, z and codes null when absent. */
  constructor(layout) {
    this.layout = layout;
    const { buffer, json, gradient, z, codes } = layout;
    this.published = new Int32Array(buffer, 0, 1);
    this.updated = new Int32Array(buffer, 4, 1);
    this.parameters = new Float32Array(buffer, BOARD_HEAD + 2 * slotBytes(layout), gradient);
    this.slots = [0, 1].map((k) => {
      let at = BOARD_HEAD + k * slotBytes(layout);
      const view = (Type, length) => {
        const array = length === null ? null : new Type(buffer, at, length);
        at += 4 * (length ?? 0);
        return array;
      };
      const head = new Int32Array(buffer, at, 1);
      const bytes = new Uint8Array(buffer, at + SLOT_HEAD, json);
      at += SLOT_HEAD + json;
      return { head, bytes, gradient: view(Float32Array, gradient), z: view(Float32Array, z), codes: view(Uint32Array, codes) };
    });
  }

  /** A board for the shares of a run whose first share is `share`; share 0 counts as published (it goes as a message). */
  static for(share) {
    const json = roundUp(4096 + 4 * smallFields(share).length, 16);
    const [gradient, z, codes] = [share.gradient, share.z, share.codes].map((a) => a?.length ?? null);
    const sizes = { json, gradient, z, codes };
    const board = new Board({ buffer: new SharedArrayBuffer(BOARD_HEAD + 2 * slotBytes(sizes) + 4 * gradient), ...sizes });
    Atomics.store(board.published, 0, 1);
    return board;
  }

  /** The array share `s`'s gradient is to be written into (Session.share fills it in place). */
  gradient(s) {
    return this.slots[s % 2].gradient;
  }

  /** Publishes share `s` and wakes the peers waiting for it. */
  write(s, share) {
    const slot = this.slots[s % 2];
    const fits = (array, into) => (array?.length ?? null) === (into?.length ?? null);
    const bytes = smallFields(share);
    if (!fits(share.gradient, slot.gradient) || !fits(share.z, slot.z) || !fits(share.codes, slot.codes) || bytes.length > slot.bytes.length) {
      throw new Error('a share changed its size within a data-parallel run');
    }
    if (share.gradient !== slot.gradient) slot.gradient.set(share.gradient);
    if (share.z) slot.z.set(share.z);
    if (share.codes) slot.codes.set(share.codes);
    slot.bytes.set(bytes);
    slot.head[0] = bytes.length;
    Atomics.store(this.published, 0, s + 1);
    Atomics.notify(this.published, 0);
  }

  /** Tells the peers this replica's part of split step `s` is in `parameters`. */
  markUpdated(s) {
    Atomics.store(this.updated, 0, s + 1);
    Atomics.notify(this.updated, 0);
  }

  /** Share `s`, once published: its small fields parsed, its arrays views of the board. */
  read(s) {
    const slot = this.slots[s % 2];
    // TextDecoder refuses views of shared memory: decode a copy.
    const small = JSON.parse(decoder.decode(slot.bytes.slice(0, slot.head[0])));
    return { ...small, gradient: slot.gradient, z: slot.z, codes: slot.codes };
  }
}

/** A worker may block in Atomics.wait; a page's own thread may not. */
const mayBlock = typeof WorkerGlobalScope === 'function' && globalThis instanceof WorkerGlobalScope;
/** How long one blocking wait lasts before messages (a stop, a helper's failure) get their turn. */
const WAIT_SLICE_MS = 50;

/** Resolves once the messages that arrived meanwhile have been handled. */
function yieldToEvents() {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/** A replica's ports (MessagePorts or WorkerLinks) to the W − 1 others. */
export class Peers {
  /** `shared`: shares go through boards after the first step (needs cross-origin isolation). */
  constructor(ports, shared) {
    this.ports = ports;
    this.inboxes = ports.map((port) => new Inbox(port));
    this.shared = shared;
    /** This replica's board, and each peer's, once their first share has brought them. */
    this.board = null;
    this.boards = ports.map(() => null);
    /** Shares this replica has sent in the run. */
    this.sent = 0;
    this.failure = null;
    // A gradient array received last step (as a message): the next share is written into it,
    // because a new 3.2 MB array every step costs its page faults (about 2.5 ms in Chromium).
    this.spare = null;
  }

  /** The array the next share's gradient is to be written into, or null for a new one. */
  nextGradient() {
    if (this.board) return this.board.gradient(this.sent);
    const spare = this.spare;
    this.spare = null;
    return spare;
  }

  /**
   * Sends `share` to every peer: on this replica's board, or as messages, copies to all but the
   * last, which takes the arrays themselves (the first message of an isolated run carries the
   * board).
   */
  send(share) {
    if (this.board) {
      this.board.write(this.sent, share);
    } else {
      const board = this.shared ? Board.for(share) : null;
      const message = board ? { ...share, board: board.layout } : share;
      const transfer = [share.gradient.buffer, share.z?.buffer, share.codes?.buffer].filter(Boolean);
      this.ports.forEach((port, k) => port.postMessage(message, k === this.ports.length - 1 ? transfer : []));
      this.board = board;
    }
    this.sent += 1;
  }

  /** The share of every peer for the step this replica has just sent its own of. */
  async receive() {
    const step = this.sent - 1;
    const theirs = await Promise.all(this.inboxes.map((inbox, k) => (this.boards[k] ? null : inbox.next())));
    for (const [k, share] of theirs.entries()) {
      if (share) {
        if (share.board) this.boards[k] = new Board(share.board);
      } else {
        await this.reached(this.boards[k].published, step);
        theirs[k] = this.boards[k].read(step);
      }
    }
    return theirs;
  }

  /** Whether the replicas split their steps: every one of them has a board (then all do). */
  splitsSteps() {
    return this.board !== null && this.boards.every(Boolean);
  }

  /** The peers' parts of split step `s` (`theirs`: their shares of it), once on their boards. */
  async partsOf(s, theirs) {
    for (const board of this.boards) await this.reached(board.updated, s);
    return this.boards.map((board, k) => ({ shard: theirs[k].shard, parameters: board.parameters }));
  }

  /** Keeps a gradient array that came as a message for the next share to be written into. */
  received(theirs) {
    // A peer with a board sent its share there (or the board with it): its array is not ours.
    if (!this.boards[0]) this.spare = theirs[0].gradient;
  }

  /** Waits until a board's `counter` passes `s`: blocking in a worker, in slices between which messages are handled. */
  async reached(counter, s) {
    for (;;) {
      if (this.failure) throw this.failure;
      const seen = Atomics.load(counter, 0);
      if (seen > s) return;
      if (mayBlock) {
        if (Atomics.wait(counter, 0, seen, WAIT_SLICE_MS) === 'timed-out') await yieldToEvents();
      } else if (typeof Atomics.waitAsync === 'function') {
        const wait = Atomics.waitAsync(counter, 0, seen, WAIT_SLICE_MS);
        if (wait.async) await wait.value;
      } else {
        await yieldToEvents();
      }
    }
  }

  /** Ends the run: waiting steps throw {@link Stopped} (or `error`), the ports close. */
  close(error = new Stopped()) {
    this.failure = error;
    for (const inbox of this.inboxes) inbox.fail(error);
    for (const port of this.ports) port.close();
  }
}

/**
 * One step of `session` with its `peers`. With `timing` (an object of sums in ms), adds where
 * the time went: `share` (the half batch's forward and backward and the gradient's copy out of
 * wasm), `send`, `wait` (for the slowest peer's share to arrive) and `apply` (copying the
 * peers' gradients in, the reduce and AdamW; in a split step also the parts' exchange).
 */
export async function step(session, peers, timing = null) {
  const t0 = performance.now();
  const own = session.share(peers.nextGradient(), peers.splitsSteps());
  const t1 = performance.now();
  peers.send(own);
  const t2 = performance.now();
  const theirs = await peers.receive();
  const t3 = performance.now();
  if (peers.splitsSteps()) {
    const s = peers.sent - 1;
    session.applyOwnPart(theirs, peers.board.parameters);
    peers.board.markUpdated(s);
    session.takeParts(await peers.partsOf(s, theirs));
  } else {
    session.applyShares(theirs);
  }
  peers.received(theirs);
  if (timing) {
    timing.share = (timing.share ?? 0) + (t1 - t0);
    timing.send = (timing.send ?? 0) + (t2 - t1);
    timing.wait = (timing.wait ?? 0) + (t3 - t2);
    timing.apply = (timing.apply ?? 0) + (performance.now() - t3);
    timing.steps = (timing.steps ?? 0) + 1;
  }
}
