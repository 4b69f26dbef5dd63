//! Conversions between meshes, point clouds and voxel grids, and marching
//! cubes: hand-worked tiny cases, analytic shapes, and the real teapot and bunny.

mod geometry_support;

use geometry_support::bunny;
use std::f64::consts::PI;
use vislab_engine::geometry::{
    ConvertError, Fill, GridSpec, Mesh, PointCloud, VoxelGrid, fit_mesh_to_voxels, marching_cubes, mesh_to_voxels, points_to_voxels, sample_field, sample_points, scenes, shapes,
    voxels_to_mesh,
};

fn unit_grid(dims: [usize; 3]) -> GridSpec {
    GridSpec { dims, origin: [0.0; 3], voxel_size: 1.0 }
}

fn occupied(grid: &VoxelGrid) -> Vec<[usize; 3]> {
    let [nx, ny, _] = grid.dims;
    grid.values.iter().enumerate().filter(|&(_, &v)| v >= 0.5).map(|(i, _)| [i % nx, (i / nx) % ny, i / (nx * ny)]).collect()
}

fn count(grid: &VoxelGrid) -> usize {
    occupied(grid).len()
}

fn single(positions: Vec<[f32; 3]>, triangles: Vec<[u32; 3]>) -> Mesh {
    Mesh { positions, triangles, normals: None, colors: None }
}

#[test]
fn a_flat_triangle_marks_exactly_the_voxels_it_crosses() {
    // Legs of 2.5 from (0.2, 0.2) in the plane z = 1.5: the hypotenuse x + y = 2.9
    // reaches voxels with i + j <= 2, all in layer z = 1.
    let tri = single(vec![[0.2, 0.2, 1.5], [2.7, 0.2, 1.5], [0.2, 2.7, 1.5]], vec![[0, 1, 2]]);
    let grid = mesh_to_voxels(&tri, &unit_grid([4, 4, 4]), Fill::Surface).unwrap();
    let mut got = occupied(&grid);
    got.sort();
    let mut want = vec![[0, 0, 1], [1, 0, 1], [2, 0, 1], [0, 1, 1], [1, 1, 1], [0, 2, 1]];
    want.sort();
    assert_eq!(got, want);
    // A sliver along y = x + 0.2 (its xy shadow is a segment): it crosses 5
    // voxels of the 3x3 layer, where its bounding box covers all 9.
    let sliver = single(vec![[0.1, 0.3, 0.1], [2.7, 2.9, 0.3], [2.7, 2.9, 0.5]], vec![[0, 1, 2]]);
    let g = mesh_to_voxels(&sliver, &unit_grid([3, 3, 1]), Fill::Surface).unwrap();
    assert_eq!(occupied(&g), vec![[0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 2, 0], [2, 2, 0]]);
}

#[test]
fn a_cube_fills_its_shell_or_its_whole_block() {
    // Voxels of 0.5 from -2 put [-0.9, 0.9] on voxel coordinates 2.2..5.8, i.e. voxels 2..=5.
    let spec = GridSpec { dims: [8; 3], origin: [-2.0; 3], voxel_size: 0.5 };
    let cube = shapes::cube(1.8);
    let surface = mesh_to_voxels(&cube, &spec, Fill::Surface).unwrap();
    let solid = mesh_to_voxels(&cube, &spec, Fill::Solid).unwrap();
    assert_eq!(count(&surface), 4 * 4 * 4 - 2 * 2 * 2);
    assert_eq!(count(&solid), 4 * 4 * 4);
    assert!(occupied(&solid).iter().all(|v| v.iter().all(|&c| (2..=5).contains(&c))));
}

