// What follows the model: every picture the page asked for that changes when the weights do.
// One entry per picture says which commands set its request, how the Session answers it, how
// often it is recomputed ('scatter': with every map refresh; 'generated': on the slower clock
// of pictures that need no test images), and what a new model keeps of the request. The
// `Followers` keeps the requests and runs this table; the answers are Rust's, only reshaped here.

import { Cmd, msg } from '../app/protocol.js';
import { DIM_ROWS, STEP_MODE } from '../app/config.js';

/** `flat` (n·width numbers) as n plain arrays: the shape the views draw from. */
const rowsOf = (flat, width) =>
  Array.from({ length: width ? flat.length / width : 0 }, (_, i) => Array.from(flat.subarray(i * width, (i + 1) * width)));
const transfer = (m, ...keys) => [m, keys.map((k) => m[k].buffer)];
const randomSeed = () => Math.floor(Math.random() * 2 ** 32);
/** Unjudged manifolds sent so far: each part names its grid, so the page joins the right parts. */
let gridsSent = 0;

/**
 * Rows `first…end−1` of manifold `id` over `rect` (n × n), lifted by `plane` (null: the
 * session's own), as the message of their tiles' image (painted by the session): a whole grid,
 * the training worker's part of a split grid and the replica's alike. → [message, transferables]
 */
export function gridRows(session, { id, rect, n, first, end, plane }) {
  const rgba = new Uint8ClampedArray(session.manifoldRowsImage(rect, n, first, end, plane).buffer);
  return [msg.manifoldRows(rect, n, { id, first, end }, rgba), [rgba.buffer]];
}

/**
 * Entry fields: `name`; `commands` {type: (request, message, ports) => new request or null};
 * `answer(session, request, requests, kind, replica)` → [message, transferables] or null, where
 * `replica` is the replica worker's weights port while it holds this model's weights and training
 * is paused (it can take a part of the work), else null; `pace`; optional
 * `applies(kind)`, `lazy` (while training, wait for the next refresh instead of answering the
 * command at once), `always` (answered with no request), `onNewModel(request, {sameSettings,
 * testLength})`, `follows` (names of entries whose change re-answers this one).
 */
