//! Hand-computed values on a tetrahedron, finite differences through the
//! whole network and its losses, and seeded fits whose Chamfer drops.

use crate::check::{GRAD_TOL, compare_cpu, gradcheck};
use crate::geometry::{Mesh, shapes};
use crate::graph::{Graph, LeafKind};
use crate::metrics::{KdTree, chamfer};
use crate::model::{Model, ModelSpec};

use super::graph::VertexGraph;
use super::layer::GcnLayer;
use super::loss::{IN_BWD_CONST, IN_BWD_TARGET, IN_BWD_WEIGHT, IN_FWD_TARGET, IN_WEIGHTS, LossWeights, Matches, MeshTensors, build_losses};
use super::net::{NetShape, build};
use super::train::{DeformConfig, DeformFit, normalize};
use super::worker::{DeformEvent, DeformWorker};

/// The corner tetrahedron: origin and the three unit points, wound outward.
fn tetrahedron() -> Mesh {
    Mesh { positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], triangles: vec![[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], ..Default::default() }
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol * want.abs().max(1.0), "{what}: got {got}, want {want}");
}

#[test]
fn vertex_graphs_of_a_tetrahedron_and_an_icosphere() {
    let t = VertexGraph::new(&tetrahedron()).unwrap();
    assert_eq!(t.edges.len(), 6);
    assert_eq!(t.pairs.len(), 6);
    assert!(t.neighbours.iter().all(|n| n.len() == 3));
    let s = shapes::icosphere(1);
    let g = VertexGraph::new(&s).unwrap();
    // Euler: V - E + F = 2 with F = 80: 42 vertices, 120 edges, all interior.
    assert_eq!((g.vertices, g.edges.len(), g.pairs.len()), (42, 120, 120));
    assert_eq!(g.neighbours.iter().filter(|n| n.len() == 5).count(), 12);
    assert_eq!(g.neighbours.iter().filter(|n| n.len() == 6).count(), 30);
    // An open square: one interior edge (the diagonal), four boundary ones.
    let sq = Mesh { positions: vec![[0.0; 3], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]], triangles: vec![[0, 1, 2], [0, 2, 3]], ..Default::default() };
    let q = VertexGraph::new(&sq).unwrap();
    assert_eq!((q.edges.len(), q.pairs.len()), (5, 1));
    let bad = Mesh { positions: vec![[0.0; 3]; 2], triangles: vec![[0, 1, 2]], ..Default::default() };
    assert!(VertexGraph::new(&bad).is_err());
}

#[test]
fn a_gcn_layer_adds_w0_of_itself_and_w1_of_its_neighbours() {
    let vg = VertexGraph::new(&tetrahedron()).unwrap();
    let mut g = Graph::new();
    let mt = MeshTensors::new(&mut g, &vg).unwrap();
    let x = g.input("x", &[4usize.into(), 1usize.into()]).unwrap();
    let layer = GcnLayer::new(&mut g, "gcn", 1, 2).unwrap();
    let y = layer.forward(&mut g, x, mt.adj).unwrap();
    let loss = g.sum_all(y).unwrap();
    let spec = ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![("y".into(), y)], state_updates: vec![] };
    let mut m = Model::compile(g, spec).unwrap();
    // Channel 0: W0 = 2, W1 = 3, b = 0.5; channel 1: W0 = -1, W1 = 1, b = 0.
    m.set_param("gcn.w0.weight", &[2.0, -1.0]).unwrap();
    m.set_param("gcn.w0.bias", &[0.5, 0.0]).unwrap();
    m.set_param("gcn.w1.weight", &[3.0, 1.0]).unwrap();
    m.set_input("x", &[1.0, 2.0, 3.0, 4.0]).unwrap();
    m.evaluate().unwrap();
    // Every vertex of a tetrahedron neighbours the other three: the sum is 10 - f_i.
    // f' = 2 f + 3 (10 - f) + 0.5 = 30.5 - f; and -f + (10 - f) = 10 - 2 f.
    assert_eq!(m.output("y").unwrap(), &[29.5, 8.0, 28.5, 6.0, 27.5, 4.0, 26.5, 2.0]);
}

