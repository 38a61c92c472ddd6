//! Preprocessed images and their paths made into a training and a test set, the way
//! torchvision's `ImageFolder` reads a folder:
//!
//! - Leading folders that every path shares are the folder or zip the student gave; they are
//!   dropped (`digits/3/a.png` and `3/a.png` read alike).
//! - Top-level `train/` and `test/` folders (both present, any case) give the split; files
//!   outside them are skipped. Otherwise the split is seeded: one image in seven of each
//!   class (rounded up, but never a class's last) goes to the test set, as MNIST's 10,000 of
//!   70,000.
//! - The first folder below that is the class (`<class>/<file>`, deeper folders belong to
//!   it); classes are numbered in the sorted order of their names, as `ImageFolder` does.
//!   Files beside the class folders are skipped. A set with no class folders is unlabelled:
//!   one class, named after the folder given (or "images").
//! - Both sets are shuffled (seeded), so any first N test images mix the classes.

use std::collections::BTreeMap;
use std::fmt;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use crate::data::{Dataset, IMAGE_PIXELS};

/// Most images in one set: MNIST's 70,000 (55 MB as 28×28 bytes).
pub const MAX_IMAGES: usize = 70_000;

/// Most classes: labels are bytes, and a legend of more stops being readable long before 256.
pub const MAX_CLASSES: usize = 64;

/// One test image per this many of a class (when no `train/` and `test/` folders say).
pub const TEST_SHARE: usize = 7;

/// Seed of the split and the shuffles: the same files give the same sets in every worker.
const SPLIT_SEED: u64 = 0x1abe1;

/// The name of the one class of a set without class folders, when no folder was given.
const UNLABELLED: &str = "images";

/// A file that was read but does not belong to the set, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub why: String,
}

/// Where the split came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SplitSource {
    /// `train/` and `test/` folders.
    Folders,
    /// Seeded: one in [`TEST_SHARE`] of each class held out.
    Seeded,
}

/// A training and a test set made from images, with their class names (label `i` is
/// `class_names[i]`).
#[derive(Debug, Clone)]
pub struct ImageSet {
    pub train: Dataset,
    pub test: Dataset,
    pub class_names: Vec<String>,
    /// Images per class, both sets together.
    pub class_counts: Vec<usize>,
    pub split: SplitSource,
    /// Files left out by their place in the folder tree.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSetError {
    /// The pixels are not `paths.len()` images of 784 bytes.
    Shape {
        paths: usize,
        bytes: usize,
    },
    TooMany {
        count: usize,
    },
    TooManyClasses {
        count: usize,
    },
    /// Nothing left to train on or to test with; `why` says what is missing.
    Empty {
        why: String,
    },
}

impl fmt::Display for ImageSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shape { paths, bytes } => {
                write!(f, "{bytes} bytes of pixels for {paths} images; expected {} ({IMAGE_PIXELS} per image)", paths * IMAGE_PIXELS)
            }
            Self::TooMany { count } => write!(f, "{count} images; the limit is {MAX_IMAGES}"),
            Self::TooManyClasses { count } => write!(f, "{count} class folders; the limit is {MAX_CLASSES}"),
            Self::Empty { why } => f.write_str(why),
        }
    }
}

impl std::error::Error for ImageSetError {}

/// The images of one set: (index among the paths, label) pairs.
type Members = Vec<(usize, u8)>;

/// Where one file goes: its split (from folders, or none) and its class folder (or none).
struct Place<'a> {
    split: Option<bool>,
    class: Option<&'a str>,
}

