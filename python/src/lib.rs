//! `dam._dam`: the Rust side of the Python package `dam`. The arrays come
//! in as `.npy` bytes (`numpy.save`), so that they are read, checked and
//! trained on by the same code as `dam train --data x.npy --labels y.npy`,
//! and refused with the same messages; `dam/__init__.py` wraps these
//! functions in a scikit-learn style class.

mod arrays;
mod drdam;
mod io;
mod memory;

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use dam_core::Arithmetic;
use dam_core::model::{Kind as ModelKind, Model};
use dam_std::data::dataset::{self, Options, Prepared, Scaling};
use dam_std::data::npy::NpyArray;
use dam_std::data::source;
use dam_std::export::{self, Format};
use dam_std::model_io::{self, AlignedBytes};
use dam_std::potts::{Task, Trainer, evaluate};
use dam_std::quantize::Precision;
use dam_std::train::session::{self, Data, Meta, Outcome, Paths};
use dam_std::train::settings::{self, Kind, Settings};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// An error as the `dam` program prints it (after "error: "), raised as
/// `ValueError`.
fn value_error(e: anyhow::Error) -> PyErr {
    PyValueError::new_err(format!("{e:#}"))
}

/// A `.npy` array from the bytes `numpy.save` wrote; `name` names it in
/// errors.
fn npy(bytes: &[u8], name: &str) -> Result<NpyArray> {
    NpyArray::parse(bytes).with_context(|| format!("{name}: not a usable .npy file"))
}

/// What a training run reports besides the model.
struct Trained {
    model: Vec<u8>,
    kind: Kind,
    test_accuracy: f64,
    epoch: usize,
    test_rows: usize,
}

/// Reads, splits and scales as `dam train` does with `--data X.npy
/// --labels y.npy` and the given fractions and split seed.
fn prepare(
    x: &[u8],
    y: &[u8],
    test_fraction: f64,
    val_fraction: f64,
    seed: u64,
) -> Result<Prepared> {
    let table = source::from_npy(&npy(x, "X")?, "X", &npy(y, "y")?, "y")?;
    let options = Options {
        test_fraction,
        val_fraction,
        seed,
        scaling: Scaling::Auto,
        image_shape: None,
        train_limit: None,
    };
    dataset::prepare(table, None, &options)
}

/// `dam train`'s KH16 run, without output: the model file's bytes.
fn train_kh16(settings: &Settings, mut data: Prepared) -> Result<Trained> {
    settings::merge_small_validation(&mut data);
    let config = settings.kh16_config(&data)?;
    config.validate()?;
    Settings::check_augmentation(&config, &data)?;
    let stopping = settings.stopping(&config);
    let config = if settings.chooses_degree(&data) {
        settings::choose_degree(&config, &data, &stopping, &|| false, |_| {})?
            .map(|(c, _)| c)
            .ok_or_else(|| anyhow!("interrupted while choosing the degree"))?
    } else {
        config
    };
    let meta = Meta::of(&data);
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let mut tests = Vec::new();
    let outcome = session::run(
        config,
        Data {
            train: &data.train,
            val: data.val.as_ref(),
            test: &data.test,
        },
        &meta,
        stopping,
        dir.path(),
        false,
        &|| false,
        |r| tests.push((r.stats.epoch, r.test_accuracy)),
    )?;
    let Outcome::Finished { best_epoch, .. } = outcome else {
        bail!("training was interrupted");
    };
    let model = std::fs::read(Paths::new(dir.path()).model)?;
    Ok(Trained {
        model,
        kind: Kind::Kh16,
        test_accuracy: tests
            .iter()
            .find(|(e, _)| *e == best_epoch)
            .map_or(f64::NAN, |t| t.1),
        epoch: best_epoch,
        test_rows: data.test.len(),
    })
}

/// `dam train --kind potts`'s run (neither growth nor the latent task),
/// without output: the model file's bytes (the last epoch).
fn train_potts(settings: &Settings, mut data: Prepared) -> Result<Trained> {
    settings::merge_validation(&mut data);
    let config = settings.potts_config(Some(&settings::shape_of(&data)))?;
    config.validate()?;
    let task = Task::Supervised {
        classes: data.classes.len(),
    };
    let mut t = Trainer::new(config.clone(), task, &data.train)?;
    for _ in 0..config.epochs {
        let stats = t
            .run_epoch(&data.train, &|| false)?
            .ok_or_else(|| anyhow!("training was interrupted"))?;
        let what = if stats.loss.is_finite() {
            t.params.first_non_finite()
        } else {
            Some(format!("the loss is {}", stats.loss))
        };
        if let Some(what) = what {
            bail!(
                "training diverged at epoch {} (P = {}): {what} (try a smaller --beta, --eps0 or --logit-rate)",
                stats.epoch,
                t.params.p
            );
        }
    }
    let meta = Meta::of(&data);
    let model = t
        .params
        .encode_with(&meta.labels(data.classes.len()), &meta.extras())?;
    Ok(Trained {
        model,
        kind: Kind::Potts,
        test_accuracy: evaluate(&t.params, &data.test).posterior,
        epoch: config.epochs,
        test_rows: data.test.len(),
    })
}

