//! Training: AdamW on a model's trainable parameters, driven in chunks.
//!
//! [`Trainer::train_steps`] runs `n` optimizer steps and returns their mean metrics, so a Web
//! Worker can yield between chunks and the page never freezes. A step whose loss is NaN or
//! infinite (a learning rate far too high) stops training with [`TrainError::NonFinite`]
//! and puts back the last good weights; the optimizer's moments are reset because they may
//! hold the blow-up too.
//!
//! # Which weights are the last good ones
//!
//! Normally those from the start of the chunk that failed. But a rate far too high first
//! wrecks the weights while the loss stays finite (measured on MNIST with lr 10, 1 or 0.3: a
//! loss of 10⁶–10¹² for one to three steps, NaN after): when chunks are short, as in a busy
//! browser, the chunk before the failing one already ran on wrecked weights. So setting a new
//! rate keeps a copy of the weights it starts from, and a blow-up within
//! [`RATE_TRIAL_STEPS`] steps of the change puts back that copy.

use candle_core::{Device, Tensor};
use candle_nn::{Optimizer, ParamsAdamW};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::codes::perplexity;
use crate::data::{Batcher, Dataset};
use crate::model::{blocks::all_finite, Model, ModelKind};
use crate::optim::FusedAdamW;
use crate::parallel::ShareBuffers;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainConfig {
    pub learning_rate: f64,
    pub batch_size: usize,
    /// Seeds the weights, the batch order and ε: the same seed reproduces the same run.
    pub seed: u64,
    /// candle's AdamW defaults to 0.01; these small models train best without decay.
    pub weight_decay: f64,
    /// Train on only the first N images (0 = all): the "quick" option for slow machines.
    pub train_subset: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self { learning_rate: 1e-3, batch_size: 128, seed: 0, weight_decay: 0.0, train_subset: 0 }
    }
}

impl TrainConfig {
    /// Checks ranges against the settings table ([`crate::settings`]); the message names the
    /// setting and the allowed range.
    pub fn validate(&self) -> Result<(), String> {
        crate::settings::check_train(self)
    }

    pub fn adamw_params(&self) -> ParamsAdamW {
        ParamsAdamW { lr: self.learning_rate, weight_decay: self.weight_decay, ..Default::default() }
    }
}

/// Mean metrics over the steps of one [`Trainer::train_steps`] call, per image in nats.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// Optimizer steps taken since the model was created.
    pub step: u64,
    pub epoch: usize,
    pub epoch_progress: f32,
    pub steps: usize,
    pub images_per_sec: f64,
    /// The optimized objective (−ELBO with β·KL for the VAE).
    pub loss: f32,
    pub recon: f32,
    pub kl: Option<f32>,
    pub kl_per_dim: Option<Vec<f32>>,
    pub codebook_loss: Option<f32>,
    pub commitment_loss: Option<f32>,
}

/// Metrics over a fixed evaluation set (the first `limit` images of a dataset).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvalReport {
    pub images: usize,
    /// The objective as in training (β-weighted for the VAE).
    pub loss: f32,
    /// −ELBO = recon + KL (β = 1), single-sample: the number to compare with the literature.
    pub neg_elbo: Option<f32>,
    pub recon: f32,
    pub kl: Option<f32>,
    pub kl_per_dim: Option<Vec<f32>>,
    /// Dimensions whose μ varies across the data by more than 0.01 (Burda et al.'s active units).
    pub active_units: Option<usize>,
    pub codebook_loss: Option<f32>,
    pub commitment_loss: Option<f32>,
    /// How many images (times l) each code was assigned.
    pub code_usage: Option<Vec<u32>>,
    pub codes_used: Option<usize>,
    /// `exp(entropy)` of the code-usage distribution: K when all codes are used evenly.
    pub perplexity: Option<f32>,
}

