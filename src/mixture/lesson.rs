//! The mixture lesson's state and answers: a 1-D mixture of two Gaussians the student sets
//! (π, μ_c, σ_c), its curves, Bayes' rule at one x, ancestral samples, EM fitted to those
//! samples one step at a time; and a 2-D data set clustered by k-means and by a GMM side by
//! side. Needs no trained model: the page asks it on its own thread (each answer takes well
//! under a millisecond).
//!
//! Shapes: the 1-D curves are drawn at `n` points of [`AXIS`]; samples are `(N,)`;
//! responsibilities `(N, K)` row-major; the 2-D points `(N, 2)`.
//!
//! Every fit keeps the step it would take next ([`EmStep`], [`KMeansStep`]): its E-step (or
//! assignment) under the current parameters is what the page colours, and taking the step
//! moves to its M-step (or update).

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::{em_step, gmm_from_centroids, histogram_density, kmeans_plus_plus, kmeans_step, EmStep, Gmm, KMeansStep};
use crate::latent::{ellipse_of, Ellipse};
use crate::session::{Bulk, Reply};

/// The x range the 1-D pictures cover.
pub const AXIS: [f64; 2] = [-30.0, 30.0];
/// Bins of the samples' histogram over [`AXIS`].
pub const HISTOGRAM_BINS: usize = 60;
/// Points of the fitted mixture's curve in [`EmState`].
pub const FITTED_CURVE_POINTS: usize = 301;
/// Most samples or curve points one call makes.
pub const MAX_POINTS: usize = 100_000;
/// k-means and GMM components of the 2-D picture, and its points.
pub const CLUSTERS: usize = 3;
pub const CLUSTER_POINTS: usize = 450;

/// A 1-D mixture as the sliders set it: weights π, means μ and standard deviations σ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub weights: Vec<f64>,
    pub means: Vec<f64>,
    pub sigmas: Vec<f64>,
}

impl Params {
    /// The lecture's example: P(z) = (0.5, 0.5), μ = (−10, +10); σ = 4 is ours (the lecture
    /// gives none), wide enough that the two bumps overlap near 0.
    pub fn lecture() -> Self {
        Self { weights: vec![0.5, 0.5], means: vec![-10.0, 10.0], sigmas: vec![4.0, 4.0] }
    }

    fn of(gmm: &Gmm) -> Self {
        Self { weights: gmm.weights.clone(), means: gmm.means.clone(), sigmas: gmm.covariances.iter().map(|v| v.sqrt()).collect() }
    }

    fn gmm(&self) -> Result<Gmm, String> {
        Gmm::one_d(&self.weights, &self.means, &self.sigmas)
    }
}

impl Reply for Params {}

/// The curves at `xs`: the joint `P(x|z=c)P(z=c)` of each component and the marginal `p(x)`.
#[derive(Debug, Clone, Serialize)]
pub struct Curves {
    #[serde(skip)]
    pub xs: Vec<f32>,
    /// `(K, n)`.
    #[serde(skip)]
    pub joint: Vec<f32>,
    /// `(n,)`.
    #[serde(skip)]
    pub marginal: Vec<f32>,
}

impl Reply for Curves {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("xs", Some(Bulk::F32(&self.xs))), ("joint", Some(Bulk::F32(&self.joint))), ("marginal", Some(Bulk::F32(&self.marginal)))]
    }
}

/// Bayes' rule at one x, every term: `posterior_c = prior_c · likelihood_c / marginal`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bayes {
    pub x: f64,
    /// `P(z=c)`.
    pub prior: Vec<f64>,
    /// `p(x | z=c) = N(x; μ_c, σ_c²)`.
    pub likelihood: Vec<f64>,
    /// `P(x, z=c)`.
    pub joint: Vec<f64>,
    /// `p(x) = Σ_c P(x, z=c)`.
    pub marginal: f64,
    /// `P(z=c | x)`.
    pub posterior: Vec<f64>,
}

impl Reply for Bayes {}

/// Ancestral samples: z first, then x given z.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Samples {
    pub seed: u64,
    pub count: usize,
    /// `[x0, x1]` and the number of bins of `histogram`.
    pub range: [f64; 2],
    pub bins: usize,
    /// `(N,)`.
    #[serde(skip)]
    pub zs: Vec<u32>,
    #[serde(skip)]
    pub xs: Vec<f32>,
    /// `(bins,)` density of the samples per bin (area 1 over the samples inside the range).
    #[serde(skip)]
    pub histogram: Vec<f32>,
}

