//! A small CPU ray caster: objects resting on a ground plane (y = 0, world
//! y up), seen by a pinhole camera, giving a shaded RGB image and its depth.
//!
//! Depth is the camera-space z in metres (the distance along the optical
//! axis, as depth sensors and [`DepthMap`] store it), 0 where the ray sees
//! only sky or nothing nearer than [`MAX_DEPTH`]. Rays go through pixel
//! (u, v) as `((u - cx) / fx, (v - cy) / fy, 1)` in camera axes (x right, y
//! down, z forward), the convention `DepthMap::to_point_cloud` inverts, so
//! the ray parameter of a hit is its depth.
//!
//! Shading is Lambert with one directional light, an ambient term and cast
//! shadows, on a per-object colour; the ground is a faint checkerboard, so
//! the image carries the usual monocular cues (shading, size, ground
//! contact, shadows, texture foreshortening).

use std::sync::Arc;

use crate::geometry::mesh_ops::{add, cross, dot, normalize, scale, sub};
use crate::geometry::{DepthMap, Intrinsics, Mesh};

/// Hits farther than this (metres) are left out, like a sensor's range.
pub const MAX_DEPTH: f32 = 12.0;
/// Towards the light (normalized in [`light_dir`]).
const LIGHT: [f32; 3] = [0.45, 1.0, 0.3];
const AMBIENT: f32 = 0.3;
/// Ground checker squares, metres a side, and their two albedos.
const CHECKER: f32 = 0.5;
const GROUND: [[f32; 3]; 2] = [[0.62, 0.60, 0.56], [0.50, 0.49, 0.46]];

pub fn light_dir() -> [f32; 3] {
    normalize(LIGHT)
}

/// A shape in world space.
#[derive(Clone, Debug)]
pub enum Shape {
    Sphere {
        center: [f32; 3],
        radius: f32,
    },
    /// A box turned by `yaw` radians about the vertical through `center`.
    Cuboid {
        center: [f32; 3],
        half: [f32; 3],
        yaw: f32,
    },
    /// A mesh placed by uniform `scale`, `yaw` about y, then `offset`.
    Mesh {
        mesh: Arc<Mesh>,
        scale: f32,
        yaw: f32,
        offset: [f32; 3],
        local_min: [f32; 3],
        local_max: [f32; 3],
    },
}

#[derive(Clone, Debug)]
pub struct Object {
    pub shape: Shape,
    /// Linear RGB albedo in [0, 1].
    pub color: [f32; 3],
}

/// Objects on the ground plane.
#[derive(Clone, Debug, Default)]
pub struct World {
    pub objects: Vec<Object>,
}

/// A pinhole camera at `eye` looking at `target`, world y up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    pub eye: [f32; 3],
    pub target: [f32; 3],
    pub intrinsics: Intrinsics,
    pub width: usize,
    pub height: usize,
}

impl Camera {
    /// `fov_x_deg` horizontal field of view, principal point at the image centre.
    pub fn looking_at(eye: [f32; 3], target: [f32; 3], width: usize, height: usize, fov_x_deg: f32) -> Camera {
        let f = width as f32 / (2.0 * (0.5 * fov_x_deg).to_radians().tan());
        let intrinsics = Intrinsics { fx: f, fy: f, cx: (width as f32 - 1.0) / 2.0, cy: (height as f32 - 1.0) / 2.0, depth_scale: 1.0 };
        Camera { eye, target, intrinsics, width, height }
    }

    /// Right, down and forward unit axes in world space (a right-handed
    /// camera frame: right x down = forward).
    pub fn axes(&self) -> [[f32; 3]; 3] {
        let f = normalize(sub(self.target, self.eye));
        let r = normalize(cross(f, [0.0, 1.0, 0.0]));
        [r, cross(f, r), f]
    }

    /// World direction of pixel (u, v) scaled so its camera z is 1.
    pub fn ray(&self, u: f32, v: f32) -> [f32; 3] {
        let [r, d, f] = self.axes();
        let i = &self.intrinsics;
        add(add(scale(r, (u - i.cx) / i.fx), scale(d, (v - i.cy) / i.fy)), f)
    }

    /// World point to camera coordinates (x right, y down, z forward).
    pub fn to_camera(&self, p: [f32; 3]) -> [f32; 3] {
        let q = sub(p, self.eye);
        self.axes().map(|a| dot(a, q))
    }
}

/// What a ray hit first: its parameter, the unit normal and the albedo.
#[derive(Clone, Copy, Debug)]
struct Hit {
    t: f32,
    normal: [f32; 3],
    color: [f32; 3],
}

