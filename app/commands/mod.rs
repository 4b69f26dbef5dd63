//! Headless subcommands of the `vislab` binary (`vislab <command> ...`),
//! parsed by [`crate::cli`]. Each returns `Ok` or a one-line message.

pub mod data_spec;
pub mod eval;
pub mod export;
pub mod metrics;
pub mod progress;
pub mod train_args;
pub mod train_classifier;
pub mod train_detector;
pub mod train_gan;
pub mod train_pixelcnn;
pub mod train_vae;

use clap::ArgMatches;

use crate::cli::Command;

/// Run `command` (parsed from `matches`).
pub fn run(command: &Command, matches: &ArgMatches) -> Result<(), String> {
    match command {
        Command::Train(args) => {
            args.check_flags(matches.subcommand_matches("train").unwrap_or(matches))?;
            match args.model.as_str() {
                "vae" => train_vae::train(args),
                "pixelcnn" => train_pixelcnn::train(args),
                "detector" => train_detector::train(args),
                "gan" => train_gan::train(args),
                _ => train_classifier::train(args),
            }
        }
        Command::Eval(args) => {
            let input = eval::EvalInput::load(args)?;
            match input.arch.as_str() {
                "vae" => train_vae::eval(&input),
                "pixelcnn" => train_pixelcnn::eval(&input),
                "gan-mlp" | "gan-dcgan" => train_gan::eval(&input),
                "detector" => train_detector::eval(&input),
                _ => train_classifier::eval(&input),
            }
        }
        Command::Export(args) => export::run(args),
        Command::Metrics { metric } => metrics::run(metric),
        Command::Bench => crate::bench::run(),
    }
}
