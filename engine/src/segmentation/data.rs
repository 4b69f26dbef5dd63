//! Segmentation data: images with a class per pixel and an instance id per
//! pixel, all of one size.
//!
//! Two sources:
//! - [`SegSet::synthetic`]: seeded shapes (discs, squares, triangles, each
//!   rotated, in random colours) over a textured background; every shape is
//!   an instance of its class, later shapes occlude earlier ones.
//! - [`load_pair`]: an image and an instance mask from files (PNG or TIFF,
//!   8 or 16 bit; mask 0 is background, every other value one instance of a
//!   single foreground class), then [`crops`] cuts seeded training crops from
//!   the left part and tiles a held-out strip on the right for validation.

use std::path::Path;

use crate::rng::SeededRng;

use super::SegError;

/// A class and whether it is a countable thing (shapes, nuclei) or amorphous
/// stuff (background), as COCO panoptic splits them.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassInfo {
    pub name: String,
    pub thing: bool,
}

impl ClassInfo {
    pub fn thing(name: &str) -> Self {
        ClassInfo { name: name.into(), thing: true }
    }
    pub fn stuff(name: &str) -> Self {
        ClassInfo { name: name.into(), thing: false }
    }
}

/// `len` images of `channels x height x width`, planar in [0, 1], with their
/// class maps (`labels`, `[len, height, width]`) and instance maps (0 where
/// no instance).
#[derive(Clone, Debug, PartialEq)]
pub struct SegSet {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub images: Vec<f32>,
    pub labels: Vec<u8>,
    pub instances: Vec<u32>,
    pub classes: Vec<ClassInfo>,
}

impl SegSet {
    pub fn len(&self) -> usize {
        self.labels.len() / self.pixels().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    pub fn image(&self, i: usize) -> Option<&[f32]> {
        let n = self.channels * self.pixels();
        self.images.get(i * n..(i + 1) * n)
    }

    pub fn label(&self, i: usize) -> Option<&[u8]> {
        let n = self.pixels();
        self.labels.get(i * n..(i + 1) * n)
    }

    pub fn instance(&self, i: usize) -> Option<&[u32]> {
        let n = self.pixels();
        self.instances.get(i * n..(i + 1) * n)
    }

    /// Sizes and labels agree with each other and with the class list.
    pub fn check(&self) -> Result<(), SegError> {
        let n = self.len();
        if self.height == 0 || self.width == 0 || self.channels == 0 || n == 0 {
            return Err(SegError::Input(format!("empty set: {n} images of {}x{}x{}", self.channels, self.height, self.width)));
        }
        if self.images.len() != n * self.channels * self.pixels() || self.instances.len() != self.labels.len() {
            return Err(SegError::Input("image, label and instance sizes disagree".into()));
        }
        if let Some(&l) = self.labels.iter().find(|&&l| l as usize >= self.classes.len()) {
            return Err(SegError::Input(format!("label {l} but only {} classes", self.classes.len())));
        }
        Ok(())
    }

    /// The images at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> SegSet {
        let mut s = SegSet { images: vec![], labels: vec![], instances: vec![], ..self.clone_empty() };
        for &i in idx {
            if let (Some(x), Some(l), Some(k)) = (self.image(i), self.label(i), self.instance(i)) {
                s.images.extend_from_slice(x);
                s.labels.extend_from_slice(l);
                s.instances.extend_from_slice(k);
            }
        }
        s
    }

    fn clone_empty(&self) -> SegSet {
        SegSet { channels: self.channels, height: self.height, width: self.width, images: vec![], labels: vec![], instances: vec![], classes: self.classes.clone() }
    }

    /// Seeded synthetic shapes (see the module docs).
    pub fn synthetic(cfg: &SynthConfig) -> SegSet {
        let (h, w) = (cfg.size, cfg.size);
        let mut s = SegSet {
            channels: 3,
            height: h,
            width: w,
            images: Vec::with_capacity(cfg.count * 3 * h * w),
            labels: Vec::with_capacity(cfg.count * h * w),
            instances: Vec::with_capacity(cfg.count * h * w),
            classes: synthetic_classes(),
        };
        for i in 0..cfg.count {
            let mut rng = SeededRng::stream(cfg.seed, i as u64);
            let (img, lab, ins) = synth_image(cfg, &mut rng);
            s.images.extend(img);
            s.labels.extend(lab);
            s.instances.extend(ins);
        }
        s
    }
}

