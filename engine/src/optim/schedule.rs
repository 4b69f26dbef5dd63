//! Learning-rate schedules (lecture 11 of EECS 498), each with an optional
//! linear warmup. `step` counts updates from 0; `total` is the number of
//! updates in the whole run (the trainer passes epochs * batches).
//!
//! With `warmup = W > 0`, steps `0..W` use `base * (step + 1) / W`; the decay
//! then runs on `s = step - W` over `T = total - W` steps:
//! - constant: `base`
//! - step: `base * gamma^floor(s / every)`
//! - cosine: `base / 2 * (1 + cos(pi s / T))`
//! - linear: `base * (1 - s / T)`
//! - inverse sqrt: `base * sqrt(max(W, 1) / (step + 1))`, i.e. `base / sqrt(t)`
//!   with 1-based `t` without warmup, continuous at the end of warmup.

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decay {
    Constant,
    Step { every: usize, gamma: f32 },
    Cosine,
    Linear,
    InverseSqrt,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    pub base_lr: f32,
    pub decay: Decay,
    pub warmup: usize,
}

impl Schedule {
    pub fn constant(base_lr: f32) -> Self {
        Schedule { base_lr, decay: Decay::Constant, warmup: 0 }
    }

    pub fn new(base_lr: f32, decay: Decay) -> Self {
        Schedule { base_lr, decay, warmup: 0 }
    }

    pub fn with_warmup(mut self, steps: usize) -> Self {
        self.warmup = steps;
        self
    }

    pub fn lr_at(&self, step: usize, total: usize) -> f32 {
        let base = self.base_lr as f64;
        let w = self.warmup;
        if step < w {
            return (base * (step + 1) as f64 / w as f64) as f32;
        }
        let s = (step - w) as f64;
        let horizon = total.saturating_sub(w).max(1) as f64;
        let lr = match self.decay {
            Decay::Constant => base,
            Decay::Step { every, gamma } => base * (gamma as f64).powi((s as usize / every.max(1)).min(i32::MAX as usize) as i32),
            Decay::Cosine => base * 0.5 * (1.0 + (std::f64::consts::PI * (s / horizon).min(1.0)).cos()),
            Decay::Linear => base * (1.0 - s / horizon).max(0.0),
            Decay::InverseSqrt => base * (w.max(1) as f64 / (step + 1) as f64).sqrt(),
        };
        lr as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lrs(s: Schedule, total: usize, steps: &[usize]) -> Vec<f32> {
        steps.iter().map(|&t| s.lr_at(t, total)).collect()
    }

    fn close(a: &[f32], b: &[f32]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
        }
        assert_eq!(a.len(), b.len());
    }

    #[test]
    fn without_warmup() {
        let steps = [0, 1, 5, 10];
        close(&lrs(Schedule::constant(0.1), 10, &steps), &[0.1; 4]);
        // step: every 2 steps times 0.5: 0.1, 0.1, 0.1 * 0.5^2, 0.1 * 0.5^5
        close(&lrs(Schedule::new(0.1, Decay::Step { every: 2, gamma: 0.5 }), 10, &steps), &[0.1, 0.1, 0.025, 0.003125]);
        // cosine over 10: 0.05 * (1 + cos(0)) = 0.1, 0.05 * (1 + cos(pi/10)) = 0.0975528,
        // 0.05 * (1 + cos(pi/2)) = 0.05, 0.05 * (1 + cos(pi)) = 0
        close(&lrs(Schedule::new(0.1, Decay::Cosine), 10, &steps), &[0.1, 0.0975528, 0.05, 0.0]);
        // linear: 0.1 * (1 - t/10)
        close(&lrs(Schedule::new(0.1, Decay::Linear), 10, &steps), &[0.1, 0.09, 0.05, 0.0]);
        // inverse sqrt: 0.1 / sqrt(t + 1): 0.1, 0.0707107, 0.0408248, 0.0301511
        close(&lrs(Schedule::new(0.1, Decay::InverseSqrt), 10, &steps), &[0.1, 0.0707107, 0.0408248, 0.0301511]);
    }

    #[test]
    fn with_warmup() {
        // warmup 4: 0.025, 0.05, 0.075, 0.1, then the decay from s = 0
        let steps = [0, 1, 2, 3, 4, 8, 14];
        close(&lrs(Schedule::constant(0.1).with_warmup(4), 14, &steps), &[0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.1]);
        // cosine over T = 10 after warmup: s = 0 -> 0.1, s = 4 -> 0.05 (1 + cos(0.4 pi)) = 0.0654508, s = 10 -> 0
        close(&lrs(Schedule::new(0.1, Decay::Cosine).with_warmup(4), 14, &steps), &[0.025, 0.05, 0.075, 0.1, 0.1, 0.0654508, 0.0]);
        // linear: s = 4 -> 0.06
        close(&lrs(Schedule::new(0.1, Decay::Linear).with_warmup(4), 14, &[4, 8, 14]), &[0.1, 0.06, 0.0]);
        // step every 3, gamma 0.1: s = 4 -> 0.01, s = 10 -> 0.0001
        close(&lrs(Schedule::new(0.1, Decay::Step { every: 3, gamma: 0.1 }).with_warmup(4), 14, &[4, 8, 14]), &[0.1, 0.01, 0.0001]);
        // inverse sqrt: 0.1 * sqrt(4 / (t + 1)): t = 3 -> 0.1, t = 8 -> 0.0666667, t = 15 -> 0.05
        close(&lrs(Schedule::new(0.1, Decay::InverseSqrt).with_warmup(4), 16, &[3, 8, 15]), &[0.1, 0.0666667, 0.05]);
    }
}
