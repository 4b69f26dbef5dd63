//! CIFAR-10 and CIFAR-100 in their binary versions.
//!
//! CIFAR-10 (`data_batch_1.bin` .. `data_batch_5.bin`, `test_batch.bin`):
//! records of 1 label byte then 3072 pixel bytes, the 1024 red values of the
//! 32x32 image row-major, then green, then blue. CIFAR-100 (`train.bin`,
//! `test.bin`) is the same with two label bytes (coarse, then fine).
//! Pixels become f32 `[N, 3, 32, 32]` in [0, 1].

use std::path::{Path, PathBuf};

use super::{DataError, Dataset};

pub const SIDE: usize = 32;
pub const PIXELS: usize = 3 * SIDE * SIDE;
pub const CIFAR10_CLASSES: [&str; 10] = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Cifar10,
    /// CIFAR-100 with its 100 fine labels.
    Cifar100Fine,
    /// CIFAR-100 with its 20 coarse (superclass) labels.
    Cifar100Coarse,
}

impl Variant {
    /// Label bytes before the pixels of each record.
    fn label_bytes(self) -> usize {
        match self {
            Variant::Cifar10 => 1,
            _ => 2,
        }
    }

    pub fn record_len(self) -> usize {
        self.label_bytes() + PIXELS
    }

    pub fn classes(self) -> usize {
        match self {
            Variant::Cifar10 => 10,
            Variant::Cifar100Fine => 100,
            Variant::Cifar100Coarse => 20,
        }
    }

    /// Which of the label bytes is the label.
    fn label_offset(self) -> usize {
        match self {
            Variant::Cifar100Fine => 1,
            _ => 0,
        }
    }

    /// Training and test file names in a folder of the binary version.
    fn files(self) -> (Vec<String>, &'static str) {
        match self {
            Variant::Cifar10 => ((1..=5).map(|i| format!("data_batch_{i}.bin")).collect(), "test_batch.bin"),
            _ => (vec!["train.bin".into()], "test.bin"),
        }
    }

    /// The label-name file the binary archives ship beside the batches.
    fn names_file(self) -> &'static str {
        match self {
            Variant::Cifar10 => "batches.meta.txt",
            Variant::Cifar100Fine => "fine_label_names.txt",
            Variant::Cifar100Coarse => "coarse_label_names.txt",
        }
    }
}

/// Parse the records of one batch file (`path` only names it in errors).
pub fn parse(bytes: &[u8], variant: Variant, path: &Path) -> Result<Dataset, DataError> {
    let bad = |msg: String| DataError::Format { path: path.to_path_buf(), msg };
    let rec = variant.record_len();
    if bytes.is_empty() {
        return Err(bad("empty file: no CIFAR records".into()));
    }
    if !bytes.len().is_multiple_of(rec) {
        return Err(bad(format!(
            "{} bytes is not a whole number of {rec}-byte CIFAR records (truncated, or not a {variant:?} batch; {} records and {} bytes over)",
            bytes.len(),
            bytes.len() / rec,
            bytes.len() % rec
        )));
    }
    let n = bytes.len() / rec;
    let classes = variant.classes();
    let mut x = Vec::with_capacity(n * PIXELS);
    let mut y = Vec::with_capacity(n);
    for (i, r) in bytes.chunks_exact(rec).enumerate() {
        let (labels, pixels) = r.split_at(variant.label_bytes());
        let label = labels.get(variant.label_offset()).copied().unwrap_or(u8::MAX) as usize;
        if label >= classes {
            return Err(bad(format!("record {i} has label {label}, not a class 0..{} (not a {variant:?} batch?)", classes - 1)));
        }
        y.push(label);
        x.extend(pixels.iter().map(|&b| b as f32 / 255.0));
    }
    Dataset::new(x, vec![3, SIDE, SIDE], y, classes)
}

pub fn load_file(path: &Path, variant: Variant) -> Result<Dataset, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    parse(&bytes, variant, path)
}

/// The training batches and the test batch of a folder of the binary
/// version (`cifar-10-batches-bin/` or `cifar-100-binary/`).
pub fn load_dir(dir: &Path, variant: Variant) -> Result<(Dataset, Dataset), DataError> {
    let (train_names, test_name) = variant.files();
    let find = |name: &str| -> Result<PathBuf, DataError> {
        let p = dir.join(name);
        if p.is_file() { Ok(p) } else { Err(DataError::Missing { what: name.into(), looked: dir.display().to_string() }) }
    };
    let mut train: Option<Dataset> = None;
    for name in &train_names {
        let part = load_file(&find(name)?, variant)?;
        train = Some(match train {
            None => part,
            Some(t) => t.concat(&part)?,
        });
    }
    let train = train.ok_or_else(|| DataError::Invalid("no training batches".into()))?;
    Ok((train, load_file(&find(test_name)?, variant)?))
}

