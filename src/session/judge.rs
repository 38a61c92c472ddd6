//! The judge of samples ([`crate::judge`]) held by the session: it scores decoded samples of
//! any kind, and tells which digit each tile of the decoded manifold shows.
//!
//! Sample kinds ([`SampleSource`]), each `count` images from `seed`:
//! - `test`: the first `count` test images (the reference row; no seed);
//! - `prior`: the model's own generation: `z ~ N(0, I)` decoded for an AE or VAE, uniformly
//!   drawn code grids decoded for a VQ-VAE;
//! - `gmm`: the [`JUDGE_GMM_COMPONENTS`]-component GMM fitted to the training codes
//!   ([`Session::fit_prior`]), sampled and decoded (AE or VAE);
//! - `learnedPrior`: grids drawn from a learned prior file made for this VQ-VAE, decoded;
//! - `shallow`: the shallow VQ-VAE of the lectures, made here from the data alone: k-means
//!   with K = [`JUDGE_SHALLOW_K`] over the first [`JUDGE_SHALLOW_IMAGES`] training images from
//!   `seed`, then z uniform and x = μ_z + σε with σ = [`JUDGE_SHALLOW_SIGMA`], clamped to the
//!   judge's [0, 1] (the model itself is the same for any checkpoint).
//!
//! [`Session::judge_checkpoint`] scores another model's samples without replacing this one:
//! the checkpoint's model borrows this session's data for the call and hands it back.

use std::rc::Rc;

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::replies::{JudgeInfo, JudgeRow, JudgedManifold};
use super::{check_grid, Result, Session, SessionError};
use crate::checkpoint;
use crate::data::IMAGE_PIXELS;
use crate::judge::{self, Judge};
use crate::latent::{self, Rect};
use crate::shallow::{self, KMeans};

/// Components of the GMM prior the judge samples (the GMM prior panel's default).
pub const JUDGE_GMM_COMPONENTS: usize = 10;
/// Most samples one row may score.
pub const MAX_JUDGED: usize = 10_000;
/// Samples of each row sent back to be shown beside its scores.
pub const JUDGE_EXAMPLES: usize = 10;
/// The shallow VQ-VAE the judge samples: K and the training images its k-means runs over (the
/// shallow VQ preset's), and σ (the shallow VQ panel's default: at the lecture's σ = 1 the
/// noise buries the centroid).
pub const JUDGE_SHALLOW_K: usize = 128;
pub const JUDGE_SHALLOW_IMAGES: usize = 10_000;
pub const JUDGE_SHALLOW_SIGMA: f32 = 0.1;

/// Which samples a row scores (see the module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleSource {
    Test,
    Prior,
    Gmm,
    LearnedPrior,
    Shallow,
}

impl SampleSource {
    /// The page's name of a source: `test`, `prior`, `gmm`, `learnedPrior` or `shallow`.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "test" => Self::Test,
            "prior" => Self::Prior,
            "gmm" => Self::Gmm,
            "learnedPrior" => Self::LearnedPrior,
            "shallow" => Self::Shallow,
            _ => return Err(request(format!("unknown kind of sample \"{name}\" (test, prior, gmm, learnedPrior or shallow)"))),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Prior => "prior",
            Self::Gmm => "gmm",
            Self::LearnedPrior => "learnedPrior",
            Self::Shallow => "shallow",
        }
    }
}

fn request(msg: impl Into<String>) -> SessionError {
    SessionError::Request(msg.into())
}

impl Session {
    /// Puts the judge from a judge file in place (it stays across new models and data).
    pub fn load_judge(&mut self, bytes: &[u8]) -> Result<JudgeInfo> {
        let file = judge::load(bytes, &self.device).map_err(request)?;
        let info = JudgeInfo { hidden: file.judge.config().hidden, step: file.step, test_accuracy: file.test_accuracy };
        self.judge = Some(Rc::new(file.judge));
        Ok(info)
    }

    pub fn has_judge(&self) -> bool {
        self.judge.is_some()
    }

    fn judge(&self) -> Result<&Judge> {
        self.judge.as_deref().ok_or_else(|| request("load the judge (the classifier) first"))
    }

    /// The judge's scores of any batch of images (N·784 values in [0, 1]).
    pub fn judge_images(&self, images: &[f32]) -> Result<judge::Scores> {
        if images.is_empty() || !images.len().is_multiple_of(IMAGE_PIXELS) {
            return Err(request(format!("expected whole images of {IMAGE_PIXELS} pixels, got {} values", images.len())));
        }
        Ok(self.judge()?.judge(images)?)
    }

