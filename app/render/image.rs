//! Scalar images (depth maps, activations, masks) drawn through a colormap
//! by the GPU, straight into egui's pass; and RGB images (dataset samples),
//! stored as three planes and shown as they are.

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui_wgpu::{self, wgpu};

use super::colormap::Colormap;
use super::gpu::{self, PipelineSpec};

/// A single-channel float image; values <= 0 or non-finite are "invalid".
/// With `channels == 3` it is an RGB image: `values` holds the red, green
/// and blue planes one after the other, each in [0, 1], drawn as colour
/// (no colormap, no invalid pixels).
#[derive(Debug)]
pub struct ScalarImage {
    pub generation: u64,
    pub width: u32,
    pub height: u32,
    pub values: Vec<f32>,
    /// 1 (scalar) or 3 (RGB planes).
    pub channels: u32,
}

impl ScalarImage {
    /// An image with a generation no other `fresh` image has, so a view
    /// that shows a different image under the same widget id re-uploads it.
    pub fn fresh(width: u32, height: u32, values: Vec<f32>) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1 << 40);
        let generation = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ScalarImage { generation, width, height, values, channels: 1 }
    }

    /// An RGB image from planar `[3, height, width]` values in [0, 1].
    pub fn rgb(width: u32, height: u32, planes: Vec<f32>) -> Self {
        ScalarImage { channels: 3, ..ScalarImage::fresh(width, height, planes) }
    }

    pub fn value(&self, x: u32, y: u32) -> Option<f32> {
        (x < self.width && y < self.height).then(|| self.values.get((y * self.width + x) as usize).copied()).flatten()
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ImageUniform {
    range: [f32; 4],
    size: [f32; 4],
}

pub struct ImageRenderer {
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::RenderPipeline,
    sampler: wgpu::Sampler,
    views: HashMap<u64, ImageGpu>,
}

struct ImageGpu {
    generation: u64,
    lut_map: Option<Colormap>,
    uniform: wgpu::Buffer,
    lut: wgpu::Texture,
    group: wgpu::BindGroup,
}

pub fn install(render_state: &egui_wgpu::RenderState) {
    let mut renderer = render_state.renderer.write();
    if renderer.callback_resources.get::<ImageRenderer>().is_none() {
        let r = ImageRenderer::new(&render_state.device, render_state.target_format);
        renderer.callback_resources.insert(r);
    }
}

impl ImageRenderer {
    fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("image"),
            entries: &[gpu::uniform_entry(0, wgpu::ShaderStages::FRAGMENT), gpu::texture_entry(1, false), gpu::texture_entry(2, true), gpu::sampler_entry(3)],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some("image"), bind_group_layouts: &[Some(&layout)], immediate_size: 0 });
        let module = gpu::shader_fullscreen(device, "image", include_str!("../../shaders/image.wgsl"));
        let pipeline = gpu::pipeline(
            device,
            &pipeline_layout,
            PipelineSpec { label: "image", module: &module, vs: "vs_main", fs: "fs_main", buffers: &[], topology: wgpu::PrimitiveTopology::TriangleList, format, depth: false },
        );
        ImageRenderer { layout, pipeline, sampler: gpu::linear_sampler(device), views: HashMap::new() }
    }

    fn upload(&self, device: &wgpu::Device, queue: &wgpu::Queue, image: &ScalarImage) -> ImageGpu {
        // RGB planes are stacked as one texture three times as tall
        let values = gpu::texture_2d(
            device,
            "image values",
            image.width,
            image.height * image.channels.max(1),
            wgpu::TextureFormat::R32Float,
            wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        );
        gpu::write_texture(queue, &values, 4, bytemuck::cast_slice(&image.values));
        let lut = gpu::lut_texture(device);
        let uniform = gpu::uniform_buffer::<ImageUniform>(device, "image");
        let values_view = values.create_view(&Default::default());
        let lut_view = lut.create_view(&Default::default());
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("image"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&values_view) },
                wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::TextureView(&lut_view) },
                wgpu::BindGroupEntry { binding: 3, resource: wgpu::BindingResource::Sampler(&self.sampler) },
            ],
        });
        ImageGpu { generation: image.generation, lut_map: None, uniform, lut, group }
    }
}

pub struct ImageCallback {
    pub key: u64,
    pub image: Arc<ScalarImage>,
    pub range: [f32; 2],
    pub colormap: Colormap,
}

impl egui_wgpu::CallbackTrait for ImageCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(r) = resources.get_mut::<ImageRenderer>() else { return Vec::new() };
        if r.views.get(&self.key).is_none_or(|v| v.generation != self.image.generation) {
            let v = r.upload(device, queue, &self.image);
            r.views.insert(self.key, v);
        }
        let Some(v) = r.views.get_mut(&self.key) else { return Vec::new() };
        if v.lut_map != Some(self.colormap) {
            gpu::write_texture(queue, &v.lut, 4, &self.colormap.lut());
            v.lut_map = Some(self.colormap);
        }
        let u = ImageUniform { range: [self.range[0], self.range[1], 0.0, 0.0], size: [self.image.width as f32, self.image.height as f32, self.image.channels as f32, 0.0] };
        queue.write_buffer(&v.uniform, 0, bytemuck::bytes_of(&u));
        Vec::new()
    }

    fn paint(&self, _info: egui::PaintCallbackInfo, pass: &mut wgpu::RenderPass<'static>, resources: &egui_wgpu::CallbackResources) {
        let Some(r) = resources.get::<ImageRenderer>() else { return };
        let Some(v) = r.views.get(&self.key) else { return };
        pass.set_pipeline(&r.pipeline);
        pass.set_bind_group(0, &v.group, &[]);
        pass.draw(0..3, 0..1);
    }
}

/// Show the image as large as fits (keeping its aspect); returns the pixel
/// under the pointer, if any.
pub fn show_image(ui: &mut egui::Ui, image: &Arc<ScalarImage>, range: [f32; 2], colormap: Colormap) -> Option<(u32, u32)> {
    let avail = ui.available_size();
    let aspect = image.width.max(1) as f32 / image.height.max(1) as f32;
    let size = if avail.x / avail.y.max(1.0) > aspect { egui::vec2(avail.y * aspect, avail.y) } else { egui::vec2(avail.x, avail.x / aspect) };
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    let callback = ImageCallback { key: response.id.value(), image: image.clone(), range, colormap };
    ui.painter().add(egui_wgpu::Callback::new_paint_callback(rect, callback));
    let pos = response.hover_pos()?;
    let uv = (pos - rect.min) / rect.size();
    let x = (uv.x * image.width as f32).floor();
    let y = (uv.y * image.height as f32).floor();
    (x >= 0.0 && y >= 0.0 && x < image.width as f32 && y < image.height as f32).then_some((x as u32, y as u32))
}
