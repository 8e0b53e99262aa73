//! A labelled table as read from a file, before any mapping: the common
//! form of every dataset format.

use anyhow::{Result, bail};

/// The labels of a table, as the file stores them.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// Integer labels (any integer dtype; within `i32`).
    Int(Vec<i64>),
    /// Text labels (a unicode `.npy`, a CSV column that is not numeric).
    Text(Vec<String>),
}

impl Labels {
    /// The number of labels.
    pub fn len(&self) -> usize {
        match self {
            Labels::Int(v) => v.len(),
            Labels::Text(v) => v.len(),
        }
    }

    /// `true` if there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The labels at `rows`, in that order (panics on a row `≥ len()`).
    ///
    /// ```
    /// use dam_std::data::table::Labels;
    /// let l = Labels::Text(vec!["a".into(), "b".into(), "c".into()]);
    /// assert_eq!(l.select(&[2, 0]), Labels::Text(vec!["c".into(), "a".into()]));
    /// ```
    pub fn select(&self, rows: &[usize]) -> Labels {
        match self {
            Labels::Int(v) => Labels::Int(rows.iter().map(|&r| v[r]).collect()),
            Labels::Text(v) => Labels::Text(rows.iter().map(|&r| v[r].clone()).collect()),
        }
    }
}

/// `rows × cols` feature values exactly as read (converted to `f32`, no
/// scaling), with one label per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// `rows × cols` values, row-major; every one finite.
    pub values: Vec<f32>,
    /// The number of rows (samples).
    pub rows: usize,
    /// The number of columns (features).
    pub cols: usize,
    /// `(height, width)` when the file's own shape says the rows are images
    /// (`N × H × W`), so that `H · W = cols`.
    pub image_shape: Option<(usize, usize)>,
    /// Feature names where the file has them (a CSV header).
    pub feature_names: Option<Vec<String>>,
    /// One label per row.
    pub labels: Labels,
    /// Where the table came from (file names), for error messages.
    pub source: String,
}

impl Labels {
    /// Integer labels, each checked to lie within `i32`. `source` names the
    /// file in errors, which also name the row and the value.
    ///
    /// ```
    /// use dam_std::data::table::Labels;
    /// assert_eq!(Labels::from_i64(vec![3, -1], "y")?, Labels::Int(vec![3, -1]));
    /// let err = Labels::from_i64(vec![0, 1 << 40], "y.npy").unwrap_err().to_string();
    /// assert!(err.contains("y.npy") && err.contains("row 1") && err.contains("1099511627776"));
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn from_i64(values: Vec<i64>, source: &str) -> Result<Self> {
        if let Some(i) = values.iter().position(|&v| !label_in_range(v)) {
            bail!(
                "{source}: label {} at row {i} is outside the i32 range (|label| ≤ 2^31 − 1)",
                values[i]
            );
        }
        Ok(Labels::Int(values))
    }

    /// Integer labels stored as floats: each must be finite, integral and
    /// within `i32`. Errors name `source`, the row and the value.
    ///
    /// ```
    /// use dam_std::data::table::Labels;
    /// assert_eq!(Labels::from_f64([2.0, 0.0], "y")?, Labels::Int(vec![2, 0]));
    /// let err = Labels::from_f64([2.0, 0.5], "y.npy").unwrap_err().to_string();
    /// assert!(err.contains("y.npy") && err.contains("row 1") && err.contains("0.5"));
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn from_f64(values: impl IntoIterator<Item = f64>, source: &str) -> Result<Self> {
        let mut out = Vec::new();
        for (i, v) in values.into_iter().enumerate() {
            if !v.is_finite() || v.fract() != 0.0 {
                bail!("{source}: label {v} at row {i} is not an integer");
            }
            if v.abs() > f64::from(i32::MAX) {
                bail!(
                    "{source}: label {v} at row {i} is outside the i32 range (|label| ≤ 2^31 − 1)"
                );
            }
            out.push(v as i64);
        }
        Ok(Labels::Int(out))
    }
}

