//! Times the Rust prediction paths of a classifier model on a batch of
//! inputs: the reference of `benches/python/predict_overhead.py`, which
//! times `dam.Classifier.predict` on the same arrays.
//!
//! ```sh
//! cargo run --release -p dam-std --example predict_timing -- MODEL INPUTS.npy [REPEATS]
//! ```
//! `INPUTS.npy`: N × Nv float32 inputs for a model without an input map
//! (what the classifier itself takes). Prints, for each path, the best
//! wall time of `REPEATS` (default 7) runs and how many predictions differ
//! from those of `dam scores`' path:
//! * `rows`: [`dam_core::Prepared::scores`] row by row on the rayon pool,
//!   the computation of `dam scores` and the firmware (the same bits);
//! * `batch`: [`dam_std::batch::classify`], blocks of inputs against the
//!   memories in one product each (the same scores up to the summation
//!   order of the overlaps).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use dam_core::{Arithmetic, Classifier, Prepared};
use dam_std::data::npy::NpyArray;
use dam_std::model_io;
use rayon::prelude::*;

fn best<T>(repeats: usize, mut run: impl FnMut() -> Result<T>) -> Result<(f64, T)> {
    let mut out = run()?; // warm-up
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let start = Instant::now();
        out = run()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok((best, out))
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: predict_timing MODEL INPUTS.npy [REPEATS]";
    let model_path = PathBuf::from(args.next().context(usage)?);
    let inputs_path = PathBuf::from(args.next().context(usage)?);
    let repeats: usize = match args.next() {
        Some(a) => a.parse().with_context(|| format!("REPEATS: {a:?}"))?,
        None => 7,
    };
    let bytes = model_io::load(&model_path)?;
    let (rows, cols, x) = NpyArray::read(&inputs_path)?.matrix("INPUTS")?;
    let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();

    let prepared = Prepared::with_arithmetic(bytes.as_bytes(), Arithmetic::Float)
        .map_err(|e| anyhow!("{}: {e}", model_path.display()))?;
    let model = prepared.model();
    if model.preprocessing().is_some() {
        bail!(
            "{}: has an input map; give a model without one",
            model_path.display()
        );
    }
    if cols != prepared.inputs() {
        bail!(
            "INPUTS: rows of {cols}, the model takes {}",
            prepared.inputs()
        );
    }
    let nc = prepared.classes();
    let (t_rows, reference) = best(repeats, || {
        let mut classes = vec![0usize; rows];
        x.par_chunks(cols)
            .zip(classes.par_iter_mut())
            .try_for_each_init(
                || (vec![0u8; prepared.scratch_bytes()], vec![0.0f32; nc]),
                |(scratch, scores), (row, class)| {
                    *class = prepared.scores(row, scratch, scores)?;
                    Ok::<_, dam_core::Error>(())
                },
            )
            .map_err(|e| anyhow!("{e}"))?;
        Ok(classes)
    })?;
    println!("rows: {:.2} ms", t_rows * 1e3);

    let clf = Classifier::new(
        model.memories::<f32>().map_err(|e| anyhow!("{e}"))?,
        nc,
        model.interaction(),
        model.form(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    let (t_batch, batch) = best(repeats, || dam_std::batch::classify(&clf, &x))?;
    let differ = batch
        .classes
        .iter()
        .zip(&reference)
        .filter(|(a, b)| a != b)
        .count();
    println!(
        "batch: {:.2} ms ({differ} of {rows} predictions differ from rows)",
        t_batch * 1e3
    );
    println!("threads: {}", rayon::current_num_threads());
    Ok(())
}
