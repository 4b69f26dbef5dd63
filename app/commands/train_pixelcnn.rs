//! `vislab train --model pixelcnn`: a PixelCNN on binarized one-channel
//! images (MNIST-format folders or the built-in digits). `metrics.csv`
//! holds the exact negative log-likelihood per image in nats and in bits
//! per dimension, on the training batches (mean over the epoch) and on the
//! test split.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use vislab_engine::csv_file::CsvLog;
use vislab_engine::pixelcnn::{self, EpochReport, PixelCnn, PixelCnnShape, PixelCnnTrainConfig, PixelCnnTrainer, bits_per_dim};
use vislab_engine::train::checkpoint::Checkpoint;
use vislab_engine::vae::{Binarize, Flow};

use super::data_spec::DataSpec;
use super::eval::EvalInput;
use super::progress::ProgressBar;
use super::train_args::{RECIPE, TrainArgs};

/// The binarization the checkpoint was trained (and is scored) with.
const META_BINARIZE: &str = "vislab.pixelcnn.binarize";

pub const HEADER: [&str; 6] = ["epoch", "train_nll_nats", "train_bits_per_dim", "test_nll_nats", "test_bits_per_dim", "seconds"];

struct Args {
    data: DataSpec,
    channels: usize,
    layers: usize,
    config: PixelCnnTrainConfig,
    limit: Option<usize>,
    out: PathBuf,
    /// `vislab.train.*` for the checkpoint.
    recipe: BTreeMap<String, String>,
}

/// The PixelCNN's settings from the command line.
fn parse(a: &TrainArgs) -> Result<Args, String> {
    let binarize = match a.binarize.as_deref().unwrap_or("threshold") {
        "threshold" => Binarize::Threshold,
        "sample" => Binarize::Sample,
        other => return Err(format!("--binarize {other} is not for the PixelCNN (expected threshold or sample)")),
    };
    let config = PixelCnnTrainConfig { lr: a.lr.unwrap_or(2e-3), binarize, ..PixelCnnTrainConfig::new(a.epochs.unwrap_or(5), a.batch.unwrap_or(64), a.seed.unwrap_or(0)) };
    let c = &config;
    let resolved = [
        ("epochs", c.epochs.to_string()),
        ("batch", c.batch_size.to_string()),
        ("lr", c.lr.to_string()),
        ("seed", c.seed.to_string()),
        ("binarize", c.binarize.name().to_string()),
    ];
    let recipe = a.recipe(&resolved);
    Ok(Args { data: a.data()?, channels: a.channels, layers: a.layers, config, limit: a.limit, out: a.out(), recipe })
}

pub fn train(args: &TrainArgs) -> Result<(), String> {
    parse(args).and_then(run)
}

fn row(r: &EpochReport, pixels: usize) -> [String; 6] {
    let (nats, bits) = (|v: f64| format!("{v:.4}"), |v: f64| format!("{:.5}", bits_per_dim(v, pixels)));
    [r.epoch.to_string(), nats(r.train_nll), bits(r.train_nll), nats(r.test_nll), bits(r.test_nll), format!("{:.3}", r.seconds)]
}

/// The train command's last line, which `eval` prints too.
fn summary(test_nll: f64, pixels: usize) -> String {
    format!("test_nll_nats {test_nll:.4} test_bits_per_dim {:.5}", bits_per_dim(test_nll, pixels))
}

fn run(a: Args) -> Result<(), String> {
    let (mut train, test) = a.data.load()?;
    if let Some(n) = a.limit {
        train = train.take(n);
    }
    let pixels = train.sample_len();
    let side = (pixels as f64).sqrt().round() as usize;
    if side * side != pixels {
        return Err(format!("a PixelCNN here takes square one-channel images; these have shape {:?}", train.sample_shape()));
    }
    let shape = PixelCnnShape { side, channels: a.channels, layers: a.layers };
    std::fs::create_dir_all(&a.out).map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;
    let csv_path = a.out.join("metrics.csv");
    let mut csv = CsvLog::create(&csv_path, &HEADER)?;
    let model = PixelCnn::new(shape.clone(), a.config.seed).map_err(|e| e.to_string())?;
    let (epochs, batch) = (a.config.epochs, a.config.batch_size);
    let steps_per_epoch = train.num_batches(batch, false);
    eprintln!(
        "training pixelcnn {side}x{side} (7x7 A + {} 3x3 B layers, {} channels) on {} ({} images, test {}) for {epochs} epochs: adam lr {}, batch {batch}, binarize {}",
        shape.layers,
        shape.channels,
        a.data.kind,
        train.len(),
        test.len(),
        a.config.lr,
        a.config.binarize.name()
    );
    let mut trainer = PixelCnnTrainer::new(model, Arc::new(train), Arc::new(test), a.config.clone()).map_err(|e| e.to_string())?;
    let bar = std::cell::RefCell::new(ProgressBar::new(epochs, steps_per_epoch, batch));
    let mut write_error = None;
    let mut last = None;
    trainer
        .run(
            |_, r| {
                bar.borrow_mut().step(r.epoch, r.step - (r.epoch - 1) * steps_per_epoch, r.nll as f32);
                Flow::Continue
            },
            |_, r| {
                bar.borrow_mut().epoch_done(&format!(
                    "epoch {}/{epochs}: train nll {:.3} nats ({:.4} bits/dim), test nll {:.3} nats ({:.4} bits/dim), {:.1} s",
                    r.epoch,
                    r.train_nll,
                    bits_per_dim(r.train_nll, pixels),
                    r.test_nll,
                    bits_per_dim(r.test_nll, pixels),
                    r.seconds
                ));
                last = Some(r);
                match csv.row(row(&r, pixels)) {
                    Ok(()) => Flow::Continue,
                    Err(e) => {
                        write_error = Some(e);
                        Flow::Stop
                    }
                }
            },
        )
        .map_err(|e| e.to_string())?;
    bar.borrow_mut().clear();
    if let Some(e) = write_error {
        return Err(e);
    }
    let mut meta = a.recipe.clone();
    meta.extend([
        ("vislab.data".to_string(), a.data.kind.to_string()),
        (META_BINARIZE.to_string(), a.config.binarize.name().to_string()),
        ("epoch".to_string(), trainer.epoch().to_string()),
        ("step".to_string(), trainer.step().to_string()),
    ]);
    let path = a.out.join("model.safetensors");
    pixelcnn::save(&path, &trainer.model, Some(trainer.optimizer()), &meta).map_err(|e| e.to_string())?;
    if let Some(r) = last {
        println!("{}", summary(r.test_nll, pixels));
    }
    eprintln!("wrote {} and {}", csv_path.display(), path.display());
    Ok(())
}

