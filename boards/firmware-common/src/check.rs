//! Classify every embedded test row; count correct answers and agreement
//! with the host.
//!
//! Each row's raw values go through the model's stored input map (if it
//! has one) and, for an `i8` model, the query quantization, before the
//! classifier: what a product feeding sensor values does. The ticks count
//! the classification alone.

use core::fmt;

use dam_core::{Arithmetic, Path, Prepared, Scratch};

use crate::clock::Clock;
use crate::vectors::{CLASSES, PREDICTIONS, VALUE_BYTES, inputs, model, values};

/// Largest `Nv` and `K` the fixed buffers hold (MNIST: 784 and 120).
const MAX_VISIBLE: usize = 1024;
#[cfg(dam_model = "f32")]
const MAX_MEMORIES: usize = 512;
/// `i8` models: up to 160 memories (the fixed-point path's per-memory
/// scratch is 24 bytes each).
#[cfg(dam_model = "i8")]
const MAX_MEMORIES: usize = 160;
const MAX_CLASSES: usize = 16;
/// The doubled label values an `i8` model run in `f32` keeps
/// ([`Prepared::with_label_table`], `K·Nc` floats; MNIST: 120 · 10 = 1 200,
/// 4 800 bytes): up to 128 memories of 10 classes (`K·Nc ≤ 1 280`); the
/// handle runs only with the table ([`dam_core::LABEL_TABLE_ONLY`]: the scoring loop
/// without it is not linked), so a larger model is refused
/// ([`Failure::TooLarge`]). None for the other paths.
const LABEL_TABLE: usize = if PATHS & Path::I8.bit() != 0 {
    Path::I8.label_table_len(128, 10)
} else {
    0
};

/// A row where the board and the host disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Mismatch {
    /// Index of the row.
    pub row: u32,
    /// The class the board predicted.
    pub board: u8,
    /// The class the host predicted.
    pub host: u8,
}

/// What [`vectors_check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Outcome {
    /// Rows classified.
    pub rows: u32,
    /// Predictions equal to the true class.
    pub correct: u32,
    /// Predictions equal to the host's.
    pub agree: u32,
    /// The first disagreement, if any.
    pub first_mismatch: Option<Mismatch>,
    /// Clock ticks spent in all classifications together.
    pub ticks: u64,
}

impl Outcome {
    /// `true` if there were rows and the board agreed with the host on
    /// every one.
    pub fn passed(&self) -> bool {
        self.rows > 0 && self.agree == self.rows
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Integer per-mille: float formatting would add kilobytes of code.
        let permille = u64::from(self.correct) * 1000 / u64::from(self.rows.max(1));
        write!(
            f,
            "test vectors: {} rows, {} correct ({}.{}%), {}/{} predictions equal the host's (predictions-{}.u8)",
            self.rows,
            self.correct,
            permille / 10,
            permille % 10,
            self.agree,
            self.rows,
            crate::SUM_ORDER
        )?;
        if let Some(m) = self.first_mismatch {
            write!(
                f,
                "; first mismatch: row {} board {} host {}",
                m.row, m.board, m.host
            )?;
        }
        Ok(())
    }
}

/// Why the check could not run.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Failure {
    /// The embedded model is not a usable (f32 or i8) classifier.
    Model(dam_core::Error),
    /// `Nv`, `K`, `Nc` or (an `i8` model in `f32`) `K·Nc` exceed the
    /// buffers of this firmware.
    TooLarge,
    /// The test vectors do not fit the model (regenerate them with
    /// `dam predict` for this model).
    Vectors,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Model(e) => write!(f, "embedded model: {e}"),
            Failure::TooLarge => {
                write!(
                    f,
                    "model larger than the firmware buffers (Nv ≤ {MAX_VISIBLE}, K ≤ {MAX_MEMORIES}, Nc ≤ {MAX_CLASSES}"
                )?;
                if LABEL_TABLE > 0 {
                    write!(f, ", label table K·Nc ≤ {LABEL_TABLE}")?;
                }
                write!(f, ")")
            }
            Failure::Vectors => write!(
                f,
                "test vectors do not match the model: regenerate them with `dam predict`"
            ),
        }
    }
}

impl From<dam_core::Error> for Failure {
    fn from(e: dam_core::Error) -> Self {
        Failure::Model(e)
    }
}

/// The paths this build links: the f32 classifier (and Potts) for an f32
/// model; for an i8 model the one of this target's arithmetic (float with
/// an FPU, fixed point without).
#[cfg(dam_model = "f32")]
const PATHS: u8 = Path::F32.bit() | Path::Potts.bit();
/// The paths this build links: the f32 classifier (and Potts) for an f32
/// model; for an i8 model the one of this target's arithmetic (float with
/// an FPU, fixed point without).
/// With an FPU, the `i8` pass runs only with the label table
/// ([`dam_core::LABEL_TABLE_ONLY`]).
#[cfg(dam_model = "i8")]
const PATHS: u8 = match Arithmetic::NATIVE {
    Arithmetic::Float => Path::I8.bit() | dam_core::LABEL_TABLE_ONLY,
    Arithmetic::FixedPoint => Path::I8Fixed.bit(),
    // An arithmetic of a newer dam-core: no i8 pass linked, so the model is
    // refused at start (`Prepared::only`), never run wrongly.
    _ => 0,
};

