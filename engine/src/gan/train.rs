//! [`GanTrainer`]: the two compiled graphs, the two parameter sets and
//! their Adam optimizers, and the alternating steps.
//!
//! A D step draws reals and noise, evaluates G for the fakes, and trains D
//! on reals (target `1 - smoothing`) and fakes (target 0) in one batch. A G
//! step copies D's current weights into the G-through-D graph, runs forward
//! and backward, and updates only the `g_` parameters. Everything random is
//! drawn from two seeded streams (data, noise) in step order, so the same
//! seed and the same sequence of steps give the same numbers.

use crate::graph::Graph;
use crate::init::Init;
use crate::model::{Model, ModelSpec};
use crate::optim::{Adam, Optimizer};
use crate::rng::SeededRng;
use crate::train::{Param, relu_rule};

use super::GanError;
use super::conv;
use super::net::{self, G_PREFIX, GanLoss, GanShape, INPUT_T, INPUT_X, INPUT_Z};
use super::real::{RealDist, mean_nearest_distance};

const OUT_D: &str = "d";
/// G(z) as trained (batch statistics for the DCGAN).
const OUT_FAKE: &str = "fake";
/// G(z) for the pictures: the DCGAN's running statistics (the MLP's `fake`).
const OUT_FAKE_EVAL: &str = "fake_eval";

#[derive(Clone, Debug, PartialEq)]
pub struct GanConfig {
    pub shape: GanShape,
    pub loss: GanLoss,
    /// One-sided label smoothing: reals get target `1 - smoothing`, fakes 0.
    pub smoothing: f32,
    pub lr_d: f32,
    pub lr_g: f32,
    /// Reals per D step (and as many fakes); fakes per G step.
    pub batch: usize,
    /// Steps of each network per round.
    pub d_steps: usize,
    pub g_steps: usize,
    pub seed: u64,
}

impl GanConfig {
    /// Adam with beta1 = 0.5 (Radford et al.'s DCGAN setting), batch 128,
    /// one step of each per round, no smoothing.
    pub fn new(shape: GanShape, seed: u64) -> Self {
        GanConfig { shape, loss: GanLoss::NonSaturating, smoothing: 0.0, lr_d: 2e-3, lr_g: 2e-3, batch: 128, d_steps: 1, g_steps: 1, seed }
    }

    pub fn check(&self) -> Result<(), GanError> {
        self.shape.check()?;
        let pos = |v: f32| v.is_finite() && v > 0.0;
        if !(pos(self.lr_d) && pos(self.lr_g)) {
            return Err(GanError::Input(format!("learning rates must be positive: D {}, G {}", self.lr_d, self.lr_g)));
        }
        if !(0.0..0.5).contains(&self.smoothing) {
            return Err(GanError::Input(format!("label smoothing {} must be in [0, 0.5)", self.smoothing)));
        }
        if self.batch == 0 {
            return Err(GanError::Input("batch size must be at least 1".into()));
        }
        Ok(())
    }

    /// The target of real points.
    pub fn real_target(&self) -> f32 {
        1.0 - self.smoothing
    }
}

/// Which network a step trained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    D,
    G,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    pub net: Net,
    /// Steps of both networks so far, this one included (the time axis).
    pub step: usize,
    pub loss: f32,
}

/// What a view shows and where.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewSpec {
    /// The plane shown is `[-extent, extent]^2`.
    pub extent: f32,
    /// D is evaluated on `grid x grid` cell centres.
    pub grid: usize,
    /// G maps a `noise_grid x noise_grid` lattice of (z1, z2) over
    /// `[-noise_extent, noise_extent]^2`, other dims 0 (a line for 1-D noise).
    pub noise_grid: usize,
    pub noise_extent: f32,
    /// Reals and fakes shown (fixed samples, so the fakes' motion is G's).
    pub shown: usize,
}

impl Default for ViewSpec {
    fn default() -> Self {
        ViewSpec { extent: 2.0, grid: 48, noise_grid: 11, noise_extent: 2.0, shown: 400 }
    }
}

