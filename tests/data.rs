//! Datasets in memory, seeded batches, and the bundled datasets (IDX parsing is in `idx.rs`).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use candle_core::Device;
use common::pixels;
use latent_lab::data::{Batcher, Dataset, IMAGE_PIXELS, NUM_CLASSES};

// ---- dataset ----

#[test]
fn batch_is_pixels_over_255() {
    let data = Dataset::new(pixels(3), vec![0, 1, 2]).unwrap();
    let batch = data.batch(&[2, 0], &Device::Cpu).unwrap();
    assert_eq!(batch.dims(), &[2, IMAGE_PIXELS]);
    let rows = batch.to_vec2::<f32>().unwrap();
    let expect = |i: usize| data.image(i).iter().map(|&p| p as f32 / 255.0).collect::<Vec<_>>();
    assert_eq!(rows[0], expect(2));
    assert_eq!(rows[1], expect(0));
    assert_eq!(rows[0][0], 14.0 / 255.0);
    assert_eq!(rows[0][241], 255.0 / 255.0); // (14 + 241) % 256
    assert!(data.batch(&[3], &Device::Cpu).is_err());
}

#[test]
fn batch_range_matches_batch() {
    let data = Dataset::new(pixels(5), vec![0; 5]).unwrap();
    let ranged = data.batch_range(1..4, &Device::Cpu).unwrap();
    let indexed = data.batch(&[1, 2, 3], &Device::Cpu).unwrap();
    assert_eq!(ranged.dims(), &[3, IMAGE_PIXELS]);
    assert_eq!(ranged.to_vec2::<f32>().unwrap(), indexed.to_vec2::<f32>().unwrap());
    assert!(data.batch_range(4..6, &Device::Cpu).is_err());
}

#[test]
fn take_keeps_the_first_examples() {
    let data = Dataset::new(pixels(5), vec![4, 3, 2, 1, 0]).unwrap();
    let first = data.take(2);
    assert_eq!(first.len(), 2);
    assert_eq!(first.labels(), &[4, 3]);
    assert_eq!(first.pixels(), &pixels(5)[..2 * IMAGE_PIXELS]);
    assert_eq!(data.take(100).len(), 5);
    assert_eq!(data.take(0).len(), 1);
}

// ---- batcher ----

fn epoch_of(batcher: &mut Batcher) -> Vec<usize> {
    (0..batcher.batches_per_epoch()).flat_map(|_| batcher.next_batch().to_vec()).collect()
}

#[test]
fn same_seed_same_order_other_seed_other_order() {
    let run = |seed| {
        let mut b = Batcher::new(100, 10, seed);
        (0..25).flat_map(|_| b.next_batch().to_vec()).collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn each_epoch_is_a_permutation_and_reshuffled() {
    let mut batcher = Batcher::new(60, 12, 1);
    assert_eq!(batcher.batches_per_epoch(), 5);
    let first = epoch_of(&mut batcher);
    let second = epoch_of(&mut batcher);
    for order in [&first, &second] {
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..60).collect::<Vec<_>>());
    }
    assert_ne!(first, (0..60).collect::<Vec<_>>(), "not shuffled");
    assert_ne!(first, second, "not reshuffled between epochs");
}

#[test]
fn epoch_order_depends_only_on_seed_and_epoch() {
    // Another batch size walks the same permutation in different slices.
    let mut a = Batcher::new(60, 12, 3);
    let mut b = Batcher::new(60, 20, 3);
    epoch_of(&mut a);
    epoch_of(&mut b);
    assert_eq!(epoch_of(&mut a), epoch_of(&mut b));
}

#[test]
fn epoch_counter_and_progress_advance() {
    let mut batcher = Batcher::new(10, 4, 0);
    assert_eq!((batcher.batch_size(), batcher.batches_per_epoch()), (4, 2));
    assert_eq!((batcher.epoch(), batcher.epoch_progress()), (0, 0.0));
    batcher.next_batch();
    assert_eq!((batcher.epoch(), batcher.epoch_progress()), (0, 0.5));
    batcher.next_batch();
    assert_eq!((batcher.epoch(), batcher.epoch_progress()), (1, 0.0));
    for _ in 0..5 {
        batcher.next_batch();
    }
    assert_eq!((batcher.epoch(), batcher.epoch_progress()), (3, 0.5));
}

