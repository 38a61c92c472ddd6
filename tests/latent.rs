//! Latent-space math: PCA against a known covariance, projections, grids, interpolation, ε
//! draws, the reparameterization and dimension rows.
#![cfg(not(target_arch = "wasm32"))]

use latent_lab::latent::{
    dim_rows, grid, interpolate, mean_and_covariance, pca_plane, reparameterize, standard_normal, sweep, symmetric_eigen, Plane, Rect,
};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn eigen_decomposition_reconstructs_the_matrix() {
    let d = 6;
    let mut rng = StdRng::seed_from_u64(1);
    let b: Vec<f64> = (0..d * d).map(|_| StandardNormal.sample(&mut rng)).collect();
    // A = B Bᵀ is symmetric positive semi-definite.
    let a: Vec<f64> = (0..d * d).map(|ij| (0..d).map(|k| b[(ij / d) * d + k] * b[(ij % d) * d + k]).sum()).collect();
    let eigen = symmetric_eigen(&a, d);
    for w in eigen.windows(2) {
        assert!(w[0].0 >= w[1].0, "eigenvalues are sorted in descending order");
    }
    for i in 0..d {
        for j in 0..d {
            let rebuilt: f64 = eigen.iter().map(|(l, v)| l * v[i] * v[j]).sum();
            assert!((rebuilt - a[i * d + j]).abs() < 1e-9, "A[{i},{j}] = {} rebuilt as {rebuilt}", a[i * d + j]);
        }
    }
    for (p, (_, u)) in eigen.iter().enumerate() {
        for (q, (_, v)) in eigen.iter().enumerate() {
            let expected = if p == q { 1.0 } else { 0.0 };
            assert!((dot(u, v) - expected).abs() < 1e-9);
        }
    }
}

#[test]
fn pca_finds_the_two_directions_of_largest_variance() {
    // Points spread with std 5 along u1, 2 along u2 and 0.3 along the other axes of R^4.
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let u1 = [s, s, 0.0, 0.0];
    let u2 = [0.0, 0.0, s, -s];
    let others = [[s, -s, 0.0, 0.0], [0.0, 0.0, s, s]];
    let mut rng = StdRng::seed_from_u64(7);
    let mut points = Vec::new();
    for _ in 0..20_000 {
        let c: [f64; 4] = std::array::from_fn(|_| StandardNormal.sample(&mut rng));
        for j in 0..4 {
            let v = 1.0 + 5.0 * c[0] * u1[j] + 2.0 * c[1] * u2[j] + 0.3 * (c[2] * others[0][j] + c[3] * others[1][j]);
            points.push(v as f32);
        }
    }
    let plane = pca_plane(&points, 4);
    let axis = |i: usize| plane.axes[i].iter().map(|&x| x as f64).collect::<Vec<_>>();
    assert!(dot(&axis(0), &u1).abs() > 0.999, "first axis {:?}", plane.axes[0]);
    assert!(dot(&axis(1), &u2).abs() > 0.999, "second axis {:?}", plane.axes[1]);
    assert!((plane.variance[0] - 25.0).abs() < 1.0 && (plane.variance[1] - 4.0).abs() < 0.2, "{:?}", plane.variance);
    let expected_explained = 29.0 / (29.0 + 2.0 * 0.09);
    assert!((plane.explained as f64 - expected_explained).abs() < 0.003, "{}", plane.explained);
    assert!(plane.mean.iter().all(|m| (m - 1.0).abs() < 0.1));
}

#[test]
fn projection_and_lift_are_inverse_on_the_plane() {
    let mut rng = StdRng::seed_from_u64(3);
    let points: Vec<f32> = (0..500 * 5).map(|_| StandardNormal.sample(&mut rng)).collect();
    let plane = Plane::fit(&points, 5);
    let xy = [0.7f32, -1.3, 2.0, 0.25];
    let back = plane.project(&plane.lift(&xy));
    for (a, b) in xy.iter().zip(&back) {
        assert!((a - b).abs() < 1e-5, "{xy:?} → {back:?}");
    }
}

#[test]
fn two_dimensional_plane_is_the_identity() {
    let points = [1.0f32, 2.0, -3.0, 0.5];
    let plane = Plane::fit(&points, 2);
    assert_eq!(plane.project(&points), points);
    assert_eq!(plane.lift(&points), points);
}

#[test]
fn covariance_matches_a_hand_computation() {
    let points = [1.0f32, 2.0, 3.0, 6.0, 5.0, 4.0];
    let (mean, cov) = mean_and_covariance(&points, 2);
    assert_eq!(mean, vec![3.0, 4.0]);
    // Deviations (−2,−2), (0,2), (2,0): population covariance.
    assert_eq!(cov, vec![8.0 / 3.0, 4.0 / 3.0, 4.0 / 3.0, 8.0 / 3.0]);
}

#[test]
fn grid_cells_are_centred_with_the_top_row_first() {
    let g = grid(Rect { x0: 0.0, x1: 4.0, y0: -2.0, y1: 2.0 }, 4, 2);
    assert_eq!(g.len(), 16);
    assert_eq!(&g[..2], &[0.5, 1.0]); // top-left cell
    assert_eq!(&g[6..8], &[3.5, 1.0]); // top-right
    assert_eq!(&g[8..10], &[0.5, -1.0]); // bottom-left
}

#[test]
fn interpolation_is_linear_with_exact_endpoints() {
    let (a, b) = ([0.0f32, 10.0, -1.0], [6.0f32, -2.0, 5.0]);
    let path = interpolate(&a, &b, 7);
    assert_eq!(path.len(), 21);
    assert_eq!(&path[..3], &a);
    assert_eq!(&path[18..], &b);
    assert_eq!(&path[9..12], &[3.0, 4.0, 2.0]); // the middle of seven steps
}

#[test]
fn epsilon_draws_extend_and_come_from_the_seeded_stream() {
    let long = standard_normal(11, 40);
    assert_eq!(standard_normal(11, 15)[..], long[..15], "a shorter draw is the start of a longer one");
    let mut rng = StdRng::seed_from_u64(11);
    let direct: Vec<f32> = (0..40).map(|_| StandardNormal.sample(&mut rng)).collect();
    assert_eq!(long, direct);
    assert_ne!(standard_normal(12, 40), long);
}

#[test]
fn reparameterization_is_mu_plus_sigma_times_epsilon() {
    let (mu, logvar) = ([1.0f32, -2.0], [0.0f32, 2.0f32.ln() * 2.0]);
    // σ = exp(½ log σ²) = (1, 2).
    let z = reparameterize(&mu, &logvar, &[0.5, 0.5, -1.0, 3.0]);
    let expected = [1.5, -2.0 + 2.0 * 0.5, 0.0, -2.0 + 2.0 * 3.0];
    for (a, b) in z.iter().zip(expected) {
        assert!((a - b).abs() < 1e-6, "{z:?}");
    }
}

#[test]
fn dimension_rows_set_one_coordinate_per_row() {
    assert_eq!(sweep(3.0, 7), [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]);
    let z = dim_rows(&[5.0, 6.0, 7.0], 2, &[-1.0, 1.0]);
    assert_eq!(z, [-1.0, 6.0, 7.0, 1.0, 6.0, 7.0, 5.0, -1.0, 7.0, 5.0, 1.0, 7.0]);
}
