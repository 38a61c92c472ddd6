//! The JavaScript surface: a thin `#[wasm_bindgen]` facade over [`crate::session::Session`]
//! and the settings table.
//!
//! One style across the boundary: every query returns a typed array (bulk) or one plain JS
//! object made by [`reply`] (small fields through serde-wasm-bindgen, bulk fields as
//! `Float32Array`/`Uint8Array`/`Uint32Array`/`Int16Array`, `null` for what a model lacks).
//! Settings come in as plain `{model, train}` objects ([`from_object`]). The handles are the
//! long-lived `Session` (in the workers) and `MixtureLesson` (one, on the page's thread);
//! nothing else needs `free()`. Every error becomes a `JsError` with the session's
//! message, and a failed call leaves the session as it was.

use js_sys::{Float32Array, Int16Array, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::data::Dataset;
use crate::images;
use crate::latent::Rect;
use crate::mixture::lesson::{self, Params};
use crate::optim::overlap;
use crate::parallel::{Shard, Share, ShareMetrics};
use crate::session::{self, Bulk, Reply};
use crate::settings::{self, Settings, MAX_SAFE_INTEGER};

#[wasm_bindgen(start)]
pub fn start() {
    // Panics (bugs, never bad input) reach the console with a message instead of "unreachable".
    console_error_panic_hook::set_once();
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// The one way a reply object is made: the small fields as a plain object (`None` → `null`,
/// maps as objects), then each bulk field set on it as a typed array.
fn reply(value: &impl Reply) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true).serialize_maps_as_objects(true);
    let object = value.serialize(&serializer).map_err(js_error)?;
    for (name, bulk) in value.bulk() {
        let array: JsValue = match bulk {
            None => JsValue::NULL,
            Some(Bulk::F32(v)) => Float32Array::from(v).into(),
            Some(Bulk::U8(v)) => Uint8Array::from(v).into(),
            Some(Bulk::U32(v)) => Uint32Array::from(v).into(),
            Some(Bulk::I16(v)) => Int16Array::from(v).into(),
        };
        Reflect::set(&object, &name.into(), &array).map_err(|_| js_error(format!("could not set {name}")))?;
    }
    Ok(object)
}

/// `{model, train}` from a plain object; missing parts and fields take the defaults.
fn settings_from(value: JsValue) -> Result<Settings, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Settings::default());
    }
    from_object(&value, "settings")
}

/// A plain JS object read through its JSON text: serde_json, unlike serde-wasm-bindgen, refuses
/// unknown fields (`deny_unknown_fields`), so a misspelt setting is an error, not ignored.
fn from_object<T: serde::de::DeserializeOwned>(value: &JsValue, what: &str) -> Result<T, JsError> {
    let text = js_sys::JSON::stringify(value).map_err(|_| js_error(format!("{what}: not a plain object")))?;
    serde_json::from_str(&String::from(text)).map_err(|e| js_error(format!("{what}: {e}")))
}

/// A seed as a JS number (a non-negative integer up to 2⁵³ − 1) or a BigInt.
fn seed_from(value: JsValue) -> Result<u64, JsError> {
    if value.is_bigint() {
        return u64::try_from(value).map_err(|_| js_error("a seed must be a non-negative integer below 2⁶⁴"));
    }
    match value.as_f64() {
        Some(x) if (0.0..=MAX_SAFE_INTEGER).contains(&x) && x.fract() == 0.0 => Ok(x as u64),
        _ => Err(js_error("a seed must be a non-negative whole number")),
    }
}

/// `{fields, rules}`: every setting the page shows and the cross-field rules.
#[wasm_bindgen(js_name = settingsSchema)]
pub fn settings_schema() -> Result<JsValue, JsError> {
    reply(&settings::schema())
}

/// `{model, train}` with every field filled from the defaults; throws naming the first bad field.
#[wasm_bindgen(js_name = checkSettings)]
pub fn check_settings(value: JsValue) -> Result<JsValue, JsError> {
    let settings = settings_from(value)?;
    settings.validate().map_err(js_error)?;
    reply(&settings)
}

#[wasm_bindgen(js_name = defaultSettings)]
pub fn default_settings() -> Result<JsValue, JsError> {
    reply(&Settings::default())
}

