//! Data-parallel training has the serial step's mathematics: shards partition the batch and the
//! data, summed shares are the full batch's gradient, W replicas take the same steps as one
//! trainer and stay identical, and replicas on their own data shards learn real digits.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::OnceLock;

use candle_core::{Device, Tensor};
use latent_lab::data::Dataset;
use latent_lab::model::{CodebookUpdate, Model, ModelConfig, ModelKind};
use latent_lab::parallel::{reduce, reduce_into, GradientPart, Shard, Share};
use latent_lab::train::{TrainConfig, TrainError, Trainer};

fn data() -> &'static (Dataset, Dataset) {
    static DATA: OnceLock<(Dataset, Dataset)> = OnceLock::new();
    DATA.get_or_init(|| (common::mnist("train").take(6000), common::mnist("t10k").take(1000)))
}

fn small(kind: ModelKind) -> ModelConfig {
    let mut config = ModelConfig { kind, hidden: 64, ..Default::default() };
    if kind == ModelKind::Vqvae {
        config.codebook_update = CodebookUpdate::EmaRestart;
        config.codes_per_image = 2;
    }
    config
}

fn train_config() -> TrainConfig {
    TrainConfig { batch_size: 60, seed: 11, ..Default::default() }
}

fn flat_weights(model: &Model) -> Vec<f32> {
    model.weights().unwrap().iter().flat_map(|(_, t)| t.flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn rows(t: &Tensor, shard: Shard) -> Tensor {
    let r = shard.rows(t.dim(0).unwrap());
    t.narrow(0, r.start, r.len()).unwrap()
}

fn all_shards(count: usize) -> Vec<Shard> {
    (0..count).map(|index| Shard { index, count }).collect()
}

#[test]
fn shard_rows_partition_every_batch() {
    for batch in 1..=200 {
        for count in 1..=batch.min(9) {
            let ranges: Vec<_> = all_shards(count).iter().map(|s| s.rows(batch)).collect();
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[count - 1].end, batch);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start), "batch {batch}, {count} shards: {ranges:?}");
            let sizes: Vec<_> = ranges.iter().map(|r| r.len()).collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
        }
    }
}

#[test]
fn data_shards_hold_every_image_once() {
    let labels: Vec<u8> = (0..23).map(|i| (i * 3 % 10) as u8).collect();
    let whole = Dataset::new(common::pixels(23), labels).unwrap();
    for count in 1..=4 {
        let shards: Vec<Dataset> = (0..count).map(|w| whole.shard(w, count).unwrap()).collect();
        assert_eq!(shards.iter().map(Dataset::len).sum::<usize>(), whole.len());
        for (w, shard) in shards.iter().enumerate() {
            for j in 0..shard.len() {
                let i = w + j * count;
                assert_eq!(shard.image(j), whole.image(i));
                assert_eq!(shard.label(j), whole.label(i));
            }
        }
    }
}

/// The flat gradient of the batch's mean loss, computed in one piece.
fn serial_gradient(model: &Model, x: &Tensor, eps: &Tensor) -> Vec<f32> {
    let grads = model.loss_with_epsilon(x, eps.clone()).unwrap().total.backward().unwrap();
    model
        .trainable_vars()
        .iter()
        .flat_map(|v| match grads.get(v.as_tensor()) {
            Some(g) => g.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            None => vec![0.0; v.elem_count()],
        })
        .collect()
}

