//! A [`DeformFit`] built and trained as a background [`Job`]: events out;
//! pause / resume / stop and new loss weights (used from the next step) in.

use crate::geometry::Mesh;
use crate::job::{Ctx, Ended, Job, JobEvent};

use super::GcnError;
use super::loss::{LossWeights, Terms};
use super::train::{DeformConfig, DeformFit, Snapshot};

#[derive(Debug)]
pub enum DeformEvent {
    /// The network is compiled; the start mesh and the normalized target.
    Ready {
        start: Box<Mesh>,
        target: Box<Mesh>,
        params: usize,
        seconds: f64,
    },
    Step {
        step: usize,
        terms: Terms,
        seconds: f64,
    },
    /// Positions, features and the Chamfer metric: before the first step,
    /// every `every` steps and at the end.
    Snapshot(Box<Snapshot>),
    /// The run ended: every step done, stopped on request, or failed.
    Done {
        stopped: bool,
        error: Option<String>,
    },
}

impl JobEvent for DeformEvent {
    fn ended(end: Ended) -> Option<Self> {
        Some(DeformEvent::Done { stopped: end.stopped, error: end.error })
    }
}

/// The job, with new loss weights as its parameter; `join` gives the fit
/// back (None if it failed to start).
pub type DeformWorker = Job<DeformEvent, LossWeights, Option<DeformFit>>;

impl DeformWorker {
    /// Start fitting `target` (any units: it is normalized on the thread).
    pub fn spawn(target: Mesh, config: DeformConfig, every: usize) -> Result<DeformWorker, GcnError> {
        let job = Job::start("vislab-gcn", move |ctx: &mut Ctx<DeformEvent, LossWeights>| {
            let t0 = std::time::Instant::now();
            let mut fit = match DeformFit::new(&target, config) {
                Ok(f) => f,
                Err(e) => {
                    ctx.fail(e.to_string());
                    return None;
                }
            };
            let params = config.net.params();
            ctx.send(DeformEvent::Ready { start: Box::new(fit.start().clone()), target: Box::new(fit.target().clone()), params, seconds: t0.elapsed().as_secs_f64() });
            if let Err(e) = steps(&mut fit, ctx, every.max(1)) {
                ctx.fail(e.to_string());
            }
            Some(fit)
        });
        job.map_err(GcnError::Input)
    }

    /// Loss weights from the next step on.
    pub fn set_weights(&self, w: LossWeights) {
        self.set(w);
    }
}

fn steps(fit: &mut DeformFit, ctx: &mut Ctx<DeformEvent, LossWeights>, every: usize) -> Result<(), GcnError> {
    ctx.send(DeformEvent::Snapshot(Box::new(fit.snapshot()?)));
    while !fit.done() && ctx.go_on() {
        while let Some(w) = ctx.next_set() {
            fit.set_weights(w)?;
        }
        let t = std::time::Instant::now();
        let terms = fit.train_step()?;
        ctx.send(DeformEvent::Step { step: fit.step(), terms, seconds: t.elapsed().as_secs_f64() });
        if fit.step().is_multiple_of(every) || fit.done() {
            ctx.send(DeformEvent::Snapshot(Box::new(fit.snapshot()?)));
        }
    }
    Ok(())
}
