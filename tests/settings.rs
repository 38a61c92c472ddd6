//! The settings table: the page's labels, URL names and ranges, and `validate` agreeing with it
//! at and just beyond every bound.
#![cfg(not(target_arch = "wasm32"))]

use latent_lab::model::{ModelConfig, ModelKind};
use latent_lab::settings::{field, schema, Field, Group, Kind, Read, Settings, FIELDS, RULES};
use latent_lab::train::TrainConfig;

/// (name, URL parameter, label, min, max) as in the page's form before the schema.
type PageField = (&'static str, &'static str, &'static str, Option<f64>, Option<f64>);

const PAGE: &[PageField] = &[
    ("kind", "model", "Model", None, None),
    ("latentDim", "d", "Latent dim", Some(2.0), Some(32.0)),
    ("beta", "beta", "β", Some(0.0), Some(100.0)),
    ("codebookSize", "K", "K", Some(2.0), Some(1024.0)),
    ("codeDim", "D", "D", Some(1.0), Some(64.0)),
    ("codesPerImage", "l", "l", Some(1.0), Some(64.0)),
    ("codebookUpdate", "update", "Codebook update", None, None),
    ("commitment", "commitment", "Commitment", Some(0.0), Some(10.0)),
    ("arch", "arch", "Architecture", None, None),
    ("hidden", "hidden", "Hidden", Some(8.0), Some(2048.0)),
    ("batchSize", "batch", "Batch size", Some(1.0), Some(4096.0)),
    ("seed", "seed", "Seed", Some(0.0), Some(9_007_199_254_740_991.0)),
    ("learningRate", "lr", "Learning rate", Some(0.0), Some(10.0)),
];

#[test]
fn the_schema_has_the_page_s_fields() {
    let shown: Vec<Field> = schema().fields.iter().map(|f| f.field).collect();
    assert_eq!(shown.iter().map(|f| f.name).collect::<Vec<_>>(), PAGE.iter().map(|p| p.0).collect::<Vec<_>>());
    for (f, &(name, param, label, min, max)) in shown.iter().zip(PAGE) {
        assert_eq!((f.param, f.label, f.min, f.max), (param, label, min, max), "{name}");
        assert_eq!(f.kind == Kind::Enum, f.options.is_some(), "{name}: enum fields have options");
    }
    let kinds = |name: &str| field(name).unwrap().kinds.map(|k| k.to_vec());
    assert_eq!(kinds("latentDim"), Some(vec![ModelKind::Ae, ModelKind::Vae]));
    assert_eq!(kinds("beta"), Some(vec![ModelKind::Vae]));
    assert_eq!(kinds("commitment"), Some(vec![ModelKind::Vqvae]));
    assert_eq!(kinds("hidden"), None);
    let advanced: Vec<&str> = shown.iter().filter(|f| f.advanced).map(|f| f.name).collect();
    assert_eq!(advanced, ["commitment", "arch", "hidden", "batchSize", "seed"]);
    let options = |name: &str| field(name).unwrap().options.unwrap().iter().map(|o| (o.value, o.label)).collect::<Vec<_>>();
    assert_eq!(options("kind"), [("ae", "Autoencoder"), ("vae", "VAE"), ("vqvae", "VQ-VAE")]);
    assert_eq!(options("codebookUpdate"), [("loss", "codebook loss"), ("ema", "EMA"), ("emaRestart", "EMA + restart")]);
    assert_eq!(options("arch"), [("mlp", "MLP"), ("conv", "Convolutional")]);
}

#[test]
fn every_field_and_option_is_a_real_setting() {
    let defaults = serde_json::to_value(Settings::default()).unwrap();
    for f in FIELDS {
        let group = if f.group == Group::Model { "model" } else { "train" };
        let value = &defaults[group][f.name];
        assert!(!value.is_null(), "{} is a field of {group}", f.name);
        for option in f.options.unwrap_or_default() {
            let mut settings = defaults.clone();
            settings[group][f.name] = option.value.into();
            assert!(serde_json::from_value::<Settings>(settings).is_ok(), "{}: {}", f.name, option.value);
        }
    }
    assert!(RULES.iter().all(|r| r.product.iter().all(|name| field(name).is_some())));
}

/// A copy of the default settings (of `kind`) with `f` set to `x`.
fn with(f: &Field, kind: ModelKind, x: f64) -> Settings {
    let mut s = Settings { model: ModelConfig { kind, ..Default::default() }, train: TrainConfig::default() };
    let group = if f.group == Group::Model { "model" } else { "train" };
    let mut json = serde_json::to_value(&s).unwrap();
    json[group][f.name] = serde_json::json!(x);
    if f.kind == Kind::Int {
        json[group][f.name] = serde_json::json!(x as u64);
    }
    s = serde_json::from_value(json).unwrap();
    s
}

#[test]
fn validate_agrees_with_the_table_at_and_beyond_every_bound() {
    for f in FIELDS.iter().filter(|f| !matches!(f.read, Read::Enum)) {
        let kind = f.kinds.map_or(ModelKind::Vae, |k| k[0]);
        let step = if f.kind == Kind::Int { 1.0 } else { 1e-6 };
        let mut cases = Vec::new();
        if let Some(min) = f.min {
            cases.push((min, !f.min_exclusive));
            if min - step >= 0.0 || f.kind == Kind::Float {
                cases.push((min - step, false));
            }
            cases.push((min + step, true));
        }
        if let Some(max) = f.max {
            cases.push((max, !f.max_exclusive));
            if max < 1e15 {
                cases.push((max + step, false));
            }
            cases.push((max - step, true));
        }
        for (x, ok) in cases {
            let s = with(f, kind, x);
            let result = s.validate();
            assert_eq!(result.is_ok(), ok, "{} = {x}: {result:?}", f.name);
            assert_eq!(f.accepts(x), ok, "{} = {x}", f.name);
            if let Err(message) = result {
                assert!(message.starts_with(&f.range_text()), "{message}");
            }
        }
    }
}

#[test]
fn messages_name_the_setting_and_its_range() {
    let model = |m: ModelConfig| m.validate().unwrap_err();
    assert_eq!(model(ModelConfig { hidden: 4, ..Default::default() }), "hidden size must be 8 to 2048, got 4");
    assert_eq!(model(ModelConfig { latent_dim: 33, ..Default::default() }), "latent dimension must be 2 to 32, got 33");
    assert_eq!(model(ModelConfig { beta: f64::NAN, ..Default::default() }), "β must be 0 to 100, got NaN");
    let vq = ModelConfig { kind: ModelKind::Vqvae, ..Default::default() };
    assert_eq!(model(ModelConfig { codebook_size: 1, ..vq.clone() }), "codebook size K must be 2 to 1024, got 1");
    assert_eq!(model(ModelConfig { code_dim: 16, codes_per_image: 17, ..vq.clone() }), "l·D must be at most 256");
    assert!(ModelConfig { code_dim: 16, codes_per_image: 16, ..vq.clone() }.validate().is_ok(), "l·D = 256 is allowed");
    assert_eq!(model(ModelConfig { ema_decay: 1.0, ..vq.clone() }), "EMA decay must be between 0 and 1, got 1");
    // A setting another kind uses is not checked.
    assert!(ModelConfig { latent_dim: 0, ..vq }.validate().is_ok());
    let train = |t: TrainConfig| t.validate().unwrap_err();
    assert_eq!(train(TrainConfig { learning_rate: 0.0, ..Default::default() }), "learning rate must be above 0 and at most 10, got 0");
    assert_eq!(train(TrainConfig { batch_size: 0, ..Default::default() }), "batch size must be 1 to 4096, got 0");
    assert_eq!(train(TrainConfig { weight_decay: -1.0, ..Default::default() }), "weight decay must be 0 or more, got -1");
}

#[test]
fn defaults_are_rust_s_defaults() {
    let json = serde_json::to_value(schema()).unwrap();
    let find = |name: &str| json["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap().clone();
    assert_eq!(
        (find("hidden")["param"].clone(), find("hidden")["default"].clone()),
        ("hidden".into(), ModelConfig::default().hidden.into())
    );
    assert_eq!(find("kind")["default"], "vae");
    assert_eq!(find("learningRate")["default"], TrainConfig::default().learning_rate);
    assert_eq!(find("beta")["step"], serde_json::Value::Null, "any step");
    assert_eq!(find("kind")["kinds"], serde_json::Value::Null, "every kind");
    assert!(json["rules"][0]["message"].as_str().unwrap().contains("256"));
}