#[test]
fn summed_shares_are_the_whole_batch_gradient() {
    let (train, _) = data();
    let config = train_config();
    let indices: Vec<usize> = (100..100 + config.batch_size).collect();
    let x = train.batch(&indices, &Device::Cpu).unwrap();
    for kind in [ModelKind::Ae, ModelKind::Vae, ModelKind::Vqvae] {
        let model_config = small(kind);
        let eps = Tensor::randn(0f32, 1.0, (config.batch_size, model_config.latent_dim), &Device::Cpu).unwrap();
        let trainer = Trainer::new(Model::new(&model_config, 5, &Device::Cpu).unwrap(), config.clone(), train.len()).unwrap();
        let whole = serial_gradient(trainer.model(), &x, &eps);
        let scale = whole.iter().fold(0f32, |m, g| m.max(g.abs()));
        assert!(scale > 1e-3, "{kind:?}: the gradient is too small to compare ({scale})");
        for count in [2, 3, 7] {
            let shares: Vec<Share> =
                all_shards(count).into_iter().map(|s| trainer.share_of(&rows(&x, s), rows(&eps, s), s).unwrap()).collect();
            let mut summed = vec![0f32; whole.len()];
            for share in &shares {
                summed.iter_mut().zip(&share.gradient).for_each(|(a, g)| *a += g);
            }
            let difference = max_difference(&summed, &whole);
            assert!(difference <= 1e-5 * scale, "{kind:?}, {count} shards: gradients differ by {difference} (largest {scale})");
            let loss: f32 = shares.iter().map(|s| s.metrics.loss).sum();
            let serial_loss = trainer.model().loss_with_epsilon(&x, eps.clone()).unwrap().total.to_scalar::<f32>().unwrap();
            assert!((loss - serial_loss).abs() <= 1e-4 * serial_loss.abs(), "{kind:?}: loss {loss} against {serial_loss}");
        }
    }
}

/// A serial trainer's first `steps` steps, then W replicas fed the same batches and ε shard by
/// shard: every replica ends with the serial weights, and all replicas with the same ones.
fn replicas_follow_serial(kind: ModelKind, count: usize, steps: usize) {
    let (train, _) = data();
    let model_config = small(kind);
    let config = train_config();
    let mut serial = Trainer::new(Model::new(&model_config, 5, &Device::Cpu).unwrap(), config.clone(), train.len()).unwrap();
    let mut replicas: Vec<Trainer> = all_shards(count)
        .into_iter()
        .map(|s| Trainer::replica(Model::new(&model_config, 5, &Device::Cpu).unwrap(), config.clone(), train.len(), s).unwrap())
        .collect();
    for _ in 0..steps {
        serial.train_steps(train, 1).unwrap();
        let batch = serial.last_batch().unwrap().clone();
        let x = train.batch(&batch.indices, &Device::Cpu).unwrap();
        let eps = match batch.epsilon {
            Some(e) => Tensor::from_vec(e, (config.batch_size, model_config.latent_dim), &Device::Cpu).unwrap(),
            None => Tensor::zeros((config.batch_size, model_config.latent_dim), candle_core::DType::F32, &Device::Cpu).unwrap(),
        };
        let shares: Vec<Share> =
            replicas.iter().zip(all_shards(count)).map(|(r, s)| r.share_of(&rows(&x, s), rows(&eps, s), s).unwrap()).collect();
        for replica in &mut replicas {
            replica.apply_shares(&shares).unwrap();
        }
    }
    let expected = flat_weights(serial.model());
    let first = flat_weights(replicas[0].model());
    for replica in &replicas[1..] {
        assert_eq!(flat_weights(replica.model()), first, "{kind:?}: replicas disagree");
    }
    let difference = max_difference(&first, &expected);
    // AdamW moves each weight by about the learning rate (1e-3) per step; the sums in another
    // order change the weights by far less than that.
    assert!(difference < 2e-5, "{kind:?}, {count} replicas: weights differ from serial by {difference}");
    assert_eq!(replicas[0].step(), serial.step());
}

#[test]
fn replicas_take_the_serial_steps() {
    for kind in [ModelKind::Ae, ModelKind::Vae, ModelKind::Vqvae] {
        for count in [2, 3] {
            replicas_follow_serial(kind, count, 4);
        }
    }
}

#[test]
fn one_replica_is_exactly_the_serial_trainer() {
    let (train, _) = data();
    for kind in [ModelKind::Vae, ModelKind::Vqvae] {
        let model_config = small(kind);
        let config = train_config();
        let mut serial = Trainer::new(Model::new(&model_config, 5, &Device::Cpu).unwrap(), config.clone(), train.len()).unwrap();
        let whole = Shard { index: 0, count: 1 };
        let mut replica = Trainer::replica(Model::new(&model_config, 5, &Device::Cpu).unwrap(), config, train.len(), whole).unwrap();
        let report = serial.train_steps(train, 5).unwrap();
        let mut loss = 0.0;
        for _ in 0..5 {
            let share = replica.share(train, whole).unwrap();
            loss += replica.apply_shares(std::slice::from_ref(&share)).unwrap().loss;
            // The next share is written into this one's buffer, as a page replica's is.
            replica.recycle(share);
        }
        assert_eq!(flat_weights(replica.model()), flat_weights(serial.model()), "{kind:?}");
        assert!((loss / 5.0 - report.loss).abs() <= 1e-5 * report.loss.abs(), "{kind:?}: {} against {}", loss / 5.0, report.loss);
    }
}

