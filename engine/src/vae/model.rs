//! [`Vae`]: the compiled ELBO graph (training and encoding) plus a
//! forward-only decoder program (decoding arbitrary latent points), sharing
//! one set of parameters held as plain [`Param`] buffers, so optimizers and
//! checkpoints work on it as on any model.

use luminal::prelude::petgraph::stable_graph::NodeIndex;

use crate::cpu::Program;
use crate::graph::view::{DimValues, is_plain};
use crate::graph::{Graph, LeafKind};
use crate::init::Init;
use crate::model::{Model as Compiled, ModelSpec};
use crate::nn;
use crate::train::Param;
use crate::train::{init_params, relu_rule};

use super::VaeError;
use super::net::{self, HEADS, INPUT_EPS, INPUT_X, VaeShape};

/// The two terms of the negative ELBO, per image, in nats.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Elbo {
    pub recon: f64,
    pub kl: f64,
}

impl Elbo {
    /// The negative ELBO: reconstruction + KL.
    pub fn nelbo(&self) -> f64 {
        self.recon + self.kl
    }
}

/// Running mean of [`Elbo`]s weighted by batch size.
#[derive(Clone, Copy, Debug, Default)]
pub struct ElboMean {
    sum: Elbo,
    count: usize,
}

impl ElboMean {
    pub fn add(&mut self, e: Elbo, n: usize) {
        self.sum.recon += e.recon * n as f64;
        self.sum.kl += e.kl * n as f64;
        self.count += n;
    }

    pub fn mean(&self) -> Elbo {
        let n = self.count.max(1) as f64;
        Elbo { recon: self.sum.recon / n, kl: self.sum.kl / n }
    }

    pub fn count(&self) -> usize {
        self.count
    }
}

const OUT_RECON: &str = "recon";
const OUT_KL: &str = "kl";
const OUT_MU: &str = "mu";
const OUT_LOGVAR: &str = "logvar";
const OUT_PROBS: &str = "probs";

/// The forward-only decoder: its program, its `z` input and output nodes,
/// and the parameter leaves it reads (by name).
struct Decoder {
    program: Program,
    z: NodeIndex,
    probs: NodeIndex,
    params: Vec<(String, NodeIndex)>,
}

impl Decoder {
    fn new(shape: &VaeShape) -> Result<Decoder, VaeError> {
        let mut g = Graph::new();
        let (z, probs) = net::decode_probs(&mut g, shape)?;
        let probs = if is_plain(&probs.view) { probs } else { g.contiguous(probs) };
        let program = Program::new(&g, &[probs.id])?;
        let params = g.leaves().iter().filter(|l| l.kind == LeafKind::Param).map(|l| (l.name.clone(), l.id)).collect();
        Ok(Decoder { program, z: z.id, probs: probs.id, params })
    }
}

pub struct Vae {
    shape: VaeShape,
    full: Compiled,
    decoder: Decoder,
    params: Vec<Param>,
}

impl Vae {
    /// Compile the graphs and initialize the weights from `seed`: Kaiming
    /// (gain sqrt 2) before ReLUs, gain 1 for the heads, biases zero.
    pub fn new(shape: VaeShape, seed: u64) -> Result<Vae, VaeError> {
        let mut g = Graph::new();
        let e = net::elbo(&mut g, &shape)?;
        let probs = nn::sigmoid(&mut g, e.logits)?;
        let spec = ModelSpec {
            loss: e.loss,
            train_outputs: vec![(OUT_RECON.into(), e.recon), (OUT_KL.into(), e.kl)],
            eval_outputs: vec![(OUT_RECON.into(), e.recon), (OUT_KL.into(), e.kl), (OUT_MU.into(), e.mu), (OUT_LOGVAR.into(), e.logvar), (OUT_PROBS.into(), probs)],
            state_updates: vec![],
        };
        let full = Compiled::compile(g, spec)?;
        let decoder = Decoder::new(&shape)?;
        let params = init_params(full.params().into_iter().map(|p| (p.name, p.shape)), seed, 0, relu_rule(Init::KAIMING_RELU, |layer| HEADS.contains(&layer)))?;
        Ok(Vae { shape, full, decoder, params })
    }