export const FOLLOWERS = [
  {
    name: 'replica',
    // The replica worker answers slider moves and hovers with its own copy of the weights: a
    // new model's checkpoint, then at each refresh only the values, copied in place. Parsing
    // and checking a 3 MB checkpoint took it about 100 ms, during which a slider move waited.
    // First in the table: the followers after it may hand the replica a part of their work,
    // which must reach it after the weights it is to use.
    commands: { [Cmd.CONNECT]: (r, m, ports) => ({ port: ports[0], model: 'new' }) },
    onNewModel: (request) => ({ ...request, model: 'new' }),
    pace: 'scatter',
    answer(session, request) {
      if (request.model === 'new') {
        const bytes = session.save();
        request.port.postMessage({ kind: 'checkpoint', bytes }, [bytes.buffer]);
        request.model = 'sent';
      } else {
        const values = session.weights();
        request.port.postMessage({ kind: 'values', values }, [values.buffer]);
      }
      return null;
    },
  },
  {
    name: 'codebook',
    // Always on for a VQ-VAE: the Voronoi cells, usage and snap lines come from it.
    always: true,
    applies: (kind) => kind === 'vqvae',
    pace: 'scatter',
    answer: (session) => transfer(msg.codebook(session.codebookSummary()), 'codebook', 'images', 'usage', 'majority', 'nearest'),
  },
  {
    name: 'manifold',
    commands: { [Cmd.MANIFOLD]: (r, { rect, n, judged }) => (rect ? { rect, n, judged } : null) },
    lazy: true,
    pace: 'scatter',
    answer(session, { rect, n, judged }, requests, kind, replica) {
      if (!judged) {
        // The tiles' image comes painted from here, not from the page's thread, where it took
        // 4–7 ms after the grid arrived. Paused, two cores decode it: the idle replica (same
        // weights) the lower rows, sent straight to the page, and this worker the upper ones.
        const id = ++gridsSent;
        const split = replica ? Math.ceil(n / 2) : n;
        if (replica) replica.postMessage({ kind: 'rows', id, rect, n, first: split, end: n, plane: session.viewPlane() });
        return gridRows(session, { id, rect, n, first: 0, end: split, plane: null });
      }
      const j = session.judgeManifold(rect, n);
      return transfer(msg.manifold(rect, n, j.pixels, j.classes, j.confidence), 'pixels', 'classes', 'confidence');
    },
  },
  {
    name: 'selection',
    commands: {
      [Cmd.SELECT]: (r, { index }) => (index === null ? null : { index, draws: 0, seed: randomSeed() }),
      [Cmd.ADD_DRAWS]: (r, { count }) => {
        if (!r) throw new Error('select a digit on the map before drawing ε');
        return { ...r, draws: r.draws + count };
      },
    },
    pace: 'scatter',
    // The ε draws belong to the old model's latent space; the followed digit stays if it exists.
    onNewModel: (r, { testLength }) => (r.index < testLength ? { ...r, draws: 0, seed: randomSeed() } : null),
    answer(session, { index, draws, seed }) {
      const p = session.pick(index, draws, BigInt(seed));
      const d = p.logvar ? p.logvar.length : 0;
      const m = msg.selection({
        ...p,
        mu: Array.from(p.mu),
        logvar: p.logvar && Array.from(p.logvar),
        sigma: p.sigma && Array.from(p.sigma),
        axes: p.axes && Array.from(p.axes),
        epsilons: rowsOf(p.epsilons, d),
        zs: rowsOf(p.zs, d),
        zsPlane: Array.from(p.zsPlane),
      });
      return transfer(m, 'image', 'decoded');
    },
  },
  {
    name: 'interpolation',
    commands: { [Cmd.INTERPOLATE]: (r, { a, b, steps }) => (a === null || b === null ? null : { a, b, steps }) },
    // A VQ-VAE's decoder sees only codebook vectors: it has no line to decode.
    applies: (kind) => kind !== 'vqvae',
    pace: 'scatter',
    answer: (session, { a, b, steps }) => transfer(msg.interpolation(session.interpolation(a, b, steps)), 'images', 'pixels', 'path'),
  },
  {
    name: 'dimRows',
    commands: { [Cmd.DIM_ROWS]: (r, { count }) => ({ count }) },
    applies: (kind) => kind !== 'vqvae',
    follows: ['selection'],
    pace: 'scatter',
    answer(session, { count }, requests) {
      // A request for another model's dimension is followed by one for this model's.
      if (count > session.config().latentDim) return null;
      const base = requests.get('selection')?.index ?? null;
      return transfer(msg.dimRows(session.dimRows(base, count, DIM_ROWS.range, DIM_ROWS.steps)), 'values', 'pixels');
    },
  },
  {
    name: 'drawing',
    commands: { [Cmd.DRAW]: (r, { pixels, id }) => (pixels ? { pixels, id } : null) },
    pace: 'scatter',
    answer(session, { pixels, id }) {
      const d = session.drawing(pixels);
      return transfer(msg.drawn({ id, ...d, mean: Array.from(d.mean) }), 'recon');
    },
  },
  {
    name: 'generation',
    commands: { [Cmd.SAMPLE]: (r, { count, seed }) => ({ count, seed }) },
    pace: 'generated',
    answer: (session, { count, seed }, _, kind) =>
      transfer(msg.samples(kind, count, seed, session.samplePrior(count, BigInt(seed))), 'pixels'),
  },
  {
    name: 'codeGrids',
    commands: { [Cmd.DECODE_CODES]: (r, { codes, id }) => ({ codes, id }) },
    applies: (kind) => kind === 'vqvae',
    pace: 'generated',
    // Grids of the old codebook may not fit a new one; the page sends new ones.
    onNewModel: (r, { sameSettings }) => (sameSettings ? r : null),
    answer: (session, { codes, id }) => transfer(msg.codesDecoded(id, codes, session.decodeCodes(codes)), 'pixels'),
  },
  {
    name: 'gmmPrior',
    commands: { [Cmd.GMM_PRIOR]: (r, { k, count, seed }) => (k === null ? null : { k, count, seed }) },
    // A VQ-VAE's decoder sees only codebook vectors: its prior is over code indices.
    applies: (kind) => kind !== 'vqvae',
    // Refitting encodes 10,000 training images: on the slower clock while training.
    pace: 'generated',
    answer: (session, { k, count, seed }) =>
      transfer(msg.gmmPrior(session.gmmPrior(k, count, BigInt(seed))), 'meansPlane', 'components', 'samples', 'samplesPlane', 'pixels'),
  },
  {
    name: 'quantization',
    // Follows the picked digit in a VQ-VAE; nothing to answer until one is picked.
    always: true,
    applies: (kind) => kind === 'vqvae',
    follows: ['selection'],
    pace: 'scatter',
    answer(session, _, requests) {
      const index = requests.get('selection')?.index;
      if (index === undefined) return null;
      return transfer(msg.quantization(session.quantization(index)), 'image', 'zE', 'distances', 'nearest', 'zQ', 'offset', 'decoded');
    },
  },
];

