//! Seeded train / validation / test splits and k-fold cross-validation,
//! stratified (each class dealt out in proportion) so small sets keep every
//! class in every part; and per-channel normalization whose statistics come
//! from the training split only (statistics that saw the test set would leak
//! it into training).

use super::{DataError, Dataset};
use crate::rng::SeededRng;

/// Sample indices of each part.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitIndices {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
}

/// Indices of each class, each class shuffled with `seed`.
fn shuffled_by_class(labels: &[usize], seed: u64) -> Vec<Vec<usize>> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut by_class = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l].push(i);
    }
    let mut rng = SeededRng::new(seed);
    for c in &mut by_class {
        rng.shuffle(c);
    }
    by_class
}

/// Split with fractions `val` and `test` (the rest trains). With `stratify`
/// each class is split in these proportions (rounded per class), else the
/// whole shuffled set is. Every part keeps the shuffled order.
pub fn split_indices(labels: &[usize], val: f32, test: f32, seed: u64, stratify: bool) -> Result<SplitIndices, DataError> {
    if !(val >= 0.0 && test >= 0.0 && val + test < 1.0) {
        return Err(DataError::Invalid(format!("validation {val} and test {test} fractions must be >= 0 and sum below 1")));
    }
    let groups = if stratify { shuffled_by_class(labels, seed) } else { vec![SeededRng::new(seed).permutation(labels.len())] };
    let mut out = SplitIndices { train: Vec::new(), val: Vec::new(), test: Vec::new() };
    for g in groups {
        let n = g.len() as f32;
        let nt = (n * test).round() as usize;
        let nv = ((n * val).round() as usize).min(g.len() - nt);
        out.test.extend_from_slice(&g[..nt]);
        out.val.extend_from_slice(&g[nt..nt + nv]);
        out.train.extend_from_slice(&g[nt + nv..]);
    }
    if out.train.is_empty() {
        return Err(DataError::Invalid(format!("no samples left for training out of {}", labels.len())));
    }
    Ok(out)
}

/// The three parts as datasets.
pub fn split3(d: &Dataset, val: f32, test: f32, seed: u64, stratify: bool) -> Result<(Dataset, Dataset, Dataset), DataError> {
    let s = split_indices(d.y(), val, test, seed, stratify)?;
    Ok((d.subset(&s.train)?, d.subset(&s.val)?, d.subset(&s.test)?))
}

/// One fold of k-fold cross-validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
}

/// `k` folds: each sample is in exactly one validation part. With
/// `stratify`, each class is shuffled and dealt round-robin over the folds
/// (continuing where the previous class stopped, so fold sizes differ by at
/// most one); else the whole shuffled set is dealt.
pub fn kfold(labels: &[usize], k: usize, seed: u64, stratify: bool) -> Result<Vec<Fold>, DataError> {
    if k < 2 || k > labels.len() {
        return Err(DataError::Invalid(format!("{k}-fold cross-validation needs 2 <= k <= {} samples", labels.len())));
    }
    let order: Vec<usize> = if stratify { shuffled_by_class(labels, seed).concat() } else { SeededRng::new(seed).permutation(labels.len()) };
    let mut vals = vec![Vec::new(); k];
    for (j, &i) in order.iter().enumerate() {
        vals[j % k].push(i);
    }
    let mut fold_of = vec![0; labels.len()];
    for (f, v) in vals.iter().enumerate() {
        for &i in v {
            fold_of[i] = f;
        }
    }
    Ok(vals.into_iter().enumerate().map(|(f, val)| Fold { train: (0..labels.len()).filter(|&i| fold_of[i] != f).collect(), val }).collect())
}

/// Per-channel mean and standard deviation (population, over every pixel
/// of every sample). Samples `[C, H, W]` have C channels; any other shape
/// counts as one channel.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelStats {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

fn channels(d: &Dataset) -> usize {
    match d.sample_shape() {
        [c, _, _] => *c,
        _ => 1,
    }
}

impl ChannelStats {
    /// Computed from `train` alone; apply the result to every split.
    pub fn compute(train: &Dataset) -> Result<ChannelStats, DataError> {
        Self::of_samples(train, &(0..train.len()).collect::<Vec<_>>())
    }

    /// Computed from the samples of `d` at `indices` (a training split
    /// given by its indices, without copying it out).
    pub fn of_samples(d: &Dataset, indices: &[usize]) -> Result<ChannelStats, DataError> {
        if indices.is_empty() {
            return Err(DataError::Invalid("no samples to compute channel statistics from".into()));
        }
        let c = channels(d);
        let plane = d.sample_len() / c;
        let (mut sum, mut sq) = (vec![0f64; c], vec![0f64; c]);
        for &i in indices {
            let (s, _) = d.get(i).ok_or_else(|| DataError::Invalid(format!("sample index {i} out of range (dataset has {})", d.len())))?;
            for (ch, p) in s.chunks(plane).enumerate() {
                for &v in p {
                    sum[ch] += v as f64;
                    sq[ch] += v as f64 * v as f64;
                }
            }
        }
        let n = (indices.len() * plane) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq.iter().zip(&mean).map(|(q, m)| (q / n - m * m).max(0.0).sqrt() as f32).collect();
        Ok(ChannelStats { mean: mean.into_iter().map(|m| m as f32).collect(), std })
    }

