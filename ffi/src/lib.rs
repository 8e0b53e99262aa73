//! # dam-ffi
//!
//! A C ABI for [`dam_core::Prepared`]: classify with a model file from C,
//! on a Cortex-M or a host, with no allocator and no panics. The header is
//! `include/dam.h` (generated from this crate by cbindgen); `README.md`
//! next to this crate shows how to build, link and call it.
//!
//! Every entry point checks its pointers (NULL, alignment) and lengths
//! before it forms a slice, and reports a [`DamStatus`]; a [`DamModel`]
//! that [`dam_model_init`] did not fill is refused by its state field. What
//! the checks cannot see stays the caller's duty:
//! * the model bytes given to [`dam_model_init`] must stay alive and
//!   unchanged while the handle is used (the handle reads the memories in
//!   place, with no copy and no further CRC check);
//! * a pointer that is not NULL must point to as many valid bytes as its
//!   length says (a pointer cannot be checked for that);
//! * a [`DamModel`] must be zeroed or filled by [`dam_model_init`] before any
//!   other call: memory of arbitrary content whose state field happens to
//!   read as the magic value cannot be told apart.
//!
//! ## Panics
//! No entry point has a reachable panic: `boards/no-panic` links them for
//! Cortex-M4F with this crate's panic handler built to fail the link when
//! referenced (`--cfg dam_no_panic_proof`). Otherwise, on bare-metal targets
//! (`target_os = "none"`), the handler is an idle loop, never reached; a
//! `no_std` staticlib must carry one. Rust firmware should use
//! [`dam_core::Prepared`] directly rather than link this crate next to its
//! own panic handler. On hosts the library links `std`, whose handler it
//! uses.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

// On hosts, std provides the panic handler and the unwinding runtime a
// staticlib needs; nothing here uses std otherwise.
#[cfg(not(target_os = "none"))]
extern crate std;

use core::ffi::c_char;
use core::mem::{align_of, size_of};
use core::ptr;

use dam_core::model::ModelError;
use dam_core::prepared::SCRATCH_ALIGN;
use dam_core::{Arithmetic, Error, Operand, Path, Prepared};

/// The forward passes this build links, from its cargo features (`f32`,
/// `i8`, `potts`; all by default): a model that needs another one is
/// refused by `dam_model_init` (`DAM_ERR_MODEL_UNSUPPORTED`).
const PATHS: u8 = (if cfg!(feature = "f32") {
    Path::F32.bit()
} else {
    0
}) | (if cfg!(feature = "i8") {
    match Arithmetic::NATIVE {
        Arithmetic::Float => Path::I8.bit(),
        Arithmetic::FixedPoint => Path::I8Fixed.bit(),
        // An arithmetic this library does not know links no i8 pass:
        // `dam_model_init` refuses i8 models (DAM_ERR_MODEL_UNSUPPORTED).
        _ => 0,
    }
} else {
    0
}) | (if cfg!(feature = "potts") {
    Path::Potts.bit()
} else {
    0
});

/// The handle a `dam_model` holds: [`Prepared`] with this build's paths.
type Handle<'m> = Prepared<'m, PATHS>;

/// `dam_model` holds this many 64-bit words (`sizeof(dam_model)` is 8
/// times as many bytes), enough for the handle on 32- and 64-bit targets.
pub const DAM_MODEL_WORDS: usize = 64;

/// The alignment, in bytes, the scratch buffer of the classify calls must
/// start at.
pub const DAM_SCRATCH_ALIGN: usize = 8;

/// An alignment that is always enough for model bytes (the memories start
/// at a multiple of 16 bytes in the file; `f32` and `i8` models need 4).
pub const DAM_MODEL_ALIGN: usize = 16;

/// A prepared classifier: caller-owned storage of fixed size and
/// alignment, filled by [`dam_model_init`]. Its contents are private; zero
/// it (or call [`dam_model_init`]) before any other call.
#[repr(C)]
pub struct DamModel {
    opaque: [u64; DAM_MODEL_WORDS],
}

