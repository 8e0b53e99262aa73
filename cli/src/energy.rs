//! `dam energy`.

use anyhow::Result;
use clap::Args as ClapArgs;
use dam_std::families::energies;

use crate::common::MemoryArgs;

/// Options of `dam energy`: print the energy of each query, one per line.
#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub mem: MemoryArgs,
}

pub fn run(args: Args) -> Result<()> {
    let l = args.mem.load()?;
    for e in energies(&l.memories, l.d, &l.queries, l.family)? {
        println!("{e}");
    }
    Ok(())
}
