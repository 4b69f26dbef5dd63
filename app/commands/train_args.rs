//! `vislab train`'s flags: one parse for every `--model`, each model's own
//! flags under its heading in `--help`, and a flag given to a model that
//! does not read it refused by name.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, RangedU64ValueParser, TypedValueParser};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use vislab_engine::data::augment::Augment;
use vislab_engine::data::image_folder::FolderOptions;
use vislab_engine::registry::{MODELS, OPTIMIZERS, SCHEDULES};

use super::data_spec::DataSpec;

const VAE: &str = "VAE (--model vae)";
const PIXELCNN: &str = "PixelCNN (--model pixelcnn)";
const BINARIZED: &str = "VAE and PixelCNN";
const DETECTOR: &str = "Detector (--model detector)";
const GAN: &str = "GAN (--model gan)";
const CLASSIFIERS: &str = "Classifiers (--model mlp, cnn)";

#[derive(Args, Debug, Clone)]
#[command(
    args_override_self = true,
    after_help = "Outputs go to --out: metrics.csv (one row per epoch, or per --log-every GAN rounds) and model.safetensors \
(vislab eval and the labs load it). Flags without a heading apply to every model that reads them; a flag a model does not read is refused."
)]
pub struct TrainArgs {
    /// Which model to train
    #[arg(long, value_name = "NAME", default_value = "mlp", value_parser = model_names())]
    pub model: String,
    /// mnist:DIR, fashion-mnist:DIR, cifar10:DIR|FILE, cifar100:DIR|FILE, cifar100-coarse:DIR|FILE,
    /// folder:DIR (one sub-folder of images per class) or digits; sources without a test split
    /// hold out a stratified 10% (split seed 0) [required, except for the detector]
    #[arg(long, value_name = "SPEC", verbatim_doc_comment)]
    pub data: Option<String>,
    /// Side the images of a folder are resized to
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub image_size: usize,
    /// Read a folder's images as one grey channel
    #[arg(long)]
    pub grayscale: bool,
    /// Epochs [default: mlp 8, cnn 3, vae 20, pixelcnn 5, detector 8]
    #[arg(long, value_name = "N", value_parser = at_least_one())]
    pub epochs: Option<usize>,
    /// Mini-batch size [default: 64; vae 100, detector 16, gan 128]
    #[arg(long, value_name = "B", value_parser = at_least_one())]
    pub batch: Option<usize>,
    /// Base learning rate [default: the optimizer's (sgd 0.1; momentum, nesterov, adagrad 0.01;
    /// rmsprop, adam, adamw 0.001); vae 0.001, pixelcnn 0.002, detector 0.003]
    #[arg(long, value_name = "X", value_parser = positive, allow_hyphen_values = true, verbatim_doc_comment)]
    pub lr: Option<f32>,
    /// Learning-rate decay over the run (mlp, cnn, vae) [default: cosine]
    #[arg(long, value_name = "S", value_parser = PossibleValuesParser::new(SCHEDULES.iter().map(|s| PossibleValue::new(s.name).help(s.title))))]
    pub schedule: Option<String>,
    /// Seed of the initialization, shuffling and sampling [default: 0; detector 1]
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Train on the first N training images only [default: all; gan 10000]
    #[arg(long, value_name = "N", value_parser = at_least_one())]
    pub limit: Option<usize>,
    /// Where the outputs go [default: runs/<model>]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Optimizer [default: adam]
    #[arg(long, value_name = "NAME", help_heading = CLASSIFIERS, value_parser = PossibleValuesParser::new(OPTIMIZERS.iter().map(|o| PossibleValue::new(o.name).help(o.title))))]
    pub optimizer: Option<String>,
    /// Random augmentation of every training batch, e.g. crop=0.8,flip,shift=2,rotate=15,cutout=4 [default: none]
    #[arg(long, value_name = "SPEC", help_heading = CLASSIFIERS, value_parser = augment)]
    pub augment: Option<Augment>,

    /// Latent dimensions
    #[arg(long, value_name = "N", help_heading = VAE, default_value_t = 20, value_parser = at_least_one())]
    pub latent: usize,
    /// Encoder hidden sizes; the decoder mirrors them
    #[arg(long, value_name = "H1,H2,..", help_heading = VAE, value_delimiter = ',', default_values_t = [512, 256], value_parser = at_least_one())]
    pub hidden: Vec<usize>,
    /// A convolutional VAE: 3x3 stride-2 conv stages with these channels before the hidden layers,
    /// 4x4 stride-2 transposed convs in the decoder [default: none, an MLP VAE]
    #[arg(long, value_name = "C1,C2,..", help_heading = VAE, value_delimiter = ',', value_parser = at_least_one(), verbatim_doc_comment)]
    pub conv: Vec<usize>,
    /// sample: pixels become 1 with probability equal to their intensity (resampled every epoch;
    /// the test split once, seeded); threshold: above one half; off: stay grey (VAE only)
    /// [default: vae sample, pixelcnn threshold]
    #[arg(long, value_name = "MODE", help_heading = BINARIZED, value_parser = ["sample", "threshold", "off"], verbatim_doc_comment)]
    pub binarize: Option<String>,

