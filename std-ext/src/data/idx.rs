//! IDX files (the MNIST distribution format), raw or gzip-compressed.
//!
//! Layout: two zero bytes, a type byte (`0x08` unsigned byte, `0x09` signed
//! byte, `0x0B` `i16`, `0x0C` `i32`, `0x0D` `f32`, `0x0E` `f64`), the number
//! of dimensions, each dimension as a big-endian `u32`, then the data, each
//! entry big-endian. MNIST uses only `0x08`: [`read`], [`decode`] and
//! [`parse`] accept only that type and give bytes; [`read_any`],
//! [`decode_any`] and [`parse_any`] accept every type ([`IdxAny`]). Gzip input is recognized
//! by its magic bytes `1f 8b`, whatever the file name says. Every error names
//! the file and, where there is one, the byte offset (in the decompressed
//! stream) and the offending value.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

/// The first two bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The largest decompressed data accepted from a gzip IDX file (1 GiB; the
/// MNIST training images are 47 MB). A raw file is already in memory, so
/// only decompression needs a cap: it stops a small "gzip bomb" from
/// expanding without bound.
pub const MAX_DECOMPRESSED_BYTES: usize = 1 << 30;

/// Why bytes are not a valid IDX file of unsigned bytes. Offsets count in the
/// decompressed stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdxError {
    /// Fewer than the 4 bytes of magic, type and rank.
    #[error("header truncated: {0} bytes, need at least 4")]
    ShortHeader(usize),
    /// The two leading bytes are not zero.
    #[error("bad magic at offset 0: {0:#04x} {1:#04x}, expected 0x00 0x00")]
    BadMagic(u8, u8),
    /// An element type other than `0x08` (unsigned byte) where only bytes
    /// are read.
    #[error("unsupported element type {0:#04x} at offset 2 (only 0x08, unsigned byte)")]
    UnsupportedType(u8),
    /// A type byte that the IDX format does not define.
    #[error(
        "unknown element type {0:#04x} at offset 2 (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)"
    )]
    UnknownType(u8),
    /// A rank of zero.
    #[error("zero dimensions at offset 3")]
    NoDimensions,
    /// The header ends before dimension `index`.
    #[error("header truncated at offset {offset}: dimension {index} missing")]
    MissingDimension {
        /// Where the dimension should start.
        offset: usize,
        /// Which dimension (0 = outermost).
        index: usize,
    },
    /// The product of the dimensions does not fit in `usize`.
    #[error("dimension {value} at offset {offset} overflows the size")]
    SizeOverflow {
        /// Where the dimension is.
        offset: usize,
        /// The dimension.
        value: usize,
    },
    /// A compressed file announces more data than [`MAX_DECOMPRESSED_BYTES`].
    #[error(
        "dimensions {dims:?} need {needed} bytes, more than the {limit} bytes accepted from a gzip file"
    )]
    TooLarge {
        /// The dimensions in the header.
        dims: Vec<usize>,
        /// Their product.
        needed: usize,
        /// [`MAX_DECOMPRESSED_BYTES`].
        limit: usize,
    },
    /// The data is shorter or longer than the dimensions say.
    #[error(
        "data at offset {offset} {}: {found} bytes, dimensions {dims:?} need {needed}",
        if .found < .needed { "truncated" } else { "too long" }
    )]
    LengthMismatch {
        /// Where the data starts.
        offset: usize,
        /// Bytes present (for gzip: at most `needed + 1`, decompression stops there).
        found: usize,
        /// The dimensions in the header.
        dims: Vec<usize>,
        /// Their product.
        needed: usize,
    },
    /// The gzip stream is corrupt.
    #[error("corrupt gzip stream (decompressed offset {offset}): {source}")]
    Gzip {
        /// Decompressed bytes read before the failure.
        offset: usize,
        /// What flate2 reported.
        source: std::io::Error,
    },
}

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (`[n, 28, 28]` for MNIST images).
    pub dims: Vec<usize>,
    /// The entries, row-major.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes, raw or gzip. Errors name the file;
/// the [`IdxError`] inside names the offset.
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
    decode(&raw).with_context(|| format!("{}: not a valid IDX file", path.display()))
}

/// Reads an IDX file of any element type, raw or gzip. Errors name the
/// file; the [`IdxError`] inside names the offset.
pub fn read_any(path: &Path) -> Result<IdxAny> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    decode_any(&raw).with_context(|| format!("{}: not a valid IDX file", path.display()))
}

