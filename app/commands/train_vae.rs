//! `vislab train --model vae`: a variational autoencoder on MNIST-format
//! data, binarized, with a Bernoulli decoder. `metrics.csv` holds the
//! negative ELBO per image (nats) and its reconstruction and KL terms on
//! the training batches (mean over the epoch) and on the test split.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use vislab_engine::vae::{self, Binarize, EpochReport, Flow, Vae, VaeShape, VaeTrainConfig, VaeTrainer};

use super::train::{DataSpec, ProgressBar, flags, folder_options, number, subcommand};

pub const USAGE: &str = "\
usage: vislab train --model vae --data mnist:DIR|fashion-mnist:DIR [options]
  --latent N             latent dimensions (default 20)
  --hidden H1,H2,...     encoder hidden sizes; the decoder mirrors them (default 512,256)
  --conv C1,C2,...       a convolutional VAE: 3x3 stride-2 conv stages with these channels
                         before the hidden layers, 4x4 stride-2 transposed convs in the
                         decoder (default none: an MLP VAE)
  --epochs N             (default 20)
  --batch B              mini-batch size (default 100)
  --lr X                 Adam learning rate (default 0.001)
  --schedule S           constant|cosine learning-rate decay (default cosine)
  --binarize M           sample|threshold|off: pixels become 1 with probability equal to
                         their intensity (resampled every epoch; the test split once,
                         seeded), above one half, or stay grey (default sample)
  --seed S               init, shuffling, binarization and noise seed (default 0)
  --limit N              train on the first N training images only
  --out DIR              where metrics.csv and model.safetensors go (default runs/vae)
metrics.csv: epoch,train_nelbo,train_recon,train_kl,test_nelbo,test_recon,test_kl,seconds
(negative ELBO per image in nats = reconstruction + KL)
";

pub const HEADER: &str = "epoch,train_nelbo,train_recon,train_kl,test_nelbo,test_recon,test_kl,seconds";

struct Args {
    data: DataSpec,
    shape: VaeShape,
    config: VaeTrainConfig,
    limit: Option<usize>,
    out: PathBuf,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let known = ["--model", "--data", "--image-size", "--grayscale", "--latent", "--hidden", "--conv", "--epochs", "--batch", "--lr", "--schedule", "--binarize", "--seed", "--limit", "--out"];
    let f = flags(args, &known)?;
    let data = DataSpec::parse(f.get("--data").ok_or("--data is required (mnist:DIR, fashion-mnist:DIR, digits, ...)")?, folder_options(&f)?)?;
    let latent: usize = number(&f, "--latent", 20)?;
    let sizes = |flag: &str, default: Vec<usize>| match f.get(flag) {
        None => Ok(default),
        Some(h) => h.split(',').map(|s| s.trim().parse::<usize>().map_err(|_| format!("{flag} '{h}' must be sizes like 512,256"))).collect::<Result<Vec<_>, _>>(),
    };
    let hidden = sizes("--hidden", vec![512, 256])?;
    let conv = sizes("--conv", vec![])?;
    let epochs: usize = number(&f, "--epochs", 20)?;
    let batch: usize = number(&f, "--batch", 100)?;
    let lr: f32 = number(&f, "--lr", 1e-3)?;
    if latent == 0 || epochs == 0 || batch == 0 || hidden.contains(&0) || conv.contains(&0) {
        return Err("--latent, --hidden, --conv, --epochs and --batch must be at least 1".into());
    }
    if !(lr.is_finite() && lr > 0.0) {
        return Err(format!("--lr {lr} must be a positive number"));
    }
    let cosine = match f.get("--schedule").map_or("cosine", |s| s.as_str()) {
        "cosine" => true,
        "constant" => false,
        other => return Err(format!("unknown schedule '{other}' (expected constant or cosine)")),
    };
    let binarize = match f.get("--binarize") {
        None => Binarize::Sample,
        Some(b) => Binarize::parse(b).ok_or_else(|| format!("unknown --binarize '{b}' (expected sample, threshold or off)"))?,
    };
    let limit = f.get("--limit").map(|_| number(&f, "--limit", 0usize)).transpose()?;
    if limit == Some(0) {
        return Err("--limit must be at least 1".into());
    }
    let seed = number(&f, "--seed", 0)?;
    let config = VaeTrainConfig { lr, cosine, binarize, ..VaeTrainConfig::new(epochs, batch, seed) };
    let out = f.get("--out").map_or_else(|| PathBuf::from("runs").join("vae"), PathBuf::from);
    Ok(Args { data, shape: VaeShape { input: 0, hidden, latent, conv }, config, limit, out })
}

pub fn train(args: &[String]) -> ExitCode {
    subcommand(args, USAGE, |a| parse(a).and_then(run))
}

fn row(r: &EpochReport) -> String {
    format!(
        "{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.3}",
        r.epoch,
        r.train.nelbo(),
        r.train.recon,
        r.train.kl,
        r.test.nelbo(),
        r.test.recon,
        r.test.kl,
        r.seconds
    )
}

fn run(mut a: Args) -> Result<(), String> {
    let (mut train, test) = a.data.load()?;
    if let Some(n) = a.limit {
        train = train.take(n);
    }
    a.shape.input = train.sample_len();
    std::fs::create_dir_all(&a.out).map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;
    let csv_path = a.out.join("metrics.csv");
    let mut csv = File::create(&csv_path).map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
    writeln!(csv, "{HEADER}").map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
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
                match writeln!(csv, "{}", row(&r)).and_then(|_| csv.flush()) {
                    Ok(()) => Flow::Continue,
                    Err(e) => {
                        write_error = Some(format!("cannot write {}: {e}", csv_path.display()));
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
    let meta = BTreeMap::from([
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
