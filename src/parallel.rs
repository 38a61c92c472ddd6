//! Data-parallel training: W replicas of one model take one optimizer step per global batch.
//!
//! The global batch of `N` images is cut into W contiguous shards of `n_w` images
//! (`Σ n_w = N`). Replica `w` computes, on its shard only,
//!
//! ```text
//! g_w = (n_w / N) · ∇ L_w        L_w = (1 / n_w) Σ_{i ∈ shard w} ℓ_i
//! Σ_w g_w = ∇ (1 / N) Σ_i ℓ_i                                  (the serial step's gradient)
//! ```
//!
//! so the summed [`Share`]s are exactly the gradient a single trainer takes for the whole batch.
//! Every replica adds the W shares in shard order and takes the same AdamW step, so all replicas
//! keep bit-identical weights and only gradients (never weights) travel between them.
//!
//! What else keeps replicas identical to a serial run:
//! - the VAE's ε: every replica draws the whole batch's `ε (N, d)` from the same seeded stream
//!   and uses its own rows;
//! - the VQ-VAE's EMA codebook update and dead-code restarts: each share carries its encoder
//!   outputs and code indices, and every replica updates from all of them, in shard order;
//! - data: replica `w` holds only its part of the training set ([`crate::data::Dataset::shard`])
//!   and draws its `n_w` images per step from it with its own seeded batch order.

use std::ops::Range;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use candle_nn::Optimizer;

use crate::data::{Batcher, Dataset};
use crate::model::blocks::standard_normal;
use crate::model::{Model, ModelKind};
use crate::train::{effective_len, TrainConfig, TrainError, Trainer};

/// Which part of every global batch a replica computes: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Rows of a global batch of `batch` images that this shard takes: contiguous, sizes that
    /// differ by at most one, the larger ones first.
    pub fn rows(&self, batch: usize) -> Range<usize> {
        let (base, extra) = (batch / self.count, batch % self.count);
        let start = self.index * base + self.index.min(extra);
        start..start + base + usize::from(self.index < extra)
    }
}

/// One replica's contribution to a step.
#[derive(Debug, Clone)]
pub struct Share {
    pub shard: Shard,
    /// `(n_w / N) · ∇ L_w` of every trainable parameter, concatenated in
    /// [`Model::trainable_vars`] order.
    pub gradient: Vec<f32>,
    /// Per trainable parameter: did the loss reach it? AdamW leaves a parameter without a
    /// gradient alone, which a zero gradient would not do.
    pub reached: Vec<bool>,
    /// The shard's loss terms weighted by `n_w / N`, so the shares add up to batch means.
    pub metrics: ShareMetrics,
    /// VQ-VAE: detached encoder outputs `(n_w·l, D)` row-major, and their code indices.
    pub assignments: Option<(Vec<f32>, Vec<u32>)>,
}

/// Loss terms per image in nats, weighted as in [`Share::metrics`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShareMetrics {
    pub loss: f32,
    pub recon: f32,
    pub kl_per_dim: Option<Vec<f32>>,
    pub codebook: Option<f32>,
    pub commitment: Option<f32>,
}

impl ShareMetrics {
    fn add(&mut self, other: &ShareMetrics) {
        self.loss += other.loss;
        self.recon += other.recon;
        if let Some(kl) = &other.kl_per_dim {
            let acc = self.kl_per_dim.get_or_insert_with(|| vec![0.0; kl.len()]);
            acc.iter_mut().zip(kl).for_each(|(a, v)| *a += v);
        }
        if let Some(v) = other.codebook {
            *self.codebook.get_or_insert(0.0) += v;
        }
        if let Some(v) = other.commitment {
            *self.commitment.get_or_insert(0.0) += v;
        }
    }
}

impl Trainer {
    /// A replica for shard `shard` of data-parallel training, over its part of the training set
    /// (`shard_len` images). Shard 0 of 1 is exactly [`Trainer::new`]: the same batches, ε and
    /// steps.
    pub fn replica(model: Model, config: TrainConfig, shard_len: usize, shard: Shard) -> Result<Self, TrainError> {
        if shard.count == 0 || shard.index >= shard.count || shard.count > config.batch_size {
            return Err(TrainError::Config(format!(
                "shard {} of {} does not split a batch of {} images",
                shard.index, shard.count, config.batch_size
            )));
        }
        let mut trainer = Trainer::new(model, config, shard_len)?;
        let batch = shard.rows(trainer.config.batch_size).len();
        let seed = trainer.config.seed.wrapping_add(shard.index as u64);
        trainer.batcher = Batcher::new(effective_len(&trainer.config, shard_len), batch, seed);
        Ok(trainer)
    }

    /// This replica's share of the next step: its next `n_w` images of `shard_data` (the shard
    /// it was made for) and its rows of the batch's ε.
    pub fn share(&mut self, shard_data: &Dataset, shard: Shard) -> Result<Share, TrainError> {
        let indices = self.batcher.next_batch().to_vec();
        let x = shard_data.batch(&indices, &self.device)?;
        let batch = self.config.batch_size;
        let rows = shard.rows(batch);
        let epsilon = match self.model.config().kind {
            ModelKind::Vae => {
                let all = standard_normal(&mut self.rng, (batch, self.model.config().latent_dim), &self.device)?;
                all.narrow(0, rows.start, rows.len())?
            }
            _ => Tensor::zeros((0, 0), candle_core::DType::F32, &self.device)?,
        };
        self.share_of(&x, epsilon, shard)
    }

