//! A [`DepthTrainer`] on its own thread (the shared epoch worker); its
//! views are whatever the caller wants to display (held-out predictions).

use super::DepthError;
use super::train::{DepthTrainer, EpochReport, StepReport};
use crate::train::epoch_worker::{self, EpochTrainer, EpochWorker, WorkerEvent};
use crate::vae::Flow;

impl EpochTrainer for DepthTrainer {
    type Step = StepReport;
    type Epoch = EpochReport;
    type Error = DepthError;
    const NAME: &'static str = "vislab-depthpred";

    fn done(&self) -> bool {
        DepthTrainer::done(self)
    }

    fn step_of(r: &StepReport) -> usize {
        r.step
    }

    fn run_epoch(&mut self, on_step: &mut dyn FnMut(&mut Self, StepReport) -> Flow) -> Result<Option<EpochReport>, DepthError> {
        DepthTrainer::run_epoch(self, on_step)
    }
}

pub type DepthWorker<S> = EpochWorker<DepthTrainer, S>;
pub type DepthEvent<S> = WorkerEvent<StepReport, EpochReport, S>;
pub type ViewHook<S> = epoch_worker::ViewHook<DepthTrainer, S>;