impl Reply for Samples {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![("zs", Some(Bulk::U32(&self.zs))), ("xs", Some(Bulk::F32(&self.xs))), ("histogram", Some(Bulk::F32(&self.histogram)))]
    }
}

/// EM on the samples: where it stands and what its last step did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmState {
    /// Steps taken.
    pub step: usize,
    pub params: Params,
    /// The parameters before the last step (None before the first).
    pub previous: Option<Params>,
    /// `Σ_n log p(x_n)` after 0, 1, … `step` steps.
    pub log_likelihoods: Vec<f64>,
    /// `(N, K)`: `P(z=c | x_n)` under `params`, the E-step the next M-step uses.
    #[serde(skip)]
    pub responsibilities: Vec<f32>,
    /// The fitted mixture's curves at [`FITTED_CURVE_POINTS`] points of [`AXIS`].
    #[serde(skip)]
    pub fitted: Curves,
}

impl Reply for EmState {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("responsibilities", Some(Bulk::F32(&self.responsibilities))),
            ("fittedXs", Some(Bulk::F32(&self.fitted.xs))),
            ("fittedMarginal", Some(Bulk::F32(&self.fitted.marginal))),
        ]
    }
}

/// The 2-D points clustered both ways, after `step` steps of each.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Clusters {
    pub step: usize,
    pub k: usize,
    /// J after 0, 1, … `step` k-means steps.
    pub kmeans_objectives: Vec<f64>,
    /// `Σ_n log p(x_n)` after 0, 1, … `step` EM steps.
    pub log_likelihoods: Vec<f64>,
    pub gmm_weights: Vec<f64>,
    /// The 1σ ellipse of each GMM component.
    pub gmm_ellipses: Vec<Ellipse>,
    /// `(N, 2)`.
    #[serde(skip)]
    pub points: Vec<f32>,
    /// `(N,)` the component each point was drawn from.
    #[serde(skip)]
    pub labels: Vec<u8>,
    /// `(K, 2)` and `(N,)`: the centroids and each point's nearest one.
    #[serde(skip)]
    pub centroids: Vec<f32>,
    #[serde(skip)]
    pub assignments: Vec<u32>,
    /// `(K, 2)` and `(N, K)`: the GMM's means and each point's responsibilities.
    #[serde(skip)]
    pub gmm_means: Vec<f32>,
    #[serde(skip)]
    pub responsibilities: Vec<f32>,
}

impl Reply for Clusters {
    fn bulk(&self) -> Vec<(&'static str, Option<Bulk<'_>>)> {
        vec![
            ("points", Some(Bulk::F32(&self.points))),
            ("labels", Some(Bulk::U8(&self.labels))),
            ("centroids", Some(Bulk::F32(&self.centroids))),
            ("assignments", Some(Bulk::U32(&self.assignments))),
            ("gmmMeans", Some(Bulk::F32(&self.gmm_means))),
            ("responsibilities", Some(Bulk::F32(&self.responsibilities))),
        ]
    }
}

struct EmFit {
    step: usize,
    previous: Option<Gmm>,
    log_likelihoods: Vec<f64>,
    /// The next step from the current parameters (its `next` is where it goes).
    pending: EmStep,
    current: Gmm,
}

impl EmFit {
    fn start(gmm: Gmm, points: &[f64], floor: f64) -> Self {
        let pending = em_step(&gmm, points, floor);
        Self { step: 0, previous: None, log_likelihoods: vec![pending.log_likelihood], pending, current: gmm }
    }

    fn advance(&mut self, points: &[f64], floor: f64) {
        let next = self.pending.next.clone();
        self.pending = em_step(&next, points, floor);
        self.log_likelihoods.push(self.pending.log_likelihood);
        self.previous = Some(std::mem::replace(&mut self.current, next));
        self.step += 1;
    }
}

struct Plane2d {
    points: Vec<f64>,
    labels: Vec<u8>,
    floor: f64,
    kmeans: KMeansStep,
    centroids: Vec<f64>,
    objectives: Vec<f64>,
    gmm: EmFit,
}

