//! One classifier handle for firmware: model bytes in, a class out.
//!
//! [`Prepared::new`] parses and checks a model once (CRC included), picks
//! the forward pass its header calls for ([`Path`]), and keeps the stored
//! input map ([`Model::preprocessing`]). Each call then takes raw `f32`
//! features (or, for `i8` models, already-quantized levels) and scratch
//! the caller owns, as bytes: a [`Scratch`] array sized at compile time,
//! or any `&mut [u8]` of at least [`Prepared::scratch_bytes`] bytes. No
//! allocation, no panic, no per-call CRC.
//!
//! ```
//! use dam_core::{Path, Prepared, Scratch};
//! # use dam_core::model::{ElementType, Header, Kind, crc32, HEADER_LEN};
//! # use dam_core::{Form, Interaction};
//! #[repr(C, align(16))]
//! struct Aligned<B: ?Sized>(B);
//! # let h = Header { kind: Kind::Classifier, element: ElementType::F32,
//! #     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
//! #     k: 2, nv: 2, nc: 2 };
//! # let mut b = [0u8; 64 + 16 + 2 * 4 * 4 + 4];
//! # let mut head = [0u8; HEADER_LEN]; h.encode(&mut head)?; b[..64].copy_from_slice(&head);
//! # b[64..72].copy_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
//! # for (i, x) in [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0].iter().enumerate() {
//! #     b[80 + 4 * i..84 + 4 * i].copy_from_slice(&x.to_le_bytes()); }
//! # let crc = crc32(&b[..112]); b[112..].copy_from_slice(&crc.to_le_bytes());
//! // In firmware: static MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!("model.dam"));
//! let model = Aligned(b);
//! let clf = Prepared::new(&model.0)?; // parsed and checked once
//! assert_eq!((clf.path(), clf.inputs(), clf.classes()), (Path::F32, 2, 2));
//! // Scratch sized at compile time for this model (or larger).
//! const BYTES: usize = Path::F32.scratch_bytes(2, 2, 2, false);
//! let mut scratch = Scratch::<BYTES>::new();
//! assert!(clf.scratch_bytes() <= BYTES);
//! assert_eq!(clf.classify(&[-0.7, -0.9], scratch.bytes_mut())?, 1);
//! let mut scores = [0.0f32; 2];
//! assert_eq!(clf.scores(&[0.9, 0.8], scratch.bytes_mut(), &mut scores)?, 0);
//! assert!(scores[0] > scores[1]);
//! assert_eq!(clf.label_value(1), Some(1));
//! # Ok::<(), dam_core::Error>(())
//! ```

use crate::classifier::Classifier;
use crate::error::{Error, Operand, Result, check_len};
use crate::model::{ElementType, Kind, Model, ModelError};
use crate::potts::PottsClassifier;
use crate::quantized::{FixedClassifier, QuantizedClassifier, quantize_query};

/// The alignment, in bytes, scratch must start at. A [`Scratch`] is
/// aligned so; a `&mut [u8]` that is not loses up to `SCRATCH_ALIGN − 1`
/// leading bytes to reach it.
pub const SCRATCH_ALIGN: usize = 8;

/// Which forward pass a [`Prepared`] handle runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Path {
    /// An `f32` classifier ([`Classifier`]).
    F32,
    /// An `i8` classifier with the `f32` rescale ([`QuantizedClassifier`]),
    /// for cores with an FPU and hosts.
    I8,
    /// An `i8` classifier in fixed point ([`FixedClassifier`]), for cores
    /// without an FPU.
    I8Fixed,
    /// An `f32` Potts classifier ([`PottsClassifier`]).
    Potts,
}

/// Every [`Path`]: the default `PATHS` of a [`Prepared`] handle.
pub const ALL_PATHS: u8 = 0b1111;

/// A flag for the `PATHS` of a [`Prepared`] handle, beside the
/// [`Path::bit`]s: its [`Path::I8`] pass runs only with a label table
/// ([`Prepared::with_label_table`]), so the scoring loop without one is not
/// linked (about 4 KB of code on a Cortex-M4F), for firmware that always
/// passes a table. A classification without the table is refused with
/// [`Error::ShapeMismatch`] (operand [`Operand::Scratch`], expected
/// [`Prepared::label_table_len`], found 0); the other paths are unchanged.
///
/// ```
/// # use dam_core::model::{ElementType, Header, Kind, crc32, HEADER_LEN};
/// # use dam_core::{Form, Interaction};
/// use dam_core::{Arithmetic, Error, LABEL_TABLE_ONLY, Operand, Path, Prepared, Scratch};
/// # #[repr(C, align(16))] struct Aligned<B: ?Sized>(B);
/// # let h = Header { kind: Kind::Classifier, element: ElementType::I8,
/// #     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
/// #     k: 2, nv: 2, nc: 2 };
/// # let mut b = [0u8; 64 + 16 + 2 * 4 + 4];
/// # let mut head = [0u8; HEADER_LEN]; h.encode(&mut head)?; b[..64].copy_from_slice(&head);
/// # b[64..80].copy_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0, 0x04, 0x02, 0x01, 0x3c, 0x04, 0x02, 0x01, 0x3c]);
/// # b[80..88].copy_from_slice(&[127, 127, 127, 0x81, 0x81, 0x81, 0x81, 127]);
/// # let crc = crc32(&b[..88]); b[88..].copy_from_slice(&crc.to_le_bytes());
/// let model = Aligned(b); // an i8 model: "bright → 0", "dark → 1"
/// const PATHS: u8 = Path::I8.bit() | LABEL_TABLE_ONLY;
/// let plain = Prepared::<PATHS>::only(&model.0, Arithmetic::Float)?;
/// let mut scratch = Scratch::<64>::new();
/// assert!(matches!(plain.classify_i8(&[-127, -100], scratch.bytes_mut()),
///     Err(Error::ShapeMismatch { operand: Operand::Scratch, expected: 4, found: 0 })));
/// let mut table = [0.0f32; 4]; // K·Nc
/// let clf = plain.with_label_table(&mut table)?;
/// assert_eq!(clf.classify_i8(&[-127, -100], scratch.bytes_mut())?, 1);
/// # Ok::<(), dam_core::Error>(())
/// ```
pub const LABEL_TABLE_ONLY: u8 = 0b1_0000;

