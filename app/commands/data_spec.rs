//! `--data SPEC`: a dataset the engine's [`Source`] opens, checked to exist,
//! split into train and test the same way by every command.

use vislab_engine::data::image_folder::FolderOptions;
use vislab_engine::data::{DataError, Dataset, Source};

/// Held-out share and split seed for sources without their own test split
/// (fixed, so `eval` carves out the same test images as `train`).
const TEST_FRACTION: f32 = 0.1;
const SPLIT_SEED: u64 = 0;

/// A `--data` spec, checked to exist.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSpec {
    pub kind: &'static str,
    source: Source,
}

impl DataSpec {
    pub fn parse(s: &str, folder: FolderOptions) -> Result<DataSpec, String> {
        let source = Source::parse(s, folder).map_err(|e| match e {
            DataError::Invalid(m) => m,
            e => e.to_string(),
        })?;
        let path = match &source {
            Source::Digits => None,
            Source::Mnist(p) | Source::FashionMnist(p) | Source::Folder(p, _) | Source::Cifar(p, _) => Some(p),
        };
        if let Some(p) = path.filter(|p| !p.exists()) {
            return Err(format!("data directory {} does not exist", p.display()));
        }
        Ok(DataSpec { kind: source.kind(), source })
    }

    /// (train, test) sets.
    pub fn load(&self) -> Result<(Dataset, Dataset), String> {
        let gz = matches!(self.source, Source::Mnist(_) | Source::FashionMnist(_));
        let msg = |e: DataError| match e {
            DataError::Missing { what, looked } if gz => format!("{what} (or {what}.gz) not found in {looked}"),
            DataError::Missing { what, looked } => format!("{what} not found in {looked}"),
            e => e.to_string(),
        };
        self.source.load().map_err(msg)?.train_test(TEST_FRACTION, SPLIT_SEED).map_err(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_errors() {
        let dir = std::env::temp_dir();
        let o = FolderOptions::default();
        let fashion = DataSpec::parse(&format!("fashion-mnist:{}", dir.display()), o).unwrap();
        assert_eq!((fashion.kind, fashion.source), ("fashion-mnist", Source::FashionMnist(dir.clone())));
        assert_eq!(DataSpec::parse(&format!("cifar100:{}", dir.display()), o).unwrap().kind, "cifar100");
        let folder = DataSpec::parse(&format!("folder:{}", dir.display()), FolderOptions { size: 8, grayscale: true }).unwrap();
        assert_eq!(folder.source, Source::Folder(dir, FolderOptions { size: 8, grayscale: true }));
        assert_eq!(DataSpec::parse("digits", o).unwrap().kind, "digits");
        assert!(DataSpec::parse("mnist", o).unwrap_err().contains("mnist:DIR"));
        assert!(DataSpec::parse("cifar:/tmp", o).unwrap_err().contains("unknown dataset 'cifar'"));
        assert!(DataSpec::parse("mnist:/no/such/dir", o).unwrap_err().contains("does not exist"));
    }
}