/// Every loss term of `positions` on `mesh` against `target`, through the
/// compiled graph with the positions as a parameter.
fn terms_of(mesh: &Mesh, target: &[[f32; 3]], w: LossWeights) -> (super::Terms, Vec<f32>) {
    let vg = VertexGraph::new(mesh).unwrap();
    let n = vg.vertices;
    let mut g = Graph::new();
    let mt = MeshTensors::new(&mut g, &vg).unwrap();
    let p = g.param("p", &[n, 3]).unwrap();
    let t = build_losses(&mut g, p, &mt).unwrap();
    let spec = ModelSpec { loss: t.total, train_outputs: t.named(), eval_outputs: vec![], state_updates: vec![] };
    let mut m = Model::compile(g, spec).unwrap();
    m.set_param("p", &mesh.positions.iter().flatten().copied().collect::<Vec<_>>()).unwrap();
    let matches = Matches::find(&mesh.positions, target, &KdTree::new(target)).unwrap();
    m.set_input(IN_FWD_TARGET, &matches.fwd_target).unwrap();
    m.set_input(IN_BWD_TARGET, &matches.bwd_target).unwrap();
    m.set_input(IN_BWD_WEIGHT, &matches.bwd_weight).unwrap();
    m.set_input(IN_BWD_CONST, &[matches.bwd_const]).unwrap();
    for (name, v) in IN_WEIGHTS.iter().zip(w.as_array()) {
        m.set_input(name, &[v]).unwrap();
    }
    m.train_step().unwrap();
    let get = |k: &str| m.output(k).unwrap()[0] as f64;
    let terms = super::Terms {
        chamfer_fwd: get("chamfer_fwd"),
        chamfer_bwd: get("chamfer_bwd"),
        edge: get("edge"),
        laplacian: get("laplacian"),
        normal: get("normal"),
        total: get("total"),
    };
    (terms, m.grad("p").unwrap().to_vec())
}

