//! Depth prediction: the ray caster's depths against closed forms, the
//! scale-invariant loss against a hand-computed case, its scale invariance
//! and its gradient, the metrics on a tiny case, and a short seeded run
//! that beats the mean-depth-map baseline on held-out scenes.

use std::collections::HashMap;
use std::sync::Arc;

use vislab_engine::check::{Rng, verify};
use vislab_engine::depthpred::render::{Camera, Object, Shape, World};
use vislab_engine::depthpred::{DepthMetrics, DepthSet, DepthTrainConfig, DepthTrainer, Objects, SynthConfig};
use vislab_engine::geometry::shapes;
use vislab_engine::graph::reference::evaluate;
use vislab_engine::graph::view::DimValues;
use vislab_engine::graph::{Graph, batch_dim};
use vislab_engine::nn;

fn close(a: f32, b: f32, tol: f32) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

#[test]
fn the_ground_plane_depth_is_the_closed_form() {
    // Eye (0, 2, 4) looking at the origin: the camera's down axis is
    // (0, -2, 1)/sqrt 5 and forward (0, -1, -2)/sqrt 5, so the ground y = 0
    // lies at depth z = 2 sqrt 5 / (1 + 2 (v - cy) / fy) on every column.
    let cam = Camera::looking_at([0.0, 2.0, 4.0], [0.0; 3], 9, 9, 60.0);
    let (_, depth) = World::default().render(&cam);
    let i = cam.intrinsics;
    let mut checked = 0;
    for v in 0..9 {
        let want = 2.0 * 5f32.sqrt() / (1.0 + 2.0 * (v as f32 - i.cy) / i.fy);
        for u in 0..9 {
            let got = depth[v * 9 + u];
            if want > 0.0 && want <= 12.0 {
                assert!(close(got, want, 1e-5), "pixel ({u}, {v}): {got} vs {want}");
                checked += 1;
            } else {
                assert_eq!(got, 0.0, "pixel ({u}, {v}) is sky or out of range");
            }
        }
    }
    assert!(checked >= 45, "{checked}");
    // The centre ray goes through the target: depth = |eye - target|.
    assert!(close(depth[4 * 9 + 4], 20f32.sqrt(), 1e-6));
}

#[test]
fn a_sphere_and_a_box_have_their_analytic_depths() {
    // Camera level at height 1, 5 m in front of a sphere of radius 0.5
    // centred at (0, 1, 0): in camera space the centre is (0, 0, 5) and the
    // ray (x, y, 1) hits at t = (D - sqrt(D^2 - a (D^2 - r^2))) / a,
    // a = x^2 + y^2 + 1; pixels that miss it see the ground at z = 1 / y.
    let cam = Camera::looking_at([0.0, 1.0, 5.0], [0.0, 1.0, 0.0], 33, 33, 30.0);
    let world = World { objects: vec![Object { shape: Shape::Sphere { center: [0.0, 1.0, 0.0], radius: 0.5 }, color: [1.0, 0.0, 0.0] }] };
    let (rgb, depth) = world.render(&cam);
    let i = cam.intrinsics;
    let (mut on_sphere, mut on_ground) = (0, 0);
    for v in 0..33 {
        for u in 0..33 {
            let (x, y) = ((u as f32 - i.cx) / i.fx, (v as f32 - i.cy) / i.fy);
            let a = x * x + y * y + 1.0;
            let disc = 25.0 - a * (25.0 - 0.25);
            let got = depth[v * 33 + u];
            if disc >= 0.0 {
                let want = (5.0 - disc.sqrt()) / a;
                assert!(close(got, want, 1e-4), "sphere pixel ({u}, {v}): {got} vs {want}");
                on_sphere += 1;
                // Red albedo, lit or in ambient light: no green or blue.
                assert!(rgb[33 * 33 + v * 33 + u] == 0.0 && rgb[v * 33 + u] > 0.0);
            } else if y > 0.0 && 1.0 / y <= 12.0 {
                assert!(close(got, 1.0 / y, 1e-4), "ground pixel ({u}, {v}): {got} vs {}", 1.0 / y);
                on_ground += 1;
            }
        }
    }
    assert!(close(depth[16 * 33 + 16], 4.5, 1e-6), "the nearest point is 4.5 m away");
    assert!(on_sphere > 50 && on_ground > 100, "{on_sphere} {on_ground}");

    // A box face-on: its front face (z = 0.4 in the world) is 4.6 m away
    // along the axis, and flat, so every pixel on it has depth 4.6.
    let world = World { objects: vec![Object { shape: Shape::Cuboid { center: [0.0, 1.0, 0.0], half: [0.4, 0.4, 0.4], yaw: 0.0 }, color: [0.5; 3] }] };
    let (_, depth) = world.render(&cam);
    for (u, v) in [(16, 16), (12, 14), (19, 20)] {
        assert!(close(depth[v * 33 + u], 4.6, 1e-5), "box pixel ({u}, {v}): {}", depth[v * 33 + u]);
    }
}

