// The Lecture menu's presets: each opens one picture a lecture needs, from a model the project
// trained (www/checkpoints, see pkg-config/checkpoints.sh) or from a model trained live when
// watching it train is the point.
//
// Fields: `id` (the URL's ?lecture=), `title`, `caption` (two or three sentences tying the
// picture to the concept; no numbers: those come from the model, in the page), then either
// `choices` (shipped checkpoints by name, the first opened; more than one gives a button for
// each), `live` (model and training settings for a new model, trained at once) or neither (a
// lesson that needs no model keeps the one there is), and `views`:
// `manifold` (the decoded manifold on the map), `select` (a test image to follow in the
// reparameterization and symbolic-image panels), `panel` (the id of the panel to bring into
// view, or a list of ids, shown in that order) and, once the checkpoint is in, optionally
// `compare` (`{kind, checkpoint}`: a shipped checkpoint as the side-by-side model),
// `interpolate` (`{a, b, steps}`: test images A and B and the number of decoded points) and
// `randomCodes` (decode random code grids in the symbolic-image panel); `lesson` (the name of a
// lesson whose panels only its preset shows: 'mixture'); `gmmPrior` (fit and show the GMM prior);
// `prior` (a shipped learned prior over the checkpoint's code grids, by name in the
// manifest's `priors`); and `judge` (judge the table of sample kinds and colour the map's
// tiles by the digit the classifier sees); and `shallow` (show the shallow VQ panel, which only its
// preset shows, and run k-means with its default K once the checkpoint is in).

import { SETTINGS } from './config.js';

