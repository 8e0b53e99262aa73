//! Options and helpers shared by several subcommands.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, ValueEnum};
use dam_std::data::dataset::{self, Options, Prepared, Scaling};
use dam_std::data::mnist;
use dam_std::data::source::Preview;
use dam_std::data::table::Table;

/// How inputs are mapped into the model's range, on the command line.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleArg {
    /// Global min-max for images, per-feature min-max otherwise.
    Auto,
    /// One min-max map for all features (8-bit pixels: 2p/255 − 1).
    Global,
    /// Each feature's training min-max to [−1, 1].
    Feature,
    /// Each feature to zero mean, unit standard deviation.
    Standard,
    /// Inputs as they are.
    None,
}

impl From<ScaleArg> for Scaling {
    fn from(s: ScaleArg) -> Self {
        match s {
            ScaleArg::Auto => Scaling::Auto,
            ScaleArg::Global => Scaling::GlobalMinMax,
            ScaleArg::Feature => Scaling::FeatureMinMax,
            ScaleArg::Standard => Scaling::Standard,
            ScaleArg::None => Scaling::None,
        }
    }
}

/// Parses `H×W` (or `HxW`).
pub fn parse_shape(s: &str) -> Result<(usize, usize), String> {
    let (h, w) = s
        .split_once(['x', 'X', '×'])
        .ok_or_else(|| format!("expected HEIGHTxWIDTH, e.g. 28x28, got {s:?}"))?;
    let p = |t: &str| {
        t.trim()
            .parse::<usize>()
            .map_err(|_| format!("{t:?} is not a whole number in {s:?}"))
    };
    Ok((p(h)?, p(w)?))
}

/// The shipped MNIST (`data/mnist`), the default dataset: through
/// `DAM_DATA` or upwards from this program
/// ([`dam_std::data::shipped::find`]); if absent, an error that names where
/// it looked and both fixes (`flag`: the option that names a dataset).
pub fn shipped_mnist(flag: &str) -> Result<PathBuf> {
    mnist::default_dir().map_err(|e| anyhow::anyhow!("{e}, or pass {flag} DIR"))
}

/// Where the data are and how to split and scale them.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// The dataset: a directory of IDX files (MNIST naming), an .npz
    /// (x_train, y_train, x_test, y_test), a features .npy (with --labels),
    /// a .csv/.tsv, or an IDX images file (with --labels) [default: the
    /// shipped data/mnist, found through $DAM_DATA or upwards from this
    /// program].
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// The labels of --data when they are a file of their own (.npy or IDX).
    #[arg(long, value_name = "PATH")]
    pub labels: Option<PathBuf>,
    /// CSV/TSV: the label column, by header name or 0-based index [default: the last].
    #[arg(long, value_name = "NAME|INDEX")]
    pub label_column: Option<String>,
    /// A test set of its own (same format as --data) instead of the one in
    /// --data or a split of it.
    #[arg(long, value_name = "PATH")]
    pub test_data: Option<PathBuf>,
    /// The labels of --test-data when they are a file of their own.
    #[arg(long, value_name = "PATH")]
    pub test_labels: Option<PathBuf>,
    /// Without a test set: the fraction of rows held out for testing (stratified).
    #[arg(long, default_value_t = 0.2, value_name = "F")]
    pub test_fraction: f64,
    /// The fraction of training rows held out for model selection and
    /// early stopping (stratified; 0: none).
    #[arg(long, default_value_t = 0.1, value_name = "F")]
    pub val_fraction: f64,
    /// Seed of the test and validation splits.
    #[arg(long, default_value_t = 0, value_name = "SEED")]
    pub split_seed: u64,
    /// How inputs are mapped into [−1, 1] (fitted on the training split, stored in the model).
    #[arg(long, value_enum, default_value_t = ScaleArg::Auto)]
    pub scale: ScaleArg,
    /// The rows are HEIGHTxWIDTH images (default: the file's own shape, if it has one).
    #[arg(long, value_name = "HxW", value_parser = parse_shape)]
    pub image_shape: Option<(usize, usize)>,
    /// Use only the first N training rows (all by default).
    #[arg(long, value_name = "N")]
    pub train_limit: Option<usize>,
}

