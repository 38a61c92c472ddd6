//! A learned prior over VQ-VAE code grids: the VQ-VAE's "second phase".
//!
//! A VQ-VAE describes an image by `l` code indices `c = (c_1, …, c_l)`, `c_i ∈ {0, …, K−1}`, in
//! raster order. Sampling them uniformly (`p(c) = K^−l`, `l·log₂K` bits per image) ignores
//! everything the codes of real digits have in common. An autoregressive prior factorises
//!
//! ```text
//! p(c) = Π_i p(c_i | c_<i),      −log₂ p(c) = Σ_i −log₂ p(c_i | c_<i)   (bits per image)
//! ```
//!
//! and is trained by maximum likelihood on the frozen VQ-VAE's training-set codes.
//!
//! # The model: a MADE-style masked MLP
//!
//! Input `x ∈ {0,1}^{l·K}` is the one-hot grid (unit `(i, k)` is 1 when `c_i = k`). With
//! `H` hidden units,
//!
//! ```text
//! h      = ReLU(x (W₁ ⊙ M₁)ᵀ + b₁)                      (B, H)
//! logits = h (W₂ ⊙ M₂)ᵀ + x (W_d ⊙ M_d)ᵀ + b₂            (B, l·K) → (B, l, K)
//! p(c_i = k | c_<i) = softmax_k(logits_{i,·})
//! ```
//!
//! Causality comes from the masks (Germain et al., MADE, 2015): input and output units of
//! position i have degree `i + 1`; hidden unit j has degree `m_j = (j mod (l−1)) + 1`. Then
//! `M₁[j, (i,k)] = [m_j ≥ i + 1]`, `M₂[(i,k), j] = [i + 1 > m_j]` and the direct connection
//! `M_d[(i,k), (i',k')] = [i' < i]`, so output i sees input i' only through a path of degrees
//! `i' + 1 ≤ m_j ≤ i`, i.e. only when `i' < i`. Position 0's conditional is its bias alone (the
//! training codes' first-position frequencies, once learned).
//!
//! Why this and not a PixelCNN or a transformer: with l = 16 and K = 16 the whole
//! conditional distribution is two dense matmuls of a (B, 256) one-hot, about 130k parameters
//! at H = 128. In wasm on one CPU core that trains on all 60 000 training grids in seconds,
//! where masked convolutions or attention would cost many small kernels per step for a 4 × 4
//! grid. The direct masked connection is a log-linear model of every earlier code; the hidden
//! layer adds their interactions. Sampling needs `l` forward passes (one per position).
//!
//! The parameter count is `2·l·K·H + H + l·K + (l·K)²`; configurations above [`MAX_PARAMETERS`]
//! are refused (the lab's larger codebooks need a convolutional prior, not built here).

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::ops::log_softmax;
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::Batcher;

/// The prior stays small enough to train in the page.
pub const MAX_PARAMETERS: usize = 200_000;

/// Grids evaluated per forward pass when scoring a whole set.
const EVAL_CHUNK: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriorConfig {
    /// K: codes in the codebook.
    pub codebook_size: usize,
    /// l: code positions per image (raster order).
    pub positions: usize,
    /// H: hidden units.
    pub hidden: usize,
    pub learning_rate: f64,
    pub batch_size: usize,
    /// Seeds the weights and the batch order.
    pub seed: u64,
}

impl PriorConfig {
    /// The defaults the page and the shipped prior use, for a VQ-VAE with `k` codes and `l` positions.
    pub fn for_grid(k: usize, l: usize) -> Self {
        Self { codebook_size: k, positions: l, hidden: 128, learning_rate: 3e-3, batch_size: 128, seed: 0 }
    }

    fn width(&self) -> usize {
        self.codebook_size * self.positions
    }

    pub fn parameter_count(&self) -> usize {
        let w = self.width();
        2 * w * self.hidden + self.hidden + w + w * w
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.codebook_size < 2 || self.positions == 0 || self.hidden == 0 || self.batch_size == 0 {
            return Err("the prior needs K ≥ 2, l ≥ 1, hidden ≥ 1 and batch size ≥ 1".into());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err("the prior's learning rate must be positive".into());
        }
        let n = self.parameter_count();
        if n > MAX_PARAMETERS {
            return Err(format!(
                "a masked-MLP prior over l = {} positions of K = {} codes would have {n} parameters, more than the {MAX_PARAMETERS} this lab trains in the page; use a VQ-VAE with fewer positions or codes",
                self.positions, self.codebook_size
            ));
        }
        Ok(())
    }
}

