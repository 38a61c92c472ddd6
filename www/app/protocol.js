// The messages between the page (main.js) and the training worker (worker.js), defined once.
// Every message is a plain object `{type, ...fields}`; the constructors below are the only
// places that build them, so the field names live here.

/** Commands from the page to the worker. */
export const Cmd = Object.freeze({
  INIT: 'init',
  LOAD_DATA: 'loadData',
  TRAIN: 'train',
  PAUSE: 'pause',
  STEP: 'step',
  RESET: 'reset',
  SET_LEARNING_RATE: 'setLearningRate',
  SET_WORKERS: 'setWorkers',
  MANIFOLD: 'manifold',
  SELECT: 'select',
  ADD_DRAWS: 'addDraws',
  SAMPLE: 'sample',
  DECODE: 'decode',
  TRAVERSAL_CANVAS: 'traversalCanvas',
  READ_TRAVERSAL: 'readTraversal',
  CONNECT: 'connect',
  HOVER: 'hover',
  EXPORT_CODES: 'exportCodes',
  INTERPOLATE: 'interpolate',
  DIM_ROWS: 'dimRows',
  DECODE_CODES: 'decodeCodes',
  LOAD_FILES: 'loadFiles',
  DRAW: 'draw',
  SAVE_MODEL: 'saveModel',
  LOAD_MODEL: 'loadModel',
  LOAD_CHECKPOINT: 'loadCheckpoint',
  LOAD_IMAGES: 'loadImages',
  EXPORT_IDX: 'exportIdx',
  // To the image decoder (workers/images.js), not the training worker.
  DECODE_IMAGES: 'decodeImages',
  GMM_PRIOR: 'gmmPrior',
  PRIOR_TRAIN: 'priorTrain',
  PRIOR_STOP: 'priorStop',
  PRIOR_LOAD: 'priorLoad',
  PRIOR_SAMPLE: 'priorSample',
  PRIOR_COMPLETE: 'priorComplete',
  JUDGE_LOAD: 'judgeLoad',
  JUDGE_TABLE: 'judgeTable',
  KMEANS_RUN: 'kmeansRun',
  KMEANS_CANCEL: 'kmeansCancel',
  SHALLOW_SAMPLE: 'shallowSample',
});

/** Messages from the worker to the page. */
export const Msg = Object.freeze({
  STATUS: 'status',
  SETTINGS: 'settings',
  PROGRESS: 'progress',
  REPORT: 'report',
  SCATTER: 'scatter',
  MANIFOLD: 'manifold',
  CODEBOOK: 'codebook',
  SELECTION: 'selection',
  SAMPLES: 'samples',
  DECODED: 'decoded',
  TRAVERSAL_IMAGE: 'traversalImage',
  STEP_TRACE: 'stepTrace',
  HOVERED: 'hovered',
  CODES: 'codes',
  INTERPOLATION: 'interpolation',
  DIM_ROWS: 'dimRows',
  CODES_DECODED: 'codesDecoded',
  DRAWN: 'drawn',
  SAVED: 'saved',
  LOADED: 'loaded',
  IMAGES_LOADED: 'imagesLoaded',
  IDX_EXPORT: 'idxExport',
  // From the image decoder.
  DECODE_PROGRESS: 'decodeProgress',
  DECODED_IMAGES: 'decodedImages',
  GMM_PRIOR: 'gmmPrior',
  QUANTIZATION: 'quantization',
  PRIOR_PROGRESS: 'priorProgress',
  PRIOR_REPORT: 'priorReport',
  PRIOR_SAMPLES: 'priorSamples',
  PRIOR_COMPLETED: 'priorCompleted',
  JUDGE_LOADED: 'judgeLoaded',
  JUDGE_PROGRESS: 'judgeProgress',
  JUDGE_ROW: 'judgeRow',
  KMEANS_PROGRESS: 'kmeansProgress',
  SHALLOW_REPORT: 'shallowReport',
  SHALLOW_SAMPLES: 'shallowSamples',
  ERROR: 'error',
});

