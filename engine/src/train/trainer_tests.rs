use std::time::Duration;

use super::*;
use crate::data::toy2d::{self, Toy};
use crate::optim::{Adam, Decay, Penalty, Sgd};
use crate::train::reference::Mlp;

fn spiral() -> Arc<Dataset> {
    Arc::new(toy2d::spiral(Toy { per_class: 100, noise: 0.2, seed: 1 }, 3).unwrap())
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vislab-trainer-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn mlp() -> Box<dyn Model> {
    Box::new(Mlp::new(2, 32, 3, 7).unwrap())
}

/// All events until the thread ends, and its result.
fn finish<S>(h: TrainerHandle<S>) -> (Vec<Event<S>>, Finished) {
    let ev: Vec<Event<S>> = h.events().iter().collect();
    (ev, h.join().unwrap())
}

fn step_losses<S>(ev: &[Event<S>]) -> Vec<u32> {
    ev.iter().filter_map(|e| if let Event::Step { loss, .. } = e { Some(loss.to_bits()) } else { None }).collect()
}

#[test]
fn learns_the_spiral_and_reports_every_epoch() {
    let data = spiral();
    let mut cfg = TrainConfig::new(60, 32, Schedule::new(0.02, Decay::Cosine));
    cfg.metrics_csv = Some(tmp("spiral-metrics.csv"));
    cfg.log_every = 5;
    let hook: SampleHook<usize> = Box::new(|m, p| Some(m.params().len() * 1000 + p.epoch));
    let h = Job::new(mlp(), Box::new(Adam::new(0.0)), data.clone(), cfg).validate_on(data.clone()).samples(hook).spawn().unwrap();
    let (ev, fin) = finish(h);
    assert_eq!(fin.reason, StopReason::Finished);
    assert_eq!(fin.progress, Progress { epoch: 60, step: 60 * 10 });
    let last = fin.history.last().unwrap();
    assert!(last.train_acc > 0.9 && last.val_acc.unwrap() > 0.9, "{last:?}");
    assert!(fin.history[0].train_loss > 2.0 * last.train_loss);
    // Step events every 5 steps; lr follows the cosine schedule (0.02 at step 0).
    let steps: Vec<(usize, f32)> = ev.iter().filter_map(|e| if let Event::Step { step, lr, .. } = e { Some((*step, *lr)) } else { None }).collect();
    assert_eq!(steps.len(), 120);
    assert_eq!(steps[0].0, 5);
    assert!((steps[0].1 - cfg_lr(0.02, 4, 600)).abs() < 1e-9);
    // 300 points in batches of 32: the tenth batch of each epoch holds 12
    for e in &ev {
        if let Event::Step { step, seconds, samples, .. } = e {
            assert_eq!(*samples, if step % 10 == 0 { 12 } else { 32 }, "step {step}");
            assert!(seconds.is_finite() && *seconds > 0.0 && *seconds < 10.0, "step {step} took {seconds} s");
        }
    }
    let samples: Vec<usize> = ev.iter().filter_map(|e| if let Event::Samples { data, .. } = e { Some(*data) } else { None }).collect();
    assert_eq!(samples, (1..=60).map(|e| 4000 + e).collect::<Vec<_>>());
    assert!(matches!(ev.last(), Some(Event::Stopped { reason: StopReason::Finished })));
    let csv = std::fs::read_to_string(tmp("spiral-metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 61);
    assert!(csv.starts_with("epoch,train_loss,train_acc,test_loss,test_acc,seconds\n1,"));
}

fn cfg_lr(base: f32, step: usize, total: usize) -> f32 {
    Schedule::new(base, Decay::Cosine).lr_at(step, total)
}

#[test]
fn same_seed_gives_bit_identical_losses() {
    let run = |seed: u64| {
        let mut cfg = TrainConfig::new(3, 16, Schedule::constant(0.05));
        cfg.seed = seed;
        cfg.regularizer = Some(Regularizer::new(Penalty::L2 { lambda: 1e-3 }));
        cfg.clip_norm = Some(1.0);
        step_losses(&finish(Job::new(mlp(), Box::new(Adam::new(0.0)), spiral(), cfg).spawn().unwrap()).0)
    };
    let a = run(3);
    assert_eq!(a.len(), 3 * 19);
    assert_eq!(a, run(3));
    assert_ne!(a, run(4));
}

#[test]
fn divergence_stops_and_keeps_last_good_weights() {
    // Softmax cross-entropy has bounded gradients, but an L2 penalty with
    // lr * 2 * lambda > 2 multiplies the weights by -3 each step until the
    // penalty overflows.
    let data = spiral();
    let reg = Regularizer::new(Penalty::L2 { lambda: 1.0 });
    let mut cfg = TrainConfig::new(50, 30, Schedule::constant(2.0));
    cfg.regularizer = Some(reg.clone());
    let h = Job::new(mlp(), Box::new(Sgd::new(0.0)), data.clone(), cfg).spawn().unwrap();
    let (ev, fin) = finish(h);
    let StopReason::Diverged { step, epoch, message } = &fin.reason else { panic!("{:?}", fin.reason) };
    assert!(*step > 2, "diverged at once: {message}");
    let losses: Vec<f32> = ev.iter().filter_map(|e| if let Event::Step { loss, .. } = e { Some(*loss) } else { None }).collect();
    assert_eq!(losses.len(), step - 1);
    let expected = format!(
        "loss became {} at step {step} (epoch {epoch}); weights restored to those of step {} (loss {})",
        message.split(' ').nth(2).unwrap(),
        step - 1,
        fmt_loss(losses[step - 2])
    );
    assert!(message.starts_with("loss became NaN") || message.starts_with("loss became inf"), "{message}");
    assert_eq!(*message, expected);
    eprintln!("{message}");
    // Replay by hand: the restored weights are those before update step-1.
    let mut m = mlp();
    let mut opt = Sgd::new(2.0);
    let mut done = 0;
    'outer: for e in 0.. {
        for b in data.shuffled_batches(30, 0, e, false).unwrap() {
            if done == step - 2 {
                break 'outer;
            }
            m.train_step(&b).unwrap();
            reg.apply(m.params_mut());
            opt.step(m.params_mut()).unwrap();
            done += 1;
        }
    }
    assert_eq!(super::super::model::snapshot(fin.model.params()), super::super::model::snapshot(m.params()));
    assert!(fin.model.params().iter().flat_map(|p| &p.value).all(|v| v.is_finite()));
    assert!(matches!(ev.last(), Some(Event::Stopped { reason: StopReason::Diverged { .. } })));
}

#[test]
fn pause_resume_set_lr_and_stop() {
    let cfg = TrainConfig::new(100_000, 8, Schedule::constant(0.01));
    let h = Job::new(mlp(), Box::new(Sgd::new(0.0)), spiral(), cfg).spawn().unwrap();
    let first = h.events().recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(matches!(first, Event::Step { step: 1, lr: 0.01, .. }));
    h.pause();
    // At most the step in flight arrives after the pause, then silence.
    std::thread::sleep(Duration::from_millis(50));
    while h.events().try_recv().is_ok() {}
    std::thread::sleep(Duration::from_millis(200));
    assert!(h.events().try_recv().is_err(), "events while paused");
    h.set_lr(0.5);
    h.resume();
    match h.events().recv_timeout(Duration::from_secs(10)).unwrap() {
        Event::Step { lr, .. } => assert_eq!(lr, 0.5),
        e => panic!("{e:?}"),
    }
    h.stop();
    let (ev, fin) = finish(h);
    assert_eq!(fin.reason, StopReason::Requested);
    assert!(matches!(ev.last(), Some(Event::Stopped { reason: StopReason::Requested })));
    assert_eq!(fin.optimizer.lr(), 0.5);
    // Dropping a running handle stops and joins the thread.
    let cfg = TrainConfig::new(100_000, 8, Schedule::constant(0.01));
    let h = Job::new(mlp(), Box::new(Sgd::new(0.0)), spiral(), cfg).spawn().unwrap();
    h.events().recv_timeout(Duration::from_secs(10)).unwrap();
    drop(h);
}

#[test]
fn resuming_from_a_checkpoint_is_exact() {
    let data = spiral();
    let base = |epochs: usize| {
        let mut c = TrainConfig::new(epochs, 16, Schedule::new(0.01, Decay::Linear).with_warmup(5));
        c.seed = 9;
        c
    };
    // Reference: 3 epochs at once (the schedule's horizon is 3 epochs in both runs).
    let (_, straight) = finish(Job::new(mlp(), Box::new(Adam::new(0.0)), data.clone(), base(3)).spawn().unwrap());
    // Same run stopped mid-epoch 2 after 25 steps, saved, reloaded.
    let path = tmp("resume.safetensors");
    let mut c = base(3);
    c.checkpoint = Some(path.clone());
    c.max_steps = Some(25);
    let (_, first) = finish(Job::new(mlp(), Box::new(Adam::new(0.0)), data.clone(), c).spawn().unwrap());
    assert_eq!(first.reason, StopReason::StepLimit);
    assert_eq!(first.progress, Progress { epoch: 1, step: 25 });
    let ck = checkpoint::load(&path).unwrap();
    let progress = progress_of(&ck).unwrap();
    assert_eq!(progress, first.progress);
    let mut model = Box::new(Mlp::new(2, 32, 3, 12345).unwrap()) as Box<dyn Model>;
    let mut opt = Box::new(Adam::new(0.0)) as Box<dyn Optimizer>;
    ck.restore(model.as_mut(), Some(opt.as_mut())).unwrap();
    let mut c = base(3);
    c.start = progress;
    let (_, resumed) = finish(Job::new(model, opt, data, c).spawn().unwrap());
    assert_eq!(resumed.progress, straight.progress);
    assert_eq!(super::super::model::snapshot(resumed.model.params()), super::super::model::snapshot(straight.model.params()));
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    // Validation labels are shuffled: the validation loss bottoms out early,
    // then rises as the model fits the training labels.
    let train = spiral();
    let mut y = train.y().to_vec();
    crate::rng::SeededRng::new(2).shuffle(&mut y);
    let val = Arc::new(Dataset::new(train.x().to_vec(), vec![2], y, 3).unwrap());
    let mut c = TrainConfig::new(200, 32, Schedule::constant(0.02));
    c.early_stopping = Some(EarlyStopping { patience: 3, min_delta: 0.0 });
    let (ev, mut fin) = finish(Job::new(mlp(), Box::new(Adam::new(0.0)), train, c).validate_on(val.clone()).spawn().unwrap());
    let StopReason::EarlyStopped { best_epoch } = fin.reason else { panic!("{:?}", fin.reason) };
    assert_eq!(fin.history.len(), best_epoch + 3);
    let best = fin.history[best_epoch - 1].val_loss.unwrap();
    assert!(fin.history.iter().all(|m| m.val_loss.unwrap() >= best));
    assert_eq!(evaluate(fin.model.as_mut(), &val, 1000).unwrap().loss, best);
    assert!(matches!(ev.last(), Some(Event::Stopped { reason: StopReason::EarlyStopped { .. } })));
}

#[test]
fn bad_setups_are_errors_and_model_errors_are_reported() {
    let data = spiral();
    let c = TrainConfig::new(1, 0, Schedule::constant(0.1));
    assert!(matches!(Job::new(mlp(), Box::new(Sgd::new(0.1)), data.clone(), c).spawn(), Err(TrainError::Config(_))));
    let mut c = TrainConfig::new(1, 500, Schedule::constant(0.1));
    c.drop_last = true;
    assert!(Job::new(mlp(), Box::new(Sgd::new(0.1)), data.clone(), c).spawn().is_err());
    let c = TrainConfig::new(1, 8, Schedule::constant(f32::NAN));
    assert!(Job::new(mlp(), Box::new(Sgd::new(0.1)), data.clone(), c).spawn().is_err());
    let images = Arc::new(Dataset::new(vec![0.0; 4], vec![1, 2, 2], vec![0], 3).unwrap());
    let c = TrainConfig::new(1, 8, Schedule::constant(0.1));
    let e = Job::new(mlp(), Box::new(Sgd::new(0.1)), data.clone(), c).validate_on(images).spawn().err().unwrap().to_string();
    assert!(e.contains("validation samples [1, 2, 2] differ from training samples [2]"), "{e}");
    // A model for 3 inputs fed 2-D points fails at the first step.
    let c = TrainConfig::new(1, 8, Schedule::constant(0.1));
    let wrong = Box::new(Mlp::new(3, 4, 3, 0).unwrap());
    let (ev, fin) = finish(Job::new(wrong, Box::new(Sgd::new(0.1)), data, c).spawn().unwrap());
    let StopReason::Failed(m) = &fin.reason else { panic!() };
    assert!(m.starts_with("model failed at step 1 (epoch 1): batch of shape [8, 2]"), "{m}");
    assert!(matches!(ev.last(), Some(Event::Failed { .. })));
}

#[test]
fn step_loss_includes_the_regularization() {
    // lr 0: the weights stay put, so every step's loss is the data loss of
    // its batch plus lambda * sum(w^2) of the initial weights.
    let data = spiral();
    let reg = Regularizer::new(Penalty::L2 { lambda: 0.01 });
    let mut c = TrainConfig::new(1, 50, Schedule::constant(0.0));
    c.regularizer = Some(reg.clone());
    let (ev, _) = finish(Job::new(mlp(), Box::new(Sgd::new(0.0)), data.clone(), c).spawn().unwrap());
    let mut m = mlp();
    let penalty = reg.loss(m.params());
    assert!(penalty > 0.01);
    let want: Vec<f32> = data.shuffled_batches(50, 0, 0, false).unwrap().map(|b| m.eval(&b).unwrap().loss + penalty).collect();
    let got: Vec<f32> = ev.iter().filter_map(|e| if let Event::Step { loss, .. } = e { Some(*loss) } else { None }).collect();
    assert_eq!(got, want);
}

#[test]
fn augmentation_is_seeded_by_step_and_resumes_exactly() {
    let digits = Arc::new(crate::data::digits::load().unwrap().take(256));
    let net = || Box::new(Mlp::new(64, 16, 10, 3).unwrap()) as Box<dyn Model>;
    let cfg = |augment: Option<Augment>| {
        let mut c = TrainConfig::new(2, 32, Schedule::constant(0.01));
        c.seed = 5;
        c.augment = augment;
        c
    };
    let aug = Some(Augment { flip: true, max_shift: 1, max_degrees: 10.0, ..Augment::default() });
    let run = |c: TrainConfig| finish(Job::new(net(), Box::new(Adam::new(0.0)), digits.clone(), c).spawn().unwrap());
    let plain = step_losses(&run(cfg(None)).0);
    let (ev, straight) = run(cfg(aug));
    let augmented = step_losses(&ev);
    assert_eq!(augmented.len(), 16);
    // the first batch is the same samples, differently transformed
    assert_ne!(augmented[0], plain[0]);
    assert_eq!(augmented, step_losses(&run(cfg(aug)).0));
    // the identity augmentation is no augmentation
    assert_eq!(plain, step_losses(&run(cfg(Some(Augment::default()))).0));

    // stopped after 11 steps and resumed: the same weights as straight through
    let path = tmp("augment-resume.safetensors");
    let mut c = cfg(aug);
    c.checkpoint = Some(path.clone());
    c.max_steps = Some(11);
    run(c);
    let ck = checkpoint::load(&path).unwrap();
    let (mut model, mut opt) = (net(), Box::new(Adam::new(0.0)) as Box<dyn Optimizer>);
    ck.restore(model.as_mut(), Some(opt.as_mut())).unwrap();
    let mut c = cfg(aug);
    c.start = progress_of(&ck).unwrap();
    let (_, resumed) = finish(Job::new(model, opt, digits.clone(), c).spawn().unwrap());
    assert_eq!(super::super::model::snapshot(resumed.model.params()), super::super::model::snapshot(straight.model.params()));

    // points are not images: the run fails and says why
    let mut c = TrainConfig::new(1, 16, Schedule::constant(0.01));
    c.augment = aug;
    let (ev, done) = finish(Job::new(mlp(), Box::new(Adam::new(0.0)), spiral(), c).spawn().unwrap());
    assert!(matches!(&done.reason, StopReason::Failed(m) if m.contains("image batches")), "{:?}", done.reason);
    assert!(ev.iter().any(|e| matches!(e, Event::Failed { .. })));
}
