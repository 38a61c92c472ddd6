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

use std::collections::HashMap;

use candle_core::{DType, Device};
use safetensors::SafeTensors;

use crate::model::{Model, ModelConfig};
use crate::train::TrainConfig;

const FORMAT: &str = "latent-lab";
const VERSION: &str = "1";

/// A checkpoint read back from bytes: a ready model plus what's needed to resume training.
pub struct Checkpoint {
    pub model: Model,
    pub train: TrainConfig,
    pub step: u64,
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
}

impl std::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckpointError::Unreadable(e) => write!(f, "this file is not a readable checkpoint ({e}); it may be truncated or corrupted"),
            CheckpointError::NotLatentLab => write!(f, "this safetensors file was not saved by Latent Lab (no latent-lab metadata)"),
            CheckpointError::UnsupportedVersion(v) => write!(f, "checkpoint format version {v} is not supported (expected {VERSION})"),
            CheckpointError::BadMetadata(e) => write!(f, "the checkpoint's settings can't be read: {e}"),
            CheckpointError::Mismatch(e) => write!(f, "the checkpoint's weights don't fit its model: {e}"),
        }
    }
}

impl std::error::Error for CheckpointError {}

/// Serialises `model` with its configs and step.
pub fn save(model: &Model, train: &TrainConfig, step: u64) -> candle_core::Result<Vec<u8>> {
    let weights = model.weights()?;
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("model".to_string(), serde_json::to_string(model.config()).map_err(candle_core::Error::wrap)?),
        ("train".to_string(), serde_json::to_string(train).map_err(candle_core::Error::wrap)?),
        ("step".to_string(), step.to_string()),
    ]);
    let bytes = safetensors::serialize(weights.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata)).map_err(candle_core::Error::wrap)?;
    sorted_header(bytes).map_err(candle_core::Error::wrap)
}

/// safetensors takes the metadata as a `HashMap` and writes it in that map's iteration order,
/// which changes from process to process. This rewrites the JSON header with every object's
/// keys sorted; readers see the same objects, and the tensor data (addressed by offsets
/// relative to the end of the header) is untouched.
fn sorted_header(bytes: Vec<u8>) -> Result<Vec<u8>, serde_json::Error> {
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

/// Reads a checkpoint written by [`save`].
pub fn load(bytes: &[u8], device: &Device) -> Result<Checkpoint, CheckpointError> {
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| CheckpointError::Unreadable(e.to_string()))?;
    // Validates offsets against the buffer before anything is copied.
    SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::Unreadable(e.to_string()))?;
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

    let mut model = Model::new(&model_config, 0, device).map_err(|e| CheckpointError::BadMetadata(e.to_string()))?;
    let stored = candle_core::safetensors::load_buffer(bytes, device).map_err(|e| CheckpointError::Unreadable(e.to_string()))?;
    let expected = model.weights().map_err(|e| CheckpointError::Mismatch(e.to_string()))?;
    if stored.len() != expected.len() {
        return Err(CheckpointError::Mismatch(format!("{} tensors stored, the model has {}", stored.len(), expected.len())));
    }
    let mut weights = Vec::with_capacity(expected.len());
    for (name, fresh) in &expected {
        let tensor = stored.get(name).ok_or_else(|| CheckpointError::Mismatch(format!("tensor \"{name}\" is missing")))?;
        if tensor.dims() != fresh.dims() || tensor.dtype() != DType::F32 {
            return Err(CheckpointError::Mismatch(format!(
                "\"{name}\" is {:?} {:?}, the model needs F32 {:?}",
                tensor.dtype(),
                tensor.dims(),
                fresh.dims()
            )));
        }
        if !crate::model::blocks::all_finite(tensor).unwrap_or(false) {
            return Err(CheckpointError::Mismatch(format!("\"{name}\" holds NaN or infinite values")));
        }
        weights.push((name.clone(), tensor.clone()));
    }
    model.copy_weights_from(&weights).map_err(|e| CheckpointError::Mismatch(e.to_string()))?;
    Ok(Checkpoint { model, train, step })
}