/// The element types of the IDX format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxType {
    /// `0x08`, unsigned byte.
    U8,
    /// `0x09`, signed byte.
    I8,
    /// `0x0B`, big-endian `i16`.
    I16,
    /// `0x0C`, big-endian `i32`.
    I32,
    /// `0x0D`, big-endian `f32`.
    F32,
    /// `0x0E`, big-endian `f64`.
    F64,
}

impl IdxType {
    /// The type for a header's type byte, if the format defines it.
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0x08 => IdxType::U8,
            0x09 => IdxType::I8,
            0x0B => IdxType::I16,
            0x0C => IdxType::I32,
            0x0D => IdxType::F32,
            0x0E => IdxType::F64,
            _ => return None,
        })
    }

    /// The header's type byte.
    pub fn byte(self) -> u8 {
        match self {
            IdxType::U8 => 0x08,
            IdxType::I8 => 0x09,
            IdxType::I16 => 0x0B,
            IdxType::I32 => 0x0C,
            IdxType::F32 => 0x0D,
            IdxType::F64 => 0x0E,
        }
    }

    /// Bytes per entry.
    pub fn size(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }

    /// `true` for the integer types.
    pub fn is_integer(self) -> bool {
        !matches!(self, IdxType::F32 | IdxType::F64)
    }
}

/// An IDX array of any element type, its data as stored (big-endian).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxAny {
    /// The dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The element type.
    pub ty: IdxType,
    /// The entries' bytes, row-major, each entry big-endian.
    pub data: Vec<u8>,
}

impl IdxAny {
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.data.len() / self.ty.size()
    }

    /// `true` if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry as `f64` (exact for every IDX type).
    pub fn to_f64(&self) -> Vec<f64> {
        self.iter_f64().collect()
    }

    /// The entries as `f64`, one at a time (no copy of the whole array).
    pub fn iter_f64(&self) -> impl Iterator<Item = f64> + '_ {
        values_f64(self.ty, &self.data)
    }

    /// An array of type `ty` holding `values` (converted with `as`), for
    /// tests and tools.
    pub fn from_f64(dims: Vec<usize>, ty: IdxType, values: &[f64]) -> Self {
        let mut data = Vec::with_capacity(values.len() * ty.size());
        for &v in values {
            match ty {
                IdxType::U8 => data.push(v as u8),
                IdxType::I8 => data.push(v as i8 as u8),
                IdxType::I16 => data.extend_from_slice(&(v as i16).to_be_bytes()),
                IdxType::I32 => data.extend_from_slice(&(v as i32).to_be_bytes()),
                IdxType::F32 => data.extend_from_slice(&(v as f32).to_be_bytes()),
                IdxType::F64 => data.extend_from_slice(&v.to_be_bytes()),
            }
        }
        IdxAny { dims, ty, data }
    }
}

/// The entries of type `ty` stored (big-endian) in `data`, as `f64`.
fn values_f64(ty: IdxType, data: &[u8]) -> impl Iterator<Item = f64> + '_ {
    data.chunks_exact(ty.size()).map(move |b| {
        let mut a = [0u8; 8];
        a[..b.len()].copy_from_slice(b);
        match ty {
            IdxType::U8 => f64::from(a[0]),
            IdxType::I8 => f64::from(a[0] as i8),
            IdxType::I16 => f64::from(i16::from_be_bytes([a[0], a[1]])),
            IdxType::I32 => f64::from(i32::from_be_bytes([a[0], a[1], a[2], a[3]])),
            IdxType::F32 => f64::from(f32::from_be_bytes([a[0], a[1], a[2], a[3]])),
            IdxType::F64 => f64::from_be_bytes(a),
        }
    })
}

/// An IDX file of any element type, raw or gzip, read one row (one index
/// of the outermost dimension) at a time: opening reads and checks the
/// header as [`read_any`] does (for a raw file, its length too; for gzip,
/// the length is checked as the rows are read and by
/// [`IdxRows::finish`]), with the same errors. Memory holds one row.
pub(crate) struct IdxRows {
    /// The dimensions, outermost first.
    pub(crate) dims: Vec<usize>,
    /// The element type.
    pub(crate) ty: IdxType,
    reader: Box<dyn Read>,
    gz: bool,
    /// Header bytes (where the data start).
    head: usize,
    /// Data bytes the header announces.
    needed: usize,
    /// Data bytes read so far.
    done: usize,
    /// One row's bytes.
    buf: Vec<u8>,
    /// The file's name, for errors.
    name: String,
}

