//! Gaussian mixtures and k-means on plain `f64` slices: the discrete latent variable before the
//! VQ-VAE. Points are row-major `(N, d)`; a mixture has K components.
//!
//! **Model.** `z ∈ {1…K}` with `P(z = c) = π_c`, and `p(x | z = c) = N(x; μ_c, Σ_c)` where
//!
//! ```text
//! N(x; μ, Σ) = exp(−½ (x−μ)ᵀ Σ⁻¹ (x−μ)) / √((2π)^d |Σ|)
//! joint      P(x, z=c) = π_c N(x; μ_c, Σ_c)
//! marginal   p(x)      = Σ_c π_c N(x; μ_c, Σ_c)                      (marginalization)
//! posterior  P(z=c|x)  = π_c N(x; μ_c, Σ_c) / Σ_j π_j N(x; μ_j, Σ_j)   (inference, Bayes)
//! ```
//!
//! Densities are computed in logs through the Cholesky factor `Σ = L Lᵀ`:
//! `log N = −½ (d log 2π + 2 Σ_i log L_ii + ‖L⁻¹(x−μ)‖²)`, and sums of densities by
//! log-sum-exp, so far tails neither underflow nor divide 0 by 0.
//!
//! **EM.** The marginal log-likelihood `Σ_n log Σ_c π_c N(x_n; μ_c, Σ_c)` does not split into
//! one term per parameter, so EM alternates
//!
//! ```text
//! E: r_nc = P(z=c | x_n) under the current parameters          (responsibilities, (N, K))
//! M: N_c = Σ_n r_nc,  π_c = N_c / N,  μ_c = Σ_n r_nc x_n / N_c,
//!    Σ_c = Σ_n r_nc (x_n − μ_c)(x_n − μ_c)ᵀ / N_c + ε I
//! ```
//!
//! and the log-likelihood never decreases from one step to the next. `ε` (see [`em_step`]) keeps
//! a component that shrinks onto one point from a singular covariance; it is tiny next to the
//! data's spread. A component with no responsibility at all keeps its mean and covariance.
//!
//! **k-means** is the hard version: assign each point to its nearest centroid, then move each
//! centroid to the mean of its points. Its objective `J = Σ_n ‖x_n − μ_{z_n}‖²` never
//! increases; a centroid with no points stays where it is. [`kmeans_plus_plus`] seeds the
//! centroids (first uniformly, then each with probability ∝ its squared distance to the
//! nearest centroid so far).

pub mod lesson;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

const LOG_2PI: f64 = 1.837_877_066_409_345_5;

/// A Gaussian mixture over R^d.
#[derive(Debug, Clone, PartialEq)]
pub struct Gmm {
    pub dim: usize,
    /// `(K,)` π, summing to 1.
    pub weights: Vec<f64>,
    /// `(K, d)` μ.
    pub means: Vec<f64>,
    /// `(K, d, d)` Σ, symmetric positive definite.
    pub covariances: Vec<f64>,
}

/// One component ready for density evaluation: its mean, the Cholesky factor of its
/// covariance and `log π_c − ½ (d log 2π + log |Σ_c|)`.
struct Prepared {
    mean: Vec<f64>,
    chol: Vec<f64>,
    log_scale: f64,
}

impl Gmm {
    /// Checks the shapes, that the weights are a distribution and that every covariance is
    /// positive definite.
    pub fn new(dim: usize, weights: Vec<f64>, means: Vec<f64>, covariances: Vec<f64>) -> Result<Self, String> {
        let k = weights.len();
        if dim == 0 || k == 0 || means.len() != k * dim || covariances.len() != k * dim * dim {
            return Err(format!(
                "a mixture of {k} components in {dim} dimensions needs {k}·{dim} means and {k}·{dim}² covariance entries (got {} and {})",
                means.len(),
                covariances.len()
            ));
        }
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || (weights.iter().sum::<f64>() - 1.0).abs() > 1e-6 {
            return Err(format!("the weights π must be non-negative and sum to 1, got {weights:?}"));
        }
        if means.iter().chain(&covariances).any(|v| !v.is_finite()) {
            return Err("the means and covariances must be finite".into());
        }
        for c in 0..k {
            if cholesky(&covariances[c * dim * dim..(c + 1) * dim * dim], dim).is_none() {
                return Err(format!("the covariance of component {c} is not positive definite"));
            }
        }
        Ok(Self { dim, weights, means, covariances })
    }

