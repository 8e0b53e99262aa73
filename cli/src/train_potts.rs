//! `dam train --kind potts`: Potts hidden units (TT), directly or by growth.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use dam_std::data::dataset::Prepared;
use dam_std::potts::growth::{self, GrowthConfig, Point};
use dam_std::potts::patches::patches;
use dam_std::potts::{Constraint, Task, Trainer, evaluate, figure};
use dam_std::train::augment::Augmentation;
use dam_std::train::session::Meta;
use dam_std::train::settings::{self, InitChoice, shape_of};

use crate::common::set_threads;
use crate::signals;
use crate::train::Args;

/// The Potts options of `dam train` (used with --kind potts).
#[derive(ClapArgs, Debug, Clone)]
pub struct PottsArgs {
    /// Potts: inverse temperature β of the overlaps scaled by 1/D.
    #[arg(long, default_value_t = 120.0)]
    pub beta: f32,
    /// Potts: the regularization ς in [0, 1) (docs/potts.md).
    #[arg(long, default_value_t = 0.0)]
    pub smoothing: f32,
    /// Potts: learning rate of the class and prior logits (times P).
    #[arg(long, default_value_t = 2.0)]
    pub logit_rate: f32,
    /// Potts: the constraint set of the memories (docs/potts.md)
    /// [default: sphere for large square images, else box].
    #[arg(long, value_enum)]
    pub constraint: Option<ConstraintArg>,
    /// How the memories start: copies of training samples; random entries
    /// (potts); N(−0.3, 0.3) entries (kh16, the notebook).
    /// [default: samples; kh16: derived from the data]
    #[arg(long, value_enum)]
    pub init: Option<InitArg>,
    /// Potts: learn the prior p_h (otherwise uniform).
    #[arg(long)]
    pub learn_prior: bool,
    /// Potts: grow P = 1, 2, 4, … up to -k by splitting, --stage-epochs each, then --epochs at the end.
    #[arg(long)]
    pub grow: bool,
    /// Potts with --grow: epochs at every size below the last.
    #[arg(long, default_value_t = 2)]
    pub stage_epochs: usize,
    /// Potts with --grow: split distance δ.
    #[arg(long, default_value_t = 0.1)]
    pub split_delta: f32,
    /// Potts: unsupervised, with this many latent classes, on random patches.
    #[arg(long, value_name = "C")]
    pub latent: Option<usize>,
    /// Potts with --latent: patch side in pixels.
    #[arg(long, default_value_t = 6)]
    pub patch: usize,
    /// Potts with --latent: number of patches.
    #[arg(long, default_value_t = 60_000)]
    pub patches: usize,
}

/// `--constraint`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintArg {
    /// Every entry in [-1, 1] (clipped).
    Box,
    /// Every memory of length √D (rescaled): overlaps are cosines.
    Sphere,
}

impl From<ConstraintArg> for Constraint {
    fn from(c: ConstraintArg) -> Self {
        match c {
            ConstraintArg::Box => Constraint::Box,
            ConstraintArg::Sphere => Constraint::Sphere,
        }
    }
}

/// `--init`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitArg {
    /// Copies of random training samples.
    Samples,
    /// Uniform random entries in [-1, 1] (potts).
    Random,
    /// N(−0.3, 0.3) entries (kh16: the KH16 notebook).
    Normal,
}

impl From<InitArg> for InitChoice {
    fn from(i: InitArg) -> Self {
        match i {
            InitArg::Samples => InitChoice::Samples,
            InitArg::Random => InitChoice::Random,
            InitArg::Normal => InitChoice::Normal,
        }
    }
}

impl Default for PottsArgs {
    fn default() -> Self {
        PottsArgs {
            beta: 120.0,
            smoothing: 0.0,
            logit_rate: 2.0,
            constraint: None,
            init: None,
            learn_prior: false,
            grow: false,
            stage_epochs: 2,
            split_delta: 0.1,
            latent: None,
            patch: 6,
            patches: 60_000,
        }
    }
}

const HEADER: &str = "epoch,loss,train_accuracy,test_accuracy,test_accuracy_nn,p,ops,seconds";

