//! Segmentation overlays drawn by the GPU straight into egui's pass: an RGB
//! image with a class map blended over it (a colour per class or per
//! instance, with an opacity), pixels whose class differs from a reference
//! map hatched, instance outlines on texel borders, and the hovered pixel
//! framed. Shader: shaders/mask.wgsl.

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui_wgpu::{self, wgpu};

use super::gpu::{self, PipelineSpec};

/// Most classes the palette holds.
pub const MAX_CLASSES: usize = 16;

/// What one overlay shows: the image, the class map drawn over it, an
/// optional reference map (errors are where they differ), instance ids.
#[derive(Debug)]
pub struct MaskImage {
    pub generation: u64,
    pub width: u32,
    pub height: u32,
    /// Planar RGB `[3, height, width]` in [0, 1].
    pub rgb: Vec<f32>,
    pub classes: Vec<u8>,
    pub reference: Option<Vec<u8>>,
    /// 0 for none.
    pub instances: Vec<u32>,
}

impl MaskImage {
    /// Sizes must agree (`rgb` 3 planes, maps one value per pixel); None if not.
    pub fn new(width: u32, height: u32, rgb: Vec<f32>, classes: Vec<u8>, reference: Option<Vec<u8>>, instances: Vec<u32>) -> Option<Self> {
        let n = (width * height) as usize;
        let ok = rgb.len() == 3 * n && classes.len() == n && instances.len() == n && reference.as_ref().is_none_or(|r| r.len() == n);
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let generation = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ok.then_some(MaskImage { generation, width, height, rgb, classes, reference, instances })
    }

    /// The image's texels as RGBA bytes.
    fn rgba8(&self) -> Vec<u8> {
        let n = (self.width * self.height) as usize;
        let mut out = Vec::with_capacity(4 * n);
        for p in 0..n {
            for c in 0..3 {
                out.push((self.rgb.get(c * n + p).copied().unwrap_or(0.0).clamp(0.0, 1.0) * 255.0).round() as u8);
            }
            out.push(255);
        }
        out
    }

    /// (class, reference class or -1, instance id, 0) per texel.
    fn label_texels(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(4 * self.classes.len());
        for (p, &c) in self.classes.iter().enumerate() {
            let r = self.reference.as_ref().and_then(|r| r.get(p)).map_or(-1.0, |&r| r as f32);
            out.extend([c as f32, r, self.instances.get(p).copied().unwrap_or(0) as f32, 0.0]);
        }
        out
    }
}

/// How an overlay is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaskStyle {
    pub opacity: f32,
    /// Colour by instance id instead of by class.
    pub by_instance: bool,
    /// Hatch pixels whose class differs from the reference.
    pub errors: bool,
    pub outlines: bool,
    /// RGBA per class in [0, 1]; alpha 0 leaves the image as it is.
    pub palette: [[f32; 4]; MAX_CLASSES],
    /// Pixel to frame (x, y).
    pub hover: Option<(u32, u32)>,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct MaskUniform {
    size: [f32; 4],
    flags: [f32; 4],
    palette: [[f32; 4]; MAX_CLASSES],
}

pub struct MaskRenderer {
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::RenderPipeline,
    views: HashMap<u64, MaskGpu>,
}

struct MaskGpu {
    generation: u64,
    uniform: wgpu::Buffer,
    group: wgpu::BindGroup,
}

pub fn install(render_state: &egui_wgpu::RenderState) {
    let mut renderer = render_state.renderer.write();
    if renderer.callback_resources.get::<MaskRenderer>().is_none() {
        let r = MaskRenderer::new(&render_state.device, render_state.target_format);
        renderer.callback_resources.insert(r);
    }
}

