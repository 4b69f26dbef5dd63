//! `vislab train --model vae`: a variational autoencoder on MNIST-format
//! data, binarized, with a Bernoulli decoder. `metrics.csv` holds the
//! negative ELBO per image (nats) and its reconstruction and KL terms on
//! the training batches (mean over the epoch) and on the test split;
//! `vislab eval` scores a VAE checkpoint's test split the same way.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use vislab_engine::csv_file::CsvLog;
use vislab_engine::train::checkpoint::Checkpoint;
use vislab_engine::vae::{self, Binarize, Elbo, EpochReport, Flow, Vae, VaeShape, VaeTrainConfig, VaeTrainer};

use super::data_spec::DataSpec;
use super::eval::EvalInput;
use super::progress::ProgressBar;
use super::train_args::{RECIPE, TrainArgs};

pub const HEADER: [&str; 8] = ["epoch", "train_nelbo", "train_recon", "train_kl", "test_nelbo", "test_recon", "test_kl", "seconds"];

struct Args {
    data: DataSpec,
    shape: VaeShape,
    config: VaeTrainConfig,
    limit: Option<usize>,
    out: PathBuf,
    /// `vislab.train.*` for the checkpoint.
    recipe: BTreeMap<String, String>,
}

/// The VAE's settings from the command line.
fn parse(a: &TrainArgs) -> Result<Args, String> {
    let binarize = match a.binarize.as_deref() {
        None => Binarize::Sample,
        Some(b) => Binarize::parse(b).ok_or_else(|| format!("unknown --binarize '{b}' (expected sample, threshold or off)"))?,
    };
    let cosine = match a.schedule.as_deref().unwrap_or("cosine") {
        "cosine" => true,
        "constant" => false,
        other => return Err(format!("--schedule {other} is not for the VAE (expected constant or cosine)")),
    };
    let config = VaeTrainConfig { lr: a.lr.unwrap_or(1e-3), cosine, binarize, ..VaeTrainConfig::new(a.epochs.unwrap_or(20), a.batch.unwrap_or(100), a.seed.unwrap_or(0)) };
    let shape = VaeShape { input: 0, hidden: a.hidden.clone(), latent: a.latent, conv: a.conv.clone() };
    let c = &config;
    let resolved = [
        ("epochs", c.epochs.to_string()),
        ("batch", c.batch_size.to_string()),
        ("lr", c.lr.to_string()),
        ("schedule", if cosine { "cosine" } else { "constant" }.to_string()),
        ("seed", c.seed.to_string()),
        ("binarize", binarize.name().to_string()),
    ];
    let recipe = a.recipe(&resolved);
    Ok(Args { data: a.data()?, shape, config, limit: a.limit, out: a.out(), recipe })
}

pub fn train(args: &TrainArgs) -> Result<(), String> {
    parse(args).and_then(run)
}

fn row(r: &EpochReport) -> [String; 8] {
    let f = |v: f64| format!("{v:.4}");
    [r.epoch.to_string(), f(r.train.nelbo()), f(r.train.recon), f(r.train.kl), f(r.test.nelbo()), f(r.test.recon), f(r.test.kl), format!("{:.3}", r.seconds)]
}

