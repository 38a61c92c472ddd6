//! Gaussian mixtures and k-means (src/mixture): the posterior against Bayes' rule done by hand,
//! the marginal against numerical integration, EM's log-likelihood never falling, k-means'
//! objective never rising, and EM recovering the lecture's mixture from its samples.
#![cfg(not(target_arch = "wasm32"))]

use latent_lab::mixture::lesson::{Lesson, Params, AXIS};
use latent_lab::mixture::{self, em_step, kmeans_objective, kmeans_plus_plus, kmeans_step, Gmm};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `N(x; μ, σ²)` from its formula.
fn normal_pdf(x: f64, mu: f64, sigma: f64) -> f64 {
    (-(x - mu).powi(2) / (2.0 * sigma * sigma)).exp() / (2.0 * std::f64::consts::PI * sigma * sigma).sqrt()
}

/// `N(x; μ, Σ)` in 2-D from its formula, with Σ⁻¹ and |Σ| of a 2 × 2 matrix by hand.
fn normal_pdf_2d(x: [f64; 2], mu: [f64; 2], [a, b, c]: [f64; 3]) -> f64 {
    let det = a * c - b * b;
    let (dx, dy) = (x[0] - mu[0], x[1] - mu[1]);
    let quad = (c * dx * dx - 2.0 * b * dx * dy + a * dy * dy) / det;
    (-0.5 * quad).exp() / (2.0 * std::f64::consts::PI * det.sqrt())
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol * (1.0 + b.abs()), "{what}: {a} vs {b}");
}

#[test]
fn posterior_is_bayes_rule_by_hand_and_sums_to_one() {
    for (weights, means, sigmas) in
        [([0.5, 0.5], [-10.0, 10.0], [4.0, 4.0]), ([0.2, 0.8], [-10.0, 10.0], [4.0, 4.0]), ([0.3, 0.7], [-2.0, 5.0], [1.0, 6.0])]
    {
        let gmm = Gmm::one_d(&weights, &means, &sigmas).unwrap();
        for x in [-30.0, -10.0, -1.5, 0.0, 0.7, 3.0, 10.0, 25.0] {
            let joint: Vec<f64> = (0..2).map(|c| weights[c] * normal_pdf(x, means[c], sigmas[c])).collect();
            let marginal: f64 = joint.iter().sum();
            let posterior = gmm.posterior(&[x]);
            for c in 0..2 {
                close(posterior[c], joint[c] / marginal, 1e-9, &format!("P(z={c} | x={x})"));
            }
            close(posterior.iter().sum(), 1.0, 1e-12, "posterior sums to 1");
            close(gmm.log_density(&[x]).exp(), marginal, 1e-9, "p(x)");
        }
    }
    // At x = 0, halfway between equal bumps, the posterior is the prior.
    let lecture = Gmm::one_d(&[0.2, 0.8], &[-10.0, 10.0], &[4.0, 4.0]).unwrap();
    close(lecture.posterior(&[0.0])[0], 0.2, 1e-12, "P(z=1 | x=0)");

    let (a, b) = ([1.0, 0.6, 2.0], [0.5, -0.2, 0.3]);
    let gmm = Gmm::new(2, vec![0.25, 0.75], vec![0.0, 1.0, 1.5, -0.5], vec![a[0], a[1], a[1], a[2], b[0], b[1], b[1], b[2]]).unwrap();
    for x in [[0.0, 0.0], [1.0, 1.0], [2.0, -1.0], [-3.0, 4.0]] {
        let joint = [0.25 * normal_pdf_2d(x, [0.0, 1.0], a), 0.75 * normal_pdf_2d(x, [1.5, -0.5], b)];
        let posterior = gmm.posterior(&x);
        close(posterior[0], joint[0] / (joint[0] + joint[1]), 1e-9, "2-D posterior");
        close(posterior.iter().sum(), 1.0, 1e-12, "2-D posterior sums to 1");
        close(gmm.log_density(&x).exp(), joint[0] + joint[1], 1e-9, "2-D p(x)");
    }
}

