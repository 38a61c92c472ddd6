//! The student's own images as the session's data, and the data written out as IDX files.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::replies::{IdxExport, ImagesLoaded};
use super::{Result, Session, SessionError};
use crate::data::NUM_CLASSES;
use crate::images;

/// The files of an IDX export, named as the trainer's `--data` folder and MNIST name them.
const IDX_NAMES: [&str; 4] =
    ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

impl Session {
    /// Replaces the data with a set made from preprocessed images (784 bytes each, see
    /// [`images::prepare`]) and their paths (see [`images::set`]), and starts a new model with
    /// the current settings on it. On any error the current data and model stay.
    pub fn set_images(&mut self, pixels: &[u8], paths: &[String]) -> Result<ImagesLoaded> {
        let set = images::assemble(pixels, paths)?;
        let loaded = ImagesLoaded {
            class_names: set.class_names.clone(),
            class_counts: set.class_counts,
            train_length: set.train.len(),
            test_length: set.test.len(),
            split: set.split,
            skipped: set.skipped,
        };
        self.set_datasets(set.train, set.test)?;
        self.class_names = Some(set.class_names);
        Ok(loaded)
    }

    /// The class names of a set made from images (label order); None for IDX data.
    pub fn class_names(&self) -> Option<&[String]> {
        self.class_names.as_deref()
    }

    /// The training and test sets as four gzipped IDX files. IDX label files here hold the
    /// classes 0–9, so a set of more classes is refused rather than written unreadable.
    pub fn export_idx(&self) -> Result<IdxExport> {
        let classes = self.class_count();
        if classes > NUM_CLASSES {
            return Err(SessionError::Request(format!(
                "an IDX label file holds the classes 0–{}; this set has {classes} classes, so it cannot be written as IDX",
                NUM_CLASSES - 1
            )));
        }
        let (train_images, train_labels) = self.train_set()?.to_idx();
        let (test_images, test_labels) = self.test_set()?.to_idx();
        let files = [train_images, train_labels, test_images, test_labels].map(|raw| gzip(&raw));
        let class_names = self.class_names.clone().unwrap_or_else(|| (0..classes).map(|c| c.to_string()).collect());
        Ok(IdxExport { names: IDX_NAMES, class_names, files })
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::default());
    encoder.write_all(bytes).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}
