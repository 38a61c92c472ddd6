//! The in-memory dataset and seeded mini-batches; IDX reading lives in [`crate::idx`] (the
//! format and its errors) and [`crate::inspect`] (one named file checked on its own, then the
//! pairing of image and label files), re-exported here so `data::parse_images` and friends keep
//! their paths.
//!
//! Images stay `u8` in memory (47 MB for the MNIST training set instead of 188 MB as `f32`)
//! and are converted to `f32` in `[0, 1]` one batch at a time.

use std::ops::Range;

use candle_core::{Device, Tensor};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::idx::check_labels;
pub use crate::idx::{maybe_gunzip, maybe_gunzip_with_limit, parse_images, parse_labels, IdxError, GUNZIP_LIMIT};
use crate::inspect::{pair_split, read_idx_into, FileError, IdxFile, IdxKind};

pub const IMAGE_SIDE: usize = 28;
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
pub const NUM_CLASSES: usize = 10;

/// Labelled 28×28 images, kept as `u8`. Never empty.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// `len * 784` pixels, row-major.
    images: Vec<u8>,
    labels: Vec<u8>,
}

impl Dataset {
    /// Pairs `images` (`n * 784` bytes) with `n` labels, each below [`NUM_CLASSES`].
    pub fn new(images: Vec<u8>, labels: Vec<u8>) -> Result<Self, IdxError> {
        let data = Self::with_class_labels(images, labels)?;
        check_labels(&data.labels)?;
        Ok(data)
    }

    /// [`Dataset::new`] for labels that index class names kept beside the set (your own
    /// images: up to 256 classes), so any byte is a label; IDX label files keep the digits' range.
    pub fn with_class_labels(images: Vec<u8>, labels: Vec<u8>) -> Result<Self, IdxError> {
        if !images.len().is_multiple_of(IMAGE_PIXELS) {
            return Err(IdxError::PartialImage { bytes: images.len() });
        }
        let count = images.len() / IMAGE_PIXELS;
        if count != labels.len() {
            return Err(IdxError::CountMismatch { images: count, labels: labels.len() });
        }
        if count == 0 {
            return Err(IdxError::NoImages);
        }
        Ok(Self { images, labels })
    }

    /// Parses an IDX image file and an IDX label file; each may be gzipped. The checks are
    /// those of [`crate::inspect`]; the errors name no file (see [`Dataset::from_named_idx`]).
    pub fn from_idx(image_bytes: &[u8], label_bytes: &[u8]) -> Result<Self, IdxError> {
        Self::from_idx_reusing(image_bytes, label_bytes, None)
    }

    /// [`Dataset::from_idx`] that fills the buffers of `spare` (a dataset no longer needed)
    /// rather than allocating new ones.
    pub fn from_idx_reusing(image_bytes: &[u8], label_bytes: &[u8], spare: Option<Dataset>) -> Result<Self, IdxError> {
        let (image_buffer, label_buffer) = spare.map_or_else(Default::default, |d| (d.images, d.labels));
        let images = read_idx_into(image_bytes, Some(IdxKind::Images), image_buffer)?;
        let labels = read_idx_into(label_bytes, Some(IdxKind::Labels), label_buffer)?;
        Self::new(images.data, labels.data)
    }

    /// A copy of this dataset in the buffers of `spare` (a dataset no longer needed).
    pub fn copy_reusing(&self, spare: Option<Dataset>) -> Self {
        let (mut images, mut labels) = spare.map_or_else(Default::default, |d| (d.images, d.labels));
        images.clone_from(&self.images);
        labels.clone_from(&self.labels);
        Self { images, labels }
    }

    /// [`Dataset::from_idx`] with file names: each file is checked on its own first, then the
    /// two as a pair, and every message names the file (or both files) at fault.
    pub fn from_named_idx(images_name: &str, image_bytes: &[u8], labels_name: &str, label_bytes: &[u8]) -> Result<Self, FileError> {
        let images = IdxFile::read_as(images_name, image_bytes, IdxKind::Images)?;
        let labels = IdxFile::read_as(labels_name, label_bytes, IdxKind::Labels)?;
        Self::from_files("", images, labels)
    }

    /// Pairs two files that [`crate::inspect::inspect`] accepted on their own; `split` ("training
    /// set", or "" for none) only words the count-mismatch message.
    pub fn from_files(split: &str, images: IdxFile, labels: IdxFile) -> Result<Self, FileError> {
        pair_split(split, &images, &labels)?;
        let name = images.name.clone();
        // Cannot fail after the checks above; kept as an error rather than a panic all the same.
        Self::new(images.into_data(), labels.into_data()).map_err(|defect| FileError::defect(&name, defect))
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a dataset holds at least one image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All pixels, `len * 784` bytes, image after image.
    pub fn pixels(&self) -> &[u8] {
        &self.images
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The 784 pixels of image `i`, row-major. Panics if `i >= len`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]
    }

