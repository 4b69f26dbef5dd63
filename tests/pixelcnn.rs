//! The PixelCNN lab trains on the built-in digits on a worker thread
//! (seeded, 10 short epochs), reports the test NLL in nats and bits per
//! dimension (the engine's number for the same seed), and samples a grid
//! pixel by pixel.

mod common;

use std::sync::Arc;

use common::*;
use egui_kittest::kittest::Queryable;
use vislab_engine::pixelcnn::{PixelCnn, PixelCnnShape, PixelCnnTrainConfig, PixelCnnTrainer};
use vislab_engine::vae::Flow;

/// The number after `key` in `text`.
fn number_after(text: &str, key: &str) -> f64 {
    text.split(key).nth(1).and_then(|s| s.split([' ', ')', '/']).next()).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no '{key}' number in {text}"))
}

/// The lab's defaults run through the engine alone.
fn engine_test_nll() -> f64 {
    let d = vislab_engine::data::digits::load().unwrap();
    let (train, test) = d.split(300, 0).unwrap();
    let m = PixelCnn::new(PixelCnnShape { side: 8, channels: 16, layers: 3 }, 1).unwrap();
    let mut t = PixelCnnTrainer::new(m, Arc::new(train), Arc::new(test), PixelCnnTrainConfig::new(10, 32, 1)).unwrap();
    let mut last = f64::NAN;
    t.run(
        |_, _| Flow::Continue,
        |_, r| {
            last = r.test_nll;
            Flow::Continue
        },
    )
    .unwrap();
    last
}

fn pixel(h: &egui_kittest::Harness<'static, vislab::shell::VislabApp>) -> f64 {
    number_after(&h.state().current_lab().summary(), "samples at pixel ")
}

/// Click, let the frame send the request to the sampling thread, wait for it.
fn press(h: &mut egui_kittest::Harness<'static, vislab::shell::VislabApp>, label: &str) {
    h.get_by_label(label).click();
    h.run_steps(1);
    settle(h);
}

#[test]
fn training_lowers_the_test_nll_and_sampling_fills_the_grid() {
    let mut h = app("pixelcnn");
    let before = h.state().current_lab().summary();
    assert!(before.contains("test NLL not measured yet") && before.contains("no samples"), "{before}");
    h.get_by_label("Train").click();
    h.run_steps(2);
    assert!(h.state().busy(), "training runs in the background");
    settle(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.contains("epoch 10/10") && s.contains("finished"), "{s}");
    let (nats, bits) = (number_after(&s, "test NLL "), number_after(&s, "nats ("));
    // 64 binary pixels at p = 1/2 cost 64 ln 2 = 44.4 nats (1 bit/dim).
    assert!(nats < TRAINED_NLL, "{s}");
    assert!((bits - nats / (64.0 * std::f64::consts::LN_2)).abs() < 1e-4, "{s}");
    assert_eq!(format!("{:.4}", engine_test_nll()), format!("{nats:.4}"), "the lab shows the engine's number: {s}");

    // Animated sampling (on the sampling thread): watch it start, freeze it,
    // then draw one pixel at a time up to the middle of the image.
    h.get_by_label("New samples").click();
    for _ in 0..2000 {
        h.step();
        if pixel(&h) >= 4.0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    h.get_by_label("animate").click();
    settle(&mut h);
    let start = pixel(&h);
    assert!((4.0..36.0).contains(&start), "{}", h.state().current_lab().summary());
    for _ in start as usize..36 {
        press(&mut h, "Next pixel");
    }
    assert_eq!(pixel(&h), 36.0, "{}", h.state().current_lab().summary());
    h.snapshot_options("pixelcnn_sampling", &snapshot_options());
    press(&mut h, "Next pixel");
    assert_eq!(pixel(&h), 37.0);
    press(&mut h, "Finish");
    let s = h.state().current_lab().summary();
    assert!(s.contains("16 samples at pixel 64/64"), "{s}");
    h.snapshot_options("pixelcnn_trained", &snapshot_options());
}

/// Measured 19.2541 nats (0.4340 bits/dim) after the lab's 10 default epochs.
const TRAINED_NLL: f64 = 21.0;
