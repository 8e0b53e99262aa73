//! Delimited text tables (CSV, TSV, whitespace-separated `.txt`): one sample
//! per line, numeric feature columns and one label column.
//!
//! The delimiter comes from [`CsvOptions::delimiter`], else from the
//! extension (`.csv` comma, `.tsv` tab), else (`.txt` and others) from the
//! first line (tab, comma, semicolon, else spaces; runs of spaces count as
//! one). Lines starting with `#` are comments and blank lines are skipped.
//! A header is detected when a feature column of the first row is not a
//! number, unless [`CsvOptions::header`] forces it. The label column is the
//! last unless [`CsvOptions::label_column`] names it (a header name, or a
//! 0-based index). Numeric labels must be integers (within `i32`) and give
//! [`Labels::Int`]; any non-numeric label makes them all [`Labels::Text`].
//!
//! Errors name the file, the line, the column and the value. The text is
//! streamed: memory is linear in the values and labels kept, not in the
//! file size.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::table::{Labels, Table};

/// How to read a delimited file; every field `None` means "detect".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field delimiter (`b','`, `b'\t'`, `b' '` …).
    pub delimiter: Option<u8>,
    /// Whether the first row is a header; `None` detects it.
    pub header: Option<bool>,
    /// The label column: a header name or a 0-based index; `None` is the
    /// last column.
    pub label_column: Option<String>,
}

/// The delimiter that a file name implies: `,` for `.csv`, tab for `.tsv`,
/// `None` (sniff the first line) otherwise.
///
/// ```
/// use dam_std::data::csv::delimiter_for;
/// use std::path::Path;
/// assert_eq!(delimiter_for(Path::new("a.TSV")), Some(b'\t'));
/// assert_eq!(delimiter_for(Path::new("a.txt")), None);
/// ```
pub fn delimiter_for(path: &Path) -> Option<u8> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(b','),
        "tsv" | "tab" => Some(b'\t'),
        _ => None,
    }
}

/// The delimiter of a text whose first data line is `line`: tab, comma,
/// semicolon, else a space.
fn sniff(line: &str) -> u8 {
    [b'\t', b',', b';']
        .into_iter()
        .find(|&d| line.as_bytes().contains(&d))
        .unwrap_or(b' ')
}

/// Reads a delimited file into a [`Table`] (validated). The file is
/// streamed: memory holds the table, not the file's text.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use dam_std::data::{csv::{CsvOptions, read}, table::Labels};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("iris.csv");
/// std::fs::write(&path, "len,width,species\n5.1,3.5,setosa\n7.0,3.2,versicolor\n")?;
/// let t = read(&path, &CsvOptions::default())?;
/// assert_eq!((t.rows, t.cols, t.values), (2, 2, vec![5.1, 3.5, 7.0, 3.2]));
/// assert_eq!(t.labels, Labels::Text(vec!["setosa".into(), "versicolor".into()]));
/// assert_eq!(t.feature_names, Some(vec!["len".into(), "width".into()]));
/// # Ok(()) }
/// ```
pub fn read(path: &Path, opts: &CsvOptions) -> Result<Table> {
    let name = path.display().to_string();
    let parsed = read_part(path, opts, Keep::All)?;
    parsed.into_table(name)
}

/// Which rows' feature values a pass over a delimited file keeps.
#[derive(Clone, Copy)]
pub(crate) enum Keep<'a> {
    /// Every row's, each checked.
    All,
    /// None, but every row's are still parsed and checked (errors as
    /// [`read`] gives them).
    Checked,
    /// Those of the rows for which the function is `true`, checked; the
    /// other rows' fields are only counted (a pass with [`Keep::Checked`]
    /// has checked them).
    Rows(&'a dyn Fn(usize) -> bool),
}

/// One pass over a delimited file: the kept rows' feature values (in file
/// order) and every row's label.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The kept rows' values, `cols` each, in file order.
    pub values: Vec<f32>,
    /// Feature columns (the label column not counted).
    pub cols: usize,
    /// The header's feature names, if there is a header.
    pub feature_names: Option<Vec<String>>,
    /// Every row's label.
    pub labels: Labels,
}

impl Parsed {
    /// The table of a pass that kept every row, validated.
    fn into_table(self, source: String) -> Result<Table> {
        let table = Table {
            rows: self.labels.len(),
            cols: self.cols,
            values: self.values,
            image_shape: None,
            feature_names: self.feature_names,
            labels: self.labels,
            source,
        };
        table.validate()?;
        Ok(table)
    }
}

