//! Datasets and arrays: IDX files (raw or gzip), `.npy` arrays, and MNIST.

pub mod dataset;
pub mod idx;
pub mod mnist;
pub mod npy;
pub mod split;
pub mod table;

pub use split::Split;
