//! Seeded (image, depth) pairs: random arrangements of a few objects on the
//! ground plane, each seen from several random camera poses, rendered by
//! [`super::render`]. Scene `k` and view `j` of a set depend only on (seed,
//! k, j), so a set is the same on every run and machine.

use std::f32::consts::{PI, TAU};
use std::sync::Arc;

use crate::geometry::{Mesh, scenes, shapes};
use crate::rng::SeededRng;

use super::DepthError;
use super::render::{Camera, Object, Shape, World};

/// Which objects the arrangements draw from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objects {
    /// Spheres and boxes.
    Primitives,
    /// The built-in "shapes" scene's sphere, torus and cube.
    Shapes,
    /// The Utah teapot among spheres and boxes.
    Teapot,
}

impl Objects {
    pub const ALL: [Objects; 3] = [Objects::Primitives, Objects::Shapes, Objects::Teapot];

    pub fn title(self) -> &'static str {
        match self {
            Objects::Primitives => "spheres and boxes",
            Objects::Shapes => "sphere, torus and cube",
            Objects::Teapot => "teapot, spheres and boxes",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SynthConfig {
    /// Random arrangements.
    pub scenes: usize,
    /// Camera poses per arrangement.
    pub views: usize,
    /// Image side in pixels (a multiple of 4, for the U-Net).
    pub size: usize,
    pub objects: Objects,
    /// Objects per arrangement: 1 to this many.
    pub max_objects: usize,
    pub seed: u64,
}

impl SynthConfig {
    pub fn new(scenes: usize, views: usize, size: usize, seed: u64) -> Self {
        SynthConfig { scenes, views, size, objects: Objects::Primitives, max_objects: 3, seed }
    }
}

/// Horizontal (and vertical: the images are square) field of view.
pub const FOV_DEG: f32 = 60.0;

/// Rendered pairs, all from cameras with the same intrinsics.
#[derive(Clone, Debug)]
pub struct DepthSet {
    pub width: usize,
    pub height: usize,
    /// `[N, 3, H, W]` RGB in [0, 1].
    pub images: Vec<f32>,
    /// `[N, H, W]` metres, 0 where invalid.
    pub depths: Vec<f32>,
    pub cameras: Vec<Camera>,
}

/// A colour of hue `h` in [0, 1), fairly saturated and bright.
fn hue(h: f32) -> [f32; 3] {
    [0.0, 1.0 / 3.0, 2.0 / 3.0].map(|o| 0.2 + 0.7 * (0.5 + 0.5 * (TAU * (h + o)).cos()))
}

fn uniform(rng: &mut SeededRng, lo: f32, hi: f32) -> f32 {
    rng.uniform_in(lo as f64, hi as f64) as f32
}

/// One arrangement: 1 to `max_objects` objects on the ground, not overlapping.
fn arrangement(cfg: &SynthConfig, rng: &mut SeededRng, torus: &Arc<Mesh>, teapot: Option<&Arc<Mesh>>) -> World {
    let n = 1 + rng.below(cfg.max_objects.max(1));
    let mut placed: Vec<([f32; 2], f32)> = vec![];
    let mut world = World::default();
    for _ in 0..n {
        // (kind, footprint radius): 0 sphere, 1 box, 2 torus, 3 teapot.
        let kind = match cfg.objects {
            Objects::Primitives => rng.below(2),
            Objects::Shapes => rng.below(3),
            Objects::Teapot => [3, 0, 1][rng.below(3)],
        };
        let size = uniform(rng, 0.25, 0.55);
        let footprint = if kind >= 2 { 2.0 * size } else { 1.45 * size };
        // Rejection sampling in a disc; give up on a crowded arrangement.
        let Some(at) = (0..30)
            .map(|_| [uniform(rng, -1.6, 1.6), uniform(rng, -1.6, 1.6)])
            .find(|p| p[0].hypot(p[1]) < 1.6 && placed.iter().all(|(q, r)| (p[0] - q[0]).hypot(p[1] - q[1]) > r + footprint))
        else {
            continue;
        };
        let yaw = uniform(rng, 0.0, PI);
        let color = hue(uniform(rng, 0.0, 1.0));
        let shape = match kind {
            0 => Some(Shape::Sphere { center: [at[0], size, at[1]], radius: size }),
            1 => {
                let half = [size, uniform(rng, 0.6, 1.4) * size, uniform(rng, 0.6, 1.0) * size];
                Some(Shape::Cuboid { center: [at[0], half[1], at[1]], half, yaw })
            }
            2 => Shape::mesh_on_ground(Arc::clone(torus), 2.0 * size, at[0], at[1], yaw),
            _ => teapot.and_then(|m| Shape::mesh_on_ground(Arc::clone(m), 2.2 * size, at[0], at[1], yaw)),
        };
        if let Some(shape) = shape {
            placed.push((at, footprint));
            world.objects.push(Object { shape, color });
        }
    }
    world
}

/// A camera around the arrangement: any azimuth, 20 to 45 degrees above
/// the ground, 3.5 to 5.5 m from a point near the middle.
fn camera(rng: &mut SeededRng, size: usize) -> Camera {
    let az = uniform(rng, 0.0, TAU);
    let el = uniform(rng, 20.0, 45.0).to_radians();
    let dist = uniform(rng, 3.5, 5.5);
    let target = [uniform(rng, -0.3, 0.3), uniform(rng, 0.1, 0.4), uniform(rng, -0.3, 0.3)];
    let eye = [target[0] + dist * el.cos() * az.sin(), target[1] + dist * el.sin(), target[2] + dist * el.cos() * az.cos()];
    Camera::looking_at(eye, target, size, size, FOV_DEG)
}

impl DepthSet {
    pub fn len(&self) -> usize {
        self.cameras.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cameras.is_empty()
    }

    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    pub fn image(&self, i: usize) -> Option<&[f32]> {
        let n = 3 * self.pixels();
        self.images.get(i * n..(i + 1) * n)
    }

    pub fn depth(&self, i: usize) -> Option<&[f32]> {
        let n = self.pixels();
        self.depths.get(i * n..(i + 1) * n)
    }

    /// The images and depths at `idx`, stacked.
    pub fn batch(&self, idx: &[usize]) -> (Vec<f32>, Vec<f32>) {
        let (mut x, mut d) = (Vec::with_capacity(idx.len() * 3 * self.pixels()), Vec::with_capacity(idx.len() * self.pixels()));
        for &i in idx {
            if let (Some(a), Some(b)) = (self.image(i), self.depth(i)) {
                x.extend_from_slice(a);
                d.extend_from_slice(b);
            }
        }
        (x, d)
    }

    pub fn check(&self) -> Result<(), DepthError> {
        let ok = !self.is_empty() && self.images.len() == self.len() * 3 * self.pixels() && self.depths.len() == self.len() * self.pixels();
        if !ok {
            return Err(DepthError::Input(format!(
                "a depth set of {} images of {}x{} has {} image and {} depth values",
                self.len(),
                self.width,
                self.height,
                self.images.len(),
                self.depths.len()
            )));
        }
        Ok(())
    }

    /// Render `scenes x views` pairs (scene-major).
    pub fn synthetic(cfg: &SynthConfig) -> Result<DepthSet, DepthError> {
        if cfg.scenes == 0 || cfg.views == 0 {
            return Err(DepthError::Input("needs at least one scene and one view".into()));
        }
        if cfg.size < 8 || !cfg.size.is_multiple_of(4) || cfg.size > 256 {
            return Err(DepthError::Input(format!("image side {} must be a multiple of 4 from 8 to 256", cfg.size)));
        }
        let torus = Arc::new(shapes::torus(0.8, 0.3, 32, 12));
        let teapot = match cfg.objects {
            Objects::Teapot => Some(Arc::new(scenes::teapot().map_err(|e| DepthError::Input(format!("built-in teapot: {e}")))?)),
            _ => None,
        };
        let mut set = DepthSet { width: cfg.size, height: cfg.size, images: vec![], depths: vec![], cameras: vec![] };
        for k in 0..cfg.scenes {
            let world = arrangement(cfg, &mut SeededRng::stream(cfg.seed, k as u64), &torus, teapot.as_ref());
            for j in 0..cfg.views {
                let cam = camera(&mut SeededRng::stream(cfg.seed, (1 << 32) | ((k as u64) << 16) | j as u64), cfg.size);
                let (rgb, depth) = world.render(&cam);
                set.images.extend(rgb);
                set.depths.extend(depth);
                set.cameras.push(cam);
            }
        }
        Ok(set)
    }

    /// Per-pixel mean of the valid depths over the set (the baseline's
    /// prediction); pixels never valid get the mean of all valid depths.
    pub fn mean_depth_map(&self) -> Vec<f32> {
        let n = self.pixels();
        let (mut sum, mut count) = (vec![0.0f64; n], vec![0usize; n]);
        for d in self.depths.chunks(n.max(1)) {
            for (p, &v) in d.iter().enumerate() {
                if v > 0.0 {
                    sum[p] += v as f64;
                    count[p] += 1;
                }
            }
        }
        let total: f64 = sum.iter().sum();
        let all = count.iter().sum::<usize>().max(1);
        let global = if total > 0.0 { total / all as f64 } else { 1.0 };
        sum.iter().zip(&count).map(|(&s, &c)| if c > 0 { (s / c as f64) as f32 } else { global as f32 }).collect()
    }
}
