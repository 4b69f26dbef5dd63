//! Distances between two point sets: Chamfer distance, F-score at distance
//! thresholds, and normal consistency (conventions in the module above).

use super::{KdTree, MetricsError};
use crate::geometry::{Aabb, Asset, PointCloud, sample_points};

/// Points sampled from each mesh (Mesh R-CNN's choice).
pub const DEFAULT_SAMPLES: usize = 10_000;
/// F-score thresholds in units where the ground truth's longest edge is 10.
pub const DEFAULT_THRESHOLDS: [f64; 5] = [0.1, 0.2, 0.3, 0.4, 0.5];
/// Length the ground truth's longest bounding-box edge is scaled to.
pub const GT_LONGEST_EDGE: f64 = 10.0;

/// A shape as the metrics see it: points (with normals when known) and the
/// bounds of the original geometry, which set the F-score scale.
#[derive(Clone, Debug)]
pub struct ShapePoints {
    pub cloud: PointCloud,
    pub bounds: Aabb,
}

/// Turn a loaded asset into points: a mesh is sampled (`samples` points,
/// area-weighted, with face normals, from `seed`), a point cloud is used as
/// it is, a depth map is back-projected with its intrinsics. Voxel grids are
/// refused (compare them with `voxel_iou`).
pub fn to_point_cloud(asset: Asset, samples: usize, seed: u64, what: &'static str) -> Result<ShapePoints, MetricsError> {
    let (cloud, bounds) = match asset {
        Asset::Mesh(m) => (sample_points(&m, samples, seed), m.bounds()),
        Asset::Points(p) => {
            let b = p.bounds();
            (p, b)
        }
        Asset::Depth(d) => {
            let p = d.to_point_cloud(&d.intrinsics, None);
            let b = p.bounds();
            (p, b)
        }
        Asset::Voxels(_) => {
            return Err(MetricsError::Unsupported { what, detail: "a voxel grid has no points (use voxel-iou)".into() });
        }
    };
    check_points(&cloud.positions, what)?;
    let bounds = bounds.ok_or(MetricsError::Empty(what))?;
    Ok(ShapePoints { cloud, bounds })
}

/// Chamfer distance, PyTorch3D convention: squared distances, mean per direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chamfer {
    /// Mean over points of `a` of the squared distance to the nearest point of `b`.
    pub a_to_b: f64,
    /// Mean over points of `b` of the squared distance to the nearest point of `a`.
    pub b_to_a: f64,
    /// `a_to_b + b_to_a`.
    pub total: f64,
}

/// Precision, recall and F1 at one distance threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FScore {
    pub threshold: f64,
    /// Fraction of predicted points with a ground-truth point closer than the threshold.
    pub precision: f64,
    /// Fraction of ground-truth points with a predicted point closer than the threshold.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub f1: f64,
}

/// Nearest neighbours in both directions: for each point, the index of the
/// nearest point of the other set and the squared distance to it.
#[derive(Clone, Debug)]
pub struct Neighbours {
    pub a_to_b: Vec<(usize, f32)>,
    pub b_to_a: Vec<(usize, f32)>,
}

impl Neighbours {
    /// Errors when either set is empty or holds a non-finite coordinate.
    pub fn find(a: &[[f32; 3]], b: &[[f32; 3]]) -> Result<Self, MetricsError> {
        check_points(a, "first point set")?;
        check_points(b, "second point set")?;
        Ok(Neighbours { a_to_b: KdTree::new(b).nearest_all(a), b_to_a: KdTree::new(a).nearest_all(b) })
    }

    pub fn chamfer(&self) -> Chamfer {
        let mean = |v: &[(usize, f32)]| v.iter().map(|&(_, d)| d as f64).sum::<f64>() / v.len().max(1) as f64;
        let (a_to_b, b_to_a) = (mean(&self.a_to_b), mean(&self.b_to_a));
        Chamfer { a_to_b, b_to_a, total: a_to_b + b_to_a }
    }

