//! A seeded mutation fuzzer (stable Rust, no cargo-fuzz) for every reader of untrusted bytes:
//! the IDX slice parsers and `maybe_gunzip`, the per-file inspector, `Dataset::from_idx`, the
//! checkpoint loader, and the image path: `images::prepare` (a decoded image's RGBA bytes and
//! the size it claims) and `images::assemble` (prepared images and the paths they came from).
//!
//! Inputs are valid files (raw IDX images and labels, the same gzipped, checkpoints of three
//! model families with and without a checksum) mutated by byte flips, interesting byte values,
//! truncations, insertions, deletions, duplicated chunks and header-field edits (IDX
//! dimensions and type bytes, the safetensors header length, digits inside its JSON). Half of
//! the gzip inputs are mutated before compressing, so lying headers also arrive inside valid
//! streams. For every call the harness asserts:
//!
//! - no panic (`catch_unwind`);
//! - every error is one of the crate's typed errors with a non-empty message, and an
//!   inspector error names the file;
//! - the peak of live bytes during the call (a counting global allocator, per thread) stays
//!   within what the input's length justifies: about 2× the length for raw IDX, 2× the most a
//!   gzip stream of that length can inflate to (deflate's 1032:1, capped), and a small
//!   multiple of the length for a checkpoint or an image.
//!
//! `cargo test --release --test fuzz` runs 24,000 inputs. The long run:
//! `FUZZ_INPUTS=1000000 FUZZ_SEED=1 cargo test --release --test fuzz -- --ignored --nocapture`
//! prints inputs/s and the count of each outcome. Input `i` of seed `s` is reproducible alone.
#![cfg(not(target_arch = "wasm32"))]

mod common;

mod counting;

use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use candle_core::Device;
use flate2::write::GzEncoder;
use flate2::Compression;
use latent_lab::checkpoint::{self, CheckpointError};
use latent_lab::data::{maybe_gunzip, parse_images, parse_labels, Dataset, IMAGE_PIXELS};
use latent_lab::images::{assemble, prepare};
use latent_lab::inspect::{inspect, FileError, GUNZIP_LIMIT};
use latent_lab::model::{Arch, Model, ModelConfig, ModelKind};
use latent_lab::train::TrainConfig;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use safetensors::SafeTensors;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const NAME: &str = "fuzz-input.idx";
/// Bytes of bookkeeping any call may take beyond what the input justifies (decoder state,
/// error strings, small vectors).
const SLACK: usize = 256 << 10;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

struct Seeds {
    images: Vec<u8>,
    labels: Vec<u8>,
    checkpoints: Vec<Vec<u8>>,
}

fn seeds() -> Seeds {
    let pixels: Vec<u8> = (0..3 * IMAGE_PIXELS).map(|k| ((k * 7) % 256) as u8).collect();
    let images = common::idx(&[3, 28, 28], &pixels);
    let labels = common::idx(&[3], &[7, 0, 9]);
    let small = |kind, arch| ModelConfig { kind, arch, hidden: 8, latent_dim: 2, codebook_size: 8, ..Default::default() };
    let mut checkpoints = Vec::new();
    for config in [small(ModelKind::Vae, Arch::Mlp), small(ModelKind::Vqvae, Arch::Mlp), small(ModelKind::Ae, Arch::Conv)] {
        let model = Model::new(&config, 3, &Device::Cpu).unwrap();
        checkpoints.push(checkpoint::save(&model, &TrainConfig::default(), 5).unwrap());
    }
    // A file from before checksums: the same, without the checksum entry.
    let (_, header) = SafeTensors::read_metadata(&checkpoints[0]).unwrap();
    let mut meta = header.metadata().clone().unwrap();
    meta.remove("checksum");
    let tensors = candle_core::safetensors::load_buffer(&checkpoints[0], &Device::Cpu).unwrap();
    let mut named: Vec<_> = tensors.iter().collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    checkpoints.push(safetensors::serialize(named.into_iter().map(|(n, t)| (n.as_str(), t)), Some(meta)).unwrap());
    for c in &checkpoints {
        checkpoint::load(c, &Device::Cpu).expect("every seed checkpoint loads");
    }
    Seeds { images, labels, checkpoints }
}

