//! The session as one of W data-parallel replicas ([`crate::parallel`]): the page's training
//! worker is replica 0 and keeps the views' data; helper workers are replicas made from its
//! checkpoint and their shard of the training set. Per step every replica computes a
//! [`Share`], sends it to all the others, and reduces and applies all W of them at the same
//! time as they do, so all hold the same weights. Replicas that share memory split the update:
//! each applies its part of the parameters ([`Session::apply_own_part`]) and takes the others'
//! ([`Session::take_parts`]).

use std::ops::Range;

use web_time::Instant;

use super::{Result, Session, SessionError};
use crate::checkpoint;
use crate::data::Dataset;
use crate::parallel::{Shard, Share, ShareMetrics};
use crate::train::{StepReport, TrainError, Trainer};

/// What a session needs while it is a replica.
pub(super) struct Parallel {
    shard: Shard,
    /// This replica's part of the training set.
    data: Dataset,
    /// This replica's share of the current step, kept for [`Session::apply_shares`] while the
    /// page sends a copy to the others; after the step its buffer goes back to the trainer.
    own: Option<Share>,
    /// Metrics of the steps since the last [`Session::parallel_report`].
    sums: ShareMetrics,
    steps: usize,
    since: Instant,
}

impl Parallel {
    fn new(shard: Shard, data: Dataset) -> Self {
        Self { shard, data, own: None, sums: ShareMetrics::default(), steps: 0, since: Instant::now() }
    }
}

impl Session {
    /// Makes this session replica 0 of `count`, on its shard of the training set, and returns
    /// the checkpoint the other replicas start from. The weights and step stay; the optimizer
    /// starts fresh, as it does in the other replicas.
    pub fn start_parallel(&mut self, count: usize) -> Result<Vec<u8>> {
        let shard = Shard { index: 0, count };
        let data = self.train_shard(shard)?;
        let bytes = self.save()?;
        self.trainer = replica_trainer(&bytes, &self.device, data.len(), shard)?;
        self.parallel = Some(Parallel::new(shard, data));
        Ok(bytes)
    }

    /// Back to training alone on the whole training set (the weights and step stay, the
    /// optimizer starts fresh); a no-op when this session is not a replica.
    pub fn stop_parallel(&mut self) -> Result<()> {
        if self.parallel.take().is_some() {
            let ckpt = checkpoint::load(&self.save()?, &self.device)?;
            let mut trainer = Trainer::new(ckpt.model, ckpt.train, self.train_set()?.len())?;
            trainer.set_step(ckpt.step);
            self.trainer = trainer;
        }
        Ok(())
    }

    pub fn is_parallel(&self) -> bool {
        self.parallel.is_some()
    }

    /// Shard `shard` of the training set (of its quick subset, if one is set): the images a
    /// replica holds.
    pub fn train_shard(&self, shard: Shard) -> Result<Dataset> {
        if shard.count == 0 || shard.index >= shard.count {
            return Err(SessionError::Request(format!("there is no shard {} of {}", shard.index, shard.count)));
        }
        // The quick subset is the first images of the whole set: the shards split it.
        let subset = self.trainer.config().train_subset;
        let train = self.train_set()?;
        let taken;
        let data = if subset > 0 && subset < train.len() {
            taken = train.take(subset);
            &taken
        } else {
            train
        };
        Ok(data.shard(shard.index, shard.count)?)
    }

    /// A helper worker's replica: replica 0's checkpoint and this shard's images.
    pub fn replica(checkpoint_bytes: &[u8], data: Dataset, shard: Shard) -> Result<Session> {
        let device = candle_core::Device::Cpu;
        let mut session = Session::with_trainer(replica_trainer(checkpoint_bytes, &device, data.len(), shard)?, &device);
        session.parallel = Some(Parallel::new(shard, data));
        Ok(session)
    }

    fn replica_state(&mut self) -> Result<&mut Parallel> {
        self.parallel.as_mut().ok_or_else(not_a_replica)
    }

    /// This replica's share of the next step, for the other replicas; it keeps its own copy.
    pub fn share(&mut self) -> Result<&Share> {
        let parallel = self.parallel.as_mut().ok_or_else(not_a_replica)?;
        let share = self.trainer.share_in_parts(&parallel.data, parallel.shard)?;
        Ok(parallel.own.insert(share))
    }

    /// Every replica, once per step: its own share (from [`Session::share`]) and the other
    /// W − 1 replicas' shares, in any order, reduced in shard order (so every replica gets the
    /// same bits) and applied.
    pub fn apply_shares(&mut self, others: &[Share]) -> Result<()> {
        let parallel = self.replica_state()?;
        let own = parallel.own.take().ok_or_else(|| SessionError::Request("apply_shares before share".into()))?;
        let mut shares: Vec<&Share> = others.iter().chain([&own]).collect();
        shares.sort_by_key(|s| s.shard.index);
        let result = self.trainer.apply_shares(&shares);
        self.trainer.recycle(own);
        self.count_step(result)
    }

