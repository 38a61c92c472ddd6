//! Browser tests of the wasm facade, run by `wasm-pack test --headless --chrome --firefox`.
//! The real MNIST test digits are compiled into the test binary (the runner serves no files).
#![cfg(target_arch = "wasm32")]

use latent_lab::wasm::Session;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const IMAGES: &[u8] = include_bytes!("../www/data/mnist/t10k-images-idx3-ubyte.gz");
const LABELS: &[u8] = include_bytes!("../www/data/mnist/t10k-labels-idx1-ubyte.gz");

fn report(json: &str) -> serde_json::Value {
    serde_json::from_str(json).expect("reports are JSON")
}

/// A small default VAE on the real test digits (used as both splits: these tests check the
/// engine, not generalisation).
fn session(model: &str) -> Session {
    let mut s = Session::new(model, r#"{"seed": 3}"#).expect("valid settings");
    s.set_data(IMAGES, LABELS, IMAGES, LABELS).expect("bundled MNIST parses");
    s
}

#[wasm_bindgen_test]
fn training_on_real_digits_lowers_the_loss() {
    let mut s = session(r#"{"hidden": 128}"#);
    let before = report(&s.evaluate(1000).unwrap())["loss"].as_f64().unwrap();
    let chunk = report(&s.train_steps(150).unwrap());
    assert_eq!(chunk["step"], 150);
    assert!(chunk["imagesPerSec"].as_f64().unwrap() > 0.0);
    let after = report(&s.evaluate(1000).unwrap())["loss"].as_f64().unwrap();
    assert!(after < 0.75 * before, "test −ELBO went from {before} to {after}");
}

#[wasm_bindgen_test]
fn encode_and_decode_shapes() {
    let mut s = session(r#"{"hidden": 64, "latentDim": 5}"#);
    let enc = s.encode_test(300).unwrap();
    assert_eq!(enc.dim(), 5);
    assert_eq!(enc.mean().len(), 300 * 5);
    assert_eq!(enc.logvar().unwrap().len(), 300 * 5);
    assert_eq!(enc.plane().len(), 300 * 2);
    assert!(enc.codes().is_none());
    assert_eq!(s.test_labels(300).unwrap().len(), 300);
    let images = s.decode(&vec![0.5; 4 * 5]).unwrap();
    assert_eq!(images.len(), 4 * 784);
    assert!(images.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(s.decode_grid(-3.0, 3.0, -3.0, 3.0, 20, 20).unwrap().len(), 400 * 784);
    assert!(s.decode(&[0.0; 7]).is_err(), "7 values are not whole codes of length 5");
}

#[wasm_bindgen_test]
fn vq_codebook_queries() {
    let mut s = session(r#"{"kind": "vqvae", "hidden": 64, "codebookSize": 16, "codeDim": 2}"#);
    s.train_steps(20).unwrap();
    let enc = s.encode_test(200).unwrap();
    assert_eq!(enc.codes().unwrap().len(), 200);
    assert_eq!(s.codebook().unwrap().len(), 16 * 2);
    assert_eq!(s.decode_codebook().unwrap().len(), 16 * 784);
    let map = s.code_map(-2.0, 2.0, -2.0, 2.0, 30, 30).unwrap();
    assert_eq!(map.len(), 900);
    assert!(map.iter().all(|&k| k < 16));
}

#[wasm_bindgen_test]
fn checkpoint_round_trip_gives_identical_decodes() {
    let mut s = session(r#"{"hidden": 64}"#);
    s.train_steps(10).unwrap();
    let bytes = s.save().unwrap();
    let z = [0.3f32, -1.2, 1.5, 0.1];
    let expected = s.decode(&z).unwrap();

    let mut other = session(r#"{"hidden": 32, "latentDim": 3}"#);
    other.load(&bytes).unwrap();
    assert_eq!(other.decode(&z).unwrap(), expected);
    assert_eq!(report(&other.config().unwrap())["step"], 10);

    let mut corrupted = bytes.clone();
    corrupted.truncate(bytes.len() / 2);
    assert!(other.load(&corrupted).is_err());
    assert_eq!(other.decode(&z).unwrap(), expected, "a refused checkpoint leaves the model as it was");
}

#[wasm_bindgen_test]
fn malformed_idx_is_a_js_error_and_keeps_the_data() {
    let mut s = session(r#"{"hidden": 64}"#);
    let mut bad = vec![0u8, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 28, 0, 0, 0, 28];
    bad.extend_from_slice(&[0; 100]); // far fewer bytes than 9 images need
    let err = s.set_data(&bad, LABELS, IMAGES, LABELS).err().expect("malformed images are refused");
    let message = JsValue::from(err);
    let text = js_sys::Error::from(message).message().as_string().unwrap();
    assert!(text.contains("training set"), "{text}");
    assert!(s.set_data(&IMAGES[..1000], LABELS, IMAGES, LABELS).is_err(), "a cut gzip stream is refused");
    assert_eq!(s.test_length(), 10_000, "the old data is still there");
    s.train_steps(2).expect("training continues on the old data");
}

#[wasm_bindgen_test]
fn bad_settings_are_errors() {
    assert!(Session::new(r#"{"latentDim": 500}"#, "{}").is_err());
    assert!(Session::new(r#"{"kind": "gan"}"#, "{}").is_err());
    assert!(Session::new("{}", r#"{"learningRate": -1}"#).is_err());
}
