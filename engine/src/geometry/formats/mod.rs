//! One module per file format. Readers take bytes and return an `Asset` or a
//! `FormatError`; writers (where cheap) return the encoded bytes.

pub(crate) mod bytes;
pub(crate) mod text;

pub mod binvox;
pub mod depth_image;
pub mod gltf;
pub mod npy;
pub mod obj;
pub mod off;
pub mod pcd;
pub mod ply;
pub mod stl;
pub mod vol;
pub mod xyz;

/// Split a polygon into triangles sharing its first vertex (convex polygons,
/// the usual case in files); fewer than 3 vertices adds nothing.
pub(crate) fn fan_triangulate(face: &[u32], out: &mut Vec<[u32; 3]>) {
    if let Some((&a, rest)) = face.split_first() {
        out.extend(rest.windows(2).map(|w| [a, w[0], w[1]]));
    }
}

/// A checked vertex index: `Ok(i)` when `0 <= i < n`, otherwise a message.
pub(crate) fn check_index(i: i64, n: usize) -> Result<u32, String> {
    if i >= 0 && (i as u64) < n as u64 { Ok(i as u32) } else { Err(format!("vertex index {i} out of range (0..{n})")) }
}