/** What the worker is doing; carried by every status message. */
export const Phase = Object.freeze({
  STARTING: 'starting', // loading the wasm module
  LOADING: 'loading', // downloading and parsing a dataset
  READY: 'ready', // a new, untrained model on loaded data: the page starts its history afresh
  TRAINING: 'training',
  PAUSED: 'paused',
  FAILED: 'failed', // nothing works until a dataset loads (e.g. the wasm or data failed)
});

export const cmd = {
  /**
   * Creates the wasm session, or once one exists a new untrained model on the data loaded.
   * `settings` is `{model, train}` as in `defaultSettings()`; missing fields take the defaults.
   */
  /** `workers`: how many data-parallel replicas train (1 = the training worker alone). */
  init: (settings = {}, workers = 1) => ({ type: Cmd.INIT, settings, workers }),
  /** Downloads one of config.DATASETS and starts a fresh model on it. */
  loadData: (dataset) => ({ type: Cmd.LOAD_DATA, dataset }),
  train: () => ({ type: Cmd.TRAIN }),
  pause: () => ({ type: Cmd.PAUSE }),
  step: () => ({ type: Cmd.STEP }),
  /** A fresh model with the current settings and data. */
  reset: () => ({ type: Cmd.RESET }),
  setLearningRate: (learningRate) => ({ type: Cmd.SET_LEARNING_RATE, learningRate }),
  setWorkers: (count) => ({ type: Cmd.SET_WORKERS, count }),
  /**
   * The decoded manifold over `rect` `{x0, x1, y0, y1}` of the view plane on an `n × n` grid,
   * kept up to date while training; `rect` null turns it off. `judged`: with the judge's
   * class of every tile (load the judge first).
   */
  manifold: (rect, n, judged = false) => ({ type: Cmd.MANIFOLD, rect, n, judged }),
  /** Follows test image `index` (null: none) in the reparameterization view; clears its ε draws. */
  select: (index) => ({ type: Cmd.SELECT, index }),
  /** Adds `count` draws ε ~ N(0, I) to the selected digit (the model draws them, seeded per pick). */
  addDraws: (count) => ({ type: Cmd.ADD_DRAWS, count }),
  /**
   * `count` images decoded from the prior with `seed` (an integer below 2³²), kept up to date
   * with the same seed while training, so the samples change only as the decoder learns.
   */
  sample: (count, seed) => ({ type: Cmd.SAMPLE, count, seed }),
  /**
   * The decoder's image of code `z` (Float32Array of d numbers); `id` comes back with it.
   * Sent to the replica worker, which answers while the training worker is busy.
   */
  decode: (z, id) => ({ type: Cmd.DECODE, z, id }),
  /**
   * Gives the replica the traversal's canvas (an OffscreenCanvas: transfer it with the
   * message), so it draws each decoded code itself, without a hop through the page's thread.
   */
  traversalCanvas: (canvas) => ({ type: Cmd.TRAVERSAL_CANVAS, canvas }),
  /** Asks the replica for the traversal canvas's pixels as it holds them (tests, the console). */
  readTraversal: () => ({ type: Cmd.READ_TRAVERSAL }),
  /**
   * Hands a worker one end of the MessageChannel between the training worker and the replica
   * (transfer the port with it). Through it the training worker sends `{kind: 'checkpoint', bytes}`
   * (a new model), `{kind: 'values', values}` (its weights, Float32Array) after every refresh
   * and `{kind: 'test', images, labels}`
   * (the test set's IDX files) or `{kind: 'images', pixels, paths}` (the student's images, as
   * LOAD_IMAGES) with every new dataset.
   */
  connect: () => ({ type: Cmd.CONNECT }),
  /**
   * Test image `index` and the current model's reconstruction of it, for the map's hover card.
   * Sent to the replica worker.
   */
  hover: (index) => ({ type: Cmd.HOVER, index }),
  /** The codes of the whole test set as a CSV file. */
  exportCodes: () => ({ type: Cmd.EXPORT_CODES }),
  /**
   * The line between the codes of test images `a` and `b`, decoded at `steps` points (ends
   * included), kept up to date while training; `a` or `b` null turns it off.
   */
  interpolate: (a, b, steps) => ({ type: Cmd.INTERPOLATE, a, b, steps }),
  /**
   * The first `count` latent dimensions swept one at a time over ±DIM_ROWS.range in
   * DIM_ROWS.steps values from the selected digit's code (the origin when none), kept up to
   * date while training.
   */
  dimRows: (count) => ({ type: Cmd.DIM_ROWS, count }),
  /**
   * VQ-VAE: images of the code grids `codes` (Uint32Array, l indices per image, row-major),
   * re-decoded while training; `id` comes back with them.
   */
  decodeCodes: (codes, id) => ({ type: Cmd.DECODE_CODES, codes, id }),
  /**
   * The student's own data: `files` the IDX files as `{name, bytes}` (Uint8Array, raw or
   * gzipped) in any order. Rust checks each file, sorts them by header, name and size, and
   * pairs them; a new model starts on them. If they are refused, the error names each file at
   * fault, and the model, data and training stay as they were.
   */
  loadFiles: (files) => ({ type: Cmd.LOAD_FILES, files }),
  /**
   * Encodes the drawn digit `pixels` (Float32Array of 784 in [0, 1], null: no drawing) and
   * keeps re-encoding it as the model trains; `id` comes back with every answer.
   */
  draw: (pixels, id) => ({ type: Cmd.DRAW, pixels, id }),
  /** The current model as a checkpoint file; answered by SAVED. */
  saveModel: () => ({ type: Cmd.SAVE_MODEL }),
  /**
   * Replaces the model by the checkpoint in `bytes` (ArrayBuffer; send with loadModelTransfer),
   * keeping the data; `name` (the file's) is for messages. A refused file leaves the model as it was.
   */
  loadModel: (bytes, name) => ({ type: Cmd.LOAD_MODEL, bytes, name }),
  /**
   * Downloads the checkpoint at `url` (relative to the page) and loads it as LOAD_MODEL does,
   * first switching to `dataset` (a key of config.DATASETS) if other data is loaded.
   */
  loadCheckpoint: (url, name, dataset) => ({ type: Cmd.LOAD_CHECKPOINT, url, name, dataset }),
  /**
   * The student's own images as the data: `pixels` Uint8Array (n·784) of images the decoder
   * prepared, `paths` (n strings) where each came from, which give classes and split. A new
   * model starts on them; if Rust refuses them, the model, data and training stay as they were.
   */
  loadImages: ({ pixels, paths }) => ({ type: Cmd.LOAD_IMAGES, pixels, paths }),
  /** The data as four gzipped IDX files; answered by IDX_EXPORT. */
  exportIdx: () => ({ type: Cmd.EXPORT_IDX }),
  /** To the image decoder: `entries` `[{path, file}]` (File or Blob; .zip files are unpacked). */
  decodeImages: (entries) => ({ type: Cmd.DECODE_IMAGES, entries }),
  /**
   * A `k`-component GMM fitted by EM to the training codes (AE or VAE), with `count` samples
   * from it drawn with `seed` (an integer below 2³²) and decoded, refitted while training;
   * `k` null turns it off.
   */
  gmmPrior: (k, count, seed) => ({ type: Cmd.GMM_PRIOR, k, count, seed }),
  /**
   * VQ-VAE: a new learned prior over the code grids (weights from `seed`), trained for `epochs`
   * passes over the training set's codes in chunks (pausing the VQ-VAE's training, which would
   * change the codes). Answered by PRIOR_REPORT, PRIOR_PROGRESS per chunk, and at the end
   * PRIOR_REPORT and PRIOR_SAMPLES.
   */
  priorTrain: (epochs, seed) => ({ type: Cmd.PRIOR_TRAIN, epochs, seed }),
  /** Stops prior training after the current chunk; the prior trained so far stays. */
  priorStop: () => ({ type: Cmd.PRIOR_STOP }),
  /** Downloads the prior file at `url` made for the loaded VQ-VAE and loads it; answered by PRIOR_REPORT and PRIOR_SAMPLES. */
  priorLoad: (url) => ({ type: Cmd.PRIOR_LOAD, url }),
  /** `count` grids from the learned prior and `count` uniform ones, drawn from `seed` (below 2³²). */
  priorSample: (count, seed) => ({ type: Cmd.PRIOR_SAMPLE, count, seed }),
  /**
   * `count` completions of the grid `codes` (Uint32Array of l): its first `keep` codes kept, the
   * later ones drawn from the prior in raster order with `seed`; `id` comes back with them.
   */
  priorComplete: (codes, keep, count, seed, id) => ({ type: Cmd.PRIOR_COMPLETE, codes, keep, count, seed, id }),
  /** Downloads the judge (the classifier file at `url`) into the worker's session; answered by JUDGE_LOADED. */
  judgeLoad: (url) => ({ type: Cmd.JUDGE_LOAD, url }),
  /**
   * Judges every row of `rows` (`{source, url, priorUrl}`: a kind of sample, its checkpoint's
   * address and its learned prior's, or null): `count` samples each from `seed`, with the judge
   * at `judgeUrl`. Answered by JUDGE_PROGRESS before each row and JUDGE_ROW after it.
   */
  judgeTable: (judgeUrl, rows, count, seed) => ({ type: Cmd.JUDGE_TABLE, judgeUrl, rows, count, seed }),
  /**
   * Shallow VQ: k-means with `k` centroids over the first `images` training images (0 = all),
   * seeded from `seed`, run a chunk at a time beside the queue (model training pauses).
   * Answered by KMEANS_PROGRESS per chunk, then SHALLOW_REPORT.
   */
  kmeansRun: (k, images, seed) => ({ type: Cmd.KMEANS_RUN, k, images, seed }),
  /** Stops a k-means run and throws it away; answered by KMEANS_PROGRESS with `progress` null. */
  kmeansCancel: () => ({ type: Cmd.KMEANS_CANCEL }),
  /** `count` shallow VQ-VAE samples with noise `sigma`, and uniform VQ-VAE grids, from `seed` (below 2³²). */
  shallowSample: (count, sigma, seed) => ({ type: Cmd.SHALLOW_SAMPLE, count, sigma, seed }),
};

