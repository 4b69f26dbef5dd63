//! A [`VaeTrainer`] on its own thread (the shared epoch worker); its views
//! are whatever the caller wants to display (codes, decoded images, weights).

use std::time::Instant;

use super::VaeError;
use super::train::{EpochReport, Flow, StepReport, VaeTrainer};
use crate::train::epoch_worker::{self, EpochTrainer, EpochWorker, WorkerEvent};

impl EpochTrainer for VaeTrainer {
    type Step = StepReport;
    type Epoch = EpochReport;
    type Error = VaeError;
    const NAME: &'static str = "vislab-vae";

    fn done(&self) -> bool {
        VaeTrainer::done(self)
    }

    fn step_of(r: &StepReport) -> usize {
        r.step
    }

    fn run_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, StepReport) -> Flow) -> Result<Option<EpochReport>, VaeError> {
        let t0 = Instant::now();
        let Some(train) = self.train_epoch(on_step)? else { return Ok(None) };
        Ok(Some(EpochReport { epoch: self.epoch(), train, test: self.evaluate_test()?, seconds: t0.elapsed().as_secs_f64() }))
    }
}

pub type VaeWorker<S> = EpochWorker<VaeTrainer, S>;
pub type VaeEvent<S> = WorkerEvent<StepReport, EpochReport, S>;
pub type ViewHook<S> = epoch_worker::ViewHook<VaeTrainer, S>;
