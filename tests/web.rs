//! Browser tests of the wasm facade, run by `wasm-pack test --headless --chrome --firefox`.
//! The real MNIST test digits are compiled into the test binary (the runner serves no files).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Float32Array, Int16Array, Reflect, Uint32Array, Uint8Array, JSON};
use latent_lab::parallel::Shard;
use latent_lab::wasm::{check_settings, default_settings, settings_schema, Session};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const IMAGES: &[u8] = include_bytes!("../www/data/mnist/t10k-images-idx3-ubyte.gz");
const LABELS: &[u8] = include_bytes!("../www/data/mnist/t10k-labels-idx1-ubyte.gz");

/// A plain JS object from JSON text, as the page would pass it.
fn object(json: &str) -> JsValue {
    JSON::parse(json).expect("valid JSON")
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).expect("an object")
}

fn number(value: &JsValue, key: &str) -> f64 {
    get(value, key).as_f64().unwrap_or_else(|| panic!("{key} is a number"))
}

/// A small default VAE on the real test digits (used as both splits: these tests check the
/// engine, not generalisation).
fn session(model: &str) -> Session {
    let mut s = Session::new(object(&format!(r#"{{"model": {model}, "train": {{"seed": 3}}}}"#))).expect("valid settings");
    s.set_data(IMAGES, LABELS, IMAGES, LABELS).expect("bundled MNIST parses");
    s
}

fn message(err: wasm_bindgen::JsError) -> String {
    js_sys::Error::from(JsValue::from(err)).message().as_string().unwrap()
}

#[wasm_bindgen_test]
fn training_on_real_digits_lowers_the_loss() {
    let mut s = session(r#"{"hidden": 128}"#);
    let before = number(&s.evaluate(1000).unwrap(), "loss");
    let chunk = s.train_steps(150).unwrap();
    assert_eq!(number(&chunk, "step"), 150.0);
    assert!(number(&chunk, "imagesPerSec") > 0.0);
    let after = number(&s.evaluate(1000).unwrap(), "loss");
    assert!(after < 0.75 * before, "test −ELBO went from {before} to {after}");
}

#[wasm_bindgen_test]
fn replies_are_objects_with_typed_arrays() {
    let mut s = session(r#"{"hidden": 64, "latentDim": 5}"#);
    let view = s.fit_view(300).unwrap();
    assert_eq!(get(&view, "plane").dyn_into::<Float32Array>().unwrap().length(), 300 * 2);
    assert_eq!(get(&view, "labels").dyn_into::<Uint8Array>().unwrap().length(), 300);
    assert_eq!(get(&view, "axisNames").dyn_into::<Array>().unwrap().get(0).as_string().unwrap(), "PC1");
    let pick = s.pick(0, 3, JsValue::from(7)).unwrap();
    assert_eq!(get(&pick, "mu").dyn_into::<Float32Array>().unwrap().length(), 5);
    assert_eq!(get(&pick, "logvar").dyn_into::<Float32Array>().unwrap().length(), 5);
    assert_eq!(get(&pick, "zs").dyn_into::<Float32Array>().unwrap().length(), 3 * 5);
    assert_eq!(get(&pick, "decoded").dyn_into::<Float32Array>().unwrap().length(), 4 * 784);
    assert!(get(&pick, "codes").is_null());
    assert_eq!(get(&pick, "muPlane").dyn_into::<Array>().unwrap().length(), 2);
    // The same seed as a BigInt draws the same ε.
    let again = s.pick(0, 3, JsValue::bigint_from_str("7")).unwrap();
    assert_eq!(
        get(&again, "epsilons").dyn_into::<Float32Array>().unwrap().to_vec(),
        get(&pick, "epsilons").dyn_into::<Float32Array>().unwrap().to_vec()
    );
    let config = s.config().unwrap();
    assert_eq!((number(&config, "latentDim"), number(&config, "testLength"), number(&config, "classCount")), (5.0, 10_000.0, 10.0));
    assert_eq!(s.label(0).unwrap(), 7);
    assert_eq!(s.test_image(0).unwrap().len(), 784);
    let images = s.decode(&[0.5; 4 * 5]).unwrap();
    assert_eq!(images.len(), 4 * 784);
    assert!(images.iter().all(|p| (0.0..=1.0).contains(p)));
    let rect = object(r#"{"x0": -3, "x1": 3, "y0": -3, "y1": 3}"#);
    assert_eq!(s.manifold(rect, 20).unwrap().len(), 400 * 784);
    assert!(s.decode(&[0.0; 7]).is_err(), "7 values are not whole codes of length 5");
    let rows = s.dim_rows(None, 5, 3.0, 9).unwrap();
    assert_eq!(get(&rows, "pixels").dyn_into::<Float32Array>().unwrap().length(), 5 * 9 * 784);
    assert!(get(&rows, "base").is_null());
    let line = s.interpolation(3, 2, 7).unwrap();
    assert_eq!(get(&line, "path").dyn_into::<Float32Array>().unwrap().length(), 7 * 2);
    let hover = s.hover(1).unwrap();
    assert_eq!(get(&hover, "recon").dyn_into::<Float32Array>().unwrap().length(), 784);
    let csv = s.codes_csv().unwrap();
    assert!(csv.starts_with("index,label,mu_1,") && csv.lines().count() == 10_001);
}

/// The wasm product (simd128 kernel, and packing by 4 × 4 transposes where a side's lines are
/// contiguous) against the sum in order (each step rounded as the kernel rounds it, fused or
/// not), for every stride layout and shapes with remainders.
#[wasm_bindgen_test]
fn the_simd_product_matches_the_plain_sum() {
    use latent_lab::model::linear::{kernel_add_mul, matmul_f32, products_fuse};
    // Plain simd128 has no fused multiply-add; the relaxed build's is fused where the CPU has one.
    assert!(cfg!(target_feature = "relaxed-simd") || !products_fuse());
    let values = |len: usize, seed: f32| (0..len).map(|i| ((i as f32 + seed) * 0.37).sin()).collect::<Vec<f32>>();
    for (m, n, k) in [(4, 8, 16), (13, 17, 9), (9, 24, 35), (128, 20, 33)] {
        let (a, b) = (values(m * k, 1.0), values(k * n, 2.0));
        // Each matrix read row-major and read as the transpose of its row-major transpose.
        let transposed =
            |x: &[f32], rows: usize, cols: usize| (0..cols * rows).map(|t| x[(t % rows) * cols + t / rows]).collect::<Vec<f32>>();
        let (at, bt) = (transposed(&a, m, k), transposed(&b, k, n));
        for (a_values, a_strides) in [(&a, (k, 1)), (&at, (1, m))] {
            for (b_values, b_strides) in [(&b, (n, 1)), (&bt, (1, k))] {
                let c = matmul_f32((m, n, k), a_values, a_strides, b_values, b_strides);
                for (i, j) in (0..m).flat_map(|i| (0..n).map(move |j| (i, j))) {
                    let want = (0..k).fold(0.0f32, |s, p| kernel_add_mul(s, a[i * k + p], b[p * n + j]));
                    assert_eq!(c[i * n + j].to_bits(), want.to_bits(), "({m},{n},{k}) a {a_strides:?} b {b_strides:?} [{i},{j}]");
                }
            }
        }
    }
}

/// The paused page's manifold on two cores: a replica holding the same weights decodes the
/// lower rows on the training session's view plane, and the two parts' pictures are the whole
/// grid's picture, byte for byte (the wasm product sums every tile in the same order whatever
/// the number of rows), which is the whole grid's images painted as ink on paper.
#[wasm_bindgen_test]
fn a_replica_decodes_the_lower_rows_of_the_grid() {
    let model = r#"{"hidden": 256, "latentDim": 4}"#;
    let mut trained = session(model);
    trained.train_steps(30).unwrap();
    trained.fit_view(500).unwrap();
    let mut replica = session(model);
    replica.set_weights(&trained.weights().unwrap()).unwrap();
    let rect = || object(r#"{"x0": -2, "x1": 3, "y0": -2.5, "y1": 2}"#);
    let whole = trained.manifold_rows_image(rect(), 20, 0, 20, None).unwrap();
    assert_eq!(whole, latent_lab::mosaic::ink_mosaic(&trained.manifold(rect(), 20).unwrap(), 20));
    let upper = trained.manifold_rows_image(rect(), 20, 0, 10, None).unwrap();
    let lower = replica.manifold_rows_image(rect(), 20, 10, 20, Some(trained.view_plane())).unwrap();
    assert_eq!([upper, lower.clone()].concat(), whole);
    // On its own (unfitted) plane the replica decodes other codes: the plane sent is what counts.
    assert_ne!(replica.manifold_rows_image(rect(), 20, 10, 20, None).unwrap(), lower);
    assert!(message(replica.manifold_rows_image(rect(), 20, 10, 21, None).unwrap_err()).contains("not a part of a grid of 20 rows"));
}

#[wasm_bindgen_test]
fn vq_codebook_queries() {
    let mut s = session(r#"{"kind": "vqvae", "hidden": 64, "codebookSize": 16, "codeDim": 2}"#);
    s.train_steps(20).unwrap();
    let view = s.fit_view(200).unwrap();
    assert_eq!(get(&view, "plane").dyn_into::<Float32Array>().unwrap().length(), 200 * 2);
    let summary = s.codebook_summary().unwrap();
    assert_eq!(get(&summary, "codebook").dyn_into::<Float32Array>().unwrap().length(), 16 * 2);
    assert_eq!(get(&summary, "images").dyn_into::<Float32Array>().unwrap().length(), 16 * 784);
    let usage = get(&summary, "usage").dyn_into::<Uint32Array>().unwrap().to_vec();
    assert_eq!(usage.iter().sum::<u32>(), 10_000);
    let nearest = get(&summary, "nearest").dyn_into::<Uint32Array>().unwrap().to_vec();
    assert!(nearest.len() == 10_000 && nearest.iter().all(|&k| k < 16));
    assert_eq!(get(&summary, "majority").dyn_into::<Int16Array>().unwrap().length(), 16);
    let trace = s.trace_step(4).unwrap();
    assert_eq!(get(&trace, "images").dyn_into::<Uint8Array>().unwrap().length(), 4 * 784);
    assert!(number(&trace, "codesPicked") >= 1.0);
    assert!(get(&trace, "epsilon").is_null());
    assert_eq!(s.decode_codes(&[0, 15]).unwrap().len(), 2 * 784);
    assert!(s.interpolation(0, 1, 5).is_err(), "a VQ-VAE has no line to decode");
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
    assert_eq!(number(&other.config().unwrap(), "step"), 10.0);

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
    let err = s.set_data(&bad, LABELS, IMAGES, LABELS).expect_err("malformed images are refused");
    let text = message(err);
    assert!(text.contains("training set"), "{text}");
    assert!(s.set_data(&IMAGES[..1000], LABELS, IMAGES, LABELS).is_err(), "a cut gzip stream is refused");
    assert_eq!(number(&s.config().unwrap(), "testLength"), 10_000.0, "the old data is still there");
    s.train_steps(2).expect("training continues on the old data");
}

#[wasm_bindgen_test]
fn bad_settings_are_errors() {
    assert!(Session::new(object(r#"{"model": {"latentDim": 500}}"#)).is_err());
    assert!(Session::new(object(r#"{"model": {"kind": "gan"}}"#)).is_err());
    assert!(Session::new(object(r#"{"train": {"learningRate": -1}}"#)).is_err());
    assert!(Session::new(object(r#"{"model": {"latentDimm": 3}}"#)).is_err(), "a misspelt setting is not ignored");
    assert!(Session::new(object(r#"{"modle": {}}"#)).is_err());
    let text = message(check_settings(object(r#"{"model": {"hidden": 4}}"#)).err().unwrap());
    assert!(text.contains("hidden size must be 8 to 2048"), "{text}");
    let filled = check_settings(object(r#"{"model": {"kind": "vqvae"}}"#)).unwrap();
    assert_eq!(number(&get(&filled, "model"), "codebookSize"), 16.0);
    assert_eq!(number(&get(&default_settings().unwrap(), "train"), "batchSize"), 128.0);
}

#[wasm_bindgen_test]
fn the_schema_is_plain_objects() {
    let schema = settings_schema().unwrap();
    let fields = get(&schema, "fields").dyn_into::<Array>().unwrap();
    let names: Vec<String> = fields.iter().map(|f| get(&f, "name").as_string().unwrap()).collect();
    assert!(names.contains(&"latentDim".to_string()) && names.contains(&"learningRate".to_string()));
    let d = fields.iter().find(|f| get(f, "name").as_string().unwrap() == "latentDim").unwrap();
    assert_eq!((get(&d, "param").as_string().unwrap(), number(&d, "max"), number(&d, "default")), ("d".into(), 32.0, 2.0));
    let rule = get(&schema, "rules").dyn_into::<Array>().unwrap().get(0);
    assert_eq!(number(&rule, "max"), 256.0);
}

/// Data-parallel training through the page's objects: replica 0 and a helper replica exchange
/// shares as JS objects with typed arrays, each applies both (or, in the last 20 steps, its own
/// part of the parameters, taking the other's part from its array, as replicas that share memory
/// do), and after several steps they decode identically.
#[wasm_bindgen_test]
fn two_replicas_exchanging_js_shares_stay_identical() {
    for model in [r#"{"hidden": 64}"#, r#"{"kind": "vqvae", "hidden": 64, "codesPerImage": 2, "codebookUpdate": "emaRestart"}"#] {
        let mut first = session(model);
        let before = number(&first.evaluate(500).unwrap(), "loss");
        let checkpoint = first.start_parallel(2).unwrap();
        let shard = first.train_shard(1, 2).unwrap();
        let pixels = get(&shard, "pixels").dyn_into::<Uint8Array>().unwrap().to_vec();
        let labels = get(&shard, "labels").dyn_into::<Uint8Array>().unwrap().to_vec();
        let mut second = Session::replica(&checkpoint, pixels, labels, 1, 2).unwrap();
        let shards = [Shard { index: 0, count: 2 }, Shard { index: 1, count: 2 }];
        // Each fills the gradient array it received for its next share, as allreduce.js does.
        let (mut spare_first, mut spare_second): (Option<Float32Array>, Option<Float32Array>) = (None, None);
        let mut parameters: Option<[Float32Array; 2]> = None;
        for step in 0..40 {
            let split = step >= 20;
            let expected = spare_first.clone();
            if split {
                // Values a share leaves alone stay NaN.
                spare_second.as_ref().unwrap().fill(f32::NAN, 0, u32::MAX);
            }
            let (mine, theirs) = (first.share(spare_first.take(), split).unwrap(), second.share(spare_second.take(), split).unwrap());
            let (my_gradient, their_gradient) = (get(&mine, "gradient"), get(&theirs, "gradient"));
            if let Some(spare) = expected {
                assert!(js_sys::Object::is(&my_gradient, &spare), "the share was not written into the spare array");
            }
            if split {
                let values = their_gradient.dyn_ref::<Float32Array>().unwrap().to_vec();
                let own = shards[1].parameters(values.len());
                let written = |k: usize| !values[k].is_nan();
                assert!(
                    values.iter().enumerate().all(|(k, _)| written(k) != own.contains(&k)),
                    "a split share writes all but its own part"
                );
                let arrays = parameters.get_or_insert_with(|| [0, 1].map(|_| Float32Array::new_with_length(values.len() as u32)));
                first.apply_own_part(Array::of1(&theirs), arrays[0].clone()).unwrap();
                second.apply_own_part(Array::of1(&mine), arrays[1].clone()).unwrap();
                let part = |k: usize| object(&format!(r#"{{"shard": {{"index": {k}, "count": 2}}}}"#));
                let (to_first, to_second) = (part(1), part(0));
                Reflect::set(&to_first, &"parameters".into(), &arrays[1]).unwrap();
                Reflect::set(&to_second, &"parameters".into(), &arrays[0]).unwrap();
                first.take_parts(Array::of1(&to_first)).unwrap();
                second.take_parts(Array::of1(&to_second)).unwrap();
            } else {
                first.apply_shares(Array::of1(&theirs)).unwrap();
                second.apply_shares(Array::of1(&mine)).unwrap();
            }
            (spare_first, spare_second) = (Some(their_gradient.dyn_into().unwrap()), Some(my_gradient.dyn_into().unwrap()));
        }
        assert_eq!(number(&first.parallel_report().unwrap(), "step"), 40.0);
        let after = number(&first.evaluate(500).unwrap(), "loss");
        assert!(after < before, "{model}: test loss went from {before} to {after}");
        let is_vq = model.contains("vqvae");
        let (a, b) = if is_vq {
            let codes = [0u32, 1, 2, 3];
            (first.decode_codes(&codes).unwrap(), second.decode_codes(&codes).unwrap())
        } else {
            let z = [0.3f32, -0.5, 1.0, 0.2];
            (first.decode(&z).unwrap(), second.decode(&z).unwrap())
        };
        assert_eq!(a, b, "{model}: the replicas' weights differ");
        assert!(first.train_steps(1).is_err(), "a replica must not train alone");
        first.stop_parallel().unwrap();
        assert_eq!(number(&first.train_steps(2).unwrap(), "step"), 42.0);
    }
}
