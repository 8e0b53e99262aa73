//! The crate's one error type.
//!
//! Every fallible function returns [`Error`]; none panics. Each variant names
//! what was wrong (which operand, which parameter, which index) so that a
//! caller without `String`s, or `dam-std` with a file name to add, can say
//! something a person can act on.

use core::fmt;
use num_traits::ToPrimitive;

/// Which argument of a call an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// A bipolar state holds an entry other than `-1` or `+1` (or, from
    /// [`BipolarMemory::pack`](crate::BipolarMemory::pack), the memories do).
    NotBipolar {
        /// The first offending index (row-major for memories).
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
    /// A model file is unusable (see [`ModelError`]).
    Model(ModelError),
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
                    "a bipolar state or memory holds a value other than -1/+1 at index {index}"
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
///
/// Generic over `ToPrimitive` (every `Real` is one), not over `Real`: the
/// error module sits below the number types (docs/architecture.md).
pub(crate) fn check_finite<T: ToPrimitive>(operand: Operand, values: &[T]) -> Result<()> {
    match values
        .iter()
        .position(|v| !v.to_f64().is_some_and(f64::is_finite))
    {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite { operand, index }),
    }
}

/// Checks that a parameter is finite and inside `[lo, hi]`.
pub(crate) fn check_param<T: ToPrimitive>(param: Param, value: T, lo: f64, hi: f64) -> Result<()> {
    let v = value.to_f64().unwrap_or(f64::NAN);
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::InvalidParameter { param, value: v })
    }
}

// The model file's vocabulary that its errors name (re-exported by
// `crate::model`, where the format is read).

/// The newest format version, the one this reader and the writer know best
/// (the reader also accepts [`VERSION_1`] files).
pub const VERSION: u16 = 2;
/// The first format version: `u32` class labels, no preprocessing, no class
/// names. Still read, and still written when a model needs nothing newer.
pub const VERSION_1: u16 = 1;

/// What a model's memories are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
#[non_exhaustive]
pub enum Kind {
    /// A one-step classifier (math.md §4): `Nv` visible and `Nc ≥ 1` label units.
    Classifier = 1,
    /// Plain memories of dimension `D = Nv` (`Nc = 0`): bipolar
    /// autoassociative or log-sum-exp retrieval.
    Memory = 2,
    /// A Potts-hidden-unit classifier (math.md §7): `K` memories of `Nv`
    /// entries, then a `K × Nc` table of class weights, then `K` log-priors;
    /// exponential `F`, raw form (`π = softmax(β w·v + ln p_h)`).
    Potts = 3,
}

/// How the memory entries are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
#[non_exhaustive]
pub enum ElementType {
    /// IEEE-754 binary32, little-endian.
    F32 = 1,
    /// IEEE-754 binary64, little-endian.
    F64 = 2,
    /// Quantized: `i8` levels with one `f32` scale per memory.
    I8 = 3,
    /// Quantized: `i16` (Q15-style) levels with one `f32` scale per memory.
    I16 = 4,
}

impl ElementType {
    /// Bytes per entry.
    pub fn size(self) -> usize {
        match self {
            ElementType::F32 => 4,
            ElementType::F64 => 8,
            ElementType::I8 => 1,
            ElementType::I16 => 2,
        }
    }

    /// Whether entries are integer levels with per-memory scales.
    pub fn is_quantized(self) -> bool {
        matches!(self, ElementType::I8 | ElementType::I16)
    }

    /// The alignment the model bytes need in memory for a zero-copy view:
    /// the entry size, and 4 for the `f32` scales of quantized models.
    pub fn align(self) -> usize {
        if self.is_quantized() { 4 } else { self.size() }
    }
}

/// Which header field a [`ModelError::Field`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Field {
    /// The model kind byte.
    Kind,
    /// The element type byte.
    Element,
    /// The interaction function byte.
    Interaction,
    /// The raw/normalized byte.
    Form,
    /// The degree `n`.
    Degree,
    /// `β`.
    Beta,
    /// The leak `ε`.
    Leak,
    /// Bytes that must be zero.
    Reserved,
    /// The preprocessing code (version 2, offset 56).
    Preprocessing,
    /// The class-names length (version 2, offset 60): non-zero for a model
    /// without classes.
    NamesLen,
}

