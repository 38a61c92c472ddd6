//! The settings schema: one table of every setting the page shows (name, URL parameter,
//! label, range, default, which model kinds use it) and the cross-field rules. The page
//! builds and checks its form from [`schema`]; [`ModelConfig::validate`] and
//! [`TrainConfig::validate`] run [`check_model`] / [`check_train`], which read the same table,
//! so there is one source of truth for what a valid setting is.
//!
//! A numeric field `x` with range `[min, max]` is valid when `x` is finite and
//! `min ≤ x ≤ max` (`<` where the bound is exclusive); it is only checked for the model kinds
//! that use it. A rule `Π fields ≤ max` holds for its kinds (e.g. `l · D ≤ 256`).

use serde::Serialize;

use crate::model::{ModelConfig, ModelKind};
use crate::train::TrainConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Group {
    Model,
    Train,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Int,
    Float,
    Enum,
}

/// How to read a field's number from its config (enum fields are checked by deserialising).
#[derive(Clone, Copy)]
pub enum Read {
    Model(fn(&ModelConfig) -> f64),
    Train(fn(&TrainConfig) -> f64),
    Enum,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

/// One setting. `min`/`max` are inclusive unless `min_exclusive`/`max_exclusive`; `step`
/// `None` means any value (the form's `step="any"`); `kinds` `None` means every model kind.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: &'static str,
    pub group: Group,
    pub param: &'static str,
    pub label: &'static str,
    pub title: Option<&'static str>,
    pub kind: Kind,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub min_exclusive: bool,
    pub max_exclusive: bool,
    pub step: Option<f64>,
    pub options: Option<&'static [Choice]>,
    pub kinds: Option<&'static [ModelKind]>,
    pub advanced: bool,
    /// What error messages call it ("hidden size", "codebook size K").
    #[serde(skip)]
    pub noun: &'static str,
    /// Checked by `validate` but not on the page's form (kept out of [`schema`]).
    #[serde(skip)]
    pub internal: bool,
    #[serde(skip)]
    pub read: Read,
}

/// A cross-field rule: the product of `product`'s fields is at most `max` for `kinds`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub kinds: &'static [ModelKind],
    pub product: &'static [&'static str],
    pub max: f64,
    pub message: &'static str,
}

const BLANK: Field = Field {
    name: "",
    group: Group::Model,
    param: "",
    label: "",
    title: None,
    kind: Kind::Int,
    min: None,
    max: None,
    min_exclusive: false,
    max_exclusive: false,
    step: Some(1.0),
    options: None,
    kinds: None,
    advanced: false,
    noun: "",
    internal: false,
    read: Read::Enum,
};

const AE_VAE: &[ModelKind] = &[ModelKind::Ae, ModelKind::Vae];
const VAE: &[ModelKind] = &[ModelKind::Vae];
const VQ: &[ModelKind] = &[ModelKind::Vqvae];

