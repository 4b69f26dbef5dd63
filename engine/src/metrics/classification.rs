//! Classification metrics: the confusion matrix (rows are true classes,
//! columns predicted ones), accuracy, per-class precision and recall, and
//! histograms of values for the layer inspection views.

use super::MetricsError;

/// Counts of (true class, predicted class) pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confusion {
    classes: usize,
    /// Row-major `[classes, classes]`: `counts[t * classes + p]`.
    counts: Vec<usize>,
}

impl Confusion {
    /// Count `truth[i]` against `predicted[i]`; every label must be below
    /// `classes` and the two lists equally long.
    pub fn new(classes: usize, truth: &[usize], predicted: &[usize]) -> Result<Confusion, MetricsError> {
        if classes == 0 {
            return Err(MetricsError::Invalid("a confusion matrix needs at least one class".into()));
        }
        if truth.len() != predicted.len() {
            return Err(MetricsError::Invalid(format!("{} true labels but {} predictions", truth.len(), predicted.len())));
        }
        let mut counts = vec![0; classes * classes];
        for (i, (&t, &p)) in truth.iter().zip(predicted).enumerate() {
            if t >= classes || p >= classes {
                return Err(MetricsError::Invalid(format!("sample {i}: label {t} or prediction {p} is not below {classes} classes")));
            }
            counts[t * classes + p] += 1;
        }
        Ok(Confusion { classes, counts })
    }

    /// From class scores `[N, classes]` row-major: the prediction is the
    /// highest score (the first on ties).
    pub fn from_scores(classes: usize, truth: &[usize], scores: &[f32]) -> Result<Confusion, MetricsError> {
        if classes == 0 || scores.len() != truth.len() * classes {
            return Err(MetricsError::Invalid(format!("{} scores for {} samples of {classes} classes", scores.len(), truth.len())));
        }
        let predicted: Vec<usize> = scores.chunks_exact(classes).map(argmax).collect();
        Confusion::new(classes, truth, &predicted)
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Samples of class `truth` predicted as `predicted` (0 out of range).
    pub fn get(&self, truth: usize, predicted: usize) -> usize {
        if truth < self.classes && predicted < self.classes { self.counts[truth * self.classes + predicted] } else { 0 }
    }

    /// Samples whose true class is `truth`.
    pub fn row_sum(&self, truth: usize) -> usize {
        (0..self.classes).map(|p| self.get(truth, p)).sum()
    }

    /// Samples predicted as `predicted`.
    pub fn column_sum(&self, predicted: usize) -> usize {
        (0..self.classes).map(|t| self.get(t, predicted)).sum()
    }

    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Fraction on the diagonal (0 when empty).
    pub fn accuracy(&self) -> f32 {
        let right: usize = (0..self.classes).map(|c| self.get(c, c)).sum();
        right as f32 / self.total().max(1) as f32
    }

    /// Of the samples of class `c`, the fraction predicted `c` (None if
    /// there are none).
    pub fn recall(&self, c: usize) -> Option<f32> {
        let n = self.row_sum(c);
        (n > 0).then(|| self.get(c, c) as f32 / n as f32)
    }

    /// Of the samples predicted `c`, the fraction that are `c`.
    pub fn precision(&self, c: usize) -> Option<f32> {
        let n = self.column_sum(c);
        (n > 0).then(|| self.get(c, c) as f32 / n as f32)
    }

    /// CSV with a header row of predicted classes and one row per true class.
    pub fn to_csv(&self, names: &[String]) -> String {
        let name = |i: usize| names.get(i).cloned().unwrap_or_else(|| i.to_string());
        let header: Vec<String> = std::iter::once("true\\predicted".to_string()).chain((0..self.classes).map(name)).collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows = (0..self.classes).map(|t| std::iter::once(name(t)).chain((0..self.classes).map(move |p| self.get(t, p).to_string())).collect::<Vec<_>>());
        crate::csv_file::to_string(&header, rows)
    }
}

/// Index of the largest value (the first on ties; NaN never wins).
pub fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &x)| if x > bv { (i, x) } else { (bi, bv) }).0
}

/// Equal-width histogram of the finite values of `v`.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Lower edge of the first bin and upper edge of the last.
    pub range: [f32; 2],
    pub counts: Vec<usize>,
    pub mean: f32,
    pub std: f32,
}

impl Histogram {
    /// `bins` bins over [min, max] of the finite values (a single value gets
    /// a unit-wide range around it). Non-finite values are skipped.
    pub fn new(v: &[f32], bins: usize) -> Histogram {
        Histogram::build(v, bins, None)
    }

    /// As [`Histogram::new`] over at most `mean +- k std`: values outside
    /// count in the end bins. A few outliers (typical of gradients) then
    /// do not squeeze everything else into one bin.
    pub fn clipped(v: &[f32], bins: usize, k: f32) -> Histogram {
        Histogram::build(v, bins, Some(k))
    }

