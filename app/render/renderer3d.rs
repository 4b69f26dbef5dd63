//! The GPU side of a 3D view. Each view renders into its own offscreen color
//! and depth targets (egui's pass has no depth buffer, and meshes must
//! occlude), in `prepare`; `paint` then copies the result into egui's pass.

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui_wgpu::{self, wgpu};

use super::colormap::Colormap;
use super::gpu::{self, FrameUniform, GpuBuffer, PipelineSpec};
use super::instanced::InstancedRenderer;
use super::lines::LinesRenderer;
use super::mesh::{MeshGpu, MeshRenderer};
use super::scene::{LineVertex, Scene3d};
use super::{points, voxels};

/// Which parts of a scene to draw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layers {
    pub points: bool,
    /// Draw the preview subset of a big cloud (the camera is moving).
    pub preview: bool,
    pub mesh: bool,
    pub wireframe: bool,
    pub normals: bool,
    pub voxels: bool,
}

/// Pipelines shared by all views, and each view's own GPU state.
pub struct Renderer3d {
    format: wgpu::TextureFormat,
    frame_layout: wgpu::BindGroupLayout,
    blit_layout: wgpu::BindGroupLayout,
    blit: wgpu::RenderPipeline,
    sampler: wgpu::Sampler,
    points: InstancedRenderer,
    mesh: MeshRenderer,
    voxels: InstancedRenderer,
    lines: LinesRenderer,
    views: HashMap<u64, ViewGpu>,
}

struct Target {
    size: [u32; 2],
    color: wgpu::TextureView,
    depth: wgpu::TextureView,
    blit_group: wgpu::BindGroup,
}

struct ViewGpu {
    target: Option<Target>,
    uniform: wgpu::Buffer,
    lut: wgpu::Texture,
    lut_map: Option<Colormap>,
    frame_group: wgpu::BindGroup,
    generation: u64,
    points: GpuBuffer,
    points_preview: GpuBuffer,
    mesh: MeshGpu,
    voxels: GpuBuffer,
    normals: GpuBuffer,
    overlay: GpuBuffer,
    /// What the target holds now: an unchanged frame is not drawn again
    /// (egui repaints on every mouse move; the 3D view rarely changes).
    drawn: Option<u64>,
}

/// Create the shared pipelines once per render state.
pub fn install(render_state: &egui_wgpu::RenderState) {
    let mut renderer = render_state.renderer.write();
    if renderer.callback_resources.get::<Renderer3d>().is_none() {
        let r = Renderer3d::new(&render_state.device, render_state.target_format);
        renderer.callback_resources.insert(r);
    }
}

impl Renderer3d {
    fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("frame"),
            entries: &[gpu::uniform_entry(0, wgpu::ShaderStages::VERTEX_FRAGMENT), gpu::texture_entry(1, true), gpu::sampler_entry(2)],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some("3d"), bind_group_layouts: &[Some(&frame_layout)], immediate_size: 0 });
        let blit_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some("blit"), entries: &[gpu::texture_entry(0, true), gpu::sampler_entry(1)] });
        let blit_pipeline_layout =
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some("blit"), bind_group_layouts: &[Some(&blit_layout)], immediate_size: 0 });
        let blit_module = gpu::shader_fullscreen(device, "blit", include_str!("../../shaders/blit.wgsl"));
        let blit = gpu::pipeline(
            device,
            &blit_pipeline_layout,
            PipelineSpec { label: "blit", module: &blit_module, vs: "vs_main", fs: "fs_main", buffers: &[], topology: wgpu::PrimitiveTopology::TriangleList, format, depth: false },
        );
        Renderer3d {
            format,
            points: points::renderer(device, &layout, format),
            mesh: MeshRenderer::new(device, &layout, format),
            voxels: voxels::renderer(device, &layout, format),
            lines: LinesRenderer::new(device, &layout, format),
            sampler: gpu::linear_sampler(device),
            frame_layout,
            blit_layout,
            blit,
            views: HashMap::new(),
        }
    }

    fn new_view(&self, device: &wgpu::Device) -> ViewGpu {
        let uniform = gpu::uniform_buffer::<FrameUniform>(device, "frame");
        let lut = gpu::lut_texture(device);
        let lut_view = lut.create_view(&Default::default());
        let frame_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("frame"),
            layout: &self.frame_layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&lut_view) },
                wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::Sampler(&self.sampler) },
            ],
        });
        let empty = || GpuBuffer { buffer: None, len: 0 };
        ViewGpu {
            target: None,
            uniform,
            lut,
            lut_map: None,
            frame_group,
            generation: 0,
            points: empty(),
            points_preview: empty(),
            mesh: MeshGpu { vertices: empty(), triangles: empty(), edges: empty() },
            voxels: empty(),
            normals: empty(),
            overlay: empty(),
            drawn: None,
        }
    }

    fn new_target(&self, device: &wgpu::Device, size: [u32; 2]) -> Target {
        let usage = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING;
        let color = gpu::texture_2d(device, "view color", size[0], size[1], self.format, usage).create_view(&Default::default());
        let depth = gpu::texture_2d(device, "view depth", size[0], size[1], gpu::DEPTH_FORMAT, wgpu::TextureUsages::RENDER_ATTACHMENT).create_view(&Default::default());
        let blit_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("blit"),
            layout: &self.blit_layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(&color) },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::Sampler(&self.sampler) },
            ],
        });
        Target { size, color, depth, blit_group }
    }
}

