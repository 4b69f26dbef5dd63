//! The datasets lab opens the built-in digits, a CIFAR-10 folder written in
//! the real binary format, and reports a truncated batch without losing
//! what was open; its split sizes and training-split channel means are
//! checked against sums done here.

mod common;

use common::*;
use vislab_engine::data::split;

/// "... train mean [0.1234, ...] std ..." -> the mean values.
fn means(summary: &str) -> Vec<f32> {
    let inner = summary.split("train mean [").nth(1).and_then(|s| s.split(']').next()).unwrap_or_else(|| panic!("{summary}"));
    inner.split(", ").map(|v| v.parse().unwrap_or_else(|_| panic!("{summary}"))).collect()
}

#[test]
fn digits_cifar_and_a_truncated_batch() {
    let mut h = app("datasets");
    let s = h.state().current_lab().summary();
    assert!(s.starts_with("built-in 8x8 digits: 1797 samples [8, 8], 10 classes"), "{s}");
    // the lab's split (validation 0.1, test 0.1, stratified, seed 1)
    let digits = vislab_engine::data::digits::load().unwrap();
    let parts = split::split_indices(digits.y(), 0.1, 0.1, 1, true).unwrap();
    assert!(s.contains(&format!("train {} / validation {} / test {}", parts.train.len(), parts.val.len(), parts.test.len())), "{s}");
    // 10 classes of about 180: 18 each to validation and test
    assert!((parts.val.len() as i32 - 180).abs() <= 5, "{}", parts.val.len());
    // the mean ink of the training split, summed here
    let mut sum = 0.0f64;
    for &i in &parts.train {
        sum += digits.get(i).unwrap().0.iter().map(|&v| v as f64).sum::<f64>();
    }
    let mean = sum / (parts.train.len() * 64) as f64;
    let shown = means(&s);
    assert_eq!(shown.len(), 1);
    assert!((shown[0] as f64 - mean).abs() < 1e-4, "{shown:?} vs {mean}");
    assert!(s.contains("5-fold on train"), "{s}");

    // a CIFAR-10 folder: 5 batches of 20, a test batch of 20
    let dir = cifar_dir("datasets-cifar", 20, 20, |k| (k % 4) as u8);
    open_path(&mut h, &dir.display().to_string());
    let s = h.state().current_lab().summary();
    assert!(s.contains("cifar10") && s.contains("100 samples [3, 32, 32], 10 classes"), "{s}");
    // 4 classes of 25: 2.5 rounds to 3 validation samples each
    assert!(s.contains("train 88 / validation 12 / test 20 (the source's own test split)"), "{s}");
    // each channel's mean over the training split, summed here
    let cifar = vislab_engine::data::Source::Cifar(dir.clone(), vislab_engine::data::cifar::Variant::Cifar10).load().unwrap();
    let parts = split::split_indices(cifar.train.y(), 0.1, 0.0, 1, true).unwrap();
    assert_eq!(parts.train.len(), 88);
    let plane_mean = |c: usize| {
        parts.train.iter().map(|&i| cifar.train.get(i).unwrap().0[c * 1024..(c + 1) * 1024].iter().map(|&v| v as f64).sum::<f64>()).sum::<f64>() / (parts.train.len() * 1024) as f64
    };
    let shown = means(&s);
    assert_eq!(shown.len(), 3);
    for c in 0..3 {
        assert!((shown[c] as f64 - plane_mean(c)).abs() < 1e-4, "channel {c}: {shown:?}");
    }
    assert!((shown[1] - 132.0 / 255.0).abs() < 0.01, "{shown:?}");
    h.snapshot_options("datasets_cifar", &snapshot_options());

    // a truncated batch: a clear message, and CIFAR stays open
    let bad = dir.join("cut.bin");
    let whole = std::fs::read(dir.join("data_batch_1.bin")).unwrap();
    std::fs::write(&bad, &whole[..3073 + 500]).unwrap();
    open_path(&mut h, &bad.display().to_string());
    let s = h.state().current_lab().summary();
    assert!(s.contains("could not load") && s.contains("cut.bin") && s.contains("no whole number of records"), "{s}");
    assert!(s.contains("100 samples [3, 32, 32]"), "{s}");
}

/// A dropped dataset (folder or CIFAR batch) opens in the current lab when
/// it reads data, else in the datasets lab.
#[test]
fn dropped_datasets_open_in_a_data_lab() {
    let dir = cifar_dir("dropped-cifar", 10, 10, |k| (k % 2) as u8);
    let mut h = app("knn");
    h.state_mut().open_path(dir.clone());
    settle(&mut h);
    assert_eq!(h.state().current_lab().name(), "knn");
    let s = h.state().current_lab().summary();
    assert!(s.starts_with(&format!("cifar10 ({})", dir.display())), "{s}");
    let mut h = app("mesh");
    h.state_mut().open_path(dir.join("data_batch_1.bin"));
    settle(&mut h);
    assert_eq!(h.state().current_lab().name(), "datasets");
    let s = h.state().current_lab().summary();
    assert!(s.contains("cifar10") && s.contains("10 samples [3, 32, 32]"), "{s}");
    // an MNIST-style idx file stands for its folder; a missing partner file is a message
    let idx = scratch("dropped-idx");
    std::fs::write(idx.join("train-images-idx3-ubyte"), b"not an idx file").unwrap();
    h.state_mut().open_path(idx.join("train-images-idx3-ubyte"));
    settle(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.contains("could not load") && s.contains("10 samples [3, 32, 32]"), "{s}");
}
