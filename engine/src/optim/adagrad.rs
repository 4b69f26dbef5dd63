//! AdaGrad: `grad_squared += dw * dw; w -= lr * dw / (sqrt(grad_squared) + eps)`.

use super::rule::{Optim, Rule};
use super::{OptimError, check_positive};

#[derive(Clone, Debug)]
pub struct AdaGradRule {
    pub eps: f32,
}

pub type AdaGrad = Optim<AdaGradRule>;

impl AdaGrad {
    /// eps = 1e-7 as on the lecture slide.
    pub fn new(lr: f32) -> Self {
        Optim::with_rule(AdaGradRule { eps: 1e-7 }, lr)
    }
}

impl Rule for AdaGradRule {
    const KIND: &'static str = "adagrad";
    const SLOTS: &'static [&'static str] = &["grad_squared"];

    fn validate(&self) -> Result<(), OptimError> {
        check_positive("eps", self.eps)
    }

    fn update(&self, _t: u64, lr: f32, w: &mut [f32], g: &[f32], bufs: &mut [&mut [f32]]) {
        let [gs] = bufs else { return };
        for ((w, g), s) in w.iter_mut().zip(g).zip(gs.iter_mut()) {
            *s += g * g;
            *w -= lr * g / (s.sqrt() + self.eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testutil::*;

    #[test]
    fn hand_worked_steps() {
        // lr = 0.1, w0 = [1, -2]; element 0:
        // g1 = 0.5: gs = 0.25, sqrt = 0.5;  w = 1 - 0.1 * 0.5 / 0.5 = 0.9
        // g2 = 0.2: gs = 0.29, sqrt = 0.5385165; w = 0.9 - 0.02 / 0.5385165 = 0.8628610
        // element 1: g1 = -1: gs = 1, w = -1.9; g2 = 0.4: gs = 1.16, sqrt = 1.0770330,
        //            w = -1.9 - 0.04 / 1.0770330 = -1.9371391
        let w = run(&mut AdaGrad::new(0.1), &[1.0, -2.0], &[&[0.5, -1.0], &[0.2, 0.4]]);
        assert_close(&w[0], &[0.9, -1.9], 1e-6);
        assert_close(&w[1], &[0.862861, -1.9371391], 1e-6);
    }

    #[test]
    fn converges_and_resumes() {
        converges_on_quadratic(&mut AdaGrad::new(1.0), 2000, 1e-3);
        state_round_trip(&mut AdaGrad::new(0.1), &mut AdaGrad::new(0.1));
    }
}