/// The result of every call that can fail: `DAM_OK` (0), or why not.
// Not `#[non_exhaustive]`: this is the C enum of `include/dam.h`, a
// `#[repr(i32)]` value crossing the ABI. C code cannot be made to handle
// unknown values by an attribute, and the set of codes is the documented C
// contract: a new code is a change of the header, versioned with it. (Rust
// callers of the rlib see the same set.)
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum DamStatus {
    /// Success.
    DAM_OK = 0,
    /// A pointer argument is NULL.
    DAM_ERR_NULL = 1,
    /// A pointer is not aligned for its type: the `dam_model` (8 bytes),
    /// `float` buffers (4), the scratch ([`DAM_SCRATCH_ALIGN`]), or the
    /// model bytes (as the model needs; [`DAM_MODEL_ALIGN`] always works).
    DAM_ERR_MISALIGNED = 2,
    /// The `dam_model` was never initialised, or its initialisation failed.
    DAM_ERR_UNINITIALISED = 3,
    /// The scratch is shorter than `dam_scratch_bytes(model)`.
    DAM_ERR_SCRATCH_TOO_SMALL = 4,
    /// The input does not have `dam_model_inputs(model)` entries.
    DAM_ERR_INPUT_LENGTH = 5,
    /// The scores buffer is shorter than `dam_model_classes(model)`.
    DAM_ERR_OUTPUT_TOO_SMALL = 6,
    /// An input (or input after the model's input map) is NaN or infinite.
    DAM_ERR_NON_FINITE = 7,
    /// A score overflows `float` (raw-form models, extreme memories).
    DAM_ERR_OVERFLOW = 8,
    /// The call does not fit the model: `dam_classify_i8` on a model that
    /// is not `i8`.
    DAM_ERR_WRONG_KIND = 9,
    /// The bytes are not a dam model (bad magic).
    DAM_ERR_MODEL_MAGIC = 10,
    /// A model format version this library does not read.
    DAM_ERR_MODEL_VERSION = 11,
    /// The length differs from the one the model declares (truncated, or
    /// trailing bytes).
    DAM_ERR_MODEL_LENGTH = 12,
    /// The model's CRC-32 does not match (corrupt bytes).
    DAM_ERR_MODEL_CRC = 13,
    /// A model header field, dimension, padding or section is invalid.
    DAM_ERR_MODEL_INVALID = 14,
    /// A valid model this library does not run (a plain memory, an `f64`
    /// or `i16` classifier, or a fixed-point `i8` model out of its range).
    DAM_ERR_MODEL_UNSUPPORTED = 15,
    /// A class index beyond the model's classes, or a label that does not
    /// fit `int32_t`.
    DAM_ERR_OUT_OF_RANGE = 16,
}

use DamStatus::*;

/// The state word of an initialised handle ("dam-ffi1" in ASCII).
const MAGIC: u64 = u64::from_le_bytes(*b"dam-ffi1");

/// What a `DamModel` holds: the state word, then the handle. The handle
/// borrows the caller's bytes; `'static` stands for "as long as the
/// caller keeps them", the documented contract.
#[repr(C)]
struct Slot {
    state: u64,
    handle: Handle<'static>,
}

// The handle must fit the storage C reserves for it, on every target.
const _: () = assert!(size_of::<Slot>() <= size_of::<DamModel>());
const _: () = assert!(align_of::<Slot>() <= align_of::<DamModel>());
const _: () = assert!(DAM_SCRATCH_ALIGN == SCRATCH_ALIGN);

/// Maps a `dam-core` error of a classify call to a status.
fn status_of(e: Error) -> DamStatus {
    match e {
        Error::ShapeMismatch { operand, .. } => match operand {
            Operand::Scratch => DAM_ERR_SCRATCH_TOO_SMALL,
            Operand::Output => DAM_ERR_OUTPUT_TOO_SMALL,
            _ => DAM_ERR_INPUT_LENGTH,
        },
        Error::NonFinite { .. } => DAM_ERR_NON_FINITE,
        Error::Overflow { .. } => DAM_ERR_OVERFLOW,
        Error::Model(ModelError::ElementType { .. } | ModelError::WrongKind { .. }) => {
            DAM_ERR_WRONG_KIND
        }
        Error::Model(m) => model_status(m),
        Error::EmptyMemory | Error::NotBipolar { .. } | Error::InvalidParameter { .. } => {
            DAM_ERR_MODEL_INVALID
        }
        // An error of a newer dam-core that C has no code for yet: the
        // model cannot be used as it is.
        _ => DAM_ERR_MODEL_INVALID,
    }
}

