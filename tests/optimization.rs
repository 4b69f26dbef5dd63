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

/// Pick a surface from the combo box and take `steps` steps.
fn on_surface(name: &str, steps: usize) -> egui_kittest::Harness<'static, vislab::shell::VislabApp> {
    let mut h = app("optimization");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "surface").click();
    h.run_steps(2);
    h.get_by_label(name).click();
    h.run_steps(2);
    for _ in 0..steps {
        h.get_by_label("Step").click();
        h.run_steps(1);
    }
    settle(&mut h);
    h
}

#[test]
fn rosenbrock_valley() {
    let mut h = on_surface("Rosenbrock", 150);
    let summary = h.state().current_lab().summary();
    assert!(summary.starts_with("Rosenbrock: step 150"), "{summary}");
    // from (-1.5, 2.5) the loss starts at 6.5; every method has made progress
    let lowest: f64 = summary.rsplit(' ').next().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{summary}"));
    assert!(lowest < 5.0, "{summary}");
    h.snapshot_options("optimization_rosenbrock", &snapshot_options());
}

#[test]
fn saddle_surface() {
    let mut h = on_surface("saddle x^2 - y^2", 60);
    let summary = h.state().current_lab().summary();
    assert!(summary.starts_with("saddle x^2 - y^2: step"), "{summary}");
    h.snapshot_options("optimization_saddle", &snapshot_options());
}

#[test]
fn logistic_surface() {
    let mut h = on_surface("logistic regression on data", 60);
    let summary = h.state().current_lab().summary();
    assert!(summary.starts_with("logistic regression on data: step 60"), "{summary}");
    h.snapshot_options("optimization_logistic", &snapshot_options());
}
