//! Hyperparameter search over the learning rate and the regularization
//! strength (lecture 11 of EECS 498): grid search tries a fixed lattice,
//! random search draws each coordinate independently (log-uniform), which
//! tries more distinct values of the coordinate that matters. Each point
//! is scored by a short training run.

use super::{Job, TrainError};
use crate::rng::SeededRng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchKind {
    Grid,
    Random,
}

/// Log-scale ranges `[low, high]` (both > 0) of the two hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchSpace {
    pub lr: [f32; 2],
    pub reg: [f32; 2],
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HyperPoint {
    pub lr: f32,
    pub reg: f32,
}

/// One scored point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trial {
    pub point: HyperPoint,
    /// Best validation accuracy over the run's epochs, and the loss then.
    pub val_acc: f32,
    pub val_loss: f32,
}

impl SearchSpace {
    fn check(&self) -> Result<(), TrainError> {
        for (name, [lo, hi]) in [("learning rate", self.lr), ("regularization", self.reg)] {
            if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi >= lo) {
                return Err(TrainError::Config(format!("{name} range [{lo}, {hi}] must be positive and increasing")));
            }
        }
        Ok(())
    }

    /// The points to try: a grid of `floor(sqrt(n))` values per axis,
    /// log-spaced from low to high, or `n` log-uniform random draws.
    pub fn points(&self, kind: SearchKind, n: usize, seed: u64) -> Result<Vec<HyperPoint>, TrainError> {
        self.check()?;
        let log = |r: [f32; 2]| [(r[0] as f64).ln(), (r[1] as f64).ln()];
        let (lr, reg) = (log(self.lr), log(self.reg));
        let at = |r: [f64; 2], t: f64| (r[0] + t * (r[1] - r[0])).exp() as f32;
        Ok(match kind {
            SearchKind::Grid => {
                let side = (n as f64).sqrt().floor().max(1.0) as usize;
                let t = |i: usize| if side == 1 { 0.5 } else { i as f64 / (side - 1) as f64 };
                (0..side * side).map(|k| HyperPoint { lr: at(lr, t(k % side)), reg: at(reg, t(k / side)) }).collect()
            }
            SearchKind::Random => {
                let mut rng = SeededRng::new(seed);
                (0..n).map(|_| HyperPoint { lr: at(lr, rng.uniform()), reg: at(reg, rng.uniform()) }).collect()
            }
        })
    }
}

/// Train `job` to the end on this thread and score it on its validation set.
pub fn run_trial<S: Send + 'static>(point: HyperPoint, job: Job<S>) -> Result<Trial, TrainError> {
    if job.val.is_none() {
        return Err(TrainError::Config("a search trial needs a validation set".into()));
    }
    let done = job.spawn()?.join()?;
    let best = done.history.iter().filter_map(|m| Some((m.val_acc?, m.val_loss?))).fold(None, |b: Option<(f32, f32)>, (a, l)| match b {
        Some((ba, _)) if ba >= a => b,
        _ => Some((a, l)),
    });
    // A run that diverged in its first epoch scores like a guess.
    let (val_acc, val_loss) = best.unwrap_or((0.0, f32::INFINITY));
    Ok(Trial { point, val_acc, val_loss })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::data::digits;
    use crate::init::Init;
    use crate::models::{Family, NetSpec};
    use crate::optim::{Penalty, Regularizer, Schedule, Sgd};
    use crate::train::TrainConfig;

    #[test]
    fn grid_is_log_spaced_and_random_is_seeded_in_range() {
        let space = SearchSpace { lr: [1e-3, 1e-1], reg: [1e-4, 1e-2] };
        let grid = space.points(SearchKind::Grid, 10, 0).unwrap();
        assert_eq!(grid.len(), 9);
        let close = |a: f32, b: f32| (a / b - 1.0).abs() < 1e-5;
        for (k, p) in grid.iter().enumerate() {
            assert!(close(p.lr, [1e-3, 1e-2, 1e-1][k % 3]), "{p:?}");
            assert!(close(p.reg, [1e-4, 1e-3, 1e-2][k / 3]), "{p:?}");
        }
        let a = space.points(SearchKind::Random, 20, 5).unwrap();
        assert_eq!(a, space.points(SearchKind::Random, 20, 5).unwrap());
        assert_ne!(a, space.points(SearchKind::Random, 20, 6).unwrap());
        assert!(a.iter().all(|p| (1e-3..=1e-1).contains(&p.lr) && (1e-4..=1e-2).contains(&p.reg)));
        // random search tries 20 distinct learning rates, the grid only 3 (of 9 runs)
        let mut lrs: Vec<u32> = a.iter().map(|p| p.lr.to_bits()).collect();
        lrs.dedup();
        assert_eq!(lrs.len(), 20);
        assert!(SearchSpace { lr: [0.0, 1.0], ..space }.points(SearchKind::Grid, 4, 0).is_err());
        assert!(SearchSpace { reg: [1.0, 0.5], ..space }.points(SearchKind::Grid, 4, 0).is_err());
        assert_eq!(space.points(SearchKind::Grid, 1, 0).unwrap().len(), 1);
    }

    /// Two short runs on the digits: a sensible learning rate beats one
    /// that is far too small, by a wide margin.
    #[test]
    fn trials_rank_learning_rates() {
        let (train, val) = digits::load().unwrap().split(300, 1).unwrap();
        let (train, val) = (Arc::new(train), Arc::new(val));
        let trial = |lr: f32| {
            let model = NetSpec { widths: vec![32], ..NetSpec::default_for(Family::Mlp, [1, 8, 8], 10) }.model(0, Init::KAIMING_RELU).unwrap();
            let mut cfg = TrainConfig::new(3, 32, Schedule::constant(lr));
            cfg.regularizer = Some(Regularizer::new(Penalty::L2 { lambda: 1e-4 }));
            let job = Job::new(Box::new(model), Box::new(Sgd::new(lr)), train.clone(), cfg).validate_on(val.clone());
            run_trial(HyperPoint { lr, reg: 1e-4 }, job).unwrap()
        };
        let (good, tiny) = (trial(0.1), trial(1e-5));
        assert!(good.val_acc > 0.85, "{good:?}");
        assert!(tiny.val_acc < 0.4, "{tiny:?}");
        assert!(good.val_loss < tiny.val_loss);
        let no_val = Job::new(
            Box::new(NetSpec::default_for(Family::Mlp, [1, 8, 8], 10).model(0, Init::KAIMING_RELU).unwrap()),
            Box::new(Sgd::new(0.1)),
            train,
            TrainConfig::new(1, 32, Schedule::constant(0.1)),
        );
        assert!(run_trial(HyperPoint { lr: 0.1, reg: 0.0 }, no_val).is_err());
    }
}