/// Maps a model error at initialisation to a status.
fn model_status(e: ModelError) -> DamStatus {
    match e {
        ModelError::BadMagic => DAM_ERR_MODEL_MAGIC,
        ModelError::UnknownVersion { .. } => DAM_ERR_MODEL_VERSION,
        ModelError::Length { .. } => DAM_ERR_MODEL_LENGTH,
        ModelError::Crc { .. } => DAM_ERR_MODEL_CRC,
        ModelError::Misaligned { .. } => DAM_ERR_MISALIGNED,
        ModelError::ElementType { .. }
        | ModelError::WrongKind { .. }
        | ModelError::BigEndianHost => DAM_ERR_MODEL_UNSUPPORTED,
        ModelError::Field { .. }
        | ModelError::Dims { .. }
        | ModelError::Padding { .. }
        | ModelError::Preprocessing { .. }
        | ModelError::NameOffset { .. }
        | ModelError::NameUtf8 { .. } => DAM_ERR_MODEL_INVALID,
        // A model error of a newer dam-core that C has no code for yet.
        _ => DAM_ERR_MODEL_INVALID,
    }
}

/// Maps an error of [`Prepared::new`] to a status.
fn init_status(e: Error) -> DamStatus {
    match e {
        Error::Model(m) => model_status(m),
        // The fixed-point path refuses models outside its ranges.
        Error::Overflow { .. } | Error::InvalidParameter { .. } => DAM_ERR_MODEL_UNSUPPORTED,
        e => status_of(e),
    }
}

/// The handle in `model`, or why there is none.
///
/// # Safety
/// `model` is NULL or points to a readable `DamModel` that lives for `'m`.
unsafe fn handle<'m>(model: *const DamModel) -> Result<&'m Handle<'m>, DamStatus> {
    if model.is_null() {
        return Err(DAM_ERR_NULL);
    }
    if !model.is_aligned() {
        return Err(DAM_ERR_MISALIGNED);
    }
    let slot = model.cast::<Slot>();
    // SAFETY: `model` is non-NULL, aligned and (caller) points to a
    // `DamModel`, at least as large and aligned as a `Slot`; the state word
    // is a plain `u64`, valid for any bytes.
    let state = unsafe { ptr::addr_of!((*slot).state).read() };
    if state != MAGIC {
        return Err(DAM_ERR_UNINITIALISED);
    }
    // SAFETY: the magic is written only together with a valid handle by
    // `dam_model_init` (and cleared first thing there), so the handle is
    // initialised; it borrows bytes the caller keeps alive.
    Ok(unsafe { &(*slot).handle })
}

/// `len` elements of `T` at `data` as a slice, after the checks.
///
/// # Safety
/// `data` is NULL or points to `len` readable `T` that live for `'r` and
/// are not written meanwhile.
unsafe fn input<'r, T>(data: *const T, len: usize) -> Result<&'r [T], DamStatus> {
    if data.is_null() {
        return Err(DAM_ERR_NULL);
    }
    if !data.is_aligned() {
        return Err(DAM_ERR_MISALIGNED);
    }
    if len > isize::MAX as usize / size_of::<T>().max(1) {
        return Err(DAM_ERR_INPUT_LENGTH);
    }
    // SAFETY: non-NULL, aligned, the byte length fits `isize`, and the
    // caller guarantees `len` valid elements.
    Ok(unsafe { core::slice::from_raw_parts(data, len) })
}

