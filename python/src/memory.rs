//! `dam._dam.Memory`: a bipolar [KH16] or log-sum-exp [DrDAM] memory over
//! patterns given as a NumPy array, retrieval and energies through
//! `dam_core::BipolarMemory` and `dam_core::LseMemory` (math.md §3, §5),
//! rows spread over threads with the GIL released.

use crate::arrays::{self, value_error};
use dam_core::{
    BipolarMemory, EnergyModel, Form, Interaction, LseMemory, MemoryView, Similarity, UpdateOrder,
};
use numpy::{PyArray1, PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use rayon::prelude::*;

/// Which retrieval dynamics, with its parameters.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Bipolar {
        f: Interaction<f32>,
        form: Form<f32>,
    },
    Lse {
        beta: f32,
        similarity: Similarity,
    },
}

/// A dense associative memory over `K × D` patterns (see `dam.Memory`).
#[pyclass(module = "dam._dam", frozen)]
pub struct Memory {
    patterns: Vec<f32>,
    k: usize,
    d: usize,
    kind: Kind,
}

fn interaction(name: &str, degree: u32, leak: f32) -> PyResult<Interaction<f32>> {
    let f = match name {
        "polynomial" => Interaction::Polynomial { n: degree },
        "rectified" => Interaction::RectifiedPolynomial { n: degree },
        "leaky" => Interaction::LeakyRectifiedPolynomial { n: degree, leak },
        "exponential" => Interaction::Exponential,
        other => {
            return Err(value_error(format!(
                "interaction {other:?}: expected 'polynomial', 'rectified', 'leaky' or 'exponential'"
            )));
        }
    };
    f.validate().map_err(|_| match f {
        Interaction::LeakyRectifiedPolynomial { leak, .. }
            if !(leak.is_finite() && leak >= 0.0) =>
        {
            value_error(format!("leak = {leak}: must be finite and >= 0"))
        }
        _ => value_error(format!(
            "degree = {degree}: must be in 1..={}",
            dam_core::MAX_DEGREE
        )),
    })?;
    Ok(f)
}

fn check_beta(beta: f32) -> PyResult<()> {
    if beta.is_finite() && beta > 0.0 {
        Ok(())
    } else {
        Err(value_error(format!(
            "beta = {beta}: must be finite and > 0"
        )))
    }
}

impl Memory {
    // The core's constructors check the patterns and settings; `new` runs
    // them once, so later calls fail only if that changed (an error, not a
    // panic, either way).
    fn view(&self) -> PyResult<MemoryView<'_, f32>> {
        MemoryView::new(&self.patterns, self.k, self.d)
            .map_err(|e| value_error(format!("patterns: {e}")))
    }

    fn bipolar(&self, f: Interaction<f32>, form: Form<f32>) -> PyResult<BipolarMemory<'_, f32>> {
        BipolarMemory::new(self.view()?, f, form).map_err(|e| value_error(format!("patterns: {e}")))
    }

    fn lse(&self, beta: f32, similarity: Similarity) -> PyResult<LseMemory<'_, f32>> {
        LseMemory::new(self.view()?, beta, similarity)
            .map_err(|e| value_error(format!("patterns: {e}")))
    }
}

/// The `known` mask: none, or one row of `D` (every query) or one per query.
fn known_rows(
    known: Option<&PyReadonlyArray2<'_, bool>>,
    n: usize,
    d: usize,
) -> PyResult<Option<(Vec<bool>, bool)>> {
    let Some(known) = known else {
        return Ok(None);
    };
    let shape = known.shape();
    if shape[1] != d || (shape[0] != 1 && shape[0] != n) {
        return Err(value_error(format!(
            "known: shape ({}, {}), expected ({n}, {d}) or (1, {d}) (one row for every query)",
            shape[0], shape[1]
        )));
    }
    let data: Vec<bool> = known.as_array().iter().copied().collect();
    Ok(Some((data, shape[0] == 1)))
}

