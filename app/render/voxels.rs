//! Voxel grids: one instanced cube per visible voxel.

use eframe::egui_wgpu::wgpu;

use super::gpu::{self, GpuBuffer, PipelineSpec};
use super::scene::VoxelInstance;

pub struct VoxelsRenderer {
    pipeline: wgpu::RenderPipeline,
}

impl VoxelsRenderer {
    pub fn new(device: &wgpu::Device, layout: &wgpu::PipelineLayout, format: wgpu::TextureFormat) -> Self {
        let module = gpu::shader_3d(device, "voxels", include_str!("../../shaders/voxels.wgsl"));
        let buffers = [Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<VoxelInstance>() as u64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Unorm8x4, 2 => Float32],
        })];
        let pipeline = gpu::pipeline(device, layout, PipelineSpec {
            label: "voxels",
            module: &module,
            vs: "vs_main",
            fs: "fs_main",
            buffers: &buffers,
            topology: wgpu::PrimitiveTopology::TriangleList,
            format,
            depth: true,
        });
        VoxelsRenderer { pipeline }
    }

    pub fn upload(device: &wgpu::Device, voxels: &[VoxelInstance]) -> GpuBuffer {
        GpuBuffer::new(device, "voxels", voxels, wgpu::BufferUsages::VERTEX)
    }

    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, voxels: &GpuBuffer) {
        if let Some(b) = &voxels.buffer {
            pass.set_pipeline(&self.pipeline);
            pass.set_vertex_buffer(0, b.slice(..));
            pass.draw(0..36, 0..voxels.len);
        }
    }
}
