//! The training settings `dam train` and the Python package share: what
//! was given, and everything left out derived from the data
//! ([`super::defaults`], [`crate::potts::defaults`]). The same settings on
//! the same data give the same model, whichever front end trains it.

use anyhow::{Result, bail};
use dam_core::Interaction;

use super::defaults::{self, DataShape};
use super::kh16::{Config, Init, Scale};
use super::select;
use super::session::Stopping;
use crate::data::dataset::Prepared;
use crate::potts;
use crate::train::augment::Augmentation;

/// Which model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// The KH16 one-step classifier.
    Kh16,
    /// Potts hidden units (TT).
    Potts,
}

/// How the memories start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitChoice {
    /// Copies of random training samples.
    Samples,
    /// Uniform random entries in [-1, 1] (Potts only).
    Random,
    /// N(−0.3, 0.3) entries (KH16 only: the KH16 notebook).
    Normal,
}

/// The most memories `-k` takes: beyond it the memories alone need more
/// than a few GiB for any dataset worth training on.
pub const MAX_MEMORIES: usize = 1 << 20;

/// The smallest validation split used to choose the kept epoch.
pub const MIN_VALIDATION: usize = 100;

/// The settings of a run; `None` is "derived from the data". The
/// defaults are `dam train`'s.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Number of memories K (Potts: P).
    pub memories: Option<usize>,
    /// Degree n of the rectified polynomial F (KH16).
    pub degree: Option<u32>,
    /// Loss exponent m (KH16).
    pub m: u32,
    /// The raw KH16 form with this temperature.
    pub temperature: Option<f32>,
    /// β of the normalized form (KH16).
    pub normalized: Option<f32>,
    /// Initial learning rate ε0.
    pub eps0: Option<f32>,
    /// Learning-rate decay per epoch.
    pub decay: Option<f32>,
    /// Momentum.
    pub momentum: Option<f32>,
    /// Minibatch size.
    pub batch: Option<usize>,
    /// Number of epochs.
    pub epochs: Option<usize>,
    /// Early-stopping patience (`Some(0)`: never stop early; KH16).
    pub patience: Option<usize>,
    /// Seed of the initial memories and the shuffles.
    pub seed: u64,
    /// Augmentation: shift by up to this many pixels.
    pub shift: Option<usize>,
    /// Augmentation: rotate by up to this many degrees.
    pub rotate: Option<f32>,
    /// Augmentation: scale by a factor in [1 − zoom, 1 + zoom].
    pub zoom: Option<f32>,
    /// How the memories start.
    pub init: Option<InitChoice>,
    /// The model; `None`: [`kind_for`] the data.
    pub kind: Option<Kind>,
    /// Potts: inverse temperature β.
    pub potts_beta: f32,
    /// Potts: the regularization ς.
    pub smoothing: f32,
    /// Potts: learning rate of the class and prior logits.
    pub logit_rate: f32,
    /// Potts: the constraint set [default: from the data].
    pub constraint: Option<potts::Constraint>,
    /// Potts: learn the prior.
    pub learn_prior: bool,
    /// Potts: grow the memories by splitting (`dam train --grow`).
    pub grow: bool,
    /// Potts: unsupervised, with this many latent classes (`--latent`).
    pub latent: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            memories: None,
            degree: None,
            m: 30,
            temperature: None,
            normalized: None,
            eps0: None,
            decay: None,
            momentum: None,
            batch: None,
            epochs: None,
            patience: None,
            seed: 0,
            shift: None,
            rotate: None,
            zoom: None,
            init: None,
            kind: None,
            potts_beta: 120.0,
            smoothing: 0.0,
            logit_rate: 2.0,
            constraint: None,
            learn_prior: false,
            grow: false,
            latent: None,
        }
    }
}

/// The shape of `data`'s training rows.
pub fn shape_of(data: &Prepared) -> DataShape {
    DataShape {
        rows: data.train.len(),
        features: data.train.dim,
        classes: data.classes.len(),
        image: data.image_shape,
    }
}

/// The model kind: as given; else the kind whose own options are given
/// ([`Settings::kh16_options`], [`Settings::potts_options`]); else Potts
/// hidden units for large square images, where they beat the KH16
/// classifier in a fraction of its time (`BENCHMARKS.md`, "Your own
/// data"), and the KH16 classifier otherwise.
pub fn kind_for(settings: &Settings, data: &Prepared) -> Kind {
    let given = settings.kind;
    if !settings.kh16_options().is_empty() {
        return given.unwrap_or(Kind::Kh16);
    }
    if !settings.potts_options().is_empty() {
        return given.unwrap_or(Kind::Potts);
    }
    given.unwrap_or_else(|| {
        let shape = DataShape {
            rows: data.train.len() + data.val.as_ref().map_or(0, |v| v.len()),
            ..shape_of(data)
        };
        if defaults::is_large_image(&shape) {
            Kind::Potts
        } else {
            Kind::Kh16
        }
    })
}

