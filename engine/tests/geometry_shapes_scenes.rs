//! Procedural shapes, built-in scenes and depth back-projection against
//! hand-worked numbers and known geometry.

mod geometry_support;

use geometry_support::*;
use vislab_engine::geometry::{Asset, DepthMap, Intrinsics, Mesh, scenes, shapes};

fn face_normal(m: &Mesh, t: [u32; 3]) -> [f32; 3] {
    let p = t.map(|i| m.positions[i as usize]);
    vislab_engine::geometry::triangle_normal(p[0], p[1], p[2])
}
fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn len(a: [f32; 3]) -> f32 {
    dot(a, a).sqrt()
}

/// Every triangle's winding agrees with its corners' stored normals, which are unit length.
fn assert_consistent_normals(m: &Mesh, what: &str) {
    let normals = m.normals.as_ref().expect("normals");
    assert_eq!(normals.len(), m.positions.len());
    for &t in &m.triangles {
        let f = face_normal(m, t);
        assert!((len(f) - 1.0).abs() < 1e-4, "{what}: degenerate triangle {t:?}");
        for i in t {
            let n = normals[i as usize];
            assert!((len(n) - 1.0).abs() < 1e-4, "{what}: normal {n:?} not unit");
            assert!(dot(f, n) > 0.5, "{what}: triangle {t:?} faces {f:?}, vertex normal {n:?}");
        }
    }
}

#[test]
fn sphere_and_icosphere_point_outward() {
    for (m, r, what) in [(shapes::uv_sphere(2.0, 24, 12), 2.0, "uv sphere"), (shapes::icosphere(2), 1.0, "icosphere")] {
        assert_consistent_normals(&m, what);
        for (p, n) in m.positions.iter().zip(m.normals.as_ref().unwrap()) {
            assert!((len(*p) - r).abs() < 1e-5, "{what}: {p:?} off the sphere");
            assert_close(*n, p.map(|v| v / r), 1e-5, what);
        }
        for &t in &m.triangles {
            assert!(dot(face_normal(&m, t), m.positions[t[0] as usize]) > 0.0, "{what}: inward triangle");
        }
    }
    assert_eq!(shapes::icosphere(2).triangles.len(), 20 * 16);
    assert_eq!(shapes::icosphere(2).positions.len(), 162); // 10 * 4^s + 2
}

#[test]
fn torus_normals_point_away_from_the_tube_centre() {
    let (big, small) = (1.0, 0.25);
    let m = shapes::torus(big, small, 32, 16);
    assert_consistent_normals(&m, "torus");
    for (p, n) in m.positions.iter().zip(m.normals.as_ref().unwrap()) {
        let ring = (p[0] * p[0] + p[2] * p[2]).sqrt();
        let centre = [p[0] * big / ring, 0.0, p[2] * big / ring];
        let d = [p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]];
        assert!((len(d) - small).abs() < 1e-5);
        assert_close(*n, d.map(|v| v / small), 1e-4, "torus normal");
    }
}

#[test]
fn cube_has_flat_outward_faces() {
    let m = shapes::cube(2.0);
    assert_eq!((m.positions.len(), m.triangles.len()), (24, 12));
    assert_consistent_normals(&m, "cube");
    for &t in &m.triangles {
        let n = face_normal(&m, t);
        let c = m.positions[t[0] as usize];
        assert!((dot(n, c) - 1.0).abs() < 1e-6, "face plane at distance 1 along its normal");
    }
    let b = m.bounds().unwrap();
    assert_eq!((b.min, b.max), ([-1.0; 3], [1.0; 3]));
}

#[test]
fn vertex_normals_are_area_weighted() {
    // Vertex 0 is shared by a triangle of area 0.5 in the xy plane (normal +z)
    // and one of area 2 in the xz plane (normal -y): 0.5 z + 2 (-y), normalised.
    let mut m = Mesh { positions: vec![[0., 0., 0.], [1., 0., 0.], [0., 1., 0.], [0., 0., 2.], [2., 0., 0.]], triangles: vec![[0, 1, 2], [0, 4, 3]], ..Default::default() };
    m.compute_vertex_normals();
    let n = m.normals.unwrap();
    let k = (0.25f32 + 4.0).sqrt();
    assert_close(n[0], [0.0, -2.0 / k, 0.5 / k], 1e-6, "shared vertex");
    assert_close(n[1], [0., 0., 1.], 1e-6, "vertex of the first triangle only");
    assert_close(n[3], [0., -1., 0.], 1e-6, "vertex of the second triangle only");
    // On a fine icosphere the computed normals approach the radial direction.
    let mut s = shapes::icosphere(3);
    let exact = s.normals.take().unwrap();
    s.compute_vertex_normals();
    for (a, b) in s.normals.unwrap().iter().zip(&exact) {
        assert!(dot(*a, *b) > 0.999);
    }
}

