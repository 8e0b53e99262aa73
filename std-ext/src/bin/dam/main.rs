//! `dam`: train, inspect and run Dense Associative Memories from the shell.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod demo;

/// Dense Associative Memory: store patterns, retrieve and classify from
/// partial, noisy input.
#[derive(Parser)]
#[command(name = "dam", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Store random patterns, recall corrupted copies, print a table.
    Demo(demo::Args),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(args),
    }
}
