//! A training session: one model with its trainer, the training and test sets, the view
//! plane, and every question the page asks, answered in the page's vocabulary (test indices,
//! plane rectangles) with finished results. Plain Rust (tested natively); `wasm` only wraps it.
//!
//! - `mod.rs`: the state and the calls that change it (data, rebuild, training, checkpoints,
//!   the view plane). Only these change what a query returns.
//! - [`encoding`]: codes of images, and the memo of the test set's codes.
//! - [`prior`]: the learned prior over a VQ-VAE's code grids, trained on its training codes.
//! - [`queries`]: the page's questions (pick, interpolation, dimension rows, codebook summary…).
//! - [`discrete`]: a GMM fitted to the training codes as a prior, and one quantization step by step.
//! - [`judge`]: the classifier that scores decoded samples of every kind and the manifold's tiles.
//! - [`shallow`]: shallow VQ on pixels: k-means over the training images, run a chunk per call.
//! - [`replies`]: what they return: small fields plus bulk arrays ([`replies::Reply`]).
//!
//! Replacing parts is all-or-nothing: new data or a checkpoint is parsed and checked in full
//! before it replaces anything, so bad input leaves the current model and data working.

mod discrete;
mod encoding;
mod judge;
mod own_images;
mod parallel;
mod prior;
mod queries;
pub mod replies;
mod shallow;

use std::cell::RefCell;
use std::rc::Rc;

use candle_core::Device;

use crate::checkpoint::{self, CheckpointError};
use crate::codes;
use crate::data::{Dataset, IdxError};
use crate::images::ImageSetError;
use crate::latent::Plane;
use crate::model::{Model, ModelConfig, ModelError};
use crate::settings::Settings;
use crate::train::{StepReport, TrainConfig, TrainError, Trainer};
use crate::upload::{sort_upload, UploadError};

pub use discrete::{FittedPrior, MAX_PRIOR_SAMPLES, PRIOR_COMPONENTS, PRIOR_FIT_IMAGES};
pub use encoding::{Encoded, TestCodes};
pub use judge::{
    SampleSource, JUDGE_EXAMPLES, JUDGE_GMM_COMPONENTS, JUDGE_SHALLOW_IMAGES, JUDGE_SHALLOW_K, JUDGE_SHALLOW_SIGMA, MAX_JUDGED,
};
pub use replies::{
    Bulk, Completion, JudgeInfo, JudgeRow, JudgedManifold, KMeansProgress, PriorReport, PriorSamples, Reply, Scatter, ShallowReport,
    ShallowSamples, ShardData, StepTrace, UploadReport, VqRow,
};
pub use shallow::{MAX_SHALLOW_SAMPLES, SHALLOW_K, SHALLOW_MAX_ITERATIONS, SHALLOW_SHOWN};

