//! Where the training lab's images come from: any source the engine opens
//! (the built-in digits, MNIST or Fashion-MNIST idx folders, CIFAR batches,
//! image folders), or any image `Dataset` another loader made.

use std::sync::Arc;

use vislab_engine::data::mnist::{self, Split};
use vislab_engine::data::{Batch, DataError, Dataset, Source, digits};

/// Samples of the training set whose activations feed the histograms.
const PROBE_SAMPLES: usize = 128;

/// Sources without a test split hold out this stratified share as the
/// test set, with the command line's split seed; every source but MNIST
/// then holds out the same share of the rest for validation.
const HELD_OUT: f32 = 0.1;
const SPLIT_SEED: u64 = 0;

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

    /// Load any source. MNIST and Fashion-MNIST validate on their test
    /// split, as `vislab train` does, so the lab gets the same numbers.
    pub(super) fn load(source: &Source) -> Result<Splits, String> {
        match source {
            Source::Digits => Splits::digits(0),
            Source::Mnist(dir) => Splits::idx(dir, false),
            Source::FashionMnist(dir) => Splits::idx(dir, true),
            other => {
                let loaded = other.load().map_err(|e| e.to_string())?;
                let (rest, test) = loaded.train_test(HELD_OUT, SPLIT_SEED).map_err(|e| e.to_string())?;
                let val_count = ((rest.len() as f32 * HELD_OUT).round() as usize).max(1);
                if val_count >= rest.len() {
                    return Err(format!("{} training images are too few to hold out a validation set", rest.len()));
                }
                let (train, val) = rest.split(val_count, SPLIT_SEED + 1).map_err(|e| e.to_string())?;
                let title = match other {
                    Source::Cifar(p, _) | Source::Folder(p, _) => format!("{} ({})", other.kind(), p.display()),
                    _ => other.kind().to_string(),
                };
                Splits::new(train, Some(val), test, loaded.classes, title)
            }
        }
    }

    /// MNIST-format files in `dir`: validation on the test split.
    fn idx(dir: &std::path::Path, fashion: bool) -> Result<Splits, String> {
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
