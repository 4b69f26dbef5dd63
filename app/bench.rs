//! `vislab bench`: frame time of the 3D viewport on whatever adapter wgpu
//! picks (the software one in CI), for large point clouds and a 100k-triangle
//! mesh, each against the same app with an empty scene, in the same process.

use std::time::Instant;

use egui_kittest::Harness;
use vislab_engine::geometry::{Asset, Mesh, PointCloud};

use crate::shell::{StartOptions, VislabApp};

const SIZE: [f32; 2] = [1280.0, 800.0];

/// Deterministic cloud: n points on a wavy sphere, colored by position.
pub fn cloud(n: usize) -> PointCloud {
    let golden = std::f32::consts::PI * (3.0 - 5f32.sqrt());
    let mut positions = Vec::with_capacity(n);
    let mut colors = Vec::with_capacity(n);
    for i in 0..n {
        let y = 1.0 - 2.0 * (i as f32 + 0.5) / n as f32;
        let r = (1.0 - y * y).max(0.0).sqrt();
        let t = golden * i as f32;
        let wave = 1.0 + 0.1 * (8.0 * t.sin() * y).sin();
        positions.push([r * t.cos() * wave, y * wave, r * t.sin() * wave]);
        colors.push([0.5 + 0.5 * y, 0.5 + 0.5 * t.cos(), 0.5 + 0.5 * t.sin()]);
    }
    PointCloud { positions, colors: Some(colors), ..Default::default() }
}

/// Torus with about `tris` triangles.
pub fn torus(tris: usize) -> Mesh {
    let n = ((tris / 2) as f32).sqrt().max(3.0) as usize;
    let (major, minor) = (1.0f32, 0.35f32);
    let mut positions = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let (u, v) = (i as f32 / n as f32 * std::f32::consts::TAU, j as f32 / n as f32 * std::f32::consts::TAU);
            positions.push([(major + minor * v.cos()) * u.cos(), minor * v.sin(), (major + minor * v.cos()) * u.sin()]);
        }
    }
    let id = |i: usize, j: usize| ((i % n) * n + (j % n)) as u32;
    let mut triangles = Vec::with_capacity(2 * n * n);
    for i in 0..n {
        for j in 0..n {
            triangles.push([id(i, j), id(i, j + 1), id(i + 1, j)]);
            triangles.push([id(i + 1, j), id(i, j + 1), id(i + 1, j + 1)]);
        }
    }
    Mesh { positions, triangles, ..Default::default() }
}

#[derive(Clone, Copy, PartialEq)]
enum Motion {
    /// The camera turns every frame, big clouds draw their preview.
    Orbit,
    /// The camera turns every frame, every point drawn.
    OrbitFull,
    /// Nothing changes: the 3D view is shown again without rendering.
    Rest,
}

/// Median milliseconds per rendered frame of `lab` showing `asset`.
fn frame_ms(lab: &str, asset: Option<Asset>, frames: usize, motion: Motion) -> Result<f64, String> {
    let start = StartOptions { lab: Some(lab.to_owned()), open: None };
    let mut h =
        Harness::builder().with_size(egui::vec2(SIZE[0], SIZE[1])).with_pixels_per_point(1.0).with_accessibility_check(false).wgpu().build_eframe(|cc| VislabApp::new(cc, start));
    if let Some(a) = asset {
        h.state_mut().show_asset(a, std::path::Path::new("bench"));
    }
    if let Some(v) = h.state_mut().viewport_mut() {
        v.settings.preview = motion != Motion::OrbitFull;
    }
    h.run_steps(2);
    h.render()?; // first frame uploads the buffers
    let mut times = Vec::with_capacity(frames);
    for _ in 0..frames {
        if motion != Motion::Rest {
            // a small turn every frame, as a drag would do
            if let Some(v) = h.state_mut().viewport_mut() {
                v.settings.camera.orbit(3.0, 0.0);
            }
        }
        h.step();
        let t = Instant::now();
        h.render()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

pub fn run() -> Result<(), String> {
    crate::headless::check_adapter()?;
    let frames = 9;
    println!("viewport frame time, {}x{} window, median of {frames} frames (render + readback)", SIZE[0], SIZE[1]);
    let empty = frame_ms("points", Some(Asset::Points(PointCloud::default())), frames, Motion::Orbit)?;
    println!("{:<48} {:>9.1} ms  (reference)", "empty scene, orbiting", empty);
    let mut cases: Vec<(String, Asset)> = [100_000, 1_000_000, 5_000_000].into_iter().map(|n| (format!("{} points", n), Asset::Points(cloud(n)))).collect();
    let mesh = torus(100_000);
    cases.push((format!("mesh, {} triangles", mesh.triangles.len()), Asset::Mesh(mesh)));
    for (name, asset) in cases {
        let lab = if matches!(asset, Asset::Mesh(_)) { "mesh" } else { "points" };
        let big = matches!(&asset, Asset::Points(p) if p.positions.len() > crate::render::scene::PREVIEW_POINTS);
        let mut runs = vec![(Motion::OrbitFull, "orbiting, full detail")];
        if big {
            runs.push((Motion::Orbit, "orbiting, preview"));
        }
        runs.push((Motion::Rest, "at rest (no re-render)"));
        for (motion, what) in runs {
            let ms = frame_ms(lab, Some(asset.clone()), frames, motion)?;
            println!("{:<48} {ms:>9.1} ms  {:>6.2}x reference", format!("{name}, {what}"), ms / empty);
        }
    }
    Ok(())
}