#[derive(Debug)]
pub enum SessionError {
    Model(ModelError),
    Train(TrainError),
    Data(IdxError),
    Checkpoint(CheckpointError),
    Images(ImageSetError),
    /// The student's own files, refused: the message names each file at fault.
    Upload(UploadError),
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
            SessionError::Images(e) => write!(f, "your images cannot make a dataset: {e}"),
            SessionError::Upload(e) => e.fmt(f),
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
from_error!(
    Model(ModelError),
    Train(TrainError),
    Data(IdxError),
    Checkpoint(CheckpointError),
    Images(ImageSetError),
    Upload(UploadError),
    Candle(candle_core::Error)
);

pub type Result<T> = std::result::Result<T, SessionError>;

pub struct Session {
    trainer: Trainer,
    train: Option<Dataset>,
    test: Option<Dataset>,
    /// Names of the classes of a set made from images (label i is names[i]); None for IDX data.
    class_names: Option<Vec<String>>,
    plane: Plane,
    device: Device,
    /// Bumped by every change of the weights or the data: the memo below is keyed by it.
    version: u64,
    /// The codes of the first test images under `version` (see [`encoding`]); invisible to answers.
    memo: RefCell<Option<Rc<TestCodes>>>,
    /// Set while this session is one of several data-parallel replicas.
    parallel: Option<parallel::Parallel>,
    /// The last GMM prior fitted (see [`discrete`]), under the version it was fitted at.
    prior_memo: RefCell<Option<Rc<FittedPrior>>>,
    /// The learned prior over this VQ-VAE's codes, if one was started or loaded.
    prior: Option<prior::PriorState>,
    /// The classifier that judges samples, once loaded; it outlives models and data.
    judge: Option<Rc<crate::judge::Judge>>,
    /// Shallow VQ on the training pixels: depends on the data only, so a new model keeps it.
    shallow: Option<shallow::ShallowState>,
    buffers: DataBuffers,
}

/// Memory a session keeps from one dataset load to the next. The wasm heap never shrinks, and
/// tens of megabytes freed and allocated again around a training run's small allocations
/// fragment it into growth (the soak saw +45 MB after some dozen switches); refilling the same
/// buffers keeps the heap flat after the first two loads.
#[derive(Default)]
struct DataBuffers {
    /// The four IDX files of the next load, back to back (see [`Session::stage_files`]).
    staged: Vec<u8>,
    staged_lengths: [usize; 4],
    /// The training and test sets replaced last, refilled by the next load.
    spare: Option<(Dataset, Dataset)>,
}

/// Test images used to fit the PCA view plane (enough for stable axes, quick to encode).
const PLANE_FIT_IMAGES: usize = 2000;

impl Session {
    pub fn new(model: &ModelConfig, train: &TrainConfig) -> Result<Self> {
        let device = Device::Cpu;
        let model = Model::new(model, train.seed, &device)?;
        Self::from_parts(model, train.clone(), 0, &device)
    }

    pub fn from_settings(settings: &Settings) -> Result<Self> {
        Self::new(&settings.model, &settings.train)
    }

    fn from_parts(model: Model, train: TrainConfig, step: u64, device: &Device) -> Result<Self> {
        let mut trainer = Trainer::new(model, train, 1)?;
        trainer.set_step(step);
        Ok(Self::with_trainer(trainer, device))
    }

    fn with_trainer(trainer: Trainer, device: &Device) -> Self {
        let plane = Plane::identity_for(trainer.model().config().decoder_input());
        Self {
            trainer,
            train: None,
            test: None,
            class_names: None,
            plane,
            device: device.clone(),
            version: 0,
            memo: RefCell::new(None),
            parallel: None,
            prior_memo: RefCell::new(None),
            prior: None,
            judge: None,
            shallow: None,
            buffers: DataBuffers::default(),
        }
    }

    pub fn model(&self) -> &Model {
        self.trainer.model()
    }

    pub fn trainer(&self) -> &Trainer {
        &self.trainer
    }

    /// The model and training settings in use.
    pub fn settings(&self) -> Settings {
        Settings { model: self.model().config().clone(), train: self.trainer.config().clone() }
    }

    /// Latent dimension n (what `decode` takes per image).
    pub fn latent_dim(&self) -> usize {
        self.model().config().decoder_input()
    }

    /// The current view plane (identity for 2-D, else the PCA plane of the last [`Session::fit_view`]).
    pub fn plane(&self) -> &Plane {
        &self.plane
    }

    /// Replaces the datasets with four IDX files, raw or gzipped, and starts a new model with
    /// the current settings on them (codes learned on one dataset mean nothing on another).
    /// On any error the current data and model stay.
    pub fn set_data(&mut self, train_images: &[u8], train_labels: &[u8], test_images: &[u8], test_labels: &[u8]) -> Result<()> {
        let (spare_train, spare_test) = self.buffers.spare.take().unzip();
        let train = Dataset::from_idx_reusing(train_images, train_labels, spare_train)
            .map_err(|e| SessionError::Request(format!("training set: {e}")))?;
        // The replica, which never trains, passes the test files as both sets: they are read
        // once (a dataset switch had it decompress and check the test set twice, 70–90 ms each).
        let test = if (train_images, train_labels) == (test_images, test_labels) {
            train.copy_reusing(spare_test)
        } else {
            Dataset::from_idx_reusing(test_images, test_labels, spare_test).map_err(|e| SessionError::Request(format!("test set: {e}")))?
        };
        self.set_datasets(train, test)
    }

