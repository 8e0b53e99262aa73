//! Model files: the atomic writer (the reader is [`dam_core::model`]).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` atomically: into a temporary file in the same
/// directory, flushed to disk, then renamed over `path`. A crash or an error
/// leaves either the old file or the new one, never a partial file.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.bin");
/// dam_std::model_io::write_atomic(&path, b"hello")?;
/// assert_eq!(std::fs::read(&path)?, b"hello");
/// assert!(dam_std::model_io::write_atomic(&dir.path().join("no/such/dir/x"), b"x").is_err());
/// # Ok(()) }
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| {
        format!(
            "cannot write {}: cannot create a file in {}",
            path.display(),
            dir.display()
        )
    })?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    // The error owns the temporary file; delete it now rather than when the
    // error is dropped, which a program exiting on the error never does.
    tmp.persist(path).map_err(|e| {
        let _ = e.file.close();
        anyhow::Error::new(e.error).context(format!("cannot write {}", path.display()))
    })?;
    Ok(())
}

use anyhow::bail;
use dam_core::model::{CRC_LEN, ElementType, HEADER_LEN, Header, Model, crc32};
use zerocopy::IntoBytes;

/// Memory entries to store, by element type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Entries<'a> {
    /// `f32` entries.
    F32(&'a [f32]),
    /// `f64` entries.
    F64(&'a [f64]),
    /// `i8` levels with one scale per memory (`ξ^μ_i = scales[μ]·levels[μ·D + i]`).
    I8 {
        /// `K × D` levels.
        levels: &'a [i8],
        /// `K` scales.
        scales: &'a [f32],
    },
    /// `i16` levels with one scale per memory.
    I16 {
        /// `K × D` levels.
        levels: &'a [i16],
        /// `K` scales.
        scales: &'a [f32],
    },
}

/// Encodes a model: the header, `labels` (one per class, `Nc` of them), the
/// memories (`K × D`, row-major; for a Potts model followed by the class
/// weights and the log-prior, [`Header::entries`]), padding and the CRC-32
/// (`docs/model-format.md`), with the per-memory scales of quantized
/// entries after the labels. The header's element type is taken from
/// `memories`.
///
/// ```
/// use dam_core::model::{ElementType, Header, Kind, Model};
/// use dam_core::{Form, Interaction};
/// use dam_std::model_io::{Entries, encode, AlignedBytes};
/// let header = Header {
///     kind: Kind::Memory, element: ElementType::F32,
///     interaction: Interaction::Polynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
///     k: 2, nv: 3, nc: 0,
/// };
/// let bytes = AlignedBytes::new(&encode(&header, &[], Entries::F32(&[1., -1., 1., -1., -1., 1.]))?);
/// let model = Model::parse(bytes.as_bytes())?;
/// assert_eq!(model.memories::<f32>()?.row(1), Some(&[-1.0f32, -1.0, 1.0][..]));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn encode(header: &Header, labels: &[u32], memories: Entries<'_>) -> Result<Vec<u8>> {
    let mut header = *header;
    let (element, bytes, len, scales): (_, &[u8], usize, &[f32]) = match memories {
        Entries::F32(v) => (ElementType::F32, v.as_bytes(), v.len(), &[]),
        Entries::F64(v) => (ElementType::F64, v.as_bytes(), v.len(), &[]),
        Entries::I8 { levels, scales } => {
            (ElementType::I8, levels.as_bytes(), levels.len(), scales)
        }
        Entries::I16 { levels, scales } => {
            (ElementType::I16, levels.as_bytes(), levels.len(), scales)
        }
    };
    header.element = element;
    if cfg!(target_endian = "big") {
        bail!("writing models on big-endian hosts is not supported");
    }
    if labels.len() != header.nc as usize {
        bail!("{} class labels for Nc = {}", labels.len(), header.nc);
    }
    if Some(len) != header.entries() {
        bail!(
            "{len} entries for K = {} × D = {} ({:?} model)",
            header.k,
            header.d(),
            header.kind
        );
    }
    if scales.len() != header.scale_count() {
        bail!(
            "{} scales for K = {} {element:?} memories",
            scales.len(),
            header.k
        );
    }
    let mut head = [0u8; HEADER_LEN];
    header
        .encode(&mut head)
        .map_err(|e| anyhow::anyhow!("cannot encode the model header: {e}"))?;
    let mut out = Vec::with_capacity(header.total_len().unwrap_or(0));
    out.extend_from_slice(&head);
    for l in labels {
        out.extend_from_slice(&l.to_le_bytes());
    }
    out.extend_from_slice(scales.as_bytes());
    out.resize(header.data_offset(), 0);
    out.extend_from_slice(bytes);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    debug_assert_eq!(Some(out.len()), header.total_len());
    debug_assert!(out.len() >= HEADER_LEN + CRC_LEN);
    Ok(out)
}

