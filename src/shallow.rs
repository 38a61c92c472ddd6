//! Shallow vector quantization on pixels: k-means as a quantizing autoencoder.
//!
//! Given N images x_i ∈ [0, 1]^784 (pixel / 255) and K centroids μ_1 … μ_K, k-means minimises
//!
//! ```text
//! J(μ, z) = Σ_i ‖x_i − μ_{z_i}‖²
//! ```
//!
//! by Lloyd's alternation: assign z_i = argmin_k ‖x_i − μ_k‖² (with μ fixed, each term is at its
//! minimum), then move each μ_k to the mean of its points (with z fixed, the mean minimises the
//! sum of squares). Neither half can raise J, so J never increases; a centroid with no points
//! stays where it is. The squared distances of a chunk of images `X (B, 784)` to all centroids
//! `M (K, 784)` are one matrix product, `‖x‖² − 2 X Mᵀ + ‖μ‖²` `(B, K)`, which Candle computes
//! fast natively and in wasm; [`brute_force_nearest`] is the slow reference the tests hold it to.
//!
//! Seeding is k-means++ (Arthur and Vassilvitskii, 2007): the first centroid is a uniformly
//! drawn image, each next one an image drawn with probability ∝ D(x)², its squared distance to
//! the nearest centroid chosen so far. Chosen images have D = 0, so the K seeds are distinct.
//!
//! As an autoencoder: the encoder Q sends x to z = argmin_k ‖x − μ_k‖² (log₂ K bits), the decoder
//! returns μ_z. As the "shallow VQ-VAE", Q(z|x) is one-hot at that z, P(z) uniform and
//! P(x|z) = N(μ_z, I); generation draws z uniformly and x = μ_z + σ ε. To compare with the
//! VQ-VAE's Bernoulli decoder, the reconstruction cost of x is the Bernoulli negative
//! log-likelihood with the centroid's pixels as the means, clamped to [ε, 1 − ε] (a centroid pixel
//! of exactly 0 under a test image's ink would cost infinitely many nats):
//!
//! ```text
//! −log p(x | μ) = −Σ_p [ x_p log μ_p + (1 − x_p) log(1 − μ_p) ]   nats per image
//! ```
//!
//! Work is done in chunks ([`KMeans::advance`]: part of the seeding, or one Lloyd iteration) so a
//! worker can report progress and stay responsive between them.

use candle_core::{DType, Device, Result, Tensor, D};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use crate::data::IMAGE_PIXELS;

/// Rows per matrix product: bounds the `(rows, K)` distance matrix held at once.
const ROWS_PER_CHUNK: usize = 4096;
/// k-means++ seeds chosen per [`KMeans::advance`] call: each costs N·784 multiply-adds, so 16 of
/// them cost about what one Lloyd iteration with K = 16 does.
pub const SEEDS_PER_CALL: usize = 16;
/// The clamp of the centroid's pixels used as Bernoulli means.
pub const BERNOULLI_EPSILON: f32 = 1e-3;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `chosen` of K seeds picked.
    Seeding { chosen: usize },
    /// `done` Lloyd iterations run.
    Lloyd { done: usize },
    /// No assignment changed in the last iteration (a fixed point) or the iteration cap was hit.
    Finished { converged: bool },
}

/// What one [`KMeans::advance`] call did.
#[derive(Debug, Clone, Copy)]
pub struct Advance {
    pub stage: Stage,
    /// Set by a Lloyd iteration: J under the centroids it started from, and how many points
    /// moved to another centroid.
    pub objective: Option<f64>,
    pub changed: Option<usize>,
}

/// A k-means run over the images it was given, held as f32 chunk tensors until it finishes.
pub struct KMeans {
    k: usize,
    n: usize,
    max_iterations: usize,
    rng: StdRng,
    /// `(rows, 784)` chunks of the images and their `(rows, 1)` squared norms; dropped when done.
    chunks: Vec<(Tensor, Tensor)>,
    /// `(K, 784)` row-major; during seeding only the chosen rows.
    centroids: Vec<f32>,
    /// Seeding: D(x)² of every image; chosen images exactly 0.
    nearest_sq: Vec<f32>,
    /// The images picked as seeds, in order.
    seeds: Vec<usize>,
    assignments: Vec<u32>,
    /// J after each Lloyd assignment step (under the centroids that step used).
    objectives: Vec<f64>,
    stage: Stage,
    device: Device,
}

