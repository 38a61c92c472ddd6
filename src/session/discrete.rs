//! The discrete-latent questions: a Gaussian mixture fitted to the training codes and used as
//! a prior (an autoencoder's generation problem fixed without a KL term), and one test
//! image's quantization step by step (VQ-VAE).
//!
//! **GMM prior.** The codes `z_n = f(x_n) (N, d)` of the first [`PRIOR_FIT_IMAGES`] training
//! images are fitted by EM with K full-covariance components from k-means++ centroids
//! ([`crate::mixture`]). Samples are `c ~ Categorical(π)`, `z ~ N(μ_c, Σ_c)`, decoded. Its
//! components show on the view plane as the 1σ ellipses of `N(Aμ_c, A Σ_c Aᵀ)`. The fit is
//! memoised by model version and K, so a new sample seed only samples and decodes.

use std::rc::Rc;

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::encoding::CHUNK;
use super::replies::{GmmPrior, Quantization};
use super::{Result, Session, SessionError};
use crate::codes;
use crate::latent;
use crate::mixture::{self, Gmm};

/// Training images whose codes the GMM prior is fitted to: enough for 20 components in a few
/// dimensions, and encoded in a few tenths of a second in the page.
pub const PRIOR_FIT_IMAGES: usize = 10_000;
/// Components a GMM prior may have.
pub const PRIOR_COMPONENTS: std::ops::RangeInclusive<usize> = 1..=32;
/// Most samples one request decodes.
pub const MAX_PRIOR_SAMPLES: usize = 400;
/// EM stops once a step gains less than this many nats per code on average, or after
/// [`PRIOR_EM_STEPS`] steps: the ellipses no longer move visibly by then, and each step costs
/// K·N density evaluations in the worker.
const PRIOR_EM_TOLERANCE: f64 = 1e-4;
const PRIOR_EM_STEPS: usize = 200;
/// The k-means++ seed of the fit: fixed, so a new sample seed never changes the mixture.
const PRIOR_FIT_SEED: u64 = 0;

/// A fitted prior, memoised under the model version and K it was fitted at.
pub struct FittedPrior {
    pub version: u64,
    pub gmm: Gmm,
    pub fitted_to: usize,
    pub em_steps: usize,
    pub log_likelihood: f64,
    pub standard_normal_log_likelihood: f64,
}

impl Session {
    /// Codes `(n, d)` of the first `min(count, length)` training images.
    fn train_codes(&self, count: usize) -> Result<Vec<f32>> {
        let train = self.train_set()?;
        let n = count.min(train.len());
        let mut codes = Vec::with_capacity(n * self.latent_dim());
        for start in (0..n).step_by(CHUNK) {
            codes.extend(self.encode_tensor(&train.batch_range(start..(start + CHUNK).min(n), &self.device)?)?.mean);
        }
        Ok(codes)
    }

    /// The K-component mixture fitted to the training codes under the current weights (memoised).
    pub fn fit_prior(&self, k: usize) -> Result<Rc<FittedPrior>> {
        self.require_continuous("a GMM prior")?;
        if !PRIOR_COMPONENTS.contains(&k) {
            return Err(SessionError::Request(format!(
                "a GMM prior has {} to {} components, got {k}",
                PRIOR_COMPONENTS.start(),
                PRIOR_COMPONENTS.end()
            )));
        }
        if let Some(fit) = self.prior_memo.borrow().as_ref().filter(|f| f.version == self.version && f.gmm.components() == k) {
            return Ok(Rc::clone(fit));
        }
        let d = self.latent_dim();
        let codes: Vec<f64> = self.train_codes(PRIOR_FIT_IMAGES)?.iter().map(|&v| v as f64).collect();
        let n = codes.len() / d;
        if n < k {
            return Err(SessionError::Request(format!("{k} components need at least {k} training codes, there are {n}")));
        }
        let (gmm, history) = mixture::fit_from_kmeans_plus_plus(&codes, d, k, PRIOR_FIT_SEED, PRIOR_EM_STEPS, PRIOR_EM_TOLERANCE);
        let standard_normal = Gmm::new(d, vec![1.0], vec![0.0; d], (0..d * d).map(|i| if i % (d + 1) == 0 { 1.0 } else { 0.0 }).collect())
            .map_err(SessionError::Request)?;
        let fit = Rc::new(FittedPrior {
            version: self.version,
            fitted_to: n,
            em_steps: history.len() - 1,
            log_likelihood: history.last().copied().unwrap_or(f64::NAN) / n as f64,
            standard_normal_log_likelihood: standard_normal.log_likelihood(&codes) / n as f64,
            gmm,
        });
        *self.prior_memo.borrow_mut() = Some(Rc::clone(&fit));
        Ok(fit)
    }

    /// The K-component GMM prior (see [`Session::fit_prior`]), its components on the view
    /// plane, and `count` samples from it drawn with `seed`, decoded.
    pub fn gmm_prior(&self, k: usize, count: usize, seed: u64) -> Result<GmmPrior> {
        if count > MAX_PRIOR_SAMPLES {
            return Err(SessionError::Request(format!("at most {MAX_PRIOR_SAMPLES} samples at once, got {count}")));
        }
        let fit = self.fit_prior(k)?;
        let d = fit.gmm.dim;
        let (components, draws) = fit.gmm.sample(count, &mut StdRng::seed_from_u64(seed));
        let samples: Vec<f32> = draws.iter().map(|&v| v as f32).collect();
        let means: Vec<f32> = fit.gmm.means.iter().map(|&v| v as f32).collect();
        Ok(GmmPrior {
            k,
            dim: d,
            fitted_to: fit.fitted_to,
            em_steps: fit.em_steps,
            log_likelihood: fit.log_likelihood,
            standard_normal_log_likelihood: fit.standard_normal_log_likelihood,
            weights: fit.gmm.weights.clone(),
            ellipses: fit
                .gmm
                .covariances
                .chunks_exact(d * d)
                .map(|cov| latent::projected_covariance_ellipse(cov, &self.plane.axes))
                .collect(),
            seed,
            count,
            means_plane: self.plane.project(&means),
            components,
            samples_plane: self.plane.project(&samples),
            pixels: if count == 0 { Vec::new() } else { self.decode(&samples)? },
            samples,
        })
    }

    /// Test image `index` quantized step by step (VQ-VAE only): for each of its l encoder
    /// outputs, the distance to every code, the nearest code, `z_q` and `e − z_e`, and the
    /// decoder's image of `z_q`.
    pub fn quantization(&self, index: usize) -> Result<Quantization> {
        let codebook = self.codebook()?;
        let cfg = self.model().config();
        let (k, d) = (cfg.codebook_size, cfg.code_dim);
        let z_e = self.encode_test_images(&[index])?.mean;
        let distances = codes::distances(&z_e, &codebook, d);
        let nearest = codes::argmin_rows(&distances, k);
        let z_q: Vec<f32> = nearest.iter().flat_map(|&c| codebook[c as usize * d..(c as usize + 1) * d].iter().copied()).collect();
        Ok(Quantization {
            index,
            label: self.label(index)?,
            codebook_size: k,
            code_dim: d,
            positions: cfg.codes_per_image,
            image: self.test_image(index)?,
            offset: z_q.iter().zip(&z_e).map(|(q, e)| q - e).collect(),
            decoded: self.decode(&z_q)?,
            z_e,
            distances,
            nearest,
            z_q,
        })
    }
}
