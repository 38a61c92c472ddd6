// A second copy of the model for the interactions that must answer within a frame (a traversal
// slider's decoded image). The training worker runs a chunk of steps (~80 ms) at a time and
// only reads its messages between chunks; this worker never trains, so it answers at once.
// The training worker sends it the current weights (a checkpoint, as Session.save() makes it)
// through a MessageChannel port after every refresh, so its pictures lag training by at most
// one refresh, as the other views do.

import init, { Session } from './pkg/latent_lab.js';
import { Cmd, msg } from './protocol.js';

let session = null;
/** `{z, id}` of the slider code, decoded again whenever new weights arrive. */
let traversal = null;

const post = (m, transfer = []) => self.postMessage(m, transfer);
const messageOf = (err) => (err instanceof Error ? err.message : String(err));
const ready = init();

self.onmessage = async ({ data: m, ports }) => {
  await ready;
  try {
    if (m.type === Cmd.CONNECT) ports[0].onmessage = ({ data: weights }) => setWeights(weights);
    else if (m.type === Cmd.DECODE) {
      traversal = { z: m.z, id: m.id };
      if (session) sendDecoded();
    } else throw new Error(`unknown command "${m.type}" for the replica`);
  } catch (err) {
    post(msg.error(messageOf(err)));
  }
};

/** `bytes`: a checkpoint of the training worker's model (Uint8Array). */
function setWeights(bytes) {
  try {
    session ??= new Session('{}', '{}');
    session.load(bytes);
    if (traversal) sendDecoded();
  } catch (err) {
    post(msg.error(messageOf(err)));
  }
}

function sendDecoded() {
  const { z, id } = traversal;
  // After a change of latent dimension the page sends a code of the new size; until then the
  // old one does not fit, and a VQ-VAE has no continuous code to traverse.
  if (z.length !== session.latentDim) return;
  const m = msg.decoded(id, z, new Float32Array(session.decode(z)));
  post(m, [m.pixels.buffer]);
}
