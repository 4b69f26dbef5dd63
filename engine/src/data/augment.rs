//! Data augmentation on planar images `[C, H, W]`: each transform exists as
//! an exact function of its parameters (tested pixel by pixel), and
//! [`Augment::apply`] draws the parameters from a seeded generator, so the
//! same seed gives the same augmented batch on every run.

use super::{Batch, DataError};
use crate::rng::SeededRng;

/// `[channels, height, width]`.
pub type Shape = [usize; 3];

fn at(x: &[f32], s: Shape, c: usize, row: usize, col: usize) -> f32 {
    x.get((c * s[1] + row) * s[2] + col).copied().unwrap_or(0.0)
}

/// Bilinear sample of channel `c` at (fractional) `row`, `col`; zero
/// outside the image.
fn bilinear(x: &[f32], s: Shape, c: usize, row: f32, col: f32) -> f32 {
    let (r0, c0) = (row.floor(), col.floor());
    let (fr, fc) = (row - r0, col - c0);
    let mut v = 0.0;
    for (dr, wr) in [(0.0, 1.0 - fr), (1.0, fr)] {
        for (dc, wc) in [(0.0, 1.0 - fc), (1.0, fc)] {
            let (r, cc) = (r0 + dr, c0 + dc);
            let w = wr * wc;
            if w > 0.0 && r >= 0.0 && cc >= 0.0 && (r as usize) < s[1] && (cc as usize) < s[2] {
                v += w * at(x, s, c, r as usize, cc as usize);
            }
        }
    }
    v
}

/// Build an image by mapping each output pixel (c, row, col) to a value.
fn map(s: Shape, f: impl Fn(usize, usize, usize) -> f32) -> Vec<f32> {
    let mut out = Vec::with_capacity(s[0] * s[1] * s[2]);
    for c in 0..s[0] {
        for r in 0..s[1] {
            for col in 0..s[2] {
                out.push(f(c, r, col));
            }
        }
    }
    out
}

/// Mirror left to right.
pub fn hflip(x: &[f32], s: Shape) -> Vec<f32> {
    map(s, |c, r, col| at(x, s, c, r, s[2] - 1 - col))
}

/// Shift right by `dx` and down by `dy` pixels, filling with zeros.
pub fn translate(x: &[f32], s: Shape, dx: i32, dy: i32) -> Vec<f32> {
    map(s, |c, r, col| {
        let (sr, sc) = (r as i64 - dy as i64, col as i64 - dx as i64);
        if sr >= 0 && sc >= 0 && (sr as usize) < s[1] && (sc as usize) < s[2] { at(x, s, c, sr as usize, sc as usize) } else { 0.0 }
    })
}

/// Rotate counter-clockwise (as seen on screen, rows going down) by
/// `degrees` about the image centre, bilinear, zeros outside.
pub fn rotate(x: &[f32], s: Shape, degrees: f32) -> Vec<f32> {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cy, cx) = ((s[1] as f32 - 1.0) / 2.0, (s[2] as f32 - 1.0) / 2.0);
    map(s, |c, r, col| {
        // inverse map: rotate the output position back by -angle (y points down)
        let (u, v) = (col as f32 - cx, r as f32 - cy);
        let (su, sv) = (cos * u - sin * v, sin * u + cos * v);
        bilinear(x, s, c, sv + cy, su + cx)
    })
}

/// Crop the `cw` x `ch` rectangle at column `x0`, row `y0` and resize it
/// back to the full size (bilinear, pixel centres aligned, edges clamped).
pub fn crop_resize(x: &[f32], s: Shape, x0: usize, y0: usize, cw: usize, ch: usize) -> Vec<f32> {
    let (cw, ch) = (cw.clamp(1, s[2]), ch.clamp(1, s[1]));
    let (x0, y0) = (x0.min(s[2] - cw), y0.min(s[1] - ch));
    let src = |o: usize, crop: usize, full: usize, start: usize| {
        let p = (o as f32 + 0.5) * crop as f32 / full as f32 - 0.5;
        start as f32 + p.clamp(0.0, (crop - 1) as f32)
    };
    map(s, |c, r, col| bilinear(x, s, c, src(r, ch, s[1], y0), src(col, cw, s[2], x0)))
}