/// JavaScript numbers hold integers exactly up to 2⁵³ − 1; the seed is a u64 in Rust.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Every setting, in the order of the page's form.
pub const FIELDS: &[Field] = &[
    Field {
        name: "kind",
        param: "model",
        label: "Model",
        kind: Kind::Enum,
        step: None,
        options: Some(&[
            Choice { value: "ae", label: "Autoencoder" },
            Choice { value: "vae", label: "VAE" },
            Choice { value: "vqvae", label: "VQ-VAE" },
        ]),
        noun: "model",
        ..BLANK
    },
    Field {
        name: "latentDim",
        param: "d",
        label: "Latent dim",
        title: Some("d: size of the code z"),
        min: Some(2.0),
        max: Some(32.0),
        kinds: Some(AE_VAE),
        noun: "latent dimension",
        read: Read::Model(|m| m.latent_dim as f64),
        ..BLANK
    },
    Field {
        name: "beta",
        param: "beta",
        label: "β",
        title: Some("Weight of the KL term; 1 is the plain VAE"),
        kind: Kind::Float,
        min: Some(0.0),
        max: Some(100.0),
        step: None,
        kinds: Some(VAE),
        noun: "β",
        read: Read::Model(|m| m.beta),
        ..BLANK
    },
    Field {
        name: "codebookSize",
        param: "K",
        label: "K",
        title: Some("Number of codebook vectors"),
        min: Some(2.0),
        max: Some(1024.0),
        kinds: Some(VQ),
        noun: "codebook size K",
        read: Read::Model(|m| m.codebook_size as f64),
        ..BLANK
    },
    Field {
        name: "codeDim",
        param: "D",
        label: "D",
        title: Some("Dimension of each codebook vector"),
        min: Some(1.0),
        max: Some(64.0),
        kinds: Some(VQ),
        noun: "code dimension D",
        read: Read::Model(|m| m.code_dim as f64),
        ..BLANK
    },
    Field {
        name: "codesPerImage",
        param: "l",
        label: "l",
        title: Some("l: codes per image. The encoder's output is split into l vectors of D numbers, each quantized on its own"),
        min: Some(1.0),
        max: Some(64.0),
        kinds: Some(VQ),
        noun: "codes per image l",
        read: Read::Model(|m| m.codes_per_image as f64),
        ..BLANK
    },
    Field {
        name: "codebookUpdate",
        param: "update",
        label: "Codebook update",
        kind: Kind::Enum,
        step: None,
        options: Some(&[
            Choice { value: "loss", label: "codebook loss" },
            Choice { value: "ema", label: "EMA" },
            Choice { value: "emaRestart", label: "EMA + restart" },
        ]),
        kinds: Some(VQ),
        noun: "codebook update",
        ..BLANK
    },
    Field {
        name: "commitment",
        param: "commitment",
        label: "Commitment",
        title: Some("Weight β of the commitment loss ‖z_e − sg[e]‖²"),
        kind: Kind::Float,
        min: Some(0.0),
        max: Some(10.0),
        step: None,
        kinds: Some(VQ),
        advanced: true,
        noun: "commitment β",
        read: Read::Model(|m| m.commitment),
        ..BLANK
    },
    Field {
        name: "arch",
        param: "arch",
        label: "Architecture",
        title: Some("Encoder and decoder: fully connected layers, or convolutions"),
        kind: Kind::Enum,
        step: None,
        options: Some(&[Choice { value: "mlp", label: "MLP" }, Choice { value: "conv", label: "Convolutional" }]),
        advanced: true,
        noun: "architecture",
        ..BLANK
    },
    Field {
        name: "hidden",
        param: "hidden",
        label: "Hidden",
        title: Some("Width of the hidden layer of encoder and decoder"),
        min: Some(8.0),
        max: Some(2048.0),
        advanced: true,
        noun: "hidden size",
        read: Read::Model(|m| m.hidden as f64),
        ..BLANK
    },
    Field {
        name: "emaDecay",
        param: "",
        label: "EMA decay",
        kind: Kind::Float,
        min: Some(0.0),
        max: Some(1.0),
        min_exclusive: true,
        max_exclusive: true,
        step: None,
        kinds: Some(VQ),
        noun: "EMA decay",
        internal: true,
        read: Read::Model(|m| m.ema_decay),
        ..BLANK
    },
    Field {
        name: "batchSize",
        group: Group::Train,
        param: "batch",
        label: "Batch size",
        title: Some("Images per optimizer step"),
        min: Some(1.0),
        max: Some(4096.0),
        advanced: true,
        noun: "batch size",
        read: Read::Train(|t| t.batch_size as f64),
        ..BLANK
    },
    Field {
        name: "seed",
        group: Group::Train,
        param: "seed",
        label: "Seed",
        title: Some("Seeds the initial weights, the batch order and ε: the same seed repeats a run"),
        min: Some(0.0),
        max: Some(MAX_SAFE_INTEGER),
        advanced: true,
        noun: "seed",
        read: Read::Train(|t| t.seed as f64),
        ..BLANK
    },
    Field {
        name: "learningRate",
        group: Group::Train,
        param: "lr",
        label: "Learning rate",
        kind: Kind::Float,
        min: Some(0.0),
        max: Some(10.0),
        min_exclusive: true,
        step: None,
        noun: "learning rate",
        read: Read::Train(|t| t.learning_rate),
        ..BLANK
    },
    Field {
        name: "weightDecay",
        group: Group::Train,
        param: "",
        label: "Weight decay",
        kind: Kind::Float,
        min: Some(0.0),
        step: None,
        noun: "weight decay",
        internal: true,
        read: Read::Train(|t| t.weight_decay),
        ..BLANK
    },
];

