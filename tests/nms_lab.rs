//! The NMS lab: stepping to the end keeps exactly the boxes the engine's
//! `nms()` keeps on the same generated scene (at two thresholds, and
//! class-wise); a COCO results file opens and shows the steps worked by
//! hand; a broken file leaves what was open.

mod common;

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use vislab::shell::VislabApp;
use vislab_engine::detection::nms;
use vislab_engine::detection::scene::{self, SceneSpec};

fn summary(h: &Harness<'static, VislabApp>) -> String {
    h.state().current_lab().summary()
}

/// The number after `key` in the summary ("kept 7, ...").
fn count(s: &str, key: &str) -> usize {
    s.split(key).nth(1).and_then(|r| r.split([',', ' ', ';']).next()).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no '{key}' in {s}"))
}

fn click(h: &mut Harness<'static, VislabApp>, label: &str) {
    h.get_by_label(label).click();
    h.run_steps(2);
}

#[test]
fn stepping_to_the_end_keeps_what_nms_keeps() {
    let mut h = app("nms");
    let boxes = scene::generate(&SceneSpec::default()).boxes;
    let s = summary(&h);
    assert!(s.starts_with("generated seed 1, 4 objects: 24 boxes, IoU threshold 0.50: step 0, kept 0, suppressed 0, remaining 24"), "{s}");
    let want = nms(&boxes, 0.5, false);
    let mut steps = 0;
    while !summary(&h).contains("(done)") {
        click(&mut h, "Step");
        steps += 1;
        assert!(steps <= boxes.len(), "never done: {}", summary(&h));
    }
    let s = summary(&h);
    // one step per kept box, and every box decided
    assert_eq!((steps, count(&s, "kept ")), (want.len(), want.len()), "{s}");
    assert_eq!(count(&s, "suppressed ") + want.len(), boxes.len(), "{s}");
    assert_eq!(count(&s, "remaining "), 0);
    assert!(want.len() < boxes.len() && want.len() >= 4, "{want:?}");
    // the first step selected the highest score
    let top = want[0];
    assert!(h.query_by_label_contains(&format!("1. kept #{top} ({:.3}", boxes[top].score)).is_some());
    h.snapshot_options("nms_done", &snapshot_options());

    // a lower threshold restarts and suppresses more
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "IoU threshold").set_value_accesskit(0.3);
    h.run_steps(2);
    assert!(summary(&h).contains("IoU threshold 0.30: step 0"), "{}", summary(&h));
    click(&mut h, "Run all");
    assert_eq!(count(&summary(&h), "kept "), nms(&boxes, 0.3, false).len());

    // another seed and more boxes, class-wise
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "seed").set_value_accesskit(5.0);
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "box count").set_value_accesskit(60.0);
    h.run_steps(2);
    click(&mut h, "class-wise (a box suppresses its own class only)");
    click(&mut h, "Run all");
    let spec = SceneSpec { seed: 5, boxes: 60, ..SceneSpec::default() };
    let boxes = scene::generate(&spec).boxes;
    let s = summary(&h);
    assert!(s.starts_with("generated seed 5, 4 objects: 60 boxes, IoU threshold 0.30 class-wise"), "{s}");
    let (class_wise, plain) = (nms(&boxes, 0.3, true).len(), nms(&boxes, 0.3, false).len());
    assert_eq!(count(&s, "kept "), class_wise, "{s}");
    // a box may only suppress its own class: never fewer kept
    assert!(class_wise >= plain, "{class_wise} vs {plain}");
}

