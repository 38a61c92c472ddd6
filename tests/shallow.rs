//! Shallow VQ on pixels (src/shallow.rs, src/session/shallow.rs): k-means on real digits.
//!
//! `SHALLOW_MEASURE=1 cargo test --release --locked --test shallow measure -- --ignored --nocapture`
//! prints the README's table (K = 16…256 on all 60,000 training images).

mod common;

use std::collections::HashSet;

use candle_core::Device;
use latent_lab::data::IMAGE_PIXELS;
use latent_lab::model::{ModelConfig, ModelKind};
use latent_lab::session::Session;
use latent_lab::shallow::{self, brute_force_nearest, KMeans, Stage, BERNOULLI_EPSILON, SEEDS_PER_CALL};
use latent_lab::train::TrainConfig;
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::SeedableRng;

fn digits(n: usize) -> Vec<u8> {
    common::mnist("train").pixels()[..n * IMAGE_PIXELS].to_vec()
}

/// J of `centroids` over `pixels`, in f64 pixel by pixel (the reference).
fn objective(pixels: &[u8], centroids: &[f32]) -> f64 {
    brute_force_nearest(pixels, centroids).1.iter().sum()
}

#[test]
fn the_objective_never_increases_over_lloyd_steps_on_real_digits() {
    let pixels = digits(3000);
    for (k, seed) in [(16, 1), (64, 2)] {
        let mut km = KMeans::new(&pixels, k, seed, 100, &Device::Cpu).unwrap();
        km.run().unwrap();
        let j = km.objectives();
        assert!(j.len() >= 3, "K = {k}: ran {} iterations", j.len());
        for (t, pair) in j.windows(2).enumerate() {
            // The matrix product's f32 rounding allows a relative 1e-6, far below any real step.
            assert!(pair[1] <= pair[0] * (1.0 + 1e-6), "K = {k}: J rose at iteration {}: {} → {}", t + 1, pair[0], pair[1]);
        }
        assert!(j.last().unwrap() < &(0.9 * j[0]), "K = {k}: Lloyd improved on the seeds ({} → {})", j[0], j.last().unwrap());
        // The final centroids are the means of their points: J under them, computed by the
        // reference, is no more than the last assignment step's J.
        assert!(objective(&pixels, km.centroids()) <= j.last().unwrap() * (1.0 + 1e-6));
        assert_eq!(km.stage(), Stage::Finished { converged: true }, "K = {k} reached a fixed point within 100 iterations");
    }
}

#[test]
fn each_centroid_is_the_mean_of_its_points() {
    let pixels = digits(1000);
    let mut km = KMeans::new(&pixels, 16, 3, 5, &Device::Cpu).unwrap();
    // Seeding, then one Lloyd step: the assignments it made produced the centroids.
    while km.stage() != (Stage::Lloyd { done: 1 }) {
        km.advance().unwrap();
    }
    for k in 0..16u32 {
        let members: Vec<usize> = km.assignments().iter().enumerate().filter(|(_, &z)| z == k).map(|(i, _)| i).collect();
        assert!(!members.is_empty(), "a k-means++ seed keeps at least itself after one step");
        for p in (0..IMAGE_PIXELS).step_by(37) {
            let mean = members.iter().map(|&i| pixels[i * IMAGE_PIXELS + p] as f64 / 255.0).sum::<f64>() / members.len() as f64;
            let got = km.centroids()[k as usize * IMAGE_PIXELS + p] as f64;
            assert!((got - mean).abs() < 1e-5, "centroid {k} pixel {p}: {got} vs {mean}");
        }
    }
}

#[test]
fn kmeans_plus_plus_picks_distinct_images_a_chunk_at_a_time() {
    let pixels = digits(2000);
    let mut km = KMeans::new(&pixels, 40, 7, 10, &Device::Cpu).unwrap();
    let first = km.advance().unwrap();
    assert_eq!(first.stage, Stage::Seeding { chosen: SEEDS_PER_CALL });
    km.advance().unwrap();
    assert_eq!(km.advance().unwrap().stage, Stage::Lloyd { done: 0 }, "40 seeds in three calls of at most 16");
    let seeds = km.seeds();
    assert_eq!(seeds.len(), 40);
    assert_eq!(seeds.iter().collect::<HashSet<_>>().len(), 40, "distinct images");
    for (k, &i) in seeds.iter().enumerate() {
        let image: Vec<f32> = pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS].iter().map(|&p| p as f32 / 255.0).collect();
        assert_eq!(&km.centroids()[k * IMAGE_PIXELS..(k + 1) * IMAGE_PIXELS], &image[..], "seed {k} is image {i}");
    }
    // The same seed picks the same images.
    let mut again = KMeans::new(&pixels, 40, 7, 10, &Device::Cpu).unwrap();
    for _ in 0..3 {
        again.advance().unwrap();
    }
    assert_eq!(again.seeds(), seeds);
}

