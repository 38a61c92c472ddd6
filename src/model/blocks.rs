//! Shared building blocks: seeded parameters, the encoder and the decoder.
//!
//! Every model is `encoder: R^784 → R^m` and `decoder: R^n → R^784` (logits), where `m` and `n`
//! depend on the family (VAE: m = 2d for μ and log σ²; VQ-VAE: m = n = l·D).
//!
//! - **MLP**: `784 → h → ReLU → m` and `n → h → ReLU → 784`.
//! - **Conv**: `1×28×28 → conv3×3/2 (16) → 14×14 → conv3×3/2 (32) → 7×7 → h → m`, and the mirror
//!   image with 4×4 stride-2 transposed convolutions (7 → 14 → 28).
//!
//! Parameters are drawn from a seeded [`StdRng`] rather than candle's unseedable CPU RNG, so the
//! same seed gives the same network everywhere (native, wasm, tests). The initialisation follows
//! candle-nn's defaults (Kaiming-normal weights, std √(2/fan_in), and uniform ±1/√fan_in biases)
//! so the encoder's output scale matches what the VQ codebook init assumes.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp2, DType, Device, Layout, Module, Result, Shape, Tensor, Var};
use candle_nn::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Linear, VarMap};
use rand::rngs::StdRng;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::fastmath::{self, relu};
use super::linear::{f32_pair, linear};
use crate::data::IMAGE_PIXELS;

/// Creates named parameters in a [`VarMap`] from a seeded RNG; names nest with [`Params::pp`]
/// like candle's `VarBuilder::pp` ("encoder.fc1.weight").
pub struct Params<'a> {
    varmap: &'a VarMap,
    rng: &'a mut StdRng,
    prefix: String,
    device: Device,
}

impl<'a> Params<'a> {
    pub fn new(varmap: &'a VarMap, rng: &'a mut StdRng, device: &Device) -> Self {
        Self { varmap, rng, prefix: String::new(), device: device.clone() }
    }

    /// Runs `f` with names prefixed by `name.`.
    pub fn pp<T>(&mut self, name: &str, f: impl FnOnce(&mut Params) -> Result<T>) -> Result<T> {
        let saved = self.prefix.clone();
        self.prefix = self.path(name);
        let out = f(self);
        self.prefix = saved;
        out
    }

    fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// Registers a parameter with the given values and returns its tensor (which tracks gradients).
    pub fn var_from(&mut self, name: &str, shape: &[usize], values: Vec<f32>) -> Result<Tensor> {
        let var = Var::from_vec(values, shape, &self.device)?;
        let tensor = var.as_tensor().clone();
        self.varmap.data().lock().unwrap().insert(self.path(name), var);
        Ok(tensor)
    }

    pub fn normal(&mut self, name: &str, shape: &[usize], std: f32) -> Result<Tensor> {
        let n = shape.iter().product();
        let values = (0..n)
            .map(|_| {
                let s: f32 = StandardNormal.sample(&mut *self.rng);
                std * s
            })
            .collect::<Vec<f32>>();
        self.var_from(name, shape, values)
    }

    pub fn uniform(&mut self, name: &str, shape: &[usize], bound: f32) -> Result<Tensor> {
        let n = shape.iter().product();
        let values = (0..n).map(|_| self.rng.random_range(-bound..=bound)).collect::<Vec<f32>>();
        self.var_from(name, shape, values)
    }

    pub fn linear(&mut self, name: &str, fan_in: usize, fan_out: usize) -> Result<Linear> {
        self.pp(name, |p| {
            let w = p.normal("weight", &[fan_out, fan_in], (2.0 / fan_in as f32).sqrt())?;
            let b = p.uniform("bias", &[fan_out], 1.0 / (fan_in as f32).sqrt())?;
            Ok(Linear::new(w, Some(b)))
        })
    }

    pub fn conv2d(&mut self, name: &str, c_in: usize, c_out: usize, k: usize, stride: usize) -> Result<Conv2d> {
        self.pp(name, |p| {
            let fan_in = c_in * k * k;
            let w = p.normal("weight", &[c_out, c_in, k, k], (2.0 / fan_in as f32).sqrt())?;
            let b = p.uniform("bias", &[c_out], 1.0 / (fan_in as f32).sqrt())?;
            let cfg = Conv2dConfig { padding: k / 2, stride, ..Default::default() };
            Ok(Conv2d::new(w, Some(b), cfg))
        })
    }

