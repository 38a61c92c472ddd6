//! The page's questions to the session, each checked against a direct computation from the
//! session's lower-level calls (encode, decode, project), and checked to leave each other alone.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use latent_lab::codes;
use latent_lab::data::{Dataset, IMAGE_PIXELS};
use latent_lab::latent;
use latent_lab::model::{ModelConfig, ModelKind};
use latent_lab::session::Session;
use latent_lab::train::TrainConfig;

fn trained(model: ModelConfig, steps: usize) -> Session {
    let mut s = Session::new(&model, &TrainConfig { seed: 7, ..Default::default() }).unwrap();
    let test = mnist();
    s.set_datasets(test.take(3000), test.take(1200)).unwrap();
    s.train_steps(steps).unwrap();
    s
}

fn vae(latent_dim: usize) -> ModelConfig {
    ModelConfig { hidden: 64, latent_dim, ..Default::default() }
}

fn vq(codes_per_image: usize) -> ModelConfig {
    ModelConfig { kind: ModelKind::Vqvae, hidden: 64, codebook_size: 12, code_dim: 2, codes_per_image, ..Default::default() }
}

/// The MNIST test set, read once per test binary.
fn mnist() -> &'static Dataset {
    static TEST: std::sync::OnceLock<Dataset> = std::sync::OnceLock::new();
    TEST.get_or_init(|| common::mnist("t10k"))
}

/// Test image `i` as the model sees it.
fn input(i: usize) -> Vec<f32> {
    mnist().image(i).iter().map(|&p| f32::from(p) / 255.0).collect()
}

/// The first `n` test images encoded in the memo's chunks of 1000 (a batch's size may change
/// the rounding of the matrix products, so the same chunks give the same bits).
fn encode_in_chunks(s: &Session, n: usize) -> (Vec<f32>, Option<Vec<u32>>) {
    let (mut mean, mut codes) = (Vec::new(), None::<Vec<u32>>);
    for start in (0..n).step_by(1000) {
        let pixels: Vec<f32> = (start..n.min(start + 1000)).flat_map(input).collect();
        let enc = s.encode(&pixels).unwrap();
        mean.extend(enc.mean);
        if let Some(c) = enc.codes {
            codes.get_or_insert_with(Vec::new).extend(c);
        }
    }
    (mean, codes)
}

#[test]
fn pick_draws_z_as_mu_plus_sigma_times_epsilon() {
    let mut s = trained(vae(3), 10);
    s.fit_view(0).unwrap();
    let p = s.pick(5, 4, 42).unwrap();
    let enc = s.encode(&input(5)).unwrap();
    let logvar = enc.logvar.clone().unwrap();
    assert_eq!((p.index, p.label, p.image.as_slice()), (5, mnist().label(5), mnist().image(5)));
    assert_eq!((&p.mu, p.logvar.as_ref()), (&enc.mean, Some(&logvar)));
    assert_eq!(p.epsilons.len(), 4 * 3);
    for (k, eps) in p.epsilons.chunks(3).enumerate() {
        for j in 0..3 {
            assert_eq!(p.zs[k * 3 + j], enc.mean[j] + (0.5 * logvar[j]).exp() * eps[j], "draw {k}, dimension {j}");
        }
    }
    assert_eq!(p.epsilons, latent::standard_normal(42, 12));
    assert_eq!(p.decoded, s.decode(&[enc.mean.clone(), p.zs.clone()].concat()).unwrap());
    assert_eq!(p.zs_plane, s.project(&p.zs).unwrap());
    assert_eq!(p.mu_plane.to_vec(), s.project(&enc.mean).unwrap());
    assert_eq!(p.axes, Some(s.plane().axes.concat()));
    // Draw i is the same whatever the number of draws; another seed draws others.
    let more = s.pick(5, 6, 42).unwrap();
    assert_eq!(more.epsilons[..12], p.epsilons[..]);
    assert_eq!(more.decoded[..5 * IMAGE_PIXELS], p.decoded[..]);
    assert_ne!(s.pick(5, 4, 43).unwrap().epsilons, p.epsilons);
    assert!(s.pick(1200, 1, 0).unwrap_err().to_string().contains("1200"));
}

