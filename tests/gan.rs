//! The GAN lab trains on the worker thread from its controls, shows the
//! engine's own numbers for the same seed, and its step buttons move only
//! the network they name.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;
use vislab_engine::gan::{GanConfig, GanShape, GanTrainer, RealDist, ViewSpec};
use vislab_engine::models::Activation;

/// The text after `key` in `text`, up to the next space or comma.
fn after<'a>(text: &'a str, key: &str) -> &'a str {
    text.split(key).nth(1).and_then(|s| s.split([' ', ',']).next()).unwrap_or_else(|| panic!("no '{key}' in {text}"))
}

/// The lab's defaults, spelled out: ring data, 2-D noise, G 2x32 ReLU,
/// D 2x32 leaky ReLU, non-saturating loss, Adam 2e-3, batch 64, seed 1.
fn lab_defaults() -> GanTrainer {
    let shape = GanShape { data: 2, tanh_out: false, noise: 2, g_hidden: vec![32, 32], d_hidden: vec![32, 32], g_act: Activation::Relu, d_act: Activation::LeakyRelu, conv: None };
    let config = GanConfig { lr_d: 2e-3, lr_g: 2e-3, batch: 64, d_steps: 1, g_steps: 1, smoothing: 0.0, ..GanConfig::new(shape, 1) };
    GanTrainer::new(config, RealDist::ring()).unwrap()
}

#[test]
fn training_from_the_ui_shows_the_engines_numbers() {
    let mut h = app("gan");
    let s = h.state().current_lab().summary();
    assert!(s.starts_with("ring, noise 2: 0 rounds · D loss – over 0 steps, G loss – over 0 steps"), "{s}");
    let d0: f64 = after(&s, "fake-to-data distance ").parse().unwrap();
    h.get_by_label("Train").click();
    h.run_steps(2);
    assert!(h.state().busy(), "training runs in the background");
    settle(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.contains("2000 rounds · ") && s.contains("finished (2000 rounds)"), "{s}");
    assert!(s.contains("over 2000 steps, G loss ") && s.contains("over 2000 steps · D(real)"), "{s}");
    // The same seed and rounds in the engine, without the UI.
    let mut t = lab_defaults();
    let spec = ViewSpec::default();
    assert_eq!(format!("{:.4}", t.view(&spec).unwrap().distance), format!("{d0:.4}"));
    let (mut d_loss, mut g_loss) = (0.0, 0.0);
    for _ in 0..2000 {
        t.round(&mut |r| match r.net {
            vislab_engine::gan::Net::D => d_loss = r.loss,
            vislab_engine::gan::Net::G => g_loss = r.loss,
        })
        .unwrap();
    }
    let v = t.view(&spec).unwrap();
    assert_eq!(after(&s, "fake-to-data distance "), format!("{:.4}", v.distance), "{s}");
    assert_eq!(after(&s, "D(real) "), format!("{:.3}", v.d_real), "{s}");
    assert_eq!(after(&s, "D(fake) "), format!("{:.3}", v.d_fake), "{s}");
    assert_eq!(after(&s, "· D loss "), format!("{d_loss:.4}"), "{s}");
    assert_eq!(after(&s, "G loss "), format!("{g_loss:.4}"), "{s}");
    // The fakes sit on the ring: far closer to the data than at the start.
    let d1: f64 = after(&s, "fake-to-data distance ").parse().unwrap();
    eprintln!("distance {d0} -> {d1}; {s}");
    assert!(d0 > 0.3 && d1 < 0.08, "distance {d0} -> {d1}");
    h.snapshot_options("gan_trained", &snapshot_options());
}

#[test]
fn step_buttons_move_only_their_own_network() {
    let mut h = app("gan");
    let mut t = lab_defaults();
    h.get_by_label("Step D").click();
    h.run_steps(1);
    settle(&mut h);
    let s = h.state().current_lab().summary();
    let d1 = t.step_d().unwrap().loss;
    assert!(s.contains(&format!("D loss {d1:.4} over 1 steps, G loss – over 0 steps")), "{s}");
    h.get_by_label("Step G").click();
    h.run_steps(1);
    settle(&mut h);
    let s = h.state().current_lab().summary();
    let g1 = t.step_g().unwrap().loss;
    assert!(s.contains(&format!("D loss {d1:.4} over 1 steps, G loss {g1:.4} over 1 steps")), "{s}");
    h.get_by_label("Step both").click();
    h.run_steps(1);
    settle(&mut h);
    let s = h.state().current_lab().summary();
    let (d2, g2) = (t.step_d().unwrap().loss, t.step_g().unwrap().loss);
    assert!(s.contains(&format!("0 rounds · D loss {d2:.4} over 2 steps, G loss {g2:.4} over 2 steps")), "{s}");
    // k = 3 for D: Step D adds three D losses and no G loss.
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "k: D steps per round").set_value_accesskit(3.0);
    h.run_steps(2);
    h.get_by_label("Step D").click();
    h.run_steps(1);
    settle(&mut h);
    let s = h.state().current_lab().summary();
    let d3: Vec<f32> = (0..3).map(|_| t.step_d().unwrap().loss).collect();
    assert!(s.contains(&format!("D loss {:.4} over 5 steps, G loss {g2:.4} over 2 steps", d3[2])), "{s}");
    let v = t.view(&ViewSpec::default()).unwrap();
    assert_eq!(after(&s, "fake-to-data distance "), format!("{:.4}", v.distance), "{s}");
}

