//! Depth images through the `image` crate: 16-bit grey PNG (raw values,
//! depth_scale 1000: millimetres), 8-bit grey PNG (depth_scale 255: relative
//! depth in 0..1) and float EXR (first channel, metres).

use crate::geometry::{Asset, DepthMap, FormatError, Intrinsics};
use image::{DynamicImage, ImageFormat};

fn decode(bytes: &[u8], format: ImageFormat, name: &'static str) -> Result<DynamicImage, FormatError> {
    image::load_from_memory_with_format(bytes, format).map_err(|e| match e {
        image::ImageError::IoError(e) => FormatError::truncated(name, e.to_string()),
        e => FormatError::invalid(name, e.to_string()),
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

pub fn read_exr(bytes: &[u8]) -> Result<Asset, FormatError> {
    let img = decode(bytes, ImageFormat::OpenExr, "EXR depth")?.into_rgba32f();
    let (w, h) = img.dimensions();
    let values = img.pixels().map(|p| p.0[0]).collect();
    Ok(depth(w, h, values, 1.0))
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

/// Encode raw values as a float EXR (grey in all three channels).
pub fn write_exr(d: &DepthMap) -> Result<Vec<u8>, FormatError> {
    let rgb: Vec<f32> = d.values.iter().flat_map(|&v| [v, v, v]).collect();
    let img = image::ImageBuffer::<image::Rgb<f32>, _>::from_raw(d.width as u32, d.height as u32, rgb)
        .ok_or_else(|| FormatError::invalid("EXR depth", "values do not match width x height"))?;
    encode(DynamicImage::ImageRgb32F(img), ImageFormat::OpenExr)
}
