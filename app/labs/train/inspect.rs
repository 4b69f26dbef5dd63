//! The results and layer views of the training lab: confusion matrix,
//! misclassified test images with their scores, first-layer filters,
//! activation maps of every layer for one image, activation and gradient
//! histograms, receptive fields. Images are built once per report.

use std::sync::Arc;

use egui_plot::{Legend, Line, Plot, PlotPoints};

use vislab_engine::models::{LayerGeometry, receptive_fields};
use vislab_engine::train::LayerProbe;
use vislab_engine::train::report::Report;

use super::Splits;
use crate::render::colormap::Colormap;
use crate::render::image::ScalarImage;
use crate::widgets::confusion::confusion_matrix;
use crate::widgets::gallery::{UNIT_RANGE, tile, unit_image};
use crate::widgets::histogram::histogram;
use crate::widgets::legend::fmt_value;

/// Most misclassified images and filters shown.
const MAX_TILES: usize = 48;
/// Channels shown per layer.
const MAX_CHANNELS: usize = 16;
const WRONG: egui::Color32 = egui::Color32::from_rgb(220, 60, 60);
const RIGHT: egui::Color32 = egui::Color32::from_rgb(60, 180, 90);

/// One layer's output for the chosen image, as tiles.
pub struct LayerMaps {
    pub name: String,
    pub shape: Vec<usize>,
    pub range: [f32; 2],
    pub tiles: Vec<Arc<ScalarImage>>,
}

#[derive(Default)]
pub struct Visuals {
    pub geometry: Vec<LayerGeometry>,
    filters: Vec<Arc<ScalarImage>>,
    filter_name: String,
    /// (test index, image) of misclassified images, most confident first.
    gallery: Vec<(usize, Arc<ScalarImage>)>,
    /// Confusion cell whose images the gallery shows (None: all mistakes).
    cell: Option<(usize, usize)>,
    input: Option<Arc<ScalarImage>>,
    maps: Vec<LayerMaps>,
}

/// Values scaled to [0, 1] by their own min and max (a flat map is mid-grey).
fn normalized(v: &[f32]) -> (Vec<f32>, [f32; 2]) {
    let (lo, hi) = v.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    // also catches NaN and empty input
    if !(hi > lo) {
        return (vec![0.5; v.len()], [lo, hi]);
    }
    (v.iter().map(|x| (x - lo) / (hi - lo)).collect(), [lo, hi])
}

/// Weights around zero: 0.5 is zero, 0 and 1 the largest magnitude.
fn signed(v: &[f32]) -> Vec<f32> {
    let m = v.iter().fold(0f32, |a, x| a.max(x.abs())).max(1e-12);
    v.iter().map(|x| 0.5 + 0.5 * x / m).collect()
}

/// A sample `[C, H, W]` as a grey image (mean over channels).
fn sample_image(x: &[f32], image: [usize; 3]) -> Arc<ScalarImage> {
    let [c, h, w] = image;
    let plane = h * w;
    let grey: Vec<f32> = (0..plane).map(|i| (0..c).map(|k| x.get(k * plane + i).copied().unwrap_or(0.0)).sum::<f32>() / c.max(1) as f32).collect();
    unit_image(w, h, &grey)
}

/// A vector of features as a near-square image.
fn feature_image(v: &[f32]) -> Arc<ScalarImage> {
    let side = (v.len() as f32).sqrt().ceil().max(1.0) as usize;
    let rows = v.len().div_ceil(side).max(1);
    let mut vals = v.to_vec();
    vals.resize(side * rows, 0.0);
    unit_image(side, rows, &vals)
}

impl Visuals {
    /// Rebuild every image from `r`.
    pub fn update(&mut self, r: &Report, d: &Splits) {
        self.filters.clear();
        self.filter_name.clear();
        if let Some(p) = &r.first_layer {
            self.filter_name = format!("{} {:?}", p.name, p.shape);
            let rows = p.shape.first().copied().unwrap_or(0);
            let per = p.value.len() / rows.max(1);
            for row in p.value.chunks(per.max(1)).take(MAX_TILES) {
                let img = match p.shape.as_slice() {
                    // conv kernel [Cin, k, k]: mean over input channels
                    [_, cin, kh, kw] => {
                        let plane = kh * kw;
                        let m: Vec<f32> = (0..plane).map(|i| (0..*cin).map(|c| row.get(c * plane + i).copied().unwrap_or(0.0)).sum::<f32>() / *cin.max(&1) as f32).collect();
                        unit_image(*kw, *kh, &signed(&m))
                    }
                    // a fully connected row over the whole image: a template
                    _ if per == d.image.iter().product::<usize>() => sample_image(&signed(row), d.image),
                    _ => feature_image(&signed(row)),
                };
                self.filters.push(img);
            }
        }
        self.gallery = r
            .misclassified
            .iter()
            .filter(|&&i| self.cell.is_none_or(|(t, p)| d.test.y().get(i) == Some(&t) && r.predicted.get(i) == Some(&p)))
            .take(MAX_TILES)
            .filter_map(|&i| d.test.get(i).map(|(x, _)| (i, sample_image(x, d.image))))
            .collect();
        self.input = d.test.get(r.chosen).map(|(x, _)| sample_image(x, d.image));
        self.maps = r.maps.iter().map(layer_maps).collect();
    }
}