/// Zero a `size` x `size` square at column `x0`, row `y0` (clipped).
pub fn cutout(x: &[f32], s: Shape, x0: usize, y0: usize, size: usize) -> Vec<f32> {
    map(s, |c, r, col| if (y0..y0 + size).contains(&r) && (x0..x0 + size).contains(&col) { 0.0 } else { at(x, s, c, r, col) })
}

/// `lambda * a + (1 - lambda) * b`, for images and one-hot labels alike.
pub fn mix(a: &[f32], b: &[f32], lambda: f32) -> Vec<f32> {
    a.iter().zip(b).map(|(p, q)| lambda * p + (1.0 - lambda) * q).collect()
}

/// One-hot label vector.
pub fn one_hot(label: usize, classes: usize) -> Vec<f32> {
    (0..classes).map(|c| if c == label { 1.0 } else { 0.0 }).collect()
}

/// Gamma(shape, 1) by Marsaglia and Tsang; shapes below 1 boosted by U^(1/shape).
fn gamma(rng: &mut SeededRng, shape: f64) -> f64 {
    if shape < 1.0 {
        return gamma(rng, shape + 1.0) * (1.0 - rng.uniform()).powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let z = rng.normal();
        let v = (1.0 + c * z).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = 1.0 - rng.uniform();
        if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// The mixup weight: Beta(alpha, alpha).
pub fn beta_symmetric(rng: &mut SeededRng, alpha: f32) -> f32 {
    let a = gamma(rng, alpha.max(1e-3) as f64);
    let b = gamma(rng, alpha.max(1e-3) as f64);
    (a / (a + b)) as f32
}

/// Mixup of two labelled samples: the mixed image and its soft label.
pub fn mixup(a: (&[f32], usize), b: (&[f32], usize), classes: usize, alpha: f32, rng: &mut SeededRng) -> (Vec<f32>, Vec<f32>, f32) {
    let lambda = beta_symmetric(rng, alpha);
    (mix(a.0, b.0, lambda), mix(&one_hot(a.1, classes), &one_hot(b.1, classes), lambda), lambda)
}

/// Random augmentation settings; each part is off at its neutral value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// Smallest crop side as a fraction of the image side (1 = no crop).
    pub min_scale: f32,
    /// Mirror with probability 1/2.
    pub flip: bool,
    /// Largest shift in pixels, each direction.
    pub max_shift: usize,
    /// Largest rotation in degrees, either way.
    pub max_degrees: f32,
    /// Side of the cutout square (0 = none).
    pub cutout: usize,
}

impl Default for Augment {
    fn default() -> Self {
        Augment { min_scale: 1.0, flip: false, max_shift: 0, max_degrees: 0.0, cutout: 0 }
    }
}

impl Augment {
    /// Crop and scale, flip, translate, rotate, cut out: in that order,
    /// with parameters drawn from `rng`.
    pub fn apply(&self, x: &[f32], s: Shape, rng: &mut SeededRng) -> Vec<f32> {
        let mut out = x.to_vec();
        if self.min_scale < 1.0 {
            let scale = rng.uniform_in(self.min_scale.clamp(0.05, 1.0) as f64, 1.0);
            let (cw, ch) = (((s[2] as f64 * scale).round() as usize).max(1), ((s[1] as f64 * scale).round() as usize).max(1));
            let (x0, y0) = (rng.below(s[2] - cw.min(s[2]) + 1), rng.below(s[1] - ch.min(s[1]) + 1));
            out = crop_resize(&out, s, x0, y0, cw, ch);
        }
        if self.flip && rng.uniform() < 0.5 {
            out = hflip(&out, s);
        }
        if self.max_shift > 0 {
            let m = self.max_shift as i32;
            let (dx, dy) = (rng.below(2 * self.max_shift + 1) as i32 - m, rng.below(2 * self.max_shift + 1) as i32 - m);
            out = translate(&out, s, dx, dy);
        }
        if self.max_degrees > 0.0 {
            let d = self.max_degrees as f64;
            out = rotate(&out, s, rng.uniform_in(-d, d) as f32);
        }
        if self.cutout > 0 {
            let (x0, y0) = (rng.below(s[2]), rng.below(s[1]));
            // centred on the drawn pixel, so it may hang over an edge
            out = cutout(&out, s, x0.saturating_sub(self.cutout / 2), y0.saturating_sub(self.cutout / 2), self.cutout);
        }
        out
    }

    /// Whether every transform is off.
    pub fn is_identity(&self) -> bool {
        self.min_scale >= 1.0 && !self.flip && self.max_shift == 0 && self.max_degrees <= 0.0 && self.cutout == 0
    }

    /// Augment every image of `batch` (`[N, C, H, W]` or `[N, H, W]`) in
    /// place; the parameters come from `rng`, sample after sample.
    pub fn apply_batch(&self, batch: &mut Batch, rng: &mut SeededRng) -> Result<(), DataError> {
        let s: Shape = match batch.shape[..] {
            [_, c, h, w] => [c, h, w],
            [_, h, w] => [1, h, w],
            ref other => return Err(DataError::Invalid(format!("augmentation needs image batches, not shape {other:?}"))),
        };
        let len = s.iter().product::<usize>();
        if self.is_identity() || len == 0 {
            return Ok(());
        }
        for x in batch.x.chunks_exact_mut(len) {
            let out = self.apply(x, s, rng);
            x.copy_from_slice(&out);
        }
        Ok(())
    }
}

/// The command line's form: `crop=0.6,flip,shift=2,rotate=20,cutout=3`
/// (parts left out are off; `none` is the identity).
impl std::fmt::Display for Augment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.min_scale < 1.0 {
            parts.push(format!("crop={}", self.min_scale));
        }
        if self.flip {
            parts.push("flip".into());
        }
        if self.max_shift > 0 {
            parts.push(format!("shift={}", self.max_shift));
        }
        if self.max_degrees > 0.0 {
            parts.push(format!("rotate={}", self.max_degrees));
        }
        if self.cutout > 0 {
            parts.push(format!("cutout={}", self.cutout));
        }
        if parts.is_empty() { f.write_str("none") } else { f.write_str(&parts.join(",")) }
    }
}

