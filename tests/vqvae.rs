//! The VQ-VAE's machinery: nearest-code search against brute force, the straight-through
//! gradient, which loss term moves which parameters (codebook updates are in `vq_updates.rs`).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::vq::{cpu, normal_vec, vec1, vq_config};

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use latent_lab::model::vqvae::{nearest_code_indices, straight_through};
use latent_lab::model::{CodebookUpdate, Model};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

// ---- Nearest code ----

/// The slow reference: full squared distances in f64 with plain loops. Returns, per row, the
/// argmin and the gap between the best and second-best distance.
fn brute_force_nearest(z: &[f32], codebook: &[f32], d: usize) -> Vec<(u32, f64, Vec<f64>)> {
    let k = codebook.len() / d;
    z.chunks(d)
        .map(|row| {
            let dists: Vec<f64> = (0..k).map(|j| (0..d).map(|i| (row[i] as f64 - codebook[j * d + i] as f64).powi(2)).sum()).collect();
            let mut best = 0;
            for j in 1..k {
                if dists[j] < dists[best] {
                    best = j;
                }
            }
            let gap = (0..k).filter(|&j| j != best).map(|j| dists[j] - dists[best]).fold(f64::INFINITY, f64::min);
            (best as u32, gap, dists)
        })
        .collect()
}

#[test]
fn nearest_code_indices_match_brute_force() {
    let mut rng = StdRng::seed_from_u64(1);
    for &(n, k, d) in &[(500, 128, 16), (400, 16, 2), (300, 2, 2), (200, 7, 1), (300, 1024, 2), (100, 64, 64), (50, 1, 3)] {
        let codebook = normal_vec(&mut rng, k * d, 1.0);
        // Encoder outputs at a wider scale than the codes, so many fall outside the code cloud.
        let z = normal_vec(&mut rng, n * d, 1.5);
        let got = nearest_code_indices(
            &Tensor::from_vec(z.clone(), (n, d), &cpu()).unwrap(),
            &Tensor::from_vec(codebook.clone(), (k, d), &cpu()).unwrap(),
        )
        .unwrap();
        assert_eq!(got.len(), n, "K={k} D={d}: one index per row");
        let reference = brute_force_nearest(&z, &codebook, d);
        let mut near_ties = 0;
        for (row, (&g, (want, gap, dists))) in got.iter().zip(&reference).enumerate() {
            assert!((g as usize) < k, "K={k} D={d} row {row}: index {g} out of range");
            if g != *want {
                // The fast path works in f32 with ‖e‖² − 2z·e; only a near-tie may differ.
                let excess = dists[g as usize] - dists[*want as usize];
                assert!(
                    *gap < 1e-4 * (1.0 + dists[*want as usize]) && excess < 1e-4 * (1.0 + dists[*want as usize]),
                    "K={k} D={d} row {row}: got code {g} (d²={}), brute force {want} (d²={})",
                    dists[g as usize],
                    dists[*want as usize]
                );
                near_ties += 1;
            }
        }
        assert!(near_ties <= n / 100, "K={k} D={d}: {near_ties} disagreements");
    }
}

#[test]
fn a_code_is_its_own_nearest_code() {
    let mut rng = StdRng::seed_from_u64(2);
    let (k, d) = (32, 4);
    let codebook = normal_vec(&mut rng, k * d, 1.0);
    let cb = Tensor::from_vec(codebook, (k, d), &cpu()).unwrap();
    let got = nearest_code_indices(&cb, &cb).unwrap();
    assert_eq!(got, (0..k as u32).collect::<Vec<_>>());
}

// ---- Straight-through ----

#[test]
fn straight_through_copies_the_decoder_input_gradient_to_z_e() {
    let mut rng = StdRng::seed_from_u64(3);
    let (n, d, k) = (6, 3, 5);
    let codebook = Var::from_vec(normal_vec(&mut rng, k * d, 1.0), (k, d), &cpu()).unwrap();
    let z_e = Var::from_vec(normal_vec(&mut rng, n * d, 1.0), (n, d), &cpu()).unwrap();
    let codes = nearest_code_indices(z_e.as_tensor(), codebook.as_tensor()).unwrap();
    let index = Tensor::from_vec(codes, n, &cpu()).unwrap();
    let e = codebook.as_tensor().index_select(&index, 0).unwrap();
    let w = Tensor::from_vec(normal_vec(&mut rng, n * d, 1.0), (n, d), &cpu()).unwrap();
    let v = Tensor::from_vec(normal_vec(&mut rng, n * d, 1.0), (n, d), &cpu()).unwrap();
    // A non-linear "reconstruction" of the decoder input: Σ w ⊙ q² + Σ v ⊙ sin(q).
    let f = |q: &Tensor| -> Tensor {
        ((q.sqr().unwrap() * &w).unwrap().sum_all().unwrap() + (q.sin().unwrap() * &v).unwrap().sum_all().unwrap()).unwrap()
    };

    let z_q = straight_through(z_e.as_tensor(), &e).unwrap();
    // Forward: the value is the code.
    assert!(vec1(&z_q).iter().zip(vec1(&e)).all(|(a, b)| (a - b).abs() <= 1e-6 * (1.0 + b.abs())), "z_q must equal e");
    let grads = f(&z_q).backward().unwrap();
    let g_ze = vec1(grads.get(z_e.as_tensor()).expect("z_e gets the straight-through gradient"));

    // The same loss with the decoder input as a free variable holding the value e.
    let q = Var::from_tensor(&e.detach().copy().unwrap()).unwrap();
    let g_q = vec1(f(q.as_tensor()).backward().unwrap().get(q.as_tensor()).unwrap());
    assert!(g_q.iter().any(|g| g.abs() > 1e-3));
    for (i, (a, b)) in g_ze.iter().zip(&g_q).enumerate() {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "element {i}: ∂L/∂z_e = {a}, ∂L/∂z_q = {b}");
    }
    // And nothing leaks into the codebook through the stop-gradient.
    let leak = grads.get(codebook.as_tensor()).map_or(0.0, |g| vec1(g).iter().map(|x| x.abs()).sum::<f32>());
    assert_eq!(leak, 0.0, "the reconstruction term must not move the codebook");
}