/// One decoded `width × height` RGBA image preprocessed as MNIST's were: `{pixels, inverted}`.
#[wasm_bindgen(js_name = prepareImage)]
pub fn prepare_image(rgba: &[u8], width: usize, height: usize) -> Result<JsValue, JsError> {
    reply(&images::prepare(rgba, width, height).map_err(js_error)?)
}

/// `{maxSide, maxImages, maxClasses}`: what a set of images may hold.
#[wasm_bindgen(js_name = imageLimits)]
pub fn image_limits() -> Result<JsValue, JsError> {
    reply(&images::limits())
}

/// `{relaxedSimd, fused}`: how this build's matrix products add each step (the page loads the
/// relaxed SIMD build where the browser has it).
#[wasm_bindgen(js_name = productArithmetic)]
pub fn product_arithmetic() -> Result<JsValue, JsError> {
    reply(&crate::model::linear::product_arithmetic())
}

#[wasm_bindgen]
pub struct Session {
    inner: session::Session,
    /// The gradient buffers of the peers' shares, filled again every step.
    received: Vec<Vec<f32>>,
}

#[wasm_bindgen]
impl Session {
    /// A new model from `{model, train}` settings (missing fields take the defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(settings: JsValue) -> Result<Session, JsError> {
        Ok(Session { inner: session::Session::from_settings(&settings_from(settings)?).map_err(js_error)?, received: Vec::new() })
    }

    /// A new untrained model with these settings on the loaded data (not parsed again).
    pub fn rebuild(&mut self, settings: JsValue) -> Result<(), JsError> {
        let s = settings_from(settings)?;
        self.inner.rebuild(&s.model, &s.train).map_err(js_error)
    }

    /// Four IDX files (raw or gzipped); on success a new model with the current settings.
    #[wasm_bindgen(js_name = setData)]
    pub fn set_data(&mut self, train_images: &[u8], train_labels: &[u8], test_images: &[u8], test_labels: &[u8]) -> Result<(), JsError> {
        self.inner.set_data(train_images, train_labels, test_images, test_labels).map_err(js_error)
    }

    /// Room in this session's memory for four IDX files of these byte lengths (as for
    /// `setData`), returned as a view to fill with `set` at once, then `setStagedData()`. The
    /// view is only valid until the session allocates again: fill it before any other call.
    #[wasm_bindgen(js_name = stageFiles)]
    pub fn stage_files(&mut self, lengths: &[u32]) -> Result<Uint8Array, JsError> {
        let lengths: [u32; 4] = lengths.try_into().map_err(|_| JsError::new("stageFiles takes four lengths"))?;
        let room = self.inner.stage_files(lengths.map(|n| n as usize));
        // SAFETY: the view covers `room`, which lives in the session; the JS side fills it
        // before it calls into the module again, as documented above.
        Ok(unsafe { Uint8Array::view_mut_raw(room.as_mut_ptr(), room.len()) })
    }

    /// `setData` on the files that `stageFiles` made room for and the page wrote there.
    #[wasm_bindgen(js_name = setStagedData)]
    pub fn set_staged_data(&mut self) -> Result<(), JsError> {
        self.inner.set_staged_data().map_err(js_error)
    }

    /// Preprocessed images (784 bytes each) and their paths (an array of strings) as the new
    /// data, labelled by folder; returns what they became (`ImagesLoaded`).
    #[wasm_bindgen(js_name = setImages)]
    pub fn set_images(&mut self, pixels: &[u8], paths: JsValue) -> Result<JsValue, JsError> {
        let paths: Vec<String> = from_object(&paths, "paths")?;
        reply(&self.inner.set_images(pixels, &paths).map_err(js_error)?)
    }

    /// The data as four gzipped IDX files with their names and the class names.
    #[wasm_bindgen(js_name = exportIdx)]
    pub fn export_idx(&self) -> Result<JsValue, JsError> {
        reply(&self.inner.export_idx().map_err(js_error)?)
    }

    /// The student's own IDX files (raw or gzipped) in any order, `names[k]` naming `files[k]`:
    /// each checked on its own, then sorted and paired; on success a new model with the current
    /// settings. Returns `{order, trainLength, testLength}`: `order[k]` is the position of the
    /// file for role k (train images, train labels, test images, test labels).
    #[wasm_bindgen(js_name = setFiles)]
    pub fn set_files(&mut self, names: Vec<String>, files: Vec<Uint8Array>) -> Result<JsValue, JsError> {
        if names.len() != files.len() {
            return Err(js_error(format!("{} names for {} files", names.len(), files.len())));
        }
        let bytes: Vec<Vec<u8>> = files.iter().map(Uint8Array::to_vec).collect();
        let named: Vec<(&str, &[u8])> = names.iter().map(String::as_str).zip(bytes.iter().map(Vec::as_slice)).collect();
        reply(&self.inner.set_files(&named).map_err(js_error)?)
    }

    /// Runs `n` steps; returns the StepReport.
    #[wasm_bindgen(js_name = trainSteps)]
    pub fn train_steps(&mut self, n: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.train_steps(n).map_err(js_error)?)
    }

    #[wasm_bindgen(js_name = setLearningRate)]
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<(), JsError> {
        self.inner.set_learning_rate(lr).map_err(js_error)
    }

    /// The model, its settings and step as safetensors bytes.
    pub fn save(&self) -> Result<Vec<u8>, JsError> {
        self.inner.save().map_err(js_error)
    }

    /// Replaces the model with a checkpoint's (data kept); on error nothing changes. Returns
    /// a note for people (an old file without a checksum), or undefined.
    pub fn load(&mut self, bytes: &[u8]) -> Result<Option<String>, JsError> {
        self.inner.load(bytes).map_err(js_error)
    }

    /// The model's weights as one Float32Array, for a replica of the same model ([`Session::set_weights`]).
    pub fn weights(&self) -> Result<Vec<f32>, JsError> {
        self.inner.weights().map_err(js_error)
    }

    /// Copies in place the weights of a session of the same model ([`Session::weights`]); on error nothing changes.
    #[wasm_bindgen(js_name = setWeights)]
    pub fn set_weights(&mut self, values: &[f32]) -> Result<(), JsError> {
        self.inner.set_weights(values).map_err(js_error)
    }

    /// Refits the view plane and returns `{plane, labels, explained, axisNames}` of the first `limit` test images.
    #[wasm_bindgen(js_name = fitView)]
    pub fn fit_view(&mut self, limit: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.fit_view(limit).map_err(js_error)?)
    }

    /// One optimizer step and what it did, the first `shown` images of its batch included.
    #[wasm_bindgen(js_name = traceStep)]
    pub fn trace_step(&mut self, shown: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.trace_step(shown).map_err(js_error)?)
    }

    /// `{model, train, step, latentDim, testLength, classCount}`.
    pub fn config(&self) -> Result<JsValue, JsError> {
        reply(&self.inner.config())
    }

    /// The EvalReport over the first `limit` test images (0 = all).
    pub fn evaluate(&self, limit: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.evaluate(limit).map_err(js_error)?)
    }

    /// `{plane, labels}` of the first `limit` test images (0 = all) on the current plane.
    pub fn scatter(&self, limit: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.scatter(limit).map_err(js_error)?)
    }

    pub fn label(&self, index: usize) -> Result<u8, JsError> {
        self.inner.label(index).map_err(js_error)
    }

    #[wasm_bindgen(js_name = testImage)]
    pub fn test_image(&self, index: usize) -> Result<Vec<u8>, JsError> {
        self.inner.test_image(index).map_err(js_error)
    }

    /// Decoded manifold over `rect = {x0, x1, y0, y1}` of the plane: `n × n` images, top row first.
    pub fn manifold(&self, rect: JsValue, n: usize) -> Result<Vec<f32>, JsError> {
        self.inner.decode_grid(from_object::<Rect>(&rect, "rectangle")?, n, n).map_err(js_error)
    }

    /// Rows `first..end` of [`Session::manifold`]'s images as one RGBA picture (`n·28` wide,
    /// ink dark on paper, a Uint32Array word per pixel whose buffer is the canvas's bytes:
    /// [`crate::mosaic`]), lifted by `plane` (another session's
    /// [`Session::view_plane`]) when given: a whole grid, or a replica's part of the training
    /// worker's grid.
    #[wasm_bindgen(js_name = manifoldRowsImage)]
    pub fn manifold_rows_image(
        &self,
        rect: JsValue,
        n: usize,
        first: usize,
        end: usize,
        plane: Option<Vec<f32>>,
    ) -> Result<Vec<u32>, JsError> {
        let rect = from_object::<Rect>(&rect, "rectangle")?;
        let pixels = self.inner.decode_grid_rows(rect, n, first..end, plane.as_deref()).map_err(js_error)?;
        Ok(crate::mosaic::ink_mosaic(&pixels, n))
    }

    /// The view plane's mean and axes as one Float32Array, for [`Session::manifold_rows_image`] of a replica.
    #[wasm_bindgen(js_name = viewPlane)]
    pub fn view_plane(&self) -> Vec<f32> {
        self.inner.plane().lifting_values()
    }

    /// Test image `index` with its code and, for a VAE, `draws` ε from `seed` and their z.
    pub fn pick(&self, index: usize, draws: usize, seed: JsValue) -> Result<JsValue, JsError> {
        reply(&self.inner.pick(index, draws, seed_from(seed)?).map_err(js_error)?)
    }

    /// The decoded line between the codes of test images `a` and `b`.
    pub fn interpolation(&self, a: usize, b: usize, steps: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.interpolation(a, b, steps).map_err(js_error)?)
    }

    /// One row per latent dimension from test image `base`'s code (or 0 when absent).
    #[wasm_bindgen(js_name = dimRows)]
    pub fn dim_rows(&self, base: Option<u32>, count: usize, range: f64, steps: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.dim_rows(base.map(|b| b as usize), count, range, steps).map_err(js_error)?)
    }

    /// The VQ-VAE codebook and how the test set uses it.
    #[wasm_bindgen(js_name = codebookSummary)]
    pub fn codebook_summary(&self) -> Result<JsValue, JsError> {
        reply(&self.inner.codebook_summary().map_err(js_error)?)
    }

    /// Every test image's code as CSV text.
    #[wasm_bindgen(js_name = codesCsv)]
    pub fn codes_csv(&self) -> Result<String, JsError> {
        self.inner.codes_csv().map_err(js_error)
    }

    /// `{index, label, image, recon}` of test image `index`.
    pub fn hover(&self, index: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.hover(index).map_err(js_error)?)
    }

    /// `{mean, codes, plane, recon}` of a drawn digit (784 values in [0, 1]).
    pub fn drawing(&self, pixels: &[f32]) -> Result<JsValue, JsError> {
        reply(&self.inner.drawing(pixels).map_err(js_error)?)
    }

    /// `count` decoded samples from the prior, `(count, 784)`.
    #[wasm_bindgen(js_name = samplePrior)]
    pub fn sample_prior(&self, count: usize, seed: JsValue) -> Result<Vec<f32>, JsError> {
        Ok(self.inner.sample_prior(count, seed_from(seed)?).map_err(js_error)?.1)
    }

    /// `(B, n)` codes → `(B, 784)` images in [0, 1].
    pub fn decode(&self, z: &[f32]) -> Result<Vec<f32>, JsError> {
        self.inner.decode(z).map_err(js_error)
    }

    /// Images `(B, 784)` from VQ code indices, l per image.
    #[wasm_bindgen(js_name = decodeCodes)]
    pub fn decode_codes(&self, codes: &[u32]) -> Result<Vec<f32>, JsError> {
        self.inner.decode_codes(codes).map_err(js_error)
    }

    /// Data-parallel training, replica 0: trains on shard 0 of `count` from now on and returns
    /// the checkpoint bytes the other replicas start from ([`Session::replica`]).
    #[wasm_bindgen(js_name = startParallel)]
    pub fn start_parallel(&mut self, count: usize) -> Result<Vec<u8>, JsError> {
        self.inner.start_parallel(count).map_err(js_error)
    }

    /// Whether this session is one of several data-parallel replicas (a new model or new data
    /// ends that).
    #[wasm_bindgen(js_name = isParallel)]
    pub fn is_parallel(&self) -> bool {
        self.inner.is_parallel()
    }

    /// Back to training alone on the whole training set.
    #[wasm_bindgen(js_name = stopParallel)]
    pub fn stop_parallel(&mut self) -> Result<(), JsError> {
        self.inner.stop_parallel().map_err(js_error)
    }

    /// `{pixels, labels}` of shard `index` of `count` of the training set, for a replica worker.
    #[wasm_bindgen(js_name = trainShard)]
    pub fn train_shard(&self, index: usize, count: usize) -> Result<JsValue, JsError> {
        let data = self.inner.train_shard(Shard { index, count }).map_err(js_error)?;
        reply(&session::ShardData { pixels: data.pixels().to_vec(), labels: data.labels().to_vec() })
    }

    /// A replica worker's session: replica 0's checkpoint and shard `index` of `count`.
    pub fn replica(checkpoint: &[u8], pixels: Vec<u8>, labels: Vec<u8>, index: usize, count: usize) -> Result<Session, JsError> {
        let data = Dataset::with_class_labels(pixels, labels).map_err(js_error)?;
        let inner = session::Session::replica(checkpoint, data, Shard { index, count }).map_err(js_error)?;
        Ok(Session { inner, received: Vec::new() })
    }

    /// This replica's share of the next step, for the others: `{shard, reached, metrics,
    /// gradient, z, codes}`; the gradient is written into `spare` (a gradient received from a
    /// peer in an earlier step) when it has the right length. When the replicas split the step
    /// (`split`), the values of this replica's own part are left as `spare` had them: every
    /// peer reads only its own part of the share.
    pub fn share(&mut self, spare: Option<Float32Array>, split: bool) -> Result<JsValue, JsError> {
        let unread = if split { self.inner.own_part().map_err(js_error)? } else { 0..0 };
        let share = self.inner.share().map_err(js_error)?;
        let object = reply(share)?;
        // A new array is fresh memory: for the 3.2 MB gradient, every step, its page faults
        // cost Chromium about 2.5 ms.
        let length = share.gradient_len() as u32;
        let gradient = spare.filter(|array| array.length() == length).unwrap_or_else(|| Float32Array::new_with_length(length));
        share
            .for_each_gradient_part(|at, values| {
                let skipped = overlap(&unread, at, values.len());
                for run in [0..skipped.start, skipped.end..values.len()].into_iter().filter(|run| !run.is_empty()) {
                    gradient.subarray((at + run.start) as u32, (at + run.end) as u32).copy_from(&values[run]);
                }
                Ok::<_, candle_core::Error>(())
            })
            .map_err(js_error)?;
        Reflect::set(&object, &"gradient".into(), &gradient).map_err(|_| js_error("could not set gradient"))?;
        Ok(object)
    }

    /// Every replica: the other replicas' shares of this step (any order) → the step, with
    /// this replica's own share, which it kept.
    #[wasm_bindgen(js_name = applyShares)]
    pub fn apply_shares(&mut self, others: js_sys::Array) -> Result<(), JsError> {
        let mut buffers = std::mem::take(&mut self.received);
        let others: Vec<Share> = others.iter().map(|s| share_from(&s, buffers.pop().unwrap_or_default())).collect::<Result<_, _>>()?;
        let result = self.inner.apply_shares(&others);
        self.received = others.into_iter().map(|s| s.gradient).collect();
        result.map_err(js_error)
    }

    /// When the replicas split the step (through shared memory): AdamW on this replica's part
    /// of the parameters from the other replicas' shares of this step (any order; only that part
    /// of each gradient is read), the part's new values written into `parameters` at their
    /// place among all the parameters, for the others.
    #[wasm_bindgen(js_name = applyOwnPart)]
    pub fn apply_own_part(&mut self, others: js_sys::Array, parameters: Float32Array) -> Result<(), JsError> {
        let part = self.inner.own_part().map_err(js_error)?;
        let mut buffers = std::mem::take(&mut self.received);
        let others: Vec<Share> =
            others.iter().map(|s| share_part_from(&s, buffers.pop().unwrap_or_default(), part.clone())).collect::<Result<_, _>>()?;
        let result = self.inner.apply_own_part(&others);
        self.received = others.into_iter().map(|s| s.gradient).collect();
        let part = result.map_err(js_error)?;
        let start = part.start;
        self.inner
            .for_each_parameter(part, |at, values| {
                let at = (start + at) as u32;
                parameters.subarray(at, at + values.len() as u32).copy_from(values);
            })
            .map_err(js_error)
    }

    /// The other replicas' parts of a split step, `[{shard, parameters}]` (each `parameters`
    /// all the parameters, of which only the replica's part is read), then the step's end.
    #[wasm_bindgen(js_name = takeParts)]
    pub fn take_parts(&mut self, others: js_sys::Array) -> Result<(), JsError> {
        let field = |value: &JsValue, name: &str| Reflect::get(value, &name.into()).map_err(|_| js_error(format!("a part has no {name}")));
        let mut shards = Vec::new();
        let mut arrays = Vec::new();
        for other in others.iter() {
            let shard: Shard = from_object(&field(&other, "shard")?, "part.shard")?;
            let array: Float32Array =
                field(&other, "parameters")?.dyn_into().map_err(|_| js_error("part.parameters is not a Float32Array"))?;
            shards.push(shard);
            arrays.push(array);
        }
        let count = self.inner.parameter_count();
        self.inner
            .take_parts(&shards, |k, at, values| {
                let at = (shards[k].parameters(count).start + at) as u32;
                arrays[k].subarray(at, at + values.len() as u32).copy_to(values);
            })
            .map_err(js_error)
    }

    /// The StepReport of the parallel steps since the last call.
    #[wasm_bindgen(js_name = parallelReport)]
    pub fn parallel_report(&mut self) -> Result<JsValue, JsError> {
        reply(&self.inner.parallel_report().map_err(js_error)?)
    }

    /// A K-component GMM fitted to the training codes, its ellipses on the plane, and `count`
    /// samples from it (`seed`) decoded.
    #[wasm_bindgen(js_name = gmmPrior)]
    pub fn gmm_prior(&self, k: usize, count: usize, seed: JsValue) -> Result<JsValue, JsError> {
        reply(&self.inner.gmm_prior(k, count, seed_from(seed)?).map_err(js_error)?)
    }

    /// Test image `index` quantized step by step: distances to every code, argmin, lookup (VQ-VAE).
    pub fn quantization(&self, index: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.quantization(index).map_err(js_error)?)
    }

    /// A new learned prior over the VQ-VAE's code grids (encodes the training set once); its PriorReport.
    #[wasm_bindgen(js_name = startPrior)]
    pub fn start_prior(&mut self, seed: JsValue) -> Result<JsValue, JsError> {
        reply(&self.inner.start_prior(seed_from(seed)?).map_err(js_error)?)
    }

    /// `n` steps of prior training; `{step, epoch, epochProgress, lossBits}`.
    #[wasm_bindgen(js_name = trainPrior)]
    pub fn train_prior(&mut self, n: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.train_prior(n).map_err(js_error)?)
    }

    /// The prior's test NLL beside the uniform and unigram baselines (bits per image).
    #[wasm_bindgen(js_name = priorReport)]
    pub fn prior_report(&self) -> Result<JsValue, JsError> {
        reply(&self.inner.prior_report().map_err(js_error)?)
    }

    /// `count` grids from the learned prior and `count` uniform ones, decoded.
    #[wasm_bindgen(js_name = priorSamples)]
    pub fn prior_samples(&self, count: usize, seed: JsValue) -> Result<JsValue, JsError> {
        reply(&self.inner.prior_samples(count, seed_from(seed)?).map_err(js_error)?)
    }

    /// `count` completions of `grid` keeping its first `keep` codes, decoded.
    #[wasm_bindgen(js_name = completeCodes)]
    pub fn complete_codes(&self, grid: &[u32], keep: usize, count: usize, seed: JsValue) -> Result<JsValue, JsError> {
        reply(&self.inner.complete_codes(grid, keep, count, seed_from(seed)?).map_err(js_error)?)
    }

    /// Replaces the prior by a prior file made for this VQ-VAE; its PriorReport.
    #[wasm_bindgen(js_name = loadPrior)]
    pub fn load_prior(&mut self, bytes: &[u8]) -> Result<JsValue, JsError> {
        reply(&self.inner.load_prior(bytes).map_err(js_error)?)
    }

    #[wasm_bindgen(js_name = hasPrior)]
    pub fn has_prior(&self) -> bool {
        self.inner.has_prior()
    }

    /// Puts the judge (the classifier file) in place; `{hidden, step, testAccuracy}`.
    #[wasm_bindgen(js_name = loadJudge)]
    pub fn load_judge(&mut self, bytes: &[u8]) -> Result<JsValue, JsError> {
        reply(&self.inner.load_judge(bytes).map_err(js_error)?)
    }

    #[wasm_bindgen(js_name = hasJudge)]
    pub fn has_judge(&self) -> bool {
        self.inner.has_judge()
    }

    /// The judge's scores of any images `(N, 784)` in [0, 1].
    #[wasm_bindgen(js_name = judgeImages)]
    pub fn judge_images(&self, images: &[f32]) -> Result<JsValue, JsError> {
        reply(&self.inner.judge_images(images).map_err(js_error)?)
    }

    /// `count` samples of kind `source` (test, prior, gmm, learnedPrior) of this model from
    /// `seed`, judged; `prior` is the learned prior's file for learnedPrior.
    #[wasm_bindgen(js_name = judgeSamples)]
    pub fn judge_samples(&self, source: &str, count: usize, seed: JsValue, prior: Option<Vec<u8>>) -> Result<JsValue, JsError> {
        let source = session::SampleSource::parse(source).map_err(js_error)?;
        reply(&self.inner.judge_samples(source, count, seed_from(seed)?, prior.as_deref()).map_err(js_error)?)
    }

    /// The same for the model in `checkpoint` (and its prior file), on this session's data;
    /// this session's model stays.
    #[wasm_bindgen(js_name = judgeCheckpoint)]
    pub fn judge_checkpoint(
        &mut self,
        source: &str,
        checkpoint: &[u8],
        prior: Option<Vec<u8>>,
        count: usize,
        seed: JsValue,
    ) -> Result<JsValue, JsError> {
        let source = session::SampleSource::parse(source).map_err(js_error)?;
        reply(&self.inner.judge_checkpoint(checkpoint, prior.as_deref(), source, count, seed_from(seed)?).map_err(js_error)?)
    }

    /// The decoded manifold over `rect` (`n × n`) with each tile's class and its probability.
    #[wasm_bindgen(js_name = judgeManifold)]
    pub fn judge_manifold(&self, rect: JsValue, n: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.judge_manifold(from_object::<Rect>(&rect, "rectangle")?, n).map_err(js_error)?)
    }

    /// A new k-means run (shallow VQ) with K = `k` over the first `images` training images
    /// (0 = all), seeded from `seed`; its KMeansProgress.
    #[wasm_bindgen(js_name = startKmeans)]
    pub fn start_kmeans(&mut self, k: usize, images: usize, seed: JsValue) -> Result<JsValue, JsError> {
        reply(&self.inner.start_kmeans(k, images, seed_from(seed)?).map_err(js_error)?)
    }

    /// One chunk of k-means: up to 16 k-means++ seeds or one Lloyd iteration; its KMeansProgress.
    #[wasm_bindgen(js_name = kmeansStep)]
    pub fn kmeans_step(&mut self) -> Result<JsValue, JsError> {
        reply(&self.inner.kmeans_step().map_err(js_error)?)
    }

    /// Drops a k-means run that has not finished.
    #[wasm_bindgen(js_name = cancelKmeans)]
    pub fn cancel_kmeans(&mut self) {
        self.inner.cancel_kmeans()
    }

    #[wasm_bindgen(js_name = hasShallow)]
    pub fn has_shallow(&self) -> bool {
        self.inner.has_shallow()
    }

    /// The finished shallow VQ on the test set, its first `shown` test images, and the VQ-VAE beside it.
    #[wasm_bindgen(js_name = shallowReport)]
    pub fn shallow_report(&self, shown: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.shallow_report(shown).map_err(js_error)?)
    }

    /// `count` shallow VQ-VAE samples μ_z + σ ε, and uniform code grids decoded by the VQ-VAE.
    #[wasm_bindgen(js_name = shallowSamples)]
    pub fn shallow_samples(&self, count: usize, sigma: f32, seed: JsValue) -> Result<JsValue, JsError> {
        reply(&self.inner.shallow_samples(count, sigma, seed_from(seed)?).map_err(js_error)?)
    }
}

