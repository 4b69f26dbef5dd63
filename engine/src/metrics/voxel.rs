//! Intersection over union of two occupancy grids.

use super::MetricsError;
use crate::geometry::VoxelGrid;

/// A voxel is occupied when its value is at least this.
pub const OCCUPIED_AT: f32 = 0.5;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VoxelIou {
    pub iou: f64,
    /// Voxels occupied in both grids.
    pub intersection: usize,
    /// Voxels occupied in either grid.
    pub union: usize,
}

/// IoU of the occupied voxels of two grids of the same dimensions (voxels
/// are compared by index; origins and voxel sizes are not used). Errors on
/// different dimensions, non-finite values, and when neither grid has an
/// occupied voxel (IoU is then undefined).
pub fn voxel_iou(a: &VoxelGrid, b: &VoxelGrid) -> Result<VoxelIou, MetricsError> {
    if a.dims != b.dims {
        return Err(MetricsError::DimsMismatch { a: a.dims, b: b.dims });
    }
    for (grid, what) in [(a, "first grid"), (b, "second grid")] {
        let expected = grid.dims.iter().product::<usize>();
        if grid.values.len() != expected {
            return Err(MetricsError::Invalid(format!("{what} holds {} values but its dimensions {:?} need {expected}", grid.values.len(), grid.dims)));
        }
        if let Some(index) = grid.values.iter().position(|v| !v.is_finite()) {
            return Err(MetricsError::NonFinite { what, index });
        }
    }
    let (mut intersection, mut union) = (0, 0);
    for (&x, &y) in a.values.iter().zip(&b.values) {
        let (x, y) = (x >= OCCUPIED_AT, y >= OCCUPIED_AT);
        intersection += (x && y) as usize;
        union += (x || y) as usize;
    }
    if union == 0 {
        return Err(MetricsError::Invalid("both voxel grids are empty: IoU is undefined".into()));
    }
    Ok(VoxelIou { iou: intersection as f64 / union as f64, intersection, union })
}
