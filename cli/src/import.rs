//! `dam import`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args as ClapArgs, ValueEnum};
use dam_core::model::{ElementType, Header, Kind};
use dam_std::data::npy::{Elements, NpyArray};
use dam_std::model_io::{self, Entries};

use crate::common::FormArgs;

/// The kind of model to make.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindArg {
    /// Plain memories (recall, energy).
    Memory,
    /// A one-step classifier: the last --classes columns are label units.
    Classifier,
}

/// Options of `dam import`: a K×D .npy memory matrix becomes a model.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The K×D .npy matrix (float32 or float64 are kept; int8/uint8 become float32).
    pub input: PathBuf,
    /// The model file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// What the memories are.
    #[arg(long, value_enum, default_value_t = KindArg::Memory)]
    pub kind: KindArg,
    /// Number of label units Nc (classifier only).
    #[arg(long, default_value_t = 10)]
    pub classes: u32,
    #[command(flatten)]
    pub form: FormArgs,
}

pub fn run(args: Args) -> Result<()> {
    crate::common::refuse_inputs(
        std::slice::from_ref(&args.out),
        std::slice::from_ref(&args.input),
    )?;
    let name = args.input.display().to_string();
    let a = NpyArray::read(&args.input)?;
    if a.shape.len() != 2 {
        bail!("{name}: expected a K×D matrix, got shape {:?}", a.shape);
    }
    let (k, d, values) = a.matrix(&name)?;
    args.form.validate()?;
    let (kind, nc) = match args.kind {
        KindArg::Memory => (Kind::Memory, 0),
        KindArg::Classifier => (Kind::Classifier, args.classes),
    };
    if kind == Kind::Classifier && (nc == 0 || nc as usize >= d) {
        bail!("--classes {nc} must be between 1 and D − 1 = {}", d - 1);
    }
    let header = Header {
        kind,
        element: ElementType::F32,
        interaction: args.form.interaction(),
        form: args.form.form(),
        k: u32::try_from(k)?,
        nv: u32::try_from(d)? - nc,
        nc,
    };
    let labels: Vec<u32> = (0..nc).collect();
    match a.data {
        Elements::F64(v) => model_io::save(&args.out, &header, &labels, Entries::F64(&v))?,
        _ => {
            let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
            model_io::save(&args.out, &header, &labels, Entries::F32(&v))?
        }
    }
    println!("model: {} ({kind:?}, K = {k}, D = {d})", args.out.display());
    Ok(())
}
