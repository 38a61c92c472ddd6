//! Codes of images: of any pixels the page sends ([`Session::encode`]), and of the test set,
//! memoised.
//!
//! The memo holds the codes of the first `count` test images under the model version it was
//! made at; a query for more images encodes only the missing ones. The test set is always
//! encoded in the same chunks of [`CHUNK`] images (a request is rounded up to whole chunks),
//! so every image is encoded in the same batch whether it came from the memo or not: the memo
//! can never change an answer, only save time.

use std::rc::Rc;

use candle_core::Tensor;

use super::{rows, Result, Session};
use crate::data::{Dataset, IMAGE_PIXELS};

/// Test images encoded per batch.
pub const CHUNK: usize = 1000;

/// Codes of a batch of images, in the model's space and in the view plane.
pub struct Encoded {
    /// Latent dimension n of `mean` (d, or l·D for the VQ-VAE).
    pub dim: usize,
    /// `(B, n)`: z (AE), μ (VAE) or z_e (VQ-VAE).
    pub mean: Vec<f32>,
    /// `(B, d)`: log σ² (VAE only).
    pub logvar: Option<Vec<f32>>,
    /// `(B, l)`: nearest code indices (VQ-VAE only).
    pub codes: Option<Vec<u32>>,
    /// `(B, 2)`: `mean` in the view plane.
    pub plane: Vec<f32>,
}

/// The codes of the first `count` test images (a multiple of [`CHUNK`], or the whole set).
#[derive(Debug, Clone, PartialEq)]
pub struct TestCodes {
    pub version: u64,
    pub count: usize,
    /// `(count, n)`.
    pub mean: Vec<f32>,
    /// `(count, d)`, VAE only.
    pub logvar: Option<Vec<f32>>,
    /// `(count, l)`, VQ-VAE only.
    pub codes: Option<Vec<u32>>,
}

impl TestCodes {
    fn empty(version: u64) -> Self {
        Self { version, count: 0, mean: Vec::new(), logvar: None, codes: None }
    }

    fn append(&mut self, part: Encoded, images: usize) {
        self.count += images;
        self.mean.extend(part.mean);
        if let Some(v) = part.logvar {
            self.logvar.get_or_insert_with(Vec::new).extend(v);
        }
        if let Some(c) = part.codes {
            self.codes.get_or_insert_with(Vec::new).extend(c);
        }
    }
}

impl Session {
    /// Encodes images given as `(B, 784)` values in `[0, 1]`.
    pub fn encode(&self, pixels: &[f32]) -> Result<Encoded> {
        let b = rows(pixels.len(), IMAGE_PIXELS, "images")?;
        self.encode_tensor(&Tensor::from_slice(pixels, (b, IMAGE_PIXELS), &self.device)?)
    }

    /// Encodes test images `indices` (scaled to `[0, 1]` here, as the model sees them).
    pub(super) fn encode_test_images(&self, indices: &[usize]) -> Result<Encoded> {
        let test = self.test_set()?;
        for &i in indices {
            self.check_test_index(i)?;
        }
        self.encode_tensor(&test.batch(indices, &self.device)?)
    }

    pub(super) fn encode_tensor(&self, x: &Tensor) -> Result<Encoded> {
        let e = self.model().encode(x)?;
        let mean = e.mean.flatten_all()?.to_vec1::<f32>()?;
        Ok(Encoded {
            dim: self.latent_dim(),
            plane: self.plane.project(&mean),
            mean,
            logvar: e.logvar.map(|t| t.flatten_all()?.to_vec1()).transpose()?,
            codes: e.codes.map(|t| t.flatten_all()?.to_vec1()).transpose()?,
        })
    }

    /// The codes of at least the first `n` test images under the current weights (memoised).
    pub fn test_codes(&self, n: usize) -> Result<Rc<TestCodes>> {
        let test = self.test_set()?;
        let wanted = n.div_ceil(CHUNK).saturating_mul(CHUNK).min(test.len());
        let cached = self.memo.borrow().clone().filter(|m| m.version == self.version);
        if let Some(memo) = cached.as_ref().filter(|m| m.count >= wanted) {
            return Ok(Rc::clone(memo));
        }
        let mut codes = cached.map_or_else(|| TestCodes::empty(self.version), |m| (*m).clone());
        while codes.count < wanted {
            let end = (codes.count + CHUNK).min(test.len());
            let part = self.encode_tensor(&test.batch_range(codes.count..end, &self.device)?)?;
            codes.append(part, end - codes.count);
        }
        let codes = Rc::new(codes);
        *self.memo.borrow_mut() = Some(Rc::clone(&codes));
        Ok(codes)
    }

    pub(super) fn check_test_index(&self, index: usize) -> Result<()> {
        let len = self.test_set().map_or(0, Dataset::len);
        if index >= len {
            return Err(super::SessionError::Request(format!(
                "there is no test image {index}: the test set has {len} (0 to {})",
                len.saturating_sub(1)
            )));
        }
        Ok(())
    }
}
