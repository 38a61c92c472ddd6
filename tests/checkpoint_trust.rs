//! Checkpoints you can trust: the stored SHA-256 catches a flipped byte in the tensors or the
//! settings, a wrong shape is refused before the file's tensor data is copied, a small file
//! cannot make the loader build a large model, and files from before checksums (the shipped
//! ones among them) still load with a note.
#![cfg(not(target_arch = "wasm32"))]

mod counting;

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};
use latent_lab::checkpoint::{load, save, CheckpointError, MAX_CHECKPOINT_BYTES, NO_CHECKSUM_NOTE};
use latent_lab::model::{Model, ModelConfig, ModelKind};
use latent_lab::train::TrainConfig;
use safetensors::SafeTensors;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

fn cpu() -> Device {
    Device::Cpu
}

fn config() -> ModelConfig {
    ModelConfig { kind: ModelKind::Vae, hidden: 16, latent_dim: 3, ..Default::default() }
}

fn valid() -> Vec<u8> {
    save(&Model::new(&config(), 1, &cpu()).unwrap(), &TrainConfig::default(), 7).unwrap()
}

fn header_len(bytes: &[u8]) -> usize {
    u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

fn parts(bytes: &[u8]) -> (HashMap<String, String>, HashMap<String, Tensor>) {
    let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
    (header.metadata().clone().unwrap(), candle_core::safetensors::load_buffer(bytes, &cpu()).unwrap())
}

fn rebuild(meta: HashMap<String, String>, tensors: &HashMap<String, Tensor>) -> Vec<u8> {
    let mut named: Vec<_> = tensors.iter().collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    safetensors::serialize(named.into_iter().map(|(n, t)| (n.as_str(), t)), Some(meta)).unwrap()
}

fn refused(bytes: &[u8]) -> CheckpointError {
    match load(bytes, &cpu()) {
        Ok(_) => panic!("a damaged checkpoint was accepted"),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            e
        }
    }
}

#[test]
fn a_saved_file_carries_a_checksum_and_loads_without_a_note() {
    let bytes = valid();
    let (meta, _) = parts(&bytes);
    let sum = &meta["checksum"];
    assert!(sum.starts_with("sha256:") && sum.len() == 7 + 64, "{sum}");
    assert!(sum[7..].chars().all(|c| c.is_ascii_hexdigit()));
    let ckpt = load(&bytes, &cpu()).unwrap();
    assert_eq!((ckpt.step, ckpt.note), (7, None));
}

#[test]
fn a_flipped_byte_in_a_tensor_is_refused() {
    let bytes = valid();
    let data_start = 8 + header_len(&bytes);
    // The lowest mantissa bit of a float: the value stays finite, only the checksum can tell.
    for at in [data_start, data_start + 4 * 1001, bytes.len() - 4] {
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        match refused(&b) {
            CheckpointError::Damaged(msg) => assert!(msg.contains("sha256:"), "{msg}"),
            e => panic!("byte {at}: expected Damaged, got {e:?}"),
        }
        let message = refused(&b).to_string();
        assert!(message.contains("damaged") && message.contains("checksum"), "{message}");
    }
    // Any single flipped byte in the data is refused, whichever check catches it.
    for at in (data_start..bytes.len()).step_by(97) {
        let mut b = bytes.clone();
        b[at] ^= 0xff;
        refused(&b);
    }
}

#[test]
fn a_flipped_byte_in_the_header_is_refused() {
    let bytes = valid();
    for at in 0..8 + header_len(&bytes) {
        for mask in [0x01, 0x20] {
            let mut b = bytes.clone();
            b[at] ^= mask;
            assert!(load(&b, &cpu()).is_err(), "flipping byte {at} with {mask:#x} went unnoticed");
        }
    }
    // A settings edit that keeps the JSON valid is caught by the checksum alone.
    let (mut meta, tensors) = parts(&bytes);
    meta.insert("step".into(), "8".into());
    assert!(matches!(refused(&rebuild(meta, &tensors)), CheckpointError::Damaged(_)));
}

#[test]
fn a_malformed_checksum_field_is_refused() {
    let (mut meta, tensors) = parts(&valid());
    meta.insert("checksum".into(), "md5:1234".into());
    match refused(&rebuild(meta, &tensors)) {
        CheckpointError::Damaged(msg) => assert!(msg.contains("md5:1234"), "{msg}"),
        e => panic!("expected Damaged, got {e:?}"),
    }
}

