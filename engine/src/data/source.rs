//! One entry point for every dataset the app and the command line open:
//! a spec such as `cifar10:DIR`, `folder:DIR` or `digits` names a
//! [`Source`], and [`Source::load`] returns its splits and class names.

use std::path::{Path, PathBuf};

use super::cifar::{self, Variant};
use super::image_folder::{self, FolderOptions};
use super::mnist::{self, Split};
use super::{DataError, Dataset, digits};

#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The built-in 8x8 digits.
    Digits,
    /// A folder of MNIST idx files (raw or .gz).
    Mnist(PathBuf),
    /// Fashion-MNIST: the MNIST file names and format, other classes.
    FashionMnist(PathBuf),
    /// A CIFAR batch file, or a folder of the binary version.
    Cifar(PathBuf, Variant),
    /// One sub-folder of images per class.
    Folder(PathBuf, FolderOptions),
}

/// A loaded dataset: the training samples, the test samples when the
/// source has its own test split, and a name per class.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub train: Dataset,
    pub test: Option<Dataset>,
    pub classes: Vec<String>,
}

pub const SPEC_HELP: &str = "digits, mnist:DIR, fashion-mnist:DIR, cifar10:DIR|FILE, cifar100:DIR|FILE, cifar100-coarse:DIR|FILE or folder:DIR";

impl Source {
    /// Parse `KIND:PATH` (or `digits`); image folders get `folder` options.
    pub fn parse(spec: &str, folder: FolderOptions) -> Result<Source, DataError> {
        if spec == "digits" {
            return Ok(Source::Digits);
        }
        let (kind, path) = spec.split_once(':').ok_or_else(|| DataError::Invalid(format!("dataset '{spec}' must be one of {SPEC_HELP}")))?;
        let path = PathBuf::from(path);
        Ok(match kind {
            "mnist" => Source::Mnist(path),
            "fashion-mnist" => Source::FashionMnist(path),
            "cifar10" => Source::Cifar(path, Variant::Cifar10),
            "cifar100" => Source::Cifar(path, Variant::Cifar100Fine),
            "cifar100-coarse" => Source::Cifar(path, Variant::Cifar100Coarse),
            "folder" => Source::Folder(path, folder),
            other => return Err(DataError::Invalid(format!("unknown dataset '{other}' (expected {SPEC_HELP})"))),
        })
    }

    /// Guess the kind of a file or folder from the names in it.
    pub fn detect(path: &Path, folder: FolderOptions) -> Result<Source, DataError> {
        let has = |n: &str| path.join(n).is_file();
        if path.is_file() {
            let len = std::fs::metadata(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?.len() as usize;
            return match (len % Variant::Cifar10.record_len(), len % Variant::Cifar100Fine.record_len()) {
                (0, _) => Ok(Source::Cifar(path.to_path_buf(), Variant::Cifar10)),
                (_, 0) => Ok(Source::Cifar(path.to_path_buf(), Variant::Cifar100Fine)),
                _ => {
                    Err(DataError::Format { path: path.to_path_buf(), msg: "not a CIFAR batch (its size is no whole number of records); pick a folder for MNIST or images".into() })
                }
            };
        }
        if !path.is_dir() {
            return Err(DataError::Missing { what: path.display().to_string(), looked: "the file system".into() });
        }
        Ok(if has("data_batch_1.bin") || has("test_batch.bin") {
            Source::Cifar(path.to_path_buf(), Variant::Cifar10)
        } else if has("train.bin") || has("test.bin") {
            Source::Cifar(path.to_path_buf(), Variant::Cifar100Fine)
        } else if has("train-images-idx3-ubyte") || has("train-images-idx3-ubyte.gz") {
            // Fashion-MNIST uses MNIST's file names: its folder is told by name
            // (`fashion-mnist`, torchvision's `FashionMNIST/raw`, ...).
            if is_fashion(path) { Source::FashionMnist(path.to_path_buf()) } else { Source::Mnist(path.to_path_buf()) }
        } else {
            Source::Folder(path.to_path_buf(), folder)
        })
    }

    /// The `--data` spelling that parses back to this source (the path as
    /// given), for checkpoints' recipes.
    pub fn spec(&self) -> String {
        match self {
            Source::Digits => "digits".into(),
            Source::Mnist(p) | Source::FashionMnist(p) | Source::Cifar(p, _) | Source::Folder(p, _) => format!("{}:{}", self.kind(), p.display()),
        }
    }

    /// Short name for titles and checkpoints.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Digits => "digits",
            Source::Mnist(_) => "mnist",
            Source::FashionMnist(_) => "fashion-mnist",
            Source::Cifar(_, Variant::Cifar10) => "cifar10",
            Source::Cifar(_, Variant::Cifar100Fine) => "cifar100",
            Source::Cifar(_, Variant::Cifar100Coarse) => "cifar100-coarse",
            Source::Folder(..) => "folder",
        }
    }

    pub fn load(&self) -> Result<Loaded, DataError> {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Ok(match self {
            Source::Digits => Loaded { train: digits::load()?, test: None, classes: names(&mnist::DIGIT_CLASSES) },
            Source::Mnist(dir) | Source::FashionMnist(dir) => {
                let classes = if matches!(self, Source::Mnist(_)) { names(&mnist::DIGIT_CLASSES) } else { names(&mnist::FASHION_CLASSES) };
                Loaded { train: mnist::load(dir, Split::Train)?, test: Some(mnist::load(dir, Split::Test)?), classes }
            }
            Source::Cifar(path, v) if path.is_dir() => {
                let (train, test) = cifar::load_dir(path, *v)?;
                Loaded { train, test: Some(test), classes: cifar::class_names(path, *v) }
            }
            Source::Cifar(path, v) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                Loaded { train: cifar::load_file(path, *v)?, test: None, classes: cifar::class_names(dir, *v) }
            }
            Source::Folder(dir, opt) => {
                let (train, classes) = image_folder::load(dir, *opt)?;
                Loaded { train, test: None, classes }
            }
        })
    }
}

