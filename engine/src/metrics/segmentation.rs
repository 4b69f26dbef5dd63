//! Segmentation metrics from a pixel confusion matrix (rows true class,
//! columns predicted): per-class IoU `TP / (TP + FP + FN)`, mean IoU over
//! the classes present in the truth or the prediction (a class absent from
//! both has no IoU and is left out of the mean), and pixel accuracy.

use super::MetricsError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PixelConfusion {
    classes: usize,
    counts: Vec<u64>,
}

impl PixelConfusion {
    pub fn new(classes: usize) -> Self {
        PixelConfusion { classes, counts: vec![0; classes * classes] }
    }

    /// Count a (truth, prediction) pair of class maps of equal length.
    pub fn add(&mut self, truth: &[u8], predicted: &[u8]) -> Result<(), MetricsError> {
        if truth.len() != predicted.len() {
            return Err(MetricsError::Invalid(format!("{} true pixels but {} predicted", truth.len(), predicted.len())));
        }
        // Check everything first, so a bad map counts nothing.
        if let Some(i) = truth.iter().zip(predicted).position(|(&t, &p)| t as usize >= self.classes || p as usize >= self.classes) {
            return Err(MetricsError::Invalid(format!("pixel {i}: class {} or {} is not below {}", truth[i], predicted[i], self.classes)));
        }
        for (&t, &p) in truth.iter().zip(predicted) {
            self.counts[t as usize * self.classes + p as usize] += 1;
        }
        Ok(())
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    pub fn get(&self, truth: usize, predicted: usize) -> u64 {
        if truth < self.classes && predicted < self.classes { self.counts[truth * self.classes + predicted] } else { 0 }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// IoU of class `c`, None when it is in neither the truth nor the prediction.
    pub fn iou(&self, c: usize) -> Option<f64> {
        let tp = self.get(c, c);
        let fn_: u64 = (0..self.classes).map(|p| self.get(c, p)).sum::<u64>() - tp;
        let fp: u64 = (0..self.classes).map(|t| self.get(t, c)).sum::<u64>() - tp;
        let union = tp + fp + fn_;
        (union > 0).then(|| tp as f64 / union as f64)
    }

    pub fn per_class_iou(&self) -> Vec<Option<f64>> {
        (0..self.classes).map(|c| self.iou(c)).collect()
    }

    /// Mean of the defined per-class IoUs (None when nothing was counted).
    pub fn mean_iou(&self) -> Option<f64> {
        let v: Vec<f64> = self.per_class_iou().into_iter().flatten().collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    /// Fraction of pixels whose class was predicted right.
    pub fn pixel_accuracy(&self) -> Option<f64> {
        let n = self.total();
        (n > 0).then(|| (0..self.classes).map(|c| self.get(c, c)).sum::<u64>() as f64 / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_by_hand() {
        // truth     0 0 1 1 1 2
        // predicted 0 1 1 1 0 0
        let mut c = PixelConfusion::new(4);
        c.add(&[0, 0, 1, 1, 1, 2], &[0, 1, 1, 1, 0, 0]).unwrap();
        // class 0: TP 1, FN 1 (pixel 1), FP 2 (pixels 4, 5) -> 1/4
        // class 1: TP 2, FN 1 (pixel 4), FP 1 (pixel 1) -> 2/4
        // class 2: TP 0, FN 1 -> 0; class 3 absent -> None
        assert_eq!(c.per_class_iou(), vec![Some(0.25), Some(0.5), Some(0.0), None]);
        assert_eq!(c.mean_iou(), Some(0.75 / 3.0));
        assert_eq!(c.pixel_accuracy(), Some(3.0 / 6.0));
        assert_eq!(c.get(1, 0), 1);
        // Counts accumulate over images.
        c.add(&[3], &[3]).unwrap();
        assert_eq!(c.iou(3), Some(1.0));
        assert_eq!(c.mean_iou(), Some(1.75 / 4.0));
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut c = PixelConfusion::new(2);
        assert!(c.add(&[0, 1], &[0]).is_err());
        assert!(c.add(&[0, 2], &[0, 1]).is_err());
        assert_eq!(c.mean_iou(), None);
        assert_eq!(c.pixel_accuracy(), None);
    }
}
