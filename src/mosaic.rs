//! Decoded images tiled into one opaque RGBA picture, the form a canvas takes.
//!
//! The page shows digits as dark ink on white paper, so that coloured points and outlines drawn
//! over them stay visible: a value `v ∈ [0, 1]` has ink level `round(255·v)` (clamped to
//! 0…255; NaN is no ink) and is painted as the grey `255 − level` on R, G and B with alpha 255.
//! A 20 × 20 manifold grid is 313,600 pixels; painted value by value in JS that took about 2 ms
//! of the worker that decoded the grid, here a small fraction of that.

use crate::data::{IMAGE_PIXELS as PIXELS, IMAGE_SIDE as SIDE};

/// The images in `pixels` (a whole number of 28 × 28 images, row-major, values in [0, 1])
/// tiled `cols` to a row, first image at the top left, as the RGBA pixels of a picture
/// `cols·28` wide and `⌈count / cols⌉·28` high, one `u32` each with red in the low byte: the
/// bytes of a canvas's image data on a little-endian machine, as wasm is. Where a last row is
/// short, paper shows.
pub fn ink_mosaic(pixels: &[f32], cols: usize) -> Vec<u32> {
    assert!(cols > 0 && pixels.len().is_multiple_of(PIXELS), "ink_mosaic: {} values in tiles of {cols}", pixels.len());
    let count = pixels.len() / PIXELS;
    let width = cols * SIDE;
    let mut rgba = vec![PAPER; count.div_ceil(cols) * SIDE * width];
    for (k, image) in pixels.chunks_exact(PIXELS).enumerate() {
        let origin = (k / cols) * SIDE * width + (k % cols) * SIDE;
        for (y, line) in image.chunks_exact(SIDE).enumerate() {
            let at = origin + y * width;
            // One word per pixel, with no branch: the compiler paints four pixels at a time.
            for (out, &v) in rgba[at..at + SIDE].iter_mut().zip(line) {
                *out = OPAQUE | ((255 - ink_level(v)) * GREY);
            }
        }
    }
    rgba
}

/// White paper, opaque.
const PAPER: u32 = u32::MAX;
/// Alpha 255 in the high byte.
const OPAQUE: u32 = 0xff00_0000;
/// A level times this is that grey on R, G and B.
const GREY: u32 = 0x01_0101;

/// `round(255·v)` clamped to 0…255, halves rounded up as the page's `Math.round` does; NaN → 0.
#[inline(always)]
fn ink_level(v: f32) -> u32 {
    // `f32::round` is a call into libm in wasm; for the values in [0, 1] that reach it, adding
    // a half and truncating is the same rounding. A NaN stays NaN through the clamp and casts to 0.
    (255.0 * v.clamp(0.0, 1.0) + 0.5) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grey of pixel (x, y) of the picture, by its definition.
    fn grey_at(rgba: &[u32], width: usize, x: usize, y: usize) -> [u8; 4] {
        rgba[y * width + x].to_le_bytes()
    }

    #[test]
    fn tiles_every_image_in_place_with_its_grey_levels() {
        // Image k's pixel (x, y) has a value that names both, so a misplaced tile shows.
        let count = 5;
        let cols = 3;
        let value = |k: usize, x: usize, y: usize| ((k * 7 + x * 3 + y) % 256) as f32 / 255.0;
        let pixels: Vec<f32> = (0..count).flat_map(|k| (0..PIXELS).map(move |p| value(k, p % SIDE, p / SIDE))).collect();
        let rgba = ink_mosaic(&pixels, cols);
        let width = cols * SIDE;
        assert_eq!(rgba.len(), 2 * SIDE * width, "two rows of tiles");
        for k in 0..count {
            for (x, y) in [(0, 0), (27, 0), (0, 27), (13, 17), (27, 27)] {
                let level = (k * 7 + x * 3 + y) % 256;
                let grey = 255 - level as u8;
                let (px, py) = ((k % cols) * SIDE + x, (k / cols) * SIDE + y);
                assert_eq!(grey_at(&rgba, width, px, py), [grey, grey, grey, 255], "image {k} at ({x}, {y})");
            }
        }
        // The sixth place of the second row is paper.
        assert_eq!(grey_at(&rgba, width, 2 * SIDE + 5, SIDE + 5), [255; 4]);
    }

    #[test]
    fn ink_levels_round_halves_up_and_clamp() {
        for (v, level) in [
            (0.0, 0),
            (-0.5, 0),
            (f32::NAN, 0),
            (1.0, 255),
            (7.0, 255),
            (0.5, 128),
            (1.0 / 255.0, 1),
            (0.49 / 255.0, 0),
            (0.51 / 255.0, 1),
            (254.6 / 255.0, 255),
        ] {
            assert_eq!(ink_level(v), level, "v = {v}");
        }
    }
}
