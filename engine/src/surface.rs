//! Two-parameter loss surfaces with analytic gradients, and optimizers
//! raced on them: the material of the "optimizers on loss surfaces" lab.
//! Everything is in f64 except the parameters the optimizers update (f32,
//! as in training).

use crate::optim::{OptimError, Optimizer};
use crate::rng::SeededRng;
use crate::train::Param;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 0.5 * (x^2 + 20 y^2): condition number 20.
    Quadratic,
    /// x^2 - y^2, unbounded below: only the region drawn is explored.
    Saddle,
    /// (1 - x)^2 + 100 (y - x^2)^2: a curved valley, minimum at (1, 1).
    Rosenbrock,
    /// Mean cross-entropy of y = sigmoid(w x + b) on a seeded 1D dataset.
    Logistic,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Quadratic, Kind::Saddle, Kind::Rosenbrock, Kind::Logistic];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Quadratic => "ill-conditioned quadratic",
            Kind::Saddle => "saddle x^2 - y^2",
            Kind::Rosenbrock => "Rosenbrock",
            Kind::Logistic => "logistic regression on data",
        }
    }
}

/// The 1D data of the logistic surface: class 0 around -1, class 1 around
/// +1.5, overlapping so the minimum is finite.
const LOGISTIC_POINTS: usize = 40;
const LOGISTIC_SEED: u64 = 7;

#[derive(Clone, Debug)]
pub struct Surface {
    pub kind: Kind,
    /// (x, label) pairs; empty except for `Kind::Logistic`.
    pub data: Vec<[f64; 2]>,
}

impl Surface {
    pub fn new(kind: Kind) -> Self {
        let data = if kind == Kind::Logistic { logistic_data() } else { Vec::new() };
        Surface { kind, data }
    }

    /// The region drawn: [x_min, x_max, y_min, y_max] (for the logistic
    /// surface x is w and y is b).
    pub fn bounds(&self) -> [f64; 4] {
        match self.kind {
            Kind::Quadratic => [-3.0, 3.0, -3.0, 3.0],
            Kind::Saddle => [-2.0, 2.0, -2.0, 2.0],
            Kind::Rosenbrock => [-2.0, 2.0, -1.0, 3.0],
            Kind::Logistic => [-4.0, 8.0, -6.0, 6.0],
        }
    }

    pub fn default_start(&self) -> [f64; 2] {
        match self.kind {
            Kind::Quadratic => [-2.5, 1.5],
            Kind::Saddle => [-1.8, 0.01],
            Kind::Rosenbrock => [-1.5, 2.5],
            Kind::Logistic => [-3.0, 4.0],
        }
    }

    /// A learning rate at which plain SGD makes visible progress.
    pub fn default_lr(&self) -> f32 {
        match self.kind {
            Kind::Quadratic => 0.04,
            Kind::Saddle => 0.05,
            Kind::Rosenbrock => 0.001,
            Kind::Logistic => 0.5,
        }
    }

    /// Whether the loss has a lower bound; a descent on a surface without
    /// one is stopped where it leaves the region drawn.
    pub fn bounded_below(&self) -> bool {
        self.kind != Kind::Saddle
    }

    pub fn contains(&self, p: [f64; 2]) -> bool {
        let [x0, x1, y0, y1] = self.bounds();
        (x0..=x1).contains(&p[0]) && (y0..=y1).contains(&p[1])
    }

    pub fn loss(&self, [x, y]: [f64; 2]) -> f64 {
        match self.kind {
            Kind::Quadratic => 0.5 * (x * x + 20.0 * y * y),
            Kind::Saddle => x * x - y * y,
            Kind::Rosenbrock => (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
            Kind::Logistic => {
                let n = self.data.len().max(1) as f64;
                // -[t ln s + (1-t) ln(1-s)] with s = sigmoid(z) is softplus(z) - t z
                self.data.iter().map(|&[xi, t]| softplus(x * xi + y) - t * (x * xi + y)).sum::<f64>() / n
            }
        }
    }

    pub fn grad(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        match self.kind {
            Kind::Quadratic => [x, 20.0 * y],
            Kind::Saddle => [2.0 * x, -2.0 * y],
            Kind::Rosenbrock => [-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)],
            Kind::Logistic => {
                let n = self.data.len().max(1) as f64;
                let (mut gw, mut gb) = (0.0, 0.0);
                for &[xi, t] in &self.data {
                    let e = sigmoid(x * xi + y) - t;
                    gw += e * xi;
                    gb += e;
                }
                [gw / n, gb / n]
            }
        }
    }

