//! Implicit surfaces: an occupancy network (Mescheder et al. 2019), an MLP
//! from a 3D point to P(inside), fitted to one mesh by sampling labelled
//! points, and its level set at 1/2 extracted with marching cubes.
//!
//! - [`inside`]: inside / outside of a mesh (generalized winding number,
//!   solid voxels for very large meshes).
//! - [`data`]: the unit-box frame, training points (uniform + near the
//!   surface), grids, slices and the true outline on a slice.
//! - [`net`]: the network (Fourier features, graph MLP, BCE with logits).
//! - [`train`]: seeded fitting with Adam, IoU on a fixed grid, extraction.
//! - [`worker`]: the same on a thread with pause / resume / stop.

pub mod data;
pub mod inside;
pub mod net;
pub mod train;
pub mod worker;

pub use data::{BOX_HALF, PointSet, SampleConfig};
pub use inside::Solid;
pub use net::{NetShape, OccupancyNet};
pub use train::{Evaluation, FitConfig, OccupancyFit};
pub use worker::{FitEvent, FitWorker};

use crate::error::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum ImplicitError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    #[error(transparent)]
    Convert(#[from] crate::geometry::ConvertError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    #[error("{0}")]
    Input(String),
    #[error("training diverged: {0}")]
    Diverged(String),
}

#[cfg(test)]
mod tests;