#[test]
fn a_resumed_batcher_continues_where_an_unbroken_one_is() {
    let mut unbroken = Batcher::new(60, 12, 5);
    let drawn: Vec<Vec<usize>> = (0..13).map(|_| unbroken.next_batch().to_vec()).collect();
    // Skipping into the third epoch, mid-way: same epoch, progress and following batches.
    let mut resumed = Batcher::new(60, 12, 5);
    resumed.skip_to(11);
    assert_eq!((resumed.epoch(), resumed.epoch_progress()), (2, 0.2));
    assert_eq!(resumed.next_batch(), &drawn[11][..]);
    assert_eq!(resumed.next_batch(), &drawn[12][..]);
    // Skipping back into the first epoch restores its permutation as well.
    resumed.skip_to(1);
    assert_eq!(resumed.next_batch(), &drawn[1][..]);
}

#[test]
fn incomplete_batch_is_dropped_and_size_clamped() {
    let mut batcher = Batcher::new(10, 4, 0);
    for _ in 0..6 {
        assert_eq!(batcher.next_batch().len(), 4);
    }
    let mut batcher = Batcher::new(5, 64, 0);
    assert_eq!((batcher.batch_size(), batcher.batches_per_epoch()), (5, 1));
    assert_eq!(batcher.next_batch().len(), 5);
    assert_eq!(Batcher::new(5, 0, 0).batch_size(), 1);
}

// ---- the bundled datasets ----

fn class_counts(data: &Dataset) -> [usize; NUM_CLASSES] {
    let mut counts = [0; NUM_CLASSES];
    for &l in data.labels() {
        counts[l as usize] += 1;
    }
    counts
}

fn mean_pixel(data: &Dataset) -> f64 {
    data.pixels().iter().map(|&p| p as f64).sum::<f64>() / data.pixels().len() as f64 / 255.0
}

#[test]
fn mnist_test_set() {
    let data = common::mnist("t10k");
    assert_eq!(data.len(), 10_000);
    assert_eq!(data.pixels().len(), 10_000 * IMAGE_PIXELS);
    assert_eq!(&data.labels()[..3], &[7, 2, 1]);
    for (digit, n) in class_counts(&data).into_iter().enumerate() {
        assert!((800..=1200).contains(&n), "digit {digit}: {n} examples");
    }
    let mean = mean_pixel(&data);
    assert!((0.12..0.145).contains(&mean), "mean pixel {mean}");
}

#[test]
fn mnist_training_set() {
    let data = common::mnist("train");
    assert_eq!(data.len(), 60_000);
    assert_eq!(&data.labels()[..3], &[5, 0, 4]);
    let mean = mean_pixel(&data);
    assert!((0.12..0.145).contains(&mean), "mean pixel {mean}");
}

#[test]
fn fashion_mnist() {
    let test = common::fashion("t10k");
    assert_eq!(test.len(), 10_000);
    assert_eq!(class_counts(&test), [1000; NUM_CLASSES]);
    assert_eq!(common::fashion("train").len(), 60_000);
}

#[test]
fn a_dataset_read_into_a_spare_fills_its_buffer_and_equals_a_fresh_read() {
    use std::io::Write;
    let set = |seed: u8| {
        let pixels: Vec<u8> = (0..3 * IMAGE_PIXELS).map(|i| (i as u8).wrapping_mul(seed)).collect();
        (common::idx(&[3, 28, 28], &pixels), common::idx(&[3], &[seed % 10, 1, 2]))
    };
    let gzip = |bytes: &[u8]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    };
    let (first_images, first_labels) = set(3);
    let (next_images, next_labels) = set(7);
    for (images, labels) in [(next_images.clone(), next_labels.clone()), (gzip(&next_images), gzip(&next_labels))] {
        let spare = Dataset::from_idx(&first_images, &first_labels).unwrap();
        let spare_at = spare.pixels().as_ptr();
        let reread = Dataset::from_idx_reusing(&images, &labels, Some(spare)).unwrap();
        let fresh = Dataset::from_idx(&images, &labels).unwrap();
        assert_eq!(reread.pixels().as_ptr(), spare_at, "the spare's buffer is refilled, not replaced");
        assert_eq!(reread.pixels(), fresh.pixels());
        assert_eq!((0..3).map(|i| reread.label(i)).collect::<Vec<_>>(), (0..3).map(|i| fresh.label(i)).collect::<Vec<_>>());
        // A copy into another spare: equal to its source, in the spare's buffer.
        let spare = Dataset::from_idx(&first_images, &first_labels).unwrap();
        let spare_at = spare.pixels().as_ptr();
        let copy = fresh.copy_reusing(Some(spare));
        assert_eq!(copy.pixels().as_ptr(), spare_at);
        assert_eq!((copy.pixels(), copy.labels()), (fresh.pixels(), fresh.labels()));
    }
}
