//! The single-stage detector: a small CNN backbone (the U-Net's double
//! 3x3 conv + BatchNorm + ReLU blocks, 2x2 max pooling down to an 8x8 map)
//! and a 1x1 conv head giving, for each of the A anchors of every cell, one
//! objectness logit, four box codes and C class logits
//! (`[B, A * (5 + C), G, G]`, read as `[B, A, 5 + C, G, G]`).
//!
//! Loss, each term summed over anchors and averaged over images:
//! weighted BCE on objectness (positives 1, negatives `negative_weight`,
//! ignored anchors 0), cross-entropy on the class of positives, and L1 on
//! the box codes of positives times `box_weight`.

use crate::error::EngineError;
use crate::graph::{Graph, Tensor, batch_dim};
use crate::model::{Model, ModelSpec};
use crate::nn::{self, Conv2d, Conv2dConfig, Mode, Pool2d};
use crate::segmentation::net::{Pass, double, init_params, leaf};
use crate::train::Param;

use super::DetectorError;
use super::anchors::Targets;

/// Side of the output grid.
pub const GRID: usize = 8;
const HEAD: &str = "head";
const OUT_RAW: &str = "raw";
const TERMS: [&str; 3] = ["loss_objectness", "loss_class", "loss_box"];
/// Objectness bias at the start: sigmoid(-4) = 1.8%, about the share of
/// positive anchors, so the first steps are not spent unlearning "object everywhere".
const OBJECTNESS_PRIOR: f32 = -4.0;

#[derive(Clone, Debug, PartialEq)]
pub struct DetectorShape {
    /// Square RGB input of `image` pixels a side: 16, 32, 64 or 128.
    pub image: usize,
    pub anchors: usize,
    pub classes: usize,
    /// Channels of the first block (then 2x, then 4x).
    pub base: usize,
    pub box_weight: f32,
}

impl DetectorShape {
    /// Pooling stages from the image down to the grid.
    pub fn pools(&self) -> Result<usize, DetectorError> {
        match self.image / GRID {
            2 if self.image == 16 => Ok(1),
            4 if self.image == 32 => Ok(2),
            8 if self.image == 64 => Ok(3),
            16 if self.image == 128 => Ok(4),
            _ => Err(DetectorError::Input(format!("detector images must be 16, 32, 64 or 128 pixels a side, not {}", self.image))),
        }
    }

    /// Values per anchor: objectness, 4 box codes, class logits.
    pub fn per_anchor(&self) -> usize {
        5 + self.classes
    }

    /// Raw head values per image.
    pub fn raw_len(&self) -> usize {
        self.anchors * self.per_anchor() * GRID * GRID
    }

    fn check(&self) -> Result<(), DetectorError> {
        self.pools()?;
        if self.anchors == 0 || self.anchors > 9 || self.classes == 0 || self.base == 0 {
            return Err(DetectorError::Input(format!("detector needs 1 to 9 anchors, a class and channels: {self:?}")));
        }
        Ok(())
    }
}

/// Raw head output `[B, A * (5 + C), G, G]`.
fn network(g: &mut Graph, s: &DetectorShape, pass: &mut Pass, x: Tensor) -> Result<Tensor, DetectorError> {
    let pools = s.pools()?;
    let (mut h, mut c) = (x, 3);
    for k in 0..pools {
        let out = s.base << k.min(2);
        h = double(g, true, pass, &format!("stage{}", k + 1), h, c, out)?;
        h = Pool2d::max(2, 2).forward(g, h)?;
        c = out;
    }
    let out = s.base << pools.min(2);
    h = double(g, true, pass, "neck", h, c, out)?;
    let cfg = Conv2dConfig::new(out, s.anchors * s.per_anchor(), 1);
    let head = match leaf(g, &format!("{HEAD}.weight")) {
        Some(weight) => Conv2d { weight, bias: leaf(g, &format!("{HEAD}.bias")), config: cfg },
        None => Conv2d::new(g, HEAD, cfg)?,
    };
    Ok(head.forward(g, h)?)
}

