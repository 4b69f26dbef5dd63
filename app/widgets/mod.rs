//! Reusable egui pieces.

pub mod legend;
