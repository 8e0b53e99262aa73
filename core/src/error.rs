//! The crate's one error type.
//!
//! Every fallible function returns [`Error`]; none panics. Each variant names
//! what was wrong (which operand, which parameter, which index) so that a
//! caller without `String`s, or `dam-std` with a file name to add, can say
//! something a person can act on.

use core::fmt;

/// Which argument of a call an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Operand {
    /// The `K × D` memory matrix.
    Memories,
    /// The query, input or state vector.
    Query,
    /// A caller-provided scratch buffer.
    Scratch,
    /// A caller-provided output buffer.
    Output,
    /// A mask of clamped coordinates.
    Mask,
    /// The scales and offsets of an input map
    /// ([`crate::model::Preprocessing`]).
    Preprocessing,
}

/// Which parameter an [`Error::InvalidParameter`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Param {
    /// The interaction degree `n` (must be at least 1).
    Degree,
    /// The inverse temperature `β`.
    Beta,
    /// The leak `ε` of the leaky rectified polynomial.
    Leak,
    /// A gradient-descent step size `η`.
    Step,
    /// The number of label units `Nc` of a classifier.
    Classes,
    /// The number of sweeps or steps (must be at least 1).
    Iterations,
    /// A row of soft class weights (entries `≥ 0`, summing to 1); the value
    /// reported is the offending row's sum.
    ClassWeights,
    /// A vector length beyond what an integer kernel's accumulator holds
    /// exactly (see `simd::integer`), or beyond a quantized path's
    /// documented range.
    Dimension,
    /// A quantization scale (must be finite and `> 0`).
    Scale,
}

/// Which computed quantity an [`Error::Overflow`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Quantity {
    /// An interaction value `F(s)` or a sum of them (the raw \[KH16\] form).
    Interaction,
    /// An energy.
    Energy,
    /// A class score before `tanh` (the raw \[KH16\] form).
    Score,
    /// A gradient or updated state.
    Gradient,
}

/// Everything that can go wrong in `dam-core`.
///
/// ```
/// use dam_core::{Error, MemoryView, Operand};
/// let data = [1.0f32; 6];
/// assert_eq!(
///     MemoryView::new(&data, 4, 2),
///     Err(Error::ShapeMismatch { operand: Operand::Memories, expected: 8, found: 6 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// A slice does not have the length the shapes require.
    ShapeMismatch {
        /// The argument with the wrong length.
        operand: Operand,
        /// The length required (`usize::MAX` if the shape itself overflows).
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A memory with no patterns (`K = 0`) or no dimensions (`D = 0`).
    EmptyMemory,
    /// An input holds an infinity or a NaN.
    NonFinite {
        /// The argument holding it.
        operand: Operand,
        /// The first offending index (row-major for matrices).
        index: usize,
    },
    /// A bipolar state holds an entry other than `-1` or `+1`.
    NotBipolar {
        /// The first offending index.
        index: usize,
    },
    /// A parameter outside its valid range (see the parameter's docs).
    InvalidParameter {
        /// The parameter.
        param: Param,
        /// The value given, as `f64`.
        value: f64,
    },
    /// A result does not fit the float type. Only the raw \[KH16\] forms and
    /// conversions of an overflow-free result to a plain float return this;
    /// `ln_magnitude` is the natural log of the result's magnitude (or of a
    /// lower bound of it), always finite.
    Overflow {
        /// What overflowed.
        quantity: Quantity,
        /// `ln |value|`.
        ln_magnitude: f64,
    },
    /// A model file is unusable (see [`crate::model::ModelError`]).
    Model(crate::model::ModelError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ShapeMismatch {
                operand,
                expected,
                found,
            } => write!(
                f,
                "{operand:?} has length {found}, but the shapes require {expected}"
            ),
            Error::EmptyMemory => write!(f, "the memory has no patterns or no dimensions"),
            Error::NonFinite { operand, index } => {
                write!(f, "{operand:?} holds a non-finite value at index {index}")
            }
            Error::NotBipolar { index } => {
                write!(
                    f,
                    "the bipolar state holds a value other than -1/+1 at index {index}"
                )
            }
            Error::InvalidParameter { param, value } => {
                write!(f, "parameter {param:?} = {value} is out of its valid range")
            }
            Error::Overflow {
                quantity,
                ln_magnitude,
            } => write!(
                f,
                "{quantity:?} overflows the float type (ln |value| = {ln_magnitude})"
            ),
            Error::Model(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for Error {}

/// Shorthand for `core::result::Result<T, dam_core::Error>`.
pub type Result<T> = core::result::Result<T, Error>;

/// Checks that `len == expected`.
pub(crate) fn check_len(operand: Operand, expected: usize, len: usize) -> Result<()> {
    if len == expected {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            operand,
            expected,
            found: len,
        })
    }
}

/// Checks that `len >= needed` (scratch buffers may be longer than needed).
pub(crate) fn check_scratch(operand: Operand, needed: usize, len: usize) -> Result<()> {
    if len >= needed {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            operand,
            expected: needed,
            found: len,
        })
    }
}

/// Splits a caller buffer at `at`, or [`Error::ShapeMismatch`] if it is
/// shorter (never the panic of `split_at_mut`).
pub(crate) fn split_scratch<T>(buf: &mut [T], at: usize) -> Result<(&mut [T], &mut [T])> {
    let len = buf.len();
    buf.split_at_mut_checked(at).ok_or(Error::ShapeMismatch {
        operand: Operand::Scratch,
        expected: at,
        found: len,
    })
}

/// Checks that every entry is finite.
pub(crate) fn check_finite<T: crate::Real>(operand: Operand, values: &[T]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite { operand, index }),
    }
}

/// Checks that a parameter is finite and inside `[lo, hi]`.
pub(crate) fn check_param<T: crate::Real>(param: Param, value: T, lo: f64, hi: f64) -> Result<()> {
    let v = value.to_f64();
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::InvalidParameter { param, value: v })
    }
}