const INTERESTING_U32: [u32; 10] = [0, 1, 2, 3, 27, 28, 32, 65535, 0x7fff_ffff, u32::MAX];
const INTERESTING_U8: [u8; 8] = [0, 1, 3, 8, 0x1f, 0x7f, 0x80, 0xff];

/// A random position, biased towards the first `hot` bytes (the header) half of the time.
fn position(rng: &mut StdRng, len: usize, hot: usize) -> usize {
    if len == 0 {
        0
    } else if rng.random_bool(0.5) {
        rng.random_range(0..hot.clamp(1, len))
    } else {
        rng.random_range(0..len)
    }
}

/// One to four mutations of `input`; `hot` is the header length (IDX) or header end (checkpoint).
fn mutate(rng: &mut StdRng, input: &mut Vec<u8>, hot: usize, checkpoint: bool) {
    for _ in 0..rng.random_range(1..=4) {
        let len = input.len();
        match rng.random_range(0..9) {
            0 if len > 0 => {
                let at = position(rng, len, hot);
                input[at] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let at = position(rng, len, hot);
                input[at] = INTERESTING_U8[rng.random_range(0..INTERESTING_U8.len())];
            }
            2 => input.truncate(position(rng, len + 1, hot)),
            3 => {
                let at = position(rng, len + 1, hot);
                let extra: Vec<u8> = (0..rng.random_range(1..=16)).map(|_| rng.random()).collect();
                input.splice(at..at, extra);
            }
            4 if len > 0 => {
                let at = position(rng, len, hot);
                let end = (at + rng.random_range(1..=64)).min(len);
                input.drain(at..end);
            }
            5 if len > 0 => {
                let at = rng.random_range(0..len);
                let end = (at + rng.random_range(1..=256)).min(len);
                let chunk = input[at..end].to_vec();
                let to = rng.random_range(0..=len);
                input.splice(to..to, chunk);
            }
            6 if checkpoint && len >= 8 => {
                // The safetensors header length: nearby, interesting, or random.
                let n = u64::from_le_bytes(input[..8].try_into().unwrap());
                let value = match rng.random_range(0..3) {
                    0 => n.wrapping_add(rng.random_range(0..16)).wrapping_sub(8),
                    1 => [0, 1, u64::MAX, 1 << 40, len as u64][rng.random_range(0..5)],
                    _ => rng.random(),
                };
                input[..8].copy_from_slice(&value.to_le_bytes());
            }
            7 if checkpoint => {
                // A digit inside the JSON header (shapes, offsets, settings) becomes another.
                let end = hot.min(len);
                let digits: Vec<usize> = (8..end).filter(|&i| input[i].is_ascii_digit()).collect();
                if !digits.is_empty() {
                    let at = digits[rng.random_range(0..digits.len())];
                    input[at] = b'0' + rng.random_range(0..10);
                }
            }
            6 | 7 if len >= 4 => {
                // IDX header fields: the type and dimension-count bytes, or one dimension.
                if rng.random_bool(0.3) {
                    input[rng.random_range(2..4)] = rng.random_range(0..16);
                } else {
                    let at = 4 * rng.random_range(1..=3usize);
                    if at + 4 <= len {
                        let old = u32::from_be_bytes(input[at..at + 4].try_into().unwrap());
                        let value = match rng.random_range(0..3) {
                            0 => INTERESTING_U32[rng.random_range(0..INTERESTING_U32.len())],
                            1 => old.wrapping_add(rng.random_range(0..5)).wrapping_sub(2),
                            _ => rng.random(),
                        };
                        input[at..at + 4].copy_from_slice(&value.to_be_bytes());
                    }
                }
            }
            _ => input.push(rng.random()),
        }
    }
}

/// What the byte length of `bytes` justifies allocating while reading it as IDX.
fn idx_budget(bytes: &[u8]) -> usize {
    let inflated = if bytes.starts_with(&[0x1f, 0x8b]) { bytes.len().saturating_mul(1032).min(GUNZIP_LIMIT) } else { bytes.len() };
    2 * inflated + 2 * bytes.len() + SLACK
}

/// Tallies of outcomes, plus every broken invariant (which fails the test).
#[derive(Default)]
struct Report {
    outcomes: BTreeMap<String, u64>,
    violations: Vec<String>,
    inputs: u64,
}

