//! `vislab train --model mlp|cnn` and `vislab eval`: headless training of
//! the classifiers on any dataset the engine's `Source` opens (MNIST,
//! Fashion-MNIST, CIFAR-10/100, image folders, the built-in digits), with a
//! progress bar on stderr, `metrics.csv` and a safetensors checkpoint that
//! `eval` rebuilds the model from (as it rebuilds a training lab's MLP, CNN
//! or ResNet).

use std::sync::Arc;

use vislab_engine::data::Dataset;
use vislab_engine::init::Init;
use vislab_engine::models::{Arch, META_ARCH, META_CLASSES, META_IMAGE, NetSpec};
use vislab_engine::optim::Schedule;
use vislab_engine::registry;
use vislab_engine::train::checkpoint;
use vislab_engine::train::{Event, Job, Model, StopReason, TrainConfig, evaluate};

use super::eval::EvalInput;
use super::progress::ProgressBar;
use super::train_args::TrainArgs;

/// Test-split batch size of both commands: `eval` reproduces the last
/// `metrics.csv` row exactly only with the same batches.
const EVAL_BATCH: usize = 1000;

/// Checkpoint metadata key of the dataset kind the model was trained on
/// (with the image shape and class count, what `vislab export` builds from).
const META_DATA: &str = "vislab.data";

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
    let (image, classes) = (image_shape(&train)?, train.num_classes());
    let model = arch.build_for(image, classes, seed).map_err(|e| e.to_string())?;
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
    let resolved = [
        ("epochs", epochs.to_string()),
        ("batch", batch.to_string()),
        ("lr", lr.to_string()),
        ("optimizer", optimizer.name.to_string()),
        ("schedule", schedule.name.to_string()),
        ("seed", seed.to_string()),
        ("augment", augment.to_string()),
    ];
    let mut meta = args.recipe(&resolved);
    let [c, h, w] = image;
    meta.extend([
        (META_ARCH.to_string(), arch.name().to_string()),
        (META_DATA.to_string(), data.kind.to_string()),
        (META_IMAGE.to_string(), format!("{c},{h},{w}")),
        (META_CLASSES.to_string(), classes.to_string()),
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

/// Score a classifier checkpoint: `vislab train --model mlp|cnn`'s, or a
/// training lab's MLP, CNN or ResNet, rebuilt from its metadata.
pub fn eval(input: &EvalInput) -> Result<(), String> {
    let data = input.data()?;
    let (_, test) = data.load()?;
    let spec = NetSpec::from_meta(input.meta(), image_shape(&test)?, test.num_classes()).map_err(|e| input.err(e))?;
    let mut model = spec.model(0, Init::KAIMING_RELU).map_err(|e| input.err(e))?;
    input.ck.apply(model.params_mut()).map_err(|e| input.err(e))?;
    let s = evaluate(&mut model, &test, EVAL_BATCH).map_err(|e| format!("evaluation failed: {e}"))?;
    let acc = s.correct as f32 / s.count.max(1) as f32;
    println!("test_acc {acc} test_loss {} ({}/{} correct, {} on {})", s.loss, s.correct, s.count, input.arch, data.kind);
    Ok(())
}
