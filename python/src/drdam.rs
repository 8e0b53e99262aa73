//! `dam._dam.DrDam`: the random-feature memory of math.md §6 over a seeded
//! projection, `dam_core::DrDam<f32, SeededProjection, Vec<f32>>` itself
//! (the code the host and the firmware run for `φ`, `T`, energies and
//! descent), rows spread over threads with the GIL released where they are
//! independent.

use crate::arrays::{self, value_error};
use dam_core::{EnergyModel, Projection, SeededProjection};
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use rayon::prelude::*;

type Core = dam_core::DrDam<f32, SeededProjection, Vec<f32>>;

/// A random-feature memory (see `dam.DrDam`).
#[pyclass(module = "dam._dam")]
pub struct DrDam {
    inner: Core,
}

impl DrDam {
    fn d(&self) -> usize {
        Projection::<f32>::dim(self.inner.projection())
    }

    /// `T += Σ φ(ξ)` (or `−=` to forget) over the rows of `x`, in row order
    /// (as repeated `store`/`forget` calls of the core); `T` is unchanged
    /// on error.
    fn accumulate(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        forget: bool,
    ) -> PyResult<()> {
        let d = self.d();
        let data = arrays::rows(&x, "X", d)?;
        let inner = &mut self.inner;
        py.detach(|| {
            let before = inner.memory().to_vec();
            let mut scratch = vec![0.0f32; d];
            for (r, row) in data.chunks_exact(d).enumerate() {
                let done = if forget {
                    inner.forget(row, &mut scratch)
                } else {
                    inner.store(row, &mut scratch)
                };
                if let Err(e) = done {
                    // The same projection, β and a finite T of the same
                    // length: `new` accepts them again.
                    if let Ok(old) = Core::new(*inner.projection(), inner.beta(), before) {
                        *inner = old;
                    }
                    return Err((r, e));
                }
            }
            Ok(())
        })
        .map_err(|(r, e)| arrays::core_error(e, "X", r))
    }
}

#[pymethods]
impl DrDam {
    #[new]
    #[pyo3(signature = (dim, features, beta, seed, memory=None))]
    fn new(
        dim: usize,
        features: usize,
        beta: f32,
        seed: u64,
        memory: Option<PyReadonlyArray1<'_, f32>>,
    ) -> PyResult<Self> {
        if dim == 0 {
            return Err(value_error("dim = 0: must be at least 1"));
        }
        if features == 0 {
            return Err(value_error("features = 0: must be at least 1"));
        }
        if !(beta.is_finite() && beta > 0.0) {
            return Err(value_error(format!(
                "beta = {beta}: must be finite and > 0"
            )));
        }
        let t = match memory {
            None => vec![0.0f32; 2 * features],
            Some(t) => {
                let t: Vec<f32> = t.as_array().iter().copied().collect();
                if t.len() != 2 * features {
                    return Err(value_error(format!(
                        "T: {} values, but features = {features} needs 2 × {features} = {}",
                        t.len(),
                        2 * features
                    )));
                }
                if let Some(i) = t.iter().position(|v| !v.is_finite()) {
                    return Err(value_error(format!("T: entry {i}: {} is not finite", t[i])));
                }
                t
            }
        };
        let projection = SeededProjection::new(seed, features, dim)
            .map_err(|e| value_error(format!("projection: {e}")))?;
        let inner = Core::new(projection, beta, t).map_err(|e| value_error(format!("{e}")))?;
        Ok(DrDam { inner })
    }

    /// The dimension `D`.
    #[getter]
    fn dim(&self) -> usize {
        self.d()
    }

    /// The number of random features `Y` (`T` has `2Y` entries).
    #[getter]
    fn n_features(&self) -> usize {
        self.inner.features()
    }

    /// `β`.
    #[getter]
    fn beta(&self) -> f32 {
        self.inner.beta()
    }

