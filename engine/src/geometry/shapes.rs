//! Procedural shapes with outward normals, and voxelized implicit solids.

use super::cubify::CUBE_FACES;
use super::mesh_ops::{cross, dot, normalize, sub};
use super::{Mesh, VoxelGrid};
use std::collections::HashMap;
use std::f32::consts::{PI, TAU};

/// A (rows+1) x (cols+1) vertex grid from `f(col_t, row_t) -> (position, normal)`
/// with t in [0, 1]. Outward when d/dcol x d/drow points along the normal.
/// Zero-area triangles (at poles) are left out.
fn grid(rows: usize, cols: usize, f: impl Fn(f32, f32) -> ([f32; 3], [f32; 3])) -> Mesh {
    let (mut positions, mut normals) = (Vec::new(), Vec::new());
    for i in 0..=rows {
        for j in 0..=cols {
            let (p, n) = f(j as f32 / cols as f32, i as f32 / rows as f32);
            positions.push(p);
            normals.push(n);
        }
    }
    let at = |i: usize, j: usize| (i * (cols + 1) + j) as u32;
    let mut triangles = Vec::new();
    for i in 0..rows {
        for j in 0..cols {
            let (a, b, c, d) = (at(i, j), at(i, j + 1), at(i + 1, j + 1), at(i + 1, j));
            for t in [[a, b, c], [a, c, d]] {
                let p = t.map(|k| positions[k as usize]);
                let n = cross(sub(p[1], p[0]), sub(p[2], p[0]));
                if dot(n, n) > 1e-14 {
                    triangles.push(t);
                }
            }
        }
    }
    Mesh { positions, triangles, normals: Some(normals), colors: None }
}

/// Sphere of `radius` centred at the origin, poles on the y axis.
pub fn uv_sphere(radius: f32, segments: usize, rings: usize) -> Mesh {
    grid(rings.max(2), segments.max(3), |s, t| {
        let (theta, phi) = (PI * t, TAU * s);
        let n = [theta.sin() * phi.cos(), theta.cos(), theta.sin() * phi.sin()];
        (n.map(|v| v * radius), n)
    })
}

/// Torus around the y axis: ring radius `major`, tube radius `minor`.
pub fn torus(major: f32, minor: f32, segments: usize, sides: usize) -> Mesh {
    grid(segments.max(3), sides.max(3), |s, t| {
        let (u, v) = (TAU * t, TAU * s); // rows go round the ring, columns round the tube
        let n = [v.cos() * u.cos(), v.sin(), v.cos() * u.sin()];
        let p = [(major + minor * v.cos()) * u.cos(), minor * v.sin(), (major + minor * v.cos()) * u.sin()];
        (p, n)
    })
}

/// A flat disc of triangles at height `y` around the y axis, facing +y
/// when `up`, appended to `m` (the caps of cylinders and cones).
fn disc(m: &mut Mesh, radius: f32, y: f32, segments: usize, up: bool) {
    let base = m.positions.len() as u32;
    let n = [0.0, if up { 1.0 } else { -1.0 }, 0.0];
    m.positions.push([0.0, y, 0.0]);
    for k in 0..segments {
        let phi = TAU * k as f32 / segments as f32;
        m.positions.push([radius * phi.cos(), y, radius * phi.sin()]);
    }
    m.normals.get_or_insert_with(Vec::new).extend(std::iter::repeat_n(n, segments + 1));
    for k in 0..segments as u32 {
        let (a, b) = (base + 1 + k, base + 1 + (k + 1) % segments as u32);
        // Counter-clockwise seen from the side the disc faces.
        m.triangles.push(if up { [base, b, a] } else { [base, a, b] });
    }
}

/// Closed cylinder around the y axis, centred at the origin.
pub fn cylinder(radius: f32, height: f32, segments: usize) -> Mesh {
    let segments = segments.max(3);
    let h = height / 2.0;
    // Rows run from the top down so the side faces outward.
    let mut m = grid(1, segments, |s, t| {
        let phi = TAU * s;
        ([radius * phi.cos(), h - height * t, radius * phi.sin()], [phi.cos(), 0.0, phi.sin()])
    });
    disc(&mut m, radius, h, segments, true);
    disc(&mut m, radius, -h, segments, false);
    m
}

/// Closed cone around the y axis: base of `radius` at y = -height/2, apex at +height/2.
pub fn cone(radius: f32, height: f32, segments: usize) -> Mesh {
    let segments = segments.max(3);
    let h = height / 2.0;
    let slant = (height * height + radius * radius).sqrt().max(f32::MIN_POSITIVE);
    let mut m = grid(1, segments, |s, t| {
        let phi = TAU * s;
        let n = [height * phi.cos() / slant, radius / slant, height * phi.sin() / slant];
        ([radius * t * phi.cos(), h - height * t, radius * t * phi.sin()], n)
    });
    disc(&mut m, radius, -h, segments, false);
    m
}

