//! The fixed 64-byte header of a model file: encoding and decoding.

use super::{ElementType, Field, Kind, ModelError};
use crate::interaction::{Form, Interaction};

/// The file magic, the first 8 bytes.
pub const MAGIC: [u8; 8] = *b"DAMMODEL";
pub use crate::error::{VERSION, VERSION_1};
/// Bytes before the class labels.
pub const HEADER_LEN: usize = 64;
/// The memories start at a multiple of this many bytes.
pub const DATA_ALIGN: usize = 16;
/// The CRC-32 trailer.
pub const CRC_LEN: usize = 4;

/// What a model stores before its classifier sees a query (version 2,
/// the header's `u32` at offset 56).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
#[non_exhaustive]
pub enum PreprocessingKind {
    /// Queries are used as given (code `0`; every version-1 file).
    #[default]
    None = 0,
    /// A per-feature affine map `x'_i = a_i·x_i + b_i`: `Nv` `f32` scales
    /// `a_i`, then `Nv` `f32` offsets `b_i` (code `1`).
    Affine = 1,
}

/// The format version and the optional sections a header announces: what
/// version 2 adds to [`Header`] (which keeps the fields both versions
/// share).
///
/// ```
/// use dam_core::model::{Layout, PreprocessingKind};
/// assert_eq!(Layout::V1.version, 1);
/// let v2 = Layout { version: 2, preprocessing: PreprocessingKind::Affine, names_len: 12 };
/// assert!(v2.validate().is_ok());
/// // Version 1 has no room for either section.
/// assert!(Layout { version: 1, ..v2 }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Layout {
    /// [`VERSION_1`] or [`VERSION`] (2).
    pub version: u16,
    /// Whether the preprocessing section is present (version 2 only).
    pub preprocessing: PreprocessingKind,
    /// Byte length of the UTF-8 class-names blob, `0` for no names
    /// (version 2 only).
    pub names_len: u32,
}

impl Layout {
    /// A version-1 file: `u32` labels, no preprocessing, no names.
    pub const V1: Layout = Layout {
        version: VERSION_1,
        preprocessing: PreprocessingKind::None,
        names_len: 0,
    };

    /// A version-2 file without preprocessing or names (`i32` labels).
    pub const V2: Layout = Layout {
        version: VERSION,
        preprocessing: PreprocessingKind::None,
        names_len: 0,
    };

    /// Checks the version is known and that a version-1 layout announces
    /// no section (`Field::Reserved` otherwise).
    pub fn validate(&self) -> Result<(), ModelError> {
        match self.version {
            VERSION_1 => {
                if self.preprocessing != PreprocessingKind::None || self.names_len != 0 {
                    return Err(field(
                        Field::Reserved,
                        u64::from(self.preprocessing as u32) | (u64::from(self.names_len) << 32),
                    ));
                }
                Ok(())
            }
            VERSION => Ok(()),
            found => Err(ModelError::UnknownVersion { found }),
        }
    }

    /// Whether class labels are stored as `i32` (version 2) rather than
    /// `u32` (version 1).
    pub fn signed_labels(&self) -> bool {
        self.version >= VERSION
    }
}

