//! What the user chooses before training (network, initializer,
//! optimizer, schedule, regularization, batch, epochs, early stopping),
//! and the jobs built from it for the lab and its search.

use std::sync::Arc;

use vislab_engine::data::Dataset;
use vislab_engine::data::augment::Augment;
use vislab_engine::init::Init;
use vislab_engine::models::{Activation, Family, NetSpec};
use vislab_engine::optim::{AdaGrad, Adam, AdamW, Decay, Momentum, Nesterov, Optimizer, Penalty, Regularizer, RmsProp, Schedule, Sgd};
use vislab_engine::train::{EarlyStopping, Job, Model, TrainConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Opt {
    Sgd,
    Momentum,
    Nesterov,
    AdaGrad,
    RmsProp,
    Adam,
    AdamW,
}

impl Opt {
    pub(super) const ALL: [Opt; 7] = [Opt::Sgd, Opt::Momentum, Opt::Nesterov, Opt::AdaGrad, Opt::RmsProp, Opt::Adam, Opt::AdamW];

    /// The command line's defaults.
    pub(super) fn default_lr(self) -> f32 {
        match self {
            Opt::Sgd => 0.1,
            Opt::Momentum | Opt::Nesterov | Opt::AdaGrad => 0.01,
            _ => 1e-3,
        }
    }

    pub(super) fn make(self, lr: f32) -> Box<dyn Optimizer> {
        match self {
            Opt::Sgd => Box::new(Sgd::new(lr)),
            Opt::Momentum => Box::new(Momentum::new(lr, 0.9)),
            Opt::Nesterov => Box::new(Nesterov::new(lr, 0.9)),
            Opt::AdaGrad => Box::new(AdaGrad::new(lr)),
            Opt::RmsProp => Box::new(RmsProp::new(lr, 0.99)),
            Opt::Adam => Box::new(Adam::new(lr)),
            Opt::AdamW => Box::new(AdamW::new(lr, 0.01)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum InitChoice {
    Kaiming,
    Xavier,
    LeCun,
    Small,
}

impl InitChoice {
    pub(super) const ALL: [InitChoice; 4] = [InitChoice::Kaiming, InitChoice::Xavier, InitChoice::LeCun, InitChoice::Small];

    pub(super) fn init(self) -> Init {
        match self {
            InitChoice::Kaiming => Init::KAIMING_RELU,
            InitChoice::Xavier => Init::XAVIER_NORMAL,
            InitChoice::LeCun => Init::LeCunNormal,
            InitChoice::Small => Init::SMALL,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            InitChoice::Kaiming => "Kaiming (He)",
            InitChoice::Xavier => "Xavier (Glorot)",
            InitChoice::LeCun => "LeCun",
            InitChoice::Small => "small N(0, 0.01)",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DecayChoice {
    Constant,
    Cosine,
    Step,
    Linear,
}

impl DecayChoice {
    pub(super) const ALL: [DecayChoice; 4] = [DecayChoice::Constant, DecayChoice::Cosine, DecayChoice::Step, DecayChoice::Linear];

    pub(super) fn decay(self, steps_per_epoch: usize) -> Decay {
        match self {
            DecayChoice::Constant => Decay::Constant,
            DecayChoice::Cosine => Decay::Cosine,
            // halve every 3 epochs
            DecayChoice::Step => Decay::Step { every: 3 * steps_per_epoch.max(1), gamma: 0.5 },
            DecayChoice::Linear => Decay::Linear,
        }
    }
}

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
    pub(super) init: InitChoice,
    pub(super) batch_norm: bool,
    pub(super) dropout: f32,
    pub(super) optimizer: Opt,
    pub(super) lr: f32,
    pub(super) decay: DecayChoice,
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
        let optimizer = Opt::Adam;
        let lr = if small { 3e-3 } else { optimizer.default_lr() };
        Settings {
            family,
            depth,
            width,
            hidden,
            activation: Activation::Relu,
            init: InitChoice::Kaiming,
            batch_norm: false,
            dropout: 0.0,
            optimizer,
            lr,
            decay: DecayChoice::Cosine,
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

    pub(super) fn regularizer(&self) -> Option<Regularizer> {
        (self.l2 > 0.0).then(|| Regularizer::new(Penalty::L2 { lambda: self.l2 }))
    }
}

impl Settings {
    /// A short run at (`lr`, `l2`) for `epochs`, everything else as set.
    pub(super) fn job_for(&self, image: [usize; 3], train: &Arc<Dataset>, val: &Arc<Dataset>, lr: f32, l2: f32, epochs: usize) -> Result<Job, String> {
        let s = Settings { lr, l2, epochs, early_stopping: false, ..self.clone() };
        let model = s.spec(image, train.num_classes()).model(s.seed, s.init.init()).map_err(|e| e.to_string())?;
        Ok(s.job(Box::new(model), train, val))
    }

    /// Train `model` on `train`, validating on `val`, as set.
    pub(super) fn job(&self, model: Box<dyn Model>, train: &Arc<Dataset>, val: &Arc<Dataset>) -> Job {
        Job::new(model, self.optimizer.make(self.lr), train.clone(), self.config(train)).validate_on(val.clone())
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
