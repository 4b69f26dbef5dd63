//! 3D data: meshes, point clouds, voxel grids and depth maps, their file
//! formats and the built-in procedural shapes.
//!
//! Conversions: mesh or points to voxels (`mesh_to_voxels`, `points_to_voxels`
//! on a `GridSpec`), voxels to a mesh of cube faces (`voxels_to_mesh`), any
//! scalar grid to a mesh at a level (`marching_cubes`), mesh to points
//! (`sample_points`), depth to points (`DepthMap::to_point_cloud`) and vertex
//! normals (`Mesh::compute_vertex_normals`).
//!
//! Conventions:
//! - Triangles wind counter-clockwise seen from outside; normals point outward.
//! - Colours are RGB in [0, 1] exactly as the file stores them (8-bit values / 255,
//!   no sRGB conversion).
//! - Voxel grids are x-fastest (`VoxelGrid::index`); binvox and .npy layouts are
//!   converted on load (see their modules).
//! - Depth maps keep raw stored values; `Intrinsics::depth_scale` turns them into
//!   metres (16-bit PNG and integer .npy: 1000, float EXR/.npy: 1, 8-bit PNG: 255).
//!   Back-projection uses camera axes x right, y down, z forward.

mod convert;
mod cubify;
mod depth;
mod error;
pub mod formats;
mod marching_cubes;
pub(crate) mod mesh_ops;
mod sample;
pub mod scenes;
pub mod shapes;
mod types;
mod voxelize;

pub use convert::Conversion;
pub use cubify::voxels_to_mesh;
pub use error::{ConvertError, FormatError, LoadError};
pub use marching_cubes::{marching_cubes, sample_field};
pub use mesh_ops::triangle_normal;
pub use sample::sample_points;
pub use types::*;
pub use voxelize::{Fill, GridSpec, MAX_VOXELS, OCCUPIED_AT, fit_mesh_to_voxels, fit_points_to_voxels, mesh_to_voxels, points_to_voxels};

use std::path::Path;

/// Extensions `load_path` understands (lowercase, no dot), for file dialogs.
pub const SUPPORTED_EXTENSIONS: &[&str] = &["ply", "obj", "off", "stl", "gltf", "glb", "xyz", "txt", "pts", "csv", "pcd", "binvox", "vol", "npy", "png", "exr"];

/// Load a geometry file; the format comes from its magic bytes or its extension.
/// glTF files may refer to buffers beside them, which are read too.
pub fn load_path(path: &Path) -> Result<Asset, LoadError> {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let bytes = std::fs::read(path).map_err(|e| LoadError::new(&name, FormatError::Io(e.to_string())))?;
    decode(&name, &bytes, Some(path)).map_err(|e| LoadError::new(name, e))
}

/// Load a geometry file held in memory; `file_name` supplies the extension and
/// names the file in errors.
pub fn load_bytes(file_name: &str, bytes: &[u8]) -> Result<Asset, LoadError> {
    decode(file_name, bytes, None).map_err(|e| LoadError::new(file_name, e))
}

fn decode(file_name: &str, bytes: &[u8], path: Option<&Path>) -> Result<Asset, FormatError> {
    use formats::*;
    // Magic bytes win over the extension: a misnamed file still opens.
    if ply::sniff(bytes) {
        return ply::read(bytes);
    }
    if binvox::sniff(bytes) {
        return binvox::read(bytes);
    }
    if npy::sniff(bytes) {
        return npy::read(bytes);
    }
    let ext = text::extension(file_name);
    match ext.as_str() {
        "ply" => ply::read(bytes),
        "obj" => obj::read(bytes),
        "off" => off::read(bytes),
        "stl" => stl::read(bytes),
        "xyz" | "txt" | "pts" | "csv" => xyz::read(bytes),
        "pcd" => pcd::read(bytes),
        "binvox" => binvox::read(bytes),
        "vol" => vol::read(bytes),
        "npy" => npy::read(bytes),
        "png" => depth_image::read_png(bytes),
        "exr" => depth_image::read_exr(bytes),
        "gltf" | "glb" => gltf::read(file_name, bytes, path),
        _ => Err(FormatError::UnsupportedExtension(ext)),
    }
}
