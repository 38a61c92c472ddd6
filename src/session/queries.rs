//! The page's questions. None of these changes the session: the same question asked twice,
//! with anything but a state-changing call between, gets the same answer.

use std::ops::Range;

use candle_core::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::replies::{CodebookSummary, DimRows, Drawing, Hover, Interpolation, Pick, Scatter, SessionConfig};
use super::{check_grid, rows, Result, Session, SessionError};
use crate::codes;
use crate::data::{Dataset, IMAGE_PIXELS};
use crate::latent::{self, Plane, Rect};
use crate::model::ModelKind;
use crate::train::EvalReport;

/// Most ε draws one pick decodes.
pub const MAX_DRAWS: usize = 1024;

impl Session {
    /// Settings, step, latent size, and the test set's length and number of classes.
    pub fn config(&self) -> SessionConfig {
        let settings = self.settings();
        SessionConfig {
            model: settings.model,
            train: settings.train,
            step: self.trainer.step(),
            latent_dim: self.latent_dim(),
            test_length: self.test_len(),
            class_count: self.class_count(),
        }
    }

    /// Classes in the data: one more than the largest label of either set (0 before any data).
    pub fn class_count(&self) -> usize {
        let largest = |d: &Option<Dataset>| d.as_ref().and_then(|d| d.labels().iter().max().copied()).map_or(0, |l| l as usize + 1);
        largest(&self.train).max(largest(&self.test))
    }

    /// Metrics over the first `limit` test images (0 = all).
    pub fn evaluate(&self, limit: usize) -> Result<EvalReport> {
        Ok(self.trainer.evaluate(self.test_set()?, limit)?)
    }

    /// The first `limit` test images (0 = all) on the current view plane.
    pub fn scatter(&self, limit: usize) -> Result<Scatter> {
        let n = self.clamp_to_test(limit)?;
        let codes = self.test_codes(n)?;
        Ok(Scatter {
            plane: self.plane.project(&codes.mean[..n * self.latent_dim()]),
            labels: self.test_set()?.labels()[..n].to_vec(),
            explained: None,
            axis_names: None,
        })
    }

    pub fn label(&self, index: usize) -> Result<u8> {
        self.check_test_index(index)?;
        Ok(self.test_set()?.label(index))
    }

    /// Test image `index` as 784 bytes.
    pub fn test_image(&self, index: usize) -> Result<Vec<u8>> {
        self.check_test_index(index)?;
        Ok(self.test_set()?.image(index).to_vec())
    }

    /// Decoded images `(B, 784)` in `[0, 1]` for codes `z (B, n)`.
    pub fn decode(&self, z: &[f32]) -> Result<Vec<f32>> {
        let n = self.latent_dim();
        let b = rows(z.len(), n, "latent codes")?;
        let images = self.model().decode(&Tensor::from_slice(z, (b, n), &self.device)?)?;
        Ok(images.flatten_all()?.to_vec1()?)
    }

    /// The decoded manifold: images at the centres of an `nx × ny` grid over `rect` of the view
    /// plane, top row first.
    pub fn decode_grid(&self, rect: Rect, nx: usize, ny: usize) -> Result<Vec<f32>> {
        check_grid(nx, ny)?;
        self.decode(&self.plane.lift(&latent::grid(rect, nx, ny)))
    }

    /// Rows `rows` of [`Session::decode_grid`]'s `n × n` images, lifted by `plane` (the
    /// [`Plane::lifting_values`] of another session of this model) when given, else by this
    /// session's view plane: two sessions holding the same weights each decode a part of one grid.
    pub fn decode_grid_rows(&self, rect: Rect, n: usize, rows: Range<usize>, plane: Option<&[f32]>) -> Result<Vec<f32>> {
        check_grid(n, n)?;
        if rows.start >= rows.end || rows.end > n {
            return Err(SessionError::Request(format!("rows {}..{} are not a part of a grid of {n} rows", rows.start, rows.end)));
        }
        let given;
        let plane = match plane {
            Some(values) => {
                let d = self.plane.dim();
                given = Plane::for_lifting(values, d).ok_or_else(|| {
                    SessionError::Request(format!("a view plane of this model has {} values (3 × {d}), got {}", 3 * d, values.len()))
                })?;
                &given
            }
            None => &self.plane,
        };
        let points = latent::grid(rect, n, n);
        self.decode(&plane.lift(&points[rows.start * n * 2..rows.end * n * 2]))
    }

