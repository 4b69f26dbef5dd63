//! Softmax regression: `scores = x W^T + b`, softmax cross-entropy loss.
//! Backward: `dscores = (softmax - onehot) / n`, `dW = dscores^T x`,
//! `db = sum_i dscores`.

use super::{check_batch, linear, linear_backward, softmax_cross_entropy};
use crate::data::Batch;
use crate::init::{Init, InitError};
use crate::rng::SeededRng;
use crate::train::{Model, ModelError, Param, StepOutput};

pub struct SoftmaxRegression {
    params: Vec<Param>,
    inputs: usize,
    classes: usize,
}

impl SoftmaxRegression {
    /// `fc.weight [classes, inputs]` drawn from N(0, 0.01^2), `fc.bias` zero.
    pub fn new(inputs: usize, classes: usize, seed: u64) -> Result<Self, InitError> {
        let w = Init::SMALL.sample(&[classes, inputs], &mut SeededRng::new(seed))?;
        if inputs == 0 || classes == 0 {
            return Err(InitError::ZeroFan(vec![classes, inputs]));
        }
        let params = vec![Param::new("fc.weight", vec![classes, inputs], w), Param::new("fc.bias", vec![classes], vec![0.0; classes])];
        Ok(SoftmaxRegression { params, inputs, classes })
    }

    fn forward(&self, batch: &Batch) -> Result<Vec<f32>, ModelError> {
        check_batch(batch, self.inputs, self.classes)?;
        Ok(linear(&batch.x, &self.params[0].value, &self.params[1].value, self.inputs))
    }
}

impl Model for SoftmaxRegression {
    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    fn train_step(&mut self, batch: &Batch) -> Result<StepOutput, ModelError> {
        let scores = self.forward(batch)?;
        let (loss, correct, dscores) = softmax_cross_entropy(&scores, &batch.y, self.classes, true);
        let [w, b] = &mut self.params[..] else { return Err("parameters were removed".into()) };
        w.grad.iter_mut().for_each(|g| *g = 0.0);
        b.grad.iter_mut().for_each(|g| *g = 0.0);
        linear_backward(&batch.x, &w.value, &dscores, self.inputs, &mut w.grad, &mut b.grad, false);
        Ok(StepOutput { loss, correct, count: batch.len() })
    }

    fn eval(&mut self, batch: &Batch) -> Result<StepOutput, ModelError> {
        let scores = self.forward(batch)?;
        let (loss, correct, _) = softmax_cross_entropy(&scores, &batch.y, self.classes, false);
        Ok(StepOutput { loss, correct, count: batch.len() })
    }

    fn predict(&mut self, batch: &Batch) -> Result<Vec<f32>, ModelError> {
        self.forward(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::super::gradcheck;
    use super::*;

    fn batch() -> Batch {
        let mut r = SeededRng::new(11);
        let x = (0..6 * 5).map(|_| r.normal() as f32).collect();
        Batch { x, shape: vec![6, 5], y: vec![0, 2, 1, 2, 0, 1] }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut m = SoftmaxRegression::new(5, 3, 1).unwrap();
        // Larger weights than the init so the softmax is not flat.
        for (i, v) in m.params_mut()[0].value.iter_mut().enumerate() {
            *v = (i as f32 * 0.37).sin();
        }
        gradcheck::check(&mut m, &batch());
    }

    #[test]
    fn hand_worked_loss() {
        // Zero weights: every class has probability 1/3, loss = ln 3,
        // argmax is class 0 (first of equal scores): 2 of 6 labels are 0.
        let mut m = SoftmaxRegression::new(5, 3, 1).unwrap();
        m.params_mut()[0].value.iter_mut().for_each(|v| *v = 0.0);
        let out = m.eval(&batch()).unwrap();
        assert!((out.loss - 3f32.ln()).abs() < 1e-6);
        assert_eq!((out.correct, out.count), (2, 6));
        // Bias gradient = mean over samples of (1/3 - onehot): class 0 has two
        // labels of six: 1/3 - 2/6 = 0.
        m.train_step(&batch()).unwrap();
        assert!(m.params()[1].grad.iter().all(|g| g.abs() < 1e-7));
    }

    #[test]
    fn bad_batches_are_errors() {
        let mut m = SoftmaxRegression::new(5, 3, 1).unwrap();
        let mut b = batch();
        b.y[0] = 3;
        assert!(m.train_step(&b).unwrap_err().to_string().contains("label 3"));
        let b = Batch { x: vec![0.0; 8], shape: vec![2, 4], y: vec![0, 1] };
        assert!(m.eval(&b).is_err());
        assert!(SoftmaxRegression::new(0, 3, 1).is_err());
    }
}