    /// Room for four IDX files of these byte lengths (training images and labels, test images
    /// and labels), to be filled in place and then read by [`Session::set_staged_data`]. The
    /// room is reused from load to load, so no file is copied into a fresh allocation.
    pub fn stage_files(&mut self, lengths: [usize; 4]) -> &mut [u8] {
        let staged = &mut self.buffers.staged;
        staged.clear();
        staged.resize(lengths.iter().sum(), 0);
        self.buffers.staged_lengths = lengths;
        staged
    }

    /// [`Session::set_data`] on the files [`Session::stage_files`] made room for.
    pub fn set_staged_data(&mut self) -> Result<()> {
        let staged = std::mem::take(&mut self.buffers.staged);
        let [a, b, c, _] = self.buffers.staged_lengths;
        let (train_images, rest) = staged.split_at(a);
        let (train_labels, rest) = rest.split_at(b);
        let (test_images, test_labels) = rest.split_at(c);
        let result = self.set_data(train_images, train_labels, test_images, test_labels);
        self.buffers.staged = staged;
        result
    }

    /// The student's own four IDX files, `(name, bytes)` in any order: each is checked on its
    /// own, then they are sorted into roles and paired (see [`crate::upload`]), and a new model
    /// with the current settings starts on them. On any error the current data and model stay.
    pub fn set_files(&mut self, files: &[(&str, &[u8])]) -> Result<UploadReport> {
        let upload = sort_upload(files)?;
        let report = UploadReport { order: upload.order, train_length: upload.train.len(), test_length: upload.test.len() };
        self.set_datasets(upload.train, upload.test)?;
        Ok(report)
    }

    /// [`Session::set_data`] for datasets already parsed.
    pub fn set_datasets(&mut self, train: Dataset, test: Dataset) -> Result<()> {
        let mut next = Self::from_settings(&self.settings())?;
        next.judge = self.judge.take();
        next.put_datasets(train, test);
        next.buffers = std::mem::take(&mut self.buffers);
        if let (Some(old_train), Some(old_test)) = (self.train.take(), self.test.take()) {
            next.buffers.spare = Some((old_train, old_test));
        }
        *self = next;
        Ok(())
    }

    fn put_datasets(&mut self, train: Dataset, test: Dataset) {
        self.trainer.set_train_len(train.len());
        self.train = Some(train);
        self.test = Some(test);
        self.changed();
    }

    /// The weights or the data changed: the memo of test codes is stale, and so is a prior
    /// fitted to the old codes.
    fn changed(&mut self) {
        self.version += 1;
        self.memo.get_mut().take();
        self.prior_memo.get_mut().take();
        self.prior = None;
    }

    fn test_set(&self) -> Result<&Dataset> {
        self.test.as_ref().ok_or_else(|| SessionError::Request("no test data loaded yet".into()))
    }

    fn train_set(&self) -> Result<&Dataset> {
        self.train.as_ref().ok_or_else(|| SessionError::Request("no training data loaded yet".into()))
    }

    pub fn test_len(&self) -> usize {
        self.test.as_ref().map_or(0, Dataset::len)
    }

    pub fn train_steps(&mut self, n: usize) -> Result<StepReport> {
        if self.is_parallel() {
            return Err(SessionError::Request("this session trains as one of several replicas: stop that first".into()));
        }
        let train = self.train.as_ref().ok_or_else(|| SessionError::Request("no training data loaded yet".into()))?;
        // Even a failed chunk may have changed the weights (they are put back to the chunk's start).
        let result = self.trainer.train_steps(train, n);
        self.changed();
        Ok(result?)
    }

    pub fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        Ok(self.trainer.set_learning_rate(lr)?)
    }

    /// Refits the view plane (PCA for n > 2) on the codes of the first `min(limit, 2000)` test
    /// images (limit 0 = all) and returns the scatter of the first `limit` in the new plane.
    pub fn fit_view(&mut self, limit: usize) -> Result<Scatter> {
        let n = self.clamp_to_test(limit)?;
        let codes = self.test_codes(n)?;
        let dim = self.latent_dim();
        self.plane = Plane::fit(&codes.mean[..n.min(PLANE_FIT_IMAGES) * dim], dim);
        let mut scatter = self.scatter(limit)?;
        scatter.explained = Some(self.plane.explained);
        scatter.axis_names = Some(if dim == 2 { ["z₁", "z₂"] } else { ["PC1", "PC2"] });
        Ok(scatter)
    }

