//! A folder of images with one sub-folder per class (`root/cat/001.png`,
//! `root/dog/a.jpg`, ...), the layout torchvision's `ImageFolder` reads.
//! Classes are the sub-folder names in sorted order; every file the `image`
//! crate recognises by its extension is decoded, resized to `size` x `size`
//! and stored as `[C, size, size]` in [0, 1] (C = 1 grey or 3 RGB). Files
//! with other extensions (notes, thumbnails databases) are skipped; an image
//! that fails to decode is an error naming it.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use super::{DataError, Dataset};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FolderOptions {
    /// Side of the square every image is resized to.
    pub size: usize,
    /// One grey channel instead of three RGB channels.
    pub grayscale: bool,
}

impl Default for FolderOptions {
    fn default() -> Self {
        FolderOptions { size: 32, grayscale: false }
    }
}

/// The dataset and the class names (sub-folder names).
pub fn load(root: &Path, opt: FolderOptions) -> Result<(Dataset, Vec<String>), DataError> {
    if opt.size == 0 || opt.size > 1024 {
        return Err(DataError::Invalid(format!("image size {} must be in 1..=1024", opt.size)));
    }
    let classes = sorted_entries(root)?.into_iter().filter(|p| p.is_dir()).collect::<Vec<_>>();
    if classes.is_empty() {
        return Err(DataError::Format { path: root.to_path_buf(), msg: "no class sub-folders (expected one folder of images per class)".into() });
    }
    let channels = if opt.grayscale { 1 } else { 3 };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut names = Vec::with_capacity(classes.len());
    for (label, dir) in classes.iter().enumerate() {
        names.push(dir.file_name().map_or_else(|| label.to_string(), |n| n.to_string_lossy().into_owned()));
        for file in sorted_entries(dir)?.into_iter().filter(|p| p.is_file() && image::ImageFormat::from_path(p).is_ok()) {
            x.extend(read_image(&file, opt)?);
            y.push(label);
        }
    }
    if y.is_empty() {
        return Err(DataError::Format { path: root.to_path_buf(), msg: format!("{} class folders but no image files in them", classes.len()) });
    }
    Ok((Dataset::new(x, vec![channels, opt.size, opt.size], y, classes.len())?, names))
}

/// One image as planar `[C, size, size]` values in [0, 1].
pub fn read_image(path: &Path, opt: FolderOptions) -> Result<Vec<f32>, DataError> {
    let img = image::open(path).map_err(|e| DataError::Format { path: path.to_path_buf(), msg: format!("cannot decode image: {e}") })?;
    let s = opt.size as u32;
    let img = img.resize_exact(s, s, FilterType::Triangle);
    Ok(if opt.grayscale {
        img.to_luma32f().into_raw()
    } else {
        // interleaved RGB to planes
        let rgb = img.to_rgb32f().into_raw();
        (0..3).flat_map(|c| rgb.iter().skip(c).step_by(3).copied().collect::<Vec<_>>()).collect()
    })
}

/// Entries of a directory, sorted, hidden ones left out.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let io = |source| DataError::Io { path: dir.to_path_buf(), source };
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let p = e.map_err(io)?.path();
        if !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::cifar::tests::scratch;

    fn write_rgb(path: &Path, w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) {
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y))).save(path).unwrap();
    }

    fn folder(name: &str) -> PathBuf {
        let root = scratch(name);
        for c in ["cats", "dogs"] {
            std::fs::create_dir_all(root.join(c)).unwrap();
        }
        // a solid red 4x4, a 2x2 checker of black and white, a blue 6x3 jpeg
        write_rgb(&root.join("cats/a.png"), 4, 4, |_, _| [255, 0, 0]);
        write_rgb(&root.join("cats/b.png"), 2, 2, |x, y| if (x + y) % 2 == 0 { [0, 0, 0] } else { [255, 255, 255] });
        write_rgb(&root.join("dogs/c.jpg"), 6, 3, |_, _| [0, 0, 255]);
        std::fs::write(root.join("dogs/notes.txt"), "not an image").unwrap();
        std::fs::write(root.join("dogs/.hidden.png"), "skipped").unwrap();
        std::fs::write(root.join("README"), "a file at the top is no class").unwrap();
        root
    }

    #[test]
    fn reads_classes_resizes_and_keeps_channels() {
        let root = folder("ok");
        let (d, names) = load(&root, FolderOptions { size: 2, grayscale: false }).unwrap();
        assert_eq!(names, vec!["cats", "dogs"]);
        assert_eq!((d.len(), d.sample_shape(), d.y()), (3, &[3usize, 2, 2][..], &[0usize, 0, 1][..]));
        // solid red stays red after resizing: R plane 1, G and B planes 0
        assert_eq!(d.get(0).unwrap().0, &[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        // the 2x2 checker at size 2 is unchanged, in every plane
        assert_eq!(&d.get(1).unwrap().0[..4], &[0.0, 1.0, 1.0, 0.0]);
        // the jpeg is blue within compression error
        let (blue, _) = d.get(2).unwrap();
        assert!(blue[..8].iter().all(|&v| v < 0.05) && blue[8..].iter().all(|&v| v > 0.9), "{blue:?}");
        let (g, _) = load(&root, FolderOptions { size: 3, grayscale: true }).unwrap();
        assert_eq!(g.sample_shape(), &[1, 3, 3]);
        // luma of pure red (Rec. 709 weights as image uses): 0.2126
        assert!((g.get(0).unwrap().0[4] - 0.2126).abs() < 0.01, "{:?}", g.get(0));
    }

    #[test]
    fn bad_folders_and_files_are_errors() {
        let root = folder("bad");
        std::fs::write(root.join("dogs/broken.png"), b"\x89PNG\r\n\x1a\n garbage").unwrap();
        let e = load(&root, FolderOptions::default()).unwrap_err().to_string();
        assert!(e.contains("broken.png") && e.contains("cannot decode"), "{e}");
        let empty = scratch("empty");
        assert!(load(&empty, FolderOptions::default()).unwrap_err().to_string().contains("no class sub-folders"));
        std::fs::create_dir_all(empty.join("a")).unwrap();
        assert!(load(&empty, FolderOptions::default()).unwrap_err().to_string().contains("no image files"));
        assert!(matches!(load(Path::new("/no/such/folder"), FolderOptions::default()), Err(DataError::Io { .. })));
        assert!(load(&root, FolderOptions { size: 0, grayscale: false }).is_err());
    }
}
