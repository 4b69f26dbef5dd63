//! Voxel grids: one instanced cube per visible voxel (see shaders/voxels.wgsl).

use eframe::egui_wgpu::wgpu;

use super::instanced::InstancedRenderer;

pub fn renderer(device: &wgpu::Device, layout: &wgpu::PipelineLayout, format: wgpu::TextureFormat) -> InstancedRenderer {
    InstancedRenderer::new(device, layout, format, "voxels", include_str!("../../shaders/voxels.wgsl"), 36)
}
