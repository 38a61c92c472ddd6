//! The learned prior over code grids (src/prior.rs): causal masking and a normalised
//! distribution checked by brute force over every grid of a small (K, l), NLL as the sum of
//! per-position log-probabilities, seeded sampling and completion, the file round trip, and
//! training on the shipped vq-l16 VQ-VAE's real MNIST codes beating the unigram baseline.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::PathBuf;

use candle_core::Device;
use latent_lab::prior::{self, Prior, PriorConfig, PriorTrainer, Unigram};
use latent_lab::session::Session;

fn small(k: usize, l: usize, seed: u64) -> Prior {
    let config = PriorConfig { hidden: 12, seed, ..PriorConfig::for_grid(k, l) };
    Prior::new(&config, &Device::Cpu).unwrap()
}

/// Every grid of l codes below k, in lexicographic order, concatenated.
fn all_grids(k: usize, l: usize) -> Vec<u32> {
    let n = k.pow(l as u32);
    (0..n).flat_map(|mut g| (0..l).rev().map(move |_| ((g % k) as u32, g /= k).0).collect::<Vec<_>>().into_iter().rev()).collect()
}

/// A prior trained briefly on grids with structure (each code the previous one plus 0 or 1),
/// so its conditionals depend on earlier codes and masking errors would show.
fn trained(k: usize, l: usize) -> Prior {
    let mut rng_state = 7u64;
    let mut next = || {
        rng_state = rng_state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (rng_state >> 33) as u32
    };
    let grids: Vec<u32> = (0..400)
        .flat_map(|_| {
            let mut c = next() % k as u32;
            (0..l)
                .map(|_| {
                    let out = c;
                    c = (c + next() % 2) % k as u32;
                    out
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut trainer = PriorTrainer::new(small(k, l, 3), 400, 0).unwrap();
    trainer.train_steps(&grids, 60).unwrap();
    let weights = trainer.prior().weights().iter().map(|(_, t)| t.flatten_all().unwrap().to_vec1().unwrap()).collect();
    Prior::from_weights(trainer.prior().config(), weights, &Device::Cpu).unwrap()
}

#[test]
fn masking_is_causal_changing_a_later_code_leaves_earlier_conditionals() {
    let (k, l) = (3, 4);
    let prior = trained(k, l);
    let grids = all_grids(k, l);
    let n = grids.len() / l;
    let cond: Vec<Vec<Vec<f32>>> = prior.log_conditionals(&grids).unwrap().to_vec3().unwrap();
    let mut later_changed = 0;
    for a in 0..n {
        for b in 0..n {
            let (ga, gb) = (&grids[a * l..(a + 1) * l], &grids[b * l..(b + 1) * l]);
            let Some(first) = (0..l).find(|&i| ga[i] != gb[i]) else { continue };
            // Positions up to and including the first difference see only equal codes.
            for (i, (pa, pb)) in cond[a].iter().zip(&cond[b]).enumerate().take(first + 1) {
                for (c, (x, y)) in pa.iter().zip(pb).enumerate() {
                    assert!((x - y).abs() < 1e-6, "grids {ga:?} and {gb:?} differ first at {first}, yet p(c_{i} = {c} | ·) differs");
                }
            }
            if (first + 1..l).any(|i| (0..k).any(|c| (cond[a][i][c] - cond[b][i][c]).abs() > 1e-3)) {
                later_changed += 1;
            }
        }
    }
    // The test could pass on a prior that ignores its input; this one must not.
    assert!(later_changed > n, "later conditionals should depend on earlier codes ({later_changed} pairs)");
}

#[test]
fn nll_is_the_sum_of_per_position_log_probabilities_and_sums_to_one() {
    let (k, l) = (3, 4);
    let prior = trained(k, l);
    let grids = all_grids(k, l);
    let cond: Vec<Vec<Vec<f32>>> = prior.log_conditionals(&grids).unwrap().to_vec3().unwrap();
    let bits = prior.nll_bits(&grids).unwrap();
    let mut total_probability = 0.0f64;
    for (g, grid) in grids.chunks_exact(l).enumerate() {
        let by_hand: f64 = grid.iter().enumerate().map(|(i, &c)| -(cond[g][i][c as usize] as f64) / std::f64::consts::LN_2).sum();
        assert!((bits[g] as f64 - by_hand).abs() < 1e-4, "grid {grid:?}: {} vs {by_hand}", bits[g]);
        total_probability += (-(bits[g] as f64) * std::f64::consts::LN_2).exp();
    }
    // An autoregressive product of normalised conditionals is a distribution over all K^l grids.
    assert!((total_probability - 1.0).abs() < 1e-4, "Σ p(c) = {total_probability}");
    let mean = bits.iter().map(|&b| b as f64).sum::<f64>() / bits.len() as f64;
    assert!((prior.mean_nll_bits(&grids).unwrap() - mean).abs() < 1e-4);
}

#[test]
fn unigram_and_uniform_baselines_match_their_closed_forms() {
    // Two positions, K = 2; training grids (0,1), (0,1), (1,1): p_0 = (3/5, 2/5), p_1 = (1/5, 4/5).
    let unigram = Unigram::fit(&[0, 1, 0, 1, 1, 1], 2, 2);
    let expected = -((3.0f64 / 5.0).log2() + (4.0f64 / 5.0).log2() + (2.0f64 / 5.0).log2() + (1.0f64 / 5.0).log2()) / 2.0;
    assert!((unigram.mean_nll_bits(&[0, 1, 1, 0]) - expected).abs() < 1e-12);
    assert_eq!(prior::uniform_bits(16, 16), 64.0);
}

#[test]
fn sampling_is_seeded_keeps_the_given_codes_and_follows_the_conditionals() {
    let (k, l) = (3, 4);
    let prior = trained(k, l);
    assert_eq!(prior.sample(5, 11, None, 0).unwrap(), prior.sample(5, 11, None, 0).unwrap());
    let given = [2, 0, 1, 0];
    let count = 4000;
    let grids = prior.sample(count, 5, Some(&given), 3).unwrap();
    let mut counts = [0usize; 3];
    for g in grids.chunks_exact(l) {
        assert_eq!(&g[..3], &given[..3], "the first three codes are kept");
        counts[g[3] as usize] += 1;
    }
    // The last code's frequencies are p(c_4 | 2, 0, 1) within five standard errors.
    let cond: Vec<Vec<Vec<f32>>> = prior.log_conditionals(&given).unwrap().to_vec3().unwrap();
    for (c, &n) in counts.iter().enumerate() {
        let p = (cond[0][3][c] as f64).exp();
        let se = (p * (1.0 - p) / count as f64).sqrt();
        assert!((n as f64 / count as f64 - p).abs() < 5.0 * se + 1e-3, "code {c}: {n}/{count} vs p = {p}");
    }
}

#[test]
fn a_prior_file_round_trips_and_oversized_priors_are_refused() {
    let prior = trained(3, 4);
    let bytes = prior::save(&prior, 60, "abc").unwrap();
    let back = prior::load(&bytes, &Device::Cpu).unwrap();
    assert_eq!((back.step, back.vq.as_str()), (60, "abc"));
    let grids = all_grids(3, 4);
    assert_eq!(back.prior.nll_bits(&grids).unwrap(), prior.nll_bits(&grids).unwrap());
    assert!(prior::load(&bytes[..bytes.len() - 4], &Device::Cpu).is_err());
    let huge = PriorConfig::for_grid(512, 16);
    assert!(huge.validate().unwrap_err().contains("parameters"));
}

/// The shipped vq-l16 VQ-VAE on MNIST, in a session.
fn vq_l16_session() -> Session {
    let bytes = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/checkpoints/vq-l16.safetensors")).unwrap();
    let mut session = Session::new(&Default::default(), &Default::default()).unwrap();
    session.set_datasets(common::mnist("train"), common::mnist("t10k")).unwrap();
    session.load(&bytes).unwrap();
    session
}

#[test]
fn training_on_real_codes_beats_the_unigram_baseline_and_the_session_keeps_it_honest() {
    let mut session = vq_l16_session();
    let start = session.start_prior(0).unwrap();
    assert_eq!((start.train_grids, start.test_grids, start.positions, start.codebook_size), (60000, 10000, 16, 16));
    assert!(start.parameters <= prior::MAX_PARAMETERS);
    assert_eq!(start.uniform_bits, 64.0);
    assert!(start.unigram_bits < start.uniform_bits);
    // One epoch of 468 batches.
    session.train_prior(468).unwrap();
    let report = session.prior_report().unwrap();
    println!(
        "vq-l16 prior after 1 epoch: test NLL {:.2} bits, unigram {:.2}, uniform {:.2}",
        report.test_nll_bits, report.unigram_bits, report.uniform_bits
    );
    assert!(report.test_nll_bits < report.unigram_bits - 2.0, "{report:?}");
    assert!(report.test_nll_bits < start.test_nll_bits);

    let completion = session.complete_codes(&[3; 16], 5, 4, 9).unwrap();
    assert!(completion.codes.chunks_exact(16).all(|g| g[..5] == [3; 5]));
    assert_eq!(completion.pixels.len(), 4 * 784);
    let samples = session.prior_samples(6, 1).unwrap();
    assert_eq!((samples.codes.len(), samples.uniform_codes.len(), samples.pixels.len()), (96, 96, 6 * 784));

    // Saved and loaded again the prior scores the same; it refuses a VQ-VAE that trained on.
    let bytes = session.save_prior().unwrap();
    let mut other = vq_l16_session();
    let loaded = other.load_prior(&bytes).unwrap();
    assert!((loaded.test_nll_bits - report.test_nll_bits).abs() < 1e-6);
    other.train_steps(1).unwrap();
    assert!(!other.has_prior(), "training the VQ-VAE drops the prior fitted to its old codes");
    assert!(other.load_prior(&bytes).unwrap_err().to_string().contains("another VQ-VAE"));
}

#[test]
fn the_shipped_prior_loads_for_vq_l16_and_scores_as_the_manifest_records() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/checkpoints");
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let entry = manifest["priors"].as_array().unwrap().iter().find(|p| p["name"] == "vq-l16-prior").expect("vq-l16-prior listed");
    assert_eq!(entry["checkpoint"], "vq-l16");
    let mut session = vq_l16_session();
    let report = session.load_prior(&std::fs::read(dir.join(entry["file"].as_str().unwrap())).unwrap()).unwrap();
    let recorded = |key: &str| entry["test"][key].as_f64().unwrap();
    assert_eq!(report.step as f64, recorded("step"));
    for (key, now) in [("testNllBits", report.test_nll_bits), ("unigramBits", report.unigram_bits), ("uniformBits", report.uniform_bits)] {
        assert!((now - recorded(key)).abs() < 0.01, "{key}: {now} now, {} recorded", recorded(key));
    }
}
