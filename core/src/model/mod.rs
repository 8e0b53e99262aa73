//! The model file format (`docs/model-format.md`): a zero-copy, no-allocation
//! reader.
//!
//! A model is a 64-byte little-endian [`Header`], `Nc` class labels, the
//! `K × D` memories aligned to [`DATA_ALIGN`] bytes, in version 2 an
//! optional input map ([`Model::preprocessing`]) and optional class names
//! ([`Model::class_name`]), and a CRC-32 of everything before it. Version-1
//! files are read as before. [`Model::parse`] checks all of it and borrows the
//! memories straight out of the bytes, so a model in flash
//! (`include_bytes!`) is used in place. The bytes must start at an address
//! aligned for the element type; wrap `include_bytes!` as below.
//!
//! ```
//! use dam_core::model::{Model, Kind};
//! # use dam_core::model::{ElementType, Header, crc32, HEADER_LEN};
//! # use dam_core::{Form, Interaction};
//! #[repr(C, align(16))]
//! struct Aligned<B: ?Sized>(B);
//! # let h = Header { kind: Kind::Classifier, element: ElementType::F32,
//! #     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
//! #     k: 2, nv: 2, nc: 2 };
//! # let mut b = [0u8; 64 + 16 + 2 * 4 * 4 + 4];
//! # let mut head = [0u8; HEADER_LEN]; h.encode(&mut head)?; b[..64].copy_from_slice(&head);
//! # b[64..72].copy_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
//! # for (i, x) in [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0].iter().enumerate() {
//! #     b[80 + 4 * i..84 + 4 * i].copy_from_slice(&x.to_le_bytes()); }
//! # let crc = crc32(&b[..112]); b[112..].copy_from_slice(&crc.to_le_bytes());
//! # let bytes = b;
//! // In firmware: static MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!("model.dam"));
//! let model_bytes = Aligned(bytes);
//! let model = Model::parse(&model_bytes.0)?;
//! assert_eq!(model.header().kind, Kind::Classifier);
//! let clf = model.classifier::<f32>()?; // borrows the memories, no copy
//! let (mut scores, mut scratch) = ([0.0f32; 2], [0.0f32; 2]);
//! let class = clf.forward(&[-0.7, -0.9], &mut scores, &mut scratch)?;
//! assert_eq!(model.label(class), Some(1));
//! # Ok::<(), dam_core::Error>(())
//! ```

mod header;
mod preprocessing;

pub use crate::error::{ElementType, Field, Kind, ModelError};
pub use header::{
    CRC_LEN, DATA_ALIGN, HEADER_LEN, Header, Layout, MAGIC, Offsets, PreprocessingKind, VERSION,
    VERSION_1,
};
pub use preprocessing::Preprocessing;

use crate::error::Result;
use crate::interaction::{Form, Interaction};
use crate::memory::MemoryView;
use crate::real::Real;

/// CRC-32 (ISO-HDLC, the zlib/PNG/gzip polynomial) of `bytes`.
///
/// On bare-metal targets (`target_os = "none"`: the boards) bit by bit,
/// without the 1 KiB table of the hosts' byte-at-a-time loop: the same
/// value, for 1 KiB less flash, at about 8 times the cost of the one check
/// when a model is parsed (on a Cortex-M4F 64 instructions per byte
/// instead of 8: 6 M for the 96 KB MNIST model, 37 ms at 168 MHz).
///
/// ```
/// assert_eq!(dam_core::model::crc32(b"123456789"), 0xcbf4_3926);
/// ```
pub fn crc32(bytes: &[u8]) -> u32 {
    #[cfg(target_os = "none")]
    type Impl = crc::NoTable;
    #[cfg(not(target_os = "none"))]
    type Impl = crc::Table<1>;
    const CRC: crc::Crc<u32, Impl> = crc::Crc::<u32, Impl>::new(&crc::CRC_32_ISO_HDLC);
    CRC.checksum(bytes)
}

/// `f` with its parameter (the leak) converted to another float type, e.g.
/// from the header's f64 to the f32 of the memories.
///
/// ```
/// use dam_core::Interaction;
/// let f: Interaction<f32> = dam_core::model::cast_interaction(Interaction::<f64>::leaky(3));
/// assert_eq!(f, Interaction::LeakyRectifiedPolynomial { n: 3, leak: 0.01 });
/// ```
#[doc(hidden)] // for dam-std's trainers and writers, which hold F in f32 and f64
pub fn cast_interaction<A: Real, B: Real>(f: Interaction<A>) -> Interaction<B> {
    match f {
        Interaction::Polynomial { n } => Interaction::Polynomial { n },
        Interaction::RectifiedPolynomial { n } => Interaction::RectifiedPolynomial { n },
        Interaction::LeakyRectifiedPolynomial { n, leak } => {
            Interaction::LeakyRectifiedPolynomial {
                n,
                leak: B::from_f64(leak.to_f64()),
            }
        }
        Interaction::Exponential => Interaction::Exponential,
    }
}

