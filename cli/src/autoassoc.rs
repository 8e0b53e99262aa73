//! `dam train-auto`: McA autoassociative training of bipolar patterns.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use dam_core::Interaction;
use dam_core::model::{ElementType, Header, Kind, cast_interaction};
use dam_std::data::npy::NpyArray;
use dam_std::model_io::{self, Entries};
use dam_std::train::mca::{Config, retrieval_error, train};

/// Options of `dam train-auto`: learn K memories from A×D bipolar patterns
/// (McA), write a Memory model for `dam recall` / `dam energy`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The patterns: an A×D .npy array of ±1.
    pub patterns: PathBuf,
    /// The model file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Number of memories K [default: the number of patterns].
    #[arg(short = 'k', long)]
    pub memories: Option<usize>,
    /// Degree n of the rectified polynomial F.
    #[arg(short = 'n', long, default_value_t = 3)]
    pub degree: u32,
    /// Normalized β = 1/T.
    #[arg(long, default_value_t = 5.0)]
    pub beta: f32,
    /// Loss exponent m.
    #[arg(short = 'm', long, default_value_t = 2)]
    pub m: u32,
    /// Full-batch epochs.
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    /// Seed of the initial memories.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(args: Args) -> Result<()> {
    crate::common::refuse_inputs(
        std::slice::from_ref(&args.out),
        std::slice::from_ref(&args.patterns),
    )?;
    let name = args.patterns.display().to_string();
    let a = NpyArray::read(&args.patterns)?;
    if a.shape.len() != 2 {
        bail!("{name}: expected an A×D matrix, got shape {:?}", a.shape);
    }
    let (rows, d, values) = a.matrix(&name)?;
    let patterns: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    let cfg = Config {
        k: args.memories.unwrap_or(rows),
        interaction: Interaction::RectifiedPolynomial { n: args.degree },
        beta: args.beta,
        m: args.m,
        epochs: args.epochs,
        seed: args.seed,
        ..Config::default()
    };
    let (xi, losses) = train(&patterns, d, &cfg).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let header = Header {
        kind: Kind::Memory,
        element: ElementType::F32,
        interaction: cast_interaction(cfg.interaction),
        form: dam_core::Form::Normalized {
            beta: f64::from(cfg.beta),
        },
        k: u32::try_from(cfg.k)?,
        nv: u32::try_from(d)?,
        nc: 0,
    };
    model_io::save(&args.out, &header, &[], Entries::F32(&xi))?;
    println!(
        "loss {:.3e} → {:.3e}; retrieval error on the patterns {:.4}",
        losses.first().copied().unwrap_or(0.0),
        losses.last().copied().unwrap_or(0.0),
        retrieval_error(&xi, &patterns, d, &cfg)?
    );
    println!("model: {}", args.out.display());
    Ok(())
}
