//! The trainer: runs a [`Model`] on a worker thread and streams [`Event`]s
//! through a channel; a [`TrainerHandle`] pauses, resumes, stops it and
//! changes the learning rate while it runs. Dropping the handle stops the
//! thread.
//!
//! One step: `train_step` (forward + backward), add the regularization to
//! the loss and gradients, check that loss and gradients are finite, clip,
//! optimizer update at the scheduled learning rate. Batches are shuffled by
//! (seed, epoch), so a run is reproducible and resumable from a checkpoint
//! at any step.
//!
//! If the loss or a gradient becomes NaN or infinite, training stops and
//! the weights go back to the last ones whose loss was finite (the
//! optimizer state is reset, its buffers having seen the bad update).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::checkpoint::{self, Checkpoint, CheckpointError};
use super::metrics_csv::{EpochMetrics, MetricsCsv};
use super::model::{copy_values, first_non_finite, restore};
use super::prefetch::Prefetch;
use super::{Model, ModelError, StepOutput};
use crate::data::augment::Augment;
use crate::data::{DataError, Dataset};
use crate::job::{self, Ctx, Ended, JobEvent, Lost};
use crate::optim::{Optimizer, Regularizer, Schedule, clip_grad_norm};
use crate::rng::SeededRng;

/// How far a run has got: epochs and optimizer steps completed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub epoch: usize,
    pub step: usize,
}

/// Stop when the monitored loss (validation if there is a validation set,
/// else training) has not improved by `min_delta` for `patience` epochs;
/// the best weights are restored at the end of the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    pub patience: usize,
    pub min_delta: f32,
}

#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub eval_batch_size: usize,
    pub seed: u64,
    pub schedule: Schedule,
    pub regularizer: Option<Regularizer>,
    /// Clip gradients to this global L2 norm.
    pub clip_norm: Option<f32>,
    /// Skip the last incomplete batch of each epoch.
    pub drop_last: bool,
    /// Send a `Step` event every this many steps (at least 1).
    pub log_every: usize,
    pub early_stopping: Option<EarlyStopping>,
    /// Append one row per epoch to this `metrics.csv`.
    pub metrics_csv: Option<PathBuf>,
    /// Save a checkpoint (weights, optimizer, progress) here after every
    /// epoch and when the run ends.
    pub checkpoint: Option<PathBuf>,
    /// Stop once this many steps (counted from step 0, not from `start`)
    /// are done.
    pub max_steps: Option<usize>,
    /// Resume point (from [`progress_of`] on a checkpoint); default: start.
    pub start: Progress,
    /// Random augmentation of every training batch, drawn from a stream
    /// seeded by (seed, step), so a resumed run augments as the first did.
    pub augment: Option<Augment>,
}

impl TrainConfig {
    /// The generator that augments the batch of optimizer step `step`
    /// (counted from 0): stream 2^32 + step, apart from the epochs'
    /// shuffling streams.
    pub fn augment_rng(&self, step: usize) -> SeededRng {
        SeededRng::stream(self.seed, (1 << 32) + step as u64)
    }

    pub fn new(epochs: usize, batch_size: usize, schedule: Schedule) -> Self {
        TrainConfig {
            epochs,
            batch_size,
            eval_batch_size: 1000,
            seed: 0,
            schedule,
            regularizer: None,
            clip_norm: None,
            drop_last: false,
            log_every: 1,
            early_stopping: None,
            metrics_csv: None,
            checkpoint: None,
            max_steps: None,
            start: Progress::default(),
            augment: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// All epochs done.
    Finished,
    /// `max_steps` reached.
    StepLimit,
    /// `stop()` or the handle was dropped.
    Requested,
    EarlyStopped {
        best_epoch: usize,
    },
    /// Loss or gradient became NaN/infinite; the message names the step.
    Diverged {
        step: usize,
        epoch: usize,
        message: String,
    },
    /// The model, optimizer or a file write failed.
    Failed(String),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Finished => write!(f, "finished"),
            StopReason::StepLimit => write!(f, "step limit reached"),
            StopReason::Requested => write!(f, "stopped on request"),
            StopReason::EarlyStopped { best_epoch } => write!(f, "early stopping; best weights from epoch {best_epoch} restored"),
            StopReason::Diverged { message, .. } | StopReason::Failed(message) => write!(f, "{message}"),
        }
    }
}

