//! IDX parsing from bytes, the in-memory dataset and seeded mini-batches.
//!
//! # The IDX format (MNIST, Fashion-MNIST)
//!
//! A big-endian header followed by the raw data:
//!
//! | bytes | meaning |
//! | --- | --- |
//! | 0–1 | always `0x00 0x00` |
//! | 2 | data type code; `0x08` = unsigned byte, the only one used here |
//! | 3 | number of dimensions `d` (3 for images: count, rows, cols; 1 for labels: count) |
//! | 4 … 4+4d | one `u32` per dimension |
//! | then | the values, row-major, `Π dims` of them |
//!
//! Image files have magic `0x00000803`, label files `0x00000801`. Files are often gzipped;
//! [`maybe_gunzip`] handles both.
//!
//! # Why every check comes before allocation
//!
//! The files may come from a user's upload, so a header is a claim, not a fact. Every size is
//! computed with overflow checks and compared with the bytes actually present before anything
//! of that size is allocated: a header declaring 4 billion images in a 20-byte file is refused
//! at once instead of exhausting memory (a real risk in the browser's wasm heap). Inflating is
//! capped for the same reason.
//!
//! Images stay `u8` in memory (47 MB for the MNIST training set instead of 188 MB as `f32`)
//! and are converted to `f32` in `[0, 1]` one batch at a time.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::ops::Range;

use candle_core::{Device, Tensor};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

pub const IMAGE_SIDE: usize = 28;
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
pub const NUM_CLASSES: usize = 10;

/// Largest inflated size [`maybe_gunzip`] accepts. MNIST's training images are 47 MB; the cap
/// leaves room for larger 28×28 sets while stopping a gzip bomb.
pub const GUNZIP_LIMIT: usize = 256 << 20;

const U8_TYPE: u8 = 0x08;
const IMAGE_DIMS: u8 = 3;
const LABEL_DIMS: u8 = 1;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why a file could not be read as an IDX image or label file.
#[derive(Debug, Clone, PartialEq)]
pub enum IdxError {
    /// Fewer bytes than the fixed header needs.
    TooShort { len: usize, header_len: usize },
    /// The first two bytes are not zero.
    BadMagic { first: [u8; 2] },
    /// The type code is not `0x08` (unsigned byte).
    UnsupportedType { code: u8 },
    /// The header's dimension count is not the one this kind of file has.
    WrongDimensions { expected: u8, found: u8 },
    /// The product of the declared dimensions does not fit in `usize`.
    SizeOverflow { dims: Vec<u32> },
    /// Fewer data bytes than the header declares.
    Truncated { dims: Vec<u32>, declared: usize, actual: usize },
    /// More data bytes than the header declares.
    TrailingBytes { dims: Vec<u32>, declared: usize, actual: usize },
    /// Images are not 28×28.
    WrongImageSize { rows: u32, cols: u32 },
    /// No images at all.
    NoImages,
    /// A pixel buffer whose length is not a multiple of 784.
    PartialImage { bytes: usize },
    /// Image and label counts differ.
    CountMismatch { images: usize, labels: usize },
    /// A label outside `0..10`.
    LabelOutOfRange { index: usize, label: u8 },
    /// The gzip stream is truncated or corrupted.
    Gzip(String),
    /// The gzip stream inflates past the cap.
    TooLarge { limit: usize },
}

impl fmt::Display for IdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len, header_len } => {
                write!(f, "the file is only {len} bytes long, shorter than the {header_len}-byte IDX header")
            }
            Self::BadMagic { first } => write!(
                f,
                "this is not an IDX file: it should start with two zero bytes but starts with \
                 0x{:02x} 0x{:02x}",
                first[0], first[1]
            ),
            Self::UnsupportedType { code } => {
                write!(f, "the IDX data type is 0x{code:02x} ({}); only 0x08 (unsigned bytes) is supported", type_name(*code))
            }
            Self::WrongDimensions { expected, found } => write!(
                f,
                "the header declares {found} dimension(s) but {} files have {expected}{}",
                kind_of(*expected as usize),
                match found {
                    1 => " (is this a label file?)",
                    3 => " (is this an image file?)",
                    _ => "",
                }
            ),
            Self::SizeOverflow { dims } => write!(f, "the header declares {}, more bytes than this machine can address", describe(dims)),
            Self::Truncated { dims, declared, actual } => write!(
                f,
                "the header declares {} = {declared} bytes but the file holds only {actual} \
                 bytes after the header (is it cut short?)",
                describe(dims)
            ),
            Self::TrailingBytes { dims, declared, actual } => write!(
                f,
                "the header declares {} = {declared} bytes but the file holds {actual} bytes \
                 after the header, {} too many",
                describe(dims),
                actual - declared
            ),
            Self::WrongImageSize { rows, cols } => write!(
                f,
                "the images are {rows}×{cols} pixels, but the models take \
                 {IMAGE_SIDE}×{IMAGE_SIDE}"
            ),
            Self::NoImages => write!(f, "the data holds 0 images; at least one is needed"),
            Self::PartialImage { bytes } => write!(
                f,
                "{bytes} pixel bytes is not a whole number of {IMAGE_SIDE}×{IMAGE_SIDE} = \
                 {IMAGE_PIXELS}-byte images"
            ),
            Self::CountMismatch { images, labels } => write!(
                f,
                "there are {images} images but {labels} labels; both files must come from the \
                 same split"
            ),
            Self::LabelOutOfRange { index, label } => {
                write!(f, "label {label} at position {index} is not a class between 0 and {}", NUM_CLASSES - 1)
            }
            Self::Gzip(reason) => {
                write!(f, "the gzip data is broken (truncated or corrupted): {reason}")
            }
            Self::TooLarge { limit } => {
                write!(f, "the gzip data inflates to more than {limit} bytes ({} MiB); refusing to unpack it", limit >> 20)
            }
        }
    }
}

