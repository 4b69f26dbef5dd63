//! Points drawn uniformly over a mesh's surface.

use super::mesh_ops::{cross, length, sub};
use super::{Mesh, PointCloud, triangle_normal};
use crate::rng::SeededRng;

/// `n` points uniformly distributed over the surface of `mesh` (each triangle
/// chosen with probability proportional to its area, then a uniform point in
/// it), each with its triangle's unit normal, as PyTorch3D's
/// `sample_points_from_meshes` does. The same seed gives the same points.
///
/// Triangles that refer to missing vertices or have non-finite or zero area
/// are never chosen; a mesh with no area gives an empty cloud.
pub fn sample_points(mesh: &Mesh, n: usize, seed: u64) -> PointCloud {
    let corners = |t: &[u32; 3]| -> Option<[[f32; 3]; 3]> {
        let p = |i: u32| mesh.positions.get(i as usize).copied();
        Some([p(t[0])?, p(t[1])?, p(t[2])?])
    };
    // Running total of areas, so a uniform draw in [0, total) picks a triangle by bisection.
    let mut cumulative = Vec::with_capacity(mesh.triangles.len());
    let mut total = 0.0f64;
    for t in &mesh.triangles {
        let area = corners(t).map_or(0.0, |[a, b, c]| 0.5 * length(cross(sub(b, a), sub(c, a))) as f64);
        if area.is_finite() {
            total += area;
        }
        cumulative.push(total);
    }
    let mut cloud = PointCloud { normals: Some(Vec::new()), ..Default::default() };
    if !(total > 0.0) {
        return cloud;
    }
    let mut rng = SeededRng::new(seed);
    let mut normals = Vec::with_capacity(n);
    cloud.positions.reserve(n);
    for _ in 0..n {
        let target = rng.uniform() * total;
        // First triangle whose running total exceeds the draw: never a zero-area one.
        let k = cumulative.partition_point(|&c| c <= target).min(cumulative.len() - 1);
        let Some([a, b, c]) = mesh.triangles.get(k).and_then(corners) else { continue };
        // sqrt of the first draw makes the barycentric point uniform over the triangle.
        let r1 = rng.uniform().sqrt() as f32;
        let r2 = rng.uniform() as f32;
        let (wa, wb, wc) = (1.0 - r1, r1 * (1.0 - r2), r1 * r2);
        cloud.positions.push(std::array::from_fn(|i| wa * a[i] + wb * b[i] + wc * c[i]));
        normals.push(triangle_normal(a, b, c));
    }
    cloud.normals = Some(normals);
    cloud
}
