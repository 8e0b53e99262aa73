//! Potts hidden units \[TT\] (math.md §7): training by constrained SGD,
//! supervised or with latent classes, the `ς` regularization, growth by
//! splitting through the saddle hierarchy. Design and measurements:
//! `docs/potts.md`.
//!
//! | module | what |
//! |---|---|
//! | [`params`] | memories, class-weight and prior logits; the model file |
//! | [`batch`] | forward pass, loss and gradient of a chunk of samples |
//! | `figure` | memories with their soft labels (\[TT\] Figure 4), accuracy against operations (feature `plot`) |
//! | [`growth`] | splitting directions, the Hessian probe, growth and the growth-versus-direct comparison |
//! | [`patches`] | random square patches (the unsupervised setting) |
//! | [`train`] | the constrained SGD epochs, evaluation of both readouts |

pub mod batch;
pub mod defaults;
#[cfg(feature = "plot")]
pub mod figure;
pub mod growth;
pub mod params;
pub mod patches;
pub mod train;

pub use growth::{Comparison, Report, growth_vs_direct};
pub use params::Params;
pub use train::{Accuracy, Config, Constraint, Init, Task, Trainer, evaluate};
