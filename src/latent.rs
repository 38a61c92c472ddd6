//! Latent-space math on plain `f32` slices (row-major `(n, d)` point sets): the 2-D view
//! plane, grids over it, interpolation, the reparameterization and dimension sweeps.
//!
//! **View plane.** For `d = 2` the plane is the latent space itself. For `d > 2` it is spanned
//! by the first two principal components of a set of codes: with mean `m` and unit
//! eigenvectors `u₁, u₂` of the covariance, a code `z` maps to `((z−m)·u₁, (z−m)·u₂)` and a
//! plane point `(x, y)` back to `m + x u₁ + y u₂`.
//!
//! **Reparameterization.** A VAE's code of one image is `z = μ + σ ⊙ ε` with
//! `σ = exp(½ log σ²)` and `ε ~ N(0, I)`; ε comes from a seeded `StdRng`, draw after draw, so
//! the first k draws of a seed are the same whatever the number of draws.
//!
//! **Interpolation** from `a` to `b` in `s` steps: `z_i = a + (i / (s − 1)) (b − a)`.
//!
//! **Dimension rows**: row j sweeps coordinate j of a base code over the values
//! `v_t = −r + 2r·t / (s − 1)` while the other coordinates keep the base's.
//!
//! **Grids** run over cell centres, top row first (largest y), so that drawing row by row
//! puts y up as on the scatter plot.

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// A 2-D view of a d-dimensional space: identity when `d = 2`, PCA otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub mean: Vec<f32>,
    /// Two orthonormal directions, each of length d.
    pub axes: [Vec<f32>; 2],
    /// Variance of the fitted points along each axis (0 for the identity plane).
    pub variance: [f32; 2],
    /// Fraction of the total variance the two axes explain (1 for d = 2).
    pub explained: f32,
}

impl Plane {
    /// Identity for `d = 2`, else the PCA plane of `points (n, d)`.
    pub fn fit(points: &[f32], d: usize) -> Self {
        if d == 2 {
            Self::identity_for(2)
        } else {
            pca_plane(points, d)
        }
    }

