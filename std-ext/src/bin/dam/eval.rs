//! `dam eval`.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args as ClapArgs;
use dam_core::model::{ElementType, Model};
use dam_std::model_io;
use dam_std::quantize::{ForwardPath, evaluate_model};
use dam_std::train::kh16::{Net, evaluate};

use crate::common::DataArgs;

/// Options of `dam eval`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The classifier model file.
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Evaluate an i8 model entirely in fixed point (the no-FPU firmware path).
    #[arg(long)]
    pub fixed: bool,
}

pub fn run(args: Args) -> Result<()> {
    let bytes = model_io::load(&args.model)?;
    let model = Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{e}"))?;
    let data = args.data.load()?;
    // f32 models: the batched trainer's evaluation; quantized models (or
    // --fixed): one image at a time through dam-core, as firmware runs them.
    let e = if model.header().element == ElementType::F32 && !args.fixed {
        let net = Net::from_model(&model).map_err(|e| anyhow!("{}: {e}", args.model.display()))?;
        evaluate(&net, &data.test)?
    } else {
        let path = if args.fixed {
            ForwardPath::Fixed
        } else {
            ForwardPath::Float
        };
        evaluate_model(&model, &data.test, path)
            .map_err(|e| anyhow!("{}: {e}", args.model.display()))?
    };
    println!(
        "test accuracy: {:.2}% ({} images)",
        100.0 * e.accuracy,
        data.test.len()
    );
    println!("confusion matrix (rows: true class, columns: predicted):");
    print!("     ");
    for p in 0..e.confusion.len() {
        print!("{p:>6}");
    }
    println!();
    for (t, row) in e.confusion.iter().enumerate() {
        print!("{t:>5}");
        for c in row {
            print!("{c:>6}");
        }
        println!();
    }
    Ok(())
}