fn train_any(
    x: &[u8],
    y: &[u8],
    settings: &Settings,
    fractions: (f64, f64),
    split_seed: u64,
) -> Result<Trained> {
    settings.check()?;
    let data = prepare(x, y, fractions.0, fractions.1, split_seed)?;
    match settings::kind_for(settings, &data) {
        Kind::Kh16 => train_kh16(settings, data),
        Kind::Potts => train_potts(settings, data),
        other => Err(anyhow!("no trainer for {other:?} in this package")),
    }
}

/// Trains as `dam train --data X.npy --labels y.npy` with these options
/// does; `x_npy` and `y_npy` are the bytes `numpy.save` writes. Returns
/// `(model_bytes, kind, test_accuracy, kept_epoch, test_rows)`. Raises
/// `ValueError` with the message `dam train` prints.
#[pyfunction]
#[pyo3(signature = (x_npy, y_npy, memories=None, degree=None, epochs=None, seed=0, kind=None, test_fraction=0.2, val_fraction=0.1, split_seed=0))]
#[allow(clippy::too_many_arguments)]
fn train<'py>(
    py: Python<'py>,
    x_npy: &[u8],
    y_npy: &[u8],
    memories: Option<usize>,
    degree: Option<u32>,
    epochs: Option<usize>,
    seed: u64,
    kind: Option<&str>,
    test_fraction: f64,
    val_fraction: f64,
    split_seed: u64,
) -> PyResult<(Bound<'py, PyBytes>, &'static str, f64, usize, usize)> {
    let kind = match kind {
        None => None,
        Some("kh16") => Some(Kind::Kh16),
        Some("potts") => Some(Kind::Potts),
        Some(k) => {
            return Err(PyValueError::new_err(format!(
                "kind {k:?}: expected 'kh16', 'potts' or None"
            )));
        }
    };
    let settings = Settings {
        memories,
        degree,
        epochs,
        seed,
        kind,
        ..Settings::default()
    };
    let trained = py
        .detach(|| {
            train_any(
                x_npy,
                y_npy,
                &settings,
                (test_fraction, val_fraction),
                split_seed,
            )
        })
        .map_err(value_error)?;
    let kind = match trained.kind {
        Kind::Kh16 => "kh16",
        Kind::Potts => "potts",
        other => {
            return Err(PyValueError::new_err(format!(
                "a {other:?} model: this package has no name for it"
            )));
        }
    };
    Ok((
        PyBytes::new(py, &trained.model),
        kind,
        trained.test_accuracy,
        trained.epoch,
        trained.test_rows,
    ))
}

/// `model_info`'s answer: kind, Nv, label values, class names.
type Info = (&'static str, usize, Vec<i64>, Option<Vec<String>>);

/// `scores`' answer: the scores and each row's class index.
type Scored<'py> = (Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<i64>>);

/// A parsed model from `bytes`, or the error `dam` prints for it.
fn parse(bytes: &AlignedBytes) -> Result<Model<'_>> {
    Model::parse(bytes.as_bytes()).map_err(|e| anyhow!("model: {e}"))
}

