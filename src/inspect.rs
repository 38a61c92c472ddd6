//! One IDX file checked on its own, by name, then the pairing of image and label files.
//!
//! # Why two stages
//!
//! A dataset is four files: train and test, images and labels. If they are sorted into those
//! slots by their headers before each is checked, a defect in one file (cut short, broken
//! gzip, 32×32 images, a corrupt header) surfaces as a pairing problem between two files
//! ("10000 images but 60000 labels") that names neither the file nor its defect. So:
//!
//! 1. [`inspect`] reads one file, raw or gzipped, and either says what it is
//!    ([`IdxContent`]: images with count and size, or labels with count and largest label) or
//!    returns a [`FileError::Defect`] naming the file, its defect and what was expected.
//! 2. Only files that passed go to [`pair_split`] / [`check_pairs`], whose
//!    [`FileError::CountMismatch`] names both files of a pair.
//!
//! # Bounded allocation
//!
//! The header is read and checked before the data. A raw file's declared size is compared with
//! its length before the data is copied. A gzip stream is inflated incrementally: the buffer
//! grows only as inflated bytes arrive and never past the declared size (plus one byte, to
//! detect trailing data) or [`GUNZIP_LIMIT`]; since deflate expands at most ~1032:1, memory is
//! bounded by the compressed length, and a `.gz` whose header claims 65535×65535 images is
//! refused after inflating only what it really holds.

use std::fmt;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use crate::data::{IMAGE_SIDE, NUM_CLASSES};
use crate::idx::{check_labels, check_prefix, dims_and_size, GZIP_MAGIC};
pub use crate::idx::{IdxError, IdxKind, GUNZIP_LIMIT};

/// What one sound IDX file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdxContent {
    Images { count: usize, rows: usize, cols: usize },
    Labels { count: usize, max_label: u8 },
}

impl IdxContent {
    pub fn kind(&self) -> IdxKind {
        match self {
            IdxContent::Images { .. } => IdxKind::Images,
            IdxContent::Labels { .. } => IdxKind::Labels,
        }
    }

    /// Number of images or labels.
    pub fn count(&self) -> usize {
        match *self {
            IdxContent::Images { count, .. } | IdxContent::Labels { count, .. } => count,
        }
    }
}

impl fmt::Display for IdxContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdxContent::Images { count, rows, cols } => write!(f, "{count} images of {rows}×{cols}"),
            IdxContent::Labels { count, max_label } => write!(f, "{count} labels, the largest {max_label}"),
        }
    }
}

/// A file that passed every check on its own: its name, what it holds and its data bytes
/// (`count × 784` pixels or `count` labels).
#[derive(Debug, Clone)]
pub struct IdxFile {
    pub name: String,
    /// Whether the bytes were gzipped.
    pub gzipped: bool,
    pub content: IdxContent,
    data: Vec<u8>,
}

impl IdxFile {
    /// Same as [`inspect`].
    pub fn read(name: &str, bytes: &[u8]) -> Result<Self, FileError> {
        let raw = read_idx(bytes, None).map_err(|defect| FileError::defect(name, defect))?;
        Ok(Self { name: name.to_string(), gzipped: raw.gzipped, content: raw.content, data: raw.data })
    }

    /// [`inspect`], then a sound file of the other kind is a [`IdxError::WrongKind`] defect.
    pub fn read_as(name: &str, bytes: &[u8], kind: IdxKind) -> Result<Self, FileError> {
        let file = Self::read(name, bytes)?;
        file.expect(kind)?;
        Ok(file)
    }

    /// Ok if this file is of `kind`; else a defect naming it and saying what it is instead.
    pub fn expect(&self, kind: IdxKind) -> Result<(), FileError> {
        if self.content.kind() == kind {
            return Ok(());
        }
        Err(FileError::defect(&self.name, IdxError::WrongKind { expected: kind, found: self.content.to_string() }))
    }

    pub fn kind(&self) -> IdxKind {
        self.content.kind()
    }

    pub fn count(&self) -> usize {
        self.content.count()
    }

    /// Pixels (image after image, row-major) or labels.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }
}

/// Checks one file on its own: `name` is only used in messages. The bytes may be gzipped.
pub fn inspect(name: &str, bytes: &[u8]) -> Result<IdxFile, FileError> {
    IdxFile::read(name, bytes)
}

