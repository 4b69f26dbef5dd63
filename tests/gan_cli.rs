//! `vislab train --model gan` as the built binary: a DCGAN on the built-in
//! digits (metrics rows, PNGs, a checkpoint the engine loads, seeded
//! reruns) and on real Fashion-MNIST with the Frechet distance, and
//! one-line errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vislab_engine::gan::{self, ConvShape, GanConfig, GanShape, GanTrainer, RealDist, ViewSpec};

fn vislab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vislab")).args(args).output().expect("run vislab")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("vislab-gan-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    out
}

/// metrics.csv as rows of optional numbers.
fn rows(dir: &Path) -> Vec<Vec<Option<f64>>> {
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("round,d_loss,g_loss,fd,seconds"));
    lines.map(|l| l.split(',').map(|v| (!v.is_empty()).then(|| v.parse().unwrap())).collect()).collect()
}

fn png_size(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

#[test]
fn dcgan_on_the_digits_writes_its_rows_pictures_and_a_checkpoint() {
    let out = scratch("digits");
    let out_s = out.display().to_string();
    let args = ["train", "--model", "gan", "--data", "digits", "--g-channels", "32", "--d-channels", "16", "--noise", "16", "--batch", "64", "--log-every", "100", "--seed", "2"];
    let o = vislab(&[&args[..], &["--rounds", "300", "--out", &out_s]].concat());
    assert!(o.status.success(), "train failed: {}", stderr(&o));
    let r = rows(&out);
    assert_eq!(r.iter().map(|r| r[0]).collect::<Vec<_>>(), [0.0, 100.0, 200.0, 300.0].map(Some));
    // Round 0 has no losses; 8x8 images get no Frechet distance.
    assert!(r[0][1].is_none() && r[0][2].is_none() && r.iter().all(|r| r[3].is_none()));
    for row in &r[1..] {
        let (d, g) = (row[1].unwrap(), row[2].unwrap());
        assert!(d > 0.0 && d < 2.0 && g > 0.0 && g < 10.0, "losses {row:?}");
    }
    // 8x8 tiles with 1-pixel gaps: an 8x8 grid, and one row per metrics row.
    assert_eq!(png_size(&out.join("samples.png")), (73, 73));
    assert_eq!(png_size(&out.join("timeline.png")), (73, 4 * 9 + 1));

    // The checkpoint is the lab's: the engine reloads G and D, and G beats
    // its untrained self on the mean distance of samples to their nearest
    // real digit (measured 6.2 -> 4.4 in the engine's own test).
    let digits = vislab_engine::data::digits::load().unwrap();
    let real = RealDist::images(digits.x(), 64);
    let base = GanConfig::new(GanShape::dcgan(ConvShape { side: 8, g_channels: 32, d_channels: 16 }, 16), 2);
    let mut trained = gan::load(&out.join("model.safetensors"), &base, real.clone()).unwrap();
    assert_eq!(trained.counts(), (300, 300, 300));
    let spec = ViewSpec { noise_grid: 2, shown: 200, ..ViewSpec::default() };
    let mut fresh = GanTrainer::new(GanConfig { batch: 64, ..base }, real).unwrap();
    let (before, after) = (fresh.view(&spec).unwrap().distance, trained.view(&spec).unwrap().distance);
    assert!(after < 0.8 * before, "distance to the reals {before} -> {after}");

    // The same seed takes the same steps: the shorter run's rows match.
    let again = out.join("again");
    let o = vislab(&[&args[..], &["--rounds", "100", "--out", &again.display().to_string()]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(rows(&again)[1][..4], r[1][..4]);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn dcgan_on_fashion_mnist_lowers_the_frechet_distance() {
    let dir = vislab_engine::data::locate("fashion-mnist").unwrap_or_else(|e| panic!("{e}"));
    let out = scratch("fashion");
    let data = format!("fashion-mnist:{}", dir.display());
    let args = ["train", "--model", "gan", "--data", &data, "--g-channels", "32", "--d-channels", "16", "--limit", "2000", "--batch", "64", "--rounds", "150", "--log-every", "50"];
    // A higher learning rate than the default 2e-4 gets a short run somewhere.
    let args = [&args[..], &["--lr-d", "0.001", "--lr-g", "0.001"]].concat();
    let o = vislab(&[&args[..], &["--seed", "1", "--out", &out.display().to_string()]].concat());
    let err = stderr(&o);
    assert!(o.status.success(), "train failed: {err}");
    assert!(err.contains("cnn trained here (2000 images") && err.contains("on fashion-mnist (2000 images)"), "{err}");
    let r = rows(&out);
    assert_eq!(r.len(), 4);
    let fd: Vec<f64> = r.iter().map(|r| r[3].expect("an FD on every row")).collect();
    let real: f64 = std::fs::read_to_string(out.join("fd_real.txt")).unwrap().trim().parse().unwrap();
    eprintln!("Fashion-MNIST DCGAN: FD {fd:?}, training vs held-out reals {real}");
    // Measured: 112.0 -> 51.1, 32.1, 28.5; training vs held-out reals 0.39.
    assert!(fd[3] < 0.5 * fd[0], "FD {fd:?}");
    assert!(real > 0.0 && real < 0.1 * fd[3], "reals {real} vs G {fd:?}");
    assert_eq!(png_size(&out.join("samples.png")), (8 * 29 + 1, 8 * 29 + 1));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn gan_bad_arguments_give_one_line_errors() {
    for (extra, want) in [
        (vec!["--loss", "wasserstein"], "invalid value 'wasserstein' for '--loss <L>'"),
        (vec!["--rounds", "0"], "invalid value '0' for '--rounds <N>': 0 is not in 1.."),
        (vec!["--smoothing", "0.7"], "label smoothing 0.7"),
        (vec!["--lr-g", "-1"], "invalid value '-1' for '--lr-g <X>': must be a positive number"),
        (vec!["--lr", "0.1"], "--lr is not a flag of --model gan"),
    ] {
        let o = vislab(&[&["train", "--model", "gan", "--data", "digits"][..], &extra[..]].concat());
        let err = stderr(&o);
        assert!(!o.status.success(), "{extra:?} succeeded");
        assert_eq!(err.lines().filter(|l| l.starts_with("error: ")).count(), 1, "{err}");
        assert!(err.contains(want), "{extra:?}: expected '{want}' in {err}");
    }
    let o = vislab(&["train", "--model", "gan", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && help.contains("GAN (--model gan):") && help.contains("--g-channels <N>"), "{help}");
}
