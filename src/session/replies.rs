//! What the session's queries return. Each reply is a struct whose small fields serialise
//! (camelCase) and whose bulk fields are skipped by serde and listed by [`Reply::bulk`], so the
//! binding can send them as typed arrays. Shapes: N test images, n = latent size (d, or l·D),
//! 784 pixels per image, row-major.

use serde::Serialize;

use crate::images::{Limits, Prepared, Skipped, SplitSource};
use crate::latent::Ellipse;
use crate::model::ModelConfig;
use crate::settings::{Schema, Settings};
use crate::train::{EvalReport, StepReport, TrainConfig};

/// A bulk field: numbers to send as one typed array.
pub enum Bulk<'a> {
    F32(&'a [f32]),
    U8(&'a [u8]),
    U32(&'a [u32]),
    I16(&'a [i16]),
}

/// A reply: `Serialize` gives the small fields; `bulk` the typed-array ones (`None` = null).
pub trait Reply: Serialize {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        Vec::new()
    }
}

impl Reply for StepReport {}

/// The gradient is not among the bulk fields: it may be in parts, which the wasm surface
/// copies into one array ([`crate::parallel::Share::for_each_gradient_part`]).
impl Reply for crate::parallel::Share {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        let (z, codes) = match &self.assignments {
            Some((z, codes)) => (Some(Bulk::F32(z)), Some(Bulk::U32(codes))),
            None => (None, None),
        };
        vec![("z", z), ("codes", codes)]
    }
}

/// A shard of the training set for a replica worker.
#[derive(Debug, Clone, Serialize)]
pub struct ShardData {
    /// `(n, 784)`.
    #[serde(skip)]
    pub pixels: Vec<u8>,
    #[serde(skip)]
    pub labels: Vec<u8>,
}

impl Reply for ShardData {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("pixels", Some(Bulk::U8(&self.pixels))), ("labels", Some(Bulk::U8(&self.labels)))]
    }
}
impl Reply for EvalReport {}
impl Reply for Settings {}
impl Reply for Schema {}
impl Reply for Limits {}
impl Reply for crate::model::linear::ProductArithmetic {}

/// The student's files accepted: `order[k]` is the position (in the order given) of the file
/// that took role k of [`crate::upload::ROLES`], and the two sets' lengths.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadReport {
    pub order: [usize; crate::upload::FILES_PER_DATASET],
    pub train_length: usize,
    pub test_length: usize,
}

impl Reply for UploadReport {}

/// Test images on the view plane.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scatter {
    /// `(N, 2)`.
    #[serde(skip)]
    pub plane: Vec<f32>,
    /// `(N,)`.
    #[serde(skip)]
    pub labels: Vec<u8>,
    /// After a refit: the share of variance the plane shows, and its axes' names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explained: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub axis_names: Option<[&'static str; 2]>,
}

impl Reply for Scatter {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("plane", Some(Bulk::F32(&self.plane))), ("labels", Some(Bulk::U8(&self.labels)))]
    }
}

/// A picked test image: its code, and for a VAE its ε draws, z = μ + σ ⊙ ε and their decodes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pick {
    pub index: usize,
    pub label: u8,
    /// `[x, y]`: μ on the view plane.
    pub mu_plane: [f32; 2],
    /// The 1σ ellipse of q(z|x) on the view plane (VAE only).
    pub ellipse: Option<Ellipse>,
    #[serde(skip)]
    pub image: Vec<u8>,
    /// `(n,)`: z, μ or z_e.
    #[serde(skip)]
    pub mu: Vec<f32>,
    /// `(d,)`, VAE only.
    #[serde(skip)]
    pub logvar: Option<Vec<f32>>,
    /// `(d,)` σ = exp(½ log σ²), VAE only.
    #[serde(skip)]
    pub sigma: Option<Vec<f32>>,
    /// `(2, d)`: the plane's unit axes A (VAE only): N(μ, diag σ²) shows as N(Aμ, A diag(σ²) Aᵀ).
    #[serde(skip)]
    pub axes: Option<Vec<f32>>,
    /// `(draws, d)` ε, `(draws, d)` z and `(draws, 2)` z on the plane (empty unless VAE).
    #[serde(skip)]
    pub epsilons: Vec<f32>,
    #[serde(skip)]
    pub zs: Vec<f32>,
    #[serde(skip)]
    pub zs_plane: Vec<f32>,
    /// `(1 + draws, 784)`: μ decoded, then each z.
    #[serde(skip)]
    pub decoded: Vec<f32>,
    /// `(l,)` nearest codes, VQ-VAE only.
    #[serde(skip)]
    pub codes: Option<Vec<u32>>,
}

