//! `dam scores`: class scores of a classifier for raw `.npy` inputs.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args as ClapArgs;
use dam_core::Arithmetic;
use dam_std::data::npy::{Elements, NpyArray};
use dam_std::model_io;

/// Options of `dam scores`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The classifier model (f32, i8 or Potts).
    #[arg(long)]
    pub model: PathBuf,
    /// Raw inputs: an N×Nv (or Nv) .npy; the model's stored input map is
    /// applied, as on a board.
    #[arg(long, value_name = "NPY")]
    pub inputs: PathBuf,
    /// Where to write the scores: an N×Nc float32 .npy (`c_α ∈ [−1, 1]`
    /// for a classifier, the posterior for a Potts model).
    #[arg(long, value_name = "NPY")]
    pub out: PathBuf,
    /// i8 models: score in fixed point (the Cortex-M0+ path) instead of
    /// integer dot products then f32.
    #[arg(long)]
    pub fixed: bool,
}

pub fn run(args: Args) -> Result<()> {
    crate::common::refuse_inputs(
        std::slice::from_ref(&args.out),
        &[args.model.clone(), args.inputs.clone()],
    )?;
    let bytes = model_io::load(&args.model)?;
    let name = args.model.display().to_string();
    let arithmetic = if args.fixed {
        Arithmetic::FixedPoint
    } else {
        Arithmetic::Float
    };
    let inputs = args.inputs.display().to_string();
    let (rows, cols, x) = NpyArray::read(&args.inputs)?.matrix(&inputs)?;
    let (scores, classes) =
        model_io::class_scores(bytes.as_bytes(), arithmetic, &x, cols, &name, &inputs)?;
    let nc = scores.len() / rows.max(1);
    let model =
        dam_core::model::Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{name}: {e}"))?;
    let predicted: Vec<i64> = classes
        .iter()
        .map(|&c| model.label_value(c).unwrap_or(c as i64))
        .collect();
    NpyArray {
        shape: vec![rows, nc],
        data: Elements::F32(scores),
    }
    .write(&args.out)?;
    let shown: Vec<String> = predicted.iter().take(10).map(i64::to_string).collect();
    let more = if rows > 10 { ", …" } else { "" };
    println!("{rows} rows, predicted labels {}{more}", shown.join(", "));
    println!("scores: {} ({rows}×{nc} float32)", args.out.display());
    Ok(())
}