/// The three loss terms of head output `raw` against the target inputs.
fn loss_terms(g: &mut Graph, s: &DetectorShape, raw: Tensor) -> Result<[Tensor; 3], EngineError> {
    let (a, c, gg) = (s.anchors, s.classes, GRID);
    let dims = |k: usize| [batch_dim(), a.into(), k.into(), gg.into(), gg.into()];
    let r = g.reshape(raw, &dims(s.per_anchor()))?;
    let obj = g.slice(r, 2, 0, 1)?;
    let codes = g.slice(r, 2, 1, 5)?;
    let cls = g.slice(r, 2, 5, 5 + c)?;
    let obj_t = g.input("objectness", &dims(1))?;
    let obj_w = g.input("weight", &dims(1))?;
    let box_t = g.input("boxes", &dims(4))?;
    let box_m = g.input("box_mask", &dims(4))?;
    let cls_t = g.input("classes", &dims(c))?;
    let images = g.count(&[batch_dim()]);

    let bce = nn::bce_with_logits_terms(g, obj, obj_t)?;
    let bce = g.mul(bce, obj_w)?;
    let bce = g.sum_all(bce)?;
    let l_obj = g.div(bce, images)?;

    let lsm = nn::log_softmax(g, cls, 2)?;
    let ce = g.mul(lsm, cls_t)?;
    let ce = g.sum_all(ce)?;
    let ce = g.div(ce, images)?;
    let l_cls = g.neg(ce)?;

    let d = g.sub(codes, box_t)?;
    let d = g.abs(d)?;
    let d = g.mul(d, box_m)?;
    let d = g.sum_all(d)?;
    let l_box = g.div(d, images)?;
    Ok([l_obj, l_cls, l_box])
}

/// Mean loss terms over the images of a step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossTerms {
    pub objectness: f32,
    pub class: f32,
    /// L1 on the codes, before `box_weight`.
    pub boxes: f32,
    /// objectness + class + box_weight * boxes.
    pub total: f32,
}

pub struct DetectorModel {
    shape: DetectorShape,
    compiled: Model,
    params: Vec<Param>,
}

impl DetectorModel {
    /// Compile and initialize from `seed` (Kaiming, gain 1 for the head,
    /// objectness biases at the prior).
    pub fn new(shape: DetectorShape, seed: u64) -> Result<DetectorModel, DetectorError> {
        shape.check()?;
        let mut g = Graph::new();
        let x = g.input("x", &[batch_dim(), 3.into(), shape.image.into(), shape.image.into()])?;
        let mut updates = vec![];
        let raw = network(&mut g, &shape, &mut Pass { mode: Mode::Train, updates: &mut updates }, x)?;
        let [l_obj, l_cls, l_box] = loss_terms(&mut g, &shape, raw)?;
        let weighted = g.mul_scalar(l_box, shape.box_weight)?;
        let loss = g.add(l_obj, l_cls)?;
        let loss = g.add(loss, weighted)?;
        let eval = network(&mut g, &shape, &mut Pass { mode: Mode::Eval, updates: &mut vec![] }, x)?;
        let train_outputs = TERMS.iter().map(|t| t.to_string()).zip([l_obj, l_cls, l_box]).collect();
        let spec = ModelSpec { loss, train_outputs, eval_outputs: vec![(OUT_RAW.into(), eval)], state_updates: updates };
        let compiled = Model::compile(g, spec)?;
        let mut params = init_params(&compiled, HEAD, seed)?;
        // BatchNorm's running statistics travel with the weights (checkpoints)
        for name in compiled.state_names() {
            let value = compiled.state(&name)?.to_vec();
            params.push(Param::buffer(name, vec![value.len()], value));
        }
        if let Some(bias) = params.iter_mut().find(|p| p.name == "head.bias") {
            for a in 0..shape.anchors {
                bias.value[a * shape.per_anchor()] = OBJECTNESS_PRIOR;
            }
        }
        Ok(DetectorModel { shape, compiled, params })
    }

