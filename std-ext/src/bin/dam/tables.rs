//! Reading a dataset path into tables (the formats `dam_std::data` reads).

use std::path::Path;

use anyhow::{Result, bail};
use dam_std::data::mnist;
use dam_std::data::npy::{Elements, NpyArray};
use dam_std::data::table::{Labels, Table};

fn idx_split(dir: &Path, prefix: &str) -> Result<Table> {
    let raw = mnist::load_raw_split(dir, prefix)?;
    let side = raw.dim.isqrt();
    Ok(Table {
        values: raw.pixels.iter().map(|&p| f32::from(p)).collect(),
        rows: raw.labels.len(),
        cols: raw.dim,
        image_shape: (side * side == raw.dim).then_some((side, side)),
        feature_names: None,
        labels: Labels::Int(raw.labels.iter().map(|&l| i64::from(l)).collect()),
        source: dir.join(prefix).display().to_string(),
    })
}

fn npy_table(x: &Path, y: &Path) -> Result<Table> {
    let a = NpyArray::read(x)?;
    let rows = a.shape.first().copied().unwrap_or(0);
    let cols = a.shape.iter().skip(1).product::<usize>();
    let image_shape = match a.shape.as_slice() {
        [_, h, w] => Some((*h, *w)),
        _ => None,
    };
    let l = NpyArray::read(y)?;
    let labels = match &l.data {
        Elements::U8(v) => v.iter().map(|&x| i64::from(x)).collect(),
        Elements::I8(v) => v.iter().map(|&x| i64::from(x)).collect(),
        other => other.to_f64().iter().map(|&x| x as i64).collect(),
    };
    Ok(Table {
        values: a.data.to_f64().iter().map(|&x| x as f32).collect(),
        rows,
        cols,
        image_shape,
        feature_names: None,
        labels: Labels::Int(labels),
        source: x.display().to_string(),
    })
}

/// The training table and the data's own test table, if any.
pub fn load(
    path: &Path,
    labels: Option<&Path>,
    _label_column: Option<&str>,
) -> Result<(Table, Option<Table>)> {
    if path.is_dir() {
        return Ok((idx_split(path, "train")?, Some(idx_split(path, "t10k")?)));
    }
    match labels {
        Some(y) => Ok((npy_table(path, y)?, None)),
        None => bail!("{}: needs --labels", path.display()),
    }
}

/// Only the data's own test table, if any.
pub fn load_test(path: &Path, _label_column: Option<&str>) -> Result<Option<Table>> {
    if path.is_dir() {
        return Ok(Some(idx_split(path, "t10k")?));
    }
    Ok(None)
}
