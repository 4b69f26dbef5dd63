//! RMSProp ("leaky AdaGrad"):
//! `grad_squared = decay * grad_squared + (1 - decay) * dw * dw;
//!  w -= lr * dw / (sqrt(grad_squared) + eps)`.

use super::rule::{Optim, Rule};
use super::{OptimError, check_positive, check_unit};

#[derive(Clone, Debug)]
pub struct RmsPropRule {
    pub decay: f32,
    pub eps: f32,
}

pub type RmsProp = Optim<RmsPropRule>;

impl RmsProp {
    /// `decay` is typically 0.9 or 0.99; eps = 1e-7 as on the slide.
    pub fn new(lr: f32, decay: f32) -> Self {
        Optim::with_rule(RmsPropRule { decay, eps: 1e-7 }, lr)
    }
}

impl Rule for RmsPropRule {
    const KIND: &'static str = "rmsprop";
    const SLOTS: &'static [&'static str] = &["grad_squared"];

    fn validate(&self) -> Result<(), OptimError> {
        check_unit("decay", self.decay)?;
        check_positive("eps", self.eps)
    }

    fn update(&self, _t: u64, lr: f32, w: &mut [f32], g: &[f32], bufs: &mut [&mut [f32]]) {
        let [gs] = bufs else { return };
        let d = self.decay;
        for ((w, g), s) in w.iter_mut().zip(g).zip(gs.iter_mut()) {
            *s = d * *s + (1.0 - d) * g * g;
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
        // lr = 0.1, decay = 0.9, w0 = [1, -2]; element 0:
        // g1 = 0.5: gs = 0.1 * 0.25 = 0.025, sqrt = 0.1581139; w = 1 - 0.05 / 0.1581139 = 0.6837722
        // g2 = 0.2: gs = 0.0225 + 0.004 = 0.0265, sqrt = 0.1627882;
        //           w = 0.6837722 - 0.02 / 0.1627882 = 0.5609135
        // element 1: g1 = -1: gs = 0.1, w = -2 + 0.1 / 0.3162278 = -1.6837722
        //            g2 = 0.4: gs = 0.09 + 0.016 = 0.106, sqrt = 0.3255764,
        //            w = -1.6837722 - 0.04 / 0.3255764 = -1.8066313
        let w = run(&mut RmsProp::new(0.1, 0.9), &[1.0, -2.0], &[&[0.5, -1.0], &[0.2, 0.4]]);
        assert_close(&w[0], &[0.6837722, -1.6837722], 1e-6);
        assert_close(&w[1], &[0.5609135, -1.8066313], 1e-6);
    }

    #[test]
    fn converges_and_resumes() {
        // RMSProp's step size does not shrink with the gradient: it hovers
        // within about lr of the optimum, hence the small rate.
        converges_on_quadratic(&mut RmsProp::new(0.01, 0.9), 1000, 0.02);
        state_round_trip(&mut RmsProp::new(0.1, 0.9), &mut RmsProp::new(0.1, 0.9));
    }
}
