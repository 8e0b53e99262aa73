//! `dam export`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args as ClapArgs, ValueEnum};
use dam_core::model::{ElementType, Kind, Model};
use dam_std::export::{c_identifier, c_source, rust_module};
use dam_std::model_io::{self, AlignedBytes};
use dam_std::quantize::{Precision, quantize_model};

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
    let bytes = model_io::load(&args.model)?;
    let model = Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{e}"))?;
    let quantize = args
        .quantize
        .unwrap_or(if model.header().kind == Kind::Potts {
            QuantizeArg::F32
        } else {
            QuantizeArg::I8
        });
    let (precision, tag) = match quantize {
        QuantizeArg::F32 => (Precision::F32, "f32"),
        QuantizeArg::I16 => (Precision::I16, "i16"),
        QuantizeArg::I8 => (Precision::I8, "i8"),
    };
    // A model already quantized to the requested type goes out as it is
    // (quantization starts from f32), so that its CRC, which `dam predict`'s
    // vectors record, is unchanged.
    let already = matches!(
        (model.header().element, precision),
        (ElementType::I8, Precision::I8) | (ElementType::I16, Precision::I16)
    );
    let blob = if already {
        bytes.as_bytes().to_vec()
    } else {
        quantize_model(&model, precision)
            .with_context(|| format!("cannot export {}", args.model.display()))?
    };
    let stem = args
        .model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let dir = args.model.parent().unwrap_or(Path::new("."));
    match args.format {
        FormatArg::Bin => {
            let out = args
                .out
                .unwrap_or_else(|| dir.join(format!("{stem}.{tag}.dam")));
            refuse(&[&out], &args.model)?;
            ensure_parent(&out)?;
            model_io::write_atomic(&out, &blob)?;
            println!("wrote {} ({} bytes, {tag})", out.display(), blob.len());
        }
        FormatArg::C => {
            let out = args
                .out
                .unwrap_or_else(|| dir.join(format!("{stem}_{tag}.c")))
                .with_extension("c");
            let header = out.with_extension("h");
            let name = c_identifier(
                &out.file_stem()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| anyhow!("{}: not a file name", out.display()))?,
            );
            let parsed = AlignedBytes::new(&blob);
            let exported = Model::parse(parsed.as_bytes()).map_err(|e| anyhow!("{e}"))?;
            let scratch = c_scratch_bytes(parsed.as_bytes())
                .with_context(|| format!("cannot export {} for C", args.model.display()))?;
            let header_file = header
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| anyhow!("{}: not a file name", header.display()))?;
            if header_file.contains(['"', '\\', '\n']) {
                bail!("{header_file}: a C #include cannot name this file");
            }
            let src = c_source(&exported, &blob, &name, &header_file, scratch)?;
            refuse(&[&out, &header], &args.model)?;
            ensure_parent(&out)?;
            model_io::write_atomic(&header, src.header.as_bytes())?;
            model_io::write_atomic(&out, src.source.as_bytes())?;
            println!(
                "wrote {} and {} ({} bytes of model, {tag}; {name}_classify, {} scratch bytes)",
                header.display(),
                out.display(),
                blob.len(),
                scratch
            );
        }
        FormatArg::Rust => {
            let out = args
                .out
                .unwrap_or_else(|| dir.join(format!("{stem}_{tag}.rs")));
            let blob_path = out.with_extension("dam");
            let blob_name = blob_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| anyhow!("{}: not a file name", out.display()))?;
            let parsed = AlignedBytes::new(&blob);
            let exported = Model::parse(parsed.as_bytes()).map_err(|e| anyhow!("{e}"))?;
            let src = rust_module(&exported, &blob_name, blob.len())?;
            refuse(&[&out, &blob_path], &args.model)?;
            ensure_parent(&out)?;
            model_io::write_atomic(&blob_path, &blob)?;
            model_io::write_atomic(&out, src.as_bytes())?;
            println!(
                "wrote {} and {} ({} bytes, {tag})",
                out.display(),
                blob_path.display(),
                blob.len()
            );
        }
    }
    Ok(())
}

/// The scratch a C classification of the model `bytes` needs on any target: for an
/// `i8` model the larger of the float and fixed-point paths (the same
/// source builds for a Cortex-M4F and a Cortex-M0+).
fn c_scratch_bytes(bytes: &[u8]) -> Result<usize> {
    use dam_core::{Arithmetic, Prepared};
    let mut most = 0;
    for arithmetic in [Arithmetic::Float, Arithmetic::FixedPoint] {
        let p = Prepared::with_arithmetic(bytes, arithmetic).map_err(|e| {
            anyhow!("{e} (the C library runs f32 and i8 classifiers and f32 Potts models)")
        })?;
        most = most.max(p.scratch_bytes());
    }
    Ok(most)
}

/// An error if an output is the model being exported (or they collide).
fn refuse(outputs: &[&Path], model: &Path) -> Result<()> {
    dam_std::output::refuse_inputs(outputs, &[model])
}

/// Creates the directory `out` goes into, if missing (as `dam train --out`
/// does), once every input has been read and checked.
fn ensure_parent(out: &Path) -> Result<()> {
    match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display())),
        _ => Ok(()),
    }
}
