//! Level sets of scalar grids as triangle meshes (marching cubes).
//!
//! The case table is derived, not typed in: for each of the 256 inside/outside
//! patterns of a cell's corners, every cube face contributes the segments
//! where the surface crosses it, and the segments chain into closed loops
//! that are then fanned into triangles. A face with two diagonal inside
//! corners (the ambiguous case) always separates them; the choice depends
//! only on the face's own corners, so the two cells sharing a face agree and
//! the surface has no cracks.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::cubify::check_grid;
use super::{ConvertError, Mesh, VoxelGrid};

/// Corner `c` of a cell sits at offset (c & 1, c >> 1 & 1, c >> 2 & 1).
fn corner_offset(c: usize) -> [usize; 3] {
    [c & 1, (c >> 1) & 1, (c >> 2) & 1]
}

/// The 12 cell edges as (lower corner, upper corner), corners differing in one bit.
fn edges() -> Vec<(usize, usize)> {
    (0..8).flat_map(|a| [1, 2, 4].into_iter().filter(move |bit| a & bit == 0).map(move |bit| (a, a | bit))).collect()
}

/// Each cell face's corners, counter-clockwise seen from outside the cell.
fn faces() -> Vec<[usize; 4]> {
    let mut out = Vec::new();
    for k in 0..3 {
        let (u, v) = ((k + 1) % 3, (k + 2) % 3);
        for side in 0..2 {
            let corner = |a: usize, b: usize| (side << k) | (a << u) | (b << v);
            // (0,0) (1,0) (1,1) (0,1) in (u, v) turns counter-clockwise about +k.
            let mut ring = [corner(0, 0), corner(1, 0), corner(1, 1), corner(0, 1)];
            if side == 0 {
                ring.reverse();
            }
            out.push(ring);
        }
    }
    out
}

/// Edge loops (indices into `edges()`) for every corner pattern; bit `c` of
/// the pattern is set when corner `c` is inside. Loops wind so their
/// triangles face away from the inside.
fn case_table() -> &'static Vec<Vec<Vec<u8>>> {
    static TABLE: OnceLock<Vec<Vec<Vec<u8>>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let edges = edges();
        let edge_of = |a: usize, b: usize| edges.iter().position(|&e| e == (a.min(b), a.max(b))).unwrap_or(0) as u8;
        let faces = faces();
        (0..256usize)
            .map(|pattern| {
                let inside = |c: usize| pattern >> c & 1 == 1;
                // Segment from where the ring leaves the inside to where it
                // last entered it: this pairs every in->out crossing with the
                // crossing just before it, cutting off each inside corner run.
                let mut next: HashMap<u8, u8> = HashMap::new();
                for ring in &faces {
                    let crossings: Vec<(u8, bool)> = (0..4)
                        .filter_map(|i| {
                            let (a, b) = (ring[i], ring[(i + 1) % 4]);
                            (inside(a) != inside(b)).then(|| (edge_of(a, b), inside(a)))
                        })
                        .collect();
                    for (i, &(edge, leaving)) in crossings.iter().enumerate() {
                        if leaving {
                            let before = crossings[(i + crossings.len() - 1) % crossings.len()].0;
                            next.insert(edge, before);
                        }
                    }
                }
                let mut loops = Vec::new();
                let mut starts: Vec<u8> = next.keys().copied().collect();
                starts.sort_unstable();
                let mut used = std::collections::HashSet::new();
                for s in starts {
                    if used.contains(&s) {
                        continue;
                    }
                    let mut ring = vec![s];
                    used.insert(s);
                    let mut e = s;
                    while let Some(&n) = next.get(&e) {
                        if n == s || !used.insert(n) {
                            break;
                        }
                        ring.push(n);
                        e = n;
                    }
                    // The chain runs clockwise seen from outside the surface.
                    ring.reverse();
                    loops.push(ring);
                }
                loops
            })
            .collect()
    })
}

