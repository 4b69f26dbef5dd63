//! Small vector helpers and the derived quantities of meshes and clouds.

use super::{Aabb, Mesh, PointCloud};

pub(crate) fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
pub(crate) fn add(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
pub(crate) fn scale(a: [f32; 3], s: f32) -> [f32; 3] {
    a.map(|v| v * s)
}
pub(crate) fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
pub(crate) fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
pub(crate) fn length(a: [f32; 3]) -> f32 {
    dot(a, a).sqrt()
}
/// Unit vector along `a`, or zero for a zero vector.
pub(crate) fn normalize(a: [f32; 3]) -> [f32; 3] {
    let l = length(a);
    if l > 0.0 { scale(a, 1.0 / l) } else { [0.0; 3] }
}

/// Unit normal of a counter-clockwise triangle (zero when degenerate).
pub fn triangle_normal(a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> [f32; 3] {
    normalize(cross(sub(b, a), sub(c, a)))
}

impl Mesh {
    /// Bounds of the vertices; `None` for an empty mesh.
    pub fn bounds(&self) -> Option<Aabb> {
        Aabb::from_points(&self.positions)
    }

    /// Set per-vertex normals to the area-weighted mean of the adjacent faces'
    /// normals (triangles with an out-of-range index are ignored).
    pub fn compute_vertex_normals(&mut self) {
        let mut acc = vec![[0f32; 3]; self.positions.len()];
        for t in &self.triangles {
            let Some(p) = t.iter().map(|&i| self.positions.get(i as usize).copied()).collect::<Option<Vec<_>>>() else {
                continue;
            };
            // The cross product's length is twice the area: that is the weight.
            let n = cross(sub(p[1], p[0]), sub(p[2], p[0]));
            for &i in t {
                if let Some(a) = acc.get_mut(i as usize) {
                    *a = add(*a, n);
                }
            }
        }
        self.normals = Some(acc.into_iter().map(normalize).collect());
    }

    /// Append `other`, moved by `offset`. Attributes survive only when both
    /// meshes have them.
    pub fn append(&mut self, other: &Mesh, offset: [f32; 3]) {
        let base = self.positions.len() as u32;
        let was_empty = self.positions.is_empty();
        fn merge(mine: &mut Option<Vec<[f32; 3]>>, theirs: &Option<Vec<[f32; 3]>>, was_empty: bool) {
            match (mine.as_mut(), theirs) {
                (Some(m), Some(t)) => m.extend_from_slice(t),
                (None, Some(t)) if was_empty => *mine = Some(t.clone()),
                _ => *mine = None,
            }
        }
        merge(&mut self.normals, &other.normals, was_empty);
        merge(&mut self.colors, &other.colors, was_empty);
        self.positions.extend(other.positions.iter().map(|&p| add(p, offset)));
        self.triangles.extend(other.triangles.iter().map(|t| t.map(|i| i + base)));
    }
}

impl PointCloud {
    /// Bounds of the finite points; `None` when there are none.
    pub fn bounds(&self) -> Option<Aabb> {
        Aabb::from_points(&self.positions)
    }
}

/// Sizes of a mesh, for checking conversions against analytic shapes.
impl Mesh {
    /// Corners of triangle `t`, `None` when an index is out of range.
    pub fn corners(&self, t: &[u32; 3]) -> Option<[[f32; 3]; 3]> {
        let p = |i: u32| self.positions.get(i as usize).copied();
        Some([p(t[0])?, p(t[1])?, p(t[2])?])
    }

    /// Total triangle area (triangles with a bad index count 0).
    pub fn surface_area(&self) -> f64 {
        let area = |[a, b, c]: [[f32; 3]; 3]| 0.5 * length(cross(sub(b, a), sub(c, a))) as f64;
        self.triangles.iter().filter_map(|t| self.corners(t)).map(area).sum()
    }

    /// Volume enclosed, by the divergence theorem: positive for a closed mesh
    /// with outward (counter-clockwise) triangles, meaningless for an open one.
    pub fn signed_volume(&self) -> f64 {
        let tet = |[a, b, c]: [[f32; 3]; 3]| dot(a, cross(b, c)) as f64 / 6.0;
        self.triangles.iter().filter_map(|t| self.corners(t)).map(tet).sum()
    }

    /// Directed edges used by no triangle in the opposite direction, or used
    /// twice in the same direction: 0 for a closed, consistently oriented mesh.
    pub fn boundary_edge_count(&self) -> usize {
        let mut count: std::collections::HashMap<(u32, u32), i32> = std::collections::HashMap::new();
        for t in &self.triangles {
            for k in 0..3 {
                let (a, b) = (t[k], t[(k + 1) % 3]);
                // +1 for a -> b, -1 for b -> a, keyed by the unordered pair.
                *count.entry((a.min(b), a.max(b))).or_default() += if a < b { 1 } else { -1 };
            }
        }
        count.values().map(|&c| c.unsigned_abs() as usize).sum()
    }
}
