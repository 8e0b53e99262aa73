//! A dataset path on the command line to tables (`dam_std::data::source`).

use std::path::Path;

use anyhow::Result;
use dam_std::data::source::{self, Preview, SourceSpec};
use dam_std::data::table::Table;

fn spec(path: &Path, labels: Option<&Path>, label_column: Option<&str>) -> SourceSpec {
    SourceSpec {
        labels: labels.map(Path::to_path_buf),
        label_column: label_column.map(str::to_string),
        ..SourceSpec::new(path)
    }
}

/// The training table and the data's own test table, if any.
pub fn load(
    path: &Path,
    labels: Option<&Path>,
    label_column: Option<&str>,
) -> Result<(Table, Option<Table>)> {
    source::load(&spec(path, labels, label_column))
}

/// A file of test rows given on its own: all of it.
pub fn load_all(path: &Path, labels: Option<&Path>, label_column: Option<&str>) -> Result<Table> {
    source::load_train(&spec(path, labels, label_column))
}

/// Only the data's own test table, if any (the training rows are not read).
pub fn load_test(
    path: &Path,
    labels: Option<&Path>,
    label_column: Option<&str>,
) -> Result<Option<Table>> {
    source::load_test(&spec(path, labels, label_column))
}

/// Only the rows of the training data that `choose` picks from the labels
/// (`source::load_rows`): features of the other rows are never kept.
pub fn load_rows(
    path: &Path,
    labels: Option<&Path>,
    label_column: Option<&str>,
    choose: impl FnOnce(&Preview<'_>) -> Result<Vec<usize>>,
) -> Result<Table> {
    source::load_rows(&spec(path, labels, label_column), choose)
}
