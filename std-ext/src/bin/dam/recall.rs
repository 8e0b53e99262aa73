//! `dam recall`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;
use dam_std::data::npy::{Elements, NpyArray};
use dam_std::families::{RecallOptions, recall};

use crate::common::MemoryArgs;

/// Options of `dam recall`: retrieve from each query, write the final states.
#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub mem: MemoryArgs,
    /// Where to write the final states (.npy, B×D float64).
    #[arg(long, value_name = "NPY")]
    pub out: PathBuf,
    /// Maximum sweeps (bipolar) or gradient steps (log-sum-exp).
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Gradient step η of the log-sum-exp memories (1 = one-step update).
    #[arg(long, default_value_t = 1.0)]
    pub step: f64,
}

pub fn run(args: Args) -> Result<()> {
    let l = args.mem.load()?;
    let opts = RecallOptions {
        steps: args.steps,
        step: args.step,
    };
    let (states, steps) = recall(&l.memories, l.d, &l.queries, l.family, opts)?;
    let b = states.len() / l.d;
    NpyArray {
        shape: vec![b, l.d],
        data: Elements::F64(states.clone()),
    }
    .write(&args.out)?;
    for (i, (s, n)) in states.chunks_exact(l.d).zip(&steps).enumerate() {
        // The memory closest (largest overlap) to the final state.
        let best = l
            .memories
            .chunks_exact(l.d)
            .map(|m| m.iter().zip(s).map(|(a, b)| a * b).sum::<f64>())
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |acc, (j, o)| if o > acc.1 { (j, o) } else { acc },
            );
        println!("query {i}: {n} steps, closest memory {}", best.0);
    }
    println!("states: {}", args.out.display());
    Ok(())
}
