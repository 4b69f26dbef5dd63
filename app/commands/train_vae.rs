//! `vislab train --model vae`: a variational autoencoder on MNIST-format
//! data, binarized, with a Bernoulli decoder. `metrics.csv` holds the
//! negative ELBO per image (nats) and its reconstruction and KL terms on
//! the training batches (mean over the epoch) and on the test split.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use vislab_engine::csv_file::CsvLog;
use vislab_engine::vae::{self, Binarize, EpochReport, Flow, Vae, VaeShape, VaeTrainConfig, VaeTrainer};

use super::data_spec::DataSpec;
use super::progress::ProgressBar;
use super::train_args::TrainArgs;

pub const HEADER: [&str; 8] = ["epoch", "train_nelbo", "train_recon", "train_kl", "test_nelbo", "test_recon", "test_kl", "seconds"];

struct Args {
    data: DataSpec,
    shape: VaeShape,
    config: VaeTrainConfig,
    limit: Option<usize>,
    out: PathBuf,
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
    Ok(Args { data: a.data()?, shape, config, limit: a.limit, out: a.out() })
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
