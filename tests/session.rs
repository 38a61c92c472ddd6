//! The session the page talks to: bad input leaves model and data alone, and the
//! latent-space queries agree with direct computations.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use latent_lab::data::{Dataset, IMAGE_PIXELS};
use latent_lab::latent::{grid, Plane, Rect};
use latent_lab::model::{CodebookUpdate, ModelConfig, ModelKind};
use latent_lab::session::Session;
use latent_lab::train::TrainConfig;

fn small_session(model: ModelConfig) -> Session {
    let mut s = Session::new(&model, &TrainConfig { seed: 5, ..Default::default() }).unwrap();
    let test = common::mnist("t10k");
    s.set_datasets(test.take(3000), test.take(1000)).unwrap();
    s
}

fn vae(latent_dim: usize) -> ModelConfig {
    ModelConfig { hidden: 64, latent_dim, ..Default::default() }
}

fn vq() -> ModelConfig {
    ModelConfig {
        kind: ModelKind::Vqvae,
        hidden: 64,
        codebook_size: 12,
        code_dim: 2,
        codebook_update: CodebookUpdate::Ema,
        ..Default::default()
    }
}

#[test]
fn malformed_data_is_refused_and_training_goes_on() {
    let mut s = small_session(vae(2));
    s.train_steps(3).unwrap();
    let broken = [0u8, 0, 8, 3, 0, 0, 0, 1];
    let err = s.set_data(&broken, &broken, &broken, &broken).unwrap_err();
    assert!(err.to_string().contains("training set"), "{err}");
    assert_eq!(s.test_len(), 1000);
    assert_eq!(s.train_steps(2).unwrap().step, 5);
}

/// The replica's call: the test files as both sets. Read once, they make two equal sets, and
/// it still trains.
#[test]
fn the_same_files_as_both_sets_give_two_equal_sets() {
    let labels: Vec<u8> = (0..200).map(|i| (i % 10) as u8).collect();
    let (images, labels) = (common::idx(&[200, 28, 28], &common::pixels(200)), common::idx(&[200], &labels));
    let mut s = small_session(vae(2));
    s.set_data(&images, &labels, &images, &labels).unwrap();
    assert_eq!(s.test_len(), 200);
    let expected = Dataset::from_idx(&images, &labels).unwrap();
    for index in [0, 199] {
        assert_eq!(s.test_image(index).unwrap(), expected.image(index));
    }
    assert_eq!(s.train_steps(1).unwrap().step, 1, "the training set is there too");
}

#[test]
fn queries_without_data_say_so() {
    let mut s = Session::new(&vae(2), &TrainConfig::default()).unwrap();
    let errors = [s.train_steps(1).err(), s.fit_view(10).err(), s.scatter(10).err(), s.pick(0, 1, 0).err(), s.codes_csv().err()];
    for err in errors.map(|e| e.map(|e| e.to_string())) {
        assert!(err.unwrap().contains("no "), "a clear 'no data' message");
    }
}

#[test]
fn decode_grid_of_a_2d_model_decodes_the_grid_points() {
    let s = small_session(vae(2));
    let rect = Rect { x0: -2.0, x1: 2.0, y0: -1.0, y1: 3.0 };
    assert_eq!(s.decode_grid(rect, 5, 3).unwrap(), s.decode(&grid(rect, 5, 3)).unwrap());
}

#[test]
fn high_dimensional_codes_are_shown_in_their_pca_plane() {
    let mut s = small_session(vae(6));
    s.train_steps(30).unwrap();
    let view = s.fit_view(0).unwrap();
    let codes = s.test_codes(1000).unwrap();
    assert_eq!(codes.mean.len(), 1000 * 6);
    assert_eq!(view.plane.len(), 2000);
    let plane = Plane::fit(&codes.mean, 6);
    assert_eq!(s.plane(), &plane, "fitted on the first 2000 codes = all 1000 here");
    assert_eq!(view.plane, plane.project(&codes.mean));
    assert_eq!(view.explained, Some(plane.explained));
    assert_eq!(view.axis_names, Some(["PC1", "PC2"]));
    assert!(plane.explained > 0.0 && plane.explained <= 1.0);
    // A grid over the plane decodes the lifted points.
    let rect = Rect { x0: -1.0, x1: 1.0, y0: -1.0, y1: 1.0 };
    assert_eq!(s.decode_grid(rect, 4, 4).unwrap(), s.decode(&plane.lift(&grid(rect, 4, 4))).unwrap());
}

