//! Picking on the CPU: which point, vertex or voxel is under the cursor.

use super::camera::{OrbitCamera, Ray};
use super::scene::Scene3d;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pick {
    pub pos: [f32; 3],
    pub what: &'static str,
    pub index: usize,
    /// The per-point scalar, where the data has one.
    pub value: Option<f32>,
}

/// Nearest pickable element under pixel (px, py) of a `w` x `h` view.
pub fn pick(scene: &Scene3d, cam: &OrbitCamera, px: f32, py: f32, w: f32, h: f32, radius_px: f32) -> Option<Pick> {
    let ray = cam.ray(px, py, w, h);
    let mut best: Option<(f32, Pick)> = None;
    let mut offer = |depth: f32, p: Pick| {
        if best.as_ref().is_none_or(|(d, _)| depth < *d) {
            best = Some((depth, p));
        }
    };
    if !scene.mesh_indices.is_empty()
        && let Some((t, tri)) = ray_mesh(&ray, scene)
    {
        let hit = at(&ray, t);
        // the hit triangle's vertex nearest the hit point
        let nearest = tri.into_iter().min_by(|&a, &b| dist2(vpos(scene, a), hit).total_cmp(&dist2(vpos(scene, b), hit)));
        if let Some(v) = nearest {
            offer(t, Pick { pos: vpos(scene, v), what: "vertex", index: v as usize, value: None });
        }
    }
    if !scene.voxels.is_empty() {
        for (i, v) in scene.voxels.iter().enumerate() {
            let hs = 0.5 * v.size;
            let min = [v.center[0] - hs, v.center[1] - hs, v.center[2] - hs];
            let max = [v.center[0] + hs, v.center[1] + hs, v.center[2] + hs];
            if let Some(t) = ray_box(&ray, min, max) {
                offer(t, Pick { pos: v.center, what: "voxel", index: i, value: None });
            }
        }
    }
    if !scene.points.is_empty() {
        let vp = cam.view_proj(w, h);
        let r2 = radius_px * radius_px;
        let has_scalar = scene.scalar_range.is_some();
        let mut near: Option<(f32, usize)> = None;
        for (i, p) in scene.points.iter().enumerate() {
            if let Some((x, y, cw)) = OrbitCamera::project(&vp, p.pos, w, h)
                && (x - px).powi(2) + (y - py).powi(2) <= r2
                && near.is_none_or(|(d, _)| cw < d)
            {
                near = Some((cw, i));
            }
        }
        if let Some((_, i)) = near {
            let p = scene.points[i];
            let t = (0..3).map(|k| (p.pos[k] - ray.origin[k]) * ray.dir[k]).sum::<f32>();
            offer(t, Pick { pos: p.pos, what: "point", index: i, value: has_scalar.then_some(p.scalar) });
        }
    }
    best.map(|(_, p)| p)
}

pub fn distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    dist2(a, b).sqrt()
}

fn dist2(a: [f32; 3], b: [f32; 3]) -> f32 {
    (0..3).map(|k| (a[k] - b[k]).powi(2)).sum()
}

fn vpos(scene: &Scene3d, i: u32) -> [f32; 3] {
    scene.mesh_vertices.get(i as usize).map_or([0.0; 3], |v| v.pos)
}

fn at(ray: &Ray, t: f32) -> [f32; 3] {
    std::array::from_fn(|k| ray.origin[k] + t * ray.dir[k])
}

/// Nearest triangle hit (Moller-Trumbore), as (t, vertex indices).
fn ray_mesh(ray: &Ray, scene: &Scene3d) -> Option<(f32, [u32; 3])> {
    let mut best: Option<(f32, [u32; 3])> = None;
    for t in scene.mesh_indices.chunks_exact(3) {
        let tri = [t[0], t[1], t[2]];
        let (a, b, c) = (vpos(scene, tri[0]), vpos(scene, tri[1]), vpos(scene, tri[2]));
        if let Some(d) = ray_triangle(ray, a, b, c)
            && best.is_none_or(|(bd, _)| d < bd)
        {
            best = Some((d, tri));
        }
    }
    best
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn ray_triangle(ray: &Ray, a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> Option<f32> {
    let (e1, e2) = (sub(b, a), sub(c, a));
    let p = cross(ray.dir, e2);
    let det = dot(e1, p);
    if det.abs() < 1e-12 {
        return None;
    }
    let inv = 1.0 / det;
    let s = sub(ray.origin, a);
    let u = dot(s, p) * inv;
    if !(0.0..=1.0).contains(&u) {
        return None;
    }
    let q = cross(s, e1);
    let v = dot(ray.dir, q) * inv;
    if v < 0.0 || u + v > 1.0 {
        return None;
    }
    let t = dot(e2, q) * inv;
    (t > 0.0).then_some(t)
}

/// Slab test; the entry distance when the ray hits the box.
pub fn ray_box(ray: &Ray, min: [f32; 3], max: [f32; 3]) -> Option<f32> {
    let (mut t0, mut t1) = (0f32, f32::INFINITY);
    for k in 0..3 {
        let inv = 1.0 / ray.dir[k];
        let (mut a, mut b) = ((min[k] - ray.origin[k]) * inv, (max[k] - ray.origin[k]) * inv);
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        t0 = t0.max(a);
        t1 = t1.min(b);
    }
    (t0 <= t1).then_some(t0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::scene::PointVertex;

    #[test]
    fn ray_hits_triangle_at_the_right_distance() {
        let ray = Ray { origin: [0.2, 0.2, 5.0], dir: [0.0, 0.0, -1.0] };
        assert_eq!(ray_triangle(&ray, [0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]), Some(5.0));
        let miss = Ray { origin: [0.8, 0.8, 5.0], dir: [0.0, 0.0, -1.0] };
        assert_eq!(ray_triangle(&miss, [0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]), None);
        assert_eq!(ray_box(&ray, [0.0, 0.0, -1.0], [1.0, 1.0, 1.0]), Some(4.0));
    }

    #[test]
    fn picks_the_nearer_of_two_points_under_the_cursor() {
        let cam = OrbitCamera::default();
        let eye = cam.eye();
        // two points on the centre ray, at 1/4 and 3/4 of the way to the target
        let p = |f: f32| std::array::from_fn(|k| eye[k] + f * (cam.target[k] - eye[k]));
        let scene = Scene3d {
            points: vec![
                PointVertex { pos: p(0.75), color: [0; 4], scalar: 2.0 },
                PointVertex { pos: p(0.25), color: [0; 4], scalar: 1.0 },
                PointVertex { pos: [100.0, 0.0, 0.0], color: [0; 4], scalar: 3.0 },
            ],
            scalar_range: Some([1.0, 3.0]),
            ..Scene3d::empty()
        };
        let hit = pick(&scene, &cam, 200.0, 150.0, 400.0, 300.0, 6.0).unwrap();
        assert_eq!((hit.index, hit.value), (1, Some(1.0)));
        assert!(pick(&scene, &cam, 5.0, 5.0, 400.0, 300.0, 6.0).is_none());
    }
}