    /// A new untrained model with these settings on the data already loaded; on error nothing
    /// changes (the parsed datasets move over, so nothing is parsed again).
    pub fn rebuild(&mut self, model: &ModelConfig, train: &TrainConfig) -> Result<()> {
        let next = Self::new(model, train)?;
        self.replace_keeping_data(next);
        Ok(())
    }

    fn replace_keeping_data(&mut self, mut next: Self) {
        next.judge = self.judge.take();
        if let (Some(train), Some(test)) = (self.train.take(), self.test.take()) {
            next.put_datasets(train, test);
            next.class_names = self.class_names.take();
            next.shallow = self.shallow.take();
        }
        next.buffers = std::mem::take(&mut self.buffers);
        *self = next;
    }

    /// One optimizer step and what it did: its batch (the first `shown` images of it), its ε
    /// draws or code assignments, and for a VQ-VAE the codebook before and after.
    pub fn trace_step(&mut self, shown: usize) -> Result<StepTrace> {
        let codebook_before = self.codebook_if_vq()?;
        let report = self.train_steps(1)?;
        let batch = self.trainer.last_batch().expect("a step just ran").clone();
        let codebook_after = self.codebook_if_vq()?;
        let cfg = self.model().config().clone();
        let shown = shown.min(batch.indices.len());
        let train = self.train_set()?;
        let first = &batch.indices[..shown];
        let moves = codebook_before.as_ref().zip(codebook_after.as_ref()).map(|(b, a)| codes::moves(b, a, cfg.code_dim));
        Ok(StepTrace {
            report,
            batch_size: batch.indices.len(),
            indices: batch.indices.iter().map(|&i| i as u32).collect(),
            images: first.iter().flat_map(|&i| train.image(i)).copied().collect(),
            labels: first.iter().map(|&i| train.label(i)).collect(),
            epsilon: batch.epsilon.as_ref().map(|e| e[..shown * cfg.latent_dim].to_vec()),
            latent_dim: cfg.latent_dim,
            beta: cfg.beta,
            codes_picked: batch.codes.as_deref().map(codes::distinct),
            codebook_size: cfg.codebook_size,
            code_dim: cfg.code_dim,
            codes_moved: moves.as_ref().map(|m| m.iter().filter(|&&d| d > 0.0).count()),
            largest_move: moves.as_ref().map(|m| m.iter().copied().fold(0.0, f32::max)),
            codes: batch.codes,
            codebook_before,
            codebook_after,
        })
    }

    pub fn save(&self) -> Result<Vec<u8>> {
        Ok(checkpoint::save(self.model(), self.trainer.config(), self.trainer.step())?)
    }

    /// Replaces the model with a checkpoint's; the data stays. On error nothing changes.
    /// Returns the checkpoint's note (a file from before checksums loads, unverified, with one).
    pub fn load(&mut self, bytes: &[u8]) -> Result<Option<String>> {
        let ckpt = checkpoint::load(bytes, &self.device)?;
        let next = Self::from_parts(ckpt.model, ckpt.train, ckpt.step, &self.device)?;
        self.replace_keeping_data(next);
        Ok(ckpt.note)
    }

    /// The model's weights as one list ([`Model::flat_weights`]). With [`Session::set_weights`]
    /// a second session of the same model follows this one at the cost of a copy, without a
    /// checkpoint's serialising, checksum and rebuild.
    pub fn weights(&self) -> Result<Vec<f32>> {
        Ok(self.model().flat_weights()?)
    }

    /// Takes in place the weights of a session of the same model ([`Session::weights`]); the
    /// step count stays. Values of another length change nothing and are an error.
    pub fn set_weights(&mut self, values: &[f32]) -> Result<()> {
        self.model().set_flat_weights(values)?;
        self.changed();
        Ok(())
    }

    /// `limit` (0 = all) clamped to the test set's length.
    fn clamp_to_test(&self, limit: usize) -> Result<usize> {
        let len = self.test_set()?.len();
        Ok(if limit == 0 { len } else { limit.min(len) })
    }
}

fn rows(len: usize, width: usize, what: &str) -> Result<usize> {
    if len == 0 || !len.is_multiple_of(width) {
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
