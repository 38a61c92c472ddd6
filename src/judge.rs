//! A judge of samples: a small MNIST classifier that scores decoded images.
//!
//! # The classifier
//!
//! An MLP `784 → H → ReLU → 10` (H = 256 by default) on pixels in `[0, 1]`:
//!
//! ```text
//! h = ReLU(x W₁ᵀ + b₁)        (B, H)
//! logits = h W₂ᵀ + b₂         (B, 10),     p(c | x) = softmax_c(logits)
//! ```
//!
//! trained by the native trainer (`train --judge`) with AdamW on the mean cross-entropy
//! `−log p(y | x)` over the MNIST training set, and shipped as `www/checkpoints/judge.safetensors`
//! with its test accuracy in the metadata. Weights start from the same seeded initialisation as
//! the models ([`crate::model::blocks::Params`]), so a run is reproducible byte for byte.
//!
//! # Scores of a batch of N images
//!
//! With `p_n(c)` the classifier's probabilities for image n and `ĉ_n = argmax_c p_n(c)`:
//!
//! ```text
//! confidence  = (1/N) Σ_n max_c p_n(c)                 mean top-class probability
//! histogram   h_c = #{n : ĉ_n = c}                      how many samples show digit c
//! entropy     H = −Σ_c (h_c/N) log₂(h_c/N)   bits       0 (one class) … log₂ 10 ≈ 3.32 (all alike)
//! classes hit = #{c : h_c > 0}
//! ```
//!
//! Confidence says whether samples look like *some* digit; the entropy and the classes hit say
//! whether they cover all ten (a sampler stuck on one digit scores high confidence, low entropy).
//! Decoded samples are the decoder's pixel means, grey rather than binary; the classifier was
//! trained on MNIST's own grey levels, so it reads them as it reads digits.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{AdamW, Linear, Optimizer, ParamsAdamW, VarMap};
use rand::rngs::StdRng;
use rand::SeedableRng;
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};

use crate::data::{Batcher, Dataset, IMAGE_PIXELS};
use crate::model::blocks::Params;
use crate::model::linear::linear;

/// The ten digit classes the judge tells apart.
pub const CLASSES: usize = 10;

/// Images per forward pass when judging a large batch.
const CHUNK: usize = 1000;

/// The largest hidden layer a judge file may ask for (bounds what a file can make us allocate).
const MAX_HIDDEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JudgeConfig {
    /// H: hidden units.
    pub hidden: usize,
    pub learning_rate: f64,
    pub batch_size: usize,
    /// Seeds the weights and the batch order.
    pub seed: u64,
}

impl Default for JudgeConfig {
    fn default() -> Self {
        Self { hidden: 256, learning_rate: 1e-3, batch_size: 128, seed: 0 }
    }
}

impl JudgeConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.hidden == 0 || self.hidden > MAX_HIDDEN || self.batch_size == 0 {
            return Err(format!("a judge needs 1 to {MAX_HIDDEN} hidden units and a batch of at least 1"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err("the judge's learning rate must be positive".into());
        }
        Ok(())
    }
}

/// The classifier: weights in a [`VarMap`] (`fc1.*`, `fc2.*`) and the two layers.
pub struct Judge {
    config: JudgeConfig,
    varmap: VarMap,
    fc1: Linear,
    fc2: Linear,
    device: Device,
}

/// What a batch of images scored (see the module header).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scores {
    pub count: usize,
    /// Mean top-class probability.
    pub confidence: f64,
    /// Images whose top class is c, for c = 0…9.
    pub histogram: [u32; CLASSES],
    /// Entropy of the histogram as a distribution, bits (at most log₂ 10).
    pub entropy_bits: f64,
    pub classes_hit: usize,
}

/// [`Scores`] from `(N, 10)` class probabilities, row-major. A row's top class is its first
/// largest probability.
pub fn scores(probs: &[f32]) -> Scores {
    let count = probs.len() / CLASSES;
    let mut histogram = [0u32; CLASSES];
    let mut top_sum = 0.0;
    for row in probs.chunks_exact(CLASSES) {
        let (class, top) = top_class(row);
        histogram[class] += 1;
        top_sum += top as f64;
    }
    let entropy_bits = histogram
        .iter()
        .filter(|&&h| h > 0)
        .map(|&h| {
            let share = h as f64 / count as f64;
            -share * share.log2()
        })
        .sum();
    Scores {
        count,
        confidence: if count == 0 { 0.0 } else { top_sum / count as f64 },
        histogram,
        entropy_bits,
        classes_hit: histogram.iter().filter(|&&h| h > 0).count(),
    }
}