// ---- Which loss term moves which parameters ----

/// Σ|g| over every parameter whose name starts with `prefix`; a missing gradient counts as 0.
fn grad_mass(model: &Model, grads: &GradStore, prefix: &str) -> f64 {
    let data = model.varmap().data().lock().unwrap();
    let mut total = 0.0;
    let mut found = false;
    for (name, var) in data.iter() {
        if name.starts_with(prefix) && !name.contains("ema_") && !name.contains("usage") {
            found = true;
            if let Some(g) = grads.get(var.as_tensor()) {
                total += vec1(g).iter().map(|x| x.abs() as f64).sum::<f64>();
            }
        }
    }
    assert!(found, "no parameters under {prefix}");
    total
}

fn random_images(rng: &mut StdRng, b: usize) -> Tensor {
    let x: Vec<f32> = (0..b * 784).map(|_| rng.random_range(0.0..1.0)).collect();
    Tensor::from_vec(x, (b, 784), &cpu()).unwrap()
}

#[test]
fn codebook_loss_moves_only_codes_and_commitment_only_the_encoder() {
    let model = Model::new(&vq_config(CodebookUpdate::Loss), 9, &cpu()).unwrap();
    let mut rng = StdRng::seed_from_u64(4);
    let x = random_images(&mut rng, 16);
    let loss = model.loss(&x, &mut rng).unwrap();

    let g = loss.codebook.as_ref().unwrap().backward().unwrap();
    assert!(grad_mass(&model, &g, "codebook.embeddings") > 1e-6, "codebook loss must move the codebook");
    assert_eq!(grad_mass(&model, &g, "encoder."), 0.0, "codebook loss must not move the encoder");
    assert_eq!(grad_mass(&model, &g, "decoder."), 0.0, "codebook loss must not move the decoder");

    let g = loss.commitment.as_ref().unwrap().backward().unwrap();
    assert_eq!(grad_mass(&model, &g, "codebook.embeddings"), 0.0, "commitment must not move the codebook");
    assert!(grad_mass(&model, &g, "encoder.") > 1e-6, "commitment must move the encoder");
    assert_eq!(grad_mass(&model, &g, "decoder."), 0.0, "commitment must not move the decoder");

    let g = loss.recon.backward().unwrap();
    assert_eq!(grad_mass(&model, &g, "codebook.embeddings"), 0.0, "reconstruction must not move the codebook");
    assert!(grad_mass(&model, &g, "encoder.") > 1e-6, "straight-through: reconstruction reaches the encoder");
    assert!(grad_mass(&model, &g, "decoder.") > 1e-6);
}

#[test]
fn vq_loss_terms_match_their_definitions() {
    // codebook = commitment = Σ over the l·D numbers of ‖z_e − e‖², averaged over the batch,
    // with e the nearest code; the total adds them weighted (codebook only under Loss update).
    let cfg = vq_config(CodebookUpdate::Loss);
    let model = Model::new(&cfg, 10, &cpu()).unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    let b = 12;
    let x = random_images(&mut rng, b);
    let loss = model.loss(&x, &mut rng).unwrap();
    let z_e = vec1(&model.encode(&x).unwrap().mean);
    let codebook = vec1(&model.codebook().unwrap());
    let d = cfg.code_dim;
    let reference = brute_force_nearest(&z_e, &codebook, d);
    let want: f64 = reference.iter().map(|(_, _, dists)| dists.iter().cloned().fold(f64::INFINITY, f64::min)).sum::<f64>() / b as f64;
    let codebook_loss = loss.codebook.unwrap().to_scalar::<f32>().unwrap() as f64;
    let commitment = loss.commitment.unwrap().to_scalar::<f32>().unwrap() as f64;
    assert!((codebook_loss - want).abs() < 1e-4 * (1.0 + want), "{codebook_loss} vs {want}");
    assert!((commitment - want).abs() < 1e-4 * (1.0 + want), "{commitment} vs {want}");
    let recon = loss.recon.to_scalar::<f32>().unwrap() as f64;
    let total = loss.total.to_scalar::<f32>().unwrap() as f64;
    // In the objective both terms are weighted by 784 / (l·D), the reconstruction's per-image
    // scale (module header); the reported terms are the unweighted distances.
    let w = 784.0 / (cfg.codes_per_image * cfg.code_dim) as f64;
    let want_total = recon + w * (cfg.commitment * want + want);
    assert!((total - want_total).abs() < 1e-4 * want_total, "{total} vs {want_total}");
    let (assigned, codes) = loss.assignments.unwrap();
    assert_eq!(assigned.dims(), &[b * cfg.codes_per_image, d]);
    assert_eq!(codes, reference.iter().map(|r| r.0).collect::<Vec<_>>());
}
