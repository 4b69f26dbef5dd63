//! `vislab train --model mlp|cnn` and `vislab eval`: headless training of
//! the classifiers on any dataset the engine's `Source` opens (MNIST,
//! Fashion-MNIST, CIFAR-10/100, image folders, the built-in digits), with a
//! progress bar on stderr, `metrics.csv` and a safetensors checkpoint that
//! `eval` rebuilds the model from.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use vislab_engine::data::Dataset;
use vislab_engine::data::image_folder::FolderOptions;
use vislab_engine::models::{Arch, META_ARCH};
use vislab_engine::optim::Schedule;
use vislab_engine::registry;
use vislab_engine::train::checkpoint;
use vislab_engine::train::{Event, Job, Model, StopReason, TrainConfig, evaluate};

use super::data_spec::DataSpec;
use super::progress::ProgressBar;
use super::train_args::TrainArgs;

/// Test-split batch size of both commands: `eval` reproduces the last
/// `metrics.csv` row exactly only with the same batches.
const EVAL_BATCH: usize = 1000;

/// Checkpoint metadata key naming the dataset the model was trained on.
const META_DATA: &str = "vislab.data";

/// `vislab eval`'s flags.
#[derive(Args, Debug, Clone)]
pub struct EvalArgs {
    /// A checkpoint written by `vislab train --model mlp|cnn`
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// The dataset whose test split is scored (as for vislab train)
    #[arg(long, value_name = "SPEC")]
    pub data: String,
    /// Side the images of a folder are resized to
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub image_size: usize,
    /// Read a folder's images as one grey channel
    #[arg(long)]
    pub grayscale: bool,
}

/// `[channels, height, width]` of a dataset's samples (`[H, W]` is one channel).
fn image_shape(d: &Dataset) -> Result<[usize; 3], String> {
    match *d.sample_shape() {
        [c, h, w] => Ok([c, h, w]),
        [h, w] => Ok([1, h, w]),
        ref s => Err(format!("samples of shape {s:?} are not images")),
    }
}

pub fn train(args: &TrainArgs) -> Result<(), String> {
    let arch = Arch::parse(&args.model).map_err(|e| e.to_string())?;
    let data = args.data()?;
    let optimizer = registry::optimizer(args.optimizer.as_deref().unwrap_or("adam"))?;
    let schedule = registry::schedule(args.schedule.as_deref().unwrap_or("cosine"))?;
    let epochs = args.epochs.unwrap_or(if arch == Arch::Cnn { 3 } else { 8 });
    let batch = args.batch.unwrap_or(64);
    let lr = args.lr.unwrap_or(optimizer.default_lr);
    let seed = args.seed.unwrap_or(0);
    let augment = args.augment.unwrap_or_default();
    let out = args.out();
    let (mut train, test) = data.load()?;
    if let Some(n) = args.limit {
        train = train.take(n);
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let model = arch.build_for(image_shape(&train)?, train.num_classes(), seed).map_err(|e| e.to_string())?;
    let steps_per_epoch = train.num_batches(batch, false);
    let mut cfg = TrainConfig::new(epochs, batch, Schedule::new(lr, schedule.decay(steps_per_epoch)));
    cfg.seed = seed;
    cfg.eval_batch_size = EVAL_BATCH;
    cfg.metrics_csv = Some(out.join("metrics.csv"));
    cfg.augment = (!augment.is_identity()).then_some(augment);
    eprintln!(
        "training {} on {} ({} images, test {}) for {} epochs: {} lr {} ({}), batch {}, augmentation {}",
        arch.name(),
        data.kind,
        train.len(),
        test.len(),
        epochs,
        optimizer.name,
        lr,
        schedule.name,
        batch,
        augment
    );
    let job = Job::new(Box::new(model), optimizer.build(lr), Arc::new(train), cfg).validate_on(Arc::new(test));
    let mut bar = ProgressBar::new(epochs, steps_per_epoch, batch);
    let handle = job.spawn().map_err(|e| e.to_string())?;
    for event in handle.events().iter() {
        match event {
            Event::Step { step, epoch, loss, .. } => bar.step(epoch, step - (epoch - 1) * steps_per_epoch, loss),
            Event::Epoch(m) => bar.epoch_done(&format!(
                "epoch {}/{}: train loss {:.4} acc {:.4}, test loss {:.4} acc {:.4}, {:.1} s",
                m.epoch,
                epochs,
                m.train_loss,
                m.train_acc,
                m.val_loss.unwrap_or(f32::NAN),
                m.val_acc.unwrap_or(f32::NAN),
                m.seconds
            )),
            Event::Stopped { .. } | Event::Failed { .. } | Event::Samples { .. } => {}
        }
    }
    bar.clear();
    let fin = handle.join().map_err(|e| e.to_string())?;
    match &fin.reason {
        StopReason::Diverged { message, .. } => return Err(format!("training diverged: {message}; try a smaller --lr")),
        StopReason::Failed(m) => return Err(format!("training failed: {m}")),
        _ => {}
    }
    let meta = BTreeMap::from([
        (META_ARCH.to_string(), arch.name().to_string()),
        (META_DATA.to_string(), data.kind.to_string()),
        ("epoch".to_string(), fin.progress.epoch.to_string()),
        ("step".to_string(), fin.progress.step.to_string()),
    ]);
    let path = out.join("model.safetensors");
    checkpoint::save(&path, fin.model.params(), Some(fin.optimizer.as_ref()), &meta).map_err(|e| e.to_string())?;
    eprintln!("time {} ({} threads)", fin.timings, vislab_engine::cpu::threads::current());
    if let Some(m) = fin.history.last() {
        println!("test_acc {} test_loss {}", m.val_acc.unwrap_or(f32::NAN), m.val_loss.unwrap_or(f32::NAN));
    }
    eprintln!("wrote {} and {}", out.join("metrics.csv").display(), path.display());
    Ok(())
}

pub fn eval(args: &EvalArgs) -> Result<(), String> {
    let path = args.checkpoint.as_path();
    let data = DataSpec::parse(&args.data, FolderOptions { size: args.image_size, grayscale: args.grayscale })?;
    let ck = checkpoint::load(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let arch = ck.meta.get(META_ARCH).ok_or_else(|| format!("{}: no {META_ARCH} metadata; not written by vislab train", path.display()))?;
    let (_, test) = data.load()?;
    let image = image_shape(&test)?;
    let mut model = Arch::parse(arch).and_then(|a| a.build_for(image, test.num_classes(), 0)).map_err(|e| e.to_string())?;
    ck.apply(model.params_mut()).map_err(|e| format!("{}: {e}", path.display()))?;
    let s = evaluate(&mut model, &test, EVAL_BATCH).map_err(|e| format!("evaluation failed: {e}"))?;
    let acc = s.correct as f32 / s.count.max(1) as f32;
    println!("test_acc {acc} test_loss {} ({}/{} correct, {arch} on {})", s.loss, s.correct, s.count, data.kind);
    Ok(())
}
