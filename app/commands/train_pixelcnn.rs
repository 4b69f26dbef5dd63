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
use vislab_engine::vae::{Binarize, Flow};

use super::data_spec::DataSpec;
use super::progress::ProgressBar;
use super::train_args::TrainArgs;

pub const HEADER: [&str; 6] = ["epoch", "train_nll_nats", "train_bits_per_dim", "test_nll_nats", "test_bits_per_dim", "seconds"];

struct Args {
    data: DataSpec,
    channels: usize,
    layers: usize,
    config: PixelCnnTrainConfig,
    limit: Option<usize>,
    out: PathBuf,
}

/// The PixelCNN's settings from the command line.
fn parse(a: &TrainArgs) -> Result<Args, String> {
    let binarize = match a.binarize.as_deref().unwrap_or("threshold") {
        "threshold" => Binarize::Threshold,
        "sample" => Binarize::Sample,
        other => return Err(format!("--binarize {other} is not for the PixelCNN (expected threshold or sample)")),
    };
    let config = PixelCnnTrainConfig { lr: a.lr.unwrap_or(2e-3), binarize, ..PixelCnnTrainConfig::new(a.epochs.unwrap_or(5), a.batch.unwrap_or(64), a.seed.unwrap_or(0)) };
    Ok(Args { data: a.data()?, channels: a.channels, layers: a.layers, config, limit: a.limit, out: a.out() })
}

pub fn train(args: &TrainArgs) -> Result<(), String> {
    parse(args).and_then(run)
}

fn row(r: &EpochReport, pixels: usize) -> [String; 6] {
    let (nats, bits) = (|v: f64| format!("{v:.4}"), |v: f64| format!("{:.5}", bits_per_dim(v, pixels)));
    [r.epoch.to_string(), nats(r.train_nll), bits(r.train_nll), nats(r.test_nll), bits(r.test_nll), format!("{:.3}", r.seconds)]
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
    let meta = BTreeMap::from([
        ("vislab.data".to_string(), a.data.kind.to_string()),
        ("vislab.pixelcnn.binarize".to_string(), a.config.binarize.name().to_string()),
        ("epoch".to_string(), trainer.epoch().to_string()),
        ("step".to_string(), trainer.step().to_string()),
    ]);
    let path = a.out.join("model.safetensors");
    pixelcnn::save(&path, &trainer.model, Some(trainer.optimizer()), &meta).map_err(|e| e.to_string())?;
    if let Some(r) = last {
        println!("test_nll_nats {:.4} test_bits_per_dim {:.5}", r.test_nll, bits_per_dim(r.test_nll, pixels));
    }
    eprintln!("wrote {} and {}", csv_path.display(), path.display());
    Ok(())
}
