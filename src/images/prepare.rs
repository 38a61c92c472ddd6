//! One decoded image (RGBA, as the browser's canvas gives it) made into a 28×28 MNIST-style
//! image. Each step, with `g` the grey level of a pixel:
//!
//! 1. **Grey**: `g = α·Y + (1 − α)·1` with `Y = 0.299 R + 0.587 G + 0.114 B` (Rec. 601 luma):
//!    a transparent pixel counts as white, as the file shows on a white page. Kept in integers
//!    (`1000·255·Y` plus the alpha blend), so inverting R, G and B inverts `g` exactly.
//! 2. **Background and ink**: `b` = the median grey of the border ring. MNIST is light ink on
//!    black; a light background (`b > ½`) means dark ink on paper, so the image is inverted:
//!    `ink = max(0, s·(g − b)) / max(ink)` with `s = −1` on a light background, `+1` on a dark
//!    one. The background becomes 0 and the strongest ink 1 whatever the contrast. An image
//!    and its negative give the same ink, exactly.
//! 3. **Ink box**: the bounding box of pixels with `ink ≥` [`INK_THRESHOLD`], scaled so that
//!    its longer side is [`BOX`] = 20 pixels, keeping the aspect ratio (`w' = round(w·20/max)`).
//!    Every target pixel is the mean of the source area it covers (area averaging, one axis at
//!    a time), which anti-aliases as MNIST's scans were.
//! 4. **Centre of mass**: the 20-pixel patch is placed in the 28×28 frame at the whole-pixel
//!    offset that puts its centre of mass `(Σ v·(x+½) / Σ v, …)` nearest the frame's centre
//!    (14, 14), within half a pixel. As in MNIST (and the drawing pad), that wins over the
//!    frame: a very lopsided shape (mass far to one side of its box) may lose a column of ink
//!    over the edge.

use std::fmt;

use serde::Serialize;

use crate::data::{IMAGE_PIXELS, IMAGE_SIDE};

/// The ink box's longer side after scaling, as in MNIST.
pub const BOX: usize = 20;

/// Largest width or height accepted: a 4096 × 4096 RGBA image is 64 MiB.
pub const MAX_SIDE: usize = 4096;

/// Ink (relative to the strongest) that counts towards the bounding box: below it lie JPEG
/// ringing and paper texture, which would otherwise stretch the box to the whole image.
pub const INK_THRESHOLD: f64 = 0.2;

/// Least contrast between ink and background, as a share of the grey range (about 5 grey
/// levels of 255): below it the image is taken as blank rather than its noise as ink.
pub const MIN_CONTRAST: f64 = 0.02;

/// A decoded image that cannot become a training image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// The RGBA buffer's length is not `4 · width · height`.
    Size {
        width: usize,
        height: usize,
        bytes: usize,
    },
    /// Zero pixels wide or high.
    NoPixels {
        width: usize,
        height: usize,
    },
    TooLarge {
        width: usize,
        height: usize,
    },
    /// No ink: one flat colour (or contrast below [`MIN_CONTRAST`]).
    Blank,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Size { width, height, bytes } => {
                write!(f, "{bytes} bytes of pixels for a {width}×{height} RGBA image; expected {}", 4 * width * height)
            }
            Self::NoPixels { width, height } => write!(f, "the image is {width}×{height} pixels: empty"),
            Self::TooLarge { width, height } => {
                write!(f, "the image is {width}×{height} pixels; the limit is {MAX_SIDE} pixels on a side")
            }
            Self::Blank => write!(f, "the image is blank: one flat colour, no ink to centre"),
        }
    }
}

impl std::error::Error for ImageError {}

/// An image preprocessed as MNIST's were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prepared {
    /// 784 grey levels, 0 = background, 255 = the strongest ink; row-major.
    #[serde(skip)]
    pub pixels: Vec<u8>,
    /// The image had a light background and was inverted.
    pub inverted: bool,
}

/// `g` of an opaque white pixel: `1000 · 255` for the luma weights times 255 for alpha.
const FULL: i64 = 1000 * 255 * 255;

/// The grey level of one RGBA pixel in units of `1 / FULL`.
fn grey(p: &[u8]) -> i64 {
    let luma = 299 * p[0] as i64 + 587 * p[1] as i64 + 114 * p[2] as i64;
    let alpha = p[3] as i64;
    alpha * luma + (255 - alpha) * 255_000
}

/// Twice the median of the border ring's grey levels (twice, so that the mean of the two
/// middle values of an even ring stays an integer and negatives mirror exactly).
fn border_median2(g: &[i64], width: usize, height: usize) -> i64 {
    let mut ring: Vec<i64> = (0..width * height)
        .filter(|&i| {
            let (x, y) = (i % width, i / width);
            x == 0 || y == 0 || x == width - 1 || y == height - 1
        })
        .map(|i| g[i])
        .collect();
    ring.sort_unstable();
    let n = ring.len();
    ring[(n - 1) / 2] + ring[n / 2]
}

