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
    /// Epochs [default: derived from the data, as dam train].
    #[arg(long)]
    epochs: Option<usize>,
    /// Worker threads [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar; one line per epoch.
    #[arg(long)]
    quiet: bool,
}

/// The demo's training settings: `dam train`'s defaults, derived from the
/// data (see `dam_std::train::defaults`).
fn settings(args: &Args) -> train::Args {
    train::Args {
        data: args.data.clone(),
        out: args.out.clone(),
        memories: None,
        degree: None,
        m: 30,
        temperature: None,
        normalized: None,
        eps0: None,
        decay: None,
        momentum: None,
        batch: None,
        epochs: args.epochs,
        patience: None,
        seed: 0,
        shift: None,
        rotate: None,
        zoom: None,
        threads: args.threads,
        resume: false,
        quiet: args.quiet,
        kind: train::KindArg::Kh16,
        potts: Default::default(),
    }
}

pub fn run(args: Args) -> Result<()> {
    let start = Instant::now();
    println!(
        "Training the KH16 dense associative memory classifier with dam train's defaults; \
         Ctrl-C stops, --resume continues with dam train."
    );
    let accuracy = train::train(&settings(&args))?;
    let model = args.out.join("model.dam");
    let memories = args.out.join("memories.png");
    let curves = args.out.join("curves.png");
    show::memories_png(&model, &memories, 10)?;
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
        "accuracy curves (red test, blue train): {}",
        curves.display()
    );
    println!(
        "inspect: dam info {0}; evaluate: dam eval {0}",
        model.display()
    );
    Ok(())
}