impl IdxRows {
    /// Opens `path` and reads its header.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        use std::io::BufRead;
        let (mut raw, total) = super::open_sized(path)?;
        let name = path.display().to_string();
        let gz = raw
            .fill_buf()
            .with_context(|| format!("cannot read {name}"))?
            .starts_with(&GZIP_MAGIC);
        let reader: Box<dyn Read> = if gz {
            Box::new(flate2::read::GzDecoder::new(raw))
        } else {
            Box::new(raw)
        };
        let mut rows = IdxRows {
            dims: Vec::new(),
            ty: IdxType::U8,
            reader,
            gz,
            head: 0,
            needed: 0,
            done: 0,
            buf: Vec::new(),
            name,
        };
        let mut head = [0u8; 4 + 4 * 255];
        let mut got = rows.fill(head.get_mut(..4).unwrap_or_default(), 0)?;
        if got == 4 {
            let rank = usize::from(head[3]);
            got += rows.fill(head.get_mut(4..4 + 4 * rank).unwrap_or_default(), 4)?;
        }
        let invalid = || format!("{}: not a valid IDX file", path.display());
        let (ty, dims, needed) =
            header(head.get(..got).unwrap_or_default(), false).with_context(invalid)?;
        if gz && needed > MAX_DECOMPRESSED_BYTES {
            return Err(IdxError::TooLarge {
                dims,
                needed,
                limit: MAX_DECOMPRESSED_BYTES,
            })
            .with_context(invalid);
        }
        let dims = if gz {
            dims
        } else {
            check_length(dims, needed, got, total.saturating_sub(got)).with_context(invalid)?
        };
        // `needed` fits in usize: so does one row.
        let row_bytes = ty.size() * dims.iter().skip(1).product::<usize>();
        rows.buf = vec![0; row_bytes];
        rows.dims = dims;
        rows.ty = ty;
        rows.head = got;
        rows.needed = needed;
        Ok(rows)
    }

    /// Reads into `buf` until it is full or the data end; `offset` is where
    /// `buf` starts in the (decompressed) stream. A read error is a corrupt
    /// gzip stream, or for a raw file, a file that cannot be read.
    fn fill(&mut self, buf: &mut [u8], offset: usize) -> Result<usize> {
        match fill(&mut self.reader, buf, offset) {
            Ok(n) => Ok(n),
            Err(IdxError::Gzip { source, .. }) if !self.gz => {
                Err(source).with_context(|| format!("cannot read {}", self.name))
            }
            Err(e) => Err(e).with_context(|| format!("{}: not a valid IDX file", self.name)),
        }
    }

    /// The entries of the next row as `f64` (the caller reads no more rows
    /// than `dims[0]`); an error if the data end before it.
    pub(crate) fn next_row(&mut self) -> Result<impl Iterator<Item = f64> + '_> {
        let mut buf = std::mem::take(&mut self.buf);
        let got = self.fill(&mut buf, self.head + self.done);
        self.buf = buf;
        let got = got?;
        self.done += got;
        if got < self.buf.len() {
            self.length_error(self.done)?;
        }
        Ok(values_f64(self.ty, &self.buf))
    }

    /// After the last row: for gzip, checks that no data follow.
    pub(crate) fn finish(&mut self) -> Result<()> {
        if self.gz {
            let mut one = [0u8; 1];
            let more = self.fill(&mut one, self.head + self.done)?;
            if more > 0 {
                self.length_error(self.done + more)?;
            }
        }
        Ok(())
    }

    /// The error for `found` data bytes where the header announces others.
    fn length_error(&self, found: usize) -> Result<()> {
        check_length(self.dims.clone(), self.needed, self.head, found)
            .with_context(|| format!("{}: not a valid IDX file", self.name))?;
        Ok(())
    }
}

/// Serializes an IDX array of any type (uncompressed): the inverse of
/// [`parse_any`].
pub fn to_bytes_any(a: &IdxAny) -> Vec<u8> {
    let mut out = vec![0, 0, a.ty.byte(), a.dims.len() as u8];
    for &d in &a.dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(&a.data);
    out
}

/// Decodes the bytes of an IDX file, gzip-compressed (recognized by its
/// magic bytes) or raw. Decompression stops one byte after the size the
/// header announces, and a header announcing more than
/// [`MAX_DECOMPRESSED_BYTES`] is refused before anything is allocated.
///
/// ```
/// use std::io::Write;
/// let raw = [0, 0, 8, 1, 0, 0, 0, 2, 7, 9];
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
/// gz.write_all(&raw)?;
/// let a = dam_std::data::idx::decode(&gz.finish()?)?;
/// assert_eq!(a, dam_std::data::idx::decode(&raw)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    let a = decode_with(bytes, true)?;
    Ok(IdxArray {
        dims: a.dims,
        data: a.data,
    })
}

