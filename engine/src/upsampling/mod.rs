//! Upsampling compared: one feature map (an image max-pooled by `s x s`,
//! its switches recorded) brought back to the image's size by bed of nails,
//! nearest neighbour, bilinear, bicubic, max unpooling at the switches, and
//! a transposed convolution learned on the spot ([`learned`]).
//!
//! The fixed methods run on the CPU from the layers' own axis maps
//! ([`crate::nn::upsample`]); the learned one is a compiled graph trained by
//! autograd and Adam.

pub mod learned;

use crate::error::EngineError;
use crate::nn::resample::resample_plane;
use crate::nn::unpool::{Pooled, max_pool_with_switches};
use crate::nn::upsample::{bed_of_nails_map, bicubic_map, bilinear_map, nearest_map};

pub use learned::{DeconvConfig, DeconvEpoch, DeconvStep, DeconvTrainer, DeconvUpsampler, Pairs, digit_pairs};

/// The six methods, in the order the lab shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    BedOfNails,
    Nearest,
    Bilinear,
    Bicubic,
    MaxUnpool,
    Learned,
}

impl Method {
    pub const ALL: [Method; 6] = [Method::BedOfNails, Method::Nearest, Method::Bilinear, Method::Bicubic, Method::MaxUnpool, Method::Learned];
    /// The five that need no training.
    pub const FIXED: [Method; 5] = [Method::BedOfNails, Method::Nearest, Method::Bilinear, Method::Bicubic, Method::MaxUnpool];

    pub fn name(self) -> &'static str {
        match self {
            Method::BedOfNails => "bed of nails",
            Method::Nearest => "nearest",
            Method::Bilinear => "bilinear",
            Method::Bicubic => "bicubic",
            Method::MaxUnpool => "max unpooling",
            Method::Learned => "transposed conv (learned)",
        }
    }
}

/// A single-channel image (row-major, `height x width`).
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f32>,
}

impl Plane {
    pub fn new(width: usize, height: usize, values: Vec<f32>) -> Result<Plane, EngineError> {
        if width == 0 || height == 0 || values.len() != width * height {
            return Err(EngineError::Shape(format!("{} values for a {width}x{height} image", values.len())));
        }
        Ok(Plane { width, height, values })
    }

    pub fn value(&self, x: usize, y: usize) -> Option<f32> {
        (x < self.width).then(|| self.values.get(y * self.width + x).copied()).flatten()
    }

    /// Mean squared difference to a plane of the same size.
    pub fn mse(&self, other: &Plane) -> Option<f64> {
        ((self.width, self.height) == (other.width, other.height)).then(|| {
            let s: f64 = self.values.iter().zip(&other.values).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
            s / self.values.len() as f64
        })
    }
}

/// An image and its `scale x scale` max-pooled feature map with switches.
#[derive(Clone, Debug, PartialEq)]
pub struct Downsampled {
    pub image: Plane,
    pub scale: usize,
    pub pooled: Pooled,
}

impl Downsampled {
    /// Pool `image` by `scale`; its sides must be multiples of the scale so
    /// every method gets back exactly the image's size.
    pub fn new(image: Plane, scale: usize) -> Result<Downsampled, EngineError> {
        if scale == 0 || !image.width.is_multiple_of(scale) || !image.height.is_multiple_of(scale) || image.width < scale || image.height < scale {
            return Err(EngineError::Shape(format!("a {}x{} image cannot be pooled by {scale}", image.width, image.height)));
        }
        let pooled = max_pool_with_switches(&image.values, 1, image.height, image.width, scale)?;
        Ok(Downsampled { image, scale, pooled })
    }

    /// The feature map as a plane.
    pub fn feature(&self) -> Plane {
        Plane { width: self.pooled.width, height: self.pooled.height, values: self.pooled.values.clone() }
    }

    /// A fixed method's reconstruction (None for [`Method::Learned`]).
    pub fn upsample(&self, m: Method) -> Option<Plane> {
        let (h, w, s) = (self.pooled.height, self.pooled.width, self.scale);
        let maps = match m {
            Method::BedOfNails => (bed_of_nails_map(h, s), bed_of_nails_map(w, s)),
            Method::Nearest => (nearest_map(h, s), nearest_map(w, s)),
            Method::Bilinear => (bilinear_map(h, s), bilinear_map(w, s)),
            Method::Bicubic => (bicubic_map(h, s), bicubic_map(w, s)),
            Method::MaxUnpool => return Some(Plane { width: w * s, height: h * s, values: self.pooled.unpool() }),
            Method::Learned => return None,
        };
        let values = resample_plane(&maps.0, &maps.1, &self.pooled.values).ok()?;
        Some(Plane { width: w * s, height: h * s, values })
    }
}

