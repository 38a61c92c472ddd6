//! A training session: one model with its trainer, the training and test sets, and every
//! latent-space query the page makes. Plain Rust (tested natively); `wasm` only wraps it.
//!
//! Replacing parts is all-or-nothing: new data or a checkpoint is parsed and checked in full
//! before it replaces anything, so bad input leaves the current model and data working.

use candle_core::{Device, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::checkpoint::{self, CheckpointError};
use crate::data::{Dataset, IdxError, IMAGE_PIXELS};
use crate::latent::{self, Plane, Rect};
use crate::model::{Model, ModelConfig, ModelError, ModelKind};
use crate::train::{EvalReport, StepReport, TrainConfig, TrainError, Trainer};

#[derive(Debug)]
pub enum SessionError {
    Model(ModelError),
    Train(TrainError),
    Data(IdxError),
    Checkpoint(CheckpointError),
    /// The request doesn't fit the model or the data (wrong length, wrong family, no data yet).
    Request(String),
    Candle(candle_core::Error),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Model(e) => e.fmt(f),
            SessionError::Train(e) => e.fmt(f),
            SessionError::Data(e) => write!(f, "the dataset could not be read: {e}"),
            SessionError::Checkpoint(e) => e.fmt(f),
            SessionError::Request(msg) => f.write_str(msg),
            SessionError::Candle(e) => write!(f, "model error: {e}"),
        }
    }
}

impl std::error::Error for SessionError {}

macro_rules! from_error {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for SessionError {
            fn from(e: $ty) -> Self { SessionError::$variant(e) }
        }
    )*};
}
from_error!(Model(ModelError), Train(TrainError), Data(IdxError), Checkpoint(CheckpointError), Candle(candle_core::Error));

pub type Result<T> = std::result::Result<T, SessionError>;

/// Codes of a batch of images, in the model's space and in the view plane.
pub struct Encoded {
    /// Latent dimension n of `mean` (d, or l·D for the VQ-VAE).
    pub dim: usize,
    /// `(B, n)`: z (AE), μ (VAE) or z_e (VQ-VAE).
    pub mean: Vec<f32>,
    /// `(B, d)`: log σ² (VAE only).
    pub logvar: Option<Vec<f32>>,
    /// `(B, l)`: nearest code indices (VQ-VAE only).
    pub codes: Option<Vec<u32>>,
    /// `(B, 2)`: `mean` in the view plane.
    pub plane: Vec<f32>,
}

/// What [`Session::trace_step`] did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepTrace {
    pub report: StepReport,
    /// Training-set indices of the batch.
    pub indices: Vec<usize>,
    /// `(B, d)` ε of the step (VAE only).
    pub epsilon: Option<Vec<f32>>,
    /// `(B, l)` code index of each encoder output (VQ-VAE only).
    pub codes: Option<Vec<u32>>,
    /// `(K, D)` codebook before and after the step (VQ-VAE only).
    pub codebook_before: Option<Vec<f32>>,
    pub codebook_after: Option<Vec<f32>>,
}

pub struct Session {
    trainer: Trainer,
    train: Option<Dataset>,
    test: Option<Dataset>,
    plane: Plane,
    device: Device,
}

/// Test images used to fit the PCA view plane (enough for stable axes, quick to encode).
const PLANE_FIT_IMAGES: usize = 2000;

impl Session {
    pub fn new(model: &ModelConfig, train: &TrainConfig) -> Result<Self> {
        let device = Device::Cpu;
        let model = Model::new(model, train.seed, &device)?;
        Self::from_parts(model, train.clone(), 0, &device)
    }

    fn from_parts(model: Model, train: TrainConfig, step: u64, device: &Device) -> Result<Self> {
        let plane = Plane::identity_for(model.config().decoder_input());
        let mut trainer = Trainer::new(model, train, 1)?;
        trainer.set_step(step);
        Ok(Self { trainer, train: None, test: None, plane, device: device.clone() })
    }

    pub fn model(&self) -> &Model {
        self.trainer.model()
    }

    pub fn trainer(&self) -> &Trainer {
        &self.trainer
    }

    /// Latent dimension n (what `decode` takes per image).
    pub fn latent_dim(&self) -> usize {
        self.model().config().decoder_input()
    }

