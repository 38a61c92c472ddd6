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
//!
//! Replicas that share memory split the step instead ([`Trainer::apply_own_part`]): replica
//! `w` sums the W shares and runs AdamW only for its contiguous part `P_w` of the parameters
//! ([`Shard::parameters`], `⋃_w P_w` all of them), then takes every other part from its replica.
//! Each value is updated by exactly the operations of the whole step, so the weights are the
//! same bits; AdamW's moments of `P_w` live (current) in replica `w` only.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::ops::Range;

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::data::{Batcher, Dataset};
use crate::model::blocks::standard_normal;
use crate::model::linear::{self, with_f32_values};
use crate::model::{Model, ModelKind};
use crate::optim::overlap;
use crate::train::{effective_len, TrainConfig, TrainError, Trainer};

/// Which part of every global batch a replica computes: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Rows of a global batch of `batch` images that this shard takes: contiguous, sizes that
    /// differ by at most one, the larger ones first.
    pub fn rows(&self, batch: usize) -> Range<usize> {
        self.part_of(batch)
    }

    /// The parameters (of `len`, the trainable variables concatenated) this shard's replica
    /// updates when the replicas split the step ([`Trainer::apply_own_part`]).
    pub fn parameters(&self, len: usize) -> Range<usize> {
        self.part_of(len)
    }

    /// Part `index` of `count` of `0..total`: contiguous, sizes that differ by at most one, the
    /// larger ones first.
    fn part_of(&self, total: usize) -> Range<usize> {
        let (base, extra) = (total / self.count, total % self.count);
        let start = self.index * base + self.index.min(extra);
        start..start + base + usize::from(self.index < extra)
    }
}

/// The largest gradient value a [`Share::bounded`] share of `count` holds: W of them add up to
/// at most half of `f32::MAX`, with room for every rounding on the way.
fn bound(count: usize) -> f32 {
    f32::MAX / (2 * count.max(1)) as f32
}

/// One replica's contribution to a step. The page sends it between workers: `shard` and
/// `metrics` as a plain object, the arrays as typed arrays.
#[derive(Debug, Clone, Serialize)]
pub struct Share {
    pub shard: Shard,
    /// `(n_w / N) · ∇ L_w` of every trainable parameter, concatenated in
    /// [`Model::trainable_vars`] order; empty when `parts` holds it.
    #[serde(skip)]
    pub gradient: Vec<f32>,
    /// The same gradient as the backward pass left it, one part per trainable parameter, in
    /// place of `gradient`: how a replica keeps its own share, whose gradient is then copied
    /// once, straight to the page ([`Share::for_each_gradient_part`]), instead of into
    /// `gradient` first (a 3.2 MB copy per step).
    #[serde(skip)]
    pub parts: Option<Vec<GradientPart>>,
    /// Per trainable parameter: did the loss reach it? AdamW leaves a parameter without a
    /// gradient alone, which a zero gradient would not do.
    pub reached: Vec<bool>,
    /// The shard's loss terms weighted by `n_w / N`, so the shares add up to batch means.
    pub metrics: ShareMetrics,
    /// VQ-VAE: detached encoder outputs `(n_w·l, D)` row-major, and their code indices.
    #[serde(skip)]
    pub assignments: Option<(Vec<f32>, Vec<u32>)>,
    /// Every gradient value is finite and at most `f32::MAX / 2W` in size, so no sum of the W
    /// shares can overflow: then the replicas add them in the pass that takes the step
    /// ([`Trainer::apply_shares`]) instead of writing the sum out to check it first. The replica
    /// that makes a share says so; a step with a share that is not bounded goes the checked way.
    pub bounded: bool,
}

/// One trainable parameter's gradient in a [`Share::parts`].
#[derive(Debug, Clone)]
pub enum GradientPart {
    Tensor(Tensor),
    /// The loss did not reach the parameter: this many zeros.
    Zeros(usize),
}

impl GradientPart {
    fn len(&self) -> usize {
        match self {
            GradientPart::Tensor(t) => t.elem_count(),
            GradientPart::Zeros(n) => *n,
        }
    }

    /// Calls `f` with the part's values, read in place from the tensor's storage.
    fn with_values<R>(&self, f: impl FnOnce(&[f32]) -> R) -> candle_core::Result<R> {
        match self {
            GradientPart::Tensor(t) => with_f32_values(t, |values| Ok(f(values))),
            GradientPart::Zeros(n) => Ok(f(&vec![0.0; *n])),
        }
    }
}

