//! Shape metrics against values worked by hand, the k-d tree against brute
//! force, and Chamfer between two spheres against the analytic value.

use vislab_engine::geometry::{Asset, Mesh, PointCloud, VoxelGrid, sample_points, shapes};
use vislab_engine::metrics::kdtree::brute_force_nearest;
use vislab_engine::metrics::shape::{DEFAULT_THRESHOLDS, Neighbours, gt_scale};
use vislab_engine::metrics::{KdTree, MetricsError, chamfer, fscore, normal_consistency, to_point_cloud, voxel_iou};
use vislab_engine::rng::SeededRng;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn cloud(positions: Vec<[f32; 3]>) -> PointCloud {
    PointCloud { positions, ..Default::default() }
}

#[test]
fn chamfer_of_three_points_against_two_matches_hand_computation() {
    let a = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [3.0, 0.0, 0.0]];
    let b = [[0.0, 1.0, 0.0], [3.0, 0.0, 0.0]];
    // a -> b: (0,0,0) is 1 from (0,1,0); (1,0,0) is 2 (squared) from (0,1,0),
    // 4 from (3,0,0); (3,0,0) is 0. Mean (1 + 2 + 0) / 3 = 1.
    // b -> a: (0,1,0) is 1 from (0,0,0); (3,0,0) is 0. Mean 0.5. Total 1.5.
    let c = chamfer(&a, &b).unwrap();
    assert!(close(c.a_to_b, 1.0, 1e-12), "{c:?}");
    assert!(close(c.b_to_a, 0.5, 1e-12), "{c:?}");
    assert!(close(c.total, 1.5, 1e-12), "{c:?}");
    // Symmetric in the sense that swapping swaps the directions.
    let s = chamfer(&b, &a).unwrap();
    assert_eq!((s.a_to_b, s.b_to_a), (c.b_to_a, c.a_to_b));
}

#[test]
fn chamfer_refuses_empty_and_non_finite_sets() {
    let a = [[0.0f32; 3]];
    assert_eq!(chamfer(&a, &[]), Err(MetricsError::Empty("second point set")));
    let e = chamfer(&[[0.0, f32::NAN, 0.0]], &a).unwrap_err();
    assert_eq!(e, MetricsError::NonFinite { what: "first point set", index: 0 });
    assert!(e.to_string().contains("non-finite"));
}

/// Ground truth: 11 points x = 0..10 on the x axis (longest edge 10, so scale 1).
/// Prediction: x = 0, 1 exact, x = 2, 3 moved 0.25 along y.
fn line_and_shifted(unit: f32) -> (PointCloud, PointCloud) {
    let gt = (0..=10).map(|i| [i as f32 * unit, 0.0, 0.0]).collect();
    let pred = [(0., 0.), (1., 0.), (2., 0.25), (3., 0.25)].iter().map(|&(x, y)| [x * unit, y * unit, 0.0]).collect();
    (cloud(pred), cloud(gt))
}

#[test]
fn fscore_with_a_known_shift_matches_hand_computation() {
    // At t = 0.2: precision 2/4 (the shifted points are 0.25 away), recall 2/11
    // (only x = 0, 1 have a prediction closer than 0.2), F1 = 2pr/(p+r) = 4/15.
    // At t = 0.3: precision 1, recall 4/11, F1 = 8/15.
    // Scaling everything by 0.1 changes nothing: the ground truth is rescaled to 10.
    for unit in [1.0, 0.1] {
        let (pred, gt) = line_and_shifted(unit);
        let (pred, gt) = (to_point_cloud(Asset::Points(pred), 0, 0, "p").unwrap(), to_point_cloud(Asset::Points(gt), 0, 0, "g").unwrap());
        let f = fscore(&pred, &gt, &[0.2, 0.3]).unwrap();
        assert!(close(f[0].precision, 0.5, 1e-12) && close(f[0].recall, 2.0 / 11.0, 1e-12), "{f:?}");
        assert!(close(f[0].f1, 4.0 / 15.0, 1e-12), "{f:?}");
        assert!(close(f[1].precision, 1.0, 1e-12) && close(f[1].recall, 4.0 / 11.0, 1e-12), "{f:?}");
        assert!(close(f[1].f1, 8.0 / 15.0, 1e-12), "{f:?}");
    }
}

#[test]
fn fscore_is_zero_when_nothing_is_close_and_refuses_a_flat_ground_truth() {
    let far = Neighbours::find(&[[100.0, 0.0, 0.0]], &[[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]]).unwrap();
    let f = far.fscore(1.0, &DEFAULT_THRESHOLDS);
    assert_eq!(f.len(), 5);
    assert!(f.iter().all(|s| s.precision == 0.0 && s.recall == 0.0 && s.f1 == 0.0), "{f:?}");
    let single = to_point_cloud(Asset::Points(cloud(vec![[1.0, 2.0, 3.0]])), 0, 0, "gt").unwrap();
    assert!(matches!(gt_scale(&single.bounds), Err(MetricsError::Invalid(_))));
}

