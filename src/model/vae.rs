//! Variational autoencoder (β-VAE).
//!
//! The encoder gives the parameters of `q(z|x) = N(μ(x), diag σ²(x))` as `μ` and `log σ²`,
//! each `(B, d)`. **Reparameterization**: `z = μ + σ ⊙ ε` with `ε ~ N(0, I)` drawn outside
//! the graph, so gradients reach `μ` and `log σ²` through the sample.
//!
//! Loss per image, the negative ELBO with the KL weighted by β (one Monte-Carlo sample of z):
//!
//! ```text
//! −ELBO_β = −log p(x|z) + β · KL(q(z|x) ‖ N(0, I))
//! KL      = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1)        (closed form, per dimension j)
//! ```
//!
//! The per-dimension KL is reported too: a dimension whose KL stays near 0 carries no
//! information about x (posterior collapse; the count of the others is the "active units").

use candle_core::{Module, Result, Tensor};
use rand::rngs::StdRng;

use super::blocks::{standard_normal, Decoder, Encoder, Params};
use super::{Loss, ModelConfig};

pub struct Vae {
    pub encoder: Encoder,
    pub decoder: Decoder,
    latent_dim: usize,
}

impl Vae {
    pub fn new(p: &mut Params, cfg: &ModelConfig) -> Result<Self> {
        Ok(Self {
            encoder: Encoder::new(p, cfg.arch, cfg.hidden, 2 * cfg.latent_dim)?,
            decoder: Decoder::new(p, cfg.arch, cfg.latent_dim, cfg.hidden)?,
            latent_dim: cfg.latent_dim,
        })
    }

    /// `(μ, log σ²)`, each `(B, d)`.
    pub fn encode(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let h = self.encoder.forward(x)?;
        Ok((h.narrow(1, 0, self.latent_dim)?, h.narrow(1, self.latent_dim, self.latent_dim)?))
    }

    pub fn loss(&self, x: &Tensor, rng: &mut StdRng, cfg: &ModelConfig) -> Result<Loss> {
        let eps = standard_normal(rng, (x.dim(0)?, self.latent_dim), x.device())?;
        self.loss_with_epsilon(x, eps, cfg)
    }

    /// The loss with a given `ε (B, d)`: data-parallel replicas each take their rows of the
    /// global batch's ε, so the sum of their gradients is the serial step's.
    pub fn loss_with_epsilon(&self, x: &Tensor, eps: Tensor, cfg: &ModelConfig) -> Result<Loss> {
        let (mu, logvar) = self.encode(x)?;
        let z = reparameterize(&mu, &logvar, &eps)?;
        let recon = cfg.likelihood.nll_per_image(&self.decoder.forward(&z)?, x)?.mean(0)?;
        let kl_per_dim = kl_per_dimension(&mu, &logvar)?.mean(0)?;
        let total = (&recon + (kl_per_dim.sum_all()? * cfg.beta)?)?;
        Ok(Loss { total, recon, kl_per_dim: Some(kl_per_dim), codebook: None, commitment: None, assignments: None, epsilon: Some(eps) })
    }
}

/// `z = μ + exp(½ log σ²) ⊙ ε`.
pub fn reparameterize(mu: &Tensor, logvar: &Tensor, eps: &Tensor) -> Result<Tensor> {
    mu + (logvar * 0.5)?.exp()?.mul(eps)?
}

/// `½ (μ² + σ² − log σ² − 1)` element-wise, `(B, d)`: KL of each dimension against N(0, 1).
pub fn kl_per_dimension(mu: &Tensor, logvar: &Tensor) -> Result<Tensor> {
    ((mu.sqr()? + logvar.exp()?)? - logvar)?.affine(0.5, -0.5)
}