impl std::str::FromStr for Augment {
    type Err = String;

    fn from_str(spec: &str) -> Result<Augment, String> {
        let mut a = Augment::default();
        if spec.trim() == "none" {
            return Ok(a);
        }
        for part in spec.split(',').map(str::trim) {
            let (key, value) = part.split_once('=').map_or((part, None), |(k, v)| (k.trim(), Some(v.trim())));
            let num = |lo: f64, hi: f64| -> Result<f64, String> {
                let v: f64 = value.ok_or(format!("'{key}' needs a value, as in {key}=N"))?.parse().map_err(|_| format!("'{part}': not a number"))?;
                if (lo..=hi).contains(&v) { Ok(v) } else { Err(format!("'{part}': {key} must lie in {lo}..={hi}")) }
            };
            match key {
                "crop" => a.min_scale = num(0.05, 1.0)? as f32,
                "flip" if value.is_none() => a.flip = true,
                "shift" => a.max_shift = num(0.0, 64.0)? as usize,
                "rotate" => a.max_degrees = num(0.0, 180.0)? as f32,
                "cutout" => a.cutout = num(0.0, 256.0)? as usize,
                _ => return Err(format!("unknown augmentation '{part}' (expected crop=S, flip, shift=PX, rotate=DEG, cutout=PX or none)")),
            }
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 channel, 2 rows, 3 columns: 1 2 3 / 4 5 6.
    const S: Shape = [1, 2, 3];
    const X: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-5)
    }