fn layer_maps(p: &LayerProbe) -> LayerMaps {
    let (vals, range) = normalized(&p.values);
    let tiles = match p.sample_shape.as_slice() {
        [c, h, w] => vals.chunks((h * w).max(1)).take((*c).min(MAX_CHANNELS)).map(|ch| unit_image(*w, *h, ch)).collect(),
        _ => vec![feature_image(&vals)],
    };
    LayerMaps { name: p.name.clone(), shape: p.sample_shape.clone(), range, tiles }
}

/// Lay `items` out in rows of as many as fit, each `item_width` wide
/// (egui's wrapping layout cannot wrap child groups of unknown size).
fn rows<T>(ui: &mut egui::Ui, items: &[T], item_width: f32, mut show: impl FnMut(&mut egui::Ui, &T)) {
    let gap = ui.spacing().item_spacing.x;
    let per_row = ((ui.available_width() + gap) / (item_width + gap)).floor().max(1.0) as usize;
    for chunk in items.chunks(per_row) {
        ui.horizontal_top(|ui| {
            for it in chunk {
                show(ui, it);
            }
        });
    }
}

/// Standard deviation of each layer's activations and gradients on a log
/// scale: vanishing or exploding signals (e.g. tanh with a too small
/// initialization) show as a falling line.
fn spread_plot(ui: &mut egui::Ui, r: &Report) {
    let log = |v: f32| (v.max(1e-30) as f64).log10();
    let acts: Vec<[f64; 2]> = r.layers.iter().enumerate().map(|(i, l)| [(i + 1) as f64, log(l.activations.std)]).collect();
    let grads: Vec<[f64; 2]> = r.layers.iter().enumerate().filter_map(|(i, l)| Some([(i + 1) as f64, log(l.grads.as_ref()?.std)])).collect();
    let names: Vec<String> = r.layers.iter().enumerate().map(|(i, l)| format!("{} {}", i + 1, l.name)).collect();
    ui.label(egui::RichText::new(format!("log10 std per layer: {}", names.join(", "))).small());
    Plot::new("layer-spread").height(110.0).legend(Legend::default()).x_axis_label("layer").y_axis_label("log10 std").show(ui, |p| {
        p.line(Line::new("activations", PlotPoints::from(acts)).color(egui::Color32::from_rgb(66, 133, 244)).width(2.0));
        p.line(Line::new("gradients", PlotPoints::from(grads)).color(egui::Color32::from_rgb(234, 67, 53)).width(2.0));
    });
}

/// The label of a class.
fn name(d: &Splits, c: usize) -> String {
    d.names.get(c).cloned().unwrap_or_else(|| c.to_string())
}

/// Confusion matrix, misclassified gallery and first-layer filters.
/// Returns a test image the user clicked.
pub fn results(ui: &mut egui::Ui, r: &Report, d: &Splits, v: &mut Visuals) -> Option<usize> {
    let mut chosen = None;
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            let c = &r.confusion;
            ui.label(egui::RichText::new(format!("confusion matrix on {} test images: accuracy {:.2}%", c.total(), 100.0 * c.accuracy())).strong());
            let side = (ui.available_height() - 40.0).min(ui.available_width() * 0.45).max(160.0);
            if let Some(cell) = confusion_matrix(ui, c, &d.names, side) {
                v.cell = if v.cell == Some(cell) || cell.0 == cell.1 { None } else { Some(cell) };
                v.update(r, d);
            }
            ui.label(egui::RichText::new("click an off-diagonal cell to see its images").small());
        });
        let rest = ui.available_width();
        ui.vertical(|ui| {
            ui.set_max_width(rest);
            let what = match v.cell {
                Some((t, p)) => format!("test images of {} classified as {}", name(d, t), name(d, p)),
                None => format!("misclassified test images ({} in all), most confident first", r.misclassified.len()),
            };
            ui.label(egui::RichText::new(what).strong());
            rows(ui, &v.gallery, 56.0, |ui, (i, img)| {
                let (truth, pred) = (d.test.y().get(*i).copied().unwrap_or(0), r.predicted.get(*i).copied().unwrap_or(0));
                let score = r.scores_of(*i).get(pred).copied().unwrap_or(0.0);
                let caption = format!("{} as {} {:.0}%", name(d, truth), name(d, pred), 100.0 * score);
                ui.vertical(|ui| {
                    ui.set_width(56.0);
                    if tile(ui, img, 44.0, UNIT_RANGE, Colormap::Gray, Some(WRONG), &caption).clicked() {
                        chosen = Some(*i);
                    }
                });
            });
            ui.separator();
            ui.label(egui::RichText::new(format!("first-layer weights {} (grey is zero)", v.filter_name)).strong());
            rows(ui, &v.filters, 36.0, |ui, img| {
                tile(ui, img, 36.0, UNIT_RANGE, Colormap::Gray, None, "");
            });
        });
    });
    chosen
}