/// Background (stuff) and the three shape classes (things).
pub fn synthetic_classes() -> Vec<ClassInfo> {
    vec![ClassInfo::stuff("background"), ClassInfo::thing("disc"), ClassInfo::thing("square"), ClassInfo::thing("triangle")]
}

#[derive(Clone, Debug, PartialEq)]
pub struct SynthConfig {
    pub count: usize,
    /// Square images of `size` pixels a side.
    pub size: usize,
    /// Shapes per image, at least 1.
    pub max_shapes: usize,
    pub seed: u64,
}

impl SynthConfig {
    pub fn new(count: usize, size: usize, seed: u64) -> Self {
        SynthConfig { count, size, max_shapes: 3, seed }
    }
}

/// One synthetic image: planar RGB, class map, instance map.
fn synth_image(cfg: &SynthConfig, rng: &mut SeededRng) -> (Vec<f32>, Vec<u8>, Vec<u32>) {
    let n = cfg.size;
    let sz = n as f64;
    // Background: a dim colour, a seeded stripe texture and pixel noise, so
    // "not a shape" is not simply "dark".
    let base: [f64; 3] = std::array::from_fn(|_| rng.uniform_in(0.1, 0.45));
    let (fx, fy) = (rng.uniform_in(0.2, 0.9), rng.uniform_in(0.2, 0.9));
    let phase = rng.uniform_in(0.0, std::f64::consts::TAU);
    let mut img = vec![0f32; 3 * n * n];
    for y in 0..n {
        for x in 0..n {
            let t = 0.12 * (fx * x as f64 + fy * y as f64 + phase).sin();
            for c in 0..3 {
                let v = base[c] + t + 0.06 * (rng.uniform() - 0.5);
                img[c * n * n + y * n + x] = v.clamp(0.0, 1.0) as f32;
            }
        }
    }
    let mut lab = vec![0u8; n * n];
    let mut ins = vec![0u32; n * n];
    let shapes = 1 + rng.below(cfg.max_shapes.max(1));
    for k in 0..shapes {
        let class = 1 + rng.below(3) as u8;
        let r = rng.uniform_in(0.12, 0.22) * sz;
        let (cx, cy) = (rng.uniform_in(r, sz - r), rng.uniform_in(r, sz - r));
        let angle = rng.uniform_in(0.0, std::f64::consts::TAU);
        // Bright, saturated-ish colours: any hue for any class.
        let colour: [f64; 3] = std::array::from_fn(|_| rng.uniform_in(0.45, 1.0));
        let (ca, sa) = (angle.cos(), angle.sin());
        for y in 0..n {
            for x in 0..n {
                // Pixel centre in the shape's rotated frame, in radii.
                let (dx, dy) = ((x as f64 + 0.5 - cx) / r, (y as f64 + 0.5 - cy) / r);
                let (u, v) = (ca * dx + sa * dy, -sa * dx + ca * dy);
                let inside = match class {
                    1 => u * u + v * v <= 1.0,
                    2 => u.abs() <= 0.8 && v.abs() <= 0.8,
                    _ => in_triangle(u, v),
                };
                if inside {
                    let p = y * n + x;
                    lab[p] = class;
                    ins[p] = k as u32 + 1;
                    for c in 0..3 {
                        img[c * n * n + p] = (colour[c] + 0.04 * (rng.uniform() - 0.5)).clamp(0.0, 1.0) as f32;
                    }
                }
            }
        }
    }
    (img, lab, ins)
}

/// The equilateral triangle inscribed in the unit circle, apex up.
fn in_triangle(u: f64, v: f64) -> bool {
    let s3 = 3f64.sqrt();
    // Three half-planes: base at v = 0.5, two sides through the apex (0, -1).
    v <= 0.5 && s3 * u - v <= 1.0 && -s3 * u - v <= 1.0
}

