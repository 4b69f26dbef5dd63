//! Greedy non-maximum suppression as a state machine: each step selects the
//! highest-scoring box still remaining, keeps it, and suppresses every
//! remaining box whose IoU with it is above the threshold (strictly, as
//! torchvision's `nms` does). Equal scores go in input order. Class-wise
//! NMS only lets a box suppress boxes of its own category (torchvision's
//! `batched_nms`); boxes on different images never suppress each other.

use super::ScoredBox;

/// Where a box stands after the steps taken so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BoxState {
    /// Not decided yet.
    Remaining,
    Kept,
    /// Suppressed by the kept box `by` (an input index) at this IoU.
    Suppressed {
        by: usize,
        iou: f64,
    },
}

/// One step: the box selected (and kept), and the boxes it suppressed with
/// their IoU against it; all input indices.
#[derive(Clone, Debug, PartialEq)]
pub struct NmsStep {
    pub selected: usize,
    pub suppressed: Vec<(usize, f64)>,
}

#[derive(Clone, Debug)]
pub struct Nms {
    boxes: Vec<ScoredBox>,
    threshold: f64,
    class_wise: bool,
    /// Input indices, highest score first (stable).
    order: Vec<usize>,
    /// Position in `order` from which to look for the next remaining box.
    cursor: usize,
    states: Vec<BoxState>,
    steps: Vec<NmsStep>,
}

impl Nms {
    pub fn new(boxes: Vec<ScoredBox>, threshold: f64, class_wise: bool) -> Self {
        let mut order: Vec<usize> = (0..boxes.len()).collect();
        order.sort_by(|&a, &b| boxes[b].score.total_cmp(&boxes[a].score));
        let states = vec![BoxState::Remaining; boxes.len()];
        Nms { boxes, threshold, class_wise, order, cursor: 0, states, steps: Vec::new() }
    }

    pub fn boxes(&self) -> &[ScoredBox] {
        &self.boxes
    }

    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn states(&self) -> &[BoxState] {
        &self.states
    }

    pub fn steps(&self) -> &[NmsStep] {
        &self.steps
    }

    /// The box the last step selected.
    pub fn current(&self) -> Option<usize> {
        self.steps.last().map(|s| s.selected)
    }

    /// Kept boxes in the order they were selected (highest score first).
    pub fn kept(&self) -> Vec<usize> {
        self.steps.iter().map(|s| s.selected).collect()
    }

    pub fn remaining(&self) -> usize {
        self.states.iter().filter(|s| **s == BoxState::Remaining).count()
    }

    pub fn is_done(&self) -> bool {
        self.remaining() == 0
    }

    /// Whether box `a` may suppress box `b` at all.
    fn competes(&self, a: usize, b: usize) -> bool {
        let (a, b) = (&self.boxes[a], &self.boxes[b]);
        a.image_id == b.image_id && (!self.class_wise || a.category == b.category)
    }

    /// Take one step; `None` once every box is kept or suppressed.
    pub fn step(&mut self) -> Option<&NmsStep> {
        while self.cursor < self.order.len() && self.states[self.order[self.cursor]] != BoxState::Remaining {
            self.cursor += 1;
        }
        let &selected = self.order.get(self.cursor)?;
        self.states[selected] = BoxState::Kept;
        let anchor = self.boxes[selected].bbox;
        let mut suppressed = Vec::new();
        for &j in &self.order[self.cursor + 1..] {
            if self.states[j] != BoxState::Remaining || !self.competes(selected, j) {
                continue;
            }
            let iou = anchor.iou(&self.boxes[j].bbox);
            if iou > self.threshold {
                self.states[j] = BoxState::Suppressed { by: selected, iou };
                suppressed.push((j, iou));
            }
        }
        self.steps.push(NmsStep { selected, suppressed });
        self.steps.last()
    }

    /// Take every remaining step.
    pub fn run(&mut self) {
        while self.step().is_some() {}
    }
}

impl Iterator for Nms {
    type Item = NmsStep;

    fn next(&mut self) -> Option<NmsStep> {
        self.step().cloned()
    }
}

/// Indices of the boxes greedy NMS keeps, highest score first.
pub fn nms(boxes: &[ScoredBox], threshold: f64, class_wise: bool) -> Vec<usize> {
    let mut n = Nms::new(boxes.to_vec(), threshold, class_wise);
    n.run();
    n.kept()
}