/// Square pyramid: base of edge `size` at y = -height/2, apex at +height/2,
/// flat faces (each its own vertices).
pub fn pyramid(size: f32, height: f32) -> Mesh {
    let (s, h) = (size / 2.0, height / 2.0);
    let apex = [0.0, h, 0.0];
    let c = [[-s, -h, -s], [s, -h, -s], [s, -h, s], [-s, -h, s]];
    let mut faces: Vec<[[f32; 3]; 3]> = (0..4).map(|k| [c[k], c[(k + 1) % 4], apex]).collect();
    faces.extend([[c[0], c[1], c[2]], [c[0], c[2], c[3]]]);
    let mut m = Mesh { normals: Some(Vec::new()), ..Default::default() };
    // The centroid lies inside: a face whose normal points towards it is flipped.
    let inside = [0.0, -h / 2.0, 0.0];
    for mut f in faces {
        let mut n = normalize(cross(sub(f[1], f[0]), sub(f[2], f[0])));
        if dot(n, sub(f[0], inside)) < 0.0 {
            f.swap(1, 2);
            n = n.map(|v| -v);
        }
        let base = m.positions.len() as u32;
        m.positions.extend(f);
        m.normals.get_or_insert_with(Vec::new).extend([n; 3]);
        m.triangles.push([base, base + 1, base + 2]);
    }
    m
}

/// Axis-aligned cube of edge `size` centred at the origin; each face has its
/// own four vertices so normals are flat.
pub fn cube(size: f32) -> Mesh {
    let h = size / 2.0;
    let mut m = Mesh { normals: Some(Vec::new()), ..Default::default() };
    for (n, u, v) in CUBE_FACES {
        let [n, u, v] = [n, u, v].map(|a| a.map(|c| c as f32));
        let base = m.positions.len() as u32;
        for (su, sv) in [(-1., -1.), (1., -1.), (1., 1.), (-1., 1.)] {
            m.positions.push(std::array::from_fn(|k| h * (n[k] + su * u[k] + sv * v[k])));
        }
        m.normals.get_or_insert_with(Vec::new).extend([n; 4]);
        m.triangles.extend([[base, base + 1, base + 2], [base, base + 2, base + 3]]);
    }
    m
}

/// Unit sphere from an icosahedron whose triangles are split in four
/// `subdivisions` times (20 * 4^s triangles).
pub fn icosphere(subdivisions: usize) -> Mesh {
    let t = (1.0 + 5f32.sqrt()) / 2.0;
    let mut positions: Vec<[f32; 3]> =
        [[-1., t, 0.], [1., t, 0.], [-1., -t, 0.], [1., -t, 0.], [0., -1., t], [0., 1., t], [0., -1., -t], [0., 1., -t], [t, 0., -1.], [t, 0., 1.], [-t, 0., -1.], [-t, 0., 1.]]
            .map(normalize)
            .to_vec();
    let mut triangles: Vec<[u32; 3]> = vec![
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ];
    for _ in 0..subdivisions {
        let mut mid: HashMap<(u32, u32), u32> = HashMap::new();
        let mut midpoint = |a: u32, b: u32, positions: &mut Vec<[f32; 3]>| {
            *mid.entry((a.min(b), a.max(b))).or_insert_with(|| {
                let (pa, pb) = (positions[a as usize], positions[b as usize]);
                positions.push(normalize(std::array::from_fn(|k| pa[k] + pb[k])));
                (positions.len() - 1) as u32
            })
        };
        let mut next = Vec::with_capacity(triangles.len() * 4);
        for [a, b, c] in triangles {
            let (ab, bc, ca) = (midpoint(a, b, &mut positions), midpoint(b, c, &mut positions), midpoint(c, a, &mut positions));
            next.extend([[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]);
        }
        triangles = next;
    }
    // Face outward: on a sphere about the origin the normal must point away from it.
    for tri in &mut triangles {
        let p = tri.map(|k| positions[k as usize]);
        if dot(cross(sub(p[1], p[0]), sub(p[2], p[0])), p[0]) < 0.0 {
            tri.swap(1, 2);
        }
    }
    let normals = positions.clone();
    Mesh { positions, triangles, normals: Some(normals), colors: None }
}

/// Occupancy grid of `res`^3 voxels over the cube [-0.5, 0.5]^3: a voxel is 1
/// when `inside` holds at its centre.
pub fn voxelize(res: usize, inside: impl Fn([f32; 3]) -> bool) -> VoxelGrid {
    let voxel_size = 1.0 / res as f32;
    let origin = [-0.5; 3];
    let mut values = Vec::with_capacity(res * res * res);
    for z in 0..res {
        for y in 0..res {
            for x in 0..res {
                let c = [x, y, z].map(|i| origin[0] + (i as f32 + 0.5) * voxel_size);
                values.push(if inside(c) { 1.0 } else { 0.0 });
            }
        }
    }
    VoxelGrid { dims: [res; 3], values, origin, voxel_size }
}

/// Solid torus (ring radius 0.3, tube radius 0.13, around the y axis) voxelized at `res`^3.
pub fn voxel_torus(res: usize) -> VoxelGrid {
    voxelize(res, |[x, y, z]| {
        let ring = (x * x + z * z).sqrt() - 0.3;
        ring * ring + y * y <= 0.13 * 0.13
    })
}

/// Solid sphere of radius 0.4 voxelized at `res`^3.
pub fn voxel_sphere(res: usize) -> VoxelGrid {
    voxelize(res, |[x, y, z]| x * x + y * y + z * z <= 0.4 * 0.4)
}
