//! The student's own dataset: four IDX files given in any order, each with its name, sorted
//! into training images, training labels, test images and test labels.
//!
//! # Order of the checks
//!
//! 1. Every file on its own ([`crate::inspect::inspect`]): a defect is reported against the
//!    file that has it, and every defective file is reported at once.
//! 2. Roles: the header says images or labels; within a kind, names that say "train" and
//!    "test" (or "t10k") tell the split, else the larger file is for training.
//! 3. Pairing ([`crate::inspect::check_pairs`]): the counts of each split, naming both files.
//!
//! Sorting before step 1 would turn a file's own defect (cut short, 32×32 images, a corrupt
//! header) into a pairing problem between two files that names neither the file nor its
//! defect; that is why this lives here, after the inspector, and not in the page.

use std::cmp::Ordering;
use std::fmt;

use crate::data::Dataset;
use crate::inspect::{check_pairs, inspect, FileError, IdxContent, IdxFile, IdxKind};

/// How many files a dataset is made of.
pub const FILES_PER_DATASET: usize = 4;

/// The roles, in the order [`SortedUpload::order`] lists them.
pub const ROLES: [&str; FILES_PER_DATASET] = ["training images", "training labels", "test images", "test labels"];

/// An accepted upload: both datasets, and which file (by its position in the input) took
/// each role of [`ROLES`].
#[derive(Debug)]
pub struct SortedUpload {
    pub train: Dataset,
    pub test: Dataset,
    pub order: [usize; FILES_PER_DATASET],
}

/// Why an upload cannot make a dataset. Every message names the files at fault.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadError {
    /// One or more files are defective on their own (in the order given).
    Defects(Vec<FileError>),
    /// Sound files, but not four of them.
    FileCount { names: Vec<String> },
    /// Four sound files, but not two image and two label files: each with what it holds.
    Kinds { files: Vec<(String, IdxContent)> },
    /// Two files of one kind, equally long, whose names do not tell training from test.
    SplitUnclear { kind: IdxKind, first: String, second: String, count: usize },
    /// The split's image and label files hold different counts.
    Pairing(FileError),
}

