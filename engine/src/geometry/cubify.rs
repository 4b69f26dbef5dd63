//! Voxels to a mesh of cube faces ("cubify", as PyTorch3D's `cubify`).

use std::collections::HashMap;

use super::voxelize::OCCUPIED_AT;
use super::{ConvertError, Mesh, VoxelGrid};

/// (outward normal, u, v) of each cube face, with u x v = normal, so
/// corners at n + (-u-v, u-v, u+v, -u+v) go counter-clockwise seen from outside.
pub(crate) const CUBE_FACES: [([i64; 3], [i64; 3], [i64; 3]); 6] = [
    ([1, 0, 0], [0, 1, 0], [0, 0, 1]),
    ([-1, 0, 0], [0, 0, 1], [0, 1, 0]),
    ([0, 1, 0], [0, 0, 1], [1, 0, 0]),
    ([0, -1, 0], [1, 0, 0], [0, 0, 1]),
    ([0, 0, 1], [1, 0, 0], [0, 1, 0]),
    ([0, 0, -1], [0, 1, 0], [1, 0, 0]),
];

/// Errors when the value count does not match the dimensions, a value is
/// not finite, or the voxel size is unusable.
pub(crate) fn check_grid(grid: &VoxelGrid) -> Result<(), ConvertError> {
    let expected = grid.dims.iter().product::<usize>();
    if grid.values.len() != expected {
        return Err(ConvertError::GridSize { dims: grid.dims, got: grid.values.len(), expected });
    }
    if let Some(index) = grid.values.iter().position(|v| !v.is_finite()) {
        return Err(ConvertError::NonFinite { what: "voxel grid", index });
    }
    if !(grid.voxel_size > 0.0 && grid.voxel_size.is_finite()) {
        return Err(ConvertError::Degenerate { what: "voxel grid" });
    }
    Ok(())
}

/// One quad (two counter-clockwise triangles) per face of an occupied voxel
/// (value >= 0.5) whose neighbour across that face is empty or outside the
/// grid. Corners are shared, so the result of a solid is a closed surface
/// whose volume is exactly the occupied voxels' volume.
pub fn voxels_to_mesh(grid: &VoxelGrid) -> Result<Mesh, ConvertError> {
    check_grid(grid)?;
    let occupied = |x: i64, y: i64, z: i64| {
        let ok = |v: i64, d: usize| v >= 0 && (v as usize) < d;
        ok(x, grid.dims[0]) && ok(y, grid.dims[1]) && ok(z, grid.dims[2]) && grid.values[grid.index(x as usize, y as usize, z as usize)] >= OCCUPIED_AT
    };
    let mut mesh = Mesh::default();
    // Lattice corner (doubled coordinates, so they stay integral) -> vertex.
    let mut corners: HashMap<[i64; 3], u32> = HashMap::new();
    let [nx, ny, nz] = grid.dims.map(|d| d as i64);
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                if !occupied(x, y, z) {
                    continue;
                }
                for (n, u, v) in CUBE_FACES {
                    if occupied(x + n[0], y + n[1], z + n[2]) {
                        continue;
                    }
                    let quad = [(-1, -1), (1, -1), (1, 1), (-1, 1)].map(|(su, sv)| {
                        let key: [i64; 3] = std::array::from_fn(|k| 2 * [x, y, z][k] + 1 + n[k] + su * u[k] + sv * v[k]);
                        *corners.entry(key).or_insert_with(|| {
                            mesh.positions.push(std::array::from_fn(|k| grid.origin[k] + 0.5 * key[k] as f32 * grid.voxel_size));
                            (mesh.positions.len() - 1) as u32
                        })
                    });
                    mesh.triangles.extend([[quad[0], quad[1], quad[2]], [quad[0], quad[2], quad[3]]]);
                }
            }
        }
    }
    if mesh.triangles.is_empty() {
        return Err(ConvertError::Empty("voxel grid (no occupied voxel)"));
    }
    Ok(mesh)
}