export const LECTURES = [
  {
    id: 'ae-gaps',
    title: 'Autoencoder: gaps in the latent space',
    caption:
      'An autoencoder trained on reconstruction alone; each dot is a test digit at its 2-D code z = f(x). ' +
      'The tiles show what the decoder makes of each point of the plane: between and around the clusters, ' +
      'where no training code fell, they decode to smudges that are no digit — the gaps.',
    choices: [{ label: 'Autoencoder, d = 2', checkpoint: 'ae-2d' }],
    views: { manifold: true, select: null, panel: null },
  },
  {
    id: 'reparameterization',
    title: 'The reparameterization trick',
    caption:
      'For the picked digit the encoder gives q(z|x) = N(μ, diag σ²): its mean and its 1σ and 2σ ellipses. ' +
      'Press Draw ε: z = μ + σ ⊙ ε puts the randomness into the input ε, so gradients reach μ and σ, ' +
      'and each z decodes to a slightly different version of the digit.',
    choices: [{ label: 'VAE, d = 2', checkpoint: 'vae-2d' }],
    views: { manifold: false, select: 0, panel: 'reparam' },
  },
  {
    id: 'prior',
    title: 'Generation from the prior',
    caption:
      'A VAE is a generative model: draw z from the prior N(0, I) and decode it. ' +
      'The KL term pulled every q(z|x) towards that prior, so the samples fall where the decoder has learned digits, ' +
      'and the decoded manifold has no gaps. Resample draws new z.',
    choices: [{ label: 'VAE, d = 2', checkpoint: 'vae-2d' }],
    views: { manifold: true, select: null, panel: 'generation' },
  },
  {
    id: 'traversal',
    title: 'Traversals of a 10-D VAE',
    caption:
      'A VAE with ten latent dimensions; the map shows the first two principal components of μ. ' +
      'Each slider moves one coordinate of z with the others at 0: watch which property of the decoded digit it changes. ' +
      'With β = 1 most directions change several properties at once.',
    choices: [{ label: 'VAE, d = 10', checkpoint: 'vae-10d' }],
    views: { manifold: false, select: null, panel: 'traversal' },
  },
  {
    id: 'vq-voronoi',
    title: 'VQ-VAE: Voronoi cells, trained live',
    caption:
      'A VQ-VAE with K = 16 codes in a 2-D code space, trained from scratch as you watch. ' +
      'Every encoder output is replaced by its nearest code, so the plane splits into Voronoi cells, one per code; ' +
      'the EMA update moves each code towards the mean of the outputs in its cell, as k-means does.',
    live: {
      model: { ...SETTINGS.model, kind: 'vqvae', codebookSize: 16, codeDim: 2, codesPerImage: 1, codebookUpdate: 'ema' },
      train: { ...SETTINGS.train },
    },
    views: { manifold: false, select: null, panel: 'codebook' },
  },
  {
    id: 'codebook-collapse',
    title: 'Codebook collapse and its fix',
    caption:
      'K = 128 codes of dimension 16, started near the origin and moved by the codebook loss: ' +
      'most codes never win an assignment and stay dead (a × under the usage bars). ' +
      'With EMA updates and dead codes restarted on current encoder outputs, the whole codebook is in use.',
    choices: [
      { label: 'Codebook loss', checkpoint: 'vq-k128-loss' },
      { label: 'EMA + dead-code restart', checkpoint: 'vq-k128-ema-restart' },
    ],
    views: { manifold: false, select: null, panel: 'codebook' },
  },
  {
    id: 'vae-fills-space',
    title: 'The VAE fills the space',
    caption:
      'The same network trained two ways: the main map is an autoencoder, the side-by-side map a VAE, ' +
      'both with the decoder’s image of each point of the plane under the test codes. ' +
      'The autoencoder’s clusters leave gaps that decode to smudges; the VAE’s KL term pulls every q(z|x) towards N(0, I), ' +
      'so its codes pack around the origin and the plane between them decodes to digits.',
    choices: [{ label: 'Autoencoder and VAE, d = 2', checkpoint: 'ae-2d' }],
    views: { manifold: true, select: null, panel: 'compare', compare: { kind: 'vae', checkpoint: 'vae-2d' } },
  },
  {
    id: 'beta',
    title: 'β from 0.1 to 10 and posterior collapse',
    caption:
      'The same 10-D VAE trained with the KL term weighted by β: the bars give each latent dimension’s KL on test images, ' +
      'the grid decodes z drawn from the prior. The larger β, the less information z carries (the total falls): compare the samples; ' +
      'at β = 10 some dimensions fall below the dashed line — posterior collapse: their q(z|x) is the prior and the decoder ignores them.',
    choices: [
      { label: 'β = 0.1', checkpoint: 'vae-10d-beta0.1' },
      { label: 'β = 1', checkpoint: 'vae-10d' },
      { label: 'β = 4', checkpoint: 'vae-10d-beta4' },
      { label: 'β = 10', checkpoint: 'vae-10d-beta10' },
    ],
    views: { manifold: false, select: null, panel: ['kl-dims', 'generation'] },
  },
  {
    id: 'interpolation',
    title: 'Interpolation in 7 steps',
    caption:
      'Two test digits of different classes, A and B, encoded by a 2-D VAE: the arrow on the map is the straight line ' +
      'from A’s mean μ to B’s, and the strip decodes seven evenly spaced points on it, A’s first. ' +
      'The KL term left no gaps between the clusters, so each point on the way decodes to a digit, of the classes the arrow crosses.',
    choices: [{ label: 'VAE, d = 2', checkpoint: 'vae-2d' }],
    views: { manifold: false, select: null, panel: 'interpolation', interpolate: { a: 3, b: 2, steps: 7 } },
  },
  {
    id: 'symbolic',
    title: 'Symbolic images',
    caption:
      'A VQ-VAE that describes an image by l = 16 vectors, each replaced by the nearest of K = 16 codes in a 2-D code space: ' +
      'the picked test digit becomes a 4 × 4 grid of code indices, a discrete image of l · log₂ K bits. ' +
      'Change a cell to swap one code; Random codes decodes grids drawn uniformly, a prior that knows nothing of digits.',
    choices: [{ label: 'VQ-VAE, K = 16, D = 2, l = 16', checkpoint: 'vq-l16' }],
    views: { manifold: false, select: 0, panel: 'symbolic', randomCodes: true },
  },
  {
    id: 'mixture',
    title: 'Gaussian mixtures: marginal, posterior, EM',
    caption:
      'A latent-variable model with a discrete z: pick z ∈ {1, 2} with probability P(z), then x from N(μ_z, σ_z²). ' +
      'The dashed curves are the joints P(x|z)P(z), the black one their sum p(x) (marginalization); click or drag on them to read ' +
      'the posterior P(z|x) by Bayes’ rule (inference). Below, EM fits a mixture to samples one step at a time, and k-means and a GMM ' +
      'cluster the same 2-D points, hard against soft.',
    views: { manifold: false, select: null, panel: ['mixture', 'em-fit', 'clusters'], lesson: 'mixture' },
  },
  {
    id: 'gmm-prior',
    title: 'A GMM prior for the autoencoder',
    caption:
      'An autoencoder’s codes were never pulled towards N(0, I): its samples z ~ N(0, I), decoded under Generation, fall in the gaps ' +
      'and decode to smudges. Fit K Gaussians by EM to where its training codes are (the ellipses) and sample from that mixture ' +
      'instead: the decoded samples (the + marks) look like digits, with no KL term. The VAE’s button shows what its KL term buys: N(0, I) samples that work.',
    choices: [
      { label: 'Autoencoder', checkpoint: 'ae-2d' },
      { label: 'VAE', checkpoint: 'vae-2d' },
    ],
    views: { manifold: false, select: null, panel: ['gmm-prior', 'generation'], gmmPrior: true },
  },
  {
    id: 'quantize',
    title: 'Quantization, step by step',
    caption:
      'The picked digit’s encoder gives l = 16 vectors z_e, each replaced by its nearest code. The bars are the distances ‖z_e − e_k‖ ' +
      'to all K = 16 codes at one position (pick another in the grid); the highlighted bar is the argmin k*, looked up as z_q = e_k*. ' +
      'The argmin has no gradient: z_q = z_e + sg[e − z_e] has e’s value and copies the decoder’s gradient to z_e.',
    choices: [{ label: 'VQ-VAE, K = 16, D = 2, l = 16', checkpoint: 'vq-l16' }],
    views: { manifold: false, select: 0, panel: 'quantize' },
  },
  {
    id: 'learned-prior',
    title: 'Learned prior',
    caption:
      'The VQ-VAE’s second phase: an autoregressive model p(c) = Π p(c_i | c_<i) of the 4 × 4 code grids, ' +
      'fitted to the training images’ codes with the VQ-VAE frozen. The table scores test grids in bits per image against ' +
      'uniform codes (l · log₂ K) and per-position frequencies; its samples, drawn position by position, look like digits where uniform ones do not. ' +
      'In the symbolic image, Complete the rest keeps your first codes and lets the prior draw the later ones.',
    choices: [{ label: 'VQ-VAE, K = 16, l = 16, with its prior', checkpoint: 'vq-l16' }],
    views: { manifold: false, select: 0, panel: ['learned-prior', 'symbolic'], prior: 'vq-l16-prior' },
  },
  {
    id: 'judge',
    title: 'A judge of samples',
    caption:
      'Which sampler makes digits? An MNIST classifier, trained apart from every model here, reads 1,000 samples of each kind: ' +
      'a high mean top-class probability says they look like some digit, a high entropy of the classes (at most log₂ 10) that they cover all ten. ' +
      'On the map each decoded tile takes the colour of the digit the judge sees, as opaque as it is sure: the VAE’s plane is a quilt of digits.',
    choices: [{ label: 'VAE, d = 2', checkpoint: 'vae-2d' }],
    views: { manifold: true, select: null, panel: 'judge', judge: true },
  },
  {
    id: 'shallow-vq',
    title: 'Shallow VQ: k-means as an autoencoder',
    caption:
      'k-means on raw pixels is a quantizing autoencoder: the encoder sends the index of the nearest centroid (log₂ K bits), ' +
      'the decoder returns that centroid. The table prices its reconstructions in the VQ-VAE’s units, nats per test image, ' +
      'beside a VQ-VAE with the same K and l = 1, so the same rate. As a generative model, a uniform z plus Gaussian noise on its centroid, ' +
      'it is very weak: every sample is one of K blurred averages with speckle, where the VQ-VAE decodes its codes with a network.',
    choices: [{ label: 'VQ-VAE, K = 128, l = 1 (EMA + restart)', checkpoint: 'vq-k128-ema-restart' }],
    views: { manifold: false, select: null, panel: 'shallow-vq', shallow: true },
  },
];