    /// A 1-D mixture from weights, means and standard deviations.
    pub fn one_d(weights: &[f64], means: &[f64], sigmas: &[f64]) -> Result<Self, String> {
        if sigmas.len() != weights.len() || sigmas.iter().any(|s| s.is_nan() || *s <= 0.0) {
            return Err(format!("every σ must be positive, one per component; got {sigmas:?}"));
        }
        Self::new(1, weights.to_vec(), means.to_vec(), sigmas.iter().map(|s| s * s).collect())
    }

    pub fn components(&self) -> usize {
        self.weights.len()
    }

    fn prepare(&self) -> Vec<Prepared> {
        let d = self.dim;
        (0..self.components())
            .map(|c| {
                let chol = cholesky(&self.covariances[c * d * d..(c + 1) * d * d], d).expect("checked positive definite");
                let log_det: f64 = (0..d).map(|i| 2.0 * chol[i * d + i].ln()).sum();
                Prepared {
                    mean: self.means[c * d..(c + 1) * d].to_vec(),
                    chol,
                    log_scale: self.weights[c].ln() - 0.5 * (d as f64 * LOG_2PI + log_det),
                }
            })
            .collect()
    }

    /// `log π_c + log N(x; μ_c, Σ_c)` for every c: the log joint `log P(x, z=c)`.
    pub fn log_joint(&self, x: &[f64]) -> Vec<f64> {
        let mut out = vec![0f64; self.components()];
        log_joint_into(&self.prepare(), x, &mut vec![0f64; self.dim], &mut out);
        out
    }

    /// `log N(x; μ_c, Σ_c)` for every c: the log likelihood of each component.
    pub fn component_log_densities(&self, x: &[f64]) -> Vec<f64> {
        self.log_joint(x).iter().zip(&self.weights).map(|(j, w)| j - w.ln()).collect()
    }

    /// `log p(x)`.
    pub fn log_density(&self, x: &[f64]) -> f64 {
        log_sum_exp(&self.log_joint(x))
    }

    /// `P(z | x)`, summing to 1.
    pub fn posterior(&self, x: &[f64]) -> Vec<f64> {
        normalise_logs(&self.log_joint(x))
    }

    /// `Σ_n log p(x_n)` over `points (N, d)`.
    pub fn log_likelihood(&self, points: &[f64]) -> f64 {
        let prepared = self.prepare();
        let (mut scratch, mut joint) = (vec![0f64; self.dim], vec![0f64; self.components()]);
        points
            .chunks_exact(self.dim)
            .map(|x| {
                log_joint_into(&prepared, x, &mut scratch, &mut joint);
                log_sum_exp(&joint)
            })
            .sum()
    }

    /// Ancestral sampling: for each of `n` draws, z ~ Categorical(π), then x ~ N(μ_z, Σ_z)
    /// as `μ_z + L_z ε`. Returns `(z (n,), x (n, d))`.
    pub fn sample(&self, n: usize, rng: &mut StdRng) -> (Vec<u32>, Vec<f64>) {
        let prepared = self.prepare();
        let d = self.dim;
        let mut zs = Vec::with_capacity(n);
        let mut xs = Vec::with_capacity(n * d);
        for _ in 0..n {
            let c = categorical(&self.weights, rng.random::<f64>());
            let eps: Vec<f64> = (0..d).map(|_| StandardNormal.sample(rng)).collect();
            let p = &prepared[c];
            for i in 0..d {
                xs.push(p.mean[i] + (0..=i).map(|j| p.chol[i * d + j] * eps[j]).sum::<f64>());
            }
            zs.push(c as u32);
        }
        (zs, xs)
    }
}

