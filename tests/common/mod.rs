//! Helpers shared by the UI tests: a harness on the real app, and pixel counting.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use egui_kittest::{Harness, SnapshotOptions};
use vislab::shell::{StartOptions, VislabApp};

pub const SIZE: [f32; 2] = [1024.0, 640.0];

/// The whole app on one lab, rendered by wgpu on the software adapter.
pub fn app(lab: &str) -> Harness<'static, VislabApp> {
    let start = StartOptions { lab: Some(lab.to_owned()), open: None };
    let mut h = Harness::builder()
        .with_size(egui::vec2(SIZE[0], SIZE[1]))
        .with_pixels_per_point(1.0)
        .wgpu()
        .build_eframe(|cc| VislabApp::new(cc, start));
    h.state_mut().show_frame_time = false;
    settle(&mut h);
    h
}

/// Step until background work is done, then let the layout settle.
pub fn settle(h: &mut Harness<'static, VislabApp>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.state().busy() {
        assert!(Instant::now() < deadline, "app still busy after 60 s");
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    h.run_steps(4);
}

/// Software rendering is deterministic, but leave room for a driver update
/// nudging a few anti-aliased glyph edges.
pub fn snapshot_options() -> SnapshotOptions {
    SnapshotOptions::new().threshold(1.0).max_failed_pixels(200)
}

/// Pixels inside `rect` (x0, y0, x1, y1) that differ from the 3D background.
pub fn non_background(img: &image::RgbaImage, rect: [u32; 4]) -> usize {
    let bg = [19i32, 20, 23];
    let mut n = 0;
    for y in rect[1]..rect[3].min(img.height()) {
        for x in rect[0]..rect[2].min(img.width()) {
            let p = img.get_pixel(x, y).0;
            if (0..3).any(|k| (p[k] as i32 - bg[k]).abs() > 12) {
                n += 1;
            }
        }
    }
    n
}

/// Pixels in `rect` that are strongly colored (not gray): colormaps, axes.
pub fn colored(img: &image::RgbaImage, rect: [u32; 4]) -> usize {
    let mut n = 0;
    for y in rect[1]..rect[3].min(img.height()) {
        for x in rect[0]..rect[2].min(img.width()) {
            let p = img.get_pixel(x, y).0;
            let (mx, mn) = (p[0].max(p[1]).max(p[2]), p[0].min(p[1]).min(p[2]));
            if mx as i32 - mn as i32 > 60 {
                n += 1;
            }
        }
    }
    n
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vislab-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The committed Utah teapot.
pub fn teapot_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/teapot.obj")
}

/// A CIFAR-10 record in the real layout: label, then R, G and B planes;
/// class c is a flat colour (c * 25 in red, 255 - c * 25 in blue) plus a
/// little per-image texture.
pub fn cifar_record(label: u8, k: usize) -> Vec<u8> {
    let mut r = vec![label];
    for plane in 0..3 {
        let base = [label as usize * 25, 128, 255 - label as usize * 25][plane];
        r.extend((0..1024).map(|i| ((base + (i * 7 + k) % 9) % 256) as u8));
    }
    r
}
