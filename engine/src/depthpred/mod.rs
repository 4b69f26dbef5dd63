//! Monocular depth prediction on synthetic scenes (Eigen, Puhrsch and
//! Fergus 2014, shrunk): a network sees one shaded image and predicts the
//! depth of every pixel.
//!
//! - [`render`]: a seeded CPU ray caster (spheres, boxes, meshes on a ground
//!   plane; Lambert shading with shadows) giving an image and its depth.
//! - [`data`]: [`DepthSet`], random arrangements seen from random poses.
//! - [`net`]: the segmentation U-Net with one output, read as log depth,
//!   trained with the scale-invariant log loss.
//! - [`metrics`]: scale-invariant error, abs rel, RMSE, delta < 1.25.
//! - [`train`]: Adam, held-out metrics per epoch, the mean-depth baseline.
//! - [`worker`]: the trainer on the shared epoch worker thread.

pub mod data;
pub mod metrics;
pub mod net;
pub mod render;
pub mod train;
pub mod worker;

pub use data::{DepthSet, Objects, SynthConfig};
pub use metrics::DepthMetrics;
pub use net::{DepthModel, DepthNetShape};
pub use train::{DepthTrainConfig, DepthTrainer, EpochReport, Prediction, StepReport};
pub use worker::{DepthEvent, DepthWorker, ViewHook};

use crate::error::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum DepthError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    #[error("{0}")]
    Input(String),
    #[error("training diverged: {0}")]
    Diverged(String),
}