#[test]
fn a_cube_mesh_renders_like_the_analytic_box() {
    // The same unit cube, turned 0.6 rad, as triangles and as a box: the
    // mesh path (placement, local frame, Moller-Trumbore) agrees with the
    // slab test except on a few silhouette pixels.
    let cam = Camera::looking_at([1.6, 1.4, 2.2], [0.3, 0.4, -0.2], 32, 32, 60.0);
    let mesh = Shape::mesh_on_ground(Arc::new(shapes::cube(1.0)), 1.0, 0.3, -0.2, 0.6).unwrap();
    let boxed = Shape::Cuboid { center: [0.3, 0.5, -0.2], half: [0.5; 3], yaw: 0.6 };
    let render = |shape: Shape| World { objects: vec![Object { shape, color: [0.2, 0.6, 0.9] }] }.render(&cam);
    let ((rgb_m, d_m), (rgb_b, d_b)) = (render(mesh), render(boxed));
    let differ = d_m.iter().zip(&d_b).filter(|(a, b)| !close(**a, **b, 1e-4)).count();
    let shade_differ = rgb_m.iter().zip(&rgb_b).filter(|(a, b)| (**a - **b).abs() > 1e-3).count();
    let (_, ground) = World::default().render(&cam);
    let on_cube = d_b.iter().zip(&ground).filter(|(b, g)| !close(**b, **g, 1e-4)).count();
    assert!(differ <= 10 && shade_differ <= 30, "{differ} depths and {shade_differ} colours differ");
    assert!(on_cube > 60, "{on_cube} cube pixels");
}

#[test]
fn synthetic_sets_are_seeded_and_plausible() {
    let cfg = SynthConfig { objects: Objects::Teapot, ..SynthConfig::new(3, 2, 16, 5) };
    let a = DepthSet::synthetic(&cfg).unwrap();
    assert_eq!((a.len(), a.images.len(), a.depths.len()), (6, 6 * 3 * 256, 6 * 256));
    let b = DepthSet::synthetic(&cfg).unwrap();
    assert_eq!(a.images, b.images);
    assert_eq!(a.depths, b.depths);
    let c = DepthSet::synthetic(&SynthConfig { seed: 6, ..cfg.clone() }).unwrap();
    assert_ne!(a.depths, c.depths);
    // Cameras stand 3.5 to 5.5 m away, 20 to 45 degrees up: depths lie in
    // (0.5, 12] m, most pixels see something, and the top rows see sky
    // or ground beyond the range in some images.
    let valid: Vec<f32> = a.depths.iter().copied().filter(|&d| d > 0.0).collect();
    assert!(valid.iter().all(|&d| d > 0.5 && d <= 12.0));
    assert!(valid.len() > a.depths.len() / 2, "{} of {}", valid.len(), a.depths.len());
    assert!(valid.len() < a.depths.len());
    assert!(DepthSet::synthetic(&SynthConfig::new(1, 1, 30, 0)).unwrap_err().to_string().contains("multiple of 4"));
    assert!(DepthSet::synthetic(&SynthConfig::new(0, 1, 32, 0)).is_err());
}