/// Nearest positive t with |o + t d - c| = r.
pub fn ray_sphere(o: [f32; 3], d: [f32; 3], c: [f32; 3], r: f32) -> Option<f32> {
    let oc = sub(o, c);
    let (a, b, cc) = (dot(d, d), 2.0 * dot(oc, d), dot(oc, oc) - r * r);
    let disc = b * b - 4.0 * a * cc;
    if disc < 0.0 {
        return None;
    }
    let s = disc.sqrt();
    [(-b - s) / (2.0 * a), (-b + s) / (2.0 * a)].into_iter().find(|&t| t > 1e-4)
}

/// Slab test against the axis-aligned box [lo, hi]: entry t and the axis and
/// side of the face entered (or exited, from inside).
fn ray_aabb(o: [f32; 3], d: [f32; 3], lo: [f32; 3], hi: [f32; 3]) -> Option<(f32, usize, f32)> {
    let (mut t0, mut t1) = (f32::NEG_INFINITY, f32::INFINITY);
    let (mut a0, mut a1) = ((0, -1.0), (0, 1.0));
    for k in 0..3 {
        if d[k].abs() < 1e-12 {
            if o[k] < lo[k] || o[k] > hi[k] {
                return None;
            }
            continue;
        }
        let (mut ta, mut tb) = ((lo[k] - o[k]) / d[k], (hi[k] - o[k]) / d[k]);
        let (mut sa, mut sb) = (-1.0, 1.0);
        if ta > tb {
            std::mem::swap(&mut ta, &mut tb);
            std::mem::swap(&mut sa, &mut sb);
        }
        if ta > t0 {
            t0 = ta;
            a0 = (k, sa);
        }
        if tb < t1 {
            t1 = tb;
            a1 = (k, sb);
        }
    }
    if t0 > t1 || t1 <= 1e-4 {
        return None;
    }
    Some(if t0 > 1e-4 { (t0, a0.0, a0.1) } else { (t1, a1.0, a1.1) })
}

/// Rotation by `yaw` about y, and its inverse (negative yaw).
fn rot_y(p: [f32; 3], yaw: f32) -> [f32; 3] {
    let (s, c) = yaw.sin_cos();
    [c * p[0] + s * p[2], p[1], -s * p[0] + c * p[2]]
}

/// Möller-Trumbore: t and barycentrics (u, v) of the hit.
fn ray_triangle(o: [f32; 3], d: [f32; 3], p: [[f32; 3]; 3]) -> Option<(f32, f32, f32)> {
    let (e1, e2) = (sub(p[1], p[0]), sub(p[2], p[0]));
    let h = cross(d, e2);
    let det = dot(e1, h);
    if det.abs() < 1e-12 {
        return None;
    }
    let inv = 1.0 / det;
    let s = sub(o, p[0]);
    let u = inv * dot(s, h);
    if !(0.0..=1.0).contains(&u) {
        return None;
    }
    let q = cross(s, e1);
    let v = inv * dot(d, q);
    if v < 0.0 || u + v > 1.0 {
        return None;
    }
    let t = inv * dot(e2, q);
    (t > 1e-4).then_some((t, u, v))
}

impl Shape {
    /// A mesh scaled so its largest extent is `size`, resting on the ground
    /// at (x, z), turned by `yaw`.
    pub fn mesh_on_ground(mesh: Arc<Mesh>, size: f32, x: f32, z: f32, yaw: f32) -> Option<Shape> {
        let b = mesh.bounds()?;
        let ext = b.size().into_iter().fold(0.0f32, f32::max);
        if ext <= 0.0 {
            return None;
        }
        let s = size / ext;
        let c = b.center();
        // Centre the footprint on (x, z) and put the lowest point on y = 0.
        let local_off = [-c[0] * s, -b.min[1] * s, -c[2] * s];
        let offset = add(rot_y(local_off, yaw), [x, 0.0, z]);
        Some(Shape::Mesh { mesh, scale: s, yaw, offset, local_min: b.min, local_max: b.max })
    }

