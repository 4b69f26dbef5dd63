//! An [`OccupancyFit`] built and trained as a background [`Job`]: labelling the
//! points, training and marching cubes all happen there, events come out
//! through a channel, pause / resume / stop / resolution go in.

use crate::geometry::Mesh;
use crate::job::{Ctx, Ended, Job, JobEvent};

use super::ImplicitError;
use super::train::{Evaluation, FitConfig, OccupancyFit};

#[derive(Debug)]
pub enum FitEvent {
    /// The points are labelled and the network compiled.
    Ready {
        points: usize,
        inside_fraction: f64,
        test: String,
        seconds: f64,
    },
    Step {
        step: usize,
        loss: f64,
        seconds: f64,
    },
    /// IoU and the extracted surface, every `eval_every` steps and at the end.
    Eval(Box<Evaluation>),
    /// The run ended: every step done, stopped on request, or failed.
    Done {
        stopped: bool,
        error: Option<String>,
    },
}

impl JobEvent for FitEvent {
    fn ended(end: Ended) -> Option<Self> {
        Some(FitEvent::Done { stopped: end.stopped, error: end.error })
    }
}

/// The job, with a new marching-cubes resolution as its parameter; `join`
/// gives the fit back (None if it failed to start).
pub type FitWorker = Job<FitEvent, usize, Option<OccupancyFit>>;

impl FitWorker {
    /// Start fitting `target` (any units: it is normalized on the thread),
    /// evaluating every `eval_every` steps with marching cubes at `resolution`.
    pub fn spawn(target: Mesh, config: FitConfig, eval_every: usize, resolution: usize) -> Result<FitWorker, ImplicitError> {
        let job = Job::start("vislab-implicit", move |ctx: &mut Ctx<FitEvent, usize>| {
            let t0 = std::time::Instant::now();
            let mut fit = match OccupancyFit::new(&target, config) {
                Ok(f) => f,
                Err(e) => {
                    ctx.fail(e.to_string());
                    return None;
                }
            };
            let p = fit.points();
            ctx.send(FitEvent::Ready { points: p.len(), inside_fraction: p.inside_fraction(), test: fit.solid().test_name(), seconds: t0.elapsed().as_secs_f64() });
            if let Err(e) = steps(&mut fit, ctx, eval_every.max(1), resolution) {
                ctx.fail(e.to_string());
            }
            Some(fit)
        });
        job.map_err(ImplicitError::Input)
    }

    /// Marching-cubes resolution for the next evaluations.
    pub fn set_resolution(&self, resolution: usize) {
        self.set(resolution);
    }
}

fn steps(fit: &mut OccupancyFit, ctx: &mut Ctx<FitEvent, usize>, every: usize, mut resolution: usize) -> Result<(), ImplicitError> {
    while !fit.done() && ctx.go_on() {
        while let Some(r) = ctx.next_set() {
            resolution = r;
        }
        let t = std::time::Instant::now();
        let loss = fit.train_step()?;
        ctx.send(FitEvent::Step { step: fit.step(), loss, seconds: t.elapsed().as_secs_f64() });
        if fit.step().is_multiple_of(every) || fit.done() {
            ctx.send(FitEvent::Eval(Box::new(fit.evaluate(resolution)?)));
        }
    }
    Ok(())
}