    pub fn shape(&self) -> &VaeShape {
        &self.shape
    }

    pub fn latent(&self) -> usize {
        self.shape.latent
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    /// Copy the current weights and a batch of `n` images (`x`, and the
    /// reparameterization noise `eps`, `n * latent` values) into the program.
    fn load(&mut self, x: &[f32], eps: &[f32], n: usize) -> Result<(), VaeError> {
        let (d, z) = (self.shape.input, self.shape.latent);
        if n == 0 || x.len() != n * d || eps.len() != n * z {
            return Err(VaeError::Input(format!("{} pixel values and {} noise values for {n} images of {d} pixels and {z} latent dims", x.len(), eps.len())));
        }
        self.full.set_batch(n)?;
        for p in &self.params {
            self.full.set_param(&p.name, &p.value)?;
        }
        self.full.set_input(INPUT_X, x)?;
        self.full.set_input(INPUT_EPS, eps)?;
        Ok(())
    }

    fn scalar(&self, name: &str) -> Result<f64, VaeError> {
        Ok(self.full.output(name)?.first().copied().unwrap_or(f32::NAN) as f64)
    }

    fn terms(&self) -> Result<Elbo, VaeError> {
        Ok(Elbo { recon: self.scalar(OUT_RECON)?, kl: self.scalar(OUT_KL)? })
    }

    /// Forward + backward on a batch: overwrites every parameter's `grad`
    /// with the gradient of the negative ELBO, returns its two terms.
    pub fn train_step(&mut self, x: &[f32], eps: &[f32], n: usize) -> Result<Elbo, VaeError> {
        self.load(x, eps, n)?;
        self.full.train_step()?;
        for p in &mut self.params {
            let g = self.full.grad(&p.name)?;
            p.grad.clear();
            p.grad.extend_from_slice(g);
        }
        self.terms()
    }

    /// The negative ELBO terms of a batch with the given noise (no gradient).
    pub fn evaluate(&mut self, x: &[f32], eps: &[f32], n: usize) -> Result<Elbo, VaeError> {
        self.load(x, eps, n)?;
        self.full.evaluate()?;
        self.terms()
    }

    /// Posterior means and log variances `[n, latent]` of `n` images.
    pub fn encode(&mut self, x: &[f32], n: usize) -> Result<(Vec<f32>, Vec<f32>), VaeError> {
        let eps = vec![0.0; n * self.shape.latent];
        self.load(x, &eps, n)?;
        self.full.evaluate()?;
        Ok((self.full.output(OUT_MU)?.to_vec(), self.full.output(OUT_LOGVAR)?.to_vec()))
    }

    /// Pixel probabilities decoded from the posterior means of `n` images.
    pub fn reconstruct(&mut self, x: &[f32], n: usize) -> Result<Vec<f32>, VaeError> {
        let eps = vec![0.0; n * self.shape.latent];
        self.load(x, &eps, n)?;
        self.full.evaluate()?;
        Ok(self.full.output(OUT_PROBS)?.to_vec())
    }

    /// Pixel probabilities `[n, input]` of `n` latent points `[n, latent]`.
    pub fn decode(&mut self, z: &[f32], n: usize) -> Result<Vec<f32>, VaeError> {
        if n == 0 || z.len() != n * self.shape.latent {
            return Err(VaeError::Input(format!("{} latent values for {n} points of {} dims", z.len(), self.shape.latent)));
        }
        if let Some(i) = z.iter().position(|v| !v.is_finite()) {
            return Err(VaeError::Input(format!("latent value {i} is not finite")));
        }
        let d = &mut self.decoder;
        d.program.set_dims(&DimValues(vec![('B', n)]))?;
        for (name, id) in &d.params {
            let p = self.params.iter().find(|p| &p.name == name).ok_or_else(|| VaeError::Input(format!("no parameter {name}")))?;
            d.program.set_leaf(*id, &p.value)?;
        }
        d.program.set_leaf(d.z, z)?;
        d.program.run()?;
        Ok(d.program.buffer(d.probs).to_vec())
    }
}
