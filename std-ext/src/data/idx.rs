//! IDX files (the MNIST distribution format), raw or gzip-compressed.
//!
//! Layout: two zero bytes, a type byte (`0x08` = unsigned byte, the only one
//! MNIST uses and the only one read here), the number of dimensions, each
//! dimension as a big-endian `u32`, then the data. Gzip input is recognized
//! by its magic bytes `1f 8b`, whatever the file name says. Every error names
//! the file and, where there is one, the byte offset (in the decompressed
//! stream) and the offending value.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (`[n, 28, 28]` for MNIST images).
    pub dims: Vec<usize>,
    /// The entries, row-major.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes, raw or gzip.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.idx");
/// // 2 × 3 unsigned bytes
/// std::fs::write(&path, [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])?;
/// let a = dam_std::data::idx::read(&path)?;
/// assert_eq!(a.dims, [2, 3]);
/// assert_eq!(a.data, [1, 2, 3, 4, 5, 6]);
/// # Ok(()) }
/// ```
pub fn read(path: &Path) -> Result<IdxArray> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .with_context(|| format!("{}: corrupt gzip stream", path.display()))?;
        out
    } else {
        raw
    };
    parse(&bytes).with_context(|| format!("{}: not a valid IDX file", path.display()))
}

/// Parses the (decompressed) bytes of an IDX file of unsigned bytes.
///
/// ```
/// let a = dam_std::data::idx::parse(&[0, 0, 8, 1, 0, 0, 0, 2, 7, 9])?;
/// assert_eq!((a.dims, a.data), (vec![2], vec![7, 9]));
/// assert!(dam_std::data::idx::parse(&[0, 0, 8, 1, 0, 0, 0, 3, 7]).is_err());
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn parse(bytes: &[u8]) -> Result<IdxArray> {
    let Some(&[z0, z1, ty, ndims]) = bytes.first_chunk::<4>() else {
        bail!("header truncated: {} bytes, need at least 4", bytes.len());
    };
    if z0 != 0 || z1 != 0 {
        bail!("bad magic at offset 0: {z0:#04x} {z1:#04x}, expected 0x00 0x00");
    }
    if ty != 0x08 {
        bail!("unsupported element type {ty:#04x} at offset 2 (only 0x08, unsigned byte)");
    }
    if ndims == 0 {
        bail!("zero dimensions at offset 3");
    }
    let mut dims = Vec::with_capacity(usize::from(ndims));
    let mut total: usize = 1;
    for i in 0..usize::from(ndims) {
        let off = 4 + 4 * i;
        let Some(b) = bytes.get(off..off + 4) else {
            bail!("header truncated at offset {off}: dimension {i} missing");
        };
        let d = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        total = total
            .checked_mul(d)
            .with_context(|| format!("dimension {d} at offset {off} overflows the size"))?;
        dims.push(d);
    }
    let start = 4 + 4 * usize::from(ndims);
    let data = &bytes[start..];
    if data.len() != total {
        bail!(
            "data at offset {start} has {} bytes, dimensions {dims:?} need {total}",
            data.len()
        );
    }
    Ok(IdxArray {
        dims,
        data: data.to_vec(),
    })
}

/// Serializes an IDX array of unsigned bytes (uncompressed): the inverse of
/// [`parse`], used by tests and by tools that cut subsets.
///
/// ```
/// use dam_std::data::idx::{IdxArray, parse, to_bytes};
/// let a = IdxArray { dims: vec![2, 2], data: vec![1, 2, 3, 4] };
/// assert_eq!(parse(&to_bytes(&a))?, a);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn to_bytes(a: &IdxArray) -> Vec<u8> {
    let mut out = vec![0, 0, 8, a.dims.len() as u8];
    for &d in &a.dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(&a.data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_detected_by_magic() {
        let a = IdxArray {
            dims: vec![3],
            data: vec![5, 6, 7],
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&to_bytes(&a)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain-name.idx");
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        assert_eq!(read(&path).unwrap(), a);
    }

    #[test]
    fn errors_name_file_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.idx");
        std::fs::write(&path, [0, 0, 9, 1, 0, 0, 0, 1, 0]).unwrap();
        let msg = format!("{:#}", read(&path).unwrap_err());
        assert!(msg.contains("bad.idx") && msg.contains("offset 2") && msg.contains("0x09"));
        std::fs::write(&path, [0, 0, 8, 2, 0, 0, 0, 1]).unwrap();
        let msg = format!("{:#}", read(&path).unwrap_err());
        assert!(msg.contains("offset 8"), "{msg}");
        std::fs::write(&path, [0x1f, 0x8b, 1, 2, 3]).unwrap();
        let msg = format!("{:#}", read(&path).unwrap_err());
        assert!(msg.contains("gzip"), "{msg}");
        let msg = format!("{:#}", read(&dir.path().join("missing")).unwrap_err());
        assert!(msg.contains("missing"), "{msg}");
    }
}