/// Where each part of a model file starts, in bytes from the first byte
/// ([`Header::offsets`]). Empty sections have zero length and start where
/// the previous part ends.
///
/// ```
/// use dam_core::model::{ElementType, Header, Kind, Layout, PreprocessingKind};
/// use dam_core::{Form, Interaction};
/// let h = Header {
///     kind: Kind::Classifier, element: ElementType::F32,
///     interaction: Interaction::Polynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
///     k: 2, nv: 3, nc: 2,
/// };
/// let v2 = Layout { version: 2, preprocessing: PreprocessingKind::Affine, names_len: 5 };
/// let o = h.offsets(&v2).unwrap();
/// assert_eq!((o.data, o.data_end), (80, 80 + 2 * 5 * 4));
/// assert_eq!((o.preprocessing, o.names), (128, 160)); // 16-byte boundaries
/// assert_eq!((o.crc, o.total), (160 + 2 * 4 + 5 + 3, 180)); // CRC at a multiple of 4
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Offsets {
    /// The class labels (`Nc` × 4 bytes).
    pub labels: usize,
    /// The per-memory scales of a quantized model (`K` × 4 bytes).
    pub scales: usize,
    /// The memories (a multiple of [`DATA_ALIGN`]).
    pub data: usize,
    /// The end of the memory data (for Potts: of its three blocks).
    pub data_end: usize,
    /// The preprocessing section (`2·Nv` × 4 bytes when present).
    pub preprocessing: usize,
    /// The end of the preprocessing section.
    pub preprocessing_end: usize,
    /// The class-names section (`Nc` × 4 bytes of end offsets, then the
    /// UTF-8 blob, when present).
    pub names: usize,
    /// The end of the class-names section.
    pub names_end: usize,
    /// The CRC-32.
    pub crc: usize,
    /// The file length, CRC included.
    pub total: usize,
}

/// Everything the header says about a model (the fields of
/// `docs/model-format.md` other than magic, version and total length).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// What the memories are for.
    pub kind: Kind,
    /// How each memory entry is stored.
    pub element: ElementType,
    /// The interaction function `F` and its parameters.
    pub interaction: Interaction<f64>,
    /// Raw or normalized, and `β`.
    pub form: Form<f64>,
    /// The number of memories `K`.
    pub k: u32,
    /// Visible units `Nv` (`D` for a [`Kind::Memory`]).
    pub nv: u32,
    /// Label units `Nc` (`0` for a [`Kind::Memory`]).
    pub nc: u32,
}

impl Header {
    /// The dimension of a memory, `D = Nv + Nc` (saturating: a header
    /// where this overflows `usize` fails [`Header::validate`]); `Nv` for a
    /// [`Kind::Potts`] model, whose class weights are stored apart.
    pub fn d(&self) -> usize {
        match self.kind {
            Kind::Potts => self.nv as usize,
            Kind::Classifier | Kind::Memory => (self.nv as usize).saturating_add(self.nc as usize),
        }
    }

    /// The byte offset of the memories: after the header, the `Nc` 4-byte
    /// class labels and (quantized models) the `K` 4-byte scales, rounded
    /// up to [`DATA_ALIGN`] (saturating, as [`Header::d`]).
    pub fn data_offset(&self) -> usize {
        self.checked_data_offset().unwrap_or(usize::MAX)
    }

    /// The byte offset of the per-memory scales (`f32`, quantized models
    /// only): right after the class labels.
    pub fn scales_offset(&self) -> usize {
        HEADER_LEN.saturating_add((self.nc as usize).saturating_mul(4))
    }

    /// The number of per-memory scales: `K` for quantized element types,
    /// else `0`.
    pub fn scale_count(&self) -> usize {
        if self.element.is_quantized() {
            self.k as usize
        } else {
            0
        }
    }

    fn checked_data_offset(&self) -> Option<usize> {
        let end = (self.nc as usize)
            .checked_add(self.scale_count())?
            .checked_mul(4)?
            .checked_add(HEADER_LEN)?;
        end.div_ceil(DATA_ALIGN).checked_mul(DATA_ALIGN)
    }

    /// The total file length of a version-1 file including the CRC, or
    /// `None` if any part of the layout overflows `usize` (as it can on
    /// 32-bit targets). [`Header::offsets`] gives it for any [`Layout`].
    pub fn total_len(&self) -> Option<usize> {
        self.entries()?
            .checked_mul(self.element.size())?
            .checked_add(self.checked_data_offset()?)?
            .checked_add(CRC_LEN)
    }

