//! One entry point for every conversion between representations, so a UI
//! can list what applies to what is open and run it by value.

use super::{Asset, ConvertError, Fill, fit_mesh_to_voxels, fit_points_to_voxels, marching_cubes, sample_points, voxels_to_mesh};

/// A conversion and its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Conversion {
    /// Mesh to `count` area-weighted surface samples with face normals.
    SamplePoints { count: usize, seed: u64 },
    /// Mesh to an occupancy grid with `res` voxels along its longest edge.
    MeshToVoxels { res: usize, fill: Fill },
    /// Point cloud to an occupancy grid with `res` voxels along its longest edge.
    PointsToVoxels { res: usize },
    /// Voxels to a mesh of their exposed cube faces.
    Cubify,
    /// Voxels (any scalar grid) to the surface at `level`.
    MarchingCubes { level: f32 },
    /// Mesh with recomputed area-weighted vertex normals.
    VertexNormals,
    /// Depth map to camera-space points through its intrinsics.
    BackProject,
}

impl Conversion {
    /// Every conversion that applies to `asset`, with default parameters.
    pub fn available(asset: &Asset) -> Vec<Conversion> {
        match asset {
            Asset::Mesh(_) => vec![
                Conversion::SamplePoints { count: 10_000, seed: 0 },
                Conversion::MeshToVoxels { res: 32, fill: Fill::Solid },
                Conversion::MeshToVoxels { res: 32, fill: Fill::Surface },
                Conversion::VertexNormals,
            ],
            Asset::Points(_) => vec![Conversion::PointsToVoxels { res: 32 }],
            Asset::Voxels(_) => vec![Conversion::MarchingCubes { level: 0.5 }, Conversion::Cubify],
            Asset::Depth(_) => vec![Conversion::BackProject],
        }
    }

    /// Short name for menus.
    pub fn label(&self) -> &'static str {
        match self {
            Conversion::SamplePoints { .. } => "Mesh to points (surface samples)",
            Conversion::MeshToVoxels { fill: Fill::Solid, .. } => "Mesh to voxels (solid)",
            Conversion::MeshToVoxels { fill: Fill::Surface, .. } => "Mesh to voxels (surface)",
            Conversion::PointsToVoxels { .. } => "Points to voxels",
            Conversion::Cubify => "Voxels to mesh (cubify)",
            Conversion::MarchingCubes { .. } => "Voxels to mesh (marching cubes)",
            Conversion::VertexNormals => "Mesh vertex normals",
            Conversion::BackProject => "Depth to points (back-projection)",
        }
    }

    /// Run it; errors when `asset` is of the wrong kind or the input is bad.
    pub fn apply(&self, asset: &Asset) -> Result<Asset, ConvertError> {
        let wrong = || ConvertError::WrongKind { conversion: self.label(), got: asset.kind() };
        Ok(match (self, asset) {
            (Conversion::SamplePoints { count, seed }, Asset::Mesh(m)) => {
                super::voxelize::check_mesh(m)?;
                Asset::Points(sample_points(m, *count, *seed))
            }
            (Conversion::MeshToVoxels { res, fill }, Asset::Mesh(m)) => Asset::Voxels(fit_mesh_to_voxels(m, *res, *fill)?),
            (Conversion::PointsToVoxels { res }, Asset::Points(p)) => Asset::Voxels(fit_points_to_voxels(p, *res)?),
            (Conversion::Cubify, Asset::Voxels(v)) => Asset::Mesh(voxels_to_mesh(v)?),
            (Conversion::MarchingCubes { level }, Asset::Voxels(v)) => Asset::Mesh(marching_cubes(v, *level)?),
            (Conversion::VertexNormals, Asset::Mesh(m)) => {
                super::voxelize::check_mesh(m)?;
                let mut m = m.clone();
                m.compute_vertex_normals();
                Asset::Mesh(m)
            }
            (Conversion::BackProject, Asset::Depth(d)) => Asset::Points(d.to_point_cloud(&d.intrinsics, None)),
            _ => return Err(wrong()),
        })
    }
}
