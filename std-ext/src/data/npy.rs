//! `.npy` arrays (C order) of floats (`f4`, `f8`), integers (`i1` to `i8`,
//! `u1` to `u8`), booleans or fixed-width unicode strings (`U`), either byte
//! order, so memories, queries and datasets move to and from NumPy, PyTorch
//! and JAX.
//!
//! The header is a Python dict literal. `npyz` parses it with a backtracking
//! grammar that takes time exponential in the bracket nesting (a header of
//! 30 `[` runs for hours) and recursion proportional to it, so the header's
//! length and nesting are checked here first, and the data length is
//! checked against the shape before anything is read.

use std::path::Path;

use anyhow::{Context, Result, bail};
use npyz::WriterBuilder;

/// The magic string that starts every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The longest header accepted: NumPy's own default `max_header_size`.
pub const MAX_HEADER_BYTES: usize = 10_000;

/// The deepest bracket nesting accepted in a header. A plain array needs 2
/// (the dict, the shape tuple); 4 lets a structured dtype through to the
/// clearer "unsupported dtype" error.
pub const MAX_HEADER_NESTING: usize = 4;

/// Why bytes are not a usable `.npy` array. Offsets count from the start of
/// the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// The file does not start with `\x93NUMPY`.
    #[error("not a .npy file: no \\x93NUMPY magic at offset 0")]
    BadMagic,
    /// The file ends inside the preamble or the header.
    #[error("truncated at offset {offset}: {what}")]
    Truncated {
        /// Where the missing part starts.
        offset: usize,
        /// What is missing.
        what: &'static str,
    },
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("unsupported .npy version {major}.{minor} at offset 6")]
    Version {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The header is longer than [`MAX_HEADER_BYTES`].
    #[error("header length {len} at offset 8 exceeds the {limit} bytes accepted")]
    HeaderTooLong {
        /// The announced length.
        len: usize,
        /// [`MAX_HEADER_BYTES`].
        limit: usize,
    },
    /// Brackets in the header nest deeper than [`MAX_HEADER_NESTING`].
    #[error("header brackets nest deeper than {limit} at offset {offset}")]
    HeaderTooDeep {
        /// The bracket that goes too deep.
        offset: usize,
        /// [`MAX_HEADER_NESTING`].
        limit: usize,
    },
    /// `npyz` rejected the header text.
    #[error("bad header at offset {offset}: {source}")]
    Header {
        /// Where the header text starts.
        offset: usize,
        /// What `npyz` reported.
        source: std::io::Error,
    },
    /// A Fortran-order array.
    #[error("Fortran-order arrays are not supported; save with np.ascontiguousarray")]
    FortranOrder,
    /// A dtype other than the floats, integers, booleans and unicode
    /// strings listed in [`Elements`].
    #[error("unsupported dtype {0} (use float32/64, (u)int8/16/32/64, bool or a unicode string)")]
    Dtype(String),
    /// A unicode entry holding a value that is not a Unicode scalar value.
    #[error("entry {index} (data offset {offset}) holds {value:#x}, not a Unicode character")]
    BadChar {
        /// Which entry, row-major.
        index: usize,
        /// Where the offending code unit is.
        offset: usize,
        /// The code unit.
        value: u32,
    },
    /// The shape's byte size does not fit in `usize`.
    #[error("shape {shape:?} is too large to address")]
    TooLarge {
        /// The shape in the header.
        shape: Vec<u64>,
    },
    /// The data is shorter or longer than the shape says.
    #[error(
        "data at offset {offset} {}: {found} bytes, shape {shape:?} of {dtype} needs {needed}",
        if .found < .needed { "truncated" } else { "too long" }
    )]
    LengthMismatch {
        /// Where the data starts.
        offset: usize,
        /// Bytes present.
        found: usize,
        /// The shape in the header.
        shape: Vec<u64>,
        /// The dtype in the header.
        dtype: String,
        /// Shape product × item size.
        needed: usize,
    },
    /// `npyz` failed on the data (not expected once the length matches).
    #[error("data at offset {offset}: {source}")]
    Data {
        /// Where the data starts.
        offset: usize,
        /// What `npyz` reported.
        source: std::io::Error,
    },
}

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
    /// `<i2`.
    I16(Vec<i16>),
    /// `<u2`.
    U16(Vec<u16>),
    /// `<i4`.
    I32(Vec<i32>),
    /// `<u4`.
    U32(Vec<u32>),
    /// `<i8`.
    I64(Vec<i64>),
    /// `<u8`.
    U64(Vec<u64>),
    /// `|b1`.
    Bool(Vec<bool>),
    /// `<U{n}`: fixed-width UTF-32 strings, trailing NULs removed.
    Str(Vec<String>),
}

