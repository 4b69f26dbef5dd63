//! [`PixelCnn`]: the compiled graph (loss and its gradient for training,
//! logits and probabilities for evaluation and sampling) with its
//! parameters held as plain [`Param`] buffers, so the optimizers and
//! checkpoints work on it as on any model.

use crate::graph::Graph;
use crate::init::Init;
use crate::model::{Model as Compiled, ModelSpec};
use crate::nn;
use crate::train::Param;
use crate::train::{init_params, relu_rule};

use super::PixelCnnError;
use super::net::{self, INPUT_X, LAYER_OUT, PixelCnnShape};

const OUT_NLL: &str = "nll";
const OUT_LOGITS: &str = "logits";
const OUT_PROBS: &str = "probs";

pub struct PixelCnn {
    shape: PixelCnnShape,
    model: Compiled,
    params: Vec<Param>,
}

impl PixelCnn {
    /// Compile and initialize from `seed`: Kaiming (gain sqrt 2) before the
    /// ReLUs, gain 1 for the output layer, biases zero.
    pub fn new(shape: PixelCnnShape, seed: u64) -> Result<PixelCnn, PixelCnnError> {
        let mut g = Graph::new();
        let n = net::build(&mut g, &shape)?;
        let probs = nn::sigmoid(&mut g, n.logits)?;
        let spec = ModelSpec {
            loss: n.nll,
            train_outputs: vec![],
            eval_outputs: vec![(OUT_NLL.into(), n.nll), (OUT_LOGITS.into(), n.logits), (OUT_PROBS.into(), probs)],
            state_updates: vec![],
        };
        let model = Compiled::compile(g, spec)?;
        let params = init_params(model.params().into_iter().map(|p| (p.name, p.shape)), seed, 0, relu_rule(Init::KAIMING_RELU, |layer| layer == LAYER_OUT))?;
        Ok(PixelCnn { shape, model, params })
    }

    pub fn shape(&self) -> &PixelCnnShape {
        &self.shape
    }

    pub fn pixels(&self) -> usize {
        self.shape.pixels()
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    /// Copy the weights and `n` images (`n * pixels` values) into the program.
    fn load(&mut self, x: &[f32], n: usize) -> Result<(), PixelCnnError> {
        let d = self.pixels();
        if n == 0 || x.len() != n * d {
            return Err(PixelCnnError::Input(format!("{} pixel values for {n} images of {d} pixels", x.len())));
        }
        self.model.set_batch(n)?;
        for p in &self.params {
            self.model.set_param(&p.name, &p.value)?;
        }
        self.model.set_input(INPUT_X, x)?;
        Ok(())
    }

    /// Forward + backward on a batch: overwrites every parameter's `grad`
    /// with the gradient of the mean NLL, returns it (nats per image).
    pub fn train_step(&mut self, x: &[f32], n: usize) -> Result<f64, PixelCnnError> {
        self.load(x, n)?;
        let loss = self.model.train_step()? as f64;
        for p in &mut self.params {
            let g = self.model.grad(&p.name)?;
            p.grad.clear();
            p.grad.extend_from_slice(g);
        }
        Ok(loss)
    }

    /// Mean NLL of a batch in nats per image (no gradient).
    pub fn evaluate(&mut self, x: &[f32], n: usize) -> Result<f64, PixelCnnError> {
        self.load(x, n)?;
        self.model.evaluate()?;
        Ok(self.model.output(OUT_NLL)?.first().copied().unwrap_or(f32::NAN) as f64)
    }

    /// Logits `[n, pixels]` of p(x_ij = 1 | pixels before ij) for `n` canvases.
    pub fn logits(&mut self, x: &[f32], n: usize) -> Result<Vec<f32>, PixelCnnError> {
        self.load(x, n)?;
        self.model.evaluate()?;
        Ok(self.model.output(OUT_LOGITS)?.to_vec())
    }

    /// The same as probabilities.
    pub fn probs(&mut self, x: &[f32], n: usize) -> Result<Vec<f32>, PixelCnnError> {
        self.load(x, n)?;
        self.model.evaluate()?;
        Ok(self.model.output(OUT_PROBS)?.to_vec())
    }
}