/// Like [`decode`], for every element type.
///
/// ```
/// use dam_std::data::idx::{IdxAny, IdxType, decode_any, to_bytes_any};
/// let a = IdxAny::from_f64(vec![2], IdxType::I16, &[-300.0, 7.0]);
/// let b = decode_any(&to_bytes_any(&a))?;
/// assert_eq!((b.ty, b.to_f64()), (IdxType::I16, vec![-300.0, 7.0]));
/// # Ok::<(), dam_std::data::idx::IdxError>(())
/// ```
pub fn decode_any(bytes: &[u8]) -> Result<IdxAny, IdxError> {
    decode_with(bytes, false)
}

/// [`decode`] or [`decode_any`]: `only_bytes` refuses types other than
/// `0x08` from the header, before any data is decompressed.
fn decode_with(bytes: &[u8], only_bytes: bool) -> Result<IdxAny, IdxError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return parse_with(bytes, only_bytes);
    }
    let mut gz = flate2::read::GzDecoder::new(bytes);
    let mut head = [0u8; 4 + 4 * 255];
    let mut got = fill(&mut gz, head.get_mut(..4).unwrap_or_default(), 0)?;
    if got == 4 {
        let rank = usize::from(head[3]);
        got += fill(
            &mut gz,
            head.get_mut(4..4 + 4 * rank).unwrap_or_default(),
            4,
        )?;
    }
    let head = head.get(..got).unwrap_or_default();
    let (ty, dims, needed) = header(head, only_bytes)?;
    if needed > MAX_DECOMPRESSED_BYTES {
        return Err(IdxError::TooLarge {
            dims,
            needed,
            limit: MAX_DECOMPRESSED_BYTES,
        });
    }
    // Growth follows the bytes actually decompressed, never the header.
    let mut data = Vec::new();
    gz.take(needed as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|source| IdxError::Gzip {
            offset: got + data.len(),
            source,
        })?;
    let dims = check_length(dims, needed, got, data.len())?;
    Ok(IdxAny { dims, ty, data })
}

/// Reads from `r` until `buf` is full or the stream ends; returns the bytes
/// read. `offset` (where `buf` starts in the stream) goes into errors.
fn fill(r: &mut impl Read, buf: &mut [u8], offset: usize) -> Result<usize, IdxError> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|b| !b.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(IdxError::Gzip {
                    offset: offset + filled,
                    source,
                });
            }
        }
    }
    Ok(filled)
}

/// Parses the (decompressed) bytes of an IDX file of unsigned bytes.
///
/// ```
/// let a = dam_std::data::idx::parse(&[0, 0, 8, 1, 0, 0, 0, 2, 7, 9])?;
/// assert_eq!((a.dims, a.data), (vec![2], vec![7, 9]));
/// assert!(dam_std::data::idx::parse(&[0, 0, 8, 1, 0, 0, 0, 3, 7]).is_err());
/// # Ok::<(), dam_std::data::idx::IdxError>(())
/// ```
pub fn parse(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    let a = parse_with(bytes, true)?;
    Ok(IdxArray {
        dims: a.dims,
        data: a.data,
    })
}

/// Like [`parse`], for every element type.
pub fn parse_any(bytes: &[u8]) -> Result<IdxAny, IdxError> {
    parse_with(bytes, false)
}

/// [`parse`] or [`parse_any`].
fn parse_with(bytes: &[u8], only_bytes: bool) -> Result<IdxAny, IdxError> {
    let (ty, dims, needed) = header(bytes, only_bytes)?;
    let start = 4 + 4 * dims.len();
    let data = bytes.get(start..).unwrap_or_default();
    // Checked before copying: the header alone never sizes an allocation.
    let dims = check_length(dims, needed, start, data.len())?;
    Ok(IdxAny {
        dims,
        ty,
        data: data.to_vec(),
    })
}

/// The element type, the dimensions and the data size in bytes, from the
/// header at the start of `bytes` (the data may follow or not).
fn header(bytes: &[u8], only_bytes: bool) -> Result<(IdxType, Vec<usize>, usize), IdxError> {
    let Some(&[z0, z1, ty, rank]) = bytes.first_chunk::<4>() else {
        return Err(IdxError::ShortHeader(bytes.len()));
    };
    if z0 != 0 || z1 != 0 {
        return Err(IdxError::BadMagic(z0, z1));
    }
    if only_bytes && ty != 0x08 {
        return Err(IdxError::UnsupportedType(ty));
    }
    let ty = IdxType::from_byte(ty).ok_or(IdxError::UnknownType(ty))?;
    if rank == 0 {
        return Err(IdxError::NoDimensions);
    }
    let mut dims = Vec::with_capacity(usize::from(rank));
    let mut needed: usize = ty.size();
    for index in 0..usize::from(rank) {
        let offset = 4 + 4 * index;
        let Some(&b) = bytes.get(offset..).and_then(|b| b.first_chunk::<4>()) else {
            return Err(IdxError::MissingDimension { offset, index });
        };
        let value = u32::from_be_bytes(b) as usize;
        needed = needed
            .checked_mul(value)
            .ok_or(IdxError::SizeOverflow { offset, value })?;
        dims.push(value);
    }
    Ok((ty, dims, needed))
}

