//! `vislab train --model detector`: the single-stage detector on the seeded
//! synthetic shapes (the detect lab's). `metrics.csv` holds the mean loss
//! terms per epoch and the held-out COCO AP, AP50, AP75.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use vislab_engine::detection::detector::{DetEpoch, DetSet, DetTrainConfig, DetTrainer};
use vislab_engine::train::epoch_worker::EpochTrainer;
use vislab_engine::vae::Flow;

use super::train::{ProgressBar, flags, number, subcommand};

pub const USAGE: &str = "\
usage: vislab train --model detector [options]
  --images N             synthetic training images (default 384; 64 more held out)
  --size S               image side: 16, 32 or 64 (default 32)
  --objects N            shapes per image at most (default 4)
  --anchors N            anchors per cell, 1 to 4 (default 3)
  --epochs N             (default 8)
  --batch B              (default 16)
  --lr X                 Adam learning rate (default 0.003)
  --seed S               data and init seed (default 1; held out: S + 1000)
  --out DIR              where metrics.csv goes (default runs/detector)
metrics.csv: epoch,loss,loss_objectness,loss_class,loss_box,ap,ap50,ap75,seconds
";

pub const HEADER: &str = "epoch,loss,loss_objectness,loss_class,loss_box,ap,ap50,ap75,seconds";

fn row(r: &DetEpoch) -> String {
    format!("{},{:.5},{:.5},{:.5},{:.5},{:.4},{:.4},{:.4},{:.3}", r.epoch, r.loss.total, r.loss.objectness, r.loss.class, r.loss.boxes, r.coco[0], r.coco[1], r.coco[2], r.seconds)
}

pub fn train(args: &[String]) -> ExitCode {
    subcommand(args, USAGE, run)
}

fn run(args: &[String]) -> Result<(), String> {
    let known = ["--model", "--images", "--size", "--objects", "--anchors", "--epochs", "--batch", "--lr", "--seed", "--out"];
    let f = flags(args, &known)?;
    let images: usize = number(&f, "--images", 384)?;
    let size: usize = number(&f, "--size", 32)?;
    let objects: usize = number(&f, "--objects", 4)?;
    let seed: u64 = number(&f, "--seed", 1)?;
    let mut config = DetTrainConfig::new(number(&f, "--epochs", 8)?, seed);
    config.anchors = number(&f, "--anchors", 3)?;
    config.batch_size = number(&f, "--batch", 16)?;
    config.lr = number(&f, "--lr", 3e-3)?;
    if images == 0 || objects == 0 {
        return Err("--images and --objects must be at least 1".into());
    }
    let out = f.get("--out").map_or_else(|| PathBuf::from("runs").join("detector"), PathBuf::from);
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
