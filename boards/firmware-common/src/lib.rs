//! The test-vector check every board firmware runs (`boards/README.md`).
//!
//! A trained model (the `MODEL` of `build.rs`, `boards/data/mnist-k120.i8.dam`,
//! or `DAM_BOARD_MODEL`: any classifier within the buffer sizes) and the
//! test vectors that `dam predict` writes for it from any dataset
//! (`boards/data/vectors/`, or `DAM_BOARD_VECTORS`) are embedded in flash;
//! [`vectors_check`] feeds every embedded row's raw values through the
//! model's stored input map and `dam-core`'s classifier straight from the
//! model bytes (i8: `QuantizedClassifier<i8>` with an FPU,
//! `FixedClassifier` without; f32: `Classifier<f32>`), counts the correct
//! answers and compares every prediction with the host's for the same
//! classifier (f32: in this target's floating-point order,
//! `dam_std::firmware::SumOrder`): they must all be equal.
#![no_std]

mod check;
mod clock;
#[cfg(feature = "defmt")]
mod probe;
#[cfg(feature = "semihosting")]
mod semihosting;
mod stack;
mod vectors;

pub use check::{Failure, Mismatch, Outcome, vectors_check};
pub use clock::{Clock, NoClock, SysTickClock};
#[cfg(feature = "defmt")]
pub use probe::probe_vectors_check;
#[cfg(feature = "semihosting")]
pub use semihosting::{exit, qemu_vectors_check};
pub use stack::stack_used;
pub use vectors::SUM_ORDER;

/// For the handlers that [`semihosting_handlers!`] expands to.
#[cfg(feature = "semihosting")]
#[doc(hidden)]
pub use cortex_m_semihosting as __semihosting;
