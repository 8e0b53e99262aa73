//! `dam train`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, bail};
use clap::{Args as ClapArgs, ValueEnum};
use dam_core::Interaction;
use dam_std::train::kh16::{Config, Scale};
use dam_std::train::session::{self, Outcome, Paths, Record};
use indicatif::{ProgressBar, ProgressStyle};

use crate::common::{DataArgs, set_threads};
use crate::train_potts::PottsArgs;

/// Options of `dam train`: the KH16 classifier on MNIST (defaults: the
/// authors' notebook).
#[derive(ClapArgs, Debug, Clone)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    /// Output directory (model.dam, metrics.csv, checkpoint.bin for --resume).
    #[arg(long, default_value = "out/train")]
    pub out: PathBuf,
    /// Number of memories K.
    #[arg(short = 'k', long, default_value_t = 100)]
    pub memories: usize,
    /// Degree n of the rectified polynomial F.
    #[arg(short = 'n', long, default_value_t = 20)]
    pub degree: u32,
    /// Loss exponent m (loss Σ (t − c)^2m).
    #[arg(short = 'm', long, default_value_t = 30)]
    pub m: u32,
    /// Temperature T of the raw form (β = 1/T^n).
    #[arg(long, default_value_t = 540.0)]
    pub temperature: f32,
    /// Train the normalized McA form F(β ξ·x / D) with this β instead of the raw form.
    #[arg(long, value_name = "BETA")]
    pub normalized: Option<f32>,
    /// Initial learning rate ε0 [default: 0.04; potts: 0.03].
    #[arg(long)]
    pub eps0: Option<f32>,
    /// Learning-rate decay f per epoch [default: 0.998; potts: 0.95].
    #[arg(long)]
    pub decay: Option<f32>,
    /// Momentum p [default: 0.6; potts: 0.6].
    #[arg(long)]
    pub momentum: Option<f32>,
    /// Minibatch size [default: 1000; potts: 500].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Number of epochs (in total, when resuming) [default: 300; potts: 20].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Seed for the initial memories and the shuffles.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Augment the training images: shift each by up to this many pixels
    /// along each axis, drawn anew every epoch (0: none, the notebook).
    #[arg(long, default_value_t = 0)]
    pub shift: usize,
    /// Augment the training images with random affine distortions: rotate
    /// each by up to this many degrees either way (with --rotate or --zoom,
    /// --shift becomes a continuous translation range).
    #[arg(long, default_value_t = 0.0)]
    pub rotate: f32,
    /// Augment the training images: scale each by a factor drawn from
    /// [1 − zoom, 1 + zoom] (see --rotate).
    #[arg(long, default_value_t = 0.0)]
    pub zoom: f32,
    /// Worker threads [default: one per core].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Continue from the checkpoint in --out (same options required).
    #[arg(long)]
    pub resume: bool,
    /// No progress bar; print one line per epoch instead.
    #[arg(long)]
    pub quiet: bool,
    /// The model: the KH16 classifier or Potts hidden units (TT) (docs/potts.md).
    #[arg(long, value_enum, default_value_t = KindArg::Kh16)]
    pub kind: KindArg,
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

impl Args {
    /// The training settings these options describe.
    pub fn config(&self) -> Config {
        Config {
            k: self.memories,
            interaction: Interaction::RectifiedPolynomial { n: self.degree },
            scale: match self.normalized {
                Some(beta) => Scale::Normalized { beta },
                None => Scale::Raw {
                    temperature: self.temperature,
                },
            },
            m: self.m,
            eps0: self.eps0.unwrap_or(0.04),
            decay: self.decay.unwrap_or(0.998),
            momentum: self.momentum.unwrap_or(0.6),
            batch: self.batch.unwrap_or(1000),
            epochs: self.epochs.unwrap_or(300),
            seed: self.seed,
            shift: self.shift,
            rotate: self.rotate,
            zoom: self.zoom,
            ..Config::default()
        }
    }
}

/// Trains, with a progress bar; returns the final test accuracy.
pub fn train(args: &Args) -> Result<f64> {
    set_threads(args.threads)?;
    let config = args.config();
    config.validate()?;
    let data = args.data.load()?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Only the first handler installed counts; later calls fail harmlessly.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
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
    let mut last = None;
    let quiet = args.quiet;
    let outcome = session::run(
        config,
        &data,
        &args.out,
        args.resume,
        &|| stop.load(Ordering::SeqCst),
        |r: &Record| {
            let msg = format!(
                "loss {:.4e}  train {:.2}%  test {:.2}%  ({:.2} s/epoch)",
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
            last = Some(r.test_accuracy);
        },
    )?;
    bar.finish();
    let paths = Paths::new(&args.out);
    match outcome {
        Outcome::Finished(_) => {
            println!(
                "model: {}\nmetrics: {}",
                paths.model.display(),
                paths.metrics.display()
            );
            Ok(last.unwrap_or(f64::NAN))
        }
        Outcome::Interrupted { epoch } => bail!(
            "interrupted; the checkpoint in {} holds epoch {epoch} (continue with --resume)",
            args.out.display()
        ),
    }
}

pub fn run(args: Args) -> Result<()> {
    match args.kind {
        KindArg::Kh16 => train(&args).map(|_| ()),
        KindArg::Potts => crate::train_potts::run(&args),
    }
}