/// How the page splits the manifold: a replica with the same weights but its own (never
/// fitted) plane decodes the lower rows on the training session's plane, and the two parts are
/// the training session's whole grid.
#[test]
fn a_replica_decodes_rows_of_the_trained_sessions_grid_on_its_plane() {
    let mut trained = small_session(vae(6));
    trained.train_steps(20).unwrap();
    trained.fit_view(0).unwrap();
    let mut replica = small_session(vae(6));
    replica.set_weights(&trained.weights().unwrap()).unwrap();
    assert_ne!(replica.plane(), trained.plane(), "the replica's plane is its own");

    let (rect, n) = (Rect { x0: -1.5, x1: 2.0, y0: -1.0, y1: 1.0 }, 7);
    let whole = trained.decode_grid(rect, n, n).unwrap();
    let plane = trained.plane().lifting_values();
    let top = trained.decode_grid_rows(rect, n, 0..4, None).unwrap();
    let bottom = replica.decode_grid_rows(rect, n, 4..n, Some(&plane)).unwrap();
    assert_eq!(top.len() + bottom.len(), whole.len());
    // Natively a product of fewer rows may sum in another order: equal up to rounding.
    for (i, (part, all)) in top.iter().chain(&bottom).zip(&whole).enumerate() {
        assert!((part - all).abs() <= 1e-6, "pixel {i}: {part} against {all}");
    }
    // Its own plane (the first two axes) gives other images: the plane is what was sent.
    assert_ne!(replica.decode_grid_rows(rect, n, 4..n, None).unwrap(), bottom);

    let bad_rows = [(0, 0), (5, 3), (6, 8)].map(|(a, b)| replica.decode_grid_rows(rect, n, a..b, None).unwrap_err().to_string());
    for err in bad_rows {
        assert!(err.contains("not a part of a grid of 7 rows"), "{err}");
    }
    let err = replica.decode_grid_rows(rect, n, 0..1, Some(&plane[1..])).unwrap_err().to_string();
    assert!(err.contains("a view plane of this model has 18 values (3 × 6), got 17"), "{err}");
}

#[test]
fn codebook_summary_names_the_nearest_code_of_every_test_point() {
    let mut s = small_session(vq());
    s.train_steps(20).unwrap();
    let summary = s.codebook_summary().unwrap();
    let codebook = s.codebook().unwrap();
    let z_e = s.test_codes(1000).unwrap().mean.clone();
    assert_eq!(summary.nearest.len(), 1000);
    for (i, p) in z_e.chunks_exact(2).enumerate() {
        let dist = |k: usize| (p[0] - codebook[2 * k]).powi(2) + (p[1] - codebook[2 * k + 1]).powi(2);
        let best = (0..12).min_by(|&a, &b| dist(a).total_cmp(&dist(b))).unwrap();
        let got = summary.nearest[i] as usize;
        assert!(got == best || (dist(got) - dist(best)).abs() < 1e-5, "test point {i}");
    }
    assert!(s.decode_grid(Rect { x0: -3.0, x1: 3.0, y0: -3.0, y1: 3.0 }, 0, 3).is_err());
}

#[test]
fn vq_samples_decode_codebook_vectors() {
    let s = small_session(vq());
    let (z, images) = s.sample_prior(8, 1).unwrap();
    let codebook = s.codebook().unwrap();
    for code in z.chunks_exact(2) {
        assert!(codebook.chunks_exact(2).any(|e| e == code), "{code:?} is a codebook vector");
    }
    assert_eq!(images, s.decode(&z).unwrap());
    assert_eq!(s.decode_codebook().unwrap(), s.decode(&codebook).unwrap());
}

#[test]
fn vae_prior_samples_have_unit_spread() {
    let s = small_session(vae(4));
    let (z, images) = s.sample_prior(2000, 9).unwrap();
    let mean = z.iter().sum::<f32>() / z.len() as f32;
    let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / z.len() as f32;
    assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.05, "mean {mean}, var {var}");
    assert_eq!(images.len(), 2000 * IMAGE_PIXELS);
}

