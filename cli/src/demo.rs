//! `dam demo`: the README's main job. Trains the KH16 classifier on the
//! shipped MNIST, evaluates it, saves the model and two PNGs, and says where.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args as ClapArgs;

use crate::common::DataArgs;
use crate::{show, train};

/// Options of `dam demo`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Output directory.
    #[arg(long, default_value = "out/demo")]
    out: PathBuf,
    /// Epochs (the notebook's settings otherwise, with a faster decay).
    #[arg(long, default_value_t = 150)]
    epochs: usize,
    /// Worker threads [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar; one line per epoch.
    #[arg(long)]
    quiet: bool,
}

/// The demo's training settings: the authors' notebook (K = 100, n = 20,
/// m = 30, T = 540, minibatch 1000, momentum 0.6, ε0 = 0.04, memories from
/// N(−0.3, 0.3)) with the decay f = 0.99 instead of 0.998, so that fewer
/// epochs suffice.
fn settings(args: &Args) -> train::Args {
    train::Args {
        // Every training image is used, the last epoch kept (the notebook).
        data: DataArgs {
            val_fraction: 0.0,
            ..args.data.clone()
        },
        out: args.out.clone(),
        memories: Some(100),
        degree: Some(20),
        m: 30,
        temperature: Some(540.0),
        normalized: None,
        eps0: Some(0.04),
        decay: Some(0.99),
        momentum: Some(0.6),
        batch: Some(1000),
        epochs: Some(args.epochs),
        patience: Some(0),
        seed: 0,
        shift: Some(0),
        rotate: Some(0.0),
        zoom: Some(0.0),
        threads: args.threads,
        resume: false,
        quiet: args.quiet,
        kind: Some(train::KindArg::Kh16),
        potts: crate::train_potts::PottsArgs {
            init: Some(crate::train_potts::InitArg::Normal),
            ..Default::default()
        },
    }
}

pub fn run(args: Args) -> Result<()> {
    let start = Instant::now();
    println!(
        "Training the KH16 dense associative memory classifier on MNIST \
         (K = 100 memories, n = 20, {} epochs); Ctrl-C stops, --resume continues with dam train.",
        args.epochs
    );
    let settings = settings(&args);
    let data = settings.data.prepare()?;
    let accuracy = train::train(&settings, data)?;
    let model = args.out.join("model.dam");
    let memories = args.out.join("memories.png");
    let curves = args.out.join("curves.png");
    show::memories_png(&model, &memories, 10, None)?;
    show::curves_png(&args.out.join("metrics.csv"), &curves)?;
    println!(
        "test accuracy {:.2}% after {:.0} s",
        100.0 * accuracy,
        start.elapsed().as_secs_f64()
    );
    println!(
        "memories (blue −1, white 0, red +1): {}",
        memories.display()
    );
    println!(
        "loss and accuracy curves (the kept epoch marked): {}",
        curves.display()
    );
    println!(
        "inspect: dam info {0}; evaluate: dam eval {0}",
        model.display()
    );
    Ok(())
}