impl Table {
    /// Checks what every reader promises: at least one row and one column,
    /// `rows × cols` values, every one finite, one label per row, integer
    /// labels within `i32`, and an image shape (if any) of `cols` pixels.
    /// Errors name [`Table::source`] and the row, column or value.
    ///
    /// ```
    /// use dam_std::data::table::{Labels, Table};
    /// let mut t = Table {
    ///     values: vec![0.0, 1.0, f32::NAN, 3.0],
    ///     rows: 2,
    ///     cols: 2,
    ///     image_shape: None,
    ///     feature_names: None,
    ///     labels: Labels::Int(vec![0, 1]),
    ///     source: "d.csv".into(),
    /// };
    /// let err = t.validate().unwrap_err().to_string();
    /// assert!(err.contains("d.csv") && err.contains("row 1, column 0"), "{err}");
    /// t.values[2] = 2.0;
    /// t.validate()?;
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn validate(&self) -> Result<()> {
        let src = &self.source;
        if self.rows == 0 {
            bail!("{src}: no rows (an empty table)");
        }
        if self.cols == 0 {
            bail!("{src}: zero feature columns");
        }
        if self.rows.checked_mul(self.cols) != Some(self.values.len()) {
            bail!(
                "{src}: {} values do not make {} rows of {} columns",
                self.values.len(),
                self.rows,
                self.cols
            );
        }
        if self.labels.len() != self.rows {
            bail!(
                "{src}: {} feature rows but {} labels",
                self.rows,
                self.labels.len()
            );
        }
        if let Some(i) = self.values.iter().position(|x| !x.is_finite()) {
            bail!(
                "{src}: non-finite value {} at row {}, column {}",
                self.values[i],
                i / self.cols,
                self.column_name(i % self.cols)
            );
        }
        if let Labels::Int(v) = &self.labels {
            Labels::from_i64(v.clone(), src)?;
        }
        if let Some((h, w)) = self
            .image_shape
            .filter(|&(h, w)| h.checked_mul(w) != Some(self.cols))
        {
            bail!(
                "{src}: image shape {h} × {w} does not hold {} columns",
                self.cols
            );
        }
        Ok(())
    }

    /// The rows at `rows`, in that order (a row may come more than once),
    /// with everything else (columns, names, image shape, source) as it
    /// is. Panics on a row `≥ self.rows`.
    ///
    /// ```
    /// use dam_std::data::table::{Labels, Table};
    /// let t = Table {
    ///     values: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
    ///     rows: 3,
    ///     cols: 2,
    ///     image_shape: None,
    ///     feature_names: None,
    ///     labels: Labels::Int(vec![7, 8, 9]),
    ///     source: "d.csv".into(),
    /// };
    /// let s = t.select(&[2, 0]);
    /// assert_eq!((s.rows, s.values, s.labels), (2, vec![4.0, 5.0, 0.0, 1.0], Labels::Int(vec![9, 7])));
    /// ```
    pub fn select(&self, rows: &[usize]) -> Table {
        let mut values = Vec::with_capacity(rows.len() * self.cols);
        for &r in rows {
            assert!(r < self.rows, "row {r} of a table of {} rows", self.rows);
            values.extend_from_slice(&self.values[r * self.cols..(r + 1) * self.cols]);
        }
        Table {
            values,
            rows: rows.len(),
            cols: self.cols,
            image_shape: self.image_shape,
            feature_names: self.feature_names.clone(),
            labels: self.labels.select(rows),
            source: self.source.clone(),
        }
    }

    /// Column `c` for messages: its index, and its name if the file has one
    /// (`3 ("petal_width")`).
    pub fn column_name(&self, c: usize) -> String {
        match self.feature_names.as_ref().and_then(|n| n.get(c)) {
            Some(name) => format!("{c} ({name:?})"),
            None => c.to_string(),
        }
    }
}

/// Checks that a test table has as many feature columns as the training
/// table (and the same image shape, when both have one); the error names
/// both sources and both widths.
///
/// ```
/// use dam_std::data::table::{Labels, Table, check_same_width};
/// let t = |cols: usize, source: &str| Table {
///     values: vec![0.0; cols],
///     rows: 1,
///     cols,
///     image_shape: None,
///     feature_names: None,
///     labels: Labels::Int(vec![0]),
///     source: source.into(),
/// };
/// assert!(check_same_width(&t(3, "a"), &t(3, "b")).is_ok());
/// let err = check_same_width(&t(3, "train.csv"), &t(4, "test.csv")).unwrap_err().to_string();
/// assert!(err.contains("train.csv") && err.contains("test.csv") && err.contains('4'));
/// ```
pub fn check_same_width(train: &Table, test: &Table) -> Result<()> {
    if train.cols != test.cols {
        bail!(
            "the test data {} has {} feature columns, the training data {} has {}",
            test.source,
            test.cols,
            train.source,
            train.cols
        );
    }
    if let (Some(a), Some(b)) = (train.image_shape, test.image_shape) {
        if a == b {
            return Ok(());
        }
        bail!(
            "the test images {} are {} × {}, the training images {} are {} × {}",
            test.source,
            b.0,
            b.1,
            train.source,
            a.0,
            a.1
        );
    }
    Ok(())
}

/// `true` if `|label| ≤ 2^31 − 1` (so `-2^31`, a valid `i32`, is refused:
/// the range is symmetric).
///
/// ```
/// use dam_std::data::table::label_in_range;
/// assert!(label_in_range(-2147483647) && !label_in_range(-2147483648));
/// ```
pub fn label_in_range(v: i64) -> bool {
    v.unsigned_abs() <= i32::MAX as u64
}