impl UploadError {
    /// The names of the files at fault.
    pub fn files(&self) -> Vec<&str> {
        match self {
            UploadError::Defects(errors) => errors.iter().flat_map(FileError::files).collect(),
            UploadError::FileCount { names } => names.iter().map(String::as_str).collect(),
            UploadError::Kinds { files } => files.iter().map(|(name, _)| name.as_str()).collect(),
            UploadError::SplitUnclear { first, second, .. } => vec![first, second],
            UploadError::Pairing(e) => e.files(),
        }
    }
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadError::Defects(errors) => {
                let messages: Vec<String> = errors.iter().map(FileError::to_string).collect();
                f.write_str(&messages.join(". "))
            }
            UploadError::FileCount { names } => write!(
                f,
                "choose all four IDX files at once (training images, training labels, test images, test labels); \
                 you chose {} file{}{}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) }
            ),
            UploadError::Kinds { files } => {
                let count = |kind: IdxKind| files.iter().filter(|(_, content)| content.kind() == kind).count();
                let listed: Vec<String> = files.iter().map(|(name, content)| format!("{name} holds {content}")).collect();
                write!(
                    f,
                    "two of the files must be image files (IDX magic 0x00000803) and two label files (0x00000801), but \
                     these are {} image and {} label files: {}",
                    count(IdxKind::Images),
                    count(IdxKind::Labels),
                    listed.join("; ")
                )?;
                // The likely mistake: a file put where its name says it belongs.
                for (name, content) in files {
                    if kind_by_name(name).is_some_and(|named| named != content.kind()) {
                        write!(f, ". {name} is named like {} but is {}", content.kind().other().noun(), content.kind().noun())?;
                    }
                }
                Ok(())
            }
            UploadError::SplitUnclear { kind, first, second, count } => write!(
                f,
                "both {} ({first}, {second}) hold {count} {}, so neither their names nor their sizes tell which is \
                 for training: put \"train\" in one name and \"test\" or \"t10k\" in the other",
                plural(*kind),
                if *kind == IdxKind::Images { "images" } else { "labels" }
            ),
            UploadError::Pairing(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for UploadError {}

fn plural(kind: IdxKind) -> &'static str {
    match kind {
        IdxKind::Images => "image files",
        IdxKind::Labels => "label files",
    }
}

/// The kind a file's name suggests (MNIST's names: "images-idx3", "labels-idx1"), if any.
fn kind_by_name(name: &str) -> Option<IdxKind> {
    let lower = name.to_lowercase();
    let images = lower.contains("image") || lower.contains("idx3");
    let labels = lower.contains("label") || lower.contains("idx1");
    match (images, labels) {
        (true, false) => Some(IdxKind::Images),
        (false, true) => Some(IdxKind::Labels),
        _ => None,
    }
}

/// Whether a file's name says training (`Some(true)`) or test (`Some(false)`), if it says one.
fn training_by_name(name: &str) -> Option<bool> {
    let lower = name.to_lowercase();
    let train = lower.contains("train");
    let test = lower.contains("test") || lower.contains("t10k");
    (train != test).then_some(train)
}

/// The positions in `files` of the pair `[a, b]` of one kind as `[training, test]`: by name
/// when the names tell, else the larger is for training.
fn split_pair(files: &[IdxFile], [a, b]: [usize; 2]) -> Result<[usize; 2], UploadError> {
    let (first, second) = (&files[a], &files[b]);
    match (training_by_name(&first.name), training_by_name(&second.name)) {
        (Some(true), Some(false)) => return Ok([a, b]),
        (Some(false), Some(true)) => return Ok([b, a]),
        _ => {}
    }
    match first.count().cmp(&second.count()) {
        Ordering::Greater => Ok([a, b]),
        Ordering::Less => Ok([b, a]),
        Ordering::Equal => Err(UploadError::SplitUnclear {
            kind: first.kind(),
            first: first.name.clone(),
            second: second.name.clone(),
            count: first.count(),
        }),
    }
}

/// Checks `files` (`(name, bytes)`, raw or gzipped, in any order) and makes the two datasets.
pub fn sort_upload(files: &[(&str, &[u8])]) -> Result<SortedUpload, UploadError> {
    let mut sound = Vec::with_capacity(files.len());
    let mut defects = Vec::new();
    for &(name, bytes) in files {
        match inspect(name, bytes) {
            Ok(file) => sound.push(file),
            Err(e) => defects.push(e),
        }
    }
    if !defects.is_empty() {
        return Err(UploadError::Defects(defects));
    }
    if sound.len() != FILES_PER_DATASET {
        return Err(UploadError::FileCount { names: sound.into_iter().map(|f| f.name).collect() });
    }
    let (images, labels): (Vec<usize>, Vec<usize>) = (0..FILES_PER_DATASET).partition(|&i| sound[i].kind() == IdxKind::Images);
    let (image_pair, label_pair) = match (images.as_slice(), labels.as_slice()) {
        (&[a, b], &[c, d]) => ([a, b], [c, d]),
        _ => return Err(UploadError::Kinds { files: sound.into_iter().map(|f| (f.name, f.content)).collect() }),
    };
    let [train_images, test_images] = split_pair(&sound, image_pair)?;
    let [train_labels, test_labels] = split_pair(&sound, label_pair)?;
    let order = [train_images, train_labels, test_images, test_labels];
    let [ti, tl, si, sl] = order.map(|i| &sound[i]);
    check_pairs(ti, tl, si, sl).map_err(UploadError::Pairing)?;

    let mut files: Vec<Option<IdxFile>> = sound.into_iter().map(Some).collect();
    let mut take = |i: usize| files[i].take().expect("each file has one role");
    let train = Dataset::from_files("training set", take(train_images), take(train_labels)).map_err(UploadError::Pairing)?;
    let test = Dataset::from_files("test set", take(test_images), take(test_labels)).map_err(UploadError::Pairing)?;
    Ok(SortedUpload { train, test, order })
}
