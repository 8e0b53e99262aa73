//! Memories as `safetensors` files: `dam.Memory`'s patterns and
//! `dam.DrDam`'s `T`, their settings in the header's `__metadata__`.
//!
//! Written and read with the `safetensors` crate (the format's reference
//! implementation, the same code the `safetensors` PyPI package wraps),
//! not with that package from Python: `dam` keeps NumPy as its only
//! runtime dependency, and a file is checked (header, dtype, shape, size)
//! by Rust code that raises `ValueError` naming the file and the tensor.
//! The PyPI package is a test dependency only, to show that files it
//! writes load.

use std::collections::HashMap;
use std::path::PathBuf;

use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::arrays::value_error;

/// Writes `tensors` (float32 arrays, by name) and the string `metadata` to
/// `path` as a `safetensors` file.
#[pyfunction]
pub fn save_safetensors(
    py: Python<'_>,
    path: PathBuf,
    tensors: Vec<(String, PyReadonlyArrayDyn<'_, f32>)>,
    metadata: HashMap<String, String>,
) -> PyResult<()> {
    let owned: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, a)| {
            let bytes = a
                .as_array()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>();
            (name.clone(), a.shape().to_vec(), bytes)
        })
        .collect();
    py.detach(|| {
        let views = owned
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (name.clone(), v))
            })
            .collect::<Result<Vec<_>, _>>()?;
        safetensors::tensor::serialize_to_file(views, Some(metadata), &path)
    })
    .map_err(|e| value_error(format!("{}: cannot write: {e}", path.display())))
}

/// The tensors of a `safetensors` file (float32, float64 or integer, as
/// NumPy arrays of that dtype), and its string metadata.
#[pyfunction]
pub fn load_safetensors<'py>(
    py: Python<'py>,
    path: PathBuf,
) -> PyResult<(Bound<'py, PyDict>, HashMap<String, String>)> {
    let bytes = std::fs::read(&path)
        .map_err(|e| value_error(format!("{}: cannot read: {e}", path.display())))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| {
        value_error(format!(
            "{}: not a usable safetensors file: {e}",
            path.display()
        ))
    })?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| value_error(format!("{}: {e}", path.display())))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let out = PyDict::new(py);
    for (name, view) in file.tensors() {
        let array = tensor(py, &view)
            .map_err(|what| value_error(format!("{}: tensor {name:?}: {what}", path.display())))?;
        out.set_item(name, array)?;
    }
    Ok((out, metadata))
}

/// One tensor as a NumPy array of its dtype (little-endian on disk).
fn tensor<'py>(py: Python<'py>, view: &TensorView<'_>) -> Result<Bound<'py, PyAny>, String> {
    fn array<'py, T: numpy::Element, const N: usize>(
        py: Python<'py>,
        view: &TensorView<'_>,
        from: fn([u8; N]) -> T,
    ) -> Result<Bound<'py, PyAny>, String> {
        let values: Vec<T> = view
            .data()
            .chunks_exact(N)
            .map(|c| from(c.try_into().unwrap_or([0; N])))
            .collect();
        PyArray1::from_vec(py, values)
            .reshape(view.shape())
            .map(|a: Bound<'py, PyArrayDyn<T>>| a.into_any())
            .map_err(|e| e.to_string())
    }
    match view.dtype() {
        Dtype::F32 => array(py, view, f32::from_le_bytes),
        Dtype::F64 => array(py, view, f64::from_le_bytes),
        Dtype::I8 => array(py, view, i8::from_le_bytes),
        Dtype::I16 => array(py, view, i16::from_le_bytes),
        Dtype::I32 => array(py, view, i32::from_le_bytes),
        Dtype::I64 => array(py, view, i64::from_le_bytes),
        Dtype::U8 => array(py, view, u8::from_le_bytes),
        other => Err(format!(
            "dtype {other:?} is not supported (F32, F64, I8, I16, I32, I64 or U8)"
        )),
    }
}
