//! An in-memory labelled dataset and its seeded mini-batches.

use super::DataError;
use crate::rng::SeededRng;

/// Samples stored contiguously as f32 `[N, ...sample_shape]` (images are
/// `[N, C, H, W]` in [0, 1]) with one class label per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    x: Vec<f32>,
    sample_shape: Vec<usize>,
    y: Vec<usize>,
    num_classes: usize,
}

/// One mini-batch: `x` is row-major with `shape = [batch, ...sample_shape]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub x: Vec<f32>,
    pub shape: Vec<usize>,
    pub y: Vec<usize>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Values per sample (product of `shape[1..]`).
    pub fn sample_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }
}

impl Dataset {
    /// Checks that sizes agree, labels are below `num_classes` and every
    /// value is finite.
    pub fn new(x: Vec<f32>, sample_shape: Vec<usize>, y: Vec<usize>, num_classes: usize) -> Result<Self, DataError> {
        let per: usize = sample_shape.iter().product();
        if sample_shape.is_empty() || per == 0 {
            return Err(DataError::Invalid(format!("sample shape {sample_shape:?} holds no values")));
        }
        if x.len() != y.len() * per {
            return Err(DataError::Invalid(format!("{} values for {} samples of shape {sample_shape:?} (expected {})", x.len(), y.len(), y.len() * per)));
        }
        if let Some((i, l)) = y.iter().enumerate().find(|(_, l)| **l >= num_classes) {
            return Err(DataError::Invalid(format!("label {l} of sample {i} is not below num_classes = {num_classes}")));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(DataError::Invalid(format!("non-finite value in sample {}", i / per)));
        }
        Ok(Dataset { x, sample_shape, y, num_classes })
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    pub fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }

    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// All samples, `[N, ...sample_shape]` row-major.
    pub fn x(&self) -> &[f32] {
        &self.x
    }

    pub fn y(&self) -> &[usize] {
        &self.y
    }

    /// Sample `i` and its label, or None when out of range.
    pub fn get(&self, i: usize) -> Option<(&[f32], usize)> {
        let n = self.sample_len();
        Some((self.x.get(i * n..(i + 1) * n)?, *self.y.get(i)?))
    }

    /// The samples at `indices`, in that order, as one batch.
    pub fn batch(&self, indices: &[usize]) -> Result<Batch, DataError> {
        let mut b = Batch { x: Vec::with_capacity(indices.len() * self.sample_len()), shape: vec![], y: Vec::with_capacity(indices.len()) };
        self.batch_into(indices, &mut b)?;
        Ok(b)
    }

    /// The samples at `indices` into `b`, reusing its buffers.
    pub fn batch_into(&self, indices: &[usize], b: &mut Batch) -> Result<(), DataError> {
        b.x.clear();
        b.y.clear();
        for &i in indices {
            let (s, l) = self.get(i).ok_or_else(|| DataError::Invalid(format!("sample index {i} out of range (dataset has {})", self.len())))?;
            b.x.extend_from_slice(s);
            b.y.push(l);
        }
        b.shape.clear();
        b.shape.push(indices.len());
        b.shape.extend_from_slice(&self.sample_shape);
        Ok(())
    }

    /// The sample order of epoch `epoch` under `seed` (what
    /// `shuffled_batches` walks).
    pub fn epoch_order(&self, seed: u64, epoch: u64) -> Vec<usize> {
        SeededRng::stream(seed, epoch).permutation(self.len())
    }

    /// A new dataset of the samples at `indices`.
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset, DataError> {
        let b = self.batch(indices)?;
        Ok(Dataset { x: b.x, sample_shape: self.sample_shape.clone(), y: b.y, num_classes: self.num_classes })
    }

    /// This dataset followed by `other` (same sample shape and classes).
    pub fn concat(&self, other: &Dataset) -> Result<Dataset, DataError> {
        if other.sample_shape != self.sample_shape || other.num_classes != self.num_classes {
            return Err(DataError::Invalid(format!(
                "cannot join samples of shape {:?} ({} classes) with {:?} ({} classes)",
                self.sample_shape, self.num_classes, other.sample_shape, other.num_classes
            )));
        }
        let mut x = self.x.clone();
        x.extend_from_slice(&other.x);
        let mut y = self.y.clone();
        y.extend_from_slice(&other.y);
        Ok(Dataset { x, sample_shape: self.sample_shape.clone(), y, num_classes: self.num_classes })
    }