#[test]
fn normal_consistency_matches_hand_computation() {
    // a -> b: both points of a have (0,0,0.1) nearest; |cos| 1 for (0,0,1)
    // against (0,0,-1), 0 for (1,0,0): mean 0.5. b -> a: nearest is (0,0,0),
    // |cos| 1. Average (0.5 + 1) / 2 = 0.75.
    let a = PointCloud { positions: vec![[0.0; 3], [10.0, 0.0, 0.0]], normals: Some(vec![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), ..Default::default() };
    let b = PointCloud { positions: vec![[0.0, 0.0, 0.1]], normals: Some(vec![[0.0, 0.0, -2.0]]), ..Default::default() };
    assert!(close(normal_consistency(&a, &b).unwrap(), 0.75, 1e-12));
    let no_normals = cloud(vec![[0.0; 3]]);
    assert_eq!(normal_consistency(&a, &no_normals), Err(MetricsError::NoNormals("second point set")));
}

#[test]
fn kd_tree_agrees_with_brute_force_on_random_clouds() {
    let mut rng = SeededRng::new(7);
    for (n, spread) in [(1usize, 1.0), (13, 1.0), (500, 1.0), (5000, 100.0)] {
        let mut points: Vec<[f32; 3]> = (0..n).map(|_| std::array::from_fn(|_| (rng.normal() * spread) as f32)).collect();
        // Duplicates and a flat cluster exercise ties and zero-extent splits.
        points.extend(points.clone().into_iter().take(n / 4));
        points.extend((0..50).map(|i| [i as f32 * 0.01, 0.0, 0.0]));
        let tree = KdTree::new(&points);
        assert_eq!(tree.len(), points.len());
        let queries: Vec<[f32; 3]> = (0..2000).map(|_| std::array::from_fn(|_| (rng.normal() * spread * 1.5) as f32)).collect();
        let found = tree.nearest_all(&queries);
        assert_eq!(found.len(), queries.len());
        for (q, &(i, d)) in queries.iter().zip(&found) {
            let (_, best) = brute_force_nearest(&points, *q).unwrap();
            assert_eq!(d, best, "query {q:?}");
            let p = points[i];
            let recomputed: f32 = (0..3).map(|k| (p[k] - q[k]) * (p[k] - q[k])).sum();
            assert_eq!(recomputed, d, "index {i} does not hold the reported distance");
        }
    }
    assert_eq!(KdTree::new(&[]).nearest([0.0; 3]), None);
}

#[test]
fn chamfer_between_concentric_spheres_matches_the_analytic_value() {
    // Every point of a sphere of radius r1 is r2 - r1 from the sphere of
    // radius r2, so each direction tends to (r2 - r1)^2. With n samples the
    // nearest sample is also off sideways: for a Poisson set of density
    // n / (4 pi r^2) the mean squared sideways distance is 1 / (pi density) =
    // 4 r^2 / n (r of the sphere searched), which the test adds.
    let (r1, r2, n) = (1.0f64, 1.1f64, 100_000usize);
    let a = sample_points(&shapes::uv_sphere(r1 as f32, 256, 128), n, 1);
    let b = sample_points(&shapes::uv_sphere(r2 as f32, 256, 128), n, 2);
    let c = chamfer(&a.positions, &b.positions).unwrap();
    let dr2 = (r2 - r1) * (r2 - r1);
    let (expect_ab, expect_ba) = (dr2 + 4.0 * r2 * r2 / n as f64, dr2 + 4.0 * r1 * r1 / n as f64);
    assert!(close(c.a_to_b, expect_ab, 0.005 * expect_ab), "{c:?} vs {expect_ab}");
    assert!(close(c.b_to_a, expect_ba, 0.005 * expect_ba), "{c:?} vs {expect_ba}");
    // Without the sampling term the test would fail at this tolerance.
    assert!(!close(c.total, 2.0 * dr2, 0.001 * dr2), "{c:?}");
}

#[test]
fn sampling_is_area_weighted_seeded_and_on_the_surface() {
    // Two triangles in z = 0: areas 0.5 and 1.5, so 1/4 and 3/4 of the samples.
    let mesh = Mesh {
        positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [10.0, 0.0, 0.0], [13.0, 0.0, 0.0], [10.0, 1.0, 0.0]],
        triangles: vec![[0, 1, 2], [3, 4, 5], [0, 1, 99]],
        ..Default::default()
    };
    let s = sample_points(&mesh, 20_000, 3);
    assert_eq!(s.positions.len(), 20_000);
    let right = s.positions.iter().filter(|p| p[0] >= 10.0).count() as f64 / 20_000.0;
    assert!(close(right, 0.75, 0.015), "fraction on the larger triangle {right}");
    for (p, n) in s.positions.iter().zip(s.normals.as_ref().unwrap()) {
        let in_small = p[0] >= 0.0 && p[1] >= 0.0 && p[0] + p[1] <= 1.0 + 1e-6;
        let in_large = p[0] >= 10.0 && p[1] >= 0.0 && (p[0] - 10.0) / 3.0 + p[1] <= 1.0 + 1e-6;
        assert!(p[2] == 0.0 && (in_small || in_large), "{p:?} off the surface");
        assert_eq!(*n, [0.0, 0.0, 1.0]);
    }
    // Uniform inside a triangle: the mean is the centroid.
    let small: Vec<_> = s.positions.iter().filter(|p| p[0] < 10.0).collect();
    let mean_x = small.iter().map(|p| p[0] as f64).sum::<f64>() / small.len() as f64;
    assert!(close(mean_x, 1.0 / 3.0, 0.01), "mean x {mean_x}");
    assert_eq!(sample_points(&mesh, 100, 3), sample_points(&mesh, 100, 3));
    assert_ne!(sample_points(&mesh, 100, 3), sample_points(&mesh, 100, 4));
    assert!(sample_points(&Mesh::default(), 10, 0).positions.is_empty());
}