impl KMeans {
    /// A run of `k` centroids over `pixels` (`(N, 784)` bytes), seeded from `seed`, that stops
    /// after `max_iterations` Lloyd iterations at most.
    pub fn new(pixels: &[u8], k: usize, seed: u64, max_iterations: usize, device: &Device) -> Result<Self> {
        if !pixels.len().is_multiple_of(IMAGE_PIXELS) {
            candle_core::bail!("k-means takes whole 28×28 images, got {} bytes", pixels.len());
        }
        let n = pixels.len() / IMAGE_PIXELS;
        if k == 0 || k > n {
            candle_core::bail!("k-means needs 1 ≤ K ≤ N; got K = {k} for N = {n} images");
        }
        if max_iterations == 0 {
            candle_core::bail!("k-means needs at least one Lloyd iteration");
        }
        let chunks = pixels
            .chunks(ROWS_PER_CHUNK * IMAGE_PIXELS)
            .map(|part| {
                let values: Vec<f32> = part.iter().map(|&p| p as f32 / 255.0).collect();
                let x = Tensor::from_vec(values, (part.len() / IMAGE_PIXELS, IMAGE_PIXELS), device)?;
                let norms = x.sqr()?.sum_keepdim(1)?;
                Ok((x, norms))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            k,
            n,
            max_iterations,
            rng: StdRng::seed_from_u64(seed),
            chunks,
            centroids: Vec::with_capacity(k * IMAGE_PIXELS),
            nearest_sq: Vec::new(),
            seeds: Vec::with_capacity(k),
            assignments: Vec::new(),
            objectives: Vec::new(),
            stage: Stage::Seeding { chosen: 0 },
            device: device.clone(),
        })
    }

    pub fn k(&self) -> usize {
        self.k
    }