/// An image and its instance mask read from files.
#[derive(Clone, Debug, PartialEq)]
pub struct ImagePair {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    /// Planar, scaled to [0, 1] (16-bit images by their 0.5 and 99.5
    /// percentiles: fluorescence uses a small part of the range).
    pub image: Vec<f32>,
    /// Instance id per pixel, 0 for background.
    pub instances: Vec<u32>,
    /// Distinct non-zero ids.
    pub instance_count: usize,
}

impl ImagePair {
    pub fn labels(&self) -> Vec<u8> {
        self.instances.iter().map(|&i| u8::from(i > 0)).collect()
    }

    pub fn classes() -> Vec<ClassInfo> {
        vec![ClassInfo::stuff("background"), ClassInfo::thing("object")]
    }

    /// The whole image as a one-image set (what the lab predicts and overlays).
    pub fn whole(&self) -> SegSet {
        SegSet {
            channels: self.channels,
            height: self.height,
            width: self.width,
            images: self.image.clone(),
            labels: self.labels(),
            instances: self.instances.clone(),
            classes: ImagePair::classes(),
        }
    }
}

/// The first held-out column of a `width`-wide image whose right `holdout`
/// fraction is held out (as [`crops`] splits it).
pub fn holdout_split(width: usize, holdout: f64) -> usize {
    ((width as f64) * (1.0 - holdout.clamp(0.05, 0.95))).round() as usize
}

const MASK_WORDS: [&str; 4] = ["masks", "mask", "labels", "label"];
const IMAGE_WORDS: [&str; 3] = ["images", "image", "img"];
const PAIR_EXTENSIONS: [&str; 3] = ["png", "tif", "tiff"];

/// The image and the mask of a pair that `path` (either one) belongs to,
/// found by name next to it: a mask's name has "mask" or "label(s)" where
/// the image has "img", "image" or nothing (`cells_mask.png` and
/// `cells.png`, `mask2d.tif` and `img2d.tif`, `masks/x.png` and
/// `images/x.png`), with any of png, tif or tiff. None when `path` is no
/// PNG or TIFF or no partner exists.
pub fn find_pair(path: &Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let ext = path.extension()?.to_string_lossy().to_lowercase();
    if !PAIR_EXTENSIONS.contains(&ext.as_str()) {
        return None;
    }
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let dir = path.parent().unwrap_or(Path::new(""));
    let dir_name = dir.file_name().map(|d| d.to_string_lossy().to_lowercase()).unwrap_or_default();
    let lower = stem.to_lowercase();
    let is_mask = MASK_WORDS.iter().any(|w| lower.contains(w)) || MASK_WORDS.contains(&dir_name.as_str());
    // Candidate partner (directory, stem) pairs, in order of preference.
    let mut names: Vec<(std::path::PathBuf, String)> = vec![];
    let (from, to): (&[&str], &[&str]) = if is_mask { (&MASK_WORDS, &IMAGE_WORDS) } else { (&IMAGE_WORDS, &MASK_WORDS) };
    for f in from {
        // (Offsets into the lowercased name fit the name itself unless
        // lowercasing changed its length: then no word match.)
        if let Some((head, tail)) = lower.find(f).and_then(|at| Some((stem.get(..at)?, stem.get(at + f.len()..)?))) {
            for t in to {
                names.push((dir.to_path_buf(), format!("{head}{t}{tail}")));
            }
            if is_mask {
                // "cells_mask" -> "cells": drop the word and a separator before it.
                names.push((dir.to_path_buf(), format!("{}{tail}", head.trim_end_matches(['_', '-', '.', ' ']))));
            }
            break;
        }
    }
    if !is_mask {
        for t in ["_mask", "_masks", "_label", "_labels", "-mask"] {
            names.push((dir.to_path_buf(), format!("{stem}{t}")));
        }
    }
    // Sibling folders: masks/x.png <-> images/x.png.
    if let Some(up) = dir.parent() {
        let words: &[&str] = if is_mask { &IMAGE_WORDS } else { &MASK_WORDS };
        if (if is_mask { MASK_WORDS.as_slice() } else { IMAGE_WORDS.as_slice() }).contains(&dir_name.as_str()) {
            for w in words {
                names.push((up.join(w), stem.clone()));
            }
        }
    }
    let partner = names
        .into_iter()
        .filter(|(_, n)| !n.is_empty())
        .find_map(|(d, n)| PAIR_EXTENSIONS.iter().flat_map(|e| [e.to_string(), e.to_uppercase()]).map(|e| d.join(format!("{n}.{e}"))).find(|p| p.is_file() && p != path))?;
    Some(if is_mask { (partner, path.to_path_buf()) } else { (path.to_path_buf(), partner) })
}

