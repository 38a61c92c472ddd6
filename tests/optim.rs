//! The fused AdamW is candle's AdamW: the same bits after several steps, with and without weight
//! decay, through a GradStore and through a flat gradient, and it leaves unreached parameters
//! (and their moments) alone.
#![cfg(not(target_arch = "wasm32"))]

use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use latent_lab::optim::FusedAdamW;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SHAPES: [&[usize]; 3] = [&[7, 5], &[5], &[3, 2, 4]];

fn random(rng: &mut StdRng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// Two identical sets of variables, one for each optimizer.
fn twin_vars(rng: &mut StdRng) -> (Vec<Var>, Vec<Var>) {
    SHAPES
        .iter()
        .map(|&shape| {
            let values = random(rng, shape.iter().product(), 1.0);
            let make = || Var::from_tensor(&Tensor::from_slice(&values, shape, &Device::Cpu).unwrap()).unwrap();
            (make(), make())
        })
        .unzip()
}

fn values(vars: &[Var]) -> Vec<u32> {
    vars.iter().flat_map(|v| v.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap()).map(f32::to_bits).collect()
}

/// Gradients for the variables the step reaches, drawn over a wide range of magnitudes so the
/// bias corrections and ε both matter.
fn gradients(rng: &mut StdRng, vars: &[Var], reached: &[bool]) -> (GradStore, Vec<f32>) {
    let mut store = GradStore::default();
    let mut flat = Vec::new();
    for (var, &reached) in vars.iter().zip(reached) {
        let scale = 10f32.powi(rng.random_range(-6..2));
        let g = random(rng, var.elem_count(), scale);
        if reached {
            store.insert(var.as_tensor(), Tensor::from_slice(&g, var.shape(), &Device::Cpu).unwrap());
        }
        flat.extend(if reached { g } else { vec![0.0; var.elem_count()] });
    }
    (store, flat)
}

fn same_as_candle(params: ParamsAdamW, flat: bool) {
    let mut rng = StdRng::seed_from_u64(3);
    let (ours, theirs) = twin_vars(&mut rng);
    let mut fused = FusedAdamW::new(ours.clone(), params.clone()).unwrap();
    let mut candle = AdamW::new(theirs.clone(), params).unwrap();
    for step in 0..6 {
        // The middle variable sits out steps 1 and 4: candle leaves it and its moments alone.
        let reached = [true, step != 1 && step != 4, true];
        let (store, values_flat) = gradients(&mut rng, &theirs, &reached);
        candle.step(&store).unwrap();
        if flat {
            fused.step_flat(&values_flat, &reached).unwrap();
        } else {
            // The same gradient tensors, keyed by our variables.
            let mut ours_store = GradStore::default();
            for ((var, theirs_var), _) in ours.iter().zip(&theirs).zip(reached).filter(|(_, r)| *r) {
                ours_store.insert(var.as_tensor(), store.get(theirs_var.as_tensor()).unwrap().clone());
            }
            fused.step(&ours_store).unwrap();
        }
        assert_eq!(values(&ours), values(&theirs), "step {step} (flat gradient: {flat})");
    }
    assert_ne!(values(&ours), values(&twin_vars(&mut StdRng::seed_from_u64(3)).0), "the steps moved the weights");
}

#[test]
fn fused_adamw_gives_candles_bits() {
    for flat in [false, true] {
        same_as_candle(ParamsAdamW { lr: 1e-3, weight_decay: 0.0, ..Default::default() }, flat);
        same_as_candle(ParamsAdamW { lr: 3e-2, weight_decay: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-6 }, flat);
    }
}

#[test]
fn a_flat_gradient_of_the_wrong_length_is_refused() {
    let (vars, _) = twin_vars(&mut StdRng::seed_from_u64(1));
    let mut fused = FusedAdamW::new(vars.clone(), ParamsAdamW::default()).unwrap();
    let n = fused.len();
    assert_eq!(n, 35 + 5 + 24);
    assert!(fused.step_flat(&vec![0.0; n - 1], &[true; 3]).is_err());
    assert!(fused.step_flat(&vec![0.0; n], &[true; 2]).is_err());
    let before = values(&vars);
    assert!(fused.step_flat(&vec![0.0; n + 1], &[true; 3]).is_err());
    assert_eq!(values(&vars), before, "a refused step changes nothing");
}