#[test]
fn reducing_into_a_used_share_is_reducing_afresh() {
    let (train, _) = data();
    let shares = |kind| -> Vec<Share> {
        let mut replicas: Vec<Trainer> = all_shards(3)
            .into_iter()
            .map(|s| Trainer::replica(Model::new(&small(kind), 5, &Device::Cpu).unwrap(), train_config(), train.len(), s).unwrap())
            .collect();
        replicas.iter_mut().zip(all_shards(3)).map(|(r, s)| r.share(train, s).unwrap()).collect()
    };
    // A VQ-VAE's reduced share (another length, assignments) is the buffer for an AE's shares.
    let mut whole = reduce(&shares(ModelKind::Vqvae)).unwrap();
    let ae = shares(ModelKind::Ae);
    assert!(whole.assignments.is_some() && whole.gradient.len() != ae[0].gradient.len());
    reduce_into(&ae, &mut whole).unwrap();
    let fresh = reduce(&ae).unwrap();
    assert_eq!(whole.shard, fresh.shard);
    assert_eq!(whole.gradient, fresh.gradient);
    assert_eq!(whole.reached, fresh.reached);
    assert_eq!(whole.metrics, fresh.metrics);
    assert_eq!(whole.assignments, None);
}

/// A replica keeps its own share's gradient in parts (the backward pass's tensors): it is the
/// same gradient, bit for bit, in the same order; it reduces, with the other shares flat and
/// in either shard position, to the same whole; the step it gives is the same; a NaN in a
/// part is refused; and two shares in parts are not reduced together.
#[test]
fn a_share_kept_in_parts_is_the_same_gradient() {
    let (train, _) = data();
    for kind in [ModelKind::Vae, ModelKind::Vqvae] {
        let replica =
            |shard| Trainer::replica(Model::new(&small(kind), 5, &Device::Cpu).unwrap(), train_config(), train.len(), shard).unwrap();
        for kept in 0..2 {
            let shards = all_shards(2);
            // Two replicas of the same shard, one sharing in parts, one flat.
            let (mut in_parts, mut flat, mut other) = (replica(shards[kept]), replica(shards[kept]), replica(shards[1 - kept]));
            let parts_share = in_parts.share_in_parts(train, shards[kept]).unwrap();
            let flat_share = flat.share(train, shards[kept]).unwrap();
            let other_share = other.share(train, shards[1 - kept]).unwrap();
            assert!(parts_share.gradient.is_empty() && parts_share.parts.is_some());
            assert_eq!(parts_share.gradient_len(), flat_share.gradient.len());
            let mut runs = Vec::new();
            parts_share
                .for_each_gradient_part(|at, values| {
                    runs.push((at, values.to_vec()));
                    Ok::<_, candle_core::Error>(())
                })
                .unwrap();
            let mut next = 0;
            for (at, values) in &runs {
                assert_eq!(*at, next, "{kind:?}: runs in order, end to end");
                next += values.len();
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let joined: Vec<f32> = runs.into_iter().flat_map(|(_, v)| v).collect();
            assert_eq!(bits(&joined), bits(&flat_share.gradient), "{kind:?}");
            let mut flattened = parts_share.clone();
            flattened.flatten().unwrap();
            assert_eq!(bits(&flattened.gradient), bits(&flat_share.gradient), "{kind:?}");

            let in_order =
                |own: &Share| if kept == 0 { vec![own.clone(), other_share.clone()] } else { vec![other_share.clone(), own.clone()] };
            let (from_parts, from_flat) = (reduce(&in_order(&parts_share)).unwrap(), reduce(&in_order(&flat_share)).unwrap());
            assert_eq!(bits(&from_parts.gradient), bits(&from_flat.gradient), "{kind:?}, kept share {kept}");
            assert_eq!((from_parts.reached, from_parts.metrics), (from_flat.reached, from_flat.metrics));
            assert_eq!(from_parts.assignments, from_flat.assignments);
            in_parts.apply_shares(&in_order(&parts_share)).unwrap();
            flat.apply_shares(&in_order(&flat_share)).unwrap();
            assert_eq!(flat_weights(in_parts.model()), flat_weights(flat.model()), "{kind:?}, kept share {kept}");

            let message = reduce(
                &in_order(&parts_share)
                    .iter()
                    .map(|_| parts_share.clone())
                    .enumerate()
                    .map(|(index, s)| Share { shard: Shard { index, count: 2 }, ..s })
                    .collect::<Vec<_>>(),
            )
            .unwrap_err()
            .to_string();
            assert!(message.contains("2 shares keep their gradient in parts"), "{message}");
        }
        // A NaN in a part: refused, nothing moves.
        let shard = Shard { index: 0, count: 1 };
        let mut trainer = replica(shard);
        let mut share = trainer.share_in_parts(train, shard).unwrap();
        let parts = share.parts.as_mut().unwrap();
        let GradientPart::Tensor(first) = &parts[0] else { panic!("the first parameter has a gradient") };
        let mut values = first.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        values[2] = f32::NAN;
        parts[0] = GradientPart::Tensor(Tensor::from_vec(values, first.shape(), &Device::Cpu).unwrap());
        share.bounded = share.values_bounded().unwrap();
        assert!(!share.bounded, "{kind:?}: a NaN is not bounded");
        let before = flat_weights(trainer.model());
        assert!(matches!(trainer.apply_shares(&[share]), Err(TrainError::NonFinite { step: 1, .. })), "{kind:?}");
        assert_eq!(flat_weights(trainer.model()), before);
    }
}

/// `count` replicas of a small model of `kind`, one per shard, on the whole training set.
fn replicas_of(kind: ModelKind, count: usize) -> Vec<Trainer> {
    let (train, _) = data();
    all_shards(count)
        .into_iter()
        .map(|s| Trainer::replica(Model::new(&small(kind), 5, &Device::Cpu).unwrap(), train_config(), train.len(), s).unwrap())
        .collect()
}

/// Bounded shares are added inside AdamW, never written out whole: the same weights, bit for
/// bit, as the checked sum of the same shares marked unbounded, with replica 0's own share kept
/// in parts as the page keeps it.
#[test]
fn bounded_shares_added_in_the_step_give_the_checked_sums_weights() {
    let (train, _) = data();
    for kind in [ModelKind::Vae, ModelKind::Vqvae] {
        for count in [2, 3] {
            let replicas = || replicas_of(kind, count);
            let (mut summed, mut checked) = (replicas(), replicas());
            for _ in 0..3 {
                let shares: Vec<Share> = summed
                    .iter_mut()
                    .zip(all_shards(count))
                    .map(|(r, s)| if s.index == 0 { r.share_in_parts(train, s) } else { r.share(train, s) }.unwrap())
                    .collect();
                assert!(shares.iter().all(|s| s.bounded), "{kind:?}, {count} shards: a trained model's shares are bounded");
                let unbounded: Vec<Share> = checked
                    .iter_mut()
                    .zip(all_shards(count))
                    .map(|(r, s)| Share { bounded: false, ..r.share(train, s).unwrap() })
                    .collect();
                for (a, b) in summed.iter_mut().zip(&mut checked) {
                    a.apply_shares(&shares).unwrap();
                    b.apply_shares(&unbounded).unwrap();
                }
            }
            for (a, b) in summed.iter().zip(&checked) {
                let bits = |t: &Trainer| flat_weights(t.model()).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(a), bits(b), "{kind:?}, {count} shards");
            }
        }
    }
}