/// A validation split of fewer than [`MIN_VALIDATION`] rows moves in
/// steps of more than a point per row: too coarse to choose epochs with,
/// so its rows train instead. Returns how many rows moved, if any did.
pub fn merge_small_validation(data: &mut Prepared) -> Option<usize> {
    let v = data.val.take_if(|v| v.len() < MIN_VALIDATION)?;
    data.train.append(&v);
    Some(v.len())
}

/// Moves the whole validation split into the training rows: a Potts run
/// keeps its last epoch, so it chooses nothing on held-out rows.
pub fn merge_validation(data: &mut Prepared) {
    if let Some(v) = data.val.take() {
        data.train.append(&v);
    }
}

impl Settings {
    /// The options only the KH16 classifier takes that are given, by
    /// their `dam train` names.
    pub fn kh16_options(&self) -> Vec<&'static str> {
        [
            (self.degree.is_some(), "-n"),
            (self.temperature.is_some(), "--temperature"),
            (self.normalized.is_some(), "--normalized"),
            (self.patience.is_some(), "--patience"),
        ]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect()
    }

    /// The options only Potts hidden units take that are given (those
    /// that always have a value, such as `--beta`, cannot tell).
    pub fn potts_options(&self) -> Vec<&'static str> {
        [
            (self.grow, "--grow"),
            (self.learn_prior, "--learn-prior"),
            (self.latent.is_some(), "--latent"),
            (self.constraint.is_some(), "--constraint"),
        ]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect()
    }

    /// Checks what needs no data: the options of one model kind only
    /// (and of the kind given), at least one epoch, and `-k` within bounds
    /// (a clear error instead of an allocation abort).
    pub fn check(&self) -> Result<()> {
        let (kh16_only, potts_only) = (self.kh16_options(), self.potts_options());
        let are = |v: &[&str]| if v.len() == 1 { "is" } else { "are" };
        if !kh16_only.is_empty() && !potts_only.is_empty() {
            bail!(
                "{} {} for the KH16 classifier and {} {} for Potts hidden units: give the options of one kind",
                kh16_only.join(", "),
                are(&kh16_only),
                potts_only.join(", "),
                are(&potts_only)
            );
        }
        if self.kind == Some(Kind::Potts) && !kh16_only.is_empty() {
            bail!(
                "{} {} for the KH16 classifier (--kind kh16), not for Potts hidden units",
                kh16_only.join(", "),
                are(&kh16_only)
            );
        }
        if self.kind == Some(Kind::Kh16) && !potts_only.is_empty() {
            bail!(
                "{} {} for Potts hidden units (--kind potts), not for the KH16 classifier",
                potts_only.join(", "),
                are(&potts_only)
            );
        }
        if self.epochs == Some(0) {
            bail!("--epochs 0: a run needs at least one epoch");
        }
        if let Some(k) = self.memories
            && !(1..=MAX_MEMORIES).contains(&k)
        {
            bail!("-k {k}: K, the number of memories, must be between 1 and {MAX_MEMORIES}");
        }
        Ok(())
    }

    /// Whether augmentation was asked for (then what is left out is 0).
    fn augment_given(&self) -> bool {
        self.shift.is_some() || self.rotate.is_some() || self.zoom.is_some()
    }

    /// The KH16 settings: derived from `data`, then what was given.
    pub fn kh16_config(&self, data: &Prepared) -> Result<Config> {
        let shape = shape_of(data);
        let auto = defaults::auto_config(&data.train, &shape, self.seed);
        let epochs = self.epochs.unwrap_or(auto.epochs);
        let degree = self
            .degree
            .unwrap_or_else(|| auto.interaction.degree().unwrap_or(20));
        let (shift, rotate, zoom) = if self.augment_given() {
            (
                self.shift.unwrap_or(0),
                self.rotate.unwrap_or(0.0),
                self.zoom.unwrap_or(0.0),
            )
        } else {
            (auto.shift, auto.rotate, auto.zoom)
        };
        Ok(Config {
            k: self.memories.unwrap_or(auto.k),
            interaction: Interaction::RectifiedPolynomial { n: degree },
            scale: match (self.temperature, self.normalized) {
                (Some(temperature), _) => Scale::Raw { temperature },
                (None, Some(beta)) => Scale::Normalized { beta },
                (None, None) if self.degree.is_some() => Scale::Normalized {
                    beta: defaults::beta_for(&data.train, data.classes.len(), degree),
                },
                (None, None) => auto.scale,
            },
            m: self.m,
            eps0: self.eps0.unwrap_or(match self.batch {
                Some(b) if b != auto.batch => defaults::eps0_for(b),
                _ => auto.eps0,
            }),
            decay: self.decay.unwrap_or_else(|| defaults::decay_for(epochs)),
            momentum: self.momentum.unwrap_or(auto.momentum),
            batch: self.batch.unwrap_or(auto.batch),
            epochs,
            init: match self.init {
                Some(InitChoice::Normal) => Init::Normal,
                Some(InitChoice::Samples) => Init::Samples,
                None => auto.init,
                Some(InitChoice::Random) => {
                    bail!("--init random is for --kind potts; kh16 takes samples or normal")
                }
            },
            shift,
            rotate,
            zoom,
            ..auto
        })
    }

    /// Checks the augmentation of `config` against `data`: it needs
    /// square images.
    pub fn check_augmentation(config: &Config, data: &Prepared) -> Result<()> {
        let augmented = config.shift > 0 || config.rotate > 0.0 || config.zoom > 0.0;
        match data.image_shape {
            Some((h, w)) if augmented && h != w => bail!(
                "augmentation needs square images; these are {h}×{w} (pass --shift 0 --rotate 0 --zoom 0)"
            ),
            None if augmented => bail!(
                "augmentation needs image data: give --image-shape HxW or leave --shift/--rotate/--zoom out"
            ),
            _ => Ok(()),
        }
    }

    /// Whether the degree is chosen on held-out rows (`train::select`):
    /// neither a degree nor a `β`/`T` given, and data that do not get the
    /// large-image settings.
    pub fn chooses_degree(&self, data: &Prepared) -> bool {
        self.degree.is_none()
            && self.normalized.is_none()
            && self.temperature.is_none()
            && !defaults::is_large_image(&shape_of(data))
    }

    /// Early stopping: as given, or a quarter of the epochs.
    pub fn stopping(&self, config: &Config) -> Stopping {
        Stopping {
            patience: match self.patience {
                Some(0) => None,
                Some(p) => Some(p),
                None => Some(defaults::patience_for(config.epochs)),
            },
        }
    }

    /// The Potts settings: [`crate::potts::defaults`] for data of `shape`
    /// (the plain defaults without one: the latent task, whose rows are
    /// patches), then what was given.
    pub fn potts_config(&self, shape: Option<&DataShape>) -> Result<potts::Config> {
        let base = match shape {
            Some(shape) => potts::defaults::config(shape, self.seed),
            None => potts::Config {
                seed: self.seed,
                ..potts::Config::default()
            },
        };
        Ok(potts::Config {
            p: self.memories.unwrap_or(base.p),
            beta: self.potts_beta,
            smoothing: self.smoothing,
            eps0: self.eps0.unwrap_or(base.eps0),
            logit_rate: self.logit_rate,
            decay: self.decay.unwrap_or(base.decay),
            momentum: self.momentum.unwrap_or(base.momentum),
            learn_prior: self.learn_prior,
            batch: self.batch.unwrap_or(base.batch),
            epochs: self.epochs.unwrap_or(base.epochs),
            seed: self.seed,
            constraint: self.constraint.unwrap_or(base.constraint),
            augmentation: if self.augment_given() {
                Augmentation::new(
                    self.shift.unwrap_or(0),
                    self.rotate.unwrap_or(0.0),
                    self.zoom.unwrap_or(0.0),
                )
            } else {
                base.augmentation
            },
            init: match self.init.unwrap_or(InitChoice::Samples) {
                InitChoice::Normal => {
                    bail!("--init normal is for --kind kh16; potts takes samples or random")
                }
                InitChoice::Samples => potts::Init::Samples,
                InitChoice::Random => potts::Init::Random,
            },
        })
    }
}

/// `config` with the degree chosen on held-out rows ([`select`]): the
/// validation split of `data` if it is large enough, else folds of the
/// training rows; `report` gets each candidate's score. `None` if
/// `stop` said to stop.
pub fn choose_degree(
    config: &Config,
    data: &Prepared,
    stopping: &Stopping,
    stop: &(dyn Fn() -> bool + Sync),
    report: impl FnMut(&select::Score),
) -> Result<Option<(Config, select::Choice)>> {
    let nc = data.classes.len();
    let patience = stopping.patience.unwrap_or(config.epochs);
    let choice = select::choose_degree(
        config,
        &data.train,
        data.val.as_ref(),
        nc,
        patience,
        stop,
        report,
    )?;
    Ok(choice.map(|c| (select::with_degree(config, &data.train, nc, c.degree), c)))
}