#[test]
fn voxel_torus_matches_its_volume() {
    let g = shapes::voxel_torus(32);
    assert_eq!(g.dims, [32; 3]);
    assert!(g.is_binary());
    let filled = g.values.iter().sum::<f32>();
    // Solid torus volume 2 pi^2 R r^2 in voxels of (1/32)^3.
    let expected = 2.0 * std::f32::consts::PI.powi(2) * 0.3 * 0.13 * 0.13 * 32f32.powi(3);
    assert!((filled - expected).abs() / expected < 0.05, "{filled} voxels vs {expected}");
    assert_eq!(g.get(16, 16, 16), Some(0.0), "the hole");
    assert_eq!(g.get(16 + 9, 16, 16), Some(1.0), "the tube at x = 0.3");
    // Symmetric under x -> -x.
    for (x, y, z) in [(3, 15, 20), (25, 16, 9), (10, 17, 28)] {
        assert_eq!(g.get(x, y, z), g.get(31 - x, y, z));
    }
}

#[test]
fn back_projection_matches_hand_computed_points() {
    let intr = Intrinsics { fx: 2.0, fy: 4.0, cx: 0.5, cy: 0.5, depth_scale: 1000.0 };
    let d = DepthMap { width: 2, height: 2, values: vec![1000.0, 0.0, 2000.0, f32::NAN], intrinsics: intr };
    let colors = [[1., 0., 0.], [0., 1., 0.], [0., 0., 1.], [1., 1., 1.]];
    let pc = d.to_point_cloud(&intr, Some(&colors));
    // (u=0, v=0, z=1): x = -0.5 * 1 / 2, y = -0.5 * 1 / 4; (u=0, v=1, z=2): x = -0.5 * 2 / 2, y = 0.5 * 2 / 4.
    assert_eq!(pc.positions, vec![[-0.25, -0.125, 1.0], [-0.5, 0.25, 2.0]]);
    assert_eq!(pc.colors, Some(vec![[1., 0., 0.], [0., 0., 1.]]));
    assert_eq!(d.to_point_cloud(&intr, None).colors, None);
}

#[test]
fn synthetic_depth_back_projects_onto_its_sphere_and_plane() {
    let d = scenes::depth_scene();
    assert_eq!((d.width, d.height), (320, 240));
    assert_eq!(d.intrinsics, Intrinsics::default_for(320, 240, 1000.0));
    assert!(d.values.iter().all(|v| v.fract() == 0.0), "whole millimetres");
    let pc = d.to_point_cloud(&d.intrinsics, None);
    let (c, r) = (scenes::DEPTH_SPHERE_CENTER, scenes::DEPTH_SPHERE_RADIUS);
    let (mut on_sphere, mut on_plane) = (0, 0);
    for p in &pc.positions {
        let to_centre = len([p[0] - c[0], p[1] - c[1], p[2] - c[2]]);
        let plane = dot(scenes::DEPTH_PLANE_NORMAL, *p) - scenes::DEPTH_PLANE_OFFSET;
        // Millimetre rounding moves a point at most 0.5 mm along z (times the ray's length).
        if (to_centre - r).abs() < 1e-3 {
            on_sphere += 1;
        } else {
            assert!(plane.abs() < 1e-3, "{p:?} is on neither surface ({to_centre}, {plane})");
            on_plane += 1;
        }
    }
    // The sphere's silhouette: a disc of radius f * tan(asin(r / |c|)) pixels.
    let disc = std::f32::consts::PI * (d.intrinsics.fx * (r / c[2]).asin().tan()).powi(2);
    assert!((on_sphere as f32 - disc).abs() / disc < 0.02, "{on_sphere} sphere pixels vs {disc}");
    assert_eq!(on_sphere + on_plane, 320 * 240, "every pixel sees the sphere or the plane");
}

