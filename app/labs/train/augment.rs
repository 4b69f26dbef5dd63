//! The "Augmented batch" tab: the first training batch as stored and as
//! the trainer will see it at step 1 with the current augmentation and
//! seed (the same batch order and the same random stream), so a user sees
//! what an augmentation does before spending a run on it.

use std::sync::Arc;

use vislab_engine::data::augment::Augment;

use super::data::Splits;
use super::settings::Settings;
use crate::render::image::ScalarImage;
use crate::widgets::gallery;

/// Tiles shown of each batch.
const SHOWN: usize = 32;
const SIDE: f32 = 44.0;

type Tiles = Vec<(String, Arc<ScalarImage>)>;

#[derive(Default)]
pub(super) struct Preview {
    /// What the tiles were made for: (augmentation, seed, batch size, training images).
    made_for: Option<(Augment, u64, usize, usize)>,
    stored: Tiles,
    augmented: Tiles,
    error: Option<String>,
}

impl Preview {
    pub(super) fn show(&mut self, ui: &mut egui::Ui, d: &Splits, s: &Settings) {
        let key = (s.augment, s.seed, s.batch, d.train.len());
        if self.made_for != Some(key) {
            self.remake(d, s);
            self.made_for = Some(key);
        }
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::from_rgb(220, 90, 60), e);
            return;
        }
        ui.label(egui::RichText::new(format!("first training batch (seed {}), as stored", s.seed)).strong());
        gallery::grid(ui, &self.stored, SIDE, |ui, (c, img)| {
            gallery::sample_tile(ui, img, SIDE, None, c);
        });
        ui.separator();
        let what = if s.augment.is_identity() { "no augmentation chosen: the batch goes in as stored".to_string() } else { s.augment.to_string() };
        ui.label(egui::RichText::new(format!("as the trainer sees it at step 1: {what}")).strong());
        gallery::grid(ui, &self.augmented, SIDE, |ui, (c, img)| {
            gallery::sample_tile(ui, img, SIDE, None, c);
        });
    }

    fn remake(&mut self, d: &Splits, s: &Settings) {
        self.error = None;
        let config = s.config(&d.train);
        let first = d.train.shuffled_batches(config.batch_size, config.seed, 0, config.drop_last).map(|mut b| b.next());
        let Ok(Some(mut batch)) = first else {
            self.error = Some("the training set gives no batch".into());
            return;
        };
        let shape = d.train.sample_shape().to_vec();
        let tiles = |x: &[f32], y: &[usize]| -> Tiles {
            let len = shape.iter().product::<usize>().max(1);
            x.chunks(len).zip(y).take(SHOWN).map(|(v, &c)| (d.names.get(c).cloned().unwrap_or_else(|| c.to_string()), gallery::sample_image(&shape, v))).collect()
        };
        self.stored = tiles(&batch.x, &batch.y);
        if let Err(e) = s.augment.apply_batch(&mut batch, &mut config.augment_rng(0)) {
            self.error = Some(format!("cannot augment these samples: {e}"));
            return;
        }
        self.augmented = tiles(&batch.x, &batch.y);
    }
}
