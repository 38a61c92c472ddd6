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

mod table;

pub use table::{FIELDS, MAX_SAFE_INTEGER, RULES};

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

/// A field with nothing set: the table's entries start from it.
pub(crate) const BLANK: Field = Field {
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
