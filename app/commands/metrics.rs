//! `vislab metrics <name> ...`: compare two files and print the result as JSON.
//! The metrics and their conventions live in `vislab_engine::metrics`.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};
use vislab_engine::geometry::{self, Asset};
use vislab_engine::metrics::shape::{DEFAULT_SAMPLES, DEFAULT_THRESHOLDS, Neighbours, ShapePoints, gt_scale};
use vislab_engine::metrics::{self, coco, voxel};

const USAGE: &str = "usage: vislab metrics <chamfer|fscore|normal-consistency|voxel-iou> <a> <b> \
[--samples N] [--seed S] [--thresholds t1,t2,...] | vislab metrics coco-map --gt gt.json --dt dt.json";

const CHAMFER_CONVENTION: &str = "PyTorch3D chamfer_distance default: for each direction the mean over points \
of the squared distance to the nearest point of the other set; chamfer = a_to_b + b_to_a; meshes are sampled \
(area-weighted, both with the same seed), point clouds used as they are, no rescaling";
const FSCORE_CONVENTION: &str = "Mesh R-CNN compare_meshes: a is the prediction, b the ground truth; meshes \
sampled, point clouds used as they are; both scaled so the ground truth's longest bounding-box edge is 10; \
precision = fraction of a with a point of b closer than t, recall = fraction of b with a point of a closer \
than t, f1 = 2pr/(p+r) (0 when both are 0); fractions in [0, 1] where Mesh R-CNN prints percent";
const NORMAL_CONVENTION: &str = "Mesh R-CNN: mean |cos| between each point's normal and its nearest \
neighbour's normal in the other set, averaged over both directions; mesh samples carry face normals";

pub fn run(args: &[String]) -> ExitCode {
    match metric(args) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parsed command line: positional arguments and `--name value` options.
struct Args {
    positional: Vec<String>,
    samples: usize,
    seed: u64,
    thresholds: Option<Vec<f64>>,
    gt: Option<String>,
    dt: Option<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args { positional: Vec::new(), samples: DEFAULT_SAMPLES, seed: 0, thresholds: None, gt: None, dt: None };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(name) = arg.strip_prefix("--") else {
            a.positional.push(arg.clone());
            continue;
        };
        let value = it.next().ok_or_else(|| format!("--{name} needs a value; {USAGE}"))?;
        let bad = |what: &str| format!("--{name} {value:?}: expected {what}");
        match name {
            "samples" => a.samples = value.parse().ok().filter(|&n| n > 0).ok_or_else(|| bad("a positive integer"))?,
            "seed" => a.seed = value.parse().map_err(|_| bad("a non-negative integer"))?,
            "thresholds" => {
                let ts = value.split(',').map(|t| t.trim().parse::<f64>().ok().filter(|t| t.is_finite() && *t > 0.0)).collect::<Option<Vec<_>>>();
                a.thresholds = Some(ts.filter(|t| !t.is_empty()).ok_or_else(|| bad("comma-separated positive numbers"))?);
            }
            "gt" => a.gt = Some(value.clone()),
            "dt" => a.dt = Some(value.clone()),
            _ => return Err(format!("unknown option --{name}; {USAGE}")),
        }
    }
    Ok(a)
}