/// What the worker thread reports. `S` is whatever the samples callback
/// returns (e.g. predictions on a few images for the UI).
#[derive(Clone, Debug, PartialEq)]
pub enum Event<S = ()> {
    /// `step` optimizer steps done so far, in `epoch` (1-based); `loss`
    /// includes regularization. `seconds` is the wall time of this step
    /// (forward, backward, checks, update) on its batch of `samples`.
    Step {
        step: usize,
        epoch: usize,
        loss: f32,
        lr: f32,
        seconds: f32,
        samples: usize,
    },
    Epoch(EpochMetrics),
    Samples {
        epoch: usize,
        step: usize,
        data: S,
    },
    Stopped {
        reason: StopReason,
    },
    Failed {
        message: String,
    },
}

/// Called after every epoch with the model in its current state; what it
/// returns is sent as `Event::Samples`.
pub type SampleHook<S> = Box<dyn FnMut(&mut dyn Model, Progress) -> Option<S> + Send>;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("invalid training setup: {0}")]
    Config(String),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{0}")]
    Thread(String),
    #[error(transparent)]
    Lost(#[from] Lost),
}

/// The end of a run: the model (with the weights described by `reason`)
/// and optimizer, ready to save, evaluate or train further.
pub struct Finished {
    pub model: Box<dyn Model>,
    pub optimizer: Box<dyn Optimizer>,
    pub progress: Progress,
    pub reason: StopReason,
    pub history: Vec<EpochMetrics>,
    /// Where the run's time went.
    pub timings: Timings,
}

/// Seconds a run spent in each part of its loop.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// Waiting for the next batch (assembled and augmented on its own thread).
    pub batches: f64,
    /// The model's forward and backward passes.
    pub steps: f64,
    /// Regularization, finiteness checks, clipping, the optimizer update.
    pub updates: f64,
    /// Evaluation on the validation set.
    pub evaluation: f64,
    /// metrics.csv, checkpoints, the samples hook.
    pub saving: f64,
    /// The whole loop, these and everything else (events, pauses).
    pub total: f64,
}

impl std::fmt::Display for Timings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let other = self.total - self.batches - self.steps - self.updates - self.evaluation - self.saving;
        write!(
            f,
            "{:.2} s: forward+backward {:.2}, updates {:.2}, waiting for batches {:.2}, evaluation {:.2}, saving {:.2}, other {:.2}",
            self.total, self.steps, self.updates, self.batches, self.evaluation, self.saving, other
        )
    }
}

/// Adds the seconds since `t` to `acc` and restarts `t`.
fn lap(acc: &mut f64, t: &mut Instant) {
    let now = Instant::now();
    *acc += (now - *t).as_secs_f64();
    *t = now;
}

/// The run as a background job: pause, resume, stop, and the learning
/// rate as its parameter; `join` gives the [`Finished`] run back.
pub type TrainerHandle<S = ()> = job::Job<Event<S>, f32, Finished>;

impl<S: Send + 'static> JobEvent for Event<S> {
    /// The run sends its own end (stopped or failed); only a panic is left.
    fn ended(end: Ended) -> Option<Self> {
        end.error.map(|message| Event::Failed { message })
    }
}

impl<S> TrainerHandle<S> {
    /// Change the schedule's base learning rate from the next step on.
    pub fn set_lr(&self, lr: f32) {
        self.set(lr);
    }
}

