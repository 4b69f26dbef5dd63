//! The network training lab: a short seeded run on the built-in digits
//! learns (accuracy far above the 10% of chance), its confusion matrix
//! agrees with the test set, pause / resume / stop work, and the UI keeps
//! drawing while it trains.

mod common;

use std::time::{Duration, Instant};

use common::*;
use egui_kittest::kittest::Queryable;
use vislab::labs::Lab;
use vislab::labs::train::TrainLab;
use vislab_engine::models::Family;

/// The controls show the last epoch's step time and throughput and the
/// status bar the frame time, which vary between runs (a wider frame time
/// shifts the whole status line): leave room for those two lines, under
/// 1% of the window.
fn timed_snapshot() -> egui_kittest::SnapshotOptions {
    snapshot_options().max_failed_pixels(5000)
}

fn wait(lab: &mut TrainLab) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while lab.busy() {
        assert!(Instant::now() < deadline, "training still running after 180 s: {}", lab.status());
        lab.update();
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn seeded_cnn_on_the_digits() {
    let mut lab = TrainLab::new();
    lab.configure(Family::Cnn, 6, 1);
    lab.train_now();
    assert!(lab.busy());
    wait(&mut lab);
    let d = lab.splits().expect("digits loaded");
    let r = lab.report().unwrap_or_else(|| panic!("no report: {}", lab.status()));
    let c = &r.confusion;
    assert_eq!(c.total(), d.test.len());
    assert_eq!(d.test.len(), 360);
    for class in 0..10 {
        let count = d.test.y().iter().filter(|&&y| y == class).count();
        assert_eq!(c.row_sum(class), count, "row {class} of the confusion matrix");
    }
    let right: usize = (0..10).map(|k| c.get(k, k)).sum();
    assert_eq!(r.misclassified.len(), 360 - right);
    assert!(c.accuracy() > 0.85, "test accuracy {} (chance is 0.1): {}", c.accuracy(), lab.status());
    let val = lab.validation_accuracy().expect("validation curve");
    assert!(val > 0.85, "validation accuracy {val}");
    // loss: ln 10 = 2.30 at the start, well below after 6 epochs
    let losses = lab.step_losses();
    assert_eq!(losses.len(), 6 * d.train.len().div_ceil(32));
    let first = losses[0][1];
    let last: f64 = losses.iter().rev().take(20).map(|p| p[1]).sum::<f64>() / 20.0;
    assert!((first - 10f64.ln()).abs() < 0.5, "first loss {first}");
    assert!(last < first / 4.0, "loss {first} -> {last}");
    assert!(lab.status().contains("finished"), "{}", lab.status());
    // every layer was inspected: maps for the chosen image, histograms with gradients
    let names: Vec<&str> = r.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["conv1", "pool1", "conv2", "pool2", "fc1", "fc2"]);
    assert!(r.layers.iter().all(|l| l.grads.is_some()));
    assert_eq!(r.maps[0].sample_shape, vec![8, 8, 8]);
    assert_eq!(r.first_layer.as_ref().map(|p| p.shape.clone()), Some(vec![8, 1, 3, 3]));

    // after training, another image is inspected at once: its logits give its scores
    let i = r.misclassified[0];
    let scores = r.scores_of(i).to_vec();
    lab.choose_image(i);
    let r = lab.report().expect("report");
    assert_eq!(r.chosen, i);
    let logits = &r.maps.last().expect("fc2").values;
    let alone = vislab_engine::train::report::softmax_rows(logits, 10);
    assert!(alone.iter().zip(&scores).all(|(a, b)| (a - b).abs() < 1e-5), "{alone:?} vs {scores:?}");
    let c = &r.confusion;

    // the same seed trains the same network
    let mut again = TrainLab::new();
    again.configure(Family::Cnn, 6, 1);
    again.train_now();
    wait(&mut again);
    assert_eq!(again.report().map(|r| r.confusion.clone()), Some(c.clone()));
}

