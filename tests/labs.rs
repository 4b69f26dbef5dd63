//! Screenshot regression tests: every lab through the real app, rendered
//! by wgpu on the software adapter, compared with the PNGs in
//! tests/snapshots (review them by eye; `UPDATE_SNAPSHOTS=1` rewrites).

mod common;

use common::*;
use egui_kittest::kittest::Queryable;

/// The central area between the navigator and the controls panel.
const VIEW: [u32; 4] = [180, 40, 700, 600];

#[test]
fn every_lab_matches_its_snapshot_and_draws_something() {
    let mut failures = Vec::new();
    for lab in vislab::labs::all() {
        let name = lab.name();
        let mut h = app(name);
        assert_eq!(h.state().current_lab().name(), name);
        let img = h.render().expect("render");
        let drawn = non_background(&img, VIEW);
        // a blank or broken viewport must not pass, whatever the snapshot says
        assert!(drawn > 20_000, "lab {name}: only {drawn} pixels drawn in the view");
        if let Err(e) = h.try_snapshot_options(format!("lab_{name}"), &snapshot_options()) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "snapshot mismatches:\n{}", failures.join("\n"));
}

#[test]
fn the_status_bar_names_the_software_adapter() {
    let h = app("mesh");
    // the harness's wgpu renderer is the adapter the app reports
    let img_has_text = h.query_by_label_contains("GPU: ").is_some();
    assert!(img_has_text, "status bar lacks the adapter");
}
