//! The three model families behind one [`Model`] type.
//!
//! | family | encoder output | decoder input | loss per image (nats) |
//! | --- | --- | --- | --- |
//! | [`autoencoder`] | `z` (d) | `z` | `−log p(x|z)` |
//! | [`vae`] | `μ, log σ²` (2d) | `z = μ + σ ⊙ ε` | `−log p(x|z) + β·KL(q(z|x) ‖ N(0, I))` |
//! | [`vqvae`] | `z_e` (l·D) | `z_q` (nearest codes) | `−log p(x|z_q) + w(‖sg[z_e] − e‖² + β_c‖z_e − sg[e]‖²)` |
//!
//! Images are `(B, 784)` tensors in `[0, 1]`; decoded images come back in the same form.

pub mod autoencoder;
pub mod blocks;
pub mod fastmath;
pub mod linear;
pub mod vae;
pub mod vqvae;

use candle_core::{Device, Module, Result, Tensor, Var};
use candle_nn::VarMap;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

pub use blocks::{Arch, Likelihood};
pub use vqvae::{CodebookInit, CodebookUpdate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum ModelKind {
    Ae,
    #[default]
    Vae,
    Vqvae,
}

/// Everything that fixes a model's shape and loss. Deserialised from the page's settings
/// (camelCase JSON, missing fields take the defaults) and stored in checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelConfig {
    pub kind: ModelKind,
    pub arch: Arch,
    /// Width of the hidden layer of encoder and decoder.
    pub hidden: usize,
    /// d: latent dimension of the AE and the VAE (2 to 32).
    pub latent_dim: usize,
    /// β: weight of the KL term (1 is the plain VAE).
    pub beta: f64,
    pub likelihood: Likelihood,
    /// K: number of codebook vectors.
    pub codebook_size: usize,
    /// D: dimension of each codebook vector.
    pub code_dim: usize,
    /// l: vectors per image, each quantized separately.
    pub codes_per_image: usize,
    /// β_c: weight of the commitment loss.
    pub commitment: f64,
    pub codebook_update: CodebookUpdate,
    /// γ of the EMA codebook update.
    pub ema_decay: f64,
    pub codebook_init: CodebookInit,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            kind: ModelKind::Vae,
            arch: Arch::Mlp,
            hidden: 512,
            latent_dim: 2,
            beta: 1.0,
            likelihood: Likelihood::Bernoulli,
            codebook_size: 16,
            code_dim: 2,
            codes_per_image: 1,
            commitment: 0.25,
            codebook_update: CodebookUpdate::Ema,
            ema_decay: 0.99,
            codebook_init: CodebookInit::Normal,
        }
    }
}

impl ModelConfig {
    /// Checks ranges and cross-field rules against the settings table ([`crate::settings`]);
    /// the message names the setting and the allowed range.
    pub fn validate(&self) -> std::result::Result<(), String> {
        crate::settings::check_model(self)
    }

    /// Size of the decoder's input: d for AE/VAE, l·D for the VQ-VAE.
    pub fn decoder_input(&self) -> usize {
        match self.kind {
            ModelKind::Ae | ModelKind::Vae => self.latent_dim,
            ModelKind::Vqvae => self.codes_per_image * self.code_dim,
        }
    }
}

/// What the encoder says about a batch.
pub struct Encoding {
    /// `(B, n)`: z for the AE, μ for the VAE, z_e for the VQ-VAE (l vectors of D, flattened).
    pub mean: Tensor,
    /// `(B, d)`: log σ² (VAE only).
    pub logvar: Option<Tensor>,
    /// `(B, l)` u32: index of the nearest code of each of the l vectors (VQ-VAE only).
    pub codes: Option<Tensor>,
}

/// The loss of one batch: `total` is differentiable, the rest are batch means per image.
pub struct Loss {
    pub total: Tensor,
    pub recon: Tensor,
    /// `(d,)`: KL per latent dimension (VAE only).
    pub kl_per_dim: Option<Tensor>,
    pub codebook: Option<Tensor>,
    pub commitment: Option<Tensor>,
    /// Detached encoder outputs `(B·l, D)` and their code indices, for the EMA update.
    pub assignments: Option<(Tensor, Vec<u32>)>,
    /// `(B, d)`: the ε drawn for `z = μ + σ ⊙ ε` (VAE only), kept so a step can be shown.
    pub epsilon: Option<Tensor>,
}

pub(crate) enum Family {
    Ae(autoencoder::Autoencoder),
    Vae(vae::Vae),
    VqVae(vqvae::VqVae),
}

/// A model of any family with its parameters. The [`VarMap`] holds every tensor that a
/// checkpoint stores, including the EMA statistics of a VQ-VAE.
pub struct Model {
    config: ModelConfig,
    varmap: VarMap,
    device: Device,
    pub(crate) family: Family,
}