    #[test]
    fn flip_translate_cutout_exactly() {
        assert_eq!(hflip(&X, S), vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
        assert_eq!(translate(&X, S, 1, 0), vec![0.0, 1.0, 2.0, 0.0, 4.0, 5.0]);
        assert_eq!(translate(&X, S, -1, 1), vec![0.0, 0.0, 0.0, 2.0, 3.0, 0.0]);
        assert_eq!(translate(&X, S, 5, 0), vec![0.0; 6]);
        assert_eq!(cutout(&X, S, 1, 0, 2), vec![1.0, 0.0, 0.0, 4.0, 0.0, 0.0]);
        assert_eq!(cutout(&X, S, 2, 1, 5), vec![1.0, 2.0, 3.0, 4.0, 5.0, 0.0]);
        // each channel is transformed alike
        let two = [X, X.map(|v| v * 10.0)].concat();
        assert_eq!(hflip(&two, [2, 2, 3])[6..12], [30.0, 20.0, 10.0, 60.0, 50.0, 40.0]);
    }

    #[test]
    fn rotation_by_quarter_turns_permutes_pixels() {
        // 3x3: 1 2 3 / 4 5 6 / 7 8 9 rotated 90 degrees counter-clockwise
        // on screen: 3 6 9 / 2 5 8 / 1 4 7
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let s = [1, 3, 3];
        assert!(close(&rotate(&x, s, 90.0), &[3.0, 6.0, 9.0, 2.0, 5.0, 8.0, 1.0, 4.0, 7.0]), "{:?}", rotate(&x, s, 90.0));
        assert!(close(&rotate(&x, s, 180.0), &[9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]));
        assert!(close(&rotate(&x, s, 0.0), &x));
        // 45 degrees: the centre stays, the corner (0, 0) samples outside
        // the image partly: (col, row) offsets (-1, -1) rotate back to
        // (0, -1.414), i.e. row -0.414 of column 1: 0.586 * 2 = 1.172
        let r = rotate(&x, s, 45.0);
        assert!((r[4] - 5.0).abs() < 1e-5);
        assert!((r[0] - (1.0 - 2f32.sqrt() + 1.0) * 2.0).abs() < 1e-4, "{r:?}");
    }

    #[test]
    fn crop_and_scale_by_hand() {
        // the whole image is unchanged
        assert!(close(&crop_resize(&X, S, 0, 0, 3, 2), &X));
        // a 1x4 row 0 0 a b, crop [a b] and scale to 4: a, .75a+.25b, .25a+.75b, b
        let row = [0.0, 0.0, 2.0, 6.0];
        assert!(close(&crop_resize(&row, [1, 1, 4], 2, 0, 2, 1), &[2.0, 3.0, 5.0, 6.0]));
        // a single pixel crop fills the image
        assert_eq!(crop_resize(&X, S, 1, 1, 1, 1), vec![5.0; 6]);
        // out-of-range crops are clamped into the image
        assert!(close(&crop_resize(&X, S, 9, 9, 9, 9), &X));
    }

    #[test]
    fn mixup_mixes_images_and_labels() {
        assert_eq!(mix(&[1.0, 0.0], &[0.0, 1.0], 0.25), vec![0.25, 0.75]);
        let mut rng = SeededRng::new(3);
        let (img, soft, l) = mixup((&[1.0, 1.0], 2), (&[0.0, 3.0], 0), 3, 0.4, &mut rng);
        assert!((0.0..=1.0).contains(&l));
        assert!(close(&img, &[l, l + 3.0 * (1.0 - l)]));
        assert!(close(&soft, &[1.0 - l, 0.0, l]));
        // Beta(0.4, 0.4): mean 1/2, variance 1 / (4 (2 alpha + 1)) = 0.1389
        let mut rng = SeededRng::new(1);
        let n = 40_000;
        let v: Vec<f64> = (0..n).map(|_| beta_symmetric(&mut rng, 0.4) as f64).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01 && (var - 0.1389).abs() < 0.005, "{mean} {var}");
        // alpha 2: variance 1/20
        let v: Vec<f64> = (0..n).map(|_| beta_symmetric(&mut rng, 2.0) as f64).collect();
        let var2 = v.iter().map(|x| (x - 0.5).powi(2)).sum::<f64>() / n as f64;
        assert!((var2 - 0.05).abs() < 0.003, "{var2}");
    }

