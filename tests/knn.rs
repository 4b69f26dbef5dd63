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

/// A CIFAR-10 folder through the dataset picker: its own test split, the
/// accuracy the engine's kNN gives on the same images, colour tiles; a
/// truncated file is a message and the CIFAR images stay.
#[test]
fn cifar_through_the_picker() {
    use vislab_engine::data::Source;
    use vislab_engine::data::cifar::Variant;
    use vislab_engine::knn::{Distance, Knn};
    let dir = cifar_dir("knn-cifar", 30, 50, |k| (k % 5 * 2) as u8);
    let mut h = app("knn");
    h.get_by_label("Open a dataset (MNIST, Fashion-MNIST, CIFAR, image folder)").click();
    h.run_steps(2);
    open_path(&mut h, &dir.display().to_string());
    let s = h.state().current_lab().summary();
    assert!(s.starts_with("cifar10 (") && s.contains("k = 3, L2"), "{s}");
    let (acc, cv) = numbers(&s);
    assert!(cv.is_some(), "{s}");
    // the same prediction by hand: all 150 training images, the 50 test images
    let l = Source::Cifar(dir.clone(), Variant::Cifar10).load().unwrap();
    let test = l.test.as_ref().unwrap();
    assert_eq!((l.train.len(), test.len()), (150, 50));
    let knn = Knn::fit(&l.train);
    let right = test.x().chunks(3072).zip(test.y()).filter(|(x, y)| knn.predict(x, 3, Distance::L2).unwrap() == **y).count();
    assert_eq!(acc, (10000.0 * right as f32 / 50.0).round() / 100.0, "{s}");
    assert!(acc > 90.0, "{s}");
    assert!(h.query_by_label_contains("150 training, 50 test images").is_some());

    let bad = dir.join("cut.bin");
    std::fs::write(&bad, &std::fs::read(dir.join("data_batch_1.bin")).unwrap()[..5000]).unwrap();
    open_path(&mut h, &bad.display().to_string());
    assert!(h.query_by_label_contains("could not load").is_some());
    assert!(h.state().current_lab().summary().starts_with("cifar10 ("));
    h.snapshot_options("knn_cifar", &snapshot_options());
}
