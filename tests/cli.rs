//! The headless command line of the same binary.

mod common;

use std::process::Command;

use common::*;

fn vislab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vislab")).args(args).output().expect("run vislab")
}

#[test]
fn list_labs_prints_name_and_title_per_lab() {
    let out = vislab(&["--list-labs"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let labs = vislab::labs::all();
    assert_eq!(lines.len(), labs.len());
    for (line, lab) in lines.iter().zip(&labs) {
        assert_eq!(*line, format!("{}\t{}", lab.name(), lab.title()));
    }
}

#[test]
fn screenshot_renders_an_opened_file_offscreen() {
    let dir = scratch("cli-shot");
    let out_png = dir.join("teapot.png");
    let teapot = teapot_path();
    let out = vislab(&["--lab", "mesh", "--open", teapot.to_str().unwrap(), "--screenshot", out_png.to_str().unwrap(), "--size", "640x400"]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&out_png).expect("png written").to_rgba8();
    assert_eq!(img.dimensions(), (640, 400));
    assert!(non_background(&img, [180, 40, 360, 380]) > 5_000);
}

#[test]
fn a_file_that_fails_to_open_exits_nonzero_with_one_line() {
    let dir = scratch("cli-bad");
    let bad = dir.join("broken.stl");
    std::fs::write(&bad, b"solid x\n facet normal 0 0 1\n  outer loop\n   vertex 0 0").unwrap();
    for path in [bad, dir.join("missing.ply")] {
        let out = vislab(&["--lab", "mesh", "--open", path.to_str().unwrap(), "--screenshot", dir.join("o.png").to_str().unwrap()]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
        assert!(err.starts_with("error: could not open"), "stderr: {err}");
        assert!(!dir.join("o.png").exists());
    }
}

#[test]
fn unknown_labs_and_options_are_refused() {
    let out = vislab(&["--lab", "nope", "--screenshot", "x.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no lab named nope"));
    assert_eq!(vislab(&["--bogus"]).status.code(), Some(2));
}

#[test]
fn a_16_bit_depth_png_opens_in_the_depth_lab() {
    use vislab_engine::geometry::{formats::depth_image, scenes};
    let dir = scratch("cli-depth");
    let png = dir.join("depth.png");
    std::fs::write(&png, depth_image::write_png16(&scenes::depth_scene()).unwrap()).unwrap();
    let out_png = dir.join("shot.png");
    let out = vislab(&["--lab", "depth", "--open", png.to_str().unwrap(), "--screenshot", out_png.to_str().unwrap(), "--size", "800x500"]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&out_png).unwrap().to_rgba8();
    // the colormapped image and the back-projected cloud are both drawn
    assert!(colored(&img, [170, 40, 400, 300]) > 10_000, "depth image missing");
    assert!(colored(&img, [400, 40, 580, 480]) > 3_000, "point cloud missing");
}
