//! wgpu rendering: one renderer per primitive (points, mesh, voxels, lines,
//! image, segmentation masks) sharing one camera; labs build scenes and never touch wgpu.

pub mod camera;
pub mod colormap;
pub mod gpu;
pub mod image;
pub mod instanced;
pub mod lines;
pub mod mask;
pub mod mesh;
pub mod pick;
pub mod points;
pub mod renderer3d;
pub mod scene;
pub mod viewport;
pub mod voxels;