/// The chosen image, every layer's activation maps, histograms and
/// receptive fields. Returns another image to show, if picked.
pub fn layers(ui: &mut egui::Ui, r: &Report, d: &Splits, v: &Visuals) -> Option<usize> {
    let mut chosen = None;
    let (truth, pred) = (d.test.y().get(r.chosen).copied().unwrap_or(0), r.predicted.get(r.chosen).copied().unwrap_or(0));
    ui.horizontal(|ui| {
        if let Some(img) = &v.input {
            let frame = if truth == pred { RIGHT } else { WRONG };
            tile(ui, img, 72.0, UNIT_RANGE, Colormap::Gray, Some(frame), "");
        }
        ui.vertical(|ui| {
            let score = r.scores_of(r.chosen).get(pred).copied().unwrap_or(0.0);
            ui.label(egui::RichText::new(format!("test image {}: a {}, predicted {} ({:.1}%)", r.chosen, name(d, truth), name(d, pred), 100.0 * score)).strong());
            let mut i = r.chosen;
            if ui.add(egui::Slider::new(&mut i, 0..=d.test.len().saturating_sub(1)).text("test image")).changed() {
                chosen = Some(i);
            }
            if ui.button("Next mistake").clicked() {
                chosen = r.misclassified.iter().copied().find(|&m| m > r.chosen).or(r.misclassified.first().copied());
            }
        });
    });
    ui.separator();
    let width = ui.available_width();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.set_max_width(width - 16.0);
        ui.label(egui::RichText::new("activations of each layer for this image (evaluation mode, each layer scaled to its own range)").strong());
        for m in &v.maps {
            ui.horizontal(|ui| {
                ui.vertical(|ui| {
                    ui.set_width(110.0);
                    ui.label(egui::RichText::new(&m.name).strong());
                    ui.label(egui::RichText::new(format!("{:?}\n{} .. {}", m.shape, fmt_value(m.range[0]), fmt_value(m.range[1]))).small());
                });
                let side = ((width - 140.0) / m.tiles.len().max(1) as f32 - ui.spacing().item_spacing.x).clamp(12.0, 44.0);
                for t in &m.tiles {
                    tile(ui, t, side, UNIT_RANGE, Colormap::Viridis, None, "");
                }
            });
        }
        ui.separator();
        ui.label(egui::RichText::new(format!("activation and gradient histograms per layer ({} training images, training mode)", d.probe.len())).strong());
        spread_plot(ui, r);
        rows(ui, &r.layers, 190.0, |ui, l| {
            ui.vertical(|ui| {
                ui.set_width(190.0);
                ui.label(egui::RichText::new(&l.name).strong());
                histogram(ui, &l.activations, egui::vec2(180.0, 50.0), egui::Color32::from_rgb(66, 133, 244), "activations");
                if let Some(g) = &l.grads {
                    histogram(ui, g, egui::vec2(180.0, 50.0), egui::Color32::from_rgb(234, 67, 53), "gradients");
                }
            });
        });
        ui.separator();
        ui.label(egui::RichText::new("receptive field of each layer: 1 + sum of (K - 1) x product of the earlier strides").strong());
        egui::Grid::new("receptive-fields").striped(true).show(ui, |ui| {
            for h in ["layer", "kernel", "stride", "receptive field"] {
                ui.label(egui::RichText::new(h).strong());
            }
            ui.end_row();
            for (g, rf) in v.geometry.iter().zip(receptive_fields(&v.geometry)) {
                ui.label(&g.name);
                ui.label(g.kernel.map_or("global".into(), |k| format!("{k}x{k}")));
                ui.label(g.stride.to_string());
                ui.label(rf.map_or("whole image".into(), |f| format!("{f}x{f} pixels")));
                ui.end_row();
            }
        });
    });
    chosen
}