#[pymethods]
impl Memory {
    #[new]
    #[pyo3(signature = (patterns, kind, interaction_name, degree, beta, form, similarity, leak))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        patterns: PyReadonlyArray2<'_, f32>,
        kind: &str,
        interaction_name: &str,
        degree: u32,
        beta: f32,
        form: &str,
        similarity: &str,
        leak: f32,
    ) -> PyResult<Self> {
        let [k, d] = [patterns.shape()[0], patterns.shape()[1]];
        if k == 0 || d == 0 {
            return Err(value_error(format!(
                "patterns: shape ({k}, {d}): a memory needs at least one pattern of at least one value"
            )));
        }
        let data = arrays::rows(&patterns, "patterns", d)?.into_owned();
        check_beta(beta)?;
        let kind = match kind {
            "bipolar" => {
                let form = match form {
                    "normalized" => Form::Normalized { beta },
                    "raw" => Form::Raw { beta },
                    other => {
                        return Err(value_error(format!(
                            "form {other:?}: expected 'normalized' or 'raw'"
                        )));
                    }
                };
                Kind::Bipolar {
                    f: interaction(interaction_name, degree, leak)?,
                    form,
                }
            }
            "lse" => Kind::Lse {
                beta,
                similarity: match similarity {
                    "euclidean" => Similarity::Euclidean,
                    "dot" => Similarity::DotProduct,
                    other => {
                        return Err(value_error(format!(
                            "similarity {other:?}: expected 'euclidean' or 'dot'"
                        )));
                    }
                },
            },
            other => {
                return Err(value_error(format!(
                    "kind {other:?}: expected 'bipolar' or 'lse'"
                )));
            }
        };
        let memory = Memory {
            patterns: data,
            k,
            d,
            kind,
        };
        // The core's own checks, once.
        match kind {
            Kind::Bipolar { f, form } => memory.bipolar(f, form).map(|_| ())?,
            Kind::Lse { beta, similarity } => memory.lse(beta, similarity).map(|_| ())?,
        }
        Ok(memory)
    }

    /// The patterns, K × D float32 (a copy).
    #[getter]
    fn patterns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        arrays::matrix(py, self.patterns.clone(), self.k, self.d)
    }

    /// `(K, D)`.
    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.k, self.d)
    }

    /// Retrieves a state from each row of `x` (N × D float32). Bipolar:
    /// asynchronous or synchronous sign updates until a fixed point or
    /// `max_sweeps`, an int8 N × D array of ±1. Log-sum-exp: `steps`
    /// gradient steps of size `step` (`step = 1`: the update
    /// `x ← Σ_μ softmax(ℓ)_μ ξ^μ`), a float32 N × D array. `known` (N × D or
    /// 1 × D bool) clamps the observed entries.
    #[pyo3(signature = (x, known=None, max_sweeps=100, order="sequential", seed=0, steps=1, step=1.0))]
    #[allow(clippy::too_many_arguments)]
    fn recall<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        known: Option<PyReadonlyArray2<'py, bool>>,
        max_sweeps: usize,
        order: &str,
        seed: u64,
        steps: usize,
        step: f32,
    ) -> PyResult<Bound<'py, pyo3::PyAny>> {
        let d = self.d;
        let data = arrays::rows(&x, "X", d)?;
        let n = data.len() / d;
        let known = known_rows(known.as_ref(), n, d)?;
        let mask = |r: usize| {
            known.as_ref().map(|(m, shared)| {
                let r = if *shared { 0 } else { r };
                &m[r * d..(r + 1) * d]
            })
        };
        match self.kind {
            Kind::Bipolar { f, form } => {
                if max_sweeps == 0 {
                    return Err(value_error("max_sweeps = 0: must be at least 1"));
                }
                let mode = match order {
                    "sequential" | "random" | "synchronous" => order,
                    other => {
                        return Err(value_error(format!(
                            "order {other:?}: expected 'sequential', 'random' or 'synchronous'"
                        )));
                    }
                };
                let mut states = arrays::bipolar(&data, "X", d)?;
                let net = self.bipolar(f, form)?;
                let k = self.k;
                py.detach(|| {
                    states.par_chunks_mut(d).enumerate().try_for_each_init(
                        || (vec![0.0f32; k], vec![0u32; d]),
                        |(overlaps, perm), (r, state)| {
                            let order = match mode {
                                "random" => UpdateOrder::Random {
                                    seed: seed.wrapping_add(r as u64),
                                    order: perm,
                                },
                                "synchronous" => UpdateOrder::Synchronous,
                                _ => UpdateOrder::Sequential,
                            };
                            match mask(r) {
                                None => net.retrieve(state, overlaps, order, max_sweeps),
                                Some(m) => net.complete(state, overlaps, order, max_sweeps, m),
                            }
                            .map(|_| ())
                            .map_err(|e| (r, e))
                        },
                    )
                })
                .map_err(|(r, e)| arrays::core_error(e, "X", r))?;
                Ok(arrays::matrix(py, states, n, d)?.into_any())
            }
            Kind::Lse { beta, similarity } => {
                if steps == 0 {
                    return Err(value_error("steps = 0: must be at least 1"));
                }
                if !(step.is_finite() && step > 0.0) {
                    return Err(value_error(format!(
                        "step = {step}: must be finite and > 0"
                    )));
                }
                let mut states = data.into_owned();
                let net = self.lse(beta, similarity)?;
                let scratch_len = net.scratch_len() + d;
                py.detach(|| {
                    states.par_chunks_mut(d).enumerate().try_for_each_init(
                        || vec![0.0f32; scratch_len],
                        |scratch, (r, state)| {
                            net.descend(state, mask(r), step, steps, scratch)
                                .map(|_| ())
                                .map_err(|e| (r, e))
                        },
                    )
                })
                .map_err(|(r, e)| arrays::core_error(e, "X", r))?;
                Ok(arrays::matrix(py, states, n, d)?.into_any())
            }
        }
    }

    /// The energy of each row of `x` (N × D float32): N float32.
    fn energy<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let d = self.d;
        let data = arrays::rows(&x, "X", d)?;
        let energies: Vec<f32> = match self.kind {
            Kind::Bipolar { f, form } => {
                let states = arrays::bipolar(&data, "X", d)?;
                let net = self.bipolar(f, form)?;
                py.detach(|| {
                    states
                        .par_chunks(d)
                        .enumerate()
                        .map(|(r, s)| net.energy(s).map_err(|e| (r, e)))
                        .collect::<Result<Vec<_>, _>>()
                })
            }
            Kind::Lse { beta, similarity } => {
                let net = self.lse(beta, similarity)?;
                let k = self.k;
                py.detach(|| {
                    data.par_chunks(d)
                        .enumerate()
                        .map_init(
                            || vec![0.0f32; k],
                            |scratch, (r, x)| net.energy(x, scratch).map_err(|e| (r, e)),
                        )
                        .collect::<Result<Vec<_>, _>>()
                })
            }
        }
        .map_err(|(r, e)| arrays::core_error(e, "X", r))?;
        Ok(PyArray1::from_vec(py, energies))
    }
}