    /// Where each part of a file with this header and `layout` starts, or
    /// `None` if the layout overflows `usize`. In version 2 the
    /// preprocessing and class-names sections each start at the next
    /// multiple of [`DATA_ALIGN`] after what precedes them, and the CRC at
    /// the next multiple of 4 (zero padding in between); in version 1 the
    /// CRC follows the memories directly.
    pub fn offsets(&self, layout: &Layout) -> Option<Offsets> {
        let data = self.checked_data_offset()?;
        let data_end = self
            .entries()?
            .checked_mul(self.element.size())?
            .checked_add(data)?;
        let align = |at: usize, to: usize| at.checked_next_multiple_of(to);
        let (preprocessing, preprocessing_end) = match layout.preprocessing {
            PreprocessingKind::None => (data_end, data_end),
            PreprocessingKind::Affine => {
                let start = align(data_end, DATA_ALIGN)?;
                (
                    start,
                    (self.nv as usize).checked_mul(8)?.checked_add(start)?,
                )
            }
        };
        let (names, names_end) = if layout.names_len == 0 {
            (preprocessing_end, preprocessing_end)
        } else {
            let start = align(preprocessing_end, DATA_ALIGN)?;
            let len = (self.nc as usize)
                .checked_mul(4)?
                .checked_add(layout.names_len as usize)?;
            (start, start.checked_add(len)?)
        };
        let crc = if layout.version == VERSION_1 {
            names_end
        } else {
            align(names_end, 4)?
        };
        Some(Offsets {
            labels: HEADER_LEN,
            scales: self.scales_offset(),
            data,
            data_end,
            preprocessing,
            preprocessing_end,
            names,
            names_end,
            crc,
            total: crc.checked_add(CRC_LEN)?,
        })
    }

    /// Checks the header against a [`Layout`]: [`Header::validate`],
    /// [`Layout::validate`], names only with `Nc ≥ 1` (`Field::NamesLen`),
    /// and a layout that fits `usize` (`Dims`).
    pub fn validate_layout(&self, layout: &Layout) -> Result<(), ModelError> {
        self.validate()?;
        layout.validate()?;
        if layout.names_len != 0 && self.nc == 0 {
            return Err(field(Field::NamesLen, layout.names_len.into()));
        }
        if self.offsets(layout).is_none() {
            return Err(ModelError::Dims {
                k: self.k,
                nv: self.nv,
                nc: self.nc,
            });
        }
        Ok(())
    }

    /// The number of stored entries: `K·(Nv + Nc)`, and for a
    /// [`Kind::Potts`] model `K·(Nv + Nc + 1)` (memories, class weights,
    /// log-prior); `None` if that overflows `usize`.
    pub fn entries(&self) -> Option<usize> {
        let per_memory = (self.nv as usize).checked_add(self.nc as usize)?;
        let per_memory = match self.kind {
            Kind::Potts => per_memory.checked_add(1)?,
            Kind::Classifier | Kind::Memory => per_memory,
        };
        (self.k as usize).checked_mul(per_memory)
    }

    /// Checks the fields against each other: `K ≥ 1`, `Nv ≥ 1`, `Nc ≥ 1`
    /// for a classifier or Potts model and `0` for a memory, valid `F` and
    /// `β`; a Potts model has the exponential `F` and the raw form.
    pub fn validate(&self) -> Result<(), ModelError> {
        let nc_ok = match self.kind {
            Kind::Classifier | Kind::Potts => self.nc >= 1,
            Kind::Memory => self.nc == 0,
        };
        if self.k == 0 || self.nv == 0 || !nc_ok || self.total_len().is_none() {
            return Err(ModelError::Dims {
                k: self.k,
                nv: self.nv,
                nc: self.nc,
            });
        }
        let degree = self.interaction.degree().unwrap_or(1);
        if self.interaction.validate().is_err() {
            let (field, value) = match self.interaction {
                Interaction::LeakyRectifiedPolynomial { leak, .. } if degree >= 1 => {
                    (Field::Leak, leak.to_bits())
                }
                _ => (Field::Degree, u64::from(degree)),
            };
            return Err(ModelError::Field { field, value });
        }
        if self.kind == Kind::Potts {
            // π = softmax(β w·v + ln p_h): only `β` is free.
            if self.interaction != Interaction::Exponential {
                return Err(ModelError::Field {
                    field: Field::Interaction,
                    value: u64::from(degree),
                });
            }
            if !matches!(self.form, Form::Raw { .. }) {
                return Err(ModelError::Field {
                    field: Field::Form,
                    value: 1,
                });
            }
        }
        if self.form.validate().is_err() {
            return Err(ModelError::Field {
                field: Field::Beta,
                value: self.form.beta().to_bits(),
            });
        }
        Ok(())
    }

