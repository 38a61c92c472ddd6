//! Your own images: the MNIST-style preprocessing checked against closed forms and direct
//! sums, and the folder → classes → split rules of the image set.
#![cfg(not(target_arch = "wasm32"))]

use latent_lab::data::{IMAGE_PIXELS, IMAGE_SIDE};
use latent_lab::images::{assemble, prepare, ImageError, ImageSetError, SplitSource, MAX_CLASSES, MAX_SIDE};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A `width × height` opaque RGBA image of grey `background` with `ink` painted where `shape` says.
fn image(width: usize, height: usize, background: u8, ink: u8, shape: impl Fn(usize, usize) -> bool) -> Vec<u8> {
    (0..width * height)
        .flat_map(|i| {
            let v = if shape(i % width, i / width) { ink } else { background };
            [v, v, v, 255]
        })
        .collect()
}

/// The centre of mass of 28×28 pixels, pixel x covering [x, x + 1): computed directly.
fn centre_of_mass(pixels: &[u8]) -> (f64, f64) {
    let (mut m, mut mx, mut my) = (0.0, 0.0, 0.0);
    for (i, &v) in pixels.iter().enumerate() {
        let v = v as f64;
        m += v;
        mx += v * ((i % IMAGE_SIDE) as f64 + 0.5);
        my += v * ((i / IMAGE_SIDE) as f64 + 0.5);
    }
    (mx / m, my / m)
}

/// `(x0, x1, y0, y1)`, half-open, of the non-zero pixels.
fn bounding_box(pixels: &[u8]) -> (usize, usize, usize, usize) {
    let on: Vec<(usize, usize)> = (0..IMAGE_PIXELS).filter(|&i| pixels[i] > 0).map(|i| (i % IMAGE_SIDE, i / IMAGE_SIDE)).collect();
    let xs = || on.iter().map(|p| p.0);
    let ys = || on.iter().map(|p| p.1);
    (xs().min().unwrap(), xs().max().unwrap() + 1, ys().min().unwrap(), ys().max().unwrap() + 1)
}

#[test]
fn a_rectangle_is_scaled_into_20_pixels_and_centred() {
    // 60 × 30 of white ink on black, off-centre in a 100 × 80 image.
    let rgba = image(100, 80, 0, 255, |x, y| (10..70).contains(&x) && (40..70).contains(&y));
    let out = prepare(&rgba, 100, 80).unwrap();
    assert!(!out.inverted);
    // Scaled by 20/60: a 20 × 10 block of full ink, nothing else.
    let (x0, x1, y0, y1) = bounding_box(&out.pixels);
    assert_eq!((x1 - x0, y1 - y0), (20, 10));
    let ink: usize = out.pixels.iter().filter(|&&v| v == 255).count();
    assert_eq!(ink, 200);
    let (cx, cy) = centre_of_mass(&out.pixels);
    assert_eq!((cx, cy), (14.0, 14.0));
}

/// Where a test image has ink.
type Shape = Box<dyn Fn(usize, usize) -> bool>;

#[test]
fn the_centre_of_mass_lands_within_half_a_pixel_of_the_centre() {
    // Lopsided shapes: an L, a triangle, a dot with a tail; each scaled, then shifted by whole pixels.
    let shapes: [(&str, Shape); 3] = [
        ("L", Box::new(|x, y| (20..30).contains(&x) && (10..70).contains(&y) || (20..60).contains(&x) && (60..70).contains(&y))),
        ("triangle", Box::new(|x, y| (10..70).contains(&y) && x >= 15 && x < 15 + (y - 10))),
        ("dot and tail", Box::new(|x, y| (x as i64 - 30).pow(2) + (y as i64 - 30).pow(2) < 150 || (y == 30 && (30..75).contains(&x)))),
    ];
    // Half a pixel from the whole-pixel shift, plus what rounding the values to bytes moves it.
    let tolerance = 0.5 + 0.01;
    for (name, shape) in shapes {
        let out = prepare(&image(90, 90, 0, 230, shape), 90, 90).unwrap();
        let (cx, cy) = centre_of_mass(&out.pixels);
        assert!((cx - 14.0).abs() <= tolerance && (cy - 14.0).abs() <= tolerance, "{name}: centre of mass at ({cx:.3}, {cy:.3})");
        let (x0, x1, y0, y1) = bounding_box(&out.pixels);
        assert!((x1 - x0).max(y1 - y0) <= 20, "{name}: the ink fits the 20-pixel box");
    }
}

