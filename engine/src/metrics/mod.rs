//! Evaluation metrics: distances between 3D shapes (Chamfer, F-score,
//! normal consistency), voxel IoU, COCO detection mAP, and segmentation IoU.
//!
//! Conventions (also written into the JSON `vislab metrics` prints):
//! - Chamfer distance follows PyTorch3D's `chamfer_distance` defaults: for each
//!   direction, the mean over points of the squared distance to the nearest
//!   point of the other set; the two directions are summed.
//! - F-score and normal consistency follow Mesh R-CNN's `compare_meshes`:
//!   10,000 points sampled per mesh (point clouds used as they are), both sets
//!   scaled so the ground truth's longest bounding-box edge is 10, a point
//!   counts when its nearest neighbour is strictly closer than the threshold.
//!   Precision, recall and F1 are fractions in [0, 1] (Mesh R-CNN prints percent).
//! - Voxel IoU counts a voxel as occupied when its value is at least 0.5.

pub mod classification;
pub mod coco;
pub mod compare;
pub mod frechet;
pub mod kdtree;
pub mod segmentation;
pub mod shape;
pub mod voxel;

pub use classification::{Confusion, Histogram};
pub use compare::{Comparison, compare};
pub use frechet::{Gaussian, frechet_distance};
pub use kdtree::KdTree;
pub use segmentation::PixelConfusion;
pub use shape::{Chamfer, FScore, Neighbours, ShapePoints, chamfer, fscore, normal_consistency, to_point_cloud};
pub use voxel::{VoxelIou, voxel_iou};

/// Why a metric could not be computed: one line naming the input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    #[error("{0} has no points")]
    Empty(&'static str),
    #[error("{what} has a non-finite value at point {index}")]
    NonFinite { what: &'static str, index: usize },
    #[error("{0} has no normals (normal consistency needs a mesh or a point cloud with normals)")]
    NoNormals(&'static str),
    #[error("{what}: {detail}")]
    Unsupported { what: &'static str, detail: String },
    #[error("voxel grids differ in size: {a:?} vs {b:?}")]
    DimsMismatch { a: [usize; 3], b: [usize; 3] },
    #[error("{0}")]
    Invalid(String),
    #[error("COCO: {0}")]
    Coco(String),
}
