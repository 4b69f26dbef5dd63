//! Built-in scenes the app can open with no file.

use super::formats::obj;
use super::mesh_ops::{add, cross, dot, length, normalize, scale, sub};
use super::{Asset, DepthMap, FormatError, Intrinsics, LoadError, Mesh, PointCloud, shapes};
use std::f32::consts::TAU;

const TEAPOT_OBJ: &str = include_str!("../../../scenes/teapot.obj");

/// (name, title) of every built-in scene, in display order.
pub fn list() -> Vec<(&'static str, &'static str)> {
    vec![
        ("shapes", "Sphere, torus and cube"),
        ("teapot", "Utah teapot"),
        ("points", "Torus-knot point cloud (50k points)"),
        ("voxels", "Voxelized torus (32^3)"),
        ("depth", "Synthetic depth map: sphere before a tilted plane"),
    ]
}

/// Build a scene by name.
pub fn load(name: &str) -> Result<Asset, LoadError> {
    let err = |e| LoadError::new(name, e);
    Ok(match name {
        "shapes" => Asset::Mesh(shapes_scene()),
        "teapot" => Asset::Mesh(teapot().map_err(err)?),
        "points" => Asset::Points(big_points(50_000)),
        "voxels" => Asset::Voxels(shapes::voxel_torus(32)),
        "depth" => Asset::Depth(depth_scene()),
        _ => return Err(err(FormatError::UnknownScene(name.to_string()))),
    })
}

/// The Utah teapot with smooth vertex normals.
pub fn teapot() -> Result<Mesh, FormatError> {
    match obj::read(TEAPOT_OBJ.as_bytes())? {
        Asset::Mesh(mut m) => {
            m.compute_vertex_normals();
            Ok(m)
        }
        other => Err(FormatError::invalid("OBJ", format!("built-in teapot decoded as a {}", other.kind()))),
    }
}

/// Sphere, torus and cube side by side along x, one colour each, shaded a
/// little by height so the vertex colours are visibly per vertex.
fn shapes_scene() -> Mesh {
    let parts = [
        (shapes::uv_sphere(1.0, 48, 24), [-2.6, 0.0, 0.0], [0.90, 0.30, 0.25]),
        (shapes::torus(0.8, 0.3, 64, 24), [0.0, 0.0, 0.0], [0.30, 0.80, 0.35]),
        (shapes::cube(1.5), [2.6, 0.0, 0.0], [0.25, 0.45, 0.95]),
    ];
    let mut scene = Mesh::default();
    for (mut m, at, rgb) in parts {
        m.colors = Some(m.positions.iter().map(|p| rgb.map(|c| (c * (0.8 + 0.2 * p[1])).clamp(0.0, 1.0))).collect());
        scene.append(&m, at);
    }
    scene
}

/// The depth scene's geometry, in camera coordinates (x right, y down, z forward).
pub const DEPTH_SPHERE_CENTER: [f32; 3] = [0.0, 0.0, 2.0];
pub const DEPTH_SPHERE_RADIUS: f32 = 0.5;
/// Plane `dot(DEPTH_PLANE_NORMAL, p) = DEPTH_PLANE_OFFSET` (unit normal, facing the camera).
pub const DEPTH_PLANE_NORMAL: [f32; 3] = [0.0, -0.316_227_77, -0.948_683_3];
pub const DEPTH_PLANE_OFFSET: f32 = -3.0;

/// 320x240 depth map of a sphere in front of a tilted plane, ray cast through
/// `Intrinsics::default_for(320, 240, 1000)` and stored as whole millimetres.
pub fn depth_scene() -> DepthMap {
    let (w, h) = (320, 240);
    let intr = Intrinsics::default_for(w, h, 1000.0);
    let mut values = Vec::with_capacity(w * h);
    for v in 0..h {
        for u in 0..w {
            // Ray through pixel (u, v) with z = 1, so the hit's t is its depth z.
            let d = [(u as f32 - intr.cx) / intr.fx, (v as f32 - intr.cy) / intr.fy, 1.0];
            let t = ray_sphere(d, DEPTH_SPHERE_CENTER, DEPTH_SPHERE_RADIUS).or_else(|| {
                let denom = dot(DEPTH_PLANE_NORMAL, d);
                let t = DEPTH_PLANE_OFFSET / denom;
                (denom.abs() > 1e-6 && t > 0.0).then_some(t)
            });
            values.push(t.map_or(0.0, |z| (z * intr.depth_scale).round().min(65535.0)));
        }
    }
    DepthMap { width: w, height: h, values, intrinsics: intr }
}

/// Nearest positive t with |t d - c| = r.
fn ray_sphere(d: [f32; 3], c: [f32; 3], r: f32) -> Option<f32> {
    let (a, b, cc) = (dot(d, d), -2.0 * dot(d, c), dot(c, c) - r * r);
    let disc = b * b - 4.0 * a * cc;
    (disc >= 0.0).then(|| (-b - disc.sqrt()) / (2.0 * a)).filter(|&t| t > 0.0)
}

/// Deterministic generator (splitmix64) so scenes and benchmarks repeat exactly.
struct Rng(u64);
impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Colour wheel: hue in [0, 1) to RGB.
fn hue(h: f32) -> [f32; 3] {
    [0.0, 1.0 / 3.0, 2.0 / 3.0].map(|o| (0.5 + 0.5 * (TAU * (h + o)).cos()).clamp(0.0, 1.0))
}

/// `n` points on the surface of a tube (radius 0.15) around a (2, 3) torus knot,
/// coloured by position along the knot, with outward normals. Same `n`, same
/// cloud: for scenes and benchmarks (1M, 5M).
pub fn big_points(n: usize) -> PointCloud {
    let knot = |s: f32| {
        let (p, q) = (2.0 * TAU * s, 3.0 * TAU * s);
        let r = 1.0 + 0.4 * q.cos();
        [r * p.cos(), r * p.sin(), 0.4 * q.sin()]
    };
    let mut rng = Rng(0x5EED);
    let (mut positions, mut colors, mut normals) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let (s, a) = (rng.next_f32(), TAU * rng.next_f32());
        let c = knot(s);
        let tangent = normalize(sub(knot(s + 1e-3), knot(s - 1e-3)));
        // A frame around the tangent: any vector not parallel to it, made orthogonal.
        let side = normalize(cross(tangent, [0.0, 0.0, 1.0]));
        let side = if length(side) > 0.5 { side } else { normalize(cross(tangent, [1.0, 0.0, 0.0])) };
        let up = cross(tangent, side);
        let nrm = add(scale(side, a.cos()), scale(up, a.sin()));
        positions.push(add(c, scale(nrm, 0.15)));
        normals.push(nrm);
        colors.push(hue(s));
    }
    PointCloud { positions, colors: Some(colors), normals: Some(normals), scalar: None }
}