/// The scratch the handle needs, zeroed, as bytes.
///
/// # Safety
/// `scratch` is NULL or points to `len` writable bytes that live for `'s`
/// and are not otherwise accessed meanwhile.
unsafe fn scratch<'s>(
    clf: &Handle<'_>,
    scratch: *mut u8,
    len: usize,
) -> Result<&'s mut [u8], DamStatus> {
    if scratch.is_null() {
        return Err(DAM_ERR_NULL);
    }
    if !(scratch as usize).is_multiple_of(DAM_SCRATCH_ALIGN) {
        return Err(DAM_ERR_MISALIGNED);
    }
    let needed = clf.scratch_bytes();
    if len < needed || needed > isize::MAX as usize {
        return Err(DAM_ERR_SCRATCH_TOO_SMALL);
    }
    // SAFETY: `needed ≤ len` writable bytes (caller). Zeroing them first
    // means the slice never exposes uninitialised memory.
    unsafe {
        ptr::write_bytes(scratch, 0, needed);
        Ok(core::slice::from_raw_parts_mut(scratch, needed))
    }
}

/// Writes `value` to `out` if it is a valid pointer.
///
/// # Safety
/// `out` is NULL or points to a writable `T`.
unsafe fn put<T>(out: *mut T, value: T) -> DamStatus {
    if out.is_null() {
        return DAM_ERR_NULL;
    }
    if !out.is_aligned() {
        return DAM_ERR_MISALIGNED;
    }
    // SAFETY: non-NULL and aligned; writable (caller).
    unsafe { out.write(value) };
    DAM_OK
}

/// Turns a `Result` of statuses into one status.
fn done(r: Result<DamStatus, DamStatus>) -> DamStatus {
    r.unwrap_or_else(|e| e)
}

/// Parses and checks the model in `bytes[0..len]` (once: magic, version,
/// length, CRC-32, header, dimensions, alignment) and prepares its
/// classifier in `model`. Runs `f32` and `i8` classifiers and `f32` Potts
/// models; an `i8` model runs in `float` on targets with an FPU and hosts,
/// in fixed point on cores without one (`thumbv6m`).
///
/// The bytes are used in place: they must stay alive and unchanged as long
/// as `model` is used, and start at an address the model's memories allow
/// (`DAM_MODEL_ALIGN` is always enough; otherwise `DAM_ERR_MISALIGNED`).
/// On any error `model` is left uninitialised (other calls on it return
/// `DAM_ERR_UNINITIALISED`). Calling it again on an initialised `model`
/// replaces the handle.
///
/// # Safety
/// `model` is NULL or points to a writable `dam_model`; `bytes` is NULL or
/// points to `len` readable bytes that outlive every use of `model`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_model_init(
    model: *mut DamModel,
    bytes: *const u8,
    len: usize,
) -> DamStatus {
    if model.is_null() {
        return DAM_ERR_NULL;
    }
    if !model.is_aligned() {
        return DAM_ERR_MISALIGNED;
    }
    let slot = model.cast::<Slot>();
    // SAFETY: non-NULL, aligned for a `Slot` (asserted above), writable
    // (caller). Clearing the state first keeps a failed init uninitialised.
    unsafe { ptr::addr_of_mut!((*slot).state).write(0) };
    // SAFETY: `bytes` is NULL or points to `len` readable bytes that
    // outlive the handle (caller).
    let bytes = match unsafe { input(bytes, len) } {
        Ok(b) => b,
        Err(DAM_ERR_INPUT_LENGTH) => return DAM_ERR_MODEL_LENGTH,
        Err(e) => return e,
    };
    match Handle::only(bytes, Arithmetic::NATIVE) {
        Ok(handle) => {
            // SAFETY: as above; a whole `Slot` is written at once, the
            // state word with the handle.
            unsafe {
                slot.write(Slot {
                    state: MAGIC,
                    handle,
                })
            };
            DAM_OK
        }
        Err(e) => init_status(e),
    }
}