/// Triangle mesh of the surface where `grid` crosses `level`, with vertices
/// placed on cell edges by linear interpolation. Values above `level` are
/// inside (occupancy and density convention; negate a signed distance field).
/// Values sit at voxel centres. The grid is treated as surrounded by outside
/// values, so the surface is closed even where the inside touches the border.
/// Vertices are shared between cells and carry area-weighted normals. An empty
/// mesh means the grid never crosses the level.
pub fn marching_cubes(grid: &VoxelGrid, level: f32) -> Result<Mesh, ConvertError> {
    check_grid(grid)?;
    if !level.is_finite() {
        return Err(ConvertError::Level(level));
    }
    let table = case_table();
    let edges = edges();
    let [nx, ny, nz] = grid.dims.map(|d| d as i64);
    // Outside the grid: the highest value mirrored about the level (so a full
    // inside voxel at the border gets its face half a voxel out, as an
    // occupancy grid padded with zeros would), or the lowest value if lower.
    let low = grid.values.iter().copied().fold(f32::INFINITY, f32::min);
    let high = grid.values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let pad = low.min(2.0 * level - high);
    let value = |p: [i64; 3]| {
        if (0..3).all(|k| p[k] >= 0 && p[k] < [nx, ny, nz][k]) { grid.values[grid.index(p[0] as usize, p[1] as usize, p[2] as usize)] } else { pad }
    };
    let mut mesh = Mesh::default();
    // (lower lattice point, axis) -> vertex on that lattice edge.
    let mut vertex_at: HashMap<([i64; 3], u8), u32> = HashMap::new();
    let mut corner_values = [0f32; 8];
    for z in -1..nz {
        for y in -1..ny {
            for x in -1..nx {
                let mut pattern = 0usize;
                for (c, cv) in corner_values.iter_mut().enumerate() {
                    let o = corner_offset(c);
                    *cv = value([x + o[0] as i64, y + o[1] as i64, z + o[2] as i64]);
                    if *cv > level {
                        pattern |= 1 << c;
                    }
                }
                let Some(loops) = table.get(pattern) else { continue };
                for ring in loops {
                    let ids: Vec<u32> = ring
                        .iter()
                        .map(|&e| {
                            let (a, b) = edges[e as usize];
                            let (oa, ob) = (corner_offset(a), corner_offset(b));
                            let base = [x + oa[0] as i64, y + oa[1] as i64, z + oa[2] as i64];
                            let axis = (0..3).find(|&k| oa[k] != ob[k]).unwrap_or(0) as u8;
                            *vertex_at.entry((base, axis)).or_insert_with(|| {
                                let (va, vb) = (corner_values[a], corner_values[b]);
                                let t = ((level - va) / (vb - va)).clamp(0.0, 1.0);
                                let t = if t.is_finite() { t } else { 0.5 };
                                let mut lattice = base.map(|v| v as f32);
                                lattice[axis as usize] += t;
                                mesh.positions.push(std::array::from_fn(|k| grid.origin[k] + (lattice[k] + 0.5) * grid.voxel_size));
                                (mesh.positions.len() - 1) as u32
                            })
                        })
                        .collect();
                    for i in 1..ids.len().saturating_sub(1) {
                        mesh.triangles.push([ids[0], ids[i], ids[i + 1]]);
                    }
                }
            }
        }
    }
    mesh.compute_vertex_normals();
    Ok(mesh)
}

/// A grid of `f` sampled at voxel centres, for fields given as functions
/// (signed distances, occupancy networks).
pub fn sample_field(spec: &super::GridSpec, f: impl Fn([f32; 3]) -> f32) -> VoxelGrid {
    let [nx, ny, nz] = spec.dims;
    let mut values = Vec::with_capacity(nx * ny * nz);
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                values.push(f(spec.center([x, y, z])));
            }
        }
    }
    VoxelGrid { dims: spec.dims, values, origin: spec.origin, voxel_size: spec.voxel_size }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_uses_each_crossed_edge_exactly_once() {
        let edges = edges();
        for (pattern, loops) in case_table().iter().enumerate() {
            let crossed: Vec<u8> = (0..12u8)
                .filter(|&e| {
                    let (a, b) = edges[e as usize];
                    (pattern >> a & 1) != (pattern >> b & 1)
                })
                .collect();
            let mut used: Vec<u8> = loops.iter().flatten().copied().collect();
            used.sort_unstable();
            assert_eq!(used, crossed, "pattern {pattern:08b}");
            assert!(loops.iter().all(|l| l.len() >= 3), "pattern {pattern:08b}: {loops:?}");
        }
        // Complementary patterns cross the same edges; one corner gives one triangle.
        assert_eq!(case_table()[1].len(), 1);
        assert_eq!(case_table()[1][0].len(), 3);
        assert!(case_table()[0].is_empty() && case_table()[255].is_empty());
    }
}