/// A float type memories can be stored as.
pub trait Element: Real + zerocopy::FromBytes + zerocopy::Immutable {
    /// Its code in the header.
    const TYPE: ElementType;
}

impl Element for f32 {
    const TYPE: ElementType = ElementType::F32;
}

impl Element for f64 {
    const TYPE: ElementType = ElementType::F64;
}

/// A parsed model, borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    header: Header,
    layout: Layout,
    labels: &'a [u8],
    scales: &'a [u8],
    memories: &'a [u8],
    preprocessing: Option<Preprocessing<'a>>,
    name_ends: &'a [u8],
    names: &'a [u8],
}

/// Checks `Nc` name end offsets (little-endian `u32`) against the blob:
/// non-decreasing, the last equal to its length, each name UTF-8.
fn check_names(ends: &[u8], names: &[u8], nc: usize) -> core::result::Result<(), ModelError> {
    let mut start = 0usize;
    for class in 0..nc {
        let offset = u32_at(ends, class).unwrap_or(u32::MAX);
        let end = offset as usize;
        let last = class.checked_add(1) == Some(nc);
        let bad = end < start || end > names.len() || (last && end != names.len());
        let Some(name) = names.get(start..end).filter(|_| !bad) else {
            return Err(ModelError::NameOffset { class, offset });
        };
        if core::str::from_utf8(name).is_err() {
            return Err(ModelError::NameUtf8 { class });
        }
        start = end;
    }
    Ok(())
}

/// `bytes[range]`, or the `Dims` error of `h`.
fn section<'a>(
    bytes: &'a [u8],
    start: usize,
    end: usize,
    h: &Header,
) -> core::result::Result<&'a [u8], ModelError> {
    bytes.get(start..end).ok_or(ModelError::Dims {
        k: h.k,
        nv: h.nv,
        nc: h.nc,
    })
}

/// Checks that `bytes[start..end]` are zero.
fn check_padding(bytes: &[u8], start: usize, end: usize) -> core::result::Result<(), ModelError> {
    let pad = bytes.get(start..end).unwrap_or(&[]);
    match pad.iter().position(|&b| b != 0) {
        None => Ok(()),
        Some(i) => Err(ModelError::Padding {
            offset: start.saturating_add(i),
        }),
    }
}

/// The `i`-th little-endian `u32` of `bytes`.
fn u32_at(bytes: &[u8], i: usize) -> Option<u32> {
    let b = bytes.get(i.checked_mul(4)?..)?.first_chunk::<4>()?;
    Some(u32::from_le_bytes(*b))
}

