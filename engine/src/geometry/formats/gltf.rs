//! glTF 2.0 (.gltf with its buffers, or single-file .glb) through three-d-asset.
//! Every triangle primitive is transformed to world space and merged into one
//! mesh; normals and colours are kept when every primitive has them.

use crate::geometry::error::with_causes;
use crate::geometry::{Asset, FormatError, Mesh};
use std::path::Path;
use three_d_asset::prelude::{InnerSpace, Mat3, Matrix, SquareMatrix, Vec3};
use three_d_asset::{Geometry, Model};

const GLTF: &str = "glTF";

/// `path` (when the file is on disk) lets a .gltf file find its .bin buffers.
pub fn read(file_name: &str, bytes: &[u8], path: Option<&Path>) -> Result<Asset, FormatError> {
    let is_glb = bytes.starts_with(b"glTF");
    if !is_glb && !bytes.trim_ascii_start().starts_with(b"{") {
        return Err(FormatError::invalid(GLTF, "neither a GLB ('glTF' magic) nor a JSON document"));
    }
    // three-d-asset indexes some inputs unchecked; contain a panic as an error.
    let key = if is_glb { "model.glb".to_string() } else { file_name.to_string() };
    let load = || -> three_d_asset::Result<Model> {
        match path {
            Some(p) if !is_glb => three_d_asset::io::load(&[p])?.deserialize(p),
            _ => three_d_asset::io::deserialize(&key, bytes.to_vec()),
        }
    };
    let model = std::panic::catch_unwind(std::panic::AssertUnwindSafe(load))
        .map_err(|_| FormatError::invalid(GLTF, "the glTF reader failed on malformed data"))?
        .map_err(|e| FormatError::invalid(GLTF, with_causes(&e)))?;
    merge(model)
}

fn merge(model: Model) -> Result<Asset, FormatError> {
    let mut mesh = Mesh::default();
    let (mut normals, mut colors) = (Some(Vec::new()), Some(Vec::new()));
    for prim in &model.geometries {
        let Geometry::Triangles(tri) = &prim.geometry else { continue };
        let m = prim.transformation;
        let normal_m: Mat3 = Mat3::from_cols(m.x.truncate(), m.y.truncate(), m.z.truncate()).invert().map(|i| i.transpose()).unwrap_or(Mat3::from_scale(1.0));
        let base = mesh.positions.len() as u32;
        let pos = tri.positions.to_f32();
        let n = pos.len();
        mesh.positions.extend(pos.iter().map(|p| {
            let w = m * p.extend(1.0);
            [w.x, w.y, w.z]
        }));
        let idx = tri.indices.to_u32().unwrap_or_else(|| (0..n as u32).collect());
        for t in idx.chunks_exact(3) {
            if let Some(&bad) = t.iter().find(|&&i| i as usize >= n) {
                return Err(FormatError::invalid(GLTF, format!("index {bad} out of range (0..{n})")));
            }
            mesh.triangles.push([base + t[0], base + t[1], base + t[2]]);
        }
        normals = normals.zip(tri.normals.as_ref()).map(|(mut acc, ns)| {
            acc.extend(ns.iter().map(|v| {
                let w: Vec3 = (normal_m * v).normalize();
                [w.x, w.y, w.z]
            }));
            acc
        });
        colors = colors.zip(tri.colors.as_ref()).map(|(mut acc, cs)| {
            acc.extend(cs.iter().map(|c| [c.r, c.g, c.b].map(|v| v as f32 / 255.0)));
            acc
        });
    }
    if mesh.triangles.is_empty() {
        return Err(FormatError::invalid(GLTF, "no triangle meshes"));
    }
    let n = mesh.positions.len();
    mesh.normals = normals.filter(|v| v.len() == n);
    mesh.colors = colors.filter(|v| v.len() == n);
    Ok(Asset::Mesh(mesh))
}