impl Report {
    /// Runs `call` guarded; `budget` is the allowed peak of live bytes.
    fn check<E: std::fmt::Debug + std::fmt::Display>(
        &mut self,
        target: &str,
        id: &str,
        budget: usize,
        call: impl FnOnce() -> Result<(), E>,
    ) {
        let (result, peak) = counting::peak_during(|| catch_unwind(AssertUnwindSafe(call)));
        let outcome = match result {
            Err(_) => {
                self.violations.push(format!("{id}: {target} panicked"));
                "PANIC".to_string()
            }
            Ok(Ok(())) => "ok".to_string(),
            Ok(Err(e)) => {
                let message = e.to_string();
                if message.trim().is_empty() {
                    self.violations.push(format!("{id}: {target} gave an empty message for {e:?}"));
                }
                variant(&format!("{e:?}"))
            }
        };
        if peak > budget {
            self.violations.push(format!("{id}: {target} took {peak} bytes, more than the {budget} its input justifies"));
        }
        *self.outcomes.entry(format!("{target:<18} {outcome}")).or_default() += 1;
    }
}

/// The error's variant from its `Debug` form; for a file's defect, the defect's variant.
fn variant(debug: &str) -> String {
    let inner = debug.find("defect: ").map_or(debug, |at| &debug[at + 8..]);
    inner.split(|c: char| !c.is_alphanumeric()).find(|s| !s.is_empty()).unwrap_or("?").to_string()
}

/// One input: which seed, how it is mutated and which readers get it.
fn run_one(seeds: &Seeds, seed: u64, i: u64, report: &mut Report) {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i);
    let id = format!("seed {seed} input {i}");
    report.inputs += 1;
    let choice = rng.random_range(0..12);
    if choice >= 10 {
        return image_input(&mut rng, &id, choice == 10, report);
    }
    if choice < 3 {
        let base = &seeds.checkpoints[rng.random_range(0..seeds.checkpoints.len())];
        let hot = 8 + u64::from_le_bytes(base[..8].try_into().unwrap()) as usize;
        let mut bytes = base.clone();
        mutate(&mut rng, &mut bytes, hot, true);
        let budget = 6 * bytes.len() + (4 << 20);
        report
            .check("checkpoint::load", &id, budget, || checkpoint::load(&bytes, &Device::Cpu).map(|_| ()).map_err(|e: CheckpointError| e));
        return;
    }
    let images = choice < 7;
    let (base, other) = if images { (&seeds.images, &seeds.labels) } else { (&seeds.labels, &seeds.images) };
    let hot = if images { 16 } else { 8 };
    let mut bytes = base.clone();
    match rng.random_range(0..3) {
        0 => mutate(&mut rng, &mut bytes, hot, false),
        1 => {
            mutate(&mut rng, &mut bytes, hot, false);
            bytes = gzip(&bytes);
        }
        _ => {
            bytes = gzip(&bytes);
            mutate(&mut rng, &mut bytes, 24, false);
        }
    }
    let budget = idx_budget(&bytes);
    let unnamed = std::cell::Cell::new(None);
    report.check("inspect", &id, budget, || {
        inspect(NAME, &bytes).map(|_| ()).inspect_err(|e: &FileError| {
            if e.files() != [NAME] || !e.to_string().starts_with(NAME) {
                unnamed.set(Some(e.to_string()));
            }
        })
    });
    if let Some(message) = unnamed.take() {
        report.violations.push(format!("{id}: the inspector's error does not name the file: {message}"));
    }
    let pair_budget = budget + 2 * other.len();
    report.check("Dataset::from_idx", &id, pair_budget, || {
        if images { Dataset::from_idx(&bytes, other) } else { Dataset::from_idx(other, &bytes) }.map(|_| ())
    });
    report.check("maybe_gunzip", &id, budget, || maybe_gunzip(&bytes).map(|_| ()));
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        report.check("parse_images", &id, budget, || parse_images(&bytes).map(|_| ()));
        report.check("parse_labels", &id, budget, || parse_labels(&bytes).map(|_| ()));
    }
}