impl MaskRenderer {
    fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("mask"),
            entries: &[gpu::uniform_entry(0, wgpu::ShaderStages::FRAGMENT), gpu::texture_entry(1, false), gpu::texture_entry(2, false)],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some("mask"), bind_group_layouts: &[Some(&layout)], immediate_size: 0 });
        let module = gpu::shader_fullscreen(device, "mask", include_str!("../../shaders/mask.wgsl"));
        let pipeline = gpu::pipeline(
            device,
            &pipeline_layout,
            PipelineSpec { label: "mask", module: &module, vs: "vs_main", fs: "fs_main", buffers: &[], topology: wgpu::PrimitiveTopology::TriangleList, format, depth: false },
        );
        MaskRenderer { layout, pipeline, views: HashMap::new() }
    }

    fn upload(&self, device: &wgpu::Device, queue: &wgpu::Queue, m: &MaskImage) -> MaskGpu {
        let usage = wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST;
        let base = gpu::texture_2d(device, "mask image", m.width, m.height, wgpu::TextureFormat::Rgba8Unorm, usage);
        gpu::write_texture(queue, &base, 4, &m.rgba8());
        let labels = gpu::texture_2d(device, "mask labels", m.width, m.height, wgpu::TextureFormat::Rgba32Float, usage);
        gpu::write_texture(queue, &labels, 16, bytemuck::cast_slice(&m.label_texels()));
        let uniform = gpu::uniform_buffer::<MaskUniform>(device, "mask");
        let (bv, lv) = (base.create_view(&Default::default()), labels.create_view(&Default::default()));
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("mask"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&bv) },
                wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::TextureView(&lv) },
            ],
        });
        MaskGpu { generation: m.generation, uniform, group }
    }
}

struct MaskCallback {
    key: u64,
    image: Arc<MaskImage>,
    style: MaskStyle,
    /// Screen points per image pixel (outline width is kept near 1.5 points).
    scale: f32,
}

impl egui_wgpu::CallbackTrait for MaskCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(r) = resources.get_mut::<MaskRenderer>() else { return Vec::new() };
        if r.views.get(&self.key).is_none_or(|v| v.generation != self.image.generation) {
            let v = r.upload(device, queue, &self.image);
            r.views.insert(self.key, v);
        }
        let Some(v) = r.views.get(&self.key) else { return Vec::new() };
        let s = self.style;
        let hover = s.hover.map_or(-1.0, |(x, y)| (y * self.image.width + x) as f32);
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let u = MaskUniform {
            size: [self.image.width as f32, self.image.height as f32, s.opacity.clamp(0.0, 1.0), (0.75 / self.scale.max(0.1)).min(0.5)],
            flags: [flag(s.by_instance), flag(s.errors), flag(s.outlines), hover],
            palette: s.palette,
        };
        queue.write_buffer(&v.uniform, 0, bytemuck::bytes_of(&u));
        Vec::new()
    }

    fn paint(&self, _info: egui::PaintCallbackInfo, pass: &mut wgpu::RenderPass<'static>, resources: &egui_wgpu::CallbackResources) {
        let Some(r) = resources.get::<MaskRenderer>() else { return };
        let Some(v) = r.views.get(&self.key) else { return };
        pass.set_pipeline(&r.pipeline);
        pass.set_bind_group(0, &v.group, &[]);
        pass.draw(0..3, 0..1);
    }
}

/// Draw the overlay `side` points on its longer side (aspect kept); returns
/// where it was drawn and the pixel under the pointer, if any.
pub fn show_mask(ui: &mut egui::Ui, id_salt: &str, image: &Arc<MaskImage>, style: MaskStyle, side: f32) -> (egui::Rect, Option<(u32, u32)>) {
    let (w, h) = (image.width.max(1) as f32, image.height.max(1) as f32);
    let scale = side / w.max(h);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(w * scale, h * scale), egui::Sense::hover());
    // Named for screen readers and UI tests ("prediction overlay").
    response.widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Image, true, format!("{id_salt} overlay")));
    let key = response.id.value();
    let callback = MaskCallback { key, image: image.clone(), style, scale };
    ui.painter().add(egui_wgpu::Callback::new_paint_callback(rect, callback));
    let hover = response.hover_pos().and_then(|pos| {
        let uv = (pos - rect.min) / rect.size();
        let (x, y) = ((uv.x * w).floor(), (uv.y * h).floor());
        (x >= 0.0 && y >= 0.0 && x < w && y < h).then_some((x as u32, y as u32))
    });
    (rect, hover)
}
