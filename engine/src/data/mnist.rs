//! MNIST and Fashion-MNIST in the idx format (raw, or gzip-compressed as
//! distributed), e.g. `train-images-idx3-ubyte[.gz]`.
//!
//! idx layout: two zero bytes, a type code (0x08 = unsigned byte), the number
//! of dims `d`, then `d` big-endian u32 sizes, then the data row-major.
//! Images are idx3 `[N, 28, 28]`, labels idx1 `[N]`.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{DataError, Dataset};

pub const DIGIT_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
pub const FASHION_CLASSES: [&str; 10] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

impl Split {
    fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// An idx array of unsigned bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parse idx bytes (`path` only names the source in errors).
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray, DataError> {
    let bad = |msg: String| DataError::Format { path: path.to_path_buf(), msg };
    let Some(&[z0, z1, ty, nd]) = bytes.first_chunk::<4>() else {
        return Err(bad(format!("{} bytes is too short for an idx header", bytes.len())));
    };
    if z0 != 0 || z1 != 0 {
        return Err(bad(format!("not an idx file: magic {:02x}{:02x}{ty:02x}{nd:02x}", z0, z1)));
    }
    if ty != 0x08 {
        return Err(bad(format!("idx element type 0x{ty:02x} is not unsigned byte (0x08)")));
    }
    let nd = nd as usize;
    if nd == 0 {
        return Err(bad("idx file has zero dimensions".into()));
    }
    let header = 4 + 4 * nd;
    let (dim_bytes, data) =
        bytes.get(4..).and_then(|rest| rest.split_at_checked(4 * nd)).ok_or_else(|| bad(format!("truncated header: {nd} dims need {header} bytes, file has {}", bytes.len())))?;
    let dims: Vec<usize> = dim_bytes.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize).collect();
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| bad(format!("dims {dims:?} overflow")))?;
    if data.len() != count {
        let what = if data.len() < count { "truncated" } else { "trailing bytes" };
        return Err(bad(format!("{what}: dims {dims:?} need {count} data bytes, file has {}", data.len())));
    }
    Ok(IdxArray { dims, data: data.to_vec() })
}

/// Read an idx file, gunzipping it if it starts with the gzip magic.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut out).map_err(|e| DataError::Format { path: path.to_path_buf(), msg: format!("bad gzip data: {e}") })?;
        parse_idx(&out, path)
    } else {
        parse_idx(&raw, path)
    }
}

/// Images as f32 `[N, 1, rows, cols]` in [0, 1], plus N, rows, cols.
pub fn read_images(path: &Path) -> Result<(Vec<f32>, [usize; 3]), DataError> {
    let a = read_idx(path)?;
    let &[n, r, c] = a.dims.as_slice() else {
        return Err(DataError::Format { path: path.to_path_buf(), msg: format!("expected 3 dims [N, rows, cols] for images, got {:?}", a.dims) });
    };
    Ok((a.data.iter().map(|&b| b as f32 / 255.0).collect(), [n, r, c]))
}

pub fn read_labels(path: &Path) -> Result<Vec<usize>, DataError> {
    let a = read_idx(path)?;
    if a.dims.len() != 1 {
        return Err(DataError::Format { path: path.to_path_buf(), msg: format!("expected 1 dim [N] for labels, got {:?}", a.dims) });
    }
    if let Some((i, l)) = a.data.iter().enumerate().find(|(_, l)| **l > 9) {
        return Err(DataError::Format { path: path.to_path_buf(), msg: format!("label {l} at index {i} is not a class 0..9") });
    }
    Ok(a.data.iter().map(|&l| l as usize).collect())
}

/// A dataset from an image file and a label file (10 classes).
pub fn load_files(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
    let (x, [n, r, c]) = read_images(images)?;
    let y = read_labels(labels)?;
    if y.len() != n {
        return Err(DataError::Format { path: labels.to_path_buf(), msg: format!("{} labels for {n} images in {}", y.len(), images.display()) });
    }
    Dataset::new(x, vec![1, r, c], y, 10)
}

