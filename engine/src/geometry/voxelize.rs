//! Meshes and point clouds to occupancy grids.

use std::collections::VecDeque;

use super::mesh_ops::{cross, dot, sub};
use super::{Aabb, ConvertError, Mesh, PointCloud, VoxelGrid};

/// Largest grid a conversion will allocate (256^3 voxels, 64 MiB of f32).
pub const MAX_VOXELS: usize = 256 * 256 * 256;
/// A voxel counts as occupied when its value is at least this.
pub const OCCUPIED_AT: f32 = 0.5;

/// Where a grid lies: dimensions, the corner of voxel (0, 0, 0) and the edge length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridSpec {
    pub dims: [usize; 3],
    pub origin: [f32; 3],
    pub voxel_size: f32,
}

impl GridSpec {
    /// A grid with `res` voxels along the longest edge of `bounds`, centred on
    /// them, plus `margin` voxels on every side (so a closed surface never
    /// touches the grid's border).
    pub fn fit(bounds: &Aabb, res: usize, margin: usize) -> Result<GridSpec, ConvertError> {
        let max = 256;
        if res == 0 || res + 2 * margin > max {
            return Err(ConvertError::Resolution { got: res + 2 * margin, max });
        }
        let size = bounds.size();
        let longest = size.into_iter().fold(0.0f32, f32::max);
        if !(longest > 0.0 && longest.is_finite()) {
            return Err(ConvertError::Degenerate { what: "shape" });
        }
        let voxel_size = longest / res as f32;
        let dims = size.map(|s| ((s / voxel_size).ceil() as usize).clamp(1, res) + 2 * margin);
        let c = bounds.center();
        let origin = std::array::from_fn(|k| c[k] - 0.5 * dims[k] as f32 * voxel_size);
        Ok(GridSpec { dims, origin, voxel_size })
    }

    /// The spec of an existing grid (to voxelize something else onto it).
    pub fn of(grid: &VoxelGrid) -> GridSpec {
        GridSpec { dims: grid.dims, origin: grid.origin, voxel_size: grid.voxel_size }
    }

    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Centre of voxel `i` in world coordinates.
    pub fn center(&self, i: [usize; 3]) -> [f32; 3] {
        std::array::from_fn(|k| self.origin[k] + (i[k] as f32 + 0.5) * self.voxel_size)
    }

    /// Voxel coordinates (possibly outside the grid) holding `p`.
    fn cell_of(&self, p: [f32; 3]) -> [i64; 3] {
        std::array::from_fn(|k| ((p[k] - self.origin[k]) / self.voxel_size).floor() as i64)
    }

    fn index(&self, i: [usize; 3]) -> usize {
        i[0] + self.dims[0] * (i[1] + self.dims[1] * i[2])
    }

    fn check(&self) -> Result<(), ConvertError> {
        if self.dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).is_none_or(|n| n > MAX_VOXELS) {
            return Err(ConvertError::TooLarge { dims: self.dims, max: MAX_VOXELS });
        }
        if !(self.voxel_size > 0.0 && self.voxel_size.is_finite() && self.origin.iter().all(|v| v.is_finite())) {
            return Err(ConvertError::Degenerate { what: "grid" });
        }
        Ok(())
    }

    fn empty_grid(&self) -> VoxelGrid {
        VoxelGrid { dims: self.dims, values: vec![0.0; self.len()], origin: self.origin, voxel_size: self.voxel_size }
    }
}

/// What `mesh_to_voxels` marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Voxels a triangle touches.
    Surface,
    /// The surface voxels and everything they enclose.
    Solid,
}

/// Errors on a mesh with no triangles, a non-finite vertex or an index out of range.
pub(crate) fn check_mesh(mesh: &Mesh) -> Result<(), ConvertError> {
    if mesh.triangles.is_empty() {
        return Err(ConvertError::Empty("mesh"));
    }
    check_finite(&mesh.positions, "mesh")?;
    let count = mesh.positions.len();
    for (triangle, t) in mesh.triangles.iter().enumerate() {
        if let Some(&vertex) = t.iter().find(|&&v| v as usize >= count) {
            return Err(ConvertError::BadIndex { triangle, vertex, count });
        }
    }
    Ok(())
}

