//! The one camera every 3D primitive shares: orbit, pan, zoom, fit, reset,
//! perspective or orthographic. The state is a few numbers (so it persists);
//! the matrices and picking rays come from three-d-asset's `Camera`.

use serde::{Deserialize, Serialize};
use three_d_asset::prelude::*;
use three_d_asset::{Camera, Viewport};
use vislab_engine::geometry::Aabb;

/// cgmath projections are OpenGL style (clip z in [-w, w]); wgpu wants [0, w].
#[rustfmt::skip]
const OPENGL_TO_WGPU: Mat4 = Mat4::new(
    1.0, 0.0, 0.0, 0.0,
    0.0, 1.0, 0.0, 0.0,
    0.0, 0.0, 0.5, 0.0,
    0.0, 0.0, 0.5, 1.0,
);

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrbitCamera {
    pub target: [f32; 3],
    /// Rotation about the up axis, radians.
    pub yaw: f32,
    /// Elevation above the ground plane, radians (kept inside +-89 degrees).
    pub pitch: f32,
    pub distance: f32,
    pub orthographic: bool,
    /// Vertical field of view in degrees (perspective).
    pub fov_deg: f32,
    /// Which axis is up: 1 = y (OBJ, glTF), 2 = z (scans, CAD).
    pub up_axis: usize,
    /// The framing set by the last fit, restored by reset.
    home: Option<(f32, [f32; 3])>,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        OrbitCamera { target: [0.0; 3], yaw: 0.6, pitch: 0.45, distance: 4.0, orthographic: false, fov_deg: 45.0, up_axis: 1, home: None }
    }
}

/// A ray in world space.
#[derive(Clone, Copy, Debug)]
pub struct Ray {
    pub origin: [f32; 3],
    pub dir: [f32; 3],
}

impl OrbitCamera {
    fn up(&self) -> Vec3 {
        if self.up_axis == 2 { vec3(0.0, 0.0, 1.0) } else { vec3(0.0, 1.0, 0.0) }
    }

    pub fn eye(&self) -> [f32; 3] {
        let (cp, sp) = (self.pitch.cos(), self.pitch.sin());
        let (cy, sy) = (self.yaw.cos(), self.yaw.sin());
        // offset from the target in the camera's (right-handed) frame, up axis last
        let off = if self.up_axis == 2 { vec3(cp * cy, cp * sy, sp) } else { vec3(cp * sy, sp, cp * cy) } * self.distance;
        let t = Vec3::from(self.target);
        (t + off).into()
    }

    /// The three-d-asset camera for a viewport of `w` x `h` pixels.
    pub fn camera(&self, w: f32, h: f32) -> Camera {
        let vp = Viewport::new_at_origo(w.max(1.0) as u32, h.max(1.0) as u32);
        let (near, far) = (self.distance * 0.01, self.distance * 100.0 + 10.0);
        let (eye, target) = (Vec3::from(self.eye()), Vec3::from(self.target));
        if self.orthographic {
            let height = 2.0 * self.distance * (0.5 * self.fov_deg.to_radians()).tan();
            Camera::new_orthographic(vp, eye, target, self.up(), height, near, far)
        } else {
            Camera::new_perspective(vp, eye, target, self.up(), Deg(self.fov_deg), near, far)
        }
    }

    /// wgpu clip-space view-projection matrix, column major.
    pub fn view_proj(&self, w: f32, h: f32) -> [[f32; 4]; 4] {
        let cam = self.camera(w, h);
        (OPENGL_TO_WGPU * cam.projection() * cam.view()).into()
    }

    pub fn view(&self, w: f32, h: f32) -> [[f32; 4]; 4] {
        self.camera(w, h).view().into()
    }

    /// Drag in pixels rotates about the target.
    pub fn orbit(&mut self, dx: f32, dy: f32) {
        self.yaw -= dx * 0.008;
        self.pitch = (self.pitch + dy * 0.008).clamp(-1.55, 1.55);
    }

    /// Drag in pixels moves the target in the view plane.
    pub fn pan(&mut self, dx: f32, dy: f32, viewport_h: f32) {
        let cam = self.camera(100.0, 100.0);
        let world_per_px = 2.0 * self.distance * (0.5 * self.fov_deg.to_radians()).tan() / viewport_h.max(1.0);
        let right = cam.right_direction();
        let up = cam.up_orthogonal();
        let t = Vec3::from(self.target) - right * dx * world_per_px + up * dy * world_per_px;
        self.target = t.into();
    }

