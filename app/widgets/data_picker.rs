//! Choosing a dataset on disk: a path field (typed, pasted or filled by
//! the file and folder dialogs), the kind (detected from the names, or
//! chosen), folder options, and a Load button. Labs load what it returns
//! on a worker thread and show errors themselves.

use std::path::PathBuf;

use vislab_engine::data::Source;
use vislab_engine::data::image_folder::FolderOptions;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Detect,
    Mnist,
    FashionMnist,
    Cifar10,
    Cifar100,
    Cifar100Coarse,
    Folder,
}

impl Kind {
    const ALL: [Kind; 7] = [Kind::Detect, Kind::Mnist, Kind::FashionMnist, Kind::Cifar10, Kind::Cifar100, Kind::Cifar100Coarse, Kind::Folder];

    fn label(self) -> &'static str {
        match self {
            Kind::Detect => "detect from names",
            Kind::Mnist => "MNIST (idx)",
            Kind::FashionMnist => "Fashion-MNIST (idx)",
            Kind::Cifar10 => "CIFAR-10 (binary)",
            Kind::Cifar100 => "CIFAR-100, fine labels",
            Kind::Cifar100Coarse => "CIFAR-100, coarse labels",
            Kind::Folder => "image folder",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::Detect => "",
            Kind::Mnist => "mnist",
            Kind::FashionMnist => "fashion-mnist",
            Kind::Cifar10 => "cifar10",
            Kind::Cifar100 => "cifar100",
            Kind::Cifar100Coarse => "cifar100-coarse",
            Kind::Folder => "folder",
        }
    }
}

pub struct DataPicker {
    pub path: String,
    kind: Kind,
    pub folder: FolderOptions,
}

impl Default for DataPicker {
    fn default() -> Self {
        DataPicker { path: String::new(), kind: Kind::Detect, folder: FolderOptions { size: 32, grayscale: false } }
    }
}

impl DataPicker {
    /// Draw the picker; returns the source to load when Load is pressed
    /// (or an error message for a path that names nothing usable).
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<Result<Source, String>> {
        ui.horizontal(|ui| {
            let l = ui.label("dataset path");
            ui.add(egui::TextEdit::singleline(&mut self.path).desired_width(ui.available_width().min(200.0))).labelled_by(l.id);
        });
        ui.horizontal(|ui| {
            // headless, the dialogs return None at once: nothing changes
            if ui.button("File...").clicked()
                && let Some(p) = rfd::FileDialog::new().add_filter("CIFAR batches", &["bin"]).add_filter("all files", &["*"]).pick_file()
            {
                self.path = p.display().to_string();
            }
            if ui.button("Folder...").clicked()
                && let Some(p) = rfd::FileDialog::new().pick_folder()
            {
                self.path = p.display().to_string();
            }
        });
        egui::ComboBox::from_label("format").selected_text(self.kind.label()).show_ui(ui, |ui| {
            for k in Kind::ALL {
                ui.selectable_value(&mut self.kind, k, k.label());
            }
        });
        ui.add(egui::Slider::new(&mut self.folder.size, 8..=64).text("folder image size"));
        ui.checkbox(&mut self.folder.grayscale, "read folder images in grey");
        ui.button("Load").clicked().then(|| self.source())
    }

    /// A dropped or opened file or folder: show its path and detect its
    /// kind (an idx file stands for the folder holding it).
    pub fn open(&mut self, path: &std::path::Path) -> Result<Source, String> {
        let idx = path.is_file() && path.file_name().is_some_and(|n| n.to_string_lossy().contains("-idx"));
        let path = if idx { path.parent().unwrap_or(path) } else { path };
        self.path = path.display().to_string();
        self.kind = Kind::Detect;
        self.source()
    }

    fn source(&self) -> Result<Source, String> {
        let path = self.path.trim();
        if path.is_empty() {
            return Err("type or choose a file or folder first".into());
        }
        let r = match self.kind {
            Kind::Detect => Source::detect(&PathBuf::from(path), self.folder),
            k => Source::parse(&format!("{}:{path}", k.prefix()), self.folder),
        };
        r.map_err(|e| e.to_string())
    }
}
