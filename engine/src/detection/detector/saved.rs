//! The command line's detector runs as files: the seeded training and
//! held-out sets a run's flags name, checkpoints (weights, BatchNorm
//! statistics, and the shape and anchors in the metadata, so `vislab eval`
//! and `vislab export` rebuild the network), and the tensors an exported
//! `train.py` trains on (PyTorch cannot redraw vislab's shapes).

use std::collections::BTreeMap;
use std::path::Path;

use crate::export::Named;
use crate::models::META_ARCH;
use crate::optim::Optimizer;
use crate::train::checkpoint;

use super::DetectorError;
use super::anchors::{AnchorGrid, Targets, assign};
use super::data::{CLASSES, DetSet};
use super::net::{DetectorModel, DetectorShape, GRID};
use super::train::{DetTrainConfig, DetTrainer};

pub const ARCH: &str = "detector";
const META_IMAGE: &str = "vislab.detector.image";
const META_ANCHORS: &str = "vislab.detector.anchors";
const META_CLASSES: &str = "vislab.detector.classes";
const META_BASE: &str = "vislab.detector.base";
const META_BOX_WEIGHT: &str = "vislab.detector.box_weight";
/// What model.py decodes with: anchor sides in pixels, the grid, the
/// class names and the decoding thresholds.
const META_ANCHOR_SIZES: &str = "vislab.detector.anchor_sizes";
const META_GRID: &str = "vislab.detector.grid";
const META_CLASS_NAMES: &str = "vislab.detector.class_names";
const META_SCORE: &str = "vislab.detector.score_threshold";
const META_NMS: &str = "vislab.detector.nms_iou";
const META_MAX_DETS: &str = "vislab.detector.max_detections";
const META_NEG_WEIGHT: &str = "vislab.detector.negative_weight";

/// Held-out images of a command-line run, drawn from `seed + HELD_OUT_SEED`.
pub const HELD_OUT: usize = 64;
const HELD_OUT_SEED: u64 = 1000;

/// The training and held-out sets of a run with these flags.
pub fn sets(images: usize, size: usize, objects: usize, seed: u64) -> (DetSet, DetSet) {
    (DetSet::synthetic(images, size, objects, seed), DetSet::synthetic(HELD_OUT, size, objects, seed + HELD_OUT_SEED))
}

