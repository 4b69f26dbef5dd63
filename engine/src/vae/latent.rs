//! Walking the latent space: a 2-D view of codes (the codes themselves for
//! a 2-D latent, else their two principal components), grids over that
//! plane, and linear and spherical interpolation between two codes.

/// An affine map from the latent space onto a plane: `p = P (z - mean)` and
/// back `z = mean + P^T p` (rows of `P` orthonormal).
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    pub mean: Vec<f32>,
    pub axes: [Vec<f32>; 2],
}

impl Plane {
    /// The first two latent axes through the origin (exact for latent 2).
    pub fn identity(latent: usize) -> Plane {
        let axis = |k: usize| (0..latent).map(|i| if i == k { 1.0 } else { 0.0 }).collect();
        Plane { mean: vec![0.0; latent], axes: [axis(0), axis(1)] }
    }

    /// For a latent of 2 (or less), the identity; else the two principal
    /// axes of `codes` (`[n, latent]`) through their mean. Axes have a fixed
    /// sign (largest component positive) so the view does not flip.
    pub fn fit(codes: &[f32], latent: usize) -> Plane {
        let n = codes.len().checked_div(latent).unwrap_or(0);
        if latent <= 2 || n < 2 {
            return Plane::identity(latent);
        }
        let mut mean = vec![0.0f64; latent];
        for c in codes.chunks_exact(latent) {
            mean.iter_mut().zip(c).for_each(|(m, &v)| *m += v as f64 / n as f64);
        }
        let mut cov = vec![0.0f64; latent * latent];
        for c in codes.chunks_exact(latent) {
            for i in 0..latent {
                let di = c[i] as f64 - mean[i];
                for j in 0..latent {
                    cov[i * latent + j] += di * (c[j] as f64 - mean[j]) / n as f64;
                }
            }
        }
        let a0 = top_eigenvector(&cov, latent, None);
        let a1 = top_eigenvector(&cov, latent, Some(&a0));
        let f = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
        Plane { mean: f(mean), axes: [f(a0), f(a1)] }
    }

    pub fn latent(&self) -> usize {
        self.mean.len()
    }

    /// Plane coordinates of one code.
    pub fn project(&self, z: &[f32]) -> [f32; 2] {
        let dot = |a: &[f32]| z.iter().zip(&self.mean).zip(a).map(|((z, m), a)| (z - m) * a).sum();
        [dot(&self.axes[0]), dot(&self.axes[1])]
    }

    /// The code at plane coordinates `p`.
    pub fn lift(&self, p: [f32; 2]) -> Vec<f32> {
        (0..self.latent()).map(|i| self.mean[i] + p[0] * self.axes[0][i] + p[1] * self.axes[1][i]).collect()
    }

    /// Codes `[side * side, latent]` of a `side` x `side` grid spanning
    /// `[-extent, extent]` on both plane axes, row by row from the top
    /// (largest second coordinate) left to right.
    pub fn grid(&self, side: usize, extent: f32) -> Vec<f32> {
        let at = |k: usize| if side <= 1 { 0.0 } else { -extent + 2.0 * extent * k as f32 / (side - 1) as f32 };
        let mut out = Vec::with_capacity(side * side * self.latent());
        for r in 0..side {
            for c in 0..side {
                out.extend(self.lift([at(c), at(side - 1 - r)]));
            }
        }
        out
    }
}

/// The dominant eigenvector of a symmetric `n x n` matrix by power
/// iteration, orthogonal to `skip` if given.
fn top_eigenvector(m: &[f64], n: usize, skip: Option<&[f64]>) -> Vec<f64> {
    // A start with components of every size, so it is not orthogonal to
    // the answer by accident.
    let mut v: Vec<f64> = (0..n).map(|i| 1.0 + 0.1 * i as f64).collect();
    for _ in 0..500 {
        if let Some(s) = skip {
            let d: f64 = v.iter().zip(s).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(s).for_each(|(a, b)| *a -= d * b);
        }
        let w: Vec<f64> = (0..n).map(|i| (0..n).map(|j| m[i * n + j] * v[j]).sum()).collect();
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm < 1e-30 {
            break;
        }
        v = w.into_iter().map(|x| x / norm).collect();
    }
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-30);
    let big = v.iter().copied().fold(0.0f64, |a, x| if x.abs() > a.abs() { x } else { a });
    let sign = if big < 0.0 { -1.0 } else { 1.0 };
    v.into_iter().map(|x| sign * x / norm).collect()
}

/// How to move between two codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    Linear,
    /// Along the great circle (for nearly parallel codes, linear), which
    /// keeps the norm typical of Gaussian samples instead of shrinking it.
    Spherical,
}

/// The point a fraction `t` of the way from `a` to `b`.
pub fn interpolate(a: &[f32], b: &[f32], t: f32, path: Path) -> Vec<f32> {
    let lerp = |s: f32, u: f32| a.iter().zip(b).map(|(x, y)| s * x + u * y).collect();
    if path == Path::Linear {
        return lerp(1.0 - t, t);
    }
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na < 1e-12 || nb < 1e-12 {
        return lerp(1.0 - t, t);
    }
    let cos = (a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum::<f64>() / (na * nb)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    let s = omega.sin();
    if s < 1e-6 {
        return lerp(1.0 - t, t);
    }
    let t = t as f64;
    lerp((((1.0 - t) * omega).sin() / s) as f32, ((t * omega).sin() / s) as f32)
}

/// `frames` codes evenly spaced from `a` (first) to `b` (last), `[frames, latent]`.
pub fn path_codes(a: &[f32], b: &[f32], frames: usize, path: Path) -> Vec<f32> {
    (0..frames).flat_map(|k| interpolate(a, b, if frames <= 1 { 0.0 } else { k as f32 / (frames - 1) as f32 }, path)).collect()
}