/// A picture of the game at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct GanView {
    pub d_steps: usize,
    pub g_steps: usize,
    /// Fixed real samples `[shown, data]`.
    pub real: Vec<f32>,
    /// G of fixed noise `[shown, data]`.
    pub fake: Vec<f32>,
    /// D's output as a probability on the lattice, rows from the bottom
    /// (points only; empty for images).
    pub d_grid: Vec<f32>,
    /// G of the noise lattice, `[rows * cols, data]`, row-major.
    pub noise_map: Vec<f32>,
    pub noise_rows: usize,
    pub noise_cols: usize,
    /// Mean of D's probability on the shown reals and fakes.
    pub d_real: f64,
    pub d_fake: f64,
    /// Mean distance of each shown fake to its nearest shown real.
    pub distance: f64,
}

/// Cell centres of a `grid x grid` lattice over `[-extent, extent]^2`, rows
/// from the bottom, `[grid * grid, 2]` flattened.
pub fn lattice(grid: usize, extent: f32) -> Vec<f32> {
    let step = 2.0 * extent / grid.max(1) as f32;
    (0..grid * grid).flat_map(|i| [-extent + (i % grid) as f32 * step + step / 2.0, -extent + (i / grid) as f32 * step + step / 2.0]).collect()
}

/// Stream ids for the seed: weights, then data and noise drawn per step,
/// then the fixed samples the views show.
const STREAM_INIT: u64 = 1 << 40;
const STREAM_DATA: u64 = 2 << 40;
const STREAM_NOISE: u64 = 3 << 40;
const STREAM_SHOW: u64 = 4 << 40;

pub struct GanTrainer {
    config: GanConfig,
    real: RealDist,
    d_model: Model,
    g_model: Model,
    d_params: Vec<Param>,
    g_params: Vec<Param>,
    opt_d: Adam,
    opt_g: Adam,
    data_rng: SeededRng,
    noise_rng: SeededRng,
    d_steps: usize,
    g_steps: usize,
    rounds: usize,
}

/// MLPs: Kaiming for hidden layers (gain sqrt 2), gain 1 for the output
/// layers, zero biases. DCGAN (Radford et al.): weights N(0, 0.02^2), batch
/// norm scales 1, zero biases and shifts.
fn init_params(model: &Model, seed: u64, stream: u64, dcgan: bool) -> Result<Vec<Param>, GanError> {
    let named = model.params().into_iter().map(|p| (p.name, p.shape));
    let (hidden, linear): (Init, fn(&str) -> bool) = if dcgan { (Init::Normal { std: 0.02 }, |_| false) } else { (Init::KAIMING_RELU, |layer| layer.ends_with("out")) };
    Ok(crate::train::init_params(named, seed, stream, relu_rule(hidden, linear))?)
}

/// D's graph and the G-through-D graph.
fn compile(config: &GanConfig) -> Result<(Model, Model), GanError> {
    let s = &config.shape;
    let mut g = Graph::new();
    let (d, loss) = match s.conv {
        Some(c) => conv::d_graph(&mut g, c, config.loss)?,
        None => net::d_graph(&mut g, s, config.loss)?,
    };
    let d_model = Model::compile(g, ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![(OUT_D.into(), d)], state_updates: vec![] })?;
    let mut g = Graph::new();
    let spec = match s.conv {
        Some(c) => {
            s.check()?;
            let gg = conv::g_graph(&mut g, c, s.noise, config.loss)?;
            let outputs = vec![(OUT_FAKE.into(), gg.fake), (OUT_FAKE_EVAL.into(), gg.fake_eval), (OUT_D.into(), gg.d)];
            ModelSpec { loss: gg.loss, train_outputs: vec![], eval_outputs: outputs, state_updates: gg.updates }
        }
        None => {
            let (fake, d_fake, loss) = net::g_graph(&mut g, s, config.loss)?;
            ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![(OUT_FAKE.into(), fake), (OUT_D.into(), d_fake)], state_updates: vec![] }
        }
    };
    Ok((d_model, Model::compile(g, spec)?))
}

