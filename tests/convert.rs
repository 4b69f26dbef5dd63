//! The convert lab voxelizes the teapot on a worker thread, and its metrics
//! panel shows the engine's numbers for the result against the source.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;
use vislab_engine::geometry::{Asset, Conversion, Fill, scenes};

/// The number after `key` in a summary line.
fn number_after(summary: &str, key: &str) -> f64 {
    summary.split(key).nth(1).and_then(|s| s.split([',', ' ', '(']).find(|t| !t.is_empty())).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no {key} in {summary}"))
}

#[test]
fn teapot_voxels_and_their_metrics_match_the_engine() {
    let mut h = app("convert");
    let summary = h.state().current_lab().summary();
    // 32 voxels along the teapot's longest edge plus a margin of 1 each side.
    assert!(summary.contains("voxel grid: 34x"), "{summary}");
    let img = h.render().expect("render");
    // Both halves of the view draw something: the source mesh and the voxels.
    assert!(non_background(&img, [180, 60, 440, 600]) > 10_000, "source view empty");
    assert!(non_background(&img, [440, 60, 700, 600]) > 10_000, "result view empty");
    h.snapshot_options("convert_teapot_voxels", &snapshot_options());

    h.get_by_label("Metrics").click();
    h.run_steps(2);
    settle(&mut h);
    let summary = h.state().current_lab().summary();
    let teapot = Asset::Mesh(scenes::teapot().unwrap());
    let voxels = Conversion::MeshToVoxels { res: 32, fill: Fill::Solid }.apply(&teapot).unwrap();
    let want = vislab_engine::metrics::compare(&voxels, &teapot, 0).unwrap();
    let iou = number_after(&summary, "IoU ");
    let chamfer = number_after(&summary, "chamfer ");
    assert!((iou - want.voxel_iou.as_ref().unwrap().iou).abs() < 1e-4, "{summary}");
    assert!((chamfer - want.chamfer.total).abs() < 1e-5 * want.chamfer.total.max(1.0), "{summary}");
    // The voxelization hugs the teapot: high overlap and small distances.
    assert!(iou > 0.6 && iou < 1.0, "{summary}");
    assert!(number_after(&summary, "F1@0.1 ") < number_after(&summary, "normal consistency ") + 1.0);
    let img = h.render().expect("render");
    assert!(colored(&img, [180, 60, 700, 600]) > 5_000, "distances are not colour-mapped");
    h.snapshot_options("convert_metrics", &snapshot_options());
}