/// One streamed pass over the delimited file at `path`, keeping the
/// feature values of the rows `keep` names.
pub(crate) fn read_part(path: &Path, opts: &CsvOptions, keep: Keep<'_>) -> Result<Parsed> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
    parse_rows(file, &name, path, opts, keep)
}

/// Parses the bytes of a delimited file into a table (for the tests).
#[cfg(test)]
fn parse(bytes: &[u8], name: &str, path: &Path, opts: &CsvOptions) -> Result<Table> {
    parse_rows(bytes, name, path, opts, Keep::All)?.into_table(name.to_owned())
}

/// Parses a delimited file from `input`; `name` goes into errors, `path`
/// gives the extension. Every row's field count is checked, and every
/// row's values unless `keep` says they were checked before.
fn parse_rows(
    mut input: impl Read,
    name: &str,
    path: &Path,
    opts: &CsvOptions,
    keep: Keep<'_>,
) -> Result<Parsed> {
    // The first 64 KiB, to sniff the delimiter from.
    let mut prefix = Vec::new();
    (&mut input)
        .take(64 * 1024)
        .read_to_end(&mut prefix)
        .with_context(|| format!("cannot read {name}"))?;
    let delimiter = match opts.delimiter.or_else(|| delimiter_for(path)) {
        Some(d) => d,
        None => {
            let text = String::from_utf8_lossy(&prefix);
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .unwrap_or("");
            sniff(first)
        }
    };
    let spaces = delimiter == b' ';
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(std::io::Cursor::new(prefix).chain(input));

    let mut record = csv::StringRecord::new();
    let mut fields: Vec<String> = Vec::new();
    // Reads the next non-blank record into `fields`; returns its line.
    let mut next = |fields: &mut Vec<String>| -> Result<Option<u64>> {
        loop {
            let more = reader
                .read_record(&mut record)
                .with_context(|| format!("{name}: not a readable delimited file"))?;
            if !more {
                return Ok(None);
            }
            let line = record.position().map_or(0, |p| p.line());
            fields.clear();
            fields.extend(
                record
                    .iter()
                    .filter(|f| !(spaces && f.is_empty()))
                    .map(str::to_owned),
            );
            if fields.iter().all(String::is_empty) {
                continue;
            }
            return Ok(Some(line));
        }
    };

    let Some(first_line) = next(&mut fields)? else {
        bail!("{name}: no rows (an empty table)");
    };
    let width = fields.len();
    let first = fields.clone();
    let label = opts.label_column.as_deref();
    let by_name = label.and_then(|l| first.iter().position(|f| f == l));
    let header = match opts.header {
        Some(h) => h,
        None if by_name.is_some() && label.and_then(|l| l.parse::<usize>().ok()).is_none() => true,
        None => {
            let label_index = match label.map(str::parse::<usize>) {
                Some(Ok(i)) => Some(i),
                _ => width.checked_sub(1),
            };
            first
                .iter()
                .enumerate()
                .any(|(c, f)| Some(c) != label_index && f.parse::<f64>().is_err())
        }
    };
    let label_index = match label {
        None => width - 1,
        Some(l) => match (header, by_name, l.parse::<usize>()) {
            (true, Some(i), _) => i,
            (_, _, Ok(i)) if i < width => i,
            (_, _, Ok(i)) => bail!(
                "{name}: label column {i} does not exist: line {first_line} has {width} columns (0 to {})",
                width - 1
            ),
            (true, None, Err(_)) => {
                bail!("{name}: no column named {l:?} in the header (line {first_line}): {first:?}")
            }
            (false, _, Err(_)) => bail!(
                "{name}: label column {l:?} is a name, but the file has no header; give a 0-based index"
            ),
        },
    };
    let feature_names: Option<Vec<String>> = header.then(|| {
        first
            .iter()
            .enumerate()
            .filter(|&(c, _)| c != label_index)
            .map(|(_, f)| f.clone())
            .collect()
    });
    let column = |c: usize| -> String {
        match &feature_names {
            Some(_) => format!("{c} ({:?})", first[c]),
            None => c.to_string(),
        }
    };

    let mut values: Vec<f32> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut pending = (!header).then_some(first_line);
    loop {
        let line = match pending.take() {
            Some(l) => l,
            None => match next(&mut fields)? {
                Some(l) => l,
                None => break,
            },
        };
        if fields.len() != width {
            bail!(
                "{name}: line {line} has {} fields, expected {width} (as on line {first_line})",
                fields.len()
            );
        }
        let row = labels.len();
        let (check, kept) = match keep {
            Keep::All => (true, true),
            Keep::Checked => (true, false),
            Keep::Rows(f) => {
                let kept = f(row);
                (kept, kept)
            }
        };
        let checked: &[String] = if check { &fields } else { &[] };
        for (c, f) in checked.iter().enumerate() {
            if c == label_index {
                continue;
            }
            let Ok(x) = f.parse::<f64>() else {
                bail!(
                    "{name}: line {line} (row {row}), column {}: {f:?} is not a number",
                    column(c)
                );
            };
            let y = x as f32;
            if !y.is_finite() {
                bail!(
                    "{name}: line {line} (row {row}), column {}: non-finite value {f} (as float32: {y})",
                    column(c)
                );
            }
            if kept {
                values.push(y);
            }
        }
        labels.push(std::mem::take(&mut fields[label_index]));
        lines.push(line);
    }
    let labels = text_labels(labels, &lines, name)?;
    Ok(Parsed {
        values,
        cols: width - 1,
        feature_names,
        labels,
    })
}