    /// First hit along o + t d (t > 0): t and the unit outward normal.
    fn intersect(&self, o: [f32; 3], d: [f32; 3]) -> Option<(f32, [f32; 3])> {
        match self {
            Shape::Sphere { center, radius } => ray_sphere(o, d, *center, *radius).map(|t| (t, normalize(sub(add(o, scale(d, t)), *center)))),
            Shape::Cuboid { center, half, yaw } => {
                // The ray in the box's frame; t is unchanged by a rigid motion.
                let (lo, ld) = (rot_y(sub(o, *center), -yaw), rot_y(d, -yaw));
                let (t, axis, side) = ray_aabb(lo, ld, half.map(|h| -h), *half)?;
                let mut n = [0.0; 3];
                n[axis] = side;
                Some((t, rot_y(n, *yaw)))
            }
            Shape::Mesh { mesh, scale: s, yaw, offset, local_min, local_max } => {
                // Local frame: undo the offset, the yaw and the scale (t is unchanged).
                let lo = scale(rot_y(sub(o, *offset), -yaw), 1.0 / s);
                let ld = scale(rot_y(d, -yaw), 1.0 / s);
                ray_aabb(lo, ld, *local_min, *local_max)?;
                let mut best: Option<(f32, usize, f32, f32)> = None;
                for (k, tri) in mesh.triangles.iter().enumerate() {
                    let Some(p) = mesh.corners(tri) else { continue };
                    if let Some((t, u, v)) = ray_triangle(lo, ld, p)
                        && best.is_none_or(|b| t < b.0)
                    {
                        best = Some((t, k, u, v));
                    }
                }
                let (t, k, u, v) = best?;
                let tri = mesh.triangles.get(k)?;
                let p = mesh.corners(tri)?;
                // Smooth normals where the mesh has them, else the face's.
                let n = match &mesh.normals {
                    Some(ns) => {
                        let get = |i: u32| ns.get(i as usize).copied().unwrap_or([0.0; 3]);
                        let n = add(add(scale(get(tri[0]), 1.0 - u - v), scale(get(tri[1]), u)), scale(get(tri[2]), v));
                        normalize(n)
                    }
                    None => normalize(cross(sub(p[1], p[0]), sub(p[2], p[0]))),
                };
                let mut n = rot_y(n, *yaw);
                // Seen from inside (open meshes like the teapot's rim): face the ray.
                if dot(n, d) > 0.0 {
                    n = scale(n, -1.0);
                }
                Some((t, n))
            }
        }
    }
}

impl World {
    /// The first hit of the ground or any object.
    fn trace(&self, o: [f32; 3], d: [f32; 3]) -> Option<Hit> {
        let mut best: Option<Hit> = None;
        if d[1] < 0.0 && o[1] > 0.0 {
            let t = -o[1] / d[1];
            let p = add(o, scale(d, t));
            let cell = ((p[0] / CHECKER).floor() as i64 + (p[2] / CHECKER).floor() as i64).rem_euclid(2) as usize;
            best = Some(Hit { t, normal: [0.0, 1.0, 0.0], color: GROUND[cell] });
        }
        for obj in &self.objects {
            if let Some((t, normal)) = obj.shape.intersect(o, d)
                && best.is_none_or(|b| t < b.t)
            {
                best = Some(Hit { t, normal, color: obj.color });
            }
        }
        best
    }

    /// Whether anything lies between `p` and the light.
    fn shadowed(&self, p: [f32; 3]) -> bool {
        let l = light_dir();
        self.objects.iter().any(|obj| obj.shape.intersect(p, l).is_some())
    }

    /// The shaded image (planar RGB `[3, H, W]` in [0, 1]) and the depth in
    /// metres (`[H, W]`, 0 where invalid).
    pub fn render(&self, cam: &Camera) -> (Vec<f32>, Vec<f32>) {
        let (w, h) = (cam.width, cam.height);
        let mut rgb = vec![0.0f32; 3 * w * h];
        let mut depth = vec![0.0f32; w * h];
        let l = light_dir();
        for v in 0..h {
            for u in 0..w {
                let i = v * w + u;
                let d = cam.ray(u as f32, v as f32);
                let hit = self.trace(cam.eye, d).filter(|hit| hit.t <= MAX_DEPTH);
                let c = match hit {
                    Some(hit) => {
                        depth[i] = hit.t;
                        let p = add(cam.eye, scale(d, hit.t));
                        // Start the shadow ray a little off the surface.
                        let lit = if self.shadowed(add(p, scale(hit.normal, 1e-3))) { 0.0 } else { dot(hit.normal, l).max(0.0) };
                        hit.color.map(|a| (a * (AMBIENT + (1.0 - AMBIENT) * lit)).clamp(0.0, 1.0))
                    }
                    // Sky (or beyond range): lighter towards the zenith.
                    None => {
                        let up = normalize(d)[1].clamp(0.0, 1.0);
                        [0.55 + 0.2 * up, 0.7 + 0.15 * up, 0.9]
                    }
                };
                for k in 0..3 {
                    rgb[k * w * h + i] = c[k];
                }
            }
        }
        (rgb, depth)
    }
}

/// A rendered depth (metres) as a [`DepthMap`] with the camera's intrinsics.
pub fn depth_map(cam: &Camera, depth: &[f32]) -> DepthMap {
    DepthMap { width: cam.width, height: cam.height, values: depth.to_vec(), intrinsics: cam.intrinsics }
}
