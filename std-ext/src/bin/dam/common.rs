//! Options and helpers shared by several subcommands.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use dam_std::data::mnist::{self, Mnist};

/// Where MNIST is.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Directory holding the four MNIST IDX files (raw or .gz) [default: the shipped data/mnist].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Use only the first N training images (all by default).
    #[arg(long, value_name = "N")]
    pub train_limit: Option<usize>,
}

impl DataArgs {
    /// Loads MNIST, cut to `--train-limit`.
    pub fn load(&self) -> Result<Mnist> {
        let dir = self.data.clone().unwrap_or_else(mnist::default_dir);
        let mut m = mnist::load(&dir)?;
        if let Some(n) = self.train_limit {
            m.train = m.train.head(n);
        }
        Ok(m)
    }
}

/// Sets the number of worker threads (once, before any parallel work).
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()?;
    }
    Ok(())
}

use anyhow::{anyhow, bail};
use clap::ValueEnum;
use dam_core::model::{ElementType, Kind, Model};
use dam_core::{Form, Interaction, Similarity};
use dam_std::data::npy::NpyArray;
use dam_std::families::Family;
use dam_std::model_io;

/// An interaction function on the command line.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FArg {
    /// s^n
    Poly,
    /// s^n for s ≥ 0, else 0
    Rect,
    /// s^n for s ≥ 0, else 0.01 s
    Leaky,
    /// e^s
    Exp,
}

/// `F` and the form, shared by `import`, `recall` and `energy`.
#[derive(Args, Debug, Clone)]
pub struct FormArgs {
    /// Interaction function F.
    #[arg(long, value_enum, default_value_t = FArg::Poly)]
    pub interaction: FArg,
    /// Degree n of the polynomial families.
    #[arg(short = 'n', long, default_value_t = 3)]
    pub degree: u32,
    /// Inverse temperature β.
    #[arg(long, default_value_t = 1.0)]
    pub beta: f64,
    /// The raw KH16 form (β outside the sum) instead of the normalized McA form.
    #[arg(long)]
    pub raw: bool,
}

impl FormArgs {
    /// The interaction function.
    pub fn interaction(&self) -> Interaction<f64> {
        let n = self.degree;
        match self.interaction {
            FArg::Poly => Interaction::Polynomial { n },
            FArg::Rect => Interaction::RectifiedPolynomial { n },
            FArg::Leaky => Interaction::leaky(n),
            FArg::Exp => Interaction::Exponential,
        }
    }

    /// The form.
    pub fn form(&self) -> Form<f64> {
        if self.raw {
            Form::Raw { beta: self.beta }
        } else {
            Form::Normalized { beta: self.beta }
        }
    }
}

/// A memory family on the command line.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyArg {
    /// Bipolar autoassociative memory with F (SPEC §3); queries are binarized.
    Bipolar,
    /// Log-sum-exp memory, Euclidean similarity (SPEC §5).
    Lse,
    /// Log-sum-exp memory, dot-product similarity (SPEC §5).
    LseDot,
}

/// Memories and queries for `recall` and `energy`.
#[derive(Args, Debug, Clone)]
pub struct MemoryArgs {
    /// Memories: a K×D .npy matrix.
    #[arg(
        long,
        value_name = "NPY",
        required_unless_present = "model",
        conflicts_with = "model"
    )]
    pub memories: Option<PathBuf>,
    /// Memories: a model file of kind Memory (its F, form and β are used).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Queries: a B×D (or D) .npy array.
    #[arg(long, value_name = "NPY")]
    pub queries: PathBuf,
    /// Which memory.
    #[arg(long, value_enum, default_value_t = FamilyArg::Bipolar)]
    pub family: FamilyArg,
    #[command(flatten)]
    pub form: FormArgs,
}

/// Loaded memories (`K × D`, f64), queries (`B × D`) and the family.
pub struct Loaded {
    pub memories: Vec<f64>,
    pub d: usize,
    pub queries: Vec<f64>,
    pub family: Family,
}

impl MemoryArgs {
    /// Loads and checks everything; errors name the file and the problem.
    pub fn load(&self) -> Result<Loaded> {
        let (memories, d, mut f, mut form) = if let Some(path) = &self.model {
            let bytes = model_io::load(path)?;
            let model =
                Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let h = *model.header();
            if h.kind != Kind::Memory {
                bail!(
                    "{}: a {:?} model, but this command needs a Memory model (see dam import --kind memory)",
                    path.display(),
                    h.kind
                );
            }
            // By the stored type, so the error is the real one (a NaN entry,
            // not "memories are F32, not F64").
            let named = |e| anyhow!("{}: {e}", path.display());
            let m: Vec<f64> = if h.element == ElementType::F64 {
                model.memories::<f64>().map_err(named)?.as_slice().to_vec()
            } else {
                let v = model.memories::<f32>().map_err(named)?;
                v.as_slice().iter().map(|&x| f64::from(x)).collect()
            };
            (m, h.d(), Some(h.interaction), Some(h.form))
        } else {
            let path = self
                .memories
                .as_ref()
                .ok_or_else(|| anyhow!("--memories or --model is required"))?;
            let (_, d, m) = NpyArray::read(path)?.matrix(&path.display().to_string())?;
            (m, d, None, None)
        };
        let f = f.take().unwrap_or_else(|| self.form.interaction());
        let form = form.take().unwrap_or_else(|| self.form.form());
        let name = self.queries.display().to_string();
        let (_, qd, queries) = NpyArray::read(&self.queries)?.matrix(&name)?;
        if qd != d {
            bail!("{name}: queries have {qd} columns, the memories have D = {d}");
        }
        let family = match self.family {
            FamilyArg::Bipolar => Family::Bipolar { f, form },
            FamilyArg::Lse => Family::Lse {
                beta: form.beta(),
                similarity: Similarity::Euclidean,
            },
            FamilyArg::LseDot => Family::Lse {
                beta: form.beta(),
                similarity: Similarity::DotProduct,
            },
        };
        Ok(Loaded {
            memories,
            d,
            queries,
            family,
        })
    }
}