/// A [`Share`] from the object [`Session::share`] made: the small fields through JSON, the
/// arrays copied once out of their typed arrays (never through JSON: they are megabytes), the
/// gradient into `gradient`'s allocation.
fn share_from(value: &JsValue, gradient: Vec<f32>) -> Result<Share, JsError> {
    share_part_from(value, gradient, 0..usize::MAX)
}

/// [`share_from`] with only the values `part` of the gradient copied (all of them when `part`
/// reaches past the end).
fn share_part_from(value: &JsValue, mut gradient: Vec<f32>, part: std::ops::Range<usize>) -> Result<Share, JsError> {
    let field = |name: &str| Reflect::get(value, &name.into()).map_err(|_| js_error(format!("a share has no {name}")));
    // The typed arrays as they are: `Float32Array::new` on one would first copy it in JS.
    fn typed<T: JsCast>(value: JsValue, name: &str) -> Result<T, JsError> {
        value.dyn_into().map_err(|_| js_error(format!("share.{name} is not the typed array it should be")))
    }
    let shard: Shard = from_object(&field("shard")?, "share.shard")?;
    let metrics: ShareMetrics = from_object(&field("metrics")?, "share.metrics")?;
    let reached: Vec<bool> = from_object(&field("reached")?, "share.reached")?;
    let bounded: bool = from_object(&field("bounded")?, "share.bounded")?;
    let whole: Float32Array = typed(field("gradient")?, "gradient")?;
    let end = part.end.min(whole.length() as usize);
    let array = whole.subarray(part.start.min(end) as u32, end as u32);
    gradient.resize(array.length() as usize, 0.0);
    array.copy_to(&mut gradient);
    let (z, codes) = (field("z")?, field("codes")?);
    let assignments =
        if z.is_null() { None } else { Some((typed::<Float32Array>(z, "z")?.to_vec(), typed::<Uint32Array>(codes, "codes")?.to_vec())) };
    Ok(Share { shard, gradient, parts: None, reached, metrics, assignments, bounded })
}

