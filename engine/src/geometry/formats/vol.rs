//! three-d-asset's .vol voxel format: big-endian u32 width, height, depth and
//! border, three f32 extents, then 1 to 4 bytes per voxel with x slowest and z
//! fastest. We keep the first channel, scaled to 0..1. Hand-written because
//! three-d-asset's reader indexes the header unchecked (panics on short files).

use super::bytes::{Cursor, Endian};
use crate::geometry::{Asset, FormatError, VoxelGrid};

const VOL: &str = "vol";

pub fn read(bytes: &[u8]) -> Result<Asset, FormatError> {
    let mut cur = Cursor::new(bytes);
    let short = || FormatError::truncated(VOL, "header needs 28 bytes");
    let mut u = || cur.u32(Endian::Big).ok_or_else(short);
    let (w, h, d, _border) = (u()? as usize, u()? as usize, u()? as usize, u()?);
    let mut f = || cur.f32(Endian::Big).ok_or_else(short);
    let size = [f()?, f()?, f()?];
    let count = w.checked_mul(h).and_then(|n| n.checked_mul(d)).filter(|&n| n > 0 && n <= 1 << 30);
    let count = count.ok_or_else(|| FormatError::invalid(VOL, format!("bad dimensions {w}x{h}x{d}")))?;
    let data = cur.rest();
    let channels = data.len() / count;
    if !(1..=4).contains(&channels) || !data.len().is_multiple_of(count) {
        return Err(FormatError::truncated(VOL, format!("{} data bytes do not hold {count} voxels of 1 to 4 bytes", data.len())));
    }
    let voxel_size = size[0] / w as f32;
    if !(voxel_size.is_finite() && voxel_size > 0.0) {
        return Err(FormatError::invalid(VOL, format!("bad extent {size:?}")));
    }
    let mut values = vec![0f32; count];
    for (k, px) in data.chunks_exact(channels).enumerate() {
        let (x, y, z) = (k / (h * d), (k / d) % h, k % d);
        if let (Some(o), Some(&v)) = (values.get_mut(x + w * (y + h * z)), px.first()) {
            *o = v as f32 / 255.0;
        }
    }
    let origin = [w, h, d].map(|n| -0.5 * n as f32 * voxel_size);
    Ok(Asset::Voxels(VoxelGrid { dims: [w, h, d], values, origin, voxel_size }))
}
