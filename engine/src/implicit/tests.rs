use super::data::{self, SampleConfig, box_grid, slice_outline};
use super::inside::{self, Solid, open_edges, winding_number};
use super::net::{NetShape, OccupancyNet, features};
use super::train::{FitConfig, OccupancyFit, extract};
use super::worker::{FitEvent, FitWorker};
use crate::geometry::{scenes, shapes};
use crate::rng::SeededRng;

/// A point at distance `r` from the origin in a seeded random direction.
fn at_radius(rng: &mut SeededRng, r: f32) -> [f32; 3] {
    loop {
        let d: [f32; 3] = std::array::from_fn(|_| rng.normal() as f32);
        let l = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        if l > 1e-3 {
            return d.map(|v| v * r / l);
        }
    }
}

#[test]
fn winding_number_of_a_sphere_is_one_inside_and_zero_outside() {
    // Unit icosphere (5120 triangles): its faces lie within 0.2% of radius 1.
    let sphere = shapes::icosphere(4);
    assert_eq!(open_edges(&sphere), 0);
    let mut rng = SeededRng::new(5);
    for (r, want) in [(0.0, 1.0), (0.3, 1.0), (0.9, 1.0), (0.98, 1.0), (1.02, 0.0), (1.5, 0.0), (4.0, 0.0)] {
        for _ in 0..10 {
            let p = at_radius(&mut rng, r);
            let w = winding_number(&sphere, p);
            assert!((w - want).abs() < 1e-6, "r {r}: winding number {w}");
        }
    }
    // Flipping every triangle negates it; the inside test accepts both.
    let mut flipped = sphere.clone();
    flipped.triangles.iter_mut().for_each(|t| t.swap(1, 2));
    assert!((winding_number(&flipped, [0.1, 0.2, 0.3]) + 1.0).abs() < 1e-6);
    let solid = Solid::new(flipped).unwrap();
    assert_eq!(solid.labels(&[[0.1, 0.2, 0.3], [0.0, 1.2, 0.0]]), vec![1.0, 0.0]);
}

#[test]
fn labels_of_the_exact_and_voxel_tests_agree_away_from_the_surface() {
    let sphere = shapes::icosphere(3);
    let exact = Solid::new(sphere.clone()).unwrap();
    assert_eq!(exact.test(), &inside::InsideTest::WindingNumber);
    let voxels = Solid::voxelized(sphere, 64).unwrap();
    let mut rng = SeededRng::new(9);
    let mut points = Vec::new();
    for r in [0.2, 0.5, 0.85, 1.15, 1.4] {
        points.extend((0..200).map(|_| at_radius(&mut rng, r)));
    }
    let a = exact.labels(&points);
    let b = voxels.labels(&points);
    let want: Vec<f32> = points.iter().map(|p| if p.iter().map(|v| v * v).sum::<f32>() < 1.0 { 1.0 } else { 0.0 }).collect();
    assert_eq!(a, want);
    assert_eq!(b, want);
    // Above the exact test's triangle budget the voxels take over by themselves.
    let big = shapes::icosphere(5);
    assert!(big.triangles.len() > inside::MAX_EXACT_TRIANGLES);
    let auto = Solid::new(big).unwrap();
    assert_eq!(auto.test_name(), "solid voxels 130x130x130");
    assert_eq!(auto.labels(&points), want);
}

#[test]
fn the_teapot_is_open_but_its_winding_number_still_decides() {
    let teapot = data::normalize(&scenes::teapot().unwrap()).unwrap();
    // Its Bezier patches meet without sharing edges: not a closed surface.
    let open = open_edges(&teapot);
    assert_eq!(open, 64);
    let solid = Solid::new(teapot.clone()).unwrap();
    let b = teapot.bounds().unwrap();
    let c = b.center();
    // The body's middle is inside; the box's corners and the space under the spout are not.
    let wn = winding_number(&teapot, c);
    assert!(wn > 0.9, "centre {wn}");
    assert!(winding_number(&teapot, [0.5, 0.5, 0.5]).abs() < 0.05);
    assert_eq!(solid.labels(&[c, [0.52, 0.52, 0.52], [-0.52, -0.52, 0.52]]), vec![1.0, 0.0, 0.0]);
    // Most points are decisive (winding number near 0 or 1) despite the cracks.
    let pts = data::grid_centres(&box_grid(16));
    let undecided = pts.iter().filter(|&&p| (0.2..0.8).contains(&winding_number(&teapot, p).abs())).count();
    eprintln!("teapot: {open} open edges, {undecided} of {} grid points undecided", pts.len());
    assert!(undecided * 50 < pts.len(), "{undecided} of {} points undecided", pts.len());
}

