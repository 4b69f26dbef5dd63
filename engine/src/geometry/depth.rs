//! Depth maps back to 3D.

use super::{DepthMap, Intrinsics, PointCloud};

impl DepthMap {
    /// Back-project every valid pixel into camera coordinates (x right, y down,
    /// z forward): `z = raw / depth_scale`, `x = (u - cx) z / fx`,
    /// `y = (v - cy) z / fy` with (u, v) the pixel's column and row.
    /// `colors`, when given, holds one RGB per pixel in row-major order.
    pub fn to_point_cloud(&self, intr: &Intrinsics, colors: Option<&[[f32; 3]]>) -> PointCloud {
        let mut positions = Vec::new();
        let mut out_colors = Vec::new();
        for v in 0..self.height {
            for u in 0..self.width {
                let i = v * self.width + u;
                let Some(&raw) = self.values.get(i) else { continue };
                let z = raw / intr.depth_scale;
                if !(raw > 0.0 && z.is_finite()) {
                    continue;
                }
                positions.push([(u as f32 - intr.cx) * z / intr.fx, (v as f32 - intr.cy) * z / intr.fy, z]);
                if let Some(c) = colors {
                    out_colors.push(c.get(i).copied().unwrap_or([1.0; 3]));
                }
            }
        }
        PointCloud { positions, colors: colors.map(|_| out_colors), normals: None, scalar: None }
    }
}
