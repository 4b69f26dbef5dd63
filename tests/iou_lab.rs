//! The IoU lab: typed box numbers give IoUs worked by hand; dragging a
//! box's inside moves it and dragging a corner resizes it, by the pointer's
//! movement in image pixels.

mod common;

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use vislab::shell::VislabApp;

fn summary(h: &Harness<'static, VislabApp>) -> String {
    h.state().current_lab().summary()
}

fn set(h: &mut Harness<'static, VislabApp>, label: &str, v: f64) {
    h.get_by_label(label).set_value_accesskit(v);
    h.run_steps(2);
}

/// Press at `from`, move in ten steps to `to`, release.
fn drag(h: &mut Harness<'static, VislabApp>, from: egui::Pos2, to: egui::Pos2) {
    h.hover_at(from);
    h.event(egui::Event::PointerButton { pos: from, button: egui::PointerButton::Primary, pressed: true, modifiers: Default::default() });
    h.run_steps(1);
    for i in 1..=10 {
        h.event(egui::Event::PointerMoved(from + (to - from) * (i as f32 / 10.0)));
        h.run_steps(1);
    }
    h.event(egui::Event::PointerButton { pos: to, button: egui::PointerButton::Primary, pressed: false, modifiers: Default::default() });
    h.run_steps(3);
}

/// "A [x, y, w, h], B [x, y, w, h]: ..." -> the two boxes.
fn boxes(s: &str) -> [[f64; 4]; 2] {
    let b = |key: &str| -> [f64; 4] {
        let inner = s.split(key).nth(1).and_then(|r| r.split(']').next()).unwrap_or_else(|| panic!("{s}"));
        let v: Vec<f64> = inner.split(", ").map(|x| x.parse().unwrap_or_else(|_| panic!("{s}"))).collect();
        [v[0], v[1], v[2], v[3]]
    };
    [b("A ["), b("B [")]
}

#[test]
fn typed_boxes_give_the_iou_worked_by_hand() {
    let mut h = app("iou");
    // A [120, 140, 200, 160], B [190, 190, 180, 150]: overlap x 190..320 (130)
    // by y 190..300 (110) = 14300; union 32000 + 27000 - 14300 = 44700
    assert_eq!(summary(&h), "A [120, 140, 200, 160], B [190, 190, 180, 150]: intersection 14300, union 44700, IoU 0.3199");
    for (label, v) in [("A x", 100.0), ("A y", 100.0), ("A w", 100.0), ("A h", 100.0), ("B x", 150.0), ("B y", 150.0), ("B w", 100.0), ("B h", 100.0)] {
        set(&mut h, label, v);
    }
    // a 50 x 50 overlap of two 100 x 100 boxes: 2500 / 17500 = 1/7
    assert_eq!(summary(&h), "A [100, 100, 100, 100], B [150, 150, 100, 100]: intersection 2500, union 17500, IoU 0.1429");
    assert!(h.query_by_label_contains("intersection 2500 px², union 17500 px², IoU 0.1429").is_some());
    // touching along an edge: nothing shared
    set(&mut h, "B x", 200.0);
    assert!(summary(&h).ends_with("intersection 0, union 20000, IoU 0.0000"), "{}", summary(&h));
    // B half over A: 50 x 100 = 5000 of 15000
    set(&mut h, "B x", 150.0);
    set(&mut h, "B y", 100.0);
    assert!(summary(&h).ends_with("intersection 5000, union 15000, IoU 0.3333"), "{}", summary(&h));
    // a typed half pixel: B [150.5, 100, 100, 100] overlaps A by 49.5 x 100
    // = 4950, union 20000 - 4950 = 15050
    set(&mut h, "B x", 150.5);
    assert!(summary(&h).ends_with("B [150.5, 100, 100, 100]: intersection 4950, union 15050, IoU 0.3289"), "{}", summary(&h));
    h.get_by_label("Identical").click();
    h.run_steps(2);
    assert!(summary(&h).ends_with("intersection 10000, union 10000, IoU 1.0000"), "{}", summary(&h));
    h.snapshot_options("iou_identical", &snapshot_options());
}

#[test]
fn dragging_moves_and_resizes_the_boxes() {
    let mut h = app("iou");
    let rect = h.get_by_label("picture with two boxes").rect();
    let scale = rect.width() / 640.0;
    assert!((rect.height() / 480.0 - scale).abs() < 1e-3, "aspect kept: {rect:?}");
    let screen = |x: f64, y: f64| rect.min + egui::vec2(x as f32, y as f32) * scale;
    // B's centre (280, 265) dragged 40 points right and 20 down
    drag(&mut h, screen(280.0, 265.0), screen(280.0, 265.0) + egui::vec2(40.0, 20.0));
    let [a, b] = boxes(&summary(&h));
    assert_eq!(a, [120.0, 140.0, 200.0, 160.0], "A untouched");
    assert_eq!(b, [(190.0 + 40.0 / scale as f64).round(), (190.0 + 20.0 / scale as f64).round(), 180.0, 150.0], "scale {scale}");
    // A's top-left corner dragged up-left: its bottom-right corner stays
    drag(&mut h, screen(120.0, 140.0), screen(120.0, 140.0) + egui::vec2(-30.0, -24.0));
    let [a, _] = boxes(&summary(&h));
    assert_eq!([a[0], a[1]], [(120.0 - 30.0 / scale as f64).round(), (140.0 - 24.0 / scale as f64).round()]);
    assert!((a[0] + a[2] - 320.0).abs() <= 1.0 && (a[1] + a[3] - 300.0).abs() <= 1.0, "{a:?}");
    // A's right edge dragged left shrinks its width only
    let [a, b_before] = boxes(&summary(&h));
    drag(&mut h, screen(a[0] + a[2], a[1] + 20.0), screen(a[0] + a[2], a[1] + 20.0) + egui::vec2(-50.0, 30.0));
    let [a2, b2] = boxes(&summary(&h));
    assert_eq!([a2[0], a2[1], a2[3]], [a[0], a[1], a[3]]);
    assert!((a2[2] - (a[2] - 50.0 / scale as f64)).abs() <= 1.0, "{a2:?}");
    assert_eq!(b2, b_before);
    h.snapshot_options("iou_dragged", &snapshot_options());
}
