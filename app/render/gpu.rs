//! Shared wgpu plumbing for the 3D renderers: the per-frame uniform, the
//! shader loader (every 3D shader gets `shaders/common.wgsl` in front) and
//! the pipeline boilerplate all primitives share.

use eframe::egui_wgpu::wgpu;
use wgpu::util::DeviceExt as _;

/// Depth format of the offscreen 3D target.
pub const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// Mirrors `struct Frame` in shaders/common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct FrameUniform {
    pub view_proj: [[f32; 4]; 4],
    pub view: [[f32; 4]; 4],
    pub eye: [f32; 4],
    pub params: [f32; 4],
    pub range: [f32; 4],
}

const COMMON: &str = include_str!("../../shaders/common.wgsl");

/// A 3D shader module: common.wgsl followed by the primitive's own file.
pub fn shader_3d(device: &wgpu::Device, name: &str, source: &str) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some(name), source: wgpu::ShaderSource::Wgsl(format!("{COMMON}\n{source}").into()) })
}

const FULLSCREEN: &str = include_str!("../../shaders/fullscreen.wgsl");

/// A shader drawing over a whole viewport: fullscreen.wgsl's vertex stage first.
pub fn shader_fullscreen(device: &wgpu::Device, name: &str, source: &str) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some(name), source: wgpu::ShaderSource::Wgsl(format!("{FULLSCREEN}\n{source}").into()) })
}

pub fn uniform_buffer<T>(device: &wgpu::Device, label: &str) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: std::mem::size_of::<T>() as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// What a pipeline for the 3D target needs to know.
pub struct PipelineSpec<'a> {
    pub label: &'a str,
    pub module: &'a wgpu::ShaderModule,
    pub vs: &'a str,
    pub fs: &'a str,
    pub buffers: &'a [Option<wgpu::VertexBufferLayout<'a>>],
    pub topology: wgpu::PrimitiveTopology,
    pub format: wgpu::TextureFormat,
    /// Pipelines drawn straight into egui's pass have no depth attachment.
    pub depth: bool,
}

pub fn pipeline(device: &wgpu::Device, layout: &wgpu::PipelineLayout, s: PipelineSpec) -> wgpu::RenderPipeline {
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(s.label),
        layout: Some(layout),
        vertex: wgpu::VertexState { module: s.module, entry_point: Some(s.vs), compilation_options: Default::default(), buffers: s.buffers },
        fragment: Some(wgpu::FragmentState {
            module: s.module,
            entry_point: Some(s.fs),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState { format: s.format, blend: None, write_mask: wgpu::ColorWrites::ALL })],
        }),
        primitive: wgpu::PrimitiveState { topology: s.topology, ..Default::default() },
        depth_stencil: s.depth.then(|| wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(true),
            depth_compare: Some(wgpu::CompareFunction::LessEqual),
            stencil: Default::default(),
            bias: Default::default(),
        }),
        multisample: wgpu::MultisampleState::default(),
        multiview_mask: None,
        cache: None,
    })
}

pub fn uniform_entry(binding: u32, visibility: wgpu::ShaderStages) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility,
        ty: wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Uniform, has_dynamic_offset: false, min_binding_size: None },
        count: None,
    }
}

pub fn texture_entry(binding: u32, filterable: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
        ty: wgpu::BindingType::Texture { sample_type: wgpu::TextureSampleType::Float { filterable }, view_dimension: wgpu::TextureViewDimension::D2, multisampled: false },
        count: None,
    }
}

pub fn sampler_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry { binding, visibility: wgpu::ShaderStages::VERTEX_FRAGMENT, ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering), count: None }
}

pub fn linear_sampler(device: &wgpu::Device) -> wgpu::Sampler {
    device.create_sampler(&wgpu::SamplerDescriptor {
        label: Some("linear"),
        mag_filter: wgpu::FilterMode::Linear,
        min_filter: wgpu::FilterMode::Linear,
        address_mode_u: wgpu::AddressMode::ClampToEdge,
        address_mode_v: wgpu::AddressMode::ClampToEdge,
        ..Default::default()
    })
}

/// A 256x1 RGBA colormap lookup texture.
pub fn lut_texture(device: &wgpu::Device) -> wgpu::Texture {
    texture_2d(device, "colormap", 256, 1, wgpu::TextureFormat::Rgba8Unorm, wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST)
}

pub fn texture_2d(device: &wgpu::Device, label: &str, w: u32, h: u32, format: wgpu::TextureFormat, usage: wgpu::TextureUsages) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d { width: w.max(1), height: h.max(1), depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

/// Write tightly packed texels covering the whole texture.
pub fn write_texture(queue: &wgpu::Queue, texture: &wgpu::Texture, bytes_per_texel: u32, data: &[u8]) {
    let size = texture.size();
    queue.write_texture(
        wgpu::TexelCopyTextureInfo { texture, mip_level: 0, origin: wgpu::Origin3d::ZERO, aspect: wgpu::TextureAspect::All },
        data,
        wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(size.width * bytes_per_texel), rows_per_image: Some(size.height) },
        size,
    );
}

/// A vertex buffer with its element count; empty data gives no buffer.
pub struct GpuBuffer {
    pub buffer: Option<wgpu::Buffer>,
    pub len: u32,
}

impl GpuBuffer {
    pub fn new<T: bytemuck::Pod>(device: &wgpu::Device, label: &str, data: &[T], usage: wgpu::BufferUsages) -> Self {
        if data.is_empty() {
            return GpuBuffer { buffer: None, len: 0 };
        }
        let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents: bytemuck::cast_slice(data), usage });
        GpuBuffer { buffer: Some(buffer), len: data.len() as u32 }
    }

    /// Reuse the buffer when the data fits, otherwise grow it.
    pub fn write<T: bytemuck::Pod>(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, label: &str, data: &[T], usage: wgpu::BufferUsages) {
        let bytes = std::mem::size_of_val(data) as u64;
        match &self.buffer {
            Some(b) if b.size() >= bytes && bytes > 0 => {
                queue.write_buffer(b, 0, bytemuck::cast_slice(data));
                self.len = data.len() as u32;
            }
            _ => *self = GpuBuffer::new(device, label, data, usage | wgpu::BufferUsages::COPY_DST),
        }
    }
}
