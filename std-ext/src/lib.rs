//! # dam-std
//!
//! The desktop half of `dam`: experiments, training, dataset and model IO,
//! and the `dam` command-line program. Everything numerical is delegated to
//! [`dam_core`]; this crate adds allocation, threads, files and errors with
//! context a person can act on.

pub mod demo;
pub mod patterns;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
