//! The part every optimizer shares: learning rate, step count, per-parameter
//! buffers keyed by name, state save/load. Each optimizer file only defines
//! its update [`Rule`].

use std::collections::BTreeMap;

use super::{OptimError, OptimState, Optimizer, SlotBuffer, check_kind, trainable};
use crate::train::Param;

/// The update formula of one optimizer.
pub trait Rule: Send + Sync + Clone + std::fmt::Debug {
    const KIND: &'static str;
    /// Names of the per-parameter buffers, e.g. `["m", "v"]` for Adam.
    const SLOTS: &'static [&'static str];
    /// Err with a message when a hyper-parameter is out of range.
    fn validate(&self) -> Result<(), OptimError>;
    /// Update one parameter (or a piece of one: the formula must be
    /// element-wise) in place. `t` is the 1-based step number; `bufs` holds
    /// one buffer per `SLOTS` entry, each as long as `w`.
    fn update(&self, t: u64, lr: f32, w: &mut [f32], g: &[f32], bufs: &mut [&mut [f32]]);
}

/// Elements per piece of a parameter updated on its own thread: rules are
/// element-wise, so any split gives the same bits.
const UPDATE_PIECE: usize = 1 << 15;

/// `rule.update` over `w`, cut into pieces run across the thread pool.
fn update_split<R: Rule + Sync>(rule: &R, t: u64, lr: f32, w: &mut [f32], g: &[f32], bufs: &mut [Vec<f32>]) {
    use rayon::prelude::*;
    let pieces = (w.len() / UPDATE_PIECE).clamp(1, rayon::current_num_threads());
    let per = w.len().div_ceil(pieces).max(1);
    let mut slots: Vec<std::slice::ChunksMut<'_, f32>> = bufs.iter_mut().map(|b| b.chunks_mut(per)).collect();
    let parts: Vec<(&mut [f32], &[f32], Vec<&mut [f32]>)> =
        w.chunks_mut(per).zip(g.chunks(per)).map(|(w, g)| (w, g, slots.iter_mut().filter_map(Iterator::next).collect())).collect();
    if parts.len() <= 1 {
        for (w, g, mut b) in parts {
            rule.update(t, lr, w, g, &mut b);
        }
        return;
    }
    parts.into_par_iter().for_each(|(w, g, mut b)| rule.update(t, lr, w, g, &mut b));
}

/// An optimizer: a [`Rule`] plus its state.
#[derive(Clone, Debug)]
pub struct Optim<R: Rule> {
    pub rule: R,
    lr: f32,
    steps: u64,
    bufs: BTreeMap<String, Vec<Vec<f32>>>,
}

impl<R: Rule> Optim<R> {
    pub fn with_rule(rule: R, lr: f32) -> Self {
        Optim { rule, lr, steps: 0, bufs: BTreeMap::new() }
    }
}

impl<R: Rule> Optimizer for Optim<R> {
    fn kind(&self) -> &'static str {
        R::KIND
    }

    fn lr(&self) -> f32 {
        self.lr
    }

    fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn step(&mut self, params: &mut [Param]) -> Result<(), OptimError> {
        self.rule.validate()?;
        if !self.lr.is_finite() || self.lr < 0.0 {
            return Err(OptimError::BadHyper(format!("learning rate must be finite and >= 0, got {}", self.lr)));
        }
        // Check every buffer before touching any value, so an error leaves
        // the parameters unchanged.
        for p in params.iter().filter(|p| p.trainable) {
            if let Some(bs) = self.bufs.get(&p.name) {
                for (b, slot) in bs.iter().zip(R::SLOTS) {
                    if b.len() != p.value.len() {
                        return Err(OptimError::StateLen { name: p.name.clone(), slot: (*slot).into(), got: b.len(), want: p.value.len() });
                    }
                }
            }
        }
        let ps = trainable(params)?;
        self.steps += 1;
        for p in ps {
            let bs = self.bufs.entry(p.name.clone()).or_insert_with(|| vec![vec![0.0; p.value.len()]; R::SLOTS.len()]);
            update_split(&self.rule, self.steps, self.lr, &mut p.value, &p.grad, bs);
        }
        Ok(())
    }

    fn state(&self) -> OptimState {
        let mut buffers = Vec::new();
        for (param, bs) in &self.bufs {
            for (slot, b) in R::SLOTS.iter().zip(bs) {
                buffers.push(SlotBuffer { param: param.clone(), slot: (*slot).into(), value: b.clone() });
            }
        }
        OptimState { kind: R::KIND.into(), step: self.steps, lr: self.lr, buffers }
    }

    fn load_state(&mut self, state: &OptimState) -> Result<(), OptimError> {
        check_kind(state, R::KIND)?;
        let mut bufs: BTreeMap<String, Vec<Option<Vec<f32>>>> = BTreeMap::new();
        for b in &state.buffers {
            let k = R::SLOTS.iter().position(|s| *s == b.slot).ok_or_else(|| OptimError::UnknownSlot { name: b.param.clone(), slot: b.slot.clone() })?;
            let e = bufs.entry(b.param.clone()).or_insert_with(|| vec![None; R::SLOTS.len()]);
            e[k] = Some(b.value.clone());
        }
        let mut out = BTreeMap::new();
        for (param, bs) in bufs {
            let len = bs.iter().flatten().map(|b| b.len()).next().unwrap_or(0);
            let mut full = Vec::with_capacity(bs.len());
            for (b, slot) in bs.into_iter().zip(R::SLOTS) {
                let b = b.ok_or_else(|| OptimError::StateLen { name: param.clone(), slot: (*slot).into(), got: 0, want: len })?;
                if b.len() != len {
                    return Err(OptimError::StateLen { name: param.clone(), slot: (*slot).into(), got: b.len(), want: len });
                }
                full.push(b);
            }
            out.insert(param, full);
        }
        self.bufs = out;
        self.steps = state.step;
        self.lr = state.lr;
        Ok(())
    }

    fn reset(&mut self) {
        self.bufs.clear();
        self.steps = 0;
    }
}