fn run(mut a: Args) -> Result<(), String> {
    let (mut train, test) = a.data.load()?;
    if let Some(n) = a.limit {
        train = train.take(n);
    }
    a.shape.input = train.sample_len();
    std::fs::create_dir_all(&a.out).map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;
    let csv_path = a.out.join("metrics.csv");
    let mut csv = CsvLog::create(&csv_path, &HEADER)?;
    let vae = Vae::new(a.shape.clone(), a.config.seed).map_err(|e| e.to_string())?;
    let (epochs, batch) = (a.config.epochs, a.config.batch_size);
    let steps_per_epoch = train.num_batches(batch, false);
    eprintln!(
        "training vae {} on {} ({} images, test {}) for {epochs} epochs: adam lr {} ({}), batch {batch}, binarize {}",
        a.shape.describe(),
        a.data.kind,
        train.len(),
        test.len(),
        a.config.lr,
        if a.config.cosine { "cosine" } else { "constant" },
        a.config.binarize.name()
    );
    let mut trainer = VaeTrainer::new(vae, Arc::new(train), Arc::new(test), a.config.clone()).map_err(|e| e.to_string())?;
    // Both callbacks draw on the bar.
    let bar = std::cell::RefCell::new(ProgressBar::new(epochs, steps_per_epoch, batch));
    let mut write_error = None;
    let mut last = None;
    trainer
        .run(
            |_, r| {
                bar.borrow_mut().step(r.epoch, r.step - (r.epoch - 1) * steps_per_epoch, r.elbo.nelbo() as f32);
                Flow::Continue
            },
            |_, r| {
                bar.borrow_mut().epoch_done(&format!(
                    "epoch {}/{epochs}: train nelbo {:.2} (recon {:.2} + kl {:.2}), test nelbo {:.2} (recon {:.2} + kl {:.2}) nats, {:.1} s",
                    r.epoch,
                    r.train.nelbo(),
                    r.train.recon,
                    r.train.kl,
                    r.test.nelbo(),
                    r.test.recon,
                    r.test.kl,
                    r.seconds
                ));
                last = Some(r);
                match csv.row(row(&r)) {
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
    let mut meta = std::mem::take(&mut a.recipe);
    meta.extend([
        ("vislab.data".to_string(), a.data.kind.to_string()),
        ("vislab.vae.binarize".to_string(), a.config.binarize.name().to_string()),
        ("epoch".to_string(), trainer.epoch().to_string()),
        ("step".to_string(), trainer.step().to_string()),
    ]);
    let path = a.out.join("model.safetensors");
    vae::save(&path, &trainer.vae, Some(trainer.optimizer()), &meta).map_err(|e| e.to_string())?;
    if let Some(r) = last {
        println!("test_nelbo {:.4} test_recon {:.4} test_kl {:.4}", r.test.nelbo(), r.test.recon, r.test.kl);
    }
    eprintln!("wrote {} and {}", csv_path.display(), path.display());
    Ok(())
}

/// `vislab eval` of a VAE checkpoint: the test negative ELBO as the trainer's
/// test pass computes it (the split binarized once from the run's seed, fixed
/// noise from the next stream), so the checkpoint of a vislab run scores
/// exactly the `test_nelbo` its last epoch printed.
pub fn eval(input: &EvalInput) -> Result<(), String> {
    let data = input.data()?;
    let s = score(&input.ck, &data).map_err(|e| input.err(e))?;
    let (t, c) = (&s.test, &s.config);
    println!(
        "test_nelbo {:.4} test_recon {:.4} test_kl {:.4} (vae {} on {}, {} test images, binarize {}, seed {})",
        t.nelbo(),
        t.recon,
        t.kl,
        s.shape.describe(),
        data.kind,
        s.images,
        c.binarize.name(),
        c.seed
    );
    Ok(())
}

/// A checkpoint's test terms and what they were computed with.
struct Score {
    test: Elbo,
    shape: VaeShape,
    config: VaeTrainConfig,
    images: usize,
}

/// The test terms of `ck`'s weights on `data`, binarized with the mode and
/// seed its metadata records (vislab's defaults, sample and 0, otherwise).
fn score(ck: &Checkpoint, data: &DataSpec) -> Result<Score, String> {
    let get = |k: &str| ck.meta.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let mode = get("vislab.vae.binarize").or(get(&format!("{RECIPE}binarize"))).unwrap_or("sample");
    let binarize = Binarize::parse(mode).ok_or_else(|| format!("unknown binarization '{mode}' in the checkpoint"))?;
    let seed = get(&format!("{RECIPE}seed")).map_or(Ok(0), |s| s.parse().map_err(|_| format!("seed '{s}' in the checkpoint is not a number")))?;
    let shape = vae::shape_from_meta(&ck.meta).map_err(|e| e.to_string())?;
    let mut model = Vae::new(shape.clone(), 0).map_err(|e| e.to_string())?;
    ck.apply(model.params_mut()).map_err(|e| e.to_string())?;
    let (train, test) = data.load()?;
    let images = test.len();
    // The trainer's own test pass: epochs, batch and learning rate play no part in it.
    let config = VaeTrainConfig { binarize, ..VaeTrainConfig::new(1, 1, seed) };
    let mut trainer = VaeTrainer::new(model, Arc::new(train), Arc::new(test), config.clone()).map_err(|e| e.to_string())?;
    let test = trainer.evaluate_test().map_err(|e| e.to_string())?;
    Ok(Score { test, shape, config, images })
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use vislab_engine::data::image_folder::FolderOptions;
    use vislab_engine::train::checkpoint;

    use super::*;
    use crate::cli::{Cli, Command};

    #[test]
    fn eval_scores_a_checkpoint_as_its_run_did() {
        let out = std::env::temp_dir().join(format!("vislab-vae-eval-{}", std::process::id()));
        let line = format!("vislab train --model vae --data digits --epochs 5 --batch 32 --lr 0.003 --hidden 32 --latent 4 --seed 3 --out {}", out.display());
        let Some(Command::Train(args)) = Cli::try_parse_from(line.split_whitespace()).unwrap().command else { panic!("not a train command") };
        train(&args).unwrap();
        let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
        let last: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
        let mut ck = checkpoint::load(&out.join("model.safetensors")).unwrap();
        let digits = DataSpec::parse("digits", FolderOptions::default()).unwrap();
        let s = score(&ck, &digits).unwrap();
        // the run's last test_nelbo, test_recon and test_kl, to the digit
        let f = |v: f64| format!("{v:.4}");
        assert_eq!([f(s.test.nelbo()), f(s.test.recon), f(s.test.kl)], [last[4], last[5], last[6]]);
        assert_eq!((last[0], s.images, s.config.seed, s.config.binarize, s.shape.describe()), ("5", 179, 3, Binarize::Sample, "64-32-4".to_string()));
        // nats per 8x8 image (29.25 when written): well below the 64 ln 2 = 44.4 of coin flips
        assert!(s.test.nelbo() > 25.0 && s.test.nelbo() < 34.0 && s.test.kl > 0.3, "{:?}", s.test);
        // the seed decides the test set's binarization and noise, so another scores differently
        ck.meta.insert(format!("{RECIPE}seed"), "4".into());
        let other = score(&ck, &digits).unwrap();
        assert!((other.test.nelbo() - s.test.nelbo()).abs() > 1e-3, "{:?} {:?}", other.test, s.test);
        ck.meta.insert("vislab.vae.binarize".into(), "threshold".into());
        assert_eq!(score(&ck, &digits).unwrap().config.binarize, Binarize::Threshold);
        std::fs::remove_dir_all(&out).unwrap();
    }
}
