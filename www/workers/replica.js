// A second copy of the model for the interactions that must answer within a frame: a traversal
// slider's decoded image and the map's hover card. The training worker runs a chunk of steps
// (~80 ms) at a time and only reads its messages between chunks; this worker never trains, so
// it answers at once. The training worker sends it a new model's checkpoint, then its weights
// after every refresh (Session.weights()), and the test set with every new dataset, so its
// pictures lag training by at most one refresh, as the other views do. While training is
// paused it also decodes half of the map's manifold, so that the grid takes two cores.

import { Session, defaultSettings } from '../pkg/latent_lab.js';
import loadWasm from '../app/wasm.js';
import { Cmd, msg } from '../app/protocol.js';
import { setIdxFiles } from './staging.js';
import { gridRows } from './followers.js';
import { digitsImage, greyLevels } from '../views/digits.js';

let session = null;
/** The test set (IDX files, or the student's images) until a session exists to hold it. */
let pendingTest = null;
/** The latent dimension of the weights held: a slider code of another size waits for the page's next. */
let latentDim = 0;
/** `{z, id}` of the slider code, decoded again whenever new weights arrive. */
let traversal = null;
/**
 * The 2-D context of the traversal's canvas, when the page could hand the canvas over: drawn
 * here, the image shows at this worker's next frame. Sent back to the page instead, it waited a
 * median 8.8 ms for the page's thread after real slider input, which the browser gives to
 * rendering first. Taken once: Firefox refused a later getContext on the transferred canvas.
 */
let traversalContext = null;

const post = (m, transfer = []) => self.postMessage(m, transfer);
const messageOf = (err) => (err instanceof Error ? err.message : String(err));
const ready = loadWasm();
// This worker's wasm memory in bytes, for the soak (pkg-config/soak.mjs) and the console.
self.wasmBytes = async () => (await ready).memory.buffer.byteLength;

const handlers = {
  [Cmd.CONNECT](m, ports) {
    const kinds = { checkpoint: ({ bytes }) => setModel(bytes), values: ({ values }) => setValues(values), rows: sendRows };
    ports[0].onmessage = ({ data }) => guarded(() => (kinds[data.kind] ?? setTest)(data));
  },

  [Cmd.DECODE]({ z, id }) {
    traversal = { z, id };
    if (session) sendDecoded();
  },

  [Cmd.TRAVERSAL_CANVAS]({ canvas }) {
    traversalContext = canvas.getContext('2d');
  },

  [Cmd.READ_TRAVERSAL]() {
    if (!traversalContext) throw new Error('the replica holds no traversal canvas');
    const greys = greyLevels(traversalContext);
    post(msg.traversalImage(greys), [greys.buffer]);
  },

  [Cmd.HOVER]({ index }) {
    if (!session) throw new Error('no test images yet to show');
    const { label, image, recon } = session.hover(index);
    const m = msg.hovered(index, label, image, recon);
    post(m, [m.image.buffer, m.recon.buffer]);
  },
};

self.onmessage = async ({ data: m, ports }) => {
  await ready;
  guarded(() => {
    if (!Object.hasOwn(handlers, m.type)) throw new Error(`unknown command "${m.type}" for the replica`);
    handlers[m.type](m, ports);
  });
};

function guarded(fn) {
  try {
    fn();
  } catch (err) {
    post(msg.error(messageOf(err)));
  }
}

/** `bytes`: a checkpoint of the training worker's new model (Uint8Array); the test set stays. */
function setModel(bytes) {
  if (!session) {
    session = new Session(defaultSettings());
    if (pendingTest) setTest(pendingTest);
  }
  session.load(bytes);
  latentDim = session.config().latentDim;
  if (traversal) sendDecoded();
}

/** `values`: the training worker's weights after more steps of the model this worker holds (Float32Array). */
function setValues(values) {
  if (!session) throw new Error('the replica got weights before their model');
  session.setWeights(values);
  if (traversal) sendDecoded();
}

/** Rows `first…end−1` of the training worker's manifold `id`, on its view plane, as their tiles' image: its other rows are decoded there meanwhile. */
function sendRows(request) {
  if (!session) throw new Error('the replica got a part of the map before its model');
  post(...gridRows(session, request));
}

/**
 * The test set: `{kind: 'test', images, labels}` IDX files (standing in for the training set
 * too, which this worker never uses), or `{kind: 'images', pixels, paths}` the student's images,
 * which Rust splits as the training worker's session did.
 */
function setTest(test) {
  if (!session) {
    pendingTest = test;
    return;
  }
  if (test.kind === 'images') session.setImages(test.pixels, test.paths);
  else setIdxFiles(session, [test.images, test.labels, test.images, test.labels]);
  pendingTest = null;
}

function sendDecoded() {
  const { z, id } = traversal;
  // After a change of latent dimension the page sends a code of the new size; until then the
  // old one does not fit, and a VQ-VAE has no continuous code to traverse.
  if (z.length !== latentDim) return;
  const pixels = session.decode(z);
  let drawnAt = null;
  if (traversalContext) {
    traversalContext.putImageData(digitsImage(pixels, 1, 1), 0, 0);
    drawnAt = performance.timeOrigin + performance.now();
  }
  const m = msg.decoded(id, z, pixels, drawnAt);
  post(m, [m.pixels.buffer]);
}
