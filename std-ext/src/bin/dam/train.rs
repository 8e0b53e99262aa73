//! `dam train`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args as ClapArgs, ValueEnum};
use dam_core::Interaction;
use dam_std::data::dataset::Prepared;
use dam_std::train::defaults::{self, DataShape};
use dam_std::train::kh16::{Config, Init, Scale};
use dam_std::train::select::{self, Held};
use dam_std::train::session::{self, Data, Meta, Outcome, Paths, Record, Stopping};
use indicatif::{ProgressBar, ProgressStyle};

use crate::common::{DataArgs, set_threads};
use crate::signals;
use crate::train_potts::{InitArg, PottsArgs};
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

/// The smallest validation split used to choose the kept epoch.
pub const MIN_VALIDATION: usize = 100;

/// Which model `dam train` trains.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindArg {
    /// The KH16 one-step classifier.
    Kh16,
    /// Potts hidden units (TT): -k is P (with --grow, P_max).
    Potts,
}

impl Args {
    /// The training settings: derived from `data`, then what was given.
    pub fn config(&self, data: &Prepared) -> Result<Config> {
        let shape = DataShape {
            rows: data.train.len(),
            features: data.train.dim,
            classes: data.classes.len(),
            image: data.image_shape,
        };
        let auto = defaults::auto_config(&data.train, &shape, self.seed);
        let epochs = self.epochs.unwrap_or(auto.epochs);
        let degree = self
            .degree
            .unwrap_or_else(|| auto.interaction.degree().unwrap_or(20));
        let augment_given = self.shift.is_some() || self.rotate.is_some() || self.zoom.is_some();
        let (shift, rotate, zoom) = if augment_given {
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
            init: match self.potts.init {
                Some(InitArg::Normal) => Init::Normal,
                Some(InitArg::Samples) => Init::Samples,
                None => auto.init,
                Some(InitArg::Random) => {
                    bail!("--init random is for --kind potts; kh16 takes samples or normal")
                }
            },
            shift,
            rotate,
            zoom,
            ..auto
        })
    }

    /// Whether the degree is chosen on held-out rows: neither `-n` nor a
    /// `β`/`T` given, and data that do not get the large-image settings.
    pub fn chooses_degree(&self, data: &Prepared) -> bool {
        let shape = DataShape {
            rows: data.train.len(),
            features: data.train.dim,
            classes: data.classes.len(),
            image: data.image_shape,
        };
        self.degree.is_none()
            && self.normalized.is_none()
            && self.temperature.is_none()
            && !defaults::is_large_image(&shape)
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
}