/// Each replica's shares for a split step: its own in parts, the others' gradients cut to the
/// part of the parameters it updates.
fn split_shares(own: &[Share], receiver: usize) -> Vec<Share> {
    let length = own[0].gradient_len();
    let part = own[receiver].shard.parameters(length);
    own.iter()
        .enumerate()
        .map(|(i, share)| {
            if i == receiver {
                return share.clone();
            }
            let mut flat = share.clone();
            flat.flatten().unwrap();
            Share { gradient: flat.gradient[part.clone()].to_vec(), ..flat }
        })
        .collect()
}

/// Replicas that split the step (each AdamW on its part of the parameters, then every part
/// handed to every replica) end every step with the same weights, bit for bit, as replicas
/// that each take the whole step; a step with an unbounded share is refused by all of them and
/// moves no weight.
#[test]
fn replicas_that_split_the_step_keep_the_whole_steps_weights() {
    let (train, _) = data();
    for kind in [ModelKind::Vae, ModelKind::Vqvae] {
        for count in [2, 3] {
            let replicas = || replicas_of(kind, count);
            let (mut split, mut whole) = (replicas(), replicas());
            let bits = |t: &Trainer| flat_weights(t.model()).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            for step in 0..4 {
                let mut own: Vec<Share> =
                    split.iter_mut().zip(all_shards(count)).map(|(r, s)| r.share_in_parts(train, s).unwrap()).collect();
                let flat: Vec<Share> = whole.iter_mut().zip(all_shards(count)).map(|(r, s)| r.share(train, s).unwrap()).collect();
                if step == 3 {
                    own[count - 1].bounded = false;
                }
                let before: Vec<_> = split.iter().map(bits).collect();
                let results: Vec<_> =
                    split.iter_mut().zip(all_shards(count)).map(|(r, s)| r.apply_own_part(&split_shares(&own, s.index), s)).collect();
                if step == 3 {
                    for (r, result) in split.iter().zip(&results) {
                        assert!(matches!(result, Err(TrainError::NonFinite { step: 4, .. })), "{kind:?}, {count} shards: {result:?}");
                        assert_eq!(bits(r), before[0], "{kind:?}, {count} shards: a refused step moved a weight");
                    }
                    break;
                }
                let parts: Vec<(std::ops::Range<usize>, Vec<f32>)> = split
                    .iter()
                    .zip(results)
                    .map(|(r, part)| {
                        let part = part.unwrap();
                        let mut values = vec![0.0; part.len()];
                        r.for_each_parameter(part.clone(), |at, run| values[at..at + run.len()].copy_from_slice(run)).unwrap();
                        (part, values)
                    })
                    .collect();
                for (j, r) in split.iter_mut().enumerate() {
                    for (i, (part, values)) in parts.iter().enumerate() {
                        if i != j {
                            r.update_parameters(part.clone(), |at, run| run.copy_from_slice(&values[at..at + run.len()])).unwrap();
                        }
                    }
                    r.finish_split_step().unwrap();
                }
                for r in &mut whole {
                    r.apply_shares(&flat).unwrap();
                }
                for (a, b) in split.iter().zip(&whole) {
                    assert_eq!(bits(a), bits(b), "{kind:?}, {count} shards, step {step}");
                    assert_eq!(a.step(), b.step());
                }
            }
        }
    }
}

