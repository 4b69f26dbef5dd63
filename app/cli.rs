//! The command line, on clap. The same binary is the desktop app and a
//! headless tool, so everything the UI does can be scripted.

use std::path::PathBuf;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::eval::EvalArgs;
use crate::commands::export::ExportArgs;
use crate::commands::metrics::Metric;
use crate::commands::train_args::TrainArgs;

#[derive(Parser, Debug)]
#[command(name = "vislab", version, about = "A desktop lab for deep learning for computer vision: with no subcommand, the app", args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub app: AppArgs,
    /// CPU threads for training [default: VISLAB_THREADS, else every core]
    #[arg(long, global = true, value_name = "N", value_parser = threads)]
    pub threads: Option<usize>,
}

// Parsed once per run: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train a model headless: metrics.csv and a checkpoint (vislab train --help lists every model's flags)
    Train(TrainArgs),
    /// Score any checkpoint on its test data: accuracy and loss, NELBO, NLL, the GAN's FD, the detector's COCO AP
    Eval(EvalArgs),
    /// PyTorch code for a checkpoint: model.py, weights.safetensors (its exact state dict) and train.py for torchrun
    Export(ExportArgs),
    /// Compare two shapes or score COCO detections; prints JSON
    Metrics {
        #[command(subcommand)]
        metric: Metric,
    },
    /// Viewport frame times (100k to 5M points, a 100k-triangle mesh)
    Bench,
}

/// The app's own flags.
#[derive(Args, Debug, Default, PartialEq)]
pub struct AppArgs {
    /// A file to open: mesh, point cloud, voxels, depth map, image, dataset or COCO JSON
    #[arg(value_name = "FILE", conflicts_with = "open")]
    pub file: Option<PathBuf>,
    /// Open the app on this lab (--list-labs names them)
    #[arg(long, value_name = "NAME")]
    pub lab: Option<String>,
    /// A file to open (as FILE)
    #[arg(long, value_name = "FILE")]
    pub open: Option<PathBuf>,
    /// Render the app offscreen to this PNG and exit
    #[arg(long, value_name = "OUT.png")]
    pub screenshot: Option<PathBuf>,
    /// Window size of --screenshot
    #[arg(long, value_name = "WxH", default_value = "1280x800", value_parser = window_size)]
    pub size: WindowSize,
    /// Print each lab's name and title
    #[arg(long)]
    pub list_labs: bool,
}

impl AppArgs {
    /// The file to open, given either way.
    pub fn file(&self) -> Option<PathBuf> {
        self.open.clone().or_else(|| self.file.clone())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WindowSize(pub [f32; 2]);

fn window_size(v: &str) -> Result<WindowSize, String> {
    let parsed = v.split_once('x').and_then(|(w, h)| Some([w.parse::<f32>().ok()?, h.parse::<f32>().ok()?]));
    match parsed {
        Some([w, h]) if (64.0..=8192.0).contains(&w) && (64.0..=8192.0).contains(&h) => Ok(WindowSize([w, h])),
        _ => Err("expected WIDTHxHEIGHT, each between 64 and 8192".into()),
    }
}

fn threads(v: &str) -> Result<usize, String> {
    vislab_engine::cpu::threads::parse(v)
}

/// What a command line asks for, or how to exit: help and version print
/// and succeed, an error is one `error: ...` line (exit code 2).
pub fn parse<I, T>(args: I) -> Result<(Cli, ArgMatches), Exit>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = Cli::command().try_get_matches_from(args).map_err(Exit::from)?;
    let cli = Cli::from_arg_matches(&matches).map_err(Exit::from)?;
    Ok((cli, matches))
}

/// A parse that ends the program.
#[derive(Debug)]
pub enum Exit {
    /// `--help` or `--version`: print this on stdout and succeed.
    Print(String),
    /// One line, `error: ` included.
    Error(String),
}

impl From<clap::Error> for Exit {
    fn from(e: clap::Error) -> Exit {
        use clap::error::ErrorKind;
        let text = e.render().to_string();
        match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Exit::Print(text),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let usage = text.lines().find_map(|l| l.strip_prefix("Usage: ")).unwrap_or("vislab --help");
                Exit::Error(format!("error: a subcommand is missing; usage: {usage}"))
            }
            _ => Exit::Error(one_line(&text)),
        }
    }
}

