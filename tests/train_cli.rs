//! `vislab train` and `vislab eval` run as the built binary on real MNIST
//! (a 2000-image subset, one epoch), and their one-line errors.

use std::path::PathBuf;
use std::process::{Command, Output};

use vislab_engine::data::locate;

mod common;
use common::cifar_record;

/// `$VISLAB_DATA/mnist/data` or `<workspace>/.cache/data/mnist/data`.
fn mnist_dir() -> String {
    match locate("mnist/data") {
        Ok(d) => d.display().to_string(),
        Err(e) => panic!("{e}"),
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vislab-train-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn vislab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vislab")).args(args).output().expect("run vislab")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails with one `error: ...` line, the last on stderr, containing `want`.
fn assert_fails(args: &[&str], want: &str) {
    let o = vislab(args);
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded: {err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{args:?}: {err}");
    assert_eq!(err.lines().last(), Some(errors[0]), "{args:?}: {err}");
    assert!(errors[0].contains(want), "{args:?}: expected '{want}' in {err}");
}

#[test]
fn train_writes_metrics_and_a_checkpoint_that_eval_reproduces() {
    let data = format!("mnist:{}", mnist_dir());
    let out = scratch("mlp");
    let out_s = out.display().to_string();
    let o = vislab(&["train", "--model", "mlp", "--data", &data, "--epochs", "1", "--limit", "2000", "--out", &out_s]);
    assert!(o.status.success(), "train failed: {}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "epoch,train_loss,train_acc,test_loss,test_acc,seconds");
    assert_eq!(lines.len(), 2, "{csv}");
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(row.len(), 6, "{csv}");
    assert_eq!(row[0], "1");
    let (test_loss, test_acc): (f32, f32) = (row[3].parse().unwrap(), row[4].parse().unwrap());
    // Chance is 10%: 2000 images already give a usable classifier.
    assert!(test_acc > 0.8, "test accuracy {test_acc}");
    assert!(test_loss < 0.8, "test loss {test_loss}");
    assert!(row[2].parse::<f32>().unwrap() > 0.5, "train accuracy {}", row[2]);
    assert!(stderr(&o).contains("epoch 1/1: train loss"), "{}", stderr(&o));

    // eval rebuilds the model from the checkpoint's metadata and gets the
    // same numbers on the same test split.
    let ck = out.join("model.safetensors").display().to_string();
    let e = vislab(&["eval", "--checkpoint", &ck, "--data", &data]);
    assert!(e.status.success(), "eval failed: {}", stderr(&e));
    let printed = String::from_utf8(e.stdout).unwrap();
    let want = format!("test_acc {} test_loss {} (", row[4], row[3]);
    assert!(printed.starts_with(&want), "eval printed {printed:?}, metrics.csv has {want:?}");
    assert!(printed.contains("/10000 correct, mlp on mnist"), "{printed}");
}

#[test]
fn bad_arguments_and_files_give_one_line_errors() {
    let data = format!("mnist:{}", mnist_dir());
    let out = scratch("errors");
    let out_s = out.display().to_string();
    assert_fails(&["train", "--data", "mnist:/no/such/dir"], "data directory /no/such/dir does not exist");
    assert_fails(&["train", "--model", "resnet", "--data", &data], "invalid value 'resnet' for '--model <NAME>'");
    assert_fails(&["train", "--optimizer", "lbfgs", "--data", &data], "invalid value 'lbfgs' for '--optimizer <NAME>'");
    assert_fails(&["train", "--data", "cifar:/tmp"], "unknown dataset 'cifar'");
    assert_fails(&["train", "--epochs", "two", "--data", &data], "invalid value 'two' for '--epochs <N>'");
    assert_fails(&["train", "--model", "mlp"], "--data is required");
    assert_fails(&["train", "--data", &data, "--frobnicate", "1"], "unexpected argument '--frobnicate' found");
    // A directory without MNIST files, and one with a truncated image file.
    assert_fails(&["train", "--data", &format!("mnist:{out_s}"), "--out", &out_s], "train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) not found in");
    let bad = scratch("bad-idx");
    let src = PathBuf::from(mnist_dir());
    let images = std::fs::read(src.join("train-images-idx3-ubyte")).unwrap();
    std::fs::write(bad.join("train-images-idx3-ubyte"), &images[..1000]).unwrap();
    std::fs::copy(src.join("train-labels-idx1-ubyte"), bad.join("train-labels-idx1-ubyte")).unwrap();
    assert_fails(&["train", "--data", &format!("mnist:{}", bad.display()), "--out", &out_s], "train-images-idx3-ubyte");
    // A learning rate this large overflows within a few steps.
    assert_fails(&["train", "--data", &data, "--optimizer", "sgd", "--lr", "1e9", "--limit", "640", "--epochs", "1", "--out", &out_s], "training diverged");
    assert!(!out.join("model.safetensors").exists(), "a diverged run wrote a checkpoint");

    let garbage = out.join("garbage.safetensors");
    std::fs::write(&garbage, b"not a checkpoint at all").unwrap();
    assert_fails(&["eval", "--checkpoint", &garbage.display().to_string(), "--data", &data], "not a valid safetensors checkpoint");
    assert_fails(&["eval", "--checkpoint", &out.join("missing.safetensors").display().to_string(), "--data", &data], "cannot access");
    assert_fails(&["eval", "--data", &data], "required arguments were not provided: --checkpoint <FILE>");
}

#[test]
fn train_reads_cifar_batches_and_image_folders() {
    // a CIFAR-10 folder: 5 training batches of 20 images, a test batch of 20
    let dir = scratch("cifar");
    for b in 0..5 {
        let recs: Vec<u8> = (0..20).flat_map(|k| cifar_record((k % 4) as u8, b * 20 + k)).collect();
        std::fs::write(dir.join(format!("data_batch_{}.bin", b + 1)), recs).unwrap();
    }
    std::fs::write(dir.join("test_batch.bin"), (0..20).flat_map(|k| cifar_record((k % 4) as u8, 500 + k)).collect::<Vec<u8>>()).unwrap();
    let out = scratch("cifar-out");
    let (data, out_s) = (format!("cifar10:{}", dir.display()), out.display().to_string());
    let o = vislab(&["train", "--data", &data, "--epochs", "4", "--batch", "10", "--lr", "0.001", "--out", &out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("on cifar10 (100 images, test 20)"), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let last: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    // four flat colours (chance 25%): an MLP tells them apart within a few epochs
    assert_eq!(last[0], "4", "{csv}");
    assert!(last[4].parse::<f32>().unwrap() >= 0.75, "{csv}");
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert!(last[1].parse::<f32>().unwrap() < first[1].parse::<f32>().unwrap() / 2.0, "{csv}");
    let ck = out.join("model.safetensors").display().to_string();
    let e = vislab(&["eval", "--checkpoint", &ck, "--data", &data]);
    let printed = String::from_utf8(e.stdout).unwrap();
    assert!(printed.starts_with(&format!("test_acc {} test_loss {} (", last[4], last[3])), "{printed} vs {csv}");

    // an image folder: 2 classes of 6 PNGs (dark and light), resized to 8x8 grey
    let root = scratch("folder");
    for (class, level) in [("dark", 30u8), ("light", 220u8)] {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for k in 0..6u8 {
            image::GrayImage::from_fn(12, 10, |x, y| image::Luma([level.saturating_add(((x + y) as u8 + k) % 20)])).save(root.join(class).join(format!("{k}.png"))).unwrap();
        }
    }
    let spec = format!("folder:{}", root.display());
    let o = vislab(&["train", "--data", &spec, "--image-size", "8", "--grayscale", "--model", "cnn", "--epochs", "1", "--batch", "4", "--out", &out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    // 12 images, a stratified 10% (one per class... rounded: 6 * 0.1 = 1) held out
    assert!(stderr(&o).contains("training cnn on folder (10 images, test 2)"), "{}", stderr(&o));

    assert_fails(&["train", "--data", &format!("cifar100:{}", dir.display()), "--out", &out_s], "train.bin not found in");
    std::fs::write(dir.join("data_batch_3.bin"), vec![1u8; 3073 + 10]).unwrap();
    assert_fails(&["train", "--data", &data, "--out", &out_s], "data_batch_3.bin: 3083 bytes is not a whole number of 3073-byte CIFAR records");
    assert_fails(&["train", "--data", &spec, "--image-size", "0", "--out", &out_s], "invalid value '0' for '--image-size <N>': 0 is not in 1..=1024");
}

#[test]
fn detector_writes_its_metrics_and_rejects_bad_sizes() {
    let out = scratch("detector");
    let o = vislab(&["train", "--model", "detector", "--images", "64", "--epochs", "2", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "epoch,loss,loss_objectness,loss_class,loss_box,ap,ap50,ap75,seconds");
    assert_eq!(lines.len(), 3, "{csv}");
    // loss = objectness + class + 2 x box, and it falls
    let row = |l: &str| l.split(',').map(|v| v.parse::<f64>().unwrap()).collect::<Vec<f64>>();
    let (a, b) = (row(lines[1]), row(lines[2]));
    assert!((a[1] - (a[2] + a[3] + 2.0 * a[4])).abs() < 1e-3 * a[1], "{csv}");
    assert!(b[1] < a[1], "{csv}");
    // eval redraws the held-out shapes from the recipe and scores them as training did
    let ck = out.join("model.safetensors").display().to_string();
    let e = vislab(&["eval", "--checkpoint", &ck]);
    assert!(e.status.success(), "{}", stderr(&e));
    let last = String::from_utf8_lossy(&o.stdout).lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("ap "), "{last}");
    assert_eq!(String::from_utf8_lossy(&e.stdout).trim(), last);
    // the export carries the shapes (vislab draws them) with vislab's targets
    let pt = out.join("pt");
    let x = vislab(&["export", "--pytorch", pt.to_str().unwrap(), "--checkpoint", &ck]);
    assert!(x.status.success(), "{}", stderr(&x));
    let data = vislab_engine::train::checkpoint::load(&pt.join("data.safetensors")).unwrap();
    let shape = |n: &str| data.tensor(n).map(|t| t.shape.clone()).unwrap_or_default();
    assert_eq!(shape("train.x"), [64, 3, 32, 32]);
    assert_eq!(shape("train.classes"), [64, 3, 3, 8, 8]);
    assert_eq!(shape("test.x"), [64, 3, 32, 32]);
    assert_fails(&["train", "--model", "detector", "--size", "20"], "invalid value '20' for '--size <S>' [possible values: 16, 32, 64, 128]");
}