    /// Feature maps per layer
    #[arg(long, value_name = "N", help_heading = PIXELCNN, default_value_t = 32, value_parser = at_least_one())]
    pub channels: usize,
    /// 3x3 type-B masked layers after the 7x7 type-A one
    #[arg(long, value_name = "N", help_heading = PIXELCNN, default_value_t = 5, value_parser = RangedU64ValueParser::<usize>::new().range(0..=64))]
    pub layers: usize,

    /// Synthetic training images (64 more are held out)
    #[arg(long, value_name = "N", help_heading = DETECTOR, default_value_t = 384, value_parser = at_least_one())]
    pub images: usize,
    /// Image side
    #[arg(long, value_name = "S", help_heading = DETECTOR, default_value_t = 32, value_parser = PossibleValuesParser::new(["16", "32", "64", "128"]).map(|s| s.parse::<usize>().unwrap_or(32)))]
    pub size: usize,
    /// Shapes per image at most
    #[arg(long, value_name = "N", help_heading = DETECTOR, default_value_t = 4, value_parser = at_least_one())]
    pub objects: usize,
    /// Anchors per cell
    #[arg(long, value_name = "N", help_heading = DETECTOR, default_value_t = 3, value_parser = RangedU64ValueParser::<usize>::new().range(1..=4))]
    pub anchors: usize,

    /// Rounds of one D step then one G step
    #[arg(long, value_name = "N", help_heading = GAN, default_value_t = 2000, value_parser = at_least_one())]
    pub rounds: usize,
    /// D's Adam learning rate (beta1 0.5)
    #[arg(long, value_name = "X", help_heading = GAN, default_value_t = 2e-4, value_parser = positive, allow_hyphen_values = true)]
    pub lr_d: f32,
    /// G's Adam learning rate (beta1 0.5)
    #[arg(long, value_name = "X", help_heading = GAN, default_value_t = 2e-4, value_parser = positive, allow_hyphen_values = true)]
    pub lr_g: f32,
    /// Non-saturating or least-squares loss
    #[arg(long, value_name = "L", help_heading = GAN, default_value = "ns", value_parser = [PossibleValue::new("ns").help("non-saturating"), PossibleValue::new("ls").help("least squares")])]
    pub loss: String,
    /// One-sided label smoothing: the real target is 1 - S
    #[arg(long, value_name = "S", help_heading = GAN, default_value_t = 0.0, allow_hyphen_values = true)]
    pub smoothing: f32,
    /// Noise size
    #[arg(long, value_name = "N", help_heading = GAN, default_value_t = 64, value_parser = at_least_one())]
    pub noise: usize,
    /// G's channels at side/4
    #[arg(long, value_name = "N", help_heading = GAN, default_value_t = 64, value_parser = at_least_one())]
    pub g_channels: usize,
    /// D's channels at side/2
    #[arg(long, value_name = "N", help_heading = GAN, default_value_t = 32, value_parser = at_least_one())]
    pub d_channels: usize,
    /// Rounds per metrics.csv row and timeline.png row
    #[arg(long, value_name = "N", help_heading = GAN, default_value_t = 100, value_parser = at_least_one())]
    pub log_every: usize,
    /// A `vislab train --model cnn` checkpoint for the Frechet distance [default: that cnn trained here, 5000 images, 1 epoch]
    #[arg(long, value_name = "FILE", help_heading = GAN)]
    pub fd_classifier: Option<PathBuf>,
    /// Skip the Frechet distance
    #[arg(long, help_heading = GAN)]
    pub no_fd: bool,
}