    /// Test image `index` with its code; for a VAE also `draws` ε ~ N(0, I) from `seed` (draw i
    /// is the same for any `draws`), z = μ + σ ⊙ ε, and where they fall on the plane.
    pub fn pick(&self, index: usize, draws: usize, seed: u64) -> Result<Pick> {
        if draws > MAX_DRAWS {
            return Err(SessionError::Request(format!("at most {MAX_DRAWS} ε draws at once, got {draws}")));
        }
        let enc = self.encode_test_images(&[index])?;
        let (epsilons, zs) = match &enc.logvar {
            Some(logvar) => {
                let eps = latent::standard_normal(seed, draws * enc.dim);
                let zs = latent::reparameterize(&enc.mean, logvar, &eps);
                (eps, zs)
            }
            None => (Vec::new(), Vec::new()),
        };
        let decoded = self.decode(&[enc.mean.as_slice(), &zs].concat())?;
        Ok(Pick {
            index,
            label: self.label(index)?,
            mu_plane: [enc.plane[0], enc.plane[1]],
            image: self.test_image(index)?,
            axes: enc.logvar.as_ref().map(|_| self.plane.axes.concat()),
            sigma: enc.logvar.as_deref().map(latent::sigma),
            ellipse: enc.logvar.as_deref().map(|lv| latent::projected_ellipse(lv, &self.plane.axes)),
            zs_plane: self.plane.project(&zs),
            mu: enc.mean,
            logvar: enc.logvar,
            epsilons,
            zs,
            decoded,
            codes: enc.codes,
        })
    }

    /// `steps` decoded points on the line between the codes of test images `a` and `b`
    /// (AE and VAE: a VQ-VAE's decoder only sees codebook vectors).
    pub fn interpolation(&self, a: usize, b: usize, steps: usize) -> Result<Interpolation> {
        self.require_continuous("interpolation")?;
        if !(2..=64).contains(&steps) {
            return Err(SessionError::Request(format!("interpolation needs 2 to 64 steps, got {steps}")));
        }
        let enc = self.encode_test_images(&[a, b])?;
        let n = enc.dim;
        let line = latent::interpolate(&enc.mean[..n], &enc.mean[n..], steps);
        Ok(Interpolation {
            a,
            b,
            steps,
            labels: [self.label(a)?, self.label(b)?],
            images: [self.test_image(a)?, self.test_image(b)?].concat(),
            pixels: self.decode(&line)?,
            path: self.plane.project(&line),
        })
    }

    /// Rows of decoded images, one per latent dimension j < `count` (at most d): coordinate j
    /// swept over `steps` values from −`range` to `range`, the others kept at the code of
    /// test image `base` (or 0 when `None`).
    pub fn dim_rows(&self, base: Option<usize>, count: usize, range: f64, steps: usize) -> Result<DimRows> {
        self.require_continuous("dimension rows")?;
        if count == 0 || !(1..=64).contains(&steps) || !range.is_finite() {
            return Err(SessionError::Request(format!(
                "dimension rows need at least one row, 1 to 64 steps and a finite range (got {count}, {steps}, {range})"
            )));
        }
        let d = self.latent_dim();
        let count = count.min(d);
        let (code, base_label) = match base {
            Some(i) => (self.encode_test_images(&[i])?.mean, Some(self.label(i)?)),
            None => (vec![0.0; d], None),
        };
        let values = latent::sweep(range, steps);
        let pixels = self.decode(&latent::dim_rows(&code, count, &values))?;
        Ok(DimRows { base, base_label, count, values, pixels })
    }

    /// The codebook, every code decoded, and how the whole test set uses it (VQ-VAE only).
    pub fn codebook_summary(&self) -> Result<CodebookSummary> {
        let codebook = self.codebook()?;
        let cfg = self.model().config();
        let test = self.test_set()?;
        let memo = self.test_codes(test.len())?;
        let nearest = memo.codes.clone().expect("a VQ-VAE's codes have indices");
        let usage = codes::usage(&nearest, cfg.codebook_size);
        Ok(CodebookSummary {
            codebook_size: cfg.codebook_size,
            code_dim: cfg.code_dim,
            per_code: cfg.codes_per_image,
            codes_used: usage.iter().filter(|&&u| u > 0).count(),
            perplexity: codes::perplexity(&usage),
            majority: codes::majority(&nearest, test.labels(), cfg.codes_per_image, cfg.codebook_size, self.class_count()),
            images: self.decode_codebook()?,
            codebook,
            usage,
            nearest,
        })
    }

    /// Every test image's code (and log σ² or code indices) with its label, as CSV.
    pub fn codes_csv(&self) -> Result<String> {
        let test = self.test_set()?;
        let memo = self.test_codes(test.len())?;
        Ok(codes::csv(self.model().config().kind, test.labels(), &memo.mean, memo.logvar.as_deref(), memo.codes.as_deref()))
    }

