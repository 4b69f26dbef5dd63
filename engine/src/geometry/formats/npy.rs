//! NumPy .npy arrays: 2D -> depth map (rows = image rows), 3D -> voxel grid
//! with `array[x, y, z]`. Element types bool, (u)int8..64, float32/64, either
//! byte order, C or Fortran order. Hand-written: the header is a short Python
//! dict literal and the data a flat array.

use super::bytes::{Cursor, Endian};
use crate::geometry::{Asset, DepthMap, FormatError, Intrinsics, VoxelGrid};

const NPY: &str = "npy";
const MAGIC: &[u8] = b"\x93NUMPY";

pub fn sniff(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// A decoded array: shape and values in C (row-major) order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
    /// True for integer and bool element types.
    pub integer: bool,
}

/// The value of `'key':` in the header dict, up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header.get(start..)?.trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') { rest.find(')')? + 1 } else { rest.find([',', '}'])? };
    rest.get(..end).map(str::trim)
}

pub fn read_array(bytes: &[u8]) -> Result<Array, FormatError> {
    let bad = |d: String| FormatError::invalid(NPY, d);
    let mut cur = Cursor::new(bytes);
    if cur.take(6) != Some(MAGIC) {
        return Err(bad("no \\x93NUMPY magic".into()));
    }
    let major = cur.array::<2>().ok_or_else(|| FormatError::truncated(NPY, "no version"))?[0];
    let header_len = match major {
        1 => cur.array::<2>().map(|b| u16::from_le_bytes(b) as usize),
        2 | 3 => cur.u32(Endian::Little).map(|n| n as usize),
        v => return Err(bad(format!("unknown version {v}"))),
    }
    .ok_or_else(|| FormatError::truncated(NPY, "no header length"))?;
    let header = cur.take(header_len).ok_or_else(|| FormatError::truncated(NPY, "header cut short"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text".into()))?;
    let descr = dict_value(header, "descr").ok_or_else(|| bad("header has no 'descr'".into()))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = match dict_value(header, "fortran_order") {
        Some("True") => true,
        Some("False") => false,
        _ => return Err(bad("header has no fortran_order".into())),
    };
    let shape_text = dict_value(header, "shape").ok_or_else(|| bad("header has no 'shape'".into()))?;
    let shape: Vec<usize> = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad(format!("bad shape {shape_text}"))))
        .collect::<Result<_, _>>()?;
    let (order, kind, size) = {
        let mut c = descr.chars();
        let order = c.next().unwrap_or(' ');
        let kind = c.next().unwrap_or(' ');
        (order, kind, c.as_str().parse::<usize>().unwrap_or(0))
    };
    let endian = match order {
        '>' => Endian::Big,
        '<' | '|' | '=' => Endian::Little,
        _ => return Err(bad(format!("unsupported dtype {descr:?}"))),
    };
    let decode: fn([u8; 8], Endian) -> f32 = match (kind, size) {
        ('b', 1) | ('u', 1) => |b, _| b[0] as f32,
        ('i', 1) => |b, _| b[0] as i8 as f32,
        ('u', 2) => |b, e| pick(e, u16::from_le_bytes, u16::from_be_bytes, b) as f32,
        ('i', 2) => |b, e| pick(e, i16::from_le_bytes, i16::from_be_bytes, b) as f32,
        ('u', 4) => |b, e| pick(e, u32::from_le_bytes, u32::from_be_bytes, b) as f32,
        ('i', 4) => |b, e| pick(e, i32::from_le_bytes, i32::from_be_bytes, b) as f32,
        ('u', 8) => |b, e| pick(e, u64::from_le_bytes, u64::from_be_bytes, b) as f32,
        ('i', 8) => |b, e| pick(e, i64::from_le_bytes, i64::from_be_bytes, b) as f32,
        ('f', 4) => |b, e| pick(e, f32::from_le_bytes, f32::from_be_bytes, b),
        ('f', 8) => |b, e| pick(e, f64::from_le_bytes, f64::from_be_bytes, b) as f32,
        _ => return Err(bad(format!("unsupported dtype {descr:?}"))),
    };
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| bad(format!("shape {shape:?} too large")))?;
    let need = count.checked_mul(size).ok_or_else(|| bad(format!("shape {shape:?} too large")))?;
    let data = cur.take(need).ok_or_else(|| FormatError::truncated(NPY, format!("expected {count} values, file ends after {}", cur.remaining() / size)))?;
    let flat: Vec<f32> = data
        .chunks_exact(size)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..size].copy_from_slice(c);
            decode(b, endian)
        })
        .collect();
    let values = if fortran { fortran_to_c(&shape, &flat) } else { flat };
    Ok(Array { shape, values, integer: kind != 'f' })
}