impl DataArgs {
    /// The dataset path (the shipped MNIST by default, see [`shipped_mnist`]).
    pub fn path(&self) -> Result<PathBuf> {
        match &self.data {
            Some(p) => Ok(p.clone()),
            None => shipped_mnist("--data"),
        }
    }

    fn options(&self) -> Options {
        Options {
            test_fraction: self.test_fraction,
            val_fraction: self.val_fraction,
            seed: self.split_seed,
            scaling: self.scale.into(),
            image_shape: self.image_shape,
            train_limit: self.train_limit,
        }
    }

    /// Reads the tables: training rows and the test rows, if the data have
    /// their own (or --test-data gives them).
    pub fn tables(&self) -> Result<(Table, Option<Table>)> {
        if let Some(p) = &self.test_data {
            let train = crate::tables::load_all(
                &self.path()?,
                self.labels.as_deref(),
                self.label_column.as_deref(),
            )?;
            let test = crate::tables::load_all(
                p,
                self.test_labels.as_deref(),
                self.label_column.as_deref(),
            )?;
            return Ok((train, Some(test)));
        }
        crate::tables::load(
            &self.path()?,
            self.labels.as_deref(),
            self.label_column.as_deref(),
        )
    }

    /// Reads only the test rows (the data's own test split or --test-data),
    /// never the training rows; `None` if there are none.
    pub fn test_table(&self) -> Result<Option<Table>> {
        match &self.test_data {
            Some(p) => Ok(Some(crate::tables::load_all(
                p,
                self.test_labels.as_deref(),
                self.label_column.as_deref(),
            )?)),
            None => crate::tables::load_test(
                &self.path()?,
                self.labels.as_deref(),
                self.label_column.as_deref(),
            ),
        }
    }

