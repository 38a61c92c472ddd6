//! Deterministic autoencoder: `z = f(x)`, `x̂ = g(z)`, trained on reconstruction alone.
//!
//! Loss per image: `−log p(x | z = f(x))` (BCE summed over the 784 pixels by default).
//! Nothing pulls the codes towards a prior, so the 2-D map shows clusters with **gaps**
//! between them: points in a gap decode to images that look like no digit.

use candle_core::{Module, Result, Tensor};

use super::blocks::{Decoder, Encoder, Likelihood, Params};
use super::{Loss, ModelConfig};

pub struct Autoencoder {
    pub encoder: Encoder,
    pub decoder: Decoder,
}

impl Autoencoder {
    pub fn new(p: &mut Params, cfg: &ModelConfig) -> Result<Self> {
        Ok(Self {
            encoder: Encoder::new(p, cfg.arch, cfg.hidden, cfg.latent_dim)?,
            decoder: Decoder::new(p, cfg.arch, cfg.latent_dim, cfg.hidden)?,
        })
    }

    pub fn loss(&self, x: &Tensor, likelihood: Likelihood) -> Result<Loss> {
        let z = self.encoder.forward(x)?;
        let recon = likelihood.nll_per_image(&self.decoder.forward(&z)?, x)?.mean(0)?;
        Ok(Loss { total: recon.clone(), recon, kl_per_dim: None, codebook: None, commitment: None, assignments: None, epsilon: None })
    }
}