/// `vislab eval`: the exact test NLL of a PixelCNN checkpoint, printed as
/// the train command prints its last line.
pub fn eval(input: &EvalInput) -> Result<(), String> {
    let (nll, pixels) = score(&input.ck, &input.data()?).map_err(|e| input.err(e))?;
    println!("{}", summary(nll, pixels));
    Ok(())
}

/// The test NLL (nats per image) of the checkpoint on `data`'s test split,
/// and the pixels per image. The test split goes through the run's own
/// trainer, which binarizes it as training did (in sample mode drawn once
/// from the run's seed, so eval is deterministic and reproduces the run);
/// nothing is trained.
fn score(ck: &Checkpoint, data: &DataSpec) -> Result<(f64, usize), String> {
    let shape = pixelcnn::shape_from_meta(&ck.meta).map_err(|e| e.to_string())?;
    let pixels = shape.pixels();
    let mut model = PixelCnn::new(shape, 0).map_err(|e| e.to_string())?;
    ck.apply(model.params_mut()).map_err(|e| e.to_string())?;
    let mode = ck.meta.get(META_BINARIZE).map_or("threshold", String::as_str);
    let binarize = Binarize::parse(mode).filter(|b| *b != Binarize::Off).ok_or_else(|| format!("{META_BINARIZE} = '{mode}' is not threshold or sample"))?;
    let seed_key = format!("{RECIPE}seed");
    let seed = match ck.meta.get(&seed_key).filter(|v| !v.is_empty()) {
        Some(v) => v.parse().map_err(|_| format!("{seed_key} = '{v}' is not a seed"))?,
        None => 0,
    };
    let (train, test) = data.load()?;
    let config = PixelCnnTrainConfig { binarize, ..PixelCnnTrainConfig::new(1, 1, seed) };
    let mut trainer = PixelCnnTrainer::new(model, Arc::new(train), Arc::new(test), config).map_err(|e| e.to_string())?;
    Ok((trainer.evaluate_test().map_err(|e| e.to_string())?, pixels))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    /// `vislab train --model pixelcnn` on the digits into `out`, then the
    /// checkpoint's score and metrics.csv's last row.
    fn train_and_score(flags: &str, out: &std::path::Path) -> ((f64, usize), Vec<String>) {
        let argv = format!("vislab train --model pixelcnn --data digits --epochs 4 --channels 8 --layers 2 --out {} {flags}", out.display());
        let Some(Command::Train(args)) = Cli::try_parse_from(argv.split_whitespace()).unwrap().command else { panic!("not a train command") };
        train(&args).unwrap();
        let ck = vislab_engine::train::checkpoint::load(&out.join("model.safetensors")).unwrap();
        let scored = score(&ck, &DataSpec::parse("digits", Default::default()).unwrap()).unwrap();
        let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
        let last = csv.lines().last().unwrap().split(',').map(str::to_string).collect();
        std::fs::remove_dir_all(out).unwrap();
        (scored, last)
    }

    #[test]
    fn eval_reproduces_the_runs_final_test_nll() {
        let dir = std::env::temp_dir().join(format!("vislab-pixelcnn-eval-{}", std::process::id()));
        for flags in ["--seed 1", "--binarize sample --seed 2"] {
            let ((nll, pixels), row) = train_and_score(flags, &dir);
            assert_eq!(pixels, 64);
            // metrics.csv: epoch, train nats, train bits, test nats, test bits, seconds
            assert_eq!(summary(nll, pixels), format!("test_nll_nats {} test_bits_per_dim {}", row[3], row[4]), "{flags}");
            // coin flips score 64 ln 2 = 44.4 nats; these 4 epochs reach about 25
            assert!(nll > 15.0 && nll < 32.0, "{flags}: test nll {nll}");
            assert!((bits_per_dim(nll, pixels) - nll / (64.0 * std::f64::consts::LN_2)).abs() < 1e-12);
        }
    }
}
