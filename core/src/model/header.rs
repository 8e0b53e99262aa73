//! The fixed 64-byte header of a model file: encoding and decoding.

use super::{ElementType, Field, Kind, ModelError};
use crate::interaction::{Form, Interaction};

/// The file magic, the first 8 bytes.
pub const MAGIC: [u8; 8] = *b"DAMMODEL";
/// The format version this reader understands.
pub const VERSION: u16 = 1;
/// Bytes before the class labels.
pub const HEADER_LEN: usize = 64;
/// The memories start at a multiple of this many bytes.
pub const DATA_ALIGN: usize = 16;
/// The CRC-32 trailer.
pub const CRC_LEN: usize = 4;

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

    /// The total file length including the CRC, or `None` if any part of
    /// the layout overflows `usize` (as it can on 32-bit targets).
    pub fn total_len(&self) -> Option<usize> {
        self.entries()?
            .checked_mul(self.element.size())?
            .checked_add(self.checked_data_offset()?)?
            .checked_add(CRC_LEN)
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
        self.validate()?;
        let total = self.total_len().unwrap_or(usize::MAX) as u64;
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
        w.put(&VERSION.to_le_bytes());
        w.put(&[self.kind as u8, self.element as u8, f_code, form, 0, 0]);
        w.put(&n.to_le_bytes());
        w.put(&self.k.to_le_bytes());
        w.put(&self.nv.to_le_bytes());
        w.put(&self.nc.to_le_bytes());
        w.put(&self.form.beta().to_le_bytes());
        w.put(&f64::to_le_bytes(leak));
        w.put(&total.to_le_bytes());
        Ok(())
    }

    /// Reads a header; returns it with the total file length it declares.
    /// Checks magic, version, codes, reserved bytes and [`Header::validate`].
    pub fn decode(bytes: &[u8]) -> Result<(Header, usize), ModelError> {
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
        if version != VERSION {
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
        if r0 != 0 || r1 != 0 || reserved != [0; 8] {
            return Err(field(
                Field::Reserved,
                u64::from_le_bytes(reserved) | u64::from(r0 | r1),
            ));
        }
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
        h.validate()?;
        match h.total_len() {
            Some(t) if t as u64 == total => Ok((h, t)),
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
