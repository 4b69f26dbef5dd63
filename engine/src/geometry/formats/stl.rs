//! STL, binary and ascii. Triangles come as separate corners; identical corners
//! are welded back into shared vertices so the mesh keeps its connectivity.
//!
//! Hand-written: stl_io (what three-d-asset uses) panics on NaN coordinates
//! (`partial_cmp().unwrap()` while indexing), which garbage bytes produce.

use super::bytes::{Cursor, Endian};
use super::text;
use crate::geometry::{Asset, FormatError, Mesh};
use std::collections::HashMap;
use std::fmt::Write;

const BINARY: &str = "binary STL";
const ASCII: &str = "ascii STL";

/// Shares identical corners between triangles.
#[derive(Default)]
struct Welder {
    index: HashMap<[u32; 3], u32>,
    positions: Vec<[f32; 3]>,
    triangles: Vec<[u32; 3]>,
}

impl Welder {
    fn corner(&mut self, p: [f32; 3]) -> u32 {
        // Bit patterns as the key; +0.0 folds -0.0 so both weld.
        let key = p.map(|v| (v + 0.0).to_bits());
        *self.index.entry(key).or_insert_with(|| {
            self.positions.push(p);
            (self.positions.len() - 1) as u32
        })
    }
    fn triangle(&mut self, t: [[f32; 3]; 3]) {
        let tri = t.map(|p| self.corner(p));
        self.triangles.push(tri);
    }
    fn finish(self) -> Asset {
        Asset::Mesh(Mesh { positions: self.positions, triangles: self.triangles, normals: None, colors: None })
    }
}

pub fn read(bytes: &[u8]) -> Result<Asset, FormatError> {
    let declared = bytes.get(80..84).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes);
    let binary_size = declared.map(|n| 84 + 50 * n as u64);
    if binary_size == Some(bytes.len() as u64) {
        return read_binary(bytes);
    }
    let looks_ascii = bytes.trim_ascii_start().starts_with(b"solid") && std::str::from_utf8(bytes).is_ok();
    if looks_ascii || declared.is_none() { read_ascii(bytes) } else { read_binary(bytes) }
}

fn read_binary(bytes: &[u8]) -> Result<Asset, FormatError> {
    let mut cur = Cursor::new(bytes);
    cur.take(80).ok_or_else(|| FormatError::truncated(BINARY, "no 80-byte header"))?;
    let n = cur.u32(Endian::Little).ok_or_else(|| FormatError::truncated(BINARY, "no triangle count"))? as usize;
    let mut w = Welder::default();
    w.triangles.reserve(n.min(cur.remaining() / 50));
    for k in 0..n {
        let short = || FormatError::truncated(BINARY, format!("expected {n} triangles, file ends after {k}"));
        let rec = cur.take(50).ok_or_else(short)?;
        let mut r = Cursor::new(rec.get(12..).ok_or_else(short)?); // skip the facet normal
        let mut corner = || -> Option<[f32; 3]> { Some([r.f32(Endian::Little)?, r.f32(Endian::Little)?, r.f32(Endian::Little)?]) };
        let t = [corner().ok_or_else(short)?, corner().ok_or_else(short)?, corner().ok_or_else(short)?];
        if !t.iter().flatten().all(|v| v.is_finite()) {
            return Err(FormatError::invalid(BINARY, format!("triangle {k} has a non-finite coordinate")));
        }
        w.triangle(t);
    }
    Ok(w.finish())
}

fn read_ascii(bytes: &[u8]) -> Result<Asset, FormatError> {
    let src = text::utf8(ASCII, bytes)?;
    let mut tok = src.split_ascii_whitespace();
    if tok.next() != Some("solid") {
        return Err(FormatError::invalid(ASCII, "does not start with 'solid' (and is not binary STL)"));
    }
    let mut w = Welder::default();
    let mut corners = Vec::with_capacity(3);
    let mut ended = false;
    while let Some(t) = tok.next() {
        match t {
            "vertex" => {
                let mut p = [0f32; 3];
                for v in &mut p {
                    let t = tok.next().ok_or_else(|| FormatError::truncated(ASCII, "file ends inside a vertex"))?;
                    *v = text::float(ASCII, t, || format!("facet {}", w.triangles.len()))?;
                }
                corners.push(p);
            }
            "endloop" => match corners[..] {
                [a, b, c] => {
                    w.triangle([a, b, c]);
                    corners.clear();
                }
                _ => return Err(FormatError::invalid(ASCII, format!("facet {} has {} vertices, not 3", w.triangles.len(), corners.len()))),
            },
            "endsolid" => {
                ended = true;
                break;
            }
            _ => {} // facet, normal, outer, loop, endfacet, names
        }
    }
    if !ended || !corners.is_empty() {
        return Err(FormatError::truncated(ASCII, format!("no 'endsolid' after {} facets", w.triangles.len())));
    }
    Ok(w.finish())
}

fn facet_normal(mesh: &Mesh, t: &[u32; 3]) -> [f32; 3] {
    let p = t.map(|i| mesh.positions.get(i as usize).copied().unwrap_or_default());
    crate::geometry::triangle_normal(p[0], p[1], p[2])
}

/// Encode a mesh as binary STL.
pub fn write_binary(mesh: &Mesh) -> Vec<u8> {
    let mut out = b"binary STL written by vislab".to_vec();
    out.resize(80, b' ');
    out.extend_from_slice(&(mesh.triangles.len() as u32).to_le_bytes());
    for t in &mesh.triangles {
        let corners = t.map(|i| mesh.positions.get(i as usize).copied().unwrap_or_default());
        for v in std::iter::once(facet_normal(mesh, t)).chain(corners).flatten() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&[0, 0]);
    }
    out
}

/// Encode a mesh as ascii STL.
pub fn write_ascii(mesh: &Mesh) -> Vec<u8> {
    let mut s = String::from("solid vislab\n");
    for t in &mesh.triangles {
        let n = facet_normal(mesh, t);
        let _ = writeln!(s, "facet normal {} {} {}\n outer loop", n[0], n[1], n[2]);
        for i in t {
            let p = mesh.positions.get(*i as usize).copied().unwrap_or_default();
            let _ = writeln!(s, "  vertex {} {} {}", p[0], p[1], p[2]);
        }
        s.push_str(" endloop\nendfacet\n");
    }
    s.push_str("endsolid vislab\n");
    s.into_bytes()
}