pub const RULES: &[Rule] = &[Rule { kinds: VQ, product: &["codesPerImage", "codeDim"], max: 256.0, message: "l·D must be at most 256" }];

/// A field as the page gets it: the table's entry and its default value.
#[derive(Serialize)]
pub struct ShownField {
    #[serde(flatten)]
    pub field: Field,
    /// The value in `ModelConfig::default()` / `TrainConfig::default()`.
    pub default: serde_json::Value,
}

/// What the page gets: the fields it shows and the rules.
#[derive(Serialize)]
pub struct Schema {
    pub fields: Vec<ShownField>,
    pub rules: &'static [Rule],
}

pub fn schema() -> Schema {
    let defaults = serde_json::to_value(Settings::default()).expect("settings serialise");
    let default_of = |f: &Field| defaults[if f.group == Group::Model { "model" } else { "train" }][f.name].clone();
    let fields = FIELDS.iter().filter(|f| !f.internal).map(|f| ShownField { field: *f, default: default_of(f) }).collect();
    Schema { fields, rules: RULES }
}

/// Model and training settings together, as the page sends them (missing parts take the defaults).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub model: ModelConfig,
    pub train: TrainConfig,
}

impl Settings {
    /// Checks both halves; the message names the first bad setting and its range.
    pub fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        self.train.validate()
    }
}

impl Field {
    fn applies_to(&self, kind: ModelKind) -> bool {
        self.kinds.is_none_or(|kinds| kinds.contains(&kind))
    }

    /// Whether `x` lies in the field's range.
    pub fn accepts(&self, x: f64) -> bool {
        let above = self.min.is_none_or(|min| if self.min_exclusive { x > min } else { x >= min });
        let below = self.max.is_none_or(|max| if self.max_exclusive { x < max } else { x <= max });
        x.is_finite() && above && below
    }

    /// "hidden size must be 8 to 2048", "learning rate must be above 0 and at most 10", …
    pub fn range_text(&self) -> String {
        let noun = self.noun;
        match (self.min, self.max, self.min_exclusive, self.max_exclusive) {
            (Some(a), Some(b), false, false) => format!("{noun} must be {a} to {b}"),
            (Some(a), Some(b), true, false) => format!("{noun} must be above {a} and at most {b}"),
            (Some(a), Some(b), true, true) => format!("{noun} must be between {a} and {b}"),
            (Some(a), None, false, _) => format!("{noun} must be {a} or more"),
            _ => format!("{noun} is out of range"),
        }
    }

    fn value(&self, model: &ModelConfig, train: Option<&TrainConfig>) -> Option<f64> {
        match (self.read, train) {
            (Read::Model(get), _) => Some(get(model)),
            (Read::Train(get), Some(train)) => Some(get(train)),
            _ => None,
        }
    }
}

/// The field called `name`.
pub fn field(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}

fn check(group: Group, model: &ModelConfig, train: Option<&TrainConfig>) -> Result<(), String> {
    let kind = model.kind;
    for f in FIELDS.iter().filter(|f| f.group == group && f.applies_to(kind)) {
        if let Some(x) = f.value(model, train).filter(|&x| !f.accepts(x)) {
            return Err(format!("{}, got {x}", f.range_text()));
        }
    }
    if group == Group::Model {
        for rule in RULES.iter().filter(|r| r.kinds.contains(&kind)) {
            let product: f64 = rule.product.iter().filter_map(|name| field(name)?.value(model, None)).product();
            if product > rule.max {
                return Err(rule.message.to_string());
            }
        }
    }
    Ok(())
}

/// The checks of [`ModelConfig::validate`]: every model field of the table that the kind uses, then the rules.
pub fn check_model(model: &ModelConfig) -> Result<(), String> {
    check(Group::Model, model, None)
}

/// The checks of [`TrainConfig::validate`]. Train fields apply to every kind.
pub fn check_train(train: &TrainConfig) -> Result<(), String> {
    check(Group::Train, &ModelConfig::default(), Some(train))
}