    /// Reads only the training rows that `choose` picks from every label
    /// (the held-out test rows of a single-table source), never the
    /// features of the others.
    pub fn train_rows(
        &self,
        choose: impl FnOnce(&Preview<'_>) -> Result<Vec<usize>>,
    ) -> Result<Table> {
        crate::tables::load_rows(
            &self.path()?,
            self.labels.as_deref(),
            self.label_column.as_deref(),
            choose,
        )
    }

    /// Every file the data options name (to refuse an output over one).
    pub fn inputs(&self) -> Vec<PathBuf> {
        [
            self.path().ok(),
            self.labels.clone(),
            self.test_data.clone(),
            self.test_labels.clone(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Loads, splits and scales. Every error about the data names its
    /// file already (no "dataset X: X: …").
    pub fn prepare(&self) -> Result<Prepared> {
        let (train, test) = self.tables()?;
        dataset::prepare(train, test, &self.options())
    }
}

/// [`dam_std::output::refuse_inputs`] for owned paths.
pub fn refuse_inputs(outputs: &[PathBuf], inputs: &[PathBuf]) -> Result<()> {
    let o: Vec<&std::path::Path> = outputs.iter().map(PathBuf::as_path).collect();
    let i: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
    dam_std::output::refuse_inputs(&o, &i)
}

impl MemoryArgs {
    /// Every file these options name.
    pub fn inputs(&self) -> Vec<PathBuf> {
        [
            self.memories.clone(),
            self.model.clone(),
            Some(self.queries.clone()),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The most worker threads `--threads` takes.
pub const MAX_THREADS: usize = 1024;

/// An error if `--threads` is 0 or above [`MAX_THREADS`] (each thread
/// reserves its stack: a huge count aborts or hangs the program).
pub fn check_threads(threads: Option<usize>) -> Result<()> {
    match threads {
        Some(n) if !(1..=MAX_THREADS).contains(&n) => {
            anyhow::bail!("--threads {n}: give between 1 and {MAX_THREADS}")
        }
        _ => Ok(()),
    }
}

/// Sets the number of worker threads (once, before any parallel work).
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    check_threads(threads)?;
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()?;
    }
    Ok(())
}

use anyhow::{anyhow, bail};
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
    /// s^n for s ≥ 0, else ε s (ε from --leak)
    Leaky,
    /// e^s
    Exp,
}

/// `F` and the form, shared by `import`, `recall` and `energy`. Each value
/// is optional so that, with `--model`, a value the user gave can be told
/// from a default and checked against the model.
#[derive(Args, Debug, Clone)]
pub struct FormArgs {
    /// Interaction function F [default: poly].
    #[arg(long, value_enum)]
    pub interaction: Option<FArg>,
    /// Degree n of the polynomial families [default: 3].
    #[arg(short = 'n', long)]
    pub degree: Option<u32>,
    /// Inverse temperature β [default: 1].
    #[arg(long)]
    pub beta: Option<f64>,
    /// The leak ε of `--interaction leaky`, finite and ≥ 0 [default: 0.01].
    #[arg(long)]
    pub leak: Option<f64>,
    /// The raw KH16 form (β outside the sum) instead of the normalized McA form.
    #[arg(long)]
    pub raw: bool,
}

impl FormArgs {
    /// The interaction function.
    pub fn interaction(&self) -> Interaction<f64> {
        let n = self.degree.unwrap_or(3);
        match self.interaction.unwrap_or(FArg::Poly) {
            FArg::Poly => Interaction::Polynomial { n },
            FArg::Rect => Interaction::RectifiedPolynomial { n },
            FArg::Leaky => match self.leak {
                Some(leak) => Interaction::LeakyRectifiedPolynomial { n, leak },
                None => Interaction::leaky(n),
            },
            FArg::Exp => Interaction::Exponential,
        }
    }

    /// The form.
    pub fn form(&self) -> Form<f64> {
        let beta = self.beta.unwrap_or(1.0);
        if self.raw {
            Form::Raw { beta }
        } else {
            Form::Normalized { beta }
        }
    }

    /// Checks the options among themselves: `--leak` only with the leaky
    /// `F`, and `F`'s parameters in range.
    pub fn validate(&self) -> Result<()> {
        if self.leak.is_some() && self.interaction != Some(FArg::Leaky) {
            bail!("--leak applies to --interaction leaky only");
        }
        self.interaction()
            .validate()
            .map_err(|e| anyhow!("--interaction/--degree/--leak: {e}"))
    }

    /// With a model: an error naming the option and the model's value for
    /// every option given that contradicts the model (`F`, `n`, `ε`, `β`,
    /// the form); options not given take the model's values.
    pub fn check_against(&self, path: &Path, f: &Interaction<f64>, form: &Form<f64>) -> Result<()> {
        let model = path.display();
        // `None`: an F with no --interaction name (of a newer model format),
        // which every --interaction contradicts.
        let kind_of = |f: &Interaction<f64>| match f {
            Interaction::Polynomial { .. } => Some(FArg::Poly),
            Interaction::RectifiedPolynomial { .. } => Some(FArg::Rect),
            Interaction::LeakyRectifiedPolynomial { .. } => Some(FArg::Leaky),
            Interaction::Exponential => Some(FArg::Exp),
            _ => None,
        };
        if let Some(i) = self.interaction
            && Some(i) != kind_of(f)
        {
            bail!("--interaction {i:?} contradicts {model}, whose F is {f:?}");
        }
        if let Some(n) = self.degree
            && f.degree() != Some(n)
        {
            bail!("--degree {n} contradicts {model}, whose F is {f:?}");
        }
        if let (Some(e), Interaction::LeakyRectifiedPolynomial { leak, .. }) = (self.leak, f)
            && e != *leak
        {
            bail!("--leak {e} contradicts {model}, whose leak is {leak}");
        }
        if let Some(b) = self.beta
            && b != form.beta()
        {
            bail!("--beta {b} contradicts {model}, whose β is {}", form.beta());
        }
        if self.raw && !matches!(form, Form::Raw { .. }) {
            bail!("--raw contradicts {model}, which is in the normalized form");
        }
        Ok(())
    }
}

/// A memory family on the command line.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyArg {
    /// Bipolar autoassociative memory with F (math.md §3); queries are binarized.
    Bipolar,
    /// Log-sum-exp memory, Euclidean similarity (math.md §5).
    Lse,
    /// Log-sum-exp memory, dot-product similarity (math.md §5).
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
        self.form.validate()?;
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
            let a = NpyArray::read(path)?;
            if a.shape.len() != 2 {
                bail!(
                    "{}: memories must be a K×D matrix, got shape {:?} (one memory of D entries is shape (1, D))",
                    path.display(),
                    a.shape
                );
            }
            let (_, d, m) = a.matrix(&path.display().to_string())?;
            (m, d, None, None)
        };
        if let (Some(path), Some(f), Some(form)) = (&self.model, &f, &form) {
            self.form.check_against(path, f, form)?;
        }
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