#[test]
fn loading_a_checkpoint_keeps_the_data_and_a_bad_one_changes_nothing() {
    let mut a = small_session(vae(2));
    a.train_steps(5).unwrap();
    let bytes = a.save().unwrap();
    let mut b = small_session(vae(3));
    let probe = [0.1f32, 0.2, 0.3];
    let before = b.decode(&probe).unwrap();
    assert!(b.load(&bytes[..bytes.len() - 10]).is_err());
    assert_eq!(b.decode(&probe).unwrap(), before);
    assert_eq!(b.load(&bytes).unwrap(), None, "a checkpoint saved now carries its checksum: nothing to note");
    assert_eq!(b.latent_dim(), 2);
    assert_eq!(b.trainer().step(), 5);
    assert_eq!(b.decode(&[0.5, -0.5]).unwrap(), a.decode(&[0.5, -0.5]).unwrap());
    assert_eq!(b.test_len(), 1000, "the data survived the model swap");
    b.train_steps(1).unwrap();
}

/// The replica's update: a model that took another's weights in place answers exactly as a
/// copy loaded from its checkpoint does, the VQ-VAE's EMA statistics included.
#[test]
fn weights_copied_in_place_answer_as_the_checkpoint_does() {
    for config in [vae(2), vq()] {
        let mut trained = small_session(config.clone());
        trained.train_steps(6).unwrap();
        let mut loaded = small_session(config.clone());
        loaded.load(&trained.save().unwrap()).unwrap();
        // Another seed: different starting weights, the same shapes.
        let mut copied = Session::new(&config, &TrainConfig { seed: 9, ..Default::default() }).unwrap();
        let test = common::mnist("t10k");
        copied.set_datasets(test.take(3000), test.take(1000)).unwrap();
        assert_ne!(copied.weights().unwrap(), trained.weights().unwrap());
        copied.set_weights(&trained.weights().unwrap()).unwrap();
        assert_eq!(copied.weights().unwrap(), loaded.weights().unwrap());
        for index in [0, 17, 999] {
            assert_eq!(copied.hover(index).unwrap().recon, loaded.hover(index).unwrap().recon, "{:?} test image {index}", config.kind);
        }
        // The decoder answers alike too: the codebook, or a decoded code.
        if config.kind == ModelKind::Vqvae {
            assert_eq!(copied.codebook_summary().unwrap().codebook, loaded.codebook_summary().unwrap().codebook);
        } else {
            assert_eq!(copied.decode(&[0.3, -1.2]).unwrap(), trained.decode(&[0.3, -1.2]).unwrap());
        }
    }
}

#[test]
fn weights_of_another_model_are_refused_and_change_nothing() {
    let small = small_session(vae(2));
    let mut other = small_session(vae(3));
    let before = other.weights().unwrap();
    let err = other.set_weights(&small.weights().unwrap()).unwrap_err();
    assert!(err.to_string().contains(&format!("for a model of {}", before.len())), "{err}");
    assert_eq!(other.weights().unwrap(), before);
}

#[test]
fn a_loaded_checkpoint_goes_on_counting_epochs() {
    // 3000 training images in batches of 128: 23 steps per epoch; 50 steps end in epoch 2.
    let mut a = small_session(vae(2));
    assert_eq!(a.trainer().steps_per_epoch(), 23);
    a.train_steps(50).unwrap();
    let mut b = small_session(vae(2));
    b.load(&a.save().unwrap()).unwrap();
    assert_eq!((b.trainer().step(), b.trainer().epoch()), (50, 2));
    let (next_a, next_b) = (a.train_steps(1).unwrap(), b.train_steps(1).unwrap());
    assert_eq!((next_b.step, next_b.epoch, next_b.epoch_progress), (next_a.step, next_a.epoch, next_a.epoch_progress));
}

#[test]
fn test_images_and_labels_are_the_dataset_s() {
    let s = small_session(vae(2));
    let test: Dataset = common::mnist("t10k");
    for i in [0, 2, 999] {
        assert_eq!(s.test_image(i).unwrap(), test.pixels()[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]);
        assert_eq!(s.label(i).unwrap(), test.labels()[i]);
    }
    let past = s.label(1000).unwrap_err().to_string();
    assert!(past.contains("1000") && past.contains("0 to 999"), "{past}");
    assert!(s.test_image(1000).is_err());
    assert_eq!(s.scatter(4).unwrap().labels, test.labels()[..4]);
    assert_eq!(s.config().class_count, 10);
}

