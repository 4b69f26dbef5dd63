//! Labs: one module each behind the `Lab` trait. `all()` is the navigator's
//! list, in syllabus order; only labs that really work are in it.

use vislab_engine::geometry::Asset;

pub mod convert;
pub mod datasets;
pub mod depth;
pub mod depthpred;
pub mod detect;
pub mod gan;
pub mod gan_images;
pub mod gcn;
pub mod image_data;
pub mod implicit;
pub mod iou;
pub mod knn;
pub mod linear;
pub mod map;
pub mod mesh;
pub mod nms;
pub mod optimization;
pub mod pixelcnn;
pub mod points;
pub mod pytorch;
pub mod run;
pub mod segment;
pub mod shapes3d;
pub mod toy2d;
pub mod train;
pub mod upsample;
pub mod vae;
pub mod voxels;

/// How the navigator and the command line know a lab.
pub struct LabInfo {
    /// Short name, as `--lab` takes it.
    pub name: &'static str,
    pub title: &'static str,
    /// Syllabus section the navigator files it under.
    pub section: &'static str,
}

/// Everything the shell needs from a lab.
pub trait Lab {
    fn info(&self) -> LabInfo;
    fn name(&self) -> &'static str {
        self.info().name
    }
    fn title(&self) -> &'static str {
        self.info().title
    }
    fn section(&self) -> &'static str {
        self.info().section
    }
    /// Whether an opened file of this kind belongs in this lab.
    fn accepts(&self, _asset: &Asset) -> bool {
        false
    }
    /// Show an opened asset; `source` names where it came from.
    fn open(&mut self, _asset: Asset, _source: &str) {}
    /// Whether this lab reads the file itself: files that are no geometry
    /// `Asset` (COCO detection JSON), opened or dropped like any other.
    fn claims_file(&self, _path: &std::path::Path) -> bool {
        false
    }
    /// Read a claimed file (big ones on a worker thread); errors show in the lab.
    fn open_file(&mut self, _path: &std::path::Path) {}
    /// Controls, in the right-hand panel.
    fn controls(&mut self, ui: &mut egui::Ui);
    /// The lab's main view, in the central area.
    fn view(&mut self, ui: &mut egui::Ui);
    /// One line for the status bar: what is open.
    fn summary(&self) -> String;
    /// What is under the cursor (and any measurement), for the status bar.
    fn pick_info(&self) -> Option<String> {
        self.viewport().and_then(|v| v.pick_text())
    }
    /// The lab's 3D view, if it has one.
    fn viewport(&self) -> Option<&crate::render::viewport::Viewport3d> {
        None
    }
    /// The lab's 3D view, if it has one (benchmarks and tests drive it).
    fn viewport_mut(&mut self) -> Option<&mut crate::render::viewport::Viewport3d> {
        None
    }
    /// Work still running that a screenshot should wait for.
    fn busy(&self) -> bool {
        false
    }
}

/// Every lab, in syllabus order.
pub fn all() -> Vec<Box<dyn Lab>> {
    NEW.iter().map(|new| new()).collect()
}

/// A fresh lab, with its defaults, at `index` of [`all`].
pub fn fresh(index: usize) -> Option<Box<dyn Lab>> {
    NEW.get(index).map(|new| new())
}

/// The labs' constructors, in syllabus order.
static NEW: [fn() -> Box<dyn Lab>; 24] = [
    || Box::new(datasets::DatasetsLab::new()),
    || Box::new(knn::KnnLab::new()),
    || Box::new(linear::LinearLab::new()),
    || Box::new(optimization::OptimizationLab::new()),
    || Box::new(toy2d::Toy2dLab::new()),
    || Box::new(train::TrainLab::new()),
    || Box::new(iou::IouLab::new()),
    || Box::new(nms::NmsLab::new()),
    || Box::new(map::MapLab::new()),
    || Box::new(detect::DetectLab::new()),
    || Box::new(segment::SegmentLab::new()),
    || Box::new(upsample::UpsampleLab::new()),
    || Box::new(depth::DepthLab::new()),
    || Box::new(depthpred::DepthPredLab::new()),
    || Box::new(voxels::VoxelLab::new()),
    || Box::new(points::PointsLab::new()),
    || Box::new(mesh::MeshLab::new()),
    || Box::new(convert::ConvertLab::new()),
    || Box::new(implicit::ImplicitLab::new()),
    || Box::new(gcn::GcnLab::new()),
    || Box::new(shapes3d::Shapes3dLab::new()),
    || Box::new(vae::VaeLab::new()),
    || Box::new(gan::GanLab::new()),
    || Box::new(pixelcnn::PixelCnnLab::new()),
];

/// Whether the path names a JSON file (detection labs read these).
/// Whether a dropped or opened path is a dataset the data labs read: a
/// folder (MNIST idx files, CIFAR batches, one sub-folder per class), a
/// CIFAR batch, or an idx file.
pub fn is_dataset(path: &std::path::Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    path.is_dir() || name.ends_with(".bin") || name.contains("-idx")
}

pub fn is_json(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Load one of the engine's built-in scenes, or say why not.
pub fn builtin(name: &str) -> Option<Asset> {
    match vislab_engine::geometry::scenes::load(name) {
        Ok(a) => Some(a),
        Err(e) => {
            eprintln!("built-in scene {name}: {e}");
            None
        }
    }
}

/// How the status bar names a built-in scene.
pub fn builtin_source(name: &str) -> String {
    let title = vislab_engine::geometry::scenes::list().into_iter().find(|(n, _)| *n == name).map_or(name, |(_, t)| t);
    format!("built-in: {title}")
}

/// Built-in scene buttons shared by the 3D labs; returns the scene to open
/// and its source line.
pub fn builtin_picker(ui: &mut egui::Ui, names: &[&str]) -> Option<(Asset, String)> {
    let mut chosen = None;
    ui.label("Built-in scenes:");
    for (name, title) in vislab_engine::geometry::scenes::list() {
        if names.contains(&name) && ui.small_button(title).clicked() {
            chosen = builtin(name).map(|a| (a, builtin_source(name)));
        }
    }
    chosen
}