/// The autoregressive prior: weights (trainable [`Var`]s) and its fixed masks.
pub struct Prior {
    config: PriorConfig,
    w1: Var,
    b1: Var,
    w2: Var,
    b2: Var,
    wd: Var,
    m1: Tensor,
    m2: Tensor,
    md: Tensor,
    device: Device,
}

/// Names and shapes of the weights, as stored in a prior file.
pub const WEIGHT_NAMES: [&str; 5] = ["w1", "b1", "w2", "b2", "wd"];

impl Prior {
    /// A new prior with weights uniform in ±1/√fan_in from `config.seed` (candle-nn's Linear
    /// default, drawn from a seeded RNG so native and wasm start alike).
    pub fn new(config: &PriorConfig, device: &Device) -> Result<Self, String> {
        config.validate()?;
        let (w, h) = (config.width(), config.hidden);
        let mut rng = StdRng::seed_from_u64(config.seed);
        let mut uniform = |n: usize, fan_in: usize| -> Vec<f32> {
            let bound = 1.0 / (fan_in as f32).sqrt();
            (0..n).map(|_| rng.random_range(-bound..bound)).collect()
        };
        let weights = [uniform(h * w, w), uniform(h, w), uniform(w * h, h), uniform(w, h), uniform(w * w, w)];
        Self::from_weights(config, weights.to_vec(), device).map_err(|e| e.to_string())
    }

    /// A prior from weights in [`WEIGHT_NAMES`] order, each row-major.
    pub fn from_weights(config: &PriorConfig, weights: Vec<Vec<f32>>, device: &Device) -> candle_core::Result<Self> {
        let (w, h) = (config.width(), config.hidden);
        let shapes = Self::shapes_of(config);
        if weights.len() != shapes.len() || weights.iter().zip(&shapes).any(|(v, s)| v.len() != s.iter().product::<usize>()) {
            candle_core::bail!("the prior's weights do not fit l = {}, K = {}, H = {h}", config.positions, config.codebook_size);
        }
        let mut vars = weights.into_iter().zip(&shapes).map(|(v, s)| Var::from_vec(v, s.as_slice(), device));
        let mut next = || vars.next().expect("five weights");
        let (w1, b1, w2, b2, wd) = (next()?, next()?, next()?, next()?, next()?);
        let (m1, m2, md) = masks(config.positions, config.codebook_size, h);
        Ok(Self {
            config: config.clone(),
            w1,
            b1,
            w2,
            b2,
            wd,
            m1: Tensor::from_vec(m1, (h, w), device)?,
            m2: Tensor::from_vec(m2, (w, h), device)?,
            md: Tensor::from_vec(md, (w, w), device)?,
            device: device.clone(),
        })
    }

    /// Shapes of the weights in [`WEIGHT_NAMES`] order.
    pub fn shapes_of(config: &PriorConfig) -> Vec<Vec<usize>> {
        let (w, h) = (config.width(), config.hidden);
        vec![vec![h, w], vec![h], vec![w, h], vec![w], vec![w, w]]
    }

    pub fn config(&self) -> &PriorConfig {
        &self.config
    }

    /// The weights by name, in [`WEIGHT_NAMES`] order.
    pub fn weights(&self) -> Vec<(&'static str, Tensor)> {
        WEIGHT_NAMES.into_iter().zip(self.vars()).map(|(n, v)| (n, v.as_tensor().clone())).collect()
    }

    fn vars(&self) -> [&Var; 5] {
        [&self.w1, &self.b1, &self.w2, &self.b2, &self.wd]
    }

