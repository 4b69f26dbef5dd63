//! Every loader on exact hand-written files and on real meshes written with our
//! writers (or built byte by byte), read back and compared.

mod geometry_support;

use geometry_support::*;
use vislab_engine::geometry::formats::{binvox, depth_image, npy, obj, off, ply, stl, xyz};
use vislab_engine::geometry::{self, Asset, DepthMap, Intrinsics, Mesh, PointCloud, VoxelGrid, shapes};

fn mesh(a: Asset) -> Mesh {
    a.into_mesh().expect("a mesh")
}
fn points(a: Asset) -> PointCloud {
    a.into_points().expect("a point cloud")
}
fn voxels(a: Asset) -> VoxelGrid {
    a.into_voxels().expect("a voxel grid")
}
fn depth(a: Asset) -> DepthMap {
    a.into_depth().expect("a depth map")
}
fn load(name: &str, bytes: &[u8]) -> Asset {
    geometry::load_bytes(name, bytes).unwrap_or_else(|e| panic!("{e}"))
}

// ---------- PLY ----------

#[test]
fn ply_ascii_quad_with_uchar_colors() {
    let src = "ply\r\nformat ascii 1.0\r\ncomment a quad\r\nelement vertex 4\r\nproperty float x\r\nproperty float y\r\nproperty float z\r\n\
property uchar red\r\nproperty uchar green\r\nproperty uchar blue\r\nelement face 1\r\nproperty list uchar int vertex_indices\r\nend_header\r\n\
0 0 0 255 0 0\r\n1 0 0 0 255 0\r\n1 1 0 0 0 255\r\n0 1 0.5 51 102 153\r\n4 0 1 2 3\r\n";
    let m = mesh(load("quad.ply", src.as_bytes()));
    assert_eq!(m.positions, vec![[0., 0., 0.], [1., 0., 0.], [1., 1., 0.], [0., 1., 0.5]]);
    assert_eq!(m.triangles, vec![[0, 1, 2], [0, 2, 3]]);
    let c = m.colors.expect("colours");
    assert_eq!(c[0], [1., 0., 0.]);
    assert_close(c[3], [0.2, 0.4, 0.6], 1e-6, "uchar colour / 255");
    assert!(m.normals.is_none());
}

#[test]
fn ply_big_endian_points_with_float_colors_normals_and_scalar() {
    let mut b = b"ply\nformat binary_big_endian 1.0\nelement vertex 2\nproperty double x\nproperty double y\nproperty double z\n\
property float nx\nproperty float ny\nproperty float nz\nproperty float red\nproperty float green\nproperty float blue\n\
property ushort intensity\nend_header\n"
        .to_vec();
    for (p, n, c, s) in [([1.5f64, -2., 3.25], [0f32, 0., 1.], [0.25f32, 0.5, 1.], 7u16), ([0., 1e3, -1e-3], [1., 0., 0.], [0., 0., 0.], 65535)] {
        p.iter().for_each(|v| b.extend_from_slice(&v.to_be_bytes()));
        n.iter().chain(&c).for_each(|v| b.extend_from_slice(&v.to_be_bytes()));
        b.extend_from_slice(&s.to_be_bytes());
    }
    let pc = points(load("cloud.ply", &b));
    assert_eq!(pc.positions, vec![[1.5, -2., 3.25], [0., 1000., -0.001]]);
    assert_eq!(pc.normals, Some(vec![[0., 0., 1.], [1., 0., 0.]]));
    assert_eq!(pc.colors, Some(vec![[0.25, 0.5, 1.], [0., 0., 0.]]));
    assert_eq!(pc.scalar, Some(("intensity".to_string(), vec![7., 65535.])));
}

#[test]
fn ply_binary_skips_unknown_elements_and_checks_indices() {
    let header = "ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n\
element face 1\nproperty list uchar uint vertex_indices\nproperty uchar flags\nelement edge 1\nproperty int vertex1\nproperty int vertex2\nend_header\n";
    let mut b = header.as_bytes().to_vec();
    for v in [0f32, 0., 0., 1., 0., 0., 0., 1., 0.] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.push(3);
    [2u32, 1, 0].iter().for_each(|i| b.extend_from_slice(&i.to_le_bytes()));
    b.push(9);
    [0i32, 1].iter().for_each(|i| b.extend_from_slice(&i.to_le_bytes()));
    let m = mesh(load("t.ply", &b));
    assert_eq!(m.triangles, vec![[2, 1, 0]]);
    // Same file with an index past the end.
    let at = header.len() + 36 + 1;
    b[at..at + 4].copy_from_slice(&3u32.to_le_bytes());
    let e = geometry::load_bytes("t.ply", &b).unwrap_err().to_string();
    assert!(e.starts_with("t.ply: invalid binary PLY: face 0: vertex index 3 out of range"), "{e}");
}

