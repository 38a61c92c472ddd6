// The page of exchange.test.mjs, served beside www/ under exchange/: trains W data-parallel
// replicas (this page is replica 0, as in the benchmark) with their shares exchanged through
// SharedArrayBuffer boards or as messages (www/workers/allreduce.js), from the same start.

import { Session } from '../pkg/latent_lab.js';
import loadWasm from '../app/wasm.js';
import { Team } from '../workers/team.js';

// The test digits serve as training and test set: the transport is under test, not learning.
const FILES = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

async function fetchBytes(name) {
  const res = await fetch(`../data/mnist/${name}`);
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

const [images, labels] = await Promise.all(FILES.map(fetchBytes));
await loadWasm();

/**
 * `steps` data-parallel steps of `model` in `workers` replicas, shares exchanged through
 * boards (`shared`) or as messages. → {before, after: the weights, step, loss, exchange}
 */
async function train({ model, workers, steps, shared }) {
  const session = new Session({ model, train: { seed: 5 } });
  session.setData(images, labels, images, labels);
  const before = session.weights();
  const team = new Team();
  try {
    await team.start(session, workers, shared);
    const exchange = team.exchange;
    const report = await team.steps(session, steps, () => true);
    team.stop(session);
    return { before: Array.from(before), after: Array.from(session.weights()), step: report.step, loss: report.loss, exchange };
  } finally {
    for (const helper of team.helpers) helper.terminate();
    session.free();
  }
}

window.exchange = { train, isolated: globalThis.crossOriginIsolated === true };