/// Makes the classify calls of an `i8` model skip, in its overlaps, every
/// input whose query level equals that of `raw_value` (through the model's
/// input map for the first feature, then the quantization): for images,
/// pass the value of a background pixel. The results stay the same, bit for
/// bit; the classification gets faster by the share of inputs skipped.
/// `row_sums` receives one sum per memory, computed once, here: it must
/// hold at least `K` (the model's memories) `int32_t` and stay alive and
/// unchanged as long as `model` is used. Errors:
/// `DAM_ERR_WRONG_KIND` (not an `i8` model), `DAM_ERR_OUTPUT_TOO_SMALL`
/// (`row_sums_len` below `K`), `DAM_ERR_NON_FINITE` (`raw_value` or its
/// mapped value). On an error the handle is unchanged.
///
/// # Safety
/// `model` is NULL or points to a writable `dam_model`; `row_sums` is NULL
/// or points to `row_sums_len` writable `int32_t` that outlive every use of
/// `model` and are not otherwise accessed meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_model_skip_input(
    model: *mut DamModel,
    raw_value: f32,
    row_sums: *mut i32,
    row_sums_len: usize,
) -> DamStatus {
    // SAFETY: forwarded from the caller.
    let clf = match unsafe { handle(model) } {
        Ok(clf) => *clf,
        Err(e) => return e,
    };
    if !matches!(clf.path(), Path::I8 | Path::I8Fixed) {
        return DAM_ERR_WRONG_KIND;
    }
    if row_sums.is_null() {
        return DAM_ERR_NULL;
    }
    if !row_sums.is_aligned() {
        return DAM_ERR_MISALIGNED;
    }
    let k = clf.memories();
    if row_sums_len < k {
        return DAM_ERR_OUTPUT_TOO_SMALL;
    }
    let level = match clf.level_of(0, raw_value) {
        Ok(l) => l,
        Err(e) => return status_of(e),
    };
    // SAFETY: non-NULL, aligned, `k ≤ row_sums_len` writable `i32` that
    // outlive the handle and nothing else touches (caller); `k` fits
    // `isize` since the model holds `K` memories in memory.
    let sums: &'static mut [i32] = unsafe { core::slice::from_raw_parts_mut(row_sums, k) };
    match clf.with_background(level, sums) {
        Ok(skipping) => {
            let slot = model.cast::<Slot>();
            // SAFETY: `handle` checked `model` is non-NULL, aligned and
            // initialised; writable (caller). The new handle borrows the
            // same model bytes and the caller's row sums.
            unsafe { ptr::addr_of_mut!((*slot).handle).write(skipping) };
            DAM_OK
        }
        Err(e) => status_of(e),
    }
}

/// The number of `float`s `dam_model_label_table` needs for `model`:
/// `K·Nc` for an `i8` model run in `float` (a core with an FPU), 0 for
/// the other models and for fixed point (which do not use the table); 0
/// for a NULL or uninitialised model.
///
/// # Safety
/// `model` is NULL or points to a readable `dam_model`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_label_table_len(model: *const DamModel) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle(model) }.map_or(0, |clf| clf.label_table_len())
}

/// Makes the classify calls of an `i8` model read the doubled label values
/// `2ξ^μ_α` of its memories from `table`, filled here once, instead of
/// computing them in every call. The results stay the same, bit for bit.
/// `table` must hold at least `dam_label_table_len(model)` `float`s (`K·Nc`)
/// and stay alive and unchanged as long as `model` is used; with fixed
/// point (`dam_label_table_len` 0) the handle is left as it is and `table`
/// may be NULL. Combines with `dam_model_skip_input` in either order.
/// Errors: `DAM_ERR_WRONG_KIND` (not an `i8` model), `DAM_ERR_NULL`,
/// `DAM_ERR_MISALIGNED`, `DAM_ERR_OUTPUT_TOO_SMALL` (`table_len` below
/// `dam_label_table_len(model)`). On an error the handle is unchanged.
///
/// # Safety
/// `model` is NULL or points to a writable `dam_model`; `table` is NULL or
/// points to `table_len` writable `float`s that outlive every use of
/// `model` and are not otherwise accessed meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_model_label_table(
    model: *mut DamModel,
    table: *mut f32,
    table_len: usize,
) -> DamStatus {
    // SAFETY: forwarded from the caller.
    let clf = match unsafe { handle(model) } {
        Ok(clf) => *clf,
        Err(e) => return e,
    };
    if !matches!(clf.path(), Path::I8 | Path::I8Fixed) {
        return DAM_ERR_WRONG_KIND;
    }
    let len = clf.label_table_len();
    if len == 0 {
        return DAM_OK;
    }
    if table.is_null() {
        return DAM_ERR_NULL;
    }
    if !table.is_aligned() {
        return DAM_ERR_MISALIGNED;
    }
    if table_len < len {
        return DAM_ERR_OUTPUT_TOO_SMALL;
    }
    // SAFETY: non-NULL, aligned, `len ≤ table_len` writable `f32` that
    // outlive the handle and nothing else touches (caller); `len` fits
    // `isize` since it is at most the model's `K·Nc` stored label levels.
    let table: &'static mut [f32] = unsafe { core::slice::from_raw_parts_mut(table, len) };
    match clf.with_label_table(table) {
        Ok(tabled) => {
            let slot = model.cast::<Slot>();
            // SAFETY: `handle` checked `model` is non-NULL, aligned and
            // initialised; writable (caller). The new handle borrows the
            // same model bytes and the caller's table.
            unsafe { ptr::addr_of_mut!((*slot).handle).write(tabled) };
            DAM_OK
        }
        Err(e) => status_of(e),
    }
}