impl GanTrainer {
    /// Compile both graphs and draw the initial weights from the seed.
    pub fn new(config: GanConfig, real: RealDist) -> Result<Self, GanError> {
        config.check()?;
        real.check()?;
        if real.dim() != config.shape.data {
            return Err(GanError::Input(format!("the data has {} values per sample, the networks take {}", real.dim(), config.shape.data)));
        }
        let (d_model, g_model) = compile(&config)?;
        let seed = config.seed;
        let dcgan = config.shape.conv.is_some();
        let d_params = init_params(&d_model, seed, STREAM_INIT, dcgan)?;
        // G's parameters are the `g_` ones of the combined graph.
        let g_all = init_params(&g_model, seed, STREAM_INIT + (1 << 20), dcgan)?;
        let g_params = g_all.into_iter().filter(|p| p.name.starts_with(G_PREFIX)).collect();
        Ok(GanTrainer {
            opt_d: Adam::new(config.lr_d).betas(0.5, 0.999),
            opt_g: Adam::new(config.lr_g).betas(0.5, 0.999),
            data_rng: SeededRng::stream(seed, STREAM_DATA),
            noise_rng: SeededRng::stream(seed, STREAM_NOISE),
            config,
            real,
            d_model,
            g_model,
            d_params,
            g_params,
            d_steps: 0,
            g_steps: 0,
            rounds: 0,
        })
    }

    pub fn config(&self) -> &GanConfig {
        &self.config
    }

    pub fn real(&self) -> &RealDist {
        &self.real
    }

    /// Train on another real distribution from the next step on.
    pub fn set_real(&mut self, real: RealDist) -> Result<(), GanError> {
        real.check()?;
        if real.dim() != self.config.shape.data {
            return Err(GanError::Input(format!("the data has {} values per sample, the networks take {}", real.dim(), self.config.shape.data)));
        }
        self.real = real;
        Ok(())
    }

    pub fn d_params(&self) -> &[Param] {
        &self.d_params
    }

    pub fn g_params(&self) -> &[Param] {
        &self.g_params
    }

    pub fn d_params_mut(&mut self) -> &mut [Param] {
        &mut self.d_params
    }

    pub fn g_params_mut(&mut self) -> &mut [Param] {
        &mut self.g_params
    }

