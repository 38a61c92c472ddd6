//! The IDX format read from bytes: the error type every reader shares, gzip inflation with a
//! cap, and the slice parsers [`parse_images`] and [`parse_labels`].
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
//! capped for the same reason. [`crate::inspect`] reads one named file with these checks and
//! streams gzip so that a lying header inside a `.gz` is refused before it is inflated.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use crate::data::{IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES};

/// Largest inflated size [`maybe_gunzip`] accepts. MNIST's training images are 47 MB; the cap
/// leaves room for larger 28×28 sets while stopping a gzip bomb.
pub const GUNZIP_LIMIT: usize = 256 << 20;

pub(crate) const U8_TYPE: u8 = 0x08;
pub(crate) const IMAGE_DIMS: u8 = 3;
pub(crate) const LABEL_DIMS: u8 = 1;
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The two kinds of IDX file a dataset is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxKind {
    /// `count × 28 × 28` unsigned bytes, magic `0x00000803`.
    Images,
    /// `count` unsigned bytes below [`NUM_CLASSES`], magic `0x00000801`.
    Labels,
}

impl IdxKind {
    /// The header's dimension count for this kind.
    pub fn dims(self) -> u8 {
        match self {
            IdxKind::Images => IMAGE_DIMS,
            IdxKind::Labels => LABEL_DIMS,
        }
    }

    /// "an image file" or "a label file", for messages.
    pub fn noun(self) -> &'static str {
        match self {
            IdxKind::Images => "an image file",
            IdxKind::Labels => "a label file",
        }
    }

    /// The kind a dataset pairs this one with.
    pub fn other(self) -> IdxKind {
        match self {
            IdxKind::Images => IdxKind::Labels,
            IdxKind::Labels => IdxKind::Images,
        }
    }
}

/// Why a file could not be read as an IDX image or label file. Each message states the defect
/// and what was expected; [`crate::inspect::FileError`] adds the file's name.
#[derive(Debug, Clone, PartialEq)]
pub enum IdxError {
    /// Zero bytes (or a gzip stream that inflates to nothing).
    Empty,
    /// The header's dimension count is neither 3 (images) nor 1 (labels).
    UnknownDimensions { found: u8 },
    /// A sound file of the other kind: `found` describes it ("10000 labels").
    WrongKind { expected: IdxKind, found: String },
    /// A label file with no labels.
    NoLabels,
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
            Self::Empty => write!(f, "the file is empty (0 bytes); an IDX file starts with a header of at least 8 bytes"),
            Self::UnknownDimensions { found } => write!(
                f,
                "the header declares {found} dimension(s), but IDX image files have 3 (count, rows, columns) and label files 1 (count)"
            ),
            Self::WrongKind { expected, found } => {
                write!(f, "this is {} ({found}), but {} was expected here", expected.other().noun(), expected.noun())
            }
            Self::NoLabels => write!(f, "the file holds 0 labels; at least one is needed"),
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
            Self::SizeOverflow { dims } => {
                write!(f, "the header declares {}, more bytes than this machine can address: the header is corrupt", describe(dims))
            }
            Self::Truncated { dims, declared, actual } if *declared > GUNZIP_LIMIT => write!(
                f,
                "the header declares {} = {declared} bytes, an absurd size (no dataset here exceeds {} MiB), but the \
                 file holds only {actual} bytes after the header: the header is corrupt",
                describe(dims),
                GUNZIP_LIMIT >> 20
            ),
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
pub(crate) fn describe(dims: &[u32]) -> String {
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

/// Checks the first four header bytes (zero magic, u8 type) and returns the dimension count.
pub(crate) fn check_prefix(prefix: &[u8; 4]) -> Result<u8, IdxError> {
    if prefix[..2] != [0, 0] {
        return Err(IdxError::BadMagic { first: [prefix[0], prefix[1]] });
    }
    if prefix[2] != U8_TYPE {
        return Err(IdxError::UnsupportedType { code: prefix[2] });
    }
    Ok(prefix[3])
}

/// The big-endian dimensions after the prefix, and their product: the data length they declare.
pub(crate) fn dims_and_size(dim_bytes: &[u8]) -> Result<(Vec<u32>, usize), IdxError> {
    let dims: Vec<u32> = dim_bytes.chunks_exact(4).map(|b| u32::from_be_bytes(b.try_into().unwrap())).collect();
    match dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d as usize)) {
        Some(declared) => Ok((dims, declared)),
        None => Err(IdxError::SizeOverflow { dims }),
    }
}

/// Checks an IDX header of `ndims` dimensions and that the data length matches it exactly.
/// Returns the dimensions and the data bytes.
fn parse_idx(bytes: &[u8], ndims: u8) -> Result<(Vec<u32>, &[u8]), IdxError> {
    let header_len = 4 + 4 * ndims as usize;
    if bytes.len() < header_len {
        return Err(IdxError::TooShort { len: bytes.len(), header_len });
    }
    let found = check_prefix(bytes[..4].try_into().unwrap())?;
    if found != ndims {
        return Err(IdxError::WrongDimensions { expected: ndims, found });
    }
    let (dims, declared) = dims_and_size(&bytes[4..header_len])?;
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

pub(crate) fn check_labels(labels: &[u8]) -> Result<(), IdxError> {
    match labels.iter().position(|&l| l as usize >= NUM_CLASSES) {
        Some(index) => Err(IdxError::LabelOutOfRange { index, label: labels[index] }),
        None => Ok(()),
    }
}
