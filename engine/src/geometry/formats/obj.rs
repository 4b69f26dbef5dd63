//! Wavefront OBJ: `v x y z [r g b]`, `vn`, `f` with `v`, `v/vt`, `v//vn`, `v/vt/vn`
//! corners (negative indices count back from the latest vertex); polygons are
//! fan-triangulated. Materials, texture coordinates and groups are ignored.
//! A file with vertices and no faces is a point cloud.
//!
//! Hand-written: three-d-asset's OBJ path panics on non-UTF-8 input, drops
//! per-vertex colours and splits vertices per material, which loses the file's
//! own vertex indexing.

use super::{check_index, fan_triangulate, text};
use crate::geometry::{Asset, FormatError, Mesh, PointCloud};
use std::fmt::Write;

const OBJ: &str = "OBJ";

pub fn read(bytes: &[u8]) -> Result<Asset, FormatError> {
    let src = text::utf8(OBJ, bytes)?;
    let mut positions: Vec<[f32; 3]> = Vec::new();
    let mut colors: Vec<[f32; 3]> = Vec::new();
    let mut file_normals: Vec<[f32; 3]> = Vec::new();
    let mut triangles = Vec::new();
    // Normal index chosen for each vertex; a conflict or a corner without one
    // makes per-vertex normals meaningless, so they are then dropped.
    let mut vertex_normal: Vec<Option<u32>> = Vec::new();
    let mut normals_ok = true;
    let mut face = Vec::new();
    for (no, line) in src.lines().enumerate() {
        let at = || format!("line {}", no + 1);
        let line = line.split('#').next().unwrap_or("");
        let mut tok = line.split_ascii_whitespace();
        let Some(key) = tok.next() else { continue };
        let mut floats = |n: usize| -> Result<Vec<f32>, FormatError> {
            let v: Vec<f32> = tok.by_ref().map(|t| text::float(OBJ, t, at)).collect::<Result<_, _>>()?;
            if v.len() < n {
                return Err(FormatError::invalid(OBJ, format!("{}: expected {n} numbers after {key:?}", at())));
            }
            Ok(v)
        };
        match key {
            "v" => {
                let v = floats(3)?;
                positions.push([v[0], v[1], v[2]]);
                if let [_, _, _, r, g, b, ..] = v[..] {
                    colors.push([r, g, b]);
                }
                vertex_normal.push(None);
            }
            "vn" => {
                let v = floats(3)?;
                file_normals.push([v[0], v[1], v[2]]);
            }
            "f" => {
                face.clear();
                for corner in tok {
                    let mut parts = corner.split('/');
                    let resolve = |s: Option<&str>, n: usize| -> Result<Option<u32>, FormatError> {
                        let Some(s) = s.filter(|s| !s.is_empty()) else { return Ok(None) };
                        let i: i64 = text::number(OBJ, s, at)?;
                        // 1-based; negative counts back from the end so far.
                        let i = if i < 0 { n as i64 + i } else { i - 1 };
                        check_index(i, n).map(Some).map_err(|m| FormatError::invalid(OBJ, format!("{}: {m}", at())))
                    };
                    let v = resolve(parts.next(), positions.len())?.ok_or_else(|| FormatError::invalid(OBJ, format!("{}: empty face corner", at())))?;
                    let _uv = parts.next();
                    let n = resolve(parts.next(), file_normals.len())?;
                    match (n, vertex_normal.get_mut(v as usize)) {
                        (None, _) => normals_ok = false,
                        (Some(n), Some(slot @ None)) => *slot = Some(n),
                        (Some(n), Some(Some(m))) => normals_ok &= *m == n,
                        (Some(_), None) => normals_ok = false,
                    }
                    face.push(v);
                }
                if face.len() < 3 {
                    return Err(FormatError::invalid(OBJ, format!("{}: face with {} vertices", at(), face.len())));
                }
                fan_triangulate(&face, &mut triangles);
            }
            _ => {} // vt, o, g, s, usemtl, mtllib, l, p...
        }
    }
    if positions.is_empty() {
        return Err(FormatError::invalid(OBJ, "no vertices"));
    }
    let colors = (colors.len() == positions.len()).then_some(colors);
    if triangles.is_empty() {
        return Ok(Asset::Points(PointCloud { positions, colors, ..Default::default() }));
    }
    let normals = normals_ok.then(|| vertex_normal.iter().map(|n| n.and_then(|i| file_normals.get(i as usize).copied()).unwrap_or([0.0; 3])).collect());
    Ok(Asset::Mesh(Mesh { positions, triangles, normals, colors }))
}

/// Encode a mesh as OBJ (colours as `v x y z r g b`, normals as `vn`).
pub fn write(mesh: &Mesh) -> Vec<u8> {
    let mut s = String::from("# written by vislab\n");
    for (i, p) in mesh.positions.iter().enumerate() {
        let _ = write!(s, "v {} {} {}", p[0], p[1], p[2]);
        if let Some(c) = mesh.colors.as_ref().and_then(|c| c.get(i)) {
            let _ = write!(s, " {} {} {}", c[0], c[1], c[2]);
        }
        s.push('\n');
    }
    for n in mesh.normals.iter().flatten() {
        let _ = writeln!(s, "vn {} {} {}", n[0], n[1], n[2]);
    }
    let with_normals = mesh.normals.as_ref().is_some_and(|n| n.len() == mesh.positions.len());
    for t in &mesh.triangles {
        let [a, b, c] = t.map(|i| i + 1);
        let _ = if with_normals { writeln!(s, "f {a}//{a} {b}//{b} {c}//{c}") } else { writeln!(s, "f {a} {b} {c}") };
    }
    s.into_bytes()
}