/// One frame of one 3D view, handed to egui as a paint callback.
pub struct View3dCallback {
    pub key: u64,
    /// Target size in physical pixels.
    pub size: [u32; 2],
    pub scene: Arc<Scene3d>,
    pub frame: FrameUniform,
    pub colormap: Colormap,
    pub layers: Layers,
    /// Grid, axes and measurement lines, rebuilt every frame (they are few).
    pub overlay: Vec<LineVertex>,
    pub background: [f64; 3],
}

impl View3dCallback {
    /// A hash of everything that decides the picture.
    fn content_key(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.scene.generation.hash(&mut h);
        self.size.hash(&mut h);
        bytemuck::bytes_of(&self.frame).hash(&mut h);
        (self.colormap as u8).hash(&mut h);
        let l = self.layers;
        [l.points, l.preview, l.mesh, l.wireframe, l.normals, l.voxels].hash(&mut h);
        bytemuck::cast_slice::<_, u8>(&self.overlay).hash(&mut h);
        self.background.map(f64::to_bits).hash(&mut h);
        h.finish()
    }
}

impl egui_wgpu::CallbackTrait for View3dCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(r) = resources.get_mut::<Renderer3d>() else { return Vec::new() };
        if !r.views.contains_key(&self.key) {
            let v = r.new_view(device);
            r.views.insert(self.key, v);
        }
        let size = [self.size[0].max(1), self.size[1].max(1)];
        let needs_target = r.views.get(&self.key).is_some_and(|v| v.target.as_ref().is_none_or(|t| t.size != size));
        let new_target = needs_target.then(|| r.new_target(device, size));
        let Some(view) = r.views.get_mut(&self.key) else { return Vec::new() };
        if let Some(t) = new_target {
            view.target = Some(t);
            view.drawn = None;
        }
        let key = self.content_key();
        if view.drawn == Some(key) {
            return Vec::new();
        }
        view.drawn = Some(key);
        if view.generation != self.scene.generation {
            let s = &self.scene;
            view.points = InstancedRenderer::upload(device, "points", &s.points);
            view.points_preview = InstancedRenderer::upload(device, "points preview", &s.points_preview);
            view.mesh = MeshRenderer::upload(device, s);
            view.voxels = InstancedRenderer::upload(device, "voxels", &s.voxels);
            view.normals = GpuBuffer::new(device, "normals", &s.normal_lines, wgpu::BufferUsages::VERTEX);
            view.generation = s.generation;
        }
        if view.lut_map != Some(self.colormap) {
            gpu::write_texture(queue, &view.lut, 4, &self.colormap.lut());
            view.lut_map = Some(self.colormap);
        }
        queue.write_buffer(&view.uniform, 0, bytemuck::bytes_of(&self.frame));
        view.overlay.write(device, queue, "overlay", &self.overlay, wgpu::BufferUsages::VERTEX);
        if self.overlay.is_empty() {
            view.overlay.len = 0;
        }

        let Some(target) = &view.target else { return Vec::new() };
        let [r0, g0, b0] = self.background;
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("3d view"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &target.color,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations { load: wgpu::LoadOp::Clear(wgpu::Color { r: r0, g: g0, b: b0, a: 1.0 }), store: wgpu::StoreOp::Store },
            })],
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: &target.depth,
                depth_ops: Some(wgpu::Operations { load: wgpu::LoadOp::Clear(1.0), store: wgpu::StoreOp::Discard }),
                stencil_ops: None,
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_bind_group(0, &view.frame_group, &[]);
        let l = self.layers;
        r.lines.draw(&mut pass, &view.overlay);
        if l.voxels {
            r.voxels.draw(&mut pass, &view.voxels);
        }
        r.mesh.draw(&mut pass, &view.mesh, l.mesh, l.wireframe);
        if l.normals {
            r.lines.draw(&mut pass, &view.normals);
        }
        if l.points {
            let preview = l.preview && view.points_preview.len > 0;
            r.points.draw(&mut pass, if preview { &view.points_preview } else { &view.points });
        }
        Vec::new()
    }

    fn paint(&self, _info: egui::PaintCallbackInfo, pass: &mut wgpu::RenderPass<'static>, resources: &egui_wgpu::CallbackResources) {
        let Some(r) = resources.get::<Renderer3d>() else { return };
        let Some(target) = r.views.get(&self.key).and_then(|v| v.target.as_ref()) else { return };
        pass.set_pipeline(&r.blit);
        pass.set_bind_group(0, &target.blit_group, &[]);
        pass.draw(0..3, 0..1);
    }
}
