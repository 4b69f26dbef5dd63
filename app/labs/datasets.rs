//! Datasets: open MNIST / Fashion-MNIST idx files, CIFAR-10/100 batches or
//! an image folder (or use the built-in 8x8 digits), browse the samples
//! with their labels, see class counts, the train / validation / test split
//! and the k-fold setup, the per-channel mean and std of the training
//! split, and every augmentation applied to a chosen sample.

use std::sync::Arc;

use egui_plot::{Bar, BarChart, Legend, Plot};
use vislab_engine::data::augment::{self, Augment};
use vislab_engine::data::split::{self, ChannelStats};
use vislab_engine::data::{Dataset, Loaded, Source};
use vislab_engine::job::Task;
use vislab_engine::rng::SeededRng;

use super::{Lab, LabInfo};
use crate::render::image::ScalarImage;
use crate::widgets::data_picker::DataPicker;
use crate::widgets::gallery;
use crate::widgets::regions::class_color;

const PER_PAGE: usize = 36;

/// Split settings the statistics were computed for.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SplitSettings {
    val: f32,
    test: f32,
    stratify: bool,
    seed: u64,
    folds: usize,
}

/// What a split gives: part sizes, per-part class counts, the training
/// split's channel statistics, and each fold's validation size.
struct SplitInfo {
    sizes: [usize; 3],
    counts: [Vec<usize>; 3],
    stats: ChannelStats,
    fold_sizes: Vec<usize>,
}

/// Split the source's training samples (the test part comes from the
/// source when it has its own) and measure the parts.
fn split_info(l: &Loaded, s: SplitSettings) -> Result<SplitInfo, String> {
    let own_test = l.test.is_some();
    let parts = split::split_indices(l.train.y(), s.val, if own_test { 0.0 } else { s.test }, s.seed, s.stratify).map_err(|e| e.to_string())?;
    let count = |d: &Dataset, idx: &[usize]| {
        let mut c = vec![0; d.num_classes()];
        for &i in idx {
            if let Some(slot) = d.y().get(i).and_then(|&y| c.get_mut(y)) {
                *slot += 1;
            }
        }
        c
    };
    let (test_size, test_counts) = match &l.test {
        Some(t) => (t.len(), t.class_counts()),
        None => (parts.test.len(), count(&l.train, &parts.test)),
    };
    let stats = ChannelStats::of_samples(&l.train, &parts.train).map_err(|e| e.to_string())?;
    let train_labels: Vec<usize> = parts.train.iter().filter_map(|&i| l.train.y().get(i).copied()).collect();
    let folds = split::kfold(&train_labels, s.folds, s.seed, s.stratify).map_err(|e| e.to_string())?;
    Ok(SplitInfo {
        sizes: [parts.train.len(), parts.val.len(), test_size],
        counts: [count(&l.train, &parts.train), count(&l.train, &parts.val), test_counts],
        stats,
        fold_sizes: folds.iter().map(|f| f.val.len()).collect(),
    })
}

pub struct DatasetsLab {
    picker: DataPicker,
    name: String,
    data: Option<Arc<Loaded>>,
    loading: Option<Task<Result<(String, Loaded), String>>>,
    split: SplitSettings,
    info: Option<SplitInfo>,
    measuring: Option<Task<Result<SplitInfo, String>>>,
    page: usize,
    /// Only samples of this class in the browser.
    class_filter: Option<usize>,
    tiles: Vec<(Arc<ScalarImage>, usize, usize)>,
    chosen: usize,
    augment: Augment,
    mixup_alpha: f32,
    aug_seed: u64,
    /// (caption, image) of the chosen sample and its augmentations.
    augmented: Vec<(String, Arc<ScalarImage>)>,
    status: String,
}

impl Default for DatasetsLab {
    fn default() -> Self {
        Self::new()
    }
}

impl DatasetsLab {
    pub fn new() -> Self {
        let mut lab = DatasetsLab {
            picker: DataPicker::default(),
            name: String::new(),
            data: None,
            loading: None,
            split: SplitSettings { val: 0.1, test: 0.1, stratify: true, seed: 1, folds: 5 },
            info: None,
            measuring: None,
            page: 0,
            class_filter: None,
            tiles: Vec::new(),
            chosen: 0,
            augment: Augment { min_scale: 0.6, flip: true, max_shift: 2, max_degrees: 20.0, cutout: 3 },
            mixup_alpha: 0.4,
            aug_seed: 1,
            augmented: Vec::new(),
            status: String::new(),
        };
        match Source::Digits.load() {
            Ok(l) => lab.set_data("built-in 8x8 digits".into(), l),
            Err(e) => lab.status = format!("could not load the digits: {e}"),
        }
        lab
    }