    /// Samples per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.num_classes];
        for &l in &self.y {
            c[l] += 1;
        }
        c
    }

    /// The first `n` samples (all of them if fewer).
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        let per = self.sample_len();
        Dataset { x: self.x[..n * per].to_vec(), sample_shape: self.sample_shape.clone(), y: self.y[..n].to_vec(), num_classes: self.num_classes }
    }

    /// Shuffle with `seed` and split into (train, validation) with
    /// `val_count` samples in validation.
    pub fn split(&self, val_count: usize, seed: u64) -> Result<(Dataset, Dataset), DataError> {
        if val_count > self.len() {
            return Err(DataError::Invalid(format!("validation size {val_count} exceeds dataset size {}", self.len())));
        }
        let order = SeededRng::new(seed).permutation(self.len());
        let (val, train) = order.split_at(val_count);
        Ok((self.subset(train)?, self.subset(val)?))
    }

    /// Number of batches an epoch yields.
    pub fn num_batches(&self, batch_size: usize, drop_last: bool) -> usize {
        match (batch_size, drop_last) {
            (0, _) => 0,
            (b, true) => self.len() / b,
            (b, false) => self.len().div_ceil(b),
        }
    }

    /// Batches of epoch `epoch` in a random order that depends only on
    /// (`seed`, `epoch`), so any epoch can be reproduced on its own.
    pub fn shuffled_batches(&self, batch_size: usize, seed: u64, epoch: u64, drop_last: bool) -> Result<Batches<'_>, DataError> {
        Batches::new(self, self.epoch_order(seed, epoch), batch_size, drop_last)
    }

    /// Batches in dataset order (for evaluation).
    pub fn ordered_batches(&self, batch_size: usize) -> Result<Batches<'_>, DataError> {
        Batches::new(self, (0..self.len()).collect(), batch_size, false)
    }
}

/// Iterator over the batches of one pass.
pub struct Batches<'a> {
    data: &'a Dataset,
    order: Vec<usize>,
    batch_size: usize,
    pos: usize,
    drop_last: bool,
}

impl<'a> Batches<'a> {
    fn new(data: &'a Dataset, order: Vec<usize>, batch_size: usize, drop_last: bool) -> Result<Self, DataError> {
        if batch_size == 0 {
            return Err(DataError::Invalid("batch size must be at least 1".into()));
        }
        Ok(Batches { data, order, batch_size, pos: 0, drop_last })
    }
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let end = (self.pos + self.batch_size).min(self.order.len());
        if end <= self.pos || (self.drop_last && end - self.pos < self.batch_size) {
            return None;
        }
        let idx = &self.order[self.pos..end];
        self.pos = end;
        // Indices come from 0..len, so this cannot fail.
        self.data.batch(idx).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(n: usize) -> Dataset {
        let x = (0..n * 2).map(|v| v as f32).collect();
        let y = (0..n).map(|i| i % 3).collect();
        Dataset::new(x, vec![2], y, 3).unwrap()
    }

    #[test]
    fn rejects_inconsistent_data() {
        assert!(Dataset::new(vec![0.0; 5], vec![2], vec![0, 1], 2).is_err());
        assert!(Dataset::new(vec![0.0; 4], vec![2], vec![0, 2], 2).is_err());
        assert!(Dataset::new(vec![0.0, f32::NAN, 0.0, 0.0], vec![2], vec![0, 1], 2).is_err());
        assert!(Dataset::new(vec![], vec![0], vec![], 2).is_err());
        assert!(tiny(4).batch(&[4]).is_err());
        assert!(tiny(4).shuffled_batches(0, 1, 0, false).is_err());
    }

    #[test]
    fn batches_cover_every_sample_once_and_are_seeded() {
        let d = tiny(10);
        let bs: Vec<Batch> = d.shuffled_batches(4, 9, 0, false).unwrap().collect();
        assert_eq!(bs.iter().map(|b| b.len()).collect::<Vec<_>>(), vec![4, 4, 2]);
        assert_eq!(bs[0].shape, vec![4, 2]);
        let mut firsts: Vec<usize> = bs.iter().flat_map(|b| b.x.chunks(2).map(|s| s[0] as usize / 2)).collect();
        // Each sample's label matches its values (sample i holds 2i, 2i+1).
        for b in &bs {
            for (s, &l) in b.x.chunks(2).zip(&b.y) {
                assert_eq!(s[1], s[0] + 1.0);
                assert_eq!(l, (s[0] as usize / 2) % 3);
            }
        }
        assert_ne!(firsts, (0..10).collect::<Vec<_>>(), "not shuffled");
        firsts.sort();
        assert_eq!(firsts, (0..10).collect::<Vec<_>>());
        let again: Vec<Batch> = d.shuffled_batches(4, 9, 0, false).unwrap().collect();
        assert_eq!(bs, again);
        let other_epoch: Vec<Batch> = d.shuffled_batches(4, 9, 1, false).unwrap().collect();
        assert_ne!(bs, other_epoch);
        assert_eq!(d.shuffled_batches(4, 9, 0, true).unwrap().count(), 2);
        assert_eq!(d.num_batches(4, true), 2);
        assert_eq!(d.num_batches(4, false), 3);
    }

    #[test]
    fn split_partitions_the_samples() {
        let d = tiny(10);
        let (tr, va) = d.split(3, 5).unwrap();
        assert_eq!((tr.len(), va.len()), (7, 3));
        let mut all: Vec<f32> = tr.x().iter().chain(va.x()).copied().collect();
        all.sort_by(f32::total_cmp);
        assert_eq!(all, d.x().to_vec());
        assert!(d.split(11, 5).is_err());
        assert_eq!(d.take(4).y(), &[0, 1, 2, 0]);
        assert_eq!(d.class_counts(), vec![4, 3, 3]);
        let j = d.take(2).concat(&d.subset(&[5]).unwrap()).unwrap();
        assert_eq!((j.x(), j.y()), (&[0.0, 1.0, 2.0, 3.0, 10.0, 11.0][..], &[0usize, 1, 2][..]));
        let other = Dataset::new(vec![0.0; 3], vec![3], vec![0], 3).unwrap();
        assert!(d.concat(&other).is_err());
    }
}