#[test]
fn replicas_on_their_own_data_shards_learn_digits() {
    let (train, test) = data();
    let model_config = small(ModelKind::Vae);
    let config = train_config();
    let count = 2;
    let shards: Vec<Dataset> = (0..count).map(|w| train.shard(w, count).unwrap()).collect();
    let mut replicas: Vec<Trainer> = all_shards(count)
        .into_iter()
        .map(|s| Trainer::replica(Model::new(&model_config, 5, &Device::Cpu).unwrap(), config.clone(), shards[s.index].len(), s).unwrap())
        .collect();
    let before = replicas[0].evaluate(test, 0).unwrap().loss;
    for _ in 0..200 {
        let shares: Vec<Share> = replicas.iter_mut().zip(all_shards(count)).map(|(r, s)| r.share(&shards[s.index], s).unwrap()).collect();
        for replica in &mut replicas {
            replica.apply_shares(&shares).unwrap();
        }
    }
    assert_eq!(flat_weights(replicas[0].model()), flat_weights(replicas[1].model()));
    let after = replicas[0].evaluate(test, 0).unwrap().loss;
    println!("2 replicas, 200 steps of 60: test −ELBO {before:.1} → {after:.1} nats");
    assert!(after < 0.6 * before, "test loss {before} → {after}");
}

