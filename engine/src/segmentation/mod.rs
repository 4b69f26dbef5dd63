//! Semantic segmentation: per-pixel class labels with instance ids.
//!
//! - [`data`]: [`SegSet`] (images, class maps, instance maps, which classes
//!   are things and which stuff), a seeded synthetic shapes set, and an
//!   image + label mask pair read from files, cut into training crops and a
//!   held-out strip.
//! - [`components`]: connected components of a class map.
//! - [`net`]: a small U-Net (two downsampling stages, transposed-conv
//!   upsampling, skip connections by channel concatenation).
//! - [`train`]: Adam on the per-pixel cross-entropy, validation IoU per epoch.
//! - [`worker`]: the trainer on a thread that can be paused and stopped.
//!
//! The metrics (confusion, per-class IoU, mean IoU, pixel accuracy) live in
//! [`crate::metrics::segmentation`].

pub mod components;
pub mod data;
pub mod net;
pub mod train;
pub mod worker;

pub use components::{Components, Connectivity, components};
pub use data::{ClassInfo, SegSet, SynthConfig};
pub use net::{SegModel, UNetShape};
pub use train::{EpochReport, Flow, Prediction, SegTrainConfig, SegTrainer, StepReport};
pub use worker::{SegEvent, SegWorker};

use crate::error::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum SegError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    #[error("{0}")]
    Input(String),
    #[error("training diverged: {0}")]
    Diverged(String),
}