impl Reply for Pick {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("image", Some(Bulk::U8(&self.image))),
            ("mu", Some(Bulk::F32(&self.mu))),
            ("logvar", self.logvar.as_deref().map(Bulk::F32)),
            ("sigma", self.sigma.as_deref().map(Bulk::F32)),
            ("axes", self.axes.as_deref().map(Bulk::F32)),
            ("epsilons", Some(Bulk::F32(&self.epsilons))),
            ("zs", Some(Bulk::F32(&self.zs))),
            ("zsPlane", Some(Bulk::F32(&self.zs_plane))),
            ("decoded", Some(Bulk::F32(&self.decoded))),
            ("codes", self.codes.as_deref().map(Bulk::U32)),
        ]
    }
}

/// The decoded line between the codes of test images a and b.
#[derive(Debug, Clone, Serialize)]
pub struct Interpolation {
    pub a: usize,
    pub b: usize,
    pub steps: usize,
    pub labels: [u8; 2],
    /// `(2, 784)`: images a and b.
    #[serde(skip)]
    pub images: Vec<u8>,
    /// `(steps, 784)`.
    #[serde(skip)]
    pub pixels: Vec<f32>,
    /// `(steps, 2)`: the line's points on the view plane.
    #[serde(skip)]
    pub path: Vec<f32>,
}

impl Reply for Interpolation {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("images", Some(Bulk::U8(&self.images))), ("pixels", Some(Bulk::F32(&self.pixels))), ("path", Some(Bulk::F32(&self.path)))]
    }
}

/// One row per latent dimension, that coordinate swept over `values`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DimRows {
    /// The test image whose code the rows start from (None: the origin).
    pub base: Option<usize>,
    pub base_label: Option<u8>,
    pub count: usize,
    #[serde(skip)]
    pub values: Vec<f32>,
    /// `(count, steps, 784)`.
    #[serde(skip)]
    pub pixels: Vec<f32>,
}

impl Reply for DimRows {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("values", Some(Bulk::F32(&self.values))), ("pixels", Some(Bulk::F32(&self.pixels)))]
    }
}

/// The VQ-VAE codebook and how the test set uses it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodebookSummary {
    pub codebook_size: usize,
    pub code_dim: usize,
    /// l: codes per image.
    pub per_code: usize,
    pub codes_used: usize,
    pub perplexity: f32,
    /// `(K, D)`.
    #[serde(skip)]
    pub codebook: Vec<f32>,
    /// `(K, 784)`: every code decoded (in all l slots).
    #[serde(skip)]
    pub images: Vec<f32>,
    /// `(K,)`: assignments over all N·l test vectors.
    #[serde(skip)]
    pub usage: Vec<u32>,
    /// `(K,)`: the class most assigned to each code, −1 for a dead code.
    #[serde(skip)]
    pub majority: Vec<i16>,
    /// `(N, l)`: the nearest code of every test vector.
    #[serde(skip)]
    pub nearest: Vec<u32>,
}

impl Reply for CodebookSummary {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("codebook", Some(Bulk::F32(&self.codebook))),
            ("images", Some(Bulk::F32(&self.images))),
            ("usage", Some(Bulk::U32(&self.usage))),
            ("majority", Some(Bulk::I16(&self.majority))),
            ("nearest", Some(Bulk::U32(&self.nearest))),
        ]
    }
}

