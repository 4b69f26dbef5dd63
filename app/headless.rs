//! `--screenshot`: render a lab offscreen (no window, no display) through
//! egui_kittest's wgpu renderer and write a PNG.

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::Harness;

use crate::shell::{StartOptions, VislabApp};

/// Is there any wgpu adapter at all? Checked first so a missing GPU driver
/// is a clear message rather than a panic deep in the renderer.
pub fn check_adapter() -> Result<String, String> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapters = pollster_block(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters
        .first()
        .map(|a| a.get_info().name)
        .ok_or_else(|| "no GPU adapter found: install a Vulkan or GL driver (on Debian/Ubuntu: apt-get install mesa-vulkan-drivers)".to_owned())
}

fn pollster_block<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

/// Render the app at `size` on `lab`, wait until it has settled, and return the image.
pub fn render(start: StartOptions, size: [f32; 2]) -> Result<image::RgbaImage, String> {
    check_adapter()?;
    let open = start.open.clone();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(size[0], size[1]))
        .with_pixels_per_point(1.0)
        // a user's figure must never fail on a lint: tests keep the check on
        .with_accessibility_check(false)
        .wgpu()
        .build_eframe(|cc| VislabApp::new(cc, start));
    let deadline = Instant::now() + Duration::from_secs(120);
    while harness.state().busy() {
        if Instant::now() > deadline {
            return Err("timed out waiting for the lab to settle".into());
        }
        std::thread::sleep(Duration::from_millis(5));
        harness.step();
    }
    harness.run_steps(4);
    if let (Some(p), Some(e)) = (open, harness.state().error()) {
        return Err(format!("could not open {}: {e}", p.display()));
    }
    harness.render()
}

pub fn screenshot(start: StartOptions, out: &Path, size: [f32; 2]) -> Result<(), String> {
    let img = render(start, size)?;
    img.save(out).map_err(|e| format!("{}: {e}", out.display()))
}