    /// `(B, l·K)` one-hot rows of `codes` (`B·l` indices, each below K).
    fn one_hot(&self, codes: &[u32]) -> candle_core::Result<Tensor> {
        let (k, l) = (self.config.codebook_size, self.config.positions);
        let b = codes.len() / l;
        let mut x = vec![0f32; b * l * k];
        for (slot, &c) in codes.iter().enumerate() {
            if c as usize >= k {
                candle_core::bail!("code {c} is not below K = {k}");
            }
            x[slot * k + c as usize] = 1.0;
        }
        Tensor::from_vec(x, (b, l * k), &self.device)
    }

    /// `(B, l, K)` log p(c_i = k | c_<i) of each grid in `codes` (natural log).
    pub fn log_conditionals(&self, codes: &[u32]) -> candle_core::Result<Tensor> {
        let (k, l) = (self.config.codebook_size, self.config.positions);
        if codes.is_empty() || !codes.len().is_multiple_of(l) {
            candle_core::bail!("expected whole grids of {l} codes, got {} codes", codes.len());
        }
        let x = self.one_hot(codes)?;
        let masked = |w: &Var, m: &Tensor| w.as_tensor().mul(m);
        let h = x.matmul(&masked(&self.w1, &self.m1)?.t()?)?.broadcast_add(self.b1.as_tensor())?.relu()?;
        let logits = (h.matmul(&masked(&self.w2, &self.m2)?.t()?)? + x.matmul(&masked(&self.wd, &self.md)?.t()?)?)?
            .broadcast_add(self.b2.as_tensor())?;
        log_softmax(&logits.reshape((codes.len() / l, l, k))?, D::Minus1)
    }

    /// `(B,)` −ln p(c) of each grid: the sum over positions of −ln p(c_i | c_<i).
    fn nll_nats(&self, codes: &[u32]) -> candle_core::Result<Tensor> {
        let l = self.config.positions;
        let index = Tensor::from_slice(codes, (codes.len() / l, l, 1), &self.device)?;
        self.log_conditionals(codes)?.gather(&index, D::Minus1)?.squeeze(D::Minus1)?.sum(D::Minus1)?.neg()
    }

    /// −log₂ p(c) of each grid in `codes`, bits.
    pub fn nll_bits(&self, codes: &[u32]) -> candle_core::Result<Vec<f32>> {
        let mut out = Vec::with_capacity(codes.len() / self.config.positions.max(1));
        for chunk in codes.chunks(EVAL_CHUNK * self.config.positions) {
            let nats = self.nll_nats(chunk)?.to_vec1::<f32>()?;
            out.extend(nats.into_iter().map(|n| n / std::f32::consts::LN_2));
        }
        Ok(out)
    }

    /// Mean −log₂ p(c) over the grids in `codes`, bits per image.
    pub fn mean_nll_bits(&self, codes: &[u32]) -> candle_core::Result<f64> {
        let bits = self.nll_bits(codes)?;
        Ok(bits.iter().map(|&b| b as f64).sum::<f64>() / bits.len().max(1) as f64)
    }

    /// `count` grids drawn position by position from the prior (seeded). The first `keep`
    /// positions of each are copied from `given` (l codes, or `None` with `keep` = 0); the
    /// later ones are drawn from p(c_i | c_<i), the earlier ones included.
    pub fn sample(&self, count: usize, seed: u64, given: Option<&[u32]>, keep: usize) -> candle_core::Result<Vec<u32>> {
        let (k, l) = (self.config.codebook_size, self.config.positions);
        let mut grids = vec![0u32; count * l];
        if let Some(g) = given {
            if g.len() != l || keep > l {
                candle_core::bail!("a partial grid has {l} codes and keeps at most {l}");
            }
            grids.chunks_exact_mut(l).for_each(|row| row[..keep].copy_from_slice(&g[..keep]));
        } else if keep != 0 {
            candle_core::bail!("nothing to keep without a grid");
        }
        if count == 0 {
            return Ok(grids);
        }
        let mut rng = StdRng::seed_from_u64(seed);
        for i in keep..l {
            // Positions ≥ i are still 0 here; the masks keep them from mattering.
            let probs = self.log_conditionals(&grids)?.narrow(1, i, 1)?.squeeze(1)?.exp()?.to_vec2::<f32>()?;
            for (row, p) in probs.iter().enumerate() {
                grids[row * l + i] = draw(p, rng.random::<f32>()).min(k - 1) as u32;
            }
        }
        Ok(grids)
    }
}