impl Model {
    /// A freshly initialised model; the same `(config, seed)` gives the same weights.
    pub fn new(config: &ModelConfig, seed: u64, device: &Device) -> std::result::Result<Self, ModelError> {
        config.validate().map_err(ModelError::Config)?;
        let varmap = VarMap::new();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut params = blocks::Params::new(&varmap, &mut rng, device);
        let family = match config.kind {
            ModelKind::Ae => Family::Ae(autoencoder::Autoencoder::new(&mut params, config)?),
            ModelKind::Vae => Family::Vae(vae::Vae::new(&mut params, config)?),
            ModelKind::Vqvae => Family::VqVae(vqvae::VqVae::new(&mut params, config)?),
        };
        Ok(Self { config: config.clone(), varmap, device: device.clone(), family })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// Parameters the optimizer updates: everything except an EMA-updated codebook and the EMA
    /// statistics, which [`Model::after_step`] sets directly.
    pub fn trainable_vars(&self) -> Vec<Var> {
        let frozen = match &self.family {
            Family::VqVae(vq) => vq.frozen_names(),
            _ => Vec::new(),
        };
        let data = self.varmap.data().lock().unwrap();
        let mut named: Vec<_> = data.iter().filter(|(name, _)| !frozen.contains(&name.as_str())).collect();
        named.sort_by(|a, b| a.0.cmp(b.0)); // a fixed order keeps runs reproducible
        named.into_iter().map(|(_, v)| v.clone()).collect()
    }

    /// The loss of a batch `x (B, 784)`; `rng` draws ε for the VAE.
    pub fn loss(&self, x: &Tensor, rng: &mut StdRng) -> Result<Loss> {
        match &self.family {
            Family::Ae(ae) => ae.loss(x, self.config.likelihood),
            Family::Vae(vae) => vae.loss(x, rng, &self.config),
            Family::VqVae(vq) => vq.loss(x, &self.config),
        }
    }

    /// The loss of a batch whose VAE noise `ε (B, d)` is given (ignored by the other families).
    pub fn loss_with_epsilon(&self, x: &Tensor, eps: Tensor) -> Result<Loss> {
        match &self.family {
            Family::Ae(ae) => ae.loss(x, self.config.likelihood),
            Family::Vae(vae) => vae.loss_with_epsilon(x, eps, &self.config),
            Family::VqVae(vq) => vq.loss(x, &self.config),
        }
    }

    /// Non-gradient updates after an optimizer step (the EMA codebook and dead-code restarts).
    pub fn after_step(&mut self, loss: &Loss, rng: &mut StdRng) -> Result<()> {
        match &loss.assignments {
            Some((z_e, codes)) => self.after_assignments(z_e, codes, rng),
            None => Ok(()),
        }
    }

    /// [`Model::after_step`] from the detached encoder outputs `z_e (B·l, D)` of a batch and
    /// their code indices.
    pub fn after_assignments(&mut self, z_e: &Tensor, codes: &[u32], rng: &mut StdRng) -> Result<()> {
        if let Family::VqVae(vq) = &mut self.family {
            vq.after_step(z_e, codes, &self.config, rng)?;
        }
        Ok(())
    }

    pub fn encode(&self, x: &Tensor) -> Result<Encoding> {
        match &self.family {
            Family::Ae(ae) => Ok(Encoding { mean: ae.encoder.forward(x)?, logvar: None, codes: None }),
            Family::Vae(vae) => {
                let (mu, logvar) = vae.encode(x)?;
                Ok(Encoding { mean: mu, logvar: Some(logvar), codes: None })
            }
            Family::VqVae(vq) => {
                let z_e = vq.encoder.forward(x)?;
                let codes = vq.nearest_codes(&z_e, &self.config)?;
                let b = x.dim(0)?;
                Ok(Encoding {
                    mean: z_e,
                    logvar: None,
                    codes: Some(Tensor::from_vec(codes, (b, self.config.codes_per_image), &self.device)?),
                })
            }
        }
    }

    /// Decoded images `(B, 784)` in `[0, 1]` (Bernoulli means, or Gaussian means) for `z (B, n)`.
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        let logits = match &self.family {
            Family::Ae(ae) => ae.decoder.forward(z)?,
            Family::Vae(vae) => vae.decoder.forward(z)?,
            Family::VqVae(vq) => vq.decoder.forward(z)?,
        };
        fastmath::sigmoid(&logits)
    }