#[test]
fn kmeans_plus_plus_seeds_beat_uniformly_drawn_ones_on_average() {
    let pixels = digits(2000);
    let runs = 8;
    let (mut plus_plus, mut uniform) = (0.0, 0.0);
    for seed in 0..runs {
        let mut km = KMeans::new(&pixels, 32, seed, 10, &Device::Cpu).unwrap();
        km.advance().unwrap();
        km.advance().unwrap();
        plus_plus += objective(&pixels, km.centroids());
        let picked = sample(&mut StdRng::seed_from_u64(1000 + seed), 2000, 32);
        let centroids: Vec<f32> =
            picked.iter().flat_map(|i| pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS].iter().map(|&p| p as f32 / 255.0)).collect();
        uniform += objective(&pixels, &centroids);
    }
    println!("mean J of the seeds over {runs} runs: k-means++ {:.0}, uniform {:.0}", plus_plus / runs as f64, uniform / runs as f64);
    assert!(plus_plus < uniform, "k-means++ {plus_plus} vs uniform {uniform}");
}

#[test]
fn the_matrix_product_assignment_equals_brute_force() {
    let pixels = digits(3000);
    let mut km = KMeans::new(&pixels[..1000 * IMAGE_PIXELS], 32, 5, 3, &Device::Cpu).unwrap();
    km.run().unwrap();
    let test = &pixels[1000 * IMAGE_PIXELS..];
    let (fast, fast_d) = shallow::nearest(test, km.centroids(), &Device::Cpu).unwrap();
    let (slow, slow_d) = brute_force_nearest(test, km.centroids());
    let mut differ = 0;
    for i in 0..2000 {
        assert!((fast_d[i] as f64 - slow_d[i]).abs() < 1e-3, "image {i}: distance {} vs {}", fast_d[i], slow_d[i]);
        if fast[i] != slow[i] {
            // Only a tie within rounding may pick another centroid.
            let other: Vec<f32> = km.centroids()[fast[i] as usize * IMAGE_PIXELS..][..IMAGE_PIXELS].to_vec();
            let d_fast = brute_force_nearest(&test[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS], &other).1[0];
            assert!((d_fast - slow_d[i]).abs() < 1e-3, "image {i}: {} is no tie with {}", fast[i], slow[i]);
            differ += 1;
        }
    }
    assert!(differ <= 2, "{differ} of 2000 assignments differ");
    // And inside the run: the last assignments are the nearest centroids of the centroids before the last move,
    // so after convergence they are the nearest of the final centroids.
    if km.stage() == (Stage::Finished { converged: true }) {
        let (slow_train, _) = brute_force_nearest(&pixels[..1000 * IMAGE_PIXELS], km.centroids());
        let agree = slow_train.iter().zip(km.assignments()).filter(|(a, b)| a == b).count();
        assert!(agree >= 998, "{agree} of 1000");
    }
}

#[test]
fn bernoulli_nll_against_a_hand_computation() {
    // Pixels 255, 0, 51 (x = 1, 0, 0.2) under means 0.9, 0.0 (clamped to ε) and 0.5; the rest 0 under 0.
    let mut image = vec![0u8; IMAGE_PIXELS];
    let mut mean = vec![0f32; IMAGE_PIXELS];
    (image[0], mean[0]) = (255, 0.9);
    (image[1], mean[1]) = (0, 0.0);
    (image[2], mean[2]) = (51, 0.5);
    let eps = BERNOULLI_EPSILON as f64;
    // Pixel 1 and the 781 blank ones each cost −log(1 − ε).
    let expected = -(0.9f64.ln()) - 782.0 * (1.0 - eps).ln() - (0.2 * 0.5f64.ln() + 0.8 * 0.5f64.ln());
    let got = shallow::bernoulli_nll(&image, &mean);
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    // Ink where the centroid has none costs −log ε.
    image[1] = 255;
    let ink = shallow::bernoulli_nll(&image, &mean);
    assert!((ink - got - (-(eps.ln()) + (1.0 - eps).ln())).abs() < 1e-6);
}

#[test]
fn samples_are_a_centroid_plus_sigma_times_unit_noise() {
    let centroids: Vec<f32> = (0..4 * IMAGE_PIXELS).map(|i| (i / IMAGE_PIXELS) as f32 * 0.25).collect();
    let (codes, exact) = shallow::sample(&centroids, 50, 0.0, 9);
    assert!(codes.iter().all(|&z| z < 4));
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 4, "50 uniform draws of 4 codes hit each");
    for (i, &z) in codes.iter().enumerate() {
        assert!(exact[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS].iter().all(|&v| v == z as f32 * 0.25), "σ = 0 gives the centroid");
    }
    let (same_codes, noisy) = shallow::sample(&centroids, 50, 0.5, 9);
    assert_eq!(same_codes, codes, "the same seed draws the same codes");
    let residuals: Vec<f64> = noisy.iter().zip(&exact).map(|(a, b)| (a - b) as f64 / 0.5).collect();
    let mean = residuals.iter().sum::<f64>() / residuals.len() as f64;
    let var = residuals.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / residuals.len() as f64;
    assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.03, "ε ~ N(0, 1): mean {mean}, variance {var}");
}