    /// The projection's seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.projection().seed()
    }

    /// The memory vector `T` (`2Y` float32: cosines, then sines), a copy.
    #[getter(T)]
    fn memory<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, self.inner.memory())
    }

    /// `φ(x)` of each row of `x` (N × D float32): N × 2Y float32.
    fn features<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let d = self.d();
        let y2 = 2 * self.inner.features();
        let data = arrays::rows(&x, "X", d)?;
        let n = data.len() / d;
        let mut out = vec![0.0f32; n * y2];
        let inner = &self.inner;
        py.detach(|| {
            out.par_chunks_mut(y2)
                .zip(data.par_chunks(d))
                .enumerate()
                .try_for_each_init(
                    || vec![0.0f32; d],
                    |scratch, (r, (o, x))| inner.features_of(x, o, scratch).map_err(|e| (r, e)),
                )
        })
        .map_err(|(r, e)| arrays::core_error(e, "X", r))?;
        arrays::matrix(py, out, n, y2)
    }

    /// `T += φ(ξ)` for each row `ξ` of `x`, in order.
    fn store(&mut self, py: Python<'_>, x: PyReadonlyArray2<'_, f32>) -> PyResult<()> {
        self.accumulate(py, x, false)
    }

    /// `T −= φ(ξ)` for each row `ξ` of `x`, in order.
    fn forget(&mut self, py: Python<'_>, x: PyReadonlyArray2<'_, f32>) -> PyResult<()> {
        self.accumulate(py, x, true)
    }

    /// `T = 0`.
    fn clear(&mut self) {
        self.inner.clear();
    }

    /// Gradient descent on the energy from each row of `x`.
    #[pyo3(signature = (x, known=None, steps=10, step=0.5))]
    fn recall<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        known: Option<PyReadonlyArray2<'py, bool>>,
        steps: usize,
        step: f32,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let d = self.d();
        let data = arrays::rows(&x, "X", d)?;
        let n = data.len() / d;
        if steps == 0 {
            return Err(value_error("steps = 0: must be at least 1"));
        }
        if !(step.is_finite() && step > 0.0) {
            return Err(value_error(format!(
                "step = {step}: must be finite and > 0"
            )));
        }
        let known = match known {
            None => None,
            Some(k) => {
                let shape = k.shape();
                if shape[1] != d || (shape[0] != 1 && shape[0] != n) {
                    return Err(value_error(format!(
                        "known: shape ({}, {}), expected ({n}, {d}) or (1, {d}) (one row for every query)",
                        shape[0], shape[1]
                    )));
                }
                Some((
                    k.as_array().iter().copied().collect::<Vec<bool>>(),
                    shape[0] == 1,
                ))
            }
        };
        let mut states = data.into_owned();
        let inner = &self.inner;
        let scratch_len = inner.scratch_len() + d;
        py.detach(|| {
            states.par_chunks_mut(d).enumerate().try_for_each_init(
                || vec![0.0f32; scratch_len],
                |scratch, (r, state)| {
                    let mask = known.as_ref().map(|(m, shared)| {
                        let r = if *shared { 0 } else { r };
                        &m[r * d..(r + 1) * d]
                    });
                    inner
                        .descend(state, mask, step, steps, scratch)
                        .map(|_| ())
                        .map_err(|e| (r, e))
                },
            )
        })
        .map_err(|(r, e)| arrays::core_error(e, "X", r))?;
        arrays::matrix(py, states, n, d)
    }

    /// The energy `Ẽ(x)` of each row of `x` (N × D float32): N float32.
    fn energy<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let d = self.d();
        let data = arrays::rows(&x, "X", d)?;
        let inner = &self.inner;
        let energies = py
            .detach(|| {
                data.par_chunks(d)
                    .enumerate()
                    .map_init(
                        || vec![0.0f32; d],
                        |scratch, (r, x)| inner.energy(x, scratch).map_err(|e| (r, e)),
                    )
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|(r, e)| arrays::core_error(e, "X", r))?;
        Ok(PyArray1::from_vec(py, energies))
    }
}
