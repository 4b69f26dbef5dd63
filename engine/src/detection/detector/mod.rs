//! A small single-stage box detector trained on synthetic shapes:
//! - [`data`]: the seeded shapes set with exact boxes;
//! - [`anchors`]: the anchor grid, box encoding, anchor-object matching;
//! - [`net`]: the CNN, its head and its three-term loss;
//! - [`decode`]: raw outputs to detections (threshold, NMS) and COCO mAP;
//! - [`saved`]: the command line's sets, checkpoints and export bundle;
//! - [`train`]: Adam over seeded batches, mAP on held-out images per
//!   epoch, and the epoch worker that runs it on a thread.

pub mod anchors;
pub mod data;
pub mod decode;
pub mod net;
pub mod saved;
pub mod train;

pub use anchors::{AnchorGrid, MatchConfig, Targets, assign, decode as decode_box, encode};
pub use data::{CLASSES, DetSet};
pub use decode::{DecodeConfig, detections, evaluate};
pub use net::{DetectorModel, DetectorShape, GRID, LossTerms};
pub use train::{DetEpoch, DetStep, DetTrainConfig, DetTrainer, DetWorker};

use crate::error::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Segmentation(#[from] crate::segmentation::SegError),
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    #[error("{0}")]
    Input(String),
    #[error("training diverged: {0}")]
    Diverged(String),
}
