//! `dam train`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args as ClapArgs, ValueEnum};
use dam_core::Interaction;
use dam_std::data::dataset::Prepared;
use dam_std::train::defaults;
use dam_std::train::kh16::{Config, Scale};
use dam_std::train::select::{self, Held};
use dam_std::train::session::{self, Data, Meta, Outcome, Paths, Record, Stopping};
use dam_std::train::settings::{self, Kind, Settings};
use indicatif::{ProgressBar, ProgressStyle};

use crate::common::{DataArgs, set_threads};
use crate::signals;
use crate::train_potts::PottsArgs;
use dam_std::output;

/// Options of `dam train`: the KH16 classifier on any labelled dataset.
/// Every setting left out is derived from the data (see
/// `dam_std::train::defaults`).
#[derive(ClapArgs, Debug, Clone)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    /// Output directory (model.dam, metrics.csv, checkpoint.bin for --resume).
    #[arg(long, default_value = "out/train")]
    pub out: PathBuf,
    /// Number of memories K [default: 20 per class, 100 to 1000; potts: 100].
    #[arg(short = 'k', long)]
    pub memories: Option<usize>,
    /// Degree n of the rectified polynomial F [default: 20 for large images; otherwise chosen among 6, 3, 10 on held-out rows].
    #[arg(short = 'n', long)]
    pub degree: Option<u32>,
    /// Loss exponent m (loss Σ (t − c)^2m).
    #[arg(short = 'm', long, default_value_t = 30)]
    pub m: u32,
    /// Train the raw KH16 form with temperature T (β = 1/T^n; the notebook: 540)
    /// instead of the normalized form.
    #[arg(long, conflicts_with = "normalized")]
    pub temperature: Option<f32>,
    /// β of the normalized McA form F(β ξ·x / D) [default: from the data's self-overlap].
    #[arg(long, value_name = "BETA")]
    pub normalized: Option<f32>,
    /// Initial learning rate ε0 [default: 0.04; potts: 0.03].
    #[arg(long)]
    pub eps0: Option<f32>,
    /// Learning-rate decay f per epoch [default: to 2% of ε0 over the epochs; potts: 0.95].
    #[arg(long)]
    pub decay: Option<f32>,
    /// Momentum p [default: 0.6; potts: 0.6].
    #[arg(long)]
    pub momentum: Option<f32>,
    /// Minibatch size [default: about 200, at most 1/20 of the rows; potts: 500].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Number of epochs (in total, when resuming) [default: about 8 000 steps; potts: 20].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Stop when the validation accuracy has not improved for this many epochs
    /// [default: a quarter of the epochs, at least 5; 0: never].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Seed for the initial memories and the shuffles.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Augment the training images: shift each by up to this many pixels
    /// along each axis, drawn anew every epoch [default for square images: 1; else 0].
    #[arg(long)]
    pub shift: Option<usize>,
    /// Augment the training images with random affine distortions: rotate
    /// each by up to this many degrees either way [default for square images: 8; else 0].
    #[arg(long)]
    pub rotate: Option<f32>,
    /// Augment the training images: scale each by a factor drawn from
    /// [1 − zoom, 1 + zoom] [default for square images: 0.08; else 0].
    #[arg(long)]
    pub zoom: Option<f32>,
    /// Worker threads [default: one per core].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Continue from the checkpoint in --out (same options required).
    #[arg(long)]
    pub resume: bool,
    /// No progress bar; print one line per epoch instead.
    #[arg(long)]
    pub quiet: bool,
    /// The model: the KH16 classifier or Potts hidden units (TT) (docs/potts.md)
    /// [default: the kind whose own options are given (kh16: -n, --temperature,
    /// --normalized, --patience; potts: --grow, --learn-prior, --latent,
    /// --constraint); else potts for large square images (at least 16×16
    /// pixels and 1 000 rows), else kh16].
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    #[command(flatten)]
    pub potts: PottsArgs,
}

/// Which model `dam train` trains.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindArg {
    /// The KH16 one-step classifier.
    Kh16,
    /// Potts hidden units (TT): -k is P (with --grow, P_max).
    Potts,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Kh16 => Kind::Kh16,
            KindArg::Potts => Kind::Potts,
        }
    }
}