impl Path {
    /// This path's bit in the `PATHS` parameter of [`Prepared`]: a handle
    /// `Prepared<'a, PATHS>` runs (and links the code of) only the paths
    /// whose bits are set, so firmware that knows its model's type does
    /// not carry the other forward passes.
    ///
    /// ```
    /// use dam_core::{ALL_PATHS, Path};
    /// const I8_ONLY: u8 = Path::I8.bit();
    /// assert_eq!(Path::F32.bit() | Path::I8.bit() | Path::I8Fixed.bit() | Path::Potts.bit(), ALL_PATHS);
    /// assert_eq!(I8_ONLY & Path::F32.bit(), 0);
    /// ```
    pub const fn bit(self) -> u8 {
        match self {
            Path::F32 => 1,
            Path::I8 => 2,
            Path::I8Fixed => 4,
            Path::Potts => 8,
        }
    }

    /// The scratch bytes this path needs for a model with `nv` inputs, `k`
    /// memories and `nc` classes (`preprocessing`: whether the model stores
    /// an input map), as [`Prepared::scratch_bytes`] reports it; a `const
    /// fn`, to size a [`Scratch`] at compile time. Saturates at
    /// `usize::MAX` instead of overflowing.
    ///
    /// ```
    /// use dam_core::Path;
    /// // MNIST, 120 memories of i8 on a Cortex-M4F: K + Nc floats, Nv levels.
    /// assert_eq!(Path::I8.scratch_bytes(784, 120, 10, false), 4 * 130 + 784);
    /// // The same in fixed point: three i64 per memory and one per class.
    /// assert_eq!(Path::I8Fixed.scratch_bytes(784, 120, 10, false), 8 * 370 + 784);
    /// ```
    pub const fn scratch_bytes(self, nv: usize, k: usize, nc: usize, preprocessing: bool) -> usize {
        Needs::of(self, nv, k, nc, preprocessing).bytes()
    }

    /// The `f32` entries of the label table this path takes for a model
    /// with `k` memories and `nc` classes ([`Prepared::with_label_table`],
    /// as [`Prepared::label_table_len`] reports it): `K·Nc` (saturating)
    /// for [`Path::I8`], 0 for the paths that do not use one; a `const
    /// fn`, to size the table at compile time.
    ///
    /// ```
    /// use dam_core::Path;
    /// // MNIST, 120 memories and 10 classes, on a Cortex-M4F: 4 800 bytes.
    /// assert_eq!(Path::I8.label_table_len(120, 10), 1200);
    /// assert_eq!(Path::I8Fixed.label_table_len(120, 10), 0);
    /// ```
    pub const fn label_table_len(self, k: usize, nc: usize) -> usize {
        match self {
            Path::I8 => k.saturating_mul(nc),
            Path::F32 | Path::I8Fixed | Path::Potts => 0,
        }
    }
}

/// How a [`Prepared`] handle evaluates an `i8` model (other models always
/// run in `f32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Arithmetic {
    /// Integer dot products, then `f32` ([`Path::I8`]).
    Float,
    /// Integer dot products, then fixed point ([`Path::I8Fixed`]): no FPU
    /// needed. Refuses models outside its ranges ([`FixedClassifier::new`]).
    FixedPoint,
}

impl Arithmetic {
    /// What this target is built for: [`Arithmetic::Float`] on any
    /// non-ARM target and on ARM with a hard-float ABI (`eabihf`, a core
    /// with an FPU), [`Arithmetic::FixedPoint`] on other ARM targets
    /// (Cortex-M0+, `thumbv6m-none-eabi`).
    pub const NATIVE: Arithmetic = if cfg!(any(not(target_arch = "arm"), target_abi = "eabihf")) {
        Arithmetic::Float
    } else {
        Arithmetic::FixedPoint
    };
}

/// How many elements of each type a path's scratch holds, in the order
/// they are carved (largest alignment first, so no padding between them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Needs {
    /// `i64`: fixed-point rows (`3K`), then class sums (`Nc`).
    words: usize,
    /// `f32`: overlaps (`K`), then scores (`Nc`), then the mapped input
    /// (`Nv`, only with an input map).
    floats: usize,
    /// `i8`: the quantized query (`Nv`).
    levels: usize,
}

impl Needs {
    const fn of(path: Path, nv: usize, k: usize, nc: usize, preprocessing: bool) -> Needs {
        let input = if preprocessing { nv } else { 0 };
        match path {
            Path::F32 | Path::Potts => Needs {
                words: 0,
                floats: k.saturating_add(nc).saturating_add(input),
                levels: 0,
            },
            Path::I8 => Needs {
                words: 0,
                floats: k.saturating_add(nc),
                levels: nv,
            },
            Path::I8Fixed => Needs {
                words: k.saturating_mul(3).saturating_add(nc),
                floats: 0,
                levels: nv,
            },
        }
    }

    const fn bytes(self) -> usize {
        self.words
            .saturating_mul(8)
            .saturating_add(self.floats.saturating_mul(4))
            .saturating_add(self.levels)
    }
}

/// Scratch of `N` bytes aligned to [`SCRATCH_ALIGN`], for a `static` or a
/// stack array sized at compile time with [`Path::scratch_bytes`] (the
/// largest of the models a firmware may load).
///
/// ```
/// let mut s = dam_core::Scratch::<64>::new();
/// assert_eq!(s.bytes_mut().len(), 64);
/// assert_eq!(s.bytes_mut().as_ptr() as usize % dam_core::prepared::SCRATCH_ALIGN, 0);
/// ```
#[derive(Debug, Clone)]
#[repr(C, align(8))]
pub struct Scratch<const N: usize> {
    bytes: [u8; N],
}

impl<const N: usize> Scratch<N> {
    /// Zeroed scratch (a `const fn`, so it can initialize a `static`).
    pub const fn new() -> Self {
        Scratch { bytes: [0; N] }
    }

    /// The bytes, to pass to [`Prepared::classify`] and friends.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

impl<const N: usize> Default for Scratch<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// The typed parts of a caller's scratch bytes.
struct Parts<'s> {
    rows: &'s mut [[i64; 3]],
    sums: &'s mut [i64],
    overlaps: &'s mut [f32],
    scores: &'s mut [f32],
    input: &'s mut [f32],
    query: &'s mut [i8],
}

/// The shape error for scratch shorter than `needed` bytes.
fn short(needed: usize, found: usize) -> Error {
    Error::ShapeMismatch {
        operand: Operand::Scratch,
        expected: needed,
        found,
    }
}

