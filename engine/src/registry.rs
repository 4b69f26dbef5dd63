//! The optimizers, learning-rate schedules, initializers and models that
//! the command line and the labs offer, one table each, so both spell,
//! describe and build them the same way.

use crate::init::Init;
use crate::optim::{AdaGrad, Adam, AdamW, Decay, Momentum, Nesterov, Optimizer, RmsProp, Sgd};

/// An optimizer by name, with the learning rate it starts from.
#[derive(Debug)]
pub struct OptimizerKind {
    /// The command line's spelling.
    pub name: &'static str,
    /// The UI's.
    pub title: &'static str,
    pub default_lr: f32,
    build: fn(f32) -> Box<dyn Optimizer>,
}

impl OptimizerKind {
    pub fn build(&self, lr: f32) -> Box<dyn Optimizer> {
        (self.build)(lr)
    }
}

impl PartialEq for OptimizerKind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

pub static OPTIMIZERS: [OptimizerKind; 7] = [
    OptimizerKind { name: "sgd", title: "SGD", default_lr: 0.1, build: |lr| Box::new(Sgd::new(lr)) },
    OptimizerKind { name: "momentum", title: "Momentum", default_lr: 0.01, build: |lr| Box::new(Momentum::new(lr, 0.9)) },
    OptimizerKind { name: "nesterov", title: "Nesterov", default_lr: 0.01, build: |lr| Box::new(Nesterov::new(lr, 0.9)) },
    OptimizerKind { name: "adagrad", title: "AdaGrad", default_lr: 0.01, build: |lr| Box::new(AdaGrad::new(lr)) },
    OptimizerKind { name: "rmsprop", title: "RMSProp", default_lr: 1e-3, build: |lr| Box::new(RmsProp::new(lr, 0.99)) },
    OptimizerKind { name: "adam", title: "Adam", default_lr: 1e-3, build: |lr| Box::new(Adam::new(lr)) },
    OptimizerKind { name: "adamw", title: "AdamW", default_lr: 1e-3, build: |lr| Box::new(AdamW::new(lr, 0.01)) },
];

/// A learning-rate decay over the run.
#[derive(Debug)]
pub struct ScheduleKind {
    pub name: &'static str,
    pub title: &'static str,
    decay: fn(usize) -> Decay,
}

impl ScheduleKind {
    /// The decay for a run of `steps_per_epoch` steps an epoch.
    pub fn decay(&self, steps_per_epoch: usize) -> Decay {
        (self.decay)(steps_per_epoch)
    }
}

impl PartialEq for ScheduleKind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

pub static SCHEDULES: [ScheduleKind; 4] = [
    ScheduleKind { name: "constant", title: "Constant", decay: |_| Decay::Constant },
    ScheduleKind { name: "cosine", title: "Cosine", decay: |_| Decay::Cosine },
    // halve every 3 epochs
    ScheduleKind { name: "step", title: "Step (halve every 3 epochs)", decay: |steps| Decay::Step { every: 3 * steps.max(1), gamma: 0.5 } },
    ScheduleKind { name: "linear", title: "Linear", decay: |_| Decay::Linear },
];

/// A weight initializer (biases start at zero).
#[derive(Debug, PartialEq)]
pub struct InitKind {
    pub name: &'static str,
    pub title: &'static str,
    pub init: Init,
}

pub static INITIALIZERS: [InitKind; 4] = [
    InitKind { name: "kaiming", title: "Kaiming (He)", init: Init::KAIMING_RELU },
    InitKind { name: "xavier", title: "Xavier (Glorot)", init: Init::XAVIER_NORMAL },
    InitKind { name: "lecun", title: "LeCun", init: Init::LeCunNormal },
    InitKind { name: "small", title: "small N(0, 0.01)", init: Init::SMALL },
];

/// A model `vislab train --model NAME` trains.
#[derive(Debug, PartialEq)]
pub struct ModelKind {
    pub name: &'static str,
    pub about: &'static str,
}

pub static MODELS: [ModelKind; 6] = [
    ModelKind { name: "mlp", about: "784-512-256-10 MLP classifier (ReLU)" },
    ModelKind { name: "cnn", about: "conv 16, pool, conv 32, pool, fc 128 classifier" },
    ModelKind { name: "vae", about: "variational autoencoder (MLP or convolutional) on binarized images" },
    ModelKind { name: "pixelcnn", about: "PixelCNN on binarized one-channel images" },
    ModelKind { name: "detector", about: "single-stage anchor detector on seeded synthetic shapes" },
    ModelKind { name: "gan", about: "DCGAN on one-channel square images" },
];

/// The entry of `table` called `name`, or a message naming every choice.
pub fn find<T>(table: &'static [T], name: &str, what: &str, name_of: fn(&T) -> &'static str) -> Result<&'static T, String> {
    table.iter().find(|e| name_of(e) == name).ok_or_else(|| {
        let names: Vec<&str> = table.iter().map(name_of).collect();
        format!("unknown {what} '{name}' (expected {})", names.join(", "))
    })
}

pub fn optimizer(name: &str) -> Result<&'static OptimizerKind, String> {
    find(&OPTIMIZERS, name, "optimizer", |e| e.name)
}

pub fn schedule(name: &str) -> Result<&'static ScheduleKind, String> {
    find(&SCHEDULES, name, "schedule", |e| e.name)
}

pub fn initializer(name: &str) -> Result<&'static InitKind, String> {
    find(&INITIALIZERS, name, "initializer", |e| e.name)
}

pub fn model(name: &str) -> Result<&'static ModelKind, String> {
    find(&MODELS, name, "model", |e| e.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for names in [
            OPTIMIZERS.iter().map(|e| e.name).collect::<Vec<_>>(),
            SCHEDULES.iter().map(|e| e.name).collect(),
            INITIALIZERS.iter().map(|e| e.name).collect(),
            MODELS.iter().map(|e| e.name).collect(),
        ] {
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{names:?}");
        }
        assert_eq!(optimizer("adamw").unwrap().title, "AdamW");
        assert_eq!(schedule("step").unwrap().decay(100), Decay::Step { every: 300, gamma: 0.5 });
        assert_eq!(initializer("xavier").unwrap().init, Init::XAVIER_NORMAL);
        assert_eq!(optimizer("lbfgs").unwrap_err(), "unknown optimizer 'lbfgs' (expected sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw)");
        assert!(model("resnet").unwrap_err().starts_with("unknown model 'resnet' (expected mlp, cnn,"));
    }

    #[test]
    fn optimizers_build_with_their_rate() {
        for o in &OPTIMIZERS {
            let opt = o.build(o.default_lr);
            assert_eq!((opt.kind(), opt.lr()), (o.name, o.default_lr));
        }
    }
}
