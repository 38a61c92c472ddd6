//! Native trainer: trains any configuration on IDX files, prints metrics per epoch and writes
//! a checkpoint the page can load.
//!
//! ```text
//! cargo run --release --bin train -- --kind vae --latent-dim 20 --epochs 20 --out vae20.safetensors
//! ```
//! With `--prior-for CHECKPOINT` it trains instead the learned prior over that VQ-VAE's code
//! grids (src/prior.rs) on the training set's codes, `--epochs` passes, and writes the prior file:
//! ```text
//! cargo run --release --bin train -- --prior-for www/checkpoints/vq-l16.safetensors --epochs 10 --out vq-l16-prior.safetensors
//! ```
//! With `--judge` it trains instead the classifier that scores samples (src/judge.rs), `--epochs`
//! passes, and writes the judge file with its test accuracy:
//! ```text
//! cargo run --release --bin train -- --judge --epochs 10 --out judge.safetensors
//! ```
//! The `model`, `train` and final `test` lines are JSON (configs with defaults filled in, and
//! the last epoch's `EvalReport`), so scripts can read them.
//! Every `--kebab-case value` flag sets the camelCase field of the model or training config of
//! the same name (see `ModelConfig` and `TrainConfig`), so the CLI and the page share one
//! vocabulary. Values are read as JSON where they parse (numbers), otherwise as strings.

use std::path::PathBuf;
use std::process::ExitCode;

use candle_core::Device;
use latent_lab::data::Dataset;
use latent_lab::judge::{self, Judge, JudgeConfig, JudgeTrainer};
use latent_lab::model::{Model, ModelConfig};
use latent_lab::session::Session;
use latent_lab::train::{TrainConfig, Trainer};
use serde_json::{Map, Value};

// The crate's bins are also compiled for wasm32 when browser tests build; mimalloc is native-only.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: train [--data DIR] [--epochs N] [--eval-limit N] [--out FILE] [--<setting> VALUE]...
  --data DIR        folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (default www/data/mnist)
  --epochs N        epochs to train (default 10)
  --eval-limit N    test images to evaluate on after each epoch (default all)
  --out FILE        write a checkpoint (safetensors) at the end
  --prior-for FILE  train the learned prior over this VQ-VAE checkpoint's code grids instead
  --judge           train the MNIST classifier that scores samples instead (--hidden, --learning-rate,
                    --batch-size and --seed apply; hidden 256 unless given)
  model settings:   --kind ae|vae|vqvae --arch mlp|conv --hidden 512 --latent-dim 2 --beta 1
                    --likelihood bernoulli|gaussian --codebook-size 16 --code-dim 2
                    --codes-per-image 1 --commitment 0.25 --codebook-update loss|ema|emaRestart
                    --ema-decay 0.99 --codebook-init normal|smallUniform
  training:         --learning-rate 0.001 --batch-size 128 --seed 0 --weight-decay 0 --train-subset 0";

struct Args {
    data: PathBuf,
    epochs: usize,
    eval_limit: usize,
    out: Option<PathBuf>,
    prior_for: Option<PathBuf>,
    /// `--judge`: the classifier's hidden width.
    judge: Option<usize>,
    model: ModelConfig,
    train: TrainConfig,
}

fn camel_case(flag: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in flag.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut data, mut epochs, mut eval_limit, mut out, mut prior_for) = (PathBuf::from("www/data/mnist"), 10, 0, None, None);
    let (mut model, mut train) = (Map::new(), Map::new());
    let mut judge = false;
    let model_keys = serde_json::to_value(ModelConfig::default()).unwrap();
    let train_keys = serde_json::to_value(TrainConfig::default()).unwrap();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        if flag == "--judge" {
            judge = true;
            continue;
        }
        let name = flag.strip_prefix("--").ok_or_else(|| format!("unexpected argument {flag}\n{USAGE}"))?;
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<usize>().map_err(|_| format!("{flag} needs a whole number, got {v}"));
        match name {
            "data" => data = PathBuf::from(value),
            "epochs" => epochs = number(&value)?,
            "eval-limit" => eval_limit = number(&value)?,
            "out" => out = Some(PathBuf::from(value)),
            "prior-for" => prior_for = Some(PathBuf::from(value)),
            _ => {
                let key = camel_case(name);
                let parsed = serde_json::from_str(&value).unwrap_or(Value::String(value));
                if model_keys.get(&key).is_some() {
                    model.insert(key, parsed);
                } else if train_keys.get(&key).is_some() {
                    train.insert(key, parsed);
                } else {
                    return Err(format!("unknown setting {flag}\n{USAGE}"));
                }
            }
        }
    }
    if judge && model.keys().any(|k| k != "hidden") {
        return Err(format!("--judge takes --hidden, --learning-rate, --batch-size and --seed only\n{USAGE}"));
    }
    let hidden = model.get("hidden").cloned();
    let model: ModelConfig = serde_json::from_value(Value::Object(model)).map_err(|e| format!("model settings: {e}"))?;
    let train: TrainConfig = serde_json::from_value(Value::Object(train)).map_err(|e| format!("training settings: {e}"))?;
    let judge_hidden = hidden.and_then(|h| h.as_u64()).map_or(JudgeConfig::default().hidden, |h| h as usize);
    Ok(Args { data, epochs, eval_limit, out, prior_for, judge: judge.then_some(judge_hidden), model, train })
}