#[derive(Debug)]
pub enum TrainError {
    /// The loss or the weights became NaN/∞; the last good weights were restored.
    NonFinite {
        step: u64,
        learning_rate: f64,
    },
    Config(String),
    Candle(candle_core::Error),
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::NonFinite { step, learning_rate } => write!(
                f,
                "training stopped at step {step}: the loss became NaN or infinite (learning rate {learning_rate} is probably too high). The weights from before the blow-up were kept; lower the learning rate and continue."
            ),
            TrainError::Config(msg) => write!(f, "invalid training settings: {msg}"),
            TrainError::Candle(e) => write!(f, "training error: {e}"),
        }
    }
}

impl std::error::Error for TrainError {}

impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> Self {
        TrainError::Candle(e)
    }
}

/// Steps after a learning-rate change within which a blow-up is blamed on the new rate (the
/// weights from before the change are put back). Measured blow-ups came within 4 steps.
pub const RATE_TRIAL_STEPS: u64 = 50;

const EVAL_CHUNK: usize = 500;
/// ε for evaluation comes from a fixed seed so that two evaluations of the same model agree.
const EVAL_SEED: u64 = 0x5EED;

pub struct Trainer {
    pub(crate) model: Model,
    pub(crate) optimizer: FusedAdamW,
    pub(crate) batcher: Batcher,
    pub(crate) rng: StdRng,
    pub(crate) step: u64,
    pub(crate) config: TrainConfig,
    pub(crate) device: Device,
    pub(crate) last_batch: Option<LastBatch>,
    /// The step and weights at the last learning-rate change, for [`RATE_TRIAL_STEPS`] steps.
    pub(crate) before_rate_change: Option<(u64, Vec<(String, Tensor)>)>,
    pub(crate) share_buffers: ShareBuffers,
}

/// What the most recent optimizer step worked on, so a single step can be shown in full.
#[derive(Debug, Clone)]
pub struct LastBatch {
    /// Training-set indices of the batch images.
    pub indices: Vec<usize>,
    /// `(B, d)` ε of the reparameterization (VAE only), row-major.
    pub epsilon: Option<Vec<f32>>,
    /// `(B, l)` nearest-code index of each encoder output (VQ-VAE only), row-major.
    pub codes: Option<Vec<u32>>,
}