#[test]
fn normalizing_fits_the_unit_box() {
    let torus = shapes::torus(0.8, 0.3, 32, 16);
    let m = data::normalize(&torus).unwrap();
    let b = m.bounds().unwrap();
    // Ring 0.8 + tube 0.3: 2.2 wide, 0.6 high; longest edge becomes 1.
    assert!((b.size()[0] - 1.0).abs() < 1e-6 && (b.size()[1] - 0.6 / 2.2).abs() < 1e-5, "{b:?}");
    assert!(b.center().iter().all(|v| v.abs() < 1e-6));
    assert!(data::normalize(&crate::geometry::Mesh::default()).is_err());
}

#[test]
fn training_points_are_seeded_and_labelled() {
    let solid = Solid::new(data::normalize(&shapes::icosphere(3)).unwrap()).unwrap();
    let cfg = SampleConfig { uniform: 2000, near: 1000, sigma: 0.02, seed: 3 };
    let a = data::sample_training(&solid, &cfg).unwrap();
    assert_eq!(a, data::sample_training(&solid, &cfg).unwrap());
    assert_ne!(a.points, data::sample_training(&solid, &SampleConfig { seed: 4, ..cfg }).unwrap().points);
    assert_eq!(a.len(), 3000);
    assert!(a.points.iter().all(|p| p.iter().all(|v| v.abs() <= data::BOX_HALF)));
    // Uniform points: inside with the ball's share of the cube, (4/3 pi 0.5^3) / 1.1^3 = 0.393.
    let uniform = a.labels[..2000].iter().sum::<f32>() / 2000.0;
    assert!((uniform - 0.393).abs() < 0.03, "{uniform}");
    // Near-surface points: within a few sigma of radius 1/2, about half inside.
    let near = a.labels[2000..].iter().sum::<f32>() / 1000.0;
    assert!((near - 0.5).abs() < 0.06, "{near}");
    assert!(a.points[2000..].iter().all(|p| (p.iter().map(|v| v * v).sum::<f32>().sqrt() - 0.5).abs() < 0.12));
    for (p, l) in a.points.iter().zip(&a.labels) {
        let r = p.iter().map(|v| v * v).sum::<f32>().sqrt();
        if (r - 0.5).abs() > 0.01 {
            assert_eq!(*l, if r < 0.5 { 1.0 } else { 0.0 }, "{p:?}");
        }
    }
}

#[test]
fn slice_outline_of_a_sphere_is_a_circle() {
    let sphere = shapes::icosphere(4);
    let segs = slice_outline(&sphere, 2, 0.6);
    assert!(segs.len() > 50);
    // Radius sqrt(1 - 0.36) = 0.8, within the polyhedron's flattening.
    for s in &segs {
        for p in s {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            assert!((r - 0.8).abs() < 0.01, "{r}");
        }
    }
    assert!(slice_outline(&sphere, 0, 1.5).is_empty());
    assert_eq!(data::plane_axes(1), (0, 2));
    let pts = data::slice_points(0, 0.25, 4);
    assert_eq!(pts.len(), 16);
    assert!(pts.iter().all(|p| p[0] == 0.25));
    assert!((pts[1][1] - pts[0][1] - 0.275).abs() < 1e-6);
}

