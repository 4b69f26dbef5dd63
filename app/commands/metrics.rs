//! `vislab metrics <name> ...`, printing JSON.

use std::process::ExitCode;

pub fn run(_args: &[String]) -> ExitCode {
    eprintln!("error: vislab metrics is not available yet");
    ExitCode::FAILURE
}
