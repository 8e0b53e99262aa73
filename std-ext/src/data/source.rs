//! A user's dataset in any supported format, detected from the path and
//! read into [`Table`]s.
//!
//! | `SourceSpec::data` | format | test part |
//! | --- | --- | --- |
//! | a directory | IDX files with MNIST names: `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]` (`.` for the last `-` works too) | `t10k-…` or `test-…`, if present |
//! | `*.npz` | `x_train`, `y_train` (or `x`, `y`) | `x_test`, `y_test`, if present |
//! | `*.npy` | features; [`SourceSpec::labels`] names the labels `.npy` | none |
//! | `*.csv`, `*.tsv`, `*.txt` | delimited text ([`super::csv`]) | none |
//! | `*.idx*`, `*-ubyte[.gz]` | IDX features; [`SourceSpec::labels`] names the labels IDX file | none |
//!
//! Features are `N × D`, or `N × H × W` images (then
//! [`Table::image_shape`] is `(H, W)`); labels are `N` (or `N × 1`)
//! integers (any integer type, or floats holding integers, within `i32`)
//! or, in a `.npy`/`.npz`, 1-D unicode strings. Every table returned has
//! passed [`Table::validate`]; errors name the file and the row, column or
//! value. A separately given test file is one more [`SourceSpec`], read
//! with [`load_train`] (a single-table source is all train part).
//! [`load_rows`] keeps only the rows a caller chooses from the labels (the
//! held-out test rows of a single-table source), never holding the other
//! rows' features.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::csv::{CsvOptions, Keep, delimiter_for};
use super::idx::{self, IdxAny, IdxRows};
use super::npy::{Elements, NpyArray, NpyRows};
use super::npz::Npz;
use super::table::{Labels, Table};

/// Where a dataset is and how to read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSpec {
    /// The data: a directory, `.npz`, `.npy`, delimited text or IDX file.
    pub data: PathBuf,
    /// The labels file, for `.npy` and IDX features (required there, an
    /// error elsewhere).
    pub labels: Option<PathBuf>,
    /// Delimited text only: the label column, a header name or a 0-based
    /// index (default: the last column).
    pub label_column: Option<String>,
    /// Delimited text only: the field delimiter (default: from the
    /// extension, else sniffed).
    pub delimiter: Option<u8>,
    /// Delimited text only: whether the first row is a header (default:
    /// detected).
    pub header: Option<bool>,
}

impl SourceSpec {
    /// A spec for `data` with every option at its default.
    pub fn new(data: impl Into<PathBuf>) -> Self {
        SourceSpec {
            data: data.into(),
            ..SourceSpec::default()
        }
    }
}

/// The part of a dataset to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The training data (the whole of a single-table source).
    Train,
    /// The test data that some sources carry (`.npz` `x_test`, an IDX
    /// directory's `t10k-` files).
    Test,
}

/// The formats [`detect`] tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A directory of IDX files with MNIST names.
    IdxDir,
    /// A `.npz` archive.
    Npz,
    /// A features `.npy` with a labels `.npy`.
    Npy,
    /// CSV, TSV or other delimited text.
    Delimited,
    /// An IDX features file with an IDX labels file.
    Idx,
}

/// The formats, for error messages.
const FORMATS: &str = "a directory of IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-…), \
     .npz (x_train, y_train[, x_test, y_test]), .npy features with a labels .npy, \
     .csv/.tsv/.txt, or an IDX file (.idx*, *-ubyte[.gz]) with a labels IDX file";