/// An image for `prepare` (an RGBA buffer of a random size, sometimes not the size it claims)
/// or a set for `assemble` (prepared images with paths of random folders, names and bytes).
fn image_input(rng: &mut StdRng, id: &str, single: bool, report: &mut Report) {
    if single {
        let (width, height) = (rng.random_range(0..80usize), rng.random_range(0..80usize));
        let mut rgba: Vec<u8> = (0..4 * width * height).map(|_| if rng.random_bool(0.7) { 255 } else { rng.random() }).collect();
        // A claimed size the buffer does not have, now and then a huge one.
        let (claimed_w, claimed_h) = match rng.random_range(0..6) {
            0 => (rng.random_range(0..100_000), rng.random_range(0..100_000)),
            1 => (width + 1, height),
            _ => (width, height),
        };
        if rng.random_bool(0.1) {
            rgba.truncate(rng.random_range(0..=rgba.len()));
        }
        let budget = 4 * rgba.len() + SLACK;
        report.check("images::prepare", id, budget, || prepare(&rgba, claimed_w, claimed_h).map(|_| ()));
        return;
    }
    let count = rng.random_range(0..40usize);
    let folders = ["train", "test", "a", "B", "", "..", "é", "train/x", "7"];
    let mut paths: Vec<String> = (0..count)
        .map(|i| {
            let depth = rng.random_range(0..4);
            let mut parts: Vec<&str> = (0..depth).map(|_| folders[rng.random_range(0..folders.len())]).collect();
            let name = format!("{i}.png");
            parts.push(&name);
            parts.join("/")
        })
        .collect();
    if rng.random_bool(0.1) {
        paths.push(String::from_utf8_lossy(&(0..rng.random_range(0..20)).map(|_| rng.random::<u8>()).collect::<Vec<_>>()).into_owned());
    }
    let images = if rng.random_bool(0.9) { count } else { rng.random_range(0..40) };
    let mut pixels: Vec<u8> = (0..images * IMAGE_PIXELS).map(|_| rng.random()).collect();
    if rng.random_bool(0.1) {
        pixels.truncate(rng.random_range(0..=pixels.len()));
    }
    let budget = 8 * (pixels.len() + paths.iter().map(String::len).sum::<usize>()) + SLACK;
    report.check("images::assemble", id, budget, || assemble(&pixels, &paths).map(|_| ()));
}

fn fuzz(inputs: u64, seed: u64) -> Report {
    let seeds = seeds();
    let mut report = Report::default();
    let start = std::time::Instant::now();
    for i in 0..inputs {
        run_one(&seeds, seed, i, &mut report);
    }
    let secs = start.elapsed().as_secs_f64();
    println!("fuzz: {inputs} inputs (seed {seed}) in {secs:.1} s, {:.0} inputs/s", inputs as f64 / secs);
    for (outcome, n) in &report.outcomes {
        println!("  {outcome:<40} {n:>9}");
    }
    println!("  violations: {}", report.violations.len());
    report
}

fn assert_clean(report: &Report) {
    let shown: Vec<_> = report.violations.iter().take(20).collect();
    assert!(report.violations.is_empty(), "{} broken invariants, first ones:\n{shown:#?}", report.violations.len());
}

#[test]
fn short_fuzz_run() {
    let report = fuzz(24_000, 20_260_101);
    assert_clean(&report);
    // The mutations reach past the first checks: some inputs of each reader still parse, and
    // the checksum, the shapes and the gzip stream each refuse some.
    let count = |target: &str, outcome: &str| {
        report.outcomes.iter().filter(|(k, _)| k.starts_with(target) && k.ends_with(&format!(" {outcome}"))).map(|(_, n)| n).sum::<u64>()
    };
    let expected = [
        ("inspect", "ok"),
        ("inspect", "Gzip"),
        ("inspect", "Truncated"),
        ("inspect", "TrailingBytes"),
        ("inspect", "BadMagic"),
        ("Dataset::from_idx", "ok"),
        ("checkpoint::load", "ok"),
        ("checkpoint::load", "Damaged"),
        ("checkpoint::load", "Mismatch"),
        ("checkpoint::load", "Unreadable"),
        ("images::prepare", "ok"),
        ("images::prepare", "Size"),
        ("images::prepare", "TooLarge"),
        ("images::assemble", "ok"),
    ];
    for (target, outcome) in expected {
        assert!(count(target, outcome) > 0, "no input to {target} ended in {outcome}");
    }
}

#[test]
#[ignore = "long run: FUZZ_INPUTS=1000000 cargo test --release --test fuzz -- --ignored --nocapture"]
fn long_fuzz_run() {
    let var = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let report = fuzz(var("FUZZ_INPUTS", 1_000_000), var("FUZZ_SEED", 1));
    assert_clean(&report);
}