/// Class names: from the archive's label-name file beside `path` when it
/// is there and has one name per class, else the CIFAR-10 names or numbers.
pub fn class_names(dir: &Path, variant: Variant) -> Vec<String> {
    let from_file = std::fs::read_to_string(dir.join(variant.names_file()))
        .ok()
        .map(|t| t.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect::<Vec<_>>())
        .filter(|n| n.len() == variant.classes());
    from_file.unwrap_or_else(|| match variant {
        Variant::Cifar10 => CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect(),
        _ => (0..variant.classes()).map(|i| i.to_string()).collect(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One record in the real layout: label bytes, then the R, G, B planes.
    /// Pixel (row, col) of plane c holds (c * 80 + row * 2 + col + seed) % 256.
    pub(crate) fn record(labels: &[u8], seed: u8) -> Vec<u8> {
        let mut r = labels.to_vec();
        for c in 0..3 {
            for row in 0..SIDE {
                for col in 0..SIDE {
                    r.push(((c * 80 + row * 2 + col + seed as usize) % 256) as u8);
                }
            }
        }
        r
    }

    pub(crate) fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vislab-cifar-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A CIFAR-10 folder with 5 training batches of 2 records and a test batch of 3.
    pub(crate) fn cifar10_dir(name: &str) -> PathBuf {
        let d = scratch(name);
        for b in 1..=5u8 {
            let bytes: Vec<u8> = [record(&[b], b), record(&[(b + 5) % 10], b + 10)].concat();
            std::fs::write(d.join(format!("data_batch_{b}.bin")), bytes).unwrap();
        }
        std::fs::write(d.join("test_batch.bin"), [record(&[3], 0), record(&[9], 1), record(&[0], 2)].concat()).unwrap();
        d
    }

    #[test]
    fn cifar10_records_decode_plane_by_plane() {
        let bytes = [record(&[7], 0), record(&[2], 5)].concat();
        assert_eq!(bytes.len(), 2 * 3073);
        let d = parse(&bytes, Variant::Cifar10, Path::new("b")).unwrap();
        assert_eq!((d.len(), d.sample_shape(), d.y(), d.num_classes()), (2, &[3usize, 32, 32][..], &[7usize, 2][..], 10));
        let (x, _) = d.get(1).unwrap();
        // green plane (c = 1), row 3, col 4 of the second image: 80 + 6 + 4 + 5 = 95
        assert_eq!(x[1024 + 3 * 32 + 4], 95.0 / 255.0);
        assert_eq!(x[0], 5.0 / 255.0);
        // blue plane, last pixel: (160 + 62 + 31 + 5) % 256 = 2
        assert_eq!(x[3071], 2.0 / 255.0);
    }

    #[test]
    fn cifar100_fine_and_coarse_labels() {
        let bytes = [record(&[4, 72], 0), record(&[19, 99], 1)].concat();
        let fine = parse(&bytes, Variant::Cifar100Fine, Path::new("b")).unwrap();
        let coarse = parse(&bytes, Variant::Cifar100Coarse, Path::new("b")).unwrap();
        assert_eq!((fine.y(), fine.num_classes()), (&[72usize, 99][..], 100));
        assert_eq!((coarse.y(), coarse.num_classes()), (&[4usize, 19][..], 20));
        assert_eq!(fine.x(), coarse.x());
        assert_eq!(fine.get(0).unwrap().0[2048], 160.0 / 255.0);
    }

    #[test]
    fn folder_joins_the_five_batches_and_names_classes() {
        let dir = cifar10_dir("folder");
        let (train, test) = load_dir(&dir, Variant::Cifar10).unwrap();
        assert_eq!(train.len(), 10);
        assert_eq!(train.y(), &[1, 6, 2, 7, 3, 8, 4, 9, 5, 0]);
        assert_eq!(test.y(), &[3, 9, 0]);
        assert_eq!(class_names(&dir, Variant::Cifar10)[3], "cat");
        std::fs::write(dir.join("batches.meta.txt"), "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n").unwrap();
        assert_eq!(class_names(&dir, Variant::Cifar10)[9], "j");
        assert_eq!(class_names(&dir, Variant::Cifar100Fine)[42], "42");
        // one batch missing
        std::fs::remove_file(dir.join("data_batch_4.bin")).unwrap();
        let e = load_dir(&dir, Variant::Cifar10).unwrap_err().to_string();
        assert!(e.contains("data_batch_4.bin not found"), "{e}");
    }

    #[test]
    fn truncated_and_garbage_batches_are_errors() {
        let p = Path::new("data_batch_1.bin");
        let bytes = [record(&[7], 0), record(&[2], 5)].concat();
        let e = parse(&bytes[..3073 + 1000], Variant::Cifar10, p).unwrap_err().to_string();
        assert!(e.contains("data_batch_1.bin") && e.contains("not a whole number of 3073-byte"), "{e}");
        assert!(e.contains("1 records and 1000 bytes over"), "{e}");
        assert!(parse(&[], Variant::Cifar10, p).unwrap_err().to_string().contains("empty file"));
        // a CIFAR-100 file read as CIFAR-10 fails on its length
        let c100 = record(&[1, 50], 0);
        assert!(parse(&c100, Variant::Cifar10, p).is_err());
        // garbage of the right length: a label byte out of range
        let mut g = vec![0xAB; 3073 * 2];
        g[0] = 3;
        let e = parse(&g, Variant::Cifar10, p).unwrap_err().to_string();
        assert!(e.contains("record 1 has label 171"), "{e}");
        assert!(parse(&record(&[20, 1], 0), Variant::Cifar100Coarse, p).unwrap_err().to_string().contains("label 20"));
        let missing = load_file(Path::new("/no/such/test_batch.bin"), Variant::Cifar10).unwrap_err();
        assert!(matches!(missing, DataError::Io { .. }));
    }
}