#[test]
fn only_the_vae_draws_epsilon() {
    let s = trained(ModelConfig { kind: ModelKind::Ae, ..vae(2) }, 3);
    let p = s.pick(1, 5, 0).unwrap();
    assert!(p.epsilons.is_empty() && p.zs.is_empty() && p.logvar.is_none() && p.axes.is_none() && p.codes.is_none());
    assert_eq!(p.decoded, s.decode(&p.mu).unwrap());
    let s = trained(vq(2), 3);
    let p = s.pick(1, 5, 0).unwrap();
    assert_eq!(p.codes, s.encode(&input(1)).unwrap().codes);
    assert_eq!(p.decoded.len(), IMAGE_PIXELS);
}

#[test]
fn interpolation_decodes_the_line_and_draws_it_on_the_plane() {
    let mut s = trained(vae(4), 10);
    s.fit_view(0).unwrap();
    let r = s.interpolation(3, 2, 7).unwrap();
    let (a, b) = (s.encode(&input(3)).unwrap().mean, s.encode(&input(2)).unwrap().mean);
    let line = latent::interpolate(&a, &b, 7);
    assert_eq!(r.pixels, s.decode(&line).unwrap());
    assert_eq!(r.path, s.project(&line).unwrap());
    let test = mnist();
    assert_eq!(r.labels, [test.label(3), test.label(2)]);
    assert_eq!(r.images, [test.image(3), test.image(2)].concat());
    assert!(s.interpolation(3, 2, 1).unwrap_err().to_string().contains("2 to 64 steps"));
    assert!(s.interpolation(3, 5000, 7).unwrap_err().to_string().contains("5000"));
    assert!(trained(vq(1), 1).interpolation(0, 1, 5).is_err(), "a VQ-VAE has no line to decode");
}

#[test]
fn dim_rows_decode_the_hand_built_grid() {
    let s = trained(vae(3), 10);
    let r = s.dim_rows(Some(4), 2, 3.0, 9).unwrap();
    let base = s.encode(&input(4)).unwrap().mean;
    assert_eq!(r.values, latent::sweep(3.0, 9));
    assert_eq!((r.values[0], r.values[4], r.values[8]), (-3.0, 0.0, 3.0));
    let mut z = Vec::new();
    for j in 0..2 {
        for &v in &r.values {
            let mut code = base.clone();
            code[j] = v;
            z.extend(code);
        }
    }
    assert_eq!(r.pixels, s.decode(&z).unwrap());
    assert_eq!((r.base, r.base_label, r.count), (Some(4), Some(mnist().label(4)), 2));
    // From the origin, and at most one row per dimension.
    let origin = s.dim_rows(None, 10, 2.0, 5).unwrap();
    assert_eq!((origin.count, origin.base_label), (3, None));
    assert_eq!(origin.pixels, s.decode(&latent::dim_rows(&[0.0; 3], 3, &latent::sweep(2.0, 5))).unwrap());
    assert!(trained(vq(1), 1).dim_rows(None, 1, 3.0, 9).is_err());
}

#[test]
fn codebook_summary_counts_usage_and_majority_by_hand() {
    let s = trained(vq(2), 20);
    let sum = s.codebook_summary().unwrap();
    let test = mnist();
    // Nearest codes of every test image, encoded directly.
    let direct = encode_in_chunks(&s, 1200).1.unwrap();
    assert_eq!(sum.nearest, direct);
    assert_eq!(sum.usage.iter().sum::<u32>() as usize, 1200 * 2, "usage sums to N·l");
    for k in 0..12 {
        assert_eq!(sum.usage[k] as usize, direct.iter().filter(|&&c| c as usize == k).count());
        let votes: Vec<usize> = (0..10).map(|c| (0..2400).filter(|&i| direct[i] as usize == k && test.label(i / 2) == c).count()).collect();
        let best = *votes.iter().max().unwrap();
        let expected = if best == 0 { -1 } else { votes.iter().position(|&v| v == best).unwrap() as i16 };
        assert_eq!(sum.majority[k], expected, "code {k}");
    }
    let total = 2400.0f64;
    let entropy: f64 = sum.usage.iter().filter(|&&u| u > 0).map(|&u| -(u as f64 / total) * (u as f64 / total).ln()).sum();
    assert!((sum.perplexity as f64 - entropy.exp()).abs() < 1e-4, "perplexity = exp(entropy)");
    assert_eq!(sum.codes_used, sum.usage.iter().filter(|&&u| u > 0).count());
    assert_eq!((sum.codebook_size, sum.code_dim, sum.per_code), (12, 2, 2));
    assert_eq!(sum.codebook, s.codebook().unwrap());
    assert_eq!(sum.images, s.decode_codebook().unwrap());
    assert!(trained(vae(2), 1).codebook_summary().is_err());
}