fn distinct(codes: &[u32]) -> usize {
    codes.iter().collect::<std::collections::BTreeSet<_>>().len()
}

/// Pixels of images `indices` of `data`, scaled to [0, 1] as the model sees them.
fn images_at(data: &Dataset, indices: &[usize]) -> Vec<f32> {
    indices.iter().flat_map(|&i| data.pixels()[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS].iter().map(|&p| f32::from(p) / 255.0)).collect()
}

#[test]
fn reconstruction_decodes_the_mean_or_the_nearest_codes() {
    let digits = images_at(&common::mnist("t10k"), &[0, 1, 2]);
    let mut s = small_session(vae(3));
    s.train_steps(5).unwrap();
    assert_eq!(s.reconstruct(&digits).unwrap(), s.decode(&s.encode(&digits).unwrap().mean).unwrap());

    let mut s = small_session(ModelConfig { codes_per_image: 2, ..vq() });
    s.train_steps(5).unwrap();
    let codes = s.encode(&digits).unwrap().codes.unwrap();
    assert_eq!(codes.len(), 6, "l = 2 codes for each of 3 images");
    let recon = s.reconstruct(&digits).unwrap();
    assert_eq!(recon, s.decode_codes(&codes).unwrap());
    // The same images by looking the vectors up by hand and decoding them.
    let book = s.codebook().unwrap();
    let z_q: Vec<f32> = codes.iter().flat_map(|&c| book[2 * c as usize..2 * c as usize + 2].to_vec()).collect();
    assert_eq!(recon, s.decode(&z_q).unwrap());
    assert_ne!(recon, s.decode(&s.encode(&digits).unwrap().mean).unwrap(), "z_e itself is not what VQ decodes");
}

#[test]
fn decoding_code_indices_checks_them() {
    let s = small_session(ModelConfig { codes_per_image: 2, ..vq() });
    assert_eq!(s.decode_codes(&[0, 11, 3, 3]).unwrap().len(), 2 * IMAGE_PIXELS);
    let out_of_range = s.decode_codes(&[0, 12]).unwrap_err().to_string();
    assert!(out_of_range.contains("12") && out_of_range.contains("0 to 11"), "{out_of_range}");
    assert!(s.decode_codes(&[1, 2, 3]).unwrap_err().to_string().contains("multiple of l = 2"));
    let not_vq = small_session(vae(2)).decode_codes(&[0, 1]).unwrap_err().to_string();
    assert!(not_vq.contains("only a VQ-VAE"), "{not_vq}");
}

#[test]
fn project_puts_codes_where_the_map_draws_them() {
    let mut s = small_session(vae(5));
    s.train_steps(20).unwrap();
    let view = s.fit_view(300).unwrap();
    let mean = &s.test_codes(300).unwrap().mean[..300 * 5];
    assert_eq!(s.project(mean).unwrap(), view.plane);
    assert_eq!(s.scatter(300).unwrap().plane, view.plane, "scatter uses the fitted plane");
    assert!(s.project(&[0.0; 4]).is_err(), "4 numbers are not a 5-D code");
}

#[test]
fn rebuild_starts_a_new_model_on_the_same_data_and_bad_settings_change_nothing() {
    let mut s = small_session(vae(2));
    s.train_steps(4).unwrap();
    let bad = ModelConfig { latent_dim: 0, ..vae(2) };
    assert!(s.rebuild(&bad, &TrainConfig::default()).is_err());
    assert_eq!(s.trainer().step(), 4, "the trained model stays");
    s.rebuild(&vae(3), &TrainConfig { seed: 5, ..Default::default() }).unwrap();
    assert_eq!((s.trainer().step(), s.latent_dim(), s.test_len()), (0, 3, 1000));
    assert_eq!(s.train_steps(2).unwrap().step, 2, "the data came along");
    // Same settings and seed as a session built from scratch: the same model.
    let fresh = small_session(vae(3));
    let mut rebuilt = small_session(vae(2));
    rebuilt.rebuild(&vae(3), &TrainConfig { seed: 5, ..Default::default() }).unwrap();
    assert_eq!(rebuilt.decode(&[0.5, -1.0, 0.2]).unwrap(), fresh.decode(&[0.5, -1.0, 0.2]).unwrap());
}

