//! Regularization added to the data loss, as in the lecture:
//! `L = data_loss + lambda * R(W)` with
//! L2 `R = sum w^2` (gradient `2 lambda w`), L1 `R = sum |w|` (gradient
//! `lambda sign(w)`, 0 at 0), elastic net `R = sum beta w^2 + |w|`.
//! Applied only to selected parameters, by default the weight matrices and
//! conv kernels, not biases or norm scales.

use crate::train::Param;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Penalty {
    L2 {
        lambda: f32,
    },
    L1 {
        lambda: f32,
    },
    /// `lambda * sum(beta * w^2 + |w|)`.
    ElasticNet {
        lambda: f32,
        beta: f32,
    },
}

/// Which parameters are penalized.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    /// Trainable parameters with two or more dims (`*.weight` of linear and
    /// conv layers).
    Weights,
    /// Every trainable parameter.
    All,
    /// Exactly these names.
    Names(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Regularizer {
    pub penalty: Penalty,
    pub selection: Selection,
}

impl Regularizer {
    pub fn new(penalty: Penalty) -> Self {
        Regularizer { penalty, selection: Selection::Weights }
    }

    pub fn selects(&self, p: &Param) -> bool {
        match &self.selection {
            Selection::Weights => p.is_weight_matrix(),
            Selection::All => p.trainable,
            Selection::Names(n) => p.trainable && n.contains(&p.name),
        }
    }

    /// `lambda * R(W)` over the selected parameters (f64 accumulation).
    pub fn loss(&self, params: &[Param]) -> f32 {
        let (l1, l2) = self.coefficients();
        let mut sum = 0.0f64;
        for p in params.iter().filter(|p| self.selects(p)) {
            for &w in &p.value {
                let w = w as f64;
                sum += l1 * w.abs() + l2 * w * w;
            }
        }
        sum as f32
    }

    /// Add `d(lambda R)/dw` to the selected gradients; returns the penalty
    /// (what [`Regularizer::loss`] gives), to be added to the data loss.
    pub fn apply(&self, params: &mut [Param]) -> f32 {
        let loss = self.loss(params);
        let (l1, l2) = self.coefficients();
        let (l1, l2) = (l1 as f32, l2 as f32);
        for p in params.iter_mut() {
            if !self.selects(p) || p.grad.len() != p.value.len() {
                continue;
            }
            for (g, &w) in p.grad.iter_mut().zip(&p.value) {
                let sign = if w > 0.0 {
                    1.0
                } else if w < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                *g += l1 * sign + 2.0 * l2 * w;
            }
        }
        loss
    }

    /// (L1, L2) coefficients of `sum l1 |w| + l2 w^2`.
    fn coefficients(&self) -> (f64, f64) {
        match self.penalty {
            Penalty::L2 { lambda } => (0.0, lambda as f64),
            Penalty::L1 { lambda } => (lambda as f64, 0.0),
            Penalty::ElasticNet { lambda, beta } => (lambda as f64, (lambda * beta) as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<Param> {
        vec![Param::new("fc.weight", vec![1, 2], vec![0.5, -2.0]), Param::new("fc.bias", vec![1], vec![3.0])]
    }

    #[test]
    fn l2_on_weights_only() {
        // 0.1 * (0.25 + 4) = 0.425; grad 2 * 0.1 * w = [0.1, -0.4]; bias untouched
        let mut p = params();
        let r = Regularizer::new(Penalty::L2 { lambda: 0.1 });
        assert!((r.apply(&mut p) - 0.425).abs() < 1e-7);
        assert_eq!(p[0].grad, vec![0.1, -0.4]);
        assert_eq!(p[1].grad, vec![0.0]);
    }

    #[test]
    fn l1_and_elastic_net() {
        // L1, lambda 0.1, all params: 0.1 * (0.5 + 2 + 3) = 0.55; grads 0.1 * sign
        let mut p = params();
        let r = Regularizer { penalty: Penalty::L1 { lambda: 0.1 }, selection: Selection::All };
        assert!((r.apply(&mut p) - 0.55).abs() < 1e-6);
        assert_eq!(p[0].grad, vec![0.1, -0.1]);
        assert_eq!(p[1].grad, vec![0.1]);
        // Elastic net lambda 0.1, beta 0.5 on fc.bias: 0.1 * (0.5 * 9 + 3) = 0.75;
        // grad 0.1 * (2 * 0.5 * 3 + 1) = 0.4
        let mut p = params();
        let r = Regularizer { penalty: Penalty::ElasticNet { lambda: 0.1, beta: 0.5 }, selection: Selection::Names(vec!["fc.bias".into()]) };
        assert!((r.apply(&mut p) - 0.75).abs() < 1e-6);
        assert!((p[1].grad[0] - 0.4).abs() < 1e-6);
        assert_eq!(p[0].grad, vec![0.0, 0.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let r = Regularizer { penalty: Penalty::ElasticNet { lambda: 0.3, beta: 0.7 }, selection: Selection::All };
        let mut p = params();
        r.apply(&mut p);
        for (k, i) in [(0, 0), (0, 1), (1, 0)] {
            let h = 1e-3;
            let mut a = params();
            a[k].value[i] += h;
            let mut b = params();
            b[k].value[i] -= h;
            let fd = (r.loss(&a) - r.loss(&b)) / (2.0 * h);
            assert!((fd - p[k].grad[i]).abs() < 1e-3, "{k},{i}: fd {fd} vs {}", p[k].grad[i]);
        }
    }
}