    fn set_data(&mut self, name: String, l: Loaded) {
        self.name = name;
        self.data = Some(Arc::new(l));
        self.page = 0;
        self.class_filter = None;
        self.chosen = 0;
        self.status.clear();
        self.remeasure();
        self.refresh_tiles();
        self.refresh_augmented();
    }

    fn load(&mut self, source: Source) {
        let name = match &source {
            Source::Digits => "built-in 8x8 digits".to_string(),
            s => format!("{} ({})", s.kind(), self.picker.path.trim()),
        };
        self.loading = Some(Task::spawn("vislab-datasets", move |_| source.load().map(|l| (name, l)).map_err(|e| e.to_string())));
        self.status = "loading".into();
    }

    fn remeasure(&mut self) {
        let Some(l) = self.data.clone() else { return };
        let s = self.split;
        self.measuring = Some(Task::spawn("vislab-datasets", move |_| split_info(&l, s)));
    }

    fn poll(&mut self) {
        if let Some(r) = self.loading.as_ref().and_then(Task::poll) {
            self.loading = None;
            match r {
                Ok(Ok((name, l))) => self.set_data(name, l),
                // a failed load keeps what was open
                Ok(Err(e)) => self.status = format!("could not load: {e}"),
                Err(e) => self.status = format!("the loader stopped unexpectedly: {e}"),
            }
        }
        if let Some(r) = self.measuring.as_ref().and_then(Task::poll) {
            self.measuring = None;
            match r {
                Ok(Ok(info)) => self.info = Some(info),
                Ok(Err(e)) => self.status = format!("split: {e}"),
                Err(e) => self.status = format!("the split worker stopped unexpectedly: {e}"),
            }
        }
    }

    /// Indices of the samples the browser shows (all, or one class).
    fn browsed(&self) -> Vec<usize> {
        let Some(l) = &self.data else { return Vec::new() };
        match self.class_filter {
            None => (0..l.train.len()).collect(),
            Some(c) => l.train.y().iter().enumerate().filter(|(_, y)| **y == c).map(|(i, _)| i).collect(),
        }
    }

    fn refresh_tiles(&mut self) {
        self.tiles.clear();
        let Some(l) = self.data.clone() else { return };
        let shape = l.train.sample_shape().to_vec();
        for i in self.browsed().into_iter().skip(self.page * PER_PAGE).take(PER_PAGE) {
            if let Some((x, y)) = l.train.get(i) {
                self.tiles.push((gallery::sample_image(&shape, x), y, i));
            }
        }
    }

    fn image_shape(d: &Dataset) -> Option<augment::Shape> {
        match *d.sample_shape() {
            [c, h, w] => Some([c, h, w]),
            [h, w] => Some([1, h, w]),
            _ => None,
        }
    }

    /// The chosen sample, each augmentation alone, mixup, and all together.
    fn refresh_augmented(&mut self) {
        self.augmented.clear();
        let Some(l) = self.data.clone() else { return };
        let d = &l.train;
        let (Some(s), Some((x, y))) = (Self::image_shape(d), d.get(self.chosen)) else { return };
        let shape = d.sample_shape().to_vec();
        let a = self.augment;
        let seed = self.aug_seed;
        let only = |part: Augment| part.apply(x, s, &mut SeededRng::new(seed));
        let off = Augment::default();
        let mut out = vec![("original".to_string(), x.to_vec())];
        out.push((format!("crop {:.0}%..100%", 100.0 * a.min_scale), only(Augment { min_scale: a.min_scale, ..off })));
        out.push(("flip".into(), augment::hflip(x, s)));
        out.push((format!("shift up to {} px", a.max_shift), only(Augment { max_shift: a.max_shift, ..off })));
        out.push((format!("rotate up to {:.0} deg", a.max_degrees), only(Augment { max_degrees: a.max_degrees, ..off })));
        out.push((format!("cutout {} px", a.cutout), only(Augment { cutout: a.cutout, ..off })));
        // mixup with the next sample of another class
        let other = (1..d.len()).map(|k| (self.chosen + k) % d.len()).find(|&j| d.get(j).is_some_and(|(_, yj)| yj != y));
        if let Some((xo, yo)) = other.and_then(|j| d.get(j)) {
            let (img, _, lambda) = augment::mixup((x, y), (xo, yo), d.num_classes(), self.mixup_alpha, &mut SeededRng::new(seed));
            out.push((format!("mixup {lambda:.2} / {:.2}", 1.0 - lambda), img));
        }
        for k in 0..4 {
            out.push((format!("all, seed {}", seed + k), a.apply(x, s, &mut SeededRng::new(seed + k))));
        }
        self.augmented = out.into_iter().map(|(c, v)| (c, gallery::sample_image(&shape, &v))).collect();
    }