/// Reads one split's image and label files (gzipped or not). Each file is checked on its own,
/// then the two as a pair, by the same reader the page uses; messages name the file(s).
fn read_split(dir: &std::path::Path, split: &str) -> Result<Dataset, String> {
    let read = |kind: &str| {
        let base = dir.join(format!("{split}-{kind}-ubyte"));
        let gz = PathBuf::from(format!("{}.gz", base.display()));
        match std::fs::read(&gz) {
            Ok(bytes) => Ok((gz.display().to_string(), bytes)),
            Err(_) => std::fs::read(&base)
                .map(|bytes| (base.display().to_string(), bytes))
                .map_err(|e| format!("can't read {} (or .gz): {e}", base.display())),
        }
    };
    let ((images_name, images), (labels_name, labels)) = (read("images-idx3")?, read("labels-idx1")?);
    Dataset::from_named_idx(&images_name, &images, &labels_name, &labels).map_err(|e| format!("{split} set: {e}"))
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::Cpu;
    let train_set = read_split(&args.data, "train")?;
    let test_set = read_split(&args.data, "t10k")?;
    println!("model {}", serde_json::to_string(&args.model)?);
    println!("train {}", serde_json::to_string(&args.train)?);
    println!("data  {} training images, {} test images from {}", train_set.len(), test_set.len(), args.data.display());
    let model = Model::new(&args.model, args.train.seed, &device)?;
    let mut trainer = Trainer::new(model, args.train.clone(), train_set.len())?;
    let mut last_eval = None;
    for epoch in 1..=args.epochs {
        let report = trainer.train_steps(&train_set, trainer.steps_per_epoch())?;
        let eval = trainer.evaluate(&test_set, args.eval_limit)?;
        let mut line = format!(
            "epoch {epoch:3}  train loss {:8.3}  {:7.0} img/s | test loss {:8.3}  recon {:8.3}",
            report.loss, report.images_per_sec, eval.loss, eval.recon
        );
        if let (Some(kl), Some(elbo), Some(au)) = (eval.kl, eval.neg_elbo, eval.active_units) {
            line += &format!("  KL {kl:7.3}  -ELBO {elbo:8.3}  active {au}/{}", args.model.latent_dim);
        }
        if let (Some(cb), Some(cm), Some(used), Some(ppl)) = (eval.codebook_loss, eval.commitment_loss, eval.codes_used, eval.perplexity) {
            line += &format!("  codebook {cb:7.4}  commit {cm:7.4}  codes used {used}/{}  perplexity {ppl:6.2}", args.model.codebook_size);
        }
        println!("{line}");
        last_eval = Some(eval);
    }
    // The last evaluation in full, for scripts (pkg-config/checkpoints.sh records it).
    if let Some(eval) = last_eval {
        println!("test  {}", serde_json::to_string(&eval)?);
    }
    if let Some(out) = &args.out {
        let bytes = latent_lab::checkpoint::save(trainer.model(), trainer.config(), trainer.step())?;
        std::fs::write(out, bytes)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

/// The learned prior over a VQ-VAE checkpoint's code grids, trained as the page trains it
/// (the same Session calls), one epoch of batches at a time.
fn run_prior(args: &Args, checkpoint: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut session = Session::new(&args.model, &args.train)?;
    session.set_datasets(read_split(&args.data, "train")?, read_split(&args.data, "t10k")?)?;
    session.load(&std::fs::read(checkpoint)?)?;
    let start = session.start_prior(args.train.seed)?;
    println!("prior {} parameters, {} training grids, {} test grids", start.parameters, start.train_grids, start.test_grids);
    for epoch in 1..=args.epochs {
        let step = session.train_prior(start.steps_per_epoch)?;
        let report = session.prior_report()?;
        println!(
            "epoch {epoch:3}  train {:7.3} bits | test NLL {:7.3} bits/image  (unigram {:.3}, uniform {:.1})",
            step.loss_bits, report.test_nll_bits, report.unigram_bits, report.uniform_bits
        );
    }
    println!("test  {}", serde_json::to_string(&session.prior_report()?)?);
    if let Some(out) = &args.out {
        std::fs::write(out, session.save_prior()?)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

/// The classifier that judges samples, trained on the training set and scored on the test set
/// after every epoch.
fn run_judge(args: &Args, hidden: usize) -> Result<(), Box<dyn std::error::Error>> {
    let train_set = read_split(&args.data, "train")?;
    let test_set = read_split(&args.data, "t10k")?;
    let t = &args.train;
    let config = JudgeConfig { hidden, learning_rate: t.learning_rate, batch_size: t.batch_size, seed: t.seed };
    println!("judge {}", serde_json::to_string(&config)?);
    let mut trainer = JudgeTrainer::new(Judge::new(&config, &Device::Cpu)?, train_set.len())?;
    let mut accuracy = 0.0;
    for epoch in 1..=args.epochs {
        let started = std::time::Instant::now();
        let loss = trainer.train_epoch(&train_set)?;
        let seconds = started.elapsed().as_secs_f64();
        accuracy = trainer.judge().accuracy(&test_set)?;
        println!("epoch {epoch:3}  train loss {loss:.4}  {seconds:5.1} s | test accuracy {:.2} %", 100.0 * accuracy);
    }
    println!("test  {}", serde_json::json!({ "step": trainer.step(), "testAccuracy": accuracy }));
    if let Some(out) = &args.out {
        std::fs::write(out, judge::save(trainer.judge(), trainer.step(), accuracy)?)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    // One thread unless asked otherwise: for these small matmuls candle's second thread made
    // training slower on 2 cores, and several times slower when the machine was busy.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let result = match (args.prior_for.clone(), args.judge) {
        (Some(checkpoint), _) => run_prior(&args, &checkpoint),
        (None, Some(hidden)) => run_judge(&args, hidden),
        (None, None) => run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
