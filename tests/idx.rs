//! IDX parsing and its refusals of malformed input (batching and the bundled datasets are in
//! `data.rs`).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::borrow::Cow;
use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use latent_lab::data::{maybe_gunzip, maybe_gunzip_with_limit, parse_images, parse_labels, Dataset, IdxError, IMAGE_PIXELS, NUM_CLASSES};

/// An IDX file: zero magic, `type_code`, dimension count, big-endian dims, then `data`.
fn idx(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, type_code, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn image_file(count: usize) -> Vec<u8> {
    idx(0x08, &[count as u32, 28, 28], &common::pixels(count))
}

fn label_file(labels: &[u8]) -> Vec<u8> {
    idx(0x08, &[labels.len() as u32], labels)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Asserts that `message` names every number in `numbers`.
fn assert_mentions(err: &IdxError, numbers: &[&str]) {
    let message = err.to_string();
    for n in numbers {
        assert!(message.contains(n), "{message:?} should mention {n}");
    }
}

// ---- valid input ----

#[test]
fn parses_images_exactly() {
    let (count, got) = parse_images(&image_file(3)).unwrap();
    assert_eq!(count, 3);
    assert_eq!(got, common::pixels(3));
    assert_eq!(got[IMAGE_PIXELS + 1], 8); // image 1, pixel 1: 7 + 1
}

#[test]
fn parses_labels_exactly() {
    assert_eq!(parse_labels(&label_file(&[7, 0, 9, 3])).unwrap(), vec![7, 0, 9, 3]);
}

#[test]
fn gzipped_and_raw_give_the_same_dataset() {
    let (images, labels) = (image_file(4), label_file(&[1, 2, 3, 4]));
    let raw = Dataset::from_idx(&images, &labels).unwrap();
    let zipped = Dataset::from_idx(&gzip(&images), &gzip(&labels)).unwrap();
    assert_eq!(raw.len(), 4);
    assert_eq!(raw.pixels(), common::pixels(4).as_slice());
    assert_eq!(raw.labels(), &[1, 2, 3, 4]);
    assert_eq!(zipped.pixels(), raw.pixels());
    assert_eq!(zipped.labels(), raw.labels());
    assert_eq!(raw.image(2), &common::pixels(4)[2 * IMAGE_PIXELS..3 * IMAGE_PIXELS]);
    assert_eq!(raw.label(3), 4);
}

#[test]
fn raw_bytes_are_borrowed_not_copied() {
    let bytes = image_file(1);
    assert!(matches!(maybe_gunzip(&bytes).unwrap(), Cow::Borrowed(b) if b == bytes.as_slice()));
}

#[test]
fn concatenated_gzip_members_are_joined() {
    let bytes = image_file(2);
    let (head, tail) = bytes.split_at(100);
    let joined = [gzip(head), gzip(tail)].concat();
    assert_eq!(maybe_gunzip(&joined).unwrap().as_ref(), bytes.as_slice());
}

// ---- malformed input: one distinct error each ----

#[test]
fn shorter_than_the_header() {
    let err = parse_images(&[0, 0, 8, 3, 0]).unwrap_err();
    assert_eq!(err, IdxError::TooShort { len: 5, header_len: 16 });
    assert_mentions(&err, &["5", "16"]);
    let err = parse_labels(&[]).unwrap_err();
    assert_eq!(err, IdxError::TooShort { len: 0, header_len: 8 });
}

#[test]
fn wrong_magic() {
    let mut bytes = image_file(1);
    bytes[..2].copy_from_slice(b"PK");
    let err = parse_images(&bytes).unwrap_err();
    assert_eq!(err, IdxError::BadMagic { first: [0x50, 0x4b] });
    assert_mentions(&err, &["0x50", "0x4b"]);
}

#[test]
fn unsupported_data_type() {
    let bytes = idx(0x0d, &[1, 28, 28], &[0; 4 * IMAGE_PIXELS]);
    let err = parse_images(&bytes).unwrap_err();
    assert_eq!(err, IdxError::UnsupportedType { code: 0x0d });
    assert_mentions(&err, &["0x0d", "f32", "0x08"]);
}

#[test]
fn wrong_dimension_count() {
    // A label file where images are expected, and the other way round.
    let err = parse_images(&idx(0x08, &[8], &[0; 8])).unwrap_err();
    assert_eq!(err, IdxError::WrongDimensions { expected: 3, found: 1 });
    assert_mentions(&err, &["1 dimension", "3", "label file"]);
    let err = parse_labels(&image_file(1)).unwrap_err();
    assert_eq!(err, IdxError::WrongDimensions { expected: 1, found: 3 });
}

#[test]
fn data_shorter_than_declared() {
    let mut bytes = idx(0x08, &[60000, 28, 28], &[0; 1000]);
    let err = parse_images(&bytes).unwrap_err();
    let dims = vec![60000, 28, 28];
    assert_eq!(err, IdxError::Truncated { dims, declared: 47_040_000, actual: 1000 });
    assert_mentions(&err, &["60000 images", "28×28", "47040000", "1000"]);

    bytes = label_file(&[1, 2, 3]);
    bytes.pop();
    let err = parse_labels(&bytes).unwrap_err();
    assert_eq!(err, IdxError::Truncated { dims: vec![3], declared: 3, actual: 2 });
    assert_mentions(&err, &["3 labels", "2 bytes"]);
}

#[test]
fn trailing_bytes_after_the_data() {
    let mut bytes = image_file(2);
    bytes.extend_from_slice(&[0; 10]);
    let err = parse_images(&bytes).unwrap_err();
    let dims = vec![2, 28, 28];
    assert_eq!(err, IdxError::TrailingBytes { dims, declared: 1568, actual: 1578 });
    assert_mentions(&err, &["2 images", "1568", "1578", "10 too many"]);

    let mut bytes = label_file(&[1, 2]);
    bytes.push(3);
    let err = parse_labels(&bytes).unwrap_err();
    assert_eq!(err, IdxError::TrailingBytes { dims: vec![2], declared: 2, actual: 3 });
}

/// The claim is compared with the bytes present before anything is allocated; were it not,
/// this test would try to allocate 3.4 TB and abort.
#[cfg(target_pointer_width = "64")]
#[test]
fn absurd_count_is_refused_without_allocating() {
    let err = parse_images(&idx(0x08, &[u32::MAX, 28, 28], &[0; 4])).unwrap_err();
    let declared = u32::MAX as usize * IMAGE_PIXELS;
    let dims = vec![u32::MAX, 28, 28];
    assert_eq!(err, IdxError::Truncated { dims, declared, actual: 4 });
    assert_mentions(&err, &["4294967295 images", &declared.to_string()]);

    let err = parse_labels(&idx(0x08, &[u32::MAX], &[1])).unwrap_err();
    let (dims, declared) = (vec![u32::MAX], u32::MAX as usize);
    assert_eq!(err, IdxError::Truncated { dims, declared, actual: 1 });
}

#[test]
fn size_product_overflow() {
    let err = parse_images(&idx(0x08, &[u32::MAX; 3], &[])).unwrap_err();
    assert_eq!(err, IdxError::SizeOverflow { dims: vec![u32::MAX; 3] });
    assert_mentions(&err, &["4294967295 images of 4294967295×4294967295"]);
}

#[test]
fn images_must_be_28_by_28() {
    let err = parse_images(&idx(0x08, &[2, 32, 32], &[0; 2 * 32 * 32])).unwrap_err();
    assert_eq!(err, IdxError::WrongImageSize { rows: 32, cols: 32 });
    assert_mentions(&err, &["32×32", "28×28"]);
    let err = parse_images(&idx(0x08, &[1, 28, 27], &[0; 28 * 27])).unwrap_err();
    assert_eq!(err, IdxError::WrongImageSize { rows: 28, cols: 27 });
}

#[test]
fn zero_images() {
    let err = parse_images(&image_file(0)).unwrap_err();
    assert_eq!(err, IdxError::NoImages);
    assert_mentions(&err, &["0 images"]);
    assert_eq!(Dataset::new(vec![], vec![]).unwrap_err(), IdxError::NoImages);
}

#[test]
fn image_and_label_counts_must_agree() {
    let err = Dataset::from_idx(&image_file(3), &label_file(&[1, 2])).unwrap_err();
    assert_eq!(err, IdxError::CountMismatch { images: 3, labels: 2 });
    assert_mentions(&err, &["3 images", "2 labels"]);
    let err = Dataset::new(common::pixels(1), vec![1, 2]).unwrap_err();
    assert_eq!(err, IdxError::CountMismatch { images: 1, labels: 2 });
}

#[test]
fn pixel_buffer_must_hold_whole_images() {
    let err = Dataset::new(vec![0; 1000], vec![0]).unwrap_err();
    assert_eq!(err, IdxError::PartialImage { bytes: 1000 });
    assert_mentions(&err, &["1000", "784"]);
}

#[test]
fn labels_must_be_digit_classes() {
    let err = parse_labels(&label_file(&[3, 9, 12, 10])).unwrap_err();
    assert_eq!(err, IdxError::LabelOutOfRange { index: 2, label: 12 });
    assert_mentions(&err, &["12", "position 2", "9"]);
    let err = Dataset::new(common::pixels(2), vec![0, NUM_CLASSES as u8]).unwrap_err();
    assert_eq!(err, IdxError::LabelOutOfRange { index: 1, label: 10 });
}

#[test]
fn truncated_gzip() {
    let zipped = gzip(&image_file(2));
    for cut in [3, 20, zipped.len() / 2, zipped.len() - 1] {
        let err = maybe_gunzip(&zipped[..cut]).unwrap_err();
        assert!(matches!(err, IdxError::Gzip(_)), "cut at {cut}: {err:?}");
    }
    let err = Dataset::from_idx(&zipped[..zipped.len() - 4], &label_file(&[1, 2])).unwrap_err();
    assert!(matches!(err, IdxError::Gzip(_)), "{err:?}");
    assert!(err.to_string().contains("truncated or corrupted"));
}

#[test]
fn corrupted_gzip() {
    let mut zipped = gzip(&image_file(2));
    let last = zipped.len() - 1;
    // The stored CRC-32 (second-last trailer word) no longer matches the data.
    zipped[last - 4] ^= 0xff;
    assert!(matches!(maybe_gunzip(&zipped).unwrap_err(), IdxError::Gzip(_)));
    // An invalid deflate block type (0b11) right after the 10-byte header.
    let mut zipped = gzip(&image_file(2));
    zipped[10] = 0x07;
    assert!(matches!(maybe_gunzip(&zipped).unwrap_err(), IdxError::Gzip(_)));
}

/// A 4 MB file of concatenated gzip members that would inflate to 4 GiB: refused at the cap,
/// before the memory is taken (without the cap this test would run out of memory).
#[test]
fn gzip_bomb_stops_at_the_cap() {
    let limit = 1 << 20;
    let mut head = idx(0x08, &[u32::MAX, 28, 28], &[]);
    head.resize(limit, 0);
    let zeros = gzip(&vec![0; limit]);
    let mut bomb = gzip(&head);
    for _ in 0..4095 {
        bomb.extend_from_slice(&zeros);
    }
    assert!(bomb.len() < 8 << 20, "{} bytes", bomb.len());
    let err = maybe_gunzip_with_limit(&bomb, limit).unwrap_err();
    assert_eq!(err, IdxError::TooLarge { limit });
    assert_mentions(&err, &["1048576", "1 MiB"]);
    // Exactly at the cap is still fine.
    assert_eq!(maybe_gunzip_with_limit(&gzip(&head), limit).unwrap().len(), limit);
}