/// Why one file, or a pair of files, cannot make a dataset. Every message names the file(s).
#[derive(Debug, Clone, PartialEq)]
pub enum FileError {
    /// The file is defective on its own (or of the wrong kind for its slot).
    Defect { file: String, defect: IdxError },
    /// Two sound files that do not pair: one label per image is needed.
    CountMismatch { split: String, images_file: String, images: usize, labels_file: String, labels: usize },
}

impl FileError {
    pub fn defect(file: &str, defect: IdxError) -> Self {
        FileError::Defect { file: file.to_string(), defect }
    }

    /// The names of the files at fault.
    pub fn files(&self) -> Vec<&str> {
        match self {
            FileError::Defect { file, .. } => vec![file],
            FileError::CountMismatch { images_file, labels_file, .. } => vec![images_file, labels_file],
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Defect { file, defect } => write!(f, "{file}: {defect}"),
            FileError::CountMismatch { split, images_file, images, labels_file, labels } => {
                let split = if split.is_empty() { String::new() } else { format!("{split}: ") };
                write!(
                    f,
                    "{split}{images_file} holds {images} images but {labels_file} holds {labels} labels; an image file and its \
                     label file must come from the same split, one label per image"
                )
            }
        }
    }
}

impl std::error::Error for FileError {}

/// Checks that `images` and `labels` are of those kinds and hold as many entries. `split`
/// ("training set", "test set" or "") only words the message.
pub fn pair_split(split: &str, images: &IdxFile, labels: &IdxFile) -> Result<(), FileError> {
    images.expect(IdxKind::Images)?;
    labels.expect(IdxKind::Labels)?;
    if images.count() != labels.count() {
        return Err(FileError::CountMismatch {
            split: split.to_string(),
            images_file: images.name.clone(),
            images: images.count(),
            labels_file: labels.name.clone(),
            labels: labels.count(),
        });
    }
    Ok(())
}

/// The pairing check over the four files of a dataset, each already accepted by [`inspect`].
pub fn check_pairs(train_images: &IdxFile, train_labels: &IdxFile, test_images: &IdxFile, test_labels: &IdxFile) -> Result<(), FileError> {
    pair_split("training set", train_images, train_labels)?;
    pair_split("test set", test_images, test_labels)
}

/// A file's checked content and data, before it is given a name.
pub(crate) struct RawIdx {
    pub content: IdxContent,
    pub data: Vec<u8>,
    pub gzipped: bool,
}

/// Fills `buf` from `reader` as far as the stream goes; returns how many bytes were read.
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> Result<usize, IdxError> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(IdxError::Gzip(e.to_string())),
        }
    }
    Ok(got)
}

/// The single reader behind [`inspect`] and [`crate::data::Dataset::from_idx`]: header, then
/// size against the bytes present, then data, then kind-specific checks. With `expected`, a
/// sound file of the other kind is [`IdxError::WrongKind`].
pub(crate) fn read_idx(bytes: &[u8], expected: Option<IdxKind>) -> Result<RawIdx, IdxError> {
    read_idx_into(bytes, expected, Vec::new())
}