/// clap's message without its usage and tips, on one line.
fn one_line(text: &str) -> String {
    let first = text.split("\n\n").next().unwrap_or(text);
    let line = first.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    if line.starts_with("error:") { line } else { format!("error: {line}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Cli, Exit> {
        parse(std::iter::once("vislab").chain(s.split_whitespace())).map(|(c, _)| c)
    }

    fn err(s: &str) -> String {
        match p(s) {
            Err(Exit::Error(e)) => e,
            other => panic!("{s}: expected an error, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(p("bunny.ply").unwrap().app.file(), Some("bunny.ply".into()));
        let a = p("--lab mesh --open t.obj --screenshot o.png --size 800x600").unwrap().app;
        assert_eq!(a.lab.as_deref(), Some("mesh"));
        assert_eq!(a.screenshot, Some("o.png".into()));
        assert_eq!(a.size, WindowSize([800.0, 600.0]));
        assert!(p("--list-labs").unwrap().app.list_labs);
        assert!(matches!(p("bench").unwrap().command, Some(Command::Bench)));
        let t = p("train --data digits --threads 3").unwrap();
        assert_eq!(t.threads, Some(3));
        assert!(matches!(t.command, Some(Command::Train(a)) if a.data.as_deref() == Some("digits")));
    }

    #[test]
    fn errors_are_one_line_naming_the_flag() {
        assert_eq!(err("--lab"), "error: a value is required for '--lab <NAME>' but none was supplied");
        assert!(err("--size 10x10").starts_with("error: invalid value '10x10' for '--size <WxH>'"));
        assert!(err("--frobnicate").starts_with("error: unexpected argument '--frobnicate'"));
        let e = err("a.ply b.ply");
        assert!(e.starts_with("error: ") && e.contains("'b.ply'"), "{e}");
        assert!(err("train --threads 0").contains("'--threads <N>'"));
        assert_eq!(err("eval --data digits"), "error: the following required arguments were not provided: --checkpoint <FILE>");
        assert!(!err("train --epochs two --data digits").contains('\n'));
        assert!(err("metrics").starts_with("error: a subcommand is missing; usage: vislab metrics"));
    }

    #[test]
    fn help_lists_every_subcommand_and_every_flag_with_its_default() {
        let Err(Exit::Print(top)) = p("--help") else { panic!("no help") };
        for sub in ["train", "eval", "metrics", "export", "bench"] {
            assert!(top.lines().any(|l| l.trim_start().starts_with(sub)), "{sub} missing from\n{top}");
        }
        let Err(Exit::Print(train)) = p("train --help") else { panic!("no train help") };
        let cmd = Cli::command();
        let lines: Vec<&str> = train.lines().collect();
        for a in cmd.find_subcommand("train").expect("train").get_arguments().filter(|a| a.get_long().is_some()) {
            let long = format!("--{}", a.get_long().unwrap_or_default());
            let i = lines.iter().position(|l| l.split_whitespace().next() == Some(long.as_str())).unwrap_or_else(|| panic!("{long} missing from\n{train}"));
            // The flag's help runs until the next flag's line.
            let block: String =
                lines[i..].iter().enumerate().take_while(|(k, l)| *k == 0 || !l.trim_start().starts_with("--") && !l.trim_start().starts_with("-h,")).map(|(_, l)| *l).collect();
            // Each takes its default from clap or says it in words; switches have none.
            let switch = matches!(a.get_action(), clap::ArgAction::SetTrue | clap::ArgAction::Help | clap::ArgAction::Version);
            assert!(switch || block.contains("[default") || block.contains("[required"), "{long} has no default in\n{block}");
        }
        for heading in ["VAE (--model vae)", "PixelCNN (--model pixelcnn)", "Detector (--model detector)", "GAN (--model gan)"] {
            assert!(train.contains(heading), "{heading}");
        }
    }
}