    #[test]
    fn random_augmentation_is_seeded() {
        let x: Vec<f32> = (0..3 * 8 * 8).map(|v| (v % 17 + 1) as f32).collect();
        let s = [3, 8, 8];
        assert_eq!(Augment::default().apply(&x, s, &mut SeededRng::new(1)), x);
        let flip = Augment { flip: true, ..Augment::default() };
        let outs: Vec<Vec<f32>> = (0..20).map(|seed| flip.apply(&x, s, &mut SeededRng::new(seed))).collect();
        assert!(outs.iter().all(|o| *o == x || *o == hflip(&x, s)));
        let flipped = outs.iter().filter(|o| **o != x).count();
        assert!((4..=16).contains(&flipped), "{flipped} of 20 flipped");
        let all = Augment { min_scale: 0.6, flip: true, max_shift: 2, max_degrees: 15.0, cutout: 3 };
        let a = all.apply(&x, s, &mut SeededRng::new(7));
        assert_eq!(a, all.apply(&x, s, &mut SeededRng::new(7)));
        assert_ne!(a, all.apply(&x, s, &mut SeededRng::new(8)));
        assert_eq!(a.len(), x.len());
        // the cutout square leaves zeros in all three channels at the same place
        let zero_at = |c: usize| (0..64).filter(|i| a[c * 64 + i] == 0.0).collect::<Vec<_>>();
        assert!(!zero_at(0).is_empty());
        assert!(zero_at(0) == zero_at(1) && zero_at(1) == zero_at(2));
        let shift = Augment { max_shift: 1, ..Augment::default() };
        let t = shift.apply(&x, s, &mut SeededRng::new(2));
        assert!((-1..=1).flat_map(|dx| (-1..=1).map(move |dy| (dx, dy))).any(|(dx, dy)| translate(&x, s, dx, dy) == t));
    }

    #[test]
    fn a_batch_is_augmented_sample_by_sample_from_one_stream() {
        let s = [1, 4, 5];
        let x: Vec<f32> = (0..3 * 20).map(|v| (v % 7 + 1) as f32).collect();
        let mut b = Batch { x: x.clone(), shape: vec![3, 1, 4, 5], y: vec![0, 1, 2] };
        let a = Augment { flip: true, max_shift: 1, ..Augment::default() };
        a.apply_batch(&mut b, &mut SeededRng::new(3)).unwrap();
        let mut rng = SeededRng::new(3);
        let want: Vec<f32> = x.chunks(20).flat_map(|p| a.apply(p, s, &mut rng)).collect();
        assert_eq!(b.x, want);
        assert_eq!(b.y, vec![0, 1, 2]);
        // [N, H, W] batches are one-channel images; identity leaves them alone
        let mut plain = Batch { x: x.clone(), shape: vec![3, 4, 5], y: vec![0, 1, 2] };
        Augment::default().apply_batch(&mut plain, &mut SeededRng::new(3)).unwrap();
        assert_eq!(plain.x, x);
        let mut flat = Batch { x: vec![0.0; 6], shape: vec![3, 2], y: vec![0, 1, 2] };
        assert!(a.apply_batch(&mut flat, &mut SeededRng::new(3)).is_err());
    }

    #[test]
    fn the_command_line_form_reads_back() {
        let a: Augment = "crop=0.6, flip,shift=2,rotate=20,cutout=3".parse().unwrap();
        assert_eq!(a, Augment { min_scale: 0.6, flip: true, max_shift: 2, max_degrees: 20.0, cutout: 3 });
        assert_eq!(a.to_string(), "crop=0.6,flip,shift=2,rotate=20,cutout=3");
        assert_eq!(a.to_string().parse::<Augment>(), Ok(a));
        assert_eq!("none".parse::<Augment>(), Ok(Augment::default()));
        assert_eq!(Augment::default().to_string(), "none");
        assert_eq!("shift=1".parse::<Augment>().map(|a| a.max_shift), Ok(1));
        for bad in ["crop=2", "rotate", "zoom=3", "shift=x", "flip=1"] {
            assert!(bad.parse::<Augment>().is_err(), "{bad}");
        }
    }
}
