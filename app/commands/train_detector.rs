//! `vislab train --model detector`: the single-stage detector on the seeded
//! synthetic shapes (the detect lab's). `metrics.csv` holds the mean loss
//! terms per epoch and the held-out COCO AP, AP50, AP75.

use std::sync::Arc;

use vislab_engine::csv_file::CsvLog;
use vislab_engine::detection::detector::{DetEpoch, DetSet, DetTrainConfig, DetTrainer};
use vislab_engine::train::epoch_worker::EpochTrainer;
use vislab_engine::vae::Flow;

use super::progress::ProgressBar;
use super::train_args::TrainArgs;

pub const HEADER: [&str; 9] = ["epoch", "loss", "loss_objectness", "loss_class", "loss_box", "ap", "ap50", "ap75", "seconds"];

fn row(r: &DetEpoch) -> [String; 9] {
    let (loss, ap) = (|v: f32| format!("{v:.5}"), |v: f64| format!("{v:.4}"));
    let l = &r.loss;
    [r.epoch.to_string(), loss(l.total), loss(l.objectness), loss(l.class), loss(l.boxes), ap(r.coco[0]), ap(r.coco[1]), ap(r.coco[2]), format!("{:.3}", r.seconds)]
}

pub fn train(a: &TrainArgs) -> Result<(), String> {
    let (images, size, objects) = (a.images, a.size, a.objects);
    let seed = a.seed.unwrap_or(1);
    let mut config = DetTrainConfig::new(a.epochs.unwrap_or(8), seed);
    config.anchors = a.anchors;
    config.batch_size = a.batch.unwrap_or(16);
    config.lr = a.lr.unwrap_or(3e-3);
    let out = a.out();
    let train = Arc::new(DetSet::synthetic(images, size, objects, seed));
    let val = Arc::new(DetSet::synthetic(64, size, objects, seed + 1000));
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
    if let Some(r) = last {
        println!("ap {:.4} ap50 {:.4} ap75 {:.4}", r.coco[0], r.coco[1], r.coco[2]);
    }
    eprintln!("wrote {}", csv_path.display());
    Ok(())
}