/// The flags each model reads, by clap id (`--model` and `--threads` go
/// with every one).
fn reads(model: &str) -> &'static [&'static str] {
    match model {
        "mlp" | "cnn" => &["data", "image_size", "grayscale", "epochs", "batch", "lr", "schedule", "seed", "limit", "out", "optimizer", "augment"],
        "vae" => &["data", "image_size", "grayscale", "epochs", "batch", "lr", "schedule", "seed", "limit", "out", "latent", "hidden", "conv", "binarize"],
        "pixelcnn" => &["data", "image_size", "grayscale", "epochs", "batch", "lr", "seed", "limit", "out", "channels", "layers", "binarize"],
        "detector" => &["epochs", "batch", "lr", "seed", "out", "images", "size", "objects", "anchors"],
        "gan" => &[
            "data",
            "image_size",
            "grayscale",
            "batch",
            "seed",
            "limit",
            "out",
            "rounds",
            "lr_d",
            "lr_g",
            "loss",
            "smoothing",
            "noise",
            "g_channels",
            "d_channels",
            "log_every",
            "fd_classifier",
            "no_fd",
        ],
        _ => &[],
    }
}

impl TrainArgs {
    /// Refuse flags given on the command line that `self.model` does not read.
    pub fn check_flags(&self, matches: &ArgMatches) -> Result<(), String> {
        let mine = reads(&self.model);
        let group = <TrainArgs as Args>::group_id();
        for id in matches.ids().filter(|id| Some(*id) != group.as_ref()).map(|id| id.as_str()) {
            let given = matches!(matches.value_source(id), Some(ValueSource::CommandLine));
            if given && id != "model" && id != "threads" && !mine.contains(&id) {
                let users: Vec<&str> = MODELS.iter().map(|m| m.name).filter(|m| reads(m).contains(&id)).collect();
                return Err(format!("--{} is not a flag of --model {} (it is for {})", id.replace('_', "-"), self.model, users.join(", ")));
            }
        }
        Ok(())
    }

    /// `--data`, checked to exist.
    pub fn data(&self) -> Result<DataSpec, String> {
        let spec = self.data.as_deref().ok_or("--data is required (for example mnist:DIR, cifar10:DIR or digits)")?;
        DataSpec::parse(spec, FolderOptions { size: self.image_size, grayscale: self.grayscale })
    }

    /// The run's recipe for the checkpoint (`vislab.train.<flag>` for every
    /// flag the model reads), so `vislab export` can write the same run for
    /// PyTorch. `resolved` gives the values a model chose where the flag was
    /// left out; the other flags come from the parse.
    pub fn recipe(&self, resolved: &[(&str, String)]) -> BTreeMap<String, String> {
        let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        let opt = |v: Option<String>| v.unwrap_or_default();
        reads(&self.model)
            .iter()
            .map(|&id| {
                let given = match id {
                    "data" => opt(self.data.as_deref().map(absolute_data)),
                    "image_size" => self.image_size.to_string(),
                    "grayscale" => self.grayscale.to_string(),
                    "epochs" => opt(self.epochs.map(|v| v.to_string())),
                    "batch" => opt(self.batch.map(|v| v.to_string())),
                    "lr" => opt(self.lr.map(|v| v.to_string())),
                    "schedule" => opt(self.schedule.clone()),
                    "seed" => opt(self.seed.map(|v| v.to_string())),
                    "limit" => opt(self.limit.map(|v| v.to_string())),
                    "out" => self.out().display().to_string(),
                    "optimizer" => opt(self.optimizer.clone()),
                    "augment" => opt(self.augment.map(|a| a.to_string())),
                    "latent" => self.latent.to_string(),
                    "hidden" => list(&self.hidden),
                    "conv" => list(&self.conv),
                    "binarize" => opt(self.binarize.clone()),
                    "channels" => self.channels.to_string(),
                    "layers" => self.layers.to_string(),
                    "images" => self.images.to_string(),
                    "size" => self.size.to_string(),
                    "objects" => self.objects.to_string(),
                    "anchors" => self.anchors.to_string(),
                    "rounds" => self.rounds.to_string(),
                    "lr_d" => self.lr_d.to_string(),
                    "lr_g" => self.lr_g.to_string(),
                    "loss" => self.loss.clone(),
                    "smoothing" => self.smoothing.to_string(),
                    "noise" => self.noise.to_string(),
                    "g_channels" => self.g_channels.to_string(),
                    "d_channels" => self.d_channels.to_string(),
                    "log_every" => self.log_every.to_string(),
                    "fd_classifier" => opt(self.fd_classifier.as_ref().map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()).display().to_string())),
                    "no_fd" => self.no_fd.to_string(),
                    _ => String::new(),
                };
                let value = resolved.iter().find(|(k, _)| *k == id).map_or(given, |(_, v)| v.clone());
                (format!("{RECIPE}{id}"), value)
            })
            .collect()
    }

    pub fn out(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(&self.model))
    }
}

