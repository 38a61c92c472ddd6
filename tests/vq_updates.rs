//! VQ-VAE codebook updates: the EMA update by hand, what `after_step` does under each update
//! rule, and dead-code restarts (the rest of the machinery is in `vqvae.rs`).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use candle_core::Tensor;
use common::vq::{cpu, normal_vec, vec1, vq_config};
use latent_lab::model::vqvae::{codes_from_ema, ema_update, restart_dead_codes};
use latent_lab::model::{CodebookInit, CodebookUpdate, Loss, Model, ModelConfig, ModelKind};
use latent_lab::train::{TrainConfig, Trainer};
use rand::rngs::StdRng;
use rand::SeedableRng;

// ---- EMA update ----
const LAPLACE_EPS: f64 = 1e-5; // the smoothing constant of `codes_from_ema`

/// The module header's formulas in f64: `N ← γN + (1−γ)n`, `m ← γm + (1−γ)Σz`,
/// `e = m / N̂` with `N̂_k = (N_k + ε) / (Σ N + Kε) · Σ N`.
fn ema_by_hand(count: &[f64], sum: &[f64], z: &[f64], codes: &[usize], gamma: f64, d: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let k = count.len();
    let mut hits = vec![0.0; k];
    let mut sums = vec![0.0; k * d];
    for (row, &c) in codes.iter().enumerate() {
        hits[c] += 1.0;
        for j in 0..d {
            sums[c * d + j] += z[row * d + j];
        }
    }
    let count: Vec<f64> = count.iter().zip(&hits).map(|(c, h)| gamma * c + (1.0 - gamma) * h).collect();
    let sum: Vec<f64> = sum.iter().zip(&sums).map(|(m, s)| gamma * m + (1.0 - gamma) * s).collect();
    let total: f64 = count.iter().sum();
    let codes: Vec<f64> = (0..k * d)
        .map(|i| {
            let smoothed = (count[i / d] + LAPLACE_EPS) / (total + k as f64 * LAPLACE_EPS) * total;
            sum[i] / smoothed
        })
        .collect();
    (count, sum, codes)
}

fn assert_close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((*g as f64 - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: {g} vs {w}");
    }
}

#[test]
fn one_ema_update_equals_the_hand_computation() {
    let (d, gamma) = (2, 0.8_f32);
    // K = 3; code 2 starts empty and gets no hits: Laplace smoothing keeps it finite (at 0).
    let mut count = vec![2.0_f32, 1.0, 0.0];
    let mut sum = vec![1.0_f32, 2.0, -1.0, 0.5, 0.0, 0.0];
    let z = [0.5_f32, 1.5, 1.0, 2.5, -2.0, 1.0, -1.0, 0.0];
    let codes = [0usize, 0, 1, 1];
    let (want_count, want_sum, want_codes) = ema_by_hand(
        &count.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        &sum.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        &z.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        &codes,
        gamma as f64,
        d,
    );
    // The test's own arithmetic, spelled out for code 0: N = 0.8·2 + 0.2·2 = 2,
    // m = 0.8·(1, 2) + 0.2·(1.5, 4) = (1.1, 2.4).
    assert!((want_count[0] - 2.0).abs() < 1e-6 && (want_sum[0] - 1.1).abs() < 1e-6 && (want_sum[1] - 2.4).abs() < 1e-6);

    let mut hits = vec![0f32; 3];
    let mut sums = vec![0f32; 3 * d];
    for (row, &c) in codes.iter().enumerate() {
        hits[c] += 1.0;
        for j in 0..d {
            sums[c * d + j] += z[row * d + j];
        }
    }
    ema_update(&mut count, &mut sum, &hits, &sums, gamma);
    assert_close(&count, &want_count, 1e-6, "count");
    assert_close(&sum, &want_sum, 1e-6, "sum");
    let got = codes_from_ema(&count, &sum, d);
    assert_close(&got, &want_codes, 1e-5, "codes");
    assert!(got.iter().all(|v| v.is_finite()));
    assert_eq!(&got[4..6], &[0.0, 0.0], "an empty code with an empty sum sits at 0");
}

