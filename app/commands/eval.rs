//! `vislab eval --checkpoint FILE [--data SPEC]`'s flags and what every
//! model's scorer reads: the checkpoint and the run's recipe (without
//! `--data`, the run's own data, `vislab.train.data`, is scored).
//! `commands::run` hands it to the model's `train_*::eval`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use vislab_engine::data::image_folder::FolderOptions;
use vislab_engine::models::META_ARCH;
use vislab_engine::train::checkpoint::{self, Checkpoint};

use super::data_spec::DataSpec;
use super::train_args::RECIPE;

/// `vislab eval`'s flags.
#[derive(Args, Debug, Clone)]
pub struct EvalArgs {
    /// A checkpoint written by `vislab train` (any --model), a training lab or an exported train.py
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// The dataset whose test split is scored (as for vislab train) [default: the run's own]
    #[arg(long, value_name = "SPEC")]
    pub data: Option<String>,
    /// Side the images of a folder are resized to [default: the run's own, else 32]
    #[arg(long, value_name = "N")]
    pub image_size: Option<usize>,
    /// Read a folder's images as one grey channel [default: as the run did]
    #[arg(long)]
    pub grayscale: bool,
}

/// A loaded checkpoint and the flags, with the run's recipe filling in
/// what the command line leaves out.
pub struct EvalInput {
    pub path: PathBuf,
    pub ck: Checkpoint,
    pub arch: String,
    args: EvalArgs,
}

impl EvalInput {
    pub fn load(args: &EvalArgs) -> Result<EvalInput, String> {
        let path = args.checkpoint.clone();
        let ck = checkpoint::load(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let arch = ck.meta.get(META_ARCH).cloned().ok_or_else(|| format!("{}: no {META_ARCH} metadata; not written by vislab train", path.display()))?;
        Ok(EvalInput { path, ck, arch, args: args.clone() })
    }

    /// The run's value of `vislab train --key`, if the checkpoint recorded it.
    pub fn recipe(&self, key: &str) -> Option<&str> {
        self.ck.meta.get(&format!("{RECIPE}{key}")).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn meta(&self) -> &BTreeMap<String, String> {
        &self.ck.meta
    }

    /// `--data`, else the run's own data.
    pub fn data(&self) -> Result<DataSpec, String> {
        let spec = self.args.data.as_deref().or(self.recipe("data")).ok_or_else(|| format!("{}: the checkpoint records no data; pass --data", self.path.display()))?;
        let size = self.args.image_size.or(self.recipe("image_size").and_then(|s| s.parse().ok())).unwrap_or(32);
        let grayscale = self.args.grayscale || self.recipe("grayscale") == Some("true");
        DataSpec::parse(spec, FolderOptions { size, grayscale })
    }

    /// "FILE: msg", for errors about the checkpoint.
    pub fn err(&self, msg: impl std::fmt::Display) -> String {
        format!("{}: {msg}", self.path.display())
    }
}