    /// F-score with `a` the prediction and `b` the ground truth, distances
    /// multiplied by `scale` before comparing with each threshold.
    pub fn fscore(&self, scale: f64, thresholds: &[f64]) -> Vec<FScore> {
        let within = |v: &[(usize, f32)], t: f64| {
            let hits = v.iter().filter(|&&(_, d)| (d as f64).sqrt() * scale < t).count();
            hits as f64 / v.len().max(1) as f64
        };
        thresholds
            .iter()
            .map(|&threshold| {
                let (precision, recall) = (within(&self.a_to_b, threshold), within(&self.b_to_a, threshold));
                let sum = precision + recall;
                let f1 = if sum > 0.0 { 2.0 * precision * recall / sum } else { 0.0 };
                FScore { threshold, precision, recall, f1 }
            })
            .collect()
    }

    /// Mean |cos| between each point's normal and its nearest neighbour's,
    /// averaged over both directions. Normals are given per point of `a` and `b`.
    pub fn normal_consistency(&self, a_normals: &[[f32; 3]], b_normals: &[[f32; 3]]) -> f64 {
        let mean_abs_cos = |pairs: &[(usize, f32)], own: &[[f32; 3]], other: &[[f32; 3]]| {
            let total: f64 = own.iter().zip(pairs).filter_map(|(n, &(j, _))| Some(abs_cos(*n, *other.get(j)?))).sum();
            total / pairs.len().max(1) as f64
        };
        0.5 * (mean_abs_cos(&self.a_to_b, a_normals, b_normals) + mean_abs_cos(&self.b_to_a, b_normals, a_normals))
    }
}

/// Chamfer distance between two point sets (see `Chamfer`).
pub fn chamfer(a: &[[f32; 3]], b: &[[f32; 3]]) -> Result<Chamfer, MetricsError> {
    Ok(Neighbours::find(a, b)?.chamfer())
}

/// Scale that makes the ground truth's longest bounding-box edge 10.
pub fn gt_scale(gt_bounds: &Aabb) -> Result<f64, MetricsError> {
    let longest = gt_bounds.size().into_iter().fold(0.0f32, f32::max);
    if !(longest > 0.0 && longest.is_finite()) {
        return Err(MetricsError::Invalid("ground truth has zero extent: cannot scale it to a longest edge of 10".into()));
    }
    Ok(GT_LONGEST_EDGE / longest as f64)
}

/// F-score of `pred` against `gt` at each threshold, Mesh R-CNN convention
/// (both scaled so the ground truth's longest bounding-box edge is 10).
pub fn fscore(pred: &ShapePoints, gt: &ShapePoints, thresholds: &[f64]) -> Result<Vec<FScore>, MetricsError> {
    let scale = gt_scale(&gt.bounds)?;
    Ok(Neighbours::find(&pred.cloud.positions, &gt.cloud.positions)?.fscore(scale, thresholds))
}

/// Normal consistency of two point sets with normals (see `Neighbours::normal_consistency`).
pub fn normal_consistency(a: &PointCloud, b: &PointCloud) -> Result<f64, MetricsError> {
    let na = normals_of(a, "first point set")?;
    let nb = normals_of(b, "second point set")?;
    Ok(Neighbours::find(&a.positions, &b.positions)?.normal_consistency(na, nb))
}

fn normals_of<'a>(p: &'a PointCloud, what: &'static str) -> Result<&'a [[f32; 3]], MetricsError> {
    let n = p.normals.as_deref().ok_or(MetricsError::NoNormals(what))?;
    if n.len() != p.positions.len() {
        return Err(MetricsError::Invalid(format!("{what} has {} normals for {} points", n.len(), p.positions.len())));
    }
    if let Some(index) = n.iter().position(|v| !v.iter().all(|c| c.is_finite())) {
        return Err(MetricsError::NonFinite { what, index });
    }
    Ok(n)
}

/// |cos| of the angle between two vectors; 0 when either is (nearly) zero,
/// as torch's `cosine_similarity` with eps 1e-6 gives.
fn abs_cos(a: [f32; 3], b: [f32; 3]) -> f64 {
    let (a, b) = (a.map(f64::from), b.map(f64::from));
    let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let norms = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt() * (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]).sqrt();
    dot.abs() / norms.max(1e-6)
}

fn check_points(points: &[[f32; 3]], what: &'static str) -> Result<(), MetricsError> {
    if points.is_empty() {
        return Err(MetricsError::Empty(what));
    }
    match points.iter().position(|p| !p.iter().all(|v| v.is_finite())) {
        Some(index) => Err(MetricsError::NonFinite { what, index }),
        None => Ok(()),
    }
}