    /// D steps, G steps and rounds done.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.d_steps, self.g_steps, self.rounds)
    }

    /// Restore the step counters (after loading a checkpoint).
    pub fn set_counts(&mut self, d_steps: usize, g_steps: usize, rounds: usize) {
        (self.d_steps, self.g_steps, self.rounds) = (d_steps, g_steps, rounds);
    }

    /// Change the steps per round (takes effect at the next round).
    pub fn set_steps_per_round(&mut self, d_steps: usize, g_steps: usize) {
        (self.config.d_steps, self.config.g_steps) = (d_steps, g_steps);
    }

    fn noise(&mut self, n: usize) -> Vec<f32> {
        (0..n * self.config.shape.noise).map(|_| self.noise_rng.normal() as f32).collect()
    }

    /// Copy G's weights, and D's when `with_d`, into the combined graph.
    fn load_g_model(&mut self, n: usize, with_d: bool) -> Result<(), GanError> {
        self.g_model.set_batch(n)?;
        for p in &self.g_params {
            self.g_model.set_param(&p.name, &p.value)?;
        }
        if with_d {
            for p in &self.d_params {
                self.g_model.set_param(&p.name, &p.value)?;
            }
        }
        Ok(())
    }

    /// G of noise `z` `[n, noise]`: samples `[n, data]`, as shown (the
    /// DCGAN's batch norm with running statistics, so each sample depends
    /// only on its own z).
    pub fn generate(&mut self, z: &[f32]) -> Result<Vec<f32>, GanError> {
        let out = if self.config.shape.conv.is_some() { OUT_FAKE_EVAL } else { OUT_FAKE };
        self.run_g(z, out)
    }

    /// G of noise `z` as in training (the DCGAN's batch statistics).
    pub fn generate_train(&mut self, z: &[f32]) -> Result<Vec<f32>, GanError> {
        self.run_g(z, OUT_FAKE)
    }

    fn run_g(&mut self, z: &[f32], out: &str) -> Result<Vec<f32>, GanError> {
        let k = self.config.shape.noise;
        let n = z.len() / k;
        if n == 0 || z.len() != n * k {
            return Err(GanError::Input(format!("{} noise values are not a whole number of {k}-vectors", z.len())));
        }
        self.load_g_model(n, false)?;
        self.g_model.set_input(INPUT_Z, z)?;
        self.g_model.evaluate_outputs(&[out])?;
        Ok(self.g_model.output(out)?.to_vec())
    }

    /// G's batch norm running statistics (empty for MLPs).
    pub fn g_state(&self) -> Result<Vec<Param>, GanError> {
        let mut out = Vec::new();
        for name in self.g_model.state_names().into_iter().filter(|n| n.starts_with(G_PREFIX)) {
            let v = self.g_model.state(&name)?.to_vec();
            out.push(Param::buffer(name, vec![v.len()], v));
        }
        Ok(out)
    }

    /// Overwrite G's running statistics (from [`GanTrainer::g_state`]).
    pub fn set_g_state(&mut self, state: &[Param]) -> Result<(), GanError> {
        for p in state {
            let dst = self.g_model.state_mut(&p.name)?;
            if dst.len() != p.value.len() {
                return Err(GanError::Input(format!("{} has {} values, expected {}", p.name, p.value.len(), dst.len())));
            }
            dst.copy_from_slice(&p.value);
        }
        Ok(())
    }

    /// D's raw outputs (logits for BCE, scores for LSGAN) on samples `[n, data]`.
    pub fn discriminate(&mut self, x: &[f32]) -> Result<Vec<f32>, GanError> {
        let dim = self.config.shape.data;
        let n = x.len() / dim;
        if n == 0 || x.len() != dim * n {
            return Err(GanError::Input(format!("{} values are not a whole number of {dim}-value samples", x.len())));
        }
        self.d_model.set_batch(n)?;
        for p in &self.d_params {
            self.d_model.set_param(&p.name, &p.value)?;
        }
        self.d_model.set_input(INPUT_X, x)?;
        self.d_model.evaluate()?;
        Ok(self.d_model.output(OUT_D)?.to_vec())
    }

    /// D's probability that each point is real.
    pub fn d_prob(&mut self, x: &[f32]) -> Result<Vec<f32>, GanError> {
        let loss = self.config.loss;
        Ok(self.discriminate(x)?.into_iter().map(|d| loss.prob(d)).collect())
    }

    /// The D loss and its gradient (in each D param's `grad`) on reals and
    /// fakes `[n, data]` each, without updating anything.
    pub fn d_loss_and_grad(&mut self, real: &[f32], fake: &[f32]) -> Result<f32, GanError> {
        let dim = self.config.shape.data;
        let n = real.len() / dim;
        if n == 0 || real.len() != fake.len() || real.len() != dim * n {
            return Err(GanError::Input(format!("{} real and {} fake values: need equal whole batches of {dim}-value samples", real.len(), fake.len())));
        }
        let target = self.config.real_target();
        if self.config.shape.conv.is_some() {
            // Reals and fakes as two batches (batch norm sees each alone).
            self.d_model.set_batch(n)?;
            self.d_model.set_input(INPUT_X, real)?;
            self.d_model.set_input(conv::INPUT_XF, fake)?;
            self.d_model.set_input(INPUT_T, &vec![target; n])?;
            self.d_model.set_input(conv::INPUT_TF, &vec![0.0; n])?;
        } else {
            let mut x = real.to_vec();
            x.extend_from_slice(fake);
            let mut t = vec![target; n];
            t.extend(std::iter::repeat_n(0.0, n));
            self.d_model.set_batch(2 * n)?;
            self.d_model.set_input(INPUT_X, &x)?;
            self.d_model.set_input(INPUT_T, &t)?;
        }
        for p in &self.d_params {
            self.d_model.set_param(&p.name, &p.value)?;
        }
        let loss = self.d_model.train_step()?;
        for p in &mut self.d_params {
            p.grad.clear();
            p.grad.extend_from_slice(self.d_model.grad(&p.name)?);
        }
        Ok(loss)
    }

    /// The G loss and its gradient (in each G param's `grad`) for noise
    /// `z`, through the current D, without updating anything.
    pub fn g_loss_and_grad(&mut self, z: &[f32]) -> Result<f32, GanError> {
        let k = self.config.shape.noise;
        let n = z.len() / k;
        if n == 0 || z.len() != n * k {
            return Err(GanError::Input(format!("{} noise values are not a whole number of {k}-vectors", z.len())));
        }
        self.load_g_model(n, true)?;
        self.g_model.set_input(INPUT_Z, z)?;
        self.g_model.set_input(INPUT_T, &vec![1.0; n])?;
        let loss = self.g_model.train_step()?;
        for p in &mut self.g_params {
            p.grad.clear();
            p.grad.extend_from_slice(self.g_model.grad(&p.name)?);
        }
        Ok(loss)
    }

    fn finite(&self, net: Net, loss: f32) -> Result<(), GanError> {
        if loss.is_finite() {
            return Ok(());
        }
        let (name, step) = match net {
            Net::D => ("D", self.d_steps + 1),
            Net::G => ("G", self.g_steps + 1),
        };
        Err(GanError::Diverged(format!("{name} loss became {loss} at {name} step {step}")))
    }

    /// One D step on a fresh batch; returns its report.
    pub fn step_d(&mut self) -> Result<StepReport, GanError> {
        let n = self.config.batch;
        let real = self.real.sample(n, &mut self.data_rng);
        let z = self.noise(n);
        let fake = self.generate_train(&z)?;
        let loss = self.d_loss_and_grad(&real, &fake)?;
        self.finite(Net::D, loss)?;
        self.opt_d.step(&mut self.d_params)?;
        self.d_steps += 1;
        Ok(StepReport { net: Net::D, step: self.d_steps + self.g_steps, loss })
    }

    /// One G step on fresh noise; returns its report.
    pub fn step_g(&mut self) -> Result<StepReport, GanError> {
        let z = self.noise(self.config.batch);
        let loss = self.g_loss_and_grad(&z)?;
        self.finite(Net::G, loss)?;
        self.opt_g.step(&mut self.g_params)?;
        self.g_steps += 1;
        Ok(StepReport { net: Net::G, step: self.d_steps + self.g_steps, loss })
    }

    /// `d` D steps then `g` G steps, reporting each.
    pub fn steps(&mut self, d: usize, g: usize, on_step: &mut dyn FnMut(StepReport)) -> Result<(), GanError> {
        for _ in 0..d {
            on_step(self.step_d()?);
        }
        for _ in 0..g {
            on_step(self.step_g()?);
        }
        Ok(())
    }

    /// One round: the configured D steps, then the configured G steps.
    pub fn round(&mut self, on_step: &mut dyn FnMut(StepReport)) -> Result<(), GanError> {
        let (d, g) = (self.config.d_steps, self.config.g_steps);
        self.steps(d, g, on_step)?;
        self.rounds += 1;
        Ok(())
    }

    /// The fixed noise and reals the views show (from the seed, not the run).
    fn shown(&self, n: usize) -> (Vec<f32>, Vec<f32>) {
        let mut rng = SeededRng::stream(self.config.seed, STREAM_SHOW);
        let z = (0..n * self.config.shape.noise).map(|_| rng.normal() as f32).collect();
        let real = self.real.sample(n, &mut SeededRng::stream(self.config.seed, STREAM_SHOW + 1));
        (z, real)
    }

    /// The noise lattice of `spec`: (points, rows, cols).
    fn noise_lattice(&self, spec: &ViewSpec) -> (Vec<f32>, usize, usize) {
        let (k, m) = (self.config.shape.noise, spec.noise_grid.max(2));
        let e = spec.noise_extent;
        let at = |i: usize| -e + 2.0 * e * i as f32 / (m - 1) as f32;
        let rows = if k >= 2 { m } else { 1 };
        let mut z = Vec::with_capacity(rows * m * k);
        for r in 0..rows {
            for c in 0..m {
                let mut v = vec![0.0; k];
                v[0] = at(c);
                if k >= 2 {
                    v[1] = at(r);
                }
                z.extend(v);
            }
        }
        (z, rows, m)
    }

    /// Everything the views need, computed with the current weights.
    pub fn view(&mut self, spec: &ViewSpec) -> Result<GanView, GanError> {
        let (z, real) = self.shown(spec.shown.max(1));
        let fake = self.generate(&z)?;
        // D over the plane exists only for points.
        let d_grid = if self.config.shape.data == 2 { self.d_prob(&lattice(spec.grid.max(1), spec.extent))? } else { Vec::new() };
        let (nz, noise_rows, noise_cols) = self.noise_lattice(spec);
        let noise_map = self.generate(&nz)?;
        let mean = |v: &[f32]| v.iter().map(|&p| p as f64).sum::<f64>() / v.len().max(1) as f64;
        let d_real = mean(&self.d_prob(&real)?);
        let d_fake = mean(&self.d_prob(&fake)?);
        let distance = mean_nearest_distance(&fake, &real, self.config.shape.data);
        Ok(GanView { d_steps: self.d_steps, g_steps: self.g_steps, real, fake, d_grid, noise_map, noise_rows, noise_cols, d_real, d_fake, distance })
    }
}
