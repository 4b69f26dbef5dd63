//! `vislab metrics <name> ...`: compare two files and print the result as JSON.
//! The metrics and their conventions live in `vislab_engine::metrics`.

use std::path::Path;

use clap::{Args, Subcommand};

use serde_json::{Value, json};
use vislab_engine::geometry::{self, Asset};
use vislab_engine::metrics::shape::{DEFAULT_SAMPLES, DEFAULT_THRESHOLDS, Neighbours, ShapePoints, gt_scale};
use vislab_engine::metrics::{self, coco, voxel};

const CHAMFER_CONVENTION: &str = "PyTorch3D chamfer_distance default: for each direction the mean over points \
of the squared distance to the nearest point of the other set; chamfer = a_to_b + b_to_a; meshes are sampled \
(area-weighted, both with the same seed), point clouds used as they are, no rescaling";
const FSCORE_CONVENTION: &str = "Mesh R-CNN compare_meshes: a is the prediction, b the ground truth; meshes \
sampled, point clouds used as they are; both scaled so the ground truth's longest bounding-box edge is 10; \
precision = fraction of a with a point of b closer than t, recall = fraction of b with a point of a closer \
than t, f1 = 2pr/(p+r) (0 when both are 0); fractions in [0, 1] where Mesh R-CNN prints percent";
const NORMAL_CONVENTION: &str = "Mesh R-CNN: mean |cos| between each point's normal and its nearest \
neighbour's normal in the other set, averaged over both directions; mesh samples carry face normals";

/// `vislab metrics`'s subcommands: one per metric.
#[derive(Subcommand, Debug, Clone)]
pub enum Metric {
    /// Chamfer distance of two meshes or point clouds (PyTorch3D's convention)
    Chamfer(Pair),
    /// Precision, recall and F1 at distance thresholds (Mesh R-CNN's convention; A is the prediction)
    Fscore {
        #[command(flatten)]
        pair: Pair,
        /// Distance thresholds, the ground truth's longest edge scaled to 10
        #[arg(long, value_name = "T1,T2,..", value_delimiter = ',', default_values_t = DEFAULT_THRESHOLDS, value_parser = positive)]
        thresholds: Vec<f64>,
    },
    /// Mean |cos| between nearest neighbours' normals (Mesh R-CNN's convention)
    NormalConsistency(Pair),
    /// Intersection over union of two voxel grids of one size
    VoxelIou {
        /// A voxel grid (binvox, .vol, .npy)
        a: String,
        /// Another of the same size
        b: String,
    },
    /// The 12 COCOeval numbers of a detections JSON against a ground-truth JSON
    CocoMap {
        /// COCO ground truth (instances JSON)
        #[arg(long, value_name = "FILE")]
        gt: String,
        /// COCO results JSON (a list of detections)
        #[arg(long, value_name = "FILE")]
        dt: String,
    },
}

/// Two shapes and how meshes among them are sampled.
#[derive(Args, Debug, Clone)]
pub struct Pair {
    /// A mesh or point cloud
    a: String,
    /// Another
    b: String,
    /// Points sampled from each mesh (area-weighted)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SAMPLES, value_parser = super::train_args::at_least_one())]
    samples: usize,
    /// Seed of the sampling
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
}

fn positive(s: &str) -> Result<f64, String> {
    s.trim().parse::<f64>().ok().filter(|t| t.is_finite() && *t > 0.0).ok_or_else(|| "expected a positive number".to_string())
}

/// Compute `metric` and print it as JSON.
pub fn run(metric: &Metric) -> Result<(), String> {
    let v = match metric {
        Metric::CocoMap { gt, dt } => coco_map(gt, dt)?,
        Metric::VoxelIou { a, b } => voxel_iou(a, b)?,
        Metric::Chamfer(p) => chamfer(p)?,
        Metric::Fscore { pair, thresholds } => fscore(pair, thresholds)?,
        Metric::NormalConsistency(p) => normal_consistency(p)?,
    };
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()));
    Ok(())
}

fn load(p: &str) -> Result<Asset, String> {
    geometry::load_path(Path::new(p)).map_err(|e| e.to_string())
}

fn voxel_iou(pa: &str, pb: &str) -> Result<Value, String> {
    let grid = |asset: Asset, path: &str| match asset {
        Asset::Voxels(v) => Ok(v),
        other => Err(format!("{path}: is a {}, voxel-iou needs voxel grids", other.kind())),
    };
    let r = metrics::voxel_iou(&grid(load(pa)?, pa)?, &grid(load(pb)?, pb)?).map_err(|e| e.to_string())?;
    Ok(json!({
        "metric": "voxel_iou", "convention": "voxels compared by index; occupied when value >= 0.5",
        "iou": r.iou, "intersection": r.intersection, "union": r.union, "threshold": voxel::OCCUPIED_AT,
    }))
}

/// Both shapes as points (meshes sampled), and how they were sampled.
fn shape_points(p: &Pair) -> Result<(ShapePoints, ShapePoints, Value), String> {
    let (asset_a, asset_b) = (load(&p.a)?, load(&p.b)?);
    let sampling = json!({ "samples_per_mesh": p.samples, "seed": p.seed });
    Ok((points(asset_a, p, &p.a)?, points(asset_b, p, &p.b)?, sampling))
}

fn chamfer(p: &Pair) -> Result<Value, String> {
    let (sa, sb, sampling) = shape_points(p)?;
    let c = metrics::chamfer(&sa.cloud.positions, &sb.cloud.positions).map_err(|e| e.to_string())?;
    Ok(json!({
        "metric": "chamfer", "convention": CHAMFER_CONVENTION,
        "chamfer": c.total, "a_to_b": c.a_to_b, "b_to_a": c.b_to_a,
        "points_a": sa.cloud.positions.len(), "points_b": sb.cloud.positions.len(), "sampling": sampling,
    }))
}

fn fscore(p: &Pair, thresholds: &[f64]) -> Result<Value, String> {
    let (sa, sb, sampling) = shape_points(p)?;
    let scale = gt_scale(&sb.bounds).map_err(|e| format!("{}: {e}", p.b))?;
    let n = Neighbours::find(&sa.cloud.positions, &sb.cloud.positions).map_err(|e| e.to_string())?;
    let rows: Vec<Value> = n.fscore(scale, thresholds).iter().map(|f| json!({ "threshold": f.threshold, "precision": f.precision, "recall": f.recall, "f1": f.f1 })).collect();
    Ok(json!({ "metric": "fscore", "convention": FSCORE_CONVENTION, "scale": scale, "scores": rows, "sampling": sampling }))
}

fn normal_consistency(p: &Pair) -> Result<Value, String> {
    let (sa, sb, sampling) = shape_points(p)?;
    let v = metrics::normal_consistency(&sa.cloud, &sb.cloud).map_err(|e| e.to_string())?;
    Ok(json!({ "metric": "normal_consistency", "convention": NORMAL_CONVENTION, "normal_consistency": v, "sampling": sampling }))
}

fn points(asset: Asset, a: &Pair, path: &str) -> Result<ShapePoints, String> {
    metrics::to_point_cloud(asset, a.samples, a.seed, "file").map_err(|e| format!("{path}: {e}"))
}

fn coco_map(gt: &str, dt: &str) -> Result<Value, String> {
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