    /// Replaces the datasets; the four buffers are IDX files, raw or gzipped. On any error the
    /// current data stays.
    pub fn set_data(&mut self, train_images: &[u8], train_labels: &[u8], test_images: &[u8], test_labels: &[u8]) -> Result<()> {
        let train = Dataset::from_idx(train_images, train_labels).map_err(|e| SessionError::Request(format!("training set: {e}")))?;
        let test = Dataset::from_idx(test_images, test_labels).map_err(|e| SessionError::Request(format!("test set: {e}")))?;
        self.set_datasets(train, test);
        Ok(())
    }

    pub fn set_datasets(&mut self, train: Dataset, test: Dataset) {
        self.trainer.set_train_len(train.len());
        self.train = Some(train);
        self.test = Some(test);
    }

    fn test_set(&self) -> Result<&Dataset> {
        self.test.as_ref().ok_or_else(|| SessionError::Request("no test data loaded yet".into()))
    }

    pub fn test_len(&self) -> usize {
        self.test.as_ref().map_or(0, Dataset::len)
    }

    pub fn train_steps(&mut self, n: usize) -> Result<StepReport> {
        let train = self.train.as_ref().ok_or_else(|| SessionError::Request("no training data loaded yet".into()))?;
        Ok(self.trainer.train_steps(train, n)?)
    }