/// Splits `bytes` at `at` and views the front as `[T]`; the front is
/// aligned for `T` whenever `bytes` is (see [`Needs`]).
fn take<T>(bytes: &mut [u8], at: usize) -> Result<(&mut [T], &mut [u8])>
where
    [T]: zerocopy::FromBytes + zerocopy::IntoBytes + zerocopy::KnownLayout,
{
    let found = bytes.len();
    let (front, rest) = bytes.split_at_mut_checked(at).ok_or(short(at, found))?;
    let front =
        <[T] as zerocopy::FromBytes>::mut_from_bytes(front).map_err(|_| short(at, found))?;
    Ok((front, rest))
}

impl Needs {
    /// Carves `scratch` (from its first [`SCRATCH_ALIGN`]-aligned byte):
    /// rows `3K`, sums `Nc`, overlaps `K`, scores `Nc`, input and query.
    /// Errors: [`Error::ShapeMismatch`] (operand [`Operand::Scratch`]) if
    /// it is too short.
    fn carve<'s>(self, k: usize, nc: usize, scratch: &'s mut [u8]) -> Result<Parts<'s>> {
        let found = scratch.len();
        let skip = (scratch.as_ptr() as usize).wrapping_neg() % SCRATCH_ALIGN;
        let needed = self.bytes().saturating_add(skip);
        let bytes = scratch.get_mut(skip..needed).ok_or(short(needed, found))?;
        let row_words = self.words.saturating_sub(nc);
        let (rows, bytes) = take::<[i64; 3]>(bytes, row_words.saturating_mul(8))?;
        let sum_words = self.words.saturating_sub(row_words);
        let (sums, bytes) = take::<i64>(bytes, sum_words.saturating_mul(8))?;
        let (k, nc) = if self.floats > 0 { (k, nc) } else { (0, 0) };
        let (overlaps, bytes) = take::<f32>(bytes, k.saturating_mul(4))?;
        let (scores, bytes) = take::<f32>(bytes, nc.saturating_mul(4))?;
        let input_len = self.floats.saturating_sub(k).saturating_sub(nc);
        let (input, bytes) = take::<f32>(bytes, input_len.saturating_mul(4))?;
        let (query, _) = take::<i8>(bytes, self.levels)?;
        Ok(Parts {
            rows,
            sums,
            overlaps,
            scores,
            input,
            query,
        })
    }
}