    /// The plane before any codes have been seen: the first two coordinate axes of R^d.
    pub fn identity_for(d: usize) -> Self {
        let unit = |i: usize| (0..d).map(|j| if i == j { 1.0 } else { 0.0 }).collect();
        Self { mean: vec![0.0; d], axes: [unit(0), unit(1)], variance: [0.0, 0.0], explained: if d == 2 { 1.0 } else { 0.0 } }
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// What lifting needs, as one list: the mean, then the two axes (`3d` values). Another
    /// session of the same model decodes the same grid with it ([`Plane::for_lifting`]).
    pub fn lifting_values(&self) -> Vec<f32> {
        [&self.mean[..], &self.axes[0], &self.axes[1]].concat()
    }

    /// The plane of [`Plane::lifting_values`] in `d` dimensions, for lifting only (its
    /// variance and explained share are not carried: 0); None unless there are `3d` values.
    pub fn for_lifting(values: &[f32], d: usize) -> Option<Self> {
        if values.len() != 3 * d {
            return None;
        }
        let (mean, axes) = values.split_at(d);
        let (first, second) = axes.split_at(d);
        Some(Self { mean: mean.to_vec(), axes: [first.to_vec(), second.to_vec()], variance: [0.0, 0.0], explained: 0.0 })
    }

    /// `(n, d) → (n, 2)`.
    pub fn project(&self, points: &[f32]) -> Vec<f32> {
        let d = self.dim();
        points
            .chunks_exact(d)
            .flat_map(|z| {
                let centred = z.iter().zip(&self.mean).map(|(a, m)| a - m);
                let (mut x, mut y) = (0.0, 0.0);
                for (j, c) in centred.enumerate() {
                    x += c * self.axes[0][j];
                    y += c * self.axes[1][j];
                }
                [x, y]
            })
            .collect()
    }

    /// `(n, 2) → (n, d)`: each plane point as a code in the full space.
    pub fn lift(&self, plane_points: &[f32]) -> Vec<f32> {
        plane_points
            .chunks_exact(2)
            .flat_map(|p| (0..self.dim()).map(move |j| self.mean[j] + p[0] * self.axes[0][j] + p[1] * self.axes[1][j]))
            .collect()
    }
}

/// Mean and covariance `(d, d)` of `points (n, d)`, accumulated in f64.
pub fn mean_and_covariance(points: &[f32], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (points.len() / d).max(1) as f64;
    let mut mean = vec![0f64; d];
    for z in points.chunks_exact(d) {
        mean.iter_mut().zip(z).for_each(|(m, &v)| *m += v as f64 / n);
    }
    let mut cov = vec![0f64; d * d];
    for z in points.chunks_exact(d) {
        for i in 0..d {
            let ci = z[i] as f64 - mean[i];
            for j in i..d {
                cov[i * d + j] += ci * (z[j] as f64 - mean[j]) / n;
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            cov[i * d + j] = cov[j * d + i];
        }
    }
    (mean, cov)
}

/// Eigenvalues (descending) and unit eigenvectors of a symmetric `(d, d)` matrix by cyclic
/// Jacobi rotations: exact to rounding for the small d here (≤ 256), no tuning needed.
pub fn symmetric_eigen(matrix: &[f64], d: usize) -> Vec<(f64, Vec<f64>)> {
    let mut a = matrix.to_vec();
    let mut v = vec![0f64; d * d];
    (0..d).for_each(|i| v[i * d + i] = 1.0);
    for _sweep in 0..100 {
        let off: f64 = (0..d).flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i * d + j].powi(2)).sum();
        let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
        if off <= 1e-24 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut pairs: Vec<(f64, Vec<f64>)> = (0..d).map(|i| (a[i * d + i], (0..d).map(|k| v[k * d + i]).collect())).collect();
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    pairs
}

/// The plane of the two leading principal components of `points (n, d)`. Each axis's sign is
/// fixed so its largest component is positive, so the picture doesn't flip between refits.
pub fn pca_plane(points: &[f32], d: usize) -> Plane {
    let (mean, cov) = mean_and_covariance(points, d);
    let eigen = symmetric_eigen(&cov, d);
    let total: f64 = eigen.iter().map(|e| e.0.max(0.0)).sum();
    let axis = |i: usize| -> Vec<f32> {
        let v = &eigen[i].1;
        let largest = v.iter().copied().fold(0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        v.iter().map(|x| (sign * x) as f32).collect()
    };
    Plane {
        mean: mean.iter().map(|&m| m as f32).collect(),
        axes: [axis(0), axis(1)],
        variance: [eigen[0].0 as f32, eigen[1].0 as f32],
        explained: if total > 0.0 { ((eigen[0].0.max(0.0) + eigen[1].0.max(0.0)) / total) as f32 } else { 0.0 },
    }
}

/// An axis-aligned rectangle of the view plane.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
pub struct Rect {
    pub x0: f32,
    pub x1: f32,
    pub y0: f32,
    pub y1: f32,
}

/// Centres of an `nx × ny` grid of cells over `rect`, `(ny·nx, 2)`, top row (largest y) first.
pub fn grid(rect: Rect, nx: usize, ny: usize) -> Vec<f32> {
    let (w, h) = ((rect.x1 - rect.x0) / nx as f32, (rect.y1 - rect.y0) / ny as f32);
    (0..ny).flat_map(|row| (0..nx).flat_map(move |col| [rect.x0 + (col as f32 + 0.5) * w, rect.y1 - (row as f32 + 0.5) * h])).collect()
}

/// `steps` evenly spaced points from `a` to `b` inclusive, `(steps, d)`.
pub fn interpolate(a: &[f32], b: &[f32], steps: usize) -> Vec<f32> {
    let denom = steps.saturating_sub(1).max(1) as f32;
    (0..steps)
        .flat_map(|s| {
            let t = s as f32 / denom;
            a.iter().zip(b).map(move |(x, y)| x + t * (y - x))
        })
        .collect()
}

/// `count` numbers from N(0, 1), drawn in order from `StdRng::seed_from_u64(seed)`: a longer
/// draw extends a shorter one.
pub fn standard_normal(seed: u64, count: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// `z = μ + exp(½ log σ²) ⊙ ε` for every row of `epsilon (k, d)`; `mu` and `logvar` are length d.
pub fn reparameterize(mu: &[f32], logvar: &[f32], epsilon: &[f32]) -> Vec<f32> {
    epsilon.chunks_exact(mu.len()).flat_map(|eps| mu.iter().zip(logvar).zip(eps).map(|((m, lv), e)| m + (0.5 * lv).exp() * e)).collect()
}

/// `steps` values evenly from `−range` to `range` inclusive (computed in f64 as the page did).
pub fn sweep(range: f64, steps: usize) -> Vec<f32> {
    let denom = steps.saturating_sub(1).max(1) as f64;
    (0..steps).map(|i| (-range + 2.0 * range * i as f64 / denom) as f32).collect()
}

/// Codes of the dimension rows, `(count · values.len(), d)`: row j, column t is `base` with
/// coordinate j set to `values[t]`.
pub fn dim_rows(base: &[f32], count: usize, values: &[f32]) -> Vec<f32> {
    (0..count)
        .flat_map(|j| values.iter().flat_map(move |&v| base.iter().enumerate().map(move |(i, &b)| if i == j { v } else { b })))
        .collect()
}

/// The 1σ ellipse of a Gaussian seen on a plane.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Ellipse {
    /// Semi-axes: the square roots of the eigenvalues of `C`, larger first.
    pub r1: f32,
    pub r2: f32,
    /// Angle of the first semi-axis from the plane's x axis, in radians.
    pub angle: f32,
    /// The covariance on the plane `C` (`A diag(σ²) Aᵀ`, or `A Σ Aᵀ`) as `[cxx, cxy, cyy]`.
    pub cov: [f32; 3],
}

/// `σ = exp(½ log σ²)`.
pub fn sigma(logvar: &[f32]) -> Vec<f32> {
    logvar.iter().map(|lv| (0.5 * lv).exp()).collect()
}

/// The 1σ ellipse of `N(μ, diag σ²)` projected by the plane's unit axes `A (2, d)`: the
/// projection is `N(Aμ, C)` with `C = A diag(σ²) Aᵀ`.
pub fn projected_ellipse(logvar: &[f32], axes: &[Vec<f32>; 2]) -> Ellipse {
    let (mut cxx, mut cxy, mut cyy) = (0f64, 0f64, 0f64);
    for (j, lv) in logvar.iter().enumerate() {
        let variance = (*lv as f64).exp();
        let (a, b) = (axes[0][j] as f64, axes[1][j] as f64);
        cxx += a * a * variance;
        cxy += a * b * variance;
        cyy += b * b * variance;
    }
    ellipse_of([cxx, cxy, cyy])
}

/// The 1σ ellipse of `N(μ, Σ)` with a full covariance `Σ (d, d)` seen on the plane: `C = A Σ Aᵀ`.
pub fn projected_covariance_ellipse(cov: &[f64], axes: &[Vec<f32>; 2]) -> Ellipse {
    let d = axes[0].len();
    let quad = |u: &[f32], v: &[f32]| -> f64 {
        (0..d).flat_map(|a| (0..d).map(move |b| (a, b))).map(|(a, b)| u[a] as f64 * cov[a * d + b] * v[b] as f64).sum()
    };
    ellipse_of([quad(&axes[0], &axes[0]), quad(&axes[0], &axes[1]), quad(&axes[1], &axes[1])])
}

/// The 1σ ellipse of a plane covariance `C = [cxx, cxy, cyy]`: its eigen-decomposition in
/// closed form (2 × 2) gives the semi-axes and the angle.
pub fn ellipse_of([cxx, cxy, cyy]: [f64; 3]) -> Ellipse {
    let mean = (cxx + cyy) / 2.0;
    let spread = ((cxx - cyy) / 2.0).hypot(cxy);
    Ellipse {
        r1: (mean + spread).sqrt() as f32,
        r2: (mean - spread).max(0.0).sqrt() as f32,
        angle: (0.5 * (2.0 * cxy).atan2(cxx - cyy)) as f32,
        cov: [cxx as f32, cxy as f32, cyy as f32],
    }
}