/// `log π_c + log N(x; μ_c, Σ_c)` of every component into `out (K,)`; `scratch` holds d numbers.
/// No allocation: EM calls this for every point at every step.
fn log_joint_into(prepared: &[Prepared], x: &[f64], scratch: &mut [f64], out: &mut [f64]) {
    for (o, p) in out.iter_mut().zip(prepared) {
        *o = p.log_scale - 0.5 * mahalanobis_sq(&p.chol, &p.mean, x, scratch);
    }
}

/// `‖L⁻¹ (x − μ)‖²` by forward substitution into `y` (d numbers).
fn mahalanobis_sq(chol: &[f64], mean: &[f64], x: &[f64], y: &mut [f64]) -> f64 {
    let d = y.len();
    for i in 0..d {
        let s: f64 = (0..i).map(|j| chol[i * d + j] * y[j]).sum();
        y[i] = (x[i] - mean[i] - s) / chol[i * d + i];
    }
    y.iter().map(|v| v * v).sum()
}

/// Lower-triangular `L` with `L Lᵀ = A` for a symmetric `(d, d)` matrix, or None when `A` is
/// not positive definite.
pub fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = a[i * d + j] - (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum::<f64>();
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// `log Σ exp(v_i)`, −∞ for an empty slice or all −∞.
pub fn log_sum_exp(v: &[f64]) -> f64 {
    let top = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return top;
    }
    top + v.iter().map(|x| (x - top).exp()).sum::<f64>().ln()
}

/// `exp(v_i) / Σ exp(v_j)`.
fn normalise_logs(v: &[f64]) -> Vec<f64> {
    let total = log_sum_exp(v);
    v.iter().map(|x| (x - total).exp()).collect()
}

/// The index whose cumulative weight first exceeds `u ∈ [0, 1)` (the last on rounding).
fn categorical(weights: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if u < acc {
            return i;
        }
    }
    weights.len() - 1
}

/// What one EM step saw and did.
#[derive(Debug, Clone)]
pub struct EmStep {
    /// `(N, K)` responsibilities of the E-step, under the parameters before the step.
    pub responsibilities: Vec<f64>,
    /// `Σ_n log p(x_n)` under the parameters before the step.
    pub log_likelihood: f64,
    /// The parameters after the M-step.
    pub next: Gmm,
}

/// One EM step of `gmm` on `points (N, d)`; `floor` is the ε added to every covariance's diagonal.
pub fn em_step(gmm: &Gmm, points: &[f64], floor: f64) -> EmStep {
    let (d, k) = (gmm.dim, gmm.components());
    let n = points.len() / d;
    let prepared = gmm.prepare();
    let mut responsibilities = Vec::with_capacity(n * k);
    let mut log_likelihood = 0.0;
    let (mut scratch, mut joint) = (vec![0f64; d], vec![0f64; k]);
    for x in points.chunks_exact(d) {
        log_joint_into(&prepared, x, &mut scratch, &mut joint);
        let total = log_sum_exp(&joint);
        log_likelihood += total;
        responsibilities.extend(joint.iter().map(|j| (j - total).exp()));
    }
    let mut next = gmm.clone();
    for c in 0..k {
        let mass: f64 = (0..n).map(|i| responsibilities[i * k + c]).sum();
        next.weights[c] = mass / n as f64;
        // Nothing assigned: the mean and covariance have no data to follow.
        if mass <= f64::MIN_POSITIVE * 1e6 {
            continue;
        }
        let mut mean = vec![0f64; d];
        for (i, x) in points.chunks_exact(d).enumerate() {
            let r = responsibilities[i * k + c];
            mean.iter_mut().zip(x).for_each(|(m, v)| *m += r * v / mass);
        }
        let mut cov = vec![0f64; d * d];
        for (i, x) in points.chunks_exact(d).enumerate() {
            let r = responsibilities[i * k + c] / mass;
            for a in 0..d {
                for b in 0..=a {
                    cov[a * d + b] += r * (x[a] - mean[a]) * (x[b] - mean[b]);
                }
            }
        }
        for a in 0..d {
            cov[a * d + a] += floor;
            for b in 0..a {
                cov[b * d + a] = cov[a * d + b];
            }
        }
        next.means[c * d..(c + 1) * d].copy_from_slice(&mean);
        next.covariances[c * d * d..(c + 1) * d * d].copy_from_slice(&cov);
    }
    let total: f64 = next.weights.iter().sum();
    next.weights.iter_mut().for_each(|w| *w /= total);
    EmStep { responsibilities, log_likelihood, next }
}