/// Labels read as text: [`Labels::Int`] if every one is a number (each must
/// then be an integer within `i32`), else [`Labels::Text`]. `lines` holds
/// each label's line for errors.
fn text_labels(labels: Vec<String>, lines: &[u64], name: &str) -> Result<Labels> {
    if let Some(i) = labels.iter().position(String::is_empty) {
        bail!("{name}: line {} (row {i}): empty label", lines[i]);
    }
    if !labels.iter().all(|l| l.parse::<f64>().is_ok()) {
        return Ok(Labels::Text(labels));
    }
    let mut out = Vec::with_capacity(labels.len());
    for (i, l) in labels.iter().enumerate() {
        let v = match l.parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                let x: f64 = l.parse().unwrap_or(f64::NAN);
                if !x.is_finite() || x.fract() != 0.0 {
                    bail!(
                        "{name}: line {} (row {i}): label {l} is not an integer",
                        lines[i]
                    );
                }
                if x.abs() > f64::from(i32::MAX) {
                    i64::MAX
                } else {
                    x as i64
                }
            }
        };
        if !super::table::label_in_range(v) {
            bail!(
                "{name}: line {} (row {i}): label {l} is outside the i32 range (|label| ≤ 2^31 − 1)",
                lines[i]
            );
        }
        out.push(v);
    }
    Ok(Labels::Int(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str, file: &str, opts: &CsvOptions) -> Result<Table> {
        parse(text.as_bytes(), file, Path::new(file), opts)
    }

    #[test]
    fn space_separated_txt_collapses_runs() {
        let t = table(
            "# x y label\n1  2   0\n3 4 1\n\n",
            "d.txt",
            &CsvOptions::default(),
        )
        .unwrap();
        assert_eq!((t.rows, t.cols), (2, 2));
        assert_eq!(t.values, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(t.labels, Labels::Int(vec![0, 1]));
        assert_eq!(t.feature_names, None);
    }

    #[test]
    fn semicolons_are_sniffed_and_integral_float_labels_accepted() {
        let t = table("1;2;3.0\n4;5;-2\n", "d.txt", &CsvOptions::default()).unwrap();
        assert_eq!(t.labels, Labels::Int(vec![3, -2]));
    }

    #[test]
    fn text_label_in_the_first_column() {
        let opts = CsvOptions {
            label_column: Some("0".into()),
            ..CsvOptions::default()
        };
        let t = table("cat,1,2\ndog,3,4\n", "d.csv", &opts).unwrap();
        assert_eq!(t.feature_names, None);
        assert_eq!(t.labels, Labels::Text(vec!["cat".into(), "dog".into()]));
        assert_eq!(t.values, [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn misnamed_label_column_is_named() {
        let opts = CsvOptions {
            label_column: Some("class".into()),
            header: Some(true),
            ..CsvOptions::default()
        };
        let err = table("a,b\n1,2\n", "d.csv", &opts).unwrap_err().to_string();
        assert!(err.contains("d.csv") && err.contains("\"class\""), "{err}");
        let opts = CsvOptions {
            label_column: Some("7".into()),
            ..CsvOptions::default()
        };
        let err = table("1,2\n", "d.csv", &opts).unwrap_err().to_string();
        assert!(err.contains("label column 7"), "{err}");
    }
}
