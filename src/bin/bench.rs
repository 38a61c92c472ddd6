//! Native side of the throughput benchmark: trains the default model (2-D VAE, hidden 512,
//! batch 128, AdamW 1e-3 without decay; MLP, or with `--arch conv` the convolutional one) on
//! the MNIST training images for a fixed time on `--threads N` threads (default ONE) and prints
//! one JSON line. `pkg-config/bench.sh` runs it between the browser runs.
//!
//! ```text
//! cargo run --release --bin bench -- --seconds 6 --warmup 1 --chunk 10 --threads 1 --arch mlp --data www/data/mnist
//! ```
//! The page's wasm has one thread, so the baseline it is judged against gets one too: candle's
//! matmuls (gemm on rayon) and its large element-wise ops (a barrier pool) would otherwise use
//! every core; `--threads 2` shows what native gains from a second core. Training goes through
//! [`Session`], the same path as the page, in `train_steps(chunk)` calls.
//!
//! `--step-profile` instead prints where one data-parallel step's milliseconds go for W = 1
//! and W = 2 (the half batch's share, the reduce, AdamW fused and candle's), as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use candle_nn::Optimizer;
use latent_lab::model::{Arch, ModelConfig};
use latent_lab::optim::FusedAdamW;
use latent_lab::parallel::{reduce, reduce_into, Shard, Share};
use latent_lab::session::Session;
use latent_lab::train::TrainConfig;
use serde_json::json;
use web_time::Instant;

// The crate's bins are also compiled for wasm32 when browser tests build; mimalloc is native-only.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: bench [--seconds S] [--warmup S] [--chunk N] [--threads N] [--arch mlp|conv] [--data DIR]
  --seconds S   measured training time (default 6)
  --warmup S    untimed training before it (default 1)
  --chunk N     steps per train_steps call, as the page's worker makes them (default 10)
  --threads N   threads candle may use (default 1)
  --arch A      the default model's encoder and decoder: mlp (default) or conv
  --data DIR    folder with train-{images-idx3,labels-idx1}-ubyte.gz (default www/data/mnist)
  --step-profile  time the parts of a data-parallel step instead (median ms of --seconds S)";

struct Args {
    seconds: f64,
    warmup: f64,
    chunk: usize,
    threads: usize,
    arch: Arch,
    data: PathBuf,
    step_profile: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 6.0,
        warmup: 1.0,
        chunk: 10,
        threads: 1,
        arch: Arch::Mlp,
        data: PathBuf::from("www/data/mnist"),
        step_profile: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        if flag == "--step-profile" {
            args.step_profile = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = format!("{flag}: not a number: {value}");
        match flag.as_str() {
            "--seconds" => args.seconds = value.parse().map_err(|_| bad)?,
            "--warmup" => args.warmup = value.parse().map_err(|_| bad)?,
            "--chunk" => args.chunk = value.parse().map_err(|_| bad)?,
            "--threads" => args.threads = value.parse().map_err(|_| bad)?,
            // The settings' own spelling, as the page and the train CLI write it.
            "--arch" => args.arch = serde_json::from_value(json!(value)).map_err(|_| format!("--arch: mlp or conv, got {value}"))?,
            "--data" => args.data = PathBuf::from(&value),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    if args.seconds <= 0.0 || args.warmup < 0.0 || args.chunk == 0 || args.threads == 0 {
        return Err(format!("--seconds must be > 0, --warmup >= 0, --chunk and --threads >= 1\n{USAGE}"));
    }
    Ok(args)
}

fn read(dir: &std::path::Path, name: &str) -> Result<Vec<u8>, String> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|e| format!("can't read {}: {e}", path.display()))
}

/// `(step, mean loss of the chunk)` after every `train_steps` call.
type LossHistory = Vec<(u64, f32)>;

/// Trains in `chunk`-step calls until `seconds` have passed; returns (steps, elapsed seconds,
/// the loss history).
fn train_for(session: &mut Session, seconds: f64, chunk: usize) -> Result<(usize, f64, LossHistory), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let (mut steps, mut history) = (0, Vec::new());
    while start.elapsed().as_secs_f64() < seconds {
        let report = session.train_steps(chunk)?;
        steps += chunk;
        history.push((report.step, report.loss));
    }
    Ok((steps, start.elapsed().as_secs_f64(), history))
}

/// The time this process's threads have spent on a CPU and waiting for one so far, summed, in
/// seconds (Linux only): on a busy machine the wait shows how much of the wall-clock time the
/// measurement did not get a core. Candle's pool threads live as long as the process, so none
/// that worked during a measurement is missing from the sum at its end.
fn schedstat() -> Option<(f64, f64)> {
    let (mut on_cpu, mut waiting) = (0.0, 0.0);
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let text = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        let mut ns = text.split_whitespace().map(|v| v.parse::<f64>().ok().map(|v| v / 1e9));
        on_cpu += ns.next()??;
        waiting += ns.next()??;
    }
    Some((on_cpu, waiting))
}