    /// 4×4 stride-2 transposed convolution that doubles the side (padding 1).
    pub fn upsample(&mut self, name: &str, c_in: usize, c_out: usize) -> Result<ConvTranspose2d> {
        self.pp(name, |p| {
            let fan_in = c_in * 4; // each output pixel sees 2×2 taps of every input channel
            let w = p.normal("weight", &[c_in, c_out, 4, 4], (2.0 / fan_in as f32).sqrt())?;
            let b = p.uniform("bias", &[c_out], 1.0 / (fan_in as f32).sqrt())?;
            let cfg = ConvTranspose2dConfig { padding: 1, stride: 2, ..Default::default() };
            Ok(ConvTranspose2d::new(w, Some(b), cfg))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Arch {
    #[default]
    Mlp,
    Conv,
}

const CONV_C1: usize = 16;
const CONV_C2: usize = 32;
const CONV_FLAT: usize = CONV_C2 * 7 * 7;

/// `x (B, 784) in [0, 1] → (B, out)`.
pub enum Encoder {
    Mlp { fc1: Linear, fc2: Linear },
    Conv { c1: Conv2d, c2: Conv2d, fc1: Linear, fc2: Linear },
}

impl Encoder {
    pub fn new(p: &mut Params, arch: Arch, hidden: usize, out: usize) -> Result<Self> {
        p.pp("encoder", |p| match arch {
            Arch::Mlp => Ok(Encoder::Mlp { fc1: p.linear("fc1", IMAGE_PIXELS, hidden)?, fc2: p.linear("fc2", hidden, out)? }),
            Arch::Conv => Ok(Encoder::Conv {
                c1: p.conv2d("conv1", 1, CONV_C1, 3, 2)?,
                c2: p.conv2d("conv2", CONV_C1, CONV_C2, 3, 2)?,
                fc1: p.linear("fc1", CONV_FLAT, hidden)?,
                fc2: p.linear("fc2", hidden, out)?,
            }),
        })
    }
}

impl Module for Encoder {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Encoder::Mlp { fc1, fc2 } => linear(&relu(&linear(x, fc1)?)?, fc2),
            Encoder::Conv { c1, c2, fc1, fc2 } => {
                let b = x.dim(0)?;
                x.reshape((b, 1, 28, 28))?
                    .apply(c1)?
                    .apply(&relu)?
                    .apply(c2)?
                    .apply(&relu)?
                    .flatten_from(1)
                    .and_then(|h| linear(&h, fc1))
                    .and_then(|h| relu(&h))
                    .and_then(|h| linear(&h, fc2))
            }
        }
    }
}

/// `z (B, n) → logits (B, 784)`.
pub enum Decoder {
    Mlp { fc1: Linear, fc2: Linear },
    Conv { fc1: Linear, fc2: Linear, up1: ConvTranspose2d, up2: ConvTranspose2d },
}

impl Decoder {
    pub fn new(p: &mut Params, arch: Arch, input: usize, hidden: usize) -> Result<Self> {
        p.pp("decoder", |p| match arch {
            Arch::Mlp => Ok(Decoder::Mlp { fc1: p.linear("fc1", input, hidden)?, fc2: p.linear("fc2", hidden, IMAGE_PIXELS)? }),
            Arch::Conv => Ok(Decoder::Conv {
                fc1: p.linear("fc1", input, hidden)?,
                fc2: p.linear("fc2", hidden, CONV_FLAT)?,
                up1: p.upsample("up1", CONV_C2, CONV_C1)?,
                up2: p.upsample("up2", CONV_C1, 1)?,
            }),
        })
    }
}

impl Module for Decoder {
    fn forward(&self, z: &Tensor) -> Result<Tensor> {
        match self {
            Decoder::Mlp { fc1, fc2 } => linear(&relu(&linear(z, fc1)?)?, fc2),
            Decoder::Conv { fc1, fc2, up1, up2 } => {
                let b = z.dim(0)?;
                relu(&linear(&relu(&linear(z, fc1)?)?, fc2)?)?
                    .reshape((b, CONV_C2, 7, 7))?
                    .apply(up1)?
                    .apply(&relu)?
                    .apply(up2)?
                    .reshape((b, IMAGE_PIXELS))
            }
        }
    }
}

/// How the decoder's output is scored against the image, per image in nats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Likelihood {
    /// `p(x|z) = Π Bernoulli(x_i; sigmoid(logit_i))` with grey values as soft targets:
    /// the binary cross-entropy summed over the 784 pixels.
    #[default]
    Bernoulli,
    /// `p(x|z) = N(x; sigmoid(logit), ½ I)`: the squared error summed over the pixels
    /// (the constant ½·784·log π is dropped).
    Gaussian,
}

impl Likelihood {
    /// Negative log-likelihood per image, `(B, 784) → (B,)`.
    ///
    /// The Bernoulli form `relu(l) − l·x + log(1 + e^{−|l|})` is the stable rewrite of
    /// `−x log σ(l) − (1−x) log(1−σ(l))`: candle's built-in BCE averages and overflows to NaN
    /// for large logits.
    pub fn nll_per_image(self, logits: &Tensor, x: &Tensor) -> Result<Tensor> {
        match self {
            Likelihood::Bernoulli => logits.contiguous()?.apply_op2(&x.contiguous()?, BernoulliNll::default())?.sum(1),
            Likelihood::Gaussian => (fastmath::sigmoid(logits)? - x)?.sqr()?.sum(1),
        }
    }
}

/// The Bernoulli NLL per pixel as one op. As a chain of candle ops it was ten graph nodes over
/// the `(B, 784)` batch, each with its own output, zero-filled gradient and backward passes.
/// The forward is candle's sequence of ops with [`fastmath`]'s vectorized e^y and ln, and keeps
/// `σ(l) − x` from the same `e^{−|l|}` for the backward: `∂/∂l = σ(l) − x`, `∂/∂x = −l`.
#[derive(Default)]
struct BernoulliNll {
    sigmoid_minus_x: Mutex<Option<Tensor>>,
}

impl CustomOp2 for BernoulliNll {
    fn name(&self) -> &'static str {
        "bernoulli-nll"
    }

