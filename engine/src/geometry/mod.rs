//! 3D data: meshes, point clouds, voxel grids and depth maps, their file
//! formats and the built-in procedural shapes.

mod types;

pub use types::*;