#[test]
fn the_aspect_ratio_is_kept() {
    for (w, h) in [(90, 30), (30, 90), (50, 50), (64, 16), (13, 77), (7, 3)] {
        let rgba = image(100, 100, 0, 255, |x, y| (5..5 + w).contains(&x) && (11..11 + h).contains(&y));
        let out = prepare(&rgba, 100, 100).unwrap();
        let (x0, x1, y0, y1) = bounding_box(&out.pixels);
        let scale = 20.0 / w.max(h) as f64;
        let expect = ((w as f64 * scale).round() as usize, (h as f64 * scale).round() as usize);
        assert_eq!((x1 - x0, y1 - y0), expect, "a {w}×{h} box");
    }
}

#[test]
fn area_averaging_keeps_the_ink_and_averages_it() {
    // A 40 × 40 checkerboard of single pixels halves to 20 × 20 cells, each the mean of two
    // ink and two empty pixels: 255 / 2 = 127.5, rounded to 128.
    let rgba = image(60, 60, 0, 255, |x, y| (10..50).contains(&x) && (10..50).contains(&y) && (x + y) % 2 == 0);
    let out = prepare(&rgba, 60, 60).unwrap();
    let (x0, x1, y0, y1) = bounding_box(&out.pixels);
    assert_eq!((x1 - x0, y1 - y0), (20, 20));
    for y in y0..y1 {
        for x in x0..x1 {
            assert_eq!(out.pixels[y * IMAGE_SIDE + x], 128, "cell ({x}, {y})");
        }
    }
    // Upscaling repeats pixels: a 5 × 10 box of two stripes becomes 10 × 20, each source pixel a 2 × 2 block.
    let rgba = image(30, 30, 0, 255, |x, y| (3..8).contains(&x) && (4..14).contains(&y) && (x == 3 || x == 7));
    let out = prepare(&rgba, 30, 30).unwrap();
    let (x0, x1, y0, y1) = bounding_box(&out.pixels);
    assert_eq!((x1 - x0, y1 - y0), (10, 20));
    for y in y0..y1 {
        for x in x0..x1 {
            let stripe = (x - x0) / 2 == 0 || (x - x0) / 2 == 4;
            assert_eq!(out.pixels[y * IMAGE_SIDE + x], if stripe { 255 } else { 0 }, "pixel ({x}, {y})");
        }
    }
}

#[test]
fn a_negative_gives_the_same_image_and_says_it_was_inverted() {
    // A noisy, coloured image: its negative (255 − R, G, B) must come out identical.
    let mut rng = StdRng::seed_from_u64(3);
    let (w, h) = (73, 51);
    let rgba: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            let stroke = (x as i64 - 30).abs() < 4 || (y as i64 - 20).abs() < 3 && x > 20 && x < 60;
            let base: i64 = if stroke { 200 } else { 20 };
            let mut c = [0u8; 4];
            for v in c.iter_mut().take(3) {
                *v = (base + rng.random_range(-15..=15)).clamp(0, 255) as u8;
            }
            c[3] = 255;
            c
        })
        .collect();
    let negative: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [255 - p[0], 255 - p[1], 255 - p[2], 255]).collect();
    let dark = prepare(&rgba, w, h).unwrap();
    let light = prepare(&negative, w, h).unwrap();
    assert!(!dark.inverted && light.inverted);
    assert_eq!(dark.pixels, light.pixels);
}