/// The index whose cumulative probability first exceeds `u` (the last one when rounding leaves
/// the total below `u`).
fn draw(p: &[f32], u: f32) -> usize {
    let mut total = 0.0;
    for (k, &pk) in p.iter().enumerate() {
        total += pk;
        if u < total {
            return k;
        }
    }
    p.len() - 1
}

/// `(M₁ (H, l·K), M₂ (l·K, H), M_d (l·K, l·K))` as 0/1 values; see the module header.
fn masks(l: usize, k: usize, h: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let w = l * k;
    let position = |unit: usize| unit / k;
    // With l = 1 no hidden unit may see anything: degree l (never below an output's degree 1 + 0).
    let hidden_degree = |j: usize| if l > 1 { j % (l - 1) + 1 } else { l };
    let on = |b: bool| if b { 1.0 } else { 0.0 };
    let m1 = (0..h * w).map(|n| on(hidden_degree(n / w) > position(n % w))).collect();
    let m2 = (0..w * h).map(|n| on(position(n / h) + 1 > hidden_degree(n % h))).collect();
    let md = (0..w * w).map(|n| on(position(n % w) < position(n / w))).collect();
    (m1, m2, md)
}

/// Per-position code frequencies: the baseline that knows where codes fall, not how they
/// go together. `p_i(k) = (n_i(k) + 1) / (N + K)` from the N training grids (add-one, so an
/// unseen code costs finite bits).
pub struct Unigram {
    /// `(l, K)` log₂ p_i(k).
    log2p: Vec<f64>,
    k: usize,
    l: usize,
}

impl Unigram {
    pub fn fit(train: &[u32], k: usize, l: usize) -> Self {
        let n = train.len() / l;
        let mut counts = vec![0u64; l * k];
        for (slot, &c) in train.iter().enumerate() {
            counts[(slot % l) * k + c as usize] += 1;
        }
        let log2p = counts.iter().map(|&c| ((c + 1) as f64 / (n + k) as f64).log2()).collect();
        Self { log2p, k, l }
    }

    /// Mean −Σ_i log₂ p_i(c_i) over the grids in `codes`, bits per image.
    pub fn mean_nll_bits(&self, codes: &[u32]) -> f64 {
        let total: f64 = codes.iter().enumerate().map(|(slot, &c)| -self.log2p[(slot % self.l) * self.k + c as usize]).sum();
        total / (codes.len() / self.l).max(1) as f64
    }
}

/// The uniform prior's cost of a grid: `l·log₂K` bits.
pub fn uniform_bits(k: usize, l: usize) -> f64 {
    l as f64 * (k as f64).log2()
}

/// What a chunk of prior training did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorStep {
    /// Optimizer steps since the prior was created.
    pub step: u64,
    pub epoch: usize,
    pub epoch_progress: f32,
    /// Mean training loss over the chunk, bits per image.
    pub loss_bits: f32,
}

/// AdamW on the prior's weights over a fixed set of training grids, in chunks.
pub struct PriorTrainer {
    prior: Prior,
    optimizer: AdamW,
    batcher: Batcher,
    step: u64,
}

impl PriorTrainer {
    /// `train_grids` (at least 1): how many grids the batches are drawn from; `step` resumes
    /// a run (the batch order continues where it left off).
    pub fn new(prior: Prior, train_grids: usize, step: u64) -> candle_core::Result<Self> {
        let cfg = prior.config().clone();
        let params = ParamsAdamW { lr: cfg.learning_rate, weight_decay: 0.0, ..Default::default() };
        let optimizer = AdamW::new(prior.vars().into_iter().cloned().collect(), params)?;
        let mut batcher = Batcher::new(train_grids, cfg.batch_size, cfg.seed);
        batcher.skip_to(step as usize);
        Ok(Self { prior, optimizer, batcher, step })
    }

    pub fn prior(&self) -> &Prior {
        &self.prior
    }

    pub fn step(&self) -> u64 {
        self.step
    }

    /// Batches in one pass over the training grids (an incomplete last batch is dropped).
    pub fn steps_per_epoch(&self) -> usize {
        self.batcher.batches_per_epoch()
    }

