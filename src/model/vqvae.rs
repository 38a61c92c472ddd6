//! Vector-quantized VAE.
//!
//! The encoder output `z_e (B, l·D)` is read as `l` vectors of dimension `D`; each is replaced
//! by its nearest codebook vector `e_k` of the codebook `E (K, D)`:
//!
//! ```text
//! k* = argmin_j ‖z_e − e_j‖₂        z_q = e_{k*}
//! loss = −log p(x | z_q)  +  w·‖sg[z_e] − e‖²  +  w·β_c ‖z_e − sg[e]‖²     w = 784 / (l·D)
//!        reconstruction        codebook loss         commitment loss
//! ```
//!
//! argmin has no useful gradient, so the decoder input is `z_q = z_e + sg[e − z_e]`
//! (**straight-through**): its value is `e`, its gradient goes to `z_e` unchanged. The codebook
//! loss moves only the codes, the commitment loss only the encoder. Both are squared distances
//! summed over the `l·D` numbers of an image (that is what the metrics report); in the loss
//! they are weighted by `784 / (l·D)`, as if summed over the 784 pixels like the
//! reconstruction. Unweighted, the straight-through gradient of the reconstruction swamps the
//! commitment term and `z_e` drifts far from its codes (measured: K = 16, D = 2 ended with a
//! codebook loss of ~280 and rising; weighted it stays below 0.1).
//!
//! **EMA update** (the k-means view): instead of the codebook loss, each code becomes a moving
//! average of the encoder outputs assigned to it, `N_k ← γN_k + (1−γ)n_k`,
//! `m_k ← γm_k + (1−γ)Σ z_e`, `e_k = m_k / N_k` (N Laplace-smoothed).
//!
//! **Dead-code restart**: a code whose smoothed share of assignments falls below a tenth of the
//! uniform share `1/K` is moved onto a current encoder output. Measuring a share rather than a
//! hit count scales the threshold with the expected hits per code per batch (`B·l/K`), so
//! small batches or large codebooks don't make restarts thrash; a restarted code starts at the
//! uniform share and so gets about `ln 10 / (1−γ)` steps to win assignments.