#[test]
fn points_land_in_the_voxel_that_holds_them() {
    let cloud = PointCloud { positions: vec![[0.5, 0.5, 0.5], [1.9, 0.1, 0.0], [1.2, 0.8, 0.1], [5.0, 0.0, 0.0]], ..Default::default() };
    let (grid, kept) = points_to_voxels(&cloud, &unit_grid([2, 2, 2])).unwrap();
    assert_eq!(kept, 3, "the point at x = 5 is outside");
    assert_eq!(occupied(&grid), vec![[0, 0, 0], [1, 0, 0]]);
    // The depth scene back-projected: every point is kept by a grid fitted to it.
    let d = scenes::depth_scene();
    let pc = d.to_point_cloud(&d.intrinsics, None);
    let spec = GridSpec::fit(&pc.bounds().unwrap(), 32, 1).unwrap();
    let (g, kept) = points_to_voxels(&pc, &spec).unwrap();
    assert_eq!(kept, pc.positions.len());
    assert!(count(&g) > 500, "{} voxels", count(&g));
}

#[test]
fn cubify_keeps_only_exposed_faces_and_closes_the_surface() {
    let one = VoxelGrid { dims: [1, 1, 1], values: vec![1.0], origin: [0.0; 3], voxel_size: 2.0 };
    let m = voxels_to_mesh(&one).unwrap();
    assert_eq!((m.positions.len(), m.triangles.len()), (8, 12));
    assert!((m.surface_area() - 24.0).abs() < 1e-9 && (m.signed_volume() - 8.0).abs() < 1e-6);
    assert_eq!(m.boundary_edge_count(), 0);
    // Two neighbours share a face: it is hidden, 10 faces remain.
    let two = VoxelGrid { dims: [2, 1, 1], values: vec![1.0, 1.0], origin: [0.0; 3], voxel_size: 1.0 };
    let m = voxels_to_mesh(&two).unwrap();
    assert_eq!((m.positions.len(), m.triangles.len()), (12, 20));
    assert!((m.surface_area() - 10.0).abs() < 1e-9 && (m.signed_volume() - 2.0).abs() < 1e-6);
    // A voxelized sphere: volume is exactly the voxel count.
    let s = shapes::voxel_sphere(24);
    let m = voxels_to_mesh(&s).unwrap();
    let expect = count(&s) as f64 * (s.voxel_size as f64).powi(3);
    assert!((m.signed_volume() - expect).abs() < 1e-4 * expect, "{} vs {expect}", m.signed_volume());
    assert_eq!(m.boundary_edge_count(), 0);
}

#[test]
fn marching_cubes_on_one_voxel_gives_the_hand_computed_octahedron() {
    // Value 1 at the only voxel, 0 around it, level 1/2: six vertices half a
    // voxel from the centre along the axes, 8 faces, volume (4/3) a^3 with a = 1/2.
    let g = VoxelGrid { dims: [1, 1, 1], values: vec![1.0], origin: [0.0; 3], voxel_size: 1.0 };
    let m = marching_cubes(&g, 0.5).unwrap();
    assert_eq!((m.positions.len(), m.triangles.len()), (6, 8));
    for p in &m.positions {
        let d: Vec<f32> = p.iter().map(|v| (v - 0.5).abs()).collect();
        let mut sorted = d.clone();
        sorted.sort_by(f32::total_cmp);
        assert!(sorted[0] < 1e-6 && sorted[1] < 1e-6 && (sorted[2] - 0.5).abs() < 1e-6, "{p:?}");
    }
    assert!((m.signed_volume() - 4.0 / 3.0 * 0.125).abs() < 1e-6, "{}", m.signed_volume());
    assert_eq!(m.boundary_edge_count(), 0);
    // Inside a 3^3 grid of zeros, level 0.75 puts every vertex a quarter voxel from the centre.
    let mut g3 = VoxelGrid { dims: [3; 3], values: vec![0.0; 27], origin: [0.0; 3], voxel_size: 1.0 };
    g3.values[13] = 1.0;
    let m = marching_cubes(&g3, 0.75).unwrap();
    assert_eq!((m.positions.len(), m.triangles.len()), (6, 8));
    assert!((m.signed_volume() - 4.0 / 3.0 * 0.25f64.powi(3)).abs() < 1e-6);
    // Nothing crosses a level above every value.
    assert!(marching_cubes(&g, 2.0).unwrap().triangles.is_empty());
}

