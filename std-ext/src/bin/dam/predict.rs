//! `dam predict`: the test vectors the board firmware embeds.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::Args as ClapArgs;
use dam_core::model::Model;
use dam_std::data::mnist;
use dam_std::{firmware, model_io};

/// Options of `dam predict`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The classifier model file (f32).
    #[arg(long)]
    pub model: PathBuf,
    /// Directory holding the MNIST IDX files [default: the shipped data/mnist].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Number of test images, from the first.
    #[arg(long, default_value_t = 500)]
    pub count: usize,
    /// Output directory (images.u8, labels.u8, pixel-values.f32, predictions-*.u8).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let bytes = model_io::load(&args.model)?;
    let model =
        Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{}: {e}", args.model.display()))?;
    let clf = model
        .classifier::<f32>()
        .map_err(|e| anyhow!("{}: {e}", args.model.display()))?;
    let dir = args.data.unwrap_or_else(mnist::default_dir);
    let mut test = mnist::load_raw_split(&dir, "t10k")?;
    if args.count == 0 || args.count > test.labels.len() {
        bail!(
            "--count {}: the test set has 1..={} images",
            args.count,
            test.labels.len()
        );
    }
    test.pixels.truncate(args.count * test.dim);
    test.labels.truncate(args.count);
    let predictions = firmware::write(&args.out, &clf, &test)?;
    for (order, p) in &predictions {
        let correct = p
            .iter()
            .zip(&test.labels)
            .filter(|&(&class, &label)| model.label(usize::from(class)) == Some(u32::from(label)))
            .count();
        println!(
            "{:>10} order: {correct}/{} correct ({:.1}%)",
            order.name(),
            args.count,
            100.0 * correct as f64 / args.count as f64
        );
    }
    if let [(_, a), (_, b)] = predictions.as_slice() {
        let differ = a.iter().zip(b).filter(|(x, y)| x != y).count();
        println!("predictions that differ between the orders: {differ}");
        let fast = firmware::predict_fastest(&clf, &test)?;
        let differ = a.iter().zip(&fast).filter(|(x, y)| x != y).count();
        println!(
            "predictions of this host's fastest kernels that differ from the cortex-m4f order: {differ}"
        );
    }
    println!("wrote {}", args.out.display());
    Ok(())
}