fn session_on_mnist(model: ModelConfig) -> Session {
    let mut session = Session::new(&model, &TrainConfig::default()).unwrap();
    session.set_datasets(common::mnist("train"), common::mnist("t10k")).unwrap();
    session
}

#[test]
fn the_session_runs_kmeans_in_chunks_and_scores_it_on_the_test_set() {
    let vq = ModelConfig { kind: ModelKind::Vqvae, codebook_size: 16, codes_per_image: 1, code_dim: 4, ..Default::default() };
    let mut session = session_on_mnist(vq.clone());
    assert!(session.start_kmeans(8, 2000, 0).is_err(), "K below 16 is refused");
    let start = session.start_kmeans(16, 2000, 0).unwrap();
    assert_eq!((start.stage, start.images, start.seeds), ("seeding", 2000, 0));
    assert!(session.shallow_report(4).is_err(), "no report before the run ends");
    let mut progress = start;
    let mut calls = 0;
    while progress.stage != "finished" {
        progress = session.kmeans_step().unwrap();
        calls += 1;
    }
    assert_eq!(calls, 1 + progress.iterations, "one call seeds K = 16, then one per Lloyd iteration");
    // A new model keeps the run (it depends on the pixels only).
    session.rebuild(&vq, &TrainConfig::default()).unwrap();
    let report = session.shallow_report(4).unwrap();
    assert_eq!((report.codebook_size, report.test_images, report.shown), (16, 10_000, 4));
    assert_eq!(report.rate_bits, 4.0);

    // Every number against a recomputation from the centroids.
    let test = common::mnist("t10k");
    let (codes, distances) = brute_force_nearest(test.pixels(), &report.centroids);
    let nll: Vec<f64> = (0..test.len())
        .map(|i| shallow::bernoulli_nll(test.image(i), &report.centroids[codes[i] as usize * IMAGE_PIXELS..][..IMAGE_PIXELS]))
        .collect();
    let mean_nll = nll.iter().sum::<f64>() / test.len() as f64;
    assert!((report.test_nll_nats - mean_nll).abs() < 0.05, "{} vs {mean_nll}", report.test_nll_nats);
    let mse = distances.iter().sum::<f64>() / test.len() as f64;
    assert!((report.test_squared_error - mse).abs() < 1e-3 * mse);
    assert_eq!(report.shown_pixels, test.pixels()[..4 * IMAGE_PIXELS]);
    assert_eq!(report.shown_codes, codes[..4]);
    for (shown, expected) in report.shown_nll.iter().zip(&nll) {
        assert!((*shown as f64 - expected).abs() < 1e-3);
    }
    // The untrained VQ-VAE, on the same test images and in the same units.
    let row = report.vq.as_ref().expect("the session holds a VQ-VAE");
    assert_eq!((row.codebook_size, row.codes_per_image, row.rate_bits), (16, 1, 4.0));
    assert!((row.recon_nats - session.evaluate(0).unwrap().recon as f64).abs() < 1e-9);
    assert!(report.test_nll_nats < row.recon_nats, "16 centroids beat an untrained VQ-VAE");

    let samples = session.shallow_samples(6, 0.3, 4).unwrap();
    assert_eq!((samples.codes.len(), samples.pixels.len(), samples.vq_codes.len(), samples.vq_pixels.len()), (6, 6 * 784, 6, 6 * 784));
    assert_eq!(samples.codes, shallow::sample(&report.centroids, 6, 0.3, 4).0);
    assert!(session.shallow_samples(6, 3.0, 4).is_err());

    // New data drops it.
    session.set_datasets(common::mnist("train"), common::mnist("t10k")).unwrap();
    assert!(!session.has_shallow());
}

#[test]
fn cancelling_drops_a_run_in_progress_only() {
    let mut session = session_on_mnist(ModelConfig::default());
    session.start_kmeans(16, 500, 0).unwrap();
    session.kmeans_step().unwrap();
    session.cancel_kmeans();
    assert!(session.kmeans_step().is_err(), "the run is gone");
    session.start_kmeans(16, 500, 0).unwrap();
    while session.kmeans_step().unwrap().stage != "finished" {}
    session.cancel_kmeans();
    assert!(session.has_shallow(), "a finished run stays");
    assert!(session.shallow_report(0).unwrap().vq.is_none(), "an autoencoder has no VQ row");
}

/// The README's figures: K = 16…256 over all training images, scored on the test set.
#[test]
#[ignore]
fn measure() {
    let images: usize = std::env::var("SHALLOW_IMAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut session = session_on_mnist(ModelConfig::default());
    for k in [16, 32, 64, 128, 256] {
        let mut p = session.start_kmeans(k, images, 0).unwrap();
        while p.stage != "finished" {
            p = session.kmeans_step().unwrap();
        }
        let r = session.shallow_report(0).unwrap();
        println!(
            "K = {k:3} ({:.0} bits), {} training images: {} iterations (converged {}), {:.1} s; test NLL {:.2} nats/image, MSE {:.2}, {} codes used",
            r.rate_bits, r.train_images, r.iterations, r.converged, r.seconds, r.test_nll_nats, r.test_squared_error, r.codes_used
        );
    }
}
