//! The standard monocular depth metrics (Eigen et al. 2014), over the valid
//! pixels (true depth > 0) of a set of images.

/// Accumulated over images with [`DepthMetrics::add`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DepthMetrics {
    /// Valid pixels seen.
    pub pixels: usize,
    /// Images with at least one valid pixel.
    pub images: usize,
    sum_si: f64,
    sum_abs_rel: f64,
    sum_sq: f64,
    within: usize,
}

impl DepthMetrics {
    /// Add one image: `pred` and `truth` depths in metres, pixel for pixel.
    /// A predicted depth below 1 mm counts as 1 mm (logs stay finite).
    pub fn add(&mut self, pred: &[f32], truth: &[f32]) {
        let (mut n, mut s1, mut s2) = (0usize, 0.0f64, 0.0f64);
        for (&p, &t) in pred.iter().zip(truth) {
            if !(t > 0.0 && t.is_finite()) {
                continue;
            }
            let (p, t) = ((p as f64).max(1e-3), t as f64);
            let d = p.ln() - t.ln();
            n += 1;
            s1 += d;
            s2 += d * d;
            self.sum_abs_rel += (p - t).abs() / t;
            self.sum_sq += (p - t) * (p - t);
            if (p / t).max(t / p) < 1.25 {
                self.within += 1;
            }
        }
        if n > 0 {
            let n = n as f64;
            self.sum_si += s2 / n - (s1 / n) * (s1 / n);
            self.images += 1;
            self.pixels += n as usize;
        }
    }

    /// Scale-invariant log error (the loss with lambda = 1), mean over
    /// images: `(1/n) sum d^2 - (1/n^2) (sum d)^2`, `d = ln pred - ln truth`.
    pub fn scale_invariant(&self) -> f64 {
        self.sum_si / self.images.max(1) as f64
    }

    /// Mean over pixels of `|pred - truth| / truth`.
    pub fn abs_rel(&self) -> f64 {
        self.sum_abs_rel / self.pixels.max(1) as f64
    }

    /// Root mean squared error in metres, over pixels.
    pub fn rmse(&self) -> f64 {
        (self.sum_sq / self.pixels.max(1) as f64).sqrt()
    }

    /// Fraction of pixels with `max(pred / truth, truth / pred) < 1.25`.
    pub fn delta1(&self) -> f64 {
        self.within as f64 / self.pixels.max(1) as f64
    }
}