/// Decode the first `N` bytes of `b` with the chosen byte order.
fn pick<T, const N: usize>(e: Endian, le: fn([u8; N]) -> T, be: fn([u8; N]) -> T, b: [u8; 8]) -> T {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[..N]);
    match e {
        Endian::Little => le(a),
        Endian::Big => be(a),
    }
}

/// Reorder a first-index-fastest array into last-index-fastest order.
fn fortran_to_c(shape: &[usize], flat: &[f32]) -> Vec<f32> {
    let mut out = vec![0f32; flat.len()];
    let mut idx = vec![0usize; shape.len()];
    for &v in flat {
        let c = idx.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d + i);
        if let Some(o) = out.get_mut(c) {
            *o = v;
        }
        for (i, &d) in idx.iter_mut().zip(shape) {
            *i += 1;
            if *i < d {
                break;
            }
            *i = 0;
        }
    }
    out
}

/// 2D arrays become depth maps (float: metres, integer: millimetres);
/// 3D arrays become voxel grids centred on the origin, fitting a unit cube.
pub fn read(bytes: &[u8]) -> Result<Asset, FormatError> {
    let a = read_array(bytes)?;
    if a.values.is_empty() {
        return Err(FormatError::invalid(NPY, format!("shape {:?} holds no values", a.shape)));
    }
    match a.shape[..] {
        [h, w] => Ok(Asset::Depth(DepthMap { width: w, height: h, values: a.values, intrinsics: Intrinsics::default_for(w, h, if a.integer { 1000.0 } else { 1.0 }) })),
        [nx, ny, nz] => {
            let mut values = vec![0f32; a.values.len()];
            for (c, &v) in a.values.iter().enumerate() {
                let (x, y, z) = (c / (ny * nz), (c / nz) % ny, c % nz);
                if let Some(o) = values.get_mut(x + nx * (y + ny * z)) {
                    *o = v;
                }
            }
            let voxel_size = 1.0 / nx.max(ny).max(nz).max(1) as f32;
            let origin = [nx, ny, nz].map(|d| -0.5 * d as f32 * voxel_size);
            Ok(Asset::Voxels(VoxelGrid { dims: [nx, ny, nz], values, origin, voxel_size }))
        }
        _ => Err(FormatError::invalid(NPY, format!("shape {:?}: expected 2D (depth) or 3D (voxels)", a.shape))),
    }
}

/// Encode a float32 array in C order (version 1.0 header).
pub fn write_array(shape: &[usize], values: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    // Pad so the data starts on a 64-byte boundary, ending with a newline.
    while !(MAGIC.len() + 4 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    out
}

/// A depth map's raw values as a (height, width) array.
pub fn write_depth(depth: &DepthMap) -> Vec<u8> {
    write_array(&[depth.height, depth.width], &depth.values)
}

/// A voxel grid as an (nx, ny, nz) array indexed `[x, y, z]`.
pub fn write_voxels(grid: &VoxelGrid) -> Vec<u8> {
    let [nx, ny, nz] = grid.dims;
    let mut c_order = Vec::with_capacity(nx * ny * nz);
    for x in 0..nx {
        for y in 0..ny {
            for z in 0..nz {
                c_order.push(grid.get(x, y, z).unwrap_or(0.0));
            }
        }
    }
    write_array(&grid.dims, &c_order)
}
