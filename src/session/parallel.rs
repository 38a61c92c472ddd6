//! The session as one of W data-parallel replicas ([`crate::parallel`]): the page's training
//! worker is replica 0 and keeps the views' data; helper workers are replicas made from its
//! checkpoint and their shard of the training set. Per step every replica computes a
//! [`Share`]; replica 0 reduces them, applies the whole-batch share and sends it to the others,
//! which apply the same one, so all hold the same weights.

use web_time::Instant;

use super::{Result, Session, SessionError};
use crate::checkpoint;
use crate::data::Dataset;
use crate::parallel::{reduce, Shard, Share, ShareMetrics};
use crate::train::{StepReport, Trainer};

/// What a session needs while it is a replica.
pub(super) struct Parallel {
    shard: Shard,
    /// This replica's part of the training set.
    data: Dataset,
    /// Metrics of the steps since the last [`Session::parallel_report`].
    sums: ShareMetrics,
    steps: usize,
    since: Instant,
}

impl Parallel {
    fn new(shard: Shard, data: Dataset) -> Self {
        Self { shard, data, sums: ShareMetrics::default(), steps: 0, since: Instant::now() }
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
        self.parallel.as_mut().ok_or_else(|| SessionError::Request("this session is not a data-parallel replica".into()))
    }

    /// This replica's share of the next step.
    pub fn share(&mut self) -> Result<Share> {
        let parallel = self.parallel.as_ref().ok_or_else(|| SessionError::Request("this session is not a data-parallel replica".into()))?;
        Ok(self.trainer.share(&parallel.data, parallel.shard)?)
    }

    /// Replica 0: reduces all W shares, applies the whole-batch share and returns it for the
    /// other replicas.
    pub fn apply_shares(&mut self, shares: &[Share]) -> Result<Share> {
        let whole = reduce(shares)?;
        self.apply_whole(&whole)?;
        Ok(whole)
    }

    /// Applies a whole-batch share (from [`Session::apply_shares`]).
    pub fn apply_whole(&mut self, whole: &Share) -> Result<()> {
        self.replica_state()?;
        let result = self.trainer.apply_share(whole);
        self.changed();
        let metrics = result?;
        let parallel = self.replica_state()?;
        parallel.sums.add(&metrics);
        parallel.steps += 1;
        Ok(())
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

/// The trainer every replica builds the same way, from the same checkpoint bytes.
fn replica_trainer(bytes: &[u8], device: &candle_core::Device, shard_len: usize, shard: Shard) -> Result<Trainer> {
    let ckpt = checkpoint::load(bytes, device)?;
    let mut trainer = Trainer::replica(ckpt.model, ckpt.train, shard_len, shard)?;
    trainer.set_step(ckpt.step);
    Ok(trainer)
}
