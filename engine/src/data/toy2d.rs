//! 2-D toy classification problems (seeded), for watching decision
//! boundaries form: spiral (the CS231n one), circles, xor, gaussian blobs.
//! Each returns a [`Dataset`] with sample shape `[2]`, samples grouped by
//! class (shuffle through the batches).

use std::f64::consts::{PI, TAU};

use super::{DataError, Dataset};
use crate::rng::SeededRng;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Toy {
    /// Points per class.
    pub per_class: usize,
    /// Noise level (meaning per problem; 0 gives the clean shape).
    pub noise: f32,
    pub seed: u64,
}

fn build(pts: Vec<[f64; 2]>, y: Vec<usize>, classes: usize) -> Result<Dataset, DataError> {
    let x = pts.iter().flat_map(|p| [p[0] as f32, p[1] as f32]).collect();
    Dataset::new(x, vec![2], y, classes)
}

/// `classes` interleaved spiral arms in the unit disk: for point i of arm j,
/// r = i / (n - 1), t = 4 j + 4 r + noise * N(0, 1) (radians),
/// (x, y) = (r sin t, r cos t).
pub fn spiral(t: Toy, classes: usize) -> Result<Dataset, DataError> {
    if classes < 2 {
        return Err(DataError::Invalid(format!("a spiral needs at least 2 arms, got {classes}")));
    }
    let mut rng = SeededRng::new(t.seed);
    let (mut pts, mut y) = (Vec::new(), Vec::new());
    let n = t.per_class;
    for j in 0..classes {
        for i in 0..n {
            let r = if n > 1 { i as f64 / (n - 1) as f64 } else { 0.0 };
            let th = 4.0 * j as f64 + 4.0 * r + t.noise as f64 * rng.normal();
            pts.push([r * th.sin(), r * th.cos()]);
            y.push(j);
        }
    }
    build(pts, y, classes)
}

/// Two concentric circles: class 0 radius 1, class 1 radius `factor`
/// (0 < factor < 1), plus N(0, noise^2) on each coordinate.
pub fn circles(t: Toy, factor: f32) -> Result<Dataset, DataError> {
    if !(factor > 0.0 && factor < 1.0) {
        return Err(DataError::Invalid(format!("circle factor must be in (0, 1), got {factor}")));
    }
    let mut rng = SeededRng::new(t.seed);
    let (mut pts, mut y) = (Vec::new(), Vec::new());
    for (class, radius) in [(0, 1.0), (1, factor as f64)] {
        for i in 0..t.per_class {
            let a = TAU * i as f64 / t.per_class as f64;
            let nz = t.noise as f64;
            pts.push([radius * a.cos() + nz * rng.normal(), radius * a.sin() + nz * rng.normal()]);
            y.push(class);
        }
    }
    build(pts, y, 2)
}

/// XOR: points uniform in [-1, 1]^2 away from the axes (|x|, |y| > 0.05 so
/// the clean labels are unambiguous); class 1 where x and y have the same
/// sign. Each label is flipped with probability `noise`.
pub fn xor(t: Toy) -> Result<Dataset, DataError> {
    if !(0.0..=1.0).contains(&t.noise) {
        return Err(DataError::Invalid(format!("xor noise is a flip probability in [0, 1], got {}", t.noise)));
    }
    let mut rng = SeededRng::new(t.seed);
    let (mut pts, mut y) = (Vec::new(), Vec::new());
    let coord = |rng: &mut SeededRng| {
        let v = rng.uniform_in(0.05, 1.0);
        if rng.uniform() < 0.5 { -v } else { v }
    };
    for class in 0..2 {
        for _ in 0..t.per_class {
            let a = coord(&mut rng);
            let b = coord(&mut rng);
            // Make the sign pattern match the class.
            let b = if (a * b > 0.0) == (class == 1) { b } else { -b };
            let flip = rng.uniform() < t.noise as f64;
            pts.push([a, b]);
            y.push(if flip { 1 - class } else { class });
        }
    }
    build(pts, y, 2)
}