/// Median milliseconds of `f` over runs filling `seconds` (at least 5).
fn median_ms(seconds: f64, mut f: impl FnMut() -> Result<(), Box<dyn std::error::Error>>) -> Result<f64, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < 5 || start.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// The parts of one step of the default model, W = 1 and W = 2, each timed on its own.
fn step_profile(args: &Args, images: &[u8], labels: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let (model, train) = (ModelConfig::default(), TrainConfig::default());
    let each = args.seconds / 6.0;
    let mut serial = Session::new(&model, &train)?;
    serial.set_data(images, labels, images, labels)?;
    let serial_step = median_ms(each, || Ok(serial.train_steps(1).map(|_| ())?))?;
    let mut replica = Session::new(&model, &train)?;
    replica.set_data(images, labels, images, labels)?;
    replica.start_parallel(2)?;
    let half_share = median_ms(each, || Ok(replica.share().map(|_| ())?))?;
    // The other replica's share stands in as a copy of this one's, relabelled.
    let mut own = replica.share()?.clone();
    own.flatten()?;
    let other = Share { shard: Shard { index: 1, count: 2 }, ..own.clone() };
    let shares = [own, other.clone()];
    // Into the same buffer every time, as a replica reduces.
    let mut whole = reduce(&shares)?;
    let reduce_ms = median_ms(each, || Ok(reduce_into(&shares, &mut whole)?))?;
    let apply = median_ms(each, || {
        replica.share()?;
        Ok(replica.apply_shares(std::slice::from_ref(&other))?)
    })? - half_share;
    // AdamW alone over the model's parameters, from a flat gradient.
    let vars = latent_lab::model::Model::new(&model, 0, &candle_core::Device::Cpu)?.trainable_vars();
    let mut fused = FusedAdamW::new(vars.clone(), train.adamw_params())?;
    let fused_ms = median_ms(each, || Ok(fused.step_flat(&whole.gradient, &whole.reached)?))?;
    let mut candle = candle_nn::AdamW::new(vars.clone(), train.adamw_params())?;
    let mut store = candle_core::backprop::GradStore::default();
    let mut at = 0;
    for var in &vars {
        let n = var.elem_count();
        store.insert(var.as_tensor(), candle_core::Tensor::from_slice(&whole.gradient[at..at + n], var.shape(), var.device())?);
        at += n;
    }
    let candle_ms = median_ms(each, || Ok(candle.step(&store)?))?;
    println!(
        "{}",
        json!({
            "impl": "native",
            "parameters": whole.gradient.len(),
            "batch": train.batch_size,
            "ms": {
                "serialStep": serial_step,
                "halfBatchShare": half_share,
                "reduceTwoShares": reduce_ms,
                "applyShares": apply,
                "fusedAdamW": fused_ms,
                "candleAdamW": candle_ms,
            },
        })
    );
    Ok(())
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let threads = candle_core::utils::get_num_threads();
    if threads != args.threads {
        return Err(format!("candle would use {threads} threads, not the {} asked for", args.threads).into());
    }
    let model = ModelConfig { arch: args.arch, ..ModelConfig::default() };
    let train = TrainConfig::default();
    let mut session = Session::new(&model, &train)?;
    // The same gzipped IDX bytes the page fetches; setData parses and inflates them alike.
    // The test split is required by set_data but unused: a copy of the training files does.
    let images = read(&args.data, "train-images-idx3-ubyte.gz")?;
    let labels = read(&args.data, "train-labels-idx1-ubyte.gz")?;
    if args.step_profile {
        return step_profile(&args, &images, &labels);
    }
    session.set_data(&images, &labels, &images, &labels)?;

    // The loss history spans warm-up and measurement, from step 1: the driver compares it at
    // equal step counts with the page's implementations.
    let (_, _, mut history) = train_for(&mut session, args.warmup, args.chunk)?;
    let sched_before = schedstat();
    let (steps, seconds, measured) = train_for(&mut session, args.seconds, args.chunk)?;
    let sched = sched_before.zip(schedstat()).map(|(a, b)| (b.0 - a.0, b.1 - a.1));
    history.extend(measured);
    let images_per_sec = (steps * train.batch_size) as f64 / seconds;
    println!(
        "{}",
        json!({
            "impl": "native",
            "threads": threads,
            "arch": model.arch,
            "imagesPerSec": images_per_sec,
            "steps": steps,
            "seconds": seconds,
            "cpuSeconds": sched.map(|s| s.0),
            "waitSeconds": sched.map(|s| s.1),
            "loss": history.last().map(|h| h.1),
            "history": history,
        })
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    // Before anything reads them: candle sizes its rayon pool from RAYON_NUM_THREADS and its
    // barrier pool from CANDLE_NUM_THREADS (falling back to the former), once, on first use.
    std::env::set_var("RAYON_NUM_THREADS", args.threads.to_string());
    std::env::set_var("CANDLE_NUM_THREADS", args.threads.to_string());
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