    pub fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        Ok(self.trainer.set_learning_rate(lr)?)
    }

    /// Metrics over the first `limit` test images (0 = all).
    pub fn evaluate(&self, limit: usize) -> Result<EvalReport> {
        Ok(self.trainer.evaluate(self.test_set()?, limit)?)
    }

    /// Encodes images given as `(B, 784)` values in `[0, 1]`.
    pub fn encode(&self, pixels: &[f32]) -> Result<Encoded> {
        let b = rows(pixels.len(), IMAGE_PIXELS, "images")?;
        self.encode_tensor(&Tensor::from_slice(pixels, (b, IMAGE_PIXELS), &self.device)?)
    }

    /// Encodes the first `limit` test images (0 = all) and refits the view plane on them.
    pub fn encode_test(&mut self, limit: usize) -> Result<Encoded> {
        let test = self.test_set()?;
        let n = if limit == 0 { test.len() } else { limit.min(test.len()) };
        let mut parts = Vec::new();
        for start in (0..n).step_by(1000) {
            let x = test.batch_range(start..(start + 1000).min(n), &self.device)?;
            parts.push(self.model().encode(&x)?);
        }
        let cat = |get: &dyn Fn(&crate::model::Encoding) -> Option<Tensor>| -> Result<Option<Tensor>> {
            let ts: Vec<Tensor> = parts.iter().filter_map(get).collect();
            Ok(if ts.is_empty() { None } else { Some(Tensor::cat(&ts, 0)?) })
        };
        let mean = cat(&|e| Some(e.mean.clone()))?.expect("at least one test image");
        let logvar = cat(&|e| e.logvar.clone())?;
        let codes = cat(&|e| e.codes.clone())?;
        let mean_values = mean.flatten_all()?.to_vec1::<f32>()?;
        let dim = self.latent_dim();
        let fit = &mean_values[..mean_values.len().min(PLANE_FIT_IMAGES * dim)];
        self.plane = Plane::fit(fit, dim);
        Ok(Encoded {
            dim,
            plane: self.plane.project(&mean_values),
            mean: mean_values,
            logvar: logvar.map(|t| t.flatten_all()?.to_vec1()).transpose()?,
            codes: codes.map(|t| t.flatten_all()?.to_vec1()).transpose()?,
        })
    }

    fn encode_tensor(&self, x: &Tensor) -> Result<Encoded> {
        let e = self.model().encode(x)?;
        let mean = e.mean.flatten_all()?.to_vec1::<f32>()?;
        Ok(Encoded {
            dim: self.latent_dim(),
            plane: self.plane.project(&mean),
            mean,
            logvar: e.logvar.map(|t| t.flatten_all()?.to_vec1()).transpose()?,
            codes: e.codes.map(|t| t.flatten_all()?.to_vec1()).transpose()?,
        })
    }

    /// The current view plane (identity for 2-D, else PCA of the last `encode_test`).
    pub fn plane(&self) -> &Plane {
        &self.plane
    }

    pub fn test_labels(&self, limit: usize) -> Result<Vec<u8>> {
        let test = self.test_set()?;
        let n = if limit == 0 { test.len() } else { limit.min(test.len()) };
        Ok(test.labels()[..n].to_vec())
    }

    /// The first `limit` test images as `(B, 784)` bytes.
    pub fn test_images(&self, start: usize, count: usize) -> Result<Vec<u8>> {
        let test = self.test_set()?;
        let end = start.saturating_add(count).min(test.len());
        Ok(test.pixels()[start.min(end) * IMAGE_PIXELS..end * IMAGE_PIXELS].to_vec())
    }

    /// Training images at `indices` as `(B, 784)` bytes with their labels (e.g. a traced batch).
    pub fn train_images(&self, indices: &[u32]) -> Result<(Vec<u8>, Vec<u8>)> {
        let train = self.train.as_ref().ok_or_else(|| SessionError::Request("no training data loaded yet".into()))?;
        if let Some(bad) = indices.iter().find(|&&i| i as usize >= train.len()) {
            return Err(SessionError::Request(format!("training image {bad} does not exist (the set has {})", train.len())));
        }
        let pixels =
            indices.iter().flat_map(|&i| &train.pixels()[i as usize * IMAGE_PIXELS..(i as usize + 1) * IMAGE_PIXELS]).copied().collect();
        let labels = indices.iter().map(|&i| train.labels()[i as usize]).collect();
        Ok((pixels, labels))
    }

    /// Decoded images `(B, 784)` in `[0, 1]` for codes `z (B, n)`.
    pub fn decode(&self, z: &[f32]) -> Result<Vec<f32>> {
        let n = self.latent_dim();
        let b = rows(z.len(), n, "latent codes")?;
        let images = self.model().decode(&Tensor::from_slice(z, (b, n), &self.device)?)?;
        Ok(images.flatten_all()?.to_vec1()?)
    }

    /// Decodes the centres of an `nx × ny` grid over `rect` of the view plane (top row first):
    /// the decoded manifold.
    pub fn decode_grid(&self, rect: Rect, nx: usize, ny: usize) -> Result<Vec<f32>> {
        check_grid(nx, ny)?;
        self.decode(&self.plane.lift(&latent::grid(rect, nx, ny)))
    }

    /// Decoded images along the straight line from `a` to `b` (both length n), `steps` of them.
    pub fn interpolate(&self, a: &[f32], b: &[f32], steps: usize) -> Result<Vec<f32>> {
        let n = self.latent_dim();
        if a.len() != n || b.len() != n || !(2..=64).contains(&steps) {
            return Err(SessionError::Request(format!("interpolation needs two codes of length {n} and 2 to 64 steps")));
        }
        self.decode(&latent::interpolate(a, b, steps))
    }

    /// Samples from the prior and decodes them: z ~ N(0, I) for the AE/VAE, codes drawn
    /// uniformly for the VQ-VAE. Returns `(codes (B, n), images (B, 784))`.
    pub fn sample_prior(&self, count: usize, seed: u64) -> Result<(Vec<f32>, Vec<f32>)> {
        let mut rng = StdRng::seed_from_u64(seed);
        let cfg = self.model().config();
        let z: Vec<f32> = match cfg.kind {
            ModelKind::Ae | ModelKind::Vae => (0..count * cfg.latent_dim).map(|_| StandardNormal.sample(&mut rng)).collect(),
            ModelKind::Vqvae => {
                let codebook: Vec<f32> = self.model().codebook().expect("VQ-VAE has a codebook").flatten_all()?.to_vec1()?;
                let d = cfg.code_dim;
                (0..count * cfg.codes_per_image)
                    .flat_map(|_| {
                        let k = rng.random_range(0..cfg.codebook_size);
                        codebook[k * d..(k + 1) * d].to_vec()
                    })
                    .collect()
            }
        };
        let images = self.decode(&z)?;
        Ok((z, images))
    }

    /// The VQ-VAE codebook `(K, D)`.
    pub fn codebook(&self) -> Result<Vec<f32>> {
        Ok(self.vq_codebook()?.flatten_all()?.to_vec1()?)
    }

    fn codebook_if_vq(&self) -> Result<Option<Vec<f32>>> {
        Ok(self.model().codebook().map(|t| t.flatten_all()?.to_vec1()).transpose()?)
    }

    fn vq_codebook(&self) -> Result<Tensor> {
        self.model().codebook().ok_or_else(|| SessionError::Request("only a VQ-VAE has a codebook".into()))
    }

    /// Each codebook vector decoded on its own, `(K, 784)`: with l > 1 every one of the l
    /// slots holds that code.
    pub fn decode_codebook(&self) -> Result<Vec<f32>> {
        let codebook: Vec<f32> = self.codebook()?;
        let cfg = self.model().config();
        let z: Vec<f32> = codebook.chunks_exact(cfg.code_dim).flat_map(|e| e.repeat(cfg.codes_per_image)).collect();
        self.decode(&z)
    }

    /// The nearest-code index at the centres of an `nx × ny` grid over `rect` (top row
    /// first): the Voronoi map of a 2-D codebook (D = 2).
    pub fn code_map(&self, rect: Rect, nx: usize, ny: usize) -> Result<Vec<u32>> {
        check_grid(nx, ny)?;
        if self.model().config().code_dim != 2 {
            return Err(SessionError::Request("the code map needs code dimension D = 2".into()));
        }
        let points = latent::grid(rect, nx, ny);
        let z = Tensor::from_vec(points, (nx * ny, 2), &self.device)?;
        Ok(self.model().quantize(&z)?.expect("D = 2 implies a VQ-VAE"))
    }

    /// `(n, d) → (n, 2)`: codes onto the current view plane.
    pub fn project(&self, z: &[f32]) -> Result<Vec<f32>> {
        rows(z.len(), self.latent_dim(), "latent codes")?;
        Ok(self.plane.project(z))
    }

    /// The model's reconstructions of `(B, 784)` images in `[0, 1]` (see [`Model::reconstruct`]).
    pub fn reconstruct(&self, pixels: &[f32]) -> Result<Vec<f32>> {
        let b = rows(pixels.len(), IMAGE_PIXELS, "images")?;
        let x = Tensor::from_slice(pixels, (b, IMAGE_PIXELS), &self.device)?;
        Ok(self.model().reconstruct(&x)?.flatten_all()?.to_vec1()?)
    }

    /// Images from VQ code indices, `l` per image (see [`Model::decode_codes`]).
    pub fn decode_codes(&self, codes: &[u32]) -> Result<Vec<f32>> {
        if self.model().codebook().is_none() {
            return Err(SessionError::Request("only a VQ-VAE decodes code indices".into()));
        }
        let images = self.model().decode_codes(codes).map_err(|e| SessionError::Request(e.to_string()))?;
        Ok(images.flatten_all()?.to_vec1()?)
    }

    /// A new untrained model with these settings on the data already loaded; on error nothing
    /// changes (the parsed datasets move over, so nothing is parsed again).
    pub fn rebuild(&mut self, model: &ModelConfig, train: &TrainConfig) -> Result<()> {
        let next = Self::new(model, train)?;
        self.replace_keeping_data(next);
        Ok(())
    }

    fn replace_keeping_data(&mut self, mut next: Self) {
        if let (Some(train), Some(test)) = (self.train.take(), self.test.take()) {
            next.set_datasets(train, test);
        }
        *self = next;
    }

    /// One optimizer step, with its batch, its ε draws or code assignments, and the codebook
    /// before and after (VQ-VAE).
    pub fn trace_step(&mut self) -> Result<StepTrace> {
        let codebook_before = self.codebook_if_vq()?;
        let report = self.train_steps(1)?;
        let batch = self.trainer.last_batch().expect("a step just ran").clone();
        Ok(StepTrace {
            report,
            indices: batch.indices,
            epsilon: batch.epsilon,
            codes: batch.codes,
            codebook_before,
            codebook_after: self.codebook_if_vq()?,
        })
    }

    pub fn save(&self) -> Result<Vec<u8>> {
        Ok(checkpoint::save(self.model(), self.trainer.config(), self.trainer.step())?)
    }

    /// Replaces the model with a checkpoint's; the data stays. On error nothing changes.
    pub fn load(&mut self, bytes: &[u8]) -> Result<()> {
        let ckpt = checkpoint::load(bytes, &self.device)?;
        let next = Self::from_parts(ckpt.model, ckpt.train, ckpt.step, &self.device)?;
        self.replace_keeping_data(next);
        Ok(())
    }
}

fn rows(len: usize, width: usize, what: &str) -> Result<usize> {
    if len == 0 || len % width != 0 {
        return Err(SessionError::Request(format!("{what}: expected a multiple of {width} values, got {len}")));
    }
    Ok(len / width)
}

fn check_grid(nx: usize, ny: usize) -> Result<()> {
    if nx == 0 || ny == 0 || nx * ny > 100_000 {
        return Err(SessionError::Request(format!("a grid of {nx}×{ny} is out of range (1 to 100000 cells)")));
    }
    Ok(())
}