/// Everything a run needs.
pub struct Job<S = ()> {
    pub model: Box<dyn Model>,
    pub optimizer: Box<dyn Optimizer>,
    pub train: Arc<Dataset>,
    pub val: Option<Arc<Dataset>>,
    pub config: TrainConfig,
    pub samples: Option<SampleHook<S>>,
}

impl Job {
    pub fn new(model: Box<dyn Model>, optimizer: Box<dyn Optimizer>, train: Arc<Dataset>, config: TrainConfig) -> Self {
        Job { model, optimizer, train, val: None, config, samples: None }
    }
}

impl<S> Job<S> {
    /// Evaluate on `val` after every epoch.
    pub fn validate_on(mut self, val: Arc<Dataset>) -> Self {
        self.val = Some(val);
        self
    }

    /// Send what `hook` returns after every epoch as `Event::Samples`.
    pub fn samples<T>(self, hook: SampleHook<T>) -> Job<T> {
        let Job { model, optimizer, train, val, config, .. } = self;
        Job { model, optimizer, train, val, config, samples: Some(hook) }
    }

    /// Start training on a new thread.
    pub fn spawn(self) -> Result<TrainerHandle<S>, TrainError>
    where
        S: Send + 'static,
    {
        check_config(&self.config, &self.train, self.val.as_deref())?;
        job::Job::start("vislab-trainer", move |ctx: &mut Ctx<Event<S>, f32>| Worker { job: self, ctx }.run()).map_err(TrainError::Thread)
    }
}

fn check_config(c: &TrainConfig, train: &Dataset, val: Option<&Dataset>) -> Result<(), TrainError> {
    let bad = |m: String| Err(TrainError::Config(m));
    if c.batch_size == 0 || c.eval_batch_size == 0 {
        return bad("batch sizes must be at least 1".into());
    }
    if train.num_batches(c.batch_size, c.drop_last) == 0 {
        return bad(format!("{} training samples give no batch of {}", train.len(), c.batch_size));
    }
    if let Some(v) = val
        && v.sample_shape() != train.sample_shape()
    {
        return bad(format!("validation samples {:?} differ from training samples {:?}", v.sample_shape(), train.sample_shape()));
    }
    if !(c.schedule.base_lr.is_finite() && c.schedule.base_lr >= 0.0) {
        return bad(format!("learning rate {} must be finite and >= 0", c.schedule.base_lr));
    }
    Ok(())
}

struct Worker<'a, S> {
    job: Job<S>,
    ctx: &'a mut Ctx<Event<S>, f32>,
}

