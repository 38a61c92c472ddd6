//! What the session's queries return. Each reply is a struct whose small fields serialise
//! (camelCase) and whose bulk fields are skipped by serde and listed by [`Reply::bulk`], so the
//! binding can send them as typed arrays. Shapes: N test images, n = latent size (d, or l·D),
//! 784 pixels per image, row-major.

use serde::Serialize;

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
impl Reply for EvalReport {}
impl Reply for Settings {}
impl Reply for Schema {}

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