/// The derived settings with the degree chosen on held-out rows
/// (`train::select`), reporting each candidate.
fn choose_degree(
    config: &Config,
    data: &Prepared,
    val: Option<&dam_std::data::Split>,
    stopping: &Stopping,
) -> Result<Config> {
    let nc = data.classes.len();
    let how = match val {
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
    let patience = stopping.patience.unwrap_or(config.epochs);
    let choice = select::choose_degree(
        config,
        &data.train,
        val,
        nc,
        patience,
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
    let Some(choice) = choice else {
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
    Ok(select::with_degree(config, &data.train, nc, choice.degree))
}

/// Trains on `data` (prepared from `args.data`), with a progress bar;
/// returns the test accuracy of the kept (best) epoch.
pub fn train(args: &Args, mut data: Prepared) -> Result<f64> {
    set_threads(args.threads)?;
    // A validation split of fewer than MIN_VALIDATION rows moves in steps
    // of more than a point per row: too coarse to choose epochs with, so
    // its rows train instead.
    if let Some(v) = data.val.take_if(|v| v.len() < MIN_VALIDATION) {
        println!(
            "validation split of {} rows (< {MIN_VALIDATION}): too small to choose epochs by; its rows train, and the last epoch is kept",
            v.len()
        );
        data.train.append(&v);
    }
    let config = args.config(&data)?;
    config.validate()?;
    if let Some((h, w)) = data.image_shape
        && (config.shift > 0 || config.rotate > 0.0 || config.zoom > 0.0)
        && h != w
    {
        bail!(
            "augmentation needs square images; these are {h}×{w} (pass --shift 0 --rotate 0 --zoom 0)"
        );
    }
    if data.image_shape.is_none() && (config.shift > 0 || config.rotate > 0.0 || config.zoom > 0.0)
    {
        bail!(
            "augmentation needs image data: give --image-shape HxW or leave --shift/--rotate/--zoom out"
        );
    }
    let stopping = args.stopping(&config);
    let val = data.val.as_ref();
    // SIGINT, SIGTERM and SIGHUP stop the run at a minibatch boundary.
    signals::install();
    let config = if args.chooses_degree(&data) {
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
            choose_degree(&config, &data, val, &stopping)?
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
        args.data.path().display(),
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
    let meta = Meta {
        classes: Some(data.classes.clone()),
        map: Some(data.map.clone()),
    };
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
    let (kh16_only, potts_only) = (kh16_options(args), potts_options(args));
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
    if args.kind == Some(KindArg::Potts) && !kh16_only.is_empty() {
        bail!(
            "{} {} for the KH16 classifier (--kind kh16), not for Potts hidden units",
            kh16_only.join(", "),
            are(&kh16_only)
        );
    }
    if args.kind == Some(KindArg::Kh16) && !potts_only.is_empty() {
        bail!(
            "{} {} for Potts hidden units (--kind potts), not for the KH16 classifier",
            potts_only.join(", "),
            are(&potts_only)
        );
    }
    if args.epochs == Some(0) {
        bail!("--epochs 0: a run needs at least one epoch");
    }
    if args.data.train_limit == Some(0) {
        bail!("--train-limit 0 leaves no training rows");
    }
    check_counts(args)?;
    let outputs: Vec<PathBuf> = RUN_FILES.iter().map(|f| args.out.join(f)).collect();
    let outputs: Vec<&std::path::Path> = outputs.iter().map(PathBuf::as_path).collect();
    let inputs = args.data.inputs();
    let inputs: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
    output::refuse_inputs(&outputs, &inputs)
}

/// The most memories `-k` takes: beyond it the memories alone need more
/// than a few GiB for any dataset worth training on.
pub const MAX_MEMORIES: usize = 1 << 20;

/// `-k` and `--threads` within bounds (clear errors instead of an
/// allocation abort or a hang).
fn check_counts(args: &Args) -> Result<()> {
    if let Some(k) = args.memories
        && !(1..=MAX_MEMORIES).contains(&k)
    {
        bail!("-k {k}: K, the number of memories, must be between 1 and {MAX_MEMORIES}");
    }
    crate::common::check_threads(args.threads)
}

/// The options only the KH16 classifier takes, given on the command line.
fn kh16_options(args: &Args) -> Vec<&'static str> {
    [
        (args.degree.is_some(), "-n"),
        (args.temperature.is_some(), "--temperature"),
        (args.normalized.is_some(), "--normalized"),
        (args.patience.is_some(), "--patience"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect()
}

/// The options only Potts hidden units take, given on the command line
/// (those with a value always present, such as `--beta`, cannot tell).
fn potts_options(args: &Args) -> Vec<&'static str> {
    let pa = &args.potts;
    [
        (pa.grow, "--grow"),
        (pa.learn_prior, "--learn-prior"),
        (pa.latent.is_some(), "--latent"),
        (pa.constraint.is_some(), "--constraint"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect()
}

/// The model kind: as given; else the kind whose own options are given;
/// else Potts hidden units for large square images,
/// where they beat the KH16 classifier in a fraction of its time
/// (`BENCHMARKS.md`, "Your own data"), and the KH16 classifier otherwise.
pub fn kind_for(args: &Args, data: &Prepared) -> KindArg {
    if !kh16_options(args).is_empty() {
        return args.kind.unwrap_or(KindArg::Kh16);
    }
    if !potts_options(args).is_empty() {
        return args.kind.unwrap_or(KindArg::Potts);
    }
    args.kind.unwrap_or_else(|| {
        let shape = DataShape {
            rows: data.train.len() + data.val.as_ref().map_or(0, |v| v.len()),
            features: data.train.dim,
            classes: data.classes.len(),
            image: data.image_shape,
        };
        if defaults::is_large_image(&shape) {
            KindArg::Potts
        } else {
            KindArg::Kh16
        }
    })
}

pub fn run(args: Args) -> Result<()> {
    check_options(&args)?;
    let data = args.data.prepare()?;
    let kind = kind_for(&args, &data);
    if args.kind.is_none() && kind == KindArg::Potts {
        println!(
            "large square images: training Potts hidden units (--kind kh16 for the KH16 classifier)"
        );
    }
    match kind {
        KindArg::Kh16 => train(&args, data).map(|_| ()),
        KindArg::Potts => crate::train_potts::run(&args, data),
    }
}