    /// `n` optimizer steps on mean −ln p(c) over batches of `train` (`N·l` codes).
    pub fn train_steps(&mut self, train: &[u32], n: usize) -> candle_core::Result<PriorStep> {
        let l = self.prior.config.positions;
        let mut sum = 0.0;
        for _ in 0..n {
            let batch: Vec<u32> = self.batcher.next_batch().iter().flat_map(|&i| &train[i * l..(i + 1) * l]).copied().collect();
            let loss = self.prior.nll_nats(&batch)?.mean_all()?;
            sum += loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            self.optimizer.backward_step(&loss)?;
            self.step += 1;
        }
        Ok(PriorStep {
            step: self.step,
            epoch: self.batcher.epoch(),
            epoch_progress: self.batcher.epoch_progress(),
            loss_bits: (sum / n.max(1) as f64 / std::f64::consts::LN_2) as f32,
        })
    }
}

const FORMAT: &str = "latent-lab-prior";
const VERSION: &str = "1";

/// A prior read back from bytes, with the step it reached and the VQ-VAE it was trained for.
pub struct PriorFile {
    pub prior: Prior,
    pub step: u64,
    /// [`fingerprint`] of the VQ-VAE whose codes it models.
    pub vq: String,
}

/// SHA-256 over the VQ-VAE's weights (names and f32 values in order): a prior belongs to one
/// frozen VQ-VAE, and its codes mean nothing under another of the same shape.
pub fn fingerprint(weights: &[(String, Tensor)]) -> candle_core::Result<String> {
    let mut hash = Sha256::new();
    for (name, t) in weights {
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        for v in t.flatten_all()?.to_vec1::<f32>()? {
            hash.update(v.to_le_bytes());
        }
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The prior's weights as safetensors bytes; the metadata holds its config, step and `vq`.
pub fn save(prior: &Prior, step: u64, vq: &str) -> candle_core::Result<Vec<u8>> {
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("prior".to_string(), serde_json::to_string(prior.config()).map_err(candle_core::Error::wrap)?),
        ("step".to_string(), step.to_string()),
        ("vq".to_string(), vq.to_string()),
    ]);
    let weights = prior.weights();
    let bytes = safetensors::serialize(weights.iter().map(|(n, t)| (*n, t)), Some(metadata)).map_err(candle_core::Error::wrap)?;
    // The same prior always gives the same bytes (the shipped file is regenerated and compared).
    crate::checkpoint::sorted_header(bytes).map_err(candle_core::Error::wrap)
}

/// A prior from [`save`]'s bytes; every name and shape is checked against the stored config
/// (itself validated, which bounds the size) before any weight is read.
pub fn load(bytes: &[u8], device: &Device) -> Result<PriorFile, String> {
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format!("not a readable prior file ({e})"))?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err("this file is not a Latent Lab prior".into());
    }
    if meta.get("version").map(String::as_str) != Some(VERSION) {
        return Err(format!("prior format version {:?} is not supported", meta.get("version")));
    }
    let field = |key: &str| meta.get(key).ok_or_else(|| format!("the prior file has no {key}"));
    let config: PriorConfig = serde_json::from_str(field("prior")?).map_err(|e| format!("the prior's settings can't be read: {e}"))?;
    config.validate()?;
    let step = field("step")?.parse().map_err(|e| format!("the prior's step can't be read: {e}"))?;
    let view = SafeTensors::deserialize(bytes).map_err(|e| format!("not a readable prior file ({e})"))?;
    let mut weights = Vec::new();
    for (name, shape) in WEIGHT_NAMES.into_iter().zip(Prior::shapes_of(&config)) {
        let t = view.tensor(name).map_err(|_| format!("the prior file lacks {name}"))?;
        if t.dtype() != safetensors::Dtype::F32 || t.shape() != shape.as_slice() {
            return Err(format!("the prior's {name} is {:?} {:?}, expected F32 {shape:?}", t.dtype(), t.shape()));
        }
        weights.push(t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect());
    }
    let prior = Prior::from_weights(&config, weights, device).map_err(|e| e.to_string())?;
    Ok(PriorFile { prior, step, vq: field("vq")?.clone() })
}
