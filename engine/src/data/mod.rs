//! Datasets: in-memory samples with labels, seeded mini-batches, loaders
//! (MNIST idx files, CIFAR batches, image folders, 2-D toy problems),
//! splits and normalization, augmentation, and [`Source`], the one entry
//! point the app and the command line open data through.

pub mod augment;
pub mod cifar;
mod dataset;
pub mod digits;
pub mod image_folder;
pub mod mnist;
pub mod source;
pub mod split;
pub mod toy2d;

use std::path::{Path, PathBuf};

pub use dataset::{Batch, Batches, Dataset};
pub use source::{Loaded, Source};

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {msg}")]
    Format { path: PathBuf, msg: String },
    #[error("invalid dataset: {0}")]
    Invalid(String),
    #[error("{what} not found (looked in {looked}); run tests/fetch-data.sh to fetch the test data")]
    Missing { what: String, looked: String },
}

/// Find `rel` (e.g. `mnist/data`) under the test-data root: `$VISLAB_DATA`
/// if set, else `<workspace>/.cache/data` (where tests/fetch-data.sh puts it).
pub fn locate(rel: &str) -> Result<PathBuf, DataError> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("VISLAB_DATA") {
        roots.push(PathBuf::from(d));
    }
    roots.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".cache").join("data"));
    for r in &roots {
        let p = r.join(rel);
        if p.exists() {
            return Ok(p);
        }
    }
    let looked = roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ");
    Err(DataError::Missing { what: rel.to_string(), looked })
}
