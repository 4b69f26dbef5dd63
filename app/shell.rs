//! The window: lab navigator, menus, status bar, file opening (dialog,
//! drag and drop, command line), recent files, screenshots, persistence.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::Instant;

use vislab_engine::job::Task;

use serde::{Deserialize, Serialize};
use vislab_engine::geometry::{self, Asset};

use crate::labs::{self, Lab};

/// What survives between runs (window size is kept by eframe itself).
#[derive(Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    pub lab: String,
    pub recent: Vec<PathBuf>,
}

/// How the app was asked to start.
#[derive(Default, Clone)]
pub struct StartOptions {
    pub lab: Option<String>,
    pub open: Option<PathBuf>,
}

/// A file loading on a worker thread.
struct Loading {
    path: PathBuf,
    started: Instant,
    task: Task<Result<Asset, String>>,
}

pub struct VislabApp {
    labs: Vec<Box<dyn Lab>>,
    current: usize,
    /// The lab whose section the navigator last opened (a lab chosen by a
    /// dropped file opens its section too).
    nav_revealed: Option<usize>,
    recent: Vec<PathBuf>,
    loading: Option<Loading>,
    /// Last error, shown until dismissed; nothing open is lost by it.
    error: Option<String>,
    message: Option<String>,
    adapter: String,
    screenshot_rx: Option<(Receiver<std::sync::Arc<egui::ColorImage>>, String)>,
    frame_ms: f32,
    /// Off in snapshot tests: a varying frame time would shift the status bar.
    pub show_frame_time: bool,
}

const MAX_RECENT: usize = 10;

impl VislabApp {
    pub fn new(cc: &eframe::CreationContext<'_>, start: StartOptions) -> Self {
        let adapter = match &cc.wgpu_render_state {
            Some(rs) => {
                crate::render::renderer3d::install(rs);
                crate::render::image::install(rs);
                crate::render::mask::install(rs);
                let info = rs.adapter.get_info();
                format!("{} ({:?})", info.name, info.backend)
            }
            None => "no GPU adapter".to_owned(),
        };
        let persisted: Persisted = cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
        Self::with_persisted(adapter, start, persisted)
    }

    /// The app as a previous run left it (`new` reads this from eframe's storage).
    pub fn with_persisted(adapter: String, start: StartOptions, persisted: Persisted) -> Self {
        let labs = labs::all();
        let wanted = start.lab.as_deref().unwrap_or(&persisted.lab);
        let current = labs.iter().position(|l| l.name() == wanted).unwrap_or(0);
        let mut app = VislabApp {
            labs,
            current,
            nav_revealed: None,
            recent: persisted.recent,
            loading: None,
            error: None,
            message: None,
            adapter,
            screenshot_rx: None,
            frame_ms: 0.0,
            show_frame_time: true,
        };
        if let Some(p) = start.open {
            app.open_path(p);
        }
        app
    }

    /// What the next run starts from.
    pub fn persisted(&self) -> Persisted {
        Persisted { lab: self.current_lab().name().to_owned(), recent: self.recent.clone() }
    }

    pub fn current_lab(&self) -> &dyn Lab {
        self.labs[self.current].as_ref()
    }

    /// Whether loading or lab work is still under way.
    pub fn busy(&self) -> bool {
        self.loading.is_some() || self.current_lab().busy()
    }

    /// Put `fresh` in the current lab's place and hand back the old one
    /// (whose background work stops without being waited for once dropped).
    pub fn replace_lab(&mut self, fresh: Box<dyn Lab>) -> Box<dyn Lab> {
        std::mem::replace(&mut self.labs[self.current], fresh)
    }

    /// File > Reset lab: the current lab back to its defaults.
    fn reset_lab(&mut self) {
        if let Some(fresh) = labs::fresh(self.current) {
            drop(self.replace_lab(fresh));
            self.error = None;
        }
    }