    fn class_name(&self, c: usize) -> String {
        self.data.as_ref().and_then(|l| l.classes.get(c).cloned()).unwrap_or_else(|| c.to_string())
    }

    fn counts_plot(&self, ui: &mut egui::Ui, height: f32) {
        let Some(info) = &self.info else { return };
        let chart = |k: usize, name: &str| {
            let bars = info.counts[k].iter().enumerate().map(|(c, &n)| Bar::new(c as f64, n as f64).width(0.8)).collect();
            BarChart::new(name, bars).color(crate::widgets::curves::palette(k))
        };
        // stacked: train, then validation on top, then test
        let train = chart(0, "train");
        let val = chart(1, "validation").stack_on(&[&train]);
        let test = chart(2, "test").stack_on(&[&train, &val]);
        Plot::new("class-counts").height(height).legend(Legend::default()).x_axis_label("class").y_axis_label("samples").show(ui, |p| {
            p.add(train);
            p.add(val);
            p.add(test);
        });
    }

    fn split_text(&self) -> Option<String> {
        let info = self.info.as_ref()?;
        let [tr, va, te] = info.sizes;
        let own = self.data.as_ref().is_some_and(|l| l.test.is_some());
        let (fmin, fmax) = (info.fold_sizes.iter().min()?, info.fold_sizes.iter().max()?);
        let f = |v: &[f32]| v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(", ");
        Some(format!(
            "train {tr} / validation {va} / test {te}{} · {}-fold on train: validation folds of {fmin}..{fmax} · train mean [{}] std [{}]",
            if own { " (the source's own test split)" } else { "" },
            info.fold_sizes.len(),
            f(&info.stats.mean),
            f(&info.stats.std)
        ))
    }
}

impl Lab for DatasetsLab {
    fn info(&self) -> LabInfo {
        LabInfo { name: "datasets", title: "Datasets", section: "Classification" }
    }

    fn claims_file(&self, path: &std::path::Path) -> bool {
        super::is_dataset(path)
    }

