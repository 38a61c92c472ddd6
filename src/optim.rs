//! AdamW as one fused pass over each parameter, in place.
//!
//! The update is candle's [`candle_nn::AdamW`], term for term and in the same f32 operation
//! order, so both give the same bits (`tests/optim.rs` checks it). For step `t`, gradient `g`,
//! learning rate `η`, decay `λ`:
//!
//! ```text
//! m ← β₁·m + (1 − β₁)·g            v ← β₂·v + (1 − β₂)·g²
//! m̂ = m / (1 − β₁ᵗ)                v̂ = v / (1 − β₂ᵗ)
//! θ ← θ·(1 − ηλ) − η · m̂ / (√v̂ + ε)
//! ```
//!
//! Candle builds this from about a dozen tensor ops per parameter, each allocating and writing
//! a full-size tensor; for the 0.8 M parameters of the hidden-512 VAE that was most of a
//! millisecond-scale step that data-parallel replicas all pay. Here each element is read and
//! written once: θ through an in-place op on the variable's own storage, m and v in flat
//! vectors. [`FusedAdamW::step_flat`] takes the gradient as one flat slice, as the
//! data-parallel shares carry it, with no tensor made for it.

use std::cell::RefCell;
use std::ops::Range;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp1, Layout, Result, Var};
use candle_nn::{Optimizer, ParamsAdamW};

use crate::model::linear::{self, with_f32_values};

/// AdamW over the given variables; f32 CPU variables only.
pub struct FusedAdamW {
    vars: Vec<Var>,
    /// First and second moments, one pair of vectors per variable.
    moments: Vec<(Vec<f32>, Vec<f32>)>,
    step_t: usize,
    params: ParamsAdamW,
}

/// One step's constants, cast to f32 exactly where candle's affine ops cast them.
#[derive(Clone, Copy)]
struct Constants {
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    scale_m: f32,
    scale_v: f32,
    decay: f32,
    eps: f32,
    lr: f32,
}

impl FusedAdamW {
    fn constants(&self) -> Constants {
        let p = &self.params;
        let t = self.step_t as i32;
        Constants {
            beta1: p.beta1 as f32,
            one_minus_beta1: (1.0 - p.beta1) as f32,
            beta2: p.beta2 as f32,
            one_minus_beta2: (1.0 - p.beta2) as f32,
            scale_m: (1.0 / (1.0 - p.beta1.powi(t))) as f32,
            scale_v: (1.0 / (1.0 - p.beta2.powi(t))) as f32,
            decay: (1.0 - p.lr * p.weight_decay) as f32,
            eps: p.eps as f32,
            lr: p.lr as f32,
        }
    }

    /// Number of f32 values over all variables: the length [`FusedAdamW::step_flat`] expects.
    pub fn len(&self) -> usize {
        self.vars.iter().map(|v| v.elem_count()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One step from a gradient laid out as the variables concatenated in order; variable `i`
    /// is left alone (moments too) unless `reached[i]`, as candle leaves a parameter that has
    /// no gradient.
    pub fn step_flat(&mut self, gradient: &[f32], reached: &[bool]) -> Result<()> {
        if gradient.len() != self.len() || reached.len() != self.vars.len() {
            candle_core::bail!(
                "AdamW over {} values in {} variables got {} gradient values and {} flags",
                self.len(),
                self.vars.len(),
                gradient.len(),
                reached.len()
            );
        }
        let offsets = self.offsets();
        self.step_summed(reached, 0..gradient.len(), |i, within, apply| {
            apply(&[&gradient[offsets[i] + within.start..offsets[i] + within.end]])
        })
    }

    /// Where each variable's values start in the concatenation of all of them.
    pub fn offsets(&self) -> Vec<usize> {
        self.vars.iter().scan(0, |at, v| Some(std::mem::replace(at, *at + v.elem_count()))).collect()
    }

    /// One step for the values `run` of the variables concatenated (all of them, or the part a
    /// replica updates when replicas split the step), whose gradient is a sum of parts added in
    /// the pass that updates the parameters: for each variable `i` that `run` overlaps, in
    /// order, `parts_of(i, within, apply)` calls `apply` with the parts of its values `within`
    /// (a range of the variable's own), in the order they are to be added (`((p₀ + p₁) + p₂) +
    /// …`, as [`crate::parallel::reduce`] adds the shares). The sum is never written out whole;
    /// the caller answers for it being finite. Variable `i` is left alone unless `reached[i]`.
    pub fn step_summed(
        &mut self,
        reached: &[bool],
        run: Range<usize>,
        mut parts_of: impl FnMut(usize, Range<usize>, &mut dyn FnMut(&[&[f32]]) -> Result<()>) -> Result<()>,
    ) -> Result<()> {
        if reached.len() != self.vars.len() || run.end > self.len() {
            candle_core::bail!(
                "AdamW over {} values in {} variables got {} flags and values {run:?}",
                self.len(),
                self.vars.len(),
                reached.len()
            );
        }
        self.step_t += 1;
        let c = self.constants();
        let mut start = 0;
        for (i, ((var, (m, v)), &reached)) in self.vars.iter().zip(&mut self.moments).zip(reached).enumerate() {
            let n = var.elem_count();
            let within = overlap(&run, start, n);
            start += n;
            if reached && !within.is_empty() {
                let (m, v) = (&mut m[within.clone()], &mut v[within.clone()]);
                parts_of(i, within.clone(), &mut |parts| update(var, parts, within.clone(), m, v, c))?;
            }
        }
        Ok(())
    }
}

/// The values of `run` (of a concatenation) that fall in the variable of `len` values starting
/// at `start`, counted from `start`.
pub(crate) fn overlap(run: &Range<usize>, start: usize, len: usize) -> Range<usize> {
    run.start.clamp(start, start + len) - start..run.end.clamp(start, start + len) - start
}

/// AdamW on the values `within` of `var`, with their moments `m`, `v` and the gradient the sum
/// of `parts`.
fn update(var: &Var, parts: &[&[f32]], within: Range<usize>, m: &mut [f32], v: &mut [f32], c: Constants) -> Result<()> {
    var.as_tensor().inplace_op1(&Kernel { parts, within, moments: RefCell::new((m, v)), c })
}

/// Values the sum of several parts is made in, a run at a time, small enough to stay in the
/// L1 cache between the pass that adds the parts and the pass that uses the sum.
const SUM_RUN: usize = 1024;

/// The in-place op: candle hands it the variable's storage.
struct Kernel<'a> {
    /// The gradient, or the parts it is the sum of.
    parts: &'a [&'a [f32]],
    /// The values of the variable to update.
    within: Range<usize>,
    moments: RefCell<(&'a mut [f32], &'a mut [f32])>,
    c: Constants,
}

