//! Graph convolution on a mesh's vertex graph, and mesh deformation with it
//! (Pixel2Mesh / Mesh R-CNN's mesh head, reduced to one shape): start from an
//! icosphere and let a GCN predict per-vertex offsets that fit a target mesh.
//!
//! A GCN layer is the course's `f'_i = W0 f_i + sum_{j in N(i)} W1 f_j` (+ a
//! bias), written as `X W0^T + (A X) W1^T` with the dense 0/1 adjacency `A`
//! in ordinary graph ops, so autograd differentiates it; the losses are graph
//! ops too:
//! - Chamfer (PyTorch3D's convention: per direction the mean squared
//!   nearest-neighbour distance, both summed) between the predicted mesh's
//!   vertices and points sampled from the target. Matches are found outside
//!   the graph with the k-d tree each step and fed in as inputs, so the loss
//!   is differentiable in the positions (piecewise, like PyTorch3D's).
//! - Edge length: mean over edges of the squared length (PyTorch3D's
//!   `mesh_edge_loss` with target length 0).
//! - Laplacian smoothing: mean over vertices of `|p_i - mean of neighbours|`,
//!   the uniform Laplacian `L = I - D^-1 A` (PyTorch3D's "uniform" method).
//! - Normal consistency: mean over interior edges of `1 - cos` of the normals
//!   of the two faces sharing the edge (PyTorch3D's `mesh_normal_consistency`).
//!
//! - [`graph`]: the vertex graph of a mesh (neighbours, edges, face pairs).
//! - [`layer`]: the GCN layer.
//! - [`loss`]: the loss terms as graph ops, and the nearest-neighbour matches.
//! - [`net`]: the deformation network compiled with its losses.
//! - [`train`]: seeded fitting with Adam and the engine's Chamfer metric.
//! - [`worker`]: the same on a thread with pause / resume / stop / weights.

pub mod graph;
pub mod layer;
pub mod loss;
pub mod net;
pub mod train;
pub mod worker;

pub use graph::VertexGraph;
pub use layer::GcnLayer;
pub use loss::{LossWeights, Matches, Terms};
pub use net::{DeformNet, NetShape};
pub use train::{DeformConfig, DeformFit, Snapshot, normalize};
pub use worker::{DeformEvent, DeformWorker};

use crate::error::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum GcnError {
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

#[cfg(test)]
mod tests;