    /// Writes the header (with the total length) into its 64 bytes.
    ///
    /// ```
    /// use dam_core::model::{ElementType, Header, Kind};
    /// use dam_core::{Form, Interaction};
    /// let h = Header {
    ///     kind: Kind::Memory, element: ElementType::F32,
    ///     interaction: Interaction::Polynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
    ///     k: 2, nv: 5, nc: 0,
    /// };
    /// let mut buf = [0u8; 64];
    /// h.encode(&mut buf)?;
    /// assert_eq!(Header::decode(&buf)?, (h, 64 + 2 * 5 * 4 + 4));
    /// # Ok::<(), dam_core::model::ModelError>(())
    /// ```
    pub fn encode(&self, out: &mut [u8; HEADER_LEN]) -> Result<(), ModelError> {
        self.encode_layout(&Layout::V1, out)
    }

    /// Writes the header for a file of `layout` (version, preprocessing
    /// code, names length, and the total length that layout gives).
    ///
    /// ```
    /// use dam_core::model::{ElementType, Header, Kind, Layout, PreprocessingKind};
    /// use dam_core::{Form, Interaction};
    /// let h = Header {
    ///     kind: Kind::Classifier, element: ElementType::F32,
    ///     interaction: Interaction::Polynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
    ///     k: 2, nv: 3, nc: 2,
    /// };
    /// let layout = Layout { version: 2, preprocessing: PreprocessingKind::Affine, names_len: 5 };
    /// let mut buf = [0u8; 64];
    /// h.encode_layout(&layout, &mut buf)?;
    /// assert_eq!(buf[8], 2);
    /// assert_eq!(Header::decode_layout(&buf)?, (h, layout, 180));
    /// # Ok::<(), dam_core::model::ModelError>(())
    /// ```
    pub fn encode_layout(
        &self,
        layout: &Layout,
        out: &mut [u8; HEADER_LEN],
    ) -> Result<(), ModelError> {
        self.validate_layout(layout)?;
        let total = self.offsets(layout).map_or(u64::MAX, |o| o.total as u64);
        let (f_code, n, leak) = match self.interaction {
            Interaction::Polynomial { n } => (0u8, n, 0.0),
            Interaction::RectifiedPolynomial { n } => (1, n, 0.0),
            Interaction::LeakyRectifiedPolynomial { n, leak } => (2, n, leak),
            Interaction::Exponential => (3, 0, 0.0),
        };
        let form = match self.form {
            Form::Raw { .. } => 0u8,
            Form::Normalized { .. } => 1,
        };
        *out = [0; HEADER_LEN];
        let mut w = Writer { out, at: 0 };
        w.put(&MAGIC);
        w.put(&layout.version.to_le_bytes());
        w.put(&[self.kind as u8, self.element as u8, f_code, form, 0, 0]);
        w.put(&n.to_le_bytes());
        w.put(&self.k.to_le_bytes());
        w.put(&self.nv.to_le_bytes());
        w.put(&self.nc.to_le_bytes());
        w.put(&self.form.beta().to_le_bytes());
        w.put(&f64::to_le_bytes(leak));
        w.put(&total.to_le_bytes());
        w.put(&(layout.preprocessing as u32).to_le_bytes());
        w.put(&layout.names_len.to_le_bytes());
        Ok(())
    }

    /// Reads a header; returns it with the total file length it declares.
    /// Checks magic, version, codes, reserved bytes and [`Header::validate`]
    /// ([`Header::decode_layout`] also returns the version and sections).
    pub fn decode(bytes: &[u8]) -> Result<(Header, usize), ModelError> {
        Header::decode_layout(bytes).map(|(h, _, total)| (h, total))
    }