/// Encodes and writes a model atomically.
pub fn save(path: &Path, header: &Header, labels: &[u32], memories: Entries<'_>) -> Result<()> {
    write_atomic(path, &encode(header, labels, memories)?)
}

/// Bytes stored at a 16-byte-aligned address, so that [`Model::parse`] can
/// view the memories in place.
#[derive(Debug, Clone)]
pub struct AlignedBytes {
    words: Vec<u128>,
    len: usize,
}

impl AlignedBytes {
    /// Copies `bytes` into aligned storage.
    pub fn new(bytes: &[u8]) -> Self {
        let mut words = vec![0u128; bytes.len().div_ceil(16)];
        words.as_mut_bytes()[..bytes.len()].copy_from_slice(bytes);
        AlignedBytes {
            words,
            len: bytes.len(),
        }
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.words.as_bytes()[..self.len]
    }
}

/// Reads a model file into aligned memory and checks it with
/// [`Model::parse`]; call [`load`]`(…)?.as_bytes()` and parse again (free)
/// to use it. Errors name the file and the problem.
pub fn load(path: &Path) -> Result<AlignedBytes> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bytes = AlignedBytes::new(&raw);
    Model::parse(bytes.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: not a usable model: {e}", path.display()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::model::{Kind, ModelError};
    use dam_core::{Form, Interaction};

    fn small() -> (Header, Vec<u32>, Vec<f32>) {
        let h = Header {
            kind: Kind::Classifier,
            element: ElementType::F32,
            interaction: Interaction::leaky(4),
            form: Form::Raw { beta: 1e-3 },
            k: 3,
            nv: 4,
            nc: 2,
        };
        let xi = (0..18).map(|i| (i as f32 / 9.0) - 1.0).collect();
        (h, vec![7, 9], xi)
    }

    #[test]
    fn round_trip_f32_and_f64() {
        let (h, labels, xi) = small();
        let bytes = AlignedBytes::new(&encode(&h, &labels, Entries::F32(&xi)).unwrap());
        let m = Model::parse(bytes.as_bytes()).unwrap();
        assert_eq!(*m.header(), h);
        assert_eq!(
            (m.label(0), m.label(1), m.label(2)),
            (Some(7), Some(9), None)
        );
        assert_eq!(m.memories::<f32>().unwrap().as_slice(), &xi[..]);
        assert!(m.memories::<f64>().is_err());
        let clf = m.classifier::<f32>().unwrap();
        assert_eq!((clf.visible(), clf.classes()), (4, 2));

        let xd: Vec<f64> = xi.iter().map(|&x| f64::from(x)).collect();
        let hd = Header {
            kind: Kind::Memory,
            nv: 6,
            nc: 0,
            form: Form::Normalized { beta: 0.5 },
            interaction: Interaction::Exponential,
            ..h
        };
        let bytes = AlignedBytes::new(&encode(&hd, &[], Entries::F64(&xd)).unwrap());
        let m = Model::parse(bytes.as_bytes()).unwrap();
        assert_eq!(m.header().element, ElementType::F64);
        assert_eq!(m.memories::<f64>().unwrap().as_slice(), &xd[..]);
        assert_eq!(
            m.classifier::<f64>().unwrap_err(),
            dam_core::Error::Model(ModelError::WrongKind {
                expected: Kind::Classifier,
                found: Kind::Memory
            })
        );
    }

    #[test]
    fn every_single_byte_corruption_is_rejected() {
        let (h, labels, xi) = small();
        let good = encode(&h, &labels, Entries::F32(&xi)).unwrap();
        for i in 0..good.len() {
            for delta in [1u8, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] ^= delta;
                let bytes = AlignedBytes::new(&bad);
                assert!(
                    Model::parse(bytes.as_bytes()).is_err(),
                    "flip {delta:#x} at byte {i} accepted"
                );
            }
        }
        for n in 0..good.len() {
            let bytes = AlignedBytes::new(&good[..n]);
            assert!(matches!(
                Model::parse(bytes.as_bytes()),
                Err(ModelError::Length { .. } | ModelError::BadMagic)
            ));
        }
        let mut long = good.clone();
        long.push(0);
        let bytes = AlignedBytes::new(&long);
        assert!(matches!(
            Model::parse(bytes.as_bytes()),
            Err(ModelError::Length { .. })
        ));
    }

    /// The writer's i8/i16 entries read back through the zero-copy view, and
    /// every single-byte corruption of them is rejected.
    #[test]
    fn quantized_round_trip_and_corruption() {
        let (h, labels, xi) = small();
        let (q8, s8) = crate::quantize::quantize_rows::<i8>(&xi, h.d());
        let (q16, s16) = crate::quantize::quantize_rows::<i16>(&xi, h.d());
        let blobs = [
            encode(
                &h,
                &labels,
                Entries::I8 {
                    levels: &q8,
                    scales: &s8,
                },
            )
            .unwrap(),
            encode(
                &h,
                &labels,
                Entries::I16 {
                    levels: &q16,
                    scales: &s16,
                },
            )
            .unwrap(),
        ];
        let bytes = AlignedBytes::new(&blobs[0]);
        let m = Model::parse(bytes.as_bytes()).unwrap();
        let v = m.quantized::<i8>().unwrap();
        assert_eq!((v.levels(), v.scales()), (&q8[..], &s8[..]));
        let bytes = AlignedBytes::new(&blobs[1]);
        let m = Model::parse(bytes.as_bytes()).unwrap();
        let v = m.quantized::<i16>().unwrap();
        assert_eq!((v.levels(), v.scales()), (&q16[..], &s16[..]));
        for good in &blobs {
            for i in 0..good.len() {
                let mut bad = good.clone();
                bad[i] ^= 0x40;
                assert!(
                    Model::parse(AlignedBytes::new(&bad).as_bytes()).is_err(),
                    "byte {i}"
                );
            }
        }
        assert!(
            encode(
                &h,
                &labels,
                Entries::I8 {
                    levels: &q8,
                    scales: &s8[1..]
                }
            )
            .is_err()
        );
    }

    #[test]
    fn typed_errors() {
        let (h, labels, xi) = small();
        let good = encode(&h, &labels, Entries::F32(&xi)).unwrap();
        let mut bad = good.clone();
        bad[0] = b'X';
        let parse = |b: &[u8]| Model::parse(AlignedBytes::new(b).as_bytes()).map(|_| ());
        assert_eq!(parse(&bad), Err(ModelError::BadMagic));
        let mut bad = good.clone();
        bad[8] = 2;
        assert_eq!(parse(&bad), Err(ModelError::UnknownVersion { found: 2 }));
        let mut bad = good.clone();
        bad[70] ^= 1;
        assert!(matches!(parse(&bad), Err(ModelError::Crc { .. })));
        // A wrong K with a fixed-up CRC: inconsistent dims.
        let mut bad = good.clone();
        bad[20] = 4;
        let n = bad.len() - 4;
        let crc = crc32(&bad[..n]);
        bad[n..].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(parse(&bad), Err(ModelError::Dims { k: 4, .. })));
        // Misaligned: the same bytes one byte past an aligned address.
        let mut shifted = vec![0u8];
        shifted.extend_from_slice(&good);
        let aligned = AlignedBytes::new(&shifted);
        assert!(matches!(
            Model::parse(&aligned.as_bytes()[1..]),
            Err(ModelError::Misaligned { align: 4, .. })
        ));
        // NaN in the memories is caught by the view.
        let mut xi = xi;
        xi[5] = f32::NAN;
        let nan = AlignedBytes::new(&encode(&h, &labels, Entries::F32(&xi)).unwrap());
        let m = Model::parse(nan.as_bytes()).unwrap();
        assert!(m.memories::<f32>().is_err());
    }
}
