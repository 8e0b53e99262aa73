//! `dam`: train, inspect and run Dense Associative Memories from the shell.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod autoassoc;
mod capacity;
mod common;
mod demo;
mod drdam_error;
mod energy;
mod eval;
mod experiment;
mod export;
mod import;
mod info;
mod predict;
mod recall;
mod scores;
mod show;
mod signals;
mod tables;
mod train;
mod train_potts;

/// Dense Associative Memory: store patterns, retrieve and classify from
/// partial, noisy input.
#[derive(Parser)]
#[command(name = "dam", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the largest options costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Train a classifier on the shipped MNIST, evaluate it, save the model and PNGs.
    Demo(demo::Args),
    /// Store random patterns, recall corrupted copies, print a capacity table.
    Capacity(capacity::Args),
    /// Train the KH16 one-step classifier (or, --kind potts, Potts hidden units) on any labelled dataset.
    Train(train::Args),
    /// Learn memories from bipolar .npy patterns (McA autoassociative training).
    TrainAuto(autoassoc::Args),
    /// Accuracy and confusion matrix of a classifier model on a dataset's test split (only that split is read).
    Eval(eval::Args),
    /// Write test rows of any dataset and the predictions each board must reproduce (firmware test vectors).
    Predict(predict::Args),
    /// Class scores of a classifier model for raw .npy inputs (the model's input map applied, as on a board).
    Scores(scores::Args),
    /// Quantize a model (f32, i16, i8) and write it as a blob or a Rust module for firmware.
    Export(export::Args),
    /// Print a model's header.
    Info(info::Args),
    /// Retrieve from .npy queries (bipolar or log-sum-exp memories).
    Recall(recall::Args),
    /// Energy of .npy queries under .npy or model memories.
    Energy(energy::Args),
    /// Turn a K×D .npy memory matrix into a model file.
    Import(import::Args),
    /// Draw a model's memories (and training curves) as PNG.
    Show(show::Args),
    /// DrDAM's energy and gradient error against the exact memory over Y, β, D.
    DrdamError(drdam_error::Args),
    /// Run one of the papers' experiments: table on stdout, figure(s) as PNG.
    Experiment(experiment::Args),
}

fn main() {
    signals::default_sigpipe();
    let cli = Cli::parse();
    let result: Result<()> = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Capacity(args) => capacity::run(args),
        Command::Train(args) => train::run(args),
        Command::TrainAuto(args) => autoassoc::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Export(args) => export::run(args),
        Command::Info(args) => info::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Recall(args) => recall::run(args),
        Command::Scores(args) => scores::run(args),
        Command::Energy(args) => energy::run(args),
        Command::Import(args) => import::run(args),
        Command::Show(args) => show::run(args),
        Command::DrdamError(args) => drdam_error::run(args),
        Command::Experiment(args) => experiment::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        // A run stopped by a signal exits as the shell expects of one.
        let code = e
            .downcast_ref::<signals::Stopped>()
            .map_or(1, |s| 128 + s.signal);
        std::process::exit(code);
    }
}