/// Preprocesses one `width × height` RGBA image (row-major, 4 bytes a pixel).
pub fn prepare(rgba: &[u8], width: usize, height: usize) -> Result<Prepared, ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::NoPixels { width, height });
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(ImageError::TooLarge { width, height });
    }
    if rgba.len() != 4 * width * height {
        return Err(ImageError::Size { width, height, bytes: rgba.len() });
    }
    let g: Vec<i64> = rgba.chunks_exact(4).map(grey).collect();
    let background2 = border_median2(&g, width, height);
    let inverted = background2 > FULL;
    let sign = if inverted { -1 } else { 1 };
    let ink2: Vec<i64> = g.iter().map(|&v| (sign * (2 * v - background2)).max(0)).collect();
    let strongest = ink2.iter().copied().max().unwrap_or(0);
    if (strongest as f64) < MIN_CONTRAST * (2 * FULL) as f64 {
        return Err(ImageError::Blank);
    }
    let ink: Vec<f64> = ink2.iter().map(|&v| v as f64 / strongest as f64).collect();
    let (x0, x1, y0, y1) = ink_box(&ink, width, height);
    let (bw, bh) = (x1 - x0, y1 - y0);
    let scale = BOX as f64 / bw.max(bh) as f64;
    let (tw, th) = (((bw as f64 * scale).round() as usize).max(1), ((bh as f64 * scale).round() as usize).max(1));
    let patch = resample(&ink, width, (x0, y0, bw, bh), (tw, th));
    Ok(Prepared { pixels: centre(&patch, tw), inverted })
}

/// `(x0, x1, y0, y1)`, half-open, of the pixels with ink at least [`INK_THRESHOLD`] (the
/// strongest pixel is 1, so the box is never empty).
fn ink_box(ink: &[f64], width: usize, height: usize) -> (usize, usize, usize, usize) {
    let (mut x0, mut x1, mut y0, mut y1) = (width, 0, height, 0);
    for (i, _) in ink.iter().enumerate().filter(|(_, &v)| v >= INK_THRESHOLD) {
        let (x, y) = (i % width, i / width);
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x + 1), y0.min(y), y1.max(y + 1));
    }
    (x0, x1, y0, y1)
}

/// For each of `m` target cells over `n` source pixels: `(source index, weight)` pairs, the
/// weights the covered share of each source pixel, summing to 1.
fn area_weights(n: usize, m: usize) -> Vec<Vec<(usize, f64)>> {
    let span = n as f64 / m as f64;
    (0..m)
        .map(|j| {
            let (a, b) = (j as f64 * span, (j + 1) as f64 * span);
            (a.floor() as usize..(b.ceil() as usize).min(n))
                .filter_map(|i| {
                    let overlap = b.min(i as f64 + 1.0) - a.max(i as f64);
                    (overlap > 0.0).then_some((i, overlap / span))
                })
                .collect()
        })
        .collect()
}

/// The `(x0, y0, w, h)` rectangle of `ink` (rows of `width`) area-averaged to `tw × th`.
fn resample(ink: &[f64], width: usize, (x0, y0, w, h): (usize, usize, usize, usize), (tw, th): (usize, usize)) -> Vec<f64> {
    let wx = area_weights(w, tw);
    let wy = area_weights(h, th);
    let mut rows = vec![0.0; h * tw];
    for y in 0..h {
        let src = &ink[(y0 + y) * width + x0..(y0 + y) * width + x0 + w];
        for (j, weights) in wx.iter().enumerate() {
            rows[y * tw + j] = weights.iter().map(|&(i, wt)| wt * src[i]).sum();
        }
    }
    let mut patch = vec![0.0; th * tw];
    for (i, weights) in wy.iter().enumerate() {
        for j in 0..tw {
            patch[i * tw + j] = weights.iter().map(|&(y, wt)| wt * rows[y * tw + j]).sum::<f64>().min(1.0);
        }
    }
    patch
}

/// The patch (rows of `tw`) in a 28×28 frame with its centre of mass nearest the frame's centre
/// (what falls outside the frame is dropped).
fn centre(patch: &[f64], tw: usize) -> Vec<u8> {
    let (mut mass, mut mx, mut my) = (0.0, 0.0, 0.0);
    for (i, &v) in patch.iter().enumerate() {
        mass += v;
        mx += v * ((i % tw) as f64 + 0.5);
        my += v * ((i / tw) as f64 + 0.5);
    }
    let half = IMAGE_SIDE as f64 / 2.0;
    let (ox, oy) = ((half - mx / mass).round() as i64, (half - my / mass).round() as i64);
    let mut out = vec![0u8; IMAGE_PIXELS];
    for (i, &v) in patch.iter().enumerate() {
        let (x, y) = (ox + (i % tw) as i64, oy + (i / tw) as i64);
        if (0..IMAGE_SIDE as i64).contains(&x) && (0..IMAGE_SIDE as i64).contains(&y) {
            out[y as usize * IMAGE_SIDE + x as usize] = (v * 255.0).round() as u8;
        }
    }
    out
}