    pub fn shape(&self) -> &DetectorShape {
        &self.shape
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    /// Trainable values (the running statistics not counted).
    pub fn param_count(&self) -> usize {
        self.params.iter().filter(|p| p.trainable).map(|p| p.value.len()).sum()
    }

    fn load(&mut self, x: &[f32], n: usize) -> Result<(), DetectorError> {
        let px = 3 * self.shape.image * self.shape.image;
        if n == 0 || x.len() != n * px {
            return Err(DetectorError::Input(format!("{} values for {n} images of 3x{s}x{s}", x.len(), s = self.shape.image)));
        }
        self.compiled.set_batch(n)?;
        for p in &self.params {
            if p.trainable {
                self.compiled.set_param(&p.name, &p.value)?;
            } else {
                let dst = self.compiled.state_mut(&p.name)?;
                if dst.len() != p.value.len() {
                    return Err(DetectorError::Input(format!("buffer {} has {} values, expected {}", p.name, p.value.len(), dst.len())));
                }
                dst.copy_from_slice(&p.value);
            }
        }
        self.compiled.set_input("x", x)?;
        Ok(())
    }

    /// Forward + backward on `n` images and their targets: overwrites every
    /// parameter's gradient, returns the loss terms.
    pub fn train_step(&mut self, x: &[f32], targets: &[&Targets]) -> Result<LossTerms, DetectorError> {
        self.load(x, targets.len())?;
        let cat = |f: fn(&Targets) -> &Vec<f32>| targets.iter().flat_map(|t| f(t).iter().copied()).collect::<Vec<f32>>();
        self.compiled.set_input("objectness", &cat(|t| &t.objectness))?;
        self.compiled.set_input("weight", &cat(|t| &t.weight))?;
        self.compiled.set_input("boxes", &cat(|t| &t.boxes))?;
        self.compiled.set_input("box_mask", &cat(|t| &t.box_mask))?;
        self.compiled.set_input("classes", &cat(|t| &t.classes))?;
        let total = self.compiled.train_step()?;
        for p in &mut self.params {
            // gradients of the weights, the updated running statistics of the buffers
            let (src, dst) = if p.trainable { (self.compiled.grad(&p.name)?, &mut p.grad) } else { (self.compiled.state(&p.name)?, &mut p.value) };
            dst.clear();
            dst.extend_from_slice(src);
        }
        let term = |m: &Model, name: &str| m.output(name).ok().and_then(|v| v.first().copied()).unwrap_or(f32::NAN);
        Ok(LossTerms { objectness: term(&self.compiled, TERMS[0]), class: term(&self.compiled, TERMS[1]), boxes: term(&self.compiled, TERMS[2]), total })
    }

    /// Raw head outputs `[n, A * (5 + C), G, G]` in eval mode.
    pub fn predict(&mut self, x: &[f32], n: usize) -> Result<Vec<f32>, DetectorError> {
        self.load(x, n)?;
        self.compiled.evaluate()?;
        Ok(self.compiled.output(OUT_RAW)?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    /// The loss graph alone, the head output a parameter: loss and its gradient.
    fn loss_model(s: &DetectorShape) -> Model {
        let mut g = Graph::new();
        let p = g.param("raw", &[s.anchors * s.per_anchor(), GRID, GRID]).unwrap();
        let p = g.expand(p, 0, batch_dim()).unwrap();
        let raw = g.contiguous(p);
        let [o, c, b] = loss_terms(&mut g, s, raw).unwrap();
        let wb = g.mul_scalar(b, s.box_weight).unwrap();
        let l = g.add(o, c).unwrap();
        let loss = g.add(l, wb).unwrap();
        let spec = ModelSpec { loss, train_outputs: vec![], eval_outputs: vec![], state_updates: vec![] };
        Model::compile(g, spec).unwrap()
    }

    /// One anchor, two classes; cell 0 positive (class index 1, codes
    /// (0.5, -0.25, 0.1, 0)), cell 1 a negative of weight 0.5, the rest ignored.
    fn tiny_targets() -> Targets {
        let cells = GRID * GRID;
        let mut t = Targets {
            matched: vec![None; cells],
            objectness: vec![0.0; cells],
            weight: vec![0.0; cells],
            boxes: vec![0.0; 4 * cells],
            box_mask: vec![0.0; 4 * cells],
            classes: vec![0.0; 2 * cells],
        };
        t.objectness[0] = 1.0;
        t.weight[0] = 1.0;
        t.weight[1] = 0.5;
        for (c, v) in [0.5, -0.25, 0.1, 0.0].into_iter().enumerate() {
            t.boxes[c * cells] = v;
            t.box_mask[c * cells] = 1.0;
        }
        t.classes[cells] = 1.0;
        t
    }

    fn set_targets(m: &mut Model, t: &Targets) {
        m.set_input("objectness", &t.objectness).unwrap();
        m.set_input("weight", &t.weight).unwrap();
        m.set_input("boxes", &t.boxes).unwrap();
        m.set_input("box_mask", &t.box_mask).unwrap();
        m.set_input("classes", &t.classes).unwrap();
    }

    #[test]
    fn loss_of_a_tiny_case_by_hand_and_its_gradient() {
        let s = DetectorShape { image: 64, anchors: 1, classes: 2, base: 1, box_weight: 2.0 };
        let cells = GRID * GRID;
        let mut m = loss_model(&s);
        m.set_batch(1).unwrap();
        let t = tiny_targets();
        set_targets(&mut m, &t);
        // all logits zero: BCE ln 2 on weights 1 + 0.5, CE ln 2, L1 0.5 + 0.25 + 0.1 times 2
        m.set_param("raw", &vec![0.0; 7 * cells]).unwrap();
        let l0 = m.train_step().unwrap() as f64;
        let hand = 1.5 * 2f64.ln() + 2f64.ln() + 2.0 * 0.85;
        assert!((l0 - hand).abs() < 1e-5, "{l0} vs {hand}");
        // now objectness 2 at cell 0, -1 at cell 1, class logits (1, 3), codes (0, 0, 0.5, 0.5)
        let mut raw = vec![0f32; 7 * cells];
        raw[0] = 2.0;
        raw[1] = -1.0;
        raw[3 * cells] = 0.5;
        raw[4 * cells] = 0.5;
        raw[5 * cells] = 1.0;
        raw[6 * cells] = 3.0;
        m.set_param("raw", &raw).unwrap();
        let l1 = m.train_step().unwrap() as f64;
        let bce = |x: f64, y: f64| x.max(0.0) - x * y + (1.0 + (-x.abs()).exp()).ln();
        let ce = -(3.0 - (1f64.exp() + 3f64.exp()).ln());
        let l1_box = 0.5 + 0.25 + 0.4 + 0.5;
        let hand = bce(2.0, 1.0) + 0.5 * bce(-1.0, 0.0) + ce + 2.0 * l1_box;
        assert!((l1 - hand).abs() < 1e-5, "{l1} vs {hand}");
        // gradient against central differences at random values
        let mut rng = SeededRng::new(5);
        let raw: Vec<f32> = (0..7 * cells).map(|_| rng.normal() as f32 * 0.7).collect();
        m.set_param("raw", &raw).unwrap();
        m.train_step().unwrap();
        let grad = m.grad("raw").unwrap().to_vec();
        for &i in &[0, 1, 2, cells, 2 * cells, 4 * cells, 5 * cells, 6 * cells, 6 * cells + 1] {
            let h = 1e-2f32;
            let mut p = raw.clone();
            p[i] += h;
            m.set_param("raw", &p).unwrap();
            let up = m.train_step().unwrap() as f64;
            p[i] -= 2.0 * h;
            m.set_param("raw", &p).unwrap();
            let down = m.train_step().unwrap() as f64;
            let fd = (up - down) / (2.0 * h as f64);
            assert!((fd - grad[i] as f64).abs() < 2e-3 * (1.0 + fd.abs()), "raw[{i}]: {fd} vs {}", grad[i]);
        }
    }
}