    fn open_file(&mut self, path: &std::path::Path) {
        match self.picker.open(path) {
            Ok(source) => self.load(source),
            Err(e) => self.status = format!("could not load: {e}"),
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        self.poll();
        ui.add_enabled_ui(self.loading.is_none(), |ui| {
            if let Some(r) = self.picker.ui(ui) {
                match r {
                    Ok(s) => self.load(s),
                    Err(e) => self.status = format!("could not load: {e}"),
                }
            }
            if ui.button("Use the built-in 8x8 digits").clicked() {
                self.load(Source::Digits);
            }
        });
        if self.loading.is_some() {
            ui.add(egui::Spinner::new());
        }
        if !self.status.is_empty() {
            ui.colored_label(egui::Color32::from_rgb(220, 90, 60), &self.status);
        }
        ui.separator();
        if let Some(l) = &self.data {
            ui.label(egui::RichText::new(&self.name).strong());
            ui.label(format!("{} samples of shape {:?}, {} classes", l.train.len(), l.train.sample_shape(), l.train.num_classes()));
        }
        ui.label(egui::RichText::new("split").strong());
        let s = &mut self.split;
        let mut changed = ui.add(egui::Slider::new(&mut s.val, 0.0..=0.5).text("validation share")).changed();
        let own_test = self.data.as_ref().is_some_and(|l| l.test.is_some());
        changed |= ui.add_enabled(!own_test, egui::Slider::new(&mut s.test, 0.0..=0.4).text("test share")).changed();
        changed |= ui.checkbox(&mut s.stratify, "stratified by class").changed();
        changed |= ui.add(egui::Slider::new(&mut s.seed, 0..=100).text("split seed")).changed();
        changed |= ui.add(egui::Slider::new(&mut s.folds, 2..=10).text("folds")).changed();
        if changed {
            self.remeasure();
        }
        if let Some(t) = self.split_text() {
            ui.label(t);
        }
        ui.separator();
        ui.label(egui::RichText::new("augmentation").strong());
        let n = self.data.as_ref().map_or(1, |l| l.train.len());
        let a = &mut self.augment;
        let mut aug = ui.add(egui::Slider::new(&mut self.chosen, 0..=n.saturating_sub(1)).text("sample")).changed();
        aug |= crate::widgets::augment::sliders(ui, a);
        aug |= ui.add(egui::Slider::new(&mut self.mixup_alpha, 0.05..=4.0).logarithmic(true).text("mixup alpha")).changed();
        aug |= ui.add(egui::Slider::new(&mut self.aug_seed, 0..=100).text("augmentation seed")).changed();
        if aug {
            self.refresh_augmented();
        }
        if self.busy() {
            ui.ctx().request_repaint();
        }
    }

    fn view(&mut self, ui: &mut egui::Ui) {
        self.poll();
        let Some(l) = self.data.clone() else {
            ui.label("no dataset open");
            return;
        };
        let shown = self.browsed().len();
        let pages = shown.div_ceil(PER_PAGE).max(1);
        let mut refresh = false;
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(format!("samples (page {} of {pages})", self.page + 1)).strong());
            if ui.add_enabled(self.page > 0, egui::Button::new("Previous page")).clicked() {
                self.page -= 1;
                refresh = true;
            }
            if ui.add_enabled(self.page + 1 < pages, egui::Button::new("Next page")).clicked() {
                self.page += 1;
                refresh = true;
            }
            let names: Vec<String> = (0..l.train.num_classes()).map(|c| self.class_name(c)).collect();
            let current = self.class_filter.and_then(|c| names.get(c).cloned()).unwrap_or_else(|| "all classes".into());
            egui::ComboBox::from_label("show").selected_text(current).show_ui(ui, |ui| {
                refresh |= ui.selectable_value(&mut self.class_filter, None, "all classes").changed();
                for (c, name) in names.iter().enumerate() {
                    refresh |= ui.selectable_value(&mut self.class_filter, Some(c), name.as_str()).changed();
                }
            });
        });
        if refresh {
            self.page = self.page.min(self.browsed().len().div_ceil(PER_PAGE).saturating_sub(1));
            self.refresh_tiles();
        }
        let mut pick = None;
        gallery::grid(ui, &self.tiles, 44.0, |ui, (img, y, i)| {
            let frame = if *i == self.chosen { egui::Color32::from_rgb(230, 160, 40) } else { class_color(*y) };
            if gallery::sample_tile(ui, img, 44.0, Some(frame), &self.class_name(*y)).clicked() {
                pick = Some(*i);
            }
        });
        if let Some(i) = pick {
            self.chosen = i;
            self.refresh_augmented();
        }
        ui.separator();
        ui.label(
            egui::RichText::new(format!("augmentations of sample {} ({})", self.chosen, l.train.get(self.chosen).map_or(String::new(), |(_, y)| self.class_name(y)))).strong(),
        );
        gallery::grid(ui, &self.augmented, 64.0, |ui, (caption, img)| {
            gallery::sample_tile(ui, img, 64.0, None, caption);
        });
        ui.separator();
        ui.label(egui::RichText::new("samples per class in each split").strong());
        let h = ui.available_height() - 8.0;
        self.counts_plot(ui, h.max(80.0));
    }

    fn summary(&self) -> String {
        let Some(l) = &self.data else { return self.status.clone() };
        let mut s = format!("{}: {} samples {:?}, {} classes", self.name, l.train.len(), l.train.sample_shape(), l.train.num_classes());
        if let Some(t) = self.split_text() {
            s += &format!(" · {t}");
        }
        if !self.status.is_empty() {
            s += &format!(" · {}", self.status);
        }
        s
    }

    fn busy(&self) -> bool {
        self.loading.is_some() || self.measuring.is_some()
    }
}
