//! The VAE's math: the closed-form KL against Monte Carlo, gradients through the
//! reparameterized sample, the per-image likelihoods against naive formulas, seeded init.
#![cfg(not(target_arch = "wasm32"))]

use candle_core::{Device, Tensor, Var};
use latent_lab::model::vae::{kl_per_dimension, reparameterize};
use latent_lab::model::{Likelihood, Model, ModelConfig, ModelKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

fn cpu() -> Device {
    Device::Cpu
}

fn vec1(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

fn small_vae(hidden: usize, latent_dim: usize, beta: f64) -> ModelConfig {
    ModelConfig { kind: ModelKind::Vae, hidden, latent_dim, beta, ..Default::default() }
}

// ---- KL: closed form vs Monte Carlo ----

/// `KL(N(μ, σ²) ‖ N(0, 1)) = E_q[log q(z) − log p(z)]`, estimated with `n` samples of
/// `z = μ + σε`: `log q(z) − log p(z) = −½ log σ² − ½ ε² + ½ z²` (the `log 2π` terms cancel).
/// Returns the estimate and its standard error.
fn kl_monte_carlo(mu: f64, logvar: f64, n: usize, rng: &mut StdRng) -> (f64, f64) {
    let sigma = (0.5 * logvar).exp();
    let (mut s1, mut s2) = (0.0, 0.0);
    for _ in 0..n {
        let eps: f64 = StandardNormal.sample(rng);
        let z = mu + sigma * eps;
        let v = -0.5 * logvar - 0.5 * eps * eps + 0.5 * z * z;
        s1 += v;
        s2 += v * v;
    }
    let mean = s1 / n as f64;
    let var = s2 / n as f64 - mean * mean;
    (mean, (var / n as f64).sqrt())
}

#[test]
fn kl_closed_form_matches_monte_carlo() {
    let pairs: [(f32, f32); 6] = [(0.0, 0.0), (1.5, 0.0), (-0.7, -1.2), (0.3, 0.9), (2.0, -3.0), (-1.0, 1.6)];
    let mu = Tensor::from_vec(pairs.iter().map(|p| p.0).collect::<Vec<_>>(), (1, pairs.len()), &cpu()).unwrap();
    let logvar = Tensor::from_vec(pairs.iter().map(|p| p.1).collect::<Vec<_>>(), (1, pairs.len()), &cpu()).unwrap();
    let closed = vec1(&kl_per_dimension(&mu, &logvar).unwrap());
    assert_eq!(closed.len(), pairs.len(), "one KL per dimension");
    let mut rng = StdRng::seed_from_u64(7);
    for (&(m, lv), &kl) in pairs.iter().zip(&closed) {
        let (mc, se) = kl_monte_carlo(m as f64, lv as f64, 200_000, &mut rng);
        // 5 standard errors plus f32 rounding; (0, 0) has KL 0 and zero variance.
        let tol = 5.0 * se + 1e-5 * (1.0 + mc.abs());
        assert!((kl as f64 - mc).abs() <= tol, "μ={m}, log σ²={lv}: closed form {kl} vs Monte Carlo {mc} ± {se}");
    }
    // The standard prior itself has zero KL, and every other pair is strictly positive.
    assert!(closed[0].abs() < 1e-7);
    assert!(closed[1..].iter().all(|&k| k > 0.01));
}

#[test]
fn kl_per_dimension_is_elementwise_over_a_batch() {
    // Each (row, column) entry depends only on its own μ and log σ²: compare a (3, 4) batch
    // with the same numbers evaluated one at a time.
    let mut rng = StdRng::seed_from_u64(3);
    let mu: Vec<f32> = (0..12).map(|_| rng.random_range(-2.0..2.0)).collect();
    let lv: Vec<f32> = (0..12).map(|_| rng.random_range(-3.0..2.0)).collect();
    let batch =
        kl_per_dimension(&Tensor::from_vec(mu.clone(), (3, 4), &cpu()).unwrap(), &Tensor::from_vec(lv.clone(), (3, 4), &cpu()).unwrap())
            .unwrap();
    assert_eq!(batch.dims(), &[3, 4]);
    for (i, got) in vec1(&batch).into_iter().enumerate() {
        let (m, l) = (mu[i] as f64, lv[i] as f64);
        let want = 0.5 * (m * m + l.exp() - l - 1.0);
        assert!((got as f64 - want).abs() < 1e-5 * (1.0 + want), "entry {i}: {got} vs {want}");
    }
}

// ---- Reparameterization: gradients reach μ and log σ² ----

#[test]
fn gradients_flow_through_the_sample_to_mu_and_logvar() {
    let mut rng = StdRng::seed_from_u64(11);
    let (b, d) = (4, 3);
    let draw = |rng: &mut StdRng, lo: f32, hi: f32| (0..b * d).map(|_| rng.random_range(lo..hi)).collect::<Vec<f32>>();
    let mu_v = draw(&mut rng, -2.0, 2.0);
    let lv_v = draw(&mut rng, -2.0, 1.5);
    let eps_v: Vec<f32> = (0..b * d).map(|_| StandardNormal.sample(&mut rng)).collect();
    let mu = Var::from_vec(mu_v.clone(), (b, d), &cpu()).unwrap();
    let logvar = Var::from_vec(lv_v.clone(), (b, d), &cpu()).unwrap();
    let eps = Tensor::from_vec(eps_v.clone(), (b, d), &cpu()).unwrap();

    let z = reparameterize(mu.as_tensor(), logvar.as_tensor(), &eps).unwrap();
    let loss = z.sqr().unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let g_mu = vec1(grads.get(mu.as_tensor()).expect("μ gets a gradient"));
    let g_lv = vec1(grads.get(logvar.as_tensor()).expect("log σ² gets a gradient"));

    for i in 0..b * d {
        let (m, l, e) = (mu_v[i] as f64, lv_v[i] as f64, eps_v[i] as f64);
        let sigma = (0.5 * l).exp();
        let zi = m + sigma * e;
        assert!((vec1(&z)[i] as f64 - zi).abs() < 1e-5 * (1.0 + zi.abs()), "z = μ + σε at {i}");
        // ∂(z²)/∂μ = 2z; ∂(z²)/∂log σ² = 2z · ∂z/∂log σ² = 2z · ½σε = zσε.
        let (want_mu, want_lv) = (2.0 * zi, zi * sigma * e);
        assert!((g_mu[i] as f64 - want_mu).abs() < 1e-5 * (1.0 + want_mu.abs()), "dL/dμ at {i}: {} vs {want_mu}", g_mu[i]);
        assert!((g_lv[i] as f64 - want_lv).abs() < 1e-5 * (1.0 + want_lv.abs()), "dL/dlogvar at {i}: {} vs {want_lv}", g_lv[i]);
    }
}

/// Sum of |g| of the parameter `name` (None = no gradient = 0), over `rows` of a 2-D weight.
fn grad_abs_sum(model: &Model, grads: &candle_core::backprop::GradStore, name: &str, rows: Option<std::ops::Range<usize>>) -> f64 {
    let data = model.varmap().data().lock().unwrap();
    let var = data.get(name).unwrap_or_else(|| panic!("no parameter {name}"));
    match grads.get(var.as_tensor()) {
        None => 0.0,
        Some(g) => {
            let g = match rows {
                Some(r) => g.narrow(0, r.start, r.len()).unwrap(),
                None => g.clone(),
            };
            vec1(&g).iter().map(|v| v.abs() as f64).sum()
        }
    }
}

#[test]
fn reconstruction_alone_trains_the_encoders_mu_and_logvar_heads() {
    // β = 0: the loss is the reconstruction term only, so any encoder gradient has come
    // through the sampled z into μ and log σ².
    let d = 3;
    let model = Model::new(&small_vae(32, d, 0.0), 5, &cpu()).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    let x: Vec<f32> = (0..8 * 784).map(|_| rng.random_range(0.0..1.0)).collect();
    let x = Tensor::from_vec(x, (8, 784), &cpu()).unwrap();
    let loss = model.loss(&x, &mut rng).unwrap();
    // With β = 0 the total is exactly the reconstruction term.
    assert_eq!(loss.total.to_scalar::<f32>().unwrap(), loss.recon.to_scalar::<f32>().unwrap());
    let grads = loss.total.backward().unwrap();
    // fc2's rows 0..d produce μ, rows d..2d produce log σ².
    let mu_head = grad_abs_sum(&model, &grads, "encoder.fc2.weight", Some(0..d));
    let lv_head = grad_abs_sum(&model, &grads, "encoder.fc2.weight", Some(d..2 * d));
    let first = grad_abs_sum(&model, &grads, "encoder.fc1.weight", None);
    assert!(mu_head > 1e-6, "μ head gets no gradient from the reconstruction: {mu_head}");
    assert!(lv_head > 1e-6, "log σ² head gets no gradient from the reconstruction: {lv_head}");
    assert!(first > 1e-6, "first encoder layer gets no gradient: {first}");
    assert!(grad_abs_sum(&model, &grads, "decoder.fc1.weight", None) > 1e-6);
}

// ---- Likelihoods ----

fn sigmoid(l: f64) -> f64 {
    1.0 / (1.0 + (-l).exp())
}

fn random_batch(rng: &mut StdRng, b: usize, lo: f32, hi: f32) -> (Tensor, Tensor, Vec<f32>, Vec<f32>) {
    let logits: Vec<f32> = (0..b * 784).map(|_| rng.random_range(lo..hi)).collect();
    // Grey values as soft targets, plus exact 0s and 1s as in MNIST.
    let x: Vec<f32> = (0..b * 784)
        .map(|i| match i % 3 {
            0 => 0.0,
            1 => rng.random_range(0.0..=1.0),
            _ => 1.0,
        })
        .collect();
    (Tensor::from_vec(logits.clone(), (b, 784), &cpu()).unwrap(), Tensor::from_vec(x.clone(), (b, 784), &cpu()).unwrap(), logits, x)
}

#[test]
fn bernoulli_nll_equals_naive_binary_cross_entropy() {
    let mut rng = StdRng::seed_from_u64(21);
    let b = 3;
    let (lt, xt, logits, x) = random_batch(&mut rng, b, -8.0, 8.0);
    let got = Likelihood::Bernoulli.nll_per_image(&lt, &xt).unwrap();
    assert_eq!(got.dims(), &[b], "one value per image");
    for (i, g) in vec1(&got).into_iter().enumerate() {
        let want: f64 = (0..784)
            .map(|p| {
                let (l, t) = (logits[i * 784 + p] as f64, x[i * 784 + p] as f64);
                let s = sigmoid(l);
                -(t * s.ln() + (1.0 - t) * (1.0 - s).ln())
            })
            .sum();
        assert!((g as f64 - want).abs() < 1e-4 * want, "image {i}: {g} vs naive {want}");
    }
}

#[test]
fn bernoulli_nll_is_finite_and_right_for_huge_logits() {
    // For |l| = 1000 the naive form is log(0) · 0 = NaN; the exact value is the softplus limit:
    // l = +1000 costs 1000·(1 − x), l = −1000 costs 1000·x.
    let mut rng = StdRng::seed_from_u64(22);
    let logits: Vec<f32> = (0..2 * 784).map(|i| if (i * 7919) % 5 < 2 { 1000.0 } else { -1000.0 }).collect();
    let x: Vec<f32> = (0..2 * 784).map(|_| rng.random_range(0.0..=1.0)).collect();
    let got = Likelihood::Bernoulli
        .nll_per_image(
            &Tensor::from_vec(logits.clone(), (2, 784), &cpu()).unwrap(),
            &Tensor::from_vec(x.clone(), (2, 784), &cpu()).unwrap(),
        )
        .unwrap();
    for (i, g) in vec1(&got).into_iter().enumerate() {
        assert!(g.is_finite(), "image {i}: {g}");
        let want: f64 = (0..784)
            .map(|p| {
                let (l, t) = (logits[i * 784 + p] as f64, x[i * 784 + p] as f64);
                if l > 0.0 {
                    l * (1.0 - t)
                } else {
                    -l * t
                }
            })
            .sum();
        assert!((g as f64 - want).abs() < 1e-4 * want, "image {i}: {g} vs {want}");
    }
}

#[test]
fn gaussian_nll_is_the_squared_error_of_the_sigmoid_mean() {
    let mut rng = StdRng::seed_from_u64(23);
    let (lt, xt, logits, x) = random_batch(&mut rng, 3, -6.0, 6.0);
    let got = Likelihood::Gaussian.nll_per_image(&lt, &xt).unwrap();
    for (i, g) in vec1(&got).into_iter().enumerate() {
        let want: f64 = (0..784).map(|p| (sigmoid(logits[i * 784 + p] as f64) - x[i * 784 + p] as f64).powi(2)).sum();
        assert!((g as f64 - want).abs() < 1e-4 * want, "image {i}: {g} vs {want}");
    }
}

// ---- Seeded initialisation ----

fn weights_of(config: &ModelConfig, seed: u64) -> Vec<(String, Vec<f32>)> {
    Model::new(config, seed, &cpu()).unwrap().weights().unwrap().into_iter().map(|(n, t)| (n, vec1(&t))).collect()
}

#[test]
fn same_seed_same_weights_different_seed_different_weights() {
    let configs = [
        small_vae(16, 2, 1.0),
        ModelConfig { kind: ModelKind::Ae, hidden: 16, ..Default::default() },
        ModelConfig { kind: ModelKind::Vqvae, hidden: 16, ..Default::default() },
        ModelConfig { arch: latent_lab::model::Arch::Conv, hidden: 16, ..Default::default() },
    ];
    for config in &configs {
        let a = weights_of(config, 42);
        let b = weights_of(config, 42);
        let c = weights_of(config, 43);
        assert!(!a.is_empty());
        assert_eq!(a.len(), b.len());
        for ((na, va), (nb, vb)) in a.iter().zip(&b) {
            assert_eq!(na, nb);
            let same_bits = va.iter().zip(vb).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same_bits, "{:?} {na}: same seed gave different values", config.kind);
        }
        for ((na, va), (_, vc)) in a.iter().zip(&c) {
            // Constant EMA bookkeeping (counts, usage) is the same for every seed by design.
            if na.ends_with("ema_count") || na.ends_with("usage") {
                continue;
            }
            let differing = va.iter().zip(vc).filter(|(x, y)| x != y).count();
            assert!(
                differing * 10 >= va.len() * 9,
                "{:?} {na}: seeds 42 and 43 agree on {} of {} values",
                config.kind,
                va.len() - differing,
                va.len()
            );
        }
    }
}