/// The covariance floor for `points (N, d)`: a millionth of their mean per-coordinate variance.
pub fn covariance_floor(points: &[f64], d: usize) -> f64 {
    let (_, cov) = mean_and_covariance(points, d);
    let mean_var = (0..d).map(|i| cov[i * d + i]).sum::<f64>() / d as f64;
    (1e-6 * mean_var).max(1e-12)
}

/// Mean `(d,)` and covariance `(d, d)` of `points (N, d)`.
pub fn mean_and_covariance(points: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (points.len() / d).max(1) as f64;
    let mut mean = vec![0f64; d];
    for x in points.chunks_exact(d) {
        mean.iter_mut().zip(x).for_each(|(m, v)| *m += v / n);
    }
    let mut cov = vec![0f64; d * d];
    for x in points.chunks_exact(d) {
        for a in 0..d {
            for b in 0..d {
                cov[a * d + b] += (x[a] - mean[a]) * (x[b] - mean[b]) / n;
            }
        }
    }
    (mean, cov)
}

/// A mixture started at `centroids (K, d)`: equal weights, each covariance that of all the points.
pub fn gmm_from_centroids(centroids: &[f64], points: &[f64], d: usize) -> Gmm {
    let k = centroids.len() / d;
    let (_, mut cov) = mean_and_covariance(points, d);
    let floor = covariance_floor(points, d);
    (0..d).for_each(|i| cov[i * d + i] += floor);
    Gmm { dim: d, weights: vec![1.0 / k as f64; k], means: centroids.to_vec(), covariances: cov.repeat(k) }
}

/// EM from `start` until the mean log-likelihood per point gains less than `tolerance` or
/// `max_steps` ran. Returns the fit and the log-likelihood `Σ_n log p(x_n)` before each step
/// and after the last.
pub fn fit_em(start: Gmm, points: &[f64], max_steps: usize, tolerance: f64) -> (Gmm, Vec<f64>) {
    let n = (points.len() / start.dim).max(1) as f64;
    let floor = covariance_floor(points, start.dim);
    let mut gmm = start;
    let mut history = Vec::new();
    for _ in 0..max_steps {
        let step = em_step(&gmm, points, floor);
        let gained = history.last().map(|last: &f64| (step.log_likelihood - last) / n);
        history.push(step.log_likelihood);
        gmm = step.next;
        if gained.is_some_and(|g| g < tolerance) {
            break;
        }
    }
    history.push(gmm.log_likelihood(points));
    (gmm, history)
}

/// EM on `points (N, d)` started from k-means++ centroids drawn with `seed`, run to
/// convergence as [`fit_em`] does.
pub fn fit_from_kmeans_plus_plus(points: &[f64], d: usize, k: usize, seed: u64, max_steps: usize, tolerance: f64) -> (Gmm, Vec<f64>) {
    let centroids = kmeans_plus_plus(points, d, k, &mut StdRng::seed_from_u64(seed));
    fit_em(gmm_from_centroids(&centroids, points, d), points, max_steps, tolerance)
}

