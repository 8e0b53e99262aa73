//! A labelled table as read from a file, before any mapping: the common
//! form of every dataset format.

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