#[test]
fn an_old_file_without_a_checksum_loads_with_a_note() {
    let (mut meta, tensors) = parts(&valid());
    meta.remove("checksum");
    let ckpt = load(&rebuild(meta, &tensors), &cpu()).unwrap();
    assert_eq!(ckpt.step, 7);
    let note = ckpt.note.expect("a note about the missing checksum");
    assert_eq!(note, NO_CHECKSUM_NOTE);
    assert!(note.contains("without a checksum"));
    // Saving it again adds the checksum.
    let again = save(&ckpt.model, &ckpt.train, ckpt.step).unwrap();
    assert_eq!(load(&again, &cpu()).unwrap().note, None);
}

/// The shipped checkpoints predate checksums; they load, each with the note. (tests/checkpoints.rs
/// checks what they score, which needs the MNIST test set.)
#[test]
fn shipped_checkpoints_load_with_the_note() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/checkpoints");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // A learned prior or the judge is not a model checkpoint (tests/prior.rs and
        // tests/judge.rs load the shipped ones).
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let is_model = !stem.ends_with("-prior") && stem != "judge";
        if path.extension().is_some_and(|e| e == "safetensors") && is_model {
            let ckpt = load(&std::fs::read(&path).unwrap(), &cpu()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(ckpt.note.as_deref(), Some(NO_CHECKSUM_NOTE), "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 5, "only {seen} shipped checkpoints found");
}

/// A tensor of the right size in the wrong shape is refused before any tensor data is copied:
/// the failed load peaks at the fresh model's size, well below a successful load, which also
/// copies the file's weights.
#[test]
fn a_wrong_shape_is_refused_before_the_data_is_copied() {
    let bytes = valid();
    let (meta, mut tensors) = parts(&bytes);
    let transposed = tensors["encoder.fc1.weight"].t().unwrap().contiguous().unwrap();
    assert_ne!(transposed.dims(), tensors["encoder.fc1.weight"].dims());
    tensors.insert("encoder.fc1.weight".into(), transposed);
    let wrong = rebuild(meta, &tensors);
    let weight_bytes = bytes.len() - 8 - header_len(&bytes);

    let (ok, ok_peak) = counting::peak_during(|| load(&bytes, &cpu()).is_ok());
    assert!(ok);
    let (err, bad_peak) = counting::peak_during(|| load(&wrong, &cpu()).err());
    match err {
        Some(CheckpointError::Mismatch(msg)) => assert!(msg.contains("encoder.fc1.weight"), "{msg}"),
        other => panic!("expected Mismatch, got {other:?}"),
    }
    println!("peak: valid load {ok_peak} bytes, wrong shape {bad_peak} bytes, weights {weight_bytes} bytes");
    assert!(bad_peak + weight_bytes / 2 < ok_peak, "the wrong-shaped file's data was copied: {bad_peak} vs {ok_peak}");
}

/// A config asking for hidden width 2048 over the weights of a width-16 model: refused before
/// the 13 MB model is built.
#[test]
fn a_small_file_cannot_make_the_loader_build_a_large_model() {
    let (mut meta, tensors) = parts(&valid());
    let big = meta["model"].replace("\"hidden\":16", "\"hidden\":2048");
    assert_ne!(big, meta["model"]);
    meta.insert("model".into(), big);
    let bytes = rebuild(meta, &tensors);
    let (err, peak) = counting::peak_during(|| load(&bytes, &cpu()).err());
    match err {
        Some(CheckpointError::Mismatch(msg)) => assert!(msg.contains("hidden width 2048"), "{msg}"),
        other => panic!("expected Mismatch, got {other:?}"),
    }
    assert!(peak < 4 * bytes.len() + (64 << 10), "{peak} bytes taken for a {}-byte file", bytes.len());
}

#[test]
fn the_total_size_is_bounded() {
    let bytes = vec![0u8; MAX_CHECKPOINT_BYTES + 1];
    let e = refused(&bytes);
    assert!(matches!(e, CheckpointError::TooLarge { .. }), "{e:?}");
    assert!(e.to_string().contains("64 MiB"), "{e}");
}