#[test]
fn every_loss_term_on_a_tetrahedron_equals_its_hand_value() {
    let tet = tetrahedron();
    // Two target points near the origin (both nearest to vertex 0) and one
    // at (3, 0, 0) (nearest to vertex 1).
    let target = [[0.0, 0.0, 0.1], [0.0, 0.0, -0.1], [3.0, 0.0, 0.0]];
    let w = LossWeights { chamfer: 1.0, edge: 10.0, laplacian: 100.0, normal: 1000.0 };
    let (t, grad) = terms_of(&tet, &target, w);
    // Vertex -> nearest target: 0.01 (origin), 1.01 (x, to (0,0,±0.1)), 1.01 (y), 0.81 (z).
    close(t.chamfer_fwd, (0.01 + 1.01 + 1.01 + 0.81) / 4.0, 1e-6, "chamfer, vertices to target");
    // Target -> nearest vertex: 0.01, 0.01, 4 (to (1, 0, 0)).
    close(t.chamfer_bwd, (0.01 + 0.01 + 4.0) / 3.0, 1e-6, "chamfer, target to vertices");
    let c = chamfer(&tet.positions, &target).unwrap();
    close(t.chamfer_fwd, c.a_to_b, 1e-6, "the engine's metric, a to b");
    close(t.chamfer_bwd, c.b_to_a, 1e-6, "the engine's metric, b to a");
    // Three edges of length 1 and three of length sqrt 2.
    close(t.edge, (3.0 * 1.0 + 3.0 * 2.0) / 6.0, 1e-6, "edge");
    // Origin: minus the mean (1/3, 1/3, 1/3), length 1/sqrt 3; (1, 0, 0) minus
    // (0, 1/3, 1/3): length sqrt(11/9); the other two alike.
    close(t.laplacian, ((1.0f64 / 3.0).sqrt() + 3.0 * (11.0f64 / 9.0).sqrt()) / 4.0, 1e-6, "laplacian");
    // Normals -x, -y, -z and (1,1,1)/sqrt 3: the three edges at the origin
    // join perpendicular faces (cos 0), the three others the slanted face
    // and an axis face (cos -1/sqrt 3).
    let cos = -1.0 / 3f64.sqrt();
    close(t.normal, (3.0 * 1.0 + 3.0 * (1.0 - cos)) / 6.0, 1e-6, "normal consistency");
    close(t.total, t.chamfer_fwd + t.chamfer_bwd + 10.0 * t.edge + 100.0 * t.laplacian + 1000.0 * t.normal, 1e-6, "weighted total");
    assert_eq!(grad.len(), 12);

    // A flat pair of triangles: normals agree (0), the Laplacian of each
    // corner is known, the edges are 4 of length 1 and one of sqrt 2.
    let sq = Mesh { positions: vec![[0.0; 3], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]], triangles: vec![[0, 1, 2], [0, 2, 3]], ..Default::default() };
    let (t, _) = terms_of(&sq, &sq.positions, LossWeights::default());
    close(t.chamfer(), 0.0, 1e-6, "chamfer to itself");
    close(t.normal, 0.0, 1e-6, "flat normals");
    close(t.edge, (4.0 + 2.0) / 5.0, 1e-6, "square edges");
    // Corners 0 and 2 have three neighbours: e.g. (0,0) - mean((1,0),(1,1),(0,1)) = -(2/3, 2/3);
    // corners 1 and 3 have two: (1,0) - mean((0,0),(1,1)) = (1/2, -1/2).
    close(t.laplacian, (2.0 * (8.0f64 / 9.0).sqrt() + 2.0 * 0.5f64.sqrt()) / 4.0, 1e-6, "square laplacian");
}

#[test]
fn the_whole_loss_gradient_matches_finite_differences() {
    let ico = shapes::icosphere(0);
    let vg = VertexGraph::new(&ico).unwrap();
    let shape = NetShape { width: 4, depth: 2 };
    let p0 = ico.positions.clone();
    let build_fn = |g: &mut Graph| {
        let b = build(g, &vg, &p0, shape)?;
        let wrt = g.leaves().iter().filter(|l| l.kind == LeafKind::Param).map(|l| crate::graph::Tensor { id: l.id, view: luminal::prelude::ShapeTracker::new(&l.shape) }).collect();
        Ok((b.terms.total, wrt))
    };
    // Matches and weights as the trainer feeds them: targets near the
    // sphere, non-negative group weights, every regularizer on.
    let init = |name: &str, n: usize, rng: &mut crate::check::Rng| -> Option<Vec<f64>> {
        match name {
            IN_BWD_WEIGHT => Some((0..n).map(|_| rng.range(0.0, 0.2)).collect()),
            IN_BWD_CONST => Some(vec![0.05]),
            _ if IN_WEIGHTS.contains(&name) => Some(vec![rng.range(0.5, 2.0)]),
            _ if name.ends_with(".weight") => Some((0..n).map(|_| rng.range(-0.7, 0.7)).collect()),
            _ => None,
        }
    };
    for seed in [1, 2] {
        let rep = gradcheck(&build_fn, 1, seed, &init).unwrap();
        assert_eq!(rep.checked, shape.params(), "every parameter element is checked");
        assert!(rep.max_rel_err < GRAD_TOL, "seed {seed}: {rep:?}");
        let cpu = compare_cpu(&build_fn, 1, seed, &init).unwrap();
        assert!(cpu.max_rel_err < 1e-3, "seed {seed}: {cpu:?}");
    }
}

