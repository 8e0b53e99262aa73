//! `dam predict`: the test vectors the board firmware embeds.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::Args as ClapArgs;
use dam_core::model::{ElementType, Model};
use dam_std::data::mnist;
use dam_std::{firmware, model_io};

/// Options of `dam predict`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The classifier model file (f32, or i8 as `dam export --quantize i8` writes it).
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
    // The model's CRC trailer: the firmware build checks the vectors are for its model.
    let crc = bytes
        .as_bytes()
        .last_chunk::<4>()
        .copied()
        .unwrap_or_default();
    std::fs::create_dir_all(&args.out)?;
    model_io::write_atomic(&args.out.join("model.crc32"), &crc)?;
    let named = |e: dam_core::Error| anyhow!("{}: {e}", args.model.display());
    if model.header().element == ElementType::I8 {
        let clf = model.quantized_classifier::<i8>().map_err(named)?;
        let fixed = model.fixed_classifier().map_err(named)?;
        let (a, b) = firmware::write_i8(&args.out, &clf, &fixed, &test)?;
        for (name, p) in [("i8 (f32 rescale)", &a), ("fixed point", &b)] {
            println!(
                "{name:>16}: {}/{} correct",
                correct(&model, p, &test.labels),
                args.count
            );
        }
        let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        println!("predictions that differ between the two: {differ}");
        println!("wrote {}", args.out.display());
        return Ok(());
    }
    let clf = model.classifier::<f32>().map_err(named)?;
    let predictions = firmware::write(&args.out, &clf, &test)?;
    for (order, p) in &predictions {
        let correct = correct(&model, p, &test.labels);
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

/// How many predicted classes map to the true label.
fn correct(model: &Model<'_>, predictions: &[u8], labels: &[u8]) -> usize {
    predictions
        .iter()
        .zip(labels)
        .filter(|&(&class, &label)| model.label_value(usize::from(class)) == Some(i64::from(label)))
        .count()
}
