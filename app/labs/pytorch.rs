//! The training labs' "Export to PyTorch…" button: the lab saves its model
//! as a checkpoint (with what it knows of its recipe) into a folder the user
//! picks, and `vislab export --pytorch` writes model.py, weights.safetensors
//! and train.py beside it (see `commands::export`).

use std::path::Path;

use crate::commands::export;

/// Name of the checkpoint kept in the export folder (`vislab eval` reads it).
pub const CHECKPOINT: &str = "vislab-checkpoint.safetensors";

/// The button, with what it does in its tooltip.
pub fn button(ui: &mut egui::Ui, enabled: bool) -> bool {
    ui.add_enabled(enabled, egui::Button::new("Export to PyTorch…"))
        .on_hover_text("Write model.py, weights.safetensors and a torchrun train.py for this model into a folder, to train it further on a cluster")
        .clicked()
}

/// Ask for a folder, then [`to_folder`]; `None` when the user cancels.
pub fn with_dialog(save: impl FnOnce(&Path) -> Result<(), String>) -> Option<String> {
    let dir = rfd::FileDialog::new().set_title("Export to PyTorch: pick or make an empty folder").pick_folder()?;
    Some(to_folder(&dir, save))
}

/// Save the checkpoint into `dir` with `save`, export it there; a one-line
/// status either way.
pub fn to_folder(dir: &Path, save: impl FnOnce(&Path) -> Result<(), String>) -> String {
    let ck = dir.join(CHECKPOINT);
    let result = std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display())).and_then(|()| save(&ck)).and_then(|()| export::export(&ck, dir, None));
    match result {
        Ok(summary) => summary.lines().next().unwrap_or_default().to_string(),
        Err(e) => format!("export to PyTorch failed: {e}"),
    }
}

/// `vislab.train.KEY` metadata from a lab's settings, as `vislab train`
/// records its flags (what the exported train.py defaults to).
pub fn recipe(pairs: &[(&str, String)]) -> std::collections::BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (format!("{}{k}", crate::commands::train_args::RECIPE), v.clone())).collect()
}

/// The settings every epoch-trained generative lab records: its image data
/// (with the `limit` on a folder's training images), epochs, batch, learning
/// rate, seed and binarization.
pub fn image_run(data: &super::image_data::ImageData, limit: usize, run: (usize, usize, f32, u64), binarize: &str) -> Vec<(&'static str, String)> {
    let (epochs, batch, lr, seed) = run;
    let limit = if data.spec == "digits" { String::new() } else { limit.to_string() };
    vec![
        ("data", data.spec.clone()),
        ("limit", limit),
        ("epochs", epochs.to_string()),
        ("batch", batch.to_string()),
        ("lr", lr.to_string()),
        ("seed", seed.to_string()),
        ("binarize", binarize.to_string()),
    ]
}