use candle_core::{DType, Module, Result, Tensor, Var};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::blocks::{Decoder, Encoder, Params};
use super::{Loss, ModelConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum CodebookUpdate {
    /// Gradient descent on the codebook loss.
    Loss,
    /// Exponential moving averages of the assigned encoder outputs (k-means view): the
    /// default, because with K = 16, D = 2 it used all codes evenly (perplexity 14.6 of 16 on
    /// the test set after 3 epochs) where the codebook loss left one code dead (11.7).
    #[default]
    Ema,
    /// EMA plus restarting dead codes from current encoder outputs.
    EmaRestart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum CodebookInit {
    /// N(0, 1): about the scale of the freshly initialised encoder's outputs.
    #[default]
    Normal,
    /// U(−1/K, 1/K), the classic init: every code starts near the origin, far inside the
    /// encoder's output cloud, and most codes never win an assignment.
    SmallUniform,
}

const CODEBOOK: &str = "codebook.embeddings";
const EMA_COUNT: &str = "codebook.ema_count";
const EMA_SUM: &str = "codebook.ema_sum";
const USAGE: &str = "codebook.usage";
/// A code is dead below this fraction of the uniform share of assignments.
const DEAD_FRACTION: f32 = 0.1;
const LAPLACE_EPS: f32 = 1e-5;

pub struct VqVae {
    pub encoder: Encoder,
    pub decoder: Decoder,
    pub codebook: Var,
    ema_count: Var,
    ema_sum: Var,
    /// Smoothed share of the assignments each code gets (sums to 1).
    usage: Var,
    update: CodebookUpdate,
}

impl VqVae {
    pub fn new(p: &mut Params, cfg: &ModelConfig) -> Result<Self> {
        let (k, d) = (cfg.codebook_size, cfg.code_dim);
        let encoder = Encoder::new(p, cfg.arch, cfg.hidden, cfg.decoder_input())?;
        let decoder = Decoder::new(p, cfg.arch, cfg.decoder_input(), cfg.hidden)?;
        let codebook = match cfg.codebook_init {
            CodebookInit::Normal => p.normal(CODEBOOK, &[k, d], 1.0)?,
            CodebookInit::SmallUniform => p.uniform(CODEBOOK, &[k, d], 1.0 / k as f32)?,
        };
        // EMA state starts as "each code has been seen once, at its own position".
        let ema_sum = p.var_from(EMA_SUM, &[k, d], codebook.flatten_all()?.to_vec1()?)?;
        let ema_count = p.var_from(EMA_COUNT, &[k], vec![1.0; k])?;
        let usage = p.var_from(USAGE, &[k], vec![1.0 / k as f32; k])?;
        Ok(Self {
            encoder,
            decoder,
            codebook: Var::from_tensor(&codebook)?,
            ema_count: Var::from_tensor(&ema_count)?,
            ema_sum: Var::from_tensor(&ema_sum)?,
            usage: Var::from_tensor(&usage)?,
            update: cfg.codebook_update,
        })
    }

    /// Names of the tensors the optimizer must not touch.
    pub fn frozen_names(&self) -> Vec<&'static str> {
        let mut names = vec![EMA_COUNT, EMA_SUM, USAGE];
        if self.update != CodebookUpdate::Loss {
            names.push(CODEBOOK);
        }
        names
    }

    /// Nearest code for each of the l vectors of each row of `z_e (B, l·D)`, row-major `(B·l)`.
    pub fn nearest_codes(&self, z_e: &Tensor, cfg: &ModelConfig) -> Result<Vec<u32>> {
        let n = z_e.dim(0)? * cfg.codes_per_image;
        nearest_code_indices(&z_e.reshape((n, cfg.code_dim))?, self.codebook.as_tensor())
    }

    pub fn loss(&self, x: &Tensor, cfg: &ModelConfig) -> Result<Loss> {
        let b = x.dim(0)?;
        let n = b * cfg.codes_per_image;
        let z_e = self.encoder.forward(x)?.reshape((n, cfg.code_dim))?;
        let codes = nearest_code_indices(&z_e, self.codebook.as_tensor())?;
        let index = Tensor::from_vec(codes.clone(), n, x.device())?;
        // index_select's backward reaches the codebook rows that were picked.
        let e = self.codebook.as_tensor().index_select(&index, 0)?;
        let codebook = ((z_e.detach() - &e)?.sqr()?.sum_all()? / b as f64)?;
        let commitment = ((&z_e - e.detach())?.sqr()?.sum_all()? / b as f64)?;
        let z_q = straight_through(&z_e, &e)?;
        let logits = self.decoder.forward(&z_q.reshape((b, cfg.decoder_input()))?)?;
        let recon = cfg.likelihood.nll_per_image(&logits, x)?.mean(0)?;
        let weight = vq_weight(cfg);
        let mut total = (&recon + (&commitment * (weight * cfg.commitment))?)?;
        if self.update == CodebookUpdate::Loss {
            total = (total + (&codebook * weight)?)?;
        }
        Ok(Loss {
            total,
            recon,
            kl_per_dim: None,
            codebook: Some(codebook),
            commitment: Some(commitment),
            assignments: Some((z_e.detach(), codes)),
            epsilon: None,
        })
    }

    /// Tracks usage; applies the EMA update and dead-code restarts when configured.
    pub fn after_step(&mut self, z_e: &Tensor, codes: &[u32], cfg: &ModelConfig, rng: &mut StdRng) -> Result<()> {
        let (k, d) = (cfg.codebook_size, cfg.code_dim);
        let gamma = cfg.ema_decay as f32;
        let z: Vec<f32> = z_e.flatten_all()?.to_vec1()?;
        let n = codes.len();
        let mut hits = vec![0f32; k];
        let mut sums = vec![0f32; k * d];
        for (row, &c) in codes.iter().enumerate() {
            let c = c as usize;
            hits[c] += 1.0;
            for j in 0..d {
                sums[c * d + j] += z[row * d + j];
            }
        }
        let mut usage: Vec<f32> = self.usage.as_tensor().to_vec1()?;
        for (u, h) in usage.iter_mut().zip(&hits) {
            *u = gamma * *u + (1.0 - gamma) * h / n as f32;
        }
        if self.update != CodebookUpdate::Loss {
            let mut count: Vec<f32> = self.ema_count.as_tensor().to_vec1()?;
            let mut sum: Vec<f32> = self.ema_sum.as_tensor().flatten_all()?.to_vec1()?;
            ema_update(&mut count, &mut sum, &hits, &sums, gamma);
            if self.update == CodebookUpdate::EmaRestart {
                restart_dead_codes(&mut usage, &mut count, &mut sum, &z, d, rng);
            }
            let codebook = codes_from_ema(&count, &sum, d);
            let device = z_e.device();
            self.ema_count.set(&Tensor::from_vec(count, k, device)?)?;
            self.ema_sum.set(&Tensor::from_vec(sum, (k, d), device)?)?;
            self.codebook.set(&Tensor::from_vec(codebook, (k, d), device)?)?;
        }
        self.usage.set(&Tensor::from_vec(usage, k, z_e.device())?)?;
        Ok(())
    }
}

/// `784 / (l·D)`: weights the VQ terms, which sum over the `l·D` numbers of an image, as if
/// they were summed over its 784 pixels like the reconstruction.
pub fn vq_weight(cfg: &ModelConfig) -> f64 {
    crate::data::IMAGE_PIXELS as f64 / cfg.decoder_input() as f64
}

/// Value `e`, gradient to `z_e`: `z_e + sg[e − z_e]`.
pub fn straight_through(z_e: &Tensor, e: &Tensor) -> Result<Tensor> {
    z_e + (e - z_e)?.detach()
}

/// `argmin_k ‖z_n − e_k‖²` for each row of `z (N, D)` against `codebook (K, D)`, computed as
/// `‖e_k‖² − 2 z_n·e_k` (the `‖z_n‖²` term doesn't change the argmin) on detached tensors.
pub fn nearest_code_indices(z: &Tensor, codebook: &Tensor) -> Result<Vec<u32>> {
    let (z, e) = (z.detach().to_dtype(DType::F32)?, codebook.detach().to_dtype(DType::F32)?);
    let e_norms = e.sqr()?.sum(1)?.unsqueeze(0)?; // (1, K)
    let dist = e_norms.broadcast_sub(&(z.matmul(&e.t()?)? * 2.0)?)?;
    dist.argmin(1)?.to_vec1::<u32>()
}

/// One EMA step of the per-code counts `N` and sums `m` with this batch's hits and sums.
pub fn ema_update(count: &mut [f32], sum: &mut [f32], hits: &[f32], sums: &[f32], gamma: f32) {
    for (c, h) in count.iter_mut().zip(hits) {
        *c = gamma * *c + (1.0 - gamma) * h;
    }
    for (m, s) in sum.iter_mut().zip(sums) {
        *m = gamma * *m + (1.0 - gamma) * s;
    }
}

/// `e_k = m_k / N̂_k`, with `N̂` Laplace-smoothed so a code with no hits doesn't divide by zero.
pub fn codes_from_ema(count: &[f32], sum: &[f32], d: usize) -> Vec<f32> {
    let k = count.len();
    let total: f32 = count.iter().sum();
    let mut codes = vec![0f32; k * d];
    for (i, &c) in count.iter().enumerate() {
        let smoothed = (c + LAPLACE_EPS) / (total + k as f32 * LAPLACE_EPS) * total;
        for j in 0..d {
            codes[i * d + j] = sum[i * d + j] / smoothed;
        }
    }
    codes
}

/// Moves every code whose usage share is under `DEAD_FRACTION / K` onto a distinct random row
/// of `z (N, D)`, and resets its statistics to one uniform share at that point. Returns the
/// indices of the restarted codes.
pub fn restart_dead_codes(usage: &mut [f32], count: &mut [f32], sum: &mut [f32], z: &[f32], d: usize, rng: &mut StdRng) -> Vec<usize> {
    let k = usage.len();
    let uniform = 1.0 / k as f32;
    let dead: Vec<usize> = (0..k).filter(|&i| usage[i] < DEAD_FRACTION * uniform).collect();
    if dead.is_empty() {
        return dead;
    }
    let mut rows: Vec<usize> = (0..z.len() / d).collect();
    rows.shuffle(rng);
    let mean_count = count.iter().sum::<f32>() / k as f32;
    for (slot, &code) in dead.iter().enumerate() {
        let row = rows[slot % rows.len()];
        usage[code] = uniform;
        count[code] = mean_count;
        for j in 0..d {
            sum[code * d + j] = z[row * d + j] * mean_count;
        }
    }
    dead
}
