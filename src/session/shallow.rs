//! Shallow VQ on pixels ([`crate::shallow`]): k-means over the training images, held by the
//! session and run a chunk per call, scored on the test set beside the session's VQ-VAE.
//!
//! A run depends on the data only, not on the model: it survives a new or loaded model (so a
//! VQ-VAE checkpoint can be opened beside it) and goes with new data.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use web_time::Instant;

use super::replies::{KMeansProgress, ShallowReport, ShallowSamples, VqRow};
use super::{Result, Session, SessionError};
use crate::data::IMAGE_PIXELS;
use crate::model::ModelKind;
use crate::shallow::{self, KMeans, Stage, BERNOULLI_EPSILON};

/// The codebook sizes the page offers: 4 to 8 bits per image.
pub const SHALLOW_K: std::ops::RangeInclusive<usize> = 16..=256;
/// Lloyd iterations at most: on MNIST a few images still change centroid long after the
/// objective has flattened, so the cap, not a fixed point, usually ends a run and bounds its time.
pub const SHALLOW_MAX_ITERATIONS: usize = 50;
/// Test images shown with their centroids.
pub const SHALLOW_SHOWN: usize = 12;
/// Most samples one request draws.
pub const MAX_SHALLOW_SAMPLES: usize = 64;

/// A k-means run and the time spent in it.
pub struct ShallowState {
    kmeans: KMeans,
    seconds: f64,
}

fn request(msg: impl Into<String>) -> SessionError {
    SessionError::Request(msg.into())
}

impl Session {
    fn shallow_state(&self) -> Result<&ShallowState> {
        self.shallow.as_ref().ok_or_else(|| request("no shallow VQ yet: run k-means first"))
    }

    /// A new k-means run with K = `k` over the first `images` training images (0 = all), seeded
    /// from `seed`; it replaces any earlier run.
    pub fn start_kmeans(&mut self, k: usize, images: usize, seed: u64) -> Result<KMeansProgress> {
        if !SHALLOW_K.contains(&k) {
            return Err(request(format!("K must be from {} to {}, not {k}", SHALLOW_K.start(), SHALLOW_K.end())));
        }
        let train = self.train_set()?;
        let n = if images == 0 { train.len() } else { images.min(train.len()) };
        if n < k {
            return Err(request(format!("k-means with K = {k} needs at least {k} training images; there are {n}")));
        }
        let started = Instant::now();
        let kmeans = KMeans::new(&train.pixels()[..n * IMAGE_PIXELS], k, seed, SHALLOW_MAX_ITERATIONS, &self.device)?;
        self.shallow = Some(ShallowState { kmeans, seconds: started.elapsed().as_secs_f64() });
        Ok(self.kmeans_progress(None, None))
    }

    /// One chunk of the run: up to 16 k-means++ seeds or one Lloyd iteration.
    pub fn kmeans_step(&mut self) -> Result<KMeansProgress> {
        let state = self.shallow.as_mut().ok_or_else(|| request("start k-means before stepping it"))?;
        let started = Instant::now();
        let advance = state.kmeans.advance()?;
        state.seconds += started.elapsed().as_secs_f64();
        Ok(self.kmeans_progress(advance.objective, advance.changed))
    }

    fn kmeans_progress(&self, objective: Option<f64>, changed: Option<usize>) -> KMeansProgress {
        let state = self.shallow.as_ref().expect("a run exists");
        let km = &state.kmeans;
        let (stage, converged) = match km.stage() {
            Stage::Seeding { .. } => ("seeding", None),
            Stage::Lloyd { .. } => ("lloyd", None),
            Stage::Finished { converged } => ("finished", Some(converged)),
        };
        KMeansProgress {
            stage,
            codebook_size: km.k(),
            images: km.len(),
            seeds: km.seeds().len(),
            iterations: km.objectives().len(),
            max_iterations: km.max_iterations(),
            objective_per_image: objective.map(|j| j / km.len() as f64),
            changed,
            converged,
            seconds: state.seconds,
        }
    }

    /// Drops a run that has not finished (a finished one stays; so does nothing to cancel).
    pub fn cancel_kmeans(&mut self) {
        if self.shallow.as_ref().is_some_and(|s| !s.kmeans.is_finished()) {
            self.shallow = None;
        }
    }