#[test]
fn ply_rejects_non_finite_vertices() {
    let mut pc = PointCloud { positions: vec![[0., 0., 0.], [1., f32::NAN, 0.], [2., 0., 0.]], ..Default::default() };
    for enc in [ply::PlyEncoding::Ascii, ply::PlyEncoding::BinaryLittleEndian] {
        let e = geometry::load_bytes("n.ply", &ply::write_points(&pc, enc)).unwrap_err().to_string();
        assert!(e.contains("vertex 1 is not finite"), "{e}");
    }
    pc.positions[1][1] = f32::INFINITY;
    assert!(geometry::load_bytes("i.ply", &ply::write_points(&pc, ply::PlyEncoding::BinaryLittleEndian)).is_err());
}

#[test]
fn ply_truncation_message_names_file_and_counts() {
    let teapot = geometry::scenes::teapot().unwrap();
    let bytes = ply::write_mesh(&teapot, ply::PlyEncoding::BinaryLittleEndian);
    let header_len = bytes.windows(11).position(|w| w == b"end_header\n").unwrap() + 11;
    // Cut after the vertices (position + normal, 24 bytes) and 100 whole faces (13 bytes each).
    assert!(teapot.normals.is_some());
    let cut = header_len + 792 * 24 + 100 * 13 + 5;
    let e = geometry::load_bytes("teapot.ply", &bytes[..cut]).unwrap_err();
    assert_eq!(e.to_string(), "teapot.ply: truncated binary PLY: expected 992 faces, file ends after 100");
}

#[test]
fn bunny_round_trips_through_every_mesh_writer() {
    let bunny = bunny();
    assert_eq!((bunny.positions.len(), bunny.triangles.len()), (1839, 3674));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bunny.ply", ply::write_mesh(&bunny, ply::PlyEncoding::BinaryLittleEndian)),
        ("bunny_ascii.ply", ply::write_mesh(&bunny, ply::PlyEncoding::Ascii)),
        ("bunny.obj", obj::write(&bunny)),
        ("bunny.off", off::write(&bunny)),
    ];
    for (name, bytes) in cases {
        let m = mesh(load(name, &bytes));
        assert_eq!(m.positions, bunny.positions, "{name}");
        assert_eq!(m.triangles, bunny.triangles, "{name}");
    }
    // STL stores corners, so vertex order changes; the welded surface must not.
    for (name, bytes) in [("bunny.stl", stl::write_binary(&bunny)), ("bunny_ascii.stl", stl::write_ascii(&bunny))] {
        let m = mesh(load(name, &bytes));
        assert_eq!((m.positions.len(), m.triangles.len()), (1839, 3674), "{name}");
        assert_eq!(triangle_soup(&m), triangle_soup(&bunny), "{name}");
    }
    let pc = points(load("bunny.xyz", &xyz::write(&PointCloud { positions: bunny.positions.clone(), ..Default::default() })));
    assert_eq!(pc.positions, bunny.positions);
}

#[test]
fn bunny_from_hand_built_big_endian_ply_and_binary_pcd() {
    let bunny = bunny();
    // Big-endian PLY with double coordinates and ushort-counted int lists: no writer makes this.
    let mut b = format!(
        "ply\nformat binary_big_endian 1.0\nelement vertex {}\nproperty double x\nproperty double y\nproperty double z\n\
element face {}\nproperty list ushort int vertex_index\nend_header\n",
        bunny.positions.len(),
        bunny.triangles.len()
    )
    .into_bytes();
    bunny.positions.iter().flatten().for_each(|&v| b.extend_from_slice(&(v as f64).to_be_bytes()));
    for t in &bunny.triangles {
        b.extend_from_slice(&3u16.to_be_bytes());
        t.iter().for_each(|&i| b.extend_from_slice(&(i as i32).to_be_bytes()));
    }
    let m = mesh(load("bunny_be.ply", &b));
    assert_eq!(m.positions, bunny.positions);
    assert_eq!(m.triangles, bunny.triangles);

    let mut pcd = format!(
        "# .PCD v0.7\nVERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA binary\n",
        n = bunny.positions.len()
    )
    .into_bytes();
    bunny.positions.iter().flatten().for_each(|v| pcd.extend_from_slice(&v.to_le_bytes()));
    assert_eq!(points(load("bunny.pcd", &pcd)).positions, bunny.positions);
}

