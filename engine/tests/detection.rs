//! Boxes, IoU and NMS on cases worked by hand; the detections reader's
//! errors; seeded scenes; the COCO evaluator's exposed precision curves.

use vislab_engine::detection::scene::{self, SceneSpec};
use vislab_engine::detection::{BBox, BoxState, DetectionError, Nms, NmsStep, ScoredBox, detections_json, nms, parse_detections};
use vislab_engine::metrics::coco::{self, Evaluation};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn intersection_union_and_iou_of_known_boxes() {
    let a = BBox::new(0.0, 0.0, 10.0, 10.0);
    // shifted by (5, 5): a 5 x 5 overlap, union 100 + 100 - 25
    let b = BBox::new(5.0, 5.0, 10.0, 10.0);
    assert_eq!(a.intersection(&b), Some(BBox::new(5.0, 5.0, 5.0, 5.0)));
    assert!(close(a.intersection_area(&b), 25.0) && close(a.union_area(&b), 175.0));
    assert!(close(a.iou(&b), 25.0 / 175.0));
    // 4 x 2 and the same moved right by 1: overlap 3 x 2 = 6, union 10
    let c = BBox::new(0.0, 0.0, 4.0, 2.0);
    assert!(close(c.iou(&BBox::new(1.0, 0.0, 4.0, 2.0)), 0.6));
    // inside: IoU is the area ratio 16 / 100
    assert!(close(a.iou(&BBox::new(2.0, 2.0, 4.0, 4.0)), 0.16));
    // touching along an edge: no intersection at all
    let touching = BBox::new(10.0, 0.0, 5.0, 5.0);
    assert_eq!(a.intersection(&touching), None);
    assert_eq!(a.iou(&touching), 0.0);
    assert!(close(a.union_area(&touching), 125.0));
    assert_eq!(a.iou(&a), 1.0);
    // two empty boxes have no union: IoU 0, not NaN
    let empty = BBox::new(3.0, 3.0, 0.0, 0.0);
    assert_eq!(empty.iou(&empty), 0.0);
    assert_eq!(BBox::from_corners([6.0, 1.0], [2.0, 4.0]), BBox::new(2.0, 1.0, 4.0, 3.0));
}

fn sb(x: f64, y: f64, w: f64, h: f64, score: f64, category: i64) -> ScoredBox {
    ScoredBox { bbox: BBox::new(x, y, w, h), score, category, image_id: 1 }
}

/// Worked by hand (IoUs): 0-1 90/110 = 0.818, 0-2 50/150 = 0.333,
/// 1-2 60/140 = 0.429, 3-4 20/30 = 0.667; 3 and 4 overlap nothing else.
fn five() -> Vec<ScoredBox> {
    vec![sb(0.0, 0.0, 10.0, 10.0, 0.9, 1), sb(1.0, 0.0, 10.0, 10.0, 0.8, 1), sb(5.0, 0.0, 10.0, 10.0, 0.7, 1), sb(20.0, 20.0, 5.0, 5.0, 0.6, 1), sb(21.0, 20.0, 5.0, 5.0, 0.95, 1)]
}

#[test]
fn nms_keep_lists_worked_by_hand() {
    let boxes = five();
    // score order 4, 0, 1, 2, 3. At 0.5: 4 suppresses 3 (0.667), 0 suppresses
    // 1 (0.818) but not 2 (0.333), then 2 is kept.
    assert_eq!(nms(&boxes, 0.5, false), vec![4, 0, 2]);
    // at 0.3, 0 suppresses 2 as well
    assert_eq!(nms(&boxes, 0.3, false), vec![4, 0]);
    // at 0.4, 2 overlaps 1 by 0.429 but 1 was already suppressed: only kept boxes suppress
    assert_eq!(nms(&boxes, 0.4, false), vec![4, 0, 2]);
    // strictly above: an IoU equal to the threshold survives
    assert_eq!(nms(&boxes, 20.0 / 30.0, false), vec![4, 0, 2, 3]);
    // at 0.9 nothing is close enough; everything is kept in score order
    assert_eq!(nms(&boxes, 0.9, false), vec![4, 0, 1, 2, 3]);
    assert!(nms(&[], 0.5, false).is_empty());
}

