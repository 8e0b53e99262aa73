//! Training (math.md §4): the \[KH16\] one-step classifier, the shared optimizer
//! of the authors' notebook, and the batched overlaps both use.

pub mod augment;
pub mod defaults;
pub mod foreground;
pub mod kh16;
pub mod mca;
pub mod optimizer;
pub mod overlaps;
pub mod paired;
pub mod select;
pub mod session;
pub mod settings;
pub mod tanh;