/// Index of the nearest of `centroids (K, d)` to `x` (the lowest index on ties) and its squared distance.
pub fn nearest(centroids: &[f64], x: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, mu) in centroids.chunks_exact(x.len()).enumerate() {
        let dist: f64 = mu.iter().zip(x).map(|(m, v)| (m - v).powi(2)).sum();
        if dist < best.1 {
            best = (c, dist);
        }
    }
    best
}

/// What one k-means step saw and did.
#[derive(Debug, Clone)]
pub struct KMeansStep {
    /// `(N,)` the nearest centroid of each point, before the update.
    pub assignments: Vec<u32>,
    /// `J = Σ_n ‖x_n − μ_{z_n}‖²` with those assignments and the centroids before the update.
    pub objective: f64,
    /// `(K, d)` each centroid moved to the mean of its points.
    pub next: Vec<f64>,
}

/// One k-means step (assign, then update) of `centroids (K, d)` on `points (N, d)`.
pub fn kmeans_step(centroids: &[f64], points: &[f64], d: usize) -> KMeansStep {
    let k = centroids.len() / d;
    let mut sums = vec![0f64; k * d];
    let mut counts = vec![0usize; k];
    let mut objective = 0.0;
    let assignments = points
        .chunks_exact(d)
        .map(|x| {
            let (c, dist) = nearest(centroids, x);
            objective += dist;
            counts[c] += 1;
            sums[c * d..(c + 1) * d].iter_mut().zip(x).for_each(|(s, v)| *s += v);
            c as u32
        })
        .collect();
    let next = (0..k)
        .flat_map(|c| (0..d).map(move |j| (c, j)))
        .map(|(c, j)| if counts[c] == 0 { centroids[c * d + j] } else { sums[c * d + j] / counts[c] as f64 })
        .collect();
    KMeansStep { assignments, objective, next }
}

/// `J` of `points` against their nearest of `centroids`.
pub fn kmeans_objective(centroids: &[f64], points: &[f64], d: usize) -> f64 {
    points.chunks_exact(d).map(|x| nearest(centroids, x).1).sum()
}

/// k-means++ seeding: `k` rows of `points (N, d)` as starting centroids `(k, d)`.
pub fn kmeans_plus_plus(points: &[f64], d: usize, k: usize, rng: &mut StdRng) -> Vec<f64> {
    let n = points.len() / d;
    let row = |i: usize| &points[i * d..(i + 1) * d];
    let mut centroids = row(rng.random_range(0..n)).to_vec();
    let mut dist: Vec<f64> = (0..n).map(|i| nearest(&centroids, row(i)).1).collect();
    while centroids.len() < k * d {
        let total: f64 = dist.iter().sum();
        // All points sit on centroids already: any point will do.
        let pick = if total > 0.0 {
            categorical(&dist.iter().map(|v| v / total).collect::<Vec<_>>(), rng.random::<f64>())
        } else {
            rng.random_range(0..n)
        };
        centroids.extend_from_slice(row(pick));
        let newest = &centroids[centroids.len() - d..];
        for (i, dv) in dist.iter_mut().enumerate() {
            let dn: f64 = newest.iter().zip(row(i)).map(|(a, b)| (a - b).powi(2)).sum();
            *dv = dv.min(dn);
        }
    }
    centroids
}

/// Densities of `values` as a histogram over `[x0, x1)` in `bins` equal bins: count / (N · width),
/// so its area is the share of values inside the range.
pub fn histogram_density(values: &[f64], x0: f64, x1: f64, bins: usize) -> Vec<f64> {
    let width = (x1 - x0) / bins as f64;
    let mut counts = vec![0f64; bins];
    for &v in values {
        let b = ((v - x0) / width).floor();
        if b >= 0.0 && (b as usize) < bins {
            counts[b as usize] += 1.0;
        }
    }
    let scale = 1.0 / (values.len().max(1) as f64 * width);
    counts.iter().map(|c| c * scale).collect()
}
