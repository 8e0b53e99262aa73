//! # dam-core
//!
//! Dense Associative Memory (modern Hopfield network) retrieval for
//! microcontrollers and desktops alike: `#![no_std]`, no allocator, no panics
//! on any input, and no `Inf` or `NaN` out of any public function.
//!
//! | model | type | `docs/math.md` |
//! |---|---|---|
//! | bipolar autoassociative memory \[KH16, McA\] | [`BipolarMemory`] | §3 |
//! | one-step classifier \[KH16, McA\] | [`Classifier`] | §4 |
//! | continuous log-sum-exp memory \[DrDAM\] | [`LseMemory`] | §5 |
//! | random-feature memory \[DrDAM\] | [`DrDam`] | §6 |
//! | Potts hidden unit, soft labels \[TT\] | [`PottsClassifier`] | §7 |
//!
//! Firmware that classifies with a model file runs the classifiers through
//! one handle, [`Prepared`]: parse once, then one call per query.
//!
//! All are generic over [`Real`] (`f32`, `f64`), read their memories through a
//! validated, borrowed [`MemoryView`] (a `static` array in flash works), take
//! every buffer they need from the caller, and return [`Error`] for bad input.
//!
//! ## Overflow
//! \[KH16\] evaluates `F(ξ·x)` directly; with `D = 794` that overflows `f32`
//! from `n = 14`. Every model here takes a [`Form`]: [`Form::Raw`] reproduces
//! the paper (and reports [`Error::Overflow`] where it would overflow),
//! [`Form::Normalized`] evaluates `F(β ξ·x / D)` \[McA\] through
//! [`InteractionSum`], which cannot overflow for any `n` or `D`.
//!
//! ## Example: recall a corrupted pattern
//! ```
//! use dam_core::{BipolarMemory, Form, Interaction, MemoryView, Stop, UpdateOrder};
//!
//! // Three memories of dimension 8, stored row-major (could be a `static` in flash).
//! let xi: [f32; 24] = [
//!      1.,  1.,  1.,  1., -1., -1., -1., -1.,
//!      1., -1.,  1., -1.,  1., -1.,  1., -1.,
//!     -1., -1.,  1.,  1., -1., -1.,  1.,  1.,
//! ];
//! let net = BipolarMemory::new(
//!     MemoryView::new(&xi, 3, 8)?,
//!     Interaction::Polynomial { n: 3 },
//!     Form::Normalized { beta: 1.0 },
//! )?;
//! let mut state = [1i8, -1, 1, -1, 1, -1, -1, -1]; // memory 1 with two bits flipped
//! let mut overlaps = [0.0f32; 3]; // caller-provided scratch: no allocation
//! let r = net.retrieve(&mut state, &mut overlaps, UpdateOrder::Sequential, 10)?;
//! assert_eq!(state, [1, -1, 1, -1, 1, -1, 1, -1]);
//! assert_eq!(r.stop, Stop::FixedPoint);
//! # Ok::<(), dam_core::Error>(())
//! ```
//!
//! ## Features
//! - `defmt`: derive `defmt::Format` on public types.
//! - `nalgebra`: [`MemoryView::from_nalgebra_columns`] borrows a contiguous
//!   `nalgebra` matrix.
//!
//! Papers: \[KH16\] Krotov & Hopfield 2016; \[McA\] McAlister, Robins &
//! Szymanski 2024; \[DrDAM\] Hoover et al. 2024.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]
// A panic in firmware is a reset: keep every panicking construct out of
// library code (tests may use them).
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

pub mod bipolar;
pub mod classifier;
pub mod drdam;
pub mod energy;
pub mod error;
pub mod forward;
pub mod interaction;
mod isa;
pub mod lse;
pub mod memory;
pub mod model;
pub mod potts;
pub mod prepared;
pub mod quantized;
pub mod real;
pub mod simd;
#[cfg(test)]
mod test_config;
// The sine/cosine that DrDAM's features use: public for dam-std's batched
// features and the no-panic proof, not a user-facing API.
#[doc(hidden)]
pub mod trig;
pub mod wide;

pub use bipolar::{BipolarMemory, PackedBipolar, Retrieval, Stop, UpdateOrder};
pub use classifier::Classifier;
pub use drdam::{DrDam, Projection, SeededProjection, StoredProjection};
pub use energy::Descent;
pub use energy::EnergyModel;
pub use error::{Error, Operand, Param, Quantity, Result};
pub use forward::Forward;
pub use interaction::{Form, Interaction, InteractionSum, MAX_DEGREE};
pub use lse::{LseMemory, Similarity};
pub use memory::{Memories, MemoryView};
pub use potts::PottsClassifier;
pub use prepared::{ALL_PATHS, Arithmetic, LABEL_TABLE_ONLY, Path, Prepared, Scratch};
pub use real::Real;
pub use wide::Wide;

/// `iter.enumerate()` without the overflow check on the count, which the
/// optimizer cannot always remove (overflow checks are on in the no-panic
/// proof): the indices come from the range `0..usize::MAX`, and every
/// iterator indexed here walks a slice, so it ends first.
pub(crate) fn indexed<I: IntoIterator>(
    iter: I,
) -> core::iter::Zip<core::ops::Range<usize>, I::IntoIter> {
    (0..usize::MAX).zip(iter)
}