    /// Reads a header of either version; returns it with its [`Layout`]
    /// and the total file length it declares. Checks magic, version, codes,
    /// reserved bytes (in version 1 the 8 bytes at offset 56; in version 2
    /// a known preprocessing code, `Field::Preprocessing`) and
    /// [`Header::validate_layout`].
    pub fn decode_layout(bytes: &[u8]) -> Result<(Header, Layout, usize), ModelError> {
        let Some(b) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(ModelError::Length {
                declared: (HEADER_LEN + CRC_LEN) as u64,
                found: bytes.len(),
            });
        };
        let mut r = Reader { b, at: 0 };
        if r.take::<8>() != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let version = u16::from_le_bytes(r.take());
        if version != VERSION_1 && version != VERSION {
            return Err(ModelError::UnknownVersion { found: version });
        }
        let [kind, element, f_code, form, r0, r1] = r.take();
        let n = u32::from_le_bytes(r.take());
        let k = u32::from_le_bytes(r.take());
        let nv = u32::from_le_bytes(r.take());
        let nc = u32::from_le_bytes(r.take());
        let beta = f64::from_le_bytes(r.take());
        let leak = f64::from_le_bytes(r.take());
        let total = u64::from_le_bytes(r.take());
        let reserved = r.take::<8>();
        let v1_reserved = version == VERSION_1 && reserved != [0; 8];
        if r0 != 0 || r1 != 0 || v1_reserved {
            return Err(field(
                Field::Reserved,
                u64::from_le_bytes(reserved) | u64::from(r0 | r1),
            ));
        }
        let [p0, p1, p2, p3, n0, n1, n2, n3] = reserved;
        let preprocessing = match u32::from_le_bytes([p0, p1, p2, p3]) {
            0 => PreprocessingKind::None,
            1 => PreprocessingKind::Affine,
            v => return Err(field(Field::Preprocessing, v.into())),
        };
        let layout = Layout {
            version,
            preprocessing,
            names_len: u32::from_le_bytes([n0, n1, n2, n3]),
        };
        let kind = match kind {
            1 => Kind::Classifier,
            2 => Kind::Memory,
            3 => Kind::Potts,
            v => return Err(field(Field::Kind, v.into())),
        };
        let element = match element {
            1 => ElementType::F32,
            2 => ElementType::F64,
            3 => ElementType::I8,
            4 => ElementType::I16,
            v => return Err(field(Field::Element, v.into())),
        };
        let interaction = match (f_code, leak.to_bits()) {
            (0, 0) => Interaction::Polynomial { n },
            (1, 0) => Interaction::RectifiedPolynomial { n },
            (2, _) => Interaction::LeakyRectifiedPolynomial { n, leak },
            (3, 0) if n == 0 => Interaction::Exponential,
            (0..=1, bits) => return Err(field(Field::Leak, bits)),
            (3, _) => return Err(field(Field::Degree, n.into())),
            (v, _) => return Err(field(Field::Interaction, v.into())),
        };
        let form = match form {
            0 => Form::Raw { beta },
            1 => Form::Normalized { beta },
            v => return Err(field(Field::Form, v.into())),
        };
        let h = Header {
            kind,
            element,
            interaction,
            form,
            k,
            nv,
            nc,
        };
        h.validate_layout(&layout)?;
        match h.offsets(&layout) {
            Some(o) if o.total as u64 == total => Ok((h, layout, o.total)),
            _ => Err(ModelError::Dims { k, nv, nc }),
        }
    }
}

fn field(field: Field, value: u64) -> ModelError {
    ModelError::Field { field, value }
}

struct Writer<'a> {
    out: &'a mut [u8; HEADER_LEN],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        if let Some(dst) = self.out.get_mut(self.at..end) {
            dst.copy_from_slice(bytes);
        }
        self.at = end;
    }
}

struct Reader<'a> {
    b: &'a [u8; HEADER_LEN],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut v = [0u8; N];
        if let Some(src) = self.b.get(self.at..self.at + N) {
            v.copy_from_slice(src);
        }
        self.at += N;
        v
    }
}