impl<'a> Model<'a> {
    /// Parses and checks `bytes`: magic, version, length, CRC, header fields,
    /// dimensions, alignment, zero padding, and the version-2 sections
    /// (finite preprocessing parameters; ordered, in-range name offsets and
    /// UTF-8 names), in that order. No allocation, no copy.
    pub fn parse(bytes: &'a [u8]) -> core::result::Result<Self, ModelError> {
        if cfg!(target_endian = "big") {
            return Err(ModelError::BigEndianHost);
        }
        // Magic and version first, so that a foreign file is named as such.
        if bytes.len() >= 10 {
            if bytes.get(..8) != Some(&MAGIC[..]) {
                return Err(ModelError::BadMagic);
            }
            let v = bytes.get(8..10).and_then(|b| b.first_chunk::<2>());
            let v = u16::from_le_bytes(v.copied().unwrap_or([0; 2]));
            if v != VERSION && v != VERSION_1 {
                return Err(ModelError::UnknownVersion { found: v });
            }
        }
        let declared = bytes
            .get(HEADER_LEN - 16..HEADER_LEN - 8)
            .and_then(|b| b.first_chunk::<8>())
            .map(|b| u64::from_le_bytes(*b));
        match declared {
            Some(d) if d == bytes.len() as u64 => {}
            d => {
                return Err(ModelError::Length {
                    declared: d.unwrap_or((HEADER_LEN + CRC_LEN) as u64),
                    found: bytes.len(),
                });
            }
        }
        let (body, trailer) = bytes.split_at(bytes.len() - CRC_LEN);
        let stored = u32::from_le_bytes(trailer.first_chunk::<4>().copied().unwrap_or([0; 4]));
        let computed = crc32(body);
        if stored != computed {
            return Err(ModelError::Crc { stored, computed });
        }
        let (header, layout, total) = Header::decode_layout(body)?;
        let h = &header;
        let dims = ModelError::Dims {
            k: h.k,
            nv: h.nv,
            nc: h.nc,
        };
        let o = match h.offsets(&layout) {
            Some(o) if o.total == total && total == bytes.len() => o,
            _ => return Err(dims),
        };
        let labels = section(body, o.labels, o.scales, h)?;
        let scales_end = o
            .scales
            .checked_add(h.scale_count().saturating_mul(4))
            .ok_or(dims)?;
        let scales = section(body, o.scales, scales_end, h)?;
        let memories = section(body, o.data, o.data_end, h)?;
        // Memories and scales (and the version-2 sections) all start at
        // multiples of `align` from the first byte.
        let align = header.element.align();
        if !(memories.as_ptr() as usize).is_multiple_of(align) {
            return Err(ModelError::Misaligned {
                offset: o.data,
                align,
            });
        }
        check_padding(body, scales_end, o.data)?;
        check_padding(body, o.data_end, o.preprocessing)?;
        check_padding(body, o.preprocessing_end, o.names)?;
        check_padding(body, o.names_end, o.crc)?;
        let preprocessing = match layout.preprocessing {
            PreprocessingKind::None => None,
            PreprocessingKind::Affine => {
                let all = section(body, o.preprocessing, o.preprocessing_end, h)?;
                Some(Preprocessing::from_bytes(
                    all,
                    h.nv as usize,
                    o.preprocessing,
                )?)
            }
        };
        let names_start = o
            .names
            .checked_add((h.nc as usize).saturating_mul(4))
            .ok_or(dims)?;
        let (name_ends, names) = if layout.names_len == 0 {
            (&[][..], &[][..])
        } else {
            let ends = section(body, o.names, names_start, h)?;
            let names = section(body, names_start, o.names_end, h)?;
            check_names(ends, names, h.nc as usize)?;
            (ends, names)
        };
        Ok(Model {
            header,
            layout,
            labels,
            scales,
            memories,
            preprocessing,
            name_ends,
            names,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The format version and the sections present.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The stored label of class `α` (e.g. the digit), `None` if `α ≥ Nc`:
    /// a `u32` in version 1, an `i32` (two's complement) in version 2, both
    /// returned exactly.
    ///
    /// ```
    /// # use dam_core::model::{ElementType, Header, Kind, Layout, Model, crc32};
    /// # use dam_core::{Form, Interaction};
    /// # let h = Header { kind: Kind::Classifier, element: ElementType::F32,
    /// #     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
    /// #     k: 1, nv: 1, nc: 2 };
    /// # #[repr(C, align(16))] struct Aligned([u8; 96]);
    /// # let mut b = Aligned([0u8; 96]);
    /// # let mut head = [0u8; 64]; h.encode_layout(&Layout::V2, &mut head)?;
    /// # b.0[..64].copy_from_slice(&head);
    /// # b.0[64..72].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0]);
    /// # b.0[80..92].copy_from_slice(&[0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf]);
    /// # let crc = crc32(&b.0[..92]); b.0[92..].copy_from_slice(&crc.to_le_bytes());
    /// // A version-2 model whose classes are labelled -1 and 1:
    /// let model = Model::parse(&b.0)?;
    /// assert_eq!((model.label_value(0), model.label_value(1)), (Some(-1), Some(1)));
    /// assert_eq!(model.label(0), None); // not a u32
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn label_value(&self, alpha: usize) -> Option<i64> {
        let bits = u32_at(self.labels, alpha)?;
        Some(if self.layout.signed_labels() {
            i64::from(bits as i32)
        } else {
            i64::from(bits)
        })
    }

    /// The label of class `α` as a `u32`: `None` if `α ≥ Nc` or if the
    /// label is negative ([`Model::label_value`] returns every label).
    pub fn label(&self, alpha: usize) -> Option<u32> {
        u32::try_from(self.label_value(alpha)?).ok()
    }

    /// The name of class `α`, `None` if `α ≥ Nc` or the model stores no
    /// names (a stored empty name is `Some("")`).
    ///
    /// ```
    /// # use dam_core::model::{ElementType, Header, Kind, Layout, Model, crc32};
    /// # use dam_core::{Form, Interaction};
    /// # let h = Header { kind: Kind::Classifier, element: ElementType::F32,
    /// #     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
    /// #     k: 1, nv: 1, nc: 2 };
    /// # let layout = Layout { names_len: 9, ..Layout::V2 };
    /// # #[repr(C, align(16))] struct Aligned([u8; 120]);
    /// # let mut b = Aligned([0u8; 120]);
    /// # let mut head = [0u8; 64]; h.encode_layout(&layout, &mut head)?;
    /// # b.0[..64].copy_from_slice(&head);
    /// # b.0[64..72].copy_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
    /// # b.0[80..92].copy_from_slice(&[0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf]);
    /// # b.0[96..104].copy_from_slice(&[4, 0, 0, 0, 9, 0, 0, 0]);
    /// # b.0[104..113].copy_from_slice(b"cold warm");
    /// # let crc = crc32(&b.0[..116]); b.0[116..].copy_from_slice(&crc.to_le_bytes());
    /// let model = Model::parse(&b.0)?;
    /// assert_eq!(model.class_name(0), Some("cold"));
    /// assert_eq!(model.class_name(1), Some(" warm"));
    /// assert_eq!(model.class_name(2), None);
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn class_name(&self, alpha: usize) -> Option<&'a str> {
        let end = u32_at(self.name_ends, alpha)? as usize;
        let start = match alpha.checked_sub(1) {
            None => 0,
            Some(prev) => u32_at(self.name_ends, prev)? as usize,
        };
        core::str::from_utf8(self.names.get(start..end)?).ok()
    }

    /// The stored input map, `None` if the model has none (always in
    /// version 1): feed raw features through [`Preprocessing::apply`] (or
    /// [`Preprocessing::apply_quantized`] for an `i8`/`i16` model) before
    /// the classifier.
    pub fn preprocessing(&self) -> Option<Preprocessing<'a>> {
        self.preprocessing
    }

    /// The raw little-endian bytes of the memories.
    pub fn memory_bytes(&self) -> &'a [u8] {
        self.memories
    }

