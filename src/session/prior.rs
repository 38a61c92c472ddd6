//! The learned prior over the VQ-VAE's code grids ([`crate::prior`]), held by the session.
//!
//! The prior models the codes of one frozen VQ-VAE: it is fitted to the codes of every
//! training image, encoded once when the prior starts, and scored on the test set's codes.
//! Any change of the VQ-VAE's weights or of the data drops it (see `Session::changed`), so
//! no answer ever mixes a prior with codes it was not trained on.

use candle_core::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use web_time::Instant;

use super::encoding::CHUNK;
use super::replies::{Completion, PriorReport, PriorSamples};
use super::{Result, Session, SessionError};
use crate::model::ModelKind;
use crate::prior::{self, Prior, PriorConfig, PriorFile, PriorStep, PriorTrainer, Unigram};

/// A prior in training, with the codes it learns from and is scored on.
pub struct PriorState {
    trainer: PriorTrainer,
    /// `(N_train, l)` and `(N_test, l)` code grids of the frozen VQ-VAE.
    train_codes: Vec<u32>,
    test_codes: Vec<u32>,
    unigram_bits: f64,
    /// [`prior::fingerprint`] of the VQ-VAE.
    vq: String,
    /// Time spent in [`Session::train_prior`] since the prior started (not loading or encoding).
    train_seconds: f64,
}

fn request(msg: impl Into<String>) -> SessionError {
    SessionError::Request(msg.into())
}

impl Session {
    fn prior_state(&self) -> Result<&PriorState> {
        self.prior.as_ref().ok_or_else(|| request("there is no learned prior for this model yet: train one or load one"))
    }

    /// K and l of the VQ-VAE, or an error for another model.
    fn grid_shape(&self) -> Result<(usize, usize)> {
        let cfg = self.model().config();
        if cfg.kind != ModelKind::Vqvae {
            return Err(request("a learned prior over codes needs a VQ-VAE"));
        }
        Ok((cfg.codebook_size, cfg.codes_per_image))
    }

    /// The nearest-code grids of every training image, `(N, l)`, encoded in chunks.
    fn training_codes(&self) -> Result<Vec<u32>> {
        let train = self.train_set()?;
        let mut codes = Vec::with_capacity(train.len() * self.model().config().codes_per_image);
        for start in (0..train.len()).step_by(CHUNK) {
            let x = train.batch_range(start..(start + CHUNK).min(train.len()), &self.device)?;
            let part = self.model().encode(&x)?.codes.expect("a VQ-VAE assigns codes");
            codes.extend(part.flatten_all()?.to_vec1::<u32>()?);
        }
        Ok(codes)
    }

    /// Puts `prior` (at `step`) in place with the codes it needs: the training set's, encoded
    /// now, and the test set's (memoised).
    fn install_prior(&mut self, prior: Prior, step: u64) -> Result<PriorReport> {
        let (k, l) = self.grid_shape()?;
        let train_codes = self.training_codes()?;
        let test_codes = self.test_codes(self.test_len())?.codes.clone().expect("a VQ-VAE assigns codes");
        let trainer = PriorTrainer::new(prior, train_codes.len() / l, step)?;
        let unigram_bits = Unigram::fit(&train_codes, k, l).mean_nll_bits(&test_codes);
        let vq = prior::fingerprint(&self.model().weights()?)?;
        self.prior = Some(PriorState { trainer, train_codes, test_codes, unigram_bits, vq, train_seconds: 0.0 });
        self.prior_report()
    }

    /// A new, untrained prior (weights from `seed`) over the current VQ-VAE's codes.
    pub fn start_prior(&mut self, seed: u64) -> Result<PriorReport> {
        let (k, l) = self.grid_shape()?;
        self.train_set()?;
        let config = PriorConfig { seed, ..PriorConfig::for_grid(k, l) };
        let prior = Prior::new(&config, &self.device).map_err(request)?;
        self.install_prior(prior, 0)
    }

    /// `n` optimizer steps of the prior.
    pub fn train_prior(&mut self, n: usize) -> Result<PriorStep> {
        let state = self.prior.as_mut().ok_or_else(|| request("start a prior before training it"))?;
        let started = Instant::now();
        let step = state.trainer.train_steps(&state.train_codes, n)?;
        state.train_seconds += started.elapsed().as_secs_f64();
        Ok(step)
    }

