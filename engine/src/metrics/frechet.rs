//! The Frechet distance between two Gaussians fitted to feature sets (the
//! FID of Heusel et al. 2017 when the features are Inception's):
//!
//! `FD = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))`.
//!
//! `S1 S2` is not symmetric, so its square root is taken through the
//! similar symmetric matrix `M = S1^(1/2) S2 S1^(1/2)`: both have the same
//! eigenvalues, hence `Tr (S1 S2)^(1/2) = sum_i sqrt(lambda_i(M))`. Both
//! square roots come from a Jacobi eigen-decomposition in f64 with tiny
//! negative eigenvalues (rounding of a singular covariance) clamped to 0,
//! which stays real where scipy's `sqrtm` of `S1 S2` can turn complex.

/// Mean and covariance (divided by n - 1, as numpy's `cov`) of a feature set.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    pub dim: usize,
    pub mean: Vec<f64>,
    /// Row-major `dim x dim`.
    pub cov: Vec<f64>,
    /// Samples it was fitted to.
    pub count: usize,
}

impl Gaussian {
    /// Fit to `features` `[n, dim]` flattened; None with fewer than 2 rows
    /// or a length that is not a whole number of rows.
    pub fn fit(features: &[f32], dim: usize) -> Option<Gaussian> {
        if dim == 0 || !features.len().is_multiple_of(dim) || features.len() / dim < 2 {
            return None;
        }
        let n = features.len() / dim;
        let mut mean = vec![0.0f64; dim];
        for row in features.chunks_exact(dim) {
            mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut cov = vec![0.0f64; dim * dim];
        let mut c = vec![0.0f64; dim];
        for row in features.chunks_exact(dim) {
            c.iter_mut().zip(row).zip(&mean).for_each(|((c, &v), m)| *c = v as f64 - m);
            for i in 0..dim {
                let ci = c[i];
                if ci == 0.0 {
                    continue;
                }
                let out = &mut cov[i * dim..(i + 1) * dim];
                out.iter_mut().zip(&c).for_each(|(o, cj)| *o += ci * cj);
            }
        }
        cov.iter_mut().for_each(|v| *v /= (n - 1) as f64);
        Some(Gaussian { dim, mean, cov, count: n })
    }
}

/// The Frechet distance between two Gaussians of the same dimension (NaN
/// when the dimensions differ).
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> f64 {
    let n = a.dim;
    if b.dim != n || a.cov.len() != n * n || b.cov.len() != n * n {
        return f64::NAN;
    }
    let mean_term: f64 = a.mean.iter().zip(&b.mean).map(|(x, y)| (x - y).powi(2)).sum();
    let trace = |m: &[f64]| (0..n).map(|i| m[i * n + i]).sum::<f64>();
    let r = sqrt_psd(&a.cov, n);
    let m = matmul(&matmul(&r, &b.cov, n), &r, n);
    let (vals, _) = sym_eigen(&m, n);
    let tr_sqrt: f64 = vals.iter().map(|&l| l.max(0.0).sqrt()).sum();
    // Rounding can leave a tiny negative value for equal sets.
    (mean_term + trace(&a.cov) + trace(&b.cov) - 2.0 * tr_sqrt).max(0.0)
}

fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            if aik == 0.0 {
                continue;
            }
            let (row, brow) = (&mut out[i * n..(i + 1) * n], &b[k * n..(k + 1) * n]);
            row.iter_mut().zip(brow).for_each(|(o, bv)| *o += aik * bv);
        }
    }
    out
}

/// The symmetric square root `V diag(sqrt(max(l, 0))) V^T` of a symmetric
/// positive semi-definite matrix.
pub fn sqrt_psd(m: &[f64], n: usize) -> Vec<f64> {
    let (vals, vecs) = sym_eigen(m, n);
    let s: Vec<f64> = vals.iter().map(|&l| l.max(0.0).sqrt()).collect();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = (0..n).map(|k| vecs[i * n + k] * s[k] * vecs[j * n + k]).sum();
        }
    }
    out
}

