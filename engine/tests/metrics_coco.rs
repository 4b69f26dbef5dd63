//! COCO box mAP: cases worked by hand, and random cases against numbers
//! pycocotools computed (engine/tests/data/coco/make_reference.py says how).
//! Every hand-worked case below was also run through pycocotools 2.0.11
//! (COCO/loadRes/COCOeval "bbox") and gave the same twelve numbers.

use serde_json::{Value, json};
use vislab_engine::metrics::MetricsError;
use vislab_engine::metrics::coco::{STAT_NAMES, evaluate_json};

/// Ground truth with images 1 and 2, categories 1 and 2, and these
/// annotations as (image, category, bbox, area, iscrowd).
fn gt(anns: &[(i64, i64, [f64; 4], f64, i64)]) -> String {
    let annotations: Vec<Value> = anns
        .iter()
        .enumerate()
        .map(|(i, &(img, cat, bbox, area, crowd))| json!({"id": i + 1, "image_id": img, "category_id": cat, "bbox": bbox, "area": area, "iscrowd": crowd}))
        .collect();
    json!({"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1}, {"id": 2}], "annotations": annotations}).to_string()
}

/// Detections as (image, category, bbox, score).
fn dt(dets: &[(i64, i64, [f64; 4], f64)]) -> String {
    let list: Vec<Value> = dets.iter().map(|&(img, cat, bbox, score)| json!({"image_id": img, "category_id": cat, "bbox": bbox, "score": score})).collect();
    Value::Array(list).to_string()
}

fn stats(gt: &str, dt: &str) -> [f64; 12] {
    evaluate_json(gt, dt).unwrap()
}

fn assert_stats(got: [f64; 12], want: [f64; 12], tol: f64) {
    for ((name, g), w) in STAT_NAMES.iter().zip(got).zip(want) {
        assert!((g - w).abs() <= tol, "{name}: got {g}, want {w} (all: {got:?})");
    }
}

const BOX: [f64; 4] = [0.0, 0.0, 10.0, 10.0];

#[test]
fn one_perfect_detection_scores_one_and_empty_ranges_are_undefined() {
    // Area 100 is small, so medium and large have no ground truth: -1.
    let s = stats(&gt(&[(1, 1, BOX, 100.0, 0)]), &dt(&[(1, 1, BOX, 0.9)]));
    assert_stats(s, [1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0], 1e-12);
}

#[test]
fn a_detection_at_iou_0_62_matches_three_of_ten_thresholds() {
    // [0,0,10,6.2] inside [0,0,10,10]: IoU 62 / 100. It matches at 0.50, 0.55
    // and 0.60 only: AP = AR = 3/10, AP50 = 1, AP75 = 0.
    let s = stats(&gt(&[(1, 1, BOX, 100.0, 0)]), &dt(&[(1, 1, [0.0, 0.0, 10.0, 6.2], 0.9)]));
    assert_stats(s, [0.3, 1.0, 0.0, 0.3, -1.0, -1.0, 0.3, 0.3, 0.3, 0.3, -1.0, -1.0], 1e-12);
}

#[test]
fn a_false_positive_ranked_first_halves_precision() {
    // Ranked: FP (0.9), TP (0.8). Recall [0, 1], precision [0, 1/2]; the
    // envelope lifts the first to 1/2, so precision is 1/2 at all 101 recall
    // points: AP 0.5. With one detection allowed only the FP is kept: AR1 0.
    let s = stats(&gt(&[(1, 1, BOX, 100.0, 0)]), &dt(&[(1, 1, [50.0, 50.0, 10.0, 10.0], 0.9), (1, 1, BOX, 0.8)]));
    assert_stats(s, [0.5, 0.5, 0.5, 0.5, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0, -1.0, -1.0], 1e-12);
}

#[test]
fn interpolated_precision_over_101_recall_points() {
    // Two ground truths; ranked TP (0.9), FP (0.8), TP (0.7). Recall [.5, .5, 1],
    // precision [1, 1/2, 2/3], envelope [1, 2/3, 2/3]. Recall points 0.00..0.50
    // (51 of them) get 1, 0.51..1.00 (50) get 2/3: AP = (51 + 50 * 2/3) / 101.
    let g2 = [20.0, 20.0, 10.0, 10.0];
    let s = stats(&gt(&[(1, 1, BOX, 100.0, 0), (1, 1, g2, 100.0, 0)]), &dt(&[(1, 1, BOX, 0.9), (1, 1, [60.0, 60.0, 10.0, 10.0], 0.8), (1, 1, g2, 0.7)]));
    let ap = (51.0 + 50.0 * 2.0 / 3.0) / 101.0;
    assert!((s[0] - ap).abs() < 1e-9, "AP {} vs {ap}", s[0]);
    // One detection per image: recall 1/2 at every threshold.
    assert!((s[6] - 0.5).abs() < 1e-12 && (s[7] - 1.0).abs() < 1e-12, "{s:?}");
}

#[test]
fn detections_on_a_crowd_are_ignored_not_false_positives() {
    let crowd = [100.0, 100.0, 50.0, 50.0];
    // Both boxes lie inside the crowd region: IoU = intersection / detection
    // area = 1, so they match the crowd and are ignored. AP 1.
    let dets = dt(&[(1, 1, [100.0, 100.0, 20.0, 20.0], 0.9), (1, 1, [120.0, 120.0, 20.0, 20.0], 0.8), (1, 1, BOX, 0.5)]);
    let s = stats(&gt(&[(1, 1, BOX, 100.0, 0), (1, 1, crowd, 2500.0, 1)]), &dets);
    assert!((s[0] - 1.0).abs() < 1e-12, "{s:?}");
    // `true` marks a crowd as 1 does.
    let with_bool = gt(&[(1, 1, BOX, 100.0, 0), (1, 1, crowd, 2500.0, 1)]).replace("\"iscrowd\":1", "\"iscrowd\":true");
    assert!(with_bool.contains("\"iscrowd\":true"));
    assert_eq!(stats(&with_bool, &dets), s);
    // The same box not marked crowd: IoU 400 / 2500 = 0.16, so both are false
    // positives ahead of the one true positive, and the big box goes unfound.
    // Recall [0, 0, 1/2], envelope precision 1/3 up to recall 0.5 (51 points): AP 51 / 303.
    let s = stats(&gt(&[(1, 1, BOX, 100.0, 0), (1, 1, crowd, 2500.0, 0)]), &dets);
    assert!((s[0] - 51.0 / 303.0).abs() < 1e-9, "{s:?}");
}

#[test]
fn area_ranges_use_the_ground_truth_area_field_and_ignore_unmatched_detections_outside() {
    // A 100x100 box whose area field says 500: it is small.
    let big_box = [0.0, 0.0, 100.0, 100.0];
    let s = stats(&gt(&[(1, 1, big_box, 500.0, 0)]), &dt(&[(1, 1, [300.0, 300.0, 100.0, 100.0], 0.95), (1, 1, big_box, 0.9)]));
    // All areas: the unmatched 100x100 detection ranks first, AP 0.5. Small:
    // that detection's area (10^4) is outside the range and it matched nothing,
    // so it is ignored: APs 1. No large or medium ground truth: -1.
    assert_stats(s, [0.5, 0.5, 0.5, 1.0, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0, -1.0, -1.0], 1e-12);
}

#[test]
fn categories_without_ground_truth_and_images_without_anything_are_left_out() {
    // Category 2 has a detection but no ground truth: undefined, not 0.
    // Image 2 has nothing. Two ground truths found by two detections in image 1,
    // at most one per image: AR1 = 1/2.
    let g2 = [20.0, 20.0, 10.0, 10.0];
    let s = stats(&gt(&[(1, 1, BOX, 100.0, 0), (1, 1, g2, 100.0, 0)]), &dt(&[(1, 1, BOX, 0.9), (1, 1, g2, 0.8), (1, 2, g2, 0.99)]));
    assert_stats(s, [1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 0.5, 1.0, 1.0, 1.0, -1.0, -1.0], 1e-12);
    // Detections in a category the ground truth does not list are dropped.
    let s2 = stats(&gt(&[(1, 1, BOX, 100.0, 0), (1, 1, g2, 100.0, 0)]), &dt(&[(1, 1, BOX, 0.9), (1, 1, g2, 0.8), (1, 7, g2, 0.99)]));
    assert_eq!(s, s2);
}

#[test]
fn no_ground_truth_at_all_gives_minus_one_everywhere() {
    let s = stats(&gt(&[]), &dt(&[(1, 1, BOX, 0.9)]));
    assert_eq!(s, [-1.0; 12]);
}

#[test]
fn malformed_inputs_give_clear_errors() {
    let good_gt = gt(&[(1, 1, BOX, 100.0, 0)]);
    let err = |g: &str, d: &str| match evaluate_json(g, d) {
        Err(MetricsError::Coco(m)) => m,
        other => panic!("expected a COCO error, got {other:?}"),
    };
    assert!(err("{\"images\": [", "[]").contains("ground truth: EOF while parsing"), "{}", err("{\"images\": [", "[]"));
    let no_area = r#"{"images":[{"id":1}],"categories":[{"id":1}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1]}]}"#;
    assert!(err(no_area, "[]").contains("missing field `area`"), "{}", err(no_area, "[]"));
    let short_box = r#"[{"image_id":1,"category_id":1,"bbox":[0,0,1],"score":0.5}]"#;
    assert!(err(&good_gt, short_box).starts_with("detections"), "{}", err(&good_gt, short_box));
    assert!(err(&good_gt, r#"{"annotations": []}"#).contains("detections (a JSON list of results)"));
    let unknown_image = dt(&[(9, 1, BOX, 0.5)]);
    assert_eq!(err(&good_gt, &unknown_image), "detection 0 is on image 9 which the ground truth does not have");
    let orphan = gt(&[(5, 1, BOX, 100.0, 0)]);
    assert!(err(&orphan, "[]").contains("refers to image 5"));
}

#[test]
fn random_cases_agree_with_pycocotools() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/coco");
    for case in 1..=3 {
        let read = |suffix: &str| std::fs::read_to_string(dir.join(format!("case{case}_{suffix}.json"))).unwrap();
        let expected: Value = serde_json::from_str(&read("expected")).unwrap();
        let want: Vec<f64> = expected["stats"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let got = stats(&read("gt"), &read("dt"));
        // Far tighter than the 1e-4 asked for: the same rules give the same sums.
        assert_stats(got, want.try_into().unwrap(), 1e-10);
    }
}