/// Mean over `h x w` images of the mean squared error of a fixed method's
/// reconstruction from the image pooled by `scale`.
pub fn mean_mse(images: &[f32], h: usize, w: usize, scale: usize, m: Method) -> Result<f64, EngineError> {
    if h * w == 0 || images.is_empty() || !images.len().is_multiple_of(h * w) {
        return Err(EngineError::Shape(format!("{} values are no {h}x{w} images", images.len())));
    }
    let mut sum = 0.0;
    for img in images.chunks(h * w) {
        let d = Downsampled::new(Plane::new(w, h, img.to_vec())?, scale)?;
        let up = d.upsample(m).ok_or_else(|| EngineError::Shape(format!("{} needs training", m.name())))?;
        sum += d.image.mse(&up).unwrap_or(f64::NAN);
    }
    Ok(sum / (images.len() / (h * w)) as f64)
}

/// A seeded synthetic feature map source: smooth blobs, a bright bar and a
/// soft ramp on a `side x side` grid in [0, 1] (edges and smooth parts
/// upsample differently).
pub fn synthetic(side: usize, seed: u64) -> Plane {
    let mut rng = crate::rng::SeededRng::stream(seed, 0x5A);
    let n = side as f64;
    let blobs: Vec<(f64, f64, f64, f64)> =
        (0..3).map(|_| (rng.uniform_in(0.15, 0.85) * n, rng.uniform_in(0.15, 0.85) * n, rng.uniform_in(0.08, 0.2) * n, rng.uniform_in(0.5, 1.0))).collect();
    let bar = (rng.uniform_in(0.2, 0.7) * n) as usize;
    let values = (0..side * side)
        .map(|p| {
            let (x, y) = ((p % side) as f64 + 0.5, (p / side) as f64 + 0.5);
            let mut v = 0.15 * x / n;
            for &(cx, cy, r, a) in &blobs {
                v += a * (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * r * r)).exp();
            }
            if (bar..bar + (side / 8).max(1)).contains(&(p % side)) && y < 0.6 * n {
                v = 0.9;
            }
            v.clamp(0.0, 1.0) as f32
        })
        .collect();
    Plane { width: side, height: side, values }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fixed_method_on_a_worked_2x2_map() {
        // 4x4 image pooled 2x2 to [[4, 2], [1, 3]] with switches at (1, 1),
        // (0, 2), (3, 0), (2, 3).
        #[rustfmt::skip]
        let img = vec![
            0.0, 0.0, 2.0, 0.0,
            0.0, 4.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 3.0,
            1.0, 0.0, 0.0, 0.0,
        ];
        let d = Downsampled::new(Plane::new(4, 4, img).unwrap(), 2).unwrap();
        assert_eq!(d.feature().values, [4.0, 2.0, 1.0, 3.0]);
        let up = |m| d.upsample(m).unwrap().values;
        #[rustfmt::skip]
        assert_eq!(up(Method::BedOfNails), [
            4.0, 0.0, 2.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
            1.0, 0.0, 3.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
        ]);
        #[rustfmt::skip]
        assert_eq!(up(Method::Nearest), [
            4.0, 4.0, 2.0, 2.0,
            4.0, 4.0, 2.0, 2.0,
            1.0, 1.0, 3.0, 3.0,
            1.0, 1.0, 3.0, 3.0,
        ]);
        #[rustfmt::skip]
        assert_eq!(up(Method::MaxUnpool), [
            0.0, 0.0, 2.0, 0.0,
            0.0, 4.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 3.0,
            1.0, 0.0, 0.0, 0.0,
        ]);
        // Bilinear row weights 1, (0.75, 0.25), (0.25, 0.75), 1: pixel (1, 1)
        // = 0.75 (0.75 4 + 0.25 2) + 0.25 (0.75 1 + 0.25 3) = 3.
        let b = up(Method::Bilinear);
        assert!((b[5] - 3.0).abs() < 1e-6 && (b[0] - 4.0).abs() < 1e-6, "{b:?}");
        // Bicubic, corner: per axis weights (1.10546875, -0.10546875) on
        // (first, second): 1.1055^2 4 - 1.1055 0.1055 (2 + 1) + 0.1055^2 3.
        let (a, c) = (1.10546875f64, -0.10546875f64);
        let want = a * a * 4.0 + a * c * 2.0 + c * a * 1.0 + c * c * 3.0;
        assert!((up(Method::Bicubic)[0] as f64 - want).abs() < 1e-5);
        assert!(d.upsample(Method::Learned).is_none());
        // This image's errors: unpooling is exact (every pixel is 0 or a
        // window's maximum), bed of nails misses the maxima off the corner.
        let e = |m| d.image.mse(&d.upsample(m).unwrap()).unwrap();
        assert_eq!(e(Method::MaxUnpool), 0.0);
        assert!(e(Method::BedOfNails) > 0.0 && e(Method::Nearest) > e(Method::BedOfNails));
    }

    #[test]
    fn sizes_must_divide() {
        assert!(Downsampled::new(Plane::new(6, 4, vec![0.0; 24]).unwrap(), 4).is_err());
        assert!(Downsampled::new(Plane::new(4, 4, vec![0.0; 16]).unwrap(), 0).is_err());
        assert!(Plane::new(4, 4, vec![0.0; 15]).is_err());
        let s = synthetic(16, 3);
        assert_eq!(s, synthetic(16, 3));
        assert!(s.values.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
