//! The student's four files in any order: sorted into roles by header, name and size, and
//! every defect reported against the file that has it before any pairing is looked at.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use latent_lab::data::IMAGE_PIXELS;
use latent_lab::inspect::{FileError, IdxError, IdxKind};
use latent_lab::model::ModelConfig;
use latent_lab::session::Session;
use latent_lab::train::TrainConfig;
use latent_lab::upload::{sort_upload, SortedUpload, UploadError};

/// `count` images whose every pixel is `shade`: which file a dataset came from shows in its pixels.
fn images(count: usize, shade: u8) -> Vec<u8> {
    common::idx(&[count as u32, 28, 28], &vec![shade; count * IMAGE_PIXELS])
}

fn labels(count: usize, label: u8) -> Vec<u8> {
    common::idx(&[count as u32], &vec![label; count])
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A good upload with MNIST's names: 6 training and 4 test images; training pixels are 1 and
/// labels 1, test pixels 2 and labels 2.
fn good() -> Vec<(String, Vec<u8>)> {
    vec![
        ("train-images-idx3-ubyte.gz".into(), gzip(&images(6, 1))),
        ("train-labels-idx1-ubyte.gz".into(), gzip(&labels(6, 1))),
        ("t10k-images-idx3-ubyte".into(), images(4, 2)),
        ("t10k-labels-idx1-ubyte".into(), labels(4, 2)),
    ]
}

fn sort(files: &[(String, Vec<u8>)]) -> Result<SortedUpload, UploadError> {
    let named: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    sort_upload(&named)
}

/// `good()` with file `role` (0–3) replaced by `name` and `bytes`.
fn with(role: usize, name: &str, bytes: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let mut files = good();
    files[role] = (name.to_string(), bytes);
    files
}

/// The upload is refused with a message that names `name` and contains every phrase, and
/// that is the file's own defect, not a pairing problem.
fn refused(files: &[(String, Vec<u8>)], name: &str, phrases: &[&str]) -> UploadError {
    let err = sort(files).expect_err("a malformed upload was accepted");
    let message = err.to_string();
    assert!(message.contains(name), "{message:?} does not name {name}");
    assert!(err.files().contains(&name), "{:?} does not list {name}", err.files());
    for p in phrases {
        assert!(message.contains(p), "{message:?} should mention {p:?}");
    }
    err
}

fn defect_of(err: &UploadError) -> &IdxError {
    match err {
        UploadError::Defects(errors) => match &errors[..] {
            [FileError::Defect { defect, .. }] => defect,
            other => panic!("expected one defect, got {other:?}"),
        },
        other => panic!("expected a file's own defect, got {other:?}"),
    }
}

/// Every permutation of 0..4 (24), to give the files in every order.
fn permutations() -> Vec<[usize; 4]> {
    let mut out = Vec::new();
    for a in 0..4 {
        for b in (0..4).filter(|&b| b != a) {
            for c in (0..4).filter(|&c| c != a && c != b) {
                out.push([a, b, c, 6 - a - b - c]);
            }
        }
    }
    out
}

#[test]
fn any_order_is_sorted_into_the_four_roles() {
    let files = good();
    for perm in permutations() {
        let shuffled: Vec<_> = perm.iter().map(|&k| files[k].clone()).collect();
        let upload = sort(&shuffled).unwrap();
        // order[role] is where that role's file sits in the shuffled list.
        assert_eq!(upload.order.map(|i| perm[i]), [0, 1, 2, 3], "given in order {perm:?}");
        assert_eq!((upload.train.len(), upload.test.len()), (6, 4));
        assert!(upload.train.pixels().iter().all(|&p| p == 1) && upload.train.labels().iter().all(|&l| l == 1));
        assert!(upload.test.pixels().iter().all(|&p| p == 2) && upload.test.labels().iter().all(|&l| l == 2));
    }
}

#[test]
fn names_that_say_nothing_sort_by_size_and_names_win_over_size() {
    let renamed: Vec<_> = good().into_iter().zip(["d", "c", "b", "a"]).map(|((_, bytes), name)| (name.to_string(), bytes)).collect();
    let upload = sort(&renamed).unwrap();
    assert_eq!(upload.order, [0, 1, 2, 3]);
    assert_eq!(upload.train.len(), 6);
    // A test set larger than the training set, named as such: the names decide.
    let files = vec![
        ("my-train-images".to_string(), images(3, 1)),
        ("my-train-labels".to_string(), labels(3, 1)),
        ("my-test-images".to_string(), images(5, 2)),
        ("my-test-labels".to_string(), labels(5, 2)),
    ];
    let upload = sort(&files).unwrap();
    assert_eq!((upload.train.len(), upload.test.len()), (3, 5));
}

#[test]
fn equal_sizes_and_silent_names_ask_for_names() {
    let files = vec![
        ("a".to_string(), images(4, 1)),
        ("b".to_string(), labels(4, 1)),
        ("c".to_string(), images(4, 2)),
        ("d".to_string(), labels(4, 2)),
    ];
    let err = refused(&files, "a", &["both image files (a, c) hold 4 images", "\"train\" in one name"]);
    assert_eq!(err, UploadError::SplitUnclear { kind: IdxKind::Images, first: "a".into(), second: "c".into(), count: 4 });
}

#[test]
fn a_truncated_file_is_named_with_its_defect_not_a_pairing_problem() {
    let mut cut = images(6, 1);
    cut.truncate(cut.len() - 700);
    let err = refused(&with(0, "train-images-idx3-ubyte", cut), "train-images-idx3-ubyte", &["6 images of 28×28", "cut short"]);
    assert!(matches!(defect_of(&err), IdxError::Truncated { declared: 4704, actual: 4004, .. }));
    assert!(!err.to_string().contains("labels"), "not a pairing message: {err}");
    // Gzipped and cut: a broken stream.
    let zipped = gzip(&images(6, 1));
    let err = refused(&with(0, "train-images-idx3-ubyte.gz", zipped[..zipped.len() / 2].to_vec()), "train-images-idx3-ubyte.gz", &["gzip"]);
    assert!(matches!(defect_of(&err), IdxError::Gzip(_)));
}

#[test]
fn each_kind_of_defect_names_the_file() {
    let mut magic = labels(4, 2);
    magic[..2].copy_from_slice(b"PK");
    let err = refused(&with(3, "t10k-labels.zip", magic), "t10k-labels.zip", &["not an IDX file", "0x50 0x4b"]);
    assert_eq!(defect_of(&err), &IdxError::BadMagic { first: *b"PK" });

    let mut broken = gzip(&images(4, 2));
    let crc = broken.len() - 8;
    broken[crc] ^= 0xff;
    let err = refused(&with(2, "t10k-images.gz", broken), "t10k-images.gz", &["gzip data is broken"]);
    assert!(matches!(defect_of(&err), IdxError::Gzip(_)));

    let big = common::idx(&[4, 32, 32], &[0; 4 * 32 * 32]);
    let err = refused(&with(2, "t10k-images-32", big), "t10k-images-32", &["32×32", "28×28"]);
    assert_eq!(defect_of(&err), &IdxError::WrongImageSize { rows: 32, cols: 32 });

    let absurd = gzip(&common::idx(&[10000, 65535, 65535], &[0; 7840]));
    let err = refused(&with(0, "train-images.gz", absurd), "train-images.gz", &["65535×65535", "header is corrupt"]);
    assert!(matches!(defect_of(&err), IdxError::Truncated { actual: 7840, .. }));

    let mut out_of_range = labels(6, 1);
    *out_of_range.last_mut().unwrap() = 10;
    let err = refused(&with(1, "train-labels", out_of_range), "train-labels", &["label 10 at position 5", "between 0 and 9"]);
    assert_eq!(defect_of(&err), &IdxError::LabelOutOfRange { index: 5, label: 10 });

    let err = refused(&with(1, "train-labels", Vec::new()), "train-labels", &["empty", "0 bytes"]);
    assert_eq!(defect_of(&err), &IdxError::Empty);

    // Bytes that are no IDX file (a fixed pattern, so the first bytes are not zero).
    let noise: Vec<u8> = (0..5000u32).map(|k| (k.wrapping_mul(2_654_435_761) >> 13) as u8 | 1).collect();
    let err = refused(&with(3, "photo.jpg", noise), "photo.jpg", &["not an IDX file"]);
    assert!(matches!(defect_of(&err), IdxError::BadMagic { .. }));
}

#[test]
fn every_defective_file_is_reported_at_once() {
    let mut files = with(0, "empty", Vec::new());
    files[3] = ("short".into(), vec![0, 0, 8]);
    let err = refused(&files, "empty", &["empty", "short: the file is only 3 bytes"]);
    assert_eq!(err.files(), vec!["empty", "short"]);
}

#[test]
fn a_label_file_in_the_images_slot() {
    // The training labels given again, under the training images' name.
    let files = with(0, "train-images-idx3-ubyte", labels(6, 1));
    let err = refused(
        &files,
        "train-images-idx3-ubyte",
        &[
            "1 image and 3 label files",
            "train-images-idx3-ubyte holds 6 labels",
            "train-images-idx3-ubyte is named like an image file but is a label file",
        ],
    );
    assert!(matches!(err, UploadError::Kinds { .. }));
}

#[test]
fn a_count_mismatch_names_both_files() {
    let files = with(3, "t10k-labels-idx1-ubyte", labels(3, 2));
    let err = refused(&files, "t10k-labels-idx1-ubyte", &["test set", "t10k-images-idx3-ubyte holds 4 images", "holds 3 labels"]);
    assert_eq!(err.files(), vec!["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]);
}

#[test]
fn not_four_files() {
    let one = &good()[..1];
    refused(one, "train-images-idx3-ubyte.gz", &["all four IDX files", "you chose 1 file (train-images-idx3-ubyte.gz)"]);
    let mut five = good();
    five.push(("extra-labels".into(), labels(2, 0)));
    refused(&five, "extra-labels", &["you chose 5 files"]);
}

#[test]
fn the_session_takes_good_files_and_keeps_its_data_on_refused_ones() {
    let model = ModelConfig { hidden: 16, ..Default::default() };
    let mut s = Session::new(&model, &TrainConfig { batch_size: 2, ..Default::default() }).unwrap();
    let files = good();
    let shuffled = [files[3].clone(), files[0].clone(), files[2].clone(), files[1].clone()];
    let named: Vec<(&str, &[u8])> = shuffled.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let report = s.set_files(&named).unwrap();
    assert_eq!((report.order, report.train_length, report.test_length), ([1, 3, 2, 0], 6, 4));
    assert_eq!(s.test_len(), 4);
    s.train_steps(2).unwrap();

    let bad = with(2, "t10k-images", images(4, 2)[..100].to_vec());
    let named: Vec<(&str, &[u8])> = bad.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let err = s.set_files(&named).unwrap_err();
    assert!(err.to_string().starts_with("t10k-images: "), "{err}");
    assert_eq!(s.test_len(), 4);
    assert_eq!(s.train_steps(1).unwrap().step, 3, "training goes on with the old model");
}
