//! Linear classifiers s = W x + b with the multiclass SVM (hinge) or the
//! softmax (cross-entropy) loss and L2, L1 or elastic-net regularization,
//! trained by mini-batch SGD. Gradients are closed-form (this is the model
//! whose gradient one derives by hand); tests check them against finite
//! differences. `W` is `[classes, features]`, so row c is the template of
//! class c.

use crate::data::{DataError, Dataset};
use crate::rng::SeededRng;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// sum over j != y of max(0, s_j - s_y + margin).
    Svm { margin: f32 },
    /// -log softmax(s)_y.
    Softmax,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reg {
    /// sum w^2.
    L2,
    /// sum |w|.
    L1,
    /// l1_ratio * sum |w| + (1 - l1_ratio) * sum w^2.
    Elastic { l1_ratio: f32 },
}

impl Reg {
    /// Penalty of one weight and its derivative (sign(0) = 0).
    fn of(self, w: f32) -> (f32, f32) {
        let (a, l2) = match self {
            Reg::L2 => (0.0, 1.0),
            Reg::L1 => (1.0, 0.0),
            Reg::Elastic { l1_ratio } => (l1_ratio, 1.0 - l1_ratio),
        };
        let sign = if w > 0.0 {
            1.0
        } else if w < 0.0 {
            -1.0
        } else {
            0.0
        };
        (a * w.abs() + l2 * w * w, a * sign + 2.0 * l2 * w)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LinearError {
    #[error("sample has {got} features, the classifier takes {want}")]
    Features { got: usize, want: usize },
    #[error("label {label} is not below {classes} classes")]
    Label { label: usize, classes: usize },
    #[error("loss became {0} (learning rate too large?)")]
    Diverged(f32),
    #[error(transparent)]
    Data(#[from] DataError),
}

/// The loss of a batch split into its two terms, and the gradients of
/// their sum.
#[derive(Clone, Debug, PartialEq)]
pub struct LossGrad {
    pub data_loss: f32,
    pub reg_loss: f32,
    pub correct: usize,
    pub dw: Vec<f32>,
    pub db: Vec<f32>,
}

impl LossGrad {
    pub fn total(&self) -> f32 {
        self.data_loss + self.reg_loss
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LinearClassifier {
    pub features: usize,
    pub classes: usize,
    /// `[classes, features]` row-major.
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

impl LinearClassifier {
    /// Small random weights N(0, 0.01^2) (as in CS231n), zero biases.
    pub fn new(features: usize, classes: usize, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        let w = (0..features * classes).map(|_| 0.01 * rng.normal() as f32).collect();
        LinearClassifier { features, classes, w, b: vec![0.0; classes] }
    }

    /// Class scores of one sample.
    pub fn scores(&self, x: &[f32]) -> Result<Vec<f32>, LinearError> {
        if x.len() != self.features {
            return Err(LinearError::Features { got: x.len(), want: self.features });
        }
        Ok(self.w.chunks(self.features).zip(&self.b).map(|(row, b)| row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>() + b).collect())
    }

    pub fn predict(&self, x: &[f32]) -> Result<usize, LinearError> {
        Ok(argmax(&self.scores(x)?))
    }

    /// Mean data loss over the samples of `x` (`[n, features]`), plus
    /// `strength` times the penalty of W (biases are not regularized), and
    /// the gradients of that total.
    pub fn loss_grad(&self, x: &[f32], y: &[usize], loss: Loss, reg: Reg, strength: f32) -> Result<LossGrad, LinearError> {
        if x.len() != y.len() * self.features {
            return Err(LinearError::Features { got: x.len() / y.len().max(1), want: self.features });
        }
        let (c, d) = (self.classes, self.features);
        let mut dw = vec![0.0; c * d];
        let mut db = vec![0.0; c];
        let (mut data_loss, mut correct) = (0.0f64, 0);
        let inv = 1.0 / y.len().max(1) as f32;
        let mut ds = vec![0.0f32; c];
        for (xi, &yi) in x.chunks(d.max(1)).zip(y) {
            if yi >= c {
                return Err(LinearError::Label { label: yi, classes: c });
            }
            let s = self.scores(xi)?;
            correct += usize::from(argmax(&s) == yi);
            // ds = d(loss of this sample)/d(scores)
            match loss {
                Loss::Svm { margin } => {
                    ds.iter_mut().for_each(|v| *v = 0.0);
                    for j in (0..c).filter(|&j| j != yi) {
                        let m = s[j] - s[yi] + margin;
                        if m > 0.0 {
                            data_loss += m as f64;
                            ds[j] += 1.0;
                            ds[yi] -= 1.0;
                        }
                    }
                }
                Loss::Softmax => {
                    let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let z: f32 = s.iter().map(|v| (v - max).exp()).sum();
                    data_loss += (z.ln() + max - s[yi]) as f64;
                    for (j, v) in ds.iter_mut().enumerate() {
                        *v = (s[j] - max).exp() / z - f32::from(j == yi);
                    }
                }
            }
            for (j, &g) in ds.iter().enumerate().filter(|(_, g)| **g != 0.0) {
                let g = g * inv;
                db[j] += g;
                for (w, v) in dw[j * d..(j + 1) * d].iter_mut().zip(xi) {
                    *w += g * v;
                }
            }
        }
        let mut reg_loss = 0.0f64;
        for (g, &w) in dw.iter_mut().zip(&self.w) {
            let (p, dp) = reg.of(w);
            reg_loss += p as f64;
            *g += strength * dp;
        }
        Ok(LossGrad { data_loss: (data_loss * inv as f64) as f32, reg_loss: strength * reg_loss as f32, correct, dw, db })
    }

    /// Fraction of `data` classified right.
    pub fn accuracy(&self, data: &Dataset) -> Result<f32, LinearError> {
        let mut right = 0;
        for (x, &y) in data.x().chunks(data.sample_len()).zip(data.y()) {
            right += usize::from(self.predict(x)? == y);
        }
        Ok(right as f32 / data.len().max(1) as f32)
    }

    /// Row `c` of W: the template of class c.
    pub fn template(&self, c: usize) -> Option<&[f32]> {
        self.w.get(c * self.features..(c + 1) * self.features)
    }
}

fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i)
}

/// Settings of an SGD run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearConfig {
    pub loss: Loss,
    pub reg: Reg,
    pub strength: f32,
    pub lr: f32,
    pub batch: usize,
    pub seed: u64,
}

/// Mini-batch SGD over a dataset, one step at a time (a lab calls `step`
/// from its worker and reports between steps).
pub struct LinearTrainer {
    pub model: LinearClassifier,
    pub config: LinearConfig,
    pub step: usize,
    epoch: u64,
    order: Vec<usize>,
    pos: usize,
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepInfo {
    pub step: usize,
    pub epoch: u64,
    pub data_loss: f32,
    pub reg_loss: f32,
    /// Accuracy on this batch.
    pub batch_acc: f32,
}

impl LinearTrainer {
    pub fn new(data: &Dataset, config: LinearConfig) -> Self {
        let model = LinearClassifier::new(data.sample_len(), data.num_classes(), config.seed);
        LinearTrainer { model, config, step: 0, epoch: 0, order: Vec::new(), pos: 0 }
    }

    /// One SGD step on the next mini-batch (reshuffled each epoch).
    pub fn step(&mut self, data: &Dataset) -> Result<StepInfo, LinearError> {
        let bs = self.config.batch.max(1);
        if self.pos >= self.order.len() {
            if !self.order.is_empty() {
                self.epoch += 1;
            }
            self.order = SeededRng::stream(self.config.seed, self.epoch).permutation(data.len());
            self.pos = 0;
        }
        let end = (self.pos + bs).min(self.order.len());
        let batch = data.batch(&self.order[self.pos..end])?;
        self.pos = end;
        let c = self.config;
        let g = self.model.loss_grad(&batch.x, &batch.y, c.loss, c.reg, c.strength)?;
        if !g.total().is_finite() {
            return Err(LinearError::Diverged(g.total()));
        }
        for (w, d) in self.model.w.iter_mut().zip(&g.dw) {
            *w -= c.lr * d;
        }
        for (b, d) in self.model.b.iter_mut().zip(&g.db) {
            *b -= c.lr * d;
        }
        self.step += 1;
        Ok(StepInfo { step: self.step, epoch: self.epoch, data_loss: g.data_loss, reg_loss: g.reg_loss, batch_acc: g.correct as f32 / batch.len().max(1) as f32 })
    }
}

/// A 2-feature classifier's line w_c . x + b_c = 0 as two points inside
/// the square [-extent, extent]^2, if it crosses it.
pub fn hyperplane_segment(w: [f32; 2], b: f32, extent: f32) -> Option<([f32; 2], [f32; 2])> {
    let mut pts: Vec<[f32; 2]> = Vec::new();
    let e = extent;
    // intersections with the four sides
    if w[1].abs() > 1e-12 {
        for x in [-e, e] {
            let y = -(w[0] * x + b) / w[1];
            if (-e..=e).contains(&y) {
                pts.push([x, y]);
            }
        }
    }
    if w[0].abs() > 1e-12 {
        for y in [-e, e] {
            let x = -(w[1] * y + b) / w[0];
            if (-e..=e).contains(&x) {
                pts.push([x, y]);
            }
        }
    }
    // a line through a corner meets two sides there: keep the farthest pair
    let a = *pts.first()?;
    let dist = |p: &[f32; 2]| (p[0] - a[0]).powi(2) + (p[1] - a[1]).powi(2);
    let b = *pts.iter().max_by(|p, q| dist(p).total_cmp(&dist(q)))?;
    (dist(&b) > 1e-12).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> LinearClassifier {
        let mut m = LinearClassifier::new(4, 3, 5);
        // larger weights so margins and L1 kinks are away from zero
        m.w.iter_mut().enumerate().for_each(|(i, w)| *w = 0.3 * ((i * 7 % 11) as f32 - 5.0) + 0.05);
        m.b = vec![0.1, -0.2, 0.05];
        m
    }

    const X: [f32; 12] = [0.5, -1.0, 2.0, 0.3, 1.5, 0.2, -0.7, 1.1, -0.4, 0.9, 0.6, -1.3];
    const Y: [usize; 3] = [2, 0, 1];

    /// Central differences of the total loss against the analytic gradient.
    fn check(loss: Loss, reg: Reg) {
        let m = model();
        let g = m.loss_grad(&X, &Y, loss, reg, 0.1).unwrap();
        let total = |m: &LinearClassifier| m.loss_grad(&X, &Y, loss, reg, 0.1).unwrap().total() as f64;
        let h = 1e-3;
        for i in 0..m.w.len() + m.b.len() {
            let mut p = m.clone();
            let mut q = m.clone();
            let (pv, qv) = if i < m.w.len() { (&mut p.w[i], &mut q.w[i]) } else { (&mut p.b[i - m.w.len()], &mut q.b[i - m.w.len()]) };
            *pv += h;
            *qv -= h;
            let fd = (total(&p) - total(&q)) / (2.0 * h as f64);
            let an = if i < m.w.len() { g.dw[i] } else { g.db[i - m.w.len()] } as f64;
            assert!((fd - an).abs() < 2e-3 * (1.0 + fd.abs()), "{loss:?} {reg:?} param {i}: fd {fd} analytic {an}");
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        for loss in [Loss::Svm { margin: 1.0 }, Loss::Softmax] {
            for reg in [Reg::L2, Reg::L1, Reg::Elastic { l1_ratio: 0.3 }] {
                check(loss, reg);
            }
        }
    }

    #[test]
    fn losses_by_hand() {
        // 2 features, 3 classes, W = I-ish: scores of x = (1, 2) are (1, 2, 0) + b
        let m = LinearClassifier { features: 2, classes: 3, w: vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0], b: vec![0.0, 0.0, 0.5] };
        assert_eq!(m.scores(&[1.0, 2.0]).unwrap(), vec![1.0, 2.0, 0.5]);
        // SVM, y = 0: max(0, 2 - 1 + 1) + max(0, 0.5 - 1 + 1) = 2.5
        let g = m.loss_grad(&[1.0, 2.0], &[0], Loss::Svm { margin: 1.0 }, Reg::L2, 0.0).unwrap();
        assert_eq!((g.data_loss, g.correct), (2.5, 0));
        assert_eq!(g.db, vec![-2.0, 1.0, 1.0]);
        // softmax, y = 1: log(e^1 + e^2 + e^0.5) - 2
        let g = m.loss_grad(&[1.0, 2.0], &[1], Loss::Softmax, Reg::L2, 0.0).unwrap();
        let want = (1f32.exp() + 2f32.exp() + 0.5f32.exp()).ln() - 2.0;
        assert!((g.data_loss - want).abs() < 1e-6 && g.correct == 1);
        // penalties: L2 sum w^2 = 2, L1 sum |w| = 2, elastic 0.5 -> 2
        for (reg, want) in [(Reg::L2, 2.0), (Reg::L1, 2.0), (Reg::Elastic { l1_ratio: 0.5 }, 2.0)] {
            assert_eq!(m.loss_grad(&[1.0, 2.0], &[1], Loss::Softmax, reg, 0.5).unwrap().reg_loss, 0.5 * want);
        }
        let m2 = LinearClassifier { w: vec![-2.0, 0.0, 0.0, 0.0, 0.0, 0.0], ..m.clone() };
        let g = m2.loss_grad(&[0.0, 0.0], &[0], Loss::Svm { margin: 1.0 }, Reg::Elastic { l1_ratio: 0.25 }, 1.0).unwrap();
        // 0.25 * 2 + 0.75 * 4 = 3.5; d/dw = 0.25 * -1 + 0.75 * 2 * -2 = -3.25 (data part 0: x = 0)
        assert_eq!((g.reg_loss, g.dw[0]), (3.5, -3.25));
        assert!(matches!(m.scores(&[1.0]), Err(LinearError::Features { got: 1, want: 2 })));
        assert!(matches!(m.loss_grad(&[1.0, 2.0], &[3], Loss::Softmax, Reg::L2, 0.0), Err(LinearError::Label { label: 3, .. })));
    }

    #[test]
    fn sgd_learns_gaussian_blobs_and_is_seeded() {
        let data = crate::data::toy2d::blobs(crate::data::toy2d::Toy { per_class: 100, noise: 0.4, seed: 2 }, 3).unwrap();
        for loss in [Loss::Svm { margin: 1.0 }, Loss::Softmax] {
            let cfg = LinearConfig { loss, reg: Reg::L2, strength: 1e-3, lr: 0.1, batch: 32, seed: 4 };
            let mut t = LinearTrainer::new(&data, cfg);
            let first = t.step(&data).unwrap();
            let mut last = first;
            for _ in 0..300 {
                last = t.step(&data).unwrap();
            }
            assert!(last.data_loss < 0.2 * first.data_loss, "{loss:?}: {first:?} -> {last:?}");
            assert!(t.model.accuracy(&data).unwrap() > 0.97, "{loss:?}");
            assert!(last.epoch >= 30);
            let mut again = LinearTrainer::new(&data, cfg);
            for _ in 0..301 {
                again.step(&data).unwrap();
            }
            assert_eq!(again.model, t.model);
        }
        // each step multiplies W by 1 - 2 * lr * strength = -19
        let cfg = LinearConfig { loss: Loss::Softmax, reg: Reg::L2, strength: 1.0, lr: 10.0, batch: 8, seed: 1 };
        let mut t = LinearTrainer::new(&data, cfg);
        let diverged = (0..100).map(|_| t.step(&data)).find_map(Result::err);
        assert!(matches!(diverged, Some(LinearError::Diverged(_))), "{diverged:?}");
    }

    #[test]
    fn hyperplane_segments_clip_to_the_square() {
        // x = 0.5: vertical line from (0.5, -1) to (0.5, 1)
        let (a, b) = hyperplane_segment([1.0, 0.0], -0.5, 1.0).unwrap();
        assert_eq!((a, b), ([0.5, -1.0], [0.5, 1.0]));
        // x + y = 0 through the corners
        let (a, b) = hyperplane_segment([1.0, 1.0], 0.0, 1.0).unwrap();
        assert_eq!((a, b), ([-1.0, 1.0], [1.0, -1.0]));
        assert!(hyperplane_segment([1.0, 0.0], -5.0, 1.0).is_none());
        assert!(hyperplane_segment([0.0, 0.0], 1.0, 1.0).is_none());
    }
}
