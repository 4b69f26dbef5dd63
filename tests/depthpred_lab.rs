//! The depth prediction lab: a short seeded run from the UI shows the
//! engine's own held-out metrics for the same seed, beats the mean-depth
//! baseline, draws the four maps and both point clouds, and matches its
//! snapshot; pause, resume and stop work mid-run.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use egui_kittest::kittest::Queryable;
use vislab::labs::Lab;
use vislab::labs::depthpred::{DepthPredLab, render_data};
use vislab_engine::depthpred::{DepthTrainer, Objects};

/// The number after `key` in `text`.
fn number_after(text: &str, key: &str) -> f64 {
    text.split(key).nth(1).and_then(|s| s.split([' ', ',', ';', ')']).next()).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no '{key}' number in {text}"))
}

/// Training takes seconds alone, longer when other tests share the cores.
fn wait_app(h: &mut egui_kittest::Harness<'static, vislab::shell::VislabApp>) {
    let deadline = Instant::now() + Duration::from_secs(400);
    while h.state().busy() {
        assert!(Instant::now() < deadline, "still busy after 400 s");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.run_steps(4);
}

fn wait_lab(lab: &mut DepthPredLab, done: impl Fn(&DepthPredLab) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(lab) {
        assert!(Instant::now() < deadline, "timed out: {}", lab.summary());
        lab.update();
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn training_from_the_ui_matches_the_engine_and_beats_the_mean_depth() {
    let mut h = app("depthpred");
    wait_app(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.starts_with("48 scenes x 4 views of spheres and boxes, 32x32 (32 held out)") && s.contains("not trained yet"), "{s}");
    h.get_by_label("Train").click();
    h.run_steps(2);
    assert!(h.state().busy(), "training runs in the background");
    wait_app(&mut h);
    let s = h.state().current_lab().summary();
    eprintln!("{s}");
    assert!(s.contains("epoch 6/6") && s.contains("finished"), "{s}");
    let si = number_after(&s, "scale-invariant error ");
    let abs_rel = number_after(&s, "abs rel ");
    let delta1 = number_after(&s, "delta1 ");
    let base: Vec<f64> = s.split("mean depth map: ").nth(1).unwrap().split([',', ' ', 'm', ')']).filter_map(|t| t.parse().ok()).collect();

    // The engine alone, same data, settings and seed as the lab's defaults.
    let d = render_data(Objects::Primitives, 48, 4, 32, 3).unwrap();
    let mut t = DepthTrainer::new(d.train, d.val, DepthPredLab::new().config()).unwrap();
    let r = t.run().unwrap();
    let (m, b) = (&r[5].val, *t.baseline());
    assert_eq!(format!("{si:.4} {abs_rel:.4} {delta1:.4}"), format!("{:.4} {:.4} {:.4}", m.scale_invariant(), m.abs_rel(), m.delta1()), "{s}");
    assert_eq!(base.len(), 4, "{s}");
    assert_eq!(format!("{:.4}", base[0]), format!("{:.4}", b.scale_invariant()));
    assert_eq!(format!("{:.4}", base[3]), format!("{:.4}", b.delta1()));
    // Clearly better than predicting the training set's mean depth map.
    assert!(si < 0.6 * base[0] && abs_rel < 0.8 * base[1] && delta1 > base[3] + 0.05, "{s}");

    // The table shows the same numbers.
    assert!(h.query_by_label(&format!("{:.4}", m.rmse())).is_some(), "no RMSE {:.4} in the table", m.rmse());
    assert!(h.query_by_label("not trained yet").is_none(), "the predicted maps are drawn");

    let img = h.render().expect("render");
    // Four colour-mapped tiles across the top of the central area, and the
    // two back-projected clouds in the 3D view.
    assert!(colored(&img, [0, 40, 760, 230]) > 20_000, "tiles not drawn: {}", colored(&img, [0, 40, 760, 230]));
    let view = [260, 290, 760, 470];
    assert!(non_background(&img, view) > 2_000, "clouds: {}", non_background(&img, view));
    // The step time in the progress bar varies between runs.
    h.snapshot_options("depthpred_trained", &snapshot_options());
}

#[test]
fn pause_resume_and_stop() {
    let mut lab = DepthPredLab::new();
    wait_lab(&mut lab, |l| !l.busy());
    assert_eq!(lab.status(), "rendered");
    lab.start();
    wait_lab(&mut lab, |l| l.step_count() >= 2);
    lab.pause();
    // A step under way may still finish; then nothing moves.
    std::thread::sleep(Duration::from_millis(800));
    lab.update();
    let held = lab.step_count();
    std::thread::sleep(Duration::from_millis(800));
    lab.update();
    assert_eq!(lab.step_count(), held, "steps went on while paused");
    assert!(lab.busy());
    lab.pause();
    wait_lab(&mut lab, |l| l.step_count() > held);
    let t0 = Instant::now();
    lab.stop();
    assert!(t0.elapsed() < Duration::from_millis(20), "Stop returns at once: {:?}", t0.elapsed());
    assert_eq!(lab.status(), "stopping");
    wait_until(60, "the stopped run never ended", || {
        lab.update();
        !lab.busy()
    });
    assert_eq!(lab.status(), "stopped");
    assert!(lab.step_count() < 6 * 24, "stopped before the end of the run");
}

#[test]
fn every_object_set_renders_and_bad_settings_say_why() {
    for o in Objects::ALL {
        let d = render_data(o, 2, 2, 16, 1).unwrap();
        assert_eq!((d.train.len(), d.val.len()), (4, 16));
        assert!(d.train.depths.iter().any(|&v| v > 0.0));
    }
    assert!(render_data(Objects::Teapot, 2, 2, 18, 1).err().is_some_and(|e| e.contains("multiple of 4")));
    let d = render_data(Objects::Primitives, 2, 1, 16, 1).unwrap();
    let mut cfg = DepthPredLab::new().config();
    cfg.lambda = 2.0;
    let err = DepthTrainer::new(Arc::clone(&d.train), Arc::clone(&d.val), cfg).err().expect("lambda 2 is refused").to_string();
    assert!(err.contains("lambda"), "{err}");
}
