//! Constrained SGD of a Potts memory, supervised or with latent classes
//! (one code path: only the [`Target`] differs).
//!
//! Memories take the \[KH16\] notebook's step ([`Momentum`]: momentum, a step
//! normalized per memory by its largest entry), then the Euclidean
//! projection onto the [`Constraint`] set: the box `[−1, 1]^D` or the sphere
//! `|w| = √D`. The logits `θ`, `ρ` are unconstrained
//! and take plain SGD steps on the minibatch mean, scaled by `P` because a
//! sample's gradient is shared among the hidden states that attend to it.
//! Minibatches are split into fixed chunks of [`CHUNK`] samples processed in
//! parallel and summed in order, so a seed gives the same model for any
//! thread count.

use anyhow::{Result, bail};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::batch::{self, Partial, Shared, Target};
use super::params::Params;
use crate::data::mnist::Split;
use crate::train::augment::{Augmentation, Draw};
use crate::train::kh16::CHUNK;
use crate::train::optimizer::{Momentum, learning_rate};

/// Supervised, or unsupervised with `classes` latent classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Labels from the data, `C` classes.
    Supervised {
        /// `C`.
        classes: usize,
    },
    /// No labels: `C` latent classes.
    Latent {
        /// `C`.
        classes: usize,
    },
}

impl Task {
    /// `C`.
    pub fn classes(self) -> usize {
        match self {
            Task::Supervised { classes } | Task::Latent { classes } => classes,
        }
    }
}

/// The set the memories are kept on (after every step, the Euclidean
/// projection onto it).
///
/// ```
/// use dam_std::potts::Constraint;
/// let mut w = [3.0f32, 4.0, 0.5, -2.0];
/// Constraint::Sphere.project(&mut w, 2);
/// // Each row of 2 entries scaled to length √2.
/// assert!((w[0] * w[0] + w[1] * w[1] - 2.0).abs() < 1e-5);
/// Constraint::Box.project(&mut w, 2);
/// assert!(w.iter().all(|x| x.abs() <= 1.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Constraint {
    /// Every entry in `[−1, 1]`, the range of the images (clipping).
    #[default]
    Box,
    /// Every memory of length `√D`, the length of a `±1` image (scaling).
    /// Then the overlap `w·v / D` is a cosine up to the image's length, and
    /// the largest overlap is the nearest memory in Euclidean distance, so
    /// no memory is favoured for carrying more ink.
    Sphere,
}

impl Constraint {
    /// Projects each row of `d` entries of `w` onto the set. A zero row on
    /// the sphere becomes the constant row `1` (any point of the sphere is a
    /// nearest one).
    pub fn project(self, w: &mut [f32], d: usize) {
        if d == 0 {
            return;
        }
        match self {
            Constraint::Box => w.iter_mut().for_each(|x| *x = x.clamp(-1.0, 1.0)),
            Constraint::Sphere => {
                let radius = (d as f64).sqrt();
                for row in w.chunks_exact_mut(d) {
                    let norm = row
                        .iter()
                        .map(|&x| f64::from(x).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    if norm > 0.0 && norm.is_finite() {
                        let s = (radius / norm) as f32;
                        row.iter_mut().for_each(|x| *x *= s);
                    } else {
                        row.fill(1.0);
                    }
                }
            }
        }
    }
}

/// How the memories start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Init {
    /// Copies of random training samples (then projected onto the
    /// constraint set).
    #[default]
    Samples,
    /// Independent uniform entries in `[−1, 1]` (then projected): a start
    /// that knows nothing of the data, for comparisons.
    Random,
}