    fn cpu_fwd(&self, l: &CpuStorage, ll: &Layout, x: &CpuStorage, xl: &Layout) -> Result<(CpuStorage, Shape)> {
        let (l, x) = f32_pair((l, ll), (x, xl), self.name())?;
        let (mut nll, mut slope) = (vec![0.0; l.len()], vec![0.0; l.len()]);
        fastmath::bernoulli_nll(l, x, &mut nll, &mut slope);
        *self.sigmoid_minus_x.lock().unwrap() = Some(Tensor::from_vec(slope, ll.shape(), &Device::Cpu)?);
        Ok((CpuStorage::F32(nll), ll.shape().clone()))
    }

    fn bwd(&self, l: &Tensor, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let Some(slope) = self.sigmoid_minus_x.lock().unwrap().clone() else {
            candle_core::bail!("bernoulli-nll: backward before forward")
        };
        let dx = if x.track_op() { Some((l.neg()? * grad)?) } else { None };
        Ok((Some((grad * slope)?), dx))
    }
}

/// Standard-normal noise of the given shape from the seeded RNG (ε of the reparameterization).
pub fn standard_normal(rng: &mut StdRng, shape: (usize, usize), device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..shape.0 * shape.1).map(|_| StandardNormal.sample(&mut *rng)).collect();
    Tensor::from_vec(values, shape, device)
}

/// All values finite? Used to refuse a step that blew up instead of keeping NaN weights.
pub fn all_finite(t: &Tensor) -> Result<bool> {
    let v = t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    Ok(v.iter().all(|x| x.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fused op against the chain of candle ops it replaces: the same values, and
    /// gradients for logits and images within rounding (including |l| large and l = 0).
    #[test]
    fn bernoulli_nll_matches_candle_ops() -> Result<()> {
        let dev = Device::Cpu;
        let (b, n) = (3, 784);
        let mut l: Vec<f32> = (0..b * n).map(|i| ((i as f32) * 0.37).sin() * 12.0).collect();
        l[..4].copy_from_slice(&[0.0, 1000.0, -1000.0, -0.0]);
        let x: Vec<f32> = (0..b * n).map(|i| [0.0, 1.0, ((i as f32) * 0.11).cos().abs()][i % 3]).collect();
        let l = Var::from_vec(l, (b, n), &dev)?;
        let x = Var::from_vec(x, (b, n), &dev)?;
        let (lt, xt) = (l.as_tensor(), x.as_tensor());
        let ours = Likelihood::Bernoulli.nll_per_image(lt, xt)?;
        let theirs = (lt.relu()? - (lt * xt)?)?.add(&(lt.abs()?.neg()?.exp()? + 1.0)?.log()?)?.sum(1)?;
        // e^y and ln are ours (fastmath), a few ulp from libm's, so the per-image sums agree
        // to about 10⁻⁶ of their size rather than in every bit.
        for (a, b) in ours.to_vec1::<f32>()?.into_iter().zip(theirs.to_vec1::<f32>()?) {
            assert!((a - b).abs() <= 2e-6 * b.abs(), "nll {a} against candle's {b}");
        }
        // Weighted so that each pixel's gradient differs.
        let weights = Tensor::arange(0f32, b as f32, &dev)?.affine(0.5, 1.0)?;
        let (g_ours, g_theirs) = ((ours * &weights)?.sum_all()?.backward()?, (theirs * &weights)?.sum_all()?.backward()?);
        for var in [lt, xt] {
            let diff = (g_ours.get(var).unwrap() - g_theirs.get(var).unwrap())?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-6, "gradient differs by {diff}");
        }
        Ok(())
    }
}