/// The scratch bytes the classify calls need for `model` (at an address
/// aligned to `DAM_SCRATCH_ALIGN`); 0 for a NULL or uninitialised model.
///
/// # Safety
/// `model` is NULL or points to a readable `dam_model`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_scratch_bytes(model: *const DamModel) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle(model) }.map_or(0, |clf| clf.scratch_bytes())
}

/// The number of input features `Nv` a query has; 0 for a NULL or
/// uninitialised model.
///
/// # Safety
/// `model` is NULL or points to a readable `dam_model`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_model_inputs(model: *const DamModel) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { handle(model) }.map_or(0, |clf| clf.model().header().nv)
}

/// The number of memories `K` (the `row_sums` of `dam_model_skip_input`
/// hold as many); 0 for a NULL or uninitialised model.
///
/// # Safety
/// `model` is NULL or points to a readable `dam_model`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_model_memories(model: *const DamModel) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { handle(model) }.map_or(0, |clf| clf.model().header().k)
}

/// The number of classes `Nc`; 0 for a NULL or uninitialised model.
///
/// # Safety
/// `model` is NULL or points to a readable `dam_model`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_model_classes(model: *const DamModel) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { handle(model) }.map_or(0, |clf| clf.model().header().nc)
}

/// Writes the label the model stores for class `class_index` (e.g. the
/// digit) to `*out`. Errors: `DAM_ERR_OUT_OF_RANGE` if `class_index` is not
/// below `dam_model_classes(model)` or the label does not fit `int32_t` (a
/// version-1 label above `INT32_MAX`).
///
/// # Safety
/// `model` is NULL or points to a readable `dam_model`; `out` is NULL or
/// points to a writable `int32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_class_label(
    model: *const DamModel,
    class_index: u32,
    out: *mut i32,
) -> DamStatus {
    // SAFETY: forwarded from the caller.
    let clf = match unsafe { handle(model) } {
        Ok(clf) => clf,
        Err(e) => return e,
    };
    let label = clf
        .label_value(class_index as usize)
        .and_then(|l| i32::try_from(l).ok());
    match label {
        // SAFETY: forwarded from the caller.
        Some(l) => unsafe { put(out, l) },
        None if out.is_null() => DAM_ERR_NULL,
        None => DAM_ERR_OUT_OF_RANGE,
    }
}

/// Classifies the raw features `input[0..len]` (`len` must be
/// `dam_model_inputs(model)`): the model's stored input map applied if it
/// has one, quantized for an `i8` model, then the forward pass. Writes the
/// class index (below `dam_model_classes(model)`) to `*class_out`;
/// `dam_class_label` gives its label. `scratch`: `scratch_len ≥
/// dam_scratch_bytes(model)` bytes aligned to `DAM_SCRATCH_ALIGN`, any
/// contents, overwritten.
///
/// # Safety
/// `model` is NULL or points to a readable `dam_model` (whose model bytes
/// are still alive); each other pointer is NULL or points to as many valid
/// elements as its length says, not overlapping the others.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_classify_f32(
    model: *const DamModel,
    input: *const f32,
    len: usize,
    scratch: *mut core::ffi::c_void,
    scratch_len: usize,
    class_out: *mut u32,
) -> DamStatus {
    let run = |clf: &Handle<'_>, v: &[f32], s: &mut [u8]| clf.classify(v, s);
    // SAFETY: forwarded from the caller.
    done(unsafe { classify(model, (input, len), (scratch, scratch_len), class_out, run) })
}

