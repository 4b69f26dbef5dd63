//! Point clouds: one instanced screen-space triangle per point, cut to a disc
//! (see shaders/points.wgsl).

use eframe::egui_wgpu::wgpu;

use super::instanced::InstancedRenderer;

pub fn renderer(device: &wgpu::Device, layout: &wgpu::PipelineLayout, format: wgpu::TextureFormat) -> InstancedRenderer {
    InstancedRenderer::new(device, layout, format, "points", include_str!("../../shaders/points.wgsl"), 3)
}