/// The lesson: the 1-D mixture, its samples and EM fit, and the 2-D clusters.
pub struct Lesson {
    truth: Gmm,
    /// The last samples' x, what EM fits.
    points: Vec<f64>,
    fit: Option<EmFit>,
    plane: Option<Plane2d>,
}

impl Default for Lesson {
    fn default() -> Self {
        Self::new()
    }
}

impl Lesson {
    pub fn new() -> Self {
        Self { truth: Params::lecture().gmm().expect("the lecture's mixture is valid"), points: Vec::new(), fit: None, plane: None }
    }

    pub fn params(&self) -> Params {
        Params::of(&self.truth)
    }

    /// New parameters for the 1-D mixture; its samples and their fit belong to the old ones and go.
    pub fn set_params(&mut self, params: &Params) -> Result<(), String> {
        if params.weights.len() != 2 || params.means.len() != 2 {
            return Err(format!("the lesson's mixture has two components, got {}", params.weights.len()));
        }
        self.truth = params.gmm()?;
        self.points.clear();
        self.fit = None;
        Ok(())
    }

    /// The joint of each component and the marginal at `n` evenly spaced x over [`AXIS`].
    pub fn curves(&self, n: usize) -> Result<Curves, String> {
        check_count(n, 2, "curve points")?;
        Ok(curves_of(&self.truth, n))
    }

    /// Bayes' rule at `x`, with every term.
    pub fn bayes(&self, x: f64) -> Result<Bayes, String> {
        if !x.is_finite() {
            return Err(format!("x must be a finite number, got {x}"));
        }
        let joint: Vec<f64> = self.truth.log_joint(&[x]).iter().map(|l| l.exp()).collect();
        let likelihood = self.truth.component_log_densities(&[x]).iter().map(|l| l.exp()).collect();
        Ok(Bayes {
            x,
            prior: self.truth.weights.clone(),
            likelihood,
            marginal: joint.iter().sum(),
            joint,
            posterior: self.truth.posterior(&[x]),
        })
    }

    /// `count` ancestral samples from `seed`; they replace the previous ones and restart EM on them.
    pub fn sample(&mut self, count: usize, seed: u64) -> Result<Samples, String> {
        check_count(count, 2, "samples")?;
        let (zs, xs) = self.truth.sample(count, &mut StdRng::seed_from_u64(seed));
        let samples = Samples {
            seed,
            count,
            range: AXIS,
            bins: HISTOGRAM_BINS,
            histogram: histogram_density(&xs, AXIS[0], AXIS[1], HISTOGRAM_BINS).iter().map(|&v| v as f32).collect(),
            xs: xs.iter().map(|&x| x as f32).collect(),
            zs,
        };
        self.points = xs;
        self.fit = None;
        self.em_reset()?;
        Ok(samples)
    }

    /// EM restarted on the samples from a deliberately poor guess: equal weights, both σ the
    /// samples' spread s, the means at the samples' mean x̄ ∓ s/2 (close together).
    pub fn em_reset(&mut self) -> Result<EmState, String> {
        let points = &self.points;
        if points.len() < 2 {
            return Err("draw samples before fitting EM to them".into());
        }
        let (mean, cov) = super::mean_and_covariance(points, 1);
        let s = cov[0].sqrt().max(1e-3);
        let start = Gmm::one_d(&[0.5, 0.5], &[mean[0] - s / 2.0, mean[0] + s / 2.0], &[s, s])?;
        self.fit = Some(EmFit::start(start, points, super::covariance_floor(points, 1)));
        self.em_state()
    }

    /// `steps` EM steps on the samples.
    pub fn em_step(&mut self, steps: usize) -> Result<EmState, String> {
        let floor = super::covariance_floor(&self.points, 1);
        let fit = self.fit.as_mut().ok_or("draw samples before fitting EM to them")?;
        for _ in 0..steps {
            fit.advance(&self.points, floor);
        }
        self.em_state()
    }

    pub fn em_state(&self) -> Result<EmState, String> {
        let fit = self.fit.as_ref().ok_or("draw samples before fitting EM to them")?;
        Ok(EmState {
            step: fit.step,
            params: Params::of(&fit.current),
            previous: fit.previous.as_ref().map(Params::of),
            log_likelihoods: fit.log_likelihoods.clone(),
            responsibilities: fit.pending.responsibilities.iter().map(|&r| r as f32).collect(),
            fitted: curves_of(&fit.current, FITTED_CURVE_POINTS),
        })
    }

