//! Seeded weight initialization (lecture 10 of EECS 498).
//!
//! Fans follow PyTorch: for a weight of shape `[out, in, k...]`,
//! `fan_in = in * prod(k)` and `fan_out = out * prod(k)`.
//! - small random: `N(0, std^2)`, e.g. std = 0.01 (fine for shallow nets,
//!   activations vanish in deep ones)
//! - Xavier / Glorot: `std = gain * sqrt(2 / (fan_in + fan_out))`, uniform
//!   bound `gain * sqrt(6 / (fan_in + fan_out))`
//! - LeCun: `std = 1 / sqrt(fan_in)` (the slide's "Xavier" for tanh)
//! - Kaiming / He: `std = gain / sqrt(fan_in)` with `gain = sqrt(2)` for
//!   ReLU, uniform bound `gain * sqrt(3 / fan_in)`

use crate::rng::SeededRng;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InitError {
    #[error("{init} needs a weight with at least 2 dims, got shape {shape:?}")]
    NeedsFans { init: &'static str, shape: Vec<usize> },
    #[error("shape {0:?} has a zero fan")]
    ZeroFan(Vec<usize>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Zeros,
    Constant(f32),
    Normal { std: f32 },
    Uniform { bound: f32 },
    XavierNormal { gain: f32 },
    XavierUniform { gain: f32 },
    LeCunNormal,
    KaimingNormal { gain: f32 },
    KaimingUniform { gain: f32 },
}

impl Init {
    /// N(0, 0.01^2).
    pub const SMALL: Init = Init::Normal { std: 0.01 };
    pub const XAVIER_NORMAL: Init = Init::XavierNormal { gain: 1.0 };
    pub const XAVIER_UNIFORM: Init = Init::XavierUniform { gain: 1.0 };
    /// He initialization for ReLU networks (gain sqrt(2)).
    pub const KAIMING_RELU: Init = Init::KaimingNormal { gain: std::f32::consts::SQRT_2 };
    pub const KAIMING_RELU_UNIFORM: Init = Init::KaimingUniform { gain: std::f32::consts::SQRT_2 };

    /// Values for a tensor of `shape`, drawn from `rng`.
    pub fn sample(&self, shape: &[usize], rng: &mut SeededRng) -> Result<Vec<f32>, InitError> {
        let n: usize = shape.iter().product();
        let normal = |std: f64, rng: &mut SeededRng| (0..n).map(|_| (std * rng.normal()) as f32).collect();
        let uniform = |b: f64, rng: &mut SeededRng| (0..n).map(|_| rng.uniform_in(-b, b) as f32).collect();
        Ok(match *self {
            Init::Zeros => vec![0.0; n],
            Init::Constant(c) => vec![c; n],
            Init::Normal { std } => normal(std as f64, rng),
            Init::Uniform { bound } => uniform(bound as f64, rng),
            Init::XavierNormal { gain } => {
                let (fi, fo) = fans(shape, "Xavier")?;
                normal(gain as f64 * (2.0 / (fi + fo) as f64).sqrt(), rng)
            }
            Init::XavierUniform { gain } => {
                let (fi, fo) = fans(shape, "Xavier")?;
                uniform(gain as f64 * (6.0 / (fi + fo) as f64).sqrt(), rng)
            }
            Init::LeCunNormal => normal(1.0 / (fans(shape, "LeCun")?.0 as f64).sqrt(), rng),
            Init::KaimingNormal { gain } => normal(gain as f64 / (fans(shape, "Kaiming")?.0 as f64).sqrt(), rng),
            Init::KaimingUniform { gain } => uniform(gain as f64 * (3.0 / fans(shape, "Kaiming")?.0 as f64).sqrt(), rng),
        })
    }

    /// Same as [`Init::sample`] with a fresh generator from `seed`.
    pub fn seeded(&self, shape: &[usize], seed: u64) -> Result<Vec<f32>, InitError> {
        self.sample(shape, &mut SeededRng::new(seed))
    }
}

/// (fan_in, fan_out) of a weight `[out, in, k...]`.
pub fn fans(shape: &[usize], init: &'static str) -> Result<(usize, usize), InitError> {
    let [out, inp, k @ ..] = shape else {
        return Err(InitError::NeedsFans { init, shape: shape.to_vec() });
    };
    let r: usize = k.iter().product();
    let (fi, fo) = (inp * r, out * r);
    if fi == 0 || fo == 0 {
        return Err(InitError::ZeroFan(shape.to_vec()));
    }
    Ok((fi, fo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_and_max(v: &[f32]) -> (f64, f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        let max = v.iter().map(|&x| (x as f64).abs()).fold(0.0, f64::max);
        (mean, var.sqrt(), max)
    }

    fn check(init: Init, shape: &[usize], want_std: f64, bound: Option<f64>) {
        let v = init.seeded(shape, 42).unwrap();
        assert_eq!(v.len(), shape.iter().product::<usize>());
        let (mean, std, max) = std_and_max(&v);
        assert!(mean.abs() < 0.02 * want_std, "{init:?}: mean {mean}");
        assert!((std / want_std - 1.0).abs() < 0.01, "{init:?}: std {std} vs {want_std}");
        if let Some(b) = bound {
            assert!(max <= b && max > 0.99 * b, "{init:?}: max {max} vs bound {b}");
        }
    }

    #[test]
    fn empirical_std_matches_formula() {
        // Conv weight [64, 32, 3, 3]: fan_in = 288, fan_out = 576 (184,320 values).
        let s = [64, 32, 3, 3];
        check(Init::SMALL, &s, 0.01, None);
        check(Init::XAVIER_NORMAL, &s, (2.0f64 / 864.0).sqrt(), None);
        // Uniform on [-b, b] has std b / sqrt(3).
        let b = (6.0f64 / 864.0).sqrt();
        check(Init::XAVIER_UNIFORM, &s, b / 3f64.sqrt(), Some(b));
        check(Init::LeCunNormal, &s, 1.0 / 288f64.sqrt(), None);
        check(Init::KAIMING_RELU, &s, (2.0f64 / 288.0).sqrt(), None);
        let b = (6.0f64 / 288.0).sqrt();
        check(Init::KAIMING_RELU_UNIFORM, &s, b / 3f64.sqrt(), Some(b));
        // Linear weight [300, 784]: fan_in 784, fan_out 300.
        check(Init::XavierNormal { gain: 2.0 }, &[300, 784], 2.0 * (2.0f64 / 1084.0).sqrt(), None);
    }

    #[test]
    fn seeded_and_checked() {
        let a = Init::KAIMING_RELU.seeded(&[10, 10], 1).unwrap();
        assert_eq!(a, Init::KAIMING_RELU.seeded(&[10, 10], 1).unwrap());
        assert_ne!(a, Init::KAIMING_RELU.seeded(&[10, 10], 2).unwrap());
        assert_eq!(Init::XAVIER_NORMAL.seeded(&[10], 1), Err(InitError::NeedsFans { init: "Xavier", shape: vec![10] }));
        assert_eq!(Init::KAIMING_RELU.seeded(&[0, 3], 1), Err(InitError::ZeroFan(vec![0, 3])));
        assert_eq!(Init::Constant(0.5).seeded(&[3], 1).unwrap(), vec![0.5; 3]);
        assert_eq!(Init::SMALL.seeded(&[3], 1).unwrap().len(), 3);
    }
}
