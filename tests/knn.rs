//! The kNN lab reads the built-in digits well, and its cross-validation
//! runs on a worker thread while the UI keeps drawing.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;

/// "...: test accuracy 99.17% · CV best k 1 (98.68%)" -> (99.17, Some(98.68))
fn numbers(summary: &str) -> (f32, Option<f32>) {
    let pct = |s: &str| s.split('%').next().and_then(|s| s.trim_start_matches('(').parse().ok());
    let acc = summary.split("test accuracy ").nth(1).and_then(pct).unwrap_or_else(|| panic!("{summary}"));
    let cv = summary.split("CV best k ").nth(1).and_then(|s| s.split_once(' ')).and_then(|(_, s)| pct(s));
    (acc, cv)
}

#[test]
fn digits_are_read_and_cross_validated_in_the_background() {
    let mut h = app("knn");
    // opening the lab ran the curve (settle waited for it)
    let summary = h.state().current_lab().summary();
    let (acc, cv) = numbers(&summary);
    assert!(summary.contains("k = 3, L2"), "{summary}");
    assert!(acc > 95.0, "{summary}");
    let cv = cv.unwrap_or_else(|| panic!("no cross-validation result: {summary}"));
    assert!(cv > 95.0, "{summary}");

    h.get_by_label("Run cross-validation").click();
    h.step();
    assert!(h.state().busy(), "cross-validation runs on a worker");
    let mut frames = 0;
    while h.state().busy() {
        h.step();
        frames += 1;
        assert!(frames < 100_000, "cross-validation never finished");
    }
    settle(&mut h);
    let (_, again) = numbers(&h.state().current_lab().summary());
    assert_eq!(again, Some(cv), "the same folds give the same curve");
    h.snapshot_options("knn_cross_validated", &snapshot_options());
}
