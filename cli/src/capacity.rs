//! `dam capacity`: the random-pattern recall table (`dam_std::demo`).

use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use dam_std::demo::{DemoConfig, run as run_demo, table};

/// Options of `dam capacity`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Dimension D of the patterns.
    #[arg(long, default_value_t = 100)]
    dim: usize,
    /// Degrees n to compare (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "2,3,4")]
    degrees: Vec<u32>,
    /// Numbers of stored memories K (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "5,20,100,300,1000")]
    loads: Vec<usize>,
    /// Fraction of bits flipped in each query.
    #[arg(long, default_value_t = 0.1)]
    flip: f64,
    /// Queries per row.
    #[arg(long, default_value_t = 40)]
    queries: usize,
    /// Normalized inverse temperature beta.
    #[arg(long, default_value_t = 1.0)]
    beta: f32,
    /// Random seed.
    #[arg(long, default_value_t = 2016)]
    seed: u64,
}

pub fn run(args: Args) -> Result<()> {
    if args.dim == 0 || args.loads.contains(&0) {
        bail!("--dim and every --loads value must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.flip) {
        bail!("--flip must be in [0, 1], got {}", args.flip);
    }
    let config = DemoConfig {
        dim: args.dim,
        degrees: args.degrees,
        loads: args.loads,
        flip_fraction: args.flip,
        queries: args.queries,
        beta: args.beta,
        seed: args.seed,
    };
    let rows = run_demo(&config)?;
    print!("{}", table(&config, &rows));
    Ok(())
}
