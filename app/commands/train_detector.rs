//! `vislab train --model detector`: the single-stage detector on the seeded
//! synthetic shapes (the detect lab's). `metrics.csv` holds the mean loss
//! terms per epoch and the held-out COCO AP, AP50, AP75; `model.safetensors`
//! the weights with the run's recipe, which `vislab eval` scores again.

use std::sync::Arc;

use vislab_engine::csv_file::CsvLog;
use vislab_engine::detection::detector::{DetEpoch, DetTrainConfig, DetTrainer, saved};
use vislab_engine::train::epoch_worker::EpochTrainer;
use vislab_engine::vae::Flow;

use super::eval::EvalInput;
use super::progress::ProgressBar;
use super::train_args::TrainArgs;

pub const HEADER: [&str; 9] = ["epoch", "loss", "loss_objectness", "loss_class", "loss_box", "ap", "ap50", "ap75", "seconds"];

fn row(r: &DetEpoch) -> [String; 9] {
    let (loss, ap) = (|v: f32| format!("{v:.5}"), |v: f64| format!("{v:.4}"));
    let l = &r.loss;
    [r.epoch.to_string(), loss(l.total), loss(l.objectness), loss(l.class), loss(l.boxes), ap(r.coco[0]), ap(r.coco[1]), ap(r.coco[2]), format!("{:.3}", r.seconds)]
}

/// The run's configuration from its flags.
fn config(epochs: Option<usize>, seed: u64, anchors: usize, batch: Option<usize>, lr: Option<f32>) -> DetTrainConfig {
    let mut config = DetTrainConfig::new(epochs.unwrap_or(8), seed);
    config.anchors = anchors;
    config.batch_size = batch.unwrap_or(16);
    config.lr = lr.unwrap_or(3e-3);
    config
}

pub fn train(a: &TrainArgs) -> Result<(), String> {
    let (images, size, objects) = (a.images, a.size, a.objects);
    let seed = a.seed.unwrap_or(1);
    let config = config(a.epochs, seed, a.anchors, a.batch, a.lr);
    let out = a.out();
    let (train, val) = saved::sets(images, size, objects, seed);
    let (train, val) = (Arc::new(train), Arc::new(val));
    let mut trainer = DetTrainer::new(train, val, config.clone()).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let csv_path = out.join("metrics.csv");
    let mut csv = CsvLog::create(&csv_path, &HEADER)?;
    let steps = trainer.steps_per_epoch();
    eprintln!("training the detector ({} parameters) on {images} synthetic {size}x{size} images for {} epochs", trainer.model.param_count(), config.epochs);
    let mut bar = ProgressBar::new(config.epochs, steps, config.batch_size);
    let mut last = None;
    while !trainer.done() {
        let r = trainer
            .run_epoch(&mut |_, s| {
                bar.step(s.epoch, s.step - (s.epoch - 1) * steps, s.loss.total);
                Flow::Continue
            })
            .map_err(|e| e.to_string())?;
        let Some(r) = r else { break };
        bar.epoch_done(&format!("epoch {}/{}: loss {:.3}, held-out AP {:.4} AP50 {:.4}, {:.1} s", r.epoch, config.epochs, r.loss.total, r.coco[0], r.coco[1], r.seconds));
        csv.row(row(&r))?;
        last = Some(r);
    }
    bar.clear();
    let resolved = [("epochs", config.epochs.to_string()), ("batch", config.batch_size.to_string()), ("lr", config.lr.to_string()), ("seed", seed.to_string())];
    let mut meta = a.recipe(&resolved);
    meta.insert("epoch".into(), trainer.epoch().to_string());
    let path = out.join("model.safetensors");
    saved::save(&path, &trainer, &meta).map_err(|e| e.to_string())?;
    if let Some(r) = last {
        print_ap(&r.coco);
    }
    eprintln!("wrote {} and {}", csv_path.display(), path.display());
    Ok(())
}

fn print_ap(coco: &[f64; 12]) {
    println!("ap {:.4} ap50 {:.4} ap75 {:.4}", coco[0], coco[1], coco[2]);
}

/// `vislab eval` of a detector checkpoint: COCO AP on the held-out
/// images of its run (redrawn from the recipe), as training printed it.
pub fn eval(input: &EvalInput) -> Result<(), String> {
    let num = |k: &str| {
        input.recipe(k).ok_or_else(|| input.err(format!("no vislab.train.{k} in the checkpoint"))).and_then(|v| v.parse::<usize>().map_err(|e| input.err(format!("{k}: {e}"))))
    };
    let model = saved::model_of(&input.ck).map_err(|e| input.err(e))?;
    let (size, objects, seed) = (num("size")?, num("objects")?, num("seed")? as u64);
    if size != model.shape().image {
        return Err(input.err(format!("the recipe's --size {size} is not the network's {} px", model.shape().image)));
    }
    let (train, val) = saved::sets(1, size, objects, seed);
    let config = config(Some(1), seed, model.shape().anchors, input.recipe("batch").and_then(|b| b.parse().ok()), None);
    // the checkpoint's network, not a freshly compiled one
    let mut trainer = DetTrainer::with_model(model, Arc::new(train), Arc::new(val), config);
    let (coco, _) = trainer.evaluate().map_err(|e| format!("evaluation failed: {e}"))?;
    print_ap(&coco);
    Ok(())
}
