//! `dam predict`: the test vectors the board firmware embeds, for any
//! classifier or Potts model and any dataset.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::Args as ClapArgs;
use dam_core::model::{Kind, Model};
use dam_std::data::dataset::InputMap;
use dam_std::firmware::{self, Target, Vectors};
use dam_std::model_io;

use crate::common::DataArgs;
use crate::eval::raw_test_split;

/// Options of `dam predict`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The model file: a classifier (f32, or i8 as `dam export --quantize i8`
    /// writes it) or an f32 Potts model.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// At most this many test rows, from the first.
    #[arg(long, default_value_t = 500)]
    pub count: usize,
    /// Output directory (inputs.u8 + byte-values.f32 or inputs.f32, classes.u8,
    /// predictions-*.u8, model.crc32).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let mut inputs = args.data.inputs();
    inputs.push(args.model.clone());
    // Also the files it removes.
    let outputs: Vec<PathBuf> = firmware::OLD_FILES
        .iter()
        .chain(&["model.crc32"])
        .map(|f| args.out.join(f))
        .collect();
    crate::common::refuse_inputs(&outputs, &inputs)?;
    let bytes = model_io::load(&args.model)?;
    let name = args.model.display().to_string();
    let model = Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{name}: {e}"))?;
    if !matches!(model.header().kind, Kind::Classifier | Kind::Potts) {
        bail!(
            "{name}: the model is a {:?}; the board firmware runs classifiers and Potts models",
            model.header().kind
        );
    }
    // Checked before any data is read.
    Target::for_element(model.header().element).map_err(|e| anyhow!("{name}: {e}"))?;
    if args.count == 0 {
        bail!("--count 0: give at least one row");
    }
    let (raw, map) = raw_test_split(&args.data, &model, &name)?;
    // A model with a stored map gets raw values (the board applies the
    // map); a version-1 model gets them mapped here, as `dam eval` does.
    let host_map = if model.preprocessing().is_some() {
        InputMap::identity(raw.dim)
    } else {
        map
    };
    let vectors = Vectors::new(&raw.head(args.count), &host_map)?;
    let predictions = firmware::write(&args.out, bytes.as_bytes(), &vectors)?;
    let n = vectors.len();
    for (target, p) in &predictions {
        let correct = p
            .iter()
            .zip(&vectors.classes)
            .filter(|(a, b)| a == b)
            .count();
        println!(
            "{:>10}: {correct}/{n} correct ({:.1}%)",
            target.name(),
            100.0 * correct as f64 / n as f64
        );
    }
    if let [(_, a), (_, b)] = predictions.as_slice() {
        let differ = a.iter().zip(b).filter(|(x, y)| x != y).count();
        println!("predictions that differ between the two: {differ}");
    }
    if let Some((Target::F32(_), a)) = predictions.first() {
        let fast = firmware::predict_fastest(bytes.as_bytes(), &vectors)?;
        let differ = a.iter().zip(&fast).filter(|(x, y)| x != y).count();
        println!(
            "predictions of this host's fastest kernels that differ from the cortex-m4f order: {differ}"
        );
    }
    let inputs = match vectors.inputs {
        firmware::Inputs::Bytes { .. } => "bytes",
        firmware::Inputs::Floats(_) => "f32",
    };
    println!(
        "wrote {} ({n} rows of {} features as {inputs})",
        args.out.display(),
        vectors.dim
    );
    Ok(())
}
