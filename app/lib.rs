//! The Vislab desktop program: shell, labs and renderers. `main.rs` only
//! parses arguments; everything else is here so tests can drive it.

pub mod bench;
pub mod cli;
pub mod commands;
pub mod headless;
pub mod labs;
pub mod render;
pub mod shell;
pub mod widgets;