    /// The current lab's 3D view, if it has one (benchmarks and tests).
    pub fn viewport_mut(&mut self) -> Option<&mut crate::render::viewport::Viewport3d> {
        self.labs[self.current].viewport_mut()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Start loading a file in the background.
    pub fn open_path(&mut self, path: PathBuf) {
        // a file some lab reads itself (detection JSON): the current lab if it can, else the first that can
        let claim = if self.current_lab().claims_file(&path) { Some(self.current) } else { self.labs.iter().position(|l| l.claims_file(&path)) };
        if let Some(i) = claim {
            self.labs[i].open_file(&path);
            self.current = i;
            self.error = None;
            self.remember(&path);
            return;
        }
        let p = path.clone();
        let task = Task::spawn("vislab-load", move |_| geometry::load_path(&p).map_err(|e| e.to_string()));
        self.loading = Some(Loading { path, started: Instant::now(), task });
    }

    /// Hand a loaded asset to the lab that shows its kind, and switch to it.
    pub fn show_asset(&mut self, asset: Asset, source: &Path) {
        let fits_current = self.current_lab().accepts(&asset);
        let target = if fits_current { Some(self.current) } else { self.labs.iter().position(|l| l.accepts(&asset)) };
        match target {
            Some(i) => {
                let name = source.file_name().map_or_else(|| source.display().to_string(), |n| n.to_string_lossy().into_owned());
                self.labs[i].open(asset, &name);
                self.current = i;
                self.error = None;
                self.remember(source);
            }
            None => self.error = Some(format!("{}: no lab shows a {}", source.display(), asset.kind())),
        }
    }

    /// Put a file first in the recent list.
    fn remember(&mut self, source: &Path) {
        self.recent.retain(|p| p != source);
        self.recent.insert(0, source.to_owned());
        self.recent.truncate(MAX_RECENT);
    }

    fn poll_loading(&mut self) {
        let Some(l) = &self.loading else { return };
        let Some(result) = l.task.poll() else { return };
        let path = l.path.clone();
        self.loading = None;
        match result {
            Ok(Ok(asset)) => self.show_asset(asset, &path),
            Ok(Err(e)) => self.error = Some(e),
            Err(e) => self.error = Some(format!("{}: {e}", path.display())),
        }
    }

    fn open_dialog(&mut self) {
        let exts = geometry::SUPPORTED_EXTENSIONS;
        if let Some(p) =
            rfd::FileDialog::new().add_filter("3D data and depth maps", exts).add_filter("COCO detections and ground truth", &["json"]).add_filter("all files", &["*"]).pick_file()
        {
            self.open_path(p);
        }
    }

    fn request_screenshot(&mut self, ctx: &egui::Context) {
        let (tx, rx) = channel();
        ctx.request_screenshot(move |img| {
            let _ = tx.send(img);
        });
        self.screenshot_rx = Some((rx, self.current_lab().name().to_owned()));
    }

    fn poll_screenshot(&mut self) {
        let Some((rx, lab)) = &self.screenshot_rx else { return };
        let Ok(img) = rx.try_recv() else { return };
        let default_name = format!("vislab-{lab}.png");
        self.screenshot_rx = None;
        let path = rfd::FileDialog::new().set_file_name(&default_name).add_filter("PNG", &["png"]).save_file().unwrap_or_else(|| PathBuf::from(&default_name));
        match save_png(&img, &path) {
            Ok(()) => self.message = Some(format!("screenshot saved to {}", path.display())),
            Err(e) => self.error = Some(e),
        }
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  (Ctrl+O)").clicked() {
                    ui.close();
                    self.open_dialog();
                }
                ui.menu_button("Open recent", |ui| {
                    if self.recent.is_empty() {
                        ui.label("nothing yet");
                    }
                    for p in self.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            ui.close();
                            self.open_path(p);
                        }
                    }
                });
                if ui.button("Save screenshot  (F12)").clicked() {
                    ui.close();
                    self.request_screenshot(ui.ctx());
                }
                if ui.button("Reset lab").on_hover_text("Stop what this lab is doing and bring back its defaults").clicked() {
                    ui.close();
                    self.reset_lab();
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Screenshot").on_hover_text("Save the window as a PNG (F12)").clicked() {
                    self.request_screenshot(ui.ctx());
                }
                if ui.button("Open").on_hover_text("Open a mesh, point cloud, voxel grid or depth map (Ctrl+O), or drop a file on the window").clicked() {
                    self.open_dialog();
                }
            });
        });
    }

    /// Labs grouped by syllabus section, each section a collapsing header;
    /// only the current lab's section starts open, so the list fits small
    /// windows and a lab added to one section leaves the others' look alone.
    fn navigator(&mut self, ui: &mut egui::Ui) {
        ui.heading("Vislab");
        let current_section = self.labs[self.current].section();
        let reveal = self.nav_revealed != Some(self.current);
        self.nav_revealed = Some(self.current);
        egui::ScrollArea::vertical().show(ui, |ui| {
            let mut start = 0;
            while start < self.labs.len() {
                let section = self.labs[start].section();
                let end = (start..self.labs.len()).find(|&i| self.labs[i].section() != section).unwrap_or(self.labs.len());
                egui::CollapsingHeader::new(egui::RichText::new(section).strong())
                    .id_salt(section)
                    .default_open(section == current_section)
                    .open((reveal && section == current_section).then_some(true))
                    .show(ui, |ui| {
                        for i in start..end {
                            if ui.selectable_label(self.current == i, self.labs[i].title()).clicked() {
                                self.current = i;
                            }
                        }
                    });
                start = end;
            }
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label(format!("GPU: {}", self.adapter));
            ui.separator();
            ui.label(if self.show_frame_time { format!("frame {:.1} ms", self.frame_ms) } else { "frame -- ms".to_owned() });
            ui.separator();
            if let Some(l) = &self.loading {
                ui.spinner();
                ui.label(format!("loading {} ({:.1} s)", l.path.display(), l.started.elapsed().as_secs_f32()));
                if ui.small_button("Cancel").clicked() {
                    // the worker finishes on its own; its result is dropped
                    self.loading = None;
                }
            } else if let Some(e) = &self.error {
                ui.colored_label(egui::Color32::from_rgb(255, 110, 100), format!("Error: {e}"));
                if ui.small_button("dismiss").clicked() {
                    self.error = None;
                }
            } else if let Some(info) = self.current_lab().pick_info() {
                ui.label(info);
            } else if let Some(m) = &self.message {
                ui.label(m);
            } else {
                ui.label(self.current_lab().summary());
            }
        });
    }

    fn handle_global_input(&mut self, ctx: &egui::Context) {
        let (dropped, open, shot) = ctx.input(|i| {
            (
                i.raw.dropped_files.first().map(|f| f.path().to_owned()).filter(|p| !p.as_os_str().is_empty()),
                i.modifiers.command && i.key_pressed(egui::Key::O),
                i.key_pressed(egui::Key::F12),
            )
        });
        if let Some(p) = dropped {
            self.open_path(p);
        }
        if open {
            self.open_dialog();
        }
        if shot {
            self.request_screenshot(ctx);
        }
    }
}

impl eframe::App for VislabApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let started = Instant::now();
        self.poll_loading();
        self.poll_screenshot();
        self.handle_global_input(ui.ctx());

        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("navigator").resizable(true).default_size(170.0).show(ui, |ui| self.navigator(ui));
        let lab = &mut self.labs[self.current];
        egui::Panel::right("controls").resizable(true).default_size(280.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.heading(lab.title());
                lab.controls(ui);
            });
        });
        egui::CentralPanel::default().show(ui, |ui| lab.view(ui));

        if self.loading.is_some() || self.screenshot_rx.is_some() {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(30));
        }
        // CPU time of the previous frame as eframe measured it, else ours
        self.frame_ms = frame.info().cpu_usage.map_or(started.elapsed().as_secs_f32(), |s| s) * 1000.0;
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.persisted());
    }
}

pub fn save_png(img: &egui::ColorImage, path: &Path) -> Result<(), String> {
    let [w, h] = img.size;
    let bytes: Vec<u8> = img.pixels.iter().flat_map(|c| c.to_array()).collect();
    let buf = image::RgbaImage::from_raw(w as u32, h as u32, bytes).ok_or("screenshot has the wrong size")?;
    buf.save(path).map_err(|e| format!("{}: {e}", path.display()))
}
