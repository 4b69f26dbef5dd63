//! The synthetic shape set: primitive meshes under a random anisotropic
//! scale and a random rotation (about the up axis, or any), sampled as point clouds
//! (area-weighted, Gaussian jitter, centred and scaled into the unit
//! sphere) and voxelized with the same normalisation onto a fixed grid
//! over [-1, 1]^3 (surface occupancy).
//!
//! Every shape comes from its own seeded stream (seed, split, class,
//! index), so a shape does not change when the set grows.

use std::sync::Arc;

use crate::data::Dataset;
use crate::geometry::{Fill, GridSpec, Mesh, VoxelGrid, mesh_to_voxels, sample_points, shapes};
use crate::rng::SeededRng;

use super::Shapes3dError;

/// The primitive shape classes, in label order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShapeClass {
    Sphere,
    Cube,
    Cylinder,
    Cone,
    Torus,
    Pyramid,
}

impl ShapeClass {
    pub const ALL: [ShapeClass; 6] = [ShapeClass::Sphere, ShapeClass::Cube, ShapeClass::Cylinder, ShapeClass::Cone, ShapeClass::Torus, ShapeClass::Pyramid];

    pub fn name(self) -> &'static str {
        match self {
            ShapeClass::Sphere => "sphere",
            ShapeClass::Cube => "cube",
            ShapeClass::Cylinder => "cylinder",
            ShapeClass::Cone => "cone",
            ShapeClass::Torus => "torus",
            ShapeClass::Pyramid => "pyramid",
        }
    }

    pub fn label(self) -> usize {
        ShapeClass::ALL.iter().position(|&c| c == self).unwrap_or(0)
    }

    /// The canonical mesh, about one unit across, centred near the origin.
    pub fn mesh(self) -> Mesh {
        match self {
            ShapeClass::Sphere => shapes::uv_sphere(0.5, 24, 12),
            ShapeClass::Cube => shapes::cube(1.0),
            ShapeClass::Cylinder => shapes::cylinder(0.5, 1.0, 24),
            ShapeClass::Cone => shapes::cone(0.5, 1.0, 24),
            ShapeClass::Torus => shapes::torus(0.35, 0.15, 32, 12),
            ShapeClass::Pyramid => shapes::pyramid(1.0, 1.0),
        }
    }
}

/// Class names in label order.
pub fn class_names() -> Vec<String> {
    ShapeClass::ALL.iter().map(|c| c.name().to_string()).collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct ShapeSetConfig {
    /// Training shapes per class.
    pub train_per_class: usize,
    /// Held-out shapes per class.
    pub held_out_per_class: usize,
    /// Points per cloud.
    pub points: usize,
    /// Voxels along each axis of the grid.
    pub resolution: usize,
    /// Standard deviation of the jitter added to every point, relative to
    /// the shape's radius.
    pub noise: f32,
    /// Each axis is scaled by a factor drawn from [1 - s, 1 + s].
    pub scale_jitter: f32,
    /// Rotations drawn uniformly from all of SO(3) (much harder for both
    /// networks, which have no rotation invariance built in), instead of
    /// about the up (y) axis only, ModelNet's usual protocol.
    pub any_rotation: bool,
    pub seed: u64,
}

impl Default for ShapeSetConfig {
    fn default() -> Self {
        ShapeSetConfig { train_per_class: 32, held_out_per_class: 10, points: 128, resolution: 16, noise: 0.01, scale_jitter: 0.3, any_rotation: false, seed: 0 }
    }
}

/// Largest sizes the set accepts (a dataset of a few hundred MiB at most).
pub const MAX_POINTS: usize = 8192;
pub const MAX_RESOLUTION: usize = 64;
pub const MAX_PER_CLASS: usize = 5000;

impl ShapeSetConfig {
    pub fn check(&self) -> Result<(), Shapes3dError> {
        let bad = |m: String| Err(Shapes3dError::Config(m));
        if self.train_per_class == 0 || self.held_out_per_class == 0 {
            return bad("the set needs at least one training and one held-out shape per class".into());
        }
        if self.train_per_class + self.held_out_per_class > MAX_PER_CLASS {
            return bad(format!("at most {MAX_PER_CLASS} shapes per class"));
        }
        if !(1..=MAX_POINTS).contains(&self.points) {
            return bad(format!("points per cloud must be 1 to {MAX_POINTS}, got {}", self.points));
        }
        if !(2..=MAX_RESOLUTION).contains(&self.resolution) {
            return bad(format!("voxel resolution must be 2 to {MAX_RESOLUTION}, got {}", self.resolution));
        }
        if !(self.noise.is_finite() && (0.0..=0.5).contains(&self.noise)) {
            return bad(format!("noise must be in [0, 0.5], got {}", self.noise));
        }
        if !(self.scale_jitter.is_finite() && (0.0..0.9).contains(&self.scale_jitter)) {
            return bad(format!("scale jitter must be in [0, 0.9), got {}", self.scale_jitter));
        }
        Ok(())
    }

    /// The grid every shape is voxelized on: [-1, 1]^3.
    pub fn grid(&self) -> GridSpec {
        GridSpec { dims: [self.resolution; 3], origin: [-1.0; 3], voxel_size: 2.0 / self.resolution as f32 }
    }
}

/// One generated shape.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeSample {
    pub class: ShapeClass,
    /// Points in the unit sphere (centroid at the origin, farthest point at radius 1).
    pub points: Vec<[f32; 3]>,
    /// Surface occupancy of the same shape under the same normalisation.
    pub voxels: VoxelGrid,
    /// The transformed, normalised mesh the samples came from.
    pub mesh: Mesh,
}

