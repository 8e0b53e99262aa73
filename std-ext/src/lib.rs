//! # dam-std
//!
//! The desktop half of `dam`: experiments, training, dataset and model IO,
//! the library behind the `dam` command-line program (crate `dam-cli`).
//! Everything numerical is delegated to
//! [`dam_core`]; this crate adds allocation, threads, files and errors with
//! context a person can act on.
//!
//! | module | what |
//! |---|---|
//! | [`batch`] | multi-threaded batch classification (rayon) |
//! | [`data`] | datasets in every format (IDX, `.npy`, `.npz`, CSV/TSV), class maps, stratified splits, input maps fitted on the training split |
//! | [`train`] | \[KH16\] classifier and \[McA\] autoassociative training, settings derived from the data, the notebook's optimizer, checkpointed runs with model selection |
//! | [`output`] | the write discipline: outputs never overwrite inputs, one run per training directory, stale temporary files removed |
//! | [`model_io`] | the model-file writer (atomic) and aligned loading for [`dam_core::model`] |
//! | [`quantize`], [`export`] | i8/i16 quantization, evaluation through the firmware's forward pass, `dam export` |
//! | [`families`] | retrieval and energies of every memory family over many queries |
//! | `plot` | PNG memory grids and training curves (feature `plot`) |
//! | [`demo`] | the random-pattern capacity table (`dam capacity`) |
//! | `experiments` | the papers' experiments with labelled figures (`dam experiment`; feature `plot`) |
//! | [`firmware`] | test vectors for the board firmware: images and the predictions each board must reproduce (`dam predict`) |
//! | [`learn_board`] | the on-device learning board (`boards/drdam-learn`): store, complete, forget with DrDAM, and the vectors it checks itself against |
//!
//! Features: `plot` (off by default) adds the PNG figures, `plot`,
//! `experiments` and `potts::figure`, and the `plotters` dependency they
//! need.
//!
//! ```no_run
//! // Train the notebook's classifier for one epoch on the shipped MNIST.
//! use dam_std::data::mnist;
//! use dam_std::train::kh16::{Config, Trainer, evaluate};
//! let data = mnist::load(&mnist::default_dir()?)?;
//! let mut t = Trainer::new(Config::default(), data.train.dim, mnist::CLASSES)?;
//! t.run_epoch(&data.train, &|| false)?;
//! println!("test accuracy {:.2}%", 100.0 * evaluate(&t.net()?, &data.test)?.accuracy);
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod batch;
pub mod data;
pub mod demo;
pub mod drdam_batch;
pub mod drdam_error;
#[cfg(feature = "plot")]
pub mod experiments;
pub mod export;
pub mod families;
pub mod firmware;
pub mod learn_board;
pub mod model_io;
pub mod output;
pub mod patterns;
#[cfg(feature = "plot")]
pub mod plot;
pub mod potts;
pub mod quantize;
pub mod train;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
