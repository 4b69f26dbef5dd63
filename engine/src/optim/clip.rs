//! Gradient clipping by global norm: if the L2 norm of all trainable
//! gradients together exceeds `max_norm`, scale them all by
//! `max_norm / norm` (direction kept, length capped).

use crate::train::Param;

/// Clip in place; returns the norm before clipping (NaN or infinity is
/// returned as is and nothing is scaled, so the caller can report it).
pub fn clip_grad_norm(params: &mut [Param], max_norm: f32) -> f32 {
    let norm = grad_norm(params);
    if norm.is_finite() && norm > max_norm && max_norm >= 0.0 {
        let scale = max_norm / norm;
        for p in params.iter_mut().filter(|p| p.trainable) {
            for g in &mut p.grad {
                *g *= scale;
            }
        }
    }
    norm
}

/// Global L2 norm of the trainable gradients (accumulated in f64).
pub fn grad_norm(params: &[Param]) -> f32 {
    let sq: f64 = params.iter().filter(|p| p.trainable).flat_map(|p| &p.grad).map(|&g| (g as f64) * (g as f64)).sum();
    sq.sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Vec<Param> {
        let mut a = Param::new("a", vec![2], vec![0.0; 2]);
        a.grad = vec![3.0, 0.0];
        let mut b = Param::new("b", vec![1], vec![0.0]);
        b.grad = vec![4.0];
        let mut buf = Param::buffer("c", vec![1], vec![0.0]);
        buf.grad = vec![100.0];
        vec![a, b, buf]
    }

    #[test]
    fn scales_to_max_norm_over_all_params() {
        // norm = sqrt(9 + 16) = 5 (the buffer's grad is ignored); max 1 -> scale 0.2
        let mut p = two();
        assert_eq!(clip_grad_norm(&mut p, 1.0), 5.0);
        assert_eq!(p[0].grad, vec![0.6, 0.0]);
        assert!((p[1].grad[0] - 0.8).abs() < 1e-7);
        assert!((grad_norm(&p) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn leaves_small_or_non_finite_gradients() {
        let mut p = two();
        assert_eq!(clip_grad_norm(&mut p, 10.0), 5.0);
        assert_eq!(p[0].grad, vec![3.0, 0.0]);
        p[1].grad[0] = f32::NAN;
        assert!(clip_grad_norm(&mut p, 1.0).is_nan());
        assert_eq!(p[0].grad, vec![3.0, 0.0]);
    }
}