#[test]
fn sphere_samples_have_outward_unit_normals() {
    let s = sample_points(&shapes::icosphere(3), 2000, 5);
    for (p, n) in s.positions.iter().zip(s.normals.as_ref().unwrap()) {
        let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
        assert!((len - 1.0).abs() < 1e-5);
        assert!(p[0] * n[0] + p[1] * n[1] + p[2] * n[2] > 0.0, "normal {n:?} at {p:?} points inward");
    }
}

fn boxed(dims: [usize; 3], lo: [usize; 3], hi: [usize; 3]) -> VoxelGrid {
    let mut g = VoxelGrid { dims, values: vec![0.0; dims.iter().product()], origin: [0.0; 3], voxel_size: 1.0 };
    for z in lo[2]..hi[2] {
        for y in lo[1]..hi[1] {
            for x in lo[0]..hi[0] {
                let i = g.index(x, y, z);
                g.values[i] = 1.0;
            }
        }
    }
    g
}

#[test]
fn voxel_iou_of_overlapping_boxes_matches_hand_computation() {
    // 2x2x2 boxes at x 0..2 and x 1..3: they share the 4 voxels at x = 1,
    // the union holds 8 + 8 - 4 = 12. IoU 1/3.
    let a = boxed([4, 4, 4], [0, 0, 0], [2, 2, 2]);
    let b = boxed([4, 4, 4], [1, 0, 0], [3, 2, 2]);
    let r = voxel_iou(&a, &b).unwrap();
    assert_eq!((r.intersection, r.union), (4, 12));
    assert!(close(r.iou, 1.0 / 3.0, 1e-12));
    assert_eq!(voxel_iou(&a, &a).unwrap().iou, 1.0);
    // The threshold is 0.5 inclusive.
    let mut soft = b.clone();
    soft.values.iter_mut().for_each(|v| *v *= 0.5);
    assert!(close(voxel_iou(&a, &soft).unwrap().iou, 1.0 / 3.0, 1e-12));
    soft.values.iter_mut().for_each(|v| *v *= 0.99);
    assert_eq!(voxel_iou(&a, &soft).unwrap().iou, 0.0);
}

#[test]
fn voxel_iou_refuses_mismatched_empty_and_malformed_grids() {
    let a = boxed([4, 4, 4], [0, 0, 0], [2, 2, 2]);
    let c = boxed([4, 4, 5], [0, 0, 0], [2, 2, 2]);
    let e = voxel_iou(&a, &c).unwrap_err();
    assert_eq!(e, MetricsError::DimsMismatch { a: [4, 4, 4], b: [4, 4, 5] });
    assert_eq!(e.to_string(), "voxel grids differ in size: [4, 4, 4] vs [4, 4, 5]");
    let empty = boxed([4, 4, 4], [0; 3], [0; 3]);
    assert!(voxel_iou(&empty, &empty).unwrap_err().to_string().contains("empty"));
    let mut short = a.clone();
    short.values.pop();
    assert!(matches!(voxel_iou(&a, &short), Err(MetricsError::Invalid(_))));
    let mut nan = a.clone();
    nan.values[5] = f32::NAN;
    assert_eq!(voxel_iou(&nan, &a), Err(MetricsError::NonFinite { what: "first grid", index: 5 }));
}

#[test]
fn assets_become_points_or_clear_errors() {
    let sphere = to_point_cloud(Asset::Mesh(shapes::uv_sphere(2.0, 16, 8)), 300, 0, "pred").unwrap();
    assert_eq!(sphere.cloud.positions.len(), 300);
    assert!(close(gt_scale(&sphere.bounds).unwrap(), 2.5, 1e-6));
    let e = to_point_cloud(Asset::Voxels(shapes::voxel_sphere(8)), 10, 0, "gt").unwrap_err();
    assert!(e.to_string().starts_with("gt: a voxel grid has no points"), "{e}");
    let e = to_point_cloud(Asset::Mesh(Mesh::default()), 10, 0, "pred").unwrap_err();
    assert_eq!(e, MetricsError::Empty("pred"));
}