/// `classes` gaussian blobs with centers evenly spaced on a circle of
/// radius 2 and standard deviation `noise`.
pub fn blobs(t: Toy, classes: usize) -> Result<Dataset, DataError> {
    if classes == 0 {
        return Err(DataError::Invalid("blobs need at least one class".into()));
    }
    let mut rng = SeededRng::new(t.seed);
    let (mut pts, mut y) = (Vec::new(), Vec::new());
    for c in 0..classes {
        let a = 2.0 * PI * c as f64 / classes as f64;
        let (cx, cy) = (2.0 * a.cos(), 2.0 * a.sin());
        for _ in 0..t.per_class {
            let nz = t.noise as f64;
            pts.push([cx + nz * rng.normal(), cy + nz * rng.normal()]);
            y.push(c);
        }
    }
    build(pts, y, classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(noise: f32) -> Toy {
        Toy { per_class: 200, noise, seed: 3 }
    }

    fn points(d: &Dataset) -> Vec<(f32, f32, usize)> {
        d.x().chunks(2).zip(d.y()).map(|(p, &l)| (p[0], p[1], l)).collect()
    }

    #[test]
    fn spiral_geometry() {
        let d = spiral(toy(0.0), 3).unwrap();
        assert_eq!((d.len(), d.num_classes()), (600, 3));
        // Without noise each point lies at radius r = i / 199 on angle 4 j + 4 r.
        for (k, (x, y, l)) in points(&d).into_iter().enumerate() {
            let r = (k % 200) as f32 / 199.0;
            assert!(((x * x + y * y).sqrt() - r).abs() < 1e-5);
            let th = 4.0 * l as f32 + 4.0 * r;
            assert!((x - r * th.sin()).abs() < 1e-5 && (y - r * th.cos()).abs() < 1e-5);
        }
        assert_eq!(spiral(toy(0.2), 3).unwrap(), spiral(toy(0.2), 3).unwrap());
        assert_ne!(spiral(toy(0.2), 3).unwrap(), spiral(Toy { seed: 4, ..toy(0.2) }, 3).unwrap());
        assert!(spiral(toy(0.0), 1).is_err());
    }

    #[test]
    fn circles_radii_and_noise() {
        let d = circles(toy(0.0), 0.5).unwrap();
        for (x, y, l) in points(&d) {
            let r = (x * x + y * y).sqrt();
            assert!((r - if l == 0 { 1.0 } else { 0.5 }).abs() < 1e-6);
        }
        // With noise 0.1 the radial spread is about 0.1.
        let d = circles(Toy { per_class: 5000, noise: 0.1, seed: 1 }, 0.5).unwrap();
        let dev: Vec<f32> = points(&d).iter().filter(|p| p.2 == 0).map(|(x, y, _)| (x * x + y * y).sqrt() - 1.0).collect();
        let rms = (dev.iter().map(|d| d * d).sum::<f32>() / dev.len() as f32).sqrt();
        assert!((rms - 0.1).abs() < 0.01, "{rms}");
        assert!(circles(toy(0.0), 1.5).is_err());
    }

    #[test]
    fn xor_labels_follow_quadrants() {
        let d = xor(toy(0.0)).unwrap();
        for (x, y, l) in points(&d) {
            assert_eq!(l == 1, x * y > 0.0);
            assert!(x.abs() >= 0.05 && y.abs() >= 0.05 && x.abs() <= 1.0);
        }
        let noisy = xor(Toy { per_class: 5000, noise: 0.2, seed: 2 }).unwrap();
        let flipped = points(&noisy).iter().filter(|(x, y, l)| (*l == 1) != (x * y > 0.0)).count();
        assert!((flipped as f32 / 10_000.0 - 0.2).abs() < 0.02, "{flipped}");
        assert!(xor(toy(1.5)).is_err());
    }

    #[test]
    fn blobs_centers_and_spread() {
        let d = blobs(Toy { per_class: 4000, noise: 0.3, seed: 5 }, 4).unwrap();
        for c in 0..4 {
            let pts: Vec<_> = points(&d).into_iter().filter(|p| p.2 == c).collect();
            let mx = pts.iter().map(|p| p.0).sum::<f32>() / pts.len() as f32;
            let my = pts.iter().map(|p| p.1).sum::<f32>() / pts.len() as f32;
            let a = std::f32::consts::TAU * c as f32 / 4.0;
            assert!((mx - 2.0 * a.cos()).abs() < 0.02 && (my - 2.0 * a.sin()).abs() < 0.02);
            let sx = (pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f32>() / pts.len() as f32).sqrt();
            assert!((sx - 0.3).abs() < 0.02, "{sx}");
        }
        assert!(blobs(toy(0.1), 0).is_err());
    }
}
