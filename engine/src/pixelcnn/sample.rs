//! Sequential sampling, one pixel at a time in raster order: run the net on
//! the current canvases, draw pixel `pos` of each from its Bernoulli
//! probability, write it, move on. A full image costs one forward pass per
//! pixel (nothing is cached), which is what makes the step API cheap to
//! animate: the UI calls [`Sampler::step`] as often as its speed allows.

use crate::rng::SeededRng;

use super::PixelCnnError;
use super::model::PixelCnn;

#[derive(Clone)]
pub struct Sampler {
    count: usize,
    pixels: usize,
    side: usize,
    canvas: Vec<f32>,
    pos: usize,
    rng: SeededRng,
    /// The net's probabilities on the canvases before the last step.
    last_probs: Vec<f32>,
}

impl Sampler {
    /// `count` blank canvases of `side x side`; the draws come from `seed`.
    pub fn new(count: usize, side: usize, seed: u64) -> Result<Sampler, PixelCnnError> {
        if count == 0 || side == 0 {
            return Err(PixelCnnError::Input(format!("{count} samples of side {side}: both must be at least 1")));
        }
        let pixels = side * side;
        Ok(Sampler { count, pixels, side, canvas: vec![0.0; count * pixels], pos: 0, rng: SeededRng::new(seed), last_probs: vec![] })
    }

    pub fn count(&self) -> usize {
        self.count
    }

    pub fn side(&self) -> usize {
        self.side
    }

    /// Pixels already drawn: the next one is (pos / side, pos % side).
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn done(&self) -> bool {
        self.pos >= self.pixels
    }

    /// `[count, pixels]`, 0 or 1 before `pos`, 0 after.
    pub fn canvas(&self) -> &[f32] {
        &self.canvas
    }

    /// The probability map of the last step's forward pass, `[count, pixels]`
    /// (empty before the first step). Exact conditionals only at the pixel
    /// that step drew: later pixels saw zeros where nothing is drawn yet.
    pub fn last_probs(&self) -> &[f32] {
        &self.last_probs
    }

    /// p(x = 1 | previous pixels) of the pixel the last step drew, per sample.
    pub fn last_pixel_probs(&self) -> Vec<f32> {
        let Some(p) = self.pos.checked_sub(1) else { return vec![] };
        (0..self.count).filter_map(|s| self.last_probs.get(s * self.pixels + p).copied()).collect()
    }

    /// The net's probabilities for the next pixel of every sample, from the
    /// current canvases (one forward pass; nothing is drawn).
    pub fn peek(&self, model: &mut PixelCnn) -> Result<Vec<f32>, PixelCnnError> {
        self.check(model)?;
        let probs = model.probs(&self.canvas, self.count)?;
        Ok((0..self.count).filter_map(|s| probs.get(s * self.pixels + self.pos).copied()).collect())
    }

    fn check(&self, model: &PixelCnn) -> Result<(), PixelCnnError> {
        if model.pixels() != self.pixels {
            return Err(PixelCnnError::Input(format!("the model draws {} pixels, the canvases have {}", model.pixels(), self.pixels)));
        }
        Ok(())
    }

    /// Draw one pixel of every sample. Returns false when all were drawn.
    pub fn step(&mut self, model: &mut PixelCnn) -> Result<bool, PixelCnnError> {
        if self.done() {
            return Ok(false);
        }
        self.check(model)?;
        let probs = model.probs(&self.canvas, self.count)?;
        for s in 0..self.count {
            let i = s * self.pixels + self.pos;
            let p = probs.get(i).copied().unwrap_or(0.0);
            if let Some(c) = self.canvas.get_mut(i) {
                *c = if (self.rng.uniform() as f32) < p { 1.0 } else { 0.0 };
            }
        }
        self.last_probs = probs;
        self.pos += 1;
        Ok(true)
    }

    /// Draw every remaining pixel.
    pub fn finish(&mut self, model: &mut PixelCnn) -> Result<(), PixelCnnError> {
        while self.step(model)? {}
        Ok(())
    }
}
