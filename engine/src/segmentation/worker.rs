//! A [`SegTrainer`] as a background [`Job`]: step and epoch events, the
//! predictions of the first validation images and (for an image + mask
//! pair) of the whole image after every epoch; pause, resume, stop in.

use crate::job::{Ctx, Ended, Job, JobEvent};

use super::SegError;
use super::train::{EpochReport, Flow, Prediction, SegTrainer, StepReport};

#[derive(Debug)]
pub enum SegEvent {
    Step(StepReport),
    Epoch(EpochReport),
    Predictions(Vec<Prediction>),
    /// The whole image's prediction (only when spawned with one).
    Whole(Prediction),
    /// The run ended: all epochs done (`error: None`, `stopped: false`),
    /// stopped on request, or failed.
    Done {
        stopped: bool,
        error: Option<String>,
    },
}

impl JobEvent for SegEvent {
    fn ended(end: Ended) -> Option<Self> {
        Some(SegEvent::Done { stopped: end.stopped, error: end.error })
    }
}

/// The job; `join` gives the trainer back.
pub type SegWorker = Job<SegEvent, (), SegTrainer>;

impl SegWorker {
    /// Start training; after each epoch the first `shown` validation images
    /// are predicted and sent.
    pub fn spawn(trainer: SegTrainer, shown: usize) -> Result<Self, SegError> {
        Self::spawn_with_whole(trainer, shown, None)
    }

    /// As [`SegWorker::spawn`], also predicting `whole` (a one-image set of
    /// any size at least the training crops') after every epoch.
    pub fn spawn_with_whole(mut trainer: SegTrainer, shown: usize, whole: Option<std::sync::Arc<super::SegSet>>) -> Result<Self, SegError> {
        let job = Job::start("vislab-segment", move |ctx: &mut Ctx<SegEvent, ()>| {
            if let Err(e) = epochs(&mut trainer, ctx, shown, whole.as_deref()) {
                ctx.fail(e.to_string());
            }
            trainer
        });
        job.map_err(SegError::Input)
    }
}

fn epochs(trainer: &mut SegTrainer, ctx: &mut Ctx<SegEvent, ()>, shown: usize, whole: Option<&super::SegSet>) -> Result<(), SegError> {
    while !trainer.done() && !ctx.stopped() {
        let t0 = std::time::Instant::now();
        let loss = trainer.train_epoch(|_, r| {
            ctx.send(SegEvent::Step(r));
            if ctx.go_on() { Flow::Continue } else { Flow::Stop }
        })?;
        let Some(train_loss) = loss else { break };
        let confusion = trainer.evaluate()?;
        let preds = trainer.predict_val(shown)?;
        ctx.send(SegEvent::Epoch(EpochReport { epoch: trainer.epoch(), train_loss, confusion, seconds: t0.elapsed().as_secs_f64() }));
        ctx.send(SegEvent::Predictions(preds));
        // The whole image takes longer than the held-out tiles: skip it
        // once stopping was asked for.
        if let Some(img) = whole
            && ctx.go_on()
        {
            ctx.send(SegEvent::Whole(trainer.predict_whole(img)?));
        }
    }
    Ok(())
}