impl Args {
    /// The settings as given (`dam_std::train::settings` derives the rest).
    pub fn settings(&self) -> Settings {
        let pa = &self.potts;
        Settings {
            memories: self.memories,
            degree: self.degree,
            m: self.m,
            temperature: self.temperature,
            normalized: self.normalized,
            eps0: self.eps0,
            decay: self.decay,
            momentum: self.momentum,
            batch: self.batch,
            epochs: self.epochs,
            patience: self.patience,
            seed: self.seed,
            shift: self.shift,
            rotate: self.rotate,
            zoom: self.zoom,
            init: pa.init.map(Into::into),
            kind: self.kind.map(Into::into),
            potts_beta: pa.beta,
            smoothing: pa.smoothing,
            logit_rate: pa.logit_rate,
            constraint: pa.constraint.map(Into::into),
            learn_prior: pa.learn_prior,
            grow: pa.grow,
            latent: pa.latent,
        }
    }
}

/// The derived settings with the degree chosen on held-out rows
/// (`train::select`), reporting each candidate.
fn choose_degree(config: &Config, data: &Prepared, stopping: &Stopping) -> Result<Config> {
    let how = match &data.val {
        Some(v) if v.len() >= select::MIN_HELD => format!("the {} validation rows", v.len()),
        _ => format!(
            "{}-fold cross-validation on the {} training rows",
            select::FOLDS.min(data.train.len()),
            data.train.len()
        ),
    };
    println!(
        "choosing the degree n among {:?} by {how} (-n skips this)",
        select::DEGREES
    );
    let chosen = settings::choose_degree(
        config,
        data,
        stopping,
        &|| signals::received().is_some(),
        |s| {
            let p = s.against_default;
            let against = if s.degree == select::DEGREES[0] {
                String::new()
            } else {
                format!(
                    " ({} rows won, {} lost against n = {}: p = {:.3})",
                    p.wins,
                    p.losses,
                    select::DEGREES[0],
                    p.p_value()
                )
            };
            println!(
                "  n = {:>2}: held-out accuracy {:.2}%{against}",
                s.degree,
                100.0 * s.accuracy
            );
        },
    )?;
    let Some((config, choice)) = chosen else {
        bail!("interrupted while choosing the degree; nothing was written");
    };
    let scored = match choice.held {
        Held::Validation => "validation",
        Held::Folds(_) => "cross-validated",
    };
    println!(
        "  kept n = {} (n = {} unless another has a better {scored} accuracy at p < {})",
        choice.degree,
        select::DEGREES[0],
        select::ALPHA
    );
    Ok(config)
}

