//! The judge of samples (src/judge.rs, src/session/judge.rs): the score math against hand
//! computations, the classifier's probabilities against a plain-loop forward pass, the file
//! round trip and its refusals, the shipped classifier's accuracy on the MNIST test set against
//! its manifest entry, and every kind of sample judged from the shipped checkpoints.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::PathBuf;

use candle_core::Device;
use latent_lab::data::IMAGE_PIXELS;
use latent_lab::judge::{self, Judge, JudgeConfig, JudgeTrainer, CLASSES};
use latent_lab::latent::Rect;
use latent_lab::model::ModelConfig;
use latent_lab::session::{SampleSource, Session, JUDGE_EXAMPLES};
use latent_lab::train::TrainConfig;
use serde_json::Value;

fn shipped(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/checkpoints").join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn manifest() -> Value {
    serde_json::from_slice(&shipped("manifest.json")).expect("the manifest is JSON")
}

/// A row of class probabilities with `top` at `class` and the rest shared equally.
fn row(class: usize, top: f32) -> Vec<f32> {
    (0..CLASSES).map(|c| if c == class { top } else { (1.0 - top) / (CLASSES - 1) as f32 }).collect()
}

#[test]
fn scores_match_hand_computations() {
    // Top classes 3, 3, 7, 1 with top probabilities 0.9, 0.5, 0.6, 1.0.
    let probs: Vec<f32> = [row(3, 0.9), row(3, 0.5), row(7, 0.6), row(1, 1.0)].concat();
    let s = judge::scores(&probs);
    assert_eq!(s.count, 4);
    assert!((s.confidence - 0.75).abs() < 1e-7, "{}", s.confidence);
    assert_eq!(s.histogram, [0, 1, 0, 2, 0, 0, 0, 1, 0, 0]);
    // −(½ log₂ ½ + 2 · ¼ log₂ ¼) = ½ + 1.
    assert!((s.entropy_bits - 1.5).abs() < 1e-12, "{}", s.entropy_bits);
    assert_eq!(s.classes_hit, 3);

    // One sample of every class: the largest spread, log₂ 10 bits.
    let all: Vec<f32> = (0..CLASSES).flat_map(|c| row(c, 0.8)).collect();
    let s = judge::scores(&all);
    assert!((s.entropy_bits - 10f64.log2()).abs() < 1e-12);
    assert_eq!((s.classes_hit, s.histogram), (10, [1; 10]));

    // All alike: no spread, whatever the confidence.
    let same: Vec<f32> = (0..5).flat_map(|_| row(4, 0.3)).collect();
    let s = judge::scores(&same);
    assert_eq!((s.entropy_bits, s.classes_hit, s.histogram[4]), (0.0, 1, 5));
    assert!((s.confidence - 0.3).abs() < 1e-7);

    // A tie goes to the first class, so every sample counts exactly once.
    let tie = [vec![0.5, 0.5], vec![0.0; 8]].concat();
    assert_eq!(judge::scores(&tie).histogram, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
}

/// `(N, 10)` softmax probabilities by plain loops over the weights (the slow reference).
fn reference_probabilities(judge: &Judge, images: &[f32]) -> Vec<f32> {
    let w: std::collections::HashMap<String, Vec<f32>> =
        judge.weights().into_iter().map(|(n, t)| (n, t.flatten_all().unwrap().to_vec1().unwrap())).collect();
    let h = judge.config().hidden;
    let mut out = Vec::new();
    for x in images.chunks_exact(IMAGE_PIXELS) {
        let hidden: Vec<f32> = (0..h)
            .map(|j| (w["fc1.bias"][j] + (0..IMAGE_PIXELS).map(|i| w["fc1.weight"][j * IMAGE_PIXELS + i] * x[i]).sum::<f32>()).max(0.0))
            .collect();
        let logits: Vec<f32> =
            (0..CLASSES).map(|c| w["fc2.bias"][c] + (0..h).map(|j| w["fc2.weight"][c * h + j] * hidden[j]).sum::<f32>()).collect();
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f32 = logits.iter().map(|l| (l - max).exp()).sum();
        out.extend(logits.iter().map(|l| (l - max).exp() / total));
    }
    out
}

#[test]
fn probabilities_equal_a_plain_loop_forward_pass_and_sum_to_one() {
    let judge = Judge::new(&JudgeConfig { hidden: 32, ..Default::default() }, &Device::Cpu).unwrap();
    let images: Vec<f32> = common::pixels(5).iter().map(|&p| p as f32 / 255.0).collect();
    let fast = judge.probabilities(&images).unwrap();
    let slow = reference_probabilities(&judge, &images);
    assert_eq!(fast.len(), 5 * CLASSES);
    for (a, b) in fast.iter().zip(&slow) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    for r in fast.chunks_exact(CLASSES) {
        assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    let (classes, confidence) = judge.classify(&images).unwrap();
    for (k, r) in slow.chunks_exact(CLASSES).enumerate() {
        let best = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert!((confidence[k] - best).abs() < 1e-5);
        assert!((r[classes[k] as usize] - best).abs() < 1e-5, "image {k}: class {} is not the top", classes[k]);
    }
    assert!(judge.probabilities(&images[..100]).is_err(), "a partial image is refused");
}

#[test]
fn a_short_training_run_learns_digits_and_the_file_round_trips() {
    let (train, test) = (common::mnist("train").take(3000), common::mnist("t10k").take(1000));
    let config = JudgeConfig { hidden: 64, ..Default::default() };
    let mut trainer = JudgeTrainer::new(Judge::new(&config, &Device::Cpu).unwrap(), train.len()).unwrap();
    let before = trainer.judge().accuracy(&test).unwrap();
    let first = trainer.train_epoch(&train).unwrap();
    let second = trainer.train_epoch(&train).unwrap();
    let after = trainer.judge().accuracy(&test).unwrap();
    assert!(second < first, "the training loss falls: {first} then {second}");
    assert!(after > 0.8 && after > before + 0.5, "accuracy {before} before, {after} after two epochs of 3000 images");

    let bytes = judge::save(trainer.judge(), trainer.step(), after).unwrap();
    assert_eq!(bytes, judge::save(trainer.judge(), trainer.step(), after).unwrap(), "the same judge gives the same bytes");
    let back = judge::load(&bytes, &Device::Cpu).unwrap();
    assert_eq!((back.step, back.test_accuracy, back.judge.config()), (trainer.step(), after, &config));
    let images: Vec<f32> = common::pixels(3).iter().map(|&p| p as f32 / 255.0).collect();
    assert_eq!(back.judge.probabilities(&images).unwrap(), trainer.judge().probabilities(&images).unwrap());

    // Cut short, or not a judge at all: refused with a reason.
    assert!(judge::load(&bytes[..bytes.len() - 4], &Device::Cpu).is_err());
    let not_judge = judge::load(&shipped("vq-l16-prior.safetensors"), &Device::Cpu).err().unwrap();
    assert!(not_judge.contains("not a Latent Lab judge"), "{not_judge}");
}

#[test]
fn the_shipped_judge_reaches_its_recorded_test_accuracy() {
    let entry = &manifest()["judge"];
    let file = judge::load(&shipped("judge.safetensors"), &Device::Cpu).unwrap();
    let recorded = entry["testAccuracy"].as_f64().expect("the manifest records the judge's accuracy");
    assert_eq!(file.test_accuracy, recorded, "the file and the manifest agree");
    assert_eq!(file.step, entry["steps"].as_u64().unwrap());
    let accuracy = file.judge.accuracy(&common::mnist("t10k")).unwrap();
    println!("shipped judge: test accuracy {:.2} %", 100.0 * accuracy);
    assert!((accuracy - recorded).abs() < 1e-4, "test accuracy {accuracy}, recorded {recorded}");
    assert!(accuracy >= 0.97, "the judge must be a good judge: {accuracy}");
}

/// A session on MNIST with the shipped judge loaded.
fn judged_session() -> Session {
    let mut session = Session::new(&ModelConfig::default(), &TrainConfig::default()).unwrap();
    session.set_datasets(common::mnist("train"), common::mnist("t10k")).unwrap();
    session.load_judge(&shipped("judge.safetensors")).unwrap();
    session
}

/// The page's table: every kind of sample, 1,000 each from seed 0, judged natively.
#[test]
fn every_kind_of_sample_judged_from_the_shipped_checkpoints() {
    let mut session = judged_session();
    let (count, seed) = (1000, 0);
    let prior = shipped("vq-l16-prior.safetensors");
    let rows = [
        ("test digits", "vae-2d", SampleSource::Test, None),
        ("vae-2d N(0, I)", "vae-2d", SampleSource::Prior, None),
        ("vae-10d N(0, I)", "vae-10d", SampleSource::Prior, None),
        ("ae-2d N(0, I)", "ae-2d", SampleSource::Prior, None),
        ("ae-2d GMM K = 10", "ae-2d", SampleSource::Gmm, None),
        ("vq-l16 uniform codes", "vq-l16", SampleSource::Prior, None),
        ("vq-l16 learned prior", "vq-l16", SampleSource::LearnedPrior, Some(prior.as_slice())),
        // Made from the data alone: the checkpoint only carries the call.
        ("shallow VQ-VAE", "vae-2d", SampleSource::Shallow, None),
    ];
    let mut scored = std::collections::HashMap::new();
    for (label, checkpoint, source, prior) in rows {
        let started = std::time::Instant::now();
        let row = session.judge_checkpoint(&shipped(&format!("{checkpoint}.safetensors")), prior, source, count, seed).unwrap();
        let s = &row.scores;
        println!(
            "{label:22} confidence {:.3}  entropy {:.3} bits  classes {:2}  histogram {:?}  ({:.2} s)",
            s.confidence,
            s.entropy_bits,
            s.classes_hit,
            s.histogram,
            started.elapsed().as_secs_f64()
        );
        assert_eq!(s.count, count);
        assert_eq!(s.histogram.iter().sum::<u32>() as usize, count);
        assert_eq!(row.examples.len(), JUDGE_EXAMPLES * IMAGE_PIXELS);
        // The row is the same samples judged again.
        let again = session.judge_checkpoint(&shipped(&format!("{checkpoint}.safetensors")), prior, source, count, seed).unwrap();
        assert_eq!(again.scores, row.scores, "{label}: seeded, so repeatable");
        scored.insert(label, row.scores);
    }
    // The session's own model and data stayed.
    assert_eq!(session.test_len(), 10_000);
    assert_eq!(session.model().config(), &ModelConfig::default());

    let test = &scored["test digits"];
    assert!(test.confidence > 0.97 && test.classes_hit == 10 && test.entropy_bits > 3.2, "{test:?}");
    // The lectures' claims, as the judge sees them: a learned prior makes more digit-like
    // samples than uniform codes (0.917 against 0.826 when measured), and a GMM fitted to the
    // AE's codes covers the digits where N(0, I) misses some (3.26 against 2.51 bits, 10 against
    // 8 classes).
    let (uniform, learned) = (&scored["vq-l16 uniform codes"], &scored["vq-l16 learned prior"]);
    assert!(learned.confidence > uniform.confidence + 0.05, "learned {learned:?} vs uniform {uniform:?}");
    let (normal, gmm) = (&scored["ae-2d N(0, I)"], &scored["ae-2d GMM K = 10"]);
    assert!(gmm.entropy_bits > normal.entropy_bits + 0.5 && gmm.classes_hit == 10, "GMM {gmm:?} vs N(0, I) {normal:?}");
}

#[test]
fn the_judged_manifold_classifies_the_decoded_tiles() {
    let mut session = judged_session();
    session.load(&shipped("vae-2d.safetensors")).unwrap();
    assert!(session.has_judge(), "the judge stays when a checkpoint replaces the model");
    let rect = Rect { x0: -3.0, x1: 3.0, y0: -3.0, y1: 3.0 };
    let m = session.judge_manifold(rect, 12).unwrap();
    assert_eq!(m.pixels, session.decode_grid(rect, 12, 12).unwrap(), "the same tiles as the manifold");
    let probs = reference_probabilities(&judge::load(&shipped("judge.safetensors"), &Device::Cpu).unwrap().judge, &m.pixels);
    for (k, r) in probs.chunks_exact(CLASSES).enumerate() {
        assert!((r[m.classes[k] as usize] - m.confidence[k]).abs() < 1e-5, "tile {k}");
        assert!(r.iter().all(|&p| p <= m.confidence[k] + 1e-6), "tile {k}: its class is the top one");
    }
    // A VAE's 2-D plane holds many digits.
    let distinct: std::collections::HashSet<u8> = m.classes.iter().copied().collect();
    assert!(distinct.len() >= 6, "classes on the manifold: {distinct:?}");
}

#[test]
fn bad_requests_are_refused() {
    let mut session = Session::new(&ModelConfig::default(), &TrainConfig::default()).unwrap();
    session.set_datasets(common::mnist("t10k").take(500), common::mnist("t10k").take(200)).unwrap();
    let err = session.judge_samples(SampleSource::Prior, 10, 0, None).err().unwrap().to_string();
    assert!(err.contains("load the judge"), "{err}");
    session.load_judge(&shipped("judge.safetensors")).unwrap();
    assert!(session.judge_samples(SampleSource::Prior, 0, 0, None).is_err());
    assert!(session.judge_samples(SampleSource::Test, 201, 0, None).is_err(), "more test images than there are");
    assert!(session.judge_samples(SampleSource::LearnedPrior, 10, 0, None).is_err(), "a VAE has no code grids");
    assert!(SampleSource::parse("shallowVq").is_err());
    assert_eq!(SampleSource::parse("learnedPrior").unwrap(), SampleSource::LearnedPrior);
    assert_eq!(SampleSource::parse("shallow").unwrap(), SampleSource::Shallow);
    // Any batch of images: the row a new sampler adds is one call.
    let s = session.judge_images(&vec![0.0; 3 * IMAGE_PIXELS]).unwrap();
    assert_eq!((s.count, s.classes_hit), (3, 1), "three blank images look alike");
    assert!(session.judge_images(&[0.0; 10]).is_err());
}