#[test]
fn teapot_obj_from_disk() {
    let m = mesh(geometry::load_path(&workspace_file("scenes/teapot.obj")).unwrap());
    assert_eq!((m.positions.len(), m.triangles.len()), (792, 992));
    assert_eq!(m.positions[0], [5.929688, 4.125, 0.]);
    assert_eq!(m.triangles[991], [791, 786, 785]); // "f 792 787 786" in the file, 1-based
}

// ---------- OBJ / OFF / STL / XYZ ----------

#[test]
fn obj_corners_negative_indices_colors_and_normals() {
    let src = "# test\nmtllib none.mtl\no thing\nv 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 1 1 0 0 0 1\nv 0 1 0 1 1 1\nvt 0 0\nvn 0 0 1\n\
usemtl x\nf 1/1/1 2/1/1 3/1/1 4/1/1\nf -4//1 -2//1 -1//1\n";
    let m = mesh(load("q.obj", src.as_bytes()));
    assert_eq!(m.triangles, vec![[0, 1, 2], [0, 2, 3], [0, 2, 3]]);
    assert_eq!(m.colors.unwrap()[3], [1., 1., 1.]);
    assert_eq!(m.normals.unwrap(), vec![[0., 0., 1.]; 4]);
    let only_vertices = points(load("p.obj", b"v 1 2 3\nv 4 5 6\n"));
    assert_eq!(only_vertices.positions, vec![[1., 2., 3.], [4., 5., 6.]]);
    let e = geometry::load_bytes("bad.obj", b"v 0 0 0\nf 1 2 3\n").unwrap_err().to_string();
    assert_eq!(e, "bad.obj: invalid OBJ: line 2: vertex index 1 out of range (0..1)");
}

#[test]
fn off_variants() {
    let m = mesh(load("c.off", b"COFF 4 1 0\n# comment\n0 0 0 255 0 0 255\n1 0 0 0 255 0 255\n1 1 0 0 0 255 255\n0 1 0 0 0 0 255\n4 0 1 2 3 0.5 0.5 0.5\n"));
    assert_eq!(m.triangles, vec![[0, 1, 2], [0, 2, 3]]);
    assert_eq!(m.colors.unwrap()[1], [0., 1., 0.]);
    let m = mesh(load("n.off", b"NOFF\n3 1 0\n0 0 0 0 0 1\n1 0 0 0 0 1\n0 1 0 0 0 1\n3 0 1 2\n"));
    assert_eq!(m.normals.unwrap(), vec![[0., 0., 1.]; 3]);
    let e = geometry::load_bytes("x.off", b"OFF\n3 1 0\n0 0 0\n1 0 0\n").unwrap_err().to_string();
    assert_eq!(e, "x.off: truncated OFF: expected 3 vertices, file ends after 2");
}

#[test]
fn stl_ascii_welds_and_binary_with_solid_header_is_binary() {
    let src = "solid two\nfacet normal 0 0 1\n outer loop\n  vertex 0 0 0\n  vertex 1 0 0\n  vertex 1 1 0\n endloop\nendfacet\n\
facet normal 0 0 1\n outer loop\n  vertex 0 0 0\n  vertex 1 1 0\n  vertex -0 1 0\n endloop\nendfacet\nendsolid two\n";
    let m = mesh(load("two.stl", src.as_bytes()));
    assert_eq!(m.positions, vec![[0., 0., 0.], [1., 0., 0.], [1., 1., 0.], [-0., 1., 0.]]);
    assert_eq!(m.triangles, vec![[0, 1, 2], [0, 2, 3]]);
    // Binary files often start with "solid" too; the size decides.
    let mut b = b"solid but binary".to_vec();
    b.resize(80, b' ');
    b.extend_from_slice(&1u32.to_le_bytes());
    for v in [0f32, 0., 1., 0., 0., 0., 2., 0., 0., 0., 3., 0.] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&[0, 0]);
    let m = mesh(load("one.stl", &b));
    assert_eq!(m.positions, vec![[0., 0., 0.], [2., 0., 0.], [0., 3., 0.]]);
}