    /// New 2-D points from `seed` (three elongated and round clusters), and k-means and a GMM
    /// both started at the same k-means++ centroids.
    pub fn clusters_reset(&mut self, seed: u64) -> Clusters {
        let mut rng = StdRng::seed_from_u64(seed);
        let (labels, points) = cluster_truth().sample(CLUSTER_POINTS, &mut rng);
        let centroids = kmeans_plus_plus(&points, 2, CLUSTERS, &mut rng);
        let floor = super::covariance_floor(&points, 2);
        let gmm = EmFit::start(gmm_from_centroids(&centroids, &points, 2), &points, floor);
        let kmeans = kmeans_step(&centroids, &points, 2);
        self.plane = Some(Plane2d {
            objectives: vec![kmeans.objective],
            labels: labels.iter().map(|&z| z as u8).collect(),
            kmeans,
            centroids,
            floor,
            gmm,
            points,
        });
        self.clusters().expect("just set")
    }

    /// `steps` more steps of k-means and of EM.
    pub fn clusters_step(&mut self, steps: usize) -> Result<Clusters, String> {
        let plane = self.plane.as_mut().ok_or("draw the 2-D points first")?;
        for _ in 0..steps {
            plane.centroids = plane.kmeans.next.clone();
            plane.kmeans = kmeans_step(&plane.centroids, &plane.points, 2);
            plane.objectives.push(plane.kmeans.objective);
            plane.gmm.advance(&plane.points, plane.floor);
        }
        self.clusters()
    }

    pub fn clusters(&self) -> Result<Clusters, String> {
        let plane = self.plane.as_ref().ok_or("draw the 2-D points first")?;
        let gmm = &plane.gmm.current;
        let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<_>>();
        Ok(Clusters {
            step: plane.gmm.step,
            k: CLUSTERS,
            kmeans_objectives: plane.objectives.clone(),
            log_likelihoods: plane.gmm.log_likelihoods.clone(),
            gmm_weights: gmm.weights.clone(),
            gmm_ellipses: gmm.covariances.chunks_exact(4).map(|c| ellipse_of([c[0], c[1], c[3]])).collect(),
            points: f32s(&plane.points),
            labels: plane.labels.clone(),
            centroids: f32s(&plane.centroids),
            assignments: plane.kmeans.assignments.clone(),
            gmm_means: f32s(&gmm.means),
            responsibilities: f32s(&plane.gmm.pending.responsibilities),
        })
    }
}

/// The 2-D data: two long, thin parallel clusters close together and a small round one.
/// k-means' nearest-centroid boundaries cut the long clusters across (splitting each into
/// halves is cheaper in J than separating them); a GMM's covariances follow them.
pub fn cluster_truth() -> Gmm {
    Gmm::new(
        2,
        vec![0.4, 0.4, 0.2],
        vec![0.0, 1.2, 0.0, -1.2, 6.0, 5.0],
        vec![12.0, 0.0, 0.0, 0.12, 12.0, 0.0, 0.0, 0.12, 0.3, 0.0, 0.0, 0.3],
    )
    .expect("a valid mixture")
}

/// The joint of each component of a 1-D mixture and its marginal at `n ≥ 2` points of [`AXIS`].
fn curves_of(gmm: &Gmm, n: usize) -> Curves {
    let xs: Vec<f64> = (0..n).map(|i| AXIS[0] + (AXIS[1] - AXIS[0]) * i as f64 / (n - 1) as f64).collect();
    let k = gmm.components();
    let mut joint = vec![0f32; k * n];
    let mut marginal = Vec::with_capacity(n);
    for (i, x) in xs.iter().enumerate() {
        let logs = gmm.log_joint(&[*x]);
        for (c, l) in logs.iter().enumerate() {
            joint[c * n + i] = l.exp() as f32;
        }
        marginal.push(super::log_sum_exp(&logs).exp() as f32);
    }
    Curves { xs: xs.iter().map(|&x| x as f32).collect(), joint, marginal }
}

fn check_count(n: usize, least: usize, what: &str) -> Result<(), String> {
    if !(least..=MAX_POINTS).contains(&n) {
        return Err(format!("{what}: {least} to {MAX_POINTS}, got {n}"));
    }
    Ok(())
}