/// The Potts options `Config::validate` does not see.
fn check_options(pa: &PottsArgs) -> Result<()> {
    if pa.grow && !(pa.split_delta.is_finite() && pa.split_delta > 0.0) {
        bail!("--split-delta {}: must be finite and > 0", pa.split_delta);
    }
    if pa.latent == Some(0) {
        bail!("--latent 0: give at least one latent class");
    }
    if pa.latent.is_some() && (pa.patch == 0 || pa.patches == 0) {
        bail!("--patch and --patches must be at least 1");
    }
    Ok(())
}

/// The files a Potts run writes in `--out`.
const RUN_FILES: [&str; 4] = ["model.dam", "metrics.csv", "memories.png", "curves.png"];

/// The error for an epoch that diverged (`what`: the loss or a parameter
/// not finite): nothing more is written, the run's files are put back.
fn diverged(point: &Point, what: &str, model: &std::path::Path) -> anyhow::Error {
    anyhow::anyhow!(
        "training diverged at epoch {} (P = {}): {what}; {} was left as it was \
         (try a smaller --beta, --eps0 or --logit-rate)",
        point.epoch,
        point.p,
        model.display()
    )
}

/// Trains on `data` (prepared by `dam train`; a validation split trains
/// too: a Potts run keeps its last epoch), checking the loss after every
/// epoch; writes metrics.csv as it goes, and model.dam (with the classes'
/// label values and names and the input map), memories.png and curves.png
/// at the end (only from finite parameters).
pub fn run(args: &Args, mut data: Prepared) -> Result<()> {
    if args.resume {
        bail!("--resume is not supported for --kind potts");
    }
    check_options(&args.potts)?;
    set_threads(args.threads)?;
    let pa = &args.potts;
    settings::merge_validation(&mut data);
    let shape = shape_of(&data);
    let config = args
        .settings()
        .potts_config(pa.latent.is_none().then_some(&shape))?;
    config.validate()?;
    if pa.latent.is_none() {
        println!(
            "{}: {} training, {} test rows of {} features, {} classes; Potts, P = {}, β = {}, {:?} constraint, minibatch {}, {} epochs{}",
            args.data.path()?.display(),
            data.train.len(),
            data.test.len(),
            data.train.dim,
            data.classes.len(),
            config.p,
            config.beta,
            config.constraint,
            config.batch,
            config.epochs,
            if config.augmentation == Augmentation::Shift(0) {
                ""
            } else {
                ", augmented"
            },
        );
    }
    let meta = Meta::of(&data);
    let (task, train_set, test) = match pa.latent {
        Some(c) => {
            let train_set = patches(&data.train, pa.patch, pa.patches, args.seed)?;
            let test = patches(&data.test, pa.patch, pa.patches / 6, args.seed ^ 1)?;
            (Task::Latent { classes: c }, train_set, test)
        }
        None => (
            Task::Supervised {
                classes: data.classes.len(),
            },
            data.train,
            data.test,
        ),
    };
    // Every setting and the data are checked before a file is touched.
    Trainer::new(config.clone(), task, &train_set)?;
    // Until the model is written, a failure or a signal puts the run files
    // back as they were (a Potts run does not resume: the rows of a run
    // that left no model would only sit beside an older one).
    let guard = dam_std::output::RunGuard::begin(&args.out, &RUN_FILES)?;
    signals::install();
    let metrics = args.out.join("metrics.csv");
    // The whole file is rewritten after every epoch through the atomic
    // writer, as the KH16 session does: a kill never leaves half a line.
    let mut csv = format!("{HEADER}\n");
    dam_std::model_io::write_atomic(&metrics, csv.as_bytes())?;
    let model = args.out.join("model.dam");
    let mut last: Option<Point> = None;
    let mut log = |point: &Point| -> Result<()> {
        last = Some(*point);
        let line = format!(
            "{},{:.6e},,{:.6},{:.6},{},{},{:.3}",
            point.epoch,
            point.loss,
            point.accuracy.posterior,
            point.accuracy.nearest,
            point.p,
            point.ops,
            point.seconds
        );
        csv.push_str(&line);
        csv.push('\n');
        dam_std::model_io::write_atomic(&metrics, csv.as_bytes())?;
        if !args.quiet || !point.loss.is_finite() {
            println!(
                "P {:5} epoch {:3}  loss {:.4}  test argmax {:.2}%  1-NN {:.2}%  ops {:.3e}  {:.1} s",
                point.p,
                point.epoch,
                point.loss,
                100.0 * point.accuracy.posterior,
                100.0 * point.accuracy.nearest,
                point.ops as f64,
                point.seconds
            );
        }
        if !point.loss.is_finite() {
            return Err(diverged(
                point,
                &format!("the loss is {}", point.loss),
                &model,
            ));
        }
        Ok(())
    };
    let params = if pa.grow {
        let growth = GrowthConfig {
            train: config.clone(),
            p_max: config.p,
            stage_epochs: pa.stage_epochs,
            final_epochs: config.epochs,
            delta: pa.split_delta,
            ..GrowthConfig::default()
        };
        let mut result = Ok(());
        let grown = growth::grow(&growth, task, &train_set, &test, |p| {
            if result.is_ok() {
                result = log(p);
            }
        })
        .map_err(|e| anyhow::anyhow!("{e:#}; {} was left as it was", model.display()))?;
        result?;
        println!(
            "mean splitting curvature at each doubling (negative: a saddle): {:?}",
            grown.split_curvature
        );
        grown.trainer.params
    } else {
        let mut t = Trainer::new(config.clone(), task, &train_set)?;
        let mut seconds = 0.0;
        for _ in 0..config.epochs {
            let start = Instant::now();
            let Some(stats) = t.run_epoch(&train_set, &|| signals::received().is_some())? else {
                let signal = signals::received().unwrap_or(2);
                return Err(signals::Stopped {
                    signal,
                    message: format!(
                        "interrupted by {}; {} was not written (--kind potts does not resume)",
                        signals::name(signal),
                        model.display()
                    ),
                }
                .into());
            };
            seconds += start.elapsed().as_secs_f64();
            let point = Point {
                p: t.params.p,
                epoch: stats.epoch,
                ops: stats.ops,
                seconds,
                accuracy: evaluate(&t.params, &test),
                loss: stats.loss,
            };
            log(&point)?;
            if let Some(what) = t.params.first_non_finite() {
                return Err(diverged(&point, &what, &model));
            }
        }
        t.params
    };
    if let Some(what) = params.first_non_finite() {
        bail!(
            "training diverged: {what}; {} was left as it was",
            model.display()
        );
    }
    match task {
        // The user's labels and names, and the input map, go with the
        // model, so that eval, predict and firmware feed raw values.
        Task::Supervised { classes } => {
            params.save_with(&model, &meta.labels(classes), &meta.extras())?
        }
        // Latent classes are not the data's.
        Task::Latent { .. } => params.save(&model)?,
    }
    // The figure is a convenience: a failure to draw it is reported, the
    // model and metrics stay.
    let png = args.out.join("memories.png");
    if let Err(e) = figure::memories_with_labels(&png, &params, 10) {
        eprintln!("warning: could not draw {}: {e:#}", png.display());
    }
    if let (Task::Supervised { .. }, Some(last)) = (task, last) {
        println!(
            "kept epoch {} (the last): test accuracy {:.2}% (argmax p(y|v)), 1-NN on memories {:.2}%, {:.1} s of training",
            last.epoch,
            100.0 * last.accuracy.posterior,
            100.0 * last.accuracy.nearest,
            last.seconds
        );
    }
    let curves = args.out.join("curves.png");
    if let Err(e) = crate::show::curves_png(&metrics, &curves) {
        eprintln!("warning: could not draw {}: {e:#}", curves.display());
    }
    guard.keep();
    println!(
        "model: {}\nmetrics: {}\ncurves: {}\nmemories: {} (memories on top, blue −1, red +1; below, p^μ_y/p_h(μ) per class y from the left, white 0, red largest)",
        model.display(),
        metrics.display(),
        curves.display(),
        png.display()
    );
    if matches!(task, Task::Latent { .. }) {
        println!("(unsupervised: the patches have no labels, so the test accuracies mean nothing)");
    }
    Ok(())
}