#[test]
fn xyz_separators_headers_and_color_ranges() {
    let pc = points(load("a.csv", b"x,y,z,r,g,b\n1,2,3,255,0,51\n4,5,6,0,255,0\n"));
    assert_eq!(pc.positions, vec![[1., 2., 3.], [4., 5., 6.]]);
    assert_close(pc.colors.unwrap()[0], [1., 0., 0.2], 1e-6, "0..255 colours");
    let pc = points(load("b.xyz", b"# comment\n1 2 3 0.5 0.25 1\n\n4 5 6\t0 0 0\n"));
    assert_eq!(pc.colors.unwrap(), vec![[0.5, 0.25, 1.], [0., 0., 0.]]);
    let pc = points(load("c.txt", b"1 2 3 0.7\n"));
    assert_eq!(pc.scalar, Some(("value".into(), vec![0.7])));
    let e = geometry::load_bytes("d.xyz", b"1 2 3\n4 5\n").unwrap_err().to_string();
    assert_eq!(e, "d.xyz: invalid XYZ point list: line 2: 2 columns, earlier lines have 3");
}

// ---------- PCD ----------

#[test]
fn pcd_ascii_with_packed_rgb_and_intensity() {
    let rgb = f32::from_bits(0x00FF_8000);
    let src = format!(
        "# .PCD v0.7\nVERSION 0.7\nFIELDS x y z rgb intensity\nSIZE 4 4 4 4 4\nTYPE F F F F F\nCOUNT 1 1 1 1 1\nWIDTH 3\nHEIGHT 1\nPOINTS 3\nDATA ascii\n\
1 2 3 {rgb:e} 0.5\nnan nan nan 0 0\n-1 0 2.5 0 9\n"
    );
    let pc = points(load("c.pcd", src.as_bytes()));
    assert_eq!(pc.positions, vec![[1., 2., 3.], [-1., 0., 2.5]], "NaN point dropped");
    assert_close(pc.colors.unwrap()[0], [1., 128. / 255., 0.], 1e-6, "packed rgb");
    assert_eq!(pc.scalar, Some(("intensity".into(), vec![0.5, 9.])));
}