#[test]
fn nms_steps_record_what_each_selection_suppressed() {
    let mut n = Nms::new(five(), 0.5, false);
    assert_eq!(n.remaining(), 5);
    let first = n.step().cloned();
    assert_eq!(first, Some(NmsStep { selected: 4, suppressed: vec![(3, 20.0 / 30.0)] }));
    assert_eq!(n.states()[3], BoxState::Suppressed { by: 4, iou: 20.0 / 30.0 });
    assert_eq!(n.current(), Some(4));
    assert_eq!(n.remaining(), 3);
    let second = n.step().cloned();
    assert_eq!(second, Some(NmsStep { selected: 0, suppressed: vec![(1, 90.0 / 110.0)] }));
    assert!(!n.is_done());
    let third = n.step().cloned();
    assert_eq!(third, Some(NmsStep { selected: 2, suppressed: vec![] }));
    assert!(n.is_done());
    assert_eq!(n.step(), None);
    assert_eq!(n.kept(), vec![4, 0, 2]);
    assert_eq!(n.states(), &[BoxState::Kept, BoxState::Suppressed { by: 0, iou: 90.0 / 110.0 }, BoxState::Kept, BoxState::Suppressed { by: 4, iou: 20.0 / 30.0 }, BoxState::Kept]);
    // as an iterator: the same three steps
    let steps: Vec<NmsStep> = Nms::new(five(), 0.5, false).collect();
    assert_eq!(steps.iter().map(|s| s.selected).collect::<Vec<_>>(), vec![4, 0, 2]);
}

#[test]
fn class_wise_nms_and_images_keep_boxes_apart() {
    let mut boxes = five();
    // box 1 now another class: box 0 cannot suppress it, and it cannot suppress 2
    boxes[1].category = 2;
    assert_eq!(nms(&boxes, 0.5, true), vec![4, 0, 1, 2]);
    assert_eq!(nms(&boxes, 0.5, false), vec![4, 0, 2]);
    // at 0.3 class-wise: 0 still suppresses 2 (same class)
    assert_eq!(nms(&boxes, 0.3, true), vec![4, 0, 1]);
    // box 3 on another image escapes box 4
    let mut boxes = five();
    boxes[3].image_id = 2;
    assert_eq!(nms(&boxes, 0.5, false), vec![4, 0, 2, 3]);
}

#[test]
fn equal_scores_go_in_input_order() {
    let boxes = vec![sb(0.0, 0.0, 10.0, 10.0, 0.5, 1), sb(1.0, 0.0, 10.0, 10.0, 0.5, 1)];
    assert_eq!(nms(&boxes, 0.5, false), vec![0]);
    let swapped = vec![boxes[1], boxes[0]];
    assert_eq!(nms(&swapped, 0.5, false), vec![0]);
}

#[test]
fn detections_json_reads_coco_results_and_names_what_is_wrong() {
    let text = r#"[{"image_id": 3, "category_id": 18, "bbox": [1.5, 2, 10, 20], "score": 0.75, "id": 9},
                   {"image_id": 4, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]"#;
    let boxes = parse_detections(text).unwrap();
    assert_eq!(
        boxes,
        vec![ScoredBox { bbox: BBox::new(1.5, 2.0, 10.0, 20.0), score: 0.75, category: 18, image_id: 3 }, ScoredBox { image_id: 4, ..sb(0.0, 0.0, 1.0, 1.0, 0.5, 1) }]
    );
    // round trip through the writer
    assert_eq!(parse_detections(&detections_json(&boxes)).unwrap(), boxes);

    let err = |t: &str| parse_detections(t).unwrap_err();
    match err(r#"{"image_id": 1}"#) {
        DetectionError::Json(m) => assert!(m.contains("invalid type: map"), "{m}"),
        e => panic!("{e:?}"),
    }
    let e = err(r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]"#);
    assert!(e.to_string().contains("missing field `score`") && e.to_string().contains("expected a list of"), "{e}");
    let e = err(r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}]"#);
    assert!(e.to_string().contains("line 1"), "{e}");
    assert_eq!(
        err(r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, {"image_id": 1, "category_id": 1, "bbox": [0, 0, -2, 1], "score": 1}]"#),
        DetectionError::Invalid { index: 1, detail: "has a negative size (-2 x 1)".into() }
    );
    assert!(matches!(err("[1, 2"), DetectionError::Json(_)));
}

