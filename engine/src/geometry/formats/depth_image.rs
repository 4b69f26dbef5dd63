//! Depth images through the `image` crate: 16-bit grey PNG (raw values,
//! depth_scale 1000: millimetres), 8-bit grey PNG (depth_scale 255: relative
//! depth in 0..1) and float EXR (its depth channel, metres).

use crate::geometry::error::with_causes;
use crate::geometry::{Asset, DepthMap, FormatError, Intrinsics};
use image::{DynamicImage, ImageFormat};

fn decode(bytes: &[u8], format: ImageFormat, name: &'static str) -> Result<DynamicImage, FormatError> {
    image::load_from_memory_with_format(bytes, format).map_err(|e| match e {
        image::ImageError::IoError(e) => FormatError::truncated(name, with_causes(&e)),
        e => FormatError::invalid(name, with_causes(&e)),
    })
}

fn depth(width: u32, height: u32, values: Vec<f32>, depth_scale: f32) -> Asset {
    let (w, h) = (width as usize, height as usize);
    Asset::Depth(DepthMap { width: w, height: h, values, intrinsics: Intrinsics::default_for(w, h, depth_scale) })
}

pub fn read_png(bytes: &[u8]) -> Result<Asset, FormatError> {
    const PNG: &str = "PNG depth";
    match decode(bytes, ImageFormat::Png, PNG)? {
        DynamicImage::ImageLuma16(img) => {
            let (w, h) = img.dimensions();
            Ok(depth(w, h, img.into_raw().into_iter().map(f32::from).collect(), 1000.0))
        }
        DynamicImage::ImageLuma8(img) => {
            let (w, h) = img.dimensions();
            Ok(depth(w, h, img.into_raw().into_iter().map(f32::from).collect(), 255.0))
        }
        other => Err(FormatError::invalid(PNG, format!("{:?} image: a depth map must be single-channel grey", other.color()))),
    }
}

/// The depth channel of an EXR: by name Z, depth, distance, D, Y, R or V
/// (the last dot-separated part, any case, so "ViewLayer.Depth.Z" counts), else the first.
pub fn read_exr(bytes: &[u8]) -> Result<Asset, FormatError> {
    use exr::prelude::{ReadChannels, ReadLayers, read};
    const EXR: &str = "EXR depth";
    let image = read()
        .no_deep_data()
        .largest_resolution_level()
        .all_channels()
        .first_valid_layer()
        .all_attributes()
        .from_buffered(std::io::Cursor::new(bytes))
        .map_err(|e| FormatError::invalid(EXR, with_causes(&e)))?;
    let layer = image.layer_data;
    let (w, h) = (layer.size.width(), layer.size.height());
    let channels = &layer.channel_data.list;
    let rank = |name: &str| {
        let last = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
        ["z", "depth", "distance", "d", "y", "r", "v"].iter().position(|n| *n == last)
    };
    let channel = channels
        .iter()
        .filter_map(|c| Some((rank(&c.name.to_string())?, c)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, c)| c)
        .or(channels.first())
        .ok_or_else(|| FormatError::invalid(EXR, "no channels"))?;
    let values: Vec<f32> = channel.sample_data.values_as_f32().collect();
    if values.len() != w * h {
        return Err(FormatError::invalid(EXR, format!("channel holds {} samples for {w}x{h} pixels", values.len())));
    }
    Ok(depth(w as u32, h as u32, values, 1.0))
}

fn encode(img: DynamicImage, format: ImageFormat) -> Result<Vec<u8>, FormatError> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).map_err(|e| FormatError::Io(e.to_string()))?;
    Ok(out.into_inner())
}

/// Encode raw values as a 16-bit grey PNG (rounded, clamped to 0..65535;
/// invalid values become 0).
pub fn write_png16(d: &DepthMap) -> Result<Vec<u8>, FormatError> {
    let raw: Vec<u16> = d.values.iter().map(|&v| if v.is_finite() { v.round().clamp(0.0, 65535.0) as u16 } else { 0 }).collect();
    let img = image::ImageBuffer::<image::Luma<u16>, _>::from_raw(d.width as u32, d.height as u32, raw)
        .ok_or_else(|| FormatError::invalid("PNG depth", "values do not match width x height"))?;
    encode(DynamicImage::ImageLuma16(img), ImageFormat::Png)
}

/// Encode raw values as a float EXR with one channel named "Z".
pub fn write_exr(d: &DepthMap) -> Result<Vec<u8>, FormatError> {
    use exr::prelude::*;
    if d.values.len() != d.width * d.height {
        return Err(FormatError::invalid("EXR depth", "values do not match width x height"));
    }
    let z = AnyChannel::new("Z", FlatSamples::F32(d.values.clone()));
    let layer = Layer::new((d.width, d.height), LayerAttributes::named("depth"), Encoding::FAST_LOSSLESS, AnyChannels::sort(SmallVec::from_elem(z, 1)));
    let mut out = std::io::Cursor::new(Vec::new());
    Image::from_layer(layer).write().to_buffered(&mut out).map_err(|e| FormatError::Io(e.to_string()))?;
    Ok(out.into_inner())
}