impl Trainer {
    /// A trainer for `model` over a training set of `train_len` images.
    pub fn new(model: Model, config: TrainConfig, train_len: usize) -> Result<Self, TrainError> {
        config.validate().map_err(TrainError::Config)?;
        let optimizer = FusedAdamW::new(model.trainable_vars(), config.adamw_params())?;
        let batcher = Batcher::new(effective_len(&config, train_len), config.batch_size, config.seed);
        // A different stream from the init's so ε isn't correlated with the weights.
        let rng = StdRng::seed_from_u64(config.seed.wrapping_add(1));
        let device = model.device().clone();
        Ok(Self {
            model,
            optimizer,
            batcher,
            rng,
            step: 0,
            config,
            device,
            last_batch: None,
            before_rate_change: None,
            share_buffers: ShareBuffers::default(),
        })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The batch of the last optimizer step (None before the first).
    pub fn last_batch(&self) -> Option<&LastBatch> {
        self.last_batch.as_ref()
    }

    pub fn step(&self) -> u64 {
        self.step
    }

    /// For a model restored from a checkpoint: its step count, and the batch order where a run
    /// that never stopped would be (one batch per step), so the epoch count goes on from there.
    pub fn set_step(&mut self, step: u64) {
        self.step = step;
        self.batcher.skip_to(step as usize);
    }

    pub fn epoch(&self) -> usize {
        self.batcher.epoch()
    }

    /// How far through the current epoch, 0 to 1.
    pub fn epoch_progress(&self) -> f32 {
        self.batcher.epoch_progress()
    }

    /// Steps in one pass over the training set (or its quick subset).
    pub fn steps_per_epoch(&self) -> usize {
        self.batcher.batches_per_epoch()
    }

    pub fn set_learning_rate(&mut self, lr: f64) -> Result<(), TrainError> {
        let config = TrainConfig { learning_rate: lr, ..self.config.clone() };
        config.validate().map_err(TrainError::Config)?;
        self.optimizer.set_learning_rate(lr);
        self.config = config;
        self.before_rate_change = Some((self.step, self.model.weights()?));
        Ok(())
    }

    /// A batch order over a new training set (the model is kept), at the batch the step count
    /// has reached.
    pub fn set_train_len(&mut self, train_len: usize) {
        self.batcher = Batcher::new(effective_len(&self.config, train_len), self.config.batch_size, self.config.seed);
        self.batcher.skip_to(self.step as usize);
    }

    /// Runs `n` optimizer steps on batches of `data` and returns their mean metrics.
    pub fn train_steps(&mut self, data: &Dataset, n: usize) -> Result<StepReport, TrainError> {
        let last_good = self.model.weights()?;
        if !last_good.iter().all(|(_, t)| all_finite(t).unwrap_or(false)) {
            return Err(TrainError::NonFinite { step: self.step, learning_rate: self.config.learning_rate });
        }
        let first_step = self.step;
        let start = Instant::now();
        let mut sums = MetricSums::default();
        for _ in 0..n {
            let indices = self.batcher.next_batch().to_vec();
            let x = data.batch(&indices, &self.device)?;
            let loss = self.model.loss(&x, &mut self.rng)?;
            let total = loss.total.to_scalar::<f32>()?;
            if !total.is_finite() {
                let failed_at = self.step + 1;
                let (good_step, good) = match self.before_rate_change.take() {
                    Some((at, weights)) if failed_at <= at + RATE_TRIAL_STEPS => (at, weights),
                    _ => (first_step, last_good),
                };
                self.model.copy_weights_from(&good)?;
                self.optimizer = FusedAdamW::new(self.model.trainable_vars(), self.config.adamw_params())?;
                self.step = good_step;
                return Err(TrainError::NonFinite { step: failed_at, learning_rate: self.config.learning_rate });
            }
            self.optimizer.backward_step(&loss.total)?;
            self.model.after_step(&loss, &mut self.rng)?;
            self.step += 1;
            sums.add(total, &loss)?;
            self.last_batch = Some(LastBatch {
                indices,
                epsilon: loss.epsilon.as_ref().map(|e| e.flatten_all()?.to_vec1()).transpose()?,
                codes: loss.assignments.as_ref().map(|(_, codes)| codes.clone()),
            });
        }
        // The new rate has proven itself: the copy from before it is no longer needed.
        if self.before_rate_change.as_ref().is_some_and(|(at, _)| self.step > at + RATE_TRIAL_STEPS) {
            self.before_rate_change = None;
        }
        let seconds = start.elapsed().as_secs_f64().max(1e-9);
        let mean = |s: f32| s / n.max(1) as f32;
        Ok(StepReport {
            step: self.step,
            epoch: self.batcher.epoch(),
            epoch_progress: self.batcher.epoch_progress(),
            steps: n,
            images_per_sec: (n * self.batcher.batch_size()) as f64 / seconds,
            loss: mean(sums.loss),
            recon: mean(sums.recon),
            kl: sums.kl_per_dim.as_ref().map(|v| mean(v.iter().sum())),
            kl_per_dim: sums.kl_per_dim.map(|v| v.into_iter().map(mean).collect()),
            codebook_loss: sums.codebook.map(mean),
            commitment_loss: sums.commitment.map(mean),
        })
    }

    /// Metrics over the first `limit` images of `data` (0 = all), in chunks; ε is drawn from a
    /// fixed seed so the result depends only on the weights.
    pub fn evaluate(&self, data: &Dataset, limit: usize) -> Result<EvalReport, TrainError> {
        evaluate(&self.model, data, limit)
    }
}

pub(crate) fn effective_len(config: &TrainConfig, train_len: usize) -> usize {
    if config.train_subset == 0 {
        train_len
    } else {
        config.train_subset.min(train_len)
    }
}

#[derive(Default)]
struct MetricSums {
    loss: f32,
    recon: f32,
    kl_per_dim: Option<Vec<f32>>,
    codebook: Option<f32>,
    commitment: Option<f32>,
}

impl MetricSums {
    /// Adds one batch, weighted by `weight` (1 per step in training, batch size in evaluation).
    fn add_weighted(&mut self, loss_value: f32, loss: &crate::model::Loss, weight: f32) -> candle_core::Result<()> {
        self.loss += weight * loss_value;
        self.recon += weight * loss.recon.to_scalar::<f32>()?;
        if let Some(kl) = &loss.kl_per_dim {
            let kl: Vec<f32> = kl.to_vec1()?;
            let acc = self.kl_per_dim.get_or_insert_with(|| vec![0.0; kl.len()]);
            acc.iter_mut().zip(kl).for_each(|(a, v)| *a += weight * v);
        }
        if let Some(t) = &loss.codebook {
            *self.codebook.get_or_insert(0.0) += weight * t.to_scalar::<f32>()?;
        }
        if let Some(t) = &loss.commitment {
            *self.commitment.get_or_insert(0.0) += weight * t.to_scalar::<f32>()?;
        }
        Ok(())
    }

