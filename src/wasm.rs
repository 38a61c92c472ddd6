//! The JavaScript surface: a thin `#[wasm_bindgen]` facade over [`crate::session::Session`].
//!
//! Weights and datasets stay in wasm memory behind the opaque `Session` handle; only small
//! results cross, as typed arrays (`Float32Array`, `Uint8Array`, `Uint32Array`) or as JSON
//! strings for reports. Every error becomes a `JsError` with the session's message: nothing
//! here panics on bad input, and a failed call leaves the session as it was.

use wasm_bindgen::prelude::*;

use crate::latent::Rect;
use crate::model::ModelConfig;
use crate::session;
use crate::train::TrainConfig;

#[wasm_bindgen(start)]
pub fn start() {
    // Panics (bugs, never bad input) reach the console with a message instead of "unreachable".
    console_error_panic_hook::set_once();
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn to_json(value: &impl serde::Serialize) -> Result<String, JsError> {
    serde_json::to_string(value).map_err(js_error)
}

fn parse_settings(model_json: &str, train_json: &str) -> Result<(ModelConfig, TrainConfig), JsError> {
    let model = serde_json::from_str(model_json).map_err(|e| js_error(format!("model settings: {e}")))?;
    let train = serde_json::from_str(train_json).map_err(|e| js_error(format!("training settings: {e}")))?;
    Ok((model, train))
}

/// The default model and training settings as `{"model": …, "train": …}` JSON.
#[wasm_bindgen(js_name = defaultConfig)]
pub fn default_config() -> Result<String, JsError> {
    to_json(&serde_json::json!({ "model": ModelConfig::default(), "train": TrainConfig::default() }))
}

#[wasm_bindgen]
pub struct Session {
    inner: session::Session,
}

/// Codes of a batch of images (see `session::Encoded`).
#[wasm_bindgen]
pub struct Encoding {
    inner: session::Encoded,
}

#[wasm_bindgen]
impl Encoding {
    /// Latent dimension n: the row length of `mean`.
    #[wasm_bindgen(getter)]
    pub fn dim(&self) -> usize {
        self.inner.dim
    }
    /// `(B, n)`: z (AE), μ (VAE) or z_e (VQ-VAE).
    #[wasm_bindgen(getter)]
    pub fn mean(&self) -> Vec<f32> {
        self.inner.mean.clone()
    }
    /// `(B, d)` log σ², VAE only.
    #[wasm_bindgen(getter)]
    pub fn logvar(&self) -> Option<Vec<f32>> {
        self.inner.logvar.clone()
    }
    /// `(B, l)` nearest code indices, VQ-VAE only.
    #[wasm_bindgen(getter)]
    pub fn codes(&self) -> Option<Vec<u32>> {
        self.inner.codes.clone()
    }
    /// `(B, 2)`: the codes in the view plane.
    #[wasm_bindgen(getter)]
    pub fn plane(&self) -> Vec<f32> {
        self.inner.plane.clone()
    }
}

#[wasm_bindgen]
impl Session {
    /// A new model from settings JSON (camelCase fields; missing ones take the defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(model_json: &str, train_json: &str) -> Result<Session, JsError> {
        let (model, train) = parse_settings(model_json, train_json)?;
        Ok(Session { inner: session::Session::new(&model, &train).map_err(js_error)? })
    }

    /// `{"model": …, "train": …, "step": n, "latentDim": n}`.
    pub fn config(&self) -> Result<String, JsError> {
        let trainer = self.inner.trainer();
        to_json(&serde_json::json!({
            "model": self.inner.model().config(),
            "train": trainer.config(),
            "step": trainer.step(),
            "latentDim": self.inner.latent_dim(),
        }))
    }

    #[wasm_bindgen(getter, js_name = latentDim)]
    pub fn latent_dim(&self) -> usize {
        self.inner.latent_dim()
    }

    /// Replaces the data with four IDX files (raw or gzipped); on error the old data stays.
    #[wasm_bindgen(js_name = setData)]
    pub fn set_data(&mut self, train_images: &[u8], train_labels: &[u8], test_images: &[u8], test_labels: &[u8]) -> Result<(), JsError> {
        self.inner.set_data(train_images, train_labels, test_images, test_labels).map_err(js_error)
    }

    #[wasm_bindgen(getter, js_name = testLength)]
    pub fn test_length(&self) -> usize {
        self.inner.test_len()
    }

    /// Runs `n` steps; returns the `StepReport` as JSON.
    #[wasm_bindgen(js_name = trainSteps)]
    pub fn train_steps(&mut self, n: usize) -> Result<String, JsError> {
        to_json(&self.inner.train_steps(n).map_err(js_error)?)
    }

    #[wasm_bindgen(js_name = setLearningRate)]
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<(), JsError> {
        self.inner.set_learning_rate(lr).map_err(js_error)
    }

    /// `EvalReport` JSON over the first `limit` test images (0 = all).
    pub fn evaluate(&self, limit: usize) -> Result<String, JsError> {
        to_json(&self.inner.evaluate(limit).map_err(js_error)?)
    }

    /// Encodes the first `limit` test images (0 = all) and refits the view plane.
    #[wasm_bindgen(js_name = encodeTest)]
    pub fn encode_test(&mut self, limit: usize) -> Result<Encoding, JsError> {
        Ok(Encoding { inner: self.inner.encode_test(limit).map_err(js_error)? })
    }

    /// Encodes images given as `(B, 784)` floats in [0, 1].
    pub fn encode(&self, pixels: &[f32]) -> Result<Encoding, JsError> {
        Ok(Encoding { inner: self.inner.encode(pixels).map_err(js_error)? })
    }

    #[wasm_bindgen(js_name = testLabels)]
    pub fn test_labels(&self, limit: usize) -> Result<Vec<u8>, JsError> {
        self.inner.test_labels(limit).map_err(js_error)
    }

    /// Test images `start .. start + count` as `(B, 784)` bytes.
    #[wasm_bindgen(js_name = testImages)]
    pub fn test_images(&self, start: usize, count: usize) -> Result<Vec<u8>, JsError> {
        self.inner.test_images(start, count).map_err(js_error)
    }

    /// Training images at `indices` as `(B, 784)` bytes (a traced step's batch).
    #[wasm_bindgen(js_name = trainImages)]
    pub fn train_images(&self, indices: &[u32]) -> Result<Vec<u8>, JsError> {
        Ok(self.inner.train_images(indices).map_err(js_error)?.0)
    }

    /// Labels of the training images at `indices`.
    #[wasm_bindgen(js_name = trainLabels)]
    pub fn train_labels(&self, indices: &[u32]) -> Result<Vec<u8>, JsError> {
        Ok(self.inner.train_images(indices).map_err(js_error)?.1)
    }

    /// `(B, n)` codes → `(B, 784)` images in [0, 1].
    pub fn decode(&self, z: &[f32]) -> Result<Vec<f32>, JsError> {
        self.inner.decode(z).map_err(js_error)
    }

    /// Decoded manifold: images at the centres of an `nx × ny` grid over the view-plane
    /// rectangle, top row first.
    #[wasm_bindgen(js_name = decodeGrid)]
    pub fn decode_grid(&self, x0: f32, x1: f32, y0: f32, y1: f32, nx: usize, ny: usize) -> Result<Vec<f32>, JsError> {
        self.inner.decode_grid(Rect { x0, x1, y0, y1 }, nx, ny).map_err(js_error)
    }

    /// Decoded images along the line from code `a` to code `b`.
    pub fn interpolate(&self, a: &[f32], b: &[f32], steps: usize) -> Result<Vec<f32>, JsError> {
        self.inner.interpolate(a, b, steps).map_err(js_error)
    }

    /// `count` decoded samples from the prior (seeded).
    #[wasm_bindgen(js_name = samplePrior)]
    pub fn sample_prior(&self, count: usize, seed: u64) -> Result<Vec<f32>, JsError> {
        Ok(self.inner.sample_prior(count, seed).map_err(js_error)?.1)
    }

    /// The VQ-VAE codebook `(K, D)`.
    pub fn codebook(&self) -> Result<Vec<f32>, JsError> {
        self.inner.codebook().map_err(js_error)
    }

    /// Every code decoded, `(K, 784)`.
    #[wasm_bindgen(js_name = decodeCodebook)]
    pub fn decode_codebook(&self) -> Result<Vec<f32>, JsError> {
        self.inner.decode_codebook().map_err(js_error)
    }

    /// Nearest-code index over an `nx × ny` grid of the plane (the Voronoi map, D = 2).
    #[wasm_bindgen(js_name = codeMap)]
    pub fn code_map(&self, x0: f32, x1: f32, y0: f32, y1: f32, nx: usize, ny: usize) -> Result<Vec<u32>, JsError> {
        self.inner.code_map(Rect { x0, x1, y0, y1 }, nx, ny).map_err(js_error)
    }

    /// `(n, d) → (n, 2)`: codes onto the current view plane.
    pub fn project(&self, z: &[f32]) -> Result<Vec<f32>, JsError> {
        self.inner.project(z).map_err(js_error)
    }

    /// The view plane's two unit axes, `(2, d)`: x first. A Gaussian `N(μ, diag σ²)` appears on
    /// the plane with covariance `A diag(σ²) Aᵀ`.
    #[wasm_bindgen(js_name = planeAxes)]
    pub fn plane_axes(&self) -> Vec<f32> {
        self.inner.plane().axes.concat()
    }

    /// The model's reconstructions of `(B, 784)` images in `[0, 1]`.
    pub fn reconstruct(&self, pixels: &[f32]) -> Result<Vec<f32>, JsError> {
        self.inner.reconstruct(pixels).map_err(js_error)
    }

    /// Images `(B, 784)` from VQ code indices, l per image.
    #[wasm_bindgen(js_name = decodeCodes)]
    pub fn decode_codes(&self, codes: &[u32]) -> Result<Vec<f32>, JsError> {
        self.inner.decode_codes(codes).map_err(js_error)
    }

    /// A new untrained model with these settings (JSON as in `new`) on the loaded data; on
    /// error nothing changes.
    pub fn rebuild(&mut self, model_json: &str, train_json: &str) -> Result<(), JsError> {
        let (model, train) = parse_settings(model_json, train_json)?;
        self.inner.rebuild(&model, &train).map_err(js_error)
    }

    /// One optimizer step and what it did, as `StepTrace` JSON.
    #[wasm_bindgen(js_name = traceStep)]
    pub fn trace_step(&mut self) -> Result<String, JsError> {
        to_json(&self.inner.trace_step().map_err(js_error)?)
    }

    /// The model, its settings and step as safetensors bytes.
    pub fn save(&self) -> Result<Vec<u8>, JsError> {
        self.inner.save().map_err(js_error)
    }

    /// Replaces the model with a checkpoint's (data kept); on error nothing changes.
    pub fn load(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        self.inner.load(bytes).map_err(js_error)
    }
}