    /// Scroll: positive zooms in, by a fixed factor per step.
    pub fn zoom(&mut self, steps: f32) {
        self.distance = (self.distance * (0.9f32).powf(steps)).clamp(1e-4, 1e7);
    }

    /// Frame the box so all of it is visible, and remember this as home.
    pub fn fit(&mut self, bounds: &Aabb) {
        let radius = (0.5 * bounds.diagonal()).max(1e-3);
        self.target = bounds.center();
        self.distance = radius / (0.5 * self.fov_deg.to_radians()).sin() * 1.05;
        self.home = Some((self.distance, self.target));
    }

    /// Back to the default angles and the last fitted framing.
    pub fn reset(&mut self) {
        let d = OrbitCamera::default();
        self.yaw = d.yaw;
        self.pitch = d.pitch;
        if let Some((dist, target)) = self.home {
            self.distance = dist;
            self.target = target;
        } else {
            self.distance = d.distance;
            self.target = d.target;
        }
    }

    /// World ray through a pixel (origin top-left, in viewport pixels).
    pub fn ray(&self, px: f32, py: f32, w: f32, h: f32) -> Ray {
        let cam = self.camera(w, h);
        // three-d-asset's pixel origin is bottom-left
        let p = (px, h - py);
        let origin = cam.position_at_pixel(p);
        let dir = cam.view_direction_at_pixel(p).normalize();
        Ray { origin: origin.into(), dir: dir.into() }
    }

    /// Project a world point to viewport pixels (top-left origin) and its clip w.
    pub fn project(vp: &[[f32; 4]; 4], p: [f32; 3], w: f32, h: f32) -> Option<(f32, f32, f32)> {
        let c: [f32; 4] = std::array::from_fn(|r| vp[0][r] * p[0] + vp[1][r] * p[1] + vp[2][r] * p[2] + vp[3][r]);
        if c[3] <= 1e-6 {
            return None;
        }
        let (nx, ny) = (c[0] / c[3], c[1] / c[3]);
        Some(((nx * 0.5 + 0.5) * w, (0.5 - ny * 0.5) * h, c[3]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_puts_the_box_centre_in_the_middle_of_the_view() {
        let mut cam = OrbitCamera::default();
        let b = Aabb { min: [1.0, 2.0, 3.0], max: [3.0, 4.0, 7.0] };
        cam.fit(&b);
        let vp = cam.view_proj(400.0, 300.0);
        let (x, y, _) = OrbitCamera::project(&vp, b.center(), 400.0, 300.0).unwrap();
        assert!((x - 200.0).abs() < 0.01 && (y - 150.0).abs() < 0.01, "{x} {y}");
        // every corner is inside the view
        for i in 0..8 {
            let p = [if i & 1 == 0 { b.min[0] } else { b.max[0] }, if i & 2 == 0 { b.min[1] } else { b.max[1] }, if i & 4 == 0 { b.min[2] } else { b.max[2] }];
            let (x, y, _) = OrbitCamera::project(&vp, p, 400.0, 300.0).unwrap();
            assert!((0.0..=400.0).contains(&x) && (0.0..=300.0).contains(&y), "corner {p:?} at {x} {y}");
        }
    }

    #[test]
    fn the_centre_pixel_ray_passes_through_the_target() {
        for ortho in [false, true] {
            let mut cam = OrbitCamera { orthographic: ortho, ..Default::default() };
            cam.target = [0.5, -1.0, 2.0];
            let r = cam.ray(200.0, 150.0, 400.0, 300.0);
            // distance from the target to the ray
            let v: [f32; 3] = std::array::from_fn(|i| cam.target[i] - r.origin[i]);
            let t: f32 = (0..3).map(|i| v[i] * r.dir[i]).sum();
            let d: f32 = (0..3).map(|i| (v[i] - t * r.dir[i]).powi(2)).sum::<f32>().sqrt();
            assert!(d < 1e-3, "ortho={ortho}: {d}");
        }
    }

    #[test]
    fn reset_returns_to_the_fitted_framing() {
        let mut cam = OrbitCamera::default();
        cam.fit(&Aabb { min: [0.0; 3], max: [10.0; 3] });
        let fitted = cam;
        cam.orbit(120.0, -40.0);
        cam.zoom(3.0);
        cam.pan(30.0, 10.0, 300.0);
        cam.reset();
        assert_eq!(cam, fitted);
    }
}
