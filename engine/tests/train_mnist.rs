//! End to end on real MNIST: the hand-written reference models trained by the
//! Trainer on 10k images for one epoch, checkpointed, reloaded and evaluated
//! again with identical results.

use std::sync::Arc;

use vislab_engine::data::mnist::{self, Split};
use vislab_engine::data::{Dataset, locate};
use vislab_engine::optim::{Adam, Decay, Optimizer, Schedule, Sgd};
use vislab_engine::train::checkpoint;
use vislab_engine::train::reference::{Mlp, SoftmaxRegression};
use vislab_engine::train::{Event, Job, Model, Progress, StopReason, TrainConfig, evaluate, progress_of, save_training};

fn mnist() -> (Arc<Dataset>, Arc<Dataset>, Dataset) {
    let dir = locate("mnist/data").unwrap_or_else(|e| panic!("{e}"));
    let train = mnist::load(&dir, Split::Train).unwrap();
    let test = mnist::load(&dir, Split::Test).unwrap();
    let (train, val) = train.take(11_000).split(1_000, 0).unwrap();
    assert_eq!((train.len(), val.len()), (10_000, 1_000));
    (Arc::new(train), Arc::new(val), test)
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vislab-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Train one epoch, check the accuracy, save, reload into `fresh`, compare.
fn train_and_reload(model: Box<dyn Model>, opt: Box<dyn Optimizer>, mut fresh: Box<dyn Model>, min_acc: f32, name: &str) {
    let (train, val, test) = mnist();
    // Cosine decay to 0 over the epoch: the last steps average out SGD noise.
    let mut cfg = TrainConfig::new(1, 32, Schedule::new(opt.lr(), Decay::Cosine));
    cfg.metrics_csv = Some(tmp(&format!("{name}-metrics.csv")));
    let h = Job::new(model, opt, train, cfg).validate_on(val).spawn().unwrap();
    let events: Vec<Event> = h.events().iter().collect();
    let mut fin = h.join().unwrap();
    assert_eq!(fin.reason, StopReason::Finished);
    assert_eq!(fin.progress, Progress { epoch: 1, step: 313 });
    assert_eq!(events.iter().filter(|e| matches!(e, Event::Step { .. })).count(), 313);
    let epoch = fin.history[0];
    let acc = |s: vislab_engine::train::StepOutput| s.correct as f32 / s.count as f32;
    let before = evaluate(fin.model.as_mut(), &test, 1000).unwrap();
    eprintln!("{name}: train acc {:.4}, val acc {:.4}, test acc {:.4} (loss {:.4}), {:.2} s", epoch.train_acc, epoch.val_acc.unwrap(), acc(before), before.loss, epoch.seconds);
    assert!(acc(before) > min_acc, "{name}: test accuracy {}", acc(before));
    assert!(epoch.val_acc.unwrap() > min_acc - 0.03);

    let path = tmp(&format!("{name}.safetensors"));
    save_training(&path, fin.model.as_ref(), fin.optimizer.as_ref(), fin.progress).unwrap();
    let ck = checkpoint::load(&path).unwrap();
    assert_eq!(progress_of(&ck).unwrap(), fin.progress);
    ck.restore(fresh.as_mut(), None).unwrap();
    let after = evaluate(fresh.as_mut(), &test, 1000).unwrap();
    assert_eq!((after.correct, after.loss.to_bits()), (before.correct, before.loss.to_bits()));
    let csv = std::fs::read_to_string(tmp(&format!("{name}-metrics.csv"))).unwrap();
    assert_eq!(csv.lines().count(), 2);
}

#[test]
fn softmax_regression_on_mnist() {
    let m = Box::new(SoftmaxRegression::new(784, 10, 1).unwrap());
    let fresh = Box::new(SoftmaxRegression::new(784, 10, 2).unwrap());
    train_and_reload(m, Box::new(Sgd::new(0.5)), fresh, 0.85, "softmax");
}

#[test]
fn mlp_on_mnist() {
    let m = Box::new(Mlp::new(784, 100, 10, 1).unwrap());
    let fresh = Box::new(Mlp::new(784, 100, 10, 2).unwrap());
    train_and_reload(m, Box::new(Adam::new(3e-3)), fresh, 0.90, "mlp");
}