#[test]
fn ink_on_paper_is_inverted_with_the_paper_at_zero() {
    // Dark grey ink (60) on light grey paper (200): the paper becomes 0 and the ink 255.
    let rgba = image(40, 40, 200, 60, |x, y| (10..30).contains(&x) && (5..35).contains(&y));
    let out = prepare(&rgba, 40, 40).unwrap();
    assert!(out.inverted);
    assert!(out.pixels.iter().all(|&v| v == 0 || v == 255));
    assert_eq!(out.pixels.iter().filter(|&&v| v == 255).count(), 13 * 20, "20 × 30 → 13 × 20");
}

#[test]
fn transparency_counts_as_white() {
    // Black ink on a transparent background (as canvas text often is) reads as ink on paper.
    let clear: Vec<u8> = (0..32 * 32)
        .flat_map(|i| if (8..24).contains(&(i % 32)) && (4..28).contains(&(i / 32)) { [0, 0, 0, 255] } else { [0, 0, 0, 0] })
        .collect();
    let paper = image(32, 32, 255, 0, |x, y| (8..24).contains(&x) && (4..28).contains(&y));
    let (a, b) = (prepare(&clear, 32, 32).unwrap(), prepare(&paper, 32, 32).unwrap());
    assert!(a.inverted);
    assert_eq!(a, b);
}

#[test]
fn blank_broken_and_oversized_images_are_refused() {
    assert_eq!(prepare(&image(10, 10, 77, 77, |_, _| true), 10, 10), Err(ImageError::Blank));
    // Contrast of 2 grey levels in 255 is noise, not ink.
    assert_eq!(prepare(&image(10, 10, 100, 102, |x, _| x == 5), 10, 10), Err(ImageError::Blank));
    assert_eq!(prepare(&[0; 12], 2, 2), Err(ImageError::Size { width: 2, height: 2, bytes: 12 }));
    assert_eq!(prepare(&[], 0, 5), Err(ImageError::NoPixels { width: 0, height: 5 }));
    let err = prepare(&[], MAX_SIDE + 1, 1).unwrap_err();
    assert_eq!(err, ImageError::TooLarge { width: MAX_SIDE + 1, height: 1 });
    assert!(err.to_string().contains("4096"), "{err}");
}

// ---- the set ----

/// `paths.len()` images whose pixels all equal their index (mod 256), so each can be traced.
fn traced(paths: &[&str]) -> (Vec<u8>, Vec<String>) {
    let pixels = (0..paths.len()).flat_map(|i| [i as u8; IMAGE_PIXELS]).collect();
    (pixels, paths.iter().map(|p| p.to_string()).collect())
}

fn members(set: &latent_lab::data::Dataset) -> Vec<(u8, u8)> {
    let mut m: Vec<(u8, u8)> = (0..set.len()).map(|i| (set.image(i)[0], set.label(i))).collect();
    m.sort();
    m
}

#[test]
fn class_folders_name_the_classes_in_sorted_order() {
    let (pixels, paths) =
        traced(&["digits/b/1.png", "digits/a/2.png", "digits/c/deeper/3.png", "digits/a/4.png", "digits/notes.png", "digits/b/5.png"]);
    let set = assemble(&pixels, &paths).unwrap();
    assert_eq!(set.class_names, ["a", "b", "c"]);
    assert_eq!(set.class_counts, [2, 2, 1]);
    assert_eq!(set.split, SplitSource::Seeded);
    assert_eq!(set.skipped.len(), 1);
    assert_eq!((set.skipped[0].path.as_str(), set.skipped[0].why.as_str()), ("digits/notes.png", "not in a class folder"));
    let mut all = [members(&set.train), members(&set.test)].concat();
    all.sort();
    assert_eq!(all, [(0, 1), (1, 0), (2, 2), (3, 0), (5, 1)]);
}

