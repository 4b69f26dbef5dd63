//! Adam with bias correction, as in the lecture:
//! ```text
//! m = beta1 * m + (1 - beta1) * dw
//! v = beta2 * v + (1 - beta2) * dw * dw
//! m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t)
//! w -= lr * m_hat / (sqrt(v_hat) + eps)
//! ```

use super::rule::{Optim, Rule};
use super::{OptimError, check_positive, check_unit};

#[derive(Clone, Debug)]
pub struct AdamRule {
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// Decoupled weight decay (AdamW); 0 for plain Adam.
    pub weight_decay: f32,
}

pub type Adam = Optim<AdamRule>;

impl Default for AdamRule {
    /// beta1 = 0.9, beta2 = 0.999, eps = 1e-8 (the lecture's "good default").
    fn default() -> Self {
        AdamRule { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

impl Adam {
    pub fn new(lr: f32) -> Self {
        Optim::with_rule(AdamRule::default(), lr)
    }

    pub fn betas(mut self, beta1: f32, beta2: f32) -> Self {
        self.rule.beta1 = beta1;
        self.rule.beta2 = beta2;
        self
    }
}

impl AdamRule {
    pub(crate) fn check(&self) -> Result<(), OptimError> {
        check_unit("beta1", self.beta1)?;
        check_unit("beta2", self.beta2)?;
        check_positive("eps", self.eps)?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(OptimError::BadHyper(format!("weight decay must be >= 0, got {}", self.weight_decay)));
        }
        Ok(())
    }

    /// The Adam step plus `lr * weight_decay * w` (decoupled decay, applied
    /// to the weights before this step).
    pub(crate) fn apply(&self, t: u64, lr: f32, w: &mut [f32], g: &[f32], bufs: &mut [&mut [f32]]) {
        let [m, v] = bufs else { return };
        let (b1, b2) = (self.beta1, self.beta2);
        // Bias corrections in f64: beta^t for large t underflows gracefully.
        let t = t.min(i32::MAX as u64) as i32;
        let c1 = (1.0 - (b1 as f64).powi(t)) as f32;
        let c2 = (1.0 - (b2 as f64).powi(t)) as f32;
        for (((w, g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            let m_hat = *m / c1;
            let v_hat = *v / c2;
            *w -= lr * (m_hat / (v_hat.sqrt() + self.eps) + self.weight_decay * *w);
        }
    }
}

impl Rule for AdamRule {
    const KIND: &'static str = "adam";
    const SLOTS: &'static [&'static str] = &["m", "v"];

    fn validate(&self) -> Result<(), OptimError> {
        self.check()?;
        if self.weight_decay != 0.0 {
            return Err(OptimError::BadHyper("Adam has no weight decay: use AdamW, or L2 in the regularizer".into()));
        }
        Ok(())
    }

    fn update(&self, t: u64, lr: f32, w: &mut [f32], g: &[f32], bufs: &mut [&mut [f32]]) {
        self.apply(t, lr, w, g, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testutil::*;

    #[test]
    fn hand_worked_steps() {
        // lr = 0.1, beta1 = 0.9, beta2 = 0.999, w0 = [1, -2]; element 0:
        // t=1, g = 0.5: m = 0.05, v = 0.00025; m_hat = 0.05/0.1 = 0.5,
        //      v_hat = 0.00025/0.001 = 0.25; w = 1 - 0.1 * 0.5/0.5 = 0.9
        // t=2, g = 0.2: m = 0.045 + 0.02 = 0.065, v = 0.00024975 + 0.00004 = 0.00028975
        //      m_hat = 0.065/0.19 = 0.3421053, v_hat = 0.00028975/0.001999 = 0.1449475,
        //      sqrt = 0.3807198; w = 0.9 - 0.1 * 0.3421053/0.3807198 = 0.8101425
        // element 1: t=1 moves by -lr*sign(g) = +0.1 -> -1.9;
        //      t=2, g = 0.4: m = -0.09 + 0.04 = -0.05, v = 0.000999 + 0.00016 = 0.001159
        //      m_hat = -0.2631579, v_hat = 0.5797899, sqrt = 0.7614393; w = -1.8654394
        let w = run(&mut Adam::new(0.1), &[1.0, -2.0], &[&[0.5, -1.0], &[0.2, 0.4]]);
        assert_close(&w[0], &[0.9, -1.9], 1e-6);
        assert_close(&w[1], &[0.8101425, -1.8654394], 1e-6);
    }

    #[test]
    fn converges_and_resumes() {
        // Adam's steps are about lr in size near the optimum too.
        converges_on_quadratic(&mut Adam::new(0.01), 3000, 1e-2);
        state_round_trip(&mut Adam::new(0.1), &mut Adam::new(0.1));
        assert!(Adam::new(0.1).betas(1.0, 0.999).step(&mut param(&[1.0])).is_err());
    }
}
