//! What the user chooses before training (network, initializer,
//! optimizer, schedule, regularization, batch, epochs, early stopping),
//! and the jobs built from it for the lab and its search.

use std::collections::BTreeMap;
use std::sync::Arc;

use vislab_engine::data::augment::Augment;
use vislab_engine::data::image_folder::FolderOptions;
use vislab_engine::data::{Dataset, Source};
use vislab_engine::models::{Activation, Family, NetSpec};
use vislab_engine::optim::{Penalty, Regularizer, Schedule};
use vislab_engine::registry::{self, InitKind, OptimizerKind, ScheduleKind};
use vislab_engine::train::{EarlyStopping, Job, Model, TrainConfig};

use crate::commands::train_args::{RECIPE, absolute_data};

/// Everything the user chooses before training.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Settings {
    pub(super) family: Family,
    /// Hidden layers (MLP) or stages (CNN, ResNet).
    pub(super) depth: usize,
    /// First hidden layer's width (MLP halves it per layer) or first
    /// stage's channels (doubled per stage).
    pub(super) width: usize,
    /// CNN: the fully connected layer's width.
    pub(super) hidden: usize,
    pub(super) activation: Activation,
    pub(super) init: &'static InitKind,
    pub(super) batch_norm: bool,
    pub(super) dropout: f32,
    pub(super) optimizer: &'static OptimizerKind,
    pub(super) lr: f32,
    pub(super) decay: &'static ScheduleKind,
    /// L2 strength on weights (0: none).
    pub(super) l2: f32,
    pub(super) batch: usize,
    pub(super) epochs: usize,
    pub(super) seed: u64,
    pub(super) early_stopping: bool,
    pub(super) patience: usize,
    /// Random augmentation of the training batches (identity: none).
    pub(super) augment: Augment,
}

impl Settings {
    /// The command line's defaults for 28x28 images; smaller nets for small ones.
    pub(super) fn for_image(family: Family, image: [usize; 3]) -> Settings {
        let small = image[1] < 16;
        let (depth, width, hidden) = match (family, small) {
            (Family::Mlp, false) => (2, 512, 128),
            (Family::Mlp, true) => (2, 128, 128),
            (_, false) => (2, 16, 128),
            (_, true) => (2, 8, 64),
        };
        let epochs = match (family, small) {
            (_, true) => 15,
            (Family::Mlp, false) => 8,
            _ => 3,
        };
        let optimizer = registry::optimizer("adam").expect("adam is registered");
        let lr = if small { 3e-3 } else { optimizer.default_lr };
        Settings {
            family,
            depth,
            width,
            hidden,
            activation: Activation::Relu,
            init: registry::initializer("kaiming").expect("kaiming is registered"),
            batch_norm: false,
            dropout: 0.0,
            optimizer,
            lr,
            decay: registry::schedule("cosine").expect("cosine is registered"),
            l2: 0.0,
            batch: if small { 32 } else { 64 },
            epochs,
            seed: 0,
            early_stopping: false,
            patience: 3,
            augment: Augment::default(),
        }
    }

    pub(super) fn spec(&self, image: [usize; 3], classes: usize) -> NetSpec {
        let widths = (0..self.depth)
            .map(|i| match self.family {
                Family::Mlp => (self.width >> i).max(2),
                _ => self.width << i,
            })
            .collect();
        NetSpec { family: self.family, image, classes, widths, hidden: self.hidden, activation: self.activation, batch_norm: self.batch_norm, dropout: self.dropout }
    }

    /// The run's recipe for its checkpoint, under the `vislab.train.*` keys
    /// `vislab train --model mlp|cnn` writes (and the lab's `l2`), so
    /// `vislab eval` and `vislab export` read a lab run as one of theirs.
    /// `source` is None for data handed over by another loader.
    pub(super) fn recipe(&self, source: Option<&Source>, limit: Option<usize>) -> BTreeMap<String, String> {
        let folder = match source {
            Some(Source::Folder(_, o)) => *o,
            _ => FolderOptions::default(),
        };
        let num = |n: Option<usize>| n.map_or(String::new(), |n| n.to_string());
        [
            ("data", source.map_or(String::new(), |s| absolute_data(&s.spec()))),
            ("image_size", folder.size.to_string()),
            ("grayscale", folder.grayscale.to_string()),
            ("epochs", self.epochs.to_string()),
            ("batch", self.batch.to_string()),
            ("lr", self.lr.to_string()),
            ("schedule", self.decay.name.to_string()),
            ("seed", self.seed.to_string()),
            ("limit", num(limit)),
            ("optimizer", self.optimizer.name.to_string()),
            ("augment", self.augment.to_string()),
            ("l2", self.l2.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("{RECIPE}{k}"), v))
        .collect()
    }

    pub(super) fn regularizer(&self) -> Option<Regularizer> {
        (self.l2 > 0.0).then(|| Regularizer::new(Penalty::L2 { lambda: self.l2 }))
    }
}

impl Settings {
    /// A short run at (`lr`, `l2`) for `epochs`, everything else as set.
    pub(super) fn job_for(&self, image: [usize; 3], train: &Arc<Dataset>, val: &Arc<Dataset>, lr: f32, l2: f32, epochs: usize) -> Result<Job, String> {
        let s = Settings { lr, l2, epochs, early_stopping: false, ..self.clone() };
        let model = s.spec(image, train.num_classes()).model(s.seed, s.init.init).map_err(|e| e.to_string())?;
        Ok(s.job(Box::new(model), train, val))
    }

    /// Train `model` on `train`, validating on `val`, as set.
    pub(super) fn job(&self, model: Box<dyn Model>, train: &Arc<Dataset>, val: &Arc<Dataset>) -> Job {
        Job::new(model, self.optimizer.build(self.lr), train.clone(), self.config(train)).validate_on(val.clone())
    }

    /// The trainer's configuration for `train`, as set.
    pub(super) fn config(&self, train: &Dataset) -> TrainConfig {
        let steps = train.num_batches(self.batch, false);
        let mut config = TrainConfig::new(self.epochs, self.batch, Schedule::new(self.lr, self.decay.decay(steps)));
        config.seed = self.seed;
        config.eval_batch_size = super::EVAL_BATCH;
        config.regularizer = self.regularizer();
        config.early_stopping = self.early_stopping.then_some(EarlyStopping { patience: self.patience, min_delta: 0.0 });
        config.augment = (!self.augment.is_identity()).then_some(self.augment);
        config
    }
}