/// [`dam_classify_f32`] for an `i8` model, from a query already mapped and
/// quantized to levels (`len` = `dam_model_inputs(model)`). Errors:
/// `DAM_ERR_WRONG_KIND` if the model is not `i8`, and those of
/// [`dam_classify_f32`].
///
/// # Safety
/// As [`dam_classify_f32`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_classify_i8(
    model: *const DamModel,
    input: *const i8,
    len: usize,
    scratch: *mut core::ffi::c_void,
    scratch_len: usize,
    class_out: *mut u32,
) -> DamStatus {
    let run = |clf: &Handle<'_>, v: &[i8], s: &mut [u8]| clf.classify_i8(v, s);
    // SAFETY: forwarded from the caller.
    done(unsafe { classify(model, (input, len), (scratch, scratch_len), class_out, run) })
}

/// The classify calls: checks the handle, the output pointer, the input
/// and the scratch, then `run`s the handle's method on them.
///
/// # Safety
/// As [`dam_classify_f32`].
unsafe fn classify<T>(
    model: *const DamModel,
    (input, len): (*const T, usize),
    (scratch, scratch_len): (*mut core::ffi::c_void, usize),
    class_out: *mut u32,
    run: impl FnOnce(&Handle<'_>, &[T], &mut [u8]) -> dam_core::Result<usize>,
) -> Result<DamStatus, DamStatus> {
    // SAFETY: forwarded from the caller.
    let clf = unsafe { handle(model) }?;
    if class_out.is_null() {
        return Err(DAM_ERR_NULL);
    }
    // SAFETY: forwarded from the caller.
    let input = unsafe { self::input(input, len) }?;
    // SAFETY: forwarded from the caller.
    let s = unsafe { self::scratch(clf, scratch.cast::<u8>(), scratch_len) }?;
    let class = run(clf, input, s).map_err(status_of)?;
    // Below `Nc`, a `u32`.
    let class = u32::try_from(class).map_err(|_| DAM_ERR_OUT_OF_RANGE)?;
    // SAFETY: forwarded from the caller.
    Ok(unsafe { put(class_out, class) })
}

/// Writes one score per class of the raw features `input[0..len]` to
/// `scores[0..dam_model_classes(model)]` (`scores_len` may be larger; the
/// rest is untouched): `c ∈ [−1, 1]` for a classifier, the posterior
/// probability for a Potts model. Input, scratch and errors as
/// [`dam_classify_f32`]; `DAM_ERR_OUTPUT_TOO_SMALL` if `scores_len` is
/// short.
///
/// # Safety
/// As [`dam_classify_f32`], with `scores` NULL or pointing to
/// `scores_len` writable `float`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dam_scores(
    model: *const DamModel,
    input: *const f32,
    len: usize,
    scratch: *mut core::ffi::c_void,
    scratch_len: usize,
    scores: *mut f32,
    scores_len: usize,
) -> DamStatus {
    let run = || {
        // SAFETY: forwarded from the caller.
        let clf = unsafe { handle(model) }?;
        if scores.is_null() {
            return Err(DAM_ERR_NULL);
        }
        if !scores.is_aligned() {
            return Err(DAM_ERR_MISALIGNED);
        }
        let nc = clf.classes();
        if scores_len < nc {
            return Err(DAM_ERR_OUTPUT_TOO_SMALL);
        }
        // SAFETY: forwarded from the caller.
        let raw = unsafe { self::input(input, len) }?;
        // SAFETY: forwarded from the caller.
        let s = unsafe { self::scratch(clf, scratch.cast::<u8>(), scratch_len) }?;
        // SAFETY: non-NULL, aligned, `nc ≤ scores_len` writable floats
        // (caller), `nc` is a `u32` so the byte length fits `isize`; any
        // bits are a valid `f32`, written before being read.
        let out = unsafe { core::slice::from_raw_parts_mut(scores, nc) };
        clf.scores(raw, s, out).map_err(status_of)?;
        Ok(DAM_OK)
    };
    done(run())
}

