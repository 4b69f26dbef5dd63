//! 3D data: meshes, point clouds, voxel grids and depth maps, their file
//! formats and the built-in procedural shapes.

mod types;

pub use types::*;

// TEMPORARY STUB (not committed): replaced by the geom branch.
pub const SUPPORTED_EXTENSIONS: &[&str] = &["ply", "obj"];
pub fn load_path(p: &std::path::Path) -> Result<Asset, String> { Err(format!("{}: stub", p.display())) }
pub mod scenes {
    use super::*;
    pub fn load(name: &str) -> Result<Asset, String> {
        let mut positions = vec![]; let mut triangles = vec![];
        let n = 24;
        for i in 0..=n { for j in 0..=n { let (t, p) = (i as f32 / n as f32 * 6.283, j as f32 / n as f32 * 3.1416);
            positions.push([p.sin() * t.cos(), p.cos(), p.sin() * t.sin()]); } }
        for i in 0..n { for j in 0..n { let a = (i * (n + 1) + j) as u32; let b = a + n as u32 + 1; triangles.push([a, b, a + 1]); triangles.push([a + 1, b, b + 1]); } }
        Ok(match name {
            "points" => Asset::Points(PointCloud { positions, ..Default::default() }),
            "voxels" => { let d = 16; let values = (0..d*d*d).map(|i| { let (x,y,z) = ((i % d) as f32 - 7.5, ((i / d) % d) as f32 - 7.5, (i / d / d) as f32 - 7.5); if x*x+y*y+z*z < 50.0 {1.0} else {0.0} }).collect(); Asset::Voxels(VoxelGrid { dims: [d,d,d], values, origin: [0.0;3], voxel_size: 0.1 }) }
            "depth" => { let (w, h) = (64, 48); Asset::Depth(DepthMap { width: w, height: h, values: (0..w*h).map(|i| 1000.0 + (i % w) as f32 * 10.0).collect(), intrinsics: Intrinsics::default_for(w, h, 1000.0) }) }
            _ => Asset::Mesh(Mesh { positions, triangles, ..Default::default() }),
        })
    }
}
impl DepthMap {
    pub fn to_point_cloud(&self, i: &Intrinsics, _c: Option<&[[f32; 3]]>) -> PointCloud {
        let mut positions = vec![];
        for y in 0..self.height { for x in 0..self.width { if let Some(z) = self.metres(x, y) {
            positions.push([(x as f32 - i.cx) * z / i.fx, (y as f32 - i.cy) * z / i.fy, z]); } } }
        PointCloud { positions, ..Default::default() }
    }
}