/// The format of `spec.data`, from the file system and the name; checks
/// that a labels file is given exactly where one is needed.
///
/// ```
/// use dam_std::data::source::{Format, SourceSpec, detect};
/// assert_eq!(detect(&SourceSpec::new("iris.csv"))?, Format::Delimited);
/// assert_eq!(detect(&SourceSpec::new("mnist.npz"))?, Format::Npz);
/// assert!(detect(&SourceSpec::new("x.npy")).unwrap_err().to_string().contains("labels"));
/// assert!(detect(&SourceSpec::new("x.parquet")).unwrap_err().to_string().contains(".npz"));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn detect(spec: &SourceSpec) -> Result<Format> {
    let path = &spec.data;
    let name = path.display();
    let format = if path.is_dir() {
        Format::IdxDir
    } else {
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let base = file.strip_suffix(".gz").unwrap_or(&file);
        let ext = base.rsplit_once('.').map_or("", |(_, e)| e);
        match ext {
            "npz" => Format::Npz,
            "npy" => Format::Npy,
            "csv" | "tsv" | "txt" | "tab" => Format::Delimited,
            _ if ext.starts_with("idx") || base.ends_with("ubyte") => Format::Idx,
            _ => bail!("{name}: unknown dataset format; expected {FORMATS}"),
        }
    };
    let needs_labels = matches!(format, Format::Npy | Format::Idx);
    match (&spec.labels, needs_labels) {
        (None, true) => bail!(
            "{name}: a {} features file needs a labels file too",
            if format == Format::Npy { ".npy" } else { "IDX" }
        ),
        (Some(l), false) => bail!(
            "{name}: a labels file ({}) goes only with .npy or IDX features; this source holds its labels",
            l.display()
        ),
        _ => {}
    }
    let text_options =
        spec.label_column.is_some() || spec.delimiter.is_some() || spec.header.is_some();
    if text_options && format != Format::Delimited {
        bail!("{name}: the label column, delimiter and header options apply to CSV/TSV only");
    }
    Ok(format)
}

/// Loads the train table and, when the source carries one (`.npz`
/// `x_test`, an IDX directory's `t10k-`/`test-` files), the test table.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use dam_std::data::source::{SourceSpec, load};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("d.tsv");
/// std::fs::write(&path, "0.5\t1\t7\n2\t3\t9\n")?;
/// let (train, test) = load(&SourceSpec::new(&path))?;
/// assert_eq!((train.rows, train.cols, test), (2, 2, None));
/// # Ok(()) }
/// ```
pub fn load(spec: &SourceSpec) -> Result<(Table, Option<Table>)> {
    let train = load_train(spec)?;
    let test = load_test(spec)?;
    Ok((train, test))
}

/// Loads only the train part (the whole of a single-table source).
pub fn load_train(spec: &SourceSpec) -> Result<Table> {
    load_part(spec, Part::Train)?
        .with_context(|| format!("{}: no training data", spec.data.display()))
}

/// Loads only the test part, `None` when the source carries none (a
/// single-table source). Neither reads nor decompresses the training data.
pub fn load_test(spec: &SourceSpec) -> Result<Option<Table>> {
    load_part(spec, Part::Test)
}

/// Loads one part; `None` for a part the source does not carry (a test
/// part only: a missing train part is an error).
pub fn load_part(spec: &SourceSpec, part: Part) -> Result<Option<Table>> {
    let format = detect(spec)?;
    let train = part == Part::Train;
    match format {
        Format::IdxDir => idx_dir(&spec.data, part),
        Format::Npz => npz(&spec.data, part),
        Format::Npy | Format::Idx if !train => Ok(None),
        Format::Delimited if !train => Ok(None),
        Format::Npy => {
            let labels = spec.labels.as_deref().unwrap_or(Path::new(""));
            let x = NpyArray::read(&spec.data)?;
            let y = NpyArray::read(labels)?;
            let table = from_npy(
                &x,
                &spec.data.display().to_string(),
                &y,
                &labels.display().to_string(),
            )?;
            Ok(Some(table))
        }
        Format::Idx => {
            let labels = spec.labels.as_deref().unwrap_or(Path::new(""));
            Ok(Some(idx_pair(&spec.data, labels)?))
        }
        Format::Delimited => Ok(Some(super::csv::read(&spec.data, &csv_options(spec))?)),
    }
}

/// The delimited-text options of `spec`.
fn csv_options(spec: &SourceSpec) -> CsvOptions {
    CsvOptions {
        delimiter: spec.delimiter.or_else(|| delimiter_for(&spec.data)),
        header: spec.header,
        label_column: spec.label_column.clone(),
    }
}

/// What [`load_rows`] knows of the train part before it reads any
/// feature value: every row's label, the width and the name. The caller
/// chooses the rows to keep from it.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use dam_std::data::source::{SourceSpec, load_rows};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("d.tsv");
/// std::fs::write(&path, "0.5\t1\t7\n2\t3\t9\n")?;
/// // Keep the rows after the first.
/// let t = load_rows(&SourceSpec::new(&path), |p| {
///     assert_eq!((p.rows(), p.cols, p.image_shape), (2, 2, None));
///     Ok((1..p.rows()).collect())
/// })?;
/// assert_eq!(t.values, [2.0, 3.0]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Preview<'a> {
    /// Every row's label, as [`Table::labels`] would hold them.
    pub labels: &'a Labels,
    /// Feature columns per row.
    pub cols: usize,
    /// `(height, width)` when the file's shape says the rows are images.
    pub image_shape: Option<(usize, usize)>,
    /// The table's [`Table::source`], for errors.
    pub source: &'a str,
}