impl std::error::Error for IdxError {}

fn type_name(code: u8) -> &'static str {
    match code {
        0x08 => "u8",
        0x09 => "i8",
        0x0b => "i16",
        0x0c => "i32",
        0x0d => "f32",
        0x0e => "f64",
        _ => "not an IDX type",
    }
}

fn kind_of(ndims: usize) -> &'static str {
    if ndims == IMAGE_DIMS as usize {
        "image"
    } else {
        "label"
    }
}

/// "60000 images of 28×28" or "60000 labels", for error messages.
fn describe(dims: &[u32]) -> String {
    match dims {
        [n] => format!("{n} labels"),
        [n, rows, cols] => format!("{n} images of {rows}×{cols}"),
        _ => format!("dimensions {dims:?}"),
    }
}

/// Gunzips if the bytes start with the gzip magic (1f 8b), else borrows them.
///
/// Inflates at most [`GUNZIP_LIMIT`] bytes; see [`maybe_gunzip_with_limit`].
pub fn maybe_gunzip(bytes: &[u8]) -> Result<Cow<'_, [u8]>, IdxError> {
    maybe_gunzip_with_limit(bytes, GUNZIP_LIMIT)
}

/// [`maybe_gunzip`] with an explicit cap on the inflated size, in bytes.
pub fn maybe_gunzip_with_limit(bytes: &[u8], limit: usize) -> Result<Cow<'_, [u8]>, IdxError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    // The gzip trailer states the inflated size; reserving it up front avoids the repeated
    // doubling (and the doubled peak in the wasm heap) of a growing Vec. It is only a hint:
    // deflate cannot expand more than ~1032:1, so a lying trailer cannot reserve much more than
    // the input could produce, and never more than the cap.
    let trailer_size = bytes.len().checked_sub(4).map_or(0, |at| u32::from_le_bytes(bytes[at..].try_into().unwrap()) as usize);
    let hint = trailer_size.min(limit).min(bytes.len().saturating_mul(1032));
    let mut out = Vec::with_capacity(hint);
    // One byte past the cap tells "exactly at the cap" from "over it".
    flate2::read::MultiGzDecoder::new(bytes).take(limit as u64 + 1).read_to_end(&mut out).map_err(|e| IdxError::Gzip(e.to_string()))?;
    if out.len() > limit {
        return Err(IdxError::TooLarge { limit });
    }
    Ok(Cow::Owned(out))
}

/// Checks an IDX header of `ndims` dimensions and that the data length matches it exactly.
/// Returns the dimensions and the data bytes.
fn parse_idx(bytes: &[u8], ndims: u8) -> Result<(Vec<u32>, &[u8]), IdxError> {
    let header_len = 4 + 4 * ndims as usize;
    if bytes.len() < header_len {
        return Err(IdxError::TooShort { len: bytes.len(), header_len });
    }
    if bytes[..2] != [0, 0] {
        return Err(IdxError::BadMagic { first: [bytes[0], bytes[1]] });
    }
    if bytes[2] != U8_TYPE {
        return Err(IdxError::UnsupportedType { code: bytes[2] });
    }
    if bytes[3] != ndims {
        return Err(IdxError::WrongDimensions { expected: ndims, found: bytes[3] });
    }
    let dims: Vec<u32> = bytes[4..header_len].chunks_exact(4).map(|b| u32::from_be_bytes(b.try_into().unwrap())).collect();
    let declared =
        dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d as usize)).ok_or_else(|| IdxError::SizeOverflow { dims: dims.clone() })?;
    let data = &bytes[header_len..];
    let actual = data.len();
    if actual < declared {
        return Err(IdxError::Truncated { dims, declared, actual });
    }
    if actual > declared {
        return Err(IdxError::TrailingBytes { dims, declared, actual });
    }
    Ok((dims, data))
}

/// IDX3 u8 images (magic 0x00000803), which must be 28×28.
///
/// Returns the image count and the pixels, row-major, `count * 784` bytes.
pub fn parse_images(bytes: &[u8]) -> Result<(usize, Vec<u8>), IdxError> {
    let (dims, data) = parse_idx(bytes, IMAGE_DIMS)?;
    let (count, rows, cols) = (dims[0] as usize, dims[1], dims[2]);
    if (rows as usize, cols as usize) != (IMAGE_SIDE, IMAGE_SIDE) {
        return Err(IdxError::WrongImageSize { rows, cols });
    }
    if count == 0 {
        return Err(IdxError::NoImages);
    }
    Ok((count, data.to_vec()))
}

/// IDX1 u8 labels (magic 0x00000801); each label must be below [`NUM_CLASSES`].
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    let (_, data) = parse_idx(bytes, LABEL_DIMS)?;
    check_labels(data)?;
    Ok(data.to_vec())
}

fn check_labels(labels: &[u8]) -> Result<(), IdxError> {
    match labels.iter().position(|&l| l as usize >= NUM_CLASSES) {
        Some(index) => Err(IdxError::LabelOutOfRange { index, label: labels[index] }),
        None => Ok(()),
    }
}

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
        check_labels(&labels)?;
        Ok(Self { images, labels })
    }

    /// Parses an IDX image file and an IDX label file; each may be gzipped.
    pub fn from_idx(image_bytes: &[u8], label_bytes: &[u8]) -> Result<Self, IdxError> {
        let (_, images) = parse_images(&maybe_gunzip(image_bytes)?)?;
        let labels = parse_labels(&maybe_gunzip(label_bytes)?)?;
        Self::new(images, labels)
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
