//! `vislab metrics`: the built binary on small files written here, its JSON
//! against values worked by hand, and its errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use vislab_engine::geometry::formats::{binvox, xyz};
use vislab_engine::geometry::{PointCloud, VoxelGrid};

fn metrics(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vislab")).arg("metrics").args(args).output().expect("run vislab")
}

/// Run and parse stdout as JSON, asserting success.
fn json_of(args: &[&str]) -> Value {
    let out = metrics(args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Run, expecting failure with one line on stderr; returns that line.
fn error_of(args: &[&str]) -> String {
    let out = metrics(args);
    assert!(!out.status.success(), "{args:?} should fail; stdout {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(err.starts_with("error: "), "{err}");
    err.trim_end().to_string()
}

fn write_points(dir: &Path, name: &str, positions: &[[f32; 3]]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, xyz::write(&PointCloud { positions: positions.to_vec(), ..Default::default() })).unwrap();
    path
}

fn write_box(dir: &Path, name: &str, dims: [usize; 3], x0: usize) -> PathBuf {
    let mut g = VoxelGrid { dims, values: vec![0.0; dims.iter().product()], origin: [0.0; 3], voxel_size: 1.0 };
    for (z, y, x) in (0..2).flat_map(|z| (0..2).flat_map(move |y| (x0..x0 + 2).map(move |x| (z, y, x)))) {
        let i = g.index(x, y, z);
        g.values[i] = 1.0;
    }
    let path = dir.join(name);
    std::fs::write(&path, binvox::write(&g, 0.5)).unwrap();
    path
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no number {key} in {v}"))
}

#[test]
fn the_teapot_against_itself_is_a_perfect_match() {
    let t = teapot_path();
    let t = t.to_str().unwrap();
    let c = json_of(&["chamfer", t, t, "--samples", "5000"]);
    assert_eq!(c["metric"], "chamfer");
    assert!(c["convention"].as_str().unwrap().contains("squared"));
    assert_eq!((num(&c, "chamfer"), num(&c, "a_to_b"), num(&c, "b_to_a")), (0.0, 0.0, 0.0));
    assert_eq!(c["points_a"], 5000);
    let f = json_of(&["fscore", t, t]);
    let scores = f["scores"].as_array().unwrap();
    let thresholds: Vec<f64> = scores.iter().map(|s| num(s, "threshold")).collect();
    assert!(thresholds.iter().zip([0.1, 0.2, 0.3, 0.4, 0.5]).all(|(a, b)| (a - b).abs() < 1e-6), "{thresholds:?}");
    assert!(scores.iter().all(|s| num(s, "f1") == 1.0 && num(s, "precision") == 1.0 && num(s, "recall") == 1.0), "{f}");
    let n = json_of(&["normal-consistency", t, t, "--samples", "2000", "--seed", "9"]);
    assert!((num(&n, "normal_consistency") - 1.0).abs() < 1e-6, "{n}");
}

#[test]
fn chamfer_and_fscore_on_point_files_match_hand_computation() {
    let dir = scratch("metrics-points");
    let a = write_points(&dir, "a.xyz", &[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [3.0, 0.0, 0.0]]);
    let b = write_points(&dir, "b.xyz", &[[0.0, 1.0, 0.0], [3.0, 0.0, 0.0]]);
    // Worked in engine/tests/metrics_shape.rs: a->b 1, b->a 0.5.
    let c = json_of(&["chamfer", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!((num(&c, "chamfer"), num(&c, "a_to_b"), num(&c, "b_to_a")), (1.5, 1.0, 0.5));
    // Ground truth x = 0..10 (scale 1); prediction x = 0, 1 exact and x = 2, 3
    // 0.25 off: at 0.2 precision 1/2, recall 2/11, F1 4/15; at 0.3 F1 8/15.
    let gt = write_points(&dir, "gt.xyz", &(0..=10).map(|i| [i as f32, 0.0, 0.0]).collect::<Vec<_>>());
    let pred = write_points(&dir, "pred.xyz", &[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.25, 0.0], [3.0, 0.25, 0.0]]);
    let f = json_of(&["fscore", pred.to_str().unwrap(), gt.to_str().unwrap(), "--thresholds", "0.2,0.3"]);
    assert_eq!(num(&f, "scale"), 1.0);
    let s = f["scores"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    assert!((num(&s[0], "precision") - 0.5).abs() < 1e-12 && (num(&s[0], "recall") - 2.0 / 11.0).abs() < 1e-12);
    assert!((num(&s[0], "f1") - 4.0 / 15.0).abs() < 1e-12 && (num(&s[1], "f1") - 8.0 / 15.0).abs() < 1e-12, "{f}");
    // Point clouds without normals cannot give normal consistency.
    let e = error_of(&["normal-consistency", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(e.contains("has no normals"), "{e}");
}

#[test]
fn voxel_iou_of_two_files_and_its_errors() {
    let dir = scratch("metrics-voxels");
    let a = write_box(&dir, "a.binvox", [4, 4, 4], 0);
    let b = write_box(&dir, "b.binvox", [4, 4, 4], 1);
    let v = json_of(&["voxel-iou", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!((num(&v, "iou") - 1.0 / 3.0).abs() < 1e-12, "{v}");
    assert_eq!((v["intersection"].as_u64(), v["union"].as_u64()), (Some(4), Some(12)));
    let c = write_box(&dir, "c.binvox", [4, 4, 6], 0);
    let e = error_of(&["voxel-iou", a.to_str().unwrap(), c.to_str().unwrap()]);
    assert_eq!(e, "error: voxel grids differ in size: [4, 4, 4] vs [4, 4, 6]");
    let t = teapot_path();
    let e = error_of(&["voxel-iou", a.to_str().unwrap(), t.to_str().unwrap()]);
    assert!(e.contains("is a mesh, voxel-iou needs voxel grids"), "{e}");
    let e = error_of(&["chamfer", a.to_str().unwrap(), t.to_str().unwrap()]);
    assert!(e.contains("voxel grid has no points"), "{e}");
}

#[test]
fn coco_map_agrees_with_pycocotools_and_rejects_malformed_json() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/tests/data/coco");
    let (gt, dt) = (data.join("case1_gt.json"), data.join("case1_dt.json"));
    let v = json_of(&["coco-map", "--gt", gt.to_str().unwrap(), "--dt", dt.to_str().unwrap()]);
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(data.join("case1_expected.json")).unwrap()).unwrap();
    let want = expected["stats"].as_array().unwrap();
    let names = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];
    for (name, w) in names.iter().zip(want) {
        assert!((num(&v, name) - w.as_f64().unwrap()).abs() < 1e-4, "{name}: {v}");
    }
    let dir = scratch("metrics-coco");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "[{\"image_id\": 1, ").unwrap();
    let e = error_of(&["coco-map", "--gt", gt.to_str().unwrap(), "--dt", broken.to_str().unwrap()]);
    assert!(e.starts_with("error: COCO: detections") && e.contains("line 1"), "{e}");
    let e = error_of(&["coco-map", "--gt", gt.to_str().unwrap()]);
    assert!(e.contains("required arguments were not provided: --dt <FILE>"), "{e}");
}

#[test]
fn bad_files_and_arguments_exit_nonzero_with_one_line() {
    let dir = scratch("metrics-bad");
    let garbage = dir.join("garbage.obj");
    std::fs::write(&garbage, b"v 1 2\nf 1 2 9\n\xff\xfe").unwrap();
    let t = teapot_path();
    let t = t.to_str().unwrap();
    let e = error_of(&["chamfer", garbage.to_str().unwrap(), t]);
    assert!(e.starts_with("error: garbage.obj:"), "{e}");
    let missing = dir.join("missing.ply");
    assert!(error_of(&["chamfer", t, missing.to_str().unwrap()]).contains("missing.ply: cannot read file"));
    assert!(error_of(&["chamfer", t]).contains("required arguments were not provided: <B>"));
    assert!(error_of(&["hausdorff", t, t]).contains("unrecognized subcommand 'hausdorff'"));
    assert!(error_of(&[]).contains("a subcommand is missing; usage: vislab metrics"));
    assert!(error_of(&["fscore", t, t, "--thresholds", "0.1,x"]).contains("invalid value 'x' for '--thresholds <T1,T2,..>'"));
    assert!(error_of(&["chamfer", t, t, "--samples", "0"]).contains("invalid value '0' for '--samples <N>'"));
    assert!(error_of(&["chamfer", t, t, "--thresholds", "0.1"]).contains("unexpected argument '--thresholds'"));
    assert!(error_of(&["chamfer", t, t, "--bogus", "1"]).contains("unexpected argument '--bogus'"));
}
