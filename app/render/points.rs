//! Point clouds: one instanced screen-space triangle per point, cut to a disc.

use eframe::egui_wgpu::wgpu;

use super::gpu::{self, GpuBuffer, PipelineSpec};
use super::scene::PointVertex;

pub struct PointsRenderer {
    pipeline: wgpu::RenderPipeline,
}

impl PointsRenderer {
    pub fn new(device: &wgpu::Device, layout: &wgpu::PipelineLayout, format: wgpu::TextureFormat) -> Self {
        let module = gpu::shader_3d(device, "points", include_str!("../../shaders/points.wgsl"));
        let buffers = [Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<PointVertex>() as u64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Unorm8x4, 2 => Float32],
        })];
        let pipeline = gpu::pipeline(device, layout, PipelineSpec {
            label: "points",
            module: &module,
            vs: "vs_main",
            fs: "fs_main",
            buffers: &buffers,
            topology: wgpu::PrimitiveTopology::TriangleList,
            format,
            depth: true,
        });
        PointsRenderer { pipeline }
    }

    pub fn upload(device: &wgpu::Device, points: &[PointVertex]) -> GpuBuffer {
        GpuBuffer::new(device, "points", points, wgpu::BufferUsages::VERTEX)
    }

    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, points: &GpuBuffer) {
        if let Some(b) = &points.buffer {
            pass.set_pipeline(&self.pipeline);
            pass.set_vertex_buffer(0, b.slice(..));
            pass.draw(0..3, 0..points.len);
        }
    }
}