#[test]
fn train_and_test_folders_give_the_split() {
    let (pixels, paths) = traced(&[
        "/set/train/cat/1.png",
        "/set/TEST/cat/2.png",
        "/set/train/dog/3.png",
        "/set/test/dog/4.png",
        "/set/extra/5.png",
        "/set/train/6.png",
    ]);
    let set = assemble(&pixels, &paths).unwrap();
    assert_eq!(set.split, SplitSource::Folders);
    assert_eq!(set.class_names, ["cat", "dog"]);
    assert_eq!(members(&set.train), [(0, 0), (2, 1)]);
    assert_eq!(members(&set.test), [(1, 0), (3, 1)]);
    let skipped: Vec<(&str, &str)> = set.skipped.iter().map(|s| (s.path.as_str(), s.why.as_str())).collect();
    assert_eq!(skipped, [("/set/extra/5.png", "not in the train/ or test/ folder"), ("/set/train/6.png", "not in a class folder")]);
}

#[test]
fn a_set_without_class_folders_is_one_class() {
    let (pixels, paths) = traced(&["letters/x.png", "letters/y.png", "letters/z.png"]);
    let set = assemble(&pixels, &paths).unwrap();
    assert_eq!(set.class_names, ["letters"]);
    assert_eq!((set.train.len(), set.test.len()), (2, 1));
    let (pixels, paths) = traced(&["x.png", "y.png"]);
    assert_eq!(assemble(&pixels, &paths).unwrap().class_names, ["images"]);
    // Unlabelled, split by folders.
    let (pixels, paths) = traced(&["train/a.png", "train/b.png", "test/c.png"]);
    let set = assemble(&pixels, &paths).unwrap();
    assert_eq!((set.class_names.len(), set.train.len(), set.test.len()), (1, 2, 1));
}

#[test]
fn the_seeded_split_holds_out_one_in_seven_of_each_class() {
    let names: Vec<String> = (0..70).map(|i| format!("a/{i}.png")).chain((0..15).map(|i| format!("b/{i}.png"))).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (pixels, paths) = traced(&refs);
    let set = assemble(&pixels, &paths).unwrap();
    let count = |d: &latent_lab::data::Dataset, l: u8| (0..d.len()).filter(|&i| d.label(i) == l).count();
    // ⌈70/7⌉ = 10 and ⌈15/7⌉ = 3 held out.
    assert_eq!((count(&set.test, 0), count(&set.test, 1)), (10, 3));
    assert_eq!((count(&set.train, 0), count(&set.train, 1)), (60, 12));
    // Every image in exactly one set, with its folder's label (index < 70 is class a).
    let mut seen: Vec<(usize, u8)> = Vec::new();
    for d in [&set.train, &set.test] {
        for i in 0..d.len() {
            // Pixels hold the index mod 256; all 85 fit.
            seen.push((d.image(i)[0] as usize, d.label(i)));
        }
    }
    seen.sort();
    assert_eq!(seen, (0..85).map(|i| (i, u8::from(i >= 70))).collect::<Vec<_>>());
    // Seeded: the same files give the same sets; the test set is shuffled, not class by class.
    let again = assemble(&pixels, &paths).unwrap();
    assert_eq!((again.train.pixels(), again.test.labels()), (set.train.pixels(), set.test.labels()));
    assert!(set.test.labels().windows(2).any(|w| w[0] > w[1]), "test labels {:?}", set.test.labels());
}

#[test]
fn sets_that_cannot_train_are_refused() {
    let (pixels, paths) = traced(&["a/1.png"]);
    assert!(matches!(assemble(&pixels, &paths), Err(ImageSetError::Empty { .. })));
    let (pixels, paths) = traced(&["train/a/1.png", "test/notes.png"]);
    let err = assemble(&pixels, &paths).unwrap_err();
    assert!(err.to_string().contains("test folder holds no images"), "{err}");
    let (pixels, paths) = traced(&["a/1.png", "b/2.png"]);
    assert_eq!(assemble(&pixels[..100], &paths).unwrap_err(), ImageSetError::Shape { paths: 2, bytes: 100 });
    let names: Vec<String> = (0..=MAX_CLASSES).map(|i| format!("c{i}/1.png")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (pixels, paths) = traced(&refs);
    assert_eq!(assemble(&pixels, &paths).unwrap_err(), ImageSetError::TooManyClasses { count: MAX_CLASSES + 1 });
}
