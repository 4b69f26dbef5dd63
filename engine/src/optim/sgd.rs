//! Vanilla SGD: `w -= lr * dw`.

use super::OptimError;
use super::rule::{Optim, Rule};

#[derive(Clone, Debug, Default)]
pub struct SgdRule;

pub type Sgd = Optim<SgdRule>;

impl Sgd {
    pub fn new(lr: f32) -> Self {
        Optim::with_rule(SgdRule, lr)
    }
}

impl Rule for SgdRule {
    const KIND: &'static str = "sgd";
    const SLOTS: &'static [&'static str] = &[];

    fn validate(&self) -> Result<(), OptimError> {
        Ok(())
    }

    fn update(&self, _t: u64, lr: f32, w: &mut [f32], g: &[f32], _bufs: &mut [&mut [f32]]) {
        for (w, g) in w.iter_mut().zip(g) {
            *w -= lr * g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testutil::*;

    #[test]
    fn hand_worked_steps() {
        // lr = 0.1, w0 = [1, -2]
        // step 1, g = [0.5, -1]: w = [1 - 0.05, -2 + 0.1] = [0.95, -1.9]
        // step 2, g = [0.2, 0.4]: w = [0.95 - 0.02, -1.9 - 0.04] = [0.93, -1.94]
        let w = run(&mut Sgd::new(0.1), &[1.0, -2.0], &[&[0.5, -1.0], &[0.2, 0.4]]);
        assert_close(&w[0], &[0.95, -1.9], 1e-6);
        assert_close(&w[1], &[0.93, -1.94], 1e-6);
    }

    #[test]
    fn converges_and_resumes() {
        converges_on_quadratic(&mut Sgd::new(0.15), 300, 1e-3);
        state_round_trip(&mut Sgd::new(0.1), &mut Sgd::new(0.5));
    }
}