    /// Loss on a `size` x `size` lattice of cell centres over `bounds()`,
    /// row 0 at the top (largest y), as images are stored.
    pub fn grid(&self, size: usize) -> Vec<f64> {
        let [x0, x1, y0, y1] = self.bounds();
        let (dx, dy) = ((x1 - x0) / size as f64, (y1 - y0) / size as f64);
        (0..size * size).map(|i| self.loss([x0 + ((i % size) as f64 + 0.5) * dx, y1 - ((i / size) as f64 + 0.5) * dy])).collect()
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// ln(1 + e^z) without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

fn logistic_data() -> Vec<[f64; 2]> {
    let mut rng = SeededRng::new(LOGISTIC_SEED);
    (0..LOGISTIC_POINTS)
        .map(|i| {
            let t = (i % 2) as f64;
            let centre = if t == 1.0 { 1.5 } else { -1.0 };
            [centre + rng.uniform_in(-2.0, 2.0), t]
        })
        .collect()
}

/// Why a descent stopped early.
#[derive(Clone, Debug, PartialEq)]
pub enum Halt {
    /// Left the region drawn on a surface unbounded below (the saddle).
    Left,
    /// The loss or the parameters became NaN or infinite.
    Diverged,
}

/// One optimizer walking down a surface from a start point.
pub struct Descent {
    opt: Box<dyn Optimizer>,
    params: Vec<Param>,
    /// Every point visited, the start first.
    pub path: Vec<[f64; 2]>,
    /// Loss at each point of `path`.
    pub losses: Vec<f64>,
    pub halted: Option<Halt>,
}

impl Descent {
    pub fn new(opt: Box<dyn Optimizer>, surface: &Surface, start: [f64; 2]) -> Self {
        let params = vec![Param::new("p", vec![2], vec![start[0] as f32, start[1] as f32])];
        let at = [params[0].value[0] as f64, params[0].value[1] as f64];
        Descent { opt, params, path: vec![at], losses: vec![surface.loss(at)], halted: None }
    }

    pub fn kind(&self) -> &'static str {
        self.opt.kind()
    }

    pub fn position(&self) -> [f64; 2] {
        self.path.last().copied().unwrap_or([0.0, 0.0])
    }

    /// One optimizer step with the analytic gradient at the current point;
    /// nothing once halted.
    pub fn step(&mut self, surface: &Surface) -> Result<(), OptimError> {
        if self.halted.is_some() {
            return Ok(());
        }
        let g = surface.grad(self.position());
        self.params[0].grad = vec![g[0] as f32, g[1] as f32];
        self.opt.step(&mut self.params)?;
        let at = [self.params[0].value[0] as f64, self.params[0].value[1] as f64];
        let loss = surface.loss(at);
        if !(loss.is_finite() && at.iter().all(|v| v.is_finite())) {
            self.halted = Some(Halt::Diverged);
            return Ok(());
        }
        self.path.push(at);
        self.losses.push(loss);
        if !surface.bounded_below() && !surface.contains(at) {
            self.halted = Some(Halt::Left);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{AdaGrad, Adam, Momentum, Nesterov, RmsProp, Sgd};

    fn numeric_grad(s: &Surface, p: [f64; 2]) -> [f64; 2] {
        let h = 1e-6;
        let d = |i: usize| {
            let (mut a, mut b) = (p, p);
            a[i] += h;
            b[i] -= h;
            (s.loss(a) - s.loss(b)) / (2.0 * h)
        };
        [d(0), d(1)]
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = SeededRng::new(3);
        for kind in Kind::ALL {
            let s = Surface::new(kind);
            let [x0, x1, y0, y1] = s.bounds();
            for _ in 0..50 {
                let p = [rng.uniform_in(x0, x1), rng.uniform_in(y0, y1)];
                let (g, n) = (s.grad(p), numeric_grad(&s, p));
                for i in 0..2 {
                    let tol = 1e-5 * (1.0 + n[i].abs());
                    assert!((g[i] - n[i]).abs() < tol, "{kind:?} at {p:?}: analytic {g:?}, numeric {n:?}");
                }
            }
        }
    }

    #[test]
    fn losses_are_the_formulas() {
        assert_eq!(Surface::new(Kind::Quadratic).loss([1.0, 2.0]), 0.5 * (1.0 + 80.0));
        assert_eq!(Surface::new(Kind::Saddle).loss([1.0, 2.0]), -3.0);
        assert_eq!(Surface::new(Kind::Rosenbrock).loss([1.0, 1.0]), 0.0);
        assert_eq!(Surface::new(Kind::Rosenbrock).loss([0.0, 1.0]), 101.0);
        // at w = b = 0 every prediction is 0.5: loss ln 2 whatever the data
        let l = Surface::new(Kind::Logistic);
        assert_eq!(l.data.len(), LOGISTIC_POINTS);
        assert!((l.loss([0.0, 0.0]) - 2f64.ln()).abs() < 1e-12);
        // the classes overlap: the best fit keeps a finite, positive loss
        assert!(l.data.iter().any(|&[x, t]| t == 0.0 && x > 0.0) && l.data.iter().any(|&[x, t]| t == 1.0 && x < 0.0));
    }

    #[test]
    fn grid_rows_run_top_down() {
        let s = Surface::new(Kind::Saddle);
        let g = s.grid(4);
        // cell centres at +-0.5, +-1.5; top-left is (-1.5, 1.5)
        assert_eq!(g[0], s.loss([-1.5, 1.5]));
        assert_eq!(g[15], s.loss([1.5, -1.5]));
        assert_eq!(g[5], s.loss([-0.5, 0.5]));
    }

    fn all_optimizers(lr: f32) -> Vec<Box<dyn Optimizer>> {
        vec![
            Box::new(Sgd::new(lr)),
            Box::new(Momentum::new(lr, 0.9)),
            Box::new(Nesterov::new(lr, 0.9)),
            Box::new(AdaGrad::new(lr * 10.0)),
            Box::new(RmsProp::new(lr, 0.9)),
            Box::new(Adam::new(lr)),
        ]
    }

    #[test]
    fn every_optimizer_descends_the_quadratic() {
        let s = Surface::new(Kind::Quadratic);
        for opt in all_optimizers(s.default_lr()) {
            let mut d = Descent::new(opt, &s, s.default_start());
            for _ in 0..200 {
                d.step(&s).unwrap();
            }
            let name = d.kind();
            assert_eq!(d.halted, None, "{name}");
            assert_eq!(d.path.len(), 201);
            let (first, last) = (d.losses[0], d.losses[200]);
            assert!(last < 0.05 * first, "{name}: loss {first} -> {last}");
        }
    }

    #[test]
    fn plain_sgd_loss_falls_every_step_on_the_quadratic() {
        // lr below 1 / L (L = 20): gradient descent is monotone
        let s = Surface::new(Kind::Quadratic);
        let mut d = Descent::new(Box::new(Sgd::new(0.04)), &s, s.default_start());
        for _ in 0..50 {
            d.step(&s).unwrap();
        }
        assert!(d.losses.windows(2).all(|w| w[1] < w[0]), "{:?}", d.losses);
    }

    #[test]
    fn the_saddle_is_left_and_divergence_is_caught() {
        let s = Surface::new(Kind::Saddle);
        let mut d = Descent::new(Box::new(Sgd::new(0.1)), &s, [0.5, 0.01]);
        for _ in 0..200 {
            d.step(&s).unwrap();
        }
        assert_eq!(d.halted, Some(Halt::Left));
        let n = d.path.len();
        d.step(&s).unwrap();
        assert_eq!(d.path.len(), n, "a halted descent stays put");
        // lr far above 2 / L on the quadratic blows up until f32 overflows
        let q = Surface::new(Kind::Quadratic);
        let mut d = Descent::new(Box::new(Sgd::new(5.0)), &q, q.default_start());
        for _ in 0..2000 {
            d.step(&q).unwrap();
        }
        assert_eq!(d.halted, Some(Halt::Diverged));
        assert!(d.path.len() > 10 && d.path.len() < 200, "{}", d.path.len());
        assert!(d.losses.iter().all(|l| l.is_finite()));
        // leaving the region of a bounded surface is no reason to stop
        // (lr 0.12: y is multiplied by 1 - 0.12 * 20 = -1.4 each step)
        let mut d = Descent::new(Box::new(Sgd::new(0.12)), &q, [2.9, 2.9]);
        for _ in 0..5 {
            d.step(&q).unwrap();
        }
        assert_eq!((&d.halted, d.path.len()), (&None, 6));
        assert!(!q.contains(d.position()), "{:?}", d.position());
    }
}
