//! The upsampling lab: on the held-out digits the fixed methods rank as
//! measured and argued below (bed of nails worst, bilinear best of the
//! fixed ones), the transposed convolution trained from the UI gets the
//! engine's own test error for the same seed and beats every fixed method,
//! hovering a tile reads the engine's value, and Stop returns at once.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use egui_kittest::kittest::Queryable;
use vislab::labs::Lab;
use vislab::labs::upsample::UpsampleLab;
use vislab_engine::train::epoch_worker::EpochTrainer;
use vislab_engine::upsampling::{DeconvTrainer, Downsampled, Method, Plane, digit_pairs, mean_mse};
use vislab_engine::vae::Flow;

/// The number after `key` in `text`.
fn number_after(text: &str, key: &str) -> f64 {
    text.split(key).nth(1).and_then(|s| s.split([' ', ',', ';']).next()).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no '{key}' number in {text}"))
}

/// The lab's default run through the engine alone: the last epoch's test MSE.
fn engine_learned_mse(scale: usize) -> f64 {
    let cfg = vislab_engine::upsampling::DeconvConfig { scale, ..UpsampleLab::new().config() };
    let (train, test) = digit_pairs(scale, cfg.seed).unwrap();
    let mut t = DeconvTrainer::new(Arc::new(train), Arc::new(test), cfg).unwrap();
    let mut last = f64::NAN;
    while !EpochTrainer::done(&t) {
        last = t.run_epoch(&mut |_, _| Flow::Continue).unwrap().expect("not stopped").test_mse;
    }
    last
}

#[test]
fn fixed_methods_rank_as_expected_and_the_learned_layer_beats_nearest() {
    let side = 8;
    for scale in [2, 4] {
        let (_, test) = digit_pairs(scale, 0).unwrap();
        let e = |m| mean_mse(&test.y, side, side, scale, m).unwrap();
        let (bed, near, bil, bic, unpool) = (e(Method::BedOfNails), e(Method::Nearest), e(Method::Bilinear), e(Method::Bicubic), e(Method::MaxUnpool));
        let learned = engine_learned_mse(scale);
        eprintln!("x{scale} test MSE: bed of nails {bed:.5}, max unpooling {unpool:.5}, nearest {near:.5}, bilinear {bil:.5}, bicubic {bic:.5}, learned {learned:.5}");
        // Zero-filling: unpooling puts each maximum where it was, bed of
        // nails at the corner, so unpooling's error is never larger
        // (non-negative pixels).
        assert!(unpool < bed, "x{scale}: unpool {unpool} vs bed of nails {bed}");
        if scale == 2 {
            // Max pooling biases every interpolator upwards; blending with
            // the neighbours softens that (bilinear most; bicubic's overshoot
            // at the strokes' edges gives some back), blocks do not; all
            // beat bed of nails' three zeros in four.
            assert!(bil < bic && bic < near && near < bed, "x2: bilinear {bil}, bicubic {bic}, nearest {near}, bed {bed}");
        } else {
            // A 2x2 map of 4x4 maxima of a digit is nearly all ink: filling
            // every pixel with it costs more than zeros (measured 0.562 vs 0.249).
            assert!(bed < near.min(bil).min(bic), "x4: bed {bed} vs nearest {near}, bilinear {bil}, bicubic {bic}");
        }
        // Trained to undo max pooling (it learns to shrink the maxima and
        // spread them), the transposed conv beats every fixed method by far.
        let best = [bed, near, bil, bic, unpool].into_iter().fold(f64::INFINITY, f64::min);
        assert!(learned < 0.7 * best, "x{scale}: learned {learned} vs best fixed {best}");
    }
}

fn wait_app(h: &mut egui_kittest::Harness<'static, vislab::shell::VislabApp>) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while h.state().busy() {
        assert!(Instant::now() < deadline, "still training after 300 s");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    settle(h);
}

#[test]
fn training_from_the_ui_matches_the_engine_and_hover_reads_values() {
    let mut h = app("upsample");
    let s = h.state().current_lab().summary();
    assert!(s.contains("not trained"), "{s}");
    assert!(h.query_by_label("transposed conv (learned) tile").is_none(), "no learned tile before training");
    h.get_by_label("Train").click();
    h.run_steps(2);
    assert!(h.state().busy(), "training runs in the background");
    wait_app(&mut h);
    let s = h.state().current_lab().summary();
    assert!(s.contains("epoch 20/20") && s.contains("finished"), "{s}");
    let mse = number_after(&s, "transposed conv test MSE ");
    assert_eq!(format!("{mse:.5}"), format!("{:.5}", engine_learned_mse(2)), "{s}");
    assert!(h.query_by_label("transposed conv (learned) tile").is_some());

    // Hover pixel (5, 2) of the bicubic tile: the engine's value for digit 0.
    let d = vislab_engine::data::digits::load().unwrap();
    let img = Plane::new(8, 8, d.get(0).unwrap().0.to_vec()).unwrap();
    let bic = Downsampled::new(img, 2).unwrap().upsample(Method::Bicubic).unwrap();
    let want = format!("bicubic (5, 2): {}", vislab::widgets::legend::fmt_value(bic.value(5, 2).unwrap()));
    let rect = h.get_by_label("bicubic tile").rect();
    let k = rect.width() / 8.0;
    h.hover_at(rect.min + egui::vec2(5.5 * k, 2.5 * k));
    h.run_steps(3);
    assert!(h.query_by_label(&want).is_some(), "no '{want}' line");
    h.snapshot_options("upsample_trained", &snapshot_options());
}

#[test]
fn stop_returns_at_once_and_the_run_ends_on_its_own() {
    let mut lab = UpsampleLab::new();
    lab.start();
    std::thread::sleep(Duration::from_millis(50));
    let t0 = Instant::now();
    lab.stop();
    assert!(t0.elapsed() < Duration::from_millis(20), "stop took {:?}", t0.elapsed());
    wait_until(30, "the stopped run never ended", || {
        lab.update();
        !lab.busy()
    });
    assert_eq!(lab.status(), "stopped");
    // Each method's error on digit 0 exists, and the learned one only once
    // weights arrived.
    lab.set_digit(0);
    let errs = lab.errors();
    assert_eq!(errs.len(), 6);
    assert!(errs.iter().take(5).all(|(_, e)| e.is_some_and(|v| v > 0.0)), "{errs:?}");
}