/// Training settings; the defaults are those of `dam train --kind potts`
/// (tuned on an MNIST subset, `docs/potts.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Hidden states `P`.
    pub p: usize,
    /// `β` (overlaps scaled by `1/D`).
    pub beta: f32,
    /// The regularization `ς ∈ [0, 1)` (`docs/potts.md`); `0` is plain NLL.
    pub smoothing: f32,
    /// Initial learning rate of the memories (largest entry step).
    pub eps0: f32,
    /// Learning rate of the logits (times `P`, on the minibatch mean).
    pub logit_rate: f32,
    /// Learning-rate decay per epoch (both rates).
    pub decay: f32,
    /// Momentum of the memories.
    pub momentum: f32,
    /// Learn the prior `p_h` (otherwise it stays as initialized: uniform,
    /// or halved by each split).
    pub learn_prior: bool,
    /// Minibatch size.
    pub batch: usize,
    /// Epochs.
    pub epochs: usize,
    /// Seed of the initialization and the shuffles.
    pub seed: u64,
    /// The constraint set of the memories.
    pub constraint: Constraint,
    /// How training images are changed each epoch (`Shift(0)`: not at all).
    pub augmentation: Augmentation,
    /// How the memories start.
    pub init: Init,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            p: 100,
            beta: 120.0,
            smoothing: 0.0,
            eps0: 0.03,
            logit_rate: 2.0,
            decay: 0.95,
            momentum: 0.6,
            learn_prior: false,
            batch: 500,
            epochs: 20,
            seed: 0,
            constraint: Constraint::Box,
            augmentation: Augmentation::Shift(0),
            init: Init::Samples,
        }
    }
}

impl Config {
    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        let pos = |x: f32| x.is_finite() && x > 0.0;
        if self.p == 0 || self.batch == 0 {
            bail!("P and the minibatch size must be at least 1");
        }
        if !(pos(self.beta)
            && pos(self.eps0)
            && pos(self.decay)
            && self.logit_rate.is_finite()
            && self.logit_rate >= 0.0)
        {
            bail!("need finite beta, eps0, decay > 0 and a finite logit_rate ≥ 0");
        }
        if !(0.0..1.0).contains(&self.smoothing) || !(0.0..1.0).contains(&self.momentum) {
            bail!("smoothing and momentum must be in [0, 1)");
        }
        self.augmentation
            .validate()
            .map_err(|e| anyhow::anyhow!("augmentation: {e}"))
    }
}

/// Loss and training accuracy of one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// The epoch just finished (from 1).
    pub epoch: usize,
    /// Mean loss per sample (before each minibatch's update).
    pub loss: f64,
    /// Training accuracy of `argmax p(y|v)` (supervised; `NaN` otherwise).
    pub train_accuracy: f64,
    /// Memory-sample operations so far (one per memory per sample seen).
    pub ops: u64,
}

/// A Potts memory being trained.
#[derive(Debug, Clone, PartialEq)]
pub struct Trainer {
    /// Settings.
    pub config: Config,
    /// What is learned.
    pub task: Task,
    /// Parameters.
    pub params: Params,
    /// Momentum of the memories.
    pub opt: Momentum,
    /// The mean `q̄` of `p(y|v)` over the last minibatch (the latent target).
    pub marginal: Vec<f32>,
    /// Epochs done.
    pub epoch: usize,
    /// Memory-sample operations so far.
    pub ops: u64,
}

