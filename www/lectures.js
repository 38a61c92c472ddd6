// The Lecture menu's presets: each opens one picture a lecture needs, from a model the project
// trained (www/checkpoints, see pkg-config/checkpoints.sh) or from a model trained live when
// watching it train is the point.
//
// Fields: `id` (the URL's ?lecture=), `title`, `caption` (two or three sentences tying the
// picture to the concept; no numbers: those come from the model, in the page), then either
// `choices` (shipped checkpoints by name, the first opened; more than one gives a button for
// each) or `live` (model and training settings for a new model, trained at once), and `views`:
// `manifold` (the decoded manifold on the map), `select` (a test image to follow in the
// reparameterization panel) and `panel` (the id of the panel to bring into view).
//
// Presets the issue asks for that need views not in this page yet: the VAE filling the space
// beside an autoencoder (a side-by-side view), β from 0.1 to 10 with posterior collapse (KL
// per latent dimension; checkpoints vae-10d-beta0.1 … vae-10d-beta10 ship), interpolation in
// seven steps (an interpolation strip), symbolic images with l = 16 codes (a code-grid editor;
// checkpoint vq-l16 ships).

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
];