pub(crate) fn check_finite(points: &[[f32; 3]], what: &'static str) -> Result<(), ConvertError> {
    match points.iter().position(|p| !p.iter().all(|v| v.is_finite())) {
        Some(index) => Err(ConvertError::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// Occupancy of `mesh` on `spec`: a voxel is 1 when a triangle overlaps its
/// cube (exact separating-axis test, so no thin wall is missed); `Solid` also
/// fills every voxel not reachable from the grid's border through empty
/// voxels (face neighbours), so surface holes smaller than a voxel do not leak.
pub fn mesh_to_voxels(mesh: &Mesh, spec: &GridSpec, fill: Fill) -> Result<VoxelGrid, ConvertError> {
    check_mesh(mesh)?;
    spec.check()?;
    let mut grid = spec.empty_grid();
    let h = 0.5 * spec.voxel_size;
    for t in &mesh.triangles {
        let tri = t.map(|i| mesh.positions[i as usize]);
        let (lo, hi) = cell_range(spec, &tri);
        for z in lo[2]..hi[2] {
            for y in lo[1]..hi[1] {
                for x in lo[0]..hi[0] {
                    let i = spec.index([x, y, z]);
                    if grid.values[i] == 0.0 && triangle_overlaps_cube(&tri, spec.center([x, y, z]), h) {
                        grid.values[i] = 1.0;
                    }
                }
            }
        }
    }
    if fill == Fill::Solid {
        fill_enclosed(&mut grid);
    }
    Ok(grid)
}

/// Voxels (clamped to the grid, half-open) that the triangle's bounds touch.
fn cell_range(spec: &GridSpec, tri: &[[f32; 3]; 3]) -> ([usize; 3], [usize; 3]) {
    let mut lo = [0usize; 3];
    let mut hi = [0usize; 3];
    for k in 0..3 {
        let (a, b) = tri.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), p| (a.min(p[k]), b.max(p[k])));
        let ca = ((a - spec.origin[k]) / spec.voxel_size).floor() as i64;
        let cb = ((b - spec.origin[k]) / spec.voxel_size).floor() as i64;
        let d = spec.dims[k] as i64;
        lo[k] = ca.clamp(0, d) as usize;
        hi[k] = (cb + 1).clamp(0, d) as usize;
    }
    (lo, hi)
}

/// Separating-axis test of a triangle against the cube of half-edge `h` at
/// `c`: the 3 box axes, the triangle's normal and the 9 edge-axis crosses.
/// A hair of slack keeps triangles lying exactly on a voxel face inside both.
pub(crate) fn triangle_overlaps_cube(tri: &[[f32; 3]; 3], c: [f32; 3], h: f32) -> bool {
    let v = tri.map(|p| sub(p, c));
    let slack = 1.0 + 1e-5;
    let separated = |axis: [f32; 3]| {
        let r = h * (axis[0].abs() + axis[1].abs() + axis[2].abs()) * slack;
        let p = v.map(|q| dot(q, axis));
        let (min, max) = (p[0].min(p[1]).min(p[2]), p[0].max(p[1]).max(p[2]));
        min > r || max < -r
    };
    let units = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    if units.iter().any(|&u| separated(u)) {
        return false;
    }
    let edges = [sub(v[1], v[0]), sub(v[2], v[1]), sub(v[0], v[2])];
    if separated(cross(edges[0], edges[1])) {
        return false;
    }
    !edges.iter().any(|&e| units.iter().any(|&u| separated(cross(e, u))))
}

/// Mark every empty voxel that the border cannot reach through empty face
/// neighbours: the inside of the closed surfaces already marked.
fn fill_enclosed(grid: &mut VoxelGrid) {
    let [nx, ny, nz] = grid.dims;
    let mut outside = vec![false; grid.values.len()];
    let mut queue = VecDeque::new();
    let visit = |i: usize, outside: &mut Vec<bool>, queue: &mut VecDeque<usize>, values: &[f32]| {
        if !outside[i] && values[i] < OCCUPIED_AT {
            outside[i] = true;
            queue.push_back(i);
        }
    };
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                if x == 0 || y == 0 || z == 0 || x + 1 == nx || y + 1 == ny || z + 1 == nz {
                    visit(grid.index(x, y, z), &mut outside, &mut queue, &grid.values);
                }
            }
        }
    }
    while let Some(i) = queue.pop_front() {
        let (x, y, z) = (i % nx, (i / nx) % ny, i / (nx * ny));
        let steps = [(x > 0, i.wrapping_sub(1)), (x + 1 < nx, i + 1), (y > 0, i.wrapping_sub(nx)), (y + 1 < ny, i + nx)];
        let layer = nx * ny;
        let more = [(z > 0, i.wrapping_sub(layer)), (z + 1 < nz, i + layer)];
        for (ok, j) in steps.into_iter().chain(more) {
            if ok {
                visit(j, &mut outside, &mut queue, &grid.values);
            }
        }
    }
    for (v, out) in grid.values.iter_mut().zip(outside) {
        if !out {
            *v = 1.0;
        }
    }
}

/// Occupancy of a point cloud on `spec`: a voxel is 1 when it holds a point.
/// Points outside the grid are dropped; the count of kept points is returned.
pub fn points_to_voxels(cloud: &PointCloud, spec: &GridSpec) -> Result<(VoxelGrid, usize), ConvertError> {
    if cloud.positions.is_empty() {
        return Err(ConvertError::Empty("point cloud"));
    }
    check_finite(&cloud.positions, "point cloud")?;
    spec.check()?;
    let mut grid = spec.empty_grid();
    let mut kept = 0;
    for &p in &cloud.positions {
        let c = spec.cell_of(p);
        if (0..3).all(|k| c[k] >= 0 && (c[k] as usize) < spec.dims[k]) {
            let i = spec.index(c.map(|v| v as usize));
            grid.values[i] = 1.0;
            kept += 1;
        }
    }
    Ok((grid, kept))
}

/// Fits a grid to the shape's bounds (see `GridSpec::fit`) and voxelizes.
pub fn fit_mesh_to_voxels(mesh: &Mesh, res: usize, fill: Fill) -> Result<VoxelGrid, ConvertError> {
    check_mesh(mesh)?;
    let bounds = mesh.bounds().ok_or(ConvertError::Empty("mesh"))?;
    mesh_to_voxels(mesh, &GridSpec::fit(&bounds, res, 1)?, fill)
}

/// Fits a grid to the cloud's bounds (see `GridSpec::fit`) and voxelizes.
pub fn fit_points_to_voxels(cloud: &PointCloud, res: usize) -> Result<VoxelGrid, ConvertError> {
    check_finite(&cloud.positions, "point cloud")?;
    let bounds = cloud.bounds().ok_or(ConvertError::Empty("point cloud"))?;
    Ok(points_to_voxels(cloud, &GridSpec::fit(&bounds, res, 1)?)?.0)
}