/// `dims` back if `found` data bytes are exactly the `needed` ones.
fn check_length(
    dims: Vec<usize>,
    needed: usize,
    offset: usize,
    found: usize,
) -> Result<Vec<usize>, IdxError> {
    if found != needed {
        return Err(IdxError::LengthMismatch {
            offset,
            found,
            dims,
            needed,
        });
    }
    Ok(dims)
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
    fn every_type_round_trips_big_endian() {
        let values = [-2.0, 0.0, 1.0, 100.0];
        for (ty, bytes) in [
            (IdxType::I8, vec![0xFE, 0, 1, 100]),
            (IdxType::I16, vec![0xFF, 0xFE, 0, 0, 0, 1, 0, 100]),
            (
                IdxType::I32,
                vec![0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 100],
            ),
        ] {
            let a = IdxAny::from_f64(vec![2, 2], ty, &values);
            assert_eq!(a.data, bytes, "{ty:?}");
            let b = parse_any(&to_bytes_any(&a)).unwrap();
            assert_eq!((b.ty, b.to_f64()), (ty, values.to_vec()));
        }
        for ty in [IdxType::F32, IdxType::F64] {
            let v = [0.5, -1.25, 1e30, 0.0].map(|x: f64| {
                if ty == IdxType::F32 {
                    f64::from(x as f32)
                } else {
                    x
                }
            });
            let a = IdxAny::from_f64(vec![4], ty, &v);
            assert_eq!(decode_any(&to_bytes_any(&a)).unwrap().to_f64(), v);
        }
        // Sizes count bytes: 2 i16 need 4 bytes.
        let err = parse_any(&[0, 0, 0x0B, 1, 0, 0, 0, 2, 0, 1, 0]).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::LengthMismatch {
                    needed: 4,
                    found: 3,
                    ..
                }
            ),
            "{err}"
        );
        let err = parse_any(&[0, 0, 0x0A, 1, 0, 0, 0, 0]).unwrap_err();
        assert!(matches!(err, IdxError::UnknownType(0x0A)), "{err}");
        // The byte readers still refuse other types, before decompressing.
        let err = decode(&gzip(&[0, 0, 0x0D, 1, 0, 0, 0, 0])).unwrap_err();
        assert!(matches!(err, IdxError::UnsupportedType(0x0D)), "{err}");
    }

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

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    /// A 10 kB gzip file expanding to 10 MB behind a header announcing 4
    /// bytes: decompression stops at byte 5 of the data.
    #[test]
    fn gzip_bomb_stops_at_the_announced_size() {
        let mut bomb = vec![0, 0, 8, 1, 0, 0, 0, 4];
        bomb.resize(10_000_000, 0);
        let err = decode(&gzip(&bomb)).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::LengthMismatch {
                    offset: 8,
                    found: 5,
                    needed: 4,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn huge_dimensions_are_refused_before_allocating() {
        // 2^32-1 cubed overflows; 2^31 · 2^31 fits in usize but not the
        // data; gzip refuses anything above the cap without reading on.
        let raw = [
            0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        ];
        assert!(matches!(
            parse(&raw),
            Err(IdxError::SizeOverflow { offset: 12, .. })
        ));
        let raw = [0, 0, 8, 2, 128, 0, 0, 0, 128, 0, 0, 0, 1];
        let err = parse(&raw).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::LengthMismatch {
                    offset: 12,
                    found: 1,
                    ..
                }
            ),
            "{err}"
        );
        let err = decode(&gzip(&raw)).unwrap_err();
        assert!(matches!(err, IdxError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn truncated_gzip_headers_name_the_offset() {
        let err = decode(&gzip(&[0, 0])).unwrap_err();
        assert!(matches!(err, IdxError::ShortHeader(2)), "{err}");
        let err = decode(&gzip(&[0, 0, 8, 2, 0, 0, 0, 1, 0])).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::MissingDimension {
                    offset: 8,
                    index: 1
                }
            ),
            "{err}"
        );
        let a = IdxArray {
            dims: vec![2, 1],
            data: vec![4, 2],
        };
        assert_eq!(decode(&gzip(&to_bytes(&a))).unwrap(), a);
    }
}