/// A test image and the model's reconstruction of it.
#[derive(Debug, Clone, Serialize)]
pub struct Hover {
    pub index: usize,
    pub label: u8,
    #[serde(skip)]
    pub image: Vec<u8>,
    #[serde(skip)]
    pub recon: Vec<f32>,
}

impl Reply for Hover {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("image", Some(Bulk::U8(&self.image))), ("recon", Some(Bulk::F32(&self.recon)))]
    }
}

/// A drawn digit under the current weights.
#[derive(Debug, Clone, Serialize)]
pub struct Drawing {
    /// `[x, y]` on the view plane.
    pub plane: [f32; 2],
    #[serde(skip)]
    pub mean: Vec<f32>,
    #[serde(skip)]
    pub codes: Option<Vec<u32>>,
    #[serde(skip)]
    pub recon: Vec<f32>,
}

impl Reply for Drawing {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("mean", Some(Bulk::F32(&self.mean))),
            ("codes", self.codes.as_deref().map(Bulk::U32)),
            ("recon", Some(Bulk::F32(&self.recon))),
        ]
    }
}

/// What [`super::Session::trace_step`] did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepTrace {
    pub report: StepReport,
    pub batch_size: usize,
    pub latent_dim: usize,
    pub beta: f64,
    pub codebook_size: usize,
    pub code_dim: usize,
    /// VQ-VAE only: distinct codes the batch picked, codes the step moved, the largest move.
    pub codes_picked: Option<usize>,
    pub codes_moved: Option<usize>,
    pub largest_move: Option<f32>,
    /// Training-set indices of the whole batch.
    #[serde(skip)]
    pub indices: Vec<u32>,
    /// `(shown, 784)` and `(shown,)`: the first images of the batch.
    #[serde(skip)]
    pub images: Vec<u8>,
    #[serde(skip)]
    pub labels: Vec<u8>,
    /// `(shown, d)` ε of the step (VAE only).
    #[serde(skip)]
    pub epsilon: Option<Vec<f32>>,
    /// `(B, l)` code index of each encoder output (VQ-VAE only).
    #[serde(skip)]
    pub codes: Option<Vec<u32>>,
    /// `(K, D)` codebook before and after the step (VQ-VAE only).
    #[serde(skip)]
    pub codebook_before: Option<Vec<f32>>,
    #[serde(skip)]
    pub codebook_after: Option<Vec<f32>>,
}

impl Reply for StepTrace {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("indices", Some(Bulk::U32(&self.indices))),
            ("images", Some(Bulk::U8(&self.images))),
            ("labels", Some(Bulk::U8(&self.labels))),
            ("epsilon", self.epsilon.as_deref().map(Bulk::F32)),
            ("codes", self.codes.as_deref().map(Bulk::U32)),
            ("codebookBefore", self.codebook_before.as_deref().map(Bulk::F32)),
            ("codebookAfter", self.codebook_after.as_deref().map(Bulk::F32)),
        ]
    }
}

/// The session's settings and where it stands.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionConfig {
    pub model: ModelConfig,
    pub train: TrainConfig,
    pub step: u64,
    pub latent_dim: usize,
    pub test_length: usize,
    pub class_count: usize,
}

impl Reply for SessionConfig {}

/// What the student's images became: the classes (label i is `classNames[i]`) with their
/// image counts, the two sets' sizes, where the split came from, and the files left out by
/// their place in the folder tree.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagesLoaded {
    pub class_names: Vec<String>,
    pub class_counts: Vec<usize>,
    pub train_length: usize,
    pub test_length: usize,
    pub split: SplitSource,
    pub skipped: Vec<Skipped>,
}

impl Reply for ImagesLoaded {}

/// The loaded data as four gzipped IDX files, named as the trainer's `--data` folder wants
/// them, and the class names (label order) for a `classes.txt` beside them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdxExport {
    pub names: [&'static str; 4],
    pub class_names: Vec<String>,
    /// The files in the order of `names`.
    #[serde(skip)]
    pub files: [Vec<u8>; 4],
}

