//! Where the training lab's images come from: the built-in digits, an
//! MNIST-format idx folder, or any image `Dataset` another loader made.

use std::path::PathBuf;
use std::sync::Arc;

use vislab_engine::data::mnist::{self, Split};
use vislab_engine::data::{Batch, DataError, Dataset, digits};

/// Samples of the training set whose activations feed the histograms.
const PROBE_SAMPLES: usize = 128;

/// Where the images come from.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Source {
    Digits,
    Idx { dir: PathBuf, fashion: bool },
}

/// Train, validation and test sets of one source.
pub struct Splits {
    pub train: Arc<Dataset>,
    pub val: Arc<Dataset>,
    pub test: Arc<Dataset>,
    /// `[channels, height, width]` of every sample.
    pub image: [usize; 3],
    pub names: Vec<String>,
    pub title: String,
    /// MNIST: validation curves are on the test split, as `vislab train` does.
    pub val_is_test: bool,
    pub(super) probe: Batch,
}

impl Splits {
    /// Any image dataset: `val` may be the test set itself.
    pub fn new(train: Dataset, val: Option<Dataset>, test: Dataset, names: Vec<String>, title: String) -> Result<Splits, String> {
        let image = match *train.sample_shape() {
            [h, w] => [1, h, w],
            [c, h, w] => [c, h, w],
            ref s => return Err(format!("samples of shape {s:?} are not images")),
        };
        if test.sample_shape() != train.sample_shape() {
            return Err(format!("test samples {:?} differ from training samples {:?}", test.sample_shape(), train.sample_shape()));
        }
        let probe = train.batch(&(0..PROBE_SAMPLES.min(train.len())).collect::<Vec<_>>()).map_err(|e| e.to_string())?;
        let test = Arc::new(test);
        let (val, val_is_test) = match val {
            Some(v) => (Arc::new(v), false),
            None => (test.clone(), true),
        };
        Ok(Splits { train: Arc::new(train), val, test, image, names, title, val_is_test, probe })
    }

    /// The built-in digits: 360 test and 300 validation images, seeded.
    pub(super) fn digits(seed: u64) -> Result<Splits, String> {
        let all = digits::load().map_err(|e| e.to_string())?;
        let (rest, test) = all.split(360, seed).map_err(|e| e.to_string())?;
        let (train, val) = rest.split(300, seed + 1).map_err(|e| e.to_string())?;
        let names = (0..10).map(|d| d.to_string()).collect();
        Splits::new(train, Some(val), test, names, "8x8 digits (built in)".into())
    }

    /// MNIST-format files in `dir`: validation on the test split.
    pub(super) fn idx(dir: &std::path::Path, fashion: bool) -> Result<Splits, String> {
        let load = |split| {
            mnist::load(dir, split).map_err(|e| match e {
                DataError::Missing { what, looked } => format!("{what} (or {what}.gz) not found in {looked}"),
                e => e.to_string(),
            })
        };
        let (train, test) = (load(Split::Train)?, load(Split::Test)?);
        let names = if fashion { mnist::FASHION_CLASSES.to_vec() } else { mnist::DIGIT_CLASSES.to_vec() };
        let kind = if fashion { "Fashion-MNIST" } else { "MNIST" };
        Splits::new(train, None, test, names.iter().map(|s| s.to_string()).collect(), format!("{kind} ({})", dir.display()))
    }
}