/// `(kind, inputs, labels, names)` of a model file: its kind
/// ('classifier', 'potts' or 'memory'), Nv, each class's label value, and
/// the class names (None if it has none).
#[pyfunction]
fn model_info(model_bytes: &[u8]) -> PyResult<Info> {
    let bytes = AlignedBytes::new(model_bytes);
    let model = parse(&bytes).map_err(value_error)?;
    let h = model.header();
    let kind = match h.kind {
        ModelKind::Classifier => "classifier",
        ModelKind::Potts => "potts",
        ModelKind::Memory => "memory",
        other => {
            return Err(PyValueError::new_err(format!(
                "model: a {other:?} model, which this package does not read"
            )));
        }
    };
    let nc = h.nc as usize;
    let labels = (0..nc)
        .map(|a| model.label_value(a).unwrap_or(a as i64))
        .collect();
    let names = (0..nc)
        .map(|a| model.class_name(a).map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .filter(|n| !n.is_empty());
    Ok((kind, h.nv as usize, labels, names))
}

/// The memories of a float32 KH16 classifier model: K × (Nv + Nc)
/// float32, each row the feature part then the label part.
#[pyfunction]
fn model_memories<'py>(py: Python<'py>, model_bytes: &[u8]) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let bytes = AlignedBytes::new(model_bytes);
    let model = parse(&bytes).map_err(value_error)?;
    if model.header().kind != ModelKind::Classifier {
        return Err(PyValueError::new_err(
            "the model is not a KH16 classifier (a Potts model has no memories of this kind)",
        ));
    }
    let view = model.memories::<f32>().map_err(|e| {
        PyValueError::new_err(format!(
            "model: {e} (memories_ reads float32 models; quantized ones are for firmware)"
        ))
    })?;
    PyArray1::from_slice(py, view.as_slice())
        .reshape([view.k(), view.d()])
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The class scores of a model for raw inputs (an N × Nv or Nv `.npy`, as
/// bytes), as `dam scores` computes them: `(scores, classes)`, an N × Nc
/// float32 array (c_α ∈ [−1, 1] for a classifier, the posterior for a
/// Potts model) and each row's class index (int64).
#[pyfunction]
#[pyo3(signature = (model_bytes, x_npy, fixed=false))]
fn scores<'py>(
    py: Python<'py>,
    model_bytes: &[u8],
    x_npy: &[u8],
    fixed: bool,
) -> PyResult<Scored<'py>> {
    let arithmetic = if fixed {
        Arithmetic::FixedPoint
    } else {
        Arithmetic::Float
    };
    let (rows, scores, classes) = py
        .detach(|| -> Result<_> {
            let bytes = AlignedBytes::new(model_bytes);
            let (rows, cols, x) = npy(x_npy, "X")?.matrix("X")?;
            let (scores, classes) =
                model_io::class_scores(bytes.as_bytes(), arithmetic, &x, cols, "the model", "X")?;
            Ok((rows, scores, classes))
        })
        .map_err(value_error)?;
    let nc = scores.len() / rows.max(1);
    let scores = PyArray1::from_vec(py, scores)
        .reshape([rows, nc])
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let classes = PyArray1::from_vec(py, classes.into_iter().map(|c| c as i64).collect());
    Ok((scores, classes))
}

/// `scores` for a C-contiguous N × Nv float32 array, read in place (no
/// copy): the same computation as `dam scores` (`Prepared::scores` row by
/// row, the same bits), rows spread over threads with the GIL released.
/// Errors name the first failing row, as `dam scores` does.
#[pyfunction]
#[pyo3(signature = (model_bytes, x, fixed=false))]
fn scores_f32<'py>(
    py: Python<'py>,
    model_bytes: &[u8],
    x: PyReadonlyArray2<'py, f32>,
    fixed: bool,
) -> PyResult<Scored<'py>> {
    use rayon::prelude::*;
    let arithmetic = if fixed {
        Arithmetic::FixedPoint
    } else {
        Arithmetic::Float
    };
    let cols = x.shape()[1];
    let x = x.as_slice().map_err(|e| value_error(anyhow!("X: {e}")))?;
    let (rows, nc, scores, classes) = py
        .detach(|| -> Result<_> {
            let bytes = AlignedBytes::new(model_bytes);
            let clf = dam_core::Prepared::with_arithmetic(bytes.as_bytes(), arithmetic)
                .map_err(|e| anyhow!("the model: {e}"))?;
            if cols != clf.inputs() {
                bail!(
                    "X: rows of {cols} values, but the model takes Nv = {} inputs",
                    clf.inputs()
                );
            }
            let rows = x.len() / cols.max(1);
            let nc = clf.classes();
            let mut scores = vec![0.0f32; rows * nc];
            let mut classes = vec![Ok(0i64); rows];
            x.par_chunks(cols.max(1))
                .zip(scores.par_chunks_mut(nc.max(1)))
                .zip(classes.par_iter_mut())
                .for_each_init(
                    || vec![0u8; clf.scratch_bytes()],
                    |scratch, ((row, out), class)| {
                        *class = clf.scores(row, scratch, out).map(|c| c as i64);
                    },
                );
            let classes = classes
                .into_iter()
                .enumerate()
                .map(|(r, c)| c.map_err(|e| anyhow!("X: row {r}: {e}")))
                .collect::<Result<Vec<i64>>>()?;
            Ok((rows, nc, scores, classes))
        })
        .map_err(value_error)?;
    let scores = PyArray1::from_vec(py, scores)
        .reshape([rows, nc])
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((scores, PyArray1::from_vec(py, classes)))
}