impl Reply for IdxExport {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        ["trainImages", "trainLabels", "testImages", "testLabels"]
            .into_iter()
            .zip(&self.files)
            .map(|(name, f)| (name, Some(Bulk::U8(f))))
            .collect()
    }
}

impl Reply for Prepared {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("pixels", Some(Bulk::U8(&self.pixels)))]
    }
}

/// A Gaussian mixture fitted by EM to the training set's codes, used as a prior: its
/// components on the view plane, and samples z ~ GMM decoded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GmmPrior {
    pub k: usize,
    /// Latent dimension d the mixture lives in.
    pub dim: usize,
    /// Training codes it was fitted to, and the EM steps that took.
    pub fitted_to: usize,
    pub em_steps: usize,
    /// Mean log-density of those codes, nats per code: under the GMM, and under N(0, I).
    pub log_likelihood: f64,
    pub standard_normal_log_likelihood: f64,
    /// `(K,)` π.
    pub weights: Vec<f64>,
    /// The 1σ ellipse of each component on the view plane (`A Σ_c Aᵀ`).
    pub ellipses: Vec<Ellipse>,
    pub seed: u64,
    pub count: usize,
    /// `(K, 2)` each component's mean on the view plane.
    #[serde(skip)]
    pub means_plane: Vec<f32>,
    /// `(count,)` the component of each sample, `(count, d)` its code, `(count, 2)` on the plane.
    #[serde(skip)]
    pub components: Vec<u32>,
    #[serde(skip)]
    pub samples: Vec<f32>,
    #[serde(skip)]
    pub samples_plane: Vec<f32>,
    /// `(count, 784)` the samples decoded.
    #[serde(skip)]
    pub pixels: Vec<f32>,
}

impl Reply for GmmPrior {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("meansPlane", Some(Bulk::F32(&self.means_plane))),
            ("components", Some(Bulk::U32(&self.components))),
            ("samples", Some(Bulk::F32(&self.samples))),
            ("samplesPlane", Some(Bulk::F32(&self.samples_plane))),
            ("pixels", Some(Bulk::F32(&self.pixels))),
        ]
    }
}

/// One test image's quantization, step by step: the distance from each of its l encoder
/// outputs to every code, the nearest, the lookup, and the decoder's image of the result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quantization {
    pub index: usize,
    pub label: u8,
    /// K, D and l.
    pub codebook_size: usize,
    pub code_dim: usize,
    pub positions: usize,
    #[serde(skip)]
    pub image: Vec<u8>,
    /// `(l, D)` encoder outputs.
    #[serde(skip)]
    pub z_e: Vec<f32>,
    /// `(l, K)` `‖z_e − e_k‖₂`.
    #[serde(skip)]
    pub distances: Vec<f32>,
    /// `(l,)` `k* = argmin_k ‖z_e − e_k‖₂`.
    #[serde(skip)]
    pub nearest: Vec<u32>,
    /// `(l, D)` `z_q = e_{k*}`, and `(l, D)` `e_{k*} − z_e`, the term under sg[·] in `z_q = z_e + sg[e − z_e]`.
    #[serde(skip)]
    pub z_q: Vec<f32>,
    #[serde(skip)]
    pub offset: Vec<f32>,
    /// `(784,)` the decoder's image of z_q.
    #[serde(skip)]
    pub decoded: Vec<f32>,
}

impl Reply for Quantization {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("image", Some(Bulk::U8(&self.image))),
            ("zE", Some(Bulk::F32(&self.z_e))),
            ("distances", Some(Bulk::F32(&self.distances))),
            ("nearest", Some(Bulk::U32(&self.nearest))),
            ("zQ", Some(Bulk::F32(&self.z_q))),
            ("offset", Some(Bulk::F32(&self.offset))),
            ("decoded", Some(Bulk::F32(&self.decoded))),
        ]
    }
}

impl Reply for crate::prior::PriorStep {}

