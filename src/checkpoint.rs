//! Checkpoints: a model's tensors, its configuration and the training step, as safetensors
//! bytes (the browser has no file system, so everything goes through `&[u8]`).
//!
//! The safetensors header's `__metadata__` holds `format = "latent-lab"`, `version`, `model`
//! and `train` (the configs as JSON) and `step`. Loading builds a fresh model from the stored
//! config and fills it only after every tensor's name and shape have been checked, so a wrong
//! or corrupted file is refused with a message and whatever model the caller has is untouched.
//!
//! The same model, config and step always give the same bytes (the shipped checkpoints are
//! regenerated and compared by hash): the metadata keys are written in sorted order.
//!
//! # Trust: checksum, shapes before data, bounded size
//!
//! - [`save`] adds `checksum = "sha256:<hex>"` to the metadata: SHA-256 over every other
//!   metadata entry and every tensor (see [`checksum`] for the exact byte stream). [`load`]
//!   recomputes it and refuses a file whose bytes changed after saving
//!   ([`CheckpointError::Damaged`]). Files saved before the checksum existed (the shipped ones
//!   among them) still load, with [`Checkpoint::note`] saying they could not be verified.
//! - The file is at most [`MAX_CHECKPOINT_BYTES`]. The stored config is validated (which
//!   bounds the model's size), and the stored weight bytes must be at least what that config's
//!   two 784-wide layers need before the model is built, so a small file cannot make the
//!   loader build a large model. Every tensor's name, dtype and shape is compared with the
//!   model's before any tensor data is copied; the data is read straight from the buffer.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use safetensors::tensor::TensorView;
use safetensors::SafeTensors;
use sha2::{Digest, Sha256};

use crate::data::IMAGE_PIXELS;
use crate::model::{Model, ModelConfig};
use crate::train::TrainConfig;

const FORMAT: &str = "latent-lab";
const VERSION: &str = "1";
const CHECKSUM_KEY: &str = "checksum";
const CHECKSUM_PREFIX: &str = "sha256:";
/// The metadata entries of a file saved before checksums existed.
const OLD_KEYS: [&str; 5] = ["format", "model", "step", "train", "version"];

/// Largest checkpoint [`load`] reads. The largest model the config ranges allow (hidden width
/// 2048) stores about 26 MB of weights.
pub const MAX_CHECKPOINT_BYTES: usize = 64 << 20;

/// What [`Checkpoint::note`] says about a file saved without a checksum.
pub const NO_CHECKSUM_NOTE: &str =
    "this checkpoint was saved without a checksum (by an older Latent Lab), so its weights could not be verified; re-save it to add one";

/// A checkpoint read back from bytes: a ready model plus what's needed to resume training.
pub struct Checkpoint {
    pub model: Model,
    pub train: TrainConfig,
    pub step: u64,
    /// Something the user should know although the file loaded: for now only
    /// [`NO_CHECKSUM_NOTE`] for a file from before checksums.
    pub note: Option<String>,
}

#[derive(Debug)]
pub enum CheckpointError {
    /// Not a safetensors file at all (or truncated / corrupted).
    Unreadable(String),
    /// A safetensors file, but not one of ours.
    NotLatentLab,
    UnsupportedVersion(String),
    BadMetadata(String),
    /// The tensors don't fit the model the stored config describes.
    Mismatch(String),
    /// The stored checksum does not match the contents (or is malformed).
    Damaged(String),
    /// Larger than [`MAX_CHECKPOINT_BYTES`].
    TooLarge {
        bytes: usize,
        limit: usize,
    },
}

impl std::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckpointError::Unreadable(e) => write!(f, "this file is not a readable checkpoint ({e}); it may be truncated or corrupted"),
            CheckpointError::NotLatentLab => write!(f, "this safetensors file was not saved by Latent Lab (no latent-lab metadata)"),
            CheckpointError::UnsupportedVersion(v) => write!(f, "checkpoint format version {v} is not supported (expected {VERSION})"),
            CheckpointError::BadMetadata(e) => write!(f, "the checkpoint's settings can't be read: {e}"),
            CheckpointError::Mismatch(e) => write!(f, "the checkpoint's weights don't fit its model: {e}"),
            CheckpointError::Damaged(e) => {
                write!(f, "the checkpoint is damaged: {e}; its bytes changed after it was saved (bad copy or download?), so it is refused")
            }
            CheckpointError::TooLarge { bytes, limit } => {
                write!(f, "this file is {bytes} bytes, more than any Latent Lab checkpoint ({limit} bytes, {} MiB, at most)", limit >> 20)
            }
        }
    }
}

impl std::error::Error for CheckpointError {}

