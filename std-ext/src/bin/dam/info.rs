//! `dam info`.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args as ClapArgs;
use dam_core::model::Model;
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