/// Why a byte string is not a usable model.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ModelError {
    /// The first 8 bytes are not [`MAGIC`](crate::model::MAGIC).
    BadMagic,
    /// A version this reader does not know.
    UnknownVersion {
        /// The version in the file.
        found: u16,
    },
    /// The length differs from the one the header declares (truncated, or
    /// trailing bytes).
    Length {
        /// The length the header declares.
        declared: u64,
        /// The length given.
        found: usize,
    },
    /// The CRC-32 trailer does not match the contents.
    Crc {
        /// The CRC in the file.
        stored: u32,
        /// The CRC of the contents.
        computed: u32,
    },
    /// A header field holds an unknown code or an invalid value.
    Field {
        /// The field.
        field: Field,
        /// Its value (floats as their bit pattern).
        value: u64,
    },
    /// `K`, `Nv`, `Nc` are zero, overflow, or do not fit the kind or the
    /// declared length.
    Dims {
        /// `K`.
        k: u32,
        /// `Nv`.
        nv: u32,
        /// `Nc`.
        nc: u32,
    },
    /// The memories do not start at an address aligned for their type:
    /// place the bytes at an aligned address (see the module docs).
    Misaligned {
        /// The byte offset of the memories in the model.
        offset: usize,
        /// The alignment required.
        align: usize,
    },
    /// The memories are stored as another element type than requested.
    ElementType {
        /// The type in the file.
        stored: ElementType,
        /// The type requested.
        requested: ElementType,
    },
    /// The model is of another kind than the operation needs.
    WrongKind {
        /// The kind needed.
        expected: Kind,
        /// The kind in the file.
        found: Kind,
    },
    /// This reader runs on a big-endian target; the format is little-endian
    /// and is read in place.
    BigEndianHost,
    /// A padding byte (between sections, or before the CRC) is not zero.
    Padding {
        /// Its offset in the file.
        offset: usize,
    },
    /// A preprocessing scale or offset is not finite.
    Preprocessing {
        /// Its index: `i` for the scale `a_i`, `Nv + i` for the offset `b_i`.
        index: usize,
    },
    /// A class-name end offset is smaller than the previous one, beyond the
    /// names blob, or (the last) short of its end.
    NameOffset {
        /// The class.
        class: usize,
        /// The end offset stored for it.
        offset: u32,
    },
    /// A class name is not valid UTF-8.
    NameUtf8 {
        /// The class.
        class: usize,
    },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::BadMagic => write!(f, "not a dam model (bad magic)"),
            ModelError::UnknownVersion { found } => {
                write!(
                    f,
                    "unknown format version {found} (this reader knows {VERSION_1} to {VERSION})"
                )
            }
            ModelError::Length { declared, found } => write!(
                f,
                "length {found} bytes, but the header declares {declared} (truncated or trailing data)"
            ),
            ModelError::Crc { stored, computed } => write!(
                f,
                "CRC mismatch: stored {stored:#010x}, computed {computed:#010x} (corrupt file)"
            ),
            ModelError::Field { field, value } => {
                write!(f, "invalid header field {field:?} = {value:#x}")
            }
            ModelError::Dims { k, nv, nc } => {
                write!(f, "inconsistent dimensions K = {k}, Nv = {nv}, Nc = {nc}")
            }
            ModelError::Misaligned { offset, align } => write!(
                f,
                "memories at offset {offset} are not aligned to {align} bytes in memory"
            ),
            ModelError::ElementType { stored, requested } => {
                write!(f, "memories are {stored:?}, not {requested:?}")
            }
            ModelError::WrongKind { expected, found } => {
                write!(f, "model is a {found:?}, this needs a {expected:?}")
            }
            ModelError::BigEndianHost => {
                write!(f, "big-endian targets cannot read models in place")
            }
            ModelError::Padding { offset } => {
                write!(f, "padding byte at offset {offset} is not zero")
            }
            ModelError::Preprocessing { index } => {
                write!(f, "preprocessing parameter {index} is not finite")
            }
            ModelError::NameOffset { class, offset } => write!(
                f,
                "class name {class}: end offset {offset} is out of order or out of range"
            ),
            ModelError::NameUtf8 { class } => {
                write!(f, "class name {class} is not valid UTF-8")
            }
        }
    }
}

impl core::error::Error for ModelError {}

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Self {
        Error::Model(e)
    }
}