export const msg = {
  /** @param {string} phase one of Phase  @param {string} message for people */
  status: (phase, message) => ({ type: Msg.STATUS, phase, message }),
  /**
   * What the model is: its settings `{model, train}`, the key of its dataset in
   * config.DATASETS, or config.OWN_DATA.key / OWN_IMAGES.key for the student's files (null
   * before one loaded), and that dataset's `classNames` (label i is classNames[i]; null before).
   * Sent after INIT and every change or failed change.
   */
  settings: (settings, dataset, classNames) => ({ type: Msg.SETTINGS, settings, dataset, classNames }),
  /** Download progress in bytes; `total` is null when the server does not say. */
  progress: (loaded, total) => ({ type: Msg.PROGRESS, loaded, total }),
  /**
   * `step` is the StepReport of the last trainSteps call, or null when the model changed
   * otherwise (new, paused); `evaluation` the EvalReport on held-out test images when one
   * was computed with it, else null.
   */
  report: (step, evaluation = null) => ({ type: Msg.REPORT, step, evaluation }),
  /**
   * The map: `plane` Float32Array (N·2) of test codes on the view plane, `labels` Uint8Array
   * (N), `axisNames` the plane's axes ('z₁', 'z₂' for a 2-D space, else 'PC1', 'PC2'). Send
   * with scatterTransfer.
   */
  scatter: ({ plane, labels, axisNames }) => ({ type: Msg.SCATTER, plane, labels, axisNames }),
  /**
   * `pixels`: Float32Array (n·n·784) decoded at the centres of `rect`'s grid, top row first;
   * for a judged manifold `classes` (Uint8Array, n·n) the digit the judge sees in each tile and
   * `confidence` (Float32Array) its probability, else null.
   */
  manifold: (rect, n, pixels, classes = null, confidence = null) => ({ type: Msg.MANIFOLD, rect, n, pixels, classes, confidence, part: null }),
  /**
   * Rows `part.first`…`part.end − 1` of grid number `part.id` over `rect` (n × n), already as
   * the picture of their tiles (`rgba`: Uint8ClampedArray, n·28 pixels wide, as views/digits.js
   * draws them), made by the worker that decoded them; the other rows come in another message,
   * from the other worker. The bytes travel transferred: Chromium copies an ImageData's pixels
   * into the message, 0.76 ms (median) of a split grid's reply.
   */
  manifoldRows: (rect, n, part, rgba) => ({ type: Msg.MANIFOLD, rect, n, pixels: null, classes: null, confidence: null, part, rgba }),
  /**
   * The VQ-VAE codebook over the whole test set: `codebook` Float32Array (K·D), `images`
   * Float32Array (K·784) of every code decoded, `usage` Uint32Array (K) test codes assigned to
   * each code, `majority` Int16Array (K) the most common class among them (−1 for a dead code),
   * `codesUsed` and `perplexity` of that usage, `nearest` Uint32Array (N·l) every test code's
   * nearest code (test-set order, as the scatter), `codebookSize` K, `codeDim` D and `perCode` l.
   */
  codebook: (c) => ({ type: Msg.CODEBOOK, ...c }),
  /**
   * The followed test image and its posterior: `index`, `label`, `image` Uint8Array (784),
   * `mu` and `logvar` (d numbers each, logvar null except for the VAE), `muPlane` μ in the
   * view plane, `axes` the plane's two unit axes (2·d numbers, x row first; null without
   * logvar), `sigma` (d numbers) and `ellipse` `{r1, r2, angle, cov}` its 1σ ellipse on the
   * plane (VAE, else null), `epsilons` and `zs` (arrays of d-number arrays), `zsPlane` (2
   * numbers per z) each z in the view plane, `decoded` Float32Array ((1 + zs.length)·784): μ decoded, then each z;
   * `codes` the VQ-VAE's l code indices (Uint32Array; null for other models).
   */
  selection: (s) => ({ type: Msg.SELECTION, ...s }),
  /** `pixels`: Float32Array (count·784) sampled with `seed` by a model of `kind`. */
  samples: (kind, count, seed, pixels) => ({ type: Msg.SAMPLES, kind, count, seed, pixels }),
  /**
   * `pixels`: Float32Array (784), the image of the code `z` of DECODE request `id`. `drawnAt`:
   * when the replica drew it on the traversal canvas it holds (performance.timeOrigin +
   * performance.now(), comparable across threads), or null when the page draws it.
   */
  decoded: (id, z, pixels, drawnAt = null) => ({ type: Msg.DECODED, id, z, pixels, drawnAt }),
  /** `greys`: Uint8Array (one per pixel) the traversal canvas's grey levels, read back from it. */
  traversalImage: (greys) => ({ type: Msg.TRAVERSAL_IMAGE, greys }),
  /**
   * One traced optimizer step (the Step button): `report` its StepReport, `batchSize`,
   * `images` Uint8Array (n·784) and `labels` (n) of the first n batch images, `epsilon` their
   * ε rows (VAE, else null) with `latentDim` and `beta`; for a VQ-VAE `codesPicked` (distinct
   * codes in the whole batch), `codebookSize`, `codeDim`, `codesMoved`, `largestMove` and
   * `codebookBefore` / `codebookAfter` (K·D), else those are null.
   */
  stepTrace: (t) => ({ type: Msg.STEP_TRACE, ...t }),
  /**
   * Answer to HOVER: test image `index`, its class `label`, `image` Uint8Array (784) and `recon`
   * Float32Array (784) the model's reconstruction in [0, 1].
   */
  hovered: (index, label, image, recon) => ({ type: Msg.HOVERED, index, label, image, recon }),
  /**
   * Answer to EXPORT_CODES: `csv` text with a header row and one row per test image (index,
   * label, the code, and log σ² or code indices where the model has them), to save as `filename`.
   */
  codes: (filename, csv) => ({ type: Msg.CODES, filename, csv }),
  /**
   * The interpolation of INTERPOLATE: test images `a` and `b` with `labels` [2] and `images`
   * Uint8Array (2·784); `pixels` Float32Array (steps·784) decoded on the line from a's code to
   * b's (a first); `path` Float32Array (steps·2), those points in the map's plane.
   */
  interpolation: (i) => ({ type: Msg.INTERPOLATION, ...i }),
  /**
   * Rows of DIM_ROWS: `base` the test index whose code they start from (null: the origin),
   * `baseLabel` its class, `count` rows of `values.length` images each in `pixels` (Float32Array).
   */
  dimRows: (r) => ({ type: Msg.DIM_ROWS, ...r }),
  /** `pixels`: Float32Array (n·784), the images of DECODE_CODES request `id`'s grids `codes`. */
  codesDecoded: (id, codes, pixels) => ({ type: Msg.CODES_DECODED, id, codes, pixels }),
  /**
   * The drawn digit of DRAW request `id` under the current weights: `mean` its code (d numbers:
   * z, μ or z_e), `codes` its code indices (VQ-VAE, else null), `plane` [x, y] on the map and
   * `recon` Float32Array (784) the model's reconstruction.
   */
  drawn: (d) => ({ type: Msg.DRAWN, ...d }),
  /** `bytes`: Uint8Array, the checkpoint of SAVE_MODEL, to be offered as `filename`. */
  saved: (filename, bytes) => ({ type: Msg.SAVED, filename, bytes }),
  /**
   * A checkpoint named `name` replaced the model; it has taken `step` optimizer steps. SETTINGS
   * (its settings) comes just before, its pictures and evaluation follow.
   */
  loaded: (name, step) => ({ type: Msg.LOADED, name, step }),
  /**
   * LOAD_IMAGES took the images: `classNames` and `classCounts` (images per class), `trainLength`
   * and `testLength`, `split` ('folders': from train/ and test/, 'seeded': one in seven of each
   * class held out) and `skipped` `[{path, why}]`, files left out by their place in the folders.
   */
  imagesLoaded: (loaded) => ({ type: Msg.IMAGES_LOADED, ...loaded }),
  /** Answer to EXPORT_IDX: `names` (4 file names), `classNames`, and the files `trainImages`, `trainLabels`, `testImages`, `testLabels` (Uint8Array, gzipped). */
  idxExport: (e) => ({ type: Msg.IDX_EXPORT, ...e }),
  /** The decoder has read `done` of `total` images. */
  decodeProgress: (done, total) => ({ type: Msg.DECODE_PROGRESS, done, total }),
  /**
   * The decoder's result: `pixels` Uint8Array (n·784) and `paths` (n) of the images prepared,
   * `inverted` how many had a light background, `skipped` `[{path, why}]` every file left out,
   * `preview` the first few `{path, pixels, inverted}`.
   */
  decodedImages: (r) => ({ type: Msg.DECODED_IMAGES, ...r }),
  /**
   * Answer to GMM_PRIOR: `k`, `dim` d, `fittedTo` training codes in `emSteps` EM steps, their
   * mean log-density per code under the mixture (`logLikelihood`) and under N(0, I)
   * (`standardNormalLogLikelihood`), `weights` π (k), `ellipses` each component's 1σ ellipse
   * `{r1, r2, angle, cov}` on the view plane, `meansPlane` Float32Array (k·2); `seed`, `count`
   * and the samples: `components` Uint32Array (count), `samples` Float32Array (count·d),
   * `samplesPlane` (count·2), `pixels` (count·784) decoded.
   */
  gmmPrior: (p) => ({ type: Msg.GMM_PRIOR, ...p }),
  /**
   * The followed test image quantized (VQ-VAE): `index`, `label`, `image` Uint8Array (784),
   * `codebookSize` K, `codeDim` D, `positions` l; Float32Arrays `zE` (l·D), `distances` (l·K)
   * ‖z_e − e_k‖₂, `zQ` (l·D) the codes looked up, `offset` (l·D) e − z_e, `decoded` (784)
   * the decoder's image of z_q; `nearest` Uint32Array (l) the argmin at each position.
   */
  quantization: (q) => ({ type: Msg.QUANTIZATION, ...q }),
  /**
   * A chunk of prior training: `step`, `epoch`, `epochProgress`, `lossBits` (mean training
   * −log₂ p(c) of the chunk, bits per image) and `totalSteps` the run will take.
   */
  priorProgress: (p, totalSteps) => ({ type: Msg.PRIOR_PROGRESS, ...p, totalSteps }),
  /**
   * The learned prior's PriorReport (`testNllBits`, `uniformBits`, `unigramBits` in bits per
   * image, `step`, `parameters`, `trainGrids`, `testGrids`, `trainSeconds`…), or `report` null
   * when the model has none (a new or further-trained VQ-VAE drops it); `done` once a run ended.
   */
  priorReport: (report, done = false) => ({ type: Msg.PRIOR_REPORT, report, done }),
  /**
   * PRIOR_SAMPLE's answer: `codes` and `uniformCodes` (Uint32Array, count·l) with their images
   * `pixels` and `uniformPixels` (Float32Array, count·784), from `seed`.
   */
  priorSamples: (seed, s) => ({ type: Msg.PRIOR_SAMPLES, seed, ...s }),
  /** PRIOR_COMPLETE's answer `id`: `keep`, `count`, `codes` (count·l) and `pixels` (count·784). */
  priorCompleted: (id, c) => ({ type: Msg.PRIOR_COMPLETED, id, ...c }),
  /** The judge is in: `{hidden, step, testAccuracy}` as its file records. */
  judgeLoaded: (info) => ({ type: Msg.JUDGE_LOADED, ...info }),
  /** Row `index` of `total` is being judged. */
  judgeProgress: (index, total) => ({ type: Msg.JUDGE_PROGRESS, index, total }),
  /**
   * Row `index` judged: `scores` `{count, confidence, histogram, entropyBits, classesHit}`,
   * `examples` (Float32Array, E·784) its first samples and `exampleClasses` (Uint8Array, E).
   */
  judgeRow: (index, row) => ({ type: Msg.JUDGE_ROW, index, ...row }),
  /**
   * A chunk of k-means: the KMeansProgress `progress` (`stage` 'seeding' | 'lloyd' | 'finished',
   * `codebookSize`, `images`, `seeds`, `iterations`, `maxIterations`, `objectivePerImage`,
   * `changed`, `converged`, `seconds`), or null when a run was cancelled or its data went.
   */
  kmeansProgress: (progress) => ({ type: Msg.KMEANS_PROGRESS, progress }),
  /**
   * A finished shallow VQ's ShallowReport: `codebookSize`, `rateBits`, `testNllNats`,
   * `testSquaredError`, `testImages`, `vq` (the VQ-VAE's `{codebookSize, codesPerImage, rateBits,
   * reconNats}` or null), `centroids` Float32Array (K·784), and the first `shown` test images:
   * `shownPixels` Uint8Array, `shownCodes` Uint32Array, `shownNll` Float32Array; null when new
   * data dropped the shallow VQ.
   */
  shallowReport: (report) => ({ type: Msg.SHALLOW_REPORT, report }),
  /**
   * SHALLOW_SAMPLE's answer: `codes` (count) and `pixels` (count·784, μ_z + σε, not clamped),
   * `vqCodes` and `vqPixels` (count·l and count·784, or null without a VQ-VAE), from `seed`.
   */
  shallowSamples: (seed, s) => ({ type: Msg.SHALLOW_SAMPLES, seed, ...s }),
  error: (message) => ({ type: Msg.ERROR, message }),
};

/** The buffers to transfer with an idxExport message. */
export const idxExportTransfer = (m) => [m.trainImages.buffer, m.trainLabels.buffer, m.testImages.buffer, m.testLabels.buffer];

/** The buffer to transfer with a loadModel command. */
export const loadModelTransfer = (m) => [m.bytes];

/** The buffers to transfer (not copy) with a scatter message. */
export const scatterTransfer = (m) => [m.plane.buffer, m.labels.buffer];