impl Elements {
    /// The number of entries.
    pub fn len(&self) -> usize {
        match self {
            Elements::F32(v) => v.len(),
            Elements::F64(v) => v.len(),
            Elements::U8(v) => v.len(),
            Elements::I8(v) => v.len(),
            Elements::I16(v) => v.len(),
            Elements::U16(v) => v.len(),
            Elements::I32(v) => v.len(),
            Elements::U32(v) => v.len(),
            Elements::I64(v) => v.len(),
            Elements::U64(v) => v.len(),
            Elements::Bool(v) => v.len(),
            Elements::Str(v) => v.len(),
        }
    }

    /// `true` if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry as `f64`: exact except for 64-bit integers beyond
    /// 2^53 (rounded); `false`/`true` are 0 and 1; strings (see
    /// [`Elements::is_numeric`]) give NaN.
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            Elements::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Elements::F64(v) => v.clone(),
            Elements::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Elements::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Elements::I16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Elements::U16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Elements::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Elements::U32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Elements::I64(v) => v.iter().map(|&x| x as f64).collect(),
            Elements::U64(v) => v.iter().map(|&x| x as f64).collect(),
            Elements::Bool(v) => v.iter().map(|&x| f64::from(u8::from(x))).collect(),
            Elements::Str(v) => vec![f64::NAN; v.len()],
        }
    }

    /// The entries as exact integers, if the dtype is an integer or bool
    /// one (`u64` entries above `i64::MAX` saturate, which every label
    /// check rejects anyway); `None` for floats and strings.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        Some(match self {
            Elements::U8(v) => v.iter().map(|&x| i64::from(x)).collect(),
            Elements::I8(v) => v.iter().map(|&x| i64::from(x)).collect(),
            Elements::I16(v) => v.iter().map(|&x| i64::from(x)).collect(),
            Elements::U16(v) => v.iter().map(|&x| i64::from(x)).collect(),
            Elements::I32(v) => v.iter().map(|&x| i64::from(x)).collect(),
            Elements::U32(v) => v.iter().map(|&x| i64::from(x)).collect(),
            Elements::I64(v) => v.clone(),
            Elements::U64(v) => v
                .iter()
                .map(|&x| i64::try_from(x).unwrap_or(i64::MAX))
                .collect(),
            Elements::Bool(v) => v.iter().map(|&x| i64::from(x)).collect(),
            Elements::F32(_) | Elements::F64(_) | Elements::Str(_) => return None,
        })
    }

    /// `false` for unicode strings, `true` for every number type.
    pub fn is_numeric(&self) -> bool {
        !matches!(self, Elements::Str(_))
    }

    /// The NumPy name of the element type (`"float32"`, `"<U"` …), for
    /// messages.
    pub fn dtype_name(&self) -> &'static str {
        match self {
            Elements::F32(_) => "float32",
            Elements::F64(_) => "float64",
            Elements::U8(_) => "uint8",
            Elements::I8(_) => "int8",
            Elements::I16(_) => "int16",
            Elements::U16(_) => "uint16",
            Elements::I32(_) => "int32",
            Elements::U32(_) => "uint32",
            Elements::I64(_) => "int64",
            Elements::U64(_) => "uint64",
            Elements::Bool(_) => "bool",
            Elements::Str(_) => "unicode string",
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

    /// Parses the bytes of a `.npy` file. Time and memory are linear in
    /// `bytes.len()`, whatever the header says.
    ///
    /// ```
    /// use dam_std::data::npy::{NpyArray, NpyError};
    /// let mut hostile = b"\x93NUMPY\x01\x00\x40\x00".to_vec();
    /// hostile.extend_from_slice(&[b'['; 64]);
    /// assert!(matches!(NpyArray::parse(&hostile), Err(NpyError::HeaderTooDeep { .. })));
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, NpyError> {
        let h = parse_header(bytes, bytes.len())?;
        let data = h.kind.decode(
            bytes.get(h.data_offset..).unwrap_or_default(),
            h.data_offset,
        )?;
        Ok(NpyArray {
            shape: h.shape,
            data,
        })
    }

    /// Serializes to `.npy` bytes (version 1.0, little-endian; strings as
    /// `<U{n}` with `n` the longest entry in characters, at least 1).
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
            Elements::I16(v) => raw(&mut out, "<i2", &shape, v, |x| x.to_le_bytes()),
            Elements::U16(v) => raw(&mut out, "<u2", &shape, v, |x| x.to_le_bytes()),
            Elements::I32(v) => raw(&mut out, "<i4", &shape, v, |x| x.to_le_bytes()),
            Elements::U32(v) => raw(&mut out, "<u4", &shape, v, |x| x.to_le_bytes()),
            Elements::I64(v) => raw(&mut out, "<i8", &shape, v, |x| x.to_le_bytes()),
            Elements::U64(v) => raw(&mut out, "<u8", &shape, v, |x| x.to_le_bytes()),
            Elements::Bool(v) => raw(&mut out, "|b1", &shape, v, |x| [u8::from(*x)]),
            Elements::Str(v) => {
                let width = v.iter().map(|s| s.chars().count()).max().unwrap_or(0);
                let width = width.max(1);
                raw_header(&mut out, &format!("<U{width}"), &shape);
                for s in v {
                    let n = s.chars().count();
                    for c in s.chars() {
                        out.extend_from_slice(&u32::from(c).to_le_bytes());
                    }
                    out.resize(out.len() + 4 * (width - n), 0);
                }
            }
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
        if !self.data.is_numeric() {
            bail!(
                "{name}: expected numbers, got a {} array",
                self.data.dtype_name()
            );
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

/// Writes a version 1.0 header for `descr` and `shape`, padded with spaces
/// and a newline so that the data starts at a multiple of 64.
fn raw_header(out: &mut Vec<u8>, descr: &str, shape: &[u64]) {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    let shape = match dims.as_slice() {
        [d] => format!("({d},)"),
        _ => format!("({})", dims.join(", ")),
    };
    let mut text = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let total = PREAMBLE_V1 + text.len() + 1;
    text.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    text.push('\n');
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// Writes a header and then each entry's bytes as `bytes` gives them.
fn raw<T, const N: usize>(
    out: &mut Vec<u8>,
    descr: &str,
    shape: &[u64],
    v: &[T],
    bytes: impl Fn(&T) -> [u8; N],
) {
    raw_header(out, descr, shape);
    out.reserve(v.len() * N);
    for x in v {
        out.extend_from_slice(&bytes(x));
    }
}

/// An element type read from a header's `descr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DtypeKind {
    /// `f` of 4 or 8 bytes, `i`/`u` of 1, 2, 4 or 8 bytes, `b` of 1.
    Number {
        /// `b'f'`, `b'i'`, `b'u'` or `b'b'`.
        kind: u8,
        /// Bytes per entry.
        size: usize,
        /// Big-endian (`>`).
        big: bool,
    },
    /// `U` of this many characters (at least 1).
    Unicode {
        /// Characters per entry.
        width: usize,
        /// Big-endian (`>`).
        big: bool,
    },
}

impl DtypeKind {
    /// Parses `'<f4'`, `'|u1'`, `'>i8'`, `'<U12'` and the like (with the
    /// quotes `npyz` leaves on).
    fn parse(descr: &str) -> Option<Self> {
        let d = descr.trim_matches('\'');
        let mut chars = d.chars();
        let big = match chars.next()? {
            '<' | '|' | '=' => false,
            '>' => true,
            _ => return None,
        };
        let kind = chars.next()?;
        let size: usize = chars.as_str().parse().ok()?;
        match (kind, size) {
            ('U', 1..=1_000_000) => Some(DtypeKind::Unicode { width: size, big }),
            ('f', 4 | 8) | ('i' | 'u', 1 | 2 | 4 | 8) | ('b', 1) => Some(DtypeKind::Number {
                kind: kind as u8,
                size,
                big,
            }),
            _ => None,
        }
    }

    /// Bytes per entry.
    fn item_size(self) -> usize {
        match self {
            DtypeKind::Number { size, .. } => size,
            DtypeKind::Unicode { width, .. } => 4 * width,
        }
    }

    /// Decodes `data` (exactly a whole number of entries), which starts at
    /// `offset` in the file.
    fn decode(self, data: &[u8], offset: usize) -> Result<Elements, NpyError> {
        fn each<const N: usize, T>(data: &[u8], big: bool, f: impl Fn([u8; N]) -> T) -> Vec<T> {
            data.chunks_exact(N)
                .map(|c| {
                    let mut b = [0u8; N];
                    b.copy_from_slice(c);
                    if big {
                        b.reverse();
                    }
                    f(b)
                })
                .collect()
        }
        Ok(match self {
            DtypeKind::Number { kind, size, big } => match (kind, size) {
                (b'f', 4) => Elements::F32(each(data, big, f32::from_le_bytes)),
                (b'f', _) => Elements::F64(each(data, big, f64::from_le_bytes)),
                (b'u', 1) => Elements::U8(data.to_vec()),
                (b'i', 1) => Elements::I8(each(data, big, i8::from_le_bytes)),
                (b'b', _) => Elements::Bool(data.iter().map(|&b| b != 0).collect()),
                (b'i', 2) => Elements::I16(each(data, big, i16::from_le_bytes)),
                (b'u', 2) => Elements::U16(each(data, big, u16::from_le_bytes)),
                (b'i', 4) => Elements::I32(each(data, big, i32::from_le_bytes)),
                (b'u', 4) => Elements::U32(each(data, big, u32::from_le_bytes)),
                (b'i', _) => Elements::I64(each(data, big, i64::from_le_bytes)),
                _ => Elements::U64(each(data, big, u64::from_le_bytes)),
            },
            DtypeKind::Unicode { width, big } => {
                let units = each(data, big, u32::from_le_bytes);
                let mut out = Vec::with_capacity(units.len() / width);
                for (index, entry) in units.chunks_exact(width).enumerate() {
                    let used = entry.iter().rposition(|&u| u != 0).map_or(0, |i| i + 1);
                    let mut s = String::with_capacity(used);
                    for (k, &value) in entry.iter().take(used).enumerate() {
                        let c = char::from_u32(value).ok_or(NpyError::BadChar {
                            index,
                            offset: offset + 4 * (index * width + k),
                            value,
                        })?;
                        s.push(c);
                    }
                    out.push(s);
                }
                Elements::Str(out)
            }
        })
    }
}

/// What a `.npy` header says.
struct Header {
    /// The dimensions, outermost first.
    shape: Vec<usize>,
    /// The element type.
    kind: DtypeKind,
    /// Where the data start in the file.
    data_offset: usize,
}

/// Parses and checks the header at the start of `bytes` (the whole file,
/// or at least its preamble and header) and checks that a file of `total`
/// bytes holds exactly the data the shape needs.
fn parse_header(bytes: &[u8], total: usize) -> Result<Header, NpyError> {
    let data_offset = check_header(bytes)?;
    let npy = npyz::NpyFile::new(bytes).map_err(|source| NpyError::Header {
        offset: PREAMBLE_V1,
        source,
    })?;
    if npy.order() != npyz::Order::C {
        return Err(NpyError::FortranOrder);
    }
    let dtype = npy.dtype().descr();
    let kind = DtypeKind::parse(&dtype).ok_or_else(|| NpyError::Dtype(dtype.clone()))?;
    let item_size = kind.item_size();
    let shape = npy.shape().to_vec();
    let too_large = || NpyError::TooLarge {
        shape: shape.clone(),
    };
    let needed = shape
        .iter()
        .try_fold(item_size, |n: usize, &d| {
            n.checked_mul(usize::try_from(d).ok()?)
        })
        .ok_or_else(too_large)?;
    let found = total.saturating_sub(data_offset);
    if found != needed {
        return Err(NpyError::LengthMismatch {
            offset: data_offset,
            found,
            shape,
            dtype,
            needed,
        });
    }
    // Every dimension fits in usize: their product times the item size did.
    let shape = shape.iter().map(|&d| d as usize).collect();
    Ok(Header {
        shape,
        kind,
        data_offset,
    })
}

/// A `.npy` file read one row (one index of the outermost dimension) at a
/// time: opening parses and checks the header, and the file's length
/// against it, as [`NpyArray::read`] does (same errors); the rows are read
/// as they are asked for, so memory holds one row.
pub(crate) struct NpyRows {
    /// The dimensions, outermost first.
    pub(crate) shape: Vec<usize>,
    kind: DtypeKind,
    reader: std::io::BufReader<std::fs::File>,
    /// One row's bytes.
    buf: Vec<u8>,
    /// Where the next row starts in the file.
    offset: usize,
    /// The file's name, for errors.
    name: String,
}

impl NpyRows {
    /// Opens `path` and reads its header.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        use std::io::{Read, Seek};
        let (mut reader, total) = super::open_sized(path)?;
        let name = path.display().to_string();
        let cannot = || format!("cannot read {name}");
        let mut head = Vec::new();
        (&mut reader)
            .take((PREAMBLE_V1 + 2 + MAX_HEADER_BYTES) as u64)
            .read_to_end(&mut head)
            .with_context(cannot)?;
        let h = parse_header(&head, total)
            .with_context(|| format!("{name}: not a usable .npy file"))?;
        reader
            .seek(std::io::SeekFrom::Start(h.data_offset as u64))
            .with_context(cannot)?;
        // The length check passed: one row's bytes fit in usize.
        let row_bytes = h.kind.item_size() * h.shape.iter().skip(1).product::<usize>();
        Ok(NpyRows {
            shape: h.shape,
            kind: h.kind,
            reader,
            buf: vec![0; row_bytes],
            offset: h.data_offset,
            name,
        })
    }

    /// `false` for an array of unicode strings.
    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self.kind, DtypeKind::Number { .. })
    }

    /// The entries of the next row (the caller reads no more rows than
    /// `shape[0]`).
    pub(crate) fn next_row(&mut self) -> Result<Elements> {
        use std::io::Read;
        self.reader
            .read_exact(&mut self.buf)
            .with_context(|| format!("cannot read {}", self.name))?;
        let row = self
            .kind
            .decode(&self.buf, self.offset)
            .with_context(|| format!("{}: not a usable .npy file", self.name))?;
        self.offset += self.buf.len();
        Ok(row)
    }
}