    fn build(v: &[f32], bins: usize, clip: Option<f32>) -> Histogram {
        let bins = bins.max(1);
        let finite = || v.iter().copied().filter(|x| x.is_finite());
        let n = finite().count();
        let (mut lo, mut hi) = finite().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        if n == 0 {
            return Histogram { range: [0.0, 1.0], counts: vec![0; bins], mean: 0.0, std: 0.0 };
        }
        let (sum, sq) = finite().fold((0.0f64, 0.0f64), |(s, q), x| (s + x as f64, q + (x as f64) * (x as f64)));
        let mean = sum / n as f64;
        let std = (sq / n as f64 - mean * mean).max(0.0).sqrt();
        if let Some(k) = clip {
            lo = lo.max((mean - k as f64 * std) as f32);
            hi = hi.min((mean + k as f64 * std) as f32);
        }
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) };
        let mut counts = vec![0; bins];
        let width = (hi - lo) as f64 / bins as f64;
        for x in finite() {
            // below lo (clipped) saturates to bin 0 through the cast
            let b = (((x - lo) as f64 / width).max(0.0) as usize).min(bins - 1);
            counts[b] += 1;
        }
        Histogram { range: [lo, hi], counts, mean: mean as f32, std: std as f32 }
    }

    /// Centre of bin `i`.
    pub fn center(&self, i: usize) -> f32 {
        let w = (self.range[1] - self.range[0]) / self.counts.len().max(1) as f32;
        self.range[0] + (i as f32 + 0.5) * w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3 classes, 7 samples, counted by hand:
    /// truth 0 0 0 1 1 2 2, predicted 0 1 0 1 1 0 2
    #[test]
    fn hand_made_confusion_matrix() {
        let c = Confusion::new(3, &[0, 0, 0, 1, 1, 2, 2], &[0, 1, 0, 1, 1, 0, 2]).unwrap();
        let rows: Vec<Vec<usize>> = (0..3).map(|t| (0..3).map(|p| c.get(t, p)).collect()).collect();
        assert_eq!(rows, vec![vec![2, 1, 0], vec![0, 2, 0], vec![1, 0, 1]]);
        assert_eq!((c.row_sum(0), c.row_sum(1), c.row_sum(2)), (3, 2, 2));
        assert_eq!((c.column_sum(0), c.column_sum(1), c.column_sum(2)), (3, 3, 1));
        assert_eq!(c.total(), 7);
        assert!((c.accuracy() - 5.0 / 7.0).abs() < 1e-7);
        assert_eq!(c.recall(0), Some(2.0 / 3.0));
        assert_eq!(c.precision(1), Some(2.0 / 3.0));
        assert_eq!(c.precision(2), Some(1.0));
        assert_eq!(c.to_csv(&["a".into(), "b".into()]), "true\\predicted,a,b,2\na,2,1,0\nb,0,2,0\n2,1,0,1\n");
        // class names holding commas or quotes stay one field
        assert_eq!(
            c.to_csv(&["t-shirt, top".into(), "say \"b\"".into()]),
            "true\\predicted,\"t-shirt, top\",\"say \"\"b\"\"\",2\n\"t-shirt, top\",2,1,0\n\"say \"\"b\"\"\",0,2,0\n2,1,0,1\n"
        );
        let empty = Confusion::new(2, &[], &[]).unwrap();
        assert_eq!((empty.accuracy(), empty.recall(0)), (0.0, None));
    }

    #[test]
    fn from_scores_takes_the_argmax() {
        // rows: argmax 1, 0 (tie goes to the first), 2 (NaN ignored)
        let scores = [0.1, 0.7, 0.2, 0.5, 0.5, 0.0, f32::NAN, -1.0, 3.0];
        let c = Confusion::from_scores(3, &[1, 1, 2], &scores).unwrap();
        assert_eq!((c.get(1, 1), c.get(1, 0), c.get(2, 2)), (1, 1, 1));
        assert!(Confusion::from_scores(3, &[1], &scores).is_err());
        assert!(Confusion::new(3, &[0, 3], &[0, 0]).unwrap_err().to_string().contains("sample 1"));
        assert!(Confusion::new(3, &[0], &[0, 1]).is_err());
        assert!(Confusion::new(0, &[], &[]).is_err());
    }

    #[test]
    fn histogram_bins_by_hand() {
        // range [0, 4], 4 bins of width 1: 0 -> bin 0, 0.5 -> 0, 1 -> 1, 3.9 -> 3, 4 -> 3 (last edge inclusive)
        let h = Histogram::new(&[0.0, 0.5, 1.0, 3.9, 4.0, f32::NAN], 4);
        assert_eq!(h.range, [0.0, 4.0]);
        assert_eq!(h.counts, vec![2, 1, 0, 2]);
        assert!((h.mean - 1.88).abs() < 1e-6);
        assert_eq!(h.center(1), 1.5);
        let one = Histogram::new(&[2.0, 2.0], 3);
        assert_eq!((one.range, one.counts.clone(), one.std), ([1.5, 2.5], vec![0, 2, 0], 0.0));
        assert_eq!(Histogram::new(&[], 2).counts, vec![0, 0]);
        // 0 x 8 and 1 x 8 then an outlier 100: mean 108/17 = 6.35, std 23.4;
        // at 1 std the range is [0, 29.8], the outlier lands in the last bin
        let mut v = vec![0.0f32; 8];
        v.extend([1.0; 8]);
        v.push(100.0);
        let c = Histogram::clipped(&v, 4, 1.0);
        let mean = 108.0f64 / 17.0;
        assert!((c.mean as f64 - mean).abs() < 1e-5, "{}", c.mean);
        let var = (8.0 + 10000.0) / 17.0 - mean * mean;
        assert!((c.std as f64 - var.sqrt()).abs() < 1e-3, "{}", c.std);
        assert_eq!(c.range[0], 0.0);
        assert!((c.range[1] as f64 - (mean + var.sqrt())).abs() < 1e-3, "{:?}", c.range);
        assert_eq!(c.counts, vec![16, 0, 0, 1]);
        assert_eq!(Histogram::new(&v, 4).counts, vec![16, 0, 0, 1]);
    }
}