/// Serialises `model` with its configs and step.
pub fn save(model: &Model, train: &TrainConfig, step: u64) -> candle_core::Result<Vec<u8>> {
    let weights = model.weights()?;
    let mut metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("model".to_string(), serde_json::to_string(model.config()).map_err(candle_core::Error::wrap)?),
        ("train".to_string(), serde_json::to_string(train).map_err(candle_core::Error::wrap)?),
        ("step".to_string(), step.to_string()),
    ]);
    // Serialise once to hash exactly the bytes load() will see, then again with the checksum.
    let unsigned =
        safetensors::serialize(weights.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata.clone())).map_err(candle_core::Error::wrap)?;
    let view = SafeTensors::deserialize(&unsigned).map_err(candle_core::Error::wrap)?;
    metadata.insert(CHECKSUM_KEY.to_string(), checksum(&metadata, &view.tensors()));
    let bytes = safetensors::serialize(weights.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata)).map_err(candle_core::Error::wrap)?;
    sorted_header(bytes).map_err(candle_core::Error::wrap)
}

/// `"sha256:<64 hex digits>"` over, in this order: the tag `latent-lab checkpoint\n`; every
/// metadata entry except `checksum`, sorted by key, as length-prefixed key and value; every
/// tensor sorted by name, as length-prefixed name, dtype name (`F32`), dimension count, each
/// dimension, and length-prefixed data bytes. Lengths and dimensions are `u64` little-endian.
/// Independent of the header's layout and key order, so re-sorting the header keeps it.
pub fn checksum(metadata: &HashMap<String, String>, tensors: &[(String, TensorView<'_>)]) -> String {
    let mut hash = Sha256::new();
    let mut put = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    put(b"latent-lab checkpoint\n");
    let mut entries: Vec<_> = metadata.iter().filter(|(k, _)| k.as_str() != CHECKSUM_KEY).collect();
    entries.sort();
    for (key, value) in entries {
        put(key.as_bytes());
        put(value.as_bytes());
    }
    let mut tensors: Vec<_> = tensors.iter().collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, view) in tensors {
        put(name.as_bytes());
        put(format!("{:?}", view.dtype()).as_bytes());
        let dims: Vec<u8> = view.shape().iter().flat_map(|&d| (d as u64).to_le_bytes()).collect();
        put(&dims);
        put(view.data());
    }
    let digest = hash.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{CHECKSUM_PREFIX}{hex}")
}

/// safetensors takes the metadata as a `HashMap` and writes it in that map's iteration order,
/// which changes from process to process. This rewrites the JSON header with every object's
/// keys sorted; readers see the same objects, and the tensor data (addressed by offsets
/// relative to the end of the header) is untouched.
pub(crate) fn sorted_header(bytes: Vec<u8>) -> Result<Vec<u8>, serde_json::Error> {
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("safetensors starts with an 8-byte length")) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n])?;
    let mut json = serde_json::to_string(&sort_keys(header))?;
    // safetensors pads the header with spaces so the data starts 8-byte aligned.
    while json.len() % 8 != 0 {
        json.push(' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(json.as_bytes());
    out.extend_from_slice(&bytes[8 + n..]);
    Ok(out)
}

/// Rebuilds objects with their keys inserted in sorted order, so the output is sorted whether
/// or not serde_json's `preserve_order` feature is on somewhere in the dependency graph.
fn sort_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let sorted: std::collections::BTreeMap<String, serde_json::Value> = map.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        other => other,
    }
}