impl InplaceOp1 for Kernel<'_> {
    fn name(&self) -> &'static str {
        "fused-adamw"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("fused AdamW updates f32 parameters only");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("fused AdamW needs a contiguous parameter");
        };
        let Some(theta) = data[start..end].get_mut(self.within.clone()) else {
            candle_core::bail!("fused AdamW: values {:?} of a parameter of {}", self.within, end - start);
        };
        let mut moments = self.moments.borrow_mut();
        let (m, v) = &mut *moments;
        let n = theta.len();
        if let Some(part) = self.parts.iter().find(|p| p.len() != n || m.len() != n) {
            candle_core::bail!("fused AdamW: {n} parameters, {} gradient values", part.len());
        }
        match self.parts {
            [] => candle_core::bail!("fused AdamW: no gradient"),
            [g] => adamw(theta, g, m, v, self.c),
            parts => {
                let mut sum = [0.0f32; SUM_RUN];
                for start in (0..n).step_by(SUM_RUN) {
                    let end = n.min(start + SUM_RUN);
                    let sum = &mut sum[..end - start];
                    sum.copy_from_slice(&parts[0][start..end]);
                    for part in &parts[1..] {
                        sum.iter_mut().zip(&part[start..end]).for_each(|(s, g)| *s += g);
                    }
                    adamw(&mut theta[start..end], sum, &mut m[start..end], &mut v[start..end], self.c);
                }
            }
        }
        Ok(())
    }
}

/// AdamW on `theta` with gradient `g` and moments `m`, `v`, all of one length.
#[inline(always)]
fn adamw(theta: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], c: Constants) {
    for (((theta, &g), m), v) in theta.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        // Each line is one of candle's ops, in its order (affine is `x·mul + add`).
        *m = (*m * c.beta1 + 0.0) + (g * c.one_minus_beta1 + 0.0);
        *v = (*v * c.beta2 + 0.0) + ((g * g) * c.one_minus_beta2 + 0.0);
        let m_hat = *m * c.scale_m + 0.0;
        let v_hat = *v * c.scale_v + 0.0;
        let decayed = *theta * c.decay + 0.0;
        let adjusted = m_hat / (v_hat.sqrt() + c.eps);
        *theta = decayed - (adjusted * c.lr + 0.0);
    }
}

impl Optimizer for FusedAdamW {
    type Config = ParamsAdamW;

    fn new(vars: Vec<Var>, params: ParamsAdamW) -> Result<Self> {
        let vars: Vec<Var> = vars.into_iter().filter(|v| v.dtype().is_float()).collect();
        let moments = vars.iter().map(|v| (vec![0.0; v.elem_count()], vec![0.0; v.elem_count()])).collect();
        Ok(Self { vars, moments, step_t: 0, params })
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step_t += 1;
        let c = self.constants();
        for (var, (m, v)) in self.vars.iter().zip(&mut self.moments) {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            with_f32_values(g, |g| update(var, &[g], 0..g.len(), m, v, c))?;
        }
        Ok(())
    }

    /// With [`linear::backward`]: the layers' gradients skip candle's zero-fill.
    fn backward_step(&mut self, loss: &candle_core::Tensor) -> Result<()> {
        let grads = linear::backward(loss)?;
        self.step(&grads)
    }

    fn learning_rate(&self) -> f64 {
        self.params.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.params.lr = lr
    }
}
