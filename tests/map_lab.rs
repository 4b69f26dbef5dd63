//! The mAP lab: the built-in example's twelve numbers are the engine's
//! evaluator's; two files worked by hand give AP 0.5 and AR1 0; a broken
//! detections file names its error and keeps the numbers shown.

mod common;

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use vislab::shell::VislabApp;
use vislab_engine::detection::scene;
use vislab_engine::metrics::coco::{self, STAT_NAMES};

fn summary(h: &Harness<'static, VislabApp>) -> String {
    h.state().current_lab().summary()
}

fn set_path(h: &mut Harness<'static, VislabApp>, label: &str, path: &std::path::Path) {
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, label).focus();
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, label).set_text_value_accesskit(&path.display().to_string());
    h.run_steps(2);
}

#[test]
fn example_numbers_files_and_a_broken_file() {
    let mut h = app("map");
    let (gt, dets) = scene::coco_example(1, 12);
    let want = coco::evaluate(&gt, &dets).unwrap();
    let s = summary(&h);
    assert!(s.starts_with("built-in example (12 generated images, seed 1): "), "{s}");
    for (name, v) in STAT_NAMES.iter().zip(want) {
        assert!(s.contains(&format!("{name} {v:.4}")), "{name} {v} not in {s}");
        assert!(v >= 0.0, "{name} undefined in the example");
    }
    // the table shows them too
    assert!(h.query_by_label(&format!("{:.3}", want[0])).is_some(), "AP {:.3} not shown", want[0]);
    // a class's curves
    h.get_by_label("square").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("precision-recall, square").is_some());
    h.snapshot_options("map_square", &snapshot_options());

    // metrics_coco.rs's hand case: an FP ranked above the TP. Precision 1/2
    // at every recall point: AP 0.5; one detection allowed keeps the FP: AR1 0.
    let dir = scratch("map-files");
    let gt_path = dir.join("gt.json");
    std::fs::write(
        &gt_path,
        r#"{"images": [{"id": 1}], "categories": [{"id": 1, "name": "box"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}"#,
    )
    .unwrap();
    let dt_path = dir.join("dt.json");
    std::fs::write(
        &dt_path,
        r#"[{"image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.8}]"#,
    )
    .unwrap();
    set_path(&mut h, "ground truth", &gt_path);
    set_path(&mut h, "detections", &dt_path);
    h.get_by_label("Evaluate").click();
    h.run_steps(2);
    settle(&mut h);
    let s = summary(&h);
    assert_eq!(
        s,
        "dt.json vs gt.json: AP 0.5000, AP50 0.5000, AP75 0.5000, APs 0.5000, APm -1.0000, APl -1.0000, AR1 0.0000, AR10 1.0000, AR100 1.0000, ARs 1.0000, ARm -1.0000, ARl -1.0000"
    );

    std::fs::write(&dt_path, r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]}]"#).unwrap();
    h.get_by_label("Evaluate").click();
    h.run_steps(2);
    settle(&mut h);
    let s = summary(&h);
    assert!(s.starts_with("dt.json vs gt.json: AP 0.5000"), "the numbers stay: {s}");
    assert!(s.contains("missing field `score`"), "{s}");
}

#[test]
fn opened_files_are_told_apart_by_their_json() {
    // one ground truth, one detection on it: everything 1 (small area), the
    // medium and large ranges undefined
    let dir = scratch("map-open");
    let gt_path = dir.join("truth.json");
    std::fs::write(
        &gt_path,
        r#"{"images": [{"id": 5}], "categories": [{"id": 2}],
        "annotations": [{"id": 1, "image_id": 5, "category_id": 2, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}"#,
    )
    .unwrap();
    let dt_path = dir.join("found.json");
    std::fs::write(&dt_path, r#"  [{"image_id": 5, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.3}]"#).unwrap();
    let mut h = app("map");
    h.state_mut().open_path(gt_path);
    settle(&mut h);
    assert_eq!(h.state().current_lab().name(), "map");
    assert!(summary(&h).ends_with("(now open the detections file)"), "{}", summary(&h));
    h.state_mut().open_path(dt_path);
    settle(&mut h);
    assert_eq!(
        summary(&h),
        "found.json vs truth.json: AP 1.0000, AP50 1.0000, AP75 1.0000, APs 1.0000, APm -1.0000, APl -1.0000, AR1 1.0000, AR10 1.0000, AR100 1.0000, ARs 1.0000, ARm -1.0000, ARl -1.0000"
    );
    // a category without a name is labelled by its id
    assert!(h.query_by_label("category 2").is_some());
}