#[test]
fn marching_cubes_of_a_sphere_field_matches_the_analytic_sphere() {
    let r = 0.4f32;
    let spec = GridSpec { dims: [48; 3], origin: [-0.5; 3], voxel_size: 1.0 / 48.0 };
    // Negated signed distance: inside is above the level 0.
    let field = sample_field(&spec, |p| r - (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt());
    let m = marching_cubes(&field, 0.0).unwrap();
    assert_eq!(m.boundary_edge_count(), 0, "closed and consistently oriented");
    let (area, volume) = (4.0 * PI * (r as f64).powi(2), 4.0 / 3.0 * PI * (r as f64).powi(3));
    let (a_err, v_err) = ((m.surface_area() - area).abs() / area, (m.signed_volume() - volume).abs() / volume);
    assert!(a_err < 0.01 && v_err < 0.01, "area error {a_err}, volume error {v_err}");
    let worst = m.positions.iter().map(|p| ((p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt() - r).abs()).fold(0.0, f32::max);
    assert!(worst < 0.1 * spec.voxel_size, "a vertex is {worst} off the sphere");
    // Normals point outward.
    let normals = m.normals.as_ref().unwrap();
    assert!(m.positions.iter().zip(normals).all(|(p, n)| p[0] * n[0] + p[1] * n[1] + p[2] * n[2] > 0.9 * r));
    // A torus has genus one: V - E + F = 0.
    let t = sample_field(&spec, |[x, y, z]| {
        let ring = (x * x + z * z).sqrt() - 0.3;
        0.12 - (ring * ring + y * y).sqrt()
    });
    let m = marching_cubes(&t, 0.0).unwrap();
    assert_eq!(m.boundary_edge_count(), 0);
    let edges = m.triangles.len() * 3 / 2;
    assert_eq!(m.positions.len() as i64 - edges as i64 + m.triangles.len() as i64, 0);
    let volume = 2.0 * PI * PI * 0.3 * 0.12f64.powi(2);
    assert!((m.signed_volume() - volume).abs() < 0.02 * volume, "{} vs {volume}", m.signed_volume());
}

#[test]
fn sphere_voxelization_round_trips_through_both_meshers() {
    let sphere = shapes::uv_sphere(1.0, 64, 32);
    let solid = fit_mesh_to_voxels(&sphere, 40, Fill::Solid).unwrap();
    let surface = fit_mesh_to_voxels(&sphere, 40, Fill::Surface).unwrap();
    assert_eq!(solid.dims, [42; 3]);
    let vs = solid.voxel_size as f64;
    let voxel_volume = count(&solid) as f64 * vs.powi(3);
    let (true_volume, true_area) = (sphere.signed_volume(), sphere.surface_area());
    // Surface voxels reach at most sqrt(3) voxels beyond the surface.
    assert!(voxel_volume > true_volume && voxel_volume < true_volume + true_area * vs * 3f64.sqrt(), "{voxel_volume}");
    assert!(count(&surface) < count(&solid));
    let mc = marching_cubes(&solid, 0.5).unwrap();
    assert_eq!(mc.boundary_edge_count(), 0);
    assert!((mc.signed_volume() - true_volume).abs() < 0.15 * true_volume, "{} vs {true_volume}", mc.signed_volume());
}

#[test]
fn bunny_and_teapot_voxelize_conservatively_and_mesh_back_closed() {
    for (name, mesh) in [("bunny", bunny()), ("teapot", scenes::teapot().unwrap())] {
        let surface = fit_mesh_to_voxels(&mesh, 48, Fill::Surface).unwrap();
        let spec = GridSpec::of(&surface);
        // Every point of the surface lies in a marked voxel.
        let samples = sample_points(&mesh, 20_000, 7);
        let (hit, _) = points_to_voxels(&samples, &spec).unwrap();
        let missed = hit.values.iter().zip(&surface.values).filter(|&(&h, &s)| h > 0.5 && s < 0.5).count();
        assert_eq!(missed, 0, "{name}: surface samples outside the surface voxels");
        let solid = mesh_to_voxels(&mesh, &spec, Fill::Solid).unwrap();
        let (n_surface, n_solid) = (count(&surface), count(&solid));
        assert!(n_solid > n_surface + n_surface / 4, "{name}: interior not filled ({n_surface} -> {n_solid})");
        let vs = spec.voxel_size as f64;
        let volume = mesh.signed_volume().abs();
        let voxel_volume = n_solid as f64 * vs.powi(3);
        assert!(voxel_volume > volume && voxel_volume < volume + mesh.surface_area() * vs * 3f64.sqrt(), "{name}: {voxel_volume} vs {volume}");
        for m in [voxels_to_mesh(&solid).unwrap(), marching_cubes(&solid, 0.5).unwrap()] {
            assert_eq!(m.boundary_edge_count(), 0, "{name}");
            assert!(m.signed_volume() > 0.0);
        }
    }
}

#[test]
fn vertex_normals_are_unit_and_outward_on_real_meshes() {
    let mut s = shapes::icosphere(3);
    s.compute_vertex_normals();
    for (p, n) in s.positions.iter().zip(s.normals.as_ref().unwrap()) {
        assert!(p[0] * n[0] + p[1] * n[1] + p[2] * n[2] > 0.99, "{p:?} {n:?}");
    }
    // A hand case: a right-angle roof of two quads, (0, 1, 1)/sqrt2 up the
    // front and (0, 1, -1)/sqrt2 down the back. Vertex 2 on the ridge touches one
    // front and two back triangles of equal area: (0, 3, -1)/sqrt10; vertex 0 only front ones.
    let mut roof = single(vec![[0., 0., 1.], [1., 0., 1.], [0., 1., 0.], [1., 1., 0.], [0., 0., -1.], [1., 0., -1.]], vec![[0, 1, 3], [0, 3, 2], [2, 3, 5], [2, 5, 4]]);
    roof.compute_vertex_normals();
    let n = roof.normals.unwrap();
    let s10 = 10f32.sqrt();
    geometry_support::assert_close(n[2], [0.0, 3.0 / s10, -1.0 / s10], 1e-6, "ridge vertex 2");
    geometry_support::assert_close(n[3], [0.0, 3.0 / s10, 1.0 / s10], 1e-6, "ridge vertex 3");
    geometry_support::assert_close(n[0], [0.0, 0.5f32.sqrt(), 0.5f32.sqrt()], 1e-6, "front vertex 0");
    for mut mesh in [bunny(), scenes::teapot().unwrap()] {
        mesh.compute_vertex_normals();
        let c = mesh.bounds().unwrap().center();
        let normals = mesh.normals.unwrap();
        let used: std::collections::HashSet<u32> = mesh.triangles.iter().flatten().copied().collect();
        let mut outward = 0;
        for &i in &used {
            let (p, n) = (mesh.positions[i as usize], normals[i as usize]);
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            assert!((len - 1.0).abs() < 1e-4, "vertex {i}: |n| = {len}");
            outward += ((p[0] - c[0]) * n[0] + (p[1] - c[1]) * n[1] + (p[2] - c[2]) * n[2] > 0.0) as usize;
        }
        assert!(outward as f64 > 0.8 * used.len() as f64, "{outward} of {}", used.len());
    }
}

#[test]
fn bad_inputs_give_clear_errors() {
    let tri = |p: [f32; 3]| single(vec![[0.0; 3], [1.0, 0.0, 0.0], p], vec![[0, 1, 2]]);
    let spec = unit_grid([2, 2, 2]);
    assert_eq!(mesh_to_voxels(&tri([f32::NAN, 0.0, 0.0]), &spec, Fill::Solid), Err(ConvertError::NonFinite { what: "mesh", index: 2 }));
    let bad = single(vec![[0.0; 3]; 3], vec![[0, 1, 7]]);
    let e = mesh_to_voxels(&bad, &spec, Fill::Surface).unwrap_err();
    assert_eq!(e.to_string(), "triangle 0 refers to vertex 7, but the mesh has 3 vertices");
    assert_eq!(mesh_to_voxels(&Mesh::default(), &spec, Fill::Surface), Err(ConvertError::Empty("mesh")));
    assert!(matches!(fit_mesh_to_voxels(&tri([0.0, 1.0, 0.0]), 300, Fill::Solid), Err(ConvertError::Resolution { .. })));
    assert!(matches!(mesh_to_voxels(&tri([0.0, 1.0, 0.0]), &unit_grid([1000, 1000, 1000]), Fill::Solid), Err(ConvertError::TooLarge { .. })));
    let pt = PointCloud { positions: vec![[0.0; 3]; 4], ..Default::default() };
    assert_eq!(vislab_engine::geometry::fit_points_to_voxels(&pt, 8), Err(ConvertError::Degenerate { what: "shape" }));
    let short = VoxelGrid { dims: [2, 2, 2], values: vec![1.0; 7], origin: [0.0; 3], voxel_size: 1.0 };
    assert!(matches!(voxels_to_mesh(&short), Err(ConvertError::GridSize { got: 7, expected: 8, .. })));
    assert!(matches!(marching_cubes(&short, 0.5), Err(ConvertError::GridSize { .. })));
    let nan = VoxelGrid { values: vec![0.0, f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], ..short.clone() };
    assert_eq!(marching_cubes(&nan, 0.5), Err(ConvertError::NonFinite { what: "voxel grid", index: 1 }));
    let ok = VoxelGrid { values: vec![1.0; 8], ..short };
    assert!(matches!(marching_cubes(&ok, f32::NAN), Err(ConvertError::Level(_))));
    assert!(matches!(marching_cubes(&ok, f32::INFINITY), Err(ConvertError::Level(_))));
    let empty = VoxelGrid { values: vec![0.0; 8], ..ok };
    assert!(matches!(voxels_to_mesh(&empty), Err(ConvertError::Empty(_))));
}

#[test]
fn every_listed_conversion_runs_on_its_kind_and_refuses_others() {
    use vislab_engine::geometry::{Asset, Conversion};
    let assets = ["teapot", "points", "voxels", "depth"].map(|n| scenes::load(n).unwrap());
    for a in &assets {
        for c in Conversion::available(a) {
            let out = c.apply(a).unwrap_or_else(|e| panic!("{} on {}: {e}", c.label(), a.kind()));
            let expected = match c {
                Conversion::SamplePoints { .. } | Conversion::BackProject => "point cloud",
                Conversion::MeshToVoxels { .. } | Conversion::PointsToVoxels { .. } => "voxel grid",
                Conversion::Cubify | Conversion::MarchingCubes { .. } | Conversion::VertexNormals => "mesh",
            };
            assert_eq!(out.kind(), expected, "{}", c.label());
            for other in assets.iter().filter(|o| o.kind() != a.kind()) {
                assert!(matches!(c.apply(other), Err(ConvertError::WrongKind { .. })), "{} on {}", c.label(), other.kind());
            }
        }
    }
    // Sampling keeps the count asked for; back-projection keeps one point per valid pixel.
    let Asset::Points(p) = (Conversion::SamplePoints { count: 1234, seed: 3 }).apply(&assets[0]).unwrap() else { panic!() };
    assert_eq!(p.positions.len(), 1234);
    let Asset::Depth(d) = &assets[3] else { panic!() };
    let valid = d.values.iter().filter(|&&v| v > 0.0).count();
    let Asset::Points(p) = Conversion::BackProject.apply(&assets[3]).unwrap() else { panic!() };
    assert_eq!(p.positions.len(), valid);
}
