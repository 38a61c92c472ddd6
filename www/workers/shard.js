// A data-parallel helper: one more replica of the training worker's model, on its shard of the
// training set (src/parallel.rs has the mathematics). It computes its share of every step and
// applies the whole-batch share the training worker sends back, so its weights stay the same
// as the training worker's. Messages, in order:
//   {type: 'start', checkpoint, pixels, labels, index, count}  → {type: 'ready'}
//   {type: 'share'}                                           → {type: 'share', share}
//   {type: 'whole', whole, more}  applies it; if `more`, the next share follows at once
// Any failure answers {type: 'error', message}.

import init, { Session } from '../pkg/latent_lab.js';

const wasmReady = init();
let replica = null;

const shareTransfer = (share) => [share.gradient.buffer, share.z?.buffer, share.codes?.buffer].filter(Boolean);

function sendShare() {
  const share = replica.share();
  self.postMessage({ type: 'share', share }, shareTransfer(share));
}

const handlers = {
  async start({ checkpoint, pixels, labels, index, count }) {
    await wasmReady;
    replica?.free();
    replica = Session.replica(checkpoint, pixels, labels, index, count);
    self.postMessage({ type: 'ready' });
  },
  share: sendShare,
  whole({ whole, more }) {
    replica.applyWhole(whole);
    if (more) sendShare();
  },
};

let queue = Promise.resolve();
self.onmessage = ({ data }) => {
  queue = queue
    .then(() => handlers[data.type](data))
    .catch((err) => self.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
};