#[test]
fn the_codes_csv_reads_back_as_the_encodings() {
    for model in [vae(3), vq(2)] {
        let s = trained(model.clone(), 5);
        let csv = s.codes_csv().unwrap();
        let codes = s.test_codes(1200).unwrap();
        let mut lines = csv.lines();
        let header = lines.next().unwrap();
        let expected_header = match model.kind {
            ModelKind::Vae => "index,label,mu_1,mu_2,mu_3,logvar_1,logvar_2,logvar_3",
            _ => "index,label,ze_1,ze_2,ze_3,ze_4,code_1,code_2",
        };
        assert_eq!(header, expected_header);
        let test = mnist();
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 1200);
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<&str> = row.split(',').collect();
            assert_eq!((cells[0].parse::<usize>().unwrap(), cells[1].parse::<u8>().unwrap()), (i, test.label(i)));
            let numbers: Vec<f32> = cells[2..2 + codes.mean.len() / 1200].iter().map(|c| c.parse().unwrap()).collect();
            for (got, want) in numbers.iter().zip(&codes.mean[i * numbers.len()..]) {
                assert!((got - want).abs() <= 1e-6 * want.abs().max(1e-30), "row {i}: {got} vs {want}");
            }
            if let Some(logvar) = &codes.logvar {
                let lv: f32 = cells[2 + 3].parse().unwrap();
                assert!((lv - logvar[i * 3]).abs() <= 1e-6 * logvar[i * 3].abs().max(1e-30));
            }
            if let Some(c) = &codes.codes {
                assert_eq!(cells[6..].iter().map(|c| c.parse().unwrap()).collect::<Vec<u32>>(), c[i * 2..i * 2 + 2]);
            }
        }
        assert_eq!(csv, codes::csv(model.kind, &test.labels()[..1200], &codes.mean, codes.logvar.as_deref(), codes.codes.as_deref()));
    }
}

#[test]
fn hover_and_drawing_reconstruct_as_the_model_does() {
    let s = trained(vq(1), 5);
    let h = s.hover(9).unwrap();
    assert_eq!((h.index, h.label, h.image.as_slice()), (9, mnist().label(9), mnist().image(9)));
    assert_eq!(h.recon, s.reconstruct(&input(9)).unwrap());
    let d = s.drawing(&input(9)).unwrap();
    let enc = s.encode(&input(9)).unwrap();
    assert_eq!((d.mean, d.codes, d.plane.to_vec()), (enc.mean, enc.codes, enc.plane));
    assert_eq!(d.recon, h.recon);
    assert!(s.drawing(&[0.0; 10]).is_err());
    assert!(s.hover(1200).is_err());
}

#[test]
fn queries_leave_each_other_alone_and_the_memo_is_invisible() {
    let mut s = trained(vae(5), 10);
    let fitted = s.fit_view(3000).unwrap();
    let scatter = s.scatter(3000).unwrap();
    let pick = s.pick(0, 3, 1).unwrap();
    // Other queries in between, some encoding the whole test set.
    s.codes_csv().unwrap();
    s.dim_rows(Some(2), 5, 3.0, 9).unwrap();
    s.interpolation(0, 1, 5).unwrap();
    s.evaluate(100).unwrap();
    assert_eq!(s.scatter(3000).unwrap().plane, scatter.plane);
    assert_eq!(fitted.plane, scatter.plane);
    assert_eq!(s.pick(0, 3, 1).unwrap().decoded, pick.decoded);
    // A small scatter is the start of a large one, and both equal a fresh encoding.
    assert_eq!(s.scatter(100).unwrap().plane, scatter.plane[..200]);
    assert_eq!(s.test_codes(1200).unwrap().mean, encode_in_chunks(&s, 1200).0);
    // Training changes the weights, so the next answer is new.
    s.train_steps(1).unwrap();
    assert_ne!(s.scatter(100).unwrap().plane, scatter.plane[..200]);
}

#[test]
fn set_data_starts_a_new_model_on_the_new_data() {
    let mut s = trained(vae(2), 5);
    let test = mnist();
    s.set_datasets(test.take(2000), test.take(500)).unwrap();
    let config = s.config();
    assert_eq!((config.step, config.test_length, config.latent_dim, config.class_count), (0, 500, 2, 10));
    let fresh = trained(vae(2), 0);
    assert_eq!(s.decode(&[0.3, 0.1]).unwrap(), fresh.decode(&[0.3, 0.1]).unwrap(), "a new model from the same settings");
}
