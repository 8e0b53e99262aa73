//! `dam info`.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args as ClapArgs;
use dam_core::model::{ElementType, Kind, Model};
use dam_std::model_io;

/// Options of `dam info`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The model file.
    pub model: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let bytes = model_io::load(&args.model)?;
    let model = Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{e}"))?;
    check_entries(&model).map_err(|e| anyhow!("{}: {e:#}", args.model.display()))?;
    let h = model.header();
    println!("file:        {}", args.model.display());
    println!("bytes:       {}", bytes.as_bytes().len());
    println!("kind:        {:?}", h.kind);
    println!("element:     {:?}", h.element);
    println!("K:           {}", h.k);
    println!("Nv, Nc, D:   {}, {}, {}", h.nv, h.nc, h.d());
    println!("interaction: {:?}", h.interaction);
    println!("form:        {:?}", h.form);
    println!("version:     {}", model.layout().version);
    match model.preprocessing() {
        None => println!("preprocess:  no"),
        Some(p) => {
            let range = |v: &[f32]| {
                let lo = v.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                format!("[{lo}, {hi}]")
            };
            println!(
                "preprocess:  yes, x' = a·x + b per feature; a in {}, b in {}",
                range(p.scales()),
                range(p.offsets())
            );
        }
    }
    const SHOWN: usize = 10;
    let nc = h.nc as usize;
    let more = |n: usize| {
        if n > SHOWN {
            format!(" … ({n} in all)")
        } else {
            String::new()
        }
    };
    if nc > 0 {
        let labels: Vec<String> = (0..nc.min(SHOWN))
            .filter_map(|a| model.label_value(a))
            .map(|l| l.to_string())
            .collect();
        println!("labels:      {}{}", labels.join(" "), more(nc));
        if model.class_name(0).is_some() {
            let names: Vec<String> = (0..nc.min(SHOWN))
                .filter_map(|a| model.class_name(a))
                .map(|n| format!("{n:?}"))
                .collect();
            println!("names:       {}{}", names.join(" "), more(nc));
        } else {
            println!("names:       none");
        }
    }
    Ok(())
}

/// The stored entries pass the checks every reader applies (finite memories,
/// class weights that are distributions, scales finite and > 0): a model
/// no command could use is not described as if it were fine.
fn check_entries(model: &Model<'_>) -> Result<()> {
    let potts = model.header().kind == Kind::Potts;
    Ok(match model.header().element {
        ElementType::F32 if potts => model.potts::<f32>().map(drop),
        ElementType::F64 if potts => model.potts::<f64>().map(drop),
        ElementType::F32 => model.memories::<f32>().map(drop),
        ElementType::F64 => model.memories::<f64>().map(drop),
        ElementType::I8 => model.quantized::<i8>().map(drop),
        ElementType::I16 => model.quantized::<i16>().map(drop),
        other => {
            return Err(anyhow!(
                "entries of type {other:?}: not readable by this program"
            ));
        }
    }?)
}
