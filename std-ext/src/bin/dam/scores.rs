//! `dam scores`: class scores of a classifier for raw `.npy` inputs.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::Args as ClapArgs;
use dam_core::{Arithmetic, Prepared};
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
    let clf = Prepared::with_arithmetic(bytes.as_bytes(), arithmetic)
        .map_err(|e| anyhow!("{name}: {e}"))?;
    let inputs = args.inputs.display().to_string();
    let (rows, cols, x) = NpyArray::read(&args.inputs)?.matrix(&inputs)?;
    if cols != clf.inputs() {
        bail!(
            "{inputs}: rows of {cols} values, but {name} takes Nv = {} inputs",
            clf.inputs()
        );
    }
    let nc = clf.classes();
    let (mut raw, mut scratch) = (vec![0.0f32; cols], vec![0u8; clf.scratch_bytes()]);
    let mut scores = vec![0.0f32; rows * nc];
    let mut predicted = Vec::with_capacity(rows);
    for (r, (row, out)) in x
        .chunks_exact(cols)
        .zip(scores.chunks_exact_mut(nc))
        .enumerate()
    {
        for (dst, &v) in raw.iter_mut().zip(row) {
            *dst = v as f32;
        }
        let class = clf
            .scores(&raw, &mut scratch, out)
            .map_err(|e| anyhow!("{inputs}: row {r}: {e}"))?;
        predicted.push(clf.label_value(class).unwrap_or(class as i64));
    }
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