impl Preview<'_> {
    /// The number of rows.
    ///
    /// ```
    /// use dam_std::data::{source::Preview, table::Labels};
    /// let labels = Labels::Int(vec![0, 1, 1]);
    /// let p = Preview { labels: &labels, cols: 4, image_shape: None, source: "d.csv" };
    /// assert_eq!(p.rows(), 3);
    /// ```
    pub fn rows(&self) -> usize {
        self.labels.len()
    }
}

/// Loads the train part keeping only the rows that `choose` picks from a
/// [`Preview`] (every label, the width), in the order it gives them (a row
/// may come twice). The result equals `load_train(spec)?.select(&rows)`,
/// values bit for bit, but memory holds the labels and the chosen rows
/// only:
///
/// - delimited text is read twice, streamed: the first pass parses and
///   checks every row as [`load_train`] does (the same errors, naming the
///   line, row and column) and keeps only the labels; the second keeps
///   the chosen rows' values;
/// - a `.npy` or IDX pair (and an IDX directory's `train-` files): the
///   labels file is read whole, then the features file streamed one row at
///   a time (gzip through `flate2`), every row converted and checked
///   finite (so a bad value in a row not chosen is still the same error),
///   only the chosen ones kept;
/// - a `.npz` has no row access: its train part is loaded whole, then
///   selected.
///
/// Errors: those of the readers, those of `choose`, a chosen row out of
/// range, and an empty choice.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use dam_std::data::source::{SourceSpec, load_rows, load_train};
/// use dam_std::data::table::Labels;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("d.csv");
/// std::fs::write(&path, "x,y,class\n0,1,a\n2,3,b\n4,5,a\n6,7,b\n")?;
/// let spec = SourceSpec::new(&path);
/// // The rows labelled "b", last first.
/// let t = load_rows(&spec, |p| {
///     let Labels::Text(l) = p.labels else { anyhow::bail!("{}: not text", p.source) };
///     Ok((0..p.rows()).rev().filter(|&r| l[r] == "b").collect())
/// })?;
/// assert_eq!((t.rows, t.cols, &t.values), (2, 2, &vec![6.0, 7.0, 2.0, 3.0]));
/// assert_eq!(t, load_train(&spec)?.select(&[3, 1]));
/// # Ok(()) }
/// ```
pub fn load_rows(
    spec: &SourceSpec,
    choose: impl FnOnce(&Preview<'_>) -> Result<Vec<usize>>,
) -> Result<Table> {
    let labels_file = || spec.labels.as_deref().unwrap_or(Path::new(""));
    match detect(spec)? {
        Format::Delimited => csv_rows(spec, choose),
        Format::Npy => npy_rows(&spec.data, labels_file(), choose),
        Format::Idx => idx_rows(&spec.data, labels_file(), choose),
        Format::IdxDir => match idx_dir_files(&spec.data, Part::Train)? {
            Some((x, y)) => idx_rows(&x, &y, choose),
            None => bail!("{}: no training data", spec.data.display()),
        },
        Format::Npz => {
            let t = load_train(spec)?;
            let preview = Preview {
                labels: &t.labels,
                cols: t.cols,
                image_shape: t.image_shape,
                source: &t.source,
            };
            let rows = Chosen::new(choose(&preview)?, t.rows, &t.source)?;
            Ok(t.select(&rows.order))
        }
    }
}

/// Rows a [`load_rows`] caller chose: in its order, and sorted without
/// repeats (the order of a pass over the file).
struct Chosen {
    /// As chosen.
    order: Vec<usize>,
    /// Ascending, each once.
    sorted: Vec<usize>,
}

impl Chosen {
    /// Checks `order` against a table of `rows` rows named `source`.
    fn new(order: Vec<usize>, rows: usize, source: &str) -> Result<Self> {
        if order.is_empty() {
            bail!("{source}: no rows chosen");
        }
        if let Some(&r) = order.iter().find(|&&r| r >= rows) {
            bail!(
                "{source}: row {r} chosen, but the table has {rows} rows (0 to {})",
                rows - 1
            );
        }
        let mut sorted = order.clone();
        sorted.sort_unstable();
        sorted.dedup();
        Ok(Chosen { order, sorted })
    }

    /// `true` if row `r` is chosen.
    fn contains(&self, r: usize) -> bool {
        self.sorted.binary_search(&r).is_ok()
    }

    /// The table of the chosen rows, from `kept`: their values in
    /// [`Chosen::sorted`] order (`cols` each).
    fn table(&self, kept: Vec<f32>, preview: &Preview<'_>) -> Result<Table> {
        let cols = preview.cols;
        let values = if self.order == self.sorted {
            kept
        } else {
            let mut values = Vec::with_capacity(self.order.len() * cols);
            for r in &self.order {
                // Every chosen row is in `sorted`.
                let at = self.sorted.binary_search(r).unwrap_or_default();
                values.extend_from_slice(&kept[at * cols..(at + 1) * cols]);
            }
            values
        };
        let t = Table {
            values,
            rows: self.order.len(),
            cols,
            image_shape: preview.image_shape,
            feature_names: None,
            labels: preview.labels.select(&self.order),
            source: preview.source.to_owned(),
        };
        t.validate()?;
        Ok(t)
    }
}

/// [`load_rows`] for delimited text: a checking pass for the labels, a
/// second for the chosen rows' values.
fn csv_rows(
    spec: &SourceSpec,
    choose: impl FnOnce(&Preview<'_>) -> Result<Vec<usize>>,
) -> Result<Table> {
    let opts = csv_options(spec);
    let source = spec.data.display().to_string();
    let first = super::csv::read_part(&spec.data, &opts, Keep::Checked)?;
    let preview = Preview {
        labels: &first.labels,
        cols: first.cols,
        image_shape: None,
        source: &source,
    };
    let chosen = Chosen::new(choose(&preview)?, preview.rows(), &source)?;
    let is_chosen = |r: usize| chosen.contains(r);
    let second = super::csv::read_part(&spec.data, &opts, Keep::Rows(&is_chosen))?;
    if second.labels != first.labels || second.cols != first.cols {
        bail!("{source}: the file changed while it was read");
    }
    let mut t = chosen.table(second.values, &preview)?;
    t.feature_names = first.feature_names;
    Ok(t)
}

/// Streams `rows` rows, `next_row(r, out)` appending row `r`'s checked
/// values to `out`, and keeps the chosen ones (in file order).
fn keep_chosen(
    rows: usize,
    cols: usize,
    chosen: &Chosen,
    mut next_row: impl FnMut(usize, &mut Vec<f32>) -> Result<()>,
) -> Result<Vec<f32>> {
    let mut kept = Vec::with_capacity((chosen.sorted.len() + 1) * cols);
    let mut wanted = chosen.sorted.iter().peekable();
    for r in 0..rows {
        let len = kept.len();
        next_row(r, &mut kept)?;
        if wanted.next_if_eq(&&r).is_none() {
            kept.truncate(len);
        }
    }
    Ok(kept)
}

/// [`load_rows`] for a features `.npy` and a labels `.npy`.
fn npy_rows(
    x_path: &Path,
    y_path: &Path,
    choose: impl FnOnce(&Preview<'_>) -> Result<Vec<usize>>,
) -> Result<Table> {
    let (x_name, y_name) = (x_path.display().to_string(), y_path.display().to_string());
    let mut x = NpyRows::open(x_path)?;
    let y = NpyArray::read(y_path)?;
    let shape = feature_shape(&x.shape, &x_name)?;
    if !x.is_numeric() {
        return Err(not_numbers(&x_name));
    }
    let labels = npy_labels(&y, &y_name)?;
    drop(y);
    let cols = shape.1;
    pair_rows(&x_name, &y_name, shape, labels, choose, |r, out| {
        npy_features(&x.next_row()?, r * cols, cols, &x_name, out)
    })
}

/// [`load_rows`] for an IDX features file and an IDX labels file.
fn idx_rows(
    x_path: &Path,
    y_path: &Path,
    choose: impl FnOnce(&Preview<'_>) -> Result<Vec<usize>>,
) -> Result<Table> {
    let (x_name, y_name) = (x_path.display().to_string(), y_path.display().to_string());
    let mut x = IdxRows::open(x_path)?;
    let y = idx::read_any(y_path)?;
    let shape = feature_shape(&x.dims, &x_name)?;
    let labels = idx_labels(&y, &y_name)?;
    drop(y);
    let (rows, cols, _) = shape;
    pair_rows(&x_name, &y_name, shape, labels, choose, |r, out| {
        push_finite(x.next_row()?, r * cols, cols, &x_name, out)?;
        if r + 1 == rows {
            x.finish()?;
        }
        Ok(())
    })
}

/// The rest of [`load_rows`] for a features file of `shape` read row by
/// row (`next_row(r, out)` appends row `r`'s checked values to `out`) and
/// its `labels`: checks, lets `choose` pick, streams.
fn pair_rows(
    x_name: &str,
    y_name: &str,
    (rows, cols, image_shape): Shape,
    labels: Labels,
    choose: impl FnOnce(&Preview<'_>) -> Result<Vec<usize>>,
    next_row: impl FnMut(usize, &mut Vec<f32>) -> Result<()>,
) -> Result<Table> {
    check_rows(rows, cols, &labels, x_name, y_name)?;
    let source = pair_source(x_name, y_name);
    let preview = Preview {
        labels: &labels,
        cols,
        image_shape,
        source: &source,
    };
    let chosen = Chosen::new(choose(&preview)?, rows, &source)?;
    let kept = keep_chosen(rows, cols, &chosen, next_row)?;
    chosen.table(kept, &preview)
}

/// A features array and a labels array as a validated [`Table`]; `x_name`
/// and `y_name` name them in errors.
///
/// ```
/// use dam_std::data::{npy::{Elements, NpyArray}, source::from_npy, table::Labels};
/// let x = NpyArray { shape: vec![2, 2, 2], data: Elements::U8(vec![0, 1, 2, 3, 4, 5, 6, 7]) };
/// let y = NpyArray { shape: vec![2], data: Elements::Str(vec!["a".into(), "b".into()]) };
/// let t = from_npy(&x, "x.npy", &y, "y.npy")?;
/// assert_eq!((t.rows, t.cols, t.image_shape), (2, 4, Some((2, 2))));
/// assert_eq!(t.labels, Labels::Text(vec!["a".into(), "b".into()]));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn from_npy(x: &NpyArray, x_name: &str, y: &NpyArray, y_name: &str) -> Result<Table> {
    let (rows, cols, image_shape) = feature_shape(&x.shape, x_name)?;
    let mut values = Vec::with_capacity(x.data.len());
    npy_features(&x.data, 0, cols, x_name, &mut values)?;
    let labels = npy_labels(y, y_name)?;
    table(values, rows, cols, image_shape, labels, x_name, y_name)
}

/// Rows, columns and image shape `(H, W)` of a features array.
type Shape = (usize, usize, Option<(usize, usize)>);

/// The rows, columns and image shape of a features array of `shape`.
fn feature_shape(shape: &[usize], name: &str) -> Result<Shape> {
    Ok(match *shape {
        [n, d] => (n, d, None),
        [n, h, w] => match h.checked_mul(w) {
            Some(d) => (n, d, Some((h, w))),
            None => bail!("{name}: images of {h} × {w} are too large"),
        },
        _ => bail!(
            "{name}: features must be N × D or N × H × W, got shape {shape:?} ({} dimensions)",
            shape.len()
        ),
    })
}

/// Appends `values` as `f32` to `out`, each checked finite (also after
/// narrowing from `f64`); `first` is the first value's index in the whole
/// array, so that errors name the file, the row and the column.
fn push_finite(
    values: impl Iterator<Item = f64>,
    first: usize,
    cols: usize,
    name: &str,
    out: &mut Vec<f32>,
) -> Result<()> {
    out.reserve(values.size_hint().0);
    for (i, v) in values.enumerate() {
        let y = v as f32;
        if !y.is_finite() {
            let i = first + i;
            bail!(
                "{name}: non-finite value {v} at row {}, column {}{}",
                i / cols.max(1),
                i % cols.max(1),
                if v.is_finite() {
                    " (beyond float32)"
                } else {
                    ""
                }
            );
        }
        out.push(y);
    }
    Ok(())
}

/// The features of a `.npy` array as checked `f32`, appended to `out`;
/// `first` as for [`push_finite`].
fn npy_features(
    e: &Elements,
    first: usize,
    cols: usize,
    name: &str,
    out: &mut Vec<f32>,
) -> Result<()> {
    fn f<T: Copy + Into<f64>>(
        v: &[T],
        first: usize,
        cols: usize,
        name: &str,
        out: &mut Vec<f32>,
    ) -> Result<()> {
        push_finite(v.iter().map(|&x| x.into()), first, cols, name, out)
    }
    match e {
        Elements::F32(v) => f(v, first, cols, name, out),
        Elements::F64(v) => f(v, first, cols, name, out),
        Elements::U8(v) => f(v, first, cols, name, out),
        Elements::I8(v) => f(v, first, cols, name, out),
        Elements::I16(v) => f(v, first, cols, name, out),
        Elements::U16(v) => f(v, first, cols, name, out),
        Elements::I32(v) => f(v, first, cols, name, out),
        Elements::U32(v) => f(v, first, cols, name, out),
        Elements::I64(v) => push_finite(v.iter().map(|&x| x as f64), first, cols, name, out),
        Elements::U64(v) => push_finite(v.iter().map(|&x| x as f64), first, cols, name, out),
        Elements::Bool(v) => push_finite(
            v.iter().map(|&x| f64::from(u8::from(x))),
            first,
            cols,
            name,
            out,
        ),
        Elements::Str(_) => Err(not_numbers(name)),
    }
}

/// The error for unicode string features.
fn not_numbers(name: &str) -> anyhow::Error {
    anyhow::anyhow!("{name}: features must be numbers, got a unicode string array")
}

/// The labels of a `.npy` array: `N` or `N × 1` numbers, or `N` strings.
fn npy_labels(y: &NpyArray, name: &str) -> Result<Labels> {
    if let Elements::Str(v) = &y.data {
        if y.shape.len() != 1 {
            bail!(
                "{name}: unicode labels must be 1-D, got shape {:?}",
                y.shape
            );
        }
        return Ok(Labels::Text(v.clone()));
    }
    check_label_shape(&y.shape, name)?;
    if let Elements::U64(v) = &y.data {
        // Named before `to_i64` saturates them.
        if let Some(i) = v.iter().position(|&l| l > i32::MAX as u64) {
            bail!(
                "{name}: label {} at row {i} is outside the i32 range (|label| ≤ 2^31 − 1)",
                v[i]
            );
        }
    }
    match y.data.to_i64() {
        Some(v) => Labels::from_i64(v, name),
        None => Labels::from_f64(y.data.to_f64(), name),
    }
}

/// Labels come as `N` or `N × 1`.
fn check_label_shape(shape: &[usize], name: &str) -> Result<()> {
    if !matches!(shape, [_] | [_, 1]) {
        bail!("{name}: labels must be 1-D (N or N × 1), got shape {shape:?}");
    }
    Ok(())
}

/// Assembles and validates a table, first checking that `values` and
/// `labels` have the same number of rows.
fn table(
    values: Vec<f32>,
    rows: usize,
    cols: usize,
    image_shape: Option<(usize, usize)>,
    labels: Labels,
    x_name: &str,
    y_name: &str,
) -> Result<Table> {
    check_rows(rows, cols, &labels, x_name, y_name)?;
    let t = Table {
        values,
        rows,
        cols,
        image_shape,
        feature_names: None,
        labels,
        source: pair_source(x_name, y_name),
    };
    t.validate()?;
    Ok(t)
}

/// [`Table::source`] of a features file and a labels file.
fn pair_source(x_name: &str, y_name: &str) -> String {
    format!("{x_name} + {y_name}")
}

/// Checks that features of `rows × cols` and `labels` make a table: one
/// label per row, at least one row and one column.
fn check_rows(rows: usize, cols: usize, labels: &Labels, x_name: &str, y_name: &str) -> Result<()> {
    if labels.len() != rows {
        bail!(
            "{x_name} has {rows} rows but {y_name} has {} labels",
            labels.len()
        );
    }
    if rows == 0 {
        bail!("{x_name}: no rows (an empty table)");
    }
    if cols == 0 {
        bail!("{x_name}: zero feature columns");
    }
    Ok(())
}

/// Reads one part of a `.npz`: `x_train`/`y_train` (or `x`/`y`) or
/// `x_test`/`y_test`.
fn npz(path: &Path, part: Part) -> Result<Option<Table>> {
    let mut z = Npz::open(path)?;
    let (x, y) = match part {
        Part::Test => ("x_test", "y_test"),
        Part::Train if !z.contains("x_train") && !z.contains("y_train") && z.contains("x") => {
            ("x", "y")
        }
        Part::Train => ("x_train", "y_train"),
    };
    match (z.contains(x), z.contains(y)) {
        (true, true) => {}
        (false, false) if part == Part::Test => return Ok(None),
        (has_x, _) => bail!(
            "{}: no array {:?} (needs {x:?} and {y:?}; it holds {:?})",
            path.display(),
            if has_x { y } else { x },
            z.names()
        ),
    }
    let (x_name, y_name) = (z.describe(x), z.describe(y));
    let xa = z.read(x)?;
    let ya = z.read(y)?;
    from_npy(&xa, &x_name, &ya, &y_name).map(Some)
}

/// An IDX features file and an IDX labels file as a table.
fn idx_pair(images: &Path, labels: &Path) -> Result<Table> {
    let (x_name, y_name) = (images.display().to_string(), labels.display().to_string());
    let x = idx::read_any(images)?;
    let y = idx::read_any(labels)?;
    from_idx(&x, &x_name, &y, &y_name)
}

/// IDX features and labels as a validated [`Table`].
fn from_idx(x: &IdxAny, x_name: &str, y: &IdxAny, y_name: &str) -> Result<Table> {
    let (rows, cols, image_shape) = feature_shape(&x.dims, x_name)?;
    let mut values = Vec::with_capacity(x.len());
    push_finite(x.iter_f64(), 0, cols, x_name, &mut values)?;
    let labels = idx_labels(y, y_name)?;
    table(values, rows, cols, image_shape, labels, x_name, y_name)
}

/// The labels of an IDX labels array: `N` or `N × 1` numbers.
fn idx_labels(y: &IdxAny, y_name: &str) -> Result<Labels> {
    check_label_shape(&y.dims, y_name)?;
    if y.ty.is_integer() {
        // Every IDX integer type fits in i32, so exactly.
        Ok(Labels::Int(y.iter_f64().map(|v| v as i64).collect()))
    } else {
        Labels::from_f64(y.iter_f64(), y_name)
    }
}

/// The IDX file in `dir` for `prefix` (`train`, `t10k`, `test`) and `kind`
/// (`images`, `labels`): `{prefix}-{kind}-idx{n}-ubyte[.gz]` or with `.`
/// before `idx`; raw before gzip.
fn idx_file(dir: &Path, prefix: &str, kind: &str) -> Result<Option<PathBuf>> {
    let mut found: Vec<PathBuf> = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let Some(name) = entry.file_name().to_str().map(str::to_ascii_lowercase) else {
            continue;
        };
        let base = name.strip_suffix(".gz").unwrap_or(&name);
        let Some(rest) = base.strip_prefix(&format!("{prefix}-{kind}")) else {
            continue;
        };
        let rest = rest.strip_prefix(['-', '.']).unwrap_or(rest);
        if rest.starts_with("idx") && rest.ends_with("ubyte") {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found.into_iter().next())
}

/// One part of an IDX directory; the train part is required, the test part
/// (`t10k-` or `test-`) optional, but images and labels come together.
fn idx_dir(dir: &Path, part: Part) -> Result<Option<Table>> {
    match idx_dir_files(dir, part)? {
        Some((x, y)) => idx_pair(&x, &y).map(Some),
        None => Ok(None),
    }
}

/// The images and labels files of one part of an IDX directory (see
/// [`idx_dir`]).
fn idx_dir_files(dir: &Path, part: Part) -> Result<Option<(PathBuf, PathBuf)>> {
    let prefixes: &[&str] = match part {
        Part::Train => &["train"],
        Part::Test => &["t10k", "test"],
    };
    for prefix in prefixes {
        let images = idx_file(dir, prefix, "images")?;
        let labels = idx_file(dir, prefix, "labels")?;
        match (images, labels) {
            (Some(x), Some(y)) => return Ok(Some((x, y))),
            (None, None) => continue,
            (x, _) => bail!(
                "{}: {prefix}-{} found, but no {prefix}-{}-idx*-ubyte[.gz] beside it",
                dir.display(),
                if x.is_some() { "images" } else { "labels" },
                if x.is_some() { "labels" } else { "images" },
            ),
        }
    }
    if part == Part::Train {
        bail!(
            "{}: no train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in the directory",
            dir.display()
        );
    }
    Ok(None)
}
