//! The 2D network lab trains a real model on a worker thread while the UI
//! keeps running, and its decision regions separate the classes.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;

#[test]
fn training_on_the_spiral_separates_the_classes() {
    let mut h = app("toy2d");
    h.get_by_label("Train").click();
    h.run_steps(2);
    assert!(h.state().busy(), "training runs in the background");
    // the UI keeps producing frames while the worker trains
    let mut frames = 0;
    while h.state().busy() && frames < 100_000 {
        h.step();
        frames += 1;
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(frames > 5, "the UI only drew {frames} frames during training");
    settle(&mut h);
    let summary = h.state().current_lab().summary();
    // "... epoch 200/200: loss 0.0123, accuracy 99.3% (finished)"
    let acc: f32 = summary.split("accuracy ").nth(1).and_then(|s| s.split('%').next()).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{summary}"));
    assert!(acc > 95.0, "spiral accuracy only {acc}%: {summary}");
    assert!(summary.contains("finished"), "{summary}");
    h.snapshot_options("toy2d_trained", &snapshot_options());
}
