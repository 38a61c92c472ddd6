//! Your own images as a dataset. The browser decodes each PNG, JPEG or WebP file to RGBA;
//! everything after that is here, plain Rust tested natively:
//!
//! - [`prepare`]: one image made into a 28×28 image as MNIST's were (grey, light backgrounds
//!   inverted, the ink box scaled into 20×20, the centre of mass at the centre);
//! - [`set`]: the prepared images and their paths made into a training and a test set, with
//!   class names from folder names as torchvision's `ImageFolder` has them, and the split from
//!   `train/` and `test/` folders or seeded.
//!
//! The limits, stated to the student: [`MAX_SIDE`] pixels on a side, [`MAX_IMAGES`] images,
//! [`MAX_CLASSES`] classes.

pub mod prepare;
pub mod set;

use serde::Serialize;

pub use prepare::{prepare, ImageError, Prepared, MAX_SIDE};
pub use set::{assemble, ImageSet, ImageSetError, Skipped, SplitSource, MAX_CLASSES, MAX_IMAGES};

/// The limits, for the page to check before it decodes and to state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub max_side: usize,
    pub max_images: usize,
    pub max_classes: usize,
}

pub fn limits() -> Limits {
    Limits { max_side: MAX_SIDE, max_images: MAX_IMAGES, max_classes: MAX_CLASSES }
}