/// Which split a shape belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    HeldOut,
}

/// A uniformly random rotation (Shoemake's quaternion method), row-major.
fn random_rotation(rng: &mut SeededRng) -> [[f32; 3]; 3] {
    let (u1, u2, u3) = (rng.uniform(), rng.uniform(), rng.uniform());
    let tau = std::f64::consts::TAU;
    let (a, b) = ((1.0 - u1).sqrt(), u1.sqrt());
    let (x, y, z, w) = (a * (tau * u2).sin(), a * (tau * u2).cos(), b * (tau * u3).sin(), b * (tau * u3).cos());
    let m = [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
        [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
        [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
    ];
    m.map(|r| r.map(|v| v as f32))
}

/// A uniformly random rotation about the y axis.
fn up_rotation(rng: &mut SeededRng) -> [[f32; 3]; 3] {
    let t = (std::f64::consts::TAU * rng.uniform()) as f32;
    let (s, c) = t.sin_cos();
    [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]
}

fn apply(m: &[[f32; 3]; 3], p: [f32; 3]) -> [f32; 3] {
    std::array::from_fn(|i| m[i][0] * p[0] + m[i][1] * p[1] + m[i][2] * p[2])
}

/// Generate shape `index` of `class` in `split`.
pub fn generate(class: ShapeClass, split: Split, index: usize, config: &ShapeSetConfig) -> Result<ShapeSample, Shapes3dError> {
    let split_bits: u64 = match split {
        Split::Train => 0,
        Split::HeldOut => 1 << 60,
    };
    let stream = split_bits | ((class.label() as u64) << 40) | index as u64;
    let mut rng = SeededRng::stream(config.seed, stream);
    let j = config.scale_jitter as f64;
    let scale: [f32; 3] = std::array::from_fn(|_| rng.uniform_in(1.0 - j, 1.0 + j) as f32);
    let rot = if config.any_rotation { random_rotation(&mut rng) } else { up_rotation(&mut rng) };
    let mut mesh = class.mesh();
    for p in &mut mesh.positions {
        *p = apply(&rot, std::array::from_fn(|k| p[k] * scale[k]));
    }
    mesh.normals = None;
    let mut points = sample_points(&mesh, config.points, rng.next_u64()).positions;
    if points.len() != config.points {
        return Err(Shapes3dError::Config(format!("{} has no surface to sample", class.name())));
    }
    // Jitter relative to the clean shape's size, then normalise what is seen.
    let (_, r0) = centre_and_radius(&points);
    let sigma = config.noise as f64 * r0 as f64;
    for p in &mut points {
        for v in p.iter_mut() {
            *v += (sigma * rng.normal()) as f32;
        }
    }
    let (c, r) = centre_and_radius(&points);
    let r = r.max(1e-6);
    let norm = |p: [f32; 3]| -> [f32; 3] { std::array::from_fn(|k| (p[k] - c[k]) / r) };
    for p in &mut points {
        *p = norm(*p);
    }
    for p in &mut mesh.positions {
        *p = norm(*p);
    }
    let voxels = mesh_to_voxels(&mesh, &config.grid(), Fill::Surface)?;
    Ok(ShapeSample { class, points, voxels, mesh })
}

/// Centroid and the largest distance from it.
fn centre_and_radius(points: &[[f32; 3]]) -> ([f32; 3], f32) {
    let n = points.len().max(1) as f64;
    let c: [f32; 3] = std::array::from_fn(|k| (points.iter().map(|p| p[k] as f64).sum::<f64>() / n) as f32);
    let r = points.iter().map(|p| (0..3).map(|k| (p[k] - c[k]).powi(2)).sum::<f32>().sqrt()).fold(0.0, f32::max);
    (c, r)
}

/// The generated set: shapes in class-major order per split.
#[derive(Clone, Debug)]
pub struct ShapeSet {
    pub config: ShapeSetConfig,
    pub train: Vec<ShapeSample>,
    pub held_out: Vec<ShapeSample>,
}

impl ShapeSet {
    /// Generate every shape of `config`; `progress(done, total)` is called
    /// after each one (return false to cancel, which is an error).
    pub fn generate(config: &ShapeSetConfig, mut progress: impl FnMut(usize, usize) -> bool) -> Result<ShapeSet, Shapes3dError> {
        config.check()?;
        let per = config.train_per_class + config.held_out_per_class;
        let total = per * ShapeClass::ALL.len();
        let (mut train, mut held_out) = (Vec::new(), Vec::new());
        let mut done = 0;
        for (split, count, out) in [(Split::Train, config.train_per_class, &mut train), (Split::HeldOut, config.held_out_per_class, &mut held_out)] {
            for class in ShapeClass::ALL {
                for i in 0..count {
                    out.push(generate(class, split, i, config)?);
                    done += 1;
                    if !progress(done, total) {
                        return Err(Shapes3dError::Cancelled);
                    }
                }
            }
        }
        Ok(ShapeSet { config: config.clone(), train, held_out })
    }

    pub fn split(&self, split: Split) -> &[ShapeSample] {
        match split {
            Split::Train => &self.train,
            Split::HeldOut => &self.held_out,
        }
    }

    /// Point clouds as a dataset of `[points, 3]` samples.
    pub fn point_dataset(&self, split: Split) -> Result<Arc<Dataset>, Shapes3dError> {
        let s = self.split(split);
        let x: Vec<f32> = s.iter().flat_map(|v| v.points.iter().flatten().copied()).collect();
        let y = s.iter().map(|v| v.class.label()).collect();
        Ok(Arc::new(Dataset::new(x, vec![self.config.points, 3], y, ShapeClass::ALL.len())?))
    }

    /// Occupancy grids as a dataset of `[1, D, H, W]` samples (z, y, x: the
    /// grid's x-fastest layout read row-major).
    pub fn voxel_dataset(&self, split: Split) -> Result<Arc<Dataset>, Shapes3dError> {
        let s = self.split(split);
        let x: Vec<f32> = s.iter().flat_map(|v| v.voxels.values.iter().copied()).collect();
        let y = s.iter().map(|v| v.class.label()).collect();
        let r = self.config.resolution;
        Ok(Arc::new(Dataset::new(x, vec![1, r, r, r], y, ShapeClass::ALL.len())?))
    }
}