/// The forward pass a handle runs.
#[derive(Debug, Clone, Copy)]
enum Engine<'a> {
    F32(Classifier<'a, f32>),
    I8(QuantizedClassifier<'a, i8>),
    Fixed(FixedClassifier<'a>),
    Potts(PottsClassifier<'a, f32>),
}

/// A query: raw features, or the levels of an `i8` model.
#[derive(Clone, Copy)]
enum Query<'r> {
    Raw(&'r [f32]),
    Levels(&'r [i8]),
}

/// A classifier prepared once from model bytes: the model parsed and
/// checked, the forward pass chosen, the input map kept. See the
/// [module docs](self) for an example.
///
/// Supported models: [`Kind::Classifier`] with `f32` or `i8` memories,
/// [`Kind::Potts`] with `f32` memories. Others are refused when the handle
/// is built ([`ModelError::WrongKind`], [`ModelError::ElementType`]).
///
/// `PATHS` ([`ALL_PATHS`] by default) is the set of paths the handle can
/// run, as [`Path::bit`]s: with fewer, the code of the others is not linked
/// (a firmware with an `i8` model and an FPU needs only [`Path::I8`]), and
/// a model that needs another path is refused when the handle is built
/// ([`Prepared::only`]). With [`LABEL_TABLE_ONLY`] also set, the `i8`
/// pass runs only with a label table ([`Prepared::with_label_table`]).
#[derive(Debug, Clone, Copy)]
pub struct Prepared<'a, const PATHS: u8 = ALL_PATHS> {
    model: Model<'a>,
    engine: Engine<'a>,
    needs: Needs,
}

impl<'a> Prepared<'a> {
    /// Parses and checks `bytes` ([`Model::parse`], CRC included) and
    /// prepares its classifier, evaluating an `i8` model with
    /// [`Arithmetic::NATIVE`]. The bytes must start at an address aligned
    /// for the model's element type (16 bytes is always enough; see
    /// [`crate::model`]). Errors: those of [`Model::parse`], a model kind
    /// or element type this handle does not run, and those of the
    /// classifier's constructor.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        Self::with_arithmetic(bytes, Arithmetic::NATIVE)
    }

    /// [`Prepared::new`] with the arithmetic of an `i8` model chosen by the
    /// caller, e.g. [`Arithmetic::FixedPoint`] on a host to predict what a
    /// core without an FPU computes.
    ///
    /// ```
    /// use dam_core::{Arithmetic, Error, Prepared};
    /// // Not a model: the typed error of the parser.
    /// assert!(matches!(Prepared::with_arithmetic(&[0u8; 8], Arithmetic::FixedPoint),
    ///                  Err(Error::Model(_))));
    /// ```
    pub fn with_arithmetic(bytes: &'a [u8], arithmetic: Arithmetic) -> Result<Self> {
        Self::only(bytes, arithmetic)
    }
}

impl<'a, const PATHS: u8> Prepared<'a, PATHS> {
    /// [`Prepared::with_arithmetic`] for a handle that runs only the paths
    /// in `PATHS` ([`Path::bit`]s): a model whose path is not among them is
    /// refused here ([`ModelError::WrongKind`] for a Potts model,
    /// [`ModelError::ElementType`] otherwise), and the code of the other
    /// paths is not linked.
    ///
    /// ```
    /// use dam_core::{Arithmetic, Path, Prepared};
    /// # use dam_core::model::{ElementType, Header, Kind, crc32, HEADER_LEN};
    /// # use dam_core::{Form, Interaction};
    /// # #[repr(C, align(16))] struct Aligned<B: ?Sized>(B);
    /// # let h = Header { kind: Kind::Classifier, element: ElementType::F32,
    /// #     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
    /// #     k: 2, nv: 2, nc: 2 };
    /// # let mut b = [0u8; 64 + 16 + 2 * 4 * 4 + 4];
    /// # let mut head = [0u8; HEADER_LEN]; h.encode(&mut head)?; b[..64].copy_from_slice(&head);
    /// # b[64..72].copy_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
    /// # for (i, x) in [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0].iter().enumerate() {
    /// #     b[80 + 4 * i..84 + 4 * i].copy_from_slice(&x.to_le_bytes()); }
    /// # let crc = crc32(&b[..112]); b[112..].copy_from_slice(&crc.to_le_bytes());
    /// # let f32_model = Aligned(b);
    /// // An f32 model: an i8-only handle refuses it, an f32-only one runs it.
    /// assert!(Prepared::<{ Path::I8.bit() }>::only(&f32_model.0, Arithmetic::Float).is_err());
    /// let clf = Prepared::<{ Path::F32.bit() }>::only(&f32_model.0, Arithmetic::Float)?;
    /// assert_eq!(clf.path(), Path::F32);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn only(bytes: &'a [u8], arithmetic: Arithmetic) -> Result<Self> {
        let model = Model::parse(bytes)?;
        let h = *model.header();
        let has = |p: Path| PATHS & p.bit() != 0;
        let not_here = |requested: ElementType| -> Error {
            ModelError::ElementType {
                stored: h.element,
                requested,
            }
            .into()
        };
        // Each engine is built behind a constant test of `PATHS`, so the
        // code of the paths left out is never reached and not linked.
        let engine = match (h.kind, h.element, arithmetic) {
            (Kind::Classifier, ElementType::F32, _) if has(Path::F32) => {
                Engine::F32(model.classifier()?)
            }
            (Kind::Classifier, ElementType::I8, Arithmetic::Float) if has(Path::I8) => {
                Engine::I8(model.quantized_classifier()?)
            }
            (Kind::Classifier, ElementType::I8, Arithmetic::FixedPoint) if has(Path::I8Fixed) => {
                Engine::Fixed(model.fixed_classifier()?)
            }
            (Kind::Potts, ElementType::F32, _) if has(Path::Potts) => Engine::Potts(model.potts()?),
            (Kind::Potts, _, _) if !has(Path::Potts) => {
                return Err(ModelError::WrongKind {
                    expected: Kind::Classifier,
                    found: Kind::Potts,
                }
                .into());
            }
            (Kind::Memory, _, _) => {
                return Err(ModelError::WrongKind {
                    expected: Kind::Classifier,
                    found: Kind::Memory,
                }
                .into());
            }
            (Kind::Classifier, ElementType::F32, _) => {
                return Err(not_here(if has(Path::I8) || has(Path::I8Fixed) {
                    ElementType::I8
                } else {
                    ElementType::F32
                }));
            }
            (_, stored, _) => {
                return Err(not_here(if stored == ElementType::I8 && !has(Path::F32) {
                    ElementType::I8
                } else {
                    ElementType::F32
                }));
            }
        };
        let (nv, k, nc) = (h.nv as usize, h.k as usize, h.nc as usize);
        let path = path_of(&engine);
        let needs = Needs::of(path, nv, k, nc, model.preprocessing().is_some());
        Ok(Prepared {
            model,
            engine,
            needs,
        })
    }

    /// The same handle, skipping query levels equal to `background` in
    /// the overlaps of an `i8` model
    /// ([`QuantizedClassifier::with_background`]; the same results, bit
    /// for bit). `row_sums` (at least `K` entries, kept borrowed as long as
    /// the handle) receives each memory's sum of levels, computed here
    /// once. Errors: not an `i8` model ([`ModelError::ElementType`]),
    /// `row_sums` too short.
    ///
    /// ```
    /// # use dam_core::model::{ElementType, Header, Kind, crc32, HEADER_LEN};
    /// # use dam_core::{Form, Interaction};
    /// use dam_core::{Prepared, Scratch};
    /// # #[repr(C, align(16))] struct Aligned<B: ?Sized>(B);
    /// # let h = Header { kind: Kind::Classifier, element: ElementType::I8,
    /// #     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
    /// #     k: 2, nv: 2, nc: 2 };
    /// # let mut b = [0u8; 64 + 16 + 2 * 4 + 4];
    /// # let mut head = [0u8; HEADER_LEN]; h.encode(&mut head)?; b[..64].copy_from_slice(&head);
    /// # b[64..80].copy_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0, 0x04, 0x02, 0x01, 0x3c, 0x04, 0x02, 0x01, 0x3c]);
    /// # b[80..88].copy_from_slice(&[127, 127, 127, 0x81, 0x81, 0x81, 0x81, 127]);
    /// # let crc = crc32(&b[..88]); b[88..].copy_from_slice(&crc.to_le_bytes());
    /// let model = Aligned(b); // an i8 model: "bright → 0", "dark → 1"
    /// let mut row_sums = [0i32; 2];
    /// let clf = Prepared::new(&model.0)?.with_background(-127, &mut row_sums)?;
    /// let mut scratch = Scratch::<64>::new();
    /// assert_eq!(clf.classify_i8(&[-127, -100], scratch.bytes_mut())?, 1);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn with_background(self, background: i8, row_sums: &'a mut [i32]) -> Result<Self> {
        let engine = match self.engine {
            Engine::I8(c) => Engine::I8(c.with_background(background, row_sums)?),
            Engine::Fixed(c) => Engine::Fixed(c.with_background(background, row_sums)?),
            Engine::F32(_) | Engine::Potts(_) => return Err(self.not_i8()),
        };
        Ok(Prepared { engine, ..self })
    }

    /// The length of the table [`Prepared::with_label_table`] takes:
    /// `K·Nc` (saturating) for an `i8` model run in `f32`
    /// ([`Path::I8`]), 0 for the other paths (which do not use one); the
    /// same as [`Path::label_table_len`] for this model.
    pub fn label_table_len(&self) -> usize {
        self.path().label_table_len(self.memories(), self.classes())
    }

    /// The same handle with the doubled label values of an `i8` model
    /// computed once into `table` (at least
    /// [`Prepared::label_table_len`] entries, kept borrowed as long as the
    /// handle) instead of in every classification
    /// ([`QuantizedClassifier::with_label_table`]; the same results, bit
    /// for bit). On [`Path::I8Fixed`] the handle is returned unchanged
    /// (fixed point has no use for it; `label_table_len` is 0 there).
    /// Combines with [`Prepared::with_background`] in either order.
    /// Errors: not an `i8` model ([`ModelError::ElementType`]), `table`
    /// too short.
    ///
    /// ```
    /// # use dam_core::model::{ElementType, Header, Kind, crc32, HEADER_LEN};
    /// # use dam_core::{Form, Interaction};
    /// use dam_core::{Prepared, Scratch};
    /// # #[repr(C, align(16))] struct Aligned<B: ?Sized>(B);
    /// # let h = Header { kind: Kind::Classifier, element: ElementType::I8,
    /// #     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
    /// #     k: 2, nv: 2, nc: 2 };
    /// # let mut b = [0u8; 64 + 16 + 2 * 4 + 4];
    /// # let mut head = [0u8; HEADER_LEN]; h.encode(&mut head)?; b[..64].copy_from_slice(&head);
    /// # b[64..80].copy_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0, 0x04, 0x02, 0x01, 0x3c, 0x04, 0x02, 0x01, 0x3c]);
    /// # b[80..88].copy_from_slice(&[127, 127, 127, 0x81, 0x81, 0x81, 0x81, 127]);
    /// # let crc = crc32(&b[..88]); b[88..].copy_from_slice(&crc.to_le_bytes());
    /// let model = Aligned(b); // an i8 model: "bright → 0", "dark → 1"
    /// let plain = Prepared::new(&model.0)?;
    /// // K·Nc = 4 floats, sized at compile time for the largest model.
    /// let mut table = [0.0f32; 4];
    /// assert!(plain.label_table_len() <= table.len());
    /// let clf = plain.with_label_table(&mut table)?;
    /// let mut scratch = Scratch::<64>::new();
    /// assert_eq!(clf.classify_i8(&[-127, -100], scratch.bytes_mut())?, 1);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn with_label_table(self, table: &'a mut [f32]) -> Result<Self> {
        let engine = match self.engine {
            Engine::I8(c) => Engine::I8(c.with_label_table(table)?),
            Engine::Fixed(_) => self.engine,
            Engine::F32(_) | Engine::Potts(_) => return Err(self.not_i8()),
        };
        Ok(Prepared { engine, ..self })
    }

    fn not_i8(&self) -> Error {
        ModelError::ElementType {
            stored: self.model.header().element,
            requested: ElementType::I8,
        }
        .into()
    }

    /// The forward pass this handle runs.
    pub fn path(&self) -> Path {
        path_of(&self.engine)
    }

    /// The parsed model (labels, class names, header).
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }

    /// The number of input features `Nv` a query has.
    pub fn inputs(&self) -> usize {
        self.model.header().nv as usize
    }

    /// The number of classes `Nc`.
    pub fn classes(&self) -> usize {
        self.model.header().nc as usize
    }

    /// The number of memories `K`.
    pub fn memories(&self) -> usize {
        self.model.header().k as usize
    }

    /// The stored label of class `class` ([`Model::label_value`]), `None`
    /// if `class ≥ Nc`.
    pub fn label_value(&self, class: usize) -> Option<i64> {
        self.model.label_value(class)
    }

    /// The stored name of class `class` ([`Model::class_name`]).
    pub fn class_name(&self, class: usize) -> Option<&'a str> {
        self.model.class_name(class)
    }

    /// The scratch bytes each call needs, starting at a
    /// [`SCRATCH_ALIGN`]-aligned address (the same as
    /// [`Path::scratch_bytes`] for this model).
    pub fn scratch_bytes(&self) -> usize {
        self.needs.bytes()
    }

    /// The predicted class of the raw features `raw` (length `Nv`): the
    /// model's input map applied if it has one, quantized for an `i8`
    /// model, then the forward pass. `scratch`: at least
    /// [`Prepared::scratch_bytes`] from its first aligned byte; its
    /// contents on entry do not matter.
    ///
    /// Errors: [`Error::ShapeMismatch`] for `raw` (operand
    /// [`Operand::Query`]) or `scratch` ([`Operand::Scratch`]),
    /// [`Error::NonFinite`] for a non-finite feature or mapped feature, and
    /// the forward pass's [`Error::Overflow`].
    pub fn classify(&self, raw: &[f32], scratch: &mut [u8]) -> Result<usize> {
        self.run(Query::Raw(raw), scratch, None)
    }

    /// [`Prepared::classify`] for an `i8` model, from a query already
    /// mapped and quantized ([`crate::model::Preprocessing::apply_quantized`]
    /// or [`quantize_query`]). Errors: not an `i8` model
    /// ([`ModelError::ElementType`]), and those of [`Prepared::classify`].
    pub fn classify_i8(&self, levels: &[i8], scratch: &mut [u8]) -> Result<usize> {
        self.run(Query::Levels(levels), scratch, None)
    }

    /// [`Prepared::classify`], also writing one score per class into
    /// `scores` (length `Nc`): `c_α ∈ [−1, 1]` for a classifier (in fixed
    /// point, `tanh` of the class sums), the posterior `p(α | v)` for a
    /// Potts model. The prediction is the class the forward pass picks
    /// (the first best score; ties in the `f32` scores can hide a larger
    /// exact sum). Errors: `scores` not `Nc` long, and those of
    /// [`Prepared::classify`].
    pub fn scores(&self, raw: &[f32], scratch: &mut [u8], scores: &mut [f32]) -> Result<usize> {
        self.run(Query::Raw(raw), scratch, Some(scores))
    }

    /// [`Prepared::scores`] from an `i8` query, as
    /// [`Prepared::classify_i8`].
    pub fn scores_i8(
        &self,
        levels: &[i8],
        scratch: &mut [u8],
        scores: &mut [f32],
    ) -> Result<usize> {
        self.run(Query::Levels(levels), scratch, Some(scores))
    }

    fn run(&self, query: Query<'_>, scratch: &mut [u8], out: Option<&mut [f32]>) -> Result<usize> {
        let (k, nc) = (self.memories(), self.classes());
        if let Some(out) = &out {
            check_len(Operand::Output, nc, out.len())?;
        }
        let parts = self.needs.carve(k, nc, scratch)?;
        let Parts {
            rows,
            sums,
            overlaps,
            scores,
            input,
            query: levels,
        } = parts;
        let scores = match out {
            Some(out) => out,
            None => scores,
        };
        let has = |p: Path| PATHS & p.bit() != 0;
        // The guards are constants: the arms of paths left out of `PATHS`
        // (never built, see `Prepared::only`) are removed with their code.
        match self.engine {
            Engine::F32(clf) if has(Path::F32) => {
                let v = self.mapped(query, input)?;
                clf.forward(v, scores, overlaps)
            }
            Engine::Potts(clf) if has(Path::Potts) => {
                let v = self.mapped(query, input)?;
                clf.posterior(v, scores, overlaps)
            }
            Engine::I8(clf) if has(Path::I8) => {
                let v = self.quantized(query, levels)?;
                // A constant test: with the flag, the loop without a table
                // is not linked.
                if PATHS & LABEL_TABLE_ONLY != 0 {
                    clf.forward_in::<true>(v, scores, overlaps)
                } else {
                    clf.forward(v, scores, overlaps)
                }
            }
            Engine::Fixed(clf) if has(Path::I8Fixed) => {
                let v = self.quantized(query, levels)?;
                let class = clf.forward_in(v, sums, rows)?;
                // Scores only on request: `tanh` is soft float here.
                if !scores.is_empty() {
                    for (s, &bits) in scores.iter_mut().zip(sums.iter()) {
                        let sum = crate::quantized::Score::from_bits(bits);
                        *s = libm::tanhf(sum.to_num::<f32>());
                    }
                }
                Ok(class)
            }
            _ => Err(self.not_i8()),
        }
    }

    /// The `f32` query: `raw` through the input map into `input`, or `raw`
    /// itself.
    fn mapped<'r>(&self, query: Query<'r>, input: &'r mut [f32]) -> Result<&'r [f32]> {
        let Query::Raw(raw) = query else {
            return Err(self.not_i8());
        };
        match self.model.preprocessing() {
            Some(p) => {
                p.apply(raw, input)?;
                Ok(input)
            }
            None => Ok(raw),
        }
    }

    /// The level query: `raw` mapped and quantized into `levels`, or the
    /// caller's levels.
    /// The `i8` query level a raw value of input `feature` becomes (the
    /// model's input map for that feature, if any, then the quantization):
    /// for [`Prepared::with_background`], e.g. the level of an image's
    /// background pixel. Errors: `feature ≥ Nv` ([`Error::ShapeMismatch`]),
    /// a non-finite value or mapped value ([`Error::NonFinite`]).
    ///
    /// ```
    /// use dam_core::Prepared;
    /// # use dam_core::model::{ElementType, Header, Kind, crc32, HEADER_LEN};
    /// # use dam_core::{Form, Interaction};
    /// # #[repr(C, align(16))] struct Aligned<B: ?Sized>(B);
    /// # let h = Header { kind: Kind::Classifier, element: ElementType::F32,
    /// #     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
    /// #     k: 2, nv: 2, nc: 2 };
    /// # let mut b = [0u8; 64 + 16 + 2 * 4 * 4 + 4];
    /// # let mut head = [0u8; HEADER_LEN]; h.encode(&mut head)?; b[..64].copy_from_slice(&head);
    /// # b[64..72].copy_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
    /// # for (i, x) in [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0].iter().enumerate() {
    /// #     b[80 + 4 * i..84 + 4 * i].copy_from_slice(&x.to_le_bytes()); }
    /// # let crc = crc32(&b[..112]); b[112..].copy_from_slice(&crc.to_le_bytes());
    /// # let model = Aligned(b);
    /// let clf = Prepared::new(&model.0)?; // a model without an input map
    /// assert_eq!(clf.level_of(0, -1.0)?, -127); // a −1 pixel
    /// assert_eq!(clf.level_of(1, 0.5)?, 64);
    /// assert!(clf.level_of(2, 0.0).is_err()); // Nv = 2
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn level_of(&self, feature: usize, raw: f32) -> Result<i8> {
        let nv = self.inputs();
        if feature >= nv {
            return Err(Error::ShapeMismatch {
                operand: Operand::Query,
                expected: nv,
                found: feature.saturating_add(1),
            });
        }
        let mut level = [0i8];
        match self.model.preprocessing() {
            Some(p) => {
                let (Some(&a), Some(&b)) = (p.scales().get(feature), p.offsets().get(feature))
                else {
                    return Err(Error::ShapeMismatch {
                        operand: Operand::Preprocessing,
                        expected: nv,
                        found: p.len(),
                    });
                };
                // Feature `feature`'s map alone: the same arithmetic as `apply_quantized`.
                crate::model::Preprocessing::new(&[a], &[b])?
                    .apply_quantized(&[raw], &mut level)?;
            }
            None => quantize_query(&[raw], &mut level)?,
        }
        Ok(level[0])
    }

    fn quantized<'r>(&self, query: Query<'r>, levels: &'r mut [i8]) -> Result<&'r [i8]> {
        match query {
            Query::Levels(v) => Ok(v),
            Query::Raw(raw) => {
                match self.model.preprocessing() {
                    Some(p) => p.apply_quantized(raw, levels)?,
                    None => {
                        check_len(Operand::Query, levels.len(), raw.len())?;
                        quantize_query(raw, levels)?;
                    }
                }
                Ok(levels)
            }
        }
    }
}

