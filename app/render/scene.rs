//! What a 3D view shows, on the CPU side: vertex arrays ready for upload,
//! built from the engine's geometry. Labs build a `Scene3d`; they never touch wgpu.

use std::sync::atomic::{AtomicU64, Ordering};
use vislab_engine::geometry::{Aabb, Mesh, PointCloud, VoxelGrid};

use super::colormap::Colormap;

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct PointVertex {
    pub pos: [f32; 3],
    pub color: [u8; 4],
    pub scalar: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MeshVertex {
    pub pos: [f32; 3],
    pub normal: [f32; 3],
    pub color: [u8; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LineVertex {
    pub pos: [f32; 3],
    pub color: [u8; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct VoxelInstance {
    pub center: [f32; 3],
    pub color: [u8; 4],
    pub size: f32,
}

/// Everything one 3D view draws. A new scene gets a new generation, which is
/// how the GPU side knows to upload.
#[derive(Default, Debug)]
pub struct Scene3d {
    pub generation: u64,
    pub points: Vec<PointVertex>,
    /// A spread-out subset of big clouds, drawn while the camera moves so
    /// millions of points stay interactive even on a software adapter.
    pub points_preview: Vec<PointVertex>,
    pub mesh_vertices: Vec<MeshVertex>,
    pub mesh_indices: Vec<u32>,
    /// Unique edges as index pairs into `mesh_vertices`.
    pub edge_indices: Vec<u32>,
    /// Vertex normals as short segments, drawn on demand.
    pub normal_lines: Vec<LineVertex>,
    pub voxels: Vec<VoxelInstance>,
    pub bounds: Option<Aabb>,
    /// Range of the per-point scalar, when there is one, and its name.
    pub scalar_range: Option<[f32; 2]>,
    pub scalar_name: String,
}

fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn rgb8(c: [f32; 3]) -> [u8; 4] {
    let b = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
    [b(c[0]), b(c[1]), b(c[2]), 255]
}

const DEFAULT_POINT: [u8; 4] = [220, 220, 225, 255];
const DEFAULT_MESH: [u8; 4] = [200, 196, 186, 255];

impl Scene3d {
    pub fn empty() -> Self {
        Scene3d { generation: next_generation(), ..Default::default() }
    }

    pub fn from_points(pc: &PointCloud) -> Self {
        let scalars = pc.scalar.as_ref().map(|(_, s)| s);
        let points: Vec<PointVertex> = pc
            .positions
            .iter()
            .enumerate()
            .map(|(i, &pos)| PointVertex {
                pos,
                color: pc.colors.as_ref().and_then(|c| c.get(i)).map_or(DEFAULT_POINT, |&c| rgb8(c)),
                scalar: scalars.and_then(|s| s.get(i)).copied().unwrap_or(0.0),
            })
            .collect();
        Scene3d {
            generation: next_generation(),
            points_preview: preview(&points),
            points,
            bounds: Aabb::from_points(&pc.positions),
            scalar_range: scalars.and_then(|s| finite_range(s.iter().copied())),
            scalar_name: pc.scalar.as_ref().map_or_else(String::new, |(n, _)| n.clone()),
            ..Default::default()
        }
    }

    pub fn from_mesh(mesh: &Mesh) -> Self {
        let normals = match &mesh.normals {
            Some(n) if n.len() == mesh.positions.len() => n.clone(),
            _ => vertex_normals(mesh),
        };
        let mesh_vertices: Vec<MeshVertex> = mesh
            .positions
            .iter()
            .zip(&normals)
            .enumerate()
            .map(|(i, (&pos, &normal))| MeshVertex { pos, normal, color: mesh.colors.as_ref().and_then(|c| c.get(i)).map_or(DEFAULT_MESH, |&c| rgb8(c)) })
            .collect();
        let n = mesh.positions.len() as u32;
        let tris: Vec<[u32; 3]> = mesh.triangles.iter().copied().filter(|t| t.iter().all(|&v| v < n)).collect();
        let bounds = Aabb::from_points(&mesh.positions);
        let len = bounds.map_or(1.0, |b| b.diagonal()) * 0.02;
        let normal_lines = mesh
            .positions
            .iter()
            .zip(&normals)
            .flat_map(|(p, nrm)| {
                let q = [p[0] + nrm[0] * len, p[1] + nrm[1] * len, p[2] + nrm[2] * len];
                [LineVertex { pos: *p, color: [80, 160, 255, 255] }, LineVertex { pos: q, color: [80, 160, 255, 255] }]
            })
            .collect();
        Scene3d {
            generation: next_generation(),
            mesh_indices: tris.iter().flatten().copied().collect(),
            edge_indices: unique_edges(&tris),
            mesh_vertices,
            normal_lines,
            bounds,
            ..Default::default()
        }
    }

    /// Occupied voxels (value >= threshold) that touch at least one empty
    /// neighbour: the inside of a solid can never be seen.
    pub fn from_voxels(grid: &VoxelGrid, threshold: f32, colormap: Colormap) -> Self {
        let [nx, ny, nz] = grid.dims;
        let filled = |x: isize, y: isize, z: isize| -> bool {
            if x < 0 || y < 0 || z < 0 {
                return false;
            }
            grid.get(x as usize, y as usize, z as usize).is_some_and(|v| v >= threshold)
        };
        let range = finite_range(grid.values.iter().copied()).unwrap_or([0.0, 1.0]);
        let binary = grid.is_binary();
        let mut voxels = Vec::new();
        for z in 0..nz as isize {
            for y in 0..ny as isize {
                for x in 0..nx as isize {
                    if !filled(x, y, z) {
                        continue;
                    }
                    let hidden = filled(x - 1, y, z) && filled(x + 1, y, z) && filled(x, y - 1, z) && filled(x, y + 1, z) && filled(x, y, z - 1) && filled(x, y, z + 1);
                    if hidden {
                        continue;
                    }
                    let v = grid.get(x as usize, y as usize, z as usize).unwrap_or(0.0);
                    let color = if binary {
                        // occupancy: shade by height so the shape reads
                        let t = y as f32 / (ny.max(2) - 1) as f32;
                        let [r, g, b] = colormap.sample(0.15 + 0.7 * t);
                        [r, g, b, 255]
                    } else {
                        let [r, g, b] = colormap.sample((v - range[0]) / (range[1] - range[0]).max(1e-12));
                        [r, g, b, 255]
                    };
                    let s = grid.voxel_size;
                    voxels.push(VoxelInstance {
                        center: [grid.origin[0] + (x as f32 + 0.5) * s, grid.origin[1] + (y as f32 + 0.5) * s, grid.origin[2] + (z as f32 + 0.5) * s],
                        color,
                        size: s,
                    });
                }
            }
        }
        let s = grid.voxel_size;
        let bounds = Aabb { min: grid.origin, max: [grid.origin[0] + nx as f32 * s, grid.origin[1] + ny as f32 * s, grid.origin[2] + nz as f32 * s] };
        Scene3d { generation: next_generation(), voxels, bounds: Some(bounds), scalar_range: Some(range), ..Default::default() }
    }

    pub fn triangle_count(&self) -> usize {
        self.mesh_indices.len() / 3
    }
}

/// Points drawn while the camera moves, at most this many.
pub const PREVIEW_POINTS: usize = 250_000;

/// One point from each run of `stride` (a hashed pick within the run, so
/// scan lines in the file don't turn into visible bands); empty when the
/// cloud is small enough to draw whole.
fn preview(points: &[PointVertex]) -> Vec<PointVertex> {
    if points.len() <= PREVIEW_POINTS {
        return Vec::new();
    }
    let stride = points.len().div_ceil(PREVIEW_POINTS);
    points.chunks(stride).enumerate().map(|(i, run)| run[(i.wrapping_mul(2_654_435_761) >> 7) % run.len()]).collect()
}

pub fn finite_range(values: impl Iterator<Item = f32>) -> Option<[f32; 2]> {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (lo <= hi).then_some([lo, hi])
}

/// Area-weighted vertex normals (the cross product's length is twice the area).
pub fn vertex_normals(mesh: &Mesh) -> Vec<[f32; 3]> {
    let mut acc = vec![[0f32; 3]; mesh.positions.len()];
    for t in &mesh.triangles {
        let (Some(a), Some(b), Some(c)) = (mesh.positions.get(t[0] as usize), mesh.positions.get(t[1] as usize), mesh.positions.get(t[2] as usize)) else {
            continue;
        };
        let e1 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let e2 = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
        let n = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
        for &v in t {
            for k in 0..3 {
                acc[v as usize][k] += n[k];
            }
        }
    }
    acc.into_iter()
        .map(|n| {
            let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            if l > 0.0 { [n[0] / l, n[1] / l, n[2] / l] } else { [0.0; 3] }
        })
        .collect()
}

fn unique_edges(tris: &[[u32; 3]]) -> Vec<u32> {
    let mut edges: Vec<(u32, u32)> = tris.iter().flat_map(|t| [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])]).map(|(a, b)| (a.min(b), a.max(b))).collect();
    edges.sort_unstable();
    edges.dedup();
    edges.into_iter().flat_map(|(a, b)| [a, b]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quad_has_five_unique_edges_and_upward_normals() {
        let mesh = Mesh { positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]], triangles: vec![[0, 1, 2], [0, 2, 3]], ..Default::default() };
        let s = Scene3d::from_mesh(&mesh);
        assert_eq!(s.edge_indices.len(), 10);
        assert_eq!(s.triangle_count(), 2);
        for v in &s.mesh_vertices {
            assert_eq!(v.normal, [0.0, 0.0, 1.0]);
        }
    }

    #[test]
    fn points_and_voxels_share_one_instance_layout() {
        use std::mem::{offset_of, size_of};
        assert_eq!(size_of::<PointVertex>(), size_of::<VoxelInstance>());
        assert_eq!(offset_of!(PointVertex, color), offset_of!(VoxelInstance, color));
        assert_eq!(offset_of!(PointVertex, scalar), offset_of!(VoxelInstance, size));
    }

    #[test]
    fn big_clouds_get_a_spread_out_preview() {
        let pc = PointCloud { positions: (0..1_000_000).map(|i| [i as f32, 0.0, 0.0]).collect(), ..Default::default() };
        let s = Scene3d::from_points(&pc);
        assert!(s.points_preview.len() <= PREVIEW_POINTS && s.points_preview.len() > PREVIEW_POINTS / 2);
        // one per run of 4, covering the whole cloud
        assert!(s.points_preview.windows(2).all(|w| w[1].pos[0] > w[0].pos[0]));
        assert!(s.points_preview.last().unwrap().pos[0] >= 999_996.0);
        let small = PointCloud { positions: vec![[0.0; 3]; 10], ..Default::default() };
        assert!(Scene3d::from_points(&small).points_preview.is_empty());
    }

    #[test]
    fn only_surface_voxels_are_drawn() {
        // a solid 3x3x3 block: all but the centre voxel are on the surface
        let grid = VoxelGrid { dims: [3, 3, 3], values: vec![1.0; 27], origin: [0.0; 3], voxel_size: 1.0 };
        let s = Scene3d::from_voxels(&grid, 0.5, Colormap::Viridis);
        assert_eq!(s.voxels.len(), 26);
        assert!(!s.voxels.iter().any(|v| v.center == [1.5, 1.5, 1.5]));
        // raising the threshold above every value empties it
        assert!(Scene3d::from_voxels(&grid, 1.5, Colormap::Viridis).voxels.is_empty());
    }
}
