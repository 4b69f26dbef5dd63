//! SGD with momentum, as in the lecture: `v = rho * v + dw; w -= lr * v`.

use super::rule::{Optim, Rule};
use super::{OptimError, check_unit};

#[derive(Clone, Debug)]
pub struct MomentumRule {
    pub rho: f32,
}

pub type Momentum = Optim<MomentumRule>;

impl Momentum {
    /// `rho` is typically 0.9 or 0.99.
    pub fn new(lr: f32, rho: f32) -> Self {
        Optim::with_rule(MomentumRule { rho }, lr)
    }
}

impl Rule for MomentumRule {
    const KIND: &'static str = "momentum";
    const SLOTS: &'static [&'static str] = &["v"];

    fn validate(&self) -> Result<(), OptimError> {
        check_unit("rho", self.rho)
    }

    fn update(&self, _t: u64, lr: f32, w: &mut [f32], g: &[f32], bufs: &mut [&mut [f32]]) {
        let [v] = bufs else { return };
        for ((w, g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
            *v = self.rho * *v + g;
            *w -= lr * *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testutil::*;

    #[test]
    fn hand_worked_steps() {
        // lr = 0.1, rho = 0.9, w0 = [1, -2], v0 = 0
        // g1 = [0.5, -1]: v = [0.5, -1];                       w = [0.95, -1.9]
        // g2 = [0.2, 0.4]: v = [0.45 + 0.2, -0.9 + 0.4] = [0.65, -0.5]; w = [0.885, -1.85]
        // g3 = [-0.1, 0.3]: v = [0.585 - 0.1, -0.45 + 0.3] = [0.485, -0.15]; w = [0.8365, -1.835]
        let w = run(&mut Momentum::new(0.1, 0.9), &[1.0, -2.0], &[&[0.5, -1.0], &[0.2, 0.4], &[-0.1, 0.3]]);
        assert_close(&w[0], &[0.95, -1.9], 1e-6);
        assert_close(&w[1], &[0.885, -1.85], 1e-6);
        assert_close(&w[2], &[0.8365, -1.835], 1e-6);
    }

    #[test]
    fn converges_and_resumes() {
        converges_on_quadratic(&mut Momentum::new(0.02, 0.9), 1000, 1e-3);
        state_round_trip(&mut Momentum::new(0.1, 0.9), &mut Momentum::new(0.1, 0.9));
        assert!(Momentum::new(0.1, 1.5).step(&mut param(&[1.0])).is_err());
    }
}