#[test]
fn a_results_file_shows_the_steps_worked_by_hand() {
    let dir = scratch("nms-file");
    // the engine test's five boxes: IoUs 0-1 0.818, 0-2 0.333, 3-4 0.667
    let json = r#"[{"image_id": 7, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 7, "category_id": 1, "bbox": [1, 0, 10, 10], "score": 0.8},
        {"image_id": 7, "category_id": 1, "bbox": [5, 0, 10, 10], "score": 0.7},
        {"image_id": 7, "category_id": 1, "bbox": [20, 20, 5, 5], "score": 0.6},
        {"image_id": 7, "category_id": 1, "bbox": [21, 20, 5, 5], "score": 0.95},
        {"image_id": 8, "category_id": 2, "bbox": [0, 0, 5, 5], "score": 0.5}]"#;
    let good = dir.join("dets.json");
    std::fs::write(&good, json).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"[{"image_id": 7, "category_id": 1, "bbox": [0, 0, 10], "score": 0.9}]"#).unwrap();

    let mut h = app("nms");
    click(&mut h, "open a COCO results JSON");
    let open = |h: &mut Harness<'static, VislabApp>, path: &std::path::Path| {
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, "detections file").focus();
        h.run_steps(2);
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, "detections file").set_text_value_accesskit(&path.display().to_string());
        h.run_steps(2);
        click(h, "Load");
        settle(h);
    };
    open(&mut h, &good);
    let s = summary(&h);
    assert!(s.starts_with("dets.json image 7: 5 boxes, IoU threshold 0.50: step 0"), "{s}");
    assert!(s.ends_with("dets.json: 6 detections on 2 images"), "{s}");
    click(&mut h, "Step");
    assert!(h.query_by_label("1. kept #4 (0.950, disc); suppressed #3 (0.67)").is_some());
    click(&mut h, "Run all");
    assert!(h.query_by_label("2. kept #0 (0.900, disc); suppressed #1 (0.82)").is_some());
    assert!(h.query_by_label("3. kept #2 (0.700, disc); suppressed none").is_some());
    let s = summary(&h);
    assert!(s.contains("step 3, kept 3, suppressed 2, remaining 0 (done)"), "{s}");
    // the canvas spans image 7's boxes, (0, 0) to (26, 25), plus 5% of 26 each side
    let rect = h.get_by_label("picture with detections").rect();
    let scale = rect.width() / 28.6;
    let screen = |x: f32, y: f32| rect.min + egui::vec2(x + 1.3, y + 1.3) * scale;
    // (20.5, 22) lies in box 3 only, (25, 22) in box 4 only
    h.hover_at(screen(20.5, 22.0));
    h.run_steps(2);
    assert_eq!(h.state().current_lab().pick_info().as_deref(), Some("box #3 (0.600, disc): [20, 20, 5, 5], suppressed by #4 at IoU 0.667"));
    h.hover_at(screen(25.5, 22.0));
    h.run_steps(2);
    assert_eq!(h.state().current_lab().pick_info().as_deref(), Some("box #4 (0.950, disc): [21, 20, 5, 5], kept"));
    // folded, so the scratch path (it holds the process id) is not in the picture
    click(&mut h, "open a COCO results JSON");
    h.snapshot_options("nms_file", &snapshot_options());
    click(&mut h, "open a COCO results JSON");

    open(&mut h, &bad);
    let s = summary(&h);
    assert!(s.starts_with("dets.json image 7: 5 boxes"), "what was open stays: {s}");
    assert!(s.contains("bad.json: detections JSON: invalid length 3, expected an array of length 4"), "{s}");
}

#[test]
fn a_json_file_opened_from_another_lab_lands_here() {
    let dir = scratch("nms-open");
    let path = dir.join("two.json");
    // IoU 90 / 110 = 0.818: the second box goes at 0.5
    std::fs::write(
        &path,
        r#"[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 3, "bbox": [1, 0, 10, 10], "score": 0.8}]"#,
    )
    .unwrap();
    let mut h = app("iou");
    h.state_mut().open_path(path.clone());
    settle(&mut h);
    assert_eq!(h.state().current_lab().name(), "nms");
    assert!(h.state().error().is_none());
    click(&mut h, "Run all");
    let s = summary(&h);
    assert!(s.starts_with("two.json image 1: 2 boxes, IoU threshold 0.50: step 1, kept 1, suppressed 1, remaining 0 (done)"), "{s}");
    assert_eq!(h.state().persisted().recent.first(), Some(&path));
}
