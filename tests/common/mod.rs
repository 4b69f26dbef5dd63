//! Helpers shared by the UI tests: a harness on the real app, and pixel counting.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use egui_kittest::{Harness, SnapshotOptions};
use vislab::shell::{StartOptions, VislabApp};

pub const SIZE: [f32; 2] = [1024.0, 640.0];

/// The whole app on one lab, rendered by wgpu on the software adapter.
pub fn app(lab: &str) -> Harness<'static, VislabApp> {
    let start = StartOptions { lab: Some(lab.to_owned()), open: None };
    let mut h = Harness::builder().with_size(egui::vec2(SIZE[0], SIZE[1])).with_pixels_per_point(1.0).wgpu().build_eframe(|cc| VislabApp::new(cc, start));
    h.state_mut().show_frame_time = false;
    settle(&mut h);
    h
}

/// Step until background work is done, then let the layout settle.
pub fn settle(h: &mut Harness<'static, VislabApp>) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while h.state().busy() {
        assert!(Instant::now() < deadline, "app still busy after 180 s");
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

/// A fresh scratch folder for one test. Its path does not vary between
/// runs (no process id), because labs show the paths they open and those
/// lines are in the snapshots; test names keep the folders apart.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vislab-test-{name}"));
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

/// Type a dataset path into the lab's dataset picker and press Load.
pub fn open_path(h: &mut Harness<'static, VislabApp>, path: &str) {
    use egui_kittest::kittest::Queryable;
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "dataset path").focus();
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "dataset path").set_text_value_accesskit(path);
    h.run_steps(2);
    h.get_by_label("Load").click();
    h.run_steps(2);
    settle(h);
}

/// A CIFAR-10 folder in the binary layout: five training batches of
/// `per_batch` records and a test batch of `test` records; record k has
/// class `class(k)`.
pub fn cifar_dir(name: &str, per_batch: usize, test: usize, class: impl Fn(usize) -> u8) -> std::path::PathBuf {
    let dir = scratch(name);
    for b in 1..=5 {
        let recs: Vec<u8> = (0..per_batch).flat_map(|k| cifar_record(class(k), b * per_batch + k)).collect();
        std::fs::write(dir.join(format!("data_batch_{b}.bin")), recs).expect("write batch");
    }
    std::fs::write(dir.join("test_batch.bin"), (0..test).flat_map(|k| cifar_record(class(k), 900 + k)).collect::<Vec<u8>>()).expect("write test batch");
    dir
}

/// Call `step` every 5 ms until it returns true; fail with `what` after `secs` seconds.
pub fn wait_until(secs: u64, what: &str, mut step: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !step() {
        assert!(Instant::now() < deadline, "{what} (after {secs} s)");
        std::thread::sleep(Duration::from_millis(5));
    }
}
