//! The one-channel square images the generative labs (VAE, PixelCNN) train
//! on: the built-in digits, or an MNIST-format folder (MNIST, Fashion-MNIST).

use std::path::Path;
use std::sync::Arc;

use vislab_engine::data::mnist::{self, Split};
use vislab_engine::data::{Dataset, Source, digits};

pub struct ImageData {
    pub name: String,
    /// The `--data` spec that reads the same files (for exported recipes).
    pub spec: String,
    pub side: usize,
    pub train: Arc<Dataset>,
    pub test: Arc<Dataset>,
}

impl ImageData {
    /// The built-in 8x8 digits with 300 held out.
    pub fn digits() -> Result<ImageData, String> {
        let d = digits::load().map_err(|e| e.to_string())?;
        let (train, test) = d.split(300, 0).map_err(|e| e.to_string())?;
        Ok(ImageData { name: "built-in digits 8x8".into(), spec: "digits".into(), side: digits::SIDE, train: Arc::new(train), test: Arc::new(test) })
    }

    /// The first `limit` training images of an MNIST-format folder, and
    /// its first `test_limit` test images (all of them when `None`).
    pub fn folder(dir: &Path, limit: usize, test_limit: Option<usize>) -> Result<ImageData, String> {
        let train = mnist::load(dir, Split::Train).map_err(|e| e.to_string())?.take(limit);
        let test = mnist::load(dir, Split::Test).map_err(|e| e.to_string())?;
        let test = match test_limit {
            Some(n) => test.take(n),
            None => test,
        };
        let side = (train.sample_len() as f64).sqrt() as usize;
        if side * side != train.sample_len() {
            return Err(format!("images of {} pixels are not square", train.sample_len()));
        }
        let kind = Source::detect(dir, Default::default()).map_or("mnist", |s| s.kind());
        let spec = format!("{kind}:{}", std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()).display());
        Ok(ImageData { name: format!("{kind} {} ({} training, {} test images)", dir.display(), train.len(), test.len()), spec, side, train: Arc::new(train), test: Arc::new(test) })
    }
}

/// Whether a dropped or opened path is a folder of MNIST-format idx files.
pub fn is_idx_folder(path: &Path) -> bool {
    path.is_dir() && ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"].iter().any(|n| path.join(n).is_file())
}
