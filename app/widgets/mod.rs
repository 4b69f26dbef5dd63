//! Reusable egui pieces.

pub mod augment;
pub mod boxes;
pub mod confusion;
pub mod curves;
pub mod data_picker;
pub mod export;
pub mod gallery;
pub mod histogram;
pub mod latent_walk;
pub mod legend;
pub mod mosaic;
pub mod regions;
pub mod scatter;