/// The learned prior's test-set NLL against its baselines, all in bits per image.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorReport {
    pub step: u64,
    pub codebook_size: usize,
    pub positions: usize,
    pub hidden: usize,
    pub parameters: usize,
    pub train_grids: usize,
    pub test_grids: usize,
    /// Optimizer steps in one pass over the training grids.
    pub steps_per_epoch: usize,
    /// Mean −log₂ p(c) of the test set's code grids under the learned prior.
    pub test_nll_bits: f64,
    /// l·log₂K: every grid equally likely.
    pub uniform_bits: f64,
    /// Per-position code frequencies of the training grids (add-one smoothed).
    pub unigram_bits: f64,
    /// Seconds spent in prior training steps so far.
    pub train_seconds: f64,
}

impl Reply for PriorReport {}

/// Code grids from the learned prior beside grids drawn uniformly, decoded.
#[derive(Debug, Clone, Serialize)]
pub struct PriorSamples {
    pub count: usize,
    /// `(count, l)` and `(count, 784)`: from the learned prior.
    #[serde(skip)]
    pub codes: Vec<u32>,
    #[serde(skip)]
    pub pixels: Vec<f32>,
    /// The same for uniform grids.
    #[serde(skip)]
    pub uniform_codes: Vec<u32>,
    #[serde(skip)]
    pub uniform_pixels: Vec<f32>,
}

impl Reply for PriorSamples {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("codes", Some(Bulk::U32(&self.codes))),
            ("pixels", Some(Bulk::F32(&self.pixels))),
            ("uniformCodes", Some(Bulk::U32(&self.uniform_codes))),
            ("uniformPixels", Some(Bulk::F32(&self.uniform_pixels))),
        ]
    }
}

/// Completions of a partial grid: its first `keep` codes kept, the rest drawn from the prior.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    pub keep: usize,
    pub count: usize,
    /// `(count, l)` and `(count, 784)`.
    #[serde(skip)]
    pub codes: Vec<u32>,
    #[serde(skip)]
    pub pixels: Vec<f32>,
}

impl Reply for Completion {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("codes", Some(Bulk::U32(&self.codes))), ("pixels", Some(Bulk::F32(&self.pixels)))]
    }
}

/// The judge just loaded: its size, training steps and the test accuracy its file records.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeInfo {
    pub hidden: usize,
    pub step: u64,
    pub test_accuracy: f64,
}

impl Reply for JudgeInfo {}
impl Reply for crate::judge::Scores {}

/// One kind of sample judged: its scores, and its first few samples with the digit the judge sees.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeRow {
    /// `test`, `prior`, `gmm` or `learnedPrior`.
    pub source: &'static str,
    pub seed: u64,
    pub scores: crate::judge::Scores,
    /// `(E, 784)` the first samples, in [0, 1].
    #[serde(skip)]
    pub examples: Vec<f32>,
    /// `(E,)` their top classes.
    #[serde(skip)]
    pub example_classes: Vec<u8>,
}

impl Reply for JudgeRow {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("examples", Some(Bulk::F32(&self.examples))), ("exampleClasses", Some(Bulk::U8(&self.example_classes)))]
    }
}

/// The decoded manifold with the judge's reading of every tile.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgedManifold {
    /// Tiles per side.
    pub n: usize,
    /// `(n·n, 784)` decoded tiles, top row first.
    #[serde(skip)]
    pub pixels: Vec<f32>,
    /// `(n·n,)` each tile's top class.
    #[serde(skip)]
    pub classes: Vec<u8>,
    /// `(n·n,)` its probability.
    #[serde(skip)]
    pub confidence: Vec<f32>,
}

impl Reply for JudgedManifold {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("pixels", Some(Bulk::F32(&self.pixels))),
            ("classes", Some(Bulk::U8(&self.classes))),
            ("confidence", Some(Bulk::F32(&self.confidence))),
        ]
    }
}