    /// `count` images of kind `source` from `seed` (N·784 values in [0, 1]); `prior_file` is
    /// the learned prior for `learnedPrior`.
    pub fn sample_images(&self, source: SampleSource, count: usize, seed: u64, prior_file: Option<&[u8]>) -> Result<Vec<f32>> {
        if count == 0 || count > MAX_JUDGED {
            return Err(request(format!("a row scores 1 to {MAX_JUDGED} samples, got {count}")));
        }
        match source {
            SampleSource::Test => {
                let test = self.test_set()?;
                if count > test.len() {
                    return Err(request(format!("{count} test images asked for, there are {}", test.len())));
                }
                Ok(test.pixels()[..count * IMAGE_PIXELS].iter().map(|&p| p as f32 / 255.0).collect())
            }
            SampleSource::Prior => Ok(self.sample_prior(count, seed)?.1),
            SampleSource::Gmm => {
                let fit = self.fit_prior(JUDGE_GMM_COMPONENTS)?;
                let (_, draws) = fit.gmm.sample(count, &mut StdRng::seed_from_u64(seed));
                self.decode(&draws.iter().map(|&v| v as f32).collect::<Vec<f32>>())
            }
            SampleSource::LearnedPrior => {
                let bytes = prior_file.ok_or_else(|| request("samples from a learned prior need its file"))?;
                let prior = self.prior_for_this_vq(bytes)?.prior;
                self.decode_grids(&prior.sample(count, seed, None, 0)?)
            }
            SampleSource::Shallow => {
                let train = self.train_set()?;
                let n = JUDGE_SHALLOW_IMAGES.min(train.len());
                if n < JUDGE_SHALLOW_K {
                    return Err(request(format!("the shallow VQ-VAE needs {JUDGE_SHALLOW_K} training images; there are {n}")));
                }
                let mut kmeans =
                    KMeans::new(&train.pixels()[..n * IMAGE_PIXELS], JUDGE_SHALLOW_K, seed, super::SHALLOW_MAX_ITERATIONS, &self.device)?;
                kmeans.run()?;
                let (_, pixels) = shallow::sample(kmeans.centroids(), count, JUDGE_SHALLOW_SIGMA, seed);
                Ok(pixels.into_iter().map(|v| v.clamp(0.0, 1.0)).collect())
            }
        }
    }

    /// `count` samples of kind `source` from `seed`, judged; the first few come back to be shown.
    pub fn judge_samples(&self, source: SampleSource, count: usize, seed: u64, prior_file: Option<&[u8]>) -> Result<JudgeRow> {
        let images = self.sample_images(source, count, seed, prior_file)?;
        let judge = self.judge()?;
        let scores = judge.judge(&images)?;
        let shown = count.min(JUDGE_EXAMPLES) * IMAGE_PIXELS;
        let (example_classes, _) = judge.classify(&images[..shown])?;
        Ok(JudgeRow { source: source.name(), seed, scores, examples: images[..shown].to_vec(), example_classes })
    }

    /// [`Session::judge_samples`] of the model in `checkpoint` (with its learned prior file, if
    /// any) on this session's data; this session's model stays.
    pub fn judge_checkpoint(
        &mut self,
        checkpoint: &[u8],
        prior_file: Option<&[u8]>,
        source: SampleSource,
        count: usize,
        seed: u64,
    ) -> Result<JudgeRow> {
        let ckpt = checkpoint::load(checkpoint, &self.device)?;
        let mut other = Self::from_parts(ckpt.model, ckpt.train, ckpt.step, &self.device)?;
        other.judge = self.judge.clone();
        // Borrowed for the call: moved, not copied (60,000 images), and always moved back.
        other.train = self.train.take();
        other.test = self.test.take();
        let row = other.judge_samples(source, count, seed, prior_file);
        self.train = other.train.take();
        self.test = other.test.take();
        row
    }

    /// The decoded manifold over `rect` (`n × n` tiles, top row first) with the digit the
    /// judge sees in each tile and its probability.
    pub fn judge_manifold(&self, rect: Rect, n: usize) -> Result<JudgedManifold> {
        check_grid(n, n)?;
        let judge = self.judge()?;
        let pixels = self.decode(&self.plane.lift(&latent::grid(rect, n, n)))?;
        let (classes, confidence) = judge.classify(&pixels)?;
        Ok(JudgedManifold { n, pixels, classes, confidence })
    }
}