/// Bytes before the header text in a version 1 file (magic, version, `u16`
/// length); version 2 and 3 files have 2 more (a `u32` length).
const PREAMBLE_V1: usize = 10;

/// Checks the preamble and the header's length and bracket nesting (the
/// part `npyz` would parse slowly); returns where the data starts.
fn check_header(bytes: &[u8]) -> Result<usize, NpyError> {
    if !bytes.starts_with(MAGIC) {
        return Err(NpyError::BadMagic);
    }
    let truncated = |offset, what| NpyError::Truncated { offset, what };
    let Some(&[major, minor]) = bytes.get(6..).and_then(|b| b.first_chunk::<2>()) else {
        return Err(truncated(6, "version missing"));
    };
    let (len, start) = match (major, minor) {
        (1, 0) => match bytes.get(8..).and_then(|b| b.first_chunk::<2>()) {
            Some(&b) => (usize::from(u16::from_le_bytes(b)), PREAMBLE_V1),
            None => return Err(truncated(8, "header length missing")),
        },
        (2 | 3, 0) => match bytes.get(8..).and_then(|b| b.first_chunk::<4>()) {
            Some(&b) => (u32::from_le_bytes(b) as usize, PREAMBLE_V1 + 2),
            None => return Err(truncated(8, "header length missing")),
        },
        _ => return Err(NpyError::Version { major, minor }),
    };
    if len > MAX_HEADER_BYTES {
        return Err(NpyError::HeaderTooLong {
            len,
            limit: MAX_HEADER_BYTES,
        });
    }
    let Some(text) = bytes.get(start..start + len) else {
        return Err(truncated(start, "header shorter than its announced length"));
    };
    // Brackets inside strings count too: a real header has none there.
    let mut depth = 0usize;
    for (i, &c) in text.iter().enumerate() {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_HEADER_NESTING {
            return Err(NpyError::HeaderTooDeep {
                offset: start + i,
                limit: MAX_HEADER_NESTING,
            });
        }
    }
    let shape = header_shape(text).unwrap_or_default();
    // npyz multiplies the dimensions unchecked (a panic in debug builds).
    if shape
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d))
        .is_none()
    {
        return Err(NpyError::TooLarge { shape });
    }
    Ok(start + len)
}

