//! Nesterov momentum in the lecture's change of variables (the gradient is
//! taken at the current point, not at the look-ahead point):
//! ```text
//! old_v = v
//! v = rho * v - lr * dw
//! w -= rho * old_v - (1 + rho) * v
//! ```
//! The velocity holds `lr` inside it, as on the slide.

use super::rule::{Optim, Rule};
use super::{OptimError, check_unit};

#[derive(Clone, Debug)]
pub struct NesterovRule {
    pub rho: f32,
}

pub type Nesterov = Optim<NesterovRule>;

impl Nesterov {
    pub fn new(lr: f32, rho: f32) -> Self {
        Optim::with_rule(NesterovRule { rho }, lr)
    }
}

impl Rule for NesterovRule {
    const KIND: &'static str = "nesterov";
    const SLOTS: &'static [&'static str] = &["v"];

    fn validate(&self) -> Result<(), OptimError> {
        check_unit("rho", self.rho)
    }

    fn update(&self, _t: u64, lr: f32, w: &mut [f32], g: &[f32], bufs: &mut [&mut [f32]]) {
        let [v] = bufs else { return };
        let rho = self.rho;
        for ((w, g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
            let old_v = *v;
            *v = rho * *v - lr * g;
            *w -= rho * old_v - (1.0 + rho) * *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testutil::*;

    #[test]
    fn hand_worked_steps() {
        // lr = 0.1, rho = 0.9, w0 = [1, -2], v0 = 0; element 0:
        // g1 = 0.5:  v = -0.05;               w = 1 - (0 - 1.9 * -0.05) = 0.905
        // g2 = 0.2:  v = -0.045 - 0.02 = -0.065; w = 0.905 - (-0.045 + 0.1235) = 0.8265
        // g3 = -0.1: v = -0.0585 + 0.01 = -0.0485; w = 0.8265 - (-0.0585 + 0.09215) = 0.79285
        // element 1 (g = -1, 0.4, 0.3): v = 0.1, 0.05, 0.015; w = -1.81, -1.805, -1.8215
        let w = run(&mut Nesterov::new(0.1, 0.9), &[1.0, -2.0], &[&[0.5, -1.0], &[0.2, 0.4], &[-0.1, 0.3]]);
        assert_close(&w[0], &[0.905, -1.81], 1e-6);
        assert_close(&w[1], &[0.8265, -1.805], 1e-6);
        assert_close(&w[2], &[0.79285, -1.8215], 1e-6);
    }

    /// With a constant rate the slide's form equals PyTorch's
    /// (`b = rho b + g; w -= lr (g + rho b)`) under v = -lr b.
    #[test]
    fn equals_the_look_ahead_form() {
        let grads: [&[f32]; 4] = [&[0.5, -1.0], &[0.2, 0.4], &[-0.1, 0.3], &[0.7, 0.05]];
        let ours = run(&mut Nesterov::new(0.1, 0.9), &[1.0, -2.0], &grads);
        let (mut w, mut b) = ([1.0f32, -2.0], [0.0f32; 2]);
        for (g, want) in grads.iter().zip(&ours) {
            for i in 0..2 {
                b[i] = 0.9 * b[i] + g[i];
                w[i] -= 0.1 * (g[i] + 0.9 * b[i]);
            }
            assert_close(want, &w, 1e-6);
        }
    }

    #[test]
    fn converges_and_resumes() {
        converges_on_quadratic(&mut Nesterov::new(0.02, 0.9), 1000, 1e-3);
        state_round_trip(&mut Nesterov::new(0.1, 0.9), &mut Nesterov::new(0.1, 0.9));
    }
}
