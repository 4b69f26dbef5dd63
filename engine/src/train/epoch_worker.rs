//! A trainer that runs epoch by epoch (the VAE's, the PixelCNN's, the
//! detector's...) as a background [`Job`]: step, epoch and view events out,
//! pause / resume / stop in. A `view` callback runs on the thread every
//! `view_every` steps and after every epoch, producing whatever the caller
//! wants to display.

use crate::job::{Ctx, Ended, Job, JobEvent};
use crate::vae::Flow;

/// What the worker needs from a trainer.
pub trait EpochTrainer: Send + 'static {
    type Step: Copy + Send + 'static;
    type Epoch: Send + 'static;
    type Error: std::fmt::Display;
    /// Thread name, for debuggers and panics.
    const NAME: &'static str;
    fn done(&self) -> bool;
    /// The step count a step report carries (views run on its multiples).
    fn step_of(step: &Self::Step) -> usize;
    /// One epoch with `on_step` after every step, then its report (with the
    /// test figures and `seconds` of wall time); None when stopped part way.
    fn run_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, Self::Step) -> Flow) -> Result<Option<Self::Epoch>, Self::Error>;
}

#[derive(Debug)]
pub enum WorkerEvent<P, E, S> {
    Step(P),
    Epoch(E),
    View(S),
    /// The run ended: all epochs done (`error: None`, `stopped: false`),
    /// stopped on request, or failed.
    Done {
        stopped: bool,
        error: Option<String>,
    },
}

impl<P: Send + 'static, E: Send + 'static, S: Send + 'static> JobEvent for WorkerEvent<P, E, S> {
    fn ended(end: Ended) -> Option<Self> {
        Some(WorkerEvent::Done { stopped: end.stopped, error: end.error })
    }
}

/// The events of a worker over trainer `T` with views `S`.
pub type EventOf<T, S> = WorkerEvent<<T as EpochTrainer>::Step, <T as EpochTrainer>::Epoch, S>;

pub type ViewHook<T, S> = Box<dyn FnMut(&mut T) -> Option<S> + Send>;

/// The job; `join` gives the trainer back.
pub type EpochWorker<T, S> = Job<EventOf<T, S>, (), T>;

impl<T: EpochTrainer, S: Send + 'static> EpochWorker<T, S> {
    pub fn spawn(mut trainer: T, mut view: ViewHook<T, S>, view_every: usize) -> Result<Self, String> {
        let every = view_every.max(1);
        Job::start(T::NAME, move |ctx: &mut Ctx<EventOf<T, S>, ()>| {
            while !trainer.done() && !ctx.stopped() {
                let report = trainer.run_epoch(&mut |t, r| {
                    ctx.send(WorkerEvent::Step(r));
                    if T::step_of(&r).is_multiple_of(every)
                        && let Some(s) = view(t)
                    {
                        ctx.send(WorkerEvent::View(s));
                    }
                    if ctx.go_on() { Flow::Continue } else { Flow::Stop }
                });
                match report {
                    Ok(Some(r)) => {
                        ctx.send(WorkerEvent::Epoch(r));
                        if let Some(s) = view(&mut trainer) {
                            ctx.send(WorkerEvent::View(s));
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        ctx.fail(e.to_string());
                        break;
                    }
                }
            }
            trainer
        })
    }
}
