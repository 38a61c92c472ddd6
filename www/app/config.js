// Colours, sizes and pacing in one place, shared by the page and the worker.

/**
 * One colour per class (digit 0–9). Paul Tol's "muted" qualitative scheme, chosen to stay
 * distinguishable under the common forms of colour blindness, plus a dark grey as the tenth.
 */
export const PALETTE = [
  '#332288', // indigo
  '#88ccee', // cyan
  '#44aa99', // teal
  '#117733', // green
  '#999933', // olive
  '#ddcc77', // sand
  '#cc6677', // rose
  '#882255', // wine
  '#aa4499', // purple
  '#555555', // dark grey
];

/**
 * The colour of class `label` as #rrggbb: the palette for the first ten; beyond them (a set of
 * your own images may have up to 64 classes) hues a golden angle apart, which never repeat
 * and keep neighbouring classes apart. Memoised: the map asks once per point per frame.
 */
export function classColor(label) {
  while (extraColors.length <= label - PALETTE.length) {
    const hue = (extraColors.length * 137.508 + 20) % 360;
    extraColors.push(hslHex(hue, 0.6, 0.42));
  }
  return label < PALETTE.length ? PALETTE[label] : extraColors[label - PALETTE.length];
}
const extraColors = [];

/** A `#rrggbb` colour as [r, g, b] bytes. */
export function hexRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** HSL (hue in degrees, saturation and lightness in [0, 1]) as #rrggbb. */
function hslHex(hue, saturation, lightness) {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n) => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return `#${[channel(0), channel(8), channel(4)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** The bundled datasets: four IDX files each, gzipped, under `dir` (relative to www/). */
export const DATASETS = {
  mnist: {
    label: 'MNIST digits',
    dir: 'data/mnist/',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  },
  fashion: {
    label: 'Fashion-MNIST',
    dir: 'data/fashion/',
    classNames: ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
};

export const IDX_FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
];

/**
 * The page's model and training settings; the rest come from the model's defaults.
 * Chosen for "clusters within about ten seconds" on a laptop CPU: measured on MNIST, with
 * the same seed, a 256-unit MLP on batches of 64 at learning rate 0.003 reached a 5-NN
 * accuracy of the 2-D codes of 0.53 after 32k images, the defaults (512 units, batches of
 * 128, rate 0.001) 0.42, and it trains about 1.5× as many images per second.
 */
export const SETTINGS = {
  model: { hidden: 256 },
  train: { learningRate: 0.003, batchSize: 64 },
};

/** Training images used in quick mode (the first N of the training set), for slow machines. */
export const QUICK_SUBSET = 10000;

/** How the worker paces training against the cost of the pictures it sends. */
export const TRAINING = {
  // One trainSteps call should take about this long: short enough that Pause feels
  // immediate, long enough that the per-call overhead stays small.
  chunkMs: 80,
  maxChunkSteps: 500,
  // Test images encoded for the scatter; more points show the clusters' shape better.
  scatterPoints: 3000,
  // Scatter refresh: at most every scatterMs, and never spending more than
  // 1/scatterCostRatio of the time on encoding (slow machines keep training speed).
  scatterMs: 500,
  scatterCostRatio: 6,
  // Held-out metrics: evaluated on this many test images every evalMs.
  evalImages: 1000,
  evalMs: 3000,
};

export const SCATTER = {
  pointRadius: 1.6,
  // A click selects the nearest point within this many pixels.
  pickRadius: 8,
  // Empty space around the fitted data, as a fraction of the data's extent.
  margin: 0.08,
  // Share of the remaining distance the view bounds move per animation frame.
  easing: 0.15,
  // A refit whose bounds move less than this share of the view's extent jumps instead of easing.
  jumpShare: 0.05,
  // The dots are rasterized again once the view has zoomed by more than this factor, or moved
  // by more than this share of the map, since (views/scatter.js); until then their canvas is
  // scaled and shifted.
  redotZoom: 1.1,
  redotShift: 0.05,
  // Zoom and pan (views/mapnav.js): the view's width stays within these multiples of the
  // fitted view's; one wheel notch (100 px of deltaY) or one +/− key press zooms by
  // zoomStep; Shift+arrow pans by panShare of the plot; a press that moves more than
  // dragPixels is a pan, not a click.
  zoomRange: [0.005, 20],
  zoomStep: 1.25,
  panShare: 0.1,
  dragPixels: 4,
  // Ring around the highlighted or hovered point.
  ringRadius: 6,
  font: '12px system-ui, sans-serif',
  axisColor: '#333333',
  gridColor: '#e6e6e6',
  background: '#ffffff',
};

export const CURVE = {
  trainColor: '#332288',
  testColor: '#cc6677',
  font: '11px system-ui, sans-serif',
  axisColor: '#333333',
  gridColor: '#e6e6e6',
  // Points kept per series; older ones are thinned so long runs stay cheap to draw.
  maxPoints: 600,
};

/** The decoded manifold under the map: tiles per side, and the least time between refreshes. */
export const MANIFOLD = {
  tiles: 20,
  minMs: 400,
};

export const CODEBOOK = {
  // Share of white mixed into a cell's digit colour: light enough for the points to show.
  fillMix: 0.72,
  deadFill: '#e4e4e4',
  deadMarker: '#9a9a9a',
  edge: '#ffffff',
  markerRadius: 6,
  stripColumns: 16,
  stripZoom: 1.5,
  font: '10px system-ui, sans-serif',
  // Drawn over the points, faint enough that 3,000 lines stay a haze.
  snapLine: 'rgba(0, 0, 0, 0.18)',
};

export const REPARAM = {
  color: '#000000',
  zoom: 2.5,
  sampleZoom: 1.5,
  stripColumns: 10,
  // Decoded samples shown (newest first); older draws stay on the map.
  maxShown: 20,
  manyDraws: 10,
  // Latent components written out in the formula before "… n more".
  maxComponents: 4,
};

/** The card beside the pointer on the map: image zoom, gap to the pointer, size before first shown. */
export const HOVER = {
  zoom: 2,
  offset: 14,
  width: 140,
  height: 90,
};

/** Samples from the prior: a side × side grid, redrawn at most every refreshMs while training. */
export const GENERATION = {
  side: 6,
  zoom: 1.5,
  refreshMs: 2000,
};

/**
 * One slider per latent dimension, for the first maxSliders; ±range covers nearly all of
 * N(0, 1), where a VAE's codes live.
 */
export const TRAVERSAL = {
  maxSliders: 10,
  range: 3,
  step: 0.05,
  zoom: 5,
  /** Decode requests out at once (views/traversal.js says why two). */
  inFlight: 2,
};

/** The Step button's panel: how much of the traced batch it shows. */
export const STEP_MODE = {
  images: 16,
  columns: 8,
  zoom: 1.5,
  epsilonRows: 4,
  epsilonDims: 6,
  // Darker than every palette colour, so the codebook's moves show over any Voronoi cell.
  arrowColor: '#000000',
};

/**
 * Data from the student's own four IDX files. The Rust reader accepts labels 0–9 only, so
 * the classes are named as digits.
 */
export const OWN_DATA = {
  key: 'own',
  label: 'Your own IDX files…',
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
};

/**
 * The student's own images (app/imagefiles.js, workers/images.js). `key` is the dataset once
 * loaded; `folderKey` and `filesKey` are the dataset list's entries that open the pickers.
 * Rust states the other limits (imageLimits(): images, pixels on a side, classes).
 */
export const OWN_IMAGES = {
  key: 'images',
  label: 'Your images',
  folderKey: 'imageFolder',
  folderLabel: 'Your own images: a folder…',
  filesKey: 'imageFiles',
  filesLabel: 'Your own images: files or a .zip…',
};

export const IMAGES = {
  extensions: ['png', 'jpg', 'jpeg', 'webp'],
  // A file is read whole before it is decoded; a larger one is skipped unread.
  maxFileBytes: 16 * 2 ** 20,
  progressMs: 100,
  // Prepared images shown in the panel, and how many skipped files it names before "and N more".
  previewCount: 24,
  previewColumns: 12,
  previewZoom: 1.5,
  listedSkips: 20,
};

/**
 * The drawing pad: its size in CSS pixels, the pen width as a share of that size (MNIST's
 * strokes are about a tenth of the 20-pixel box), and the marker of the drawn digit's code on
 * the map: a star in Okabe–Ito orange, a colour the class palette does not use.
 */
export const DRAWPAD = {
  size: 196,
  penShare: 0.075,
  zoom: 3,
  markerFill: '#e69f00',
  markerStroke: '#000000',
  markerRadius: 9,
  font: '600 12px system-ui, sans-serif',
};

/** The comparison model: which kind the second map shows for each main kind (first is default). */
export const COMPARE = {
  partners: { ae: ['vae', 'vqvae'], vae: ['ae', 'vqvae'], vqvae: ['vae', 'ae'] },
};

/**
 * The loss charts: one small chart per term, train and test. Appending a point is cheap;
 * drawing is not, so charts redraw at most every redrawMs however often reports arrive.
 */
export const LOSS_CHARTS = {
  height: 140,
  redrawMs: 250,
  // Rows (steps) kept; beyond it train-only rows are thinned, held-out evaluations kept.
  maxRows: 600,
};

/** KL per latent dimension: bars on a log axis from `floor`; below `collapsed` a dimension carries no information. */
export const KL_BARS = {
  floor: 1e-3,
  collapsed: 0.01,
  collapsedColor: '#bbbbbb',
  redrawMs: 250,
  font: '11px system-ui, sans-serif',
};

/** Interpolation between two test digits: decoded points on the line between their codes. */
export const INTERPOLATION = {
  defaultSteps: 7,
  minSteps: 2,
  maxSteps: 16,
  zoom: 1.5,
  // Black on the pale map: the classes' colours stay for the points.
  color: '#000000',
  halo: '#ffffff',
};

/** One row per latent dimension, the dimension swept over ±range in `steps`, the rest fixed. */
export const DIM_ROWS = {
  range: 3,
  steps: 9,
  // Rows shown until the student asks for all of them.
  defaultRows: 10,
  zoom: 1.25,
};

/**
 * The VQ-VAE's symbolic image: one cell per code position. Cell fills cycle through Paul
 * Tol's "light" scheme (colour-blind safe, dark text stays legible); the index tells codes apart.
 */
export const SYMBOLIC = {
  fills: ['#77aadd', '#ee8866', '#eedd88', '#ffaabb', '#99ddff', '#44bb99', '#bbcc33', '#aaaa00', '#dddddd'],
  zoom: 3,
  randomCount: 8,
  randomZoom: 1.5,
};

/** Most training workers (data-parallel replicas) the page allows. */
export const MAX_WORKERS = 16;
/**
 * Workers when the link names none, for `cores` (navigator.hardwareConcurrency): two from four
 * cores up, else one. On 2 cores the lab page trained at 0.75–1.04 × one worker's img/s with
 * two (the page's thread and the replica that answers the views need part of a core); the
 * bench, without them, measured 1.2–1.4 ×, and the README's cost model projects the exchange
 * of every gradient with every peer to gain little past two (a projection, not a measurement).
 */
export const defaultWorkers = (cores) => (cores >= 4 ? 2 : 1);

/**
 * The mixture lesson (views/mixture1d.js, emfit.js, clusters2d.js). Component colours: Okabe–Ito
 * blue and vermilion, told apart in every colour-vision type. The lecture's two settings are
 * presets; σ = 4 is ours (the lecture gives none). Ranges keep both bumps inside the x axis
 * Rust draws (±30).
 */
export const MIXTURE = {
  colors: ['#0072b2', '#d55e00', '#009e73'],
  curvePoints: 401,
  samples: 500,
  maxSamples: 20000,
  presets: [
    { label: 'P(z) = (0.5, 0.5)', params: { weights: [0.5, 0.5], means: [-10, 10], sigmas: [4, 4] } },
    { label: 'P(z) = (0.2, 0.8)', params: { weights: [0.2, 0.8], means: [-10, 10], sigmas: [4, 4] } },
  ],
  weight: { min: 0.01, max: 0.99, step: 0.01 },
  mean: { min: -20, max: 20, step: 0.5 },
  sigma: { min: 0.5, max: 10, step: 0.1 },
  // The first x picked, and the steps of the "Run" buttons.
  startX: 2,
  runSteps: 10,
  clusterSeed: 1,
  font: '11px system-ui, sans-serif',
};

/** The GMM prior over an AE's or VAE's codes: components, decoded samples, and its marks on the map. */
export const GMM_PRIOR = {
  defaultK: 10,
  minK: 1,
  maxK: 20,
  side: 6,
  zoom: 1.5,
  color: '#000000',
  sampleColor: '#d55e00',
};

/** Quantization step by step: the bars of ‖z_e − e_k‖ and the images. */
export const QUANTIZE = {
  barColor: '#999999',
  chosenColor: '#d55e00',
  zoom: 3,
  maxComponents: 6,
  font: '11px system-ui, sans-serif',
};

/**
 * The learned prior over VQ code grids: `epochs` per Train press, `chunkSteps` optimizer steps
 * between yields (and loss points), `samples` grids from it and from the uniform prior,
 * `completions` per "complete the rest", drawn at `zoom`.
 */
export const PRIOR = {
  epochs: 5,
  chunkSteps: 40,
  samples: 8,
  completions: 6,
  zoom: 1.5,
};

/**
 * The judge of samples: every row scores `count` samples drawn with `seed` (the test row takes
 * the first `count` test images) from a shipped checkpoint, with the shipped classifier
 * (checkpoints/manifest.json `judge`). `source` is the kind of sample Rust draws (test, prior:
 * N(0, I) or uniform codes, gmm: a 10-component GMM fitted to the training codes, learnedPrior,
 * shallow: k-means centroids plus noise);
 * `prior` names the learned prior file. Examples per row are drawn at `zoom`; on the map, a
 * tile's class colour covers it with opacity `tint` × the judge's probability.
 */
export const JUDGE = {
  count: 1000,
  seed: 0,
  rows: [
    { label: 'Test digits (reference)', checkpoint: 'vae-2d', source: 'test' },
    { label: 'VAE, d = 2: z ~ N(0, I)', checkpoint: 'vae-2d', source: 'prior' },
    { label: 'VAE, d = 10: z ~ N(0, I)', checkpoint: 'vae-10d', source: 'prior' },
    { label: 'Autoencoder, d = 2: z ~ N(0, I)', checkpoint: 'ae-2d', source: 'prior' },
    { label: 'Autoencoder, d = 2: GMM prior, K = 10', checkpoint: 'ae-2d', source: 'gmm' },
    { label: 'VQ-VAE (vq-l16): uniform codes', checkpoint: 'vq-l16', source: 'prior' },
    { label: 'VQ-VAE (vq-l16): learned prior', checkpoint: 'vq-l16', source: 'learnedPrior', prior: 'vq-l16-prior' },
    // Rust makes the shallow VQ-VAE from the data (k-means, K = 128 over 10,000 training images,
    // σ = 0.1: src/session/judge.rs); the checkpoint only carries the call.
    { label: 'Shallow VQ-VAE, K = 128: μ_z + σε, σ = 0.1', checkpoint: 'vae-2d', source: 'shallow' },
  ],
  zoom: 1,
  tint: 0.6,
};

/**
 * Shallow VQ on pixels: the codebook sizes offered (`ks`, `defaultK`), the training images
 * k-means runs over (`images`, 0 = all 60,000), the test digits shown with their centroids
 * (`shown`), the samples drawn (`samples`) at noise σ (a slider from 0 to `sigmaMax`), drawn at `zoom`.
 */
export const SHALLOW = {
  ks: [16, 32, 64, 128, 256],
  defaultK: 128,
  images: [10_000, 0],
  shown: 12,
  samples: 8,
  sigmaMax: 1,
  sigmaStep: 0.05,
  defaultSigma: 0.1,
  zoom: 1.5,
  centroidZoom: 1,
};