#[test]
fn seeded_scenes_are_reproducible_clustered_and_inside_the_image() {
    let spec = SceneSpec { seed: 7, objects: 3, boxes: 30, ..SceneSpec::default() };
    let s = scene::generate(&spec);
    assert_eq!(s, scene::generate(&spec));
    assert_ne!(s.boxes, scene::generate(&SceneSpec { seed: 8, ..spec.clone() }).boxes);
    assert_eq!((s.objects.len(), s.boxes.len()), (3, 30));
    for b in &s.boxes {
        assert!(b.bbox.x >= 0.0 && b.bbox.y >= 0.0 && b.bbox.x1() <= 640.0 + 1e-9 && b.bbox.y1() <= 480.0 + 1e-9, "{b:?}");
        assert!(b.score > 0.0 && b.score < 1.0, "{b:?}");
    }
    // every object has a cluster: at least two boxes over it with IoU above 0.5
    for o in &s.objects {
        let near = s.boxes.iter().filter(|b| b.bbox.iou(&o.bbox) > 0.5).count();
        assert!(near >= 2, "object {o:?} has {near} boxes near it");
    }
    // so NMS at 0.5 removes boxes, and keeps at least one per object
    let kept = nms(&s.boxes, 0.5, false);
    assert!(kept.len() < s.boxes.len() && kept.len() >= s.objects.len(), "{} of {}", kept.len(), s.boxes.len());
    let rgb = scene::picture(&s, 64, 48);
    assert_eq!(rgb.len(), 3 * 64 * 48);
    assert!(rgb.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn precision_curves_are_the_arrays_the_twelve_numbers_average() {
    // The hand case of metrics_coco.rs: two ground truths, ranked TP, FP, TP;
    // envelope 1 up to recall 0.5 (51 points), 2/3 after (50 points); pycocotools
    // divides by tp + fp + eps, so "1" is 1 - 2e-16.
    let gt = r#"{"images": [{"id": 1}], "categories": [{"id": 1, "name": "thing"}], "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [20, 20, 10, 10], "area": 100, "iscrowd": 0}]}"#;
    let dt = r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
                 {"image_id": 1, "category_id": 1, "bbox": [60, 60, 10, 10], "score": 0.8},
                 {"image_id": 1, "category_id": 1, "bbox": [20, 20, 10, 10], "score": 0.7}]"#;
    let e = coco::evaluate_full(&coco::parse_ground_truth(gt).unwrap(), &coco::parse_detections(dt).unwrap()).unwrap();
    let curve = e.precision_curve(0, 0).unwrap();
    assert_eq!(curve.len(), 101);
    assert!(curve[..51].iter().all(|&p| close(p, 1.0)) && curve[51..].iter().all(|&p| close(p, 2.0 / 3.0)), "{curve:?}");
    assert!(close(e.class_ap(0, Some(0)).unwrap(), (51.0 + 50.0 * 2.0 / 3.0) / 101.0));
    assert_eq!(e.recall(9, 0), Some(1.0));
    assert_eq!(e.precision_curve(10, 0), None);
    assert_eq!(Evaluation::recall_thresholds()[37], 0.37);
    assert_eq!(Evaluation::iou_thresholds()[5], 0.75);
}

#[test]
fn the_built_in_coco_example_defines_all_twelve_numbers() {
    let (gt_json, dt_json) = scene::coco_example_json(1, 12);
    let (gt, dets) = scene::coco_example(1, 12);
    let e = coco::evaluate_full(&gt, &dets).unwrap();
    // the JSON files say the same as the structs
    assert_eq!(coco::evaluate_json(&gt_json, &dt_json).unwrap(), e.stats);
    assert!(e.stats.iter().all(|&v| (0.0..=1.0).contains(&v)), "{:?}", e.stats);
    // AP is the mean of the classes' APs when every class has ground truth,
    // AP50 and AP75 the same at one threshold
    let k = e.categories.len();
    assert_eq!(k, 3);
    for (stat, t) in [(0, None), (1, Some(0)), (2, Some(5))] {
        let mean = (0..k).map(|c| e.class_ap(c, t).unwrap()).sum::<f64>() / k as f64;
        assert!((mean - e.stats[stat]).abs() < 1e-12, "{} {mean} vs {}", coco::STAT_NAMES[stat], e.stats[stat]);
    }
    assert!(e.stats[1] >= e.stats[2] && e.stats[2] >= 0.0);
}

#[test]
fn the_built_in_coco_example_matches_pycocotools() {
    // pycocotools 2.0.11 (COCO, loadRes, COCOeval "bbox") on the two files
    // coco_example_json(1, 12) writes: stats, and per class the mean of
    // eval['precision'][:, :, k, 0, 2].
    let pycocotools = [
        0.5362758301255681,
        0.9254048611066665,
        0.5697159459535697,
        0.4666666666666666,
        0.5939279642249938,
        0.54002200220022,
        0.3887301587301587,
        0.5820268620268619,
        0.5820268620268619,
        0.4666666666666667,
        0.6404761904761905,
        0.5642857142857144,
    ];
    let per_class = [0.5678714115755467, 0.4604746188904606, 0.580481459910697];
    let (gt, dt) = scene::coco_example_json(1, 12);
    let e = coco::evaluate_full(&coco::parse_ground_truth(&gt).unwrap(), &coco::parse_detections(&dt).unwrap()).unwrap();
    for ((name, got), want) in coco::STAT_NAMES.iter().zip(e.stats).zip(pycocotools) {
        assert!((got - want).abs() < 1e-12, "{name}: {got} vs pycocotools {want}");
    }
    for (k, want) in per_class.iter().enumerate() {
        let got = e.class_ap(k, None).unwrap();
        assert!((got - want).abs() < 1e-12, "class {k}: {got} vs pycocotools {want}");
    }
}
