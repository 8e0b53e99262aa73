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
    if h.nc > 0 {
        let labels: Vec<String> = (0..h.nc as usize)
            .filter_map(|a| model.label(a))
            .map(|l| l.to_string())
            .collect();
        println!("labels:      {}", labels.join(" "));
    }
    Ok(())
}
