//! Raster-order sampling as a background [`Job`], so drawing a 28x28 image (784
//! forward passes) never freezes the UI. The thread owns a copy of the model
//! and the canvases; the caller asks for more pixels and gets copies of the
//! [`Sampler`] back as it goes.

use std::time::{Duration, Instant};

use super::PixelCnnError;
use super::model::PixelCnn;
use super::net::PixelCnnShape;
use super::sample::Sampler;
use crate::job::{Ctx, Ended, Job, JobEvent};

/// How often a long request reports the canvases drawn so far.
const PROGRESS_EVERY: Duration = Duration::from_millis(60);

pub enum SampleEvent {
    /// The canvases part way through a request.
    Progress(Sampler),
    /// A request is done (or the samples are complete).
    Done(Sampler),
    Failed(String),
}

impl JobEvent for SampleEvent {
    fn ended(end: Ended) -> Option<Self> {
        end.error.map(SampleEvent::Failed)
    }
}

pub struct SampleWorker {
    job: Job<SampleEvent, usize>,
    in_flight: usize,
}

impl SampleWorker {
    /// Start sampling `sampler` with a model of `shape` holding `weights`
    /// (in the order of [`PixelCnn::params`]).
    pub fn spawn(shape: PixelCnnShape, weights: Vec<Vec<f32>>, sampler: Sampler) -> Result<SampleWorker, PixelCnnError> {
        let job = Job::start("pixelcnn-sampler", move |ctx: &mut Ctx<SampleEvent, usize>| {
            if let Err(e) = serve(shape, weights, sampler, ctx) {
                ctx.fail(e.to_string());
            }
        });
        Ok(SampleWorker { job: job.map_err(PixelCnnError::Input)?, in_flight: 0 })
    }

    /// Draw `pixels` more pixels of every sample (`usize::MAX`: all of them).
    pub fn request(&mut self, pixels: usize) {
        self.job.set(pixels);
        self.in_flight += 1;
    }

    /// Requests sent and not yet done.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Everything the thread sent since the last call.
    pub fn poll(&mut self) -> Vec<SampleEvent> {
        let events: Vec<SampleEvent> = self.job.events().try_iter().collect();
        for e in &events {
            match e {
                SampleEvent::Done(_) => self.in_flight = self.in_flight.saturating_sub(1),
                SampleEvent::Failed(_) => self.in_flight = 0,
                SampleEvent::Progress(_) => {}
            }
        }
        events
    }
}

fn serve(shape: PixelCnnShape, weights: Vec<Vec<f32>>, mut sampler: Sampler, ctx: &mut Ctx<SampleEvent, usize>) -> Result<(), PixelCnnError> {
    let mut model = PixelCnn::new(shape, 0)?;
    for (p, w) in model.params_mut().iter_mut().zip(weights) {
        if p.value.len() != w.len() {
            return Err(PixelCnnError::Input(format!("weights of {} hold {} values, the model needs {}", p.name, w.len(), p.value.len())));
        }
        p.value = w;
    }
    // Ends when the owner is dropped (a stop).
    while let Some(pixels) = ctx.wait() {
        let mut reported = Instant::now();
        for _ in 0..pixels {
            if ctx.stopped() || !sampler.step(&mut model)? {
                break;
            }
            if reported.elapsed() >= PROGRESS_EVERY {
                reported = Instant::now();
                ctx.send(SampleEvent::Progress(sampler.clone()));
            }
        }
        if !ctx.stopped() {
            ctx.send(SampleEvent::Done(sampler.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The thread draws the same pixels as stepping on the caller's thread.
    #[test]
    fn sampling_on_the_thread_matches_stepping_here() {
        let shape = PixelCnnShape { side: 5, channels: 4, layers: 1 };
        let mut model = PixelCnn::new(shape.clone(), 3).unwrap();
        let weights: Vec<Vec<f32>> = model.params().iter().map(|p| p.value.clone()).collect();
        let mut here = Sampler::new(3, 5, 7).unwrap();
        let mut w = SampleWorker::spawn(shape, weights, here.clone()).unwrap();
        w.request(4);
        w.request(usize::MAX);
        let mut last = None;
        let started = Instant::now();
        while w.in_flight() > 0 && started.elapsed() < Duration::from_secs(60) {
            for e in w.poll() {
                match e {
                    SampleEvent::Done(s) | SampleEvent::Progress(s) => last = Some(s),
                    SampleEvent::Failed(e) => panic!("{e}"),
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let there = last.expect("the thread answered");
        assert!(there.done());
        here.finish(&mut model).unwrap();
        assert_eq!(there.canvas(), here.canvas());
        assert_eq!(there.last_probs(), here.last_probs());
    }
}