    /// The share of shard `shard` for the given shard images `x (n_w, 784)` and, for the VAE,
    /// their `ε (n_w, d)`.
    pub fn share_of(&self, x: &Tensor, epsilon: Tensor, shard: Shard) -> Result<Share, TrainError> {
        let images = x.dim(0)?;
        let weight = images as f64 / self.config.batch_size as f64;
        let loss = self.model.loss_with_epsilon(x, epsilon)?;
        let grads = (&loss.total * weight)?.backward()?;
        let vars = self.model.trainable_vars();
        let mut gradient = Vec::with_capacity(vars.iter().map(|v| v.elem_count()).sum());
        let mut reached = Vec::with_capacity(vars.len());
        for var in &vars {
            match grads.get(var.as_tensor()) {
                Some(g) => gradient.extend(g.flatten_all()?.to_vec1::<f32>()?),
                None => gradient.extend(std::iter::repeat_n(0.0, var.elem_count())),
            }
            reached.push(grads.get(var.as_tensor()).is_some());
        }
        let scaled = |t: &Tensor| -> candle_core::Result<f32> { Ok(t.to_scalar::<f32>()? * weight as f32) };
        let metrics = ShareMetrics {
            loss: scaled(&loss.total)?,
            recon: scaled(&loss.recon)?,
            kl_per_dim: loss
                .kl_per_dim
                .as_ref()
                .map(|kl| kl.to_vec1::<f32>().map(|v| v.iter().map(|k| k * weight as f32).collect()))
                .transpose()?,
            codebook: loss.codebook.as_ref().map(scaled).transpose()?,
            commitment: loss.commitment.as_ref().map(scaled).transpose()?,
        };
        let assignments = match loss.assignments {
            Some((z_e, codes)) => Some((z_e.flatten_all()?.to_vec1::<f32>()?, codes)),
            None => None,
        };
        Ok(Share { shard, gradient, reached, metrics, assignments })
    }

    /// Takes one step from all W shares, given in shard order: the summed gradient through
    /// AdamW, then the VQ-VAE's codebook update from every shard's assignments. A non-finite
    /// loss or gradient refuses the step and leaves the weights as they were.
    pub fn apply_shares(&mut self, shares: &[Share]) -> Result<ShareMetrics, TrainError> {
        let vars = self.model.trainable_vars();
        let length: usize = vars.iter().map(|v| v.elem_count()).sum();
        for (i, share) in shares.iter().enumerate() {
            if share.shard.index != i
                || share.shard.count != shares.len()
                || share.gradient.len() != length
                || share.reached.len() != vars.len()
            {
                return Err(TrainError::Config(format!(
                    "share {i} of {} does not fit this model (shard {} of {}, {} gradient values for {length} parameters)",
                    shares.len(),
                    share.shard.index,
                    share.shard.count,
                    share.gradient.len()
                )));
            }
        }
        let mut metrics = ShareMetrics::default();
        let mut sum = vec![0f32; length];
        for share in shares {
            metrics.add(&share.metrics);
            sum.iter_mut().zip(&share.gradient).for_each(|(s, g)| *s += g);
        }
        if !metrics.loss.is_finite() || !sum.iter().all(|g| g.is_finite()) {
            return Err(TrainError::NonFinite { step: self.step + 1, learning_rate: self.config.learning_rate });
        }
        let grads = gradient_store(&vars, &sum, |i| shares.iter().any(|s| s.reached[i]))?;
        self.optimizer.step(&grads)?;
        if let Some(first) = shares[0].assignments.as_ref() {
            let d = first.0.len() / first.1.len().max(1);
            let z: Vec<f32> = shares.iter().flat_map(|s| s.assignments.iter().flat_map(|a| a.0.iter().copied())).collect();
            let codes: Vec<u32> = shares.iter().flat_map(|s| s.assignments.iter().flat_map(|a| a.1.iter().copied())).collect();
            let z_e = Tensor::from_vec(z, (codes.len(), d), &self.device)?;
            self.model.after_assignments(&z_e, &codes, &mut self.rng)?;
        }
        self.step += 1;
        self.last_batch = None;
        Ok(metrics)
    }
}

/// Gradients for `vars` cut out of the flat `values`, for the parameters `reached(i)` says had one.
fn gradient_store(vars: &[Var], values: &[f32], reached: impl Fn(usize) -> bool) -> Result<GradStore, TrainError> {
    let mut grads = GradStore::default();
    let mut at = 0;
    for (i, var) in vars.iter().enumerate() {
        let n = var.elem_count();
        if reached(i) {
            let g = Tensor::from_slice(&values[at..at + n], var.shape(), var.device())?;
            grads.insert(var.as_tensor(), g);
        }
        at += n;
    }
    Ok(grads)
}