    /// The interaction function, in `T`.
    pub fn interaction<T: Real>(&self) -> Interaction<T> {
        cast_interaction(self.header.interaction)
    }

    /// The form and `β`, in `T`.
    pub fn form<T: Real>(&self) -> Form<T> {
        match self.header.form {
            Form::Raw { beta } => Form::Raw {
                beta: T::from_f64(beta),
            },
            Form::Normalized { beta } => Form::Normalized {
                beta: T::from_f64(beta),
            },
        }
    }

    /// The memories as a `K × D` view (no copy). Errors: another element
    /// type, or a non-finite entry.
    pub fn memories<T: Element>(&self) -> Result<MemoryView<'a, T>> {
        let (k, d) = (self.header.k as usize, self.header.d());
        let data = self.entries::<T>()?;
        // `Header::decode` checked that K·D entries (and more) fit.
        let rows = k.checked_mul(d).and_then(|n| data.get(..n));
        MemoryView::new(rows.unwrap_or(data), k, d)
    }

    /// The per-memory scales of a quantized model, as stored.
    pub(crate) fn scale_bytes(&self) -> &'a [u8] {
        self.scales
    }

    /// Every stored entry, in `T` (no copy).
    pub(crate) fn entries<T: Element>(&self) -> Result<&'a [T]> {
        if self.header.element != T::TYPE {
            return Err(ModelError::ElementType {
                stored: self.header.element,
                requested: T::TYPE,
            }
            .into());
        }
        Ok(
            <[T] as zerocopy::FromBytes>::ref_from_bytes(self.memories).map_err(|_| {
                ModelError::Misaligned {
                    offset: self.header.data_offset(),
                    align: T::TYPE.size(),
                }
            })?,
        )
    }

    /// [`ModelError::WrongKind`] unless this is a [`Kind::Classifier`].
    pub(crate) fn expect_classifier(&self) -> Result<()> {
        if self.header.kind != Kind::Classifier {
            return Err(ModelError::WrongKind {
                expected: Kind::Classifier,
                found: self.header.kind,
            }
            .into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::error::Error;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// A valid f32 model with `k` memories of `nv + nc`, entries `x/10`.
    fn model(k: u32, nv: u32, nc: u32) -> Vec<u8> {
        model_of(ElementType::F32, k, nv, nc)
    }

    /// A valid model of `element`: entries `x/10` (f32, f64), or levels
    /// `(i % 20) − 10` with scales `(μ + 1)/100` (i8, i16).
    fn model_of(element: ElementType, k: u32, nv: u32, nc: u32) -> Vec<u8> {
        let h = Header {
            kind: if nc == 0 {
                Kind::Memory
            } else {
                Kind::Classifier
            },
            element,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            form: Form::Normalized { beta: 1.0 },
            k,
            nv,
            nc,
        };
        let mut head = [0u8; HEADER_LEN];
        h.encode(&mut head).unwrap();
        let mut out = head.to_vec();
        for a in 0..nc {
            out.extend_from_slice(&(a + 100).to_le_bytes());
        }
        for mu in 0..h.scale_count() {
            out.extend_from_slice(&((mu + 1) as f32 / 100.0).to_le_bytes());
        }
        out.resize(h.data_offset(), 0);
        for i in 0..k * (nv + nc) {
            let level = (i % 20) as i16 - 10;
            match element {
                ElementType::F32 => out.extend_from_slice(&(f32::from(level) / 10.0).to_le_bytes()),
                ElementType::F64 => out.extend_from_slice(&(f64::from(level) / 10.0).to_le_bytes()),
                ElementType::I8 => out.push(level as u8),
                ElementType::I16 => out.extend_from_slice(&level.to_le_bytes()),
            }
        }
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// A valid version-2 f32 classifier (entries as [`model_of`]) with
    /// labels `labels`, the input map `a_i = i/4 − 1`, `b_i = 0.5 − i` if
    /// `affine`, and `names` if any.
    fn model_v2(k: u32, nv: u32, labels: &[i32], affine: bool, names: &[&str]) -> Vec<u8> {
        let nc = labels.len() as u32;
        let h = Header {
            kind: Kind::Classifier,
            element: ElementType::F32,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            form: Form::Normalized { beta: 1.0 },
            k,
            nv,
            nc,
        };
        let names_len: usize = names.iter().map(|n| n.len()).sum();
        let layout = Layout {
            version: VERSION,
            preprocessing: if affine {
                PreprocessingKind::Affine
            } else {
                PreprocessingKind::None
            },
            names_len: names_len as u32,
        };
        let o = h.offsets(&layout).unwrap();
        let mut head = [0u8; HEADER_LEN];
        h.encode_layout(&layout, &mut head).unwrap();
        let mut out = head.to_vec();
        for l in labels {
            out.extend_from_slice(&l.to_le_bytes());
        }
        out.resize(o.data, 0);
        for i in 0..k * (nv + nc) {
            out.extend_from_slice(&(((i % 20) as f32 - 10.0) / 10.0).to_le_bytes());
        }
        if affine {
            out.resize(o.preprocessing, 0);
            for i in 0..nv {
                out.extend_from_slice(&(i as f32 / 4.0 - 1.0).to_le_bytes());
            }
            for i in 0..nv {
                out.extend_from_slice(&(0.5 - i as f32).to_le_bytes());
            }
        }
        if names_len > 0 {
            out.resize(o.names, 0);
            let mut end = 0u32;
            for n in names {
                end += n.len() as u32;
                out.extend_from_slice(&end.to_le_bytes());
            }
            for n in names {
                out.extend_from_slice(n.as_bytes());
            }
        }
        out.resize(o.crc, 0);
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(out.len(), o.total);
        out
    }

    /// Rewrites the CRC after an edit, so that the other checks are reached.
    fn fix_crc(b: &mut [u8]) {
        let n = b.len() - CRC_LEN;
        let crc = crc32(&b[..n]);
        b[n..].copy_from_slice(&crc.to_le_bytes());
    }

    fn parse_copy(b: &[u8]) -> core::result::Result<(), ModelError> {
        let w = aligned(b);
        Model::parse(as_bytes(&w, b.len())).map(|_| ())
    }

    #[test]
    fn version_2_sections_read_back() {
        let b = model_v2(3, 5, &[-1, 7, i32::MIN], true, &["neg", "", "Ωmega"]);
        let w = aligned(&b);
        let m = Model::parse(as_bytes(&w, b.len())).unwrap();
        assert_eq!(m.layout().version, 2);
        assert_eq!(
            (0..4).map(|a| m.label_value(a)).collect::<Vec<_>>(),
            [Some(-1), Some(7), Some(i64::from(i32::MIN)), None]
        );
        assert_eq!((m.label(0), m.label(1)), (None, Some(7)));
        assert_eq!(
            (0..4).map(|a| m.class_name(a)).collect::<Vec<_>>(),
            [Some("neg"), Some(""), Some("Ωmega"), None]
        );
        let p = m.preprocessing().unwrap();
        let a: Vec<f32> = (0..5).map(|i| i as f32 / 4.0 - 1.0).collect();
        let o: Vec<f32> = (0..5).map(|i| 0.5 - i as f32).collect();
        assert_eq!((p.scales(), p.offsets()), (&a[..], &o[..]));
        assert_eq!(m.memories::<f32>().unwrap().row(0).unwrap()[1], -0.9);
        let clf = crate::Classifier::<f32>::try_from(&m).unwrap();
        let mut x = [0.0f32; 5];
        p.apply(&[1.0, 2.0, 3.0, 4.0, 5.0], &mut x).unwrap();
        assert!(clf.forward(&x, &mut [0.0; 3], &mut [0.0; 3]).unwrap() < 3);

        // Labels alone make a version-2 file with no sections.
        let b = model_v2(2, 3, &[-5, 5], false, &[]);
        let w = aligned(&b);
        let m = Model::parse(as_bytes(&w, b.len())).unwrap();
        assert_eq!((m.label_value(0), m.class_name(0)), (Some(-5), None));
        assert!(m.preprocessing().is_none());
    }

    /// A version-1 file reads as before: unsigned labels, no sections.
    #[test]
    fn version_1_still_reads() {
        let b = model(3, 5, 2);
        assert_eq!(b[8], 1);
        let w = aligned(&b);
        let m = Model::parse(as_bytes(&w, b.len())).unwrap();
        assert_eq!(*m.layout(), Layout::V1);
        assert_eq!((m.label_value(1), m.label(1)), (Some(101), Some(101)));
        assert!(m.preprocessing().is_none() && m.class_name(0).is_none());
        // A u32 label above i32::MAX stays positive in version 1.
        let mut b = b;
        b[64..68].copy_from_slice(&u32::MAX.to_le_bytes());
        fix_crc(&mut b);
        let w = aligned(&b);
        let m = Model::parse(as_bytes(&w, b.len())).unwrap();
        assert_eq!(m.label_value(0), Some(i64::from(u32::MAX)));
        // The bytes at 56 must stay zero in version 1.
        let mut b = model(3, 5, 2);
        b[56] = 1;
        fix_crc(&mut b);
        assert!(matches!(
            parse_copy(&b),
            Err(ModelError::Field {
                field: Field::Reserved,
                ..
            })
        ));
    }

    /// Every single-byte corruption of a version-2 model with every
    /// section is rejected.
    #[test]
    fn every_byte_of_a_version_2_model_is_checked() {
        let good = model_v2(2, 3, &[-1, 1], true, &["no", "yés"]);
        assert!(parse_copy(&good).is_ok());
        for at in 0..good.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut b = good.clone();
                b[at] ^= flip;
                assert!(parse_copy(&b).is_err(), "byte {at} ^ {flip:#x} accepted");
            }
        }
    }

    /// With the CRC fixed up, each section check names its problem.
    #[test]
    fn version_2_typed_errors() {
        let good = model_v2(2, 3, &[-1, 1], true, &["no", "yés"]);
        let w = aligned(&good);
        let m = Model::parse(as_bytes(&w, good.len())).unwrap();
        let o = m.header().offsets(m.layout()).unwrap();
        let edit = |at: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[at..at + bytes.len()].copy_from_slice(bytes);
            fix_crc(&mut b);
            parse_copy(&b)
        };
        assert_eq!(
            edit(56, &[2]),
            Err(ModelError::Field {
                field: Field::Preprocessing,
                value: 2
            })
        );
        assert_eq!(
            edit(9, &[1]),
            Err(ModelError::UnknownVersion { found: 0x102 })
        );
        assert_eq!(
            edit(o.preprocessing + 4, &f32::NAN.to_le_bytes()),
            Err(ModelError::Preprocessing { index: 1 })
        );
        assert_eq!(
            edit(o.preprocessing + 20, &f32::INFINITY.to_le_bytes()),
            Err(ModelError::Preprocessing { index: 5 })
        );
        assert_eq!(
            edit(o.names, &9u32.to_le_bytes()),
            Err(ModelError::NameOffset {
                class: 0,
                offset: 9
            })
        );
        assert_eq!(
            edit(o.names, &4u32.to_le_bytes()),
            Err(ModelError::NameUtf8 { class: 0 }) // "noy" and half of "é"
        );
        assert_eq!(
            edit(o.names + 4, &5u32.to_le_bytes()),
            Err(ModelError::NameOffset {
                class: 1,
                offset: 5
            })
        );
        assert_eq!(
            edit(o.names + 8 + 3, &[0xff]),
            Err(ModelError::NameUtf8 { class: 1 })
        );
        assert_eq!(
            edit(o.data_end, &[1]),
            Err(ModelError::Padding { offset: o.data_end })
        );
        assert_eq!(
            edit(o.crc - 1, &[1]),
            Err(ModelError::Padding { offset: o.crc - 1 })
        );
        // Names on a model without classes.
        let mut b = model(2, 4, 0);
        b[8] = 2;
        b[60] = 1;
        fix_crc(&mut b);
        assert!(matches!(
            parse_copy(&b),
            Err(ModelError::Field {
                field: Field::NamesLen,
                value: 1
            })
        ));
    }

    /// Copies into 16-byte-aligned storage.
    fn aligned(bytes: &[u8]) -> Vec<u128> {
        let mut words = std::vec![0u128; bytes.len().div_ceil(16)];
        for (i, &b) in bytes.iter().enumerate() {
            words[i / 16] |= u128::from(b) << (8 * (i % 16));
        }
        words
    }

    fn as_bytes(words: &[u128], len: usize) -> &[u8] {
        <[u8] as zerocopy::FromBytes>::ref_from_bytes(zerocopy::IntoBytes::as_bytes(words))
            .unwrap()
            .get(..len)
            .unwrap()
    }

    #[test]
    fn parses_and_views() {
        let b = model(3, 5, 2);
        let w = aligned(&b);
        let m = Model::parse(as_bytes(&w, b.len())).unwrap();
        assert_eq!(
            (m.label(0), m.label(1), m.label(2)),
            (Some(100), Some(101), None)
        );
        assert_eq!(m.label(usize::MAX), None);
        let v = m.memories::<f32>().unwrap();
        assert_eq!((v.k(), v.d()), (3, 7));
        assert_eq!(v.row(0).unwrap()[1], -0.9);
    }

    #[test]
    fn quantized_models_round_trip() {
        let b = model_of(ElementType::I8, 3, 5, 2);
        let w = aligned(&b);
        let m = Model::parse(as_bytes(&w, b.len())).unwrap();
        assert_eq!(m.header().data_offset(), 96); // 64 + 2·4 labels + 3·4 scales, rounded up
        let v = m.quantized::<i8>().unwrap();
        assert_eq!((v.k(), v.d()), (3, 7));
        assert_eq!(v.scales(), &[0.01, 0.02, 0.03]);
        let want: Vec<i8> = (0..21).map(|i| (i % 20) as i8 - 10).collect();
        assert_eq!(v.levels(), &want[..]);
        assert!(m.quantized_classifier::<i8>().is_ok());
        assert!(m.fixed_classifier().is_ok());
        assert!(crate::quantized::QuantizedClassifier::<i8>::try_from(&m).is_ok());
        assert!(crate::quantized::FixedClassifier::try_from(&m).is_ok());
        assert!(crate::quantized::QuantizedView::<i16>::try_from(&m).is_err());
        assert!(crate::PottsClassifier::<f32>::try_from(&m).is_err()); // not a Potts model
        assert_eq!(
            m.quantized::<i16>().unwrap_err(),
            Error::Model(ModelError::ElementType {
                stored: ElementType::I8,
                requested: ElementType::I16
            })
        );
        assert!(m.memories::<f32>().is_err());

        let b = model_of(ElementType::I16, 2, 9, 0);
        let w = aligned(&b);
        let m = Model::parse(as_bytes(&w, b.len())).unwrap();
        let v = m.quantized::<i16>().unwrap();
        assert_eq!(v.value(1, 2), Some(0.02)); // level (9 + 2) − 10
        assert!(m.quantized_classifier::<i16>().is_err()); // a memory, not a classifier
    }

    /// The scales are `f32`: an `i8` model at an odd address is refused.
    #[test]
    fn quantized_models_need_four_byte_alignment() {
        let b = model_of(ElementType::I8, 2, 5, 1);
        let mut shifted = std::vec![0u8];
        shifted.extend_from_slice(&b);
        let w = aligned(&shifted);
        let bytes = &as_bytes(&w, shifted.len())[1..];
        assert_eq!(
            Model::parse(bytes).unwrap_err(),
            ModelError::Misaligned {
                offset: 80,
                align: 4
            }
        );
    }

    /// Every single-byte corruption of a quantized model, at every offset,
    /// is rejected (CRC-32 catches every burst of up to 32 bits).
    #[test]
    fn every_byte_of_a_quantized_model_is_checked() {
        for element in [ElementType::I8, ElementType::I16] {
            let good = model_of(element, 3, 6, 2);
            for at in 0..good.len() {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut b = good.clone();
                    b[at] ^= flip;
                    let w = aligned(&b);
                    assert!(
                        Model::parse(as_bytes(&w, b.len())).is_err(),
                        "{element:?} byte {at} ^ {flip:#x} accepted"
                    );
                }
            }
        }
    }

    /// Dimensions whose layout overflows `usize` (here or on a 32-bit
    /// target) are rejected, not wrapped.
    #[test]
    fn huge_dimensions_are_refused() {
        for (k, nv, nc) in [
            (u32::MAX, u32::MAX, 0),
            (1, u32::MAX, u32::MAX),
            (1, 1, u32::MAX),
        ] {
            let h = Header {
                kind: if nc == 0 {
                    Kind::Memory
                } else {
                    Kind::Classifier
                },
                element: ElementType::F64,
                interaction: Interaction::Exponential,
                form: Form::Raw { beta: 1.0 },
                k,
                nv,
                nc,
            };
            let mut head = [0u8; HEADER_LEN];
            let r = h.encode(&mut head);
            if usize::BITS == 32 || k == u32::MAX {
                assert!(matches!(r, Err(ModelError::Dims { .. })), "{k} {nv} {nc}");
            }
            // A file claiming these dims but holding 68 bytes: refused.
            let mut b = head.to_vec();
            let crc = crc32(&b);
            b.extend_from_slice(&crc.to_le_bytes());
            let w = aligned(&b);
            assert!(Model::parse(as_bytes(&w, b.len())).is_err());
        }
    }

    use crate::test_config::proptest_config as config;

    proptest! {
        #![proptest_config(config(ProptestConfig::default(), 16))]

        /// The boards' bit-by-bit CRC-32 is the hosts' table-driven one.
        #[test]
        fn crc32_without_table_is_the_same(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            const BITWISE: crc::Crc<u32, crc::NoTable> = crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);
            prop_assert_eq!(BITWISE.checksum(&bytes), crc32(&bytes));
        }

        /// Arbitrary bytes, and arbitrary edits of a valid model, never
        /// panic; an edit the CRC does not cover is caught by another check.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let w = aligned(&bytes);
            let _ = Model::parse(as_bytes(&w, bytes.len()));
        }

        /// `apply` is the scalar formula bit for bit, and `apply_quantized`
        /// is `apply` then `quantize_query`.
        #[test]
        fn preprocessing_is_the_scalar_formula(
            v in proptest::collection::vec((-1e3f32..1e3, -10f32..10.0, -10f32..10.0), 1..40),
        ) {
            let raw: Vec<f32> = v.iter().map(|t| t.0).collect();
            let a: Vec<f32> = v.iter().map(|t| t.1).collect();
            let b: Vec<f32> = v.iter().map(|t| t.2).collect();
            let p = Preprocessing::new(&a, &b).unwrap();
            let mut out = std::vec![0.0f32; v.len()];
            p.apply(&raw, &mut out).unwrap();
            for i in 0..v.len() {
                let want = a[i] * raw[i] + b[i];
                prop_assert_eq!(out[i].to_bits(), want.to_bits());
            }
            let mut q = std::vec![0i8; v.len()];
            let mut want = std::vec![0i8; v.len()];
            p.apply_quantized(&raw, &mut q).unwrap();
            crate::quantized::quantize_query(&out, &mut want).unwrap();
            prop_assert_eq!(&q, &want);
            let mut q = std::vec![0i16; v.len()];
            let mut want = std::vec![0i16; v.len()];
            p.apply_quantized(&raw, &mut q).unwrap();
            crate::quantized::quantize_query(&out, &mut want).unwrap();
            prop_assert_eq!(&q, &want);
        }

        #[test]
        fn edits_of_a_version_2_model_are_rejected(
            at in 0usize..1000, value in any::<u8>(), cut in 0usize..4,
        ) {
            let mut b = model_v2(3, 5, &[-2, 0, 9], true, &["a", "bb", "ccc"]);
            let at = at % b.len();
            prop_assume!(b[at] != value);
            b[at] = value;
            b.truncate(b.len() - cut);
            prop_assert!(parse_copy(&b).is_err());
        }

        #[test]
        fn edits_of_a_valid_model_are_rejected(
            at in 0usize..1000, value in any::<u8>(), cut in 0usize..4,
        ) {
            let mut b = model(4, 6, 3);
            let at = at % b.len();
            prop_assume!(b[at] != value);
            b[at] = value;
            b.truncate(b.len() - cut);
            let w = aligned(&b);
            prop_assert!(Model::parse(as_bytes(&w, b.len())).is_err());
        }
    }
}
