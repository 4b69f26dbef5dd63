//! All shape metrics between two assets of any kind at once, with the
//! per-point distances a viewer colours points by.

use super::MetricsError;
use super::shape::{Chamfer, DEFAULT_SAMPLES, DEFAULT_THRESHOLDS, FScore, Neighbours, gt_scale, to_point_cloud};
use super::voxel::{VoxelIou, voxel_iou};
use crate::geometry::{Aabb, Asset, Fill, GridSpec, PointCloud, VoxelGrid, mesh_to_voxels, points_to_voxels, voxels_to_mesh};

/// Voxels per longest edge of the common grid two non-voxel shapes are
/// voxelized on for IoU.
pub const IOU_RESOLUTION: usize = 32;

/// Every metric of `a` (the prediction) against `b` (the ground truth).
#[derive(Clone, Debug)]
pub struct Comparison {
    pub chamfer: Chamfer,
    /// At `DEFAULT_THRESHOLDS`, scaled so `b`'s longest edge is 10.
    pub fscores: Vec<FScore>,
    /// `None` when a side has no normals.
    pub normal_consistency: Option<f64>,
    /// Voxel IoU, or why it could not be computed.
    pub voxel_iou: Result<VoxelIou, MetricsError>,
    /// The points of `a` the distances were measured from, with scalar
    /// "distance to B" (not squared); likewise `b_points`.
    pub a_points: PointCloud,
    pub b_points: PointCloud,
}

/// Compare two assets. Meshes are sampled (`DEFAULT_SAMPLES` points, `seed`),
/// point clouds used as they are, depth maps back-projected, voxel grids
/// turned into their cubified surface and sampled. Voxel IoU compares two
/// grids of equal dimensions directly; anything else is voxelized on one grid
/// fitted to both (solid fill, or surface occupancy when either side is a
/// point cloud or depth map, which have no inside).
pub fn compare(a: &Asset, b: &Asset, seed: u64) -> Result<Comparison, MetricsError> {
    let pa = to_point_cloud(surface_of(a, "first shape")?, DEFAULT_SAMPLES, seed, "first shape")?;
    let pb = to_point_cloud(surface_of(b, "second shape")?, DEFAULT_SAMPLES, seed.wrapping_add(1), "second shape")?;
    let nn = Neighbours::find(&pa.cloud.positions, &pb.cloud.positions)?;
    let fscores = nn.fscore(gt_scale(&pb.bounds)?, &DEFAULT_THRESHOLDS);
    let normal_consistency = match (&pa.cloud.normals, &pb.cloud.normals) {
        (Some(na), Some(nb)) if na.len() == pa.cloud.positions.len() && nb.len() == pb.cloud.positions.len() => Some(nn.normal_consistency(na, nb)),
        _ => None,
    };
    let with_distance = |mut cloud: PointCloud, pairs: &[(usize, f32)]| {
        cloud.scalar = Some(("distance to the other shape".into(), pairs.iter().map(|&(_, d2)| d2.sqrt()).collect()));
        cloud
    };
    Ok(Comparison {
        chamfer: nn.chamfer(),
        fscores,
        normal_consistency,
        voxel_iou: iou_of(a, b),
        a_points: with_distance(pa.cloud, &nn.a_to_b),
        b_points: with_distance(pb.cloud, &nn.b_to_a),
    })
}

/// A voxel grid stands for the surface of its cubes; anything else as it is.
fn surface_of(asset: &Asset, what: &'static str) -> Result<Asset, MetricsError> {
    match asset {
        Asset::Voxels(v) => Ok(Asset::Mesh(voxels_to_mesh(v).map_err(|e| MetricsError::Unsupported { what, detail: e.to_string() })?)),
        other => Ok(other.clone()),
    }
}

fn iou_of(a: &Asset, b: &Asset) -> Result<VoxelIou, MetricsError> {
    if let (Asset::Voxels(va), Asset::Voxels(vb)) = (a, b)
        && va.dims == vb.dims
    {
        return voxel_iou(va, vb);
    }
    let bounds = |x: &Asset| match x {
        Asset::Mesh(m) => m.bounds(),
        Asset::Points(p) => p.bounds(),
        Asset::Voxels(v) => voxels_to_mesh(v).ok().and_then(|m| m.bounds()),
        Asset::Depth(d) => d.to_point_cloud(&d.intrinsics, None).bounds(),
    };
    let (Some(ba), Some(bb)) = (bounds(a), bounds(b)) else {
        return Err(MetricsError::Invalid("a shape has no extent to voxelize".into()));
    };
    let union = Aabb { min: std::array::from_fn(|k| ba.min[k].min(bb.min[k])), max: std::array::from_fn(|k| ba.max[k].max(bb.max[k])) };
    let convert = |e: crate::geometry::ConvertError| MetricsError::Invalid(format!("voxelizing for IoU: {e}"));
    let spec = GridSpec::fit(&union, IOU_RESOLUTION, 1).map_err(convert)?;
    let hollow = |x: &Asset| matches!(x, Asset::Points(_) | Asset::Depth(_));
    let fill = if hollow(a) || hollow(b) { Fill::Surface } else { Fill::Solid };
    let grid = |x: &Asset| -> Result<VoxelGrid, MetricsError> {
        match x {
            Asset::Mesh(m) => mesh_to_voxels(m, &spec, fill).map_err(convert),
            Asset::Voxels(v) => mesh_to_voxels(&voxels_to_mesh(v).map_err(convert)?, &spec, fill).map_err(convert),
            Asset::Points(p) => Ok(points_to_voxels(p, &spec).map_err(convert)?.0),
            Asset::Depth(d) => Ok(points_to_voxels(&d.to_point_cloud(&d.intrinsics, None), &spec).map_err(convert)?.0),
        }
    };
    voxel_iou(&grid(a)?, &grid(b)?)
}
