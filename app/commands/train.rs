//! `vislab train` and `vislab eval`.

use std::process::ExitCode;

pub fn train(_args: &[String]) -> ExitCode {
    eprintln!("error: vislab train is not available yet");
    ExitCode::FAILURE
}

pub fn eval(_args: &[String]) -> ExitCode {
    eprintln!("error: vislab eval is not available yet");
    ExitCode::FAILURE
}
