//! The papers' experiments as one-command reproductions (`dam experiment
//! <name>`): each measures, prints a table and draws a labelled PNG. Pages
//! with the figures and the measured numbers are in `docs/experiments/`.
//!
//! | module | experiment |
//! |---|---|
//! | [`capacity`] | \[KH16\]: largest number of stable random memories against `D` |
//! | [`completion`] | occluded MNIST memories completed by the bipolar, log-sum-exp and DrDAM memories |
//! | [`prototype`] | \[KH16\]: features at small `n`, prototypes at large `n` on MNIST |
//! | [`hyperparameters`] | \[McA\]: inverse temperature × learning rate maps, raw and normalized |
//! | [`figure`] | the labelled log–log charts and heatmaps they draw |
//!
//! `dam experiment drdam-error` reuses [`crate::drdam_error`].

pub mod capacity;
pub mod completion;
pub mod figure;
pub mod hyperparameters;
pub mod prototype;
