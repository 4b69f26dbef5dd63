//! Small models computed directly in Rust with hand-derived backward passes:
//! softmax regression and a one-hidden-layer ReLU MLP. They test the
//! training machinery without any graph compiler, and serve as a reference
//! for what a [`Model`](super::Model) implementation must do.

mod mlp;
mod softmax;

pub use mlp::Mlp;
pub use softmax::SoftmaxRegression;

use super::ModelError;
use crate::data::Batch;

/// Dot product with 8 independent accumulators (lets the compiler use SIMD
/// without reordering a single float sum).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ac.remainder().iter().zip(bc.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ac.zip(bc) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// y += a * x
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `out[i, o] = x[i, :] . w[o, :] + b[o]` for `x: [n, d]`, `w: [k, d]`.
fn linear(x: &[f32], w: &[f32], b: &[f32], d: usize) -> Vec<f32> {
    let k = b.len();
    let mut out = Vec::with_capacity(x.len() / d * k);
    for xi in x.chunks_exact(d) {
        for (wo, bo) in w.chunks_exact(d).zip(b) {
            out.push(dot(xi, wo) + bo);
        }
    }
    out
}

/// Gradients of `linear` given `dout: [n, k]`: accumulates into `dw`, `db`
/// (which must start at zero) and returns `dx: [n, d]` if asked.
fn linear_backward(x: &[f32], w: &[f32], dout: &[f32], d: usize, dw: &mut [f32], db: &mut [f32], want_dx: bool) -> Vec<f32> {
    let k = db.len();
    let mut dx = if want_dx { vec![0.0; x.len()] } else { Vec::new() };
    for (i, (xi, di)) in x.chunks_exact(d).zip(dout.chunks_exact(k)).enumerate() {
        for (o, &g) in di.iter().enumerate() {
            db[o] += g;
            axpy(g, xi, &mut dw[o * d..(o + 1) * d]);
            if want_dx {
                axpy(g, &w[o * d..(o + 1) * d], &mut dx[i * d..(i + 1) * d]);
            }
        }
    }
    dx
}

/// Mean softmax cross-entropy of `logits: [n, k]` against `y`, the number
/// of correct argmax predictions, and (if asked) d(loss)/d(logits).
fn softmax_cross_entropy(logits: &[f32], y: &[usize], k: usize, want_grad: bool) -> (f32, usize, Vec<f32>) {
    let n = y.len();
    let mut loss = 0.0f64;
    let mut correct = 0;
    let mut grad = if want_grad { vec![0.0; logits.len()] } else { Vec::new() };
    for (i, (row, &label)) in logits.chunks_exact(k).zip(y).enumerate() {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = row.iter().map(|&v| ((v - max) as f64).exp()).sum();
        let log_z = max as f64 + sum.ln();
        loss += log_z - row[label] as f64;
        // First index of the maximum, as argmax does.
        if row.iter().position(|&v| v == max) == Some(label) {
            correct += 1;
        }
        if want_grad {
            for (c, &v) in row.iter().enumerate() {
                let p = (v as f64 - log_z).exp();
                grad[i * k + c] = ((p - if c == label { 1.0 } else { 0.0 }) / n as f64) as f32;
            }
        }
    }
    ((loss / n.max(1) as f64) as f32, correct, grad)
}

/// Check a batch against a model's input size and class count.
fn check_batch(batch: &Batch, d: usize, k: usize) -> Result<(), ModelError> {
    if batch.sample_len() != d || batch.x.len() != batch.len() * d {
        return Err(format!("batch of shape {:?} does not fit a model with {d} inputs", batch.shape).into());
    }
    if let Some(l) = batch.y.iter().find(|&&l| l >= k) {
        return Err(format!("label {l} is not below the model's {k} classes").into());
    }
    if batch.is_empty() {
        return Err("empty batch".into());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod gradcheck {
    use crate::data::Batch;
    use crate::train::Model;

    /// Compare every gradient entry with central finite differences of the
    /// eval loss (f32 model, so h = 1e-2 and a loose tolerance).
    pub fn check(model: &mut dyn Model, batch: &Batch) {
        let out = model.train_step(batch).unwrap();
        let analytic: Vec<Vec<f32>> = model.params().iter().map(|p| p.grad.clone()).collect();
        // The train-mode loss equals the eval loss for these models.
        assert_eq!(out.loss, model.eval(batch).unwrap().loss);
        let h = 1e-2f32;
        let mut worst = 0.0f32;
        for (k, grads) in analytic.iter().enumerate() {
            for (i, &g) in grads.iter().enumerate() {
                let orig = model.params()[k].value[i];
                model.params_mut()[k].value[i] = orig + h;
                let up = model.eval(batch).unwrap().loss;
                model.params_mut()[k].value[i] = orig - h;
                let down = model.eval(batch).unwrap().loss;
                model.params_mut()[k].value[i] = orig;
                let fd = (up - down) / (2.0 * h);
                let err = (fd - g).abs() / (1e-2 + fd.abs().max(g.abs()));
                worst = worst.max(err);
                assert!(err < 5e-3, "{}[{i}]: analytic {g}, finite difference {fd}", model.params()[k].name);
            }
        }
        assert!(analytic.iter().flatten().any(|g| g.abs() > 1e-3), "all gradients vanish: the check would be vacuous");
        eprintln!("gradient check: worst relative error {worst:.2e}");
    }
}