#[test]
fn pcd_binary_compressed() {
    // Two points, field-major: x0 x1 y0 y1 z0 z1 as f32 LE, then an rgb u32 each.
    let mut raw = Vec::new();
    for v in [1f32, 2., 3., 3., 5., 6.] {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    raw.extend_from_slice(&0x0000_00FFu32.to_le_bytes());
    raw.extend_from_slice(&0x0000_00FFu32.to_le_bytes());
    // LZF: 12 literal bytes, then the rest as literals except y1 which repeats y0 (a back-reference).
    let mut lzf = vec![11u8];
    lzf.extend_from_slice(&raw[..12]); // x0 x1 y0
    lzf.extend_from_slice(&[(2 << 5), 3]); // copy 4 bytes from 4 back: y1 = y0
    lzf.push(11);
    lzf.extend_from_slice(&raw[16..28]); // z0 z1 rgb0
    lzf.extend_from_slice(&[(2 << 5), 3]); // rgb1 = rgb0
    let mut b = b"VERSION 0.7\nFIELDS x y z rgb\nSIZE 4 4 4 4\nTYPE F F F U\nCOUNT 1 1 1 1\nWIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA binary_compressed\n".to_vec();
    b.extend_from_slice(&(lzf.len() as u32).to_le_bytes());
    b.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    b.extend_from_slice(&lzf);
    let pc = points(load("z.pcd", &b));
    assert_eq!(pc.positions, vec![[1., 3., 5.], [2., 3., 6.]]);
    assert_eq!(pc.colors.unwrap(), vec![[0., 0., 1.]; 2]);
}

// ---------- voxels ----------

#[test]
fn binvox_2x2x2_uses_x_z_y_order() {
    // Only voxel (x=1, y=0, z=1) set: file index x*4 + z*2 + y = 6.
    let mut b = b"#binvox 1\ndim 2 2 2\ntranslate -1 -2 -3\nscale 4\ndata\n".to_vec();
    b.extend_from_slice(&[0, 6, 1, 1, 0, 1]);
    let g = voxels(load("g.binvox", &b));
    assert_eq!(g.dims, [2, 2, 2]);
    assert_eq!(g.origin, [-1., -2., -3.]);
    assert_eq!(g.voxel_size, 2.0);
    for (x, y, z) in (0..8).map(|i| (i & 1, (i >> 1) & 1, i >> 2)) {
        assert_eq!(g.get(x, y, z), Some(if (x, y, z) == (1, 0, 1) { 1.0 } else { 0.0 }), "{x} {y} {z}");
    }
    let torus = shapes::voxel_torus(20);
    assert_eq!(voxels(load("t.binvox", &binvox::write(&torus, 0.5))), torus);
}

#[test]
fn npy_voxels_and_depth_in_all_layouts() {
    fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let header = format!("{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}\n", if fortran { "True" } else { "False" });
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(data);
        b
    }
    // C order (2, 3, 4): flat index (x*3 + y)*4 + z holds its own index.
    let data: Vec<u8> = (0..24).collect();
    let g = voxels(load("v.npy", &npy_bytes("|u1", false, "(2, 3, 4)", &data)));
    assert_eq!(g.dims, [2, 3, 4]);
    assert_eq!(g.get(1, 2, 3), Some(23.0));
    assert_eq!(g.get(1, 0, 2), Some(14.0));
    // Fortran order: flat index x + 2*(y + 3*z).
    let g = voxels(load("f.npy", &npy_bytes("|b1", true, "(2, 3, 4)", &data.iter().map(|&v| u8::from(v == 13)).collect::<Vec<_>>())));
    assert_eq!(g.get(1, 0, 2), Some(1.0));
    assert_eq!(g.values.iter().sum::<f32>(), 1.0);
    // Big-endian f8 2D depth.
    let vals: Vec<u8> = [1.5f64, 0., 2., 4.].iter().flat_map(|v| v.to_be_bytes()).collect();
    let d = depth(load("d.npy", &npy_bytes(">f8", false, "(2, 2)", &vals)));
    assert_eq!((d.width, d.height, d.values.clone()), (2, 2, vec![1.5, 0., 2., 4.]));
    assert_eq!(d.intrinsics, Intrinsics::default_for(2, 2, 1.0));
    assert_eq!(d.metres(1, 1), Some(4.0));
    // Writers round trip.
    let torus = shapes::voxel_torus(12);
    let back = voxels(load("t.npy", &npy::write_voxels(&torus)));
    assert_eq!(back.values, torus.values);
    let scene = geometry::scenes::depth_scene();
    assert_eq!(depth(load("s.npy", &npy::write_depth(&scene))).values, scene.values);
}

#[test]
fn vol_header_and_layout() {
    let mut b = Vec::new();
    [2u32, 1, 3, 0].iter().for_each(|v| b.extend_from_slice(&v.to_be_bytes()));
    [2f32, 1., 3.].iter().for_each(|v| b.extend_from_slice(&v.to_be_bytes()));
    b.extend_from_slice(&[0, 0, 255, 51, 0, 0]); // x slowest, z fastest
    let g = voxels(load("a.vol", &b));
    assert_eq!(g.dims, [2, 1, 3]);
    assert_eq!(g.voxel_size, 1.0);
    assert_eq!(g.get(0, 0, 2), Some(1.0));
    assert_eq!(g.get(1, 0, 0), Some(0.2));
    assert_eq!(g.values.iter().filter(|&&v| v > 0.0).count(), 2);
}

// ---------- depth images ----------

#[test]
fn depth_png16_round_trip_and_gray8() {
    let scene = geometry::scenes::depth_scene();
    let back = depth(load("d.png", &depth_image::write_png16(&scene).unwrap()));
    assert_eq!(back.values, scene.values);
    assert_eq!(back.intrinsics.depth_scale, 1000.0);
    let gray = image::GrayImage::from_raw(2, 1, vec![10, 200]).unwrap();
    let mut png = std::io::Cursor::new(Vec::new());
    gray.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let d = depth(load("g.png", png.get_ref()));
    assert_eq!((d.values.clone(), d.intrinsics.depth_scale), (vec![10., 200.], 255.0));
    let rgb = image::RgbImage::new(2, 2);
    let mut png = std::io::Cursor::new(Vec::new());
    rgb.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let e = geometry::load_bytes("c.png", png.get_ref()).unwrap_err().to_string();
    assert!(e.starts_with("c.png: invalid PNG depth: Rgb8 image"), "{e}");
}