/// The predicted class indices of a float32 KH16 classifier for a
/// C-contiguous N × Nv float32 array, through `dam_std::batch::classify`
/// (blocks of inputs against the memories in one product each, on all
/// cores; `dam eval` scores f32 models in the same blocked way): the
/// classes of `scores_f32` except where two class scores are equal to
/// within the rounding of the overlaps' summation order. `None` for other
/// models, `fixed`, or inputs the blocked path refuses (the caller then
/// takes `scores_f32`, which names the bad row as `dam scores` does).
#[pyfunction]
fn predict_f32<'py>(
    py: Python<'py>,
    model_bytes: &[u8],
    x: PyReadonlyArray2<'py, f32>,
) -> PyResult<Option<Bound<'py, PyArray1<i64>>>> {
    use rayon::prelude::*;
    let cols = x.shape()[1];
    let Ok(x) = x.as_slice() else {
        return Ok(None);
    };
    let classes = py.detach(|| -> Option<Vec<i64>> {
        let bytes = AlignedBytes::new(model_bytes);
        let model = Model::parse(bytes.as_bytes()).ok()?;
        if model.header().kind != ModelKind::Classifier {
            return None;
        }
        let memories = model.memories::<f32>().ok()?;
        let nc = model.header().nc as usize;
        let clf =
            dam_core::Classifier::new(memories, nc, model.interaction(), model.form()).ok()?;
        let nv = clf.visible();
        if cols != nv || nv == 0 {
            return None;
        }
        let mapped;
        let inputs = match model.preprocessing() {
            None => x,
            Some(map) => {
                let mut out = vec![0.0f32; x.len()];
                out.par_chunks_mut(nv)
                    .zip(x.par_chunks(nv))
                    .try_for_each(|(o, r)| map.apply(r, o))
                    .ok()?;
                mapped = out;
                &mapped[..]
            }
        };
        let out = dam_std::batch::classify(&clf, inputs).ok()?;
        Some(out.classes.into_iter().map(|c| c as i64).collect())
    });
    Ok(classes.map(|c| PyArray1::from_vec(py, c)))
}

/// Writes the model as `dam export --quantize Q --format F --out PATH`
/// does: quantize 'i8', 'i16' or 'f32' (None: i8 for a classifier, f32 for
/// a Potts model), format 'c' (PATH.c and PATH.h), 'rust' (PATH.rs and
/// PATH.dam) or 'bin'. Returns the line `dam export` prints.
#[pyfunction]
#[pyo3(signature = (model_bytes, path, quantize=None, format="c"))]
fn export_model(
    py: Python<'_>,
    model_bytes: &[u8],
    path: PathBuf,
    quantize: Option<&str>,
    format: &str,
) -> PyResult<String> {
    let precision = match quantize {
        None => None,
        Some("f32") => Some(Precision::F32),
        Some("i16") => Some(Precision::I16),
        Some("i8") => Some(Precision::I8),
        Some(q) => {
            return Err(PyValueError::new_err(format!(
                "quantize {q:?}: expected 'i8', 'i16', 'f32' or None"
            )));
        }
    };
    let format = match format {
        "c" => Format::C,
        "rust" => Format::Rust,
        "bin" => Format::Bin,
        f => {
            return Err(PyValueError::new_err(format!(
                "format {f:?}: expected 'c', 'rust' or 'bin'"
            )));
        }
    };
    py.detach(|| -> Result<String> {
        // The library exports from a model file: a temporary one.
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let model = dir.path().join("model.dam");
        model_io::write_atomic(&model, model_bytes)?;
        export::write(&model, precision, format, Some(path))
    })
    .map_err(value_error)
}

/// The Rust side of the `dam` package.
#[pymodule]
fn _dam(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(model_info, m)?)?;
    m.add_function(wrap_pyfunction!(model_memories, m)?)?;
    m.add_function(wrap_pyfunction!(scores, m)?)?;
    m.add_function(wrap_pyfunction!(scores_f32, m)?)?;
    m.add_function(wrap_pyfunction!(predict_f32, m)?)?;
    m.add_function(wrap_pyfunction!(export_model, m)?)?;
    m.add_class::<memory::Memory>()?;
    m.add_class::<drdam::DrDam>()?;
    m.add_function(wrap_pyfunction!(io::save_safetensors, m)?)?;
    m.add_function(wrap_pyfunction!(io::load_safetensors, m)?)?;
    Ok(())
}
