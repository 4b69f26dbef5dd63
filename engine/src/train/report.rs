//! What a classifier has learned, in the numbers the training lab shows:
//! test predictions with softmax scores, the confusion matrix, the
//! misclassified samples (most confident first), the first layer's
//! weights, per-layer histograms of activations and their gradients on a
//! fixed batch, and every layer's output for one chosen sample.

use super::{LayerProbe, Model, ModelError, Param};
use crate::data::{Batch, Dataset};
use crate::metrics::{Confusion, Histogram};
use crate::nn::Mode;

/// Bins of the layer histograms.
pub const HISTOGRAM_BINS: usize = 40;
/// Histograms span at most mean +- this many standard deviations.
pub const CLIP_STD: f32 = 4.0;

/// One layer's statistics on the probe batch (train mode).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerStats {
    pub name: String,
    pub activations: Histogram,
    /// Gradient of the loss w.r.t. the activations (None when the layer has none).
    pub grads: Option<Histogram>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub confusion: Confusion,
    /// Softmax probabilities `[N, classes]` of the test samples.
    pub scores: Vec<f32>,
    pub predicted: Vec<usize>,
    /// Indices of wrongly classified test samples, most confident first.
    pub misclassified: Vec<usize>,
    /// The first parameter with at least two dims (first layer's weights).
    pub first_layer: Option<Param>,
    pub layers: Vec<LayerStats>,
    /// Each layer's eval-mode output for test sample `chosen`.
    pub chosen: usize,
    pub maps: Vec<LayerProbe>,
}

/// Softmax of each row of `logits` (width `classes`), stable for large values.
pub fn softmax_rows(logits: &[f32], classes: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks(classes.max(1)) {
        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f64> = row.iter().map(|&v| ((v - m) as f64).exp()).collect();
        let s: f64 = e.iter().sum();
        out.extend(e.iter().map(|v| (v / s) as f32));
    }
    out
}

impl Report {
    /// Evaluate `model` on `test` (in batches of `batch_size`), its layers
    /// on `probe` and on test sample `chosen`.
    pub fn compute(model: &mut dyn Model, test: &Dataset, probe: &Batch, chosen: usize, batch_size: usize) -> Result<Report, ModelError> {
        let classes = test.num_classes();
        let mut scores = Vec::with_capacity(test.len() * classes);
        for b in test.ordered_batches(batch_size)? {
            let logits = model.predict(&b)?;
            if logits.len() != b.len() * classes {
                return Err(format!("the model gave {} scores for {} samples of {classes} classes", logits.len(), b.len()).into());
            }
            scores.extend(softmax_rows(&logits, classes));
        }
        let confusion = Confusion::from_scores(classes, test.y(), &scores)?;
        let predicted: Vec<usize> = scores.chunks(classes).map(crate::metrics::classification::argmax).collect();
        let mut misclassified: Vec<usize> = (0..test.len()).filter(|&i| predicted[i] != test.y()[i]).collect();
        let confidence = |i: usize| scores[i * classes + predicted[i]];
        misclassified.sort_by(|&a, &b| confidence(b).total_cmp(&confidence(a)));
        let first_layer = model.params().iter().find(|p| p.trainable && p.shape.len() >= 2).cloned();
        let layers = model
            .inspect(probe, Mode::Train)?
            .into_iter()
            .map(|p| LayerStats {
                activations: Histogram::clipped(&p.values, HISTOGRAM_BINS, CLIP_STD),
                grads: (!p.grads.is_empty()).then(|| Histogram::clipped(&p.grads, HISTOGRAM_BINS, CLIP_STD)),
                name: p.name,
            })
            .collect();
        let chosen = chosen.min(test.len().saturating_sub(1));
        let maps = Report::maps(model, test, chosen)?;
        Ok(Report { confusion, scores, predicted, misclassified, first_layer, layers, chosen, maps })
    }

