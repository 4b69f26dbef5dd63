//! `metrics::compare`: every metric between two assets of any kind.

use vislab_engine::geometry::{Asset, Conversion, Fill, VoxelGrid, scenes, shapes};
use vislab_engine::metrics::compare;

fn boxed(lo: usize, hi: usize) -> Asset {
    let mut values = vec![0.0; 64];
    for z in lo..hi {
        for y in lo..hi {
            for x in lo..hi {
                values[x + 4 * (y + 4 * z)] = 1.0;
            }
        }
    }
    Asset::Voxels(VoxelGrid { dims: [4; 3], values, origin: [0.0; 3], voxel_size: 1.0 })
}

#[test]
fn a_shape_against_itself_scores_perfectly() {
    let mesh = scenes::teapot().unwrap();
    let area = mesh.surface_area();
    let teapot = Asset::Mesh(mesh);
    let c = compare(&teapot, &teapot, 0).unwrap();
    // Two independent samplings of one surface: for N uniform points on area A the
    // mean squared nearest distance is about A / (pi N) per direction, under 2 A / N in all.
    let n = c.a_points.positions.len() as f64;
    assert!(c.chamfer.total > 0.0 && c.chamfer.total < 2.0 * area / n, "{:?} (area {area})", c.chamfer);
    assert!((c.fscores[4].f1 - 1.0).abs() < 1e-9, "{:?}", c.fscores[4]);
    assert!(c.normal_consistency.unwrap() > 0.95);
    assert!((c.voxel_iou.as_ref().unwrap().iou - 1.0).abs() < 1e-12);
    let (_, d) = c.a_points.scalar.as_ref().unwrap();
    assert_eq!(d.len(), c.a_points.positions.len());
    // The scalar is the unsquared distance: its mean square is the one-way chamfer.
    let ms = d.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / d.len() as f64;
    assert!((ms - c.chamfer.a_to_b).abs() < 1e-9 * c.chamfer.a_to_b.max(1e-12) + 1e-12);
}

#[test]
fn voxel_grids_of_one_size_use_their_own_iou() {
    // Boxes of 3^3 and 2^3 voxels, the small one inside: IoU 8/27.
    let c = compare(&boxed(1, 3), &boxed(0, 3), 0).unwrap();
    let iou = c.voxel_iou.unwrap();
    assert_eq!((iou.intersection, iou.union), (8, 27));
    // Every point of the small box's surface is within 1 of the big one's
    // (plus the gap between samples, 10k over an area of 54).
    let d = c.a_points.scalar.unwrap().1;
    assert!(d.iter().all(|&d| d <= 1.1), "{}", d.iter().fold(0.0f32, |a, &b| a.max(b)));
}

#[test]
fn mixed_kinds_are_voxelized_on_one_grid() {
    let sphere = shapes::uv_sphere(1.0, 48, 24);
    let solid = Conversion::MeshToVoxels { res: 32, fill: Fill::Solid }.apply(&Asset::Mesh(sphere.clone())).unwrap();
    let c = compare(&solid, &Asset::Mesh(sphere.clone()), 0).unwrap();
    // The voxelization is a little larger than the sphere but overlaps it well.
    let iou = c.voxel_iou.unwrap().iou;
    assert!(iou > 0.8 && iou < 1.0, "{iou}");
    let r = Asset::Mesh(shapes::uv_sphere(0.5, 48, 24));
    let c = compare(&r, &Asset::Mesh(sphere), 0).unwrap();
    // Concentric spheres 0.5 apart: every distance about 0.5, chamfer 0.25 + 0.25.
    assert!((c.chamfer.total - 0.5).abs() < 0.01, "{:?}", c.chamfer);
    // Solid ball of radius 1/2 inside radius 1: IoU about 1/8.
    let iou = c.voxel_iou.unwrap().iou;
    assert!((iou - 0.125).abs() < 0.03, "{iou}");
}
