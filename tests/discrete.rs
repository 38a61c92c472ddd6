//! The session's discrete-latent questions: the GMM prior fitted to an autoencoder's training
//! codes, and one test image's quantization against a brute-force argmin over the codebook.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::PathBuf;

use latent_lab::mixture::Gmm;
use latent_lab::model::{ModelConfig, ModelKind};
use latent_lab::session::{Session, PRIOR_FIT_IMAGES};
use latent_lab::train::TrainConfig;

fn shipped(name: &str) -> Session {
    let bytes = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("www/checkpoints/{name}.safetensors"))).unwrap();
    let mut s = Session::new(&ModelConfig::default(), &TrainConfig::default()).unwrap();
    let test = common::mnist("t10k");
    s.set_datasets(common::mnist("train"), test).unwrap();
    s.load(&bytes).unwrap();
    s.fit_view(0).unwrap();
    s
}

#[test]
fn a_gmm_prior_fits_the_autoencoders_codes_better_than_the_standard_normal() {
    let s = shipped("ae-2d");
    let started = std::time::Instant::now();
    let prior = s.gmm_prior(10, 64, 1).unwrap();
    println!("fitted K = 10 to {} codes in {} EM steps, {:.2?}", prior.fitted_to, prior.em_steps, started.elapsed());
    println!("mean log-density per code: GMM {:.3}, N(0, I) {:.3}", prior.log_likelihood, prior.standard_normal_log_likelihood);
    assert_eq!(prior.fitted_to, PRIOR_FIT_IMAGES);
    assert!((prior.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!((prior.ellipses.len(), prior.means_plane.len(), prior.samples.len(), prior.pixels.len()), (10, 20, 128, 64 * 784));
    // The autoencoder's codes were never pulled towards N(0, I): the fitted mixture explains them far better.
    assert!(prior.log_likelihood > prior.standard_normal_log_likelihood + 1.0);
    // More components fit the same codes at least as well as one Gaussian does.
    let single = s.gmm_prior(1, 0, 1).unwrap();
    assert!(prior.log_likelihood > single.log_likelihood, "{} vs one Gaussian {}", prior.log_likelihood, single.log_likelihood);

    // The samples are the mixture's: decoded by the model, on the plane where the plane puts them.
    assert_eq!(prior.pixels, s.decode(&prior.samples).unwrap());
    assert_eq!(prior.samples_plane, s.project(&prior.samples).unwrap());
    assert!(prior.components.iter().all(|&c| c < 10));
    // A new seed: new samples, the same mixture (the fit's seed is fixed and memoised).
    let again = s.gmm_prior(10, 64, 2).unwrap();
    assert_eq!((again.weights.clone(), again.log_likelihood), (prior.weights.clone(), prior.log_likelihood));
    assert_ne!(again.samples, prior.samples);
    assert_eq!(s.gmm_prior(10, 64, 1).unwrap().samples, prior.samples);

    // The ellipses are the components' covariances (d = 2: the plane is the code space).
    let codes: Vec<f64> = {
        let pixels: Vec<f32> = (0..2000).flat_map(|i| s.test_image(i).unwrap().into_iter().map(|p| f32::from(p) / 255.0)).collect();
        s.encode(&pixels).unwrap().mean.iter().map(|&v| v as f64).collect()
    };
    let gmm = Gmm::new(
        2,
        prior.weights.clone(),
        prior.means_plane.iter().map(|&v| v as f64).collect(),
        prior.ellipses.iter().flat_map(|e| [e.cov[0], e.cov[1], e.cov[1], e.cov[2]].map(f64::from)).collect(),
    )
    .unwrap();
    let test_ll = gmm.log_likelihood(&codes) / 2000.0;
    println!("on 2000 test codes: {test_ll:.3} nats per code");
    assert!((test_ll - prior.log_likelihood).abs() < 0.5, "the prior generalises to test codes: {test_ll} vs {}", prior.log_likelihood);

    assert!(s.gmm_prior(0, 4, 1).is_err() && s.gmm_prior(33, 4, 1).is_err(), "K out of range");
}

#[test]
fn a_vq_vae_has_no_gmm_prior_and_an_ae_no_quantization() {
    let mut s = Session::new(&ModelConfig { kind: ModelKind::Vqvae, hidden: 32, ..Default::default() }, &TrainConfig::default()).unwrap();
    let test = common::mnist("t10k");
    s.set_datasets(test.take(2000), test.take(100)).unwrap();
    assert!(s.gmm_prior(5, 4, 0).is_err());
    let mut ae = Session::new(&ModelConfig { kind: ModelKind::Ae, hidden: 32, ..Default::default() }, &TrainConfig::default()).unwrap();
    ae.set_datasets(test.take(2000), test.take(100)).unwrap();
    assert!(ae.quantization(0).is_err());
}

#[test]
fn quantization_is_the_brute_force_argmin_and_its_lookup() {
    for codes_per_image in [1, 4] {
        let model =
            ModelConfig { kind: ModelKind::Vqvae, hidden: 64, codebook_size: 12, code_dim: 2, codes_per_image, ..Default::default() };
        let mut s = Session::new(&model, &TrainConfig { seed: 3, ..Default::default() }).unwrap();
        let test = common::mnist("t10k");
        s.set_datasets(test.take(3000), test.take(300)).unwrap();
        s.train_steps(20).unwrap();
        let codebook = s.codebook().unwrap();
        let (k, d, l) = (12, 2, codes_per_image);
        for index in [0, 7, 123] {
            let q = s.quantization(index).unwrap();
            assert_eq!((q.codebook_size, q.code_dim, q.positions), (k, d, l));
            let pick = s.pick(index, 0, 0).unwrap();
            assert_eq!(q.z_e, pick.mu, "z_e is the encoder's output");
            for p in 0..l {
                let z = &q.z_e[p * d..(p + 1) * d];
                let mut best = (usize::MAX, f64::INFINITY);
                for c in 0..k {
                    let e = &codebook[c * d..(c + 1) * d];
                    let dist = ((z[0] - e[0]) as f64).hypot((z[1] - e[1]) as f64);
                    assert!((q.distances[p * k + c] as f64 - dist).abs() < 1e-5 * (1.0 + dist), "distance to code {c}");
                    if dist < best.1 {
                        best = (c, dist);
                    }
                }
                assert_eq!(q.nearest[p] as usize, best.0, "image {index}, position {p}: the argmin");
                assert_eq!(&q.z_q[p * d..(p + 1) * d], &codebook[best.0 * d..(best.0 + 1) * d], "the lookup");
                for j in 0..d {
                    assert_eq!(q.offset[p * d + j], q.z_q[p * d + j] - q.z_e[p * d + j], "e − z_e");
                }
            }
            assert_eq!(Some(q.nearest.clone()), pick.codes, "the model quantizes to the same codes");
            assert_eq!(q.decoded, s.decode(&q.z_q).unwrap());
            assert_eq!(q.image, s.test_image(index).unwrap());
        }
    }
}
