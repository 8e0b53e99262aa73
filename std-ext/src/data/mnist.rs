//! MNIST: the four IDX files, pixels scaled to `[−1, 1]` as in math.md §4.
//!
//! The repository ships them in `data/mnist/` (gzip); any directory holding
//! `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
//! `t10k-images-idx3-ubyte[.gz]` and `t10k-labels-idx1-ubyte[.gz]` works.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

pub use super::split::Split;
use super::{idx, shipped};

/// The number of classes.
pub const CLASSES: usize = 10;

/// The shipped copy, `data/mnist/`: found through `DAM_DATA` or upwards
/// from the running program ([`shipped::find`]).
///
/// ```no_run
/// let dir = dam_std::data::mnist::default_dir()?;
/// assert!(dir.ends_with("mnist"));
/// # Ok::<(), dam_std::data::shipped::NotFound>(())
/// ```
pub fn default_dir() -> Result<PathBuf, shipped::NotFound> {
    shipped::find("mnist")
}

/// The input value of a pixel byte: `2·p/255 − 1`, in `[−1, 1]`.
///
/// ```
/// use dam_std::data::mnist::pixel_value;
/// assert_eq!((pixel_value(0), pixel_value(255)), (-1.0, 1.0));
/// ```
pub fn pixel_value(p: u8) -> f32 {
    f32::from(p) * (2.0 / 255.0) - 1.0
}

/// A split as stored: pixel bytes and labels, checked by
/// [`load_raw_split`] to hold `labels.len()` images of `dim` pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSplit {
    /// `labels.len() × dim` pixel bytes, row-major.
    pub pixels: Vec<u8>,
    /// One class per image.
    pub labels: Vec<u8>,
    /// Pixels per image.
    pub dim: usize,
    /// The label file, for error messages.
    pub name: String,
}

impl RawSplit {
    /// The images as [`pixel_value`]s (checks the labels).
    pub fn to_split(&self) -> Result<Split> {
        Split::from_bytes(&self.pixels, &self.labels, self.dim, &self.name)
    }
}

impl Split {
    /// Builds a split from raw bytes, checking counts and labels. `name`
    /// (usually the label file) is used in error messages.
    ///
    /// ```
    /// use dam_std::data::mnist::Split;
    /// let s = Split::from_bytes(&[0, 255, 128, 0], &[3, 9], 2, "t")?;
    /// assert_eq!((s.len(), s.image(0)), (2, &[-1.0f32, 1.0][..]));
    /// assert!(Split::from_bytes(&[0, 255], &[3, 9], 2, "t").is_err()); // 1 image, 2 labels
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn from_bytes(pixels: &[u8], labels: &[u8], dim: usize, name: &str) -> Result<Self> {
        if dim == 0 || !pixels.len().is_multiple_of(dim) {
            bail!(
                "{name}: {} pixels do not split into images of {dim}",
                pixels.len()
            );
        }
        let n = pixels.len() / dim;
        if n != labels.len() {
            bail!("{name}: {} labels for {n} images", labels.len());
        }
        if let Some(i) = labels.iter().position(|&l| usize::from(l) >= CLASSES) {
            bail!(
                "{name}: label {} of image {i} (byte offset {}) is not in 0..{CLASSES}",
                labels[i],
                8 + i
            );
        }
        Ok(Split {
            images: pixels.iter().map(|&p| pixel_value(p)).collect(),
            labels: labels.iter().map(|&l| u16::from(l)).collect(),
            dim,
        })
    }
}

/// The training and test splits.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// 60,000 training images.
    pub train: Split,
    /// 10,000 test images.
    pub test: Split,
}

/// Loads MNIST from `dir` (see the module docs for the file names).
///
/// ```no_run
/// let m = dam_std::data::mnist::load(&dam_std::data::mnist::default_dir()?)?;
/// assert_eq!((m.train.len(), m.test.len(), m.train.dim), (60_000, 10_000, 784));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn load(dir: &Path) -> Result<Mnist> {
    Ok(Mnist {
        train: load_split(dir, "train")?,
        test: load_split(dir, "t10k")?,
    })
}

/// Loads one split (`prefix` is `train` or `t10k`).
pub fn load_split(dir: &Path, prefix: &str) -> Result<Split> {
    load_raw_split(dir, prefix)?.to_split()
}

/// Loads one split as bytes (`prefix` is `train` or `t10k`), checking the
/// IDX dimensions.
pub fn load_raw_split(dir: &Path, prefix: &str) -> Result<RawSplit> {
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = idx::read(&images_path)?;
    let labels = idx::read(&labels_path)?;
    let dim = match images.dims.as_slice() {
        [_, h, w] => h * w,
        d => bail!(
            "{}: expected 3 dimensions (count, rows, columns), got {d:?}",
            images_path.display()
        ),
    };
    // An empty split would "train" an untouched model and report 0 %.
    if images.data.is_empty() {
        bail!(
            "{}: no images (dimensions {:?})",
            images_path.display(),
            images.dims
        );
    }
    if labels.dims.len() != 1 {
        bail!(
            "{}: expected 1 dimension, got {:?}",
            labels_path.display(),
            labels.dims
        );
    }
    if images.dims[0] != labels.dims[0] {
        bail!(
            "{} has {} labels but {} has {} images",
            labels_path.display(),
            labels.dims[0],
            images_path.display(),
            images.dims[0]
        );
    }
    Ok(RawSplit {
        pixels: images.data,
        labels: labels.data,
        dim,
        name: labels_path.display().to_string(),
    })
}

fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!(
        "{}: no {stem}.gz or {stem} (MNIST directory expected; see --data)",
        dir.display()
    )
}
