//! Headless subcommands of the `vislab` binary (`vislab <command> ...`).
//! Each takes the arguments after its name and returns an exit code.

pub mod metrics;
pub mod train;
pub mod train_detector;
pub mod train_gan;
pub mod train_pixelcnn;
pub mod train_vae;

/// The subcommand named by the first argument, if any.
pub fn dispatch(args: &[String]) -> Option<std::process::ExitCode> {
    let (first, rest) = args.split_first()?;
    match first.as_str() {
        "train" => Some(train::train(rest)),
        "eval" => Some(train::eval(rest)),
        "metrics" => Some(metrics::run(rest)),
        _ => None,
    }
}
