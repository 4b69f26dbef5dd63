//! Triangle meshes: flat or smooth shading, with an optional wireframe overlay.

use eframe::egui_wgpu::wgpu;

use super::gpu::{self, GpuBuffer, PipelineSpec};
use super::scene::{MeshVertex, Scene3d};

pub struct MeshRenderer {
    fill: wgpu::RenderPipeline,
    wire: wgpu::RenderPipeline,
}

/// A mesh on the GPU: vertices, triangle indices and edge indices.
pub struct MeshGpu {
    pub vertices: GpuBuffer,
    pub triangles: GpuBuffer,
    pub edges: GpuBuffer,
}

impl MeshRenderer {
    pub fn new(device: &wgpu::Device, layout: &wgpu::PipelineLayout, format: wgpu::TextureFormat) -> Self {
        let module = gpu::shader_3d(device, "mesh", include_str!("../../shaders/mesh.wgsl"));
        let buffers = [Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<MeshVertex>() as u64,
            step_mode: wgpu::VertexStepMode::Vertex,
            attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3, 2 => Unorm8x4],
        })];
        let spec = |label, vs, fs, topology| PipelineSpec { label, module: &module, vs, fs, buffers: &buffers, topology, format, depth: true };
        MeshRenderer {
            fill: gpu::pipeline(device, layout, spec("mesh", "vs_main", "fs_main", wgpu::PrimitiveTopology::TriangleList)),
            wire: gpu::pipeline(device, layout, spec("wire", "vs_wire", "fs_wire", wgpu::PrimitiveTopology::LineList)),
        }
    }

    pub fn upload(device: &wgpu::Device, scene: &Scene3d) -> MeshGpu {
        MeshGpu {
            vertices: GpuBuffer::new(device, "mesh vertices", &scene.mesh_vertices, wgpu::BufferUsages::VERTEX),
            triangles: GpuBuffer::new(device, "mesh triangles", &scene.mesh_indices, wgpu::BufferUsages::INDEX),
            edges: GpuBuffer::new(device, "mesh edges", &scene.edge_indices, wgpu::BufferUsages::INDEX),
        }
    }

    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, mesh: &MeshGpu, fill: bool, wireframe: bool) {
        let Some(vb) = &mesh.vertices.buffer else { return };
        pass.set_vertex_buffer(0, vb.slice(..));
        for (on, pipeline, indices) in [(fill, &self.fill, &mesh.triangles), (wireframe, &self.wire, &mesh.edges)] {
            if let (true, Some(ib)) = (on, &indices.buffer) {
                pass.set_pipeline(pipeline);
                pass.set_index_buffer(ib.slice(..), wgpu::IndexFormat::Uint32);
                pass.draw_indexed(0..indices.len, 0, 0..1);
            }
        }
    }
}
