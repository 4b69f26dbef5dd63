//! Truncated, garbage and corrupted input must give errors, never panics,
//! for every loader.

mod geometry_support;

use geometry_support::*;
use vislab_engine::geometry::formats::{binvox, depth_image, npy, obj, off, ply, stl, xyz};
use vislab_engine::geometry::{self, Asset, DepthMap, Intrinsics, PointCloud, scenes, shapes};

/// How many elements an asset holds (to check a lenient parse only lost data).
fn size(a: &Asset) -> usize {
    match a {
        Asset::Mesh(m) => m.positions.len() + m.triangles.len(),
        Asset::Points(p) => p.positions.len(),
        Asset::Voxels(v) => v.values.len(),
        Asset::Depth(d) => d.values.len(),
    }
}

/// A valid file and the shortest cut that may still load: formats with
/// counts or end markers fail below it; count-free text (OBJ, XYZ) may load
/// any whole-line prefix.
struct Sample {
    name: &'static str,
    bytes: Vec<u8>,
    may_load_from: usize,
}

/// Text formats whose last record is a line of numbers: cutting inside that
/// line can leave a shorter valid number, so only cuts before it must fail.
fn before_last_line(bytes: &[u8]) -> usize {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

fn samples() -> Vec<Sample> {
    let teapot = scenes::teapot().unwrap();
    let mut colored = teapot.clone();
    colored.colors = Some(teapot.positions.iter().map(|p| p.map(|v| (v.abs() / 8.0).min(1.0))).collect());
    let cloud: PointCloud = scenes::big_points(300);
    let depth = scenes::depth_scene();
    let small_depth = DepthMap { width: 4, height: 3, values: (0..12).map(|i| i as f32 * 0.25).collect(), intrinsics: Intrinsics::default_for(4, 3, 1.0) };
    let exact = |name, bytes: Vec<u8>| {
        let n = bytes.len();
        Sample { name, bytes, may_load_from: n }
    };
    let last_line = |name, bytes: Vec<u8>| {
        let n = before_last_line(&bytes);
        Sample { name, bytes, may_load_from: n }
    };
    let mut pcd_ascii = b"VERSION 0.7\nFIELDS x y z rgb\nSIZE 4 4 4 4\nTYPE F F F U\nCOUNT 1 1 1 1\nWIDTH 50\nHEIGHT 1\nPOINTS 50\nDATA ascii\n".to_vec();
    let mut pcd_binary = b"VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 50\nHEIGHT 1\nPOINTS 50\nDATA binary\n".to_vec();
    for p in &cloud.positions[..50] {
        pcd_ascii.extend_from_slice(format!("{} {} {} 16711680\n", p[0], p[1], p[2]).as_bytes());
        p.iter().for_each(|v| pcd_binary.extend_from_slice(&v.to_le_bytes()));
    }
    let mut vol = Vec::new();
    [4u32, 4, 4, 0].iter().for_each(|v| vol.extend_from_slice(&v.to_be_bytes()));
    [1f32, 1., 1.].iter().for_each(|v| vol.extend_from_slice(&v.to_be_bytes()));
    vol.extend((0..64).map(|i| (i * 4) as u8));
    vec![
        exact("teapot.ply", ply::write_mesh(&colored, ply::PlyEncoding::BinaryLittleEndian)),
        last_line("teapot_ascii.ply", ply::write_mesh(&colored, ply::PlyEncoding::Ascii)),
        exact("cloud.ply", ply::write_points(&cloud, ply::PlyEncoding::BinaryLittleEndian)),
        Sample { name: "teapot.obj", bytes: obj::write(&teapot), may_load_from: 0 },
        last_line("teapot.off", off::write(&colored)),
        exact("teapot.stl", stl::write_binary(&teapot)),
        // The name after "endsolid" is optional.
        last_line("teapot_ascii.stl", stl::write_ascii(&teapot)),
        Sample { name: "cloud.xyz", bytes: xyz::write(&cloud), may_load_from: 0 },
        last_line("cloud.pcd", pcd_ascii),
        exact("cloud_bin.pcd", pcd_binary),
        exact("torus.binvox", binvox::write(&shapes::voxel_torus(16), 0.5)),
        exact("grid.vol", vol),
        exact("torus.npy", npy::write_voxels(&shapes::voxel_torus(8))),
        exact("depth.npy", npy::write_depth(&small_depth)),
        // The 12-byte IEND chunk closes a PNG but decoders need not wait for it.
        Sample { name: "depth.png", may_load_from: 0, bytes: depth_image::write_png16(&depth).unwrap() },
        exact("depth.exr", depth_image::write_exr(&small_depth).unwrap()),
        exact("tri.glb", tiny_glb()),
    ]
    .into_iter()
    .map(|mut s| {
        if s.name == "depth.png" {
            s.may_load_from = s.bytes.len() - 12;
        }
        s
    })
    .collect()
}

/// Cut points: every byte of the first 96, 150 spread over the file, the last 16.
fn cuts(len: usize) -> Vec<usize> {
    let mut c: Vec<usize> = (0..len.min(96)).chain((0..150).map(|k| k * len / 150)).chain(len.saturating_sub(16)..len).collect();
    c.sort();
    c.dedup();
    c
}

#[test]
fn every_sample_loads_whole() {
    for s in samples() {
        geometry::load_bytes(s.name, &s.bytes).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn truncated_files_give_errors() {
    for s in samples() {
        let whole = size(&geometry::load_bytes(s.name, &s.bytes).unwrap());
        for cut in cuts(s.bytes.len()) {
            match geometry::load_bytes(s.name, &s.bytes[..cut]) {
                Err(e) => {
                    let msg = e.to_string();
                    assert!(msg.starts_with(&format!("{}: ", s.name)) && !msg.contains('\n'), "{msg}");
                }
                Ok(a) => {
                    assert!(cut >= s.may_load_from, "{} cut at {cut} of {} loaded a {}", s.name, s.bytes.len(), a.kind());
                    assert!(size(&a) <= whole, "{} cut at {cut} grew", s.name);
                }
            }
        }
    }
}

#[test]
fn garbage_gives_errors() {
    for ext in geometry::SUPPORTED_EXTENSIONS {
        for (seed, n) in [(1, 0), (2, 1), (3, 17), (4, 300), (5, 5000)] {
            let bytes = noise(n, seed);
            let name = format!("junk.{ext}");
            assert!(geometry::load_bytes(&name, &bytes).is_err(), "{name} of {n} random bytes loaded");
        }
    }
    // Plausible headers followed by noise: anything but a panic.
    let heads: [&[u8]; 7] = [
        b"ply\nformat binary_little_endian 1.0\nelement vertex 40\nproperty float x\nproperty float y\nproperty float z\nelement face 30\nproperty list uchar int vertex_indices\nend_header\n",
        b"ply\nformat binary_big_endian 1.0\nelement vertex 40\nproperty double x\nproperty double y\nproperty double z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n",
        b"#binvox 1\ndim 8 8 8\ntranslate 0 0 0\nscale 1\ndata\n",
        b"\x93NUMPY\x01\x00\x47\x00{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4, 4), }        \n",
        b"VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 40\nHEIGHT 1\nPOINTS 40\nDATA binary_compressed\n",
        b"solid x\n",
        b"glTF\x02\x00\x00\x00",
    ];
    for (k, head) in heads.iter().enumerate() {
        for seed in 0..40 {
            let mut b = head.to_vec();
            b.extend(noise(64 + 37 * seed as usize, seed + 100 * k as u64));
            let _ = geometry::load_bytes("junk.ply", &b);
            let _ = geometry::load_bytes("junk.stl", &b);
            let _ = geometry::load_bytes("junk.pcd", &b);
            let _ = geometry::load_bytes("junk.glb", &b);
        }
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    for s in samples() {
        for seed in 0..120u64 {
            let mut b = s.bytes.clone();
            let r = noise(16, seed);
            // Odd seeds hit the first 256 bytes, where headers and counts live.
            let span = if seed % 2 == 1 { b.len().min(256) } else { b.len() };
            for k in 0..4 {
                let at = (u32::from_le_bytes([r[4 * k], r[4 * k + 1], r[4 * k + 2], r[4 * k + 3]]) as usize) % span;
                b[at] = r[(k + 7) % 16];
            }
            let _ = geometry::load_bytes(s.name, &b);
        }
    }
}

#[test]
fn absurd_counts_fail_without_allocating() {
    let cases: [(&str, &[u8], &str); 12] = [
        ("a.pcd", b"FIELDS x y z\nSIZE 4 4 0\nTYPE F F I\nPOINTS 1\nDATA binary\n\0\0\0\0\0\0\0\0", "unsupported type"),
        ("a.pcd", b"FIELDS x y z\nSIZE 4 4 16\nTYPE F F I\nPOINTS 1\nDATA ascii\n1 2 3\n", "unsupported type"),
        ("a.pcd", b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 18446744073709551615\nPOINTS 1\nDATA binary\n\0", "has unsupported type"),
        (
            "a.ply",
            b"ply\nformat binary_little_endian 1.0\nelement vertex 1000000000000000\nproperty float x\nproperty float y\nproperty float z\nend_header\n\0\0\0\0",
            "expected 1000000000000000 vertices",
        ),
        (
            "a.ply",
            b"ply\nformat ascii 1.0\nelement vertex 18446744073709551615\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n",
            "expected 18446744073709551615 vertices",
        ),
        (
            "a.ply",
            b"ply\nformat ascii 1.0\nelement junk 1000000000000000000\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n",
            "expected 2 vertices, file ends after 1",
        ),
        ("a.off", b"OFF\n999999999999 999999999999 0\n0 0 0\n", "expected 999999999999 vertices"),
        ("a.binvox", b"#binvox 1\ndim 4096 4096 4096\ndata\n\x01\xff", "the data holds at most"),
        ("a.npy", b"\x93NUMPY\x01\x00\x4e\x00{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100000), }\n", "expected 1000000000000000 values"),
        ("a.npy", b"\x93NUMPY\x01\x00\x3c\x00{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }\n", "holds no values"),
        ("a.pcd", b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 99999999999\nDATA binary_compressed\n\x04\0\0\0\xff\xff\xff\xff\x00abcd", "does not match"),
        ("a.pcd", b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 357913941\nDATA binary_compressed\n\x04\0\0\0\xfc\xff\xff\xff\x00abcd", "corrupt compressed data"),
    ];
    for (name, bytes, why) in cases {
        let e = geometry::load_bytes(name, bytes).unwrap_err().to_string();
        assert!(e.starts_with(name) && e.contains(why), "{e}");
    }
}
