//! The VAE lab trains on the built-in digits on a worker thread (seeded,
//! 30 short epochs), reports the test negative ELBO, and shows the latent
//! scatter, manifold, reconstructions, samples and interpolation.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;

/// The number after `key` in `text`.
fn number_after(text: &str, key: &str) -> f64 {
    text.split(key).nth(1).and_then(|s| s.split([' ', ')']).next()).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no '{key}' number in {text}"))
}

#[test]
fn training_on_the_digits_lowers_the_test_nelbo_and_fills_the_views() {
    let mut h = app("vae");
    let before = h.state().current_lab().summary();
    assert!(before.contains("not measured yet"), "{before}");
    h.get_by_label("Train").click();
    h.run_steps(2);
    assert!(h.state().busy(), "training runs in the background");
    settle(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.contains("epoch 30/30") && s.contains("finished"), "{s}");
    let (nelbo, recon, kl) = (number_after(&s, "test -ELBO "), number_after(&s, "(recon "), number_after(&s, "+ KL "));
    // 64 binary pixels: an untrained decoder costs about 64 ln 2 = 44 nats.
    // Thirty epochs of a 64-128-2 VAE get well under 60% of that.
    assert!(nelbo < 0.6 * 64.0 * std::f64::consts::LN_2, "{s}");
    assert!((nelbo - recon - kl).abs() < 0.02, "{s}");
    assert!(kl > 1.0, "the 2-D code carries information: {s}");
    // The scatter holds the whole 300-image test split.
    assert!(s.contains(", 300 test codes;"), "{s}");
    h.snapshot_options("vae_trained", &snapshot_options());
}

#[test]
fn a_fashion_mnist_folder_opens_in_the_lab_and_trains() {
    let dir = vislab_engine::data::locate("fashion-mnist").unwrap_or_else(|e| panic!("{e}"));
    // A relative path when the checkout has one, so the snapshot does not show where it lives.
    let rel = std::path::Path::new(".cache/data/fashion-mnist");
    let path = if rel.is_dir() { rel.to_path_buf() } else { dir };
    let mut h = app("vae");
    h.state_mut().open_path(path.clone());
    h.run_steps(2);
    let s = h.state().current_lab().summary();
    assert!(s.starts_with(&format!("fashion-mnist {} (10000 training, 10000 test images)", path.display())), "{s}");
    h.get_by_label("Train").click();
    h.run_steps(2);
    settle(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.contains("epoch 5/5") && s.contains("finished"), "{s}");
    // 784 binary pixels: an untrained decoder costs 784 ln 2 = 543 nats;
    // five epochs with a 2-D code measured 283.7.
    let nelbo = number_after(&s, "test -ELBO ");
    eprintln!("VAE lab on Fashion-MNIST: {s}");
    assert!(nelbo < 0.55 * 784.0 * std::f64::consts::LN_2, "{s}");
    h.snapshot_options("vae_fashion", &snapshot_options());
}