/// Whether a folder of idx files is Fashion-MNIST: "fashion" in its name
/// or its parent's.
fn is_fashion(path: &Path) -> bool {
    let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    full.components().rev().take(2).any(|c| c.as_os_str().to_string_lossy().to_lowercase().contains("fashion"))
}

impl Loaded {
    /// Training and test sets: the source's own test split, else a seeded
    /// stratified `test_fraction` of the training samples.
    pub fn train_test(&self, test_fraction: f32, seed: u64) -> Result<(Dataset, Dataset), DataError> {
        match &self.test {
            Some(t) => Ok((self.train.clone(), t.clone())),
            None => {
                let (train, _, test) = super::split::split3(&self.train, 0.0, test_fraction, seed, true)?;
                Ok((train, test))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::cifar::tests::{cifar10_dir, record, scratch};

    #[test]
    fn specs_round_trip() {
        let o = FolderOptions::default();
        for spec in ["digits", "mnist:/d/m", "fashion-mnist:/d/f", "cifar10:/d/c", "cifar100:/d/c", "cifar100-coarse:/d/c", "folder:/d/i"] {
            assert_eq!(Source::parse(spec, o).unwrap().spec(), spec);
        }
    }

    #[test]
    fn specs_parse_and_load() {
        let o = FolderOptions::default();
        let dir = cifar10_dir("source");
        let s = Source::parse(&format!("cifar10:{}", dir.display()), o).unwrap();
        assert_eq!(s, Source::Cifar(dir.clone(), Variant::Cifar10));
        assert_eq!(Source::detect(&dir, o).unwrap(), s);
        let l = s.load().unwrap();
        assert_eq!((l.train.len(), l.test.as_ref().map(Dataset::len), l.classes[0].as_str()), (10, Some(3), "airplane"));
        // a single batch file: no test split, one is carved out on request
        let one = dir.join("data_batch_2.bin");
        assert_eq!(Source::detect(&one, o).unwrap(), Source::Cifar(one.clone(), Variant::Cifar10));
        let l = Source::parse(&format!("cifar10:{}", one.display()), o).unwrap().load().unwrap();
        assert_eq!((l.train.y(), l.test.is_none()), (&[2usize, 7][..], true));
        let c100 = scratch("c100");
        std::fs::write(c100.join("train.bin"), [record(&[1, 2], 0), record(&[3, 4], 0)].concat()).unwrap();
        std::fs::write(c100.join("test.bin"), record(&[5, 6], 0)).unwrap();
        let l = Source::detect(&c100, o).unwrap().load().unwrap();
        assert_eq!((l.train.y(), l.classes.len()), (&[2usize, 4][..], 100));
        let coarse = Source::parse(&format!("cifar100-coarse:{}", c100.display()), o).unwrap().load().unwrap();
        assert_eq!(coarse.train.y(), &[1, 3]);
        let d = Source::parse("digits", o).unwrap().load().unwrap();
        let (train, test) = d.train_test(0.2, 1).unwrap();
        assert_eq!((train.len() + test.len(), d.train.len()), (1797, 1797));
        assert!((test.len() as i32 - 359).abs() <= 5, "{}", test.len());
        let mnist = crate::data::locate("mnist/data").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Source::detect(&mnist, o).unwrap(), Source::Mnist(mnist.clone()));
        assert_eq!(Source::detect(&scratch("plain"), o).unwrap().kind(), "folder");
    }

    #[test]
    fn fashion_mnist_is_told_by_its_folder_name() {
        // The real files (tests/fetch-data.sh): MNIST's names and format.
        let dir = crate::data::locate("fashion-mnist").unwrap_or_else(|e| panic!("{e}"));
        let s = Source::detect(&dir, FolderOptions::default()).unwrap();
        assert_eq!(s, Source::FashionMnist(dir.clone()));
        let l = s.load().unwrap();
        let test = l.test.as_ref().unwrap();
        assert_eq!((l.train.len(), test.len(), l.train.sample_len()), (60_000, 10_000, 784));
        assert_eq!((l.classes[0].as_str(), l.classes[9].as_str()), ("T-shirt/top", "Ankle boot"));
        let mut counts = [0usize; 10];
        test.y().iter().for_each(|&y| counts[y] += 1);
        assert_eq!(counts, [1000; 10]);
        // The same files in a folder not named so read as MNIST.
        let plain = scratch("idx-copy");
        for f in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
            std::fs::copy(dir.join(f), plain.join(f)).unwrap();
        }
        assert_eq!(Source::detect(&plain, FolderOptions::default()).unwrap().kind(), "mnist");
    }

    #[test]
    fn bad_specs_are_errors() {
        let o = FolderOptions::default();
        assert!(Source::parse("cifar", o).unwrap_err().to_string().contains("must be one of"));
        assert!(Source::parse("imagenet:/x", o).unwrap_err().to_string().contains("unknown dataset 'imagenet'"));
        let e = Source::parse("cifar10:/no/such", o).unwrap().load().unwrap_err();
        assert!(matches!(e, DataError::Io { .. }), "{e}");
        let junk = scratch("junk").join("junk.bin");
        std::fs::write(&junk, [1u8; 100]).unwrap();
        assert!(Source::detect(&junk, o).unwrap_err().to_string().contains("not a CIFAR batch"));
        assert!(Source::detect(Path::new("/no/such/path"), o).is_err());
    }
}