    /// The prior's test-set NLL beside the uniform and per-position unigram baselines.
    pub fn prior_report(&self) -> Result<PriorReport> {
        let state = self.prior_state()?;
        let cfg = state.trainer.prior().config();
        let (k, l) = (cfg.codebook_size, cfg.positions);
        Ok(PriorReport {
            step: state.trainer.step(),
            codebook_size: k,
            positions: l,
            hidden: cfg.hidden,
            parameters: cfg.parameter_count(),
            train_grids: state.train_codes.len() / l,
            test_grids: state.test_codes.len() / l,
            steps_per_epoch: state.trainer.steps_per_epoch(),
            test_nll_bits: state.trainer.prior().mean_nll_bits(&state.test_codes)?,
            uniform_bits: prior::uniform_bits(k, l),
            unigram_bits: state.unigram_bits,
            train_seconds: state.train_seconds,
        })
    }

    /// `count` grids from the learned prior and `count` drawn uniformly, both from `seed`, decoded.
    pub fn prior_samples(&self, count: usize, seed: u64) -> Result<PriorSamples> {
        let state = self.prior_state()?;
        let (k, l) = self.grid_shape()?;
        let codes = state.trainer.prior().sample(count, seed, None, 0)?;
        // The uniform grids come from another stream than the prior's draws.
        let mut rng = StdRng::seed_from_u64(!seed);
        let uniform_codes: Vec<u32> = (0..count * l).map(|_| rng.random_range(0..k as u32)).collect();
        Ok(PriorSamples {
            count,
            pixels: self.decode_grids(&codes)?,
            uniform_pixels: self.decode_grids(&uniform_codes)?,
            codes,
            uniform_codes,
        })
    }

    /// `count` completions of `grid` (l codes): its first `keep` positions kept, the later ones
    /// drawn in raster order from the prior (from `seed`), decoded.
    pub fn complete_codes(&self, grid: &[u32], keep: usize, count: usize, seed: u64) -> Result<Completion> {
        let state = self.prior_state()?;
        let (k, l) = self.grid_shape()?;
        if grid.len() != l || keep > l || grid.iter().any(|&c| c as usize >= k) {
            return Err(request(format!("a grid to complete has {l} codes below {k} and keeps at most {l} of them")));
        }
        let codes = state.trainer.prior().sample(count, seed, Some(grid), keep)?;
        Ok(Completion { keep, count, pixels: self.decode_grids(&codes)?, codes })
    }

    pub(super) fn decode_grids(&self, codes: &[u32]) -> Result<Vec<f32>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let images: Tensor = self.model().decode_codes(codes).map_err(|e| request(e.to_string()))?;
        Ok(images.flatten_all()?.to_vec1()?)
    }

    /// The prior as a file (safetensors bytes) tied to this VQ-VAE.
    pub fn save_prior(&self) -> Result<Vec<u8>> {
        let state = self.prior_state()?;
        Ok(prior::save(state.trainer.prior(), state.trainer.step(), &state.vq)?)
    }

    /// A prior saved for exactly this VQ-VAE (same weights); on error nothing changes.
    pub fn load_prior(&mut self, bytes: &[u8]) -> Result<PriorReport> {
        let file = self.prior_for_this_vq(bytes)?;
        self.install_prior(file.prior, file.step)
    }

    /// A prior file read and checked to belong to exactly this VQ-VAE (same K, l and weights).
    pub(super) fn prior_for_this_vq(&self, bytes: &[u8]) -> Result<PriorFile> {
        let (k, l) = self.grid_shape()?;
        let file = prior::load(bytes, &self.device).map_err(request)?;
        let cfg = file.prior.config();
        if (cfg.codebook_size, cfg.positions) != (k, l) {
            return Err(request(format!(
                "this prior models l = {} positions of K = {} codes; the VQ-VAE has l = {l}, K = {k}",
                cfg.positions, cfg.codebook_size
            )));
        }
        if file.vq != prior::fingerprint(&self.model().weights()?)? {
            return Err(request("this prior was trained on another VQ-VAE's codes (its weights differ from the loaded model's)"));
        }
        Ok(file)
    }

    /// Whether a learned prior is in place (it is dropped whenever the VQ-VAE or data change).
    pub fn has_prior(&self) -> bool {
        self.prior.is_some()
    }
}
