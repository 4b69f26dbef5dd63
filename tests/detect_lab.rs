//! The detector lab: a seeded run from the UI gets the engine's own
//! held-out AP50 for the same seed, well above an untrained model's; the
//! sliders re-decode the outputs (the live mAP at the training settings is
//! the epoch's, a high threshold leaves fewer boxes); pause, resume, stop;
//! the trained view matches its snapshot.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use egui_kittest::kittest::Queryable;
use vislab::labs::Lab;
use vislab::labs::detect::DetectLab;
use vislab_engine::detection::detector::{DetSet, DetTrainer};

fn number_after(text: &str, key: &str) -> f64 {
    text.split(key).nth(1).and_then(|s| s.split([' ', ',', ';']).next()).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no '{key}' number in {text}"))
}

fn wait_app(h: &mut egui_kittest::Harness<'static, vislab::shell::VislabApp>) {
    let deadline = Instant::now() + Duration::from_secs(400);
    while h.state().busy() {
        assert!(Instant::now() < deadline, "still training after 400 s");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    settle(h);
}

fn wait_lab(lab: &mut DetectLab) {
    let deadline = Instant::now() + Duration::from_secs(400);
    while lab.busy() {
        assert!(Instant::now() < deadline, "still training: {}", lab.status());
        std::thread::sleep(Duration::from_millis(20));
        lab.update();
    }
}

#[test]
fn training_from_the_ui_matches_the_engine() {
    let mut h = app("detect");
    assert!(h.state().current_lab().summary().contains("not trained yet"));
    h.get_by_label("Train").click();
    h.run_steps(2);
    assert!(h.state().busy(), "training runs in the background");
    wait_app(&mut h);
    let s = h.state().current_lab().summary();
    let lab = DetectLab::new();
    let cfg = lab.config();
    assert!(s.contains(&format!("epoch {0}/{0}", cfg.epochs)) && s.contains("finished"), "{s}");
    let ap50 = number_after(&s, "AP50 ");

    // The engine alone: the lab's default data (seed 1, held out seed 1001) and settings.
    let train = Arc::new(DetSet::synthetic(384, 32, 4, 1));
    let val = Arc::new(DetSet::synthetic(64, 32, 4, 1001));
    let mut t = DetTrainer::new(train, val, cfg).unwrap();
    let (untrained, _) = t.evaluate().unwrap();
    let last = t.run_all().unwrap().pop().unwrap();
    eprintln!("{s}\nengine: AP {:.4} AP50 {:.4} AP75 {:.4}; untrained AP50 {:.4}", last.coco[0], last.coco[1], last.coco[2], untrained[1]);
    assert_eq!(format!("{ap50:.4}"), format!("{:.4}", last.coco[1]), "{s}");
    assert!(ap50 > 0.35 && untrained[1] < 0.05, "{s}");
    h.snapshot_options("detect_trained", &snapshot_options());
}

#[test]
fn sliders_re_decode_and_pause_resume_stop() {
    let mut lab = DetectLab::new();
    lab.set_run(64, 2, 3);
    lab.start();
    wait_lab(&mut lab);
    assert_eq!(lab.status(), "finished");
    let epoch = lab.report().unwrap().coco;
    // the trainer's own decoding settings (0.05, NMS 0.5) give the epoch's numbers
    lab.set_decoding(0.05, 0.5);
    assert_eq!(lab.live_coco().unwrap(), epoch);
    let many = lab.shown_detections().len();
    lab.set_decoding(0.6, 0.5);
    let few = lab.shown_detections();
    assert!(few.len() < many.max(1), "{} boxes at 0.6, {many} at 0.05", few.len());
    assert!(few.iter().all(|d| d.score > 0.6));
    // a looser NMS keeps at least as many boxes
    lab.set_decoding(0.05, 0.9);
    assert!(lab.shown_detections().len() >= many);
    // the trained model, saved with the lab's settings, scores the epoch's AP
    // again in `vislab eval` and exports to PyTorch with its data
    let dir = std::env::temp_dir().join(format!("vislab-detect-lab-{}", std::process::id()));
    let status = vislab::labs::pytorch::to_folder(&dir, |p| lab.save(p));
    assert!(status.starts_with("exported the detector"), "{status}");
    for f in ["model.py", "weights.safetensors", "train.py", "data.safetensors"] {
        assert!(dir.join(f).is_file(), "{f}: {status}");
    }
    let ck = dir.join(vislab::labs::pytorch::CHECKPOINT);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vislab")).args(["eval", "--checkpoint", ck.to_str().unwrap()]).output().unwrap();
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(line.trim(), format!("ap {:.4} ap50 {:.4} ap75 {:.4}", epoch[0], epoch[1], epoch[2]), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).ok();

    lab.set_run(384, 20, 3);
    lab.start();
    let steps = |lab: &mut DetectLab| {
        lab.update();
        lab.step_count()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while steps(&mut lab) < 2 {
        assert!(Instant::now() < deadline, "no steps: {}", lab.status());
        std::thread::sleep(Duration::from_millis(10));
    }
    lab.pause();
    std::thread::sleep(Duration::from_millis(800));
    let held = steps(&mut lab);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(steps(&mut lab), held, "steps went on while paused");
    lab.pause();
    let deadline = Instant::now() + Duration::from_secs(120);
    while steps(&mut lab) <= held {
        assert!(Instant::now() < deadline, "no steps after resuming");
        std::thread::sleep(Duration::from_millis(10));
    }
    let t0 = Instant::now();
    lab.stop();
    assert!(t0.elapsed() < Duration::from_millis(20), "Stop returns at once: {:?}", t0.elapsed());
    assert_eq!(lab.status(), "stopping");
    wait_until(60, "the stopped run never ended", || {
        lab.update();
        !lab.busy()
    });
    assert_eq!(lab.status(), "stopped");
    assert!(lab.step_count() < 20 * 24);
}