#[test]
fn the_lessons_bayes_terms_are_the_formula_in_numbers() {
    let mut lesson = Lesson::new();
    lesson.set_params(&Params { weights: vec![0.2, 0.8], means: vec![-10.0, 10.0], sigmas: vec![4.0, 3.0] }).unwrap();
    for x in [-12.0, -3.0, 0.5, 8.0] {
        let b = lesson.bayes(x).unwrap();
        for c in 0..2 {
            close(b.likelihood[c], normal_pdf(x, [-10.0, 10.0][c], [4.0, 3.0][c]), 1e-9, "likelihood");
            close(b.joint[c], b.prior[c] * b.likelihood[c], 1e-12, "joint = prior · likelihood");
            close(b.posterior[c], b.joint[c] / b.marginal, 1e-9, "posterior = joint / marginal");
        }
        close(b.marginal, b.joint.iter().sum(), 1e-12, "marginal = Σ joint");
    }
    assert!(lesson.bayes(f64::NAN).is_err());
    assert!(
        lesson.set_params(&Params { weights: vec![0.5, 0.5], means: vec![0.0, 1.0], sigmas: vec![0.0, 1.0] }).is_err(),
        "σ = 0 refused"
    );
    assert!(
        lesson.set_params(&Params { weights: vec![0.6, 0.6], means: vec![0.0, 1.0], sigmas: vec![1.0, 1.0] }).is_err(),
        "π not summing to 1 refused"
    );
}

#[test]
fn the_marginal_integrates_to_one_and_is_the_sum_of_the_joints() {
    let gmm = Gmm::one_d(&[0.2, 0.8], &[-10.0, 10.0], &[4.0, 2.5]).unwrap();
    // Trapezoid rule over ±60 (15σ past either mean) with step 0.01.
    let h = 0.01;
    let xs: Vec<f64> = (0..=12_000).map(|i| -60.0 + i as f64 * h).collect();
    let f: Vec<f64> = xs.iter().map(|x| gmm.log_density(&[*x]).exp()).collect();
    let integral = h * (f.iter().sum::<f64>() - 0.5 * (f[0] + f[f.len() - 1]));
    close(integral, 1.0, 1e-9, "∫ p(x) dx");

    let lesson = Lesson::new();
    let curves = lesson.curves(601).unwrap();
    let n = curves.xs.len();
    for i in (0..n).step_by(37) {
        let sum = curves.joint[i] + curves.joint[n + i];
        close(curves.marginal[i] as f64, sum as f64, 1e-5, "p(x) = Σ_c P(x, z=c)");
    }
    let step = (AXIS[1] - AXIS[0]) / (n - 1) as f64;
    let area: f64 = curves.marginal.iter().map(|&v| v as f64 * step).sum();
    close(area, 1.0, 1e-4, "the lesson's marginal over its axis");

    // 2-D: a midpoint sum over a grid wide enough for both components.
    let gmm = Gmm::new(2, vec![0.4, 0.6], vec![-1.0, 0.0, 2.0, 1.0], vec![1.0, 0.5, 0.5, 1.0, 0.6, -0.2, -0.2, 0.3]).unwrap();
    let h = 0.02;
    let mut total = 0.0;
    for i in 0..1000 {
        for j in 0..1000 {
            let x = [-9.0 + (i as f64 + 0.5) * h, -9.0 + (j as f64 + 0.5) * h + 1.0];
            total += gmm.log_density(&x).exp() * h * h;
        }
    }
    close(total, 1.0, 1e-6, "∬ p(x) dx");
}

