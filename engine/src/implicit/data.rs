//! Targets in one frame, training points and the fixed evaluation grid.
//!
//! Every target is moved into a unit box (centre of its bounds at the
//! origin, longest edge 1), so the network always sees coordinates in
//! [-1/2, 1/2] plus a margin, whatever the file's units.

use crate::geometry::{GridSpec, Mesh, VoxelGrid, sample_points};
use crate::rng::SeededRng;

use super::ImplicitError;
use super::inside::Solid;

/// Half the edge of the cube points are drawn from and grids cover: the
/// unit box plus a margin, so the shape never touches the border.
pub const BOX_HALF: f32 = 0.55;

/// `mesh` centred on its bounds and scaled so its longest edge is 1.
pub fn normalize(mesh: &Mesh) -> Result<Mesh, ImplicitError> {
    let b = mesh.bounds().ok_or_else(|| ImplicitError::Input("the mesh has no vertices".into()))?;
    let longest = b.size().into_iter().fold(0.0f32, f32::max);
    if !(longest > 0.0 && longest.is_finite()) {
        return Err(ImplicitError::Input("the mesh has no extent".into()));
    }
    let c = b.center();
    let mut m = mesh.clone();
    for p in &mut m.positions {
        *p = std::array::from_fn(|k| (p[k] - c[k]) / longest);
    }
    m.compute_vertex_normals();
    Ok(m)
}

/// A grid of `res`^3 voxels exactly covering the sampling cube.
pub fn box_grid(res: usize) -> GridSpec {
    let res = res.max(1);
    GridSpec { dims: [res; 3], origin: [-BOX_HALF; 3], voxel_size: 2.0 * BOX_HALF / res as f32 }
}

/// How training points are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleConfig {
    /// Points uniform in the cube.
    pub uniform: usize,
    /// Points on the surface moved by Gaussian noise: where the decision
    /// boundary is, so the level set is learned precisely there.
    pub near: usize,
    /// Standard deviation of that noise, in unit-box lengths.
    pub sigma: f32,
    pub seed: u64,
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig { uniform: 4096, near: 4096, sigma: 0.02, seed: 0 }
    }
}

/// Labelled points: 1 inside the target, 0 outside.
#[derive(Clone, Debug, PartialEq)]
pub struct PointSet {
    pub points: Vec<[f32; 3]>,
    pub labels: Vec<f32>,
}

impl PointSet {
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Fraction of points inside.
    pub fn inside_fraction(&self) -> f64 {
        self.labels.iter().map(|&v| v as f64).sum::<f64>() / self.labels.len().max(1) as f64
    }
}

const STREAM_UNIFORM: u64 = 11;
const STREAM_NOISE: u64 = 12;

/// Points for training on `solid` (already normalized), labelled by its test.
pub fn sample_training(solid: &Solid, cfg: &SampleConfig) -> Result<PointSet, ImplicitError> {
    if cfg.uniform + cfg.near == 0 {
        return Err(ImplicitError::Input("no training points asked for".into()));
    }
    if !(cfg.sigma.is_finite() && cfg.sigma >= 0.0) {
        return Err(ImplicitError::Input(format!("noise {} must be a non-negative number", cfg.sigma)));
    }
    let mut rng = SeededRng::stream(cfg.seed, STREAM_UNIFORM);
    let h = BOX_HALF as f64;
    let mut points: Vec<[f32; 3]> = (0..cfg.uniform).map(|_| std::array::from_fn(|_| rng.uniform_in(-h, h) as f32)).collect();
    let surface = sample_points(solid.mesh(), cfg.near, cfg.seed);
    let mut noise = SeededRng::stream(cfg.seed, STREAM_NOISE);
    points.extend(surface.positions.iter().map(|p| std::array::from_fn(|k| (p[k] + cfg.sigma * noise.normal() as f32).clamp(-BOX_HALF, BOX_HALF))));
    let labels = solid.labels(&points);
    Ok(PointSet { points, labels })
}

/// The true occupancy of `solid` at the voxel centres of `spec`.
pub fn true_grid(solid: &Solid, spec: &GridSpec) -> VoxelGrid {
    let centres = grid_centres(spec);
    VoxelGrid { dims: spec.dims, values: solid.labels(&centres), origin: spec.origin, voxel_size: spec.voxel_size }
}

/// Voxel centres of `spec`, x fastest (the layout of `VoxelGrid`).
pub fn grid_centres(spec: &GridSpec) -> Vec<[f32; 3]> {
    let [nx, ny, nz] = spec.dims;
    let mut out = Vec::with_capacity(nx * ny * nz);
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                out.push(spec.center([x, y, z]));
            }
        }
    }
    out
}

/// A square slice of the cube at `pos` along `axis`, `res` x `res` points,
/// row-major with the first in-plane axis fastest; in-plane axes are the
/// other two in increasing order (x-slice: y then z).
pub fn slice_points(axis: usize, pos: f32, res: usize) -> Vec<[f32; 3]> {
    let (u, v) = plane_axes(axis);
    let step = 2.0 * BOX_HALF / res.max(1) as f32;
    let mut out = Vec::with_capacity(res * res);
    for j in 0..res {
        for i in 0..res {
            let mut p = [pos; 3];
            p[u] = -BOX_HALF + (i as f32 + 0.5) * step;
            p[v] = -BOX_HALF + (j as f32 + 0.5) * step;
            out.push(p);
        }
    }
    out
}

/// The two axes spanning a slice normal to `axis`.
pub fn plane_axes(axis: usize) -> (usize, usize) {
    match axis.min(2) {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    }
}

/// Where the surface of `mesh` crosses the plane `p[axis] = pos`: segments
/// in the plane's (u, v) coordinates (see [`plane_axes`]), one per triangle
/// the plane cuts through. The outline of the true shape on a slice.
pub fn slice_outline(mesh: &Mesh, axis: usize, pos: f32) -> Vec<[[f32; 2]; 2]> {
    let axis = axis.min(2);
    let (u, v) = plane_axes(axis);
    let mut out = Vec::new();
    for t in &mesh.triangles {
        let Some(p) = t.iter().map(|&i| mesh.positions.get(i as usize).copied()).collect::<Option<Vec<[f32; 3]>>>() else { continue };
        let d: Vec<f32> = p.iter().map(|q| q[axis] - pos).collect();
        let mut hits = Vec::with_capacity(2);
        for k in 0..3 {
            let (a, b) = (k, (k + 1) % 3);
            // Half-open test so a vertex exactly on the plane counts once.
            if (d[a] < 0.0) != (d[b] < 0.0) {
                let s = d[a] / (d[a] - d[b]);
                hits.push([p[a][u] + s * (p[b][u] - p[a][u]), p[a][v] + s * (p[b][v] - p[a][v])]);
            }
        }
        if let [a, b] = hits[..] {
            out.push([a, b]);
        }
    }
    out
}