/// `(class, probability)` of a row's first largest entry.
fn top_class(row: &[f32]) -> (usize, f32) {
    row.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (c, &p)| if p > best.1 { (c, p) } else { best })
}

impl Judge {
    /// A new classifier with seeded weights (candle-nn's Linear defaults, as the models use).
    pub fn new(config: &JudgeConfig, device: &Device) -> Result<Self, String> {
        config.validate()?;
        let varmap = VarMap::new();
        let mut rng = StdRng::seed_from_u64(config.seed);
        let mut p = Params::new(&varmap, &mut rng, device);
        let layers = p.linear("fc1", IMAGE_PIXELS, config.hidden).and_then(|fc1| Ok((fc1, p.linear("fc2", config.hidden, CLASSES)?)));
        let (fc1, fc2) = layers.map_err(|e| e.to_string())?;
        Ok(Self { config: config.clone(), varmap, fc1, fc2, device: device.clone() })
    }

    pub fn config(&self) -> &JudgeConfig {
        &self.config
    }

    /// `(B, 10)` logits of images `x (B, 784)` in `[0, 1]`.
    pub fn logits(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        linear(&linear(x, &self.fc1)?.relu()?, &self.fc2)
    }

    /// `(N, 10)` class probabilities of `images` (N·784 values in `[0, 1]`), row-major.
    pub fn probabilities(&self, images: &[f32]) -> candle_core::Result<Vec<f32>> {
        if !images.len().is_multiple_of(IMAGE_PIXELS) {
            candle_core::bail!("expected whole images of {IMAGE_PIXELS} pixels, got {} values", images.len());
        }
        let mut out = Vec::with_capacity(images.len() / IMAGE_PIXELS * CLASSES);
        for chunk in images.chunks(CHUNK * IMAGE_PIXELS) {
            let x = Tensor::from_slice(chunk, (chunk.len() / IMAGE_PIXELS, IMAGE_PIXELS), &self.device)?;
            out.extend(candle_nn::ops::softmax(&self.logits(&x)?, D::Minus1)?.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// The scores of any batch of images (N·784 values in `[0, 1]`).
    pub fn judge(&self, images: &[f32]) -> candle_core::Result<Scores> {
        Ok(scores(&self.probabilities(images)?))
    }

    /// Each image's top class and its probability.
    pub fn classify(&self, images: &[f32]) -> candle_core::Result<(Vec<u8>, Vec<f32>)> {
        let probs = self.probabilities(images)?;
        Ok(probs.chunks_exact(CLASSES).map(top_class).map(|(c, p)| (c as u8, p)).unzip())
    }

    /// The share of `data` whose label is the top class.
    pub fn accuracy(&self, data: &Dataset) -> candle_core::Result<f64> {
        let mut right = 0usize;
        for start in (0..data.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(data.len());
            let predicted = self.logits(&data.batch_range(start..end, &self.device)?)?.argmax(D::Minus1)?.to_vec1::<u32>()?;
            right += predicted.iter().zip(&data.labels()[start..end]).filter(|(&p, &y)| p == y as u32).count();
        }
        Ok(right as f64 / data.len().max(1) as f64)
    }

    /// The weights by name, sorted.
    pub fn weights(&self) -> Vec<(String, Tensor)> {
        let data = self.varmap.data().lock().unwrap();
        let mut weights: Vec<(String, Tensor)> = data.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone())).collect();
        weights.sort_by(|a, b| a.0.cmp(&b.0));
        weights
    }
}

/// AdamW (no weight decay) on the mean cross-entropy over seeded batches of the training set.
pub struct JudgeTrainer {
    judge: Judge,
    optimizer: AdamW,
    batcher: Batcher,
    step: u64,
}

impl JudgeTrainer {
    pub fn new(judge: Judge, train_len: usize) -> candle_core::Result<Self> {
        let cfg = judge.config.clone();
        let params = ParamsAdamW { lr: cfg.learning_rate, weight_decay: 0.0, ..Default::default() };
        let optimizer = AdamW::new(judge.varmap.all_vars(), params)?;
        Ok(Self { judge, optimizer, batcher: Batcher::new(train_len, cfg.batch_size, cfg.seed), step: 0 })
    }

