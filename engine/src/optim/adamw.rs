//! AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the
//! gradient, `w -= lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w)`,
//! instead of adding an L2 term to the loss (which Adam would rescale).

use super::OptimError;
use super::adam::AdamRule;
use super::rule::{Optim, Rule};

#[derive(Clone, Debug)]
pub struct AdamWRule(pub AdamRule);

pub type AdamW = Optim<AdamWRule>;

impl AdamW {
    pub fn new(lr: f32, weight_decay: f32) -> Self {
        Optim::with_rule(AdamWRule(AdamRule { weight_decay, ..AdamRule::default() }), lr)
    }
}

impl Rule for AdamWRule {
    const KIND: &'static str = "adamw";
    const SLOTS: &'static [&'static str] = &["m", "v"];

    fn validate(&self) -> Result<(), OptimError> {
        self.0.check()
    }

    fn update(&self, t: u64, lr: f32, w: &mut [f32], g: &[f32], bufs: &mut [&mut [f32]]) {
        self.0.apply(t, lr, w, g, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testutil::*;

    #[test]
    fn hand_worked_steps() {
        // As Adam's test (lr = 0.1) plus lr * 0.1 * w; element 0:
        // t=1: w = 1 - 0.1 * (0.5/0.5 + 0.1 * 1) = 0.89
        // t=2: adam term 0.3421053/0.3807198 = 0.8985745;
        //      w = 0.89 - 0.1 * (0.8985745 + 0.089) = 0.7912425
        // element 1: t=1: w = -2 - 0.1 * (-1 - 0.2) = -1.88
        //      t=2: adam term -0.2631579/0.7614393 = -0.3456056;
        //      w = -1.88 - 0.1 * (-0.3456056 - 0.188) = -1.8266394
        let w = run(&mut AdamW::new(0.1, 0.1), &[1.0, -2.0], &[&[0.5, -1.0], &[0.2, 0.4]]);
        assert_close(&w[0], &[0.89, -1.88], 1e-6);
        assert_close(&w[1], &[0.7912425, -1.8266394], 1e-6);
    }

    #[test]
    fn converges_and_resumes() {
        // With decay the optimum shifts from c to a*c/(a + wd) per coordinate;
        // a tiny decay keeps it within the tolerance.
        converges_on_quadratic(&mut AdamW::new(0.01, 1e-4), 3000, 2e-2);
        state_round_trip(&mut AdamW::new(0.1, 0.01), &mut AdamW::new(0.1, 0.01));
        assert!(AdamW::new(0.1, -1.0).step(&mut param(&[1.0])).is_err());
    }
}
