//! Opening files through the app: the right lab takes them, and bad files
//! give a message while what was open stays.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;
use vislab_engine::geometry::formats::ply;
use vislab_engine::geometry::{Asset, PointCloud, scenes};

fn open(h: &mut egui_kittest::Harness<'static, vislab::shell::VislabApp>, path: &std::path::Path) {
    h.state_mut().open_path(path.to_owned());
    settle(h);
}

#[test]
fn a_binary_ply_mesh_opens_in_the_mesh_lab() {
    let Ok(Asset::Mesh(teapot)) = vislab_engine::geometry::load_path(&teapot_path()) else { panic!("teapot") };
    let dir = scratch("ply-mesh");
    let path = dir.join("teapot.ply");
    std::fs::write(&path, ply::write_mesh(&teapot, ply::PlyEncoding::BinaryLittleEndian)).unwrap();
    let mut h = app("points");
    open(&mut h, &path);
    let lab = h.state().current_lab();
    assert_eq!(lab.name(), "mesh");
    assert!(lab.summary().contains(&format!("{} faces", teapot.triangles.len())), "{}", lab.summary());
    assert!(h.state().error().is_none());
}

#[test]
fn corrupt_and_missing_files_leave_the_open_scene_alone() {
    let dir = scratch("corrupt");
    let Ok(Asset::Mesh(teapot)) = vislab_engine::geometry::load_path(&teapot_path()) else { panic!("teapot") };
    let good = ply::write_mesh(&teapot, ply::PlyEncoding::BinaryLittleEndian);
    let cases = [
        ("truncated.ply", good[..good.len() / 2].to_vec()),
        ("garbage.ply", (0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        ("mislabelled.obj", b"\x89PNG\r\n\x1a\nnot really".to_vec()),
    ];
    let mut h = app("mesh");
    let before = h.state().current_lab().summary();
    for (name, bytes) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        open(&mut h, &path);
        let err = h.state().error().unwrap_or_else(|| panic!("{name}: no error shown")).to_owned();
        assert!(err.contains(name), "{name}: message does not name the file: {err}");
        assert_eq!(h.state().current_lab().summary(), before, "{name} replaced the open scene");
    }
    open(&mut h, &dir.join("does-not-exist.ply"));
    assert!(h.state().error().is_some_and(|e| e.contains("does-not-exist.ply")));
    assert_eq!(h.state().current_lab().summary(), before);
}

#[test]
fn points_colored_by_height_draw_a_colormap() {
    // a colorless cloud switches the points lab to the height colormap
    let mut cloud: PointCloud = scenes::big_points(100_000);
    cloud.colors = None;
    let mut h = app("points");
    h.state_mut().show_asset(Asset::Points(cloud), std::path::Path::new("cloud.ply"));
    settle(&mut h);
    let img = h.render().unwrap();
    let hues = colored(&img, [180, 40, 700, 600]);
    assert!(hues > 10_000, "only {hues} colormapped pixels");
    h.snapshot_options("points_height_colormap", &snapshot_options());
}

#[test]
fn shapes_with_vertex_colors_and_flat_shading() {
    let Ok(shapes) = scenes::load("shapes") else { panic!("shapes scene") };
    let mut h = app("mesh");
    h.state_mut().show_asset(shapes, std::path::Path::new("shapes"));
    settle(&mut h);
    h.get_by_label("Flat").click();
    settle(&mut h);
    let img = h.render().unwrap();
    assert!(non_background(&img, [180, 40, 700, 600]) > 20_000);
    h.snapshot_options("mesh_shapes", &snapshot_options());
}

#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn a_file_dropped_on_the_window_opens() {
    let mut cloud = scenes::big_points(2_000);
    cloud.colors = None;
    let dir = scratch("drop");
    let path = dir.join("dropped.xyz");
    std::fs::write(&path, vislab_engine::geometry::formats::xyz::write(&cloud)).unwrap();
    let mut h = app("mesh");
    h.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(path.clone())));
    h.step();
    settle(&mut h);
    let lab = h.state().current_lab();
    assert_eq!(lab.name(), "points");
    assert!(lab.summary().contains("dropped.xyz") && lab.summary().contains("2000 points"), "{}", lab.summary());
    // it is now the most recent file, and the next run remembers it and the lab
    let saved = h.state().persisted();
    assert_eq!(saved.recent.first(), Some(&path));
    assert_eq!(saved.lab, "points");
    let json = serde_json::to_string(&saved).unwrap();
    let restored: vislab::shell::Persisted = serde_json::from_str(&json).unwrap();
    let next = vislab::shell::VislabApp::with_persisted("test".into(), Default::default(), restored);
    assert_eq!(next.current_lab().name(), "points");
    assert_eq!(next.persisted().recent, vec![path]);
}
