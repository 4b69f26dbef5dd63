//! Two-layer MLP: `h = relu(x W1^T + b1)`, `scores = h W2^T + b2`, softmax
//! cross-entropy. Backward: `dscores` as in softmax regression, `dW2 =
//! dscores^T h`, `dh = dscores W2`, `dh[h <= 0] = 0`, `dW1 = dh^T x`.

use super::{check_batch, linear, linear_backward, softmax_cross_entropy};
use crate::data::Batch;
use crate::init::{Init, InitError};
use crate::rng::SeededRng;
use crate::train::{Model, ModelError, Param, StepOutput};

pub struct Mlp {
    params: Vec<Param>,
    inputs: usize,
    hidden: usize,
    classes: usize,
}

impl Mlp {
    /// Kaiming (ReLU) init for `fc1.weight [hidden, inputs]`, Xavier for
    /// `fc2.weight [classes, hidden]`, zero biases.
    pub fn new(inputs: usize, hidden: usize, classes: usize, seed: u64) -> Result<Self, InitError> {
        let mut rng = SeededRng::new(seed);
        let w1 = Init::KAIMING_RELU.sample(&[hidden, inputs], &mut rng)?;
        let w2 = Init::XAVIER_NORMAL.sample(&[classes, hidden], &mut rng)?;
        let params = vec![
            Param::new("fc1.weight", vec![hidden, inputs], w1),
            Param::new("fc1.bias", vec![hidden], vec![0.0; hidden]),
            Param::new("fc2.weight", vec![classes, hidden], w2),
            Param::new("fc2.bias", vec![classes], vec![0.0; classes]),
        ];
        Ok(Mlp { params, inputs, hidden, classes })
    }

    /// Hidden activations and scores.
    fn forward(&self, batch: &Batch) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        check_batch(batch, self.inputs, self.classes)?;
        let [w1, b1, w2, b2] = &self.params[..] else { return Err("parameters were removed".into()) };
        let mut h = linear(&batch.x, &w1.value, &b1.value, self.inputs);
        h.iter_mut().for_each(|v| *v = v.max(0.0));
        let scores = linear(&h, &w2.value, &b2.value, self.hidden);
        Ok((h, scores))
    }
}

impl Model for Mlp {
    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    fn train_step(&mut self, batch: &Batch) -> Result<StepOutput, ModelError> {
        let (h, scores) = self.forward(batch)?;
        let (loss, correct, dscores) = softmax_cross_entropy(&scores, &batch.y, self.classes, true);
        let [w1, b1, w2, b2] = &mut self.params[..] else { return Err("parameters were removed".into()) };
        for g in [&mut w1.grad, &mut b1.grad, &mut w2.grad, &mut b2.grad] {
            g.iter_mut().for_each(|g| *g = 0.0);
        }
        let mut dh = linear_backward(&h, &w2.value, &dscores, self.hidden, &mut w2.grad, &mut b2.grad, true);
        for (d, &a) in dh.iter_mut().zip(&h) {
            if a <= 0.0 {
                *d = 0.0;
            }
        }
        linear_backward(&batch.x, &w1.value, &dh, self.inputs, &mut w1.grad, &mut b1.grad, false);
        Ok(StepOutput { loss, correct, count: batch.len() })
    }

    fn eval(&mut self, batch: &Batch) -> Result<StepOutput, ModelError> {
        let (_, scores) = self.forward(batch)?;
        let (loss, correct, _) = softmax_cross_entropy(&scores, &batch.y, self.classes, false);
        Ok(StepOutput { loss, correct, count: batch.len() })
    }

    fn predict(&mut self, batch: &Batch) -> Result<Vec<f32>, ModelError> {
        Ok(self.forward(batch)?.1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::gradcheck;
    use super::*;

    #[test]
    fn gradients_match_finite_differences() {
        let mut r = SeededRng::new(5);
        let x = (0..8 * 5).map(|_| r.normal() as f32).collect();
        let b = Batch { x, shape: vec![8, 5], y: vec![0, 1, 2, 3, 0, 1, 2, 3] };
        let mut m = Mlp::new(5, 7, 4, 2).unwrap();
        // Keep pre-activations away from the ReLU kink (h = 1e-2 must not cross it).
        for p in m.params_mut().iter_mut().filter(|p| p.name == "fc1.bias") {
            p.value = vec![0.3, -0.2, 0.5, 0.1, -0.4, 0.25, 0.05];
        }
        gradcheck::check(&mut m, &b);
    }

    #[test]
    fn names_and_shapes_follow_pytorch() {
        let m = Mlp::new(784, 100, 10, 0).unwrap();
        let got: Vec<(&str, &[usize])> = m.params().iter().map(|p| (p.name.as_str(), p.shape.as_slice())).collect();
        assert_eq!(got, vec![("fc1.weight", &[100, 784][..]), ("fc1.bias", &[100][..]), ("fc2.weight", &[10, 100][..]), ("fc2.bias", &[10][..])]);
    }
}
