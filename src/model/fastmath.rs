//! e^y, ln m, the logistic sigmoid and ReLU over whole slices, without branches or library calls,
//! so that the compiler vectorizes the loops (simd128 in wasm, SSE/AVX natively).
//!
//! In wasm, libm's scalar `expf`, `logf` and `fmaxf` (Rust's `f32::max` keeps NaN rules that
//! wasm's `f32.max` does not, so it stays a call) took about a tenth of a training step in the
//! Bernoulli likelihood, and the sigmoid of the decoded logits a sixth of a manifold decode.
//!
//! - `e^y` for `y ≤ 0`: `y = n·ln 2 + r` with `|r| ≤ ln 2 / 2` (ln 2 in two parts, so `r` is
//!   exact), `e^r` by its degree-7 Taylor polynomial (error below 2⁻²⁷ on that interval), times
//!   `2ⁿ` built from its exponent bits. `y` is clamped at −87, where `e^y` ≈ 1.6·10⁻³⁸ is still a
//!   normal float; below it the result stays 1.6·10⁻³⁸ rather than going to 0.
//! - `ln m` for `m` in `[1, 2]` (here always `1 + e^{−|l|}`): halved above √2 so that
//!   `f` is in `[1/√2, √2]`, then `ln f = 2 atanh s` with `s = (f − 1)/(f + 1)`, `|s| ≤ 0.172`,
//!   by its odd series to `s⁹` (error below 10⁻⁹).
//!
//! Both stay within a few units in the last place of the correctly rounded value (the tests
//! check them against f64 over their whole range).

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};

use super::linear::{f32_contiguous, f32_pair};

/// 1.5 · 2²³: adding and subtracting it rounds a float of magnitude below 2²² to the nearest
/// integer (ties to even) with two additions, which vectorize where `round` would not.
const ROUND_MAGIC: f32 = 12_582_912.0;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `e^y` for `y ≤ 0` (larger `y` is not needed here and is not handled).
#[inline(always)]
pub fn exp_nonpositive(y: f32) -> f32 {
    let y = if y > -87.0 { y } else { -87.0 };
    let n = (y * std::f32::consts::LOG2_E + ROUND_MAGIC) - ROUND_MAGIC;
    let r = (y - n * LN2_HI) - n * LN2_LO;
    let p =
        1.0 + r * (1.0 + r * (1.0 / 2.0 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// `ln m` for `m` in `[1, 2]`.
#[inline(always)]
pub fn ln_one_to_two(m: f32) -> f32 {
    let above = m > std::f32::consts::SQRT_2;
    let f = if above { m * 0.5 } else { m };
    let k = if above { 1.0 } else { 0.0 };
    // t = 2s with one rounding (f − 1 is exact), and the rest of the series is a small
    // correction to it, so the sum keeps about that one rounding.
    let t = 2.0 * (f - 1.0) / (f + 1.0);
    let s2 = 0.25 * t * t;
    let series = t + t * (s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0)))));
    (k * LN2_LO + series) + k * LN2_HI
}

/// `σ(l) = 1 / (1 + e^{−l})` given `e = e^{−|l|}`: on either side of 0 nothing overflows.
#[inline(always)]
fn sigmoid_given(l: f32, e: f32) -> f32 {
    let numerator = if l >= 0.0 { 1.0 } else { e };
    numerator / (1.0 + e)
}

/// The Bernoulli negative log-likelihood of images `x` under logits `l`, per pixel,
/// `max(l, 0) − l·x + ln(1 + e^{−|l|})`, and its slope in `l`, `σ(l) − x`.
pub fn bernoulli_nll(l: &[f32], x: &[f32], nll: &mut [f32], slope: &mut [f32]) {
    for (((&l, &x), nll), slope) in l.iter().zip(x).zip(nll.iter_mut()).zip(slope.iter_mut()) {
        let e = exp_nonpositive(-l.abs());
        let positive = if l > 0.0 { l } else { 0.0 };
        *nll = (positive - l * x) + ln_one_to_two(1.0 + e);
        *slope = sigmoid_given(l, e) - x;
    }
}

/// A one-input elementwise op's forward: `f` of every value, in a new storage of the same shape.
fn map_f32(storage: &CpuStorage, layout: &Layout, op: &str, f: impl Fn(f32) -> f32) -> Result<(CpuStorage, Shape)> {
    let out = f32_contiguous(storage, layout, op)?.iter().map(|&v| f(v)).collect();
    Ok((CpuStorage::F32(out), layout.shape().clone()))
}

/// The logistic sigmoid of a tensor, element by element, with its gradient `σ(1 − σ)`.
pub fn sigmoid(logits: &Tensor) -> Result<Tensor> {
    logits.apply_op1(Sigmoid)
}

struct Sigmoid;

impl CustomOp1 for Sigmoid {
    fn name(&self) -> &'static str {
        "fast-sigmoid"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        map_f32(storage, layout, self.name(), |l| sigmoid_given(l, exp_nonpositive(-l.abs())))
    }

    fn bwd(&self, _logits: &Tensor, sigma: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some((grad * (sigma * (1.0 - sigma)?)?)?))
    }
}