    /// Whether a finished shallow VQ is in place.
    pub fn has_shallow(&self) -> bool {
        self.shallow.as_ref().is_some_and(|s| s.kmeans.is_finished())
    }

    fn finished_kmeans(&self) -> Result<&KMeans> {
        let km = &self.shallow_state()?.kmeans;
        if !km.is_finished() {
            return Err(request("k-means is still running"));
        }
        Ok(km)
    }

    /// The finished run scored on the whole test set, with the first `shown` test images (at
    /// most [`SHALLOW_SHOWN`]) and the session's VQ-VAE on the same images.
    pub fn shallow_report(&self, shown: usize) -> Result<ShallowReport> {
        let km = self.finished_kmeans()?;
        let test = self.test_set()?;
        let centroids = km.centroids();
        let (codes, distances) = shallow::nearest(test.pixels(), centroids, &self.device)?;
        let nll: Vec<f64> = codes
            .iter()
            .enumerate()
            .map(|(i, &z)| shallow::bernoulli_nll(test.image(i), &centroids[z as usize * IMAGE_PIXELS..(z as usize + 1) * IMAGE_PIXELS]))
            .collect();
        let n = test.len();
        let mut used = vec![false; km.k()];
        codes.iter().for_each(|&z| used[z as usize] = true);
        let shown = shown.min(SHALLOW_SHOWN).min(n);
        Ok(ShallowReport {
            codebook_size: km.k(),
            train_images: km.len(),
            iterations: km.objectives().len(),
            converged: matches!(km.stage(), Stage::Finished { converged: true }),
            train_objective_per_image: km.objectives().last().copied().unwrap_or(f64::NAN) / km.len() as f64,
            rate_bits: (km.k() as f64).log2(),
            test_images: n,
            test_nll_nats: nll.iter().sum::<f64>() / n as f64,
            epsilon: BERNOULLI_EPSILON as f64,
            test_squared_error: distances.iter().map(|&d| d as f64).sum::<f64>() / n as f64,
            codes_used: used.iter().filter(|&&u| u).count(),
            seconds: self.shallow_state()?.seconds,
            vq: self.vq_row()?,
            shown,
            centroids: centroids.to_vec(),
            shown_pixels: test.pixels()[..shown * IMAGE_PIXELS].to_vec(),
            shown_codes: codes[..shown].to_vec(),
            shown_nll: nll[..shown].iter().map(|&v| v as f32).collect(),
        })
    }

    /// The session's VQ-VAE on the whole test set, or None for another model.
    fn vq_row(&self) -> Result<Option<VqRow>> {
        let cfg = self.model().config();
        if cfg.kind != ModelKind::Vqvae {
            return Ok(None);
        }
        let eval = self.evaluate(0)?;
        Ok(Some(VqRow {
            codebook_size: cfg.codebook_size,
            codes_per_image: cfg.codes_per_image,
            code_dim: cfg.code_dim,
            rate_bits: cfg.codes_per_image as f64 * (cfg.codebook_size as f64).log2(),
            recon_nats: eval.recon as f64,
        }))
    }

    /// `count` shallow VQ-VAE samples with noise `sigma`, and as many uniform code grids decoded
    /// by the session's VQ-VAE (if it is one), both from `seed`.
    pub fn shallow_samples(&self, count: usize, sigma: f32, seed: u64) -> Result<ShallowSamples> {
        let km = self.finished_kmeans()?;
        if count == 0 || count > MAX_SHALLOW_SAMPLES {
            return Err(request(format!("draw from 1 to {MAX_SHALLOW_SAMPLES} samples, not {count}")));
        }
        if !(sigma.is_finite() && (0.0..=2.0).contains(&sigma)) {
            return Err(request(format!("σ must be from 0 to 2, not {sigma}")));
        }
        let (codes, pixels) = shallow::sample(km.centroids(), count, sigma, seed);
        let cfg = self.model().config();
        let (vq_codes, vq_pixels) = if cfg.kind == ModelKind::Vqvae {
            // Another stream than the shallow draws'.
            let mut rng = StdRng::seed_from_u64(!seed);
            let grids: Vec<u32> = (0..count * cfg.codes_per_image).map(|_| rng.random_range(0..cfg.codebook_size as u32)).collect();
            let images = self.model().decode_codes(&grids)?;
            (grids, images.flatten_all()?.to_vec1()?)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(ShallowSamples { count, sigma, codes, pixels, vq_codes, vq_pixels })
    }
}