fn read_image(path: &Path, what: &str) -> Result<image::DynamicImage, SegError> {
    image::ImageReader::open(path)
        .map_err(|e| SegError::Input(format!("cannot open {what} {}: {e}", path.display())))?
        .with_guessed_format()
        .map_err(|e| SegError::Input(format!("cannot read {what} {}: {e}", path.display())))?
        .decode()
        .map_err(|e| SegError::Input(format!("cannot decode {what} {}: {e}", path.display())))
}

/// Values between the `lo` and `hi` quantiles mapped to [0, 1].
fn stretch(values: &[f32], lo: f64, hi: f64) -> Vec<f32> {
    let mut sorted: Vec<f32> = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    let q = |p: f64| sorted.get(((sorted.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(0.0);
    let (a, b) = (q(lo), q(hi));
    let span = if b > a { b - a } else { 1.0 };
    values.iter().map(|&v| ((v - a) / span).clamp(0.0, 1.0)).collect()
}

/// Read an image (grey or RGB, 8 or 16 bit) and a label mask (one channel,
/// 8 or 16 bit, 0 = background) of the same size.
pub fn load_pair(image_path: &Path, mask_path: &Path) -> Result<ImagePair, SegError> {
    use image::DynamicImage as D;
    let img = read_image(image_path, "image")?;
    let mask = read_image(mask_path, "mask")?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    if (mask.width() as usize, mask.height() as usize) != (w, h) {
        return Err(SegError::Input(format!("the image is {w}x{h} but the mask is {}x{}: they must be the same size", mask.width(), mask.height())));
    }
    let instances: Vec<u32> = match &mask {
        D::ImageLuma8(m) => m.as_raw().iter().map(|&v| v as u32).collect(),
        D::ImageLuma16(m) => m.as_raw().iter().map(|&v| v as u32).collect(),
        other => {
            return Err(SegError::Input(format!("the mask {} is {:?}; it must be one 8- or 16-bit channel of instance ids", mask_path.display(), other.color())));
        }
    };
    let (channels, image) = match &img {
        D::ImageLuma8(m) => (1, m.as_raw().iter().map(|&v| v as f32 / 255.0).collect()),
        D::ImageLuma16(m) => (1, stretch(&m.as_raw().iter().map(|&v| v as f32).collect::<Vec<_>>(), 0.005, 0.995)),
        other => {
            let rgb = other.to_rgb32f();
            let n = w * h;
            let mut planes = vec![0f32; 3 * n];
            for (p, px) in rgb.pixels().enumerate() {
                for c in 0..3 {
                    planes[c * n + p] = px.0[c].clamp(0.0, 1.0);
                }
            }
            (3, planes)
        }
    };
    if image.iter().any(|v| !v.is_finite()) {
        return Err(SegError::Input(format!("the image {} has non-finite values", image_path.display())));
    }
    let mut ids: Vec<u32> = instances.iter().copied().filter(|&i| i > 0).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ImagePair { width: w, height: h, channels, image, instances, instance_count: ids.len() })
}

/// Training crops and validation tiles of one image pair: the right
/// `holdout` fraction of the columns is never cropped for training; it is
/// tiled (non-overlapping, `crop` a side) for validation. `count` training
/// crops at seeded positions, each flipped at random.
pub fn crops(pair: &ImagePair, crop: usize, count: usize, holdout: f64, seed: u64) -> Result<(SegSet, SegSet), SegError> {
    let (w, h) = (pair.width, pair.height);
    let split = holdout_split(w, holdout);
    if crop == 0 || h < crop || split < crop || w - split < crop {
        return Err(SegError::Input(format!("a {w}x{h} image is too small for {crop}x{crop} crops with a held-out strip")));
    }
    let empty = SegSet { channels: pair.channels, height: crop, width: crop, images: vec![], labels: vec![], instances: vec![], classes: ImagePair::classes() };
    let labels = pair.labels();
    let cut = |set: &mut SegSet, x0: usize, y0: usize, flip: bool| {
        for c in 0..pair.channels {
            for y in 0..crop {
                for x in 0..crop {
                    let sx = if flip { x0 + crop - 1 - x } else { x0 + x };
                    set.images.push(pair.image[c * w * h + (y0 + y) * w + sx]);
                }
            }
        }
        for y in 0..crop {
            for x in 0..crop {
                let sx = if flip { x0 + crop - 1 - x } else { x0 + x };
                let p = (y0 + y) * w + sx;
                set.labels.push(labels[p]);
                set.instances.push(pair.instances[p]);
            }
        }
    };
    let mut train = empty.clone();
    let mut rng = SeededRng::new(seed);
    for _ in 0..count {
        let (x0, y0) = (rng.below(split - crop + 1), rng.below(h - crop + 1));
        let flip = rng.below(2) == 1;
        cut(&mut train, x0, y0, flip);
    }
    let mut val = empty;
    for ty in 0..h / crop {
        for tx in 0..(w - split) / crop {
            cut(&mut val, split + tx * crop, ty * crop, false);
        }
    }
    Ok((train, val))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_sets_are_seeded_and_labelled() {
        let cfg = SynthConfig::new(6, 32, 3);
        let a = SegSet::synthetic(&cfg);
        assert_eq!(a, SegSet::synthetic(&cfg));
        assert_ne!(a, SegSet::synthetic(&SynthConfig { seed: 4, ..cfg.clone() }));
        a.check().unwrap();
        assert_eq!((a.len(), a.images.len()), (6, 6 * 3 * 32 * 32));
        // Every image has some shape pixels, and instance ids mark exactly
        // the shape pixels.
        for i in 0..6 {
            let (l, k) = (a.label(i).unwrap(), a.instance(i).unwrap());
            assert!(l.iter().any(|&c| c > 0), "image {i} has no shape");
            assert!(l.iter().zip(k).all(|(&c, &id)| (c > 0) == (id > 0)));
        }
        // Over the set every class appears.
        for c in 0..4u8 {
            assert!(a.labels.contains(&c), "class {c} missing");
        }
        assert!(a.images.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn triangle_is_the_inscribed_equilateral_one() {
        assert!(in_triangle(0.0, 0.0));
        assert!(in_triangle(0.0, -0.99));
        assert!(!in_triangle(0.0, -1.01));
        assert!(in_triangle(0.86, 0.49));
        assert!(!in_triangle(0.9, 0.49));
        assert!(!in_triangle(0.0, 0.51));
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("vislab-seg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_png_image_and_16_bit_tiff_mask_load_as_instances() {
        let d = scratch("pair");
        let (w, h) = (6u32, 4u32);
        let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([(x * 40 + y) as u8]));
        img.save(d.join("img.png")).unwrap();
        // Two instances: ids 7 (a 2x2 block) and 300 (one pixel, needs 16 bits).
        let mask = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(w, h, |x, y| {
            image::Luma([match (x, y) {
                (1..=2, 1..=2) => 7,
                (5, 3) => 300,
                _ => 0,
            }])
        });
        mask.save(d.join("mask.tif")).unwrap();
        let p = load_pair(&d.join("img.png"), &d.join("mask.tif")).unwrap();
        assert_eq!((p.width, p.height, p.channels, p.instance_count), (6, 4, 1, 2));
        assert_eq!(p.instances[6 + 1], 7);
        assert_eq!(p.instances[3 * 6 + 5], 300);
        assert_eq!(p.labels().iter().filter(|&&l| l == 1).count(), 5);
        assert!((p.image[2] - 80.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn mismatched_or_unreadable_files_say_why() {
        let d = scratch("bad");
        image::GrayImage::new(5, 5).save(d.join("a.png")).unwrap();
        image::GrayImage::new(4, 5).save(d.join("b.png")).unwrap();
        image::RgbImage::new(5, 5).save(d.join("rgb.png")).unwrap();
        std::fs::write(d.join("junk.png"), b"not a png").unwrap();
        let e = load_pair(&d.join("a.png"), &d.join("b.png")).unwrap_err().to_string();
        assert!(e.contains("5x5") && e.contains("4x5"), "{e}");
        let e = load_pair(&d.join("a.png"), &d.join("rgb.png")).unwrap_err().to_string();
        assert!(e.contains("one 8- or 16-bit channel"), "{e}");
        let e = load_pair(&d.join("junk.png"), &d.join("a.png")).unwrap_err().to_string();
        assert!(e.contains("image") && e.contains("junk.png"), "{e}");
        let e = load_pair(&d.join("missing.png"), &d.join("a.png")).unwrap_err().to_string();
        assert!(e.contains("cannot open image"), "{e}");
    }

    #[test]
    fn pairs_are_found_by_name_from_either_file() {
        let d = scratch("names");
        for f in ["cells.png", "cells_mask.png", "img2d.tif", "mask2d.tif", "lonely.png", "depth_label.txt"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        std::fs::create_dir_all(d.join("images")).unwrap();
        std::fs::create_dir_all(d.join("masks")).unwrap();
        std::fs::write(d.join("images/a1.png"), b"x").unwrap();
        std::fs::write(d.join("masks/a1.tif"), b"x").unwrap();
        let pair = |a: &str, b: &str| Some((d.join(a), d.join(b)));
        assert_eq!(find_pair(&d.join("cells_mask.png")), pair("cells.png", "cells_mask.png"));
        assert_eq!(find_pair(&d.join("cells.png")), pair("cells.png", "cells_mask.png"));
        assert_eq!(find_pair(&d.join("mask2d.tif")), pair("img2d.tif", "mask2d.tif"));
        assert_eq!(find_pair(&d.join("img2d.tif")), pair("img2d.tif", "mask2d.tif"));
        assert_eq!(find_pair(&d.join("masks/a1.tif")), pair("images/a1.png", "masks/a1.tif"));
        assert_eq!(find_pair(&d.join("images/a1.png")), pair("images/a1.png", "masks/a1.tif"));
        assert_eq!(find_pair(&d.join("lonely.png")), None);
        assert_eq!(find_pair(&d.join("depth_label.txt")), None);
    }

    #[test]
    fn crops_keep_the_held_out_strip_apart() {
        // 16x8 image whose pixel value is its column; holdout 0.25 -> columns 12..16.
        let (w, h) = (16usize, 8usize);
        let image: Vec<f32> = (0..w * h).map(|p| (p % w) as f32 / 16.0).collect();
        let instances: Vec<u32> = (0..w * h).map(|p| u32::from(p % w == 13)).collect();
        let pair = ImagePair { width: w, height: h, channels: 1, image, instances, instance_count: 1 };
        let (train, val) = crops(&pair, 4, 20, 0.25, 1).unwrap();
        assert_eq!((train.len(), val.len()), (20, 2));
        assert!(train.images.iter().all(|&v| v < 12.0 / 16.0), "a training crop reached the held-out columns");
        // Validation tiles: columns 12..16, rows 0..4 and 4..8; column 13 is the object.
        assert_eq!(val.image(0).unwrap()[..4], [12.0 / 16.0, 13.0 / 16.0, 14.0 / 16.0, 15.0 / 16.0]);
        assert_eq!(val.label(1).unwrap()[..4], [0, 1, 0, 0]);
        assert!(crops(&pair, 9, 1, 0.25, 1).is_err());
    }
}