/// The `shape` entry of a header dict, if the header parses (if it does
/// not, npyz reports why).
fn header_shape(text: &[u8]) -> Option<Vec<u64>> {
    let value: py_literal::Value = std::str::from_utf8(text).ok()?.trim_end().parse().ok()?;
    let py_literal::Value::Dict(entries) = value else {
        return None;
    };
    let (_, shape) = entries
        .iter()
        .find(|(k, _)| matches!(k, py_literal::Value::String(s) if s == "shape"))?;
    let (py_literal::Value::Tuple(dims) | py_literal::Value::List(dims)) = shape else {
        return None;
    };
    dims.iter()
        .map(|d| match d {
            py_literal::Value::Integer(i) => u64::try_from(i).ok(),
            _ => None,
        })
        .collect()
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
            Elements::I16(vec![i16::MIN, -1, 0, 1, 2, i16::MAX]),
            Elements::U16(vec![0, 1, 2, 3, 4, u16::MAX]),
            Elements::I32(vec![i32::MIN, -1, 0, 1, 2, i32::MAX]),
            Elements::U32(vec![0, 1, 2, 3, 4, u32::MAX]),
            Elements::I64(vec![i64::MIN, -1, 0, 1, 2, i64::MAX]),
            Elements::U64(vec![0, 1, 2, 3, 4, u64::MAX]),
            Elements::Bool(vec![true, false, true, true, false, false]),
            Elements::Str(vec![
                "".into(),
                "a".into(),
                "é€😀".into(),
                "abc".into(),
                "x y".into(),
                "z".into(),
            ]),
        ] {
            let a = NpyArray {
                shape: vec![2, 3],
                data,
            };
            assert_eq!(NpyArray::parse(&a.to_bytes().unwrap()).unwrap(), a);
        }
    }

    #[test]
    fn bad_unicode_and_odd_dtypes_are_refused() {
        let mut v = NpyArray {
            shape: vec![1],
            data: Elements::Str(vec!["ab".into()]),
        }
        .to_bytes()
        .unwrap();
        let n = v.len();
        v[n - 4..].copy_from_slice(&0xD800u32.to_le_bytes());
        let err = NpyArray::parse(&v).unwrap_err();
        assert!(
            matches!(
                err,
                NpyError::BadChar {
                    index: 0,
                    value: 0xD800,
                    ..
                }
            ),
            "{err}"
        );
        for descr in ["<f2", "<U0", "<c8", "|S3", "<M8"] {
            let h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (0,), }}");
            let err = NpyArray::parse(&npy(&h, &[])).unwrap_err();
            assert!(
                matches!(err, NpyError::Dtype(_) | NpyError::Header { .. }),
                "{descr}: {err}"
            );
        }
        let strings = NpyArray {
            shape: vec![1],
            data: Elements::Str(vec!["a".into()]),
        };
        assert!(
            strings
                .matrix("s")
                .unwrap_err()
                .to_string()
                .contains("unicode")
        );
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

    /// A version 1.0 file with this header text and `data` after it.
    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    /// The input that hung the first `readers` fuzz target: npyz's grammar
    /// backtracks twice per `[`, so 22 levels took 47 s and 40 would take
    /// days. Refused now before npyz sees it.
    #[test]
    fn deeply_nested_header_is_refused_at_once() {
        for text in [
            "[".repeat(40),
            "{".repeat(40),
            format!("{}{}", "(".repeat(5000), ")".repeat(5000)),
        ] {
            let err = NpyArray::parse(&npy(&text, &[])).unwrap_err();
            assert!(
                matches!(
                    err,
                    NpyError::HeaderTooDeep {
                        offset: 14,
                        limit: 4
                    }
                ),
                "{err}"
            );
        }
        // The nesting of a structured dtype still gets the dtype error.
        let rec = "{'descr': [('a', '<f4', (2,))], 'fortran_order': False, 'shape': (1,), }";
        let err = NpyArray::parse(&npy(rec, &[0; 8])).unwrap_err();
        assert!(matches!(err, NpyError::Dtype(_)), "{err}");
    }

    #[test]
    fn header_sizes_are_checked_before_allocating() {
        // Version 2 announcing a 4 GiB header.
        let mut v = b"\x93NUMPY\x02\x00".to_vec();
        v.extend_from_slice(&u32::MAX.to_le_bytes());
        let err = NpyArray::parse(&v).unwrap_err();
        assert!(matches!(err, NpyError::HeaderTooLong { .. }), "{err}");
        let mut v = npy("{}", &[]);
        v[8] = 200;
        let err = NpyArray::parse(&v).unwrap_err();
        assert!(
            matches!(err, NpyError::Truncated { offset: 10, .. }),
            "{err}"
        );
        let err = NpyArray::parse(b"\x93NUMPY\x07\x00").unwrap_err();
        assert!(
            matches!(err, NpyError::Version { major: 7, minor: 0 }),
            "{err}"
        );
    }

    #[test]
    fn shapes_are_checked_against_the_data() {
        let header =
            |shape: &str| format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
        // Product overflows u64, usize, or is merely larger than the data.
        for shape in [
            "(4294967296, 4294967296, 16)",
            "(2305843009213693952,)",
            "(1000000, 1000000)",
        ] {
            let err = NpyArray::parse(&npy(&header(shape), &[0; 16])).unwrap_err();
            assert!(
                matches!(
                    err,
                    NpyError::TooLarge { .. } | NpyError::LengthMismatch { .. }
                ),
                "{shape}: {err}"
            );
        }
        let err = NpyArray::parse(&npy(&header("(3,)"), &[0; 25])).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("too long: 25 bytes") && msg.contains("needs 24"),
            "{msg}"
        );
        let ok = NpyArray::parse(&npy(&header("(3, 0)"), &[])).unwrap();
        assert_eq!(ok.shape, [3, 0]);
    }
}
