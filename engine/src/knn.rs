//! k-nearest neighbours: L1 or L2 distance, majority vote, and k-fold
//! cross-validation over k.
//!
//! Everything is deterministic: neighbours are ordered by (distance, training
//! index), and a tied vote goes to the tied class with the nearest member.

use crate::data::Dataset;
use crate::rng::SeededRng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// Sum of absolute differences (Manhattan).
    L1,
    /// Euclidean.
    L2,
}

impl Distance {
    pub fn between(self, a: &[f32], b: &[f32]) -> f32 {
        let pairs = a.iter().zip(b);
        match self {
            Distance::L1 => pairs.map(|(a, b)| (a - b).abs()).sum(),
            Distance::L2 => pairs.map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KnnError {
    #[error("k must be at least 1")]
    ZeroK,
    #[error("k = {k} but there are only {n} training samples")]
    KTooLarge { k: usize, n: usize },
    #[error("query has {got} values, training samples have {want}")]
    Dims { got: usize, want: usize },
    #[error("{folds}-fold cross-validation needs 2 <= folds <= {n} samples")]
    Folds { folds: usize, n: usize },
    #[error("cancelled")]
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    /// Index into the training set.
    pub index: usize,
    pub distance: f32,
    pub label: usize,
}

/// A kNN classifier: "training" is keeping the data.
pub struct Knn<'a> {
    data: &'a Dataset,
}

impl<'a> Knn<'a> {
    pub fn fit(data: &'a Dataset) -> Self {
        Knn { data }
    }

    /// The `k` training samples nearest `query`, nearest first.
    pub fn neighbours(&self, query: &[f32], k: usize, metric: Distance) -> Result<Vec<Neighbour>, KnnError> {
        let (n, per) = (self.data.len(), self.data.sample_len());
        if k == 0 {
            return Err(KnnError::ZeroK);
        }
        if k > n {
            return Err(KnnError::KTooLarge { k, n });
        }
        if query.len() != per {
            return Err(KnnError::Dims { got: query.len(), want: per });
        }
        let mut all: Vec<Neighbour> =
            self.data.x().chunks_exact(per).zip(self.data.y()).enumerate().map(|(index, (x, &label))| Neighbour { index, distance: metric.between(query, x), label }).collect();
        let order = |a: &Neighbour, b: &Neighbour| a.distance.total_cmp(&b.distance).then(a.index.cmp(&b.index));
        if k < n {
            all.select_nth_unstable_by(k - 1, order);
            all.truncate(k);
        }
        all.sort_by(order);
        Ok(all)
    }

    pub fn predict(&self, query: &[f32], k: usize, metric: Distance) -> Result<usize, KnnError> {
        Ok(vote(&self.neighbours(query, k, metric)?, self.data.num_classes()))
    }
}

/// Majority label of `nearest` (ordered nearest first); a tie goes to the
/// tied class whose member comes first.
pub fn vote(nearest: &[Neighbour], classes: usize) -> usize {
    let mut counts = vec![0usize; classes.max(1)];
    for n in nearest {
        if let Some(c) = counts.get_mut(n.label) {
            *c += 1;
        }
    }
    let top = counts.iter().copied().max().unwrap_or(0);
    nearest.iter().find(|n| counts.get(n.label) == Some(&top)).map_or(0, |n| n.label)
}

/// Accuracy of each fold for one k.
#[derive(Clone, Debug, PartialEq)]
pub struct CvPoint {
    pub k: usize,
    pub fold_accuracy: Vec<f32>,
}

impl CvPoint {
    pub fn mean(&self) -> f32 {
        self.fold_accuracy.iter().sum::<f32>() / self.fold_accuracy.len().max(1) as f32
    }
    pub fn min(&self) -> f32 {
        self.fold_accuracy.iter().copied().fold(f32::INFINITY, f32::min)
    }
    pub fn max(&self) -> f32 {
        self.fold_accuracy.iter().copied().fold(f32::NEG_INFINITY, f32::max)
    }
}

/// The validation indices of each fold: a seeded shuffle dealt round-robin.
pub fn folds(n: usize, folds: usize, seed: u64) -> Vec<Vec<usize>> {
    let count = folds.max(1);
    let mut out = vec![Vec::new(); count];
    for (i, s) in SeededRng::new(seed).permutation(n).into_iter().enumerate() {
        out[i % count].push(s);
    }
    out
}

/// `folds`-fold cross-validated accuracy for every k in `ks`. Each held-out
/// sample's neighbours are found once, for the largest k, and every k votes
/// on a prefix of them. `progress(done, total)` is told after each held-out
/// sample; returning false cancels.
pub fn cross_validate(data: &Dataset, n_folds: usize, ks: &[usize], metric: Distance, seed: u64, progress: &mut dyn FnMut(usize, usize) -> bool) -> Result<Vec<CvPoint>, KnnError> {
    let n = data.len();
    if n_folds < 2 || n_folds > n {
        return Err(KnnError::Folds { folds: n_folds, n });
    }
    if ks.contains(&0) {
        return Err(KnnError::ZeroK);
    }
    let max_k = ks.iter().copied().max().unwrap_or(1);
    let mut points: Vec<CvPoint> = ks.iter().map(|&k| CvPoint { k, fold_accuracy: Vec::new() }).collect();
    let mut done = 0;
    for held in folds(n, n_folds, seed) {
        let mut is_held = vec![false; n];
        for &i in &held {
            is_held[i] = true;
        }
        let train_idx: Vec<usize> = (0..n).filter(|i| !is_held[*i]).collect();
        let train = data.subset(&train_idx).map_err(|_| KnnError::Folds { folds: n_folds, n })?;
        let knn = Knn::fit(&train);
        let mut correct = vec![0usize; ks.len()];
        for &i in &held {
            let Some((x, label)) = data.get(i) else { continue };
            let nearest = knn.neighbours(x, max_k, metric)?;
            for (c, &k) in correct.iter_mut().zip(ks) {
                let prefix = nearest.get(..k).ok_or(KnnError::KTooLarge { k, n: train.len() })?;
                *c += usize::from(vote(prefix, data.num_classes()) == label);
            }
            done += 1;
            if !progress(done, n) {
                return Err(KnnError::Cancelled);
            }
        }
        for (p, c) in points.iter_mut().zip(correct) {
            p.fold_accuracy.push(c as f32 / held.len().max(1) as f32);
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(xs: &[f32], ys: &[usize]) -> Dataset {
        Dataset::new(xs.to_vec(), vec![1], ys.to_vec(), 2).unwrap()
    }

    #[test]
    fn distances_by_hand() {
        assert_eq!(Distance::L1.between(&[0.0, 0.0], &[3.0, -4.0]), 7.0);
        assert_eq!(Distance::L2.between(&[0.0, 0.0], &[3.0, -4.0]), 5.0);
        // (3, 0) is nearer in L1, (2, 2) in L2
        let d = Dataset::new(vec![3.0, 0.0, 2.0, 2.0], vec![2], vec![0, 1], 2).unwrap();
        let knn = Knn::fit(&d);
        assert_eq!(knn.predict(&[0.0, 0.0], 1, Distance::L1), Ok(0));
        assert_eq!(knn.predict(&[0.0, 0.0], 1, Distance::L2), Ok(1));
    }

    #[test]
    fn votes_by_hand() {
        // query 1.6: distances 1.6 (c0), 0.6 (c0), 0.4 (c1), 8.4 (c1)
        let d = line(&[0.0, 1.0, 2.0, 10.0], &[0, 0, 1, 1]);
        let knn = Knn::fit(&d);
        let nn = knn.neighbours(&[1.6], 3, Distance::L2).unwrap();
        assert_eq!(nn.iter().map(|n| n.index).collect::<Vec<_>>(), vec![2, 1, 0]);
        assert!((nn[0].distance - 0.4).abs() < 1e-6);
        assert_eq!(knn.predict(&[1.6], 1, Distance::L2), Ok(1));
        // 1 vote each: the class of the nearest wins
        assert_eq!(knn.predict(&[1.6], 2, Distance::L2), Ok(1));
        assert_eq!(knn.predict(&[1.6], 3, Distance::L2), Ok(0));
        // 2 against 2: class 1 has the nearest (index 2)
        assert_eq!(knn.predict(&[1.6], 4, Distance::L2), Ok(1));
        // equal distances: the lower training index comes first
        let nn = knn.neighbours(&[0.5], 2, Distance::L1).unwrap();
        assert_eq!((nn[0].index, nn[1].index), (0, 1));
    }

    #[test]
    fn bad_queries_are_errors() {
        let d = line(&[0.0, 1.0], &[0, 1]);
        let knn = Knn::fit(&d);
        assert_eq!(knn.predict(&[0.0], 0, Distance::L2), Err(KnnError::ZeroK));
        assert_eq!(knn.predict(&[0.0], 3, Distance::L2), Err(KnnError::KTooLarge { k: 3, n: 2 }));
        assert_eq!(knn.predict(&[0.0, 1.0], 1, Distance::L2), Err(KnnError::Dims { got: 2, want: 1 }));
        assert!(cross_validate(&d, 3, &[1], Distance::L2, 0, &mut |_, _| true).is_err());
        assert_eq!(cross_validate(&d, 2, &[1], Distance::L2, 0, &mut |_, _| false), Err(KnnError::Cancelled));
    }

    #[test]
    fn folds_cover_every_sample_once() {
        let f = folds(23, 5, 9);
        assert_eq!(f.len(), 5);
        let mut all: Vec<usize> = f.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..23).collect::<Vec<_>>());
        assert!(f.iter().all(|f| f.len() == 4 || f.len() == 5));
    }

    fn digits_split() -> (Dataset, Dataset) {
        crate::data::digits::load().unwrap().split(360, 1).unwrap()
    }

    fn accuracy(train: &Dataset, test: &Dataset, k: usize, metric: Distance) -> f32 {
        let knn = Knn::fit(train);
        let per = test.sample_len();
        let right = test.x().chunks(per).zip(test.y()).filter(|(x, y)| knn.predict(x, k, metric) == Ok(**y)).count();
        right as f32 / test.len() as f32
    }

    #[test]
    fn nearest_neighbour_reads_the_digits() {
        let (train, test) = digits_split();
        assert_eq!((train.len(), test.len()), (1437, 360));
        for (k, metric, floor) in [(1, Distance::L2, 0.95), (3, Distance::L2, 0.95), (1, Distance::L1, 0.93)] {
            let acc = accuracy(&train, &test, k, metric);
            eprintln!("k = {k}, {metric:?}: test accuracy {acc:.4}");
            assert!(acc > floor, "k = {k} {metric:?}: accuracy {acc}");
        }
    }

    #[test]
    fn cross_validation_matches_a_direct_computation() {
        // a few hundred digits keep the direct way quick
        let data = crate::data::digits::load().unwrap().take(300);
        let ks = [1, 2, 5, 9];
        let mut calls = 0;
        let cv = cross_validate(&data, 4, &ks, Distance::L1, 5, &mut |done, total| {
            calls += 1;
            assert!(done <= total);
            true
        })
        .unwrap();
        assert_eq!(calls, 300);
        assert_eq!(cv.iter().map(|p| p.k).collect::<Vec<_>>(), ks);
        for (f, held) in folds(300, 4, 5).iter().enumerate() {
            let train_idx: Vec<usize> = (0..300).filter(|i| !held.contains(i)).collect();
            let (train, val) = (data.subset(&train_idx).unwrap(), data.subset(held).unwrap());
            for p in &cv {
                assert_eq!(p.fold_accuracy[f], accuracy(&train, &val, p.k, Distance::L1), "k = {}, fold {f}", p.k);
            }
        }
        let p = &cv[0];
        assert!(p.min() <= p.mean() && p.mean() <= p.max());
        assert!(p.mean() > 0.8, "{p:?}");
    }
}