#[test]
fn depth_exr_single_z_channel_and_rgb() {
    let d = DepthMap { width: 3, height: 2, values: vec![0.5, 1.25, 0., 3.0, 2.5, 7.75], intrinsics: Intrinsics::default_for(3, 2, 1.0) };
    let back = depth(load("d.exr", &depth_image::write_exr(&d).unwrap()));
    assert_eq!(back, d);
    // An RGB EXR (as image writes them): the depth is taken from R.
    let rgb: Vec<f32> = d.values.iter().flat_map(|&v| [v, 99.0, -1.0]).collect();
    let img = image::Rgb32FImage::from_raw(3, 2, rgb).unwrap();
    let mut exr = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb32F(img).write_to(&mut exr, image::ImageFormat::OpenExr).unwrap();
    assert_eq!(depth(load("rgb.exr", exr.get_ref())).values, d.values);
}

// ---------- glTF ----------

#[test]
fn gltf_with_external_buffer_from_disk() {
    // The GLB's JSON and BIN chunks as a .gltf file beside its .bin buffer.
    let glb = tiny_glb();
    let json_len = u32::from_le_bytes(glb[12..16].try_into().unwrap()) as usize;
    let json = std::str::from_utf8(&glb[20..20 + json_len]).unwrap().trim_end();
    let json = json.replace(r#""buffers":[{"byteLength":44}]"#, r#""buffers":[{"byteLength":44,"uri":"tri.bin"}]"#);
    let dir = std::env::temp_dir().join(format!("vislab-gltf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tri.gltf"), json).unwrap();
    std::fs::write(dir.join("tri.bin"), &glb[20 + json_len + 8..]).unwrap();
    let m = mesh(geometry::load_path(&dir.join("tri.gltf")).unwrap());
    assert_eq!(m.positions, vec![[1., 0., 0.], [2., 0., 0.], [1., 1., 0.]]);
    std::fs::remove_file(dir.join("tri.bin")).unwrap();
    let e = geometry::load_path(&dir.join("tri.gltf")).unwrap_err();
    assert_eq!(e.file, "tri.gltf");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn glb_hand_built_triangle() {
    let m = mesh(load("tri.glb", &tiny_glb()));
    assert_eq!(m.positions, vec![[1., 0., 0.], [2., 0., 0.], [1., 1., 0.]]);
    assert_eq!(m.triangles, vec![[0, 1, 2]]);
}

// ---------- dispatch ----------

#[test]
fn load_path_sniffs_magic_and_reports_file_names() {
    let dir = std::env::temp_dir().join(format!("vislab-geom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A PLY under a wrong extension still opens.
    let p = dir.join("mislabelled.dat");
    std::fs::write(&p, ply::write_points(&geometry::scenes::big_points(10), ply::PlyEncoding::Ascii)).unwrap();
    assert_eq!(points(geometry::load_path(&p).unwrap()).positions.len(), 10);
    let e = geometry::load_path(&dir.join("absent.ply")).unwrap_err();
    assert_eq!(e.file, "absent.ply");
    assert!(e.to_string().starts_with("absent.ply: cannot read file:"), "{e}");
    let e = geometry::load_bytes("model.fbx", b"xx").unwrap_err().to_string();
    assert!(e.starts_with("model.fbx: unsupported file type \"fbx\" (supported: ply, obj"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
    for ext in geometry::SUPPORTED_EXTENSIONS {
        assert!(!matches!(geometry::load_bytes(&format!("x.{ext}"), b"").unwrap_err().error, geometry::FormatError::UnsupportedExtension(_)), "{ext}");
    }
}

#[test]
fn ply_points_round_trip_with_all_attributes() {
    let mut pc = geometry::scenes::big_points(500);
    pc.scalar = Some(("curvature".into(), (0..500).map(|i| i as f32 * 0.5).collect()));
    for enc in [ply::PlyEncoding::Ascii, ply::PlyEncoding::BinaryLittleEndian] {
        let back = points(load("p.ply", &ply::write_points(&pc, enc)));
        assert_eq!(back.positions, pc.positions);
        assert_eq!(back.normals, pc.normals);
        assert_eq!(back.scalar, pc.scalar);
        // Colours go through uchar.
        for (a, b) in back.colors.unwrap().iter().zip(pc.colors.as_ref().unwrap()) {
            assert_close(*a, *b, 0.5 / 255.0 + 1e-6, "colour");
        }
    }
}
