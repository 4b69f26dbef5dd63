//! The sliders of random augmentation (crop and scale, flip, shift,
//! rotation, cutout), shared by the datasets lab's preview and the
//! training lab's settings.

use vislab_engine::data::augment::Augment;

/// Draw the sliders; true when any changed.
pub fn sliders(ui: &mut egui::Ui, a: &mut Augment) -> bool {
    let mut changed = ui.add(egui::Slider::new(&mut a.min_scale, 0.2..=1.0).text("smallest crop")).changed();
    changed |= ui.add(egui::Slider::new(&mut a.max_shift, 0..=8).text("largest shift (px)")).changed();
    changed |= ui.add(egui::Slider::new(&mut a.max_degrees, 0.0..=180.0).text("largest rotation (deg)")).changed();
    changed |= ui.add(egui::Slider::new(&mut a.cutout, 0..=16).text("cutout side (px)")).changed();
    changed |= ui.checkbox(&mut a.flip, "random flip").changed();
    changed
}
