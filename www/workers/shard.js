// A data-parallel helper: one more replica of the training worker's model, on its shard of the
// training set (src/parallel.rs has the mathematics). From 'start' on it trains in lock-step
// with the other replicas, exchanging shares with each over its own port (allreduce.js), until
// 'stop' or the next 'start'. Messages from the training worker:
//   {type: 'start', checkpoint, pixels, labels, index, count, run, shared, ports}  → {type: 'ready'}
//   {type: 'stop'}
//   {type: 'timing'}  → {type: 'timing', timing}: where this helper's steps went since the last ask
//   {type: 'share', run, share}  (both ways: the training worker's share, and this one's)
// `ports` are this replica's MessagePorts to the other helpers, in replica order; the
// training worker is reached through this worker's own channel. Any failure answers
// {type: 'error', message}.

import { Session } from '../pkg/latent_lab.js';
import loadWasm from '../app/wasm.js';
import { Peers, Stopped, WorkerLink, step } from './allreduce.js';

const wasmReady = loadWasm();
// This helper's wasm memory in bytes, for the benchmark's memory table (pkg-config/bench.mjs).
self.wasmBytes = async () => (await wasmReady).memory.buffer.byteLength;
let replica = null;
let peers = null;
/** Sums of this helper's step phases (allreduce.js `step`) since the last 'timing', for the benchmark. */
let timing = {};

function stop() {
  peers?.close();
  peers = null;
}

/** Steps until the run's peers close. */
async function train(runPeers) {
  try {
    for (;;) await step(replica, runPeers, timing);
  } catch (err) {
    if (err instanceof Stopped) return;
    runPeers.close();
    fail(err);
  }
}

function fail(err) {
  self.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}

const handlers = {
  async start({ checkpoint, pixels, labels, index, count, run, shared, ports }) {
    stop();
    await wasmReady;
    replica?.free();
    replica = Session.replica(checkpoint, pixels, labels, index, count);
    peers = new Peers([new WorkerLink(self, run), ...ports], shared);
    timing = {};
    self.postMessage({ type: 'ready' });
    train(peers);
  },
  stop,
  timing() {
    self.postMessage({ type: 'timing', timing });
    timing = {};
  },
};

let queue = Promise.resolve();
self.onmessage = ({ data }) => {
  // A share goes straight to the waiting step, not behind the commands.
  if (data.type === 'share') peers?.ports[0].deliver(data);
  else queue = queue.then(() => handlers[data.type](data)).catch(fail);
};