/// The scratch bytes of the largest model the buffers allow, for the
/// paths of this build.
const SCRATCH: usize = {
    let mut most = 0;
    let paths = [Path::F32, Path::I8, Path::I8Fixed, Path::Potts];
    let mut i = 0;
    while i < paths.len() {
        if PATHS & paths[i].bit() != 0 {
            let b = paths[i].scratch_bytes(MAX_VISIBLE, MAX_MEMORIES, MAX_CLASSES, true);
            if b > most {
                most = b;
            }
        }
        i += 1;
    }
    most
};

/// Classifies the first `limit` embedded rows (all of them if fewer) with
/// `dam-core`'s [`Prepared`] handle, built once from the model bytes (f32:
/// `Classifier<f32>`; i8: `QuantizedClassifier<i8>` on an FPU target,
/// `FixedClassifier` otherwise, both skipping the level of a zero input),
/// timing each classification, raw values to class, with `clock`. Never
/// inlined, so that [`crate::stack_used`] around a call counts its buffers.
#[inline(never)]
pub fn vectors_check(limit: usize, clock: &mut impl Clock) -> Result<Outcome, Failure> {
    let prepared = Prepared::<PATHS>::only(model(), Arithmetic::NATIVE)?;
    let (nv, k, nc) = (prepared.inputs(), prepared.memories(), prepared.classes());
    if nv > MAX_VISIBLE || k > MAX_MEMORIES || nc > MAX_CLASSES {
        return Err(Failure::TooLarge);
    }
    let mut raw = [0.0f32; MAX_VISIBLE];
    let raw = raw.get_mut(..nv).ok_or(Failure::TooLarge)?;
    let mut row_sums = [0i32; MAX_MEMORIES];
    let row_sums = row_sums.get_mut(..k).ok_or(Failure::TooLarge)?;
    let prepared = match prepared.path() {
        Path::I8 | Path::I8Fixed => {
            let background = zero_level(&prepared)?;
            prepared.with_background(background, row_sums)?
        }
        // f32 and Potts models, and a path of a newer dam-core: no levels to
        // skip, the handle runs as built.
        _ => prepared,
    };
    // The doubled label values once, where the path uses them (the handle
    // runs only with them: a model whose table does not fit is refused).
    let mut table = [0.0f32; LABEL_TABLE];
    let prepared = match table.get_mut(..prepared.label_table_len()) {
        Some(table) if !table.is_empty() => prepared.with_label_table(table)?,
        Some(_) => prepared,
        None => return Err(Failure::TooLarge),
    };
    let mut scratch = Scratch::<SCRATCH>::new();
    check_rows(nv, limit, clock, |row, clock| {
        if !values(row, raw) {
            return Err(Failure::Vectors);
        }
        timed(clock, || prepared.classify(raw, scratch.bytes_mut()))
    })
}

/// The query level of a zero input byte or value (for images the
/// background, most pixels), through the model's input map: the level the
/// overlaps skip. Skipping gives the same integers, so the same
/// predictions, whatever level is skipped; this one skips the most.
fn zero_level(prepared: &Prepared<'_, PATHS>) -> Result<i8, Failure> {
    let zero = [0u8; VALUE_BYTES];
    let mut raw = [0.0f32];
    if !values(&zero, &mut raw) {
        return Err(Failure::Vectors);
    }
    Ok(prepared.level_of(0, raw[0])?)
}

/// The loop both model kinds share: `classify(row, clock)` returns the
/// predicted class and the ticks of the classification alone.
fn check_rows<C: Clock>(
    nv: usize,
    limit: usize,
    clock: &mut C,
    mut classify: impl FnMut(&[u8], &mut C) -> Result<(usize, u32), Failure>,
) -> Result<Outcome, Failure> {
    let n = CLASSES.len();
    let row_bytes = nv.checked_mul(VALUE_BYTES).ok_or(Failure::Vectors)?;
    if row_bytes == 0 || inputs().len() != n.saturating_mul(row_bytes) || PREDICTIONS.len() != n {
        return Err(Failure::Vectors);
    }
    let mut out = Outcome {
        rows: 0,
        correct: 0,
        agree: 0,
        first_mismatch: None,
        ticks: 0,
    };
    let rows = inputs()
        .chunks_exact(row_bytes)
        .zip(CLASSES)
        .zip(PREDICTIONS);
    for (i, ((row, &truth), &host)) in rows.take(limit).enumerate() {
        let (class, ticks) = classify(row, clock)?;
        out.ticks += u64::from(ticks);
        out.rows += 1;
        if usize::from(truth) == class {
            out.correct += 1;
        }
        if usize::from(host) == class {
            out.agree += 1;
        } else if out.first_mismatch.is_none() {
            out.first_mismatch = Some(Mismatch {
                row: i as u32,
                board: class as u8,
                host,
            });
        }
    }
    Ok(out)
}

/// Runs one classification under `clock`: the class and the ticks.
fn timed(
    clock: &mut impl Clock,
    mut classify: impl FnMut() -> dam_core::Result<usize>,
) -> Result<(usize, u32), Failure> {
    let mut class = Ok(0);
    let ticks = clock.ticks(&mut || class = classify());
    Ok((class?, ticks))
}