/// The mixture lesson: no model, small state, answered on the page's own thread.
#[wasm_bindgen]
pub struct MixtureLesson {
    inner: lesson::Lesson,
}

#[wasm_bindgen]
impl MixtureLesson {
    /// Starts at the lecture's mixture: P(z) = (0.5, 0.5), μ = (−10, +10).
    #[wasm_bindgen(constructor)]
    pub fn new() -> MixtureLesson {
        MixtureLesson { inner: lesson::Lesson::new() }
    }

    /// `{weights, means, sigmas}` of the 1-D mixture.
    pub fn params(&self) -> Result<JsValue, JsError> {
        reply(&self.inner.params())
    }

    /// New `{weights, means, sigmas}` (two components); drops the samples and their fit.
    #[wasm_bindgen(js_name = setParams)]
    pub fn set_params(&mut self, params: JsValue) -> Result<(), JsError> {
        self.inner.set_params(&from_object::<Params>(&params, "mixture")?).map_err(js_error)
    }

    /// `{xs, joint, marginal}` at `n` points of the axis.
    pub fn curves(&self, n: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.curves(n).map_err(js_error)?)
    }

    /// Bayes' rule at `x`: `{x, prior, likelihood, joint, marginal, posterior}`.
    pub fn bayes(&self, x: f64) -> Result<JsValue, JsError> {
        reply(&self.inner.bayes(x).map_err(js_error)?)
    }

    /// `count` ancestral samples from `seed` (they replace the last ones; EM restarts on them).
    pub fn sample(&mut self, count: usize, seed: JsValue) -> Result<JsValue, JsError> {
        reply(&self.inner.sample(count, seed_from(seed)?).map_err(js_error)?)
    }

    /// EM on the samples from its starting guess again.
    #[wasm_bindgen(js_name = emReset)]
    pub fn em_reset(&mut self) -> Result<JsValue, JsError> {
        reply(&self.inner.em_reset().map_err(js_error)?)
    }

    /// `steps` EM steps; returns where EM stands.
    #[wasm_bindgen(js_name = emStep)]
    pub fn em_step(&mut self, steps: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.em_step(steps).map_err(js_error)?)
    }

    /// New 2-D points from `seed`, k-means and a GMM started at the same centroids.
    #[wasm_bindgen(js_name = clustersReset)]
    pub fn clusters_reset(&mut self, seed: JsValue) -> Result<JsValue, JsError> {
        reply(&self.inner.clusters_reset(seed_from(seed)?))
    }

    /// `steps` more steps of both k-means and EM on the 2-D points.
    #[wasm_bindgen(js_name = clustersStep)]
    pub fn clusters_step(&mut self, steps: usize) -> Result<JsValue, JsError> {
        reply(&self.inner.clusters_step(steps).map_err(js_error)?)
    }
}

impl Default for MixtureLesson {
    fn default() -> Self {
        Self::new()
    }
}