/// A random mixture in d dimensions with K components, and N points from it.
fn random_problem(seed: u64) -> (usize, usize, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let d = rng.random_range(1..=3);
    let k = rng.random_range(1..=4);
    let mut weights: Vec<f64> = (0..k).map(|_| rng.random_range(0.2..1.0)).collect();
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    let means: Vec<f64> = (0..k * d).map(|_| rng.random_range(-5.0..5.0)).collect();
    let covariances: Vec<f64> = (0..k)
        .flat_map(|_| {
            // A Aᵀ + 0.1 I is positive definite.
            let a: Vec<f64> = (0..d * d).map(|_| rng.random_range(-1.5..1.5)).collect();
            (0..d * d).map(move |ij| {
                let (i, j) = (ij / d, ij % d);
                (0..d).map(|t| a[i * d + t] * a[j * d + t]).sum::<f64>() + if i == j { 0.1 } else { 0.0 }
            })
        })
        .collect();
    let truth = Gmm::new(d, weights, means, covariances).unwrap();
    let n = rng.random_range(20..300);
    (d, k, truth.sample(n, &mut rng).1)
}

#[test]
fn em_never_lowers_the_log_likelihood() {
    for seed in 0..200 {
        let (d, _, points) = random_problem(seed);
        let mut rng = StdRng::seed_from_u64(seed + 1000);
        // Fit with a K of its own, which need not be the truth's.
        let k = rng.random_range(1..=4).min(points.len() / d);
        let start = mixture::gmm_from_centroids(&kmeans_plus_plus(&points, d, k, &mut rng), &points, d);
        let floor = mixture::covariance_floor(&points, d);
        let mut gmm = start;
        let mut last = f64::NEG_INFINITY;
        for step in 0..40 {
            let s = em_step(&gmm, &points, floor);
            close(s.log_likelihood, gmm.log_likelihood(&points), 1e-9, "the E-step's log-likelihood");
            assert!(s.log_likelihood >= last - 1e-7 * last.abs().max(1.0), "seed {seed}, step {step}: {last} → {}", s.log_likelihood);
            let n = points.len() / d;
            for row in s.responsibilities.chunks_exact(k) {
                close(row.iter().sum(), 1.0, 1e-9, "responsibilities sum to 1");
            }
            close(s.next.weights.iter().sum(), 1.0, 1e-9, "π sums to 1");
            assert_eq!(s.responsibilities.len(), n * k);
            last = s.log_likelihood;
            gmm = s.next;
        }
    }
}

#[test]
fn kmeans_never_raises_its_objective() {
    for seed in 0..200 {
        let (d, _, points) = random_problem(seed);
        let mut rng = StdRng::seed_from_u64(seed + 7);
        let k = rng.random_range(1..=5).min(points.len() / d);
        let mut centroids = kmeans_plus_plus(&points, d, k, &mut rng);
        let mut last = f64::INFINITY;
        for step in 0..30 {
            let s = kmeans_step(&centroids, &points, d);
            close(s.objective, kmeans_objective(&centroids, &points, d), 1e-9, "J before the update");
            assert!(s.objective <= last + 1e-9 * last.abs().max(1.0), "seed {seed}, step {step}: {last} → {}", s.objective);
            // Each assignment is the nearest centroid, by brute force.
            for (x, &a) in points.chunks_exact(d).zip(&s.assignments) {
                let dist = |c: usize| -> f64 { (0..d).map(|j| (x[j] - centroids[c * d + j]).powi(2)).sum() };
                assert!((0..k).all(|c| dist(a as usize) <= dist(c)));
            }
            last = s.objective;
            centroids = s.next;
        }
    }
}

#[test]
fn ancestral_samples_follow_the_prior_and_the_components() {
    let gmm = Gmm::one_d(&[0.2, 0.8], &[-10.0, 10.0], &[4.0, 4.0]).unwrap();
    let (zs, xs) = gmm.sample(40_000, &mut StdRng::seed_from_u64(3));
    let first: Vec<f64> = xs.iter().zip(&zs).filter(|(_, &z)| z == 0).map(|(x, _)| *x).collect();
    let share = first.len() as f64 / zs.len() as f64;
    assert!((share - 0.2).abs() < 0.01, "P(z=1) ≈ 0.2, sampled {share}");
    let mean = first.iter().sum::<f64>() / first.len() as f64;
    let sd = (first.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / first.len() as f64).sqrt();
    assert!((mean + 10.0).abs() < 0.2 && (sd - 4.0).abs() < 0.15, "x | z=1 ~ N(−10, 4²): mean {mean}, sd {sd}");
    // The same seed gives the same draws; the lesson's histogram integrates to the share inside its axis.
    assert_eq!(gmm.sample(5, &mut StdRng::seed_from_u64(3)).1, xs[..5].to_vec());
    let mut lesson = Lesson::new();
    let s = lesson.sample(5000, 11).unwrap();
    let width = (AXIS[1] - AXIS[0]) / s.bins as f64;
    let inside = s.xs.iter().filter(|&&x| (x as f64) >= AXIS[0] && (x as f64) < AXIS[1]).count() as f64 / 5000.0;
    close(s.histogram.iter().map(|&h| h as f64 * width).sum(), inside, 1e-5, "histogram area");
}

