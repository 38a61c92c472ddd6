//! Helpers shared by the VQ-VAE tests (`vqvae.rs`, `vq_updates.rs`).

use candle_core::{Device, Tensor};
use latent_lab::model::{CodebookUpdate, ModelConfig, ModelKind};
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

pub fn cpu() -> Device {
    Device::Cpu
}

pub fn vec1(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

pub fn normal_vec(rng: &mut StdRng, n: usize, std: f32) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let s: f32 = StandardNormal.sample(&mut *rng);
            std * s
        })
        .collect()
}

pub fn vq_config(update: CodebookUpdate) -> ModelConfig {
    ModelConfig {
        kind: ModelKind::Vqvae,
        hidden: 32,
        codebook_size: 8,
        code_dim: 2,
        codes_per_image: 2,
        codebook_update: update,
        ..Default::default()
    }
}
