//! The optimizers lab steps six optimizers on the same surface, the same
//! way every run, and every one of them goes downhill on the quadratic.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;

#[test]
fn forty_steps_on_the_quadratic() {
    let mut h = app("optimization");
    for _ in 0..40 {
        h.get_by_label("Step").click();
        h.run_steps(1);
    }
    settle(&mut h);
    let summary = h.state().current_lab().summary();
    assert!(summary.contains("step 40"), "{summary}");
    // "..., lowest: Adam 0.0123"
    let lowest: f64 = summary.rsplit(' ').next().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{summary}"));
    // from (-2.5, 1.5) the loss starts at 25.625
    assert!(lowest < 0.5, "{summary}");
    h.snapshot_options("optimization_40_steps", &snapshot_options());
}