#[test]
fn pause_resume_and_stop() {
    let mut lab = TrainLab::new();
    lab.configure(Family::Mlp, 50, 2);
    lab.train_now();
    let deadline = Instant::now() + Duration::from_secs(60);
    while lab.steps_done().unwrap_or(0) < 5 {
        assert!(Instant::now() < deadline, "no steps");
        lab.update();
        std::thread::sleep(Duration::from_millis(2));
    }
    lab.pause(true);
    std::thread::sleep(Duration::from_millis(100));
    lab.update();
    let paused_at = lab.steps_done();
    std::thread::sleep(Duration::from_millis(300));
    lab.update();
    assert_eq!(lab.steps_done(), paused_at, "no steps while paused");
    lab.pause(false);
    let deadline = Instant::now() + Duration::from_secs(60);
    while lab.steps_done() <= paused_at {
        assert!(Instant::now() < deadline, "no steps after resuming");
        lab.update();
        std::thread::sleep(Duration::from_millis(2));
    }
    lab.stop_training();
    wait(&mut lab);
    assert!(lab.status().contains("stopped on request"), "{}", lab.status());
    // the stopped model is still evaluated
    assert_eq!(lab.report().map(|r| r.confusion.total()), Some(360));
}

#[test]
fn the_ui_trains_and_shows_the_results() {
    let mut h = app("train");
    h.get_by_label("Train").click();
    h.run_steps(2);
    assert!(h.state().busy(), "training runs in the background");
    let mut frames = 0;
    while h.state().busy() && frames < 100_000 {
        h.step();
        frames += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(frames > 5, "the UI only drew {frames} frames during training");
    settle(&mut h);
    let summary = h.state().current_lab().summary();
    let acc: f32 = summary.split("test accuracy ").nth(1).and_then(|s| s.split('%').next()).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{summary}"));
    assert!(acc > 85.0, "{summary}");
    // the curves hold timings, which differ from run to run: count the
    // coloured curve pixels of the loss and accuracy plots instead of a snapshot
    let img = h.render().expect("render");
    let plots = colored(&img, [170, 80, 690, 310]);
    assert!(plots > 1500, "only {plots} coloured pixels in the curves");
    h.get_by_label("Results").click();
    h.run_steps(4);
    h.snapshot_options("train_results", &timed_snapshot());
    h.get_by_label("Layers").click();
    h.run_steps(4);
    h.snapshot_options("train_layers", &timed_snapshot());
}

/// On MNIST with the command line's settings (MLP, Adam 1e-3, cosine,
/// batch 64, seed 0, the first 2000 images, one epoch) the lab gets the
/// very numbers `vislab train` writes.
#[test]
fn mnist_reproduces_the_command_line() {
    let dir = vislab_engine::data::locate("mnist/data").unwrap_or_else(|e| panic!("{e}"));
    let out = scratch("train-lab-cli");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vislab"))
        .args(["train", "--model", "mlp", "--data", &format!("mnist:{}", dir.display()), "--epochs", "1", "--limit", "2000", "--out", &out.display().to_string()])
        .output()
        .expect("run vislab train");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).expect("metrics.csv");
    let row: Vec<f32> = csv.lines().nth(1).expect("one epoch row").split(',').map(|v| v.parse().expect("number")).collect();
    let (cli_loss, cli_acc) = (row[3], row[4]);

    let mut lab = TrainLab::new();
    lab.open_folder(dir, false);
    wait(&mut lab);
    assert!(lab.splits().is_some_and(|d| d.val_is_test && d.train.len() == 60_000), "{}", lab.status());
    lab.configure(Family::Mlp, 1, 0);
    lab.set_limit(Some(2000));
    lab.train_now();
    wait(&mut lab);
    assert_eq!(lab.validation_accuracy().map(|a| a as f32), Some(cli_acc), "{}", lab.status());
    assert_eq!(lab.validation_loss().map(|l| l as f32), Some(cli_loss));
    assert!(cli_acc > 0.8, "{cli_acc}");
    // the final report evaluates the same weights on the same test split
    assert_eq!(lab.report().map(|r| r.confusion.accuracy()), Some(cli_acc));
}