fn metric(args: &[String]) -> Result<Value, String> {
    let (name, rest) = args.split_first().ok_or_else(|| USAGE.to_string())?;
    let a = parse(rest)?;
    if name == "coco-map" {
        return coco_map(&a);
    }
    if a.gt.is_some() || a.dt.is_some() {
        return Err(format!("--gt and --dt are for coco-map; {USAGE}"));
    }
    if a.thresholds.is_some() && name != "fscore" {
        return Err(format!("--thresholds is for fscore; {USAGE}"));
    }
    let [pa, pb] = a.positional.as_slice() else {
        return Err(format!("{name} needs two files; {USAGE}"));
    };
    let load = |p: &str| geometry::load_path(Path::new(p)).map_err(|e| e.to_string());
    let (asset_a, asset_b) = (load(pa)?, load(pb)?);
    let sampling = json!({ "samples_per_mesh": a.samples, "seed": a.seed });
    match name.as_str() {
        "chamfer" => {
            let (sa, sb) = (points(asset_a, &a, pa)?, points(asset_b, &a, pb)?);
            let c = metrics::chamfer(&sa.cloud.positions, &sb.cloud.positions).map_err(|e| e.to_string())?;
            Ok(json!({
                "metric": "chamfer", "convention": CHAMFER_CONVENTION,
                "chamfer": c.total, "a_to_b": c.a_to_b, "b_to_a": c.b_to_a,
                "points_a": sa.cloud.positions.len(), "points_b": sb.cloud.positions.len(), "sampling": sampling,
            }))
        }
        "fscore" => {
            let (sa, sb) = (points(asset_a, &a, pa)?, points(asset_b, &a, pb)?);
            let scale = gt_scale(&sb.bounds).map_err(|e| format!("{pb}: {e}"))?;
            let thresholds = a.thresholds.as_deref().unwrap_or(&DEFAULT_THRESHOLDS);
            let n = Neighbours::find(&sa.cloud.positions, &sb.cloud.positions).map_err(|e| e.to_string())?;
            let rows: Vec<Value> = n
                .fscore(scale, thresholds)
                .iter()
                .map(|f| json!({ "threshold": f.threshold, "precision": f.precision, "recall": f.recall, "f1": f.f1 }))
                .collect();
            Ok(json!({ "metric": "fscore", "convention": FSCORE_CONVENTION, "scale": scale, "scores": rows, "sampling": sampling }))
        }
        "normal-consistency" => {
            let (sa, sb) = (points(asset_a, &a, pa)?, points(asset_b, &a, pb)?);
            let v = metrics::normal_consistency(&sa.cloud, &sb.cloud).map_err(|e| e.to_string())?;
            Ok(json!({ "metric": "normal_consistency", "convention": NORMAL_CONVENTION, "normal_consistency": v, "sampling": sampling }))
        }
        "voxel-iou" => {
            let grid = |asset: Asset, path: &str| match asset {
                Asset::Voxels(v) => Ok(v),
                other => Err(format!("{path}: is a {}, voxel-iou needs voxel grids", other.kind())),
            };
            let r = metrics::voxel_iou(&grid(asset_a, pa)?, &grid(asset_b, pb)?).map_err(|e| e.to_string())?;
            Ok(json!({
                "metric": "voxel_iou", "convention": "voxels compared by index; occupied when value >= 0.5",
                "iou": r.iou, "intersection": r.intersection, "union": r.union, "threshold": voxel::OCCUPIED_AT,
            }))
        }
        _ => Err(format!("unknown metric {name:?}; {USAGE}")),
    }
}

fn points(asset: Asset, a: &Args, path: &str) -> Result<ShapePoints, String> {
    metrics::to_point_cloud(asset, a.samples, a.seed, "file").map_err(|e| format!("{path}: {e}"))
}

fn coco_map(a: &Args) -> Result<Value, String> {
    if !a.positional.is_empty() || a.thresholds.is_some() {
        return Err(format!("coco-map takes only --gt and --dt; {USAGE}"));
    }
    let (Some(gt), Some(dt)) = (&a.gt, &a.dt) else {
        return Err(format!("coco-map needs --gt and --dt; {USAGE}"));
    };
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: cannot read file: {e}"));
    let (gt_text, dt_text) = (read(gt)?, read(dt)?);
    let stats = coco::evaluate_json(&gt_text, &dt_text).map_err(|e| e.to_string())?;
    let mut out = serde_json::Map::new();
    out.insert("metric".into(), json!("coco_map"));
    out.insert("convention".into(), json!(coco::CONVENTION));
    for (name, v) in coco::STAT_NAMES.iter().zip(stats.iter()) {
        out.insert((*name).into(), json!(v));
    }
    out.insert("stats".into(), json!(stats.to_vec()));
    Ok(Value::Object(out))
}
