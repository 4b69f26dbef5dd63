//! Optimizers as defined in the CS231n / EECS 498 lectures, one per file,
//! behind one trait; gradient clipping, regularization and learning-rate
//! schedules.
//!
//! Optimizers update only trainable parameters and keep their per-parameter
//! buffers keyed by parameter name, so the state can be saved in a
//! checkpoint (`optim.<param>.<slot>`) and loaded back for an exact resume.

pub mod adagrad;
pub mod adam;
pub mod adamw;
pub mod clip;
pub mod momentum;
pub mod nesterov;
pub mod regularize;
pub mod rmsprop;
mod rule;
pub mod schedule;
pub mod sgd;

pub use adagrad::AdaGrad;
pub use adam::Adam;
pub use adamw::AdamW;
pub use clip::clip_grad_norm;
pub use momentum::Momentum;
pub use nesterov::Nesterov;
pub use regularize::{Penalty, Regularizer, Selection};
pub use rmsprop::RmsProp;
pub use rule::{Optim, Rule};
pub use schedule::{Decay, Schedule};
pub use sgd::Sgd;

use crate::train::Param;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OptimError {
    #[error("parameter {name}: gradient has {grad} values but the parameter has {value}")]
    GradLen { name: String, grad: usize, value: usize },
    #[error("optimizer state '{slot}' for {name} has {got} values but the parameter has {want}")]
    StateLen { name: String, slot: String, got: usize, want: usize },
    #[error("optimizer state is for '{found}', this optimizer is '{expected}'")]
    WrongKind { found: String, expected: String },
    #[error("optimizer state has unknown buffer '{slot}' for {name}")]
    UnknownSlot { name: String, slot: String },
    #[error("invalid hyper-parameter: {0}")]
    BadHyper(String),
}

/// One saved per-parameter buffer (e.g. Adam's `m` for `fc1.weight`).
#[derive(Clone, Debug, PartialEq)]
pub struct SlotBuffer {
    pub param: String,
    pub slot: String,
    pub value: Vec<f32>,
}

/// Everything an optimizer needs to resume exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimState {
    /// Optimizer name, e.g. "adam".
    pub kind: String,
    /// Number of `step` calls so far.
    pub step: u64,
    pub lr: f32,
    pub buffers: Vec<SlotBuffer>,
}

pub trait Optimizer: Send {
    /// Short name ("sgd", "momentum", "adam", ...), stored with the state.
    fn kind(&self) -> &'static str;
    fn lr(&self) -> f32;
    fn set_lr(&mut self, lr: f32);
    /// Number of `step` calls so far.
    fn steps(&self) -> u64;
    /// Update every trainable parameter from its `grad`.
    fn step(&mut self, params: &mut [Param]) -> Result<(), OptimError>;
    fn state(&self) -> OptimState;
    fn load_state(&mut self, state: &OptimState) -> Result<(), OptimError>;
    /// Forget all buffers and the step count.
    fn reset(&mut self);
}

/// The trainable parameters, after checking each gradient's length.
pub(crate) fn trainable(params: &mut [Param]) -> Result<impl Iterator<Item = &mut Param>, OptimError> {
    for p in params.iter().filter(|p| p.trainable) {
        if p.grad.len() != p.value.len() {
            return Err(OptimError::GradLen { name: p.name.clone(), grad: p.grad.len(), value: p.value.len() });
        }
    }
    Ok(params.iter_mut().filter(|p| p.trainable))
}

pub(crate) fn check_kind(state: &OptimState, expected: &str) -> Result<(), OptimError> {
    if state.kind != expected {
        return Err(OptimError::WrongKind { found: state.kind.clone(), expected: expected.into() });
    }
    Ok(())
}

pub(crate) fn check_positive(what: &str, v: f32) -> Result<(), OptimError> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(OptimError::BadHyper(format!("{what} must be positive, got {v}"))) }
}

pub(crate) fn check_unit(what: &str, v: f32) -> Result<(), OptimError> {
    if (0.0..1.0).contains(&v) { Ok(()) } else { Err(OptimError::BadHyper(format!("{what} must be in [0, 1), got {v}"))) }
}

#[cfg(test)]
pub(crate) mod testutil {
    pub use super::Optimizer;
    use super::*;

    /// One parameter `w` with the given values and gradient.
    pub fn param(w: &[f32]) -> Vec<Param> {
        vec![Param::new("w", vec![w.len()], w.to_vec())]
    }

    /// Run `opt` with the gradients given for each step; return the values
    /// after each step.
    pub fn run(opt: &mut dyn Optimizer, w0: &[f32], grads: &[&[f32]]) -> Vec<Vec<f32>> {
        let mut p = param(w0);
        grads
            .iter()
            .map(|g| {
                p[0].grad = g.to_vec();
                opt.step(&mut p).unwrap();
                p[0].value.clone()
            })
            .collect()
    }

    pub fn assert_close(got: &[f32], want: &[f32], tol: f32) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= tol, "got {got:?}, want {want:?}");
        }
    }

    /// Minimize f(w) = 0.5 * sum a_i (w_i - c_i)^2 (badly conditioned) from
    /// w = 0 and check that w reaches c.
    pub fn converges_on_quadratic(opt: &mut dyn Optimizer, steps: usize, tol: f32) {
        let a = [1.0f32, 10.0, 0.3];
        let c = [3.0f32, -2.0, 1.5];
        let mut p = param(&[0.0, 0.0, 0.0]);
        // A bias-like trainable=false buffer must be left alone.
        p.push(Param::buffer("running", vec![1], vec![7.0]));
        for _ in 0..steps {
            p[0].grad = (0..3).map(|i| a[i] * (p[0].value[i] - c[i])).collect();
            opt.step(&mut p).unwrap();
        }
        assert_close(&p[0].value, &c, tol);
        assert_eq!(p[1].value, vec![7.0]);
    }

    /// State survives a save/load into a fresh optimizer: continuing gives
    /// bit-identical values.
    pub fn state_round_trip(a: &mut dyn Optimizer, b: &mut dyn Optimizer) {
        let mut pa = param(&[1.0, -2.0]);
        for g in [[0.5f32, -1.0], [0.2, 0.4]] {
            pa[0].grad = g.to_vec();
            a.step(&mut pa).unwrap();
        }
        b.load_state(&a.state()).unwrap();
        assert_eq!(b.steps(), 2);
        let mut pb = pa.clone();
        for p in [&mut pa, &mut pb] {
            p[0].grad = vec![-0.3, 0.7];
        }
        a.step(&mut pa).unwrap();
        b.step(&mut pb).unwrap();
        assert_eq!(pa[0].value, pb[0].value);
        let mut wrong = a.state();
        wrong.kind = "other".into();
        assert!(b.load_state(&wrong).is_err());
        // Mismatched gradient lengths are an error, not a panic.
        pa[0].grad = vec![1.0];
        assert!(a.step(&mut pa).is_err());
    }
}
