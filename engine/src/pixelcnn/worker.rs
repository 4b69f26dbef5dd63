//! A [`PixelCnnTrainer`] on its own thread (the shared epoch worker); its
//! views are whatever the caller wants (a copy of the weights to sample from).

use std::time::Instant;

use super::PixelCnnError;
use super::train::{EpochReport, PixelCnnTrainer, StepReport};
use crate::train::epoch_worker::{self, EpochTrainer, EpochWorker, WorkerEvent};
use crate::vae::Flow;

impl EpochTrainer for PixelCnnTrainer {
    type Step = StepReport;
    type Epoch = EpochReport;
    type Error = PixelCnnError;
    const NAME: &'static str = "vislab-pixelcnn";

    fn done(&self) -> bool {
        PixelCnnTrainer::done(self)
    }

    fn step_of(r: &StepReport) -> usize {
        r.step
    }

    fn run_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, StepReport) -> Flow) -> Result<Option<EpochReport>, PixelCnnError> {
        let t0 = Instant::now();
        let Some(train_nll) = self.train_epoch(on_step)? else { return Ok(None) };
        Ok(Some(EpochReport { epoch: self.epoch(), train_nll, test_nll: self.evaluate_test()?, seconds: t0.elapsed().as_secs_f64() }))
    }
}

pub type PixelCnnWorker<S> = EpochWorker<PixelCnnTrainer, S>;
pub type PixelCnnEvent<S> = WorkerEvent<StepReport, EpochReport, S>;
pub type ViewHook<S> = epoch_worker::ViewHook<PixelCnnTrainer, S>;
