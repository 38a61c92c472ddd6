//! Shared helpers for the integration tests: the bundled datasets under `www/data/`.
//!
//! Each test binary includes this with `mod common;` and uses only some of it.
#![allow(dead_code)]

pub mod vq;

use std::path::PathBuf;

use latent_lab::data::{Dataset, IMAGE_PIXELS};

/// `count` 28×28 images whose pixel `p` of image `i` is `(i * 7 + p) % 256`.
pub fn pixels(count: usize) -> Vec<u8> {
    (0..count * IMAGE_PIXELS).map(|k| ((k / IMAGE_PIXELS) * 7 + k % IMAGE_PIXELS) as u8).collect()
}

/// An IDX file of unsigned bytes with dimensions `dims` and payload `data`.
pub fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    dims.iter().for_each(|d| out.extend_from_slice(&d.to_be_bytes()));
    out.extend_from_slice(data);
    out
}

/// MNIST digits; `split` is `"train"` (60000) or `"t10k"` (10000).
pub fn mnist(split: &str) -> Dataset {
    load("mnist", split)
}

/// Fashion-MNIST; `split` is `"train"` or `"t10k"`.
pub fn fashion(split: &str) -> Dataset {
    load("fashion", split)
}

/// Missing files fail the test rather than skip it: a skipped data test would hide a broken
/// setup.
fn load(set: &str, split: &str) -> Dataset {
    assert!(split == "train" || split == "t10k", "split must be \"train\" or \"t10k\", not {split:?}");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www/data").join(set);
    let read = |kind: &str| {
        let path = dir.join(format!("{split}-{kind}-ubyte.gz"));
        std::fs::read(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}. Run pkg-config/setup.sh to fetch the datasets.", path.display()))
    };
    Dataset::from_idx(&read("images-idx3"), &read("labels-idx1")).unwrap_or_else(|e| panic!("{set} {split} does not parse: {e}"))
}