/** The page's standing requests, by follower name, and the table's rules for answering them. */
export class Followers {
  /**
   * @param {(message, transfer) => void} post sends an answer to the page
   * @param {() => boolean} paused whether the model is not training (the replica is idle then)
   */
  constructor(post, paused) {
    this.post = post;
    this.paused = paused;
    this.requests = new Map();
  }

  /** The replica worker's end of the weights channel, once connected (it also gets the test set). */
  replicaPort() {
    return this.requests.get('replica')?.port;
  }

  /**
   * Command handlers for every follower's commands. `live()` is `{session, kind, training}`
   * when a model on data can answer, else null.
   */
  handlers(live) {
    const handlers = {};
    for (const entry of FOLLOWERS) {
      for (const [type, update] of Object.entries(entry.commands ?? {})) {
        handlers[type] = (m, ports) => {
          const next = update(this.requests.get(entry.name) ?? null, m, ports);
          this.set(entry.name, next);
          const now = live();
          if (!next || !now || (entry.lazy && now.training)) return;
          this.answer(entry, now.session, now.kind);
          for (const follower of FOLLOWERS.filter((f) => f.follows?.includes(entry.name))) this.answer(follower, now.session, now.kind);
        };
      }
    }
    return handlers;
  }

  set(name, request) {
    if (request) this.requests.set(name, request);
    else this.requests.delete(name);
  }

  /** Posts `entry`'s answer to its request, if it has one and applies to this model. */
  answer(entry, session, kind) {
    const request = entry.always ? {} : this.requests.get(entry.name);
    if (!request || (entry.applies && !entry.applies(kind))) return;
    const replica = this.requests.get('replica');
    const helper = replica?.model === 'sent' && this.paused() ? replica.port : null;
    const reply = entry.answer(session, request, this.requests, kind, helper);
    if (reply) this.post(...reply);
  }

  /** Every follower of `pace`; one whose request no longer fits the model drops it and says why. */
  refresh(pace, session, kind) {
    for (const entry of FOLLOWERS.filter((f) => f.pace === pace)) {
      try {
        this.answer(entry, session, kind);
      } catch (err) {
        this.requests.delete(entry.name);
        this.post(msg.error(err instanceof Error ? err.message : String(err)));
      }
    }
  }

  /** A new model: each request keeps what still makes sense (`{sameSettings, testLength}`). */
  modelReplaced(context) {
    for (const entry of FOLLOWERS) {
      const request = this.requests.get(entry.name);
      if (request && entry.onNewModel) this.set(entry.name, entry.onNewModel(request, context));
    }
  }
}

/** What the Step button's single step did, as the step panel shows it (first STEP_MODE.images of the batch). */
export function traceStep(session) {
  const t = session.traceStep(STEP_MODE.images);
  const m = msg.stepTrace({ ...t, epsilon: t.epsilon && rowsOf(t.epsilon, t.latentDim) });
  return transfer(m, 'images');
}