    /// Every layer's eval-mode output for test sample `i`.
    pub fn maps(model: &mut dyn Model, test: &Dataset, i: usize) -> Result<Vec<LayerProbe>, ModelError> {
        if test.is_empty() {
            return Ok(Vec::new());
        }
        model.inspect(&test.batch(&[i])?, Mode::Eval)
    }

    /// Softmax scores of test sample `i`.
    pub fn scores_of(&self, i: usize) -> &[f32] {
        let c = self.confusion.classes();
        self.scores.get(i * c..(i + 1) * c).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::digits;
    use crate::init::Init;
    use crate::models::{Family, NetSpec};
    use crate::optim::{Adam, Schedule};
    use crate::train::{Job, TrainConfig};

    #[test]
    fn softmax_by_hand() {
        // ln 1, ln 3 -> 1/4, 3/4; a huge logit does not overflow
        let s = softmax_rows(&[0.0, 3f32.ln(), 1000.0, 0.0], 2);
        assert!((s[0] - 0.25).abs() < 1e-6 && (s[1] - 0.75).abs() < 1e-6, "{s:?}");
        assert_eq!(&s[2..], &[1.0, 0.0]);
    }

    /// A CNN trained for two epochs on the digits: the report's numbers
    /// agree with each other and with the data.
    #[test]
    fn report_of_a_trained_cnn() {
        let (train, test) = digits::load().unwrap().split(360, 3).unwrap();
        let spec = NetSpec { widths: vec![8], hidden: 32, ..NetSpec::default_for(Family::Cnn, [1, 8, 8], 10) };
        let model = spec.model(1, Init::KAIMING_RELU).unwrap();
        let job = Job::new(Box::new(model), Box::new(Adam::new(3e-3)), Arc::new(train.clone()), TrainConfig::new(2, 32, Schedule::constant(3e-3)));
        let mut done = job.spawn().unwrap().join().unwrap();
        let probe = train.batch(&(0..64).collect::<Vec<_>>()).unwrap();
        let r = Report::compute(done.model.as_mut(), &test, &probe, 7, 100).unwrap();
        let c = &r.confusion;
        assert_eq!(c.total(), 360);
        for class in 0..10 {
            assert_eq!(c.row_sum(class), test.y().iter().filter(|&&y| y == class).count(), "row {class}");
        }
        assert!(c.accuracy() > 0.8, "accuracy {}", c.accuracy());
        let diagonal: usize = (0..10).map(|k| c.get(k, k)).sum();
        assert_eq!(r.misclassified.len(), 360 - diagonal);
        let conf = |i: usize| r.scores_of(i)[r.predicted[i]];
        assert!(r.misclassified.windows(2).all(|w| conf(w[0]) >= conf(w[1])), "most confident first");
        assert!(r.misclassified.iter().all(|&i| r.predicted[i] != test.y()[i]));
        assert!(r.scores.chunks(10).all(|s| (s.iter().sum::<f32>() - 1.0).abs() < 1e-4));
        assert_eq!(r.first_layer.as_ref().map(|p| (p.name.as_str(), p.shape.clone())), Some(("conv1.weight", vec![8, 1, 3, 3])));
        let names: Vec<&str> = r.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["conv1", "pool1", "fc1", "fc2"]);
        // 64 samples of 8x8x8 activations in the histogram
        assert_eq!(r.layers[0].activations.counts.iter().sum::<usize>(), 64 * 512);
        assert!(r.layers.iter().all(|l| l.grads.is_some()));
        assert_eq!((r.chosen, r.maps.len(), r.maps[0].values.len()), (7, 4, 512));
        // the chosen sample's logits give its scores (up to the GEMM's summation order)
        let alone = softmax_rows(&r.maps[3].values, 10);
        assert!(alone.iter().zip(r.scores_of(7)).all(|(a, b)| (a - b).abs() < 1e-5), "{alone:?} vs {:?}", r.scores_of(7));
    }
}
