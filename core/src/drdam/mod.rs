//! Random-feature Dense Associative Memory ("DrDAM", math.md §6) \[DrDAM\].
//!
//! The Gaussian kernel `exp(−(β/2)‖x − ξ‖²)` is approximated by
//! `φ(x)·φ(ξ)` with trigonometric random features
//! `φ(x) = Y^(−1/2) [cos(√β S x); sin(√β S x)]`, `S ∈ R^(Y×D)` with i.i.d.
//! `N(0, 1)` entries. The whole memory is one vector `T = Σ_μ φ(ξ^μ)` of
//! length `2Y`: storing a pattern adds `φ(ξ)`, forgetting one subtracts it,
//! and neither the size nor the cost of retrieval grows with the number of
//! patterns.
//!
//! The projection `S` comes from a [`Projection`]: a caller-provided buffer
//! ([`StoredProjection`], `O(Y·D)` memory, fastest) or a seed
//! ([`SeededProjection`], rows regenerated on demand by Philox4x32-10, `O(D)`
//! scratch, bit-identical on every target).

mod memory;
mod philox;
mod projection;

pub use memory::DrDam;
pub use philox::philox4x32_10;
pub use projection::{Projection, SeededProjection, StoredProjection, gaussian_pair};
