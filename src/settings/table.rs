//! The table itself: every setting in the order of the page's form, and the cross-field rules.
//! Labels, titles, URL names and ranges are the page's form as it was before the schema.

use super::{Choice, Field, Group, Kind, Read, Rule, BLANK};
use crate::model::ModelKind;

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
