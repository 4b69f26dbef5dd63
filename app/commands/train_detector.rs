//! `vislab train --model detector`: the single-stage detector on the seeded
//! synthetic shapes (the detect lab's). `metrics.csv` holds the mean loss
//! terms per epoch and the held-out COCO AP, AP50, AP75.

use std::fs::File;
use std::io::Write;
use std::sync::Arc;

use vislab_engine::detection::detector::{DetEpoch, DetSet, DetTrainConfig, DetTrainer};
use vislab_engine::train::epoch_worker::EpochTrainer;
use vislab_engine::vae::Flow;

use super::progress::ProgressBar;
use super::train_args::TrainArgs;

pub const HEADER: &str = "epoch,loss,loss_objectness,loss_class,loss_box,ap,ap50,ap75,seconds";

fn row(r: &DetEpoch) -> String {
    format!("{},{:.5},{:.5},{:.5},{:.5},{:.4},{:.4},{:.4},{:.3}", r.epoch, r.loss.total, r.loss.objectness, r.loss.class, r.loss.boxes, r.coco[0], r.coco[1], r.coco[2], r.seconds)
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
    let mut csv = File::create(&csv_path).map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
    writeln!(csv, "{HEADER}").map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
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
        writeln!(csv, "{}", row(&r)).and_then(|_| csv.flush()).map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
        last = Some(r);
    }
    bar.clear();
    if let Some(r) = last {
        println!("ap {:.4} ap50 {:.4} ap75 {:.4}", r.coco[0], r.coco[1], r.coco[2]);
    }
    eprintln!("wrote {}", csv_path.display());
    Ok(())
}