    fn add(&mut self, loss_value: f32, loss: &crate::model::Loss) -> candle_core::Result<()> {
        self.add_weighted(loss_value, loss, 1.0)
    }
}

/// See [`Trainer::evaluate`].
pub fn evaluate(model: &Model, data: &Dataset, limit: usize) -> Result<EvalReport, TrainError> {
    let cfg = model.config();
    let images = if limit == 0 { data.len() } else { limit.min(data.len()) };
    let mut rng = StdRng::seed_from_u64(EVAL_SEED);
    let mut sums = MetricSums::default();
    let mut usage = vec![0u32; cfg.codebook_size];
    let mut mu_moments: Option<(Vec<f64>, Vec<f64>)> = None;
    let mut start = 0;
    while start < images {
        let end = (start + EVAL_CHUNK).min(images);
        let x = data.batch_range(start..end, model.device())?;
        let loss = model.loss(&x, &mut rng)?;
        let weight = (end - start) as f32;
        sums.add_weighted(loss.total.to_scalar::<f32>()?, &loss, weight)?;
        if let Some((_, codes)) = &loss.assignments {
            codes.iter().for_each(|&c| usage[c as usize] += 1);
        }
        if cfg.kind == ModelKind::Vae {
            accumulate_moments(&mut mu_moments, &model.encode(&x)?.mean)?;
        }
        start = end;
    }
    let mean = |s: f32| s / images.max(1) as f32;
    let kl_per_dim: Option<Vec<f32>> = sums.kl_per_dim.map(|v| v.into_iter().map(mean).collect());
    let kl = kl_per_dim.as_ref().map(|v| v.iter().sum::<f32>());
    let recon = mean(sums.recon);
    let is_vq = cfg.kind == ModelKind::Vqvae;
    Ok(EvalReport {
        images,
        loss: mean(sums.loss),
        neg_elbo: kl.map(|kl| recon + kl),
        recon,
        kl,
        kl_per_dim,
        active_units: mu_moments
            .map(|(s1, s2)| s1.iter().zip(&s2).filter(|(a, b)| **b / images as f64 - (**a / images as f64).powi(2) > 0.01).count()),
        codebook_loss: sums.codebook.map(mean),
        commitment_loss: sums.commitment.map(mean),
        codes_used: is_vq.then(|| usage.iter().filter(|&&u| u > 0).count()),
        perplexity: is_vq.then(|| perplexity(&usage)),
        code_usage: is_vq.then_some(usage),
    })
}

/// Running Σμ and Σμ² per dimension.
fn accumulate_moments(moments: &mut Option<(Vec<f64>, Vec<f64>)>, mu: &Tensor) -> candle_core::Result<()> {
    let rows: Vec<Vec<f32>> = mu.to_vec2()?;
    let d = rows.first().map_or(0, |r| r.len());
    let (s1, s2) = moments.get_or_insert_with(|| (vec![0.0; d], vec![0.0; d]));
    for row in rows {
        for (j, v) in row.into_iter().enumerate() {
            s1[j] += v as f64;
            s2[j] += (v as f64).powi(2);
        }
    }
    Ok(())
}
