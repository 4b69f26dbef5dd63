//! Shared helpers for the geometry tests: real data files and small checks.
#![allow(dead_code)]

use std::path::PathBuf;
use vislab_engine::geometry::Mesh;

/// `$VISLAB_DATA`, else `<workspace>/.cache/data`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("VISLAB_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/data"),
    }
}

/// A file under the data folder; panics (failing the test) when it is missing.
pub fn data_file(rel: &str) -> PathBuf {
    let p = data_dir().join(rel);
    assert!(p.exists(), "test data {} is missing: run tests/fetch-data.sh first", p.display());
    p
}

pub fn workspace_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The JSON array assigned to `exports.<name>` in a CommonJS data module.
fn js_array<T: serde::de::DeserializeOwned>(src: &str, name: &str) -> T {
    let key = format!("exports.{name}");
    let start = src.find(&key).unwrap_or_else(|| panic!("no {key}")) + key.len();
    let rest = &src[start..];
    let open = rest.find('[').expect("array start");
    // Arrays of arrays of numbers: the value ends at the first "]]".
    let end = rest.find("]]").expect("array end") + 2;
    serde_json::from_str(&rest[open..end]).expect("array parses as JSON")
}

/// The Stanford bunny from npm bunny@1.0.1 (1,839 vertices, 3,674 triangles).
pub fn bunny() -> Mesh {
    let src = std::fs::read_to_string(data_file("bunny/index.js")).expect("read bunny/index.js");
    let positions: Vec<[f32; 3]> = js_array(&src, "positions");
    let triangles: Vec<[u32; 3]> = js_array(&src, "cells");
    Mesh { positions, triangles, normals: None, colors: None }
}

pub fn assert_close(a: [f32; 3], b: [f32; 3], tol: f32, what: &str) {
    for k in 0..3 {
        assert!((a[k] - b[k]).abs() <= tol, "{what}: {a:?} vs {b:?}");
    }
}

/// The mesh's triangles as position triples, each rotated to start at its
/// smallest corner, sorted: equal for meshes with the same surface whatever
/// their vertex order.
pub fn triangle_soup(m: &Mesh) -> Vec<[[u32; 3]; 3]> {
    let mut soup: Vec<[[u32; 3]; 3]> = m
        .triangles
        .iter()
        .map(|t| {
            let c = t.map(|i| m.positions[i as usize].map(f32::to_bits));
            let k = (0..3).min_by_key(|&k| c[k]).unwrap();
            [c[k], c[(k + 1) % 3], c[(k + 2) % 3]]
        })
        .collect();
    soup.sort();
    soup
}

/// Deterministic bytes for garbage tests.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 56) as u8
        })
        .collect()
}

/// A GLB holding one triangle (u16 indices) under a node translated by +1 in x.
pub fn tiny_glb() -> Vec<u8> {
    let json = r#"{"asset":{"version":"2.0"},"scene":0,"scenes":[{"nodes":[0]}],"nodes":[{"mesh":0,"translation":[1,0,0]}],
"meshes":[{"primitives":[{"attributes":{"POSITION":0},"indices":1}]}],"buffers":[{"byteLength":44}],
"bufferViews":[{"buffer":0,"byteOffset":0,"byteLength":36},{"buffer":0,"byteOffset":36,"byteLength":6}],
"accessors":[{"bufferView":0,"componentType":5126,"count":3,"type":"VEC3","min":[0,0,0],"max":[1,1,0]},
{"bufferView":1,"componentType":5123,"count":3,"type":"SCALAR"}]}"#;
    let mut json = json.replace('\n', "").into_bytes();
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let mut bin = Vec::new();
    [0f32, 0., 0., 1., 0., 0., 0., 1., 0.].iter().for_each(|v| bin.extend_from_slice(&v.to_le_bytes()));
    [0u16, 1, 2].iter().for_each(|v| bin.extend_from_slice(&v.to_le_bytes()));
    bin.extend_from_slice(&[0, 0]);
    let mut b = b"glTF".to_vec();
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&((12 + 8 + json.len() + 8 + bin.len()) as u32).to_le_bytes());
    b.extend_from_slice(&(json.len() as u32).to_le_bytes());
    b.extend_from_slice(b"JSON");
    b.extend_from_slice(&json);
    b.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    b.extend_from_slice(b"BIN\0");
    b.extend_from_slice(&bin);
    b
}
