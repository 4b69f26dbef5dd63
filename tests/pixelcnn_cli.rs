//! `vislab train --model pixelcnn` as the built binary on the built-in
//! digits (two short epochs): metrics.csv columns and values, the
//! checkpoint, and one-line errors.

use std::process::{Command, Output};

fn vislab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vislab")).args(args).output().expect("run vislab")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn pixelcnn_train_writes_nll_metrics_and_a_loadable_checkpoint() {
    let out = std::env::temp_dir().join(format!("vislab-pixelcnn-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let out_s = out.display().to_string();
    let args = ["train", "--model", "pixelcnn", "--data", "digits", "--channels", "8", "--layers", "2", "--epochs", "2", "--batch", "32", "--lr", "0.003"];
    let o = vislab(&[&args[..], &["--seed", "3", "--out", &out_s]].concat());
    assert!(o.status.success(), "train failed: {}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "epoch,train_nll_nats,train_bits_per_dim,test_nll_nats,test_bits_per_dim,seconds");
    assert_eq!(lines.len(), 3, "{csv}");
    let rows: Vec<Vec<f64>> = lines[1..].iter().map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    let ln2x64 = 64.0 * std::f64::consts::LN_2;
    for r in &rows {
        assert_eq!(r.len(), 6);
        assert!((r[2] - r[1] / ln2x64).abs() < 2e-5 && (r[4] - r[3] / ln2x64).abs() < 2e-5, "bits/dim = nats / (64 ln 2): {r:?}");
    }
    // Under the 44.4 nats of p = 1/2 everywhere, and falling.
    let (first, last) = (rows[0][3], rows[1][3]);
    assert!(last < first && last < 40.0, "test nll {first} -> {last}");
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(printed.starts_with(&format!("test_nll_nats {last:.4}")), "{printed}");
    let mut m = vislab_engine::pixelcnn::load(&out.join("model.safetensors")).unwrap();
    assert_eq!((m.shape().side, m.shape().channels, m.shape().layers), (8, 8, 2));
    let p = m.probs(&[0.0; 64], 1).unwrap();
    assert!(p.len() == 64 && p.iter().all(|v| (0.0..=1.0).contains(v)));

    // Same seed, same first row (timing aside).
    let again = out.join("again");
    let o = vislab(&[&args[..], &["--seed", "3", "--epochs", "1", "--out", &again.display().to_string()]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let first_again = std::fs::read_to_string(again.join("metrics.csv")).unwrap();
    let cut = |l: &str| l.rsplit_once(',').map(|(a, _)| a.to_string()).unwrap();
    assert_eq!(cut(first_again.lines().nth(1).unwrap()), cut(lines[1]));

    let o = vislab(&["train", "--model", "pixelcnn", "--data", "digits", "--binarize", "off"]);
    assert!(!o.status.success() && stderr(&o).contains("expected threshold or sample"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&out);
}