fn named(model: &Model, name: &str) -> Vec<f32> {
    let weights = model.weights().unwrap();
    vec1(&weights.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no tensor {name}")).1)
}

/// A `Loss` carrying hand-written encoder outputs and codes (the other fields are unused by
/// `after_step`).
fn hand_loss(z: &[f32], d: usize, codes: Vec<u32>) -> Loss {
    let zero = Tensor::new(0f32, &cpu()).unwrap();
    Loss {
        total: zero.clone(),
        recon: zero,
        kl_per_dim: None,
        codebook: None,
        commitment: None,
        assignments: Some((Tensor::from_vec(z.to_vec(), (z.len() / d, d), &cpu()).unwrap(), codes)),
        epsilon: None,
    }
}

#[test]
fn after_step_with_ema_sets_the_codebook_to_the_ema_value() {
    let cfg = ModelConfig { codebook_size: 4, code_dim: 2, codes_per_image: 1, ema_decay: 0.9, ..vq_config(CodebookUpdate::Ema) };
    let mut model = Model::new(&cfg, 12, &cpu()).unwrap();
    let initial: Vec<f64> = vec1(&model.codebook().unwrap()).iter().map(|&v| v as f64).collect();
    let z = [0.3_f32, -0.2, 1.1, 0.9, 0.5, 0.1, 2.0, -1.0, 1.5, 1.5];
    let codes = vec![0u32, 3, 0, 3, 3];
    let mut rng = StdRng::seed_from_u64(0);
    model.after_step(&hand_loss(&z, 2, codes.clone()), &mut rng).unwrap();
    // Fresh EMA state: every code seen once at its own position.
    let (want_count, want_sum, want_codes) = ema_by_hand(
        &[1.0; 4],
        &initial,
        &z.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        &codes.iter().map(|&c| c as usize).collect::<Vec<_>>(),
        0.9,
        2,
    );
    assert_close(&vec1(&model.codebook().unwrap()), &want_codes, 1e-5, "codebook");
    assert_close(&named(&model, "codebook.embeddings"), &want_codes, 1e-5, "stored codebook");
    assert_close(&named(&model, "codebook.ema_count"), &want_count, 1e-6, "ema_count");
    assert_close(&named(&model, "codebook.ema_sum"), &want_sum, 1e-6, "ema_sum");
    // Usage share: u ← γu + (1−γ)·hits/N from the uniform 1/K.
    let want_usage: Vec<f64> = [2.0, 0.0, 0.0, 3.0].iter().map(|h| 0.9 * 0.25 + 0.1 * h / 5.0).collect();
    assert_close(&named(&model, "codebook.usage"), &want_usage, 1e-6, "usage");
    // Codes 1 and 2 got no hits: they stay where they were, up to the smoothing of N.
    let moved = |k: usize| (0..2).map(|j| (want_codes[k * 2 + j] - initial[k * 2 + j]).abs()).sum::<f64>();
    assert!(moved(0) > 1e-3 && moved(3) > 1e-3);
    assert!(moved(1) < 1e-4 && moved(2) < 1e-4);
    // The optimizer must not own the EMA codebook.
    assert!(model.trainable_vars().iter().all(|v| v.dims() != [4, 2]));
}

#[test]
fn after_step_with_loss_update_leaves_the_codebook_alone() {
    let cfg = ModelConfig { codebook_size: 4, code_dim: 2, codes_per_image: 1, ..vq_config(CodebookUpdate::Loss) };
    let mut model = Model::new(&cfg, 12, &cpu()).unwrap();
    let before = vec1(&model.codebook().unwrap());
    let mut rng = StdRng::seed_from_u64(0);
    model.after_step(&hand_loss(&[0.3, -0.2, 1.1, 0.9], 2, vec![0, 3]), &mut rng).unwrap();
    assert_eq!(vec1(&model.codebook().unwrap()), before);
    assert!(model.trainable_vars().iter().any(|v| v.dims() == [4, 2]), "the optimizer owns a loss-updated codebook");
}

// ---- Dead-code restarts ----

#[test]
fn restart_moves_exactly_the_dead_codes_onto_encoder_outputs() {
    let (k, d) = (8, 3);
    let threshold = 0.1 / k as f32; // a tenth of the uniform share
    let mut usage = vec![0.3, 0.01, 0.2, threshold, 0.005, 0.2, 0.0, 0.2725];
    let dead_expected = vec![1usize, 4, 6];
    let mut rng = StdRng::seed_from_u64(6);
    let mut count: Vec<f32> = (0..k).map(|i| 0.5 + i as f32).collect();
    let mut sum = normal_vec(&mut rng, k * d, 2.0);
    let z = normal_vec(&mut rng, 5 * d, 1.0);
    let (usage0, count0, sum0) = (usage.clone(), count.clone(), sum.clone());
    let mean_count = count0.iter().sum::<f32>() / k as f32;

    let dead = restart_dead_codes(&mut usage, &mut count, &mut sum, &z, d, &mut rng);
    assert_eq!(dead, dead_expected, "codes under 0.1/K (and only those; exactly 0.1/K is alive)");
    let mut rows_used = Vec::new();
    for code in 0..k {
        let (u, c, m) = (usage[code], count[code], &sum[code * d..(code + 1) * d]);
        if dead.contains(&code) {
            assert_eq!(u, 1.0 / k as f32, "code {code}: usage reset to the uniform share");
            assert!((c - mean_count).abs() < 1e-6 * mean_count, "code {code}: count {c} vs mean {mean_count}");
            let position: Vec<f32> = m.iter().map(|v| v / c).collect();
            let row = z
                .chunks(d)
                .position(|r| r.iter().zip(&position).all(|(a, b)| (a - b).abs() <= 1e-6 * (1.0 + a.abs())))
                .unwrap_or_else(|| panic!("code {code} at {position:?} is not on a row of z"));
            rows_used.push(row);
        } else {
            assert_eq!(u, usage0[code], "live code {code}: usage untouched");
            assert_eq!(c, count0[code], "live code {code}: count untouched");
            assert_eq!(m, &sum0[code * d..(code + 1) * d], "live code {code}: sum untouched");
        }
    }
    rows_used.sort();
    rows_used.dedup();
    assert_eq!(rows_used.len(), dead.len(), "each dead code goes to a distinct encoder output");

    // Nothing dead: nothing changes.
    let (u2, c2, s2) = (usage.clone(), count.clone(), sum.clone());
    assert!(restart_dead_codes(&mut usage, &mut count, &mut sum, &z, d, &mut rng).is_empty());
    assert_eq!((usage, count, sum), (u2, c2, s2));
}

/// Trains a K = 32, D = 2 VQ-VAE from the classic near-zero codebook on real digits and
/// returns the codes used on 1000 test images.
fn codes_used_after_training(update: CodebookUpdate, steps: usize) -> (usize, f32) {
    let train = common::mnist("train").take(6000);
    let test = common::mnist("t10k");
    let cfg = ModelConfig {
        kind: ModelKind::Vqvae,
        hidden: 64,
        codebook_size: 32,
        code_dim: 2,
        codes_per_image: 1,
        codebook_update: update,
        codebook_init: CodebookInit::SmallUniform,
        ..Default::default()
    };
    let model = Model::new(&cfg, 1, &cpu()).unwrap();
    let mut trainer = Trainer::new(model, TrainConfig { batch_size: 64, seed: 1, ..Default::default() }, train.len()).unwrap();
    trainer.train_steps(&train, steps).unwrap();
    let report = trainer.evaluate(&test, 1000).unwrap();
    (report.codes_used.unwrap(), report.perplexity.unwrap())
}

#[test]
fn restarts_revive_dead_codes_on_real_digits() {
    let (loss_used, loss_ppl) = codes_used_after_training(CodebookUpdate::Loss, 300);
    let (restart_used, restart_ppl) = codes_used_after_training(CodebookUpdate::EmaRestart, 300);
    println!("K=32 SmallUniform after 300 steps: Loss update uses {loss_used} codes (perplexity {loss_ppl:.1}); EMA+restart uses {restart_used} (perplexity {restart_ppl:.1})");
    // Measured over seeds 1..6: the loss update used 6 to 19 codes (perplexity 2.7 to 4.7),
    // EMA+restart 30 or 31 (perplexity 18.5 to 22.6).
    assert!(restart_used >= 24, "EMA+restart should use most of the 32 codes, used {restart_used}");
    assert!(restart_used > loss_used, "restart {restart_used} vs loss {loss_used}");
    assert!(restart_ppl >= 3.0 * loss_ppl, "usage should be far more even with restarts: perplexity {restart_ppl} vs {loss_ppl}");
}