/// Loss terms per image in nats, weighted as in [`Share::metrics`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShareMetrics {
    pub loss: f32,
    pub recon: f32,
    pub kl_per_dim: Option<Vec<f32>>,
    pub codebook: Option<f32>,
    pub commitment: Option<f32>,
}

impl ShareMetrics {
    pub fn add(&mut self, other: &ShareMetrics) {
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

/// The megabyte-sized vectors a replica would otherwise allocate every step: the gradient
/// buffer of its next share and the reduced whole-batch share.
#[derive(Debug, Default)]
pub(crate) struct ShareBuffers {
    gradient: Vec<f32>,
    whole: Option<Share>,
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
        self.next_share(shard_data, shard, false)
    }

    /// [`Trainer::share`] with its gradient kept in [`Share::parts`].
    pub fn share_in_parts(&mut self, shard_data: &Dataset, shard: Shard) -> Result<Share, TrainError> {
        self.next_share(shard_data, shard, true)
    }

    fn next_share(&mut self, shard_data: &Dataset, shard: Shard, in_parts: bool) -> Result<Share, TrainError> {
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
        let gradient = if in_parts { None } else { Some(std::mem::take(&mut self.share_buffers.gradient)) };
        self.share_into(&x, epsilon, shard, gradient)
    }

    /// Gives a share's gradient buffer back for the next [`Trainer::share`] to fill.
    pub fn recycle(&mut self, share: Share) {
        if share.parts.is_none() {
            self.share_buffers.gradient = share.gradient;
        }
    }

    /// The share of shard `shard` for the given shard images `x (n_w, 784)` and, for the VAE,
    /// their `ε (n_w, d)`.
    pub fn share_of(&self, x: &Tensor, epsilon: Tensor, shard: Shard) -> Result<Share, TrainError> {
        self.share_into(x, epsilon, shard, Some(Vec::new()))
    }

    /// [`Trainer::share_of`] with its gradient written into `gradient`'s allocation, or kept
    /// in parts when `gradient` is `None`.
    fn share_into(&self, x: &Tensor, epsilon: Tensor, shard: Shard, gradient: Option<Vec<f32>>) -> Result<Share, TrainError> {
        let images = x.dim(0)?;
        let weight = images as f64 / self.config.batch_size as f64;
        let loss = self.model.loss_with_epsilon(x, epsilon)?;
        let grads = linear::backward(&(&loss.total * weight)?)?;
        let vars = self.model.trainable_vars();
        let reached: Vec<bool> = vars.iter().map(|var| grads.get(var.as_tensor()).is_some()).collect();
        let (gradient, parts) = match gradient {
            Some(mut gradient) => {
                gradient.clear();
                gradient.reserve(vars.iter().map(|v| v.elem_count()).sum());
                for var in &vars {
                    match grads.get(var.as_tensor()) {
                        Some(g) => extend_flat(&mut gradient, g)?,
                        None => gradient.extend(std::iter::repeat_n(0.0, var.elem_count())),
                    }
                }
                (gradient, None)
            }
            None => {
                let part = |var: &candle_core::Var| match grads.get(var.as_tensor()) {
                    Some(g) => GradientPart::Tensor(g.clone()),
                    None => GradientPart::Zeros(var.elem_count()),
                };
                (Vec::new(), Some(vars.iter().map(part).collect::<Vec<_>>()))
            }
        };
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
        let mut share = Share { shard, gradient, parts, reached, metrics, assignments, bounded: false };
        share.bounded = share.values_bounded()?;
        Ok(share)
    }

    /// Takes one step from a whole-batch share ([`reduce`]d from all W): the gradient through
    /// AdamW, then the VQ-VAE's codebook update from every shard's assignments. Every replica
    /// applies the same reduced share, so all keep the same weights. A non-finite loss or
    /// gradient refuses the step and leaves the weights as they were.
    pub fn apply_share(&mut self, whole: &Share) -> Result<ShareMetrics, TrainError> {
        // Without an early exit the check is vectorized: a finite gradient is the usual case.
        let finite = whole.gradient.iter().fold(true, |all, g| all & g.is_finite());
        self.step_from(whole, finite)
    }

    /// [`Trainer::apply_share`] with the gradient's finiteness already known.
    fn step_from(&mut self, whole: &Share, finite: bool) -> Result<ShareMetrics, TrainError> {
        if whole.parts.is_some() {
            return Err(TrainError::Config("reduce the shares before applying them".into()));
        }
        self.check_step(whole, whole.gradient.len(), finite)?;
        self.optimizer.step_flat(&whole.gradient, &whole.reached)?;
        self.finish_step(whole)
    }

    /// Refuses a step of `length` gradient values summed into `whole` (its small fields) that
    /// does not fit this model or is not finite.
    fn check_step(&self, whole: &Share, length: usize, finite: bool) -> Result<(), TrainError> {
        let vars = self.model.trainable_vars();
        let expected: usize = vars.iter().map(|v| v.elem_count()).sum();
        if whole.shard != WHOLE || length != expected || whole.reached.len() != vars.len() {
            return Err(TrainError::Config(format!(
                "a share of shard {} of {} with {length} gradient values cannot update this model ({expected} parameters; reduce the shares first)",
                whole.shard.index, whole.shard.count,
            )));
        }
        if !whole.metrics.loss.is_finite() || !finite {
            return Err(TrainError::NonFinite { step: self.step + 1, learning_rate: self.config.learning_rate });
        }
        Ok(())
    }

    /// AdamW from bounded `shares` (see [`Share::bounded`]) on the parameters `run`, adding the
    /// shares in shard order in the same pass; `whole` holds their other fields, reduced. The
    /// share `kept` holds its gradient in parts, whole; the others' flat gradients hold values
    /// `origin..` (all of them, or only `run` when replicas split the step).
    fn step_summed<S: Borrow<Share>>(
        &mut self,
        shares: &[S],
        whole: &Share,
        run: Range<usize>,
        (kept, origin): (Option<usize>, usize),
    ) -> Result<(), TrainError> {
        let offsets = self.optimizer.offsets();
        let kept_parts = kept.map(|k| (k, shares[k].borrow().parts.as_deref().unwrap_or_default()));
        if kept_parts.is_some_and(|(_, parts)| parts.len() != offsets.len()) {
            return Err(TrainError::Config("a share's gradient parts do not match the model's parameters".into()));
        }
        self.optimizer.step_summed(&whole.reached, run, |i, within, apply| {
            let flat = offsets[i] + within.start - origin..offsets[i] + within.end - origin;
            match kept_parts {
                None => apply(&shares.iter().map(|s| &s.borrow().gradient[flat.clone()]).collect::<Vec<_>>()),
                Some((k, parts)) => parts[i].with_values(|own| {
                    let parts: Vec<&[f32]> = shares
                        .iter()
                        .enumerate()
                        .map(|(j, s)| if j == k { &own[within.clone()] } else { &s.borrow().gradient[flat.clone()] })
                        .collect();
                    apply(&parts)
                })?,
            }
        })?;
        Ok(())
    }

    /// When the replicas split the step (each updates only its part of the parameters and
    /// hands it to the others, so AdamW's pass over 0.8 M parameters is shared among them):
    /// AdamW on this replica's part (`shard.parameters`) from the step's `shares` in shard
    /// order, its own whole in parts, every other holding the gradient of that part only.
    /// Every share must be [`Share::bounded`]: replicas that each check only their part of the
    /// sum could not agree on refusing a step, so a step with an unbounded share is refused by
    /// all of them. [`Trainer::finish_split_step`] ends the step once the other parts are in.
    pub fn apply_own_part<S: Borrow<Share>>(&mut self, shares: &[S], shard: Shard) -> Result<Range<usize>, TrainError> {
        let length = self.optimizer.len();
        let part = shard.parameters(length);
        let kept = shares.iter().position(|s| s.borrow().parts.is_some());
        if kept != Some(shard.index) || shard.count != shares.len() {
            return Err(TrainError::Config("a split step needs every replica's share, this one's own kept in parts".into()));
        }
        for (i, share) in shares.iter().map(Borrow::borrow).enumerate() {
            let expected = if Some(i) == kept { length } else { part.len() };
            if share.shard.index != i || share.shard.count != shares.len() || share.gradient_len() != expected {
                return Err(TrainError::Config(format!(
                    "share {i} of {} does not fit a split step (shard {} of {}, {} gradient values where {expected} were expected)",
                    shares.len(),
                    share.shard.index,
                    share.shard.count,
                    share.gradient_len(),
                )));
            }
        }
        let mut whole = self.share_buffers.whole.take().unwrap_or_else(Share::empty);
        reduce_fields(shares, &mut whole);
        let bounded = shares.iter().all(|s| s.borrow().bounded);
        let result =
            self.check_step(&whole, length, bounded).and_then(|()| self.step_summed(shares, &whole, part.clone(), (kept, part.start)));
        self.share_buffers.whole = Some(whole);
        result.map(|()| part)
    }

    /// The number of trainable parameters, all variables together.
    pub fn parameter_count(&self) -> usize {
        self.optimizer.len()
    }

    /// Each trainable variable that the parameters `run` (of all of them concatenated) overlap,
    /// with the values `within` it and where those start, counted from `run.start`.
    fn parameter_runs(&self, run: &Range<usize>) -> Vec<(candle_core::Var, Range<usize>, usize)> {
        let mut start = 0;
        let mut runs = Vec::new();
        for var in self.model.trainable_vars() {
            let n = var.elem_count();
            let within = overlap(run, start, n);
            if !within.is_empty() {
                let at = start + within.start - run.start;
                runs.push((var, within, at));
            }
            start += n;
        }
        runs
    }

    /// Calls `f(at, values)` with the parameters `run` of the model (its trainable variables
    /// concatenated), a run of one variable at a time, `at` counted from `run.start`.
    pub fn for_each_parameter(&self, run: Range<usize>, mut f: impl FnMut(usize, &[f32])) -> Result<(), TrainError> {
        for (var, within, at) in self.parameter_runs(&run) {
            with_f32_values(var.as_tensor(), |values| {
                f(at, &values[within]);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Lets `f(at, values)` write the parameters `run` in place, as [`Trainer::for_each_parameter`]
    /// reads them: how another replica's part of a split step comes in.
    pub fn update_parameters(&mut self, run: Range<usize>, f: impl FnMut(usize, &mut [f32])) -> Result<(), TrainError> {
        if run.end > self.optimizer.len() {
            return Err(TrainError::Config(format!("parameters {run:?} of {}", self.optimizer.len())));
        }
        let write = RefCell::new(f);
        for (var, within, at) in self.parameter_runs(&run) {
            var.as_tensor().inplace_op1(&Write { within, at, write: &write })?;
        }
        Ok(())
    }

    /// Ends a split step once every part is in ([`Trainer::apply_own_part`]): the VQ-VAE's
    /// codebook update, the count, the step's metrics.
    pub fn finish_split_step(&mut self) -> Result<ShareMetrics, TrainError> {
        let whole = self.share_buffers.whole.take().ok_or_else(|| TrainError::Config("no split step to finish".into()))?;
        let result = self.finish_step(&whole);
        self.share_buffers.whole = Some(whole);
        result
    }

    /// After AdamW: the VQ-VAE's codebook update from every shard's assignments, the count.
    fn finish_step(&mut self, whole: &Share) -> Result<ShareMetrics, TrainError> {
        if let Some((z, codes)) = &whole.assignments {
            let z_e = Tensor::from_slice(z, (codes.len(), z.len() / codes.len().max(1)), &self.device)?;
            self.model.after_assignments(&z_e, codes, &mut self.rng)?;
        }
        self.step += 1;
        self.last_batch = None;
        Ok(whole.metrics.clone())
    }

    /// [`reduce`] then [`Trainer::apply_share`], reducing into the buffers of the last step and
    /// checking the sum in the same pass.
    ///
    /// When every share is [`Share::bounded`], their sum cannot overflow and is not written
    /// out: AdamW adds them as it goes (in Chromium the written sum took 0.28 ms of a two-worker
    /// step, and 3.2 MB of memory per replica).
    pub fn apply_shares<S: Borrow<Share>>(&mut self, shares: &[S]) -> Result<ShareMetrics, TrainError> {
        let mut whole = self.share_buffers.whole.take().unwrap_or_else(Share::empty);
        let result = if shares.iter().all(|s| s.borrow().bounded) {
            fitting(shares).and_then(|(length, kept)| {
                reduce_fields(shares, &mut whole);
                self.check_step(&whole, length, true)?;
                self.step_summed(shares, &whole, 0..length, (kept, 0))?;
                self.finish_step(&whole)
            })
        } else {
            reduce_checked(shares, &mut whole).and_then(|finite| self.step_from(&whole, finite))
        };
        self.share_buffers.whole = Some(whole);
        result
    }
}

impl Share {
    /// A share of the whole batch with nothing in it yet, for [`reduce_into`] to fill.
    fn empty() -> Self {
        Share {
            shard: WHOLE,
            gradient: Vec::new(),
            parts: None,
            reached: Vec::new(),
            metrics: ShareMetrics::default(),
            assignments: None,
            bounded: false,
        }
    }

    /// The number of gradient values, in `gradient` or in `parts`.
    pub fn gradient_len(&self) -> usize {
        self.parts.as_ref().map_or(self.gradient.len(), |parts| parts.iter().map(GradientPart::len).sum())
    }

    /// Calls `f(at, values)` for consecutive runs of the gradient that cover it in order: the
    /// whole of `gradient`, or each of the `parts` read in place.
    pub fn for_each_gradient_part<E: From<candle_core::Error>>(&self, mut f: impl FnMut(usize, &[f32]) -> Result<(), E>) -> Result<(), E> {
        let Some(parts) = &self.parts else { return f(0, &self.gradient) };
        let mut at = 0;
        for part in parts {
            part.with_values(|values| f(at, values))??;
            at += part.len();
        }
        Ok(())
    }

    /// Whether every gradient value is within the bound of [`Share::bounded`], read from the
    /// values (the flag itself is what the share's maker found).
    pub fn values_bounded(&self) -> candle_core::Result<bool> {
        let limit = bound(self.shard.count);
        // Without an early exit the test vectorizes; NaN fails it.
        let within = |values: &[f32]| values.iter().fold(true, |all, v| all & (v.abs() <= limit));
        let mut bounded = true;
        self.for_each_gradient_part(|_, values| {
            bounded &= within(values);
            Ok::<_, candle_core::Error>(())
        })?;
        Ok(bounded)
    }

    /// The gradient in `gradient`, copied out of `parts` if it is kept there.
    pub fn flatten(&mut self) -> candle_core::Result<()> {
        if let Some(parts) = self.parts.take() {
            let mut gradient = Vec::with_capacity(parts.iter().map(GradientPart::len).sum());
            for part in &parts {
                part.with_values(|values| gradient.extend_from_slice(values))?;
            }
            self.gradient = gradient;
        }
        Ok(())
    }
}

/// In place: lets `write(at, values)` overwrite the values `within` of a contiguous f32 tensor.
struct Write<'a, F> {
    within: Range<usize>,
    at: usize,
    write: &'a RefCell<F>,
}

impl<F: FnMut(usize, &mut [f32])> candle_core::InplaceOp1 for Write<'_, F> {
    fn name(&self) -> &'static str {
        "write-parameters"
    }

    fn cpu_fwd(&self, storage: &mut candle_core::CpuStorage, layout: &candle_core::Layout) -> candle_core::Result<()> {
        let (candle_core::CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets()) else {
            candle_core::bail!("write-parameters: contiguous f32 tensors only");
        };
        let Some(values) = data[start..end].get_mut(self.within.clone()) else {
            candle_core::bail!("write-parameters: values {:?} of {}", self.within, end - start);
        };
        (self.write.borrow_mut())(self.at, values);
        Ok(())
    }
}

/// The shard that is the whole batch: what [`reduce`] returns.
pub const WHOLE: Shard = Shard { index: 0, count: 1 };

/// All W shares of a step, given in shard order, as one share of the whole batch: gradients and
/// metrics summed in shard order (so every replica that reduces gets the same bits), the
/// assignments concatenated.
pub fn reduce(shares: &[Share]) -> Result<Share, TrainError> {
    let mut whole = Share::empty();
    reduce_into(shares, &mut whole)?;
    Ok(whole)
}

/// [`reduce`] into `whole`, reusing its vectors' allocations.
pub fn reduce_into<S: Borrow<Share>>(shares: &[S], whole: &mut Share) -> Result<(), TrainError> {
    reduce_checked(shares, whole).map(|_finite| ())
}

/// [`reduce_into`], also telling whether every value of the summed gradient is finite: the check
/// [`Trainer::apply_share`] makes, here in the pass that writes the sum (a separate pass over
/// the 3.2 MB gradient took 0.15 ms of every step in Chromium).
fn reduce_checked<S: Borrow<Share>>(shares: &[S], whole: &mut Share) -> Result<bool, TrainError> {
    let (length, kept) = fitting(shares)?;
    whole.gradient.resize(length, 0.0);
    let mut finite = true;
    match kept {
        None => {
            let parts: Vec<&[f32]> = shares.iter().map(|s| s.borrow().gradient.as_slice()).collect();
            finite = sum_checked(&mut whole.gradient, &parts);
        }
        Some(k) => shares[k].borrow().for_each_gradient_part(|at, own| -> Result<(), TrainError> {
            let end = at + own.len();
            let parts: Vec<&[f32]> =
                shares.iter().enumerate().map(|(i, s)| if i == k { own } else { &s.borrow().gradient[at..end] }).collect();
            finite &= sum_checked(&mut whole.gradient[at..end], &parts);
            Ok(())
        })?,
    }
    reduce_fields(shares, whole);
    Ok(finite)
}

/// The gradient length of `shares`, one share of each shard in order, and which of them keeps
/// its gradient in parts, if one does; or why they cannot be added up.
fn fitting<S: Borrow<Share>>(shares: &[S]) -> Result<(usize, Option<usize>), TrainError> {
    let Some(first) = shares.first().map(Borrow::borrow) else {
        return Err(TrainError::Config("no shares to reduce".into()));
    };
    let length = first.gradient_len();
    for (i, share) in shares.iter().map(Borrow::borrow).enumerate() {
        if share.shard.index != i
            || share.shard.count != shares.len()
            || share.gradient_len() != length
            || share.reached.len() != first.reached.len()
        {
            return Err(TrainError::Config(format!(
                "share {i} of {} does not fit (shard {} of {}, {} gradient values where the first has {length})",
                shares.len(),
                share.shard.index,
                share.shard.count,
                share.gradient_len(),
            )));
        }
    }
    // A replica's own share may keep its gradient in parts: the sum goes part by part, the
    // others' values taken at the same offsets. Only one share may do so.
    let kept: Vec<usize> = shares.iter().enumerate().filter(|(_, s)| (*s).borrow().parts.is_some()).map(|(i, _)| i).collect();
    if kept.len() > 1 {
        return Err(TrainError::Config(format!("{} shares keep their gradient in parts; at most one may", kept.len())));
    }
    Ok((length, kept.first().copied()))
}

/// Everything of `shares` but the gradient, reduced into `whole`: what each parameter got,
/// the metrics summed and the assignments concatenated, in shard order.
fn reduce_fields<S: Borrow<Share>>(shares: &[S], whole: &mut Share) {
    let Some(first) = shares.first().map(Borrow::borrow) else { return };
    whole.shard = WHOLE;
    whole.reached.clear();
    whole.reached.resize(first.reached.len(), false);
    whole.metrics = ShareMetrics::default();
    whole.assignments = None;
    for share in shares.iter().map(Borrow::borrow) {
        whole.reached.iter_mut().zip(&share.reached).for_each(|(r, s)| *r |= s);
        whole.metrics.add(&share.metrics);
        if let Some((z, codes)) = &share.assignments {
            let (all_z, all_codes) = whole.assignments.get_or_insert_with(Default::default);
            all_z.extend_from_slice(z);
            all_codes.extend_from_slice(codes);
        }
    }
}

/// `sum = parts[0] + parts[1] + …` in that order, telling whether every value of the sum is
/// finite.
fn sum_checked(sum: &mut [f32], parts: &[&[f32]]) -> bool {
    // g₀ + g₁ + … in shard order, the first two added in one pass, a lone share copied. Against
    // 0 + g₀ + … only a sum of −0 keeps its sign, alike in every replica, and one replica now
    // steps with exactly the serial trainer's gradient.
    let finite_sum = |sum: f32, all: bool| all & sum.is_finite();
    let mut finite = match parts {
        [] => true,
        [first] => sum.iter_mut().zip(*first).fold(true, |all, (s, a)| {
            *s = *a;
            finite_sum(*s, all)
        }),
        [first, second, ..] => sum.iter_mut().zip(*first).zip(*second).fold(true, |all, ((s, a), b)| {
            *s = a + b;
            finite_sum(*s, all)
        }),
    };
    for (k, part) in parts.iter().enumerate().skip(2) {
        let last = k + 1 == parts.len();
        finite = sum.iter_mut().zip(*part).fold(true, |all, (s, g)| {
            *s += g;
            // Only the final sum counts: a partial sum that overflows stays infinite anyway.
            !last || finite_sum(*s, all)
        });
    }
    finite
}

/// Appends the values of `t` in row-major order, copied once from its storage.
fn extend_flat(out: &mut Vec<f32>, t: &Tensor) -> candle_core::Result<()> {
    with_f32_values(t, |values| {
        out.extend_from_slice(values);
        Ok(())
    })
}
