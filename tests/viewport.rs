//! Interacting with a 3D view through real input events: hover picking,
//! the measuring tool, and orbiting.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;

fn click_at(h: &mut egui_kittest::Harness<'static, vislab::shell::VislabApp>, pos: egui::Pos2) {
    h.hover_at(pos);
    h.run_steps(2);
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton { pos, button: egui::PointerButton::Primary, pressed, modifiers: Default::default() });
        h.run_steps(1);
    }
    h.run_steps(2);
}

/// A point of the teapot's body, in the mesh lab's view.
const ON_TEAPOT: egui::Pos2 = egui::pos2(420.0, 330.0);
const ALSO_ON_TEAPOT: egui::Pos2 = egui::pos2(470.0, 300.0);

#[test]
fn hovering_the_mesh_shows_the_vertex_under_the_cursor() {
    let mut h = app("mesh");
    h.hover_at(ON_TEAPOT);
    h.run_steps(3);
    let info = h.state().current_lab().pick_info().expect("something picked under the cursor");
    assert!(info.starts_with("vertex "), "{info}");
    assert!(h.query_by_label_contains("vertex ").is_some(), "status bar shows the pick");
    // off the model, nothing is picked
    h.hover_at(egui::pos2(200.0, 60.0));
    h.run_steps(3);
    assert_eq!(h.state().current_lab().pick_info(), None);
}

#[test]
fn measuring_two_vertices_gives_their_distance() {
    let mut h = app("mesh");
    h.get_by_label("Measure").click();
    h.run_steps(2);
    click_at(&mut h, ON_TEAPOT);
    click_at(&mut h, ALSO_ON_TEAPOT);
    h.hover_at(egui::pos2(200.0, 60.0));
    h.run_steps(3);
    let info = h.state().current_lab().pick_info().expect("measurement shown");
    let d: f32 = info.strip_prefix("distance ").unwrap_or_else(|| panic!("{info}")).parse().unwrap();
    // two vertices of the teapot body, which is 32 units wide
    assert!(d > 0.1 && d < 32.0, "{d}");
}

#[test]
fn dragging_orbits_the_camera() {
    let mut h = app("mesh");
    let before = h.render().unwrap();
    h.hover_at(ON_TEAPOT);
    h.event(egui::Event::PointerButton { pos: ON_TEAPOT, button: egui::PointerButton::Primary, pressed: true, modifiers: Default::default() });
    for i in 1..=10 {
        h.event(egui::Event::PointerMoved(ON_TEAPOT + egui::vec2(8.0 * i as f32, 0.0)));
        h.run_steps(1);
    }
    h.event(egui::Event::PointerButton { pos: ON_TEAPOT + egui::vec2(80.0, 0.0), button: egui::PointerButton::Primary, pressed: false, modifiers: Default::default() });
    settle(&mut h);
    let after = h.render().unwrap();
    let changed = before.pixels().zip(after.pixels()).filter(|(a, b)| a != b).count();
    assert!(changed > 5_000, "the view barely changed: {changed} pixels");
}
