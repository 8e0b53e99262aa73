//! `dam export`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use dam_std::export::{self, Format};
use dam_std::quantize::Precision;

/// The element type of the exported memories.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantizeArg {
    /// f32, unchanged.
    F32,
    /// i16 levels with one scale per memory.
    I16,
    /// i8 levels with one scale per memory (also the fixed-point path's input).
    I8,
}

/// What to write.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatArg {
    /// The model file alone.
    Bin,
    /// A Rust module (consts K, NV, NC, …, and an aligned `MODEL: &[u8]`) plus the model file next to it.
    Rust,
    /// A C header and source (NAME.h, NAME.c: the model as an aligned array,
    /// its dimensions, labels and names, and NAME_classify()) for libdam_ffi.a.
    C,
}

/// Options of `dam export`: a trained f32 model, quantized, as a blob for
/// `include_bytes!` or a Rust module.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The f32 model file (as `dam train` writes it), or a model already
    /// quantized to the `--quantize` type (written as it is).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Element type of the exported memories [default: i8 for a classifier;
    /// f32 for a Potts model, whose forward pass is f32].
    #[arg(long, value_enum)]
    pub quantize: Option<QuantizeArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Bin)]
    pub format: FormatArg,
    /// Output file [default: next to the model, STEM.TYPE.dam, STEM_TYPE.rs or
    /// STEM_TYPE.c]; a Rust module's blob goes to the same path with extension
    /// .dam, a C source's header to the same path with extension .h (the C
    /// names come from the file name).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let precision = args.quantize.map(|q| match q {
        QuantizeArg::F32 => Precision::F32,
        QuantizeArg::I16 => Precision::I16,
        QuantizeArg::I8 => Precision::I8,
    });
    let format = match args.format {
        FormatArg::Bin => Format::Bin,
        FormatArg::Rust => Format::Rust,
        FormatArg::C => Format::C,
    };
    println!(
        "{}",
        export::write(&args.model, precision, format, args.out)?
    );
    Ok(())
}