/// Builds the sets from `paths.len()` preprocessed images (784 bytes each, in `pixels`) and
/// their paths (`/`-separated, as in the folder or zip given).
pub fn assemble(pixels: &[u8], paths: &[String]) -> Result<ImageSet, ImageSetError> {
    if pixels.len() != paths.len() * IMAGE_PIXELS {
        return Err(ImageSetError::Shape { paths: paths.len(), bytes: pixels.len() });
    }
    if paths.len() > MAX_IMAGES {
        return Err(ImageSetError::TooMany { count: paths.len() });
    }
    let parts: Vec<Vec<&str>> = paths.iter().map(|p| p.split('/').filter(|c| !c.is_empty()).collect()).collect();
    let (root, depth) = common_root(&parts);
    let top = |p: &[&str]| if p.len() > depth + 1 { Some(p[depth].to_ascii_lowercase()) } else { None };
    let by_folders = ["train", "test"].iter().all(|name| parts.iter().any(|p| top(p).as_deref() == Some(name)));
    let labelled = parts.iter().any(|p| p.len() > depth + 1 + usize::from(by_folders));

    let mut skipped = Vec::new();
    let mut placed: Vec<(usize, Place)> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let mut rest = &p[depth.min(p.len())..];
        let mut split = None;
        if by_folders {
            match top(p).as_deref() {
                Some("train") => split = Some(false),
                Some("test") => split = Some(true),
                _ => {
                    skipped.push(Skipped { path: paths[i].clone(), why: "not in the train/ or test/ folder".into() });
                    continue;
                }
            }
            rest = &rest[1..];
        }
        let class = match (labelled, rest.len()) {
            (false, _) => None,
            (true, n) if n >= 2 => Some(rest[0]),
            (true, _) => {
                skipped.push(Skipped { path: paths[i].clone(), why: "not in a class folder".into() });
                continue;
            }
        };
        placed.push((i, Place { split, class }));
    }

    let mut names: Vec<String> = match labelled {
        true => placed.iter().filter_map(|(_, p)| p.class.map(str::to_string)).collect(),
        false => vec![root.unwrap_or(UNLABELLED).to_string()],
    };
    names.sort();
    names.dedup();
    if names.len() > MAX_CLASSES {
        return Err(ImageSetError::TooManyClasses { count: names.len() });
    }
    let label = |place: &Place| place.class.map_or(0, |c| names.binary_search_by(|n| n.as_str().cmp(c)).expect("named above") as u8);

    let mut rng = StdRng::seed_from_u64(SPLIT_SEED);
    let (mut train, mut test): (Members, Members) = (Vec::new(), Vec::new());
    let mut class_counts = vec![0; names.len()];
    if by_folders {
        for (i, place) in &placed {
            let l = label(place);
            class_counts[l as usize] += 1;
            let set = if place.split == Some(true) { &mut test } else { &mut train };
            set.push((*i, l));
        }
    } else {
        let mut per_class: BTreeMap<u8, Vec<usize>> = BTreeMap::new();
        for (i, place) in &placed {
            per_class.entry(label(place)).or_default().push(*i);
        }
        for (l, mut members) in per_class {
            class_counts[l as usize] = members.len();
            members.shuffle(&mut rng);
            let held = members.len().div_ceil(TEST_SHARE).min(members.len() - 1);
            test.extend(members[..held].iter().map(|&i| (i, l)));
            train.extend(members[held..].iter().map(|&i| (i, l)));
        }
    }
    for (set, name) in [(&train, "training"), (&test, "test")] {
        if set.is_empty() {
            let why = match (placed.is_empty(), by_folders) {
                (true, _) => "no image is in a class folder".to_string(),
                (false, true) => format!("the {name} folder holds no images"),
                (false, false) => "at least two images of one class are needed: one to train on, one to test with".to_string(),
            };
            return Err(ImageSetError::Empty { why });
        }
    }
    train.shuffle(&mut rng);
    test.shuffle(&mut rng);
    let dataset = |members: &[(usize, u8)]| {
        let images = members.iter().flat_map(|&(i, _)| &pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]).copied().collect();
        Dataset::with_class_labels(images, members.iter().map(|&(_, l)| l).collect()).expect("whole images, one label each, not empty")
    };
    Ok(ImageSet {
        train: dataset(&train),
        test: dataset(&test),
        class_names: names,
        class_counts,
        split: if by_folders { SplitSource::Folders } else { SplitSource::Seeded },
        skipped,
    })
}

/// The leading folders every path shares (the folder or zip given): the last of them, which
/// names an unlabelled set, and how many there are. A path's file name is never part of it.
fn common_root<'a>(parts: &[Vec<&'a str>]) -> (Option<&'a str>, usize) {
    let Some(first) = parts.first() else { return (None, 0) };
    let mut depth = 0;
    while depth + 1 < first.len() && parts.iter().all(|p| depth + 1 < p.len() && p[depth] == first[depth]) {
        depth += 1;
    }
    (depth.checked_sub(1).map(|d| first[d]), depth)
}
