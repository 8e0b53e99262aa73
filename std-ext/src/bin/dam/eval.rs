//! `dam eval`.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args as ClapArgs;
use dam_core::model::Model;
use dam_std::model_io;
use dam_std::train::kh16::{Net, evaluate};

use crate::common::DataArgs;

/// Options of `dam eval`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The classifier model file.
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn run(args: Args) -> Result<()> {
    let bytes = model_io::load(&args.model)?;
    let model = Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{e}"))?;
    let net = Net::from_model(&model).map_err(|e| anyhow!("{}: {e}", args.model.display()))?;
    let data = args.data.load()?;
    let e = evaluate(&net, &data.test)?;
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