#[test]
fn drawn_points_become_the_data() {
    let mut h = app("gan");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "distribution").click();
    h.run_steps(2);
    h.get_by_label("draw points").click();
    h.run_steps(2);
    let s = h.state().current_lab().summary();
    assert!(s.starts_with("0 drawn points") && s.contains("draw at least one point first"), "{s}");
    // Three clicks in the plane, mapped to data coordinates as the lab does.
    let rect = h.get_by_label(vislab::labs::gan::PLOT_LABEL).rect();
    let e = ViewSpec::default().extent;
    let to_data = |p: egui::Pos2| [(p.x - rect.left()) / rect.width() * 2.0 * e - e, (rect.bottom() - p.y) / rect.height() * 2.0 * e - e];
    let clicks = [(0.25, 0.25), (0.75, 0.3), (0.5, 0.52), (0.3, 0.8)].map(|(fx, fy)| rect.min + egui::vec2(fx * rect.width(), fy * rect.height()));
    for p in clicks {
        h.hover_at(p);
        h.drag_at(p);
        h.run_steps(1);
        h.drop_at(p);
        h.run_steps(2);
    }
    let s = h.state().current_lab().summary();
    assert!(s.starts_with("4 drawn points"), "{s}");
    // A right click at the centre removes the point nearest to it (the third).
    h.get_by_label(vislab::labs::gan::PLOT_LABEL).click_secondary();
    h.run_steps(2);
    settle(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.starts_with("3 drawn points"), "{s}");
    let d0: f64 = after(&s, "fake-to-data distance ").parse().unwrap();
    h.get_by_label("Train").click();
    h.run_steps(2);
    settle(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.contains("finished (2000 rounds)"), "{s}");
    // The engine trained on the same three points gives the same numbers.
    let points: Vec<[f32; 2]> = [clicks[0], clicks[1], clicks[3]].into_iter().map(to_data).collect();
    let mut t = lab_defaults();
    t.set_real(RealDist::Points { points, std: 0.05 }).unwrap();
    for _ in 0..2000 {
        t.round(&mut |_| {}).unwrap();
    }
    let v = t.view(&ViewSpec::default()).unwrap();
    assert_eq!(after(&s, "fake-to-data distance "), format!("{:.4}", v.distance), "{s}");
    let d1: f64 = after(&s, "fake-to-data distance ").parse().unwrap();
    eprintln!("drawn: distance {d0} -> {d1}; {s}");
    assert!(d1 < 0.5 * d0, "distance {d0} -> {d1}");
    h.snapshot_options("gan_drawn", &snapshot_options());
}

#[test]
fn digits_mode_trains_an_image_gan() {
    let mut h = app("gan");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "distribution").click();
    h.run_steps(2);
    h.get_by_label("digits 8x8 (images)").click();
    h.run_steps(2);
    settle(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.starts_with("digits 8x8 (images), noise 8: 0 rounds"), "{s}");
    let d0: f64 = after(&s, "fake-to-data distance ").parse().unwrap();
    h.get_by_label("Train").click();
    h.run_steps(2);
    settle(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.contains("finished (2000 rounds)"), "{s}");
    // The engine with the digits preset: 64 pixels in [-1, 1], 8-D noise,
    // G 2x128 ReLU with a tanh output, D 1x128 leaky ReLU.
    let d = vislab_engine::data::digits::load().unwrap();
    let shape = GanShape { data: 64, tanh_out: true, noise: 8, g_hidden: vec![128, 128], d_hidden: vec![128], g_act: Activation::Relu, d_act: Activation::LeakyRelu, conv: None };
    let mut t = GanTrainer::new(GanConfig { lr_d: 2e-3, lr_g: 2e-3, batch: 64, ..GanConfig::new(shape, 1) }, RealDist::images(d.x(), 64)).unwrap();
    for _ in 0..2000 {
        t.round(&mut |_| {}).unwrap();
    }
    let v = t.view(&ViewSpec { noise_grid: 8, shown: 200, ..ViewSpec::default() }).unwrap();
    assert_eq!(after(&s, "fake-to-data distance "), format!("{:.4}", v.distance), "{s}");
    assert_eq!(v.noise_map.len(), 64 * 64, "an 8x8 lattice of 8x8 images");
    let d1 = v.distance;
    eprintln!("digits: distance {d0} -> {d1}; {s}");
    assert!(d1 < 0.6 * d0, "distance {d0} -> {d1}");
    h.snapshot_options("gan_digits", &snapshot_options());
}