fn meta(t: &DetTrainer) -> BTreeMap<String, String> {
    let s = t.model.shape();
    let c = t.config();
    let list = |v: Vec<String>| v.join(",");
    [
        (META_ARCH, ARCH.to_string()),
        (META_IMAGE, s.image.to_string()),
        (META_ANCHORS, s.anchors.to_string()),
        (META_CLASSES, s.classes.to_string()),
        (META_BASE, s.base.to_string()),
        (META_BOX_WEIGHT, s.box_weight.to_string()),
        (META_ANCHOR_SIZES, list(t.grid().sizes.iter().map(f64::to_string).collect())),
        (META_GRID, GRID.to_string()),
        (META_CLASS_NAMES, list(CLASSES.iter().map(|c| c.to_string()).collect())),
        (META_SCORE, c.decode.score_threshold.to_string()),
        (META_NMS, c.decode.nms_iou.to_string()),
        (META_MAX_DETS, c.decode.max_detections.to_string()),
        (META_NEG_WEIGHT, c.matching.negative_weight.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Save the trainer's model and its Adam state with `extra` metadata (the recipe).
pub fn save(path: &Path, t: &DetTrainer, extra: &BTreeMap<String, String>) -> Result<(), DetectorError> {
    let mut m = meta(t);
    m.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    checkpoint::save(path, t.model.params(), Some(t.optimizer() as &dyn Optimizer), &m).map_err(|e| DetectorError::Input(e.to_string()))
}

/// The model of a detector checkpoint's tensors and metadata.
pub fn model_of(ck: &checkpoint::Checkpoint) -> Result<DetectorModel, DetectorError> {
    let bad = |msg: String| DetectorError::Input(format!("not a detector checkpoint: {msg}"));
    if ck.meta.get(META_ARCH).map(String::as_str) != Some(ARCH) {
        return Err(bad(format!("{META_ARCH} is {:?}", ck.meta.get(META_ARCH))));
    }
    let get = |k: &str| ck.meta.get(k).ok_or_else(|| bad(format!("no {k} metadata")));
    let num = |k: &str| get(k).and_then(|v| v.parse::<usize>().map_err(|_| bad(format!("{k} = '{v}' is not a count"))));
    let box_weight = get(META_BOX_WEIGHT)?.parse::<f32>().map_err(|_| bad(format!("{META_BOX_WEIGHT} is not a number")))?;
    let shape = DetectorShape { image: num(META_IMAGE)?, anchors: num(META_ANCHORS)?, classes: num(META_CLASSES)?, base: num(META_BASE)?, box_weight };
    let mut model = DetectorModel::new(shape, 0)?;
    ck.apply(model.params_mut()).map_err(|e| DetectorError::Input(e.to_string()))?;
    Ok(model)
}

/// `train.x` `[N, 3, S, S]` with the targets vislab assigns
/// (`train.objectness`, `train.weight` `[N, A, 1, G, G]`, `train.boxes`,
/// `train.box_mask` `[N, A, 4, G, G]`, `train.classes` `[N, A, C, G, G]`),
/// and `test.x` with `test.boxes` `[M, 6]`: image index, x, y, w, h, category.
pub fn bundle(train: &DetSet, test: &DetSet, config: &DetTrainConfig) -> Vec<Named> {
    let grid = AnchorGrid::new(train.size, GRID, config.anchors);
    let targets: Vec<Targets> = train.objects.iter().map(|o| assign(&grid, o, CLASSES.len(), &config.matching)).collect();
    let (n, a, g) = (train.len(), config.anchors, GRID);
    let image = |d: &DetSet| vec![d.len(), 3, d.size, d.size];
    let cat = |f: fn(&Targets) -> &Vec<f32>| targets.iter().flat_map(|t| f(t).iter().copied()).collect::<Vec<f32>>();
    let boxes: Vec<f32> = test
        .objects
        .iter()
        .enumerate()
        .flat_map(|(i, objs)| objs.iter().flat_map(move |o| [i as f32, o.bbox.x as f32, o.bbox.y as f32, o.bbox.w as f32, o.bbox.h as f32, o.category as f32]))
        .collect();
    vec![
        Named::f32("train.x", image(train), train.images.clone()),
        Named::f32("train.objectness", vec![n, a, 1, g, g], cat(|t| &t.objectness)),
        Named::f32("train.weight", vec![n, a, 1, g, g], cat(|t| &t.weight)),
        Named::f32("train.boxes", vec![n, a, 4, g, g], cat(|t| &t.boxes)),
        Named::f32("train.box_mask", vec![n, a, 4, g, g], cat(|t| &t.box_mask)),
        Named::f32("train.classes", vec![n, a, CLASSES.len(), g, g], cat(|t| &t.classes)),
        Named::f32("test.x", image(test), test.images.clone()),
        Named::f32("test.boxes", vec![boxes.len() / 6, 6], boxes),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_rebuilds_the_same_detector() {
        let (train, val) = sets(8, 32, 3, 4);
        let mut config = DetTrainConfig::new(1, 4);
        config.batch_size = 4;
        let (train, val) = (std::sync::Arc::new(train), std::sync::Arc::new(val));
        let mut t = DetTrainer::new(train.clone(), val.clone(), config.clone()).unwrap();
        t.run_all().unwrap();
        // a trained BatchNorm's running statistics moved off their start (0 and 1)
        let mean = t.model.params().iter().find(|p| p.name == "stage1a_bn.running_mean").unwrap();
        assert!(mean.value.iter().any(|&v| v != 0.0), "{:?}", mean.value);
        let dir = std::env::temp_dir().join(format!("vislab-det-ck-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("det.safetensors");
        save(&path, &t, &BTreeMap::from([("vislab.train.seed".into(), "4".into())])).unwrap();
        let ck = checkpoint::load(&path).unwrap();
        assert_eq!(ck.meta["vislab.detector.anchor_sizes"].split(',').count(), 3);
        let mut back = model_of(&ck).unwrap();
        let x = val.batch(&[0, 1]);
        assert_eq!(back.predict(&x, 2).unwrap(), t.model.predict(&x, 2).unwrap());
        // the bundle holds every image and object, targets in the network's layout
        let b = bundle(&train, &val, &config);
        let get = |n: &str| b.iter().find(|t| t.name == n).unwrap();
        assert_eq!(get("train.x").shape, vec![8, 3, 32, 32]);
        assert_eq!(get("train.classes").shape, vec![8, 3, 3, GRID, GRID]);
        assert_eq!(get("test.boxes").shape, vec![val.object_count(), 6]);
        let wrong = checkpoint::Checkpoint { meta: BTreeMap::from([(META_ARCH.into(), "vae".into())]), ..ck };
        assert!(model_of(&wrong).err().unwrap().to_string().contains("not a detector checkpoint"));
        std::fs::remove_dir_all(dir).ok();
    }
}