    /// The model's reconstruction `(B, 784)` of images `x (B, 784)`: the decoded code for the
    /// AE, the decoded mean μ for the VAE, the decoded nearest codes for the VQ-VAE.
    pub fn reconstruct(&self, x: &Tensor) -> Result<Tensor> {
        let encoding = self.encode(x)?;
        match &encoding.codes {
            Some(codes) => self.decode_codes(&codes.flatten_all()?.to_vec1()?),
            None => self.decode(&encoding.mean),
        }
    }

    /// Images `(B, 784)` from code indices, `l` per image, row-major (VQ-VAE only): the decoder
    /// applied to the looked-up codebook vectors.
    pub fn decode_codes(&self, codes: &[u32]) -> Result<Tensor> {
        let Family::VqVae(vq) = &self.family else { candle_core::bail!("only a VQ-VAE decodes code indices") };
        let per_image = self.config.codes_per_image;
        let k = self.config.codebook_size;
        if codes.is_empty() || !codes.len().is_multiple_of(per_image) {
            candle_core::bail!("expected a multiple of l = {per_image} code indices, got {}", codes.len());
        }
        if let Some(bad) = codes.iter().find(|&&c| c as usize >= k) {
            candle_core::bail!("code index {bad} is out of range: the codebook has {k} codes (0 to {})", k - 1);
        }
        let index = Tensor::from_slice(codes, codes.len(), &self.device)?;
        let z_q = vq.codebook.as_tensor().index_select(&index, 0)?;
        self.decode(&z_q.reshape((codes.len() / per_image, self.config.decoder_input()))?)
    }

    /// The codebook `(K, D)` of a VQ-VAE.
    pub fn codebook(&self) -> Option<Tensor> {
        match &self.family {
            Family::VqVae(vq) => Some(vq.codebook.as_tensor().detach()),
            _ => None,
        }
    }

    /// Code indices `(N,)` of the nearest code for each row of `z (N, D)` (VQ-VAE only).
    pub fn quantize(&self, z: &Tensor) -> Result<Option<Vec<u32>>> {
        match &self.family {
            Family::VqVae(vq) => Ok(Some(vqvae::nearest_code_indices(z, vq.codebook.as_tensor())?)),
            _ => Ok(None),
        }
    }

    /// Sets parameters by name from `weights` (as returned by [`Model::weights`]): used to
    /// restore the last good weights after a step that produced NaN.
    pub fn copy_weights_from(&mut self, weights: &[(String, Tensor)]) -> Result<()> {
        let data = self.varmap.data().lock().unwrap();
        for (name, value) in weights {
            match data.get(name) {
                Some(var) => var.set(value)?,
                None => candle_core::bail!("no parameter named {name}"),
            }
        }
        Ok(())
    }

    /// A copy of every parameter, sorted by name.
    pub fn weights(&self) -> Result<Vec<(String, Tensor)>> {
        self.sorted_vars().into_iter().map(|(name, var)| Ok((name, var.as_tensor().copy()?))).collect()
    }

    /// Every tensor of [`Model::weights`], in its order, flattened into one list: what a copy
    /// of this model with the same config takes through [`Model::set_flat_weights`].
    pub fn flat_weights(&self) -> Result<Vec<f32>> {
        let vars = self.sorted_vars();
        let mut out = Vec::with_capacity(vars.iter().map(|(_, v)| v.elem_count()).sum());
        for (_, var) in vars {
            out.extend(var.as_tensor().flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// Overwrites every tensor in place from `values` laid out as [`Model::flat_weights`]
    /// lays them out; a list of any other length changes nothing and is an error.
    pub fn set_flat_weights(&self, values: &[f32]) -> Result<()> {
        let vars = self.sorted_vars();
        let expected: usize = vars.iter().map(|(_, v)| v.elem_count()).sum();
        if values.len() != expected {
            candle_core::bail!("weights: {} values for a model of {expected}", values.len());
        }
        let mut offset = 0;
        for (_, var) in vars {
            let n = var.elem_count();
            var.set(&Tensor::from_slice(&values[offset..offset + n], var.shape(), &self.device)?)?;
            offset += n;
        }
        Ok(())
    }

    /// Every parameter with its name, sorted by name: the one order of checkpoints and flat lists.
    fn sorted_vars(&self) -> Vec<(String, Var)> {
        let data = self.varmap.data().lock().unwrap();
        let mut vars: Vec<_> = data.iter().map(|(name, var)| (name.clone(), var.clone())).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }
}

#[derive(Debug)]
pub enum ModelError {
    Config(String),
    Candle(candle_core::Error),
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelError::Config(msg) => write!(f, "invalid model settings: {msg}"),
            ModelError::Candle(e) => write!(f, "model error: {e}"),
        }
    }
}

impl std::error::Error for ModelError {}

impl From<candle_core::Error> for ModelError {
    fn from(e: candle_core::Error) -> Self {
        ModelError::Candle(e)
    }
}
