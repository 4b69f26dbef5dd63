//! Reusable egui pieces.

pub mod curves;
pub mod export;
pub mod gallery;
pub mod legend;
pub mod mosaic;