/// `max(x, 0)` element by element, with candle's gradient (passed where `x ≥ 0`), the same
/// bits as `Tensor::relu`. Written as selects: `f32::max` is a call to `fmaxf` in wasm, and
/// candle's backward is five passes (zeros, compare, convert, multiply, add) where one will do.
pub fn relu(x: &Tensor) -> Result<Tensor> {
    x.apply_op1(Relu)
}

struct Relu;

impl CustomOp1 for Relu {
    fn name(&self) -> &'static str {
        "fast-relu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        map_f32(storage, layout, self.name(), |v| if v > 0.0 { v } else { 0.0 })
    }

    fn bwd(&self, x: &Tensor, _out: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.contiguous()?.apply_op2_no_bwd(&grad.contiguous()?, &ReluGradient)?))
    }
}

/// The gradient where `x ≥ 0`, else 0.
struct ReluGradient;

impl CustomOp2 for ReluGradient {
    fn name(&self) -> &'static str {
        "fast-relu-gradient"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout, gs: &CpuStorage, gl: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, g) = f32_pair((xs, xl), (gs, gl), self.name())?;
        let out = x.iter().zip(g).map(|(&x, &g)| if x >= 0.0 { g } else { 0.0 }).collect();
        Ok((CpuStorage::F32(out), xl.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Error in units of the last place of the f32 nearest the exact value.
    fn ulps(ours: f32, exact: f64) -> f64 {
        let nearest = exact as f32;
        let ulp = (f32::from_bits(nearest.to_bits() + 1) - nearest) as f64;
        (ours as f64 - exact).abs() / ulp
    }

    #[test]
    fn exp_is_within_two_ulp_over_its_range() {
        let mut worst: f64 = 0.0;
        for i in 0..=2_000_000 {
            let y = -87.0 * (i as f32 / 2_000_000.0);
            worst = worst.max(ulps(exp_nonpositive(y), (y as f64).exp()));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-1000.0), exp_nonpositive(-87.0), "clamped, not wrapped");
        assert!(exp_nonpositive(f32::NEG_INFINITY) > 0.0);
    }

    #[test]
    fn ln_is_within_two_ulp_between_one_and_two() {
        let mut worst: f64 = 0.0;
        for i in 1..=2_000_000 {
            let m = 1.0 + i as f32 / 2_000_000.0;
            worst = worst.max(ulps(ln_one_to_two(m), (m as f64).ln()));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(ln_one_to_two(1.0), 0.0);
    }

    /// Against f64, on both sides of 0 and far out, where 1 − σ must not cancel to garbage.
    #[test]
    fn sigmoid_and_its_gradient_match_the_closed_form() -> Result<()> {
        let values: Vec<f32> = (0..4001).map(|i| (i as f32 - 2000.0) * 0.02).chain([0.0, -0.0, 90.0, -90.0, 1e4, -1e4]).collect();
        // Below l = −87 σ stays at e^{−87} ≈ 1.6·10⁻³⁸ (the clamp), hence the absolute term.
        let exact = |l: f32| 1.0 / (1.0 + (-(l as f64)).exp());
        let logits = Var::from_vec(values.clone(), values.len(), &Device::Cpu)?;
        let sigma = sigmoid(logits.as_tensor())?;
        for (&l, s) in values.iter().zip(sigma.to_vec1::<f32>()?) {
            assert!((s as f64 - exact(l)).abs() <= 4e-7 * exact(l) + 1.7e-38, "σ({l}) = {s}, exact {}", exact(l));
        }
        let grads = sigma.sum_all()?.backward()?;
        for (&l, g) in values.iter().zip(grads.get(logits.as_tensor()).unwrap().to_vec1::<f32>()?) {
            let exact = exact(l) * (1.0 - exact(l));
            // 1 − σ near σ = 1 cancels: up to an ulp of σ (6·10⁻⁸) absolute.
            assert!((g as f64 - exact).abs() <= 1e-6 * exact + 1.2e-7, "σ'({l}) = {g}, exact {exact}");
        }
        Ok(())
    }

    /// The same bits as candle's relu, forward and backward, at 0, ±0 and on either side.
    #[test]
    fn relu_is_candles_relu() -> Result<()> {
        let values: Vec<f32> = (0..997).map(|i| ((i as f32) * 0.37).sin() * 3.0).chain([0.0, -0.0, 1e-30, -1e-30]).collect();
        let x = Var::from_vec(values.clone(), (values.len() / 7, 7), &Device::Cpu)?;
        let weights = Tensor::arange(0f32, values.len() as f32, &Device::Cpu)?.reshape((values.len() / 7, 7))?;
        let (ours, theirs) = (relu(x.as_tensor())?, x.as_tensor().relu()?);
        assert_eq!(ours.flatten_all()?.to_vec1::<f32>()?, theirs.flatten_all()?.to_vec1::<f32>()?);
        let (g_ours, g_theirs) = ((ours * &weights)?.sum_all()?.backward()?, (theirs * &weights)?.sum_all()?.backward()?);
        let grad = |g: &candle_core::backprop::GradStore| g.get(x.as_tensor()).unwrap().flatten_all()?.to_vec1::<f32>();
        assert_eq!(grad(&g_ours)?, grad(&g_theirs)?);
        Ok(())
    }
}