    /// (x - mean) / std per channel; a constant channel (std below 1e-8)
    /// is only centred.
    pub fn apply(&self, d: &Dataset) -> Result<Dataset, DataError> {
        let c = channels(d);
        if c != self.mean.len() {
            return Err(DataError::Invalid(format!("statistics for {} channels applied to {c}-channel samples", self.mean.len())));
        }
        let plane = d.sample_len() / c;
        let x = d
            .x()
            .chunks(plane)
            .enumerate()
            .flat_map(|(i, p)| {
                let ch = i % c;
                let (m, s) = (self.mean[ch], if self.std[ch] < 1e-8 { 1.0 } else { self.std[ch] });
                p.iter().map(move |v| (v - m) / s)
            })
            .collect();
        Dataset::new(x, d.sample_shape().to_vec(), d.y().to_vec(), d.num_classes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<usize> {
        // 20 of class 0, 10 of class 1, 10 of class 2
        (0..40)
            .map(|i| {
                if i < 20 {
                    0
                } else if i < 30 {
                    1
                } else {
                    2
                }
            })
            .collect()
    }

    fn count(idx: &[usize], y: &[usize], c: usize) -> usize {
        idx.iter().filter(|&&i| y[i] == c).count()
    }

    #[test]
    fn stratified_split_keeps_proportions_and_partitions() {
        let y = labels();
        let s = split_indices(&y, 0.2, 0.1, 4, true).unwrap();
        // class 0: 2 test, 4 val, 14 train; classes 1, 2: 1 test, 2 val, 7 train
        assert_eq!([count(&s.test, &y, 0), count(&s.test, &y, 1), count(&s.test, &y, 2)], [2, 1, 1]);
        assert_eq!([count(&s.val, &y, 0), count(&s.val, &y, 1), count(&s.val, &y, 2)], [4, 2, 2]);
        assert_eq!(s.train.len(), 28);
        let mut all: Vec<usize> = [s.train.clone(), s.val.clone(), s.test.clone()].concat();
        all.sort();
        assert_eq!(all, (0..40).collect::<Vec<_>>());
        assert_eq!(s, split_indices(&y, 0.2, 0.1, 4, true).unwrap());
        assert_ne!(s, split_indices(&y, 0.2, 0.1, 5, true).unwrap());
        let plain = split_indices(&y, 0.25, 0.25, 4, false).unwrap();
        assert_eq!((plain.train.len(), plain.val.len(), plain.test.len()), (20, 10, 10));
        assert!(split_indices(&y, 0.5, 0.5, 1, true).is_err());
        assert!(split_indices(&y, -0.1, 0.5, 1, true).is_err());
        assert!(split_indices(&y, f32::NAN, 0.1, 1, true).is_err());
    }

    #[test]
    fn kfold_covers_each_sample_once_and_stratifies() {
        let y = labels();
        let folds = kfold(&y, 5, 2, true).unwrap();
        assert_eq!(folds.len(), 5);
        let mut seen = [0; 40];
        for f in &folds {
            assert_eq!(f.val.len(), 8);
            assert_eq!(f.train.len(), 32);
            // 40 samples of 20/10/10 over 5 folds: 4, 2, 2 of each class
            assert_eq!([count(&f.val, &y, 0), count(&f.val, &y, 1), count(&f.val, &y, 2)], [4, 2, 2]);
            assert!(f.train.iter().all(|i| !f.val.contains(i)));
            for &i in &f.val {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
        let uneven = kfold(&y, 3, 2, false).unwrap();
        assert_eq!(uneven.iter().map(|f| f.val.len()).collect::<Vec<_>>(), vec![14, 13, 13]);
        assert!(kfold(&y, 1, 0, true).is_err());
        assert!(kfold(&y, 41, 0, true).is_err());
    }

    #[test]
    fn channel_stats_by_hand() {
        // two 2-channel 1x2 images: channel 0 values 0, 2, 4, 6 (mean 3,
        // var (9 + 1 + 1 + 9) / 4 = 5); channel 1 values all 1 (std 0)
        let d = Dataset::new(vec![0.0, 2.0, 1.0, 1.0, 4.0, 6.0, 1.0, 1.0], vec![2, 1, 2], vec![0, 1], 2).unwrap();
        let s = ChannelStats::compute(&d).unwrap();
        assert_eq!(s.mean, vec![3.0, 1.0]);
        assert!((s.std[0] - 5f32.sqrt()).abs() < 1e-6 && s.std[1] == 0.0);
        let n = s.apply(&d).unwrap();
        let r5 = 5f32.sqrt();
        let want = [-3.0 / r5, -1.0 / r5, 0.0, 0.0, 1.0 / r5, 3.0 / r5, 0.0, 0.0];
        assert!(n.x().iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{:?}", n.x());
        // statistics from the training part only, applied to another split
        let test = Dataset::new(vec![3.0, 3.0, 2.0, 0.0], vec![2, 1, 2], vec![0], 2).unwrap();
        assert_eq!(s.apply(&test).unwrap().x(), &[0.0, 0.0, 1.0, -1.0]);
        let flat = Dataset::new(vec![1.0, 3.0], vec![2], vec![0], 1).unwrap();
        assert!(s.apply(&flat).is_err());
        assert_eq!(ChannelStats::compute(&flat).unwrap().mean, vec![2.0]);
        // only the chosen samples count
        assert_eq!(ChannelStats::of_samples(&d, &[1]).unwrap().mean, vec![5.0, 1.0]);
        assert!(ChannelStats::of_samples(&d, &[2]).is_err());
    }
}
