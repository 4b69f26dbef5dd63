//! Colormaps for scalar data: a 256-entry table per map, used by the GPU
//! (as a lookup texture) and by the legend widget alike.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Colormap {
    #[default]
    Turbo,
    Viridis,
    Gray,
}

impl Colormap {
    pub const ALL: [Colormap; 3] = [Colormap::Turbo, Colormap::Viridis, Colormap::Gray];

    pub fn name(self) -> &'static str {
        match self {
            Colormap::Turbo => "turbo",
            Colormap::Viridis => "viridis",
            Colormap::Gray => "gray",
        }
    }

    /// Color at t in [0, 1] (clamped), as sRGB bytes.
    pub fn sample(self, t: f32) -> [u8; 3] {
        let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
        let rgb = match self {
            Colormap::Turbo => turbo(t),
            Colormap::Viridis => viridis(t),
            Colormap::Gray => [t, t, t],
        };
        rgb.map(|c| (c.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
    }

    /// 256 RGBA texels for the lookup texture.
    pub fn lut(self) -> Vec<u8> {
        (0..256)
            .flat_map(|i| {
                let [r, g, b] = self.sample(i as f32 / 255.0);
                [r, g, b, 255]
            })
            .collect()
    }
}

/// Polynomial fit of Google's Turbo colormap (Mikhailov 2019, published fit).
fn turbo(t: f32) -> [f32; 3] {
    let r = [0.13572138, 4.615_392_7, -42.660_324, 132.131_09, -152.942_4, 59.286_38];
    let g = [0.09140261, 2.194_188_4, 4.842_966_6, -14.185_034, 4.277_298_5, 2.829_566];
    let b = [0.106_673_3, 12.641_946, -60.582_047, 110.362_77, -89.903_11, 27.348_25];
    [poly(&r, t), poly(&g, t), poly(&b, t)]
}

/// Polynomial fit of matplotlib's viridis (degree 6, published fit).
fn viridis(t: f32) -> [f32; 3] {
    let c = [
        [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
        [0.1050930431085774, 1.404613529898575, 1.384590162594685],
        [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
        [-4.634230498983486, -5.799100973351585, -19.33244095627987],
        [6.228269936347081, 14.17993336680509, 56.69055260068105],
        [4.776384997670288, -13.74514537774601, -65.35303263337234],
        [-5.435455855934631, 4.645852612178535, 26.3124352495832],
    ];
    std::array::from_fn(|k| {
        let coeffs: Vec<f32> = c.iter().map(|row| row[k] as f32).collect();
        poly(&coeffs, t)
    })
}

/// Horner evaluation of sum coeffs[i] * t^i.
fn poly(coeffs: &[f32], t: f32) -> f32 {
    coeffs.iter().rev().fold(0.0, |acc, &c| acc * t + c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_the_published_maps() {
        // viridis starts dark purple (68, 1, 84) and ends yellow (253, 231, 37)
        let lo = Colormap::Viridis.sample(0.0);
        let hi = Colormap::Viridis.sample(1.0);
        assert!((lo[0] as i32 - 68).abs() <= 3 && (lo[2] as i32 - 84).abs() <= 3, "{lo:?}");
        assert!((hi[0] as i32 - 253).abs() <= 3 && (hi[1] as i32 - 231).abs() <= 3, "{hi:?}");
        // turbo: dark at 0, green in the middle, red at 1 (the fit is loose at the very ends)
        let lo = Colormap::Turbo.sample(0.0);
        let mid = Colormap::Turbo.sample(0.5);
        let hi = Colormap::Turbo.sample(1.0);
        assert!(lo.iter().map(|&c| c as u32).sum::<u32>() < 150, "{lo:?}");
        assert!(mid[1] > mid[0] && mid[1] > mid[2], "{mid:?}");
        assert!(hi[0] > 100 && hi[0] > 4 * hi[1] && hi[0] > 4 * hi[2], "{hi:?}");
        assert_eq!(Colormap::Gray.sample(0.5), [128, 128, 128]);
        assert_eq!(Colormap::Gray.lut().len(), 1024);
    }
}