    /// Images the run is over.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn max_iterations(&self) -> usize {
        self.max_iterations
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Finished { .. })
    }

    /// `(chosen, 784)` centroids so far (K of them once seeding is over).
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// Indices of the images picked as seeds, in the order k-means++ picked them.
    pub fn seeds(&self) -> &[usize] {
        &self.seeds
    }

    /// Each image's centroid after the last Lloyd iteration (empty before the first).
    pub fn assignments(&self) -> &[u32] {
        &self.assignments
    }

    /// J after every Lloyd assignment step so far.
    pub fn objectives(&self) -> &[f64] {
        &self.objectives
    }

    /// One chunk of work: up to [`SEEDS_PER_CALL`] k-means++ seeds, or one Lloyd iteration.
    /// A finished run stays finished.
    pub fn advance(&mut self) -> Result<Advance> {
        match self.stage {
            Stage::Seeding { chosen } => {
                let until = (chosen + SEEDS_PER_CALL).min(self.k);
                while self.seeds.len() < until {
                    self.add_seed()?;
                }
                self.stage = if until == self.k { Stage::Lloyd { done: 0 } } else { Stage::Seeding { chosen: until } };
                if until == self.k {
                    self.nearest_sq = Vec::new();
                }
                Ok(Advance { stage: self.stage, objective: None, changed: None })
            }
            Stage::Lloyd { done } => {
                let (objective, changed) = self.lloyd_iteration()?;
                let done = done + 1;
                self.stage = if changed == 0 || done == self.max_iterations {
                    // The images are needed no more; a finished run keeps only its centroids.
                    self.chunks = Vec::new();
                    Stage::Finished { converged: changed == 0 }
                } else {
                    Stage::Lloyd { done }
                };
                Ok(Advance { stage: self.stage, objective: Some(objective), changed: Some(changed) })
            }
            Stage::Finished { .. } => Ok(Advance { stage: self.stage, objective: None, changed: None }),
        }
    }

    /// Runs to the end (natively, in tests and measurements).
    pub fn run(&mut self) -> Result<()> {
        while !self.is_finished() {
            self.advance()?;
        }
        Ok(())
    }

    /// Picks the next seed: uniformly for the first, ∝ D(x)² after; then updates D(x)².
    fn add_seed(&mut self) -> Result<()> {
        let total: f64 = self.nearest_sq.iter().map(|&d| d as f64).sum();
        let index = if self.seeds.is_empty() {
            self.rng.random_range(0..self.n)
        } else if total > 0.0 {
            draw_proportional(&self.nearest_sq, total, self.rng.random::<f64>())
        } else {
            // Every image equals a chosen one (duplicates): any unchosen image will do.
            (0..self.n).find(|i| !self.seeds.contains(i)).expect("K ≤ N leaves an unchosen image")
        };
        let seed = self.image(index)?;
        let distances = self.squared_distances(&seed, 1)?;
        if self.nearest_sq.is_empty() {
            self.nearest_sq = distances;
        } else {
            for (d, new) in self.nearest_sq.iter_mut().zip(distances) {
                *d = d.min(new);
            }
        }
        // Exactly 0 (the matrix product leaves rounding noise), so a seed is never picked twice.
        self.nearest_sq[index] = 0.0;
        self.seeds.push(index);
        self.centroids.extend(seed);
        Ok(())
    }

    /// Image `index` as 784 values in [0, 1], from its chunk.
    fn image(&self, index: usize) -> Result<Vec<f32>> {
        let (x, _) = &self.chunks[index / ROWS_PER_CHUNK];
        x.get(index % ROWS_PER_CHUNK)?.to_vec1()
    }

    /// `(N, m)` squared distances of every image to the `m` rows of `centres`, row-major,
    /// clamped at 0 (rounding can make a zero distance slightly negative).
    fn squared_distances(&self, centres: &[f32], m: usize) -> Result<Vec<f32>> {
        let c = Tensor::from_slice(centres, (m, IMAGE_PIXELS), &self.device)?;
        let mut out = Vec::with_capacity(self.n * m);
        for (x, norms) in &self.chunks {
            out.extend(chunk_distances(x, norms, &c)?.clamp(0f32, f32::INFINITY)?.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// Assigns every image to its nearest centroid, then moves each centroid to its points'
    /// mean. Returns J under the centroids before the move, and how many assignments changed.
    fn lloyd_iteration(&mut self) -> Result<(f64, usize)> {
        let c = Tensor::from_slice(&self.centroids, (self.k, IMAGE_PIXELS), &self.device)?;
        let mut assignments = Vec::with_capacity(self.n);
        let mut objective = 0.0;
        let mut sums = Tensor::zeros((self.k, IMAGE_PIXELS), DType::F32, &self.device)?;
        for (x, norms) in &self.chunks {
            let d = chunk_distances(x, norms, &c)?;
            let nearest = d.argmin(1)?;
            objective += d.min(1)?.clamp(0f32, f32::INFINITY)?.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()?;
            // Row i of x is added to row nearest[i] of the sums.
            sums = sums.index_add(&nearest, x, 0)?;
            assignments.extend(nearest.to_vec1::<u32>()?);
        }
        let mut counts = vec![0u32; self.k];
        for &z in &assignments {
            counts[z as usize] += 1;
        }
        let sums = sums.flatten_all()?.to_vec1::<f32>()?;
        for (k, &count) in counts.iter().enumerate() {
            // A centroid that lost all its points keeps its place.
            if count > 0 {
                let row = k * IMAGE_PIXELS..(k + 1) * IMAGE_PIXELS;
                for (mu, s) in self.centroids[row.clone()].iter_mut().zip(&sums[row]) {
                    *mu = s / count as f32;
                }
            }
        }
        let changed =
            if self.assignments.is_empty() { self.n } else { assignments.iter().zip(&self.assignments).filter(|(a, b)| a != b).count() };
        self.assignments = assignments;
        self.objectives.push(objective);
        Ok((objective, changed))
    }
}

/// `‖x‖² − 2 x·μ + ‖μ‖²` for a chunk `x (B, 784)` with norms `(B, 1)` and centres `c (m, 784)`: `(B, m)`.
fn chunk_distances(x: &Tensor, norms: &Tensor, c: &Tensor) -> Result<Tensor> {
    let c_norms = c.sqr()?.sum_keepdim(1)?.t()?;
    let cross = x.matmul(&c.t()?.contiguous()?)?;
    norms.broadcast_add(&c_norms)?.broadcast_sub(&(cross * 2.0)?)
}

/// The index i where the running sum of `weights` first exceeds `u · total` (u in [0, 1)):
/// i is drawn with probability weights[i] / total. Zero weights are never drawn.
fn draw_proportional(weights: &[f32], total: f64, u: f64) -> usize {
    let target = u * total;
    let mut running = 0.0;
    let mut last_positive = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            running += w as f64;
            last_positive = i;
            if running > target {
                return i;
            }
        }
    }
    // Only rounding in the running sum gets here.
    last_positive
}