/// Where a shallow-VQ k-means run is, after one chunk of work.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KMeansProgress {
    /// "seeding", "lloyd" or "finished".
    pub stage: &'static str,
    pub codebook_size: usize,
    /// Training images the run is over.
    pub images: usize,
    /// k-means++ seeds picked so far (K once seeding is over).
    pub seeds: usize,
    /// Lloyd iterations run, and the most it will run.
    pub iterations: usize,
    pub max_iterations: usize,
    /// Mean squared distance to the nearest centroid, Σ‖x − μ_z‖² / N, after the last iteration.
    pub objective_per_image: Option<f64>,
    /// Images that moved to another centroid in the last iteration.
    pub changed: Option<usize>,
    /// Finished at a fixed point (no image moved), not at the iteration cap.
    pub converged: Option<bool>,
    /// Seconds spent in k-means calls so far.
    pub seconds: f64,
}

impl Reply for KMeansProgress {}

/// The VQ-VAE in the session, scored on the same test images as a shallow VQ.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VqRow {
    pub codebook_size: usize,
    pub codes_per_image: usize,
    pub code_dim: usize,
    /// l · log₂ K.
    pub rate_bits: f64,
    /// Bernoulli NLL of the decoded nearest codes, nats per test image.
    pub recon_nats: f64,
}

/// A finished shallow VQ: its centroids (the reconstructions), its cost on the test set at
/// log₂ K bits per image, the first test images with their centroids, and the session's
/// VQ-VAE (if it holds one) on the same test images.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShallowReport {
    pub codebook_size: usize,
    pub train_images: usize,
    pub iterations: usize,
    pub converged: bool,
    /// J / N on the training images after the last iteration.
    pub train_objective_per_image: f64,
    /// log₂ K.
    pub rate_bits: f64,
    pub test_images: usize,
    /// Mean Bernoulli NLL with the nearest centroid's pixels as means (clamped to
    /// [ε, 1 − ε]), nats per test image.
    pub test_nll_nats: f64,
    pub epsilon: f64,
    /// Mean ‖x − μ_z‖² per test image.
    pub test_squared_error: f64,
    /// Centroids with at least one test image.
    pub codes_used: usize,
    pub seconds: f64,
    pub vq: Option<VqRow>,
    pub shown: usize,
    /// `(K, 784)` centroids in [0, 1].
    #[serde(skip)]
    pub centroids: Vec<f32>,
    /// The first `shown` test images `(shown, 784)`, their centroid indices and their NLLs.
    #[serde(skip)]
    pub shown_pixels: Vec<u8>,
    #[serde(skip)]
    pub shown_codes: Vec<u32>,
    #[serde(skip)]
    pub shown_nll: Vec<f32>,
}

impl Reply for ShallowReport {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("centroids", Some(Bulk::F32(&self.centroids))),
            ("shownPixels", Some(Bulk::U8(&self.shown_pixels))),
            ("shownCodes", Some(Bulk::U32(&self.shown_codes))),
            ("shownNll", Some(Bulk::F32(&self.shown_nll))),
        ]
    }
}

/// Shallow VQ-VAE samples (z uniform, x = μ_z + σ ε) beside the session's VQ-VAE decoding
/// uniform code grids (none for another model).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShallowSamples {
    pub count: usize,
    pub sigma: f32,
    /// `(count,)` and `(count, 784)`, the values not clamped to [0, 1].
    #[serde(skip)]
    pub codes: Vec<u32>,
    #[serde(skip)]
    pub pixels: Vec<f32>,
    /// `(count, l)` and `(count, 784)` from the VQ-VAE, or empty.
    #[serde(skip)]
    pub vq_codes: Vec<u32>,
    #[serde(skip)]
    pub vq_pixels: Vec<f32>,
}

impl Reply for ShallowSamples {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        let vq = !self.vq_pixels.is_empty();
        vec![
            ("codes", Some(Bulk::U32(&self.codes))),
            ("pixels", Some(Bulk::F32(&self.pixels))),
            ("vqCodes", vq.then_some(Bulk::U32(&self.vq_codes))),
            ("vqPixels", vq.then_some(Bulk::F32(&self.vq_pixels))),
        ]
    }
}