/// Reads a checkpoint written by [`save`] (or by a version before checksums: see
/// [`Checkpoint::note`]). Checks, in order: size, structure, our metadata and version, the
/// settings, the amount of weight data against the config, every tensor's name, dtype and
/// shape, finiteness, then the checksum; only then is tensor data copied into the model.
pub fn load(bytes: &[u8], device: &Device) -> Result<Checkpoint, CheckpointError> {
    if bytes.len() > MAX_CHECKPOINT_BYTES {
        return Err(CheckpointError::TooLarge { bytes: bytes.len(), limit: MAX_CHECKPOINT_BYTES });
    }
    // Validates every offset against the buffer; the tensors stay views into `bytes`.
    let file = SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::Unreadable(e.to_string()))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| CheckpointError::Unreadable(e.to_string()))?;
    let meta = header.metadata().as_ref().ok_or(CheckpointError::NotLatentLab)?;
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(CheckpointError::NotLatentLab);
    }
    let version = meta.get("version").cloned().unwrap_or_default();
    if version != VERSION {
        return Err(CheckpointError::UnsupportedVersion(version));
    }
    let field = |key: &str| meta.get(key).ok_or_else(|| CheckpointError::BadMetadata(format!("missing \"{key}\"")));
    let model_config: ModelConfig =
        serde_json::from_str(field("model")?).map_err(|e| CheckpointError::BadMetadata(format!("model: {e}")))?;
    let train: TrainConfig = serde_json::from_str(field("train")?).map_err(|e| CheckpointError::BadMetadata(format!("train: {e}")))?;
    let step: u64 = field("step")?.parse().map_err(|e| CheckpointError::BadMetadata(format!("step: {e}")))?;
    train.validate().map_err(CheckpointError::BadMetadata)?;
    model_config.validate().map_err(|e| CheckpointError::BadMetadata(format!("invalid model settings: {e}")))?;

    let stored = file.tensors();
    check_weight_volume(&model_config, &stored)?;
    let mut model = Model::new(&model_config, 0, device).map_err(|e| CheckpointError::BadMetadata(e.to_string()))?;
    let expected = parameter_shapes(&model);
    if stored.len() != expected.len() {
        return Err(CheckpointError::Mismatch(format!("{} tensors stored, the model has {}", stored.len(), expected.len())));
    }
    let by_name: HashMap<&str, &TensorView<'_>> = stored.iter().map(|(n, v)| (n.as_str(), v)).collect();
    for (name, dims) in &expected {
        let view = by_name.get(name.as_str()).ok_or_else(|| CheckpointError::Mismatch(format!("tensor \"{name}\" is missing")))?;
        if view.shape() != dims.as_slice() || view.dtype() != safetensors::Dtype::F32 {
            return Err(CheckpointError::Mismatch(format!(
                "\"{name}\" is {:?} {:?}, the model needs F32 {dims:?}",
                view.dtype(),
                view.shape()
            )));
        }
        if view.data().chunks_exact(4).any(|b| !f32::from_le_bytes(b.try_into().unwrap()).is_finite()) {
            return Err(CheckpointError::Mismatch(format!("\"{name}\" holds NaN or infinite values")));
        }
    }
    let note = match meta.get(CHECKSUM_KEY) {
        // Only a file with exactly the old entries counts as old: otherwise one flipped byte in
        // the key "checksum" would turn a damaged file into an unverified "old" one.
        None => match meta.keys().find(|k| !OLD_KEYS.contains(&k.as_str())) {
            Some(key) => {
                return Err(CheckpointError::Damaged(format!(
                    "it has no checksum but an unknown entry {key:?}; files from before checksums hold only {OLD_KEYS:?}"
                )))
            }
            None => Some(NO_CHECKSUM_NOTE.to_string()),
        },
        Some(claimed) => {
            let actual = checksum(meta, &stored);
            if claimed.len() != actual.len() || !claimed.starts_with(CHECKSUM_PREFIX) {
                return Err(CheckpointError::Damaged(format!("its checksum field {claimed:?} is not of the form sha256:<64 hex digits>")));
            }
            if *claimed != actual {
                return Err(CheckpointError::Damaged(format!(
                    "its checksum does not match: the contents hash to {actual}, but it was saved as {claimed}"
                )));
            }
            None
        }
    };
    let mut weights = Vec::with_capacity(expected.len());
    for (name, dims) in &expected {
        let tensor = Tensor::from_raw_buffer(by_name[name.as_str()].data(), DType::F32, dims, device)
            .map_err(|e| CheckpointError::Mismatch(format!("\"{name}\": {e}")))?;
        weights.push((name.clone(), tensor));
    }
    model.copy_weights_from(&weights).map_err(|e| CheckpointError::Mismatch(e.to_string()))?;
    Ok(Checkpoint { model, train, step, note })
}

/// Every model has an encoder layer reading at least 784 inputs and a decoder layer writing at
/// least 784 outputs into `hidden` units, so its weights take at least `2 · 784 · hidden · 4`
/// bytes. Checked against the weight bytes the file holds before the model is built: building
/// allocates the model, and this keeps that in proportion to the file's length.
fn check_weight_volume(config: &ModelConfig, stored: &[(String, TensorView<'_>)]) -> Result<(), CheckpointError> {
    let held: usize = stored.iter().map(|(_, v)| v.data().len()).sum();
    let needed = 2 * IMAGE_PIXELS * config.hidden * 4;
    if held < needed {
        return Err(CheckpointError::Mismatch(format!(
            "the file holds {held} bytes of weights, but a model with hidden width {} needs at least {needed}",
            config.hidden
        )));
    }
    Ok(())
}

/// The model's parameter names and shapes, sorted by name, without copying any data.
fn parameter_shapes(model: &Model) -> Vec<(String, Vec<usize>)> {
    let data = model.varmap().data().lock().unwrap();
    let mut shapes: Vec<_> = data.iter().map(|(name, var)| (name.clone(), var.dims().to_vec())).collect();
    shapes.sort();
    shapes
}