#[test]
fn em_recovers_the_lectures_mixture_from_its_samples() {
    let mut lesson = Lesson::new();
    let truth = Params { weights: vec![0.2, 0.8], means: vec![-10.0, 10.0], sigmas: vec![4.0, 4.0] };
    lesson.set_params(&truth).unwrap();
    lesson.sample(20_000, 5).unwrap();
    let start = lesson.em_state().unwrap();
    assert_eq!(start.step, 0);
    let fit = lesson.em_step(200).unwrap();
    assert!(fit.log_likelihoods.windows(2).all(|w| w[1] >= w[0] - 1e-6 * w[0].abs()), "monotone");
    let p = &fit.params;
    // The components may come out in either order.
    let order: Vec<usize> = if p.means[0] < p.means[1] { vec![0, 1] } else { vec![1, 0] };
    for (c, &i) in order.iter().enumerate() {
        println!("component {c}: π {:.4} μ {:.3} σ {:.3}", p.weights[i], p.means[i], p.sigmas[i]);
        assert!((p.weights[i] - truth.weights[c]).abs() < 0.015, "π_{c}");
        assert!((p.means[i] - truth.means[c]).abs() < 0.25, "μ_{c}");
        assert!((p.sigmas[i] - truth.sigmas[c]).abs() < 0.2, "σ_{c}");
    }
    // The starting guess is a poor one: EM had real work to do.
    let gained = fit.log_likelihoods.last().unwrap() - fit.log_likelihoods[0];
    assert!(gained > 1000.0, "EM gained {gained} nats over 20,000 samples");
    assert!(fit.previous.is_some());
}

#[test]
fn two_d_clusters_step_kmeans_and_em_together() {
    let mut wins = 0;
    for seed in 0..20 {
        let mut lesson = Lesson::new();
        let start = lesson.clusters_reset(seed);
        let n = start.points.len() / 2;
        assert_eq!(start.responsibilities.len(), n * start.k);
        // Both start at the same centroids.
        assert_eq!(start.centroids, start.gmm_means);
        let end = lesson.clusters_step(60).unwrap();
        assert_eq!(end.step, 60);
        assert!(end.kmeans_objectives.windows(2).all(|w| w[1] <= w[0] + 1e-9));
        assert!(end.log_likelihoods.windows(2).all(|w| w[1] >= w[0] - 1e-9 * w[0].abs()));
        // The soft fit follows the long clusters, which nearest-centroid boundaries cut across:
        // the GMM's hard labels agree with the true components more often than k-means' do.
        let agreement = |labels: &[u32]| -> usize {
            let perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
            perms.iter().map(|p| labels.iter().zip(&end.labels).filter(|(&a, &t)| p[a as usize] == t as usize).count()).max().unwrap()
        };
        let gmm_labels: Vec<u32> = end
            .responsibilities
            .chunks_exact(end.k)
            .map(|r| r.iter().enumerate().fold(0, |b, (i, v)| if *v > r[b] { i } else { b }) as u32)
            .collect();
        let (km, gm) = (agreement(&end.assignments), agreement(&gmm_labels));
        println!("seed {seed}: agreement with the true components over {n} points: k-means {km}, GMM {gm}");
        wins += usize::from(gm > km);
    }
    assert!(wins >= 18, "GMM beat k-means for {wins} of 20 seeds");
}
