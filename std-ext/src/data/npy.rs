//! `.npy` arrays of `f32`, `f64`, `u8` or `i8` (C order), so memories and
//! queries move to and from NumPy, PyTorch and JAX.

use std::path::Path;

use anyhow::{Context, Result, bail};
use npyz::WriterBuilder;

/// The entries of an array, by element type.
#[derive(Debug, Clone, PartialEq)]
pub enum Elements {
    /// `<f4`.
    F32(Vec<f32>),
    /// `<f8`.
    F64(Vec<f64>),
    /// `|u1`.
    U8(Vec<u8>),
    /// `|i1`.
    I8(Vec<i8>),
}

impl Elements {
    /// The number of entries.
    pub fn len(&self) -> usize {
        match self {
            Elements::F32(v) => v.len(),
            Elements::F64(v) => v.len(),
            Elements::U8(v) => v.len(),
            Elements::I8(v) => v.len(),
        }
    }

    /// `true` if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry as `f64` (exact for all four types).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            Elements::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Elements::F64(v) => v.clone(),
            Elements::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Elements::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
        }
    }
}

/// An n-dimensional array in C (row-major) order.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use dam_std::data::npy::{Elements, NpyArray};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("m.npy");
/// let a = NpyArray { shape: vec![2, 2], data: Elements::I8(vec![1, -1, -1, 1]) };
/// a.write(&path)?;
/// assert_eq!(NpyArray::read(&path)?, a);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The entries, row-major.
    pub data: Elements,
}

impl NpyArray {
    /// Reads a C-order `.npy` file of `f32`, `f64`, `u8` or `i8`.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&bytes).with_context(|| format!("{}: not a usable .npy file", path.display()))
    }

    /// Parses the bytes of a `.npy` file.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let npy = npyz::NpyFile::new(bytes).context("bad .npy header")?;
        if npy.order() != npyz::Order::C {
            bail!("Fortran-order arrays are not supported; save with np.ascontiguousarray");
        }
        let shape = npy
            .shape()
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<_>, _>>()
            .context("a dimension does not fit in usize")?;
        let dtype = npy.dtype().descr();
        let data = match dtype.as_str() {
            "'<f4'" => Elements::F32(npy.into_vec().context("truncated data")?),
            "'<f8'" => Elements::F64(npy.into_vec().context("truncated data")?),
            "'|u1'" | "'<u1'" => Elements::U8(npy.into_vec().context("truncated data")?),
            "'|i1'" | "'<i1'" => Elements::I8(npy.into_vec().context("truncated data")?),
            other => bail!("unsupported dtype {other} (use float32, float64, uint8 or int8)"),
        };
        Ok(NpyArray { shape, data })
    }

    /// Serializes to `.npy` bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let shape: Vec<u64> = self.shape.iter().map(|&d| d as u64).collect();
        let expected: usize = self.shape.iter().product();
        if expected != self.data.len() {
            bail!(
                "shape {:?} needs {expected} entries, the array has {}",
                self.shape,
                self.data.len()
            );
        }
        let mut out = Vec::new();
        fn put<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
            out: &mut Vec<u8>,
            shape: &[u64],
            v: &[T],
        ) -> Result<()> {
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(shape)
                .writer(out)
                .begin_nd()?;
            w.extend(v.iter().copied())?;
            w.finish()?;
            Ok(())
        }
        match &self.data {
            Elements::F32(v) => put(&mut out, &shape, v)?,
            Elements::F64(v) => put(&mut out, &shape, v)?,
            Elements::U8(v) => put(&mut out, &shape, v)?,
            Elements::I8(v) => put(&mut out, &shape, v)?,
        }
        Ok(out)
    }

    /// Writes the array atomically (temporary file, then rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::model_io::write_atomic(path, &self.to_bytes()?)
    }

    /// The array as a `rows × cols` matrix of finite `f64` (a 1-D array is
    /// one row). Errors name the file, the shape or the first non-finite entry.
    ///
    /// ```
    /// use dam_std::data::npy::{Elements, NpyArray};
    /// let a = NpyArray { shape: vec![3], data: Elements::F32(vec![1.0, f32::NAN, 0.0]) };
    /// let err = a.matrix("q.npy").unwrap_err().to_string();
    /// assert!(err.contains("q.npy") && err.contains("row 0, column 1"));
    /// ```
    pub fn matrix(&self, name: &str) -> Result<(usize, usize, Vec<f64>)> {
        let (rows, cols) = match self.shape.as_slice() {
            [c] => (1, *c),
            [r, c] => (*r, *c),
            s => bail!("{name}: expected a 1-D or 2-D array, got shape {s:?}"),
        };
        if rows == 0 || cols == 0 {
            bail!("{name}: empty array of shape {:?}", self.shape);
        }
        let v = self.data.to_f64();
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            bail!(
                "{name}: non-finite value {} at row {}, column {}",
                v[i],
                i / cols,
                i % cols
            );
        }
        Ok((rows, cols, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips() {
        for data in [
            Elements::F32(vec![0.5, -1.0, 3.0, 1e-30, f32::MAX, 0.0]),
            Elements::F64(vec![0.5, -1.0, 3.0, 1e-300, f64::MAX, 0.0]),
            Elements::U8(vec![0, 1, 2, 3, 254, 255]),
            Elements::I8(vec![-128, -1, 0, 1, 2, 127]),
        ] {
            let a = NpyArray {
                shape: vec![2, 3],
                data,
            };
            assert_eq!(NpyArray::parse(&a.to_bytes().unwrap()).unwrap(), a);
        }
    }

    #[test]
    fn bad_input_is_rejected() {
        let a = NpyArray {
            shape: vec![2, 3],
            data: Elements::F32(vec![0.0; 6]),
        };
        let bytes = a.to_bytes().unwrap();
        assert!(NpyArray::parse(&bytes[..bytes.len() - 1]).is_err());
        assert!(NpyArray::parse(&bytes[..20]).is_err());
        assert!(NpyArray::parse(b"not numpy").is_err());
        let wrong = NpyArray {
            shape: vec![2, 2],
            data: Elements::F32(vec![0.0; 6]),
        };
        assert!(wrong.to_bytes().is_err());
        let cube = NpyArray {
            shape: vec![1, 2, 3],
            data: Elements::F32(vec![0.0; 6]),
        };
        assert!(
            cube.matrix("c")
                .unwrap_err()
                .to_string()
                .contains("[1, 2, 3]")
        );
    }
}
