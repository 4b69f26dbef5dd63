//! binvox voxel files: a text header (`#binvox 1`, `dim`, `translate`, `scale`,
//! `data`) then run-length pairs (value, count). The file's voxel order has y
//! fastest, then z, then x (`index = x*ny*nz + z*ny + y` for `dim nx ny nz`);
//! we convert to `VoxelGrid`'s x-fastest layout. Hand-written (tiny format).

use super::bytes::Cursor;
use super::text;
use crate::geometry::{Asset, FormatError, VoxelGrid};

const BINVOX: &str = "binvox";

pub fn sniff(bytes: &[u8]) -> bool {
    bytes.starts_with(b"#binvox")
}

pub fn read(bytes: &[u8]) -> Result<Asset, FormatError> {
    let mut cur = Cursor::new(bytes);
    if !cur.line().is_some_and(|l| l.starts_with(b"#binvox")) {
        return Err(FormatError::invalid(BINVOX, "does not start with '#binvox'"));
    }
    let (mut dims, mut translate, mut scale) = (None, [0f32; 3], 1f32);
    loop {
        let line = cur.line().ok_or_else(|| FormatError::truncated(BINVOX, "header has no 'data' line"))?;
        let line = text::utf8(BINVOX, line)?;
        let mut w = line.split_ascii_whitespace();
        let key = w.next();
        let nums: Vec<f32> = w.map(|t| text::float(BINVOX, t, || format!("header line {line:?}"))).collect::<Result<_, _>>()?;
        let need = |n: usize| {
            if nums.len() == n { Ok(()) } else { Err(FormatError::invalid(BINVOX, format!("header line {line:?} needs {n} numbers"))) }
        };
        match key {
            Some("dim") => {
                need(3)?;
                if nums.iter().any(|&v| !(1.0..=4096.0).contains(&v) || v.fract() != 0.0) {
                    return Err(FormatError::invalid(BINVOX, format!("bad dimensions {nums:?}")));
                }
                dims = Some([nums[0] as usize, nums[1] as usize, nums[2] as usize]);
            }
            Some("translate") => {
                need(3)?;
                translate = [nums[0], nums[1], nums[2]];
            }
            Some("scale") => {
                need(1)?;
                scale = nums[0];
            }
            Some("data") => break,
            _ => {}
        }
    }
    let [nx, ny, nz] = dims.ok_or_else(|| FormatError::invalid(BINVOX, "no 'dim' line"))?;
    let total = nx * ny * nz;
    // Each 2-byte run covers at most 255 voxels: refuse sizes the data cannot hold
    // before allocating them.
    if total > cur.remaining() / 2 * 255 {
        return Err(FormatError::truncated(BINVOX, format!("expected {total} voxels, the data holds at most {}", cur.remaining() / 2 * 255)));
    }
    let mut values = vec![0f32; total];
    let mut i = 0usize; // position in file order
    while i < total {
        let short = || FormatError::truncated(BINVOX, format!("expected {total} voxels, file ends after {i}"));
        let (value, count) = (cur.u8().ok_or_else(short)?, cur.u8().ok_or_else(short)? as usize);
        if i + count > total {
            return Err(FormatError::invalid(BINVOX, format!("run data covers more than {total} voxels")));
        }
        if value != 0 {
            for k in i..i + count {
                let (x, z, y) = (k / (ny * nz), (k / ny) % nz, k % ny);
                if let Some(v) = values.get_mut(x + nx * (y + ny * z)) {
                    *v = 1.0;
                }
            }
        }
        i += count;
    }
    let voxel_size = scale / nx.max(ny).max(nz) as f32;
    if !(voxel_size.is_finite() && voxel_size > 0.0) {
        return Err(FormatError::invalid(BINVOX, format!("bad scale {scale}")));
    }
    Ok(Asset::Voxels(VoxelGrid { dims: [nx, ny, nz], values, origin: translate, voxel_size }))
}

/// Encode a grid as binvox; voxels above `threshold` are filled.
pub fn write(grid: &VoxelGrid, threshold: f32) -> Vec<u8> {
    let [nx, ny, nz] = grid.dims;
    let o = grid.origin;
    let scale = grid.voxel_size * nx.max(ny).max(nz) as f32;
    let mut out = format!("#binvox 1\ndim {nx} {ny} {nz}\ntranslate {} {} {}\nscale {scale}\ndata\n", o[0], o[1], o[2]).into_bytes();
    let mut run: Option<(u8, u8)> = None;
    for x in 0..nx {
        for z in 0..nz {
            for y in 0..ny {
                let v = u8::from(grid.get(x, y, z).unwrap_or(0.0) > threshold);
                run = match run {
                    Some((rv, n)) if rv == v && n < 255 => Some((rv, n + 1)),
                    Some((rv, n)) => {
                        out.extend_from_slice(&[rv, n]);
                        Some((v, 1))
                    }
                    None => Some((v, 1)),
                };
            }
        }
    }
    if let Some((rv, n)) = run {
        out.extend_from_slice(&[rv, n]);
    }
    out
}