#[test]
fn features_are_the_point_then_sines_and_cosines() {
    let f = features(&[[0.25, -0.5, 0.0]], 2);
    assert_eq!(f.len(), 15);
    assert_eq!(&f[..3], &[0.25, -0.5, 0.0]);
    let pi = std::f32::consts::PI;
    let want = [(pi * 0.25).sin(), (-pi * 0.5).sin(), 0.0, (pi * 0.25).cos(), (-pi * 0.5).cos(), 1.0];
    for (a, b) in f[3..9].iter().zip(want) {
        assert!((a - b).abs() < 1e-6);
    }
    assert!((f[9] - (2.0 * pi * 0.25).sin()).abs() < 1e-6);
}

#[test]
fn prediction_matches_a_hand_forward_pass() {
    let shape = NetShape { frequencies: 1, hidden: 5, depth: 2 };
    let mut net = OccupancyNet::new(shape, 4).unwrap();
    // Non-zero biases so they are checked too.
    let mut rng = SeededRng::new(2);
    for p in net.params_mut() {
        p.value.iter_mut().for_each(|v| *v += rng.uniform_in(-0.3, 0.3) as f32);
    }
    assert_eq!(net.params().iter().map(|p| p.value.len()).sum::<usize>(), shape.params());
    let points: Vec<[f32; 3]> = (0..5000).map(|i| [(i % 17) as f32 / 17.0 - 0.5, (i % 5) as f32 * 0.1, -0.2]).collect();
    let got = net.predict(&points).unwrap();
    let param = |n: &str| net.params().iter().find(|p| p.name == n).unwrap().value.iter().map(|&v| v as f64).collect::<Vec<f64>>();
    let layer = |name: &str, x: &[f64], relu: bool| -> Vec<f64> {
        let (w, b) = (param(&format!("{name}.weight")), param(&format!("{name}.bias")));
        b.iter()
            .enumerate()
            .map(|(o, bo)| {
                let y = bo + x.iter().enumerate().map(|(i, xi)| w[o * x.len() + i] * xi).sum::<f64>();
                if relu { y.max(0.0) } else { y }
            })
            .collect()
    };
    for i in [0, 1, 4095, 4096, 4999] {
        let x: Vec<f64> = features(&points[i..i + 1], 1).iter().map(|&v| v as f64).collect();
        let h = layer("fc2", &layer("fc1", &x, true), true);
        let l = layer("fc_out", &h, false)[0];
        let p = 1.0 / (1.0 + (-l).exp());
        assert!((got[i] as f64 - p).abs() < 1e-5, "point {i}: {} vs {p}", got[i]);
    }
}

fn sphere_config(seed: u64) -> FitConfig {
    FitConfig {
        net: NetShape { frequencies: 2, hidden: 32, depth: 2 },
        steps: 150,
        batch: 512,
        lr: 5e-3,
        seed,
        samples: SampleConfig { uniform: 2048, near: 2048, sigma: 0.02, seed },
        iou_res: 32,
    }
}

#[test]
fn a_short_seeded_run_fits_a_sphere_and_repeats_exactly() {
    let sphere = shapes::icosphere(3);
    let run = |seed| {
        let mut fit = OccupancyFit::new(&sphere, sphere_config(seed)).unwrap();
        let first = fit.train_step().unwrap();
        let mut last = first;
        while !fit.done() {
            last = fit.train_step().unwrap();
        }
        let ev = fit.evaluate(32).unwrap();
        (first, last, ev)
    };
    let t0 = std::time::Instant::now();
    let (first, last, ev) = run(1);
    eprintln!("sphere: 150 steps + eval in {:.2} s, loss {first} -> {last}, IoU {}", t0.elapsed().as_secs_f64(), ev.iou.iou);
    // An untrained net starts near ln 2 = 0.69 (logits near zero).
    assert!(first > 0.3 && first < 1.5, "first loss {first}");
    assert!(last < 0.2, "loss {first} -> {last}");
    // Measured 0.968 (seed 1).
    assert!(ev.iou.iou > 0.95, "IoU {:?}", ev.iou);
    // The level set is a closed surface near radius 1/2 of the unit box.
    assert!(!ev.mesh.triangles.is_empty());
    let radii: Vec<f32> = ev.mesh.positions.iter().map(|p| p.iter().map(|v| v * v).sum::<f32>().sqrt()).collect();
    let mean = radii.iter().sum::<f32>() / radii.len() as f32;
    assert!((mean - 0.5).abs() < 0.03, "mean radius {mean}");
    let (first2, last2, ev2) = run(1);
    assert_eq!((first, last, ev.iou), (first2, last2, ev2.iou));
    assert_eq!(ev.mesh.positions, ev2.mesh.positions);
    let (_, last3, _) = run(2);
    assert_ne!(last, last3);
}