    /// Panics if `i >= len`.
    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    /// The set as two raw IDX files, images (magic `0x00000803`, `len × 28 × 28`) and labels
    /// (`0x00000801`, `len`), as [`Dataset::from_idx`] and the trainer's `--data` read them.
    pub fn to_idx(&self) -> (Vec<u8>, Vec<u8>) {
        let count = (self.len() as u32).to_be_bytes();
        let side = (IMAGE_SIDE as u32).to_be_bytes();
        let images = [&[0, 0, 8, 3][..], &count, &side, &side, &self.images].concat();
        let labels = [&[0, 0, 8, 1][..], &count, &self.labels].concat();
        (images, labels)
    }

    /// The first `n` examples (the "quick" option for slow machines). `n` is clamped to
    /// `1..=len` so the result is never empty.
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.clamp(1, self.len());
        Dataset { images: self.images[..n * IMAGE_PIXELS].to_vec(), labels: self.labels[..n].to_vec() }
    }

    /// Images at `indices` as an f32 tensor `(B, 784)` with values `pixel / 255` in `[0, 1]`.
    /// An index out of range is an error.
    pub fn batch(&self, indices: &[usize], device: &Device) -> candle_core::Result<Tensor> {
        let mut values = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        for &i in indices {
            if i >= self.len() {
                candle_core::bail!("image index {i} is out of range for {} images", self.len());
            }
            values.extend(self.image(i).iter().map(|&p| p as f32 / 255.0));
        }
        Tensor::from_vec(values, (indices.len(), IMAGE_PIXELS), device)
    }

    /// Every `count`-th image from `index` on: the part of the training set one of `count`
    /// data-parallel replicas holds, so W replicas hold one copy of the data between them.
    pub fn shard(&self, index: usize, count: usize) -> Result<Dataset, IdxError> {
        let picked: Vec<usize> = (index..self.len()).step_by(count.max(1)).collect();
        let images = picked.iter().flat_map(|&i| self.image(i).iter().copied()).collect();
        let labels = picked.iter().map(|&i| self.label(i)).collect();
        // The labels were checked when this set was made (image sets may have more than ten classes).
        Dataset::with_class_labels(images, labels)
    }

    /// Images `range` as a batch tensor `(range.len(), 784)`, for evaluation in chunks.
    pub fn batch_range(&self, range: Range<usize>, device: &Device) -> candle_core::Result<Tensor> {
        if range.start > range.end || range.end > self.len() {
            candle_core::bail!("image range {range:?} is out of range for {} images", self.len());
        }
        let pixels = &self.images[range.start * IMAGE_PIXELS..range.end * IMAGE_PIXELS];
        let values: Vec<f32> = pixels.iter().map(|&p| p as f32 / 255.0).collect();
        Tensor::from_vec(values, (range.len(), IMAGE_PIXELS), device)
    }
}

/// Seeded shuffled mini-batches of indices into a dataset.
///
/// Every epoch is a fresh permutation that depends only on `(seed, epoch)`, so a run is
/// reproducible and can resume at any epoch. The incomplete final batch is dropped: every batch
/// has exactly `batch_size` rows, which keeps per-batch losses comparable.
pub struct Batcher {
    batch_size: usize,
    /// The permutation for epoch `order_epoch`.
    order: Vec<usize>,
    order_epoch: usize,
    seed: u64,
    batches_done: usize,
}

impl Batcher {
    /// `batch_size` is clamped to `1..=len`. Panics if `len` is 0.
    pub fn new(len: usize, batch_size: usize, seed: u64) -> Self {
        assert!(len > 0, "a Batcher needs at least one example");
        let mut batcher = Self { batch_size: batch_size.clamp(1, len), order: Vec::new(), order_epoch: 0, seed, batches_done: 0 };
        batcher.order = batcher.permutation(len, 0);
        batcher
    }

    /// The permutation of `0..len` for `epoch`. Seed and epoch fill separate halves of the
    /// ChaCha key, so no two (seed, epoch) pairs share a stream.
    fn permutation(&self, len: usize, epoch: usize) -> Vec<usize> {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
        let mut order: Vec<usize> = (0..len).collect();
        order.shuffle(&mut StdRng::from_seed(key));
        order
    }

    /// The next batch of `batch_size` indices; moves to a reshuffled epoch when one ends.
    pub fn next_batch(&mut self) -> &[usize] {
        let epoch = self.epoch();
        if epoch != self.order_epoch {
            self.order = self.permutation(self.order.len(), epoch);
            self.order_epoch = epoch;
        }
        let start = (self.batches_done % self.batches_per_epoch()) * self.batch_size;
        self.batches_done += 1;
        &self.order[start..start + self.batch_size]
    }

    /// Continues as if `batches_done` batches had been drawn already (a run resumed from a
    /// checkpoint): the epoch, its permutation and the position in it are those a run that
    /// never stopped would have reached.
    pub fn skip_to(&mut self, batches_done: usize) {
        self.batches_done = batches_done;
    }

    /// Completed epochs.
    pub fn epoch(&self) -> usize {
        self.batches_done / self.batches_per_epoch()
    }

    /// Fraction of the current epoch done, in `[0, 1)`.
    pub fn epoch_progress(&self) -> f32 {
        let per_epoch = self.batches_per_epoch();
        (self.batches_done % per_epoch) as f32 / per_epoch as f32
    }

    pub fn batches_per_epoch(&self) -> usize {
        self.order.len() / self.batch_size
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
}