/// Each image's nearest centroid and squared distance, via the matrix product: `(N,)` indices
/// and `(N,)` distances for `pixels` `(N, 784)` bytes and `centroids` `(K, 784)`.
pub fn nearest(pixels: &[u8], centroids: &[f32], device: &Device) -> Result<(Vec<u32>, Vec<f32>)> {
    let k = centroids.len() / IMAGE_PIXELS;
    if k == 0 || !centroids.len().is_multiple_of(IMAGE_PIXELS) || !pixels.len().is_multiple_of(IMAGE_PIXELS) {
        candle_core::bail!("nearest centroid: expected whole 784-pixel rows");
    }
    let c = Tensor::from_slice(centroids, (k, IMAGE_PIXELS), device)?;
    let (mut codes, mut distances) = (Vec::new(), Vec::new());
    for part in pixels.chunks(ROWS_PER_CHUNK * IMAGE_PIXELS) {
        let values: Vec<f32> = part.iter().map(|&p| p as f32 / 255.0).collect();
        let x = Tensor::from_vec(values, (part.len() / IMAGE_PIXELS, IMAGE_PIXELS), device)?;
        let d = chunk_distances(&x, &x.sqr()?.sum_keepdim(1)?, &c)?;
        codes.extend(d.argmin(D::Minus1)?.to_vec1::<u32>()?);
        distances.extend(d.min(D::Minus1)?.clamp(0f32, f32::INFINITY)?.to_vec1::<f32>()?);
    }
    Ok((codes, distances))
}

/// The slow reference for [`nearest`]: every distance summed pixel by pixel in f64; ties go
/// to the lower index.
pub fn brute_force_nearest(pixels: &[u8], centroids: &[f32]) -> (Vec<u32>, Vec<f64>) {
    pixels
        .chunks(IMAGE_PIXELS)
        .map(|image| {
            centroids
                .chunks(IMAGE_PIXELS)
                .map(|mu| image.iter().zip(mu).map(|(&p, &m)| (p as f64 / 255.0 - m as f64).powi(2)).sum::<f64>())
                .enumerate()
                .fold((0u32, f64::INFINITY), |best, (k, d)| if d < best.1 { (k as u32, d) } else { best })
        })
        .unzip()
}

/// `−Σ_p [x_p log μ_p + (1 − x_p) log(1 − μ_p)]` in nats, x = pixel / 255, μ clamped to
/// [`BERNOULLI_EPSILON`], 1 − [`BERNOULLI_EPSILON`].
pub fn bernoulli_nll(image: &[u8], mean: &[f32]) -> f64 {
    let eps = BERNOULLI_EPSILON as f64;
    image
        .iter()
        .zip(mean)
        .map(|(&p, &m)| {
            let (x, mu) = (p as f64 / 255.0, (m as f64).clamp(eps, 1.0 - eps));
            -(x * mu.ln() + (1.0 - x) * (1.0 - mu).ln())
        })
        .sum()
}

/// Samples of the shallow VQ-VAE: z uniform over the K centroids, x = μ_z + σ ε with ε ~ N(0, I).
/// Returns `(count,)` codes and `(count, 784)` values (not clamped: a Gaussian leaves [0, 1]).
pub fn sample(centroids: &[f32], count: usize, sigma: f32, seed: u64) -> (Vec<u32>, Vec<f32>) {
    let k = centroids.len() / IMAGE_PIXELS;
    let mut rng = StdRng::seed_from_u64(seed);
    let codes: Vec<u32> = (0..count).map(|_| rng.random_range(0..k as u32)).collect();
    let pixels = codes
        .iter()
        .flat_map(|&z| centroids[z as usize * IMAGE_PIXELS..(z as usize + 1) * IMAGE_PIXELS].to_vec())
        .map(|mu| {
            let e: f32 = StandardNormal.sample(&mut rng);
            mu + sigma * e
        })
        .collect();
    (codes, pixels)
}
