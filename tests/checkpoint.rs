//! Checkpoints: an exact round trip (EMA state included), and every kind of wrong or damaged
//! input refused with the right error.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use latent_lab::checkpoint::{load, save, CheckpointError};
use latent_lab::model::{CodebookUpdate, Model, ModelConfig, ModelKind};
use latent_lab::train::{TrainConfig, Trainer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use safetensors::SafeTensors;

fn cpu() -> Device {
    Device::Cpu
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().map(|v| v.to_bits()).collect()
}

fn small(kind: ModelKind) -> ModelConfig {
    ModelConfig { kind, hidden: 24, latent_dim: 3, ..Default::default() }
}

/// A trainer whose model has taken `steps` steps on real digits.
fn trained(config: &ModelConfig, steps: usize) -> Trainer {
    let data = common::mnist("t10k").take(512);
    let train = TrainConfig { batch_size: 32, seed: 4, learning_rate: 2e-3, ..Default::default() };
    let model = Model::new(config, train.seed, &cpu()).unwrap();
    let mut trainer = Trainer::new(model, train, data.len()).unwrap();
    trainer.train_steps(&data, steps).unwrap();
    trainer
}

fn assert_round_trip(config: &ModelConfig) {
    let trainer = trained(config, 15);
    let (model, train, step) = (trainer.model(), trainer.config().clone(), trainer.step());
    assert_eq!(step, 15);
    let bytes = save(model, &train, step).unwrap();
    let restored = load(&bytes, &cpu()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(restored.model.config(), model.config());
    assert_eq!(restored.train, train);
    assert_eq!(restored.step, step);
    let (a, b) = (model.weights().unwrap(), restored.model.weights().unwrap());
    assert_eq!(a.len(), b.len());
    for ((na, ta), (nb, tb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert_eq!(ta.dims(), tb.dims(), "{na}");
        assert!(bits(ta) == bits(tb), "{na} is not bit-identical after the round trip");
    }
    // The same z decodes to the same image.
    let n = config.decoder_input();
    let mut rng = StdRng::seed_from_u64(8);
    let z = Tensor::from_vec((0..5 * n).map(|_| rng.random_range(-2.0f32..2.0)).collect::<Vec<_>>(), (5, n), &cpu()).unwrap();
    assert!(bits(&model.decode(&z).unwrap()) == bits(&restored.model.decode(&z).unwrap()));
    // Saving the restored model again gives the same bytes: the metadata keys are sorted, so
    // the header does not depend on a HashMap's iteration order.
    // Several saves, each with a freshly seeded HashMap inside safetensors.
    for _ in 0..8 {
        let again = save(&restored.model, &restored.train, restored.step).unwrap();
        assert!(again == bytes, "a second save of the same model wrote different bytes");
    }
}

#[test]
fn round_trip_is_exact_for_every_family() {
    assert_round_trip(&small(ModelKind::Ae));
    assert_round_trip(&small(ModelKind::Vae));
    assert_round_trip(&ModelConfig { arch: latent_lab::model::Arch::Conv, hidden: 16, ..small(ModelKind::Vae) });
    assert_round_trip(&small(ModelKind::Vqvae));
}

#[test]
fn round_trip_keeps_the_ema_statistics() {
    let config =
        ModelConfig { codebook_update: CodebookUpdate::EmaRestart, codebook_size: 8, codes_per_image: 2, ..small(ModelKind::Vqvae) };
    let fresh = Model::new(&config, 4, &cpu()).unwrap().weights().unwrap();
    let trainer = trained(&config, 15);
    let (model, train, step) = (trainer.model(), trainer.config().clone(), trainer.step());
    let names = ["codebook.ema_count", "codebook.ema_sum", "codebook.usage", "codebook.embeddings"];
    // Training moved every piece of EMA state, so the round trip below has something to keep.
    for name in names {
        let get = |w: &[(String, Tensor)]| bits(&w.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}")).1);
        assert!(get(&fresh) != get(&model.weights().unwrap()), "{name} did not change in training");
    }
    let restored = load(&save(model, &train, step).unwrap(), &cpu()).unwrap();
    for name in names {
        let get = |m: &Model| bits(&m.weights().unwrap().into_iter().find(|(n, _)| n == name).unwrap().1);
        assert!(get(model) == get(&restored.model), "{name} not restored exactly");
    }
    assert!(bits(&model.codebook().unwrap()) == bits(&restored.model.codebook().unwrap()));
    // The restored model quantizes exactly as the original.
    let z = Tensor::from_vec((0..40).map(|i| (i as f32 * 0.37).sin() * 2.0).collect::<Vec<_>>(), (20, 2), &cpu()).unwrap();
    assert_eq!(model.quantize(&z).unwrap(), restored.model.quantize(&z).unwrap());
}

// ---- Refusals ----

fn valid() -> (Vec<u8>, Model) {
    let model = Model::new(&ModelConfig { hidden: 16, ..small(ModelKind::Vae) }, 1, &cpu()).unwrap();
    (save(&model, &TrainConfig::default(), 7).unwrap(), model)
}

/// The checkpoint's metadata and tensors, for rebuilding edited files.
fn parts(bytes: &[u8]) -> (HashMap<String, String>, HashMap<String, Tensor>) {
    let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    (meta, candle_core::safetensors::load_buffer(bytes, &cpu()).unwrap())
}

fn rebuild(meta: Option<HashMap<String, String>>, tensors: &HashMap<String, Tensor>) -> Vec<u8> {
    let mut named: Vec<_> = tensors.iter().collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    safetensors::serialize(named.into_iter().map(|(n, t)| (n.as_str(), t)), meta).unwrap()
}

fn edited(f: impl FnOnce(&mut HashMap<String, String>, &mut HashMap<String, Tensor>)) -> Vec<u8> {
    let (bytes, _) = valid();
    let (mut meta, mut tensors) = parts(&bytes);
    f(&mut meta, &mut tensors);
    rebuild(Some(meta), &tensors)
}

fn err(bytes: &[u8]) -> CheckpointError {
    match load(bytes, &cpu()) {
        Ok(_) => panic!("a bad checkpoint was accepted"),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            e
        }
    }
}

macro_rules! assert_variant {
    ($bytes:expr, $pat:pat) => {{
        let e = err(&$bytes);
        assert!(matches!(e, $pat), "expected {}, got {e:?}", stringify!($pat));
    }};
}

#[test]
fn the_unedited_rebuild_still_loads() {
    // The editing helpers themselves don't break a file: the refusals below are due to the edit.
    let bytes = edited(|_, _| {});
    let c = load(&bytes, &cpu()).unwrap();
    assert_eq!(c.step, 7);
}

#[test]
fn garbage_and_truncated_files_are_unreadable() {
    let mut rng = StdRng::seed_from_u64(2);
    let random: Vec<u8> = (0..4096).map(|_| rng.random()).collect();
    assert_variant!(random, CheckpointError::Unreadable(_));
    assert_variant!(Vec::<u8>::new(), CheckpointError::Unreadable(_));
    let (bytes, _) = valid();
    for cut in [3, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        assert_variant!(bytes[..cut], CheckpointError::Unreadable(_));
    }
    // A header length that points past the end of the file.
    let mut long = bytes.clone();
    long[..8].copy_from_slice(&(bytes.len() as u64 * 2).to_le_bytes());
    assert_variant!(long, CheckpointError::Unreadable(_));
}

/// Offset of the first occurrence of `needle` inside the JSON header (which starts at byte 8).
fn header_offset(bytes: &[u8], needle: &str) -> usize {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = &bytes[8..8 + n];
    8 + header.windows(needle.len()).position(|w| w == needle.as_bytes()).unwrap_or_else(|| panic!("{needle} not in header"))
}

#[test]
fn flipped_header_bytes_are_refused() {
    let (bytes, _) = valid();
    // The opening brace of the header JSON.
    let mut b = bytes.clone();
    b[8] ^= 0x01;
    assert_variant!(b, CheckpointError::Unreadable(_));
    // A quote inside the structure.
    let mut b = bytes.clone();
    b[header_offset(&bytes, "\"__metadata__\"")] = b'x';
    assert_variant!(b, CheckpointError::Unreadable(_));
    // Our format tag.
    let mut b = bytes.clone();
    b[header_offset(&bytes, "latent-lab")] ^= 0x01;
    assert_variant!(b, CheckpointError::NotLatentLab);
    // The model kind inside the stored config ("vae" → "vbe").
    let mut b = bytes.clone();
    b[header_offset(&bytes, "\\\"vae\\\"") + 3] = b'b';
    assert_variant!(b, CheckpointError::BadMetadata(_));
    // Any flipped byte anywhere in the header: an error or a (changed but) valid file, never a panic.
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    for i in 8..8 + n {
        let mut b = bytes.clone();
        b[i] ^= 0x20;
        let _ = load(&b, &cpu());
    }
}

#[test]
fn a_safetensors_file_without_our_metadata_is_not_ours() {
    let (bytes, _) = valid();
    let (meta, tensors) = parts(&bytes);
    assert_variant!(rebuild(None, &tensors), CheckpointError::NotLatentLab);
    let mut other = HashMap::from([("format".to_string(), "pt".to_string())]);
    assert_variant!(rebuild(Some(other.clone()), &tensors), CheckpointError::NotLatentLab);
    other.insert("version".into(), meta["version"].clone());
    assert_variant!(rebuild(Some(other), &tensors), CheckpointError::NotLatentLab);
}

#[test]
fn wrong_version_is_unsupported() {
    match err(&edited(|m, _| {
        m.insert("version".into(), "2".into());
    })) {
        CheckpointError::UnsupportedVersion(v) => assert_eq!(v, "2"),
        e => panic!("expected UnsupportedVersion, got {e:?}"),
    }
    assert_variant!(
        edited(|m, _| {
            m.remove("version");
        }),
        CheckpointError::UnsupportedVersion(_)
    );
}

#[test]
fn unreadable_settings_are_bad_metadata() {
    assert_variant!(
        edited(|m, _| {
            m.remove("model");
        }),
        CheckpointError::BadMetadata(_)
    );
    assert_variant!(
        edited(|m, _| {
            m.remove("step");
        }),
        CheckpointError::BadMetadata(_)
    );
    assert_variant!(
        edited(|m, _| {
            m.insert("step".into(), "-3".into());
        }),
        CheckpointError::BadMetadata(_)
    );
    assert_variant!(
        edited(|m, _| {
            m.insert("model".into(), "{not json".into());
        }),
        CheckpointError::BadMetadata(_)
    );
    assert_variant!(
        edited(|m, _| {
            m.insert("train".into(), "{\"learningRate\": 50}".into());
        }),
        CheckpointError::BadMetadata(_)
    );
    // A config that parses but is out of range (hidden size 2).
    assert_variant!(
        edited(|m, _| {
            let cfg = m["model"].replace("\"hidden\":16", "\"hidden\":2");
            assert_ne!(cfg, m["model"]);
            m.insert("model".into(), cfg);
        }),
        CheckpointError::BadMetadata(_)
    );
}

#[test]
fn tensors_that_do_not_fit_the_stored_config_are_a_mismatch() {
    // The config says hidden 32, the tensors were made for hidden 16.
    assert_variant!(
        edited(|m, _| {
            let cfg = m["model"].replace("\"hidden\":16", "\"hidden\":32");
            assert_ne!(cfg, m["model"]);
            m.insert("model".into(), cfg);
        }),
        CheckpointError::Mismatch(_)
    );
    // A missing tensor, an extra tensor, a renamed tensor.
    assert_variant!(
        edited(|_, t| {
            t.remove("decoder.fc2.bias");
        }),
        CheckpointError::Mismatch(_)
    );
    assert_variant!(
        edited(|_, t| {
            t.insert("extra".into(), Tensor::zeros(3, candle_core::DType::F32, &cpu()).unwrap());
        }),
        CheckpointError::Mismatch(_)
    );
    assert_variant!(
        edited(|_, t| {
            let v = t.remove("decoder.fc2.bias").unwrap();
            t.insert("decoder.fc2.bias_".into(), v);
        }),
        CheckpointError::Mismatch(_)
    );
    // Right name, wrong dtype.
    assert_variant!(
        edited(|_, t| {
            let v = t["encoder.fc1.bias"].to_dtype(candle_core::DType::F64).unwrap();
            t.insert("encoder.fc1.bias".into(), v);
        }),
        CheckpointError::Mismatch(_)
    );
}

#[test]
fn non_finite_weights_are_refused() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert_variant!(
            edited(|_, t| {
                let mut v = t["decoder.fc1.weight"].flatten_all().unwrap().to_vec1::<f32>().unwrap();
                v[5] = bad;
                let shape = t["decoder.fc1.weight"].shape().clone();
                t.insert("decoder.fc1.weight".into(), Tensor::from_vec(v, shape, &cpu()).unwrap());
            }),
            CheckpointError::Mismatch(_)
        );
    }
}