/// As `settle`, for DCGAN runs longer than its minute.
fn settle_long(h: &mut egui_kittest::Harness<'static, vislab::shell::VislabApp>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    while h.state().busy() {
        assert!(std::time::Instant::now() < deadline, "app still busy after 600 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.step();
    }
    h.run_steps(4);
}

#[test]
fn dcgan_on_mnist_lowers_the_frechet_distance() {
    let dir = vislab_engine::data::locate("mnist/data").unwrap_or_else(|e| panic!("{e}"));
    let mut h = app("gan");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "distribution").click();
    h.run_steps(2);
    h.get_by_label("MNIST folder (DCGAN)").click();
    h.run_steps(2);
    let s = h.state().current_lab().summary();
    assert!(s.contains("load an MNIST-format folder"), "{s}");
    // A relative path when the checkout has one, so the snapshot does not show where it lives.
    let rel = std::path::Path::new(".cache/data/mnist/data");
    let shown = if rel.is_dir() { rel.display().to_string() } else { dir.display().to_string() };
    open_path(&mut h, &shown);
    let s = h.state().current_lab().summary();
    assert!(s.starts_with("MNIST folder (DCGAN), noise 64: 0 rounds") && s.contains("1 snapshots"), "{s}");
    // Small networks and a short run keep the test within two minutes.
    let (g, d, _, lr, batch) = DCGAN_TEST;
    let sliders = [("G channels at 7x7", g as f64), ("D channels at 14x14", d as f64), ("D learning rate", lr), ("G learning rate", lr), ("batch size", batch as f64)];
    for (label, v) in sliders {
        h.get_by_role_and_label(egui::accesskit::Role::Slider, label).scroll_to_me();
        h.run_steps(12);
        h.get_by_role_and_label(egui::accesskit::Role::Slider, label).set_value_accesskit(v);
        h.run_steps(2);
    }
    settle_long(&mut h);
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "rounds per run").scroll_to_me();
    h.run_steps(12);
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "rounds per run").set_value_accesskit(DCGAN_TEST.2 as f64);
    h.run_steps(2);
    // FD of the untrained generator (the classifier is trained here first).
    h.get_by_label("Compute FD").scroll_to_me();
    h.run_steps(12);
    h.get_by_label("Compute FD").click();
    h.run_steps(2);
    assert!(h.state().busy(), "the classifier trains in the background: {}", h.state().current_lab().summary());
    settle_long(&mut h);
    let s = h.state().current_lab().summary();
    let fd0: f64 = after(&s, "· FD ").parse().unwrap_or_else(|_| panic!("{s}"));
    let real: f64 = after(&s, "(real vs real ").trim_end_matches(')').parse().unwrap();
    h.get_by_label("Train").scroll_to_me();
    h.run_steps(12);
    h.get_by_label("Train").click();
    h.run_steps(2);
    settle_long(&mut h);
    h.get_by_label("Compute FD").scroll_to_me();
    h.run_steps(12);
    h.get_by_label("Compute FD").click();
    h.run_steps(2);
    settle_long(&mut h);
    let s = h.state().current_lab().summary();
    let fd1: f64 = after(&s, "· FD ").parse().unwrap();
    eprintln!("DCGAN lab: FD {fd0} -> {fd1}, real vs real {real}; {s}");
    assert!(s.contains(&format!("finished ({} rounds)", DCGAN_TEST.2)), "{s}");
    // Measured: 275.7 -> 37.6, reals 6.1.
    assert!(fd1 < 0.25 * fd0 && real < fd1 / 3.0, "FD {fd0} -> {fd1}, real vs real {real}");
    // One snapshot per view: the first, every 10 rounds, none repeated.
    assert!(s.contains(&format!("{} snapshots", DCGAN_TEST.2 / 10 + 1)), "{s}");
    // The timeline goes back to the untrained G.
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "timeline").set_value_accesskit(0.0);
    h.run_steps(3);
    assert!(h.query_by_label_contains("after 0 G steps (timeline)").is_some());
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "timeline").set_value_accesskit((DCGAN_TEST.2 / 10) as f64);
    h.run_steps(3);
    assert!(h.query_by_label_contains(&format!("fixed z after {} G steps", DCGAN_TEST.2)).is_some());
    settle_long(&mut h);
    h.snapshot_options("gan_dcgan", &snapshot_options());
}

/// G channels, D channels, rounds, learning rate and batch of the lab test:
/// small networks at 5x the paper's rate draw digit-like strokes in 300 rounds.
const DCGAN_TEST: (usize, usize, usize, f64, usize) = (32, 16, 300, 1e-3, 64);
