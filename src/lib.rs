//! # Latent Lab
//!
//! Small autoencoders, VAEs (β-VAE) and VQ-VAEs on 28×28 digit images, written once with
//! Candle and used both natively (tests, benchmarks, the `train` CLI) and in the browser
//! (compiled to wasm32, driven from a Web Worker).
//!
//! Module map:
//! - [`data`]: IDX parsing from bytes (optionally gzipped), datasets kept as `u8`, seeded batches.
//! - [`upload`]: the student's four IDX files, each checked on its own, then sorted into
//!   training/test images/labels and paired.
//! - [`model`]: one file per model family (AE, VAE, VQ-VAE) plus the shared encoder/decoder blocks.
//! - [`optim`]: AdamW fused into one in-place pass per parameter (candle's update, same bits).
//! - [`train`]: the [`train::Trainer`]: AdamW, `train_steps(n)`, metrics, NaN guard.
//! - [`parallel`]: data-parallel steps: W replicas, each a shard of every global batch, one
//!   AdamW step on the summed gradient.
//! - [`latent`]: latent-space math: PCA, grids over the plane, interpolation, ε draws and
//!   z = μ + σ ⊙ ε, dimension sweeps.
//! - [`images`]: your own images: each preprocessed as MNIST's were, then labelled by folder
//!   and split into a training and a test set.
//! - [`codes`]: code usage, perplexity, majority class, codebook moves, distances to every
//!   code, the codes CSV.
//! - [`mixture`]: Gaussian mixtures (densities, posterior, ancestral sampling, EM) and k-means,
//!   and the mixture lesson the page runs on its own thread.
//! - [`shallow`]: shallow VQ on pixels: k-means (k-means++ seeds, Lloyd steps as matrix
//!   products), nearest centroids, the Bernoulli cost of a centroid, shallow VQ-VAE samples.
//! - [`prior`]: the learned autoregressive prior over VQ-VAE code grids (masked MLP), its
//!   unigram and uniform baselines and its file format.
//! - [`judge`]: a small MNIST classifier that scores decoded samples (confidence, class
//!   histogram, its entropy) and its file format.
//! - [`settings`]: the settings table (ranges, labels, URL names, rules) the page's form and
//!   `validate` share.
//! - [`session`]: one model, its data and every question the page asks, answered in the page's
//!   vocabulary (test indices, plane rectangles).
//! - [`checkpoint`]: model, config and step to and from safetensors bytes.
//! - `wasm` (wasm32 only): the single `#[wasm_bindgen]` facade.

pub mod checkpoint;
pub mod codes;
pub mod data;
pub mod idx;
pub mod images;
pub mod inspect;
pub mod judge;
pub mod latent;
pub mod mixture;
pub mod model;
pub mod mosaic;
pub mod optim;
pub mod parallel;
pub mod prior;
pub mod session;
pub mod settings;
pub mod shallow;
pub mod train;
pub mod upload;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