/// Eigenvalues and eigenvectors (columns of the row-major `V`) of a
/// symmetric matrix by cyclic Jacobi rotations, until the off-diagonal
/// mass is negligible next to the diagonal's.
pub fn sym_eigen(m: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = m.to_vec();
    // Symmetrize what rounding made asymmetric.
    for i in 0..n {
        for j in 0..i {
            let v = 0.5 * (a[i * n + j] + a[j * n + i]);
            (a[i * n + j], a[j * n + i]) = (v, v);
        }
    }
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i * n + j].powi(2)).sum();
        if off <= 1e-26 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let (app, aqq) = (a[p * n + p], a[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    fn gaussian(mean: &[f64], cov: &[f64]) -> Gaussian {
        Gaussian { dim: mean.len(), mean: mean.to_vec(), cov: cov.to_vec(), count: 0 }
    }

    #[test]
    fn one_dimensional_gaussians() {
        // (m1 - m2)^2 + (s1 - s2)^2.
        let fd = frechet_distance(&gaussian(&[1.5], &[4.0]), &gaussian(&[-0.5], &[0.25]));
        assert!((fd - (4.0 + 1.5f64.powi(2))).abs() < 1e-12, "{fd}");
    }

    #[test]
    fn diagonal_covariances_add_per_axis() {
        let (m1, m2) = ([0.0, 1.0, -2.0], [0.5, 1.0, 0.0]);
        let (v1, v2) = ([1.0, 9.0, 0.01], [4.0, 1.0, 0.0]);
        let diag = |v: &[f64; 3]| (0..9).map(|k| if k % 4 == 0 { v[k / 4] } else { 0.0 }).collect::<Vec<_>>();
        let fd = frechet_distance(&gaussian(&m1, &diag(&v1)), &gaussian(&m2, &diag(&v2)));
        let want: f64 = (0..3).map(|i| (m1[i] - m2[i]).powi(2) + (v1[i].sqrt() - v2[i].sqrt()).powi(2)).sum();
        assert!((fd - want).abs() < 1e-10, "{fd} vs {want}");
    }

    #[test]
    fn rotated_covariances_match_the_closed_form() {
        // S2 = R S1 R^T with S1 = diag(4, 1), R a rotation by 90 degrees:
        // S2 = diag(1, 4), and FD = (2 - 1)^2 + (1 - 2)^2 = 2 with equal means.
        // Through a 30 degree rotation of both (FD is rotation invariant).
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let rot = |d: [f64; 2]| vec![c * c * d[0] + s * s * d[1], c * s * (d[0] - d[1]), c * s * (d[0] - d[1]), s * s * d[0] + c * c * d[1]];
        let fd = frechet_distance(&gaussian(&[0.0, 0.0], &rot([4.0, 1.0])), &gaussian(&[0.0, 0.0], &rot([1.0, 4.0])));
        assert!((fd - 2.0).abs() < 1e-10, "{fd}");
    }

    #[test]
    fn identical_sets_are_at_distance_zero_and_fit_matches_numpy() {
        let mut rng = SeededRng::new(3);
        let feats: Vec<f32> = (0..200 * 6).map(|i| (rng.normal() * (1.0 + (i % 6) as f64)) as f32).collect();
        let g = Gaussian::fit(&feats, 6).unwrap();
        assert!(frechet_distance(&g, &g).abs() < 1e-9);
        // A low-rank (singular) covariance: 10 samples in 20 dims.
        let small: Vec<f32> = (0..10 * 20).map(|_| rng.normal() as f32).collect();
        let s = Gaussian::fit(&small, 20).unwrap();
        assert!(frechet_distance(&s, &s).abs() < 1e-8, "{}", frechet_distance(&s, &s));
        // Hand-computed: rows (0, 1), (2, 3), (4, 8): means (2, 4),
        // var x = 4, var y = (9 + 1 + 16) / 2 = 13, cov = (6 + 0 + 8) / 2 = 7.
        let h = Gaussian::fit(&[0.0, 1.0, 2.0, 3.0, 4.0, 8.0], 2).unwrap();
        assert_eq!(h.mean, vec![2.0, 4.0]);
        assert_eq!(h.cov, vec![4.0, 7.0, 7.0, 13.0]);
        assert!(Gaussian::fit(&[1.0, 2.0], 2).is_none() && Gaussian::fit(&[1.0, 2.0, 3.0], 2).is_none());
    }

    #[test]
    fn square_root_squares_back() {
        let m = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let r = sqrt_psd(&m, 3);
        let back = matmul(&r, &r, 3);
        for (a, b) in back.iter().zip(&m) {
            assert!((a - b).abs() < 1e-12, "{back:?}");
        }
    }
}