#[test]
fn a_traced_vae_step_shows_its_batch_and_standard_normal_epsilon() {
    let mut s = small_session(vae(4));
    let trace = s.trace_step(128).unwrap();
    assert_eq!(trace.report.step, 1);
    assert_eq!((trace.indices.len(), trace.batch_size, trace.latent_dim), (128, 128, 4));
    assert!(trace.indices.iter().all(|&i| i < 3000));
    let eps = trace.epsilon.unwrap();
    assert_eq!(eps.len(), 128 * 4);
    let mean = eps.iter().sum::<f32>() / eps.len() as f32;
    let var = eps.iter().map(|e| (e - mean).powi(2)).sum::<f32>() / eps.len() as f32;
    assert!(mean.abs() < 0.2 && (0.75..1.25).contains(&var), "ε ~ N(0, 1): mean {mean}, var {var}");
    assert!(trace.codes.is_none() && trace.codebook_before.is_none() && trace.codes_moved.is_none());
    // The next step draws a new batch and new ε.
    let next = s.trace_step(128).unwrap();
    assert_ne!(next.indices, trace.indices);
    assert_ne!(next.epsilon.unwrap(), eps);
    // The batch's images as the page shows them: the training set's (here the first 3000 test digits).
    let data = common::mnist("t10k");
    let shown = s.trace_step(4).unwrap();
    let first = |i: usize| shown.indices[i] as usize;
    assert_eq!(shown.images, (0..4).flat_map(|i| data.image(first(i)).to_vec()).collect::<Vec<_>>());
    assert_eq!(shown.labels, (0..4).map(|i| data.labels()[first(i)]).collect::<Vec<_>>());
    assert_eq!(shown.epsilon.unwrap().len(), 4 * 4, "ε of the shown images only");
    assert_eq!((shown.indices.len(), s.trace_step(1000).unwrap().images.len()), (128, 128 * IMAGE_PIXELS), "shown ≤ batch");
}

#[test]
fn a_traced_vq_step_shows_the_codes_of_its_batch_and_how_the_codebook_moved() {
    let mut s = small_session(vq());
    s.train_steps(3).unwrap();
    let before = s.save().unwrap();
    let trace = s.trace_step(8).unwrap();
    // The codes are the nearest codes of the batch under the weights before the step.
    let mut earlier = small_session(vq());
    earlier.load(&before).unwrap();
    let indices: Vec<usize> = trace.indices.iter().map(|&i| i as usize).collect();
    let batch = images_at(&common::mnist("t10k").take(3000), &indices);
    assert_eq!(trace.codes.as_deref(), earlier.encode(&batch).unwrap().codes.as_deref());
    assert_eq!(trace.codes_picked, Some(distinct(trace.codes.as_deref().unwrap())));
    let before = trace.codebook_before.unwrap();
    assert_eq!(before, earlier.codebook().unwrap());
    let after = trace.codebook_after.unwrap();
    // How far each code moved, by hand.
    let moves: Vec<f64> = before
        .chunks(2)
        .zip(after.chunks(2))
        .map(|(b, a)| (((a[0] - b[0]) as f64).powi(2) + ((a[1] - b[1]) as f64).powi(2)).sqrt())
        .collect();
    assert_eq!(trace.codes_moved, Some(moves.iter().filter(|&&m| m > 0.0).count()));
    let largest = moves.iter().copied().fold(0.0, f64::max);
    assert!((trace.largest_move.unwrap() as f64 - largest).abs() <= 1e-6 * largest.max(1.0), "{:?} vs {largest}", trace.largest_move);
    assert_eq!(after, s.codebook().unwrap());
    assert_ne!(after, earlier.codebook().unwrap(), "the EMA update moved codes");
}

#[test]
fn a_checkpoint_from_before_checksums_loads_with_a_note() {
    // The shipped checkpoints were saved before checkpoints carried a checksum.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/checkpoints/ae-2d.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let mut session = small_session(vae(2));
    let note = session.load(&bytes).unwrap().expect("an old file loads with a note");
    assert!(note.contains("without a checksum"), "{note}");
    assert_eq!(session.model().config().kind, ModelKind::Ae);
}