    /// Test image `index` and the model's reconstruction of it.
    pub fn hover(&self, index: usize) -> Result<Hover> {
        self.check_test_index(index)?;
        let x = self.test_set()?.batch(&[index], &self.device)?;
        Ok(Hover { index, label: self.label(index)?, image: self.test_image(index)?, recon: self.reconstruct_tensor(&x)? })
    }

    /// A drawn digit (784 values in `[0, 1]`): its code, its place on the plane, its reconstruction.
    pub fn drawing(&self, pixels: &[f32]) -> Result<Drawing> {
        if pixels.len() != IMAGE_PIXELS {
            return Err(SessionError::Request(format!("a drawing has {IMAGE_PIXELS} pixels, got {}", pixels.len())));
        }
        let enc = self.encode(pixels)?;
        Ok(Drawing { plane: [enc.plane[0], enc.plane[1]], mean: enc.mean, codes: enc.codes, recon: self.reconstruct(pixels)? })
    }

    /// Samples from the prior and decodes them: z ~ N(0, I) for the AE/VAE, codes drawn
    /// uniformly for the VQ-VAE. Returns `(codes (B, n), images (B, 784))`.
    pub fn sample_prior(&self, count: usize, seed: u64) -> Result<(Vec<f32>, Vec<f32>)> {
        let cfg = self.model().config();
        let z: Vec<f32> = match cfg.kind {
            ModelKind::Ae | ModelKind::Vae => latent::standard_normal(seed, count * cfg.latent_dim),
            ModelKind::Vqvae => {
                let mut rng = StdRng::seed_from_u64(seed);
                let codebook = self.codebook()?;
                let d = cfg.code_dim;
                (0..count * cfg.codes_per_image)
                    .flat_map(|_| {
                        let k = rng.random_range(0..cfg.codebook_size);
                        codebook[k * d..(k + 1) * d].to_vec()
                    })
                    .collect()
            }
        };
        let images = self.decode(&z)?;
        Ok((z, images))
    }

    /// The VQ-VAE codebook `(K, D)`.
    pub fn codebook(&self) -> Result<Vec<f32>> {
        let book = self.model().codebook().ok_or_else(|| SessionError::Request("only a VQ-VAE has a codebook".into()))?;
        Ok(book.flatten_all()?.to_vec1()?)
    }

    pub(super) fn codebook_if_vq(&self) -> Result<Option<Vec<f32>>> {
        Ok(self.model().codebook().map(|t| t.flatten_all()?.to_vec1()).transpose()?)
    }

    /// Each codebook vector decoded on its own, `(K, 784)`: with l > 1 every one of the l
    /// slots holds that code.
    pub fn decode_codebook(&self) -> Result<Vec<f32>> {
        let codebook: Vec<f32> = self.codebook()?;
        let cfg = self.model().config();
        let z: Vec<f32> = codebook.chunks_exact(cfg.code_dim).flat_map(|e| e.repeat(cfg.codes_per_image)).collect();
        self.decode(&z)
    }

    /// `(n, d) → (n, 2)`: codes onto the current view plane.
    pub fn project(&self, z: &[f32]) -> Result<Vec<f32>> {
        rows(z.len(), self.latent_dim(), "latent codes")?;
        Ok(self.plane.project(z))
    }

    /// The model's reconstructions of `(B, 784)` images in `[0, 1]` (see [`crate::model::Model::reconstruct`]).
    pub fn reconstruct(&self, pixels: &[f32]) -> Result<Vec<f32>> {
        let b = rows(pixels.len(), IMAGE_PIXELS, "images")?;
        self.reconstruct_tensor(&Tensor::from_slice(pixels, (b, IMAGE_PIXELS), &self.device)?)
    }

    fn reconstruct_tensor(&self, x: &Tensor) -> Result<Vec<f32>> {
        Ok(self.model().reconstruct(x)?.flatten_all()?.to_vec1()?)
    }

    /// Images from VQ code indices, `l` per image (see [`crate::model::Model::decode_codes`]).
    pub fn decode_codes(&self, codes: &[u32]) -> Result<Vec<f32>> {
        if self.model().codebook().is_none() {
            return Err(SessionError::Request("only a VQ-VAE decodes code indices".into()));
        }
        let images = self.model().decode_codes(codes).map_err(|e| SessionError::Request(e.to_string()))?;
        Ok(images.flatten_all()?.to_vec1()?)
    }

    pub(super) fn require_continuous(&self, what: &str) -> Result<()> {
        if self.model().config().kind == ModelKind::Vqvae {
            return Err(SessionError::Request(format!(
                "{what} needs a continuous code (AE or VAE): a VQ-VAE decodes only codebook vectors"
            )));
        }
        Ok(())
    }
}
