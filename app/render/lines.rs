//! Line segments: the ground grid, axes, vertex normals and measurements.

use eframe::egui_wgpu::wgpu;
use vislab_engine::geometry::Aabb;

use super::gpu::{self, GpuBuffer, PipelineSpec};
use super::scene::LineVertex;

pub struct LinesRenderer {
    pipeline: wgpu::RenderPipeline,
}

impl LinesRenderer {
    pub fn new(device: &wgpu::Device, layout: &wgpu::PipelineLayout, format: wgpu::TextureFormat) -> Self {
        let module = gpu::shader_3d(device, "lines", include_str!("../../shaders/lines.wgsl"));
        let buffers = [Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<LineVertex>() as u64,
            step_mode: wgpu::VertexStepMode::Vertex,
            attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Unorm8x4],
        })];
        let pipeline = gpu::pipeline(
            device,
            layout,
            PipelineSpec { label: "lines", module: &module, vs: "vs_main", fs: "fs_main", buffers: &buffers, topology: wgpu::PrimitiveTopology::LineList, format, depth: true },
        );
        LinesRenderer { pipeline }
    }

    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, lines: &GpuBuffer) {
        if let Some(b) = &lines.buffer {
            pass.set_pipeline(&self.pipeline);
            pass.set_vertex_buffer(0, b.slice(..));
            pass.draw(0..lines.len, 0..1);
        }
    }
}

/// A ground grid under the bounds (on the plane normal to `up_axis`) with a
/// "nice" spacing, plus the three axes at the origin (x red, y green, z blue).
pub fn grid_and_axes(bounds: Option<&Aabb>, up_axis: usize, grid: bool, axes: bool) -> Vec<LineVertex> {
    let b = bounds.copied().unwrap_or(Aabb { min: [-1.0; 3], max: [1.0; 3] });
    let extent = b.size().iter().fold(0f32, |m, &v| m.max(v)).max(1e-3);
    let step = nice_step(extent / 10.0);
    let (u, v) = if up_axis == 2 { (0, 1) } else { (0, 2) };
    let centre = b.center();
    let half = (extent * 0.75 / step).ceil() * step;
    let cu = (centre[u] / step).round() * step;
    let cv = (centre[v] / step).round() * step;
    let floor = b.min[up_axis];
    let mut out = Vec::new();
    let mut push = |a: [f32; 3], c: [f32; 3], color: [u8; 4]| {
        out.push(LineVertex { pos: a, color });
        out.push(LineVertex { pos: c, color });
    };
    if grid {
        let n = (half / step).round() as i32;
        for i in -n..=n {
            let color = if i == 0 { [95, 95, 105, 255] } else { [62, 62, 70, 255] };
            let t = i as f32 * step;
            let mut a = [0f32; 3];
            let mut c = [0f32; 3];
            a[up_axis] = floor;
            c[up_axis] = floor;
            a[u] = cu + t;
            c[u] = cu + t;
            a[v] = cv - half;
            c[v] = cv + half;
            push(a, c, color);
            a[v] = cv + t;
            c[v] = cv + t;
            a[u] = cu - half;
            c[u] = cu + half;
            push(a, c, color);
        }
    }
    if axes {
        let len = extent * 0.3;
        let colors = [[230, 70, 70, 255], [90, 200, 90, 255], [80, 130, 240, 255]];
        for (k, color) in colors.into_iter().enumerate() {
            let mut end = [0f32; 3];
            end[k] = len;
            push([0.0; 3], end, color);
        }
    }
    out
}

/// 1, 2 or 5 times a power of ten, at least `x`.
pub fn nice_step(x: f32) -> f32 {
    let p = 10f32.powf(x.max(1e-9).log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|&s| s >= x).unwrap_or(10.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(1.1), 2.0);
        assert!((nice_step(0.021) - 0.05).abs() < 1e-6);
    }

    #[test]
    fn grid_lies_on_the_floor_of_the_bounds() {
        let b = Aabb { min: [-1.0, -2.0, -1.0], max: [1.0, 2.0, 1.0] };
        let lines = grid_and_axes(Some(&b), 1, true, false);
        assert!(!lines.is_empty());
        assert!(lines.iter().all(|l| l.pos[1] == -2.0));
    }
}