    pub fn judge(&self) -> &Judge {
        &self.judge
    }

    pub fn step(&self) -> u64 {
        self.step
    }

    /// One pass over `train` (the incomplete last batch dropped); the mean training loss, nats.
    pub fn train_epoch(&mut self, train: &Dataset) -> candle_core::Result<f64> {
        let steps = self.batcher.batches_per_epoch();
        let mut sum = 0.0;
        for _ in 0..steps {
            let indices = self.batcher.next_batch().to_vec();
            let x = train.batch(&indices, &self.judge.device)?;
            let y: Vec<u32> = indices.iter().map(|&i| train.label(i) as u32).collect();
            let y = Tensor::from_vec(y, indices.len(), &self.judge.device)?;
            let loss = candle_nn::loss::cross_entropy(&self.judge.logits(&x)?, &y)?;
            sum += loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            self.optimizer.backward_step(&loss)?;
            self.step += 1;
        }
        Ok(sum / steps.max(1) as f64)
    }
}

const FORMAT: &str = "latent-lab-judge";
const VERSION: &str = "1";

/// A judge read back from bytes, with what its metadata records.
pub struct JudgeFile {
    pub judge: Judge,
    pub step: u64,
    /// Accuracy on the MNIST test set when the file was written.
    pub test_accuracy: f64,
}

/// The judge as safetensors bytes; the metadata holds its config, step and test accuracy. The
/// same weights always give the same bytes (the shipped file is regenerated and compared).
pub fn save(judge: &Judge, step: u64, test_accuracy: f64) -> candle_core::Result<Vec<u8>> {
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("judge".to_string(), serde_json::to_string(judge.config()).map_err(candle_core::Error::wrap)?),
        ("step".to_string(), step.to_string()),
        ("testAccuracy".to_string(), test_accuracy.to_string()),
    ]);
    let weights = judge.weights();
    let bytes = safetensors::serialize(weights.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata)).map_err(candle_core::Error::wrap)?;
    crate::checkpoint::sorted_header(bytes).map_err(candle_core::Error::wrap)
}

/// A judge from [`save`]'s bytes; names and shapes are checked against the stored config
/// (itself validated, which bounds the size) before any weight is copied.
pub fn load(bytes: &[u8], device: &Device) -> Result<JudgeFile, String> {
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format!("not a readable judge file ({e})"))?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err("this file is not a Latent Lab judge (classifier)".into());
    }
    if meta.get("version").map(String::as_str) != Some(VERSION) {
        return Err(format!("judge format version {:?} is not supported", meta.get("version")));
    }
    let field = |key: &str| meta.get(key).ok_or_else(|| format!("the judge file has no {key}"));
    let config: JudgeConfig = serde_json::from_str(field("judge")?).map_err(|e| format!("the judge's settings can't be read: {e}"))?;
    let step = field("step")?.parse().map_err(|e| format!("the judge's step can't be read: {e}"))?;
    let test_accuracy = field("testAccuracy")?.parse().map_err(|e| format!("the judge's accuracy can't be read: {e}"))?;
    let judge = Judge::new(&config, device)?;
    let view = SafeTensors::deserialize(bytes).map_err(|e| format!("not a readable judge file ({e})"))?;
    if view.len() != judge.weights().len() {
        return Err(format!("the judge file holds {} tensors, expected {}", view.len(), judge.weights().len()));
    }
    for (name, tensor) in judge.weights() {
        let t = view.tensor(&name).map_err(|_| format!("the judge file lacks {name}"))?;
        if t.dtype() != safetensors::Dtype::F32 || t.shape() != tensor.dims() {
            return Err(format!("the judge's {name} is {:?} {:?}, expected F32 {:?}", t.dtype(), t.shape(), tensor.dims()));
        }
        let values: Vec<f32> = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let var = judge.varmap.data().lock().unwrap()[&name].clone();
        var.set(&Tensor::from_vec(values, t.shape(), device).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    Ok(JudgeFile { judge, step, test_accuracy })
}