/// Trains on `data` (prepared from `args.data`), with a progress bar;
/// returns the test accuracy of the kept (best) epoch.
pub fn train(args: &Args, mut data: Prepared) -> Result<f64> {
    set_threads(args.threads)?;
    if let Some(n) = settings::merge_small_validation(&mut data) {
        println!(
            "validation split of {n} rows (< {}): too small to choose epochs by; its rows train, and the last epoch is kept",
            settings::MIN_VALIDATION
        );
    }
    let settings = args.settings();
    let config = settings.kh16_config(&data)?;
    config.validate()?;
    Settings::check_augmentation(&config, &data)?;
    let stopping = settings.stopping(&config);
    let val = data.val.as_ref();
    // SIGINT, SIGTERM and SIGHUP stop the run at a minibatch boundary.
    signals::install();
    let config = if settings.chooses_degree(&data) {
        if args.resume {
            // The degree chosen when the run started, from its checkpoint.
            let h = session::checkpoint_header(&args.out)?;
            let beta = h.form.beta() as f32;
            Config {
                interaction: Interaction::RectifiedPolynomial {
                    n: h.interaction.degree().unwrap_or(defaults::DEGREE),
                },
                scale: Scale::Normalized { beta },
                ..config
            }
        } else {
            choose_degree(&config, &data, &stopping)?
        }
    } else {
        config
    };
    let beta = match config.scale {
        Scale::Normalized { beta } => format!("normalized, β = {beta:.4}"),
        Scale::Raw { temperature } => format!("raw, T = {temperature}"),
    };
    println!(
        "{}: {} training, {} validation, {} test rows of {} features, {} classes; K = {}, n = {}, {beta}, minibatch {}, {} epochs{}",
        args.data.path()?.display(),
        data.train.len(),
        data.val.as_ref().map_or(0, |v| v.len()),
        data.test.len(),
        data.train.dim,
        data.classes.len(),
        config.k,
        config.interaction.degree().unwrap_or(0),
        config.batch,
        config.epochs,
        if config.rotate > 0.0 || config.shift > 0 {
            ", augmented"
        } else {
            ""
        },
    );
    let meta = Meta::of(&data);
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(config.epochs as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] epoch {pos}/{len} ETA {eta} {msg}",
        )?
        .progress_chars("=> "),
    );
    let mut tests = Vec::new();
    let quiet = args.quiet;
    let outcome = session::run(
        config,
        Data {
            train: &data.train,
            val,
            test: &data.test,
        },
        &meta,
        stopping,
        &args.out,
        args.resume,
        &|| signals::received().is_some(),
        |r: &Record| {
            let val = r
                .val_accuracy
                .map_or(String::new(), |v| format!("  val {:.2}%", 100.0 * v));
            let msg = format!(
                "loss {:.4e}  train {:.2}%{val}  test {:.2}%  ({:.2} s/epoch)",
                r.stats.loss,
                100.0 * r.stats.train_accuracy,
                100.0 * r.test_accuracy,
                r.seconds
            );
            if quiet {
                println!("epoch {:>4}  {msg}", r.stats.epoch);
            }
            bar.set_position(r.stats.epoch as u64);
            bar.set_message(msg);
            tests.push((r.stats.epoch, r.test_accuracy));
        },
    )?;
    bar.finish();
    let paths = Paths::new(&args.out);
    match outcome {
        Outcome::Finished {
            best_epoch,
            best_val,
            early,
            trainer,
        } => {
            let test = tests
                .iter()
                .find(|(e, _)| *e == best_epoch)
                .map(|t| t.1)
                .or_else(|| {
                    session::read_metrics(&paths.metrics)
                        .ok()?
                        .iter()
                        .find(|r| r.epoch == best_epoch)
                        .map(|r| r.test)
                })
                .unwrap_or(f64::NAN);
            let val = best_val.map_or(String::new(), |v| format!(", validation {:.2}%", 100.0 * v));
            println!(
                "{}kept epoch {best_epoch} of {}{val}: test accuracy {:.2}%",
                if early { "stopped early; " } else { "" },
                trainer.epoch,
                100.0 * test
            );
            println!(
                "model: {}\nmetrics: {}",
                paths.model.display(),
                paths.metrics.display()
            );
            // The figures are a convenience: a failure to draw them is
            // reported, the model and metrics stay.
            let curves = args.out.join("curves.png");
            let memories = args.out.join("memories.png");
            match crate::show::curves_png(&paths.metrics, &curves).and_then(|()| {
                crate::show::memories_png(&paths.model, &memories, 10, data.image_shape)
            }) {
                Ok(()) => println!("figures: {} {}", curves.display(), memories.display()),
                Err(e) => eprintln!("warning: could not draw the figures: {e:#}"),
            }
            Ok(test)
        }
        Outcome::Interrupted { epoch } => {
            let signal = signals::received().unwrap_or(2);
            Err(signals::Stopped {
                signal,
                message: format!(
                    "interrupted by {}; the checkpoint in {} holds epoch {epoch} (continue with --resume); model.dam was not written",
                    signals::name(signal),
                    args.out.display()
                ),
            }
            .into())
        }
    }
}

/// The files a run writes in `--out` (with [`session::Paths`]).
pub const RUN_FILES: [&str; 5] = [
    "model.dam",
    "metrics.csv",
    "checkpoint.bin",
    "curves.png",
    "memories.png",
];

/// Checks what needs no data: the output files are none of the inputs, and
/// the counts are at least 1.
fn check_options(args: &Args) -> Result<()> {
    check_counts(args)?;
    if args.data.train_limit == Some(0) {
        bail!("--train-limit 0 leaves no training rows");
    }
    let outputs: Vec<PathBuf> = RUN_FILES.iter().map(|f| args.out.join(f)).collect();
    let outputs: Vec<&std::path::Path> = outputs.iter().map(PathBuf::as_path).collect();
    let inputs = args.data.inputs();
    let inputs: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
    output::refuse_inputs(&outputs, &inputs)
}

/// `--threads` within bounds (clear errors instead of a hang).
fn check_counts(args: &Args) -> Result<()> {
    args.settings().check()?;
    crate::common::check_threads(args.threads)
}

pub fn run(args: Args) -> Result<()> {
    check_options(&args)?;
    let data = args.data.prepare()?;
    let given = args.settings();
    let kind = settings::kind_for(&given, &data);
    if args.kind.is_none() && kind == Kind::Potts && given.potts_options().is_empty() {
        println!(
            "large square images: training Potts hidden units (--kind kh16 for the KH16 classifier)"
        );
    }
    match kind {
        Kind::Kh16 => train(&args, data).map(|_| ()),
        Kind::Potts => crate::train_potts::run(&args, data),
        other => bail!("no trainer for {other:?} in this program"),
    }
}