fn path_of(engine: &Engine<'_>) -> Path {
    match engine {
        Engine::F32(_) => Path::F32,
        Engine::I8(_) => Path::I8,
        Engine::Fixed(_) => Path::I8Fixed,
        Engine::Potts(_) => Path::Potts,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::interaction::{Form, Interaction};
    use crate::model::{Header, Layout, PreprocessingKind, crc32};
    use crate::quantized::{FixedRow, Score};
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::vec;
    use std::vec::Vec;

    /// A random valid model: `f32` or `i8` classifier (rectified polynomial,
    /// normalized) or `f32` Potts model, with an input map if `affine`.
    fn random_model(
        kind: Kind,
        element: ElementType,
        (k, nv, nc): (u32, u32, u32),
        affine: bool,
        seed: u64,
    ) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (interaction, form) = match kind {
            Kind::Potts => (
                Interaction::Exponential,
                Form::Raw {
                    beta: rng.random_range(0.5..4.0),
                },
            ),
            _ => (
                Interaction::RectifiedPolynomial {
                    n: rng.random_range(2..8),
                },
                Form::Normalized {
                    beta: rng.random_range(0.5..3.0),
                },
            ),
        };
        let h = Header {
            kind,
            element,
            interaction,
            form,
            k,
            nv,
            nc,
        };
        let layout = Layout {
            preprocessing: if affine {
                PreprocessingKind::Affine
            } else {
                PreprocessingKind::None
            },
            ..Layout::V2
        };
        let o = h.offsets(&layout).unwrap();
        let mut head = [0u8; crate::model::HEADER_LEN];
        h.encode_layout(&layout, &mut head).unwrap();
        let mut out = head.to_vec();
        for a in 0..nc {
            out.extend_from_slice(&(a as i32 * 3 - 1).to_le_bytes());
        }
        for _ in 0..h.scale_count() {
            let s: f32 = rng.random_range(0.5..1.5) / 127.0;
            out.extend_from_slice(&s.to_le_bytes());
        }
        out.resize(o.data, 0);
        let (k, nv, nc) = (k as usize, nv as usize, nc as usize);
        match (kind, element) {
            (Kind::Potts, _) => {
                for _ in 0..k * nv {
                    let x: f32 = rng.random_range(-1.0..1.0);
                    out.extend_from_slice(&x.to_le_bytes());
                }
                for _ in 0..k {
                    let w: Vec<f32> = (0..nc).map(|_| rng.random_range(0.0..1.0)).collect();
                    let sum: f32 = w.iter().sum();
                    for x in w {
                        out.extend_from_slice(&(x / sum).to_le_bytes());
                    }
                }
                for _ in 0..k {
                    let x: f32 = rng.random_range(-3.0..0.0);
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
            (_, ElementType::I8) => {
                for _ in 0..k * (nv + nc) {
                    out.push(rng.random_range(-127i8..=127) as u8);
                }
            }
            _ => {
                for _ in 0..k * (nv + nc) {
                    let x: f32 = rng.random_range(-1.0..1.0);
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        if affine {
            out.resize(o.preprocessing, 0);
            for _ in 0..2 * nv {
                let x: f32 = rng.random_range(-1.0..1.0);
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out.resize(o.crc, 0);
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(out.len(), o.total);
        out
    }

    /// Copies into 16-byte-aligned storage.
    fn aligned(bytes: &[u8]) -> Vec<u128> {
        let mut words = vec![0u128; bytes.len().div_ceil(16)];
        zerocopy::IntoBytes::as_mut_bytes(&mut words[..])[..bytes.len()].copy_from_slice(bytes);
        words
    }

    fn as_bytes(words: &[u128], len: usize) -> &[u8] {
        &zerocopy::IntoBytes::as_bytes(words)[..len]
    }

    fn raw_input(nv: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        (0..nv).map(|_| rng.random_range(-2.0..2.0)).collect()
    }

    /// The class and scores of calling the classifier directly, after the
    /// input map: what the handle must reproduce.
    fn direct(model: &Model<'_>, arithmetic: Arithmetic, raw: &[f32]) -> (usize, Vec<f32>) {
        let h = model.header();
        let (k, nc) = (h.k as usize, h.nc as usize);
        let mut x = raw.to_vec();
        if let Some(p) = model.preprocessing() {
            p.apply(raw, &mut x).unwrap();
        }
        let mut q = vec![0i8; x.len()];
        let mut scores = vec![0.0f32; nc];
        let mut scratch = vec![0.0f32; k];
        let class = match (h.kind, h.element, arithmetic) {
            (Kind::Potts, ..) => {
                model
                    .potts::<f32>()
                    .unwrap()
                    .posterior(&x, &mut scores, &mut scratch)
            }
            (_, ElementType::F32, _) => {
                model
                    .classifier::<f32>()
                    .unwrap()
                    .forward(&x, &mut scores, &mut scratch)
            }
            (_, _, Arithmetic::Float) => {
                quantize_query(&x, &mut q).unwrap();
                model
                    .quantized_classifier::<i8>()
                    .unwrap()
                    .forward(&q, &mut scores, &mut scratch)
            }
            (_, _, Arithmetic::FixedPoint) => {
                quantize_query(&x, &mut q).unwrap();
                let mut sums = vec![Score::ZERO; nc];
                let mut rows = vec![FixedRow::ZERO; k];
                let class = model
                    .fixed_classifier()
                    .unwrap()
                    .forward(&q, &mut sums, &mut rows);
                for (s, sum) in scores.iter_mut().zip(&sums) {
                    *s = libm::tanhf(sum.to_num::<f32>());
                }
                class
            }
        };
        (class.unwrap(), scores)
    }

    fn shapes() -> impl Strategy<Value = (Kind, ElementType, Arithmetic)> {
        prop_oneof![
            Just((Kind::Classifier, ElementType::F32, Arithmetic::Float)),
            Just((Kind::Classifier, ElementType::I8, Arithmetic::Float)),
            Just((Kind::Classifier, ElementType::I8, Arithmetic::FixedPoint)),
            Just((Kind::Potts, ElementType::F32, Arithmetic::Float)),
        ]
    }

    use crate::test_config::proptest_config as config;

    proptest! {
        #![proptest_config(config(ProptestConfig::default(), 8))]

        /// On random models of every path, the handle gives the class and
        /// the scores of the classifier called directly after the input
        /// map, with exactly `scratch_bytes` of scratch at any address.
        #[test]
        fn handle_is_the_direct_classifier(
            (kind, element, arithmetic) in shapes(),
            k in 1u32..12, nv in 1u32..40, nc in 1u32..20,
            affine in any::<bool>(), seed in any::<u64>(), shift in 0usize..8,
        ) {
            let b = random_model(kind, element, (k, nv, nc), affine, seed);
            let w = aligned(&b);
            let bytes = as_bytes(&w, b.len());
            let model = Model::parse(bytes).unwrap();
            let clf = Prepared::with_arithmetic(bytes, arithmetic).unwrap();
            let path = clf.path();
            prop_assert_eq!(
                clf.scratch_bytes(),
                path.scratch_bytes(nv as usize, k as usize, nc as usize, affine)
            );
            prop_assert_eq!((clf.inputs(), clf.classes(), clf.memories()),
                (nv as usize, nc as usize, k as usize));
            let raw = raw_input(nv as usize, seed);
            let (want, want_scores) = direct(&model, arithmetic, &raw);
            // Scratch exactly as long as needed, from an aligned address
            // plus `shift` (the handle skips to the next aligned byte).
            let mut store = vec![0u64; clf.scratch_bytes() / 8 + 3];
            let all = zerocopy::IntoBytes::as_mut_bytes(&mut store[..]);
            let skip = (SCRATCH_ALIGN - shift % SCRATCH_ALIGN) % SCRATCH_ALIGN;
            let scratch = &mut all[shift..shift + skip + clf.scratch_bytes()];
            prop_assert_eq!(clf.classify(&raw, scratch), Ok(want));
            // A handle restricted to this path gives the same class; one
            // restricted to every other path refuses the model.
            macro_rules! restricted {
                ($paths:expr) => {
                    Prepared::<'_, { $paths }>::only(bytes, arithmetic)
                        .and_then(|c| c.classify(&raw, scratch))
                };
            }
            let (only_this, all_but) = match path {
                Path::F32 => (restricted!(Path::F32.bit()), restricted!(ALL_PATHS & !Path::F32.bit())),
                Path::I8 => (restricted!(Path::I8.bit()), restricted!(ALL_PATHS & !Path::I8.bit())),
                Path::I8Fixed => (
                    restricted!(Path::I8Fixed.bit()),
                    restricted!(ALL_PATHS & !Path::I8Fixed.bit()),
                ),
                Path::Potts => (restricted!(Path::Potts.bit()), restricted!(ALL_PATHS & !Path::Potts.bit())),
            };
            prop_assert_eq!(only_this, Ok(want));
            let refused = matches!(
                all_but,
                Err(Error::Model(ModelError::ElementType { .. } | ModelError::WrongKind { .. }))
            );
            prop_assert!(refused, "{:?}", all_but);
            let mut scores = vec![0.0f32; nc as usize];
            prop_assert_eq!(clf.scores(&raw, scratch, &mut scores), Ok(want));
            prop_assert_eq!(&scores, &want_scores);
            // One byte short: a typed error.
            let len = scratch.len();
            let r = clf.classify(&raw, &mut scratch[..len - 1]);
            let short = matches!(r, Err(Error::ShapeMismatch { operand: Operand::Scratch, .. }));
            prop_assert!(short, "{:?}", r);
            // `i8` models also take quantized levels.
            if element == ElementType::I8 {
                let mut q = vec![0i8; nv as usize];
                match model.preprocessing() {
                    Some(p) => p.apply_quantized(&raw, &mut q).unwrap(),
                    None => quantize_query(&raw, &mut q).unwrap(),
                }
                prop_assert_eq!(clf.classify_i8(&q, scratch), Ok(want));
                prop_assert_eq!(clf.scores_i8(&q, scratch, &mut scores), Ok(want));
                prop_assert_eq!(&scores, &want_scores);
                let mut sums = vec![0i32; k as usize];
                let skipping = clf.with_background(-127, &mut sums).unwrap();
                prop_assert_eq!(skipping.classify(&raw, scratch), Ok(want));
                // The label table, alone and with the skipping: the same
                // class and scores.
                prop_assert_eq!(
                    clf.label_table_len(),
                    path.label_table_len(k as usize, nc as usize)
                );
                let mut table = vec![0.0f32; clf.label_table_len()];
                let tabled = clf.with_label_table(&mut table).unwrap();
                prop_assert_eq!(tabled.scores(&raw, scratch, &mut scores), Ok(want));
                prop_assert_eq!(&scores, &want_scores);
                let both = skipping.with_label_table(&mut table).unwrap();
                prop_assert_eq!(both.scores(&raw, scratch, &mut scores), Ok(want));
                prop_assert_eq!(&scores, &want_scores);
                if path == Path::I8 && !table.is_empty() {
                    let short = clf.with_label_table(&mut table[1..]);
                    prop_assert!(short.is_err());
                }
                // A handle that runs only with the table: refuses without
                // it, and with it gives the same class and scores, bit for
                // bit (fixed point: unchanged).
                const ONLY: u8 = ALL_PATHS | LABEL_TABLE_ONLY;
                let plain = Prepared::<'_, ONLY>::only(bytes, arithmetic).unwrap();
                let r = plain.classify(&raw, scratch);
                match path {
                    Path::I8 => {
                        let expected = table.len();
                        let refused = matches!(r, Err(Error::ShapeMismatch { operand: Operand::Scratch, expected: e, found: 0 }) if e == expected);
                        prop_assert!(refused, "{:?}", r);
                    }
                    _ => prop_assert_eq!(r, Ok(want)),
                }
                let tabled = plain.with_label_table(&mut table).unwrap();
                prop_assert_eq!(tabled.scores(&raw, scratch, &mut scores), Ok(want));
                prop_assert_eq!(&scores, &want_scores);
                let tabled = tabled.with_background(-127, &mut sums).unwrap();
                prop_assert_eq!(tabled.scores_i8(&q, scratch, &mut scores), Ok(want));
                prop_assert_eq!(&scores, &want_scores);
            } else {
                prop_assert!(clf.classify_i8(&[0; 64][..nv as usize], scratch).is_err());
                prop_assert!(clf.with_background(0, &mut [0; 16]).is_err());
                prop_assert!(clf.with_label_table(&mut [0.0; 16]).is_err());
                prop_assert_eq!(clf.label_table_len(), 0);
            }
        }
    }

    #[test]
    fn bad_calls_are_typed_errors() {
        let b = random_model(Kind::Classifier, ElementType::F32, (3, 5, 2), true, 1);
        let w = aligned(&b);
        let clf = Prepared::new(as_bytes(&w, b.len())).unwrap();
        let mut scratch = Scratch::<256>::new();
        let s = scratch.bytes_mut();
        assert_eq!(
            clf.classify(&[0.0; 4], s),
            Err(Error::ShapeMismatch {
                operand: Operand::Query,
                expected: 5,
                found: 4
            })
        );
        assert_eq!(
            clf.classify(&[0.0, 0.0, f32::NAN, 0.0, 0.0], s),
            Err(Error::NonFinite {
                operand: Operand::Query,
                index: 2
            })
        );
        assert!(matches!(
            clf.scores(&[0.0; 5], s, &mut [0.0; 3]),
            Err(Error::ShapeMismatch {
                operand: Operand::Output,
                ..
            })
        ));
        assert_eq!(
            clf.classify_i8(&[0; 5], s),
            Err(Error::Model(ModelError::ElementType {
                stored: ElementType::F32,
                requested: ElementType::I8
            }))
        );
        assert!(clf.classify(&[0.0; 5], &mut []).is_err());
        assert_eq!(
            (clf.label_value(0), clf.label_value(1)),
            (Some(-1), Some(2))
        );
        assert_eq!((clf.label_value(2), clf.class_name(0)), (None, None));

        // A corrupt byte, a memory model, an f64 model: refused at build time.
        let mut bad = b.clone();
        bad[70] ^= 1;
        let w = aligned(&bad);
        assert!(matches!(
            Prepared::new(as_bytes(&w, bad.len())),
            Err(Error::Model(ModelError::Crc { .. }))
        ));
        let m = random_model(Kind::Memory, ElementType::F32, (3, 5, 0), false, 1);
        let w = aligned(&m);
        assert!(matches!(
            Prepared::new(as_bytes(&w, m.len())),
            Err(Error::Model(ModelError::WrongKind { .. }))
        ));
        assert!(matches!(
            Prepared::new(&[]),
            Err(Error::Model(ModelError::Length { .. }))
        ));
    }

    #[test]
    fn native_arithmetic_on_this_host_is_float() {
        assert_eq!(Arithmetic::NATIVE, Arithmetic::Float);
    }
}