/// The loss on `[B, 1, 2, 2]` inputs, evaluated by the f64 reference.
fn si_loss(pred: &[f64], target: &[f64], mask: &[f64], lambda: f32) -> f64 {
    let b = pred.len() / 4;
    let mut g = Graph::new();
    let shape = [batch_dim(), 1usize.into(), 2usize.into(), 2usize.into()];
    let (p, t, m) = (g.input("p", &shape).unwrap(), g.input("t", &shape).unwrap(), g.input("m", &shape).unwrap());
    let loss = nn::scale_invariant_log(&mut g, p, t, m, lambda).unwrap();
    let vals: HashMap<_, _> = [(p.id, pred.to_vec()), (t.id, target.to_vec()), (m.id, mask.to_vec())].into_iter().collect();
    evaluate(&g, &vals, &DimValues(vec![('B', b)]), &[loss.id]).unwrap()[&loss.id][0]
}

#[test]
fn the_scale_invariant_loss_matches_a_hand_computed_case() {
    // Image 1: d = (0, 1, 2) on its 3 valid pixels: 5/3 - 0.5 (3/3)^2 = 7/6.
    // Image 2: d = (1, -1, 0, 0): 2/4 - 0 = 1/2. Image 3 has no valid pixel: 0.
    let pred = [0.0, 1.0, 2.0, 3.0, 1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 5.0];
    let target = [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let mask = [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let l = si_loss(&pred, &target, &mask, 0.5);
    assert!((l - (7.0 / 6.0 + 0.5) / 3.0).abs() < 1e-12, "{l}");
    // lambda 0: the masked mean squared log error, (5/3 + 1/2 + 0) / 3.
    let l0 = si_loss(&pred, &target, &mask, 0.0);
    assert!((l0 - (5.0 / 3.0 + 0.5) / 3.0).abs() < 1e-12, "{l0}");
}

#[test]
fn with_lambda_one_scaling_the_prediction_changes_nothing() {
    let mut rng = Rng::new(3);
    let n = 3 * 4;
    let pred: Vec<f64> = (0..n).map(|_| rng.range(-1.0, 2.0)).collect();
    let target: Vec<f64> = (0..n).map(|_| rng.range(-1.0, 2.0)).collect();
    let mask: Vec<f64> = (0..n).map(|k| if k % 5 == 2 { 0.0 } else { 1.0 }).collect();
    // Depth times s is log depth plus ln s, per image.
    for (s, lambda, invariant) in [(2.5f64, 1.0, true), (0.3, 1.0, true), (2.5, 0.5, false)] {
        let scaled: Vec<f64> = pred.iter().map(|p| p + s.ln()).collect();
        let (a, b) = (si_loss(&pred, &target, &mask, lambda), si_loss(&scaled, &target, &mask, lambda));
        if invariant {
            assert!((a - b).abs() < 1e-12, "lambda {lambda}, scale {s}: {a} vs {b}");
        } else {
            assert!((a - b).abs() > 0.1, "lambda 0.5 does see the scale: {a} vs {b}");
        }
    }
}

#[test]
fn the_scale_invariant_loss_gradient_matches_finite_differences() {
    for lambda in [0.5f32, 1.0] {
        let build = |g: &mut Graph| {
            let shape = [batch_dim(), 1usize.into(), 3usize.into(), 2usize.into()];
            let (p, t) = (g.input("pred", &shape)?, g.input("target", &shape)?);
            let m = g.input("mask", &shape)?;
            let loss = nn::scale_invariant_log(g, p, t, m, lambda)?;
            Ok((loss, vec![p, t]))
        };
        // The mask is 0 or 1, as in training.
        let mask = |name: &str, n: usize, rng: &mut Rng| (name == "mask").then(|| (0..n).map(|_| if rng.uniform() < 0.7 { 1.0 } else { 0.0 }).collect());
        verify(&format!("scale-invariant lambda {lambda}"), &build, &[(1, 1), (3, 2), (2, 3)], &mask).unwrap_or_else(|e| panic!("{e}"));
    }
    // Shapes must agree.
    let mut g = Graph::new();
    let a = g.input("a", &[batch_dim(), 4usize.into()]).unwrap();
    let b = g.input("b", &[batch_dim(), 5usize.into()]).unwrap();
    let err = nn::scale_invariant_log(&mut g, a, b, a, 0.5).unwrap_err().to_string();
    assert!(err.contains("one shape"), "{err}");
}

#[test]
fn the_metrics_match_a_hand_computed_case() {
    let mut m = DepthMetrics::default();
    // Pixel 3 is invalid. d = (ln 2, 0, ln 0.5) on the valid ones.
    m.add(&[2.0, 1.0, 1.0, 9.0], &[1.0, 1.0, 2.0, 0.0]);
    let l2 = 2f64.ln();
    assert_eq!((m.pixels, m.images), (3, 1));
    assert!((m.scale_invariant() - 2.0 * l2 * l2 / 3.0).abs() < 1e-12, "{}", m.scale_invariant());
    assert!((m.abs_rel() - (1.0 + 0.0 + 0.5) / 3.0).abs() < 1e-12);
    assert!((m.rmse() - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
    assert!((m.delta1() - 1.0 / 3.0).abs() < 1e-12);
    // A second image averages the scale-invariant error per image.
    m.add(&[3.0], &[3.0]);
    assert!((m.scale_invariant() - l2 * l2 / 3.0).abs() < 1e-12);
}

/// The lab's defaults: 48 scenes x 4 views for training, 8 other scenes x 4
/// views held out, 32x32, 6 epochs of Adam 3e-3, batch 8, lambda 0.5.
pub fn short_run(seed: u64) -> (DepthTrainer, Vec<vislab_engine::depthpred::EpochReport>) {
    let train = Arc::new(DepthSet::synthetic(&SynthConfig::new(48, 4, 32, seed)).unwrap());
    let val = Arc::new(DepthSet::synthetic(&SynthConfig::new(8, 4, 32, seed + 1000)).unwrap());
    let mut t = DepthTrainer::new(train, val, DepthTrainConfig::new(6, seed)).unwrap();
    let r = t.run().unwrap();
    (t, r)
}

#[test]
fn a_short_seeded_run_beats_the_mean_depth_baseline() {
    let t0 = std::time::Instant::now();
    let (t, r) = short_run(3);
    let (m, b) = (&r[5].val, t.baseline());
    eprintln!(
        "after {:.1} s: loss {:.4} -> {:.4}; held out si {:.4} absrel {:.4} rmse {:.4} d1 {:.4}; baseline si {:.4} absrel {:.4} rmse {:.4} d1 {:.4}",
        t0.elapsed().as_secs_f64(),
        r[0].train_loss,
        r[5].train_loss,
        m.scale_invariant(),
        m.abs_rel(),
        m.rmse(),
        m.delta1(),
        b.scale_invariant(),
        b.abs_rel(),
        b.rmse(),
        b.delta1()
    );
    // Measured (seed 3): scale-invariant error 0.0065 vs the baseline's
    // 0.0154, abs rel 0.1028 vs 0.1383, RMSE 0.605 vs 0.921 m, delta < 1.25
    // 0.916 vs 0.845; training loss 0.089 after the first epoch, 0.011 after the sixth.
    assert!(r[5].train_loss < 0.3 * r[0].train_loss);
    assert!(m.scale_invariant() < 0.6 * b.scale_invariant());
    assert!(m.abs_rel() < 0.8 * b.abs_rel());
    assert!(m.rmse() < 0.75 * b.rmse());
    assert!(m.delta1() > b.delta1() + 0.05);
}
