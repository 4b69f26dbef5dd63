//! `vislab export --pytorch OUT --checkpoint FILE`: the checkpoint's model
//! as PyTorch code, its weights as that module's state dict, and a
//! `torchrun` trainer for the same run (see `vislab_engine::export`). The
//! training labs' "Export to PyTorch" buttons call [`export`] too.

use std::path::{Path, PathBuf};

use clap::Args;
use vislab_engine::data::Dataset;
use vislab_engine::data::image_folder::FolderOptions;
use vislab_engine::detection::detector::{DetTrainConfig, saved};
use vislab_engine::export::{self, Named, Source};

use super::data_spec::DataSpec;
use super::train_args::RECIPE;

/// `vislab export`'s flags.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Write model.py, weights.safetensors and train.py (for torchrun) into this folder
    #[arg(long, value_name = "OUT")]
    pub pytorch: PathBuf,
    /// A checkpoint written by `vislab train` (any --model) or a training lab
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// The data train.py reads, instead of the run's own (e.g. mnist:DIR where the cluster keeps it)
    #[arg(long, value_name = "SPEC")]
    pub data: Option<String>,
}

pub fn run(args: &ExportArgs) -> Result<(), String> {
    let summary = export(&args.checkpoint, &args.pytorch, args.data.as_deref())?;
    println!("{summary}");
    Ok(())
}

/// Export `checkpoint` into `out`; a one-paragraph summary of what was
/// written and how to run it.
pub fn export(checkpoint: &Path, out: &Path, data: Option<&str>) -> Result<String, String> {
    let mut source = Source::read(checkpoint).map_err(|e| e.to_string())?;
    if let Some(d) = data {
        source.meta.insert(format!("{RECIPE}data"), d.to_string());
    }
    let bundle = bundled_data(&source)?;
    let e = export::pytorch(&source, out, bundle.as_deref()).map_err(|e| e.to_string())?;
    let names: Vec<String> = e.files.iter().filter_map(|f| f.file_name()).map(|f| f.to_string_lossy().into_owned()).collect();
    let params: usize = source.shapes().map(|(_, s)| s.iter().product::<usize>()).sum();
    Ok(format!(
        "exported the {} ({params} values) to {}: {}\ntrain it on 2 processes with: cd {} && torchrun --nproc_per_node 2 train.py{}",
        e.arch,
        out.display(),
        names.join(", "),
        out.display(),
        if e.data.is_empty() { String::new() } else { format!("  (data: {})", e.data) }
    ))
}

/// `data.safetensors` for data vislab makes itself (the built-in digits,
/// image folders resized as vislab resizes them, a lone CIFAR batch file),
/// split as vislab splits it; `None` where train.py reads the original files.
fn bundled_data(source: &Source) -> Result<Option<Vec<Named>>, String> {
    let get = |k: &str| source.meta.get(&format!("{RECIPE}{k}")).cloned().unwrap_or_default();
    if source.arch() == saved::ARCH {
        return detector_data(&get).map(Some);
    }
    let spec = get("data");
    let own_test_split = |s: &str| {
        let (kind, path) = s.split_once(':').unwrap_or((s, ""));
        matches!(kind, "mnist" | "fashion-mnist") || (kind.starts_with("cifar") && Path::new(path).is_dir())
    };
    if spec.is_empty() || own_test_split(&spec) {
        return Ok(None);
    }
    let folder = FolderOptions { size: get("image_size").parse().unwrap_or(32), grayscale: get("grayscale") == "true" };
    let (train, test) = DataSpec::parse(&spec, folder).and_then(|d| d.load()).map_err(|e| format!("cannot bundle the run's data ({spec}): {e}; pass --data"))?;
    let mut out = images("train", &train);
    out.extend(images("test", &test));
    Ok(Some(out))
}

/// The synthetic shapes a detector run trained and was scored on, with
/// vislab's anchor targets, redrawn from its recipe.
fn detector_data(get: &dyn Fn(&str) -> String) -> Result<Vec<Named>, String> {
    let num = |k: &str| get(k).parse::<usize>().map_err(|_| format!("the checkpoint's recipe has no usable vislab.train.{k} ('{}')", get(k)));
    let (images, size, objects, seed) = (num("images")?, num("size")?, num("objects")?, num("seed")? as u64);
    let (train, test) = saved::sets(images, size, objects, seed);
    let config = DetTrainConfig { anchors: num("anchors")?, ..DetTrainConfig::new(1, seed) };
    Ok(saved::bundle(&train, &test, &config))
}

/// `{split}.x` f32 `[N, C, H, W]` and `{split}.y` i64 `[N]`.
fn images(split: &str, d: &Dataset) -> Vec<Named> {
    let chw = match *d.sample_shape() {
        [c, h, w] => vec![c, h, w],
        [h, w] => vec![1, h, w],
        ref s => s.to_vec(),
    };
    let shape = [vec![d.len()], chw].concat();
    vec![Named::f32(&format!("{split}.x"), shape, d.x().to_vec()), Named::i64(&format!("{split}.y"), vec![d.len()], d.y().iter().map(|&y| y as i64).collect())]
}
