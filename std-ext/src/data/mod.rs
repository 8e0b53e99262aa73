//! Datasets and arrays: IDX files (raw or gzip), `.npy` and `.npz` arrays,
//! delimited text, and MNIST; [`source`] detects a user's format and reads
//! it into a [`table::Table`]; [`dataset`] splits and scales it for training;
//! [`shipped`] finds the data that come with `dam` at run time.

pub mod csv;
pub mod dataset;
pub mod idx;
pub mod mnist;
pub mod npy;
pub mod npz;
pub mod shipped;
pub mod source;
pub mod split;
pub mod table;

pub use split::Split;

/// Opens `path` for buffered reading, with its length in bytes (errors:
/// "cannot read PATH").
pub(crate) fn open_sized(
    path: &std::path::Path,
) -> anyhow::Result<(std::io::BufReader<std::fs::File>, usize)> {
    use anyhow::Context;
    let cannot = || format!("cannot read {}", path.display());
    let file = std::fs::File::open(path).with_context(cannot)?;
    let len = file.metadata().with_context(cannot)?.len();
    Ok((
        std::io::BufReader::new(file),
        usize::try_from(len).unwrap_or(usize::MAX),
    ))
}