impl Trainer {
    /// `P` memories as `config.init` says (copies of random samples of
    /// `data`, or random entries), class logits uniform in `±0.01`, a
    /// uniform prior.
    pub fn new(config: Config, task: Task, data: &Split) -> Result<Self> {
        config.validate()?;
        let (d, c) = (data.dim, task.classes());
        if d == 0 || c == 0 || data.is_empty() {
            bail!("need data, at least one pixel and one class");
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut w = Vec::with_capacity(config.p * d);
        for _ in 0..config.p {
            match config.init {
                Init::Samples => w.extend_from_slice(data.image(rng.random_range(0..data.len()))),
                Init::Random => w.extend((0..d).map(|_| rng.random_range(-1.0f32..1.0))),
            }
        }
        config.constraint.project(&mut w, d);
        let theta = (0..config.p * c)
            .map(|_| 0.01 * rng.random_range(-1.0f32..1.0))
            .collect();
        let params = Params {
            p: config.p,
            d,
            c,
            beta: config.beta,
            w,
            theta,
            rho: vec![0.0; config.p],
        };
        Ok(Self::from_params(config, task, params))
    }

    /// Continues from given parameters (fresh optimizer state).
    pub fn from_params(config: Config, task: Task, params: Params) -> Self {
        let c = params.c;
        Trainer {
            opt: Momentum::new(config.momentum, params.p, params.d),
            marginal: vec![1.0 / c as f32; c],
            epoch: 0,
            ops: 0,
            config: Config {
                p: params.p,
                ..config
            },
            task,
            params,
        }
    }

    /// One epoch (shuffled from the seed and the epoch number); `None` if
    /// `stop()` turned true between minibatches.
    pub fn run_epoch(
        &mut self,
        data: &Split,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<EpochStats>> {
        check(data, &self.params, self.task)?;
        self.config
            .augmentation
            .check_image(data.dim)
            .map_err(|e| anyhow::anyhow!("augmentation: {e}"))?;
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.config.seed ^ (self.epoch as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let eps = learning_rate(self.config.eps0, self.config.decay, self.epoch);
        let logit_eps = self.config.logit_rate * eps / self.config.eps0 * self.params.p as f32;
        let (mut loss, mut correct) = (0.0f64, 0usize);
        for batch in order.chunks(self.config.batch) {
            if stop() {
                return Ok(None);
            }
            let g = self.gradient(data, batch, self.draw());
            loss += g.loss;
            correct += g.correct;
            self.step(&g, batch.len(), eps, logit_eps);
        }
        self.epoch += 1;
        let n = data.len().max(1) as f64;
        Ok(Some(EpochStats {
            epoch: self.epoch,
            loss: loss / n,
            train_accuracy: match self.task {
                Task::Supervised { .. } => correct as f64 / n,
                Task::Latent { .. } => f64::NAN,
            },
            ops: self.ops,
        }))
    }

    /// The augmentation draw of the current epoch.
    pub fn draw(&self) -> Draw {
        Draw::for_epoch(self.config.augmentation, self.config.seed, self.epoch)
    }

    /// The summed gradient over the samples `idx` as `draw` changes them
    /// (and counts the operations).
    pub fn gradient(&mut self, data: &Split, idx: &[usize], draw: Draw) -> Partial {
        self.ops += (idx.len() * self.params.p) as u64;
        if let Task::Latent { .. } = self.task {
            // The latent target needs the minibatch's mean q first: one
            // more forward pass (counted).
            self.ops += (idx.len() * self.params.p) as u64;
            self.marginal = mean_posterior(&self.params, self.config.smoothing, data, idx, draw);
        }
        gradient(
            &self.params,
            self.config.smoothing,
            self.task,
            &self.marginal,
            data,
            idx,
            draw,
        )
    }

    fn step(&mut self, g: &Partial, n: usize, eps: f32, logit_eps: f32) {
        let descent: Vec<f32> = g.w.iter().map(|x| -x).collect();
        self.opt.step_unclipped(&mut self.params.w, &descent, eps);
        self.config
            .constraint
            .project(&mut self.params.w, self.params.d);
        let rate = logit_eps / n as f32;
        self.params
            .theta
            .iter_mut()
            .zip(&g.theta)
            .for_each(|(t, g)| *t -= rate * g);
        if self.config.learn_prior {
            self.params
                .rho
                .iter_mut()
                .zip(&g.rho)
                .for_each(|(r, g)| *r -= rate * g);
        }
    }
}

/// The samples of one chunk, copied out of the split.
#[derive(Debug, Clone)]
pub struct Samples {
    /// `b × D` images.
    pub v: Vec<f32>,
    /// Their labels.
    pub labels: Vec<u16>,
}

impl Samples {
    /// The samples `idx` of `data`.
    pub fn gather(data: &Split, idx: &[usize]) -> Self {
        Self::drawn(data, idx, Draw::PLAIN)
    }

    /// The samples `idx` of `data` as `draw` changes them.
    pub fn drawn(data: &Split, idx: &[usize], draw: Draw) -> Self {
        let mut v = Vec::with_capacity(idx.len() * data.dim);
        let mut labels = Vec::with_capacity(idx.len());
        for &i in idx {
            draw.append(data.image(i), i, &mut v);
            labels.push(data.labels[i]);
        }
        Samples { v, labels }
    }

    /// The loss target of `task` for these samples.
    pub fn target<'a>(&'a self, task: Task, marginal: &'a [f32]) -> Target<'a> {
        match task {
            Task::Supervised { .. } => Target::Labels(&self.labels),
            Task::Latent { .. } => Target::Latent { marginal },
        }
    }
}

/// The mean of `q = p(· | v)` over the samples `idx` (with the smoothing
/// `ς`), in fixed chunks in parallel.
pub fn mean_posterior(
    params: &Params,
    smoothing: f32,
    data: &Split,
    idx: &[usize],
    draw: Draw,
) -> Vec<f32> {
    let shared = Shared::new(params, smoothing);
    let c = params.c;
    let sums: Vec<Vec<f64>> = idx
        .par_chunks(CHUNK)
        .map(|idx| {
            let samples = Samples::drawn(data, idx, draw);
            let mut sum = vec![0.0f64; c];
            for q in batch::forward(params, &shared, &samples.v)
                .q
                .chunks_exact(c)
            {
                sum.iter_mut().zip(q).for_each(|(s, &x)| *s += f64::from(x));
            }
            sum
        })
        .collect();
    let mut total = vec![0.0f64; c];
    for s in &sums {
        total.iter_mut().zip(s).for_each(|(t, x)| *t += x);
    }
    let n = idx.len().max(1) as f64;
    total.iter().map(|&t| (t / n) as f32).collect()
}

/// The gradient of the summed loss over the samples `idx` of `data`, in
/// fixed chunks of [`CHUNK`] in parallel, summed in order.
pub fn gradient(
    params: &Params,
    smoothing: f32,
    task: Task,
    marginal: &[f32],
    data: &Split,
    idx: &[usize],
    draw: Draw,
) -> Partial {
    let shared = Shared::new(params, smoothing);
    let parts: Vec<Partial> = idx
        .par_chunks(CHUNK)
        .map(|idx| {
            let samples = Samples::drawn(data, idx, draw);
            batch::partial(params, &shared, &samples.v, samples.target(task, marginal))
        })
        .collect();
    let mut sum = Partial {
        w: vec![0.0; params.w.len()],
        theta: vec![0.0; params.theta.len()],
        rho: vec![0.0; params.p],
        ..Partial::default()
    };
    for p in &parts {
        add(&mut sum.w, &p.w);
        add(&mut sum.theta, &p.theta);
        add(&mut sum.rho, &p.rho);
        sum.loss += p.loss;
        sum.correct += p.correct;
    }
    sum
}

fn add(acc: &mut [f32], x: &[f32]) {
    acc.iter_mut().zip(x).for_each(|(a, x)| *a += x);
}

fn check(data: &Split, params: &Params, task: Task) -> Result<()> {
    if data.dim != params.d {
        bail!(
            "the samples have {} entries, the memories {}",
            data.dim,
            params.d
        );
    }
    if let Task::Supervised { classes } = task
        && let Some(&l) = data.labels.iter().find(|&&l| usize::from(l) >= classes)
    {
        bail!("label {l} does not fit {classes} classes");
    }
    Ok(())
}

/// Test accuracy of both readouts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    /// `argmax_y p(y | v)`.
    pub posterior: f64,
    /// The 1-NN readout.
    pub nearest: f64,
}

/// Both readouts over `split` (in parallel), against its labels.
pub fn evaluate(params: &Params, split: &Split) -> Accuracy {
    let shared = Shared::new(params, 0.0);
    let preds: Vec<(Vec<usize>, Vec<usize>)> = split
        .images
        .par_chunks(CHUNK * params.d)
        .map(|v| batch::predict(params, &shared, v))
        .collect();
    let (mut post, mut near) = (0usize, 0usize);
    let flat = preds
        .iter()
        .flat_map(|(a, b)| a.iter().zip(b.iter()))
        .zip(&split.labels);
    for ((&a, &b), &l) in flat {
        post += usize::from(a == usize::from(l));
        near += usize::from(b == usize::from(l));
    }
    let n = split.len().max(1) as f64;
    Accuracy {
        posterior: post as f64 / n,
        nearest: near as f64 / n,
    }
}
