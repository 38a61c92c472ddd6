//! Every malformed kind of IDX upload, built here, gets a message naming the file, its defect
//! and what was expected; pairing problems name both files. Covers `inspect`, `check_pairs`,
//! `Dataset::from_named_idx` and the unnamed `Dataset::from_idx` that shares the reader.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use latent_lab::data::{Dataset, IMAGE_PIXELS};
use latent_lab::inspect::{check_pairs, inspect, FileError, IdxContent, IdxError, IdxFile, IdxKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn images(count: usize) -> Vec<u8> {
    let pixels: Vec<u8> = (0..count * IMAGE_PIXELS).map(|k| (k % 251) as u8).collect();
    common::idx(&[count as u32, 28, 28], &pixels)
}

fn labels(values: &[u8]) -> Vec<u8> {
    common::idx(&[values.len() as u32], values)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Inspects `bytes` as `name`, expects a defect, and checks that the message names the file
/// and contains every phrase in `phrases`. Returns the defect for exact matching.
fn defect(name: &str, bytes: &[u8], phrases: &[&str]) -> IdxError {
    let err = inspect(name, bytes).expect_err("a malformed file was accepted");
    assert_named(&err, name, phrases);
    match err {
        FileError::Defect { file, defect } => {
            assert_eq!(file, name);
            defect
        }
        other => panic!("expected a defect of {name}, got {other:?}"),
    }
}

fn assert_named(err: &FileError, name: &str, phrases: &[&str]) {
    let message = err.to_string();
    assert!(message.starts_with(&format!("{name}: ")) || message.contains(name), "{message:?} does not name {name}");
    for p in phrases {
        assert!(message.contains(p), "{message:?} should mention {p:?}");
    }
}

#[test]
fn sound_files_say_what_they_are() {
    let file = inspect("train-images-idx3-ubyte", &images(3)).unwrap();
    assert_eq!(file.content, IdxContent::Images { count: 3, rows: 28, cols: 28 });
    assert!(!file.gzipped);
    assert_eq!(file.data().len(), 3 * IMAGE_PIXELS);
    let file = inspect("t10k-labels-idx1-ubyte.gz", &gzip(&labels(&[7, 0, 9, 3]))).unwrap();
    assert_eq!(file.content, IdxContent::Labels { count: 4, max_label: 9 });
    assert!(file.gzipped);
    assert_eq!(file.data(), &[7, 0, 9, 3]);
    assert_eq!((file.kind(), file.count()), (IdxKind::Labels, 4));
    assert_eq!(inspect("x", &gzip(&images(2))).unwrap().data(), inspect("y", &images(2)).unwrap().data());
}

#[test]
fn truncated_raw_file() {
    let mut bytes = images(3);
    bytes.truncate(bytes.len() - 100);
    let d = defect("train-images-idx3-ubyte", &bytes, &["3 images of 28×28", "2352 bytes", "2252 bytes", "cut short"]);
    assert!(matches!(d, IdxError::Truncated { declared: 2352, actual: 2252, .. }), "{d:?}");
    // Cut inside the header.
    let d = defect("a.idx", &images(1)[..10], &["10 bytes", "16-byte"]);
    assert_eq!(d, IdxError::TooShort { len: 10, header_len: 16 });
}

#[test]
fn truncated_gzip_stream() {
    let zipped = gzip(&images(3));
    for cut in [12, zipped.len() / 2, zipped.len() - 3] {
        let d = defect("train-images-idx3-ubyte.gz", &zipped[..cut], &["gzip data is broken"]);
        assert!(matches!(d, IdxError::Gzip(_)), "cut at {cut}: {d:?}");
    }
}

#[test]
fn broken_gzip_stream() {
    let mut zipped = gzip(&images(3));
    let crc = zipped.len() - 8;
    zipped[crc] ^= 0xff;
    assert!(matches!(defect("imgs.gz", &zipped, &["gzip data is broken"]), IdxError::Gzip(_)));
    let mut zipped = gzip(&images(3));
    zipped[10] = 0x07; // an invalid deflate block type
    assert!(matches!(defect("imgs.gz", &zipped, &["gzip data is broken"]), IdxError::Gzip(_)));
}

#[test]
fn trailing_bytes_raw_and_gzipped() {
    let mut bytes = images(2);
    bytes.extend_from_slice(&[0; 10]);
    let d = defect("imgs", &bytes, &["10 too many", "1568"]);
    assert!(matches!(d, IdxError::TrailingBytes { declared: 1568, actual: 1578, .. }));
    let d = defect("imgs.gz", &gzip(&bytes), &["10 too many", "1578"]);
    assert!(matches!(d, IdxError::TrailingBytes { declared: 1568, actual: 1578, .. }));
}

#[test]
fn wrong_magic() {
    let mut bytes = images(1);
    bytes[..2].copy_from_slice(b"PK");
    let d = defect("digits.zip", &bytes, &["not an IDX file", "two zero bytes", "0x50 0x4b"]);
    assert_eq!(d, IdxError::BadMagic { first: *b"PK" });
    let mut bytes = images(1);
    bytes[2] = 0x0d;
    assert_eq!(defect("floats.idx", &bytes, &["0x0d", "f32", "only 0x08"]), IdxError::UnsupportedType { code: 0x0d });
    let mut bytes = images(1);
    bytes[3] = 2;
    assert_eq!(
        defect("matrix.idx", &bytes, &["2 dimension", "image files have 3", "label files 1"]),
        IdxError::UnknownDimensions { found: 2 }
    );
}

#[test]
fn images_of_the_wrong_size() {
    let bytes = common::idx(&[2, 32, 32], &[0; 2 * 32 * 32]);
    let d = defect("cifar-gray-idx3-ubyte", &bytes, &["32×32", "28×28"]);
    assert_eq!(d, IdxError::WrongImageSize { rows: 32, cols: 32 });
    assert_eq!(defect("x.gz", &gzip(&bytes), &["32×32"]), IdxError::WrongImageSize { rows: 32, cols: 32 });
}

/// 10000 images of 65535×65535 declared, 7840 bytes present: refused from the header and the
/// length alone (raw) or after inflating only what the stream holds (gzip); were the claim
/// believed, this would allocate 43 TB.
#[test]
fn absurd_header() {
    let bytes = common::idx(&[10000, 65535, 65535], &[0; 7840]);
    let phrases = ["10000 images of 65535×65535", "absurd", "7840 bytes", "header is corrupt"];
    let d = defect("train-images-idx3-ubyte", &bytes, &phrases);
    assert!(matches!(d, IdxError::Truncated { actual: 7840, .. }), "{d:?}");
    let d = defect("train-images-idx3-ubyte.gz", &gzip(&bytes), &phrases);
    assert!(matches!(d, IdxError::Truncated { actual: 7840, .. }), "{d:?}");
    // Overflowing even a u64 is its own message.
    let d = defect("huge", &common::idx(&[u32::MAX; 3], &[]), &["more bytes than this machine can address"]);
    assert!(matches!(d, IdxError::SizeOverflow { .. }));
}

#[test]
fn label_file_in_the_images_slot_and_the_other_way_round() {
    let err = IdxFile::read_as("train-labels-idx1-ubyte", &labels(&[1, 2, 3]), IdxKind::Images).unwrap_err();
    assert_named(&err, "train-labels-idx1-ubyte", &["this is a label file (3 labels, the largest 3)", "an image file was expected"]);
    let err = IdxFile::read_as("t10k-images-idx3-ubyte.gz", &gzip(&images(2)), IdxKind::Labels).unwrap_err();
    assert_named(&err, "t10k-images-idx3-ubyte.gz", &["this is an image file (2 images of 28×28)", "a label file was expected"]);
    // A defective file in the wrong slot reports its own defect first.
    let err = IdxFile::read_as("bad-labels", &labels(&[1, 200]), IdxKind::Images).unwrap_err();
    assert_named(&err, "bad-labels", &["label 200 at position 1"]);
}

#[test]
fn label_out_of_range() {
    let d = defect("train-labels-idx1-ubyte", &labels(&[3, 9, 12, 10]), &["label 12 at position 2", "between 0 and 9"]);
    assert_eq!(d, IdxError::LabelOutOfRange { index: 2, label: 12 });
}

#[test]
fn empty_files_and_empty_contents() {
    assert_eq!(defect("empty.gz", &[], &["empty", "0 bytes"]), IdxError::Empty);
    assert_eq!(defect("nothing.gz", &gzip(&[]), &["empty"]), IdxError::Empty);
    assert_eq!(defect("no-images", &images(0), &["0 images"]), IdxError::NoImages);
    assert_eq!(defect("no-labels", &labels(&[]), &["0 labels"]), IdxError::NoLabels);
}

#[test]
fn random_bytes() {
    let mut rng = StdRng::seed_from_u64(11);
    for len in [1, 3, 100, 5000] {
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        bytes[0] = bytes[0].max(1); // not accidentally an IDX or gzip prefix
        if bytes[0] == 0x1f {
            bytes[0] = 0x20;
        }
        let d = defect("photo.jpg", &bytes, &[]);
        assert!(matches!(d, IdxError::BadMagic { .. } | IdxError::TooShort { .. }), "{len} bytes: {d:?}");
    }
    // Random bytes behind a gzip magic: a broken stream.
    let mut bytes: Vec<u8> = (0..300).map(|_| rng.random()).collect();
    bytes[..2].copy_from_slice(&[0x1f, 0x8b]);
    assert!(matches!(defect("noise.gz", &bytes, &["gzip"]), IdxError::Gzip(_)));
}

#[test]
fn pairing_names_both_files() {
    let read = |name: &str, bytes: Vec<u8>| inspect(name, &bytes).unwrap();
    let train_images = read("train-images", images(3));
    let train_labels = read("train-labels", labels(&[1, 2, 3]));
    let test_images = read("t10k-images", images(2));
    let test_labels = read("t10k-labels", labels(&[4, 5, 6]));
    let err = check_pairs(&train_images, &train_labels, &test_images, &test_labels).unwrap_err();
    assert_eq!(err.files(), vec!["t10k-images", "t10k-labels"]);
    let message = err.to_string();
    for p in ["test set", "t10k-images holds 2 images", "t10k-labels holds 3 labels", "one label per image"] {
        assert!(message.contains(p), "{message:?} should mention {p:?}");
    }
    // Sound files in swapped slots: the file in the wrong slot is named.
    let err = check_pairs(&train_labels, &train_images, &test_images, &test_labels).unwrap_err();
    assert_named(&err, "train-labels", &["an image file was expected"]);
    let test_labels = read("t10k-labels", labels(&[4, 5]));
    check_pairs(&train_images, &train_labels, &test_images, &test_labels).unwrap();
}

#[test]
fn named_dataset_reads_through_the_same_checks() {
    let data = Dataset::from_named_idx("i.gz", &gzip(&images(2)), "l", &labels(&[3, 4])).unwrap();
    assert_eq!((data.len(), data.labels()), (2, &[3u8, 4][..]));
    let mut cut = images(2);
    cut.pop();
    let err = Dataset::from_named_idx("train-images", &cut, "train-labels", &labels(&[3, 4])).unwrap_err();
    assert_named(&err, "train-images", &["cut short"]);
    let err = Dataset::from_named_idx("train-images", &images(2), "train-labels", &labels(&[3])).unwrap_err();
    assert_eq!(err.files(), vec!["train-images", "train-labels"]);
    // The unnamed reader refuses the same absurd gzip header with the same defect.
    let absurd = gzip(&common::idx(&[10000, 65535, 65535], &[0; 7840]));
    assert!(matches!(Dataset::from_idx(&absurd, &labels(&[1])).unwrap_err(), IdxError::Truncated { actual: 7840, .. }));
    assert!(matches!(Dataset::from_idx(&labels(&[1]), &labels(&[1])).unwrap_err(), IdxError::WrongKind { expected: IdxKind::Images, .. }));
}
