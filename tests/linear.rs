//! The linear classifier lab trains on a worker thread: on the digits its
//! softmax loss falls and test accuracy is far above chance; on 2D blobs the
//! SVM separates the classes and draws their lines.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;

/// "...: step 400/400, loss 2.3 -> 0.2, train accuracy 97.00%, test accuracy 95.00% (finished)"
fn numbers(s: &str) -> (f32, f32, f32, f32) {
    let after =
        |key: &str, end: char| -> f32 { s.split(key).nth(1).and_then(|r| r.split(end).next()).and_then(|v| v.trim().parse().ok()).unwrap_or_else(|| panic!("no '{key}' in {s}")) };
    (after("loss ", ' '), after("-> ", ','), after("train accuracy ", '%'), after("test accuracy ", '%'))
}

fn train(h: &mut egui_kittest::Harness<'static, vislab::shell::VislabApp>) -> String {
    h.get_by_label("Train").click();
    h.run_steps(2);
    let mut frames = 0;
    while h.state().busy() {
        h.step();
        frames += 1;
        assert!(frames < 200_000, "training never finished");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    settle(h);
    h.state().current_lab().summary()
}

#[test]
fn digits_templates_and_blob_hyperplanes() {
    let mut h = app("linear");
    let s = train(&mut h);
    assert!(s.starts_with("Digits, softmax, L2"), "{s}");
    assert!(s.contains("step 400/400") && s.contains("(finished)"), "{s}");
    let (first, last, train_acc, test_acc) = numbers(&s);
    // a fresh softmax over 10 classes starts near ln 10 = 2.30
    assert!((first - 10f32.ln()).abs() < 0.3, "{s}");
    assert!(last < first / 4.0, "{s}");
    assert!(train_acc > 93.0 && test_acc > 90.0, "{s}");
    // the same seed gives the same run
    let again = train(&mut h);
    assert_eq!(numbers(&again), (first, last, train_acc, test_acc));
    h.snapshot_options("linear_digits", &snapshot_options());

    h.get_by_label("Blobs (2D)").click();
    h.run_steps(2);
    h.get_by_label("multiclass SVM").click();
    h.run_steps(2);
    let s = train(&mut h);
    assert!(s.starts_with("Blobs, SVM"), "{s}");
    let (first, last, train_acc, _) = numbers(&s);
    assert!(last < first / 3.0 && train_acc > 95.0, "{s}");
    h.snapshot_options("linear_blobs", &snapshot_options());
}