/// [`read_idx`] that writes the data into `buffer` (cleared first), reusing its capacity: a
/// session that swaps datasets refills the previous one's buffers instead of freeing them and
/// allocating anew, which in the never-shrinking wasm heap fragments into growth.
pub(crate) fn read_idx_into(bytes: &[u8], expected: Option<IdxKind>, buffer: Vec<u8>) -> Result<RawIdx, IdxError> {
    if bytes.is_empty() {
        return Err(IdxError::Empty);
    }
    let gzipped = bytes.starts_with(&GZIP_MAGIC);
    let mut reader: Box<dyn Read + '_> = if gzipped { Box::new(MultiGzDecoder::new(bytes)) } else { Box::new(bytes) };

    let mut prefix = [0u8; 4];
    let got = read_up_to(&mut reader, &mut prefix)?;
    if got == 0 {
        return Err(IdxError::Empty);
    }
    if got >= 2 && prefix[..2] != [0, 0] {
        return Err(IdxError::BadMagic { first: [prefix[0], prefix[1]] });
    }
    if got < 4 {
        return Err(IdxError::TooShort { len: got, header_len: 8 });
    }
    let ndims = check_prefix(&prefix)?;
    let kind = match ndims {
        3 => IdxKind::Images,
        1 => IdxKind::Labels,
        found => return Err(IdxError::UnknownDimensions { found }),
    };
    let header_len = 4 + 4 * ndims as usize;
    let mut dim_bytes = [0u8; 12];
    let dim_bytes = &mut dim_bytes[..4 * ndims as usize];
    let got = read_up_to(&mut reader, dim_bytes)?;
    if got < dim_bytes.len() {
        return Err(IdxError::TooShort { len: 4 + got, header_len });
    }
    let (dims, declared) = dims_and_size(dim_bytes)?;

    let data = if gzipped {
        inflate_data(reader, &dims, declared, header_len, bytes.len(), buffer)?
    } else {
        raw_data(bytes, dims.clone(), declared, header_len, buffer)?
    };

    let content = match kind {
        IdxKind::Images => {
            let (count, rows, cols) = (dims[0] as usize, dims[1], dims[2]);
            if (rows as usize, cols as usize) != (IMAGE_SIDE, IMAGE_SIDE) {
                return Err(IdxError::WrongImageSize { rows, cols });
            }
            if count == 0 {
                return Err(IdxError::NoImages);
            }
            IdxContent::Images { count, rows: rows as usize, cols: cols as usize }
        }
        IdxKind::Labels => {
            if data.is_empty() {
                return Err(IdxError::NoLabels);
            }
            check_labels(&data)?;
            let max_label = data.iter().copied().max().unwrap_or(0);
            debug_assert!((max_label as usize) < NUM_CLASSES);
            IdxContent::Labels { count: data.len(), max_label }
        }
    };
    if let Some(expected) = expected {
        if expected != kind {
            return Err(IdxError::WrongKind { expected, found: content.to_string() });
        }
    }
    Ok(RawIdx { content, data, gzipped })
}

/// A raw file: the data length is known, so the claim is checked before the copy.
fn raw_data(bytes: &[u8], dims: Vec<u32>, declared: usize, header_len: usize, mut buffer: Vec<u8>) -> Result<Vec<u8>, IdxError> {
    let actual = bytes.len() - header_len;
    if actual < declared {
        return Err(IdxError::Truncated { dims, declared, actual });
    }
    if actual > declared {
        return Err(IdxError::TrailingBytes { dims, declared, actual });
    }
    buffer.clear();
    buffer.extend_from_slice(&bytes[header_len..]);
    Ok(buffer)
}

/// A gzip stream after its header: inflates at most `declared + 1` bytes (the one extra tells
/// trailing data) into `data` (cleared, its capacity reused), then counts any trailing data
/// without storing it. The stream is always read to its end, so a bad CRC is caught.
fn inflate_data(
    reader: Box<dyn Read + '_>,
    dims: &[u32],
    declared: usize,
    header_len: usize,
    gz_len: usize,
    mut data: Vec<u8>,
) -> Result<Vec<u8>, IdxError> {
    let room = GUNZIP_LIMIT - header_len;
    let want = declared.min(room);
    data.clear();
    // Deflate expands at most ~1032:1: a capacity hint beyond that could never be filled.
    data.reserve(want.min(gz_len.saturating_mul(1032)));
    let mut reader = reader.take(want as u64 + 1);
    reader.read_to_end(&mut data).map_err(|e| IdxError::Gzip(e.to_string()))?;
    let n = data.len();
    if n <= want {
        if n < declared {
            return Err(IdxError::Truncated { dims: dims.to_vec(), declared, actual: n });
        }
        return Ok(data);
    }
    if declared > room {
        return Err(IdxError::TooLarge { limit: GUNZIP_LIMIT });
    }
    // More than declared: count the rest (up to the cap) to say how much.
    drop(data);
    let mut rest = reader.into_inner().take(room.saturating_sub(n) as u64 + 1);
    let extra = io::copy(&mut rest, &mut io::sink()).map_err(|e| IdxError::Gzip(e.to_string()))? as usize;
    if n + extra > room {
        return Err(IdxError::TooLarge { limit: GUNZIP_LIMIT });
    }
    Err(IdxError::TrailingBytes { dims: dims.to_vec(), declared, actual: n + extra })
}
