//! The shipped checkpoints (www/checkpoints, written by pkg-config/checkpoints.sh) still fit
//! the model code: each one loads, holds the settings and step its manifest entry records, and
//! scores on the real test set what the trainer measured when it was made. A change to the
//! models that breaks or silently changes them fails here; regenerate them with the script.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::PathBuf;

use candle_core::Device;
use latent_lab::checkpoint;
use latent_lab::model::{ModelConfig, ModelKind};
use latent_lab::train::{evaluate, TrainConfig};
use serde_json::Value;

/// How far a loss term may drift from the recorded value, in nats per image. The evaluation is
/// deterministic (fixed ε seed, same images), so only floating-point differences between
/// machines remain; a real change to the model's arithmetic moves these by far more.
const TOLERANCE_NATS: f64 = 2.0;

fn number(entry: &Value, key: &str) -> f64 {
    entry[key].as_f64().unwrap_or_else(|| panic!("manifest: no number \"{key}\" in {entry}"))
}

#[test]
fn shipped_checkpoints_load_and_score_as_recorded() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/checkpoints");
    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("www/checkpoints/manifest.json"))
        .expect("the manifest is JSON");
    assert_eq!(manifest["dataset"], "mnist");
    let entries = manifest["checkpoints"].as_array().expect("a list of checkpoints");
    assert!(!entries.is_empty());
    let test_set = common::mnist("t10k");

    for entry in entries {
        let name = entry["name"].as_str().expect("a name");
        let bytes = std::fs::read(dir.join(entry["file"].as_str().expect("a file"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(bytes.len() as f64, number(entry, "bytes"), "{name}: size");
        let ckpt = checkpoint::load(&bytes, &Device::Cpu).unwrap_or_else(|e| panic!("{name} no longer loads: {e}"));

        let model: ModelConfig = serde_json::from_value(entry["model"].clone()).unwrap_or_else(|e| panic!("{name}: model settings: {e}"));
        let train: TrainConfig =
            serde_json::from_value(entry["train"].clone()).unwrap_or_else(|e| panic!("{name}: training settings: {e}"));
        assert_eq!(ckpt.model.config(), &model, "{name}: stored model settings");
        assert_eq!(ckpt.train, train, "{name}: stored training settings");
        assert_eq!(ckpt.step as f64, number(entry, "steps"), "{name}: step");

        let recorded = &entry["test"];
        let images = number(recorded, "images") as usize;
        let eval = evaluate(&ckpt.model, &test_set, images).unwrap();
        assert_eq!(eval.images, images);
        let close = |what: &str, now: f32| {
            let then = number(recorded, what);
            println!("{name:22} {what:8} recorded {then:9.3}  now {now:9.3}");
            assert!((now as f64 - then).abs() < TOLERANCE_NATS, "{name}: test {what} is {now}, the manifest says {then}");
        };
        close("recon", eval.recon);
        close("loss", eval.loss);
        match model.kind {
            ModelKind::Vae => {
                close("kl", eval.kl.unwrap());
                let active = eval.active_units.unwrap() as f64;
                assert!((active - number(recorded, "activeUnits")).abs() <= 1.0, "{name}: {active} active units");
            }
            ModelKind::Vqvae => {
                let used = eval.codes_used.unwrap() as f64;
                assert!((used - number(recorded, "codesUsed")).abs() <= 2.0, "{name}: {used} codes used");
            }
            ModelKind::Ae => {}
        }
    }
}
