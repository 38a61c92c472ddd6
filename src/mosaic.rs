//! Decoded images tiled into one opaque RGBA picture, the form a canvas takes.
//!
//! The page shows digits as dark ink on white paper, so that coloured points and outlines drawn
//! over them stay visible: a value `v ∈ [0, 1]` has ink level `round(255·v)` (clamped to
//! 0…255; NaN is no ink) and is painted as the grey `255 − level` on R, G and B with alpha 255.
//! A 20 × 20 manifold grid is 313,600 pixels; painted value by value in JS that took about 2 ms
//! of the worker that decoded the grid, here a small fraction of that.

use crate::data::{IMAGE_PIXELS as PIXELS, IMAGE_SIDE as SIDE};

/// The images in `pixels` (a whole number of 28 × 28 images, row-major, values in [0, 1])
/// tiled `cols` to a row, first image at the top left, as RGBA bytes of a picture
/// `cols·28` wide and `⌈count / cols⌉·28` high; where a last row is short, paper shows.
pub fn ink_mosaic(pixels: &[f32], cols: usize) -> Vec<u8> {
    assert!(cols > 0 && pixels.len().is_multiple_of(PIXELS), "ink_mosaic: {} values in tiles of {cols}", pixels.len());
    let count = pixels.len() / PIXELS;
    let width = cols * SIDE;
    let mut rgba = vec![255u8; count.div_ceil(cols) * SIDE * width * 4];
    for (k, image) in pixels.chunks_exact(PIXELS).enumerate() {
        let origin = (k / cols) * SIDE * width + (k % cols) * SIDE;
        for (y, line) in image.chunks_exact(SIDE).enumerate() {
            let at = 4 * (origin + y * width);
            for (out, &v) in rgba[at..at + 4 * SIDE].chunks_exact_mut(4).zip(line) {
                let grey = 255 - ink_level(v);
                out.copy_from_slice(&[grey, grey, grey, 255]);
            }
        }
    }
    rgba
}

/// `round(255·v)` clamped to 0…255, halves rounded up as the page's `Math.round` does; NaN → 0.
#[inline(always)]
fn ink_level(v: f32) -> u8 {
    // `f32::round` is a call into libm in wasm; for the positive values that reach it, adding
    // a half and truncating is the same rounding.
    if v > 0.0 {
        if v < 1.0 {
            (255.0 * v + 0.5) as u8
        } else {
            255
        }
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grey of pixel (x, y) of the picture, by its definition.
    fn grey_at(rgba: &[u8], width: usize, x: usize, y: usize) -> [u8; 4] {
        let at = 4 * (y * width + x);
        rgba[at..at + 4].try_into().unwrap()
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
        assert_eq!(rgba.len(), 2 * SIDE * width * 4, "two rows of tiles");
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