#[test]
fn every_built_in_scene_loads() {
    let want = [("shapes", "mesh"), ("teapot", "mesh"), ("points", "point cloud"), ("voxels", "voxel grid"), ("depth", "depth map")];
    let names: Vec<&str> = scenes::list().iter().map(|s| s.0).collect();
    assert_eq!(names, want.map(|w| w.0));
    for (name, kind) in want {
        assert_eq!(scenes::load(name).unwrap().kind(), kind, "{name}");
    }
    assert_eq!(scenes::load("nope").unwrap_err().to_string(), "nope: no built-in scene named \"nope\"");
    let Asset::Mesh(shapes_mesh) = scenes::load("shapes").unwrap() else { panic!() };
    let n = shapes_mesh.positions.len();
    assert_eq!(shapes_mesh.colors.as_ref().map(Vec::len), Some(n));
    assert_eq!(shapes_mesh.normals.as_ref().map(Vec::len), Some(n));
    assert!(shapes_mesh.triangles.iter().flatten().all(|&i| (i as usize) < n));
    let b = shapes_mesh.bounds().unwrap();
    assert_close(b.min, [-3.6, -1.0, -1.1], 1e-5, "shapes min");
    assert_close(b.max, [3.35, 1.0, 1.1], 1e-5, "shapes max");
    let Asset::Mesh(teapot) = scenes::load("teapot").unwrap() else { panic!() };
    assert_consistent_normals_loose(&teapot);
}

/// The teapot's smooth normals are unit length (its lid and body meet at
/// creases, so per-triangle agreement is not required).
fn assert_consistent_normals_loose(m: &Mesh) {
    let normals = m.normals.as_ref().unwrap();
    let unit = normals.iter().filter(|n| (len(**n) - 1.0).abs() < 1e-4).count();
    assert!(unit as f32 > 0.99 * normals.len() as f32);
}

#[test]
fn big_points_are_deterministic_and_on_the_knot_tube() {
    let a = scenes::big_points(20_000);
    assert_eq!(a, scenes::big_points(20_000));
    assert_eq!(a.positions.len(), 20_000);
    let b = a.bounds().unwrap();
    assert!(b.size().iter().all(|&s| s > 0.5 && s < 3.5), "{b:?}");
    let normals = a.normals.as_ref().unwrap();
    for (p, n) in a.positions.iter().zip(normals).step_by(97) {
        assert!((len(*n) - 1.0).abs() < 1e-4);
        // Stepping back along the normal by the tube radius lands on the knot curve,
        // which stays within 1.4 of the z axis and |z| <= 0.4.
        let c = [p[0] - 0.15 * n[0], p[1] - 0.15 * n[1], p[2] - 0.15 * n[2]];
        let r = (c[0] * c[0] + c[1] * c[1]).sqrt();
        assert!((0.6 - 1e-4..=1.4 + 1e-4).contains(&r) && c[2].abs() <= 0.4 + 1e-4, "{c:?}");
    }
    let colors = a.colors.as_ref().unwrap();
    assert!(colors.iter().flatten().all(|c| (0.0..=1.0).contains(c)));
}

#[test]
fn cylinder_cone_and_pyramid_are_closed_outward_solids_of_their_volume() {
    // A regular n-gon of circumradius r has area n/2 r^2 sin(2 pi / n).
    let n = 24;
    let polygon = |r: f64| n as f64 / 2.0 * r * r * (std::f64::consts::TAU / n as f64).sin();
    for (m, want, what) in [
        (shapes::cylinder(0.5, 1.2, n), polygon(0.5) * 1.2, "cylinder"),
        (shapes::cone(0.5, 1.2, n), polygon(0.5) * 1.2 / 3.0, "cone"),
        (shapes::pyramid(1.0, 0.9), 0.9 / 3.0, "pyramid"),
    ] {
        assert_consistent_normals(&m, what);
        // Positive when every triangle winds outward (counter-clockwise seen from outside).
        let v = m.signed_volume();
        assert!((v - want).abs() < 1e-5 * want.max(1.0), "{what}: volume {v}, expected {want}");
        let b = m.bounds().unwrap();
        assert!((b.max[1] - b.min[1] - if what == "pyramid" { 0.9 } else { 1.2 }).abs() < 1e-6, "{what}: height");
    }
}
