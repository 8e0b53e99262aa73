//! The MNIST check every board firmware runs (`boards/README.md`).
//!
//! A trained model (the `MODEL` of `build.rs`, `boards/data/mnist-k120.i8.dam`,
//! or `DAM_BOARD_MODEL`) and the test vectors that `dam predict` writes
//! (`boards/data/vectors/`) are embedded in flash; [`mnist_check`]
//! classifies every embedded image with `dam-core`'s classifier straight
//! from the model bytes (i8: `QuantizedClassifier<i8>` with an FPU,
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

pub use check::{Failure, Mismatch, Outcome, mnist_check};
pub use clock::{Clock, NoClock, SysTickClock};
#[cfg(feature = "defmt")]
pub use probe::probe_mnist_check;
#[cfg(feature = "semihosting")]
pub use semihosting::{exit, qemu_mnist_check};
pub use stack::stack_used;
pub use vectors::SUM_ORDER;

/// For the handlers that [`semihosting_handlers!`] expands to.
#[cfg(feature = "semihosting")]
#[doc(hidden)]
pub use cortex_m_semihosting as __semihosting;
