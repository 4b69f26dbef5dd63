//! 3-D shape classification on a built-in synthetic set: a PointNet on
//! point clouds and a voxel CNN on occupancy grids of the same shapes,
//! trained with softmax cross-entropy and Adam by the shared trainer.
//!
//! - [`data`]: primitive shapes (sphere, cube, cylinder, cone, torus,
//!   pyramid) under random scale, rotation and jitter; points and voxels.
//! - [`nets`]: [`PointNet`], [`VoxelCnn`] and PointNet's critical points.

pub mod data;
pub mod nets;

pub use data::{ShapeClass, ShapeSample, ShapeSet, ShapeSetConfig, Split, class_names};
pub use nets::{POINT_FEATURES, PointNet, VoxelCnn, critical_points};

use std::sync::Arc;

use crate::data::Dataset;
use crate::models::GraphModel;
use crate::optim::{Adam, Schedule};
use crate::train::{Job, TrainConfig};

#[derive(Debug, thiserror::Error)]
pub enum Shapes3dError {
    #[error("{0}")]
    Config(String),
    #[error("generation cancelled")]
    Cancelled,
    #[error(transparent)]
    Convert(#[from] crate::geometry::ConvertError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Models(#[from] crate::models::ModelsError),
}

/// Which network classifies the shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    PointNet,
    VoxelCnn,
}

impl ModelKind {
    pub fn title(self) -> &'static str {
        match self {
            ModelKind::PointNet => "PointNet (points)",
            ModelKind::VoxelCnn => "Voxel CNN (occupancy)",
        }
    }
}

/// How a run trains.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapesTrainConfig {
    pub model: ModelKind,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    /// Weights and batch order.
    pub seed: u64,
    pub batch_norm: bool,
}

impl Default for ShapesTrainConfig {
    fn default() -> Self {
        ShapesTrainConfig { model: ModelKind::PointNet, epochs: 8, batch_size: 16, lr: 3e-3, seed: 0, batch_norm: true }
    }
}

/// The network of `config` for `set`, initialized from the seed.
pub fn build_model(set: &ShapeSet, config: &ShapesTrainConfig) -> Result<GraphModel, Shapes3dError> {
    let classes = ShapeClass::ALL.len();
    Ok(match config.model {
        ModelKind::PointNet => PointNet { batch_norm: config.batch_norm, ..PointNet::new(set.config.points, classes) }.model(config.seed)?,
        ModelKind::VoxelCnn => VoxelCnn { batch_norm: config.batch_norm, ..VoxelCnn::new(set.config.resolution, classes) }.model(config.seed)?,
    })
}

/// The training and held-out datasets the model of `kind` reads.
pub fn datasets(set: &ShapeSet, kind: ModelKind) -> Result<(Arc<Dataset>, Arc<Dataset>), Shapes3dError> {
    Ok(match kind {
        ModelKind::PointNet => (set.point_dataset(Split::Train)?, set.point_dataset(Split::HeldOut)?),
        ModelKind::VoxelCnn => (set.voxel_dataset(Split::Train)?, set.voxel_dataset(Split::HeldOut)?),
    })
}

/// A trainer job: Adam at a constant rate, evaluated on the held-out
/// shapes after every epoch.
pub fn job(set: &ShapeSet, config: &ShapesTrainConfig) -> Result<Job, Shapes3dError> {
    if config.epochs == 0 || config.batch_size == 0 {
        return Err(Shapes3dError::Config("epochs and batch size must be at least 1".into()));
    }
    if !(config.lr.is_finite() && config.lr > 0.0) {
        return Err(Shapes3dError::Config(format!("learning rate {} must be positive", config.lr)));
    }
    let model = build_model(set, config)?;
    let (train, held_out) = datasets(set, config.model)?;
    let mut tc = TrainConfig::new(config.epochs, config.batch_size, Schedule::constant(config.lr));
    tc.seed = config.seed;
    tc.eval_batch_size = 64;
    Ok(Job::new(Box::new(model), Box::new(Adam::new(config.lr)), train, tc).validate_on(held_out))
}
