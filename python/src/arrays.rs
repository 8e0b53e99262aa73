//! NumPy arrays in and out of the memories: zero-copy views of C-contiguous
//! float32 inputs, checks whose messages name the argument, row and
//! column, and owned vectors handed to NumPy without a copy.

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::borrow::Cow;

/// A `ValueError` with `msg`.
pub fn value_error(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// The rows of a 2-D float32 array as one row-major slice: borrowed when
/// the array is C-contiguous (what `dam/__init__.py` passes), copied
/// otherwise. Checks that it has `d` columns and only finite values.
pub fn rows<'a>(
    x: &'a PyReadonlyArray2<'_, f32>,
    name: &str,
    d: usize,
) -> PyResult<Cow<'a, [f32]>> {
    let shape = x.shape();
    if shape[1] != d {
        return Err(value_error(format!(
            "{name}: rows of {} values, but the memory has dimension D = {d}",
            shape[1]
        )));
    }
    let data = match x.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(x.as_array().iter().copied().collect()),
    };
    finite(&data, name, d)?;
    Ok(data)
}

/// Checks that every entry of the row-major `data` (rows of `d`) is finite.
pub fn finite(data: &[f32], name: &str, d: usize) -> PyResult<()> {
    match data.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(value_error(format!(
            "{name}: row {}, column {}: {} is not finite",
            i / d.max(1),
            i % d.max(1),
            data[i]
        ))),
    }
}

/// Checks that every entry is −1 or +1 and returns them as `i8`.
pub fn bipolar(data: &[f32], name: &str, d: usize) -> PyResult<Vec<i8>> {
    data.iter()
        .enumerate()
        .map(|(i, &v)| {
            if v == 1.0 {
                Ok(1)
            } else if v == -1.0 {
                Ok(-1)
            } else {
                Err(value_error(format!(
                    "{name}: row {}, column {}: {v} is not bipolar (a bipolar state holds only -1 and +1)",
                    i / d.max(1),
                    i % d.max(1)
                )))
            }
        })
        .collect()
}

/// A `rows × cols` NumPy array that takes ownership of `data` (no copy).
pub fn matrix<T: numpy::Element>(
    py: Python<'_>,
    data: Vec<T>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'_, PyArray2<T>>> {
    PyArray1::from_vec(py, data)
        .reshape([rows, cols])
        .map_err(|e| value_error(e.to_string()))
}

/// The message of a `dam_core` error about argument `name`, row `row`.
pub fn core_error(e: dam_core::Error, name: &str, row: usize) -> PyErr {
    value_error(format!("{name}: row {row}: {e}"))
}