/// Load a split from `dir` holding the standard file names, raw or `.gz`
/// (MNIST and Fashion-MNIST use the same names).
pub fn load(dir: &Path, split: Split) -> Result<Dataset, DataError> {
    let find = |kind: &str| -> Result<PathBuf, DataError> {
        let base = format!("{}-{kind}", split.prefix());
        [base.clone(), format!("{base}.gz")].iter().map(|n| dir.join(n)).find(|p| p.is_file()).ok_or_else(|| DataError::Missing { what: base, looked: dir.display().to_string() })
    };
    load_files(&find("images-idx3-ubyte")?, &find("labels-idx1-ubyte")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn mnist_dir() -> PathBuf {
        match super::super::locate("mnist/data") {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vislab-mnist-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            b.extend(d.to_be_bytes());
        }
        b.extend(data);
        b
    }

    #[test]
    fn loads_real_mnist() {
        let dir = mnist_dir();
        let train = load(&dir, Split::Train).unwrap();
        assert_eq!(train.len(), 60_000);
        assert_eq!(train.sample_shape(), &[1, 28, 28]);
        assert_eq!(&train.y()[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
        let test = load(&dir, Split::Test).unwrap();
        assert_eq!(test.len(), 10_000);
        assert_eq!(&test.y()[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
        // Pixels span [0, 1] exactly (0 and 255 both occur); every class occurs.
        let (lo, hi) = train.x().iter().fold((1.0f32, 0.0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        assert_eq!((lo, hi), (0.0, 1.0));
        let mut counts = [0usize; 10];
        for &l in train.y() {
            counts[l] += 1;
        }
        assert!(counts.iter().all(|&c| c > 5000), "{counts:?}");
        // The first digit (a 5) has ink in the middle rows, none in the corner.
        let (img, _) = train.get(0).unwrap();
        assert_eq!(img[0], 0.0);
        assert!(img[14 * 28..15 * 28].iter().any(|&v| v > 0.5));
    }

    #[test]
    fn reads_gzip_like_raw() {
        let bytes = idx(&[2, 2, 3], &[0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6]);
        let gz = tmp("imgs.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&bytes).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let raw = tmp("imgs");
        std::fs::write(&raw, &bytes).unwrap();
        let (x, dims) = read_images(&gz).unwrap();
        assert_eq!(dims, [2, 2, 3]);
        assert_eq!(&x[..6], &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(read_images(&raw).unwrap(), (x, dims));
        let lab = tmp("labs");
        std::fs::write(&lab, idx(&[2], &[3, 9])).unwrap();
        let d = load_files(&raw, &lab).unwrap();
        assert_eq!((d.len(), d.sample_shape(), d.y()), (2, &[1usize, 2, 3][..], &[3usize, 9][..]));
    }

    fn err(bytes: &[u8]) -> String {
        match parse_idx(bytes, Path::new("f")) {
            Ok(a) => panic!("parsed garbage as {:?}", a.dims),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bad_files_give_clear_errors() {
        assert!(err(&[0, 0]).contains("too short"));
        assert!(err(&[0x12, 0x34, 8, 1, 0, 0, 0, 1, 7]).contains("not an idx file"));
        assert!(err(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 7]).contains("not unsigned byte"));
        assert!(err(&[0, 0, 8, 3, 0, 0]).contains("truncated header"));
        assert!(err(&idx(&[2, 28, 28], &[0; 1000])).contains("truncated: dims [2, 28, 28] need 1568"));
        assert!(err(&idx(&[1], &[1, 2])).contains("trailing bytes"));
        assert!(err(&idx(&[u32::MAX, u32::MAX, u32::MAX], &[])).contains("overflow"));
        assert!(err(&[0, 0, 8, 0]).contains("zero dimensions"));
        // Truncated copy of the real label file.
        let real = std::fs::read(mnist_dir().join("train-labels-idx1-ubyte")).unwrap();
        assert!(err(&real[..5000]).contains("truncated"));
        // Garbage gzip, labels out of range, images with the wrong rank,
        // count mismatch, missing file.
        let g = tmp("garbage.gz");
        std::fs::write(&g, [0x1f, 0x8b, 1, 2, 3, 4, 5]).unwrap();
        assert!(read_idx(&g).unwrap_err().to_string().contains("bad gzip"));
        let l = tmp("bad-labels");
        std::fs::write(&l, idx(&[2], &[3, 10])).unwrap();
        assert!(read_labels(&l).unwrap_err().to_string().contains("label 10 at index 1"));
        let i = tmp("flat-images");
        std::fs::write(&i, idx(&[4], &[0; 4])).unwrap();
        assert!(read_images(&i).unwrap_err().to_string().contains("expected 3 dims"));
        let i3 = tmp("three-images");
        std::fs::write(&i3, idx(&[3, 1, 1], &[0; 3])).unwrap();
        std::fs::write(&l, idx(&[2], &[3, 1])).unwrap();
        assert!(load_files(&i3, &l).unwrap_err().to_string().contains("2 labels for 3 images"));
        assert!(matches!(read_idx(&tmp("nope")), Err(DataError::Io { .. })));
        assert!(matches!(load(&tmp("empty-dir"), Split::Train), Err(DataError::Missing { .. })));
    }
}