/// A short English description of a status, as a static NUL-terminated
/// string; never NULL (an unknown value gives "unknown status").
#[unsafe(no_mangle)]
pub extern "C" fn dam_status_str(status: i32) -> *const c_char {
    let s: &'static core::ffi::CStr = match DamStatus::from_code(status) {
        Some(DAM_OK) => c"ok",
        Some(DAM_ERR_NULL) => c"a pointer argument is NULL",
        Some(DAM_ERR_MISALIGNED) => c"a pointer is not aligned for its type",
        Some(DAM_ERR_UNINITIALISED) => c"the dam_model is not initialised",
        Some(DAM_ERR_SCRATCH_TOO_SMALL) => {
            c"the scratch buffer is smaller than dam_scratch_bytes()"
        }
        Some(DAM_ERR_INPUT_LENGTH) => c"the input length is not dam_model_inputs()",
        Some(DAM_ERR_OUTPUT_TOO_SMALL) => c"the scores buffer is smaller than dam_model_classes()",
        Some(DAM_ERR_NON_FINITE) => c"an input is NaN or infinite",
        Some(DAM_ERR_OVERFLOW) => c"a score overflows float",
        Some(DAM_ERR_WRONG_KIND) => {
            c"the call does not fit the model (an i8 call on a float model)"
        }
        Some(DAM_ERR_MODEL_MAGIC) => c"not a dam model (bad magic)",
        Some(DAM_ERR_MODEL_VERSION) => c"unknown model format version",
        Some(DAM_ERR_MODEL_LENGTH) => {
            c"model length differs from the declared one (truncated or trailing bytes)"
        }
        Some(DAM_ERR_MODEL_CRC) => c"model CRC mismatch (corrupt bytes)",
        Some(DAM_ERR_MODEL_INVALID) => c"invalid model header, dimensions or sections",
        Some(DAM_ERR_MODEL_UNSUPPORTED) => c"model kind or element type not supported here",
        Some(DAM_ERR_OUT_OF_RANGE) => c"class index or label out of range",
        None => c"unknown status",
    };
    s.as_ptr()
}

/// Every status, in code order.
const ALL_STATUSES: [DamStatus; 17] = [
    DAM_OK,
    DAM_ERR_NULL,
    DAM_ERR_MISALIGNED,
    DAM_ERR_UNINITIALISED,
    DAM_ERR_SCRATCH_TOO_SMALL,
    DAM_ERR_INPUT_LENGTH,
    DAM_ERR_OUTPUT_TOO_SMALL,
    DAM_ERR_NON_FINITE,
    DAM_ERR_OVERFLOW,
    DAM_ERR_WRONG_KIND,
    DAM_ERR_MODEL_MAGIC,
    DAM_ERR_MODEL_VERSION,
    DAM_ERR_MODEL_LENGTH,
    DAM_ERR_MODEL_CRC,
    DAM_ERR_MODEL_INVALID,
    DAM_ERR_MODEL_UNSUPPORTED,
    DAM_ERR_OUT_OF_RANGE,
];

impl DamStatus {
    /// The status with code `code`, if there is one (a C caller may pass
    /// any `int32_t`, so codes are matched, never transmuted).
    pub fn from_code(code: i32) -> Option<DamStatus> {
        ALL_STATUSES.iter().copied().find(|&s| s as i32 == code)
    }
}

/// The panic handler of bare-metal builds (a `no_std` staticlib needs
/// one): never reached, since no entry point has a reachable panic. Built
/// with `--cfg dam_no_panic_proof` (as `boards/no-panic` does), it calls a
/// function that does not exist, so a reachable panic fails the link.
#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    #[cfg(dam_no_panic_proof)]
    {
        unsafe extern "C" {
            fn dam_core_panic_is_reachable() -> !;
        }
        // SAFETY: never called in a successful build: the symbol does not
        // exist, so any reference to this handler fails the link.
        unsafe { dam_core_panic_is_reachable() }
    }
    #[cfg(not(dam_no_panic_proof))]
    loop {
        core::hint::spin_loop();
    }
}