#[test]
fn a_non_finite_share_is_refused_and_the_weights_kept() {
    let (train, _) = data();
    let config = train_config();
    let shard = Shard { index: 0, count: 1 };
    let mut replica = Trainer::replica(Model::new(&small(ModelKind::Ae), 5, &Device::Cpu).unwrap(), config, train.len(), shard).unwrap();
    let mut share = replica.share(train, shard).unwrap();
    share.gradient[7] = f32::NAN;
    share.bounded = share.values_bounded().unwrap();
    let before = flat_weights(replica.model());
    assert!(matches!(replica.apply_shares(&[share]), Err(TrainError::NonFinite { step: 1, .. })));
    assert_eq!(flat_weights(replica.model()), before);
    assert_eq!(replica.step(), 0);
}

/// Makes some of a step's shares non-finite, or too large to add up.
type Spoil = fn(&mut [Share]);

/// The sum is checked, not each share: two finite gradients can add up to infinity. With 2 and
/// 3 shards, a NaN in the last share, a sum of the first two that overflows, and one that
/// overflows only when the last share is added are each refused, and no weight moves.
#[test]
fn a_sum_of_shares_that_is_not_finite_is_refused() {
    let (train, _) = data();
    let config = train_config();
    for count in [2, 3] {
        let cases: [(&str, Spoil); 3] = [
            ("NaN in the last share", |s| s.last_mut().unwrap().gradient[3] = f32::NAN),
            ("the first two overflow", |s| {
                s[0].gradient[5] = f32::MAX;
                s[1].gradient[5] = f32::MAX;
            }),
            ("only the whole sum overflows", |s| {
                let n = s.len();
                for share in s.iter_mut() {
                    // n − 1 of them add up to exactly f32::MAX (a power-of-two division is exact).
                    share.gradient[9] = f32::MAX / (n - 1) as f32;
                }
            }),
        ];
        for (what, spoil) in cases {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            let mut replicas: Vec<Trainer> = shards
                .iter()
                .map(|&shard| {
                    Trainer::replica(Model::new(&small(ModelKind::Ae), 5, &Device::Cpu).unwrap(), config.clone(), train.len(), shard)
                        .unwrap()
                })
                .collect();
            let mut shares: Vec<Share> = replicas.iter_mut().zip(&shards).map(|(r, &shard)| r.share(train, shard).unwrap()).collect();
            spoil(&mut shares);
            // The replica that made a spoilt share would have found it out of bounds.
            for share in &mut shares {
                share.bounded = share.values_bounded().unwrap();
            }
            assert!(shares.iter().any(|s| !s.bounded), "{count} shards, {what}: a spoilt share is not bounded");
            let before = flat_weights(replicas[0].model());
            let result = replicas[0].apply_shares(&shares);
            assert!(matches!(result, Err(TrainError::NonFinite { step: 1, .. })), "{count} shards, {what}: {result:?}");
            assert_eq!(flat_weights(replicas[0].model()), before, "{count} shards, {what}");
            // The same shares, finite again, are taken.
            for share in &mut shares {
                share.gradient.iter_mut().filter(|g| !g.is_finite() || g.abs() > 1e30).for_each(|g| *g = 0.0);
                share.bounded = share.values_bounded().unwrap();
            }
            replicas[0].apply_shares(&shares).unwrap();
            assert_eq!(replicas[0].step(), 1, "{count} shards, {what}");
        }
    }
}

#[test]
fn shares_that_do_not_fit_are_refused() {
    let (train, _) = data();
    let config = train_config();
    let model = || Model::new(&small(ModelKind::Ae), 5, &Device::Cpu).unwrap();
    assert!(Trainer::replica(model(), config.clone(), train.len(), Shard { index: 2, count: 2 }).is_err());
    assert!(Trainer::replica(model(), config.clone(), train.len(), Shard { index: 0, count: 61 }).is_err());
    let shard = Shard { index: 0, count: 2 };
    let mut replica = Trainer::replica(model(), config, train.len(), shard).unwrap();
    let share = replica.share(train, shard).unwrap();
    let message = replica.apply_shares(&[share]).unwrap_err().to_string();
    assert!(message.contains("share 0 of 1 does not fit"), "{message}");
}
