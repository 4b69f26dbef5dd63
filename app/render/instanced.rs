//! One instanced pipeline shape serves points and voxels: per instance a
//! position, an RGBA8 color and one float; the vertex shader builds the
//! primitive (a point's triangle, a voxel's 36 cube vertices) from its index.

use eframe::egui_wgpu::wgpu;

use super::gpu::{self, GpuBuffer, PipelineSpec};
use super::scene::PointVertex;

pub struct InstancedRenderer {
    pipeline: wgpu::RenderPipeline,
    vertices_per_instance: u32,
}

impl InstancedRenderer {
    pub fn new(device: &wgpu::Device, layout: &wgpu::PipelineLayout, format: wgpu::TextureFormat, name: &str, source: &str, vertices_per_instance: u32) -> Self {
        let module = gpu::shader_3d(device, name, source);
        // PointVertex and VoxelInstance share this layout (checked in scene.rs's tests)
        let buffers = [Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<PointVertex>() as u64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Unorm8x4, 2 => Float32],
        })];
        let pipeline = gpu::pipeline(
            device,
            layout,
            PipelineSpec { label: name, module: &module, vs: "vs_main", fs: "fs_main", buffers: &buffers, topology: wgpu::PrimitiveTopology::TriangleList, format, depth: true },
        );
        InstancedRenderer { pipeline, vertices_per_instance }
    }

    pub fn upload<T: bytemuck::Pod>(device: &wgpu::Device, label: &str, instances: &[T]) -> GpuBuffer {
        GpuBuffer::new(device, label, instances, wgpu::BufferUsages::VERTEX)
    }

    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, instances: &GpuBuffer) {
        if let Some(b) = &instances.buffer {
            pass.set_pipeline(&self.pipeline);
            pass.set_vertex_buffer(0, b.slice(..));
            pass.draw(0..self.vertices_per_instance, 0..instances.len);
        }
    }
}
