//! Datasets and arrays: IDX files (raw or gzip), `.npy` and `.npz` arrays,
//! delimited text, and MNIST; [`source`] detects a user's format and reads
//! it into a [`table::Table`]; [`dataset`] splits and scales it for training.

pub mod csv;
pub mod dataset;
pub mod idx;
pub mod mnist;
pub mod npy;
pub mod npz;
pub mod source;
pub mod split;
pub mod table;

pub use split::Split;