impl<S> Worker<'_, S> {
    fn send(&self, e: Event<S>) {
        self.ctx.send(e);
    }

    /// Apply pending commands (a new learning rate); block while paused.
    /// Err on stop.
    fn poll(&mut self) -> Result<(), StopReason> {
        if !self.ctx.go_on() {
            return Err(StopReason::Requested);
        }
        while let Some(lr) = self.ctx.next_set() {
            if lr.is_finite() && lr >= 0.0 {
                self.job.config.schedule.base_lr = lr;
            }
        }
        Ok(())
    }

    fn run(mut self) -> Finished {
        let mut progress = self.job.config.start;
        let mut history = Vec::new();
        let mut timings = Timings::default();
        let started = Instant::now();
        let (Ok(reason) | Err(reason)) = self.epochs(&mut progress, &mut history, &mut timings);
        timings.total = started.elapsed().as_secs_f64();
        if let Some(p) = self.job.config.checkpoint.clone()
            && let Err(e) = save_training(&p, self.job.model.as_ref(), self.job.optimizer.as_ref(), progress)
        {
            self.send(Event::Failed { message: format!("saving checkpoint: {e}") });
        }
        match &reason {
            StopReason::Failed(m) => self.send(Event::Failed { message: m.clone() }),
            r => self.send(Event::Stopped { reason: r.clone() }),
        }
        Finished { model: self.job.model, optimizer: self.job.optimizer, progress, reason, history, timings }
    }

    fn epochs(&mut self, progress: &mut Progress, history: &mut Vec<EpochMetrics>, time: &mut Timings) -> Result<StopReason, StopReason> {
        let fail = StopReason::Failed;
        let mut csv = match &self.job.config.metrics_csv {
            Some(p) => Some(MetricsCsv::open(p, progress.epoch > 0).map_err(fail)?),
            None => None,
        };
        let per_epoch = self.job.train.num_batches(self.job.config.batch_size, self.job.config.drop_last);
        let total = per_epoch * self.job.config.epochs;
        // Weights that gave the last finite loss, and the best ones so far.
        let mut good: Vec<Vec<f32>> = self.job.model.params().iter().map(|p| p.value.clone()).collect();
        let mut good_step: Option<(usize, f32)> = None;
        let mut best: Option<(f32, usize, Vec<Vec<f32>>)> = None;
        for epoch in progress.epoch..self.job.config.epochs {
            let t0 = Instant::now();
            let (mut loss_sum, mut correct, mut count) = (0.0f64, 0usize, 0usize);
            let skip = progress.step.saturating_sub(epoch * per_epoch);
            // The next batch is assembled and augmented while this step runs.
            let mut batches = Prefetch::epoch(Arc::clone(&self.job.train), &self.job.config, epoch, skip, progress.step).map_err(fail)?;
            let mut t = Instant::now();
            while let Some(batch) = batches.next_batch() {
                lap(&mut time.batches, &mut t);
                let batch = batch.map_err(fail)?;
                self.poll()?;
                if self.job.config.max_steps.is_some_and(|m| progress.step >= m) {
                    return Ok(StopReason::StepLimit);
                }
                let lr = self.job.config.schedule.lr_at(progress.step, total);
                let started = Instant::now();
                let here = || format!("step {} (epoch {})", progress.step + 1, epoch + 1);
                let out = self.job.model.train_step(&batch).map_err(|e| fail(format!("model failed at {}: {e}", here())))?;
                lap(&mut time.steps, &mut t);
                let loss = match &self.job.config.regularizer {
                    Some(r) => out.loss + r.apply(self.job.model.params_mut()),
                    None => out.loss,
                };
                let bad = if !loss.is_finite() {
                    Some(format!("loss became {loss}"))
                } else {
                    first_non_finite(self.job.model.params()).map(|n| format!("gradient or value of {n} became non-finite"))
                };
                if let Some(what) = bad {
                    restore(self.job.model.params_mut(), &good);
                    self.job.optimizer.reset();
                    let restored = match good_step {
                        Some((s, l)) => format!("weights restored to those of step {s} (loss {})", fmt_loss(l)),
                        None => "weights left as they were at the start".into(),
                    };
                    let message = format!("{what} at {}; {restored}", here());
                    return Ok(StopReason::Diverged { step: progress.step + 1, epoch: epoch + 1, message });
                }
                if let Some(max) = self.job.config.clip_norm {
                    clip_grad_norm(self.job.model.params_mut(), max);
                }
                for (g, p) in good.iter_mut().zip(self.job.model.params()) {
                    copy_values(g, &p.value);
                }
                good_step = Some((progress.step + 1, loss));
                self.job.optimizer.set_lr(lr);
                self.job.optimizer.step(self.job.model.params_mut()).map_err(|e| fail(format!("optimizer failed at {}: {e}", here())))?;
                lap(&mut time.updates, &mut t);
                progress.step += 1;
                loss_sum += loss as f64 * out.count as f64;
                correct += out.correct;
                count += out.count;
                if progress.step.is_multiple_of(self.job.config.log_every.max(1)) {
                    let seconds = started.elapsed().as_secs_f32();
                    self.send(Event::Step { step: progress.step, epoch: epoch + 1, loss, lr, seconds, samples: out.count });
                }
                batches.recycle(batch);
                t = Instant::now();
            }
            progress.epoch = epoch + 1;
            let mut t = Instant::now();
            let (val_loss, val_acc) = match self.job.val.clone() {
                Some(v) => {
                    let s = evaluate(self.job.model.as_mut(), &v, self.job.config.eval_batch_size).map_err(|e| fail(format!("evaluation failed: {e}")))?;
                    (Some(s.loss), Some(s.correct as f32 / s.count.max(1) as f32))
                }
                None => (None, None),
            };
            lap(&mut time.evaluation, &mut t);
            let m = EpochMetrics {
                epoch: epoch + 1,
                train_loss: (loss_sum / count.max(1) as f64) as f32,
                train_acc: correct as f32 / count.max(1) as f32,
                val_loss,
                val_acc,
                seconds: t0.elapsed().as_secs_f32(),
            };
            if let Some(c) = &mut csv {
                c.write(&m).map_err(fail)?;
            }
            history.push(m);
            self.send(Event::Epoch(m));
            if let Some(hook) = &mut self.job.samples
                && let Some(data) = hook(self.job.model.as_mut(), *progress)
            {
                self.send(Event::Samples { epoch: progress.epoch, step: progress.step, data });
            }
            if let Some(p) = &self.job.config.checkpoint {
                save_training(p, self.job.model.as_ref(), self.job.optimizer.as_ref(), *progress).map_err(|e| fail(format!("saving checkpoint: {e}")))?;
            }
            lap(&mut time.saving, &mut t);
            if let Some(es) = self.job.config.early_stopping {
                let monitored = m.val_loss.unwrap_or(m.train_loss);
                match &mut best {
                    Some((b, _, _)) if monitored > *b - es.min_delta => {}
                    _ => best = Some((monitored, m.epoch, super::model::snapshot(self.job.model.params()))),
                }
                if let Some((_, best_epoch, w)) = &best
                    && m.epoch - best_epoch >= es.patience
                {
                    restore(self.job.model.params_mut(), w);
                    return Ok(StopReason::EarlyStopped { best_epoch: *best_epoch });
                }
            }
        }
        if let Some((_, _, w)) = &best {
            restore(self.job.model.params_mut(), w);
        }
        Ok(StopReason::Finished)
    }
}

