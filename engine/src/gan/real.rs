//! The real distributions, sampled from a seeded generator: in the plane a
//! ring, a mixture of gaussians on a circle, a line segment, or points the
//! user drew (each drawn point plus gaussian jitter); or a set of images
//! (each sample one of them).

use std::sync::Arc;

use crate::rng::SeededRng;

use super::GanError;

#[derive(Clone, Debug, PartialEq)]
pub enum RealDist {
    /// Angle uniform, radius `radius + N(0, std^2)`.
    Ring { radius: f32, std: f32 },
    /// `modes` equal gaussians of std `std` centred evenly on a circle of `radius`.
    Gaussians { modes: usize, radius: f32, std: f32 },
    /// Uniform on the segment from `a` to `b`, plus `N(0, std^2)` per coordinate.
    Line { a: [f32; 2], b: [f32; 2], std: f32 },
    /// A drawn point chosen uniformly, plus `N(0, std^2)` per coordinate.
    Points { points: Vec<[f32; 2]>, std: f32 },
    /// One of `x`'s rows of `dim` values (images scaled to [-1, 1]), uniformly.
    Images { x: Arc<Vec<f32>>, dim: usize },
}

impl RealDist {
    pub fn ring() -> Self {
        RealDist::Ring { radius: 1.0, std: 0.05 }
    }

    pub fn gaussians() -> Self {
        RealDist::Gaussians { modes: 8, radius: 1.0, std: 0.05 }
    }

    pub fn line() -> Self {
        RealDist::Line { a: [-1.0, -0.6], b: [1.0, 0.6], std: 0.03 }
    }

    /// Images with pixels in [0, 1] (`n * dim` values), scaled to [-1, 1].
    pub fn images(pixels: &[f32], dim: usize) -> Self {
        RealDist::Images { x: Arc::new(pixels.iter().map(|v| 2.0 * v - 1.0).collect()), dim }
    }

    /// Values per sample.
    pub fn dim(&self) -> usize {
        match self {
            RealDist::Images { dim, .. } => *dim,
            _ => 2,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            RealDist::Images { .. } => "images",
            RealDist::Ring { .. } => "ring",
            RealDist::Gaussians { .. } => "gaussians",
            RealDist::Line { .. } => "line",
            RealDist::Points { .. } => "drawn points",
        }
    }

    pub fn check(&self) -> Result<(), GanError> {
        let bad = |m: String| Err(GanError::Input(m));
        let (std, finite) = match self {
            RealDist::Ring { radius, std } => (*std, radius.is_finite()),
            RealDist::Gaussians { modes, radius, std } => {
                if *modes == 0 {
                    return bad("a mixture needs at least one gaussian".into());
                }
                (*std, radius.is_finite())
            }
            RealDist::Line { a, b, std } => (*std, a.iter().chain(b).all(|v| v.is_finite())),
            RealDist::Points { points, std } => {
                if points.is_empty() {
                    return bad("draw at least one point first".into());
                }
                (*std, points.iter().flatten().all(|v| v.is_finite()))
            }
            RealDist::Images { x, dim } => {
                if *dim == 0 || x.is_empty() || x.len() % dim != 0 {
                    return bad(format!("{} values are not a whole number of images of {dim} pixels", x.len()));
                }
                (0.0, x.iter().all(|v| v.is_finite()))
            }
        };
        if !finite || !std.is_finite() || std < 0.0 {
            return bad(format!("{} has a non-finite position or a negative spread", self.name()));
        }
        Ok(())
    }

    /// `n` samples `[n, dim]` flattened.
    pub fn sample(&self, n: usize, rng: &mut SeededRng) -> Vec<f32> {
        if let RealDist::Images { x, dim } = self {
            let count = x.len() / dim.max(&1);
            let mut out = Vec::with_capacity(n * dim);
            for _ in 0..n {
                let i = rng.below(count);
                out.extend_from_slice(x.get(i * dim..(i + 1) * dim).unwrap_or(&[]));
            }
            return out;
        }
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let p = match self {
                RealDist::Ring { radius, std } => {
                    let th = rng.uniform_in(0.0, std::f64::consts::TAU);
                    let r = *radius as f64 + *std as f64 * rng.normal();
                    [r * th.cos(), r * th.sin()]
                }
                RealDist::Gaussians { modes, radius, std } => {
                    let th = std::f64::consts::TAU * rng.below(*modes) as f64 / *modes as f64;
                    let (s, r) = (*std as f64, *radius as f64);
                    [r * th.cos() + s * rng.normal(), r * th.sin() + s * rng.normal()]
                }
                RealDist::Line { a, b, std } => {
                    let u = rng.uniform();
                    let s = *std as f64;
                    let at = |k: usize| a[k] as f64 + u * (b[k] as f64 - a[k] as f64);
                    [at(0) + s * rng.normal(), at(1) + s * rng.normal()]
                }
                RealDist::Points { points, std } => {
                    let c = points.get(rng.below(points.len())).copied().unwrap_or([0.0, 0.0]);
                    let s = *std as f64;
                    [c[0] as f64 + s * rng.normal(), c[1] as f64 + s * rng.normal()]
                }
                RealDist::Images { .. } => [0.0, 0.0],
            };
            out.extend([p[0] as f32, p[1] as f32]);
        }
        out
    }
}

/// Mean over `points` of the Euclidean distance to the nearest of `data`
/// (both `[n, dim]` flattened): how far the fakes sit from the real
/// samples; NaN when either is empty.
pub fn mean_nearest_distance(points: &[f32], data: &[f32], dim: usize) -> f64 {
    let dim = dim.max(1);
    let data: Vec<&[f32]> = data.chunks_exact(dim).collect();
    let mut sum = 0.0;
    let mut n = 0usize;
    for p in points.chunks_exact(dim) {
        let d2 = data.iter().map(|q| p.iter().zip(*q).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>()).fold(f64::INFINITY, f64::min);
        sum += d2.sqrt();
        n += 1;
    }
    if n == 0 || data.is_empty() { f64::NAN } else { sum / n as f64 }
}

/// Mean `| |p| - radius |` over points `[n, 2]`: how far they are from a ring.
pub fn mean_ring_error(points: &[f32], radius: f32) -> f64 {
    let n = points.len() / 2;
    if n == 0 {
        return f64::NAN;
    }
    points.chunks_exact(2).map(|p| ((p[0] as f64).hypot(p[1] as f64) - radius as f64).abs()).sum::<f64>() / n as f64
}
