//! Closing a lab while it trains returns within a frame: each training lab
//! is started from its own Train button on the real app, left to train, and
//! then dropped (what File > Reset lab and closing the window do). Its job
//! is told to stop and nobody waits for the step under way.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use vislab::labs;
use vislab::shell::{StartOptions, VislabApp};

/// One frame at 60 Hz; dropping must fit in it with room to draw.
const FRAME: Duration = Duration::from_millis(16);

fn harness(lab: &str) -> Harness<'static, VislabApp> {
    let start = StartOptions { lab: Some(lab.to_owned()), open: None };
    let [w, h] = common::SIZE;
    Harness::builder().with_size(egui::vec2(w, h)).with_pixels_per_point(1.0).wgpu().build_eframe(|cc| VislabApp::new(cc, start))
}

/// Press `start` (once it is enabled: data may still be loading) until the
/// lab shows `running` and is busy, then drop it at once. Fast labs (the
/// linear lab's 400 steps on 2D points) may finish between two frames: then
/// it is started again.
fn closes_mid_training(lab: &str, start: Option<&str>, running: &str) {
    // One lab at a time: the others' training would take the cores the
    // dropping thread needs and turn the timing into noise.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut h = harness(lab);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        assert!(Instant::now() < deadline, "{lab}: never showed {running:?} while busy");
        h.step();
        if h.query_by_label(running).is_some() && h.state().busy() {
            break;
        }
        if let Some(b) = start.and_then(|s| h.query_by_label(s)) {
            b.click();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let index = labs::all().iter().position(|l| l.name() == lab).expect("a lab of that name");
    let fresh = labs::fresh(index).expect("a constructor");
    let old = h.state_mut().replace_lab(fresh);
    let t = Instant::now();
    drop(old);
    let took = t.elapsed();
    assert!(took < FRAME, "{lab}: closing mid-training took {took:?}");
    // The fresh lab is idle and the app goes on drawing.
    h.step();
    assert_eq!(h.state().current_lab().name(), lab);
}

macro_rules! lab_tests {
    ($($test:ident: $lab:literal, $start:expr, $running:literal;)*) => {
        $(
            #[test]
            fn $test() {
                closes_mid_training($lab, $start, $running);
            }
        )*
    };
}

lab_tests! {
    knn_cross_validation: "knn", None, "Cancel";
    linear: "linear", Some("Train"), "Stop";
    toy2d: "toy2d", Some("Train"), "Stop";
    train: "train", Some("Train"), "Stop";
    detect: "detect", Some("Train"), "Stop";
    segment: "segment", Some("Train"), "Stop";
    upsample: "upsample", Some("Train"), "Stop";
    depthpred: "depthpred", Some("Train"), "Stop";
    implicit: "implicit", Some("Train"), "Stop";
    gcn: "gcn", Some("Train"), "Stop";
    shapes3d: "shapes3d", Some("Train"), "Stop";
    vae: "vae", Some("Train"), "Stop";
    gan: "gan", Some("Train"), "Stop";
    pixelcnn: "pixelcnn", Some("Train"), "Stop";
}