fn ellipsoid() -> Mesh {
    let mut m = shapes::icosphere(3);
    for p in &mut m.positions {
        *p = [p[0], 0.6 * p[1], 0.4 * p[2]];
    }
    m
}

fn short_config() -> DeformConfig {
    DeformConfig { level: 2, net: NetShape { width: 32, depth: 2 }, lr: 3e-3, steps: 120, seed: 7, target_points: 1500, eval_points: 3000, ..Default::default() }
}

#[test]
fn a_seeded_fit_to_an_ellipsoid_cuts_the_chamfer_and_repeats_exactly() {
    let run = || {
        let mut fit = DeformFit::new(&ellipsoid(), short_config()).unwrap();
        let before = fit.snapshot().unwrap().chamfer.total;
        let mut losses = Vec::new();
        while !fit.done() {
            losses.push(fit.train_step().unwrap());
        }
        let after = fit.snapshot().unwrap();
        (before, after, losses)
    };
    let (before, after, losses) = run();
    eprintln!("chamfer {before} -> {} ({}x); first {:?}, last {:?}", after.chamfer.total, before / after.chamfer.total, losses[0], losses.last());
    assert!(before > 0.05, "the sphere starts far from the ellipsoid: {before}");
    // Measured 0.2913 -> 0.00536 (54x) in these 120 steps.
    assert!(after.chamfer.total < before / 25.0, "chamfer {before} -> {}", after.chamfer.total);
    let last = losses.last().unwrap();
    assert!(last.total < losses[0].total / 3.0, "{:?} -> {last:?}", losses[0]);
    // Same seed, same numbers, bit for bit.
    let (b2, a2, l2) = run();
    assert_eq!(before, b2);
    assert_eq!(after.positions, a2.positions);
    assert_eq!(after.chamfer, a2.chamfer);
    assert_eq!(losses, l2);
    // Another seed starts from other weights.
    let mut other = DeformFit::new(&ellipsoid(), DeformConfig { seed: 8, ..short_config() }).unwrap();
    assert_ne!(other.train_step().unwrap(), losses[0]);
}

#[test]
fn the_worker_streams_steps_and_snapshots_and_matches_the_fit() {
    let cfg = DeformConfig { steps: 30, ..short_config() };
    let w = DeformWorker::spawn(ellipsoid(), cfg, 10).unwrap();
    let (mut steps, mut snaps, mut done) = (Vec::new(), Vec::new(), None);
    for e in w.events().iter() {
        match e {
            DeformEvent::Ready { start, target, .. } => {
                assert_eq!(start.positions.len(), 162);
                assert!(target.bounds().unwrap().size()[0] > 1.99);
            }
            DeformEvent::Step { step, terms, .. } => steps.push((step, terms)),
            DeformEvent::Snapshot(s) => snaps.push(s),
            DeformEvent::Done { stopped, error } => {
                done = Some((stopped, error));
                break;
            }
        }
    }
    assert_eq!(done, Some((false, None)));
    assert_eq!(steps.len(), 30);
    assert_eq!(snaps.iter().map(|s| s.step).collect::<Vec<_>>(), vec![0, 10, 20, 30]);
    let mut fit = DeformFit::new(&ellipsoid(), cfg).unwrap();
    for (k, (step, terms)) in steps.iter().enumerate() {
        assert_eq!((*step, fit.train_step().unwrap()), (k + 1, *terms));
    }
    assert_eq!(fit.snapshot().unwrap().chamfer, snaps[3].chamfer);
    assert_eq!(snaps[3].hidden.len(), 162 * 32);

    // Bad input ends the run with a message, not a panic.
    let w = DeformWorker::spawn(Mesh::default(), cfg, 10).unwrap();
    match w.events().recv().unwrap() {
        DeformEvent::Done { stopped: false, error: Some(e) } => assert!(e.contains("no vertices"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(normalize(&Mesh { positions: vec![[1.0; 3]; 3], triangles: vec![[0, 1, 2]], ..Default::default() }).is_err());
}
