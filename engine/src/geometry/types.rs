//! The four primitives every viewer and lab shares.

/// Axis-aligned bounding box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aabb {
    pub min: [f32; 3],
    pub max: [f32; 3],
}

impl Aabb {
    /// Bounds of finite points; `None` when there are none.
    pub fn from_points<'a>(points: impl IntoIterator<Item = &'a [f32; 3]>) -> Option<Aabb> {
        let mut min = [f32::INFINITY; 3];
        let mut max = [f32::NEG_INFINITY; 3];
        let mut any = false;
        for p in points {
            if !p.iter().all(|v| v.is_finite()) {
                continue;
            }
            any = true;
            for i in 0..3 {
                min[i] = min[i].min(p[i]);
                max[i] = max[i].max(p[i]);
            }
        }
        any.then_some(Aabb { min, max })
    }
    pub fn center(&self) -> [f32; 3] {
        std::array::from_fn(|i| 0.5 * (self.min[i] + self.max[i]))
    }
    pub fn size(&self) -> [f32; 3] {
        std::array::from_fn(|i| self.max[i] - self.min[i])
    }
    /// Length of the box's diagonal.
    pub fn diagonal(&self) -> f32 {
        let s = self.size();
        (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt()
    }
}

/// Triangle mesh. Optional attributes are per vertex.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mesh {
    pub positions: Vec<[f32; 3]>,
    pub triangles: Vec<[u32; 3]>,
    pub normals: Option<Vec<[f32; 3]>>,
    /// Linear RGB in [0, 1].
    pub colors: Option<Vec<[f32; 3]>>,
}

/// Point cloud with optional per-point attributes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PointCloud {
    pub positions: Vec<[f32; 3]>,
    /// RGB in [0, 1].
    pub colors: Option<Vec<[f32; 3]>>,
    pub normals: Option<Vec<[f32; 3]>>,
    /// A named scalar per point (intensity, curvature, distance...).
    pub scalar: Option<(String, Vec<f32>)>,
}

/// Dense voxel grid; `values[x + dims[0] * (y + dims[1] * z)]`.
/// Occupancy grids hold 0 or 1; scalar grids hold anything.
#[derive(Clone, Debug, PartialEq)]
pub struct VoxelGrid {
    pub dims: [usize; 3],
    pub values: Vec<f32>,
    /// World position of the corner of voxel (0, 0, 0).
    pub origin: [f32; 3],
    /// Edge length of one voxel.
    pub voxel_size: f32,
}

impl VoxelGrid {
    pub fn index(&self, x: usize, y: usize, z: usize) -> usize {
        x + self.dims[0] * (y + self.dims[1] * z)
    }
    pub fn get(&self, x: usize, y: usize, z: usize) -> Option<f32> {
        if x < self.dims[0] && y < self.dims[1] && z < self.dims[2] { self.values.get(self.index(x, y, z)).copied() } else { None }
    }
    /// True when every value is 0 or 1 (no threshold needed).
    pub fn is_binary(&self) -> bool {
        self.values.iter().all(|&v| v == 0.0 || v == 1.0)
    }
}

/// Pinhole camera intrinsics plus the scale from stored depth values to metres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Intrinsics {
    pub fx: f32,
    pub fy: f32,
    pub cx: f32,
    pub cy: f32,
    /// Stored value / depth_scale = metres (1000 for millimetre PNGs).
    pub depth_scale: f32,
}

impl Intrinsics {
    /// A reasonable default for an image of this size: 60 degree horizontal field of view.
    pub fn default_for(width: usize, height: usize, depth_scale: f32) -> Self {
        let f = width as f32 / (2.0 * (30f32).to_radians().tan());
        Intrinsics { fx: f, fy: f, cx: width as f32 / 2.0, cy: height as f32 / 2.0, depth_scale }
    }
}

/// Depth image as stored (raw values, row-major); 0 or non-finite means invalid.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthMap {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f32>,
    pub intrinsics: Intrinsics,
}

impl DepthMap {
    /// Depth in metres at a pixel, `None` when invalid or out of range.
    pub fn metres(&self, x: usize, y: usize) -> Option<f32> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let v = *self.values.get(y * self.width + x)?;
        (v.is_finite() && v > 0.0).then(|| v / self.intrinsics.depth_scale)
    }
}

/// Anything the viewers can open.
#[derive(Clone, Debug, PartialEq)]
pub enum Asset {
    Mesh(Mesh),
    Points(PointCloud),
    Voxels(VoxelGrid),
    Depth(DepthMap),
}

impl Asset {
    pub fn kind(&self) -> &'static str {
        match self {
            Asset::Mesh(_) => "mesh",
            Asset::Points(_) => "point cloud",
            Asset::Voxels(_) => "voxel grid",
            Asset::Depth(_) => "depth map",
        }
    }
    pub fn into_mesh(self) -> Option<Mesh> {
        if let Asset::Mesh(m) = self { Some(m) } else { None }
    }
    pub fn into_points(self) -> Option<PointCloud> {
        if let Asset::Points(p) = self { Some(p) } else { None }
    }
    pub fn into_voxels(self) -> Option<VoxelGrid> {
        if let Asset::Voxels(v) = self { Some(v) } else { None }
    }
    pub fn into_depth(self) -> Option<DepthMap> {
        if let Asset::Depth(d) = self { Some(d) } else { None }
    }
}