    /// After a step was taken (or refused): the weights changed, and its metrics count.
    fn count_step(&mut self, result: std::result::Result<ShareMetrics, TrainError>) -> Result<()> {
        self.changed();
        let metrics = result?;
        let parallel = self.replica_state()?;
        parallel.sums.add(&metrics);
        parallel.steps += 1;
        Ok(())
    }

    /// When the replicas split the step: AdamW on this replica's part of the parameters, from
    /// its own share and the other W − 1 (any order), whose gradients hold only that part.
    /// Returns the part (of the trainable variables concatenated); [`Session::take_parts`]
    /// brings in the others' parts and ends the step.
    pub fn apply_own_part(&mut self, others: &[Share]) -> Result<Range<usize>> {
        let parallel = self.replica_state()?;
        let shard = parallel.shard;
        let own = parallel.own.take().ok_or_else(|| SessionError::Request("apply_own_part before share".into()))?;
        let mut shares: Vec<&Share> = others.iter().chain([&own]).collect();
        shares.sort_by_key(|s| s.shard.index);
        let result = self.trainer.apply_own_part(&shares, shard);
        self.trainer.recycle(own);
        Ok(result?)
    }

    /// The number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.trainer.parameter_count()
    }

    /// The part of the parameters this replica updates when the replicas split the step.
    pub fn own_part(&self) -> Result<Range<usize>> {
        let shard = self.parallel.as_ref().ok_or_else(not_a_replica)?.shard;
        Ok(shard.parameters(self.trainer.parameter_count()))
    }

    /// Calls `f(at, values)` with the parameters `run`, a variable's run at a time.
    pub fn for_each_parameter(&self, run: Range<usize>, f: impl FnMut(usize, &[f32])) -> Result<()> {
        Ok(self.trainer.for_each_parameter(run, f)?)
    }

    /// The other replicas' parts of a split step: `write(k, at, values)` fills values `at..` of
    /// `parts[k]`'s part (of shard `parts[k]`) in place; then the step ends as
    /// [`Session::apply_shares`] ends it.
    pub fn take_parts(&mut self, parts: &[Shard], mut write: impl FnMut(usize, usize, &mut [f32])) -> Result<()> {
        let count = self.trainer.parameter_count();
        let mut result = Ok(());
        for (k, shard) in parts.iter().enumerate() {
            result = result.and_then(|()| self.trainer.update_parameters(shard.parameters(count), |at, values| write(k, at, values)));
        }
        let result = result.and_then(|()| self.trainer.finish_split_step());
        self.count_step(result)
    }

    /// Mean metrics and images per second of the steps since the last report, as
    /// [`Session::train_steps`] reports a chunk.
    pub fn parallel_report(&mut self) -> Result<StepReport> {
        let batch = self.trainer.config().batch_size;
        let (step, epoch, progress) = (self.trainer.step(), self.trainer.epoch(), self.trainer.epoch_progress());
        let parallel = self.replica_state()?;
        let n = parallel.steps.max(1) as f32;
        let seconds = parallel.since.elapsed().as_secs_f64().max(1e-9);
        let sums = std::mem::take(&mut parallel.sums);
        let report = StepReport {
            step,
            epoch,
            epoch_progress: progress,
            steps: parallel.steps,
            images_per_sec: (parallel.steps * batch) as f64 / seconds,
            loss: sums.loss / n,
            recon: sums.recon / n,
            kl: sums.kl_per_dim.as_ref().map(|v| v.iter().sum::<f32>() / n),
            kl_per_dim: sums.kl_per_dim.map(|v| v.into_iter().map(|k| k / n).collect()),
            codebook_loss: sums.codebook.map(|v| v / n),
            commitment_loss: sums.commitment.map(|v| v / n),
        };
        parallel.steps = 0;
        parallel.since = Instant::now();
        Ok(report)
    }
}

fn not_a_replica() -> SessionError {
    SessionError::Request("this session is not a data-parallel replica".into())
}

/// The trainer every replica builds the same way, from the same checkpoint bytes.
fn replica_trainer(bytes: &[u8], device: &candle_core::Device, shard_len: usize, shard: Shard) -> Result<Trainer> {
    let ckpt = checkpoint::load(bytes, device)?;
    let mut trainer = Trainer::replica(ckpt.model, ckpt.train, shard_len, shard)?;
    trainer.set_step(ckpt.step);
    Ok(trainer)
}
