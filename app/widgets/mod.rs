//! Reusable egui pieces.

pub mod curves;
pub mod data_picker;
pub mod export;
pub mod gallery;
pub mod legend;
pub mod regions;