#[test]
fn the_worker_streams_steps_and_evaluations_and_stops() {
    let sphere = shapes::icosphere(2);
    let cfg = FitConfig { steps: 20, ..sphere_config(0) };
    let w = FitWorker::spawn(sphere.clone(), cfg, 10, 24).unwrap();
    let mut steps = Vec::new();
    let mut evals = Vec::new();
    let mut ready = None;
    loop {
        match w.events().recv().unwrap() {
            FitEvent::Ready { points, inside_fraction, test, .. } => ready = Some((points, inside_fraction, test)),
            FitEvent::Step { step, .. } => steps.push(step),
            FitEvent::Eval(e) => evals.push((e.step, e.resolution, e.iou.iou)),
            FitEvent::Done { stopped, error } => {
                assert!(!stopped && error.is_none(), "{error:?}");
                break;
            }
        }
    }
    let (points, _, test) = ready.unwrap();
    assert_eq!((points, test.as_str()), (4096, "winding number"));
    assert_eq!(steps, (1..=20).collect::<Vec<_>>());
    assert_eq!(evals.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>(), vec![(10, 24), (20, 24)]);
    // The worker computes what the same fit computes in place.
    let mut fit = OccupancyFit::new(&sphere, cfg).unwrap();
    while !fit.done() {
        fit.train_step().unwrap();
    }
    assert_eq!(fit.iou().unwrap().iou, evals[1].2);
    let back = w.join().unwrap().expect("the fit started");
    assert_eq!(back.step(), 20);

    // Stop ends a long run early; pause holds it.
    let w = FitWorker::spawn(sphere, FitConfig { steps: 100_000, ..cfg }, 1000, 16).unwrap();
    w.pause();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let seen = w.events().try_iter().filter(|e| matches!(e, FitEvent::Step { .. })).count();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(w.events().try_iter().filter(|e| matches!(e, FitEvent::Step { .. })).count(), 0, "paused after {seen} steps");
    w.resume();
    w.stop();
    let done = w.events().iter().find_map(|e| if let FitEvent::Done { stopped, .. } = e { Some(stopped) } else { None });
    assert_eq!(done, Some(true));
    assert!(w.join().unwrap().unwrap().step() < 100_000);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let sphere = shapes::icosphere(1);
    assert!(OccupancyFit::new(&crate::geometry::Mesh::default(), sphere_config(0)).is_err());
    assert!(OccupancyFit::new(&sphere, FitConfig { lr: f32::NAN, ..sphere_config(0) }).is_err());
    assert!(OccupancyFit::new(&sphere, FitConfig { steps: 0, ..sphere_config(0) }).is_err());
    let mut bad = sphere.clone();
    bad.triangles.push([0, 1, 9999]);
    assert!(Solid::new(bad).is_err());
    let mut net = OccupancyNet::new(NetShape::default(), 0).unwrap();
    assert!(net.predict(&[[f32::NAN, 0.0, 0.0]]).is_err());
    assert!(extract(&mut net, 1).is_err());
    assert!(extract(&mut net, 1000).is_err());
    assert!(net.set_weights(&[vec![0.0]]).is_err());
    // A flat square encloses nothing: the fit says so.
    let square =
        crate::geometry::Mesh { positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]], triangles: vec![[0, 1, 2], [0, 2, 3]], ..Default::default() };
    let e = OccupancyFit::new(&square, sphere_config(0)).err().map(|e| e.to_string());
    assert!(e.as_deref().is_some_and(|e| e.contains("closed")), "{e:?}");
}
