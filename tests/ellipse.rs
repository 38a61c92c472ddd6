//! The picked digit's 1σ ellipse on the view plane, against direct computations.
#![cfg(not(target_arch = "wasm32"))]

use latent_lab::latent::{pca_plane, projected_ellipse, sigma, Plane};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

#[test]
fn sigma_is_the_square_root_of_the_variance() {
    let logvar = [-2.0f32, 0.0, 1.5];
    for (s, lv) in sigma(&logvar).iter().zip(logvar) {
        assert!((s * s - lv.exp()).abs() < 1e-6);
    }
}

#[test]
fn on_the_identity_plane_the_semi_axes_are_the_two_sigmas() {
    let plane = Plane::identity_for(2);
    let logvar = [0.5f32.ln() * 2.0, 2f32.ln() * 2.0];
    let e = projected_ellipse(&logvar, &plane.axes);
    assert!((e.r1 - 2.0).abs() < 1e-5 && (e.r2 - 0.5).abs() < 1e-5, "{e:?}");
    // The larger σ is along z₂: the first semi-axis points up the plane.
    assert!((e.angle.abs() - std::f32::consts::FRAC_PI_2).abs() < 1e-5, "{e:?}");
}

#[test]
fn the_ellipse_rebuilds_the_projected_covariance() {
    let d = 5;
    let mut rng = StdRng::seed_from_u64(3);
    let points: Vec<f32> = (0..400 * d)
        .map(|i| {
            let x: f32 = StandardNormal.sample(&mut rng);
            x * (1.0 + (i % d) as f32)
        })
        .collect();
    let plane = pca_plane(&points, d);
    let logvar: Vec<f32> = (0..d).map(|j| -1.0 + 0.4 * j as f32).collect();
    let e = projected_ellipse(&logvar, &plane.axes);
    // C = A diag(σ²) Aᵀ, written out entry by entry.
    let c = |p: usize, q: usize| -> f32 { (0..d).map(|j| plane.axes[p][j] * logvar[j].exp() * plane.axes[q][j]).sum() };
    for (got, want) in e.cov.iter().zip([c(0, 0), c(0, 1), c(1, 1)]) {
        assert!((got - want).abs() < 1e-5, "cov {:?}", e.cov);
    }
    // R diag(r1², r2²) Rᵀ with R the rotation by `angle` is C again.
    let (cos, sin) = (e.angle.cos(), e.angle.sin());
    let rebuilt = [
        e.r1 * e.r1 * cos * cos + e.r2 * e.r2 * sin * sin,
        (e.r1 * e.r1 - e.r2 * e.r2) * cos * sin,
        e.r1 * e.r1 * sin * sin + e.r2 * e.r2 * cos * cos,
    ];
    for (got, want) in rebuilt.iter().zip(e.cov) {
        assert!((got - want).abs() < 1e-4, "rebuilt {rebuilt:?} from {e:?}");
    }
    assert!(e.r1 >= e.r2);
}