/// Grid then random search on the digits from the UI: 9 short runs each,
/// the best far above chance, both kept in one scatter to compare.
#[test]
fn hyperparameter_search_from_the_ui() {
    let mut h = app("train");
    h.get_by_label("Hyperparameter search").click();
    h.run_steps(2);
    h.get_by_label("grid search").click();
    h.run_steps(2);
    h.get_by_label("Run search").click();
    h.run_steps(2);
    assert!(h.state().busy(), "the search runs in the background");
    let deadline = Instant::now() + Duration::from_secs(180);
    while h.state().busy() {
        assert!(Instant::now() < deadline, "search still running");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    settle(&mut h);
    let line = h.state().current_lab().summary();
    assert!(line.contains("Grid search, 9 trials: best validation accuracy"), "{line}");
    h.get_by_label("random search").click();
    h.run_steps(2);
    h.get_by_label("Run search").click();
    h.run_steps(2);
    while h.state().busy() {
        assert!(Instant::now() < deadline, "search still running");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    settle(&mut h);
    let both = h.state().current_lab().summary();
    assert!(both.contains(&line[line.find("Grid").unwrap_or(0)..]) && both.contains("; Random search, 9 trials: best validation accuracy"), "{both}");
    let best: f32 = line.split("accuracy ").nth(1).and_then(|s| s.split('%').next()).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{line}"));
    // two epochs per trial: far above the 10% of chance, not yet converged
    assert!(best > 60.0, "{line}");
    h.snapshot_options("train_search", &timed_snapshot());
}

/// A folder without idx files is a message, and the digits stay loaded.
#[test]
fn a_wrong_folder_keeps_the_data() {
    let mut lab = TrainLab::new();
    let dir = scratch("train-lab-bad");
    std::fs::write(dir.join("train-images-idx3-ubyte"), b"not an idx file").unwrap();
    lab.open_folder(dir.clone(), true);
    wait(&mut lab);
    assert!(lab.status().starts_with("could not load the data: train-labels-idx1-ubyte (or train-labels-idx1-ubyte.gz) not found in"), "{}", lab.status());
    std::fs::write(dir.join("train-labels-idx1-ubyte"), [0u8, 0, 8, 1, 0, 0, 0, 1, 7]).unwrap();
    lab.open_folder(dir, true);
    wait(&mut lab);
    assert!(lab.status().starts_with("could not load the data") && lab.status().contains("train-images-idx3-ubyte"), "{}", lab.status());
    assert_eq!(lab.splits().map(|d| d.test.len()), Some(360));
}

/// Early stopping ends a long run once the validation loss stops
/// improving and evaluates the best weights.
#[test]
fn early_stopping_in_the_lab() {
    let mut lab = TrainLab::new();
    lab.configure(Family::Mlp, 60, 0);
    lab.set_early_stopping(Some(2));
    lab.train_now();
    wait(&mut lab);
    assert!(lab.status().contains("early stopping; best weights from epoch"), "{}", lab.status());
    let epochs = lab.epochs_done();
    assert!((3..60).contains(&epochs), "{epochs} epochs");
    let best: usize = lab.status().split("from epoch ").nth(1).and_then(|s| s.split(' ').next()).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{}", lab.status()));
    assert_eq!(best + 2, epochs, "stopped {epochs} epochs in, 2 after the best");
    assert!(lab.report().is_some_and(|r| r.confusion.accuracy() > 0.85), "{}", lab.status());
}

/// The small ResNet trains in the lab too, and its layers are inspected
/// stage by stage.
#[test]
fn small_resnet_in_the_lab() {
    let mut lab = TrainLab::new();
    lab.configure(Family::ResNet, 3, 0);
    lab.train_now();
    wait(&mut lab);
    let r = lab.report().unwrap_or_else(|| panic!("no report: {}", lab.status()));
    assert!(r.confusion.accuracy() > 0.6, "ResNet test accuracy {} after 3 epochs: {}", r.confusion.accuracy(), lab.status());
    let names: Vec<(&str, Vec<usize>)> = r.maps.iter().map(|m| (m.name.as_str(), m.sample_shape.clone())).collect();
    assert_eq!(names, [("conv1", vec![8, 8, 8]), ("layer1", vec![8, 8, 8]), ("layer2", vec![16, 4, 4]), ("fc", vec![10])]);
}

/// Any image dataset plugs in: 3-channel 12x12 images whose class is the
/// brightest channel, learnt by the CNN with 3-channel first-layer filters.
#[test]
fn colour_images_from_another_loader() {
    use vislab::labs::train::Splits;
    use vislab_engine::data::Dataset;
    let make = |n: usize, seed: usize| {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..n {
            let class = (i + seed) % 3;
            for c in 0..3 {
                for p in 0..144 {
                    // a noisy texture; the class channel is brighter
                    let noise = (((i * 131 + c * 17 + p * 7 + seed) % 97) as f32) / 97.0;
                    x.push(0.6 * noise + if c == class { 0.4 } else { 0.0 });
                }
            }
            y.push(class);
        }
        Dataset::new(x, vec![3, 12, 12], y, 3).expect("valid")
    };
    let names = vec!["red".to_string(), "green".to_string(), "blue".to_string()];
    let splits = Splits::new(make(300, 0), Some(make(60, 1)), make(90, 2), names, "colours".into()).expect("images");
    let mut lab = TrainLab::new();
    lab.set_data(splits);
    lab.configure(Family::Cnn, 3, 0);
    lab.train_now();
    wait(&mut lab);
    let r = lab.report().unwrap_or_else(|| panic!("no report: {}", lab.status()));
    assert_eq!(r.confusion.total(), 90);
    assert!(r.confusion.accuracy() > 0.9, "{}", lab.status());
    assert_eq!(r.first_layer.as_ref().map(|p| p.shape.clone()), Some(vec![8, 3, 3, 3]));
    assert!(Splits::new(make(3, 0), None, Dataset::new(vec![0.0; 6], vec![6], vec![0], 3).unwrap(), vec![], "bad".into()).is_err(), "test samples must match");
}

/// CIFAR-10 in the binary layout, as the dataset picker opens it: the
/// folder's own test batch, a held-out validation tenth of the training
/// batches, colour filters; a seeded augmented run differs from the plain
/// one and repeats exactly.
#[test]
fn cifar_folder_and_augmented_training() {
    use vislab_engine::data::Source;
    use vislab_engine::data::augment::Augment;
    use vislab_engine::data::cifar::Variant;
    // classes 0, 3, 6 and 9: their flat colours lie 0.3 apart in red and blue
    let dir = cifar_dir("train-lab-cifar", 40, 40, |k| (k % 4 * 3) as u8);
    let mut lab = TrainLab::new();
    lab.open_source(Source::Cifar(dir.clone(), Variant::Cifar10));
    wait(&mut lab);
    let d = lab.splits().unwrap_or_else(|| panic!("{}", lab.status()));
    assert_eq!((d.train.len(), d.val.len(), d.test.len(), d.image), (180, 20, 40, [3, 32, 32]), "{}", lab.status());
    assert!(!d.val_is_test);
    assert_eq!(&d.names[..2], ["airplane", "automobile"]);
    let run = |lab: &mut TrainLab, a: Augment| {
        lab.configure(Family::Cnn, 6, 0);
        lab.set_augment(a);
        lab.train_now();
        wait(lab);
        assert!(lab.report().is_some(), "{}", lab.status());
        lab.step_losses().iter().map(|p| p[1]).collect::<Vec<f64>>()
    };
    let plain = run(&mut lab, Augment::default());
    assert_eq!(plain.len(), 6 * 180usize.div_ceil(64));
    let r = lab.report().expect("report");
    // four flat colours: learnt at once, with 3-channel first-layer filters
    assert!(r.confusion.accuracy() > 0.9, "{}", lab.status());
    assert_eq!(r.first_layer.as_ref().map(|p| p.shape[1]), Some(3));
    let flip_shift = Augment { flip: true, max_shift: 3, ..Augment::default() };
    let augmented = run(&mut lab, flip_shift);
    assert_eq!(augmented.len(), plain.len());
    assert_ne!(augmented, plain);
    assert_eq!(run(&mut lab, flip_shift), augmented);

    // a file that is no CIFAR batch is a message, and CIFAR stays loaded
    let bad = dir.join("bad.bin");
    std::fs::write(&bad, [1u8; 100]).unwrap();
    lab.open_source(Source::Cifar(bad, Variant::Cifar10));
    wait(&mut lab);
    assert!(lab.status().starts_with("could not load the data"), "{}", lab.status());
    assert_eq!(lab.splits().map(|d| d.test.len()), Some(40));
}

/// The Augmented batch tab shows the first batch as stored and as the
/// trainer sees it: different pixels once an augmentation is chosen.
#[test]
fn augmented_batch_tab() {
    let mut h = app("train");
    h.get_by_label("Augmented batch").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("no augmentation chosen").is_some());
    let plain = h.render().expect("render");
    h.get_by_label("Augmentation: none").click();
    h.run_steps(3);
    h.get_by_label("random flip").click();
    h.run_steps(3);
    assert!(h.query_by_label("Augmentation: flip").is_some());
    assert!(h.query_by_label_contains("as the trainer sees it at step 1: flip").is_some());
    let flipped = h.render().expect("render");
    // only the lower grid may change (and the opened controls)
    let view = |img: &image::RgbaImage| -> Vec<[u8; 4]> { (60..600).flat_map(|y| (180..700).map(move |x| (x, y))).map(|(x, y)| img.get_pixel(x, y).0).collect() };
    let differ = view(&plain).iter().zip(view(&flipped).iter()).filter(|(a, b)| a != b).count();
    assert!(differ > 1000, "{differ} pixels of the view changed");
    h.snapshot_options("train_augmented", &snapshot_options());
}
