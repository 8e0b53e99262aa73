//! `dam recall`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use dam_core::{DrDam, EnergyModel, SeededProjection, Similarity};
use dam_std::data::npy::{Elements, NpyArray};
use dam_std::families::{Family, RecallOptions, recall};

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
    /// Use the random-feature memory (DrDAM, math.md §6) in place of the exact
    /// log-sum-exp memory (`--family lse` only).
    #[arg(long)]
    pub drdam: bool,
    /// Random features Y of `--drdam`.
    #[arg(long, default_value_t = 10_000, requires = "drdam")]
    pub features: usize,
    /// Seed of the `--drdam` projection (Philox4x32-10; identical on every target).
    #[arg(long, default_value_t = 0, requires = "drdam")]
    pub seed: u64,
}

pub fn run(args: Args) -> Result<()> {
    crate::common::refuse_inputs(std::slice::from_ref(&args.out), &args.mem.inputs())?;
    let l = args.mem.load()?;
    let opts = RecallOptions {
        steps: args.steps,
        step: args.step,
    };
    let (states, steps) = if args.drdam {
        recall_drdam(&l, &args)?
    } else {
        recall(&l.memories, l.d, &l.queries, l.family, opts)?
    };
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

/// Gradient descent on the DrDAM approximation of the log-sum-exp memory.
fn recall_drdam(l: &crate::common::Loaded, args: &Args) -> Result<(Vec<f64>, Vec<usize>)> {
    let beta = match l.family {
        Family::Lse {
            beta,
            similarity: Similarity::Euclidean,
        } => beta,
        _ => bail!("--drdam approximates the Euclidean log-sum-exp memory: use --family lse"),
    };
    if args.features == 0 {
        bail!("--features must be at least 1");
    }
    let proj = SeededProjection::new(args.seed, args.features, l.d)?;
    let mut dam = DrDam::new(proj, beta, vec![0.0f64; 2 * args.features])?;
    let mut scratch = vec![0.0f64; 2 * l.d];
    for (mu, xi) in l.memories.chunks_exact(l.d).enumerate() {
        dam.store(xi, &mut scratch)
            .with_context(|| format!("storing memory {mu}"))?;
    }
    let mut states = l.queries.clone();
    let mut steps = Vec::new();
    for (i, x) in states.chunks_exact_mut(l.d).enumerate() {
        let r = dam
            .descend(x, None, args.step, args.steps.max(1), &mut scratch)
            .with_context(|| format!("query {i}"))?;
        steps.push(r.steps);
    }
    Ok((states, steps))
}