/// Metadata key prefix of the recipe.
pub const RECIPE: &str = "vislab.train.";

/// `KIND:PATH` with the path made absolute, so the recipe works from any folder.
pub(crate) fn absolute_data(spec: &str) -> String {
    match spec.split_once(':') {
        Some((kind, path)) => format!("{kind}:{}", std::path::absolute(path).map_or_else(|_| path.to_string(), |p| p.display().to_string())),
        None => spec.to_string(),
    }
}

fn model_names() -> PossibleValuesParser {
    PossibleValuesParser::new(MODELS.iter().map(|m| PossibleValue::new(m.name).help(m.about)))
}

pub(super) fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    RangedU64ValueParser::<usize>::new().range(1..)
}

fn positive(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("must be a positive number".into()),
        Err(_) => Err("not a number".into()),
    }
}

fn augment(s: &str) -> Result<Augment, String> {
    s.parse::<Augment>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, FromArgMatches};

    /// The train arguments of `vislab train ARGS`, checked as `main` does.
    pub(crate) fn train(args: &str) -> Result<super::TrainArgs, String> {
        let m = Cli::command().try_get_matches_from(["vislab", "train"].into_iter().chain(args.split_whitespace())).map_err(|e| e.to_string())?;
        let Command::Train(t) = Cli::from_arg_matches(&m).map_err(|e| e.to_string())?.command.expect("a subcommand") else { unreachable!() };
        t.check_flags(m.subcommand_matches("train").expect("train"))?;
        Ok(t)
    }

    #[test]
    fn every_flag_a_model_reads_exists() {
        let cmd = Cli::command();
        let train = cmd.find_subcommand("train").expect("train");
        for m in vislab_engine::registry::MODELS.iter() {
            for id in super::reads(m.name) {
                assert!(train.get_arguments().any(|a| a.get_id() == *id), "{} reads unknown flag {id}", m.name);
            }
        }
    }

    #[test]
    fn flags_of_other_models_are_refused_by_name() {
        assert_eq!(train("--data digits --rounds 5").unwrap_err(), "--rounds is not a flag of --model mlp (it is for gan)");
        assert_eq!(train("--model gan --data digits --lr 0.1").unwrap_err(), "--lr is not a flag of --model gan (it is for mlp, cnn, vae, pixelcnn, detector)");
        assert!(train("--model vae --data digits --optimizer sgd").unwrap_err().starts_with("--optimizer is not a flag of --model vae"));
        let t = train("--model gan --data digits --rounds 5 --no-fd --lr-g 0.001").unwrap();
        assert_eq!((t.rounds, t.no_fd, t.lr_g, t.batch), (5, true, 0.001, None));
    }

    #[test]
    fn the_recipe_holds_every_flag_the_model_reads() {
        let t = train("--model cnn --data digits --augment flip,shift=2").unwrap();
        let r = t.recipe(&[("lr", "0.001".into()), ("epochs", "9".into())]);
        assert_eq!(r.len(), super::reads("cnn").len());
        let get = |k: &str| r[&format!("vislab.train.{k}")].as_str();
        assert_eq!([get("data"), get("epochs"), get("lr"), get("augment"), get("limit"), get("image_size")], ["digits", "9", "0.001", "flip,shift=2", "", "32"]);
        let g = train("--model gan --data mnist:rel/dir --rounds 7").unwrap().recipe(&[]);
        assert_eq!(g["vislab.train.rounds"], "7");
        assert!(g["vislab.train.data"].starts_with("mnist:/") && g["vislab.train.data"].ends_with("rel/dir"), "{}", g["vislab.train.data"]);
    }

    #[test]
    fn values_are_checked_and_errors_name_the_flag() {
        assert!(train("--data digits --epochs 0").unwrap_err().contains("'--epochs <N>'"));
        assert!(train("--data digits --lr -1").unwrap_err().contains("'--lr <X>'"));
        assert!(train("--data digits --optimizer lbfgs").unwrap_err().contains("[possible values: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw]"));
        let e = train("--model vae --data digits --hidden 64,x").unwrap_err();
        assert!(e.contains("'--hidden <H1,H2,..>'"), "{e}");
        let e = train("--data digits --augment zoom").unwrap_err();
        assert!(e.contains("unknown augmentation 'zoom'"), "{e}");
        assert_eq!(train("--data digits --epochs 2 --epochs 3").unwrap().epochs, Some(3), "the last of a repeated flag wins");
        let t = train("--model vae --data digits --hidden 64,32 --conv 8").unwrap();
        assert_eq!((t.hidden, t.conv), (vec![64, 32], vec![8]));
    }
}