/// A loss for messages: plain for ordinary values, scientific for huge ones.
pub(crate) fn fmt_loss(l: f32) -> String {
    if l.abs() < 1e6 { format!("{l:.4}") } else { format!("{l:.3e}") }
}

#[cfg(test)]
#[path = "trainer_tests.rs"]
mod tests;

/// Mean loss and accuracy of `model` over `data` in evaluation mode.
pub fn evaluate(model: &mut dyn Model, data: &Dataset, batch_size: usize) -> Result<StepOutput, ModelError> {
    let (mut loss, mut correct, mut count) = (0.0f64, 0, 0);
    for b in data.ordered_batches(batch_size)? {
        let s = model.eval(&b)?;
        loss += s.loss as f64 * s.count as f64;
        correct += s.correct;
        count += s.count;
    }
    Ok(StepOutput { loss: (loss / count.max(1) as f64) as f32, correct, count })
}

/// Save weights, optimizer state and progress (`epoch`, `step` metadata).
pub fn save_training(path: &Path, model: &dyn Model, optimizer: &dyn Optimizer, progress: Progress) -> Result<(), CheckpointError> {
    let meta = BTreeMap::from([("epoch".to_string(), progress.epoch.to_string()), ("step".to_string(), progress.step.to_string())]);
    checkpoint::save(path, model.params(), Some(optimizer), &meta)
}

/// The progress stored by [`save_training`].
pub fn progress_of(ck: &Checkpoint) -> Result<Progress, CheckpointError> {
    let get = |k: &str| -> Result<usize, CheckpointError> {
        ck.meta.get(k).ok_or_else(|| CheckpointError::Format(format!("metadata lacks {k}")))?.parse().map_err(|e| CheckpointError::Format(format!("metadata {k}: {e}")))
    };
    Ok(Progress { epoch: get("epoch")?, step: get("step")? })
}
