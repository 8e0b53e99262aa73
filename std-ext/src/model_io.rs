//! Model files: the atomic writer (the reader is [`dam_core::model`]).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` atomically: into a temporary file in the same
/// directory, flushed to disk, then renamed over `path`. A crash or an error
/// leaves either the old file or the new one, never a partial file. A new
/// file gets the mode the umask gives; a replaced file keeps its mode. The
/// temporary file is named [`crate::output::TEMP_PREFIX`]`…`.
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
    let mut tmp = temporary_beside(path, "")?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    persist(tmp, path)
}

/// A new temporary file in `path`'s directory, named
/// [`crate::output::TEMP_PREFIX`]`…suffix`, with the mode `path` will have:
/// that of the file it replaces, or for a new file what the umask gives
/// (`0666 & !umask`, as `open` would; tempfile alone makes 0600). Fill it,
/// then [`persist`] it.
pub fn temporary_beside(path: &Path, suffix: &str) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(crate::output::TEMP_PREFIX).suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir).with_context(|| {
        format!(
            "cannot write {}: cannot create a file in {}",
            path.display(),
            dir.display()
        )
    })?;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.is_file()
    {
        tmp.as_file()
            .set_permissions(meta.permissions())
            .with_context(|| format!("cannot write {}: cannot keep its mode", path.display()))?;
    }
    Ok(tmp)
}

/// Renames the filled temporary file `tmp` over `path`; on failure it is
/// deleted at once.
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    // The error owns the temporary file; delete it now rather than when the
    // error is dropped, which a program exiting on the error never does.
    tmp.persist(path).map_err(|e| {
        let _ = e.file.close();
        anyhow::Error::new(e.error).context(format!("cannot write {}", path.display()))
    })?;
    Ok(())
}

use anyhow::bail;
use dam_core::model::{
    CRC_LEN, ElementType, HEADER_LEN, Header, Layout, Model, PreprocessingKind, VERSION, crc32,
};
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
    let labels: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
    encode_with(header, &labels, memories, &Extras::default())
}

/// What a version-2 model adds to the memories: the input map and the class
/// names (the label values, any `i32`, are an argument of [`encode_with`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Extras<'a> {
    /// The per-feature input map `x'_i = a_i·x_i + b_i`: (`a`, `b`), `Nv`
    /// finite values each.
    pub preprocessing: Option<(&'a [f32], &'a [f32])>,
    /// One name per class (`Nc`), any UTF-8; not all empty.
    pub names: Option<&'a [String]>,
}

/// The label values and [`Extras`] of a parsed model, owned, to carry them
/// into a re-encoded model ([`crate::quantize::quantize_model`]).
///
/// ```
/// use dam_core::model::{ElementType, Header, Kind, Model};
/// use dam_core::{Form, Interaction};
/// use dam_std::model_io::{AlignedBytes, Entries, Extras, OwnedExtras, encode_with};
/// let h = Header { kind: Kind::Classifier, element: ElementType::F32,
///     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
///     k: 2, nv: 2, nc: 2 };
/// let names = ["off".to_string(), "on".to_string()];
/// let extras = Extras { preprocessing: Some((&[0.5, 2.0], &[0.0, -1.0])), names: Some(&names) };
/// let bytes = AlignedBytes::new(&encode_with(&h, &[-1, 1], Entries::F32(&[0.5; 8]), &extras)?);
/// let kept = OwnedExtras::of(&Model::parse(bytes.as_bytes())?)?;
/// assert_eq!(kept.labels, [-1, 1]);
/// assert_eq!(kept.extras(), extras);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnedExtras {
    /// The label value of each class.
    pub labels: Vec<i64>,
    /// The input map (`a`, `b`), if any.
    pub preprocessing: Option<(Vec<f32>, Vec<f32>)>,
    /// The class names, if any.
    pub names: Option<Vec<String>>,
}

impl OwnedExtras {
    /// Copies the labels, input map and names of `model`.
    pub fn of(model: &Model<'_>) -> Result<Self> {
        let nc = model.header().nc as usize;
        let labels = (0..nc)
            .map(|a| model.label_value(a))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| anyhow::anyhow!("the model has fewer labels than Nc = {nc}"))?;
        let preprocessing = model
            .preprocessing()
            .map(|p| (p.scales().to_vec(), p.offsets().to_vec()));
        let names = match model.class_name(0) {
            None => None,
            Some(_) => Some(
                (0..nc)
                    .map(|a| model.class_name(a).map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| anyhow::anyhow!("the model has fewer names than Nc = {nc}"))?,
            ),
        };
        Ok(OwnedExtras {
            labels,
            preprocessing,
            names,
        })
    }

    /// The borrowed [`Extras`] (the labels are [`OwnedExtras::labels`]).
    pub fn extras(&self) -> Extras<'_> {
        Extras {
            preprocessing: self
                .preprocessing
                .as_ref()
                .map(|(a, b)| (a.as_slice(), b.as_slice())),
            names: self.names.as_deref(),
        }
    }
}

/// Encodes a model as [`encode`] does, with class label values `labels`
/// (any `i32`, one per class) and the [`Extras`]. Writes format version 1
/// when there is no input map, no names and every label is in `0..2^31`
/// (so such a file is byte-identical to what [`encode`] writes), else
/// version 2. Errors name the problem: wrong counts, a label outside
/// `i32`, a non-finite `a_i` or `b_i`, names too long or all empty.
///
/// ```
/// use dam_core::model::{ElementType, Header, Kind, Model};
/// use dam_core::{Form, Interaction};
/// use dam_std::model_io::{AlignedBytes, Entries, Extras, encode_with};
/// let h = Header { kind: Kind::Classifier, element: ElementType::F32,
///     interaction: Interaction::RectifiedPolynomial { n: 3 }, form: Form::Normalized { beta: 1.0 },
///     k: 2, nv: 2, nc: 2 };
/// let names = ["cold".to_string(), "hot".to_string()];
/// let extras = Extras { preprocessing: Some((&[0.1, 0.1], &[-2.0, -2.0])), names: Some(&names) };
/// let xi = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
/// let bytes = AlignedBytes::new(&encode_with(&h, &[3, 42], Entries::F32(&xi), &extras)?);
/// let model = Model::parse(bytes.as_bytes())?;
/// assert_eq!((model.layout().version, model.label_value(1), model.class_name(1)), (2, Some(42), Some("hot")));
/// // Raw readings in, the prediction of the preprocessed query out.
/// let mut x = [0.0f32; 2];
/// model.preprocessing().unwrap().apply(&[13.0, 11.0], &mut x)?;
/// let class = model.classifier::<f32>()?.forward(&x, &mut [0.0; 2], &mut [0.0; 2])?;
/// assert_eq!(model.class_name(class), Some("hot"));
/// assert!(encode_with(&h, &[3, 1 << 40], Entries::F32(&xi), &Extras::default()).is_err());
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn encode_with(
    header: &Header,
    labels: &[i64],
    memories: Entries<'_>,
    extras: &Extras<'_>,
) -> Result<Vec<u8>> {
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
    let mut signed = false;
    let mut label_words = Vec::with_capacity(labels.len());
    for (alpha, &l) in labels.iter().enumerate() {
        let Ok(v) = i32::try_from(l) else {
            bail!("class {alpha}: label {l} is outside the i32 range the format stores");
        };
        signed |= v < 0;
        label_words.push(v);
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
    if let Some((a, b)) = extras.preprocessing {
        let nv = header.nv as usize;
        if a.len() != nv || b.len() != nv {
            bail!(
                "preprocessing: {} scales and {} offsets for Nv = {nv} features",
                a.len(),
                b.len()
            );
        }
        if let Some(i) = a.iter().position(|x| !x.is_finite()) {
            bail!("preprocessing: scale a_{i} = {} is not finite", a[i]);
        }
        if let Some(i) = b.iter().position(|x| !x.is_finite()) {
            bail!("preprocessing: offset b_{i} = {} is not finite", b[i]);
        }
    }
    let mut name_ends = Vec::new();
    let mut blob = Vec::new();
    if let Some(names) = extras.names {
        if names.len() != header.nc as usize {
            bail!("{} class names for Nc = {}", names.len(), header.nc);
        }
        for n in names {
            blob.extend_from_slice(n.as_bytes());
            let Ok(end) = u32::try_from(blob.len()) else {
                bail!("class names: more than 4 GiB of text");
            };
            name_ends.push(end);
        }
        if blob.is_empty() {
            bail!(
                "class names: all {} are empty; leave the names out",
                names.len()
            );
        }
    }
    let v2 = signed || extras.preprocessing.is_some() || !blob.is_empty();
    let layout = if v2 {
        Layout {
            version: VERSION,
            preprocessing: if extras.preprocessing.is_some() {
                PreprocessingKind::Affine
            } else {
                PreprocessingKind::None
            },
            // Checked above: the blob fits u32.
            names_len: blob.len() as u32,
        }
    } else {
        Layout::V1
    };
    let mut head = [0u8; HEADER_LEN];
    header
        .encode_layout(&layout, &mut head)
        .map_err(|e| anyhow::anyhow!("cannot encode the model header: {e}"))?;
    let Some(o) = header.offsets(&layout) else {
        bail!("the model layout overflows this host's address space");
    };
    let mut out = Vec::with_capacity(o.total);
    out.extend_from_slice(&head);
    for l in &label_words {
        out.extend_from_slice(&l.to_le_bytes());
    }
    out.extend_from_slice(scales.as_bytes());
    out.resize(o.data, 0);
    out.extend_from_slice(bytes);
    if let Some((a, b)) = extras.preprocessing {
        out.resize(o.preprocessing, 0);
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b.as_bytes());
    }
    if !blob.is_empty() {
        out.resize(o.names, 0);
        out.extend_from_slice(name_ends.as_bytes());
        out.extend_from_slice(&blob);
    }
    out.resize(o.crc, 0);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    debug_assert_eq!(out.len(), o.total);
    debug_assert!(out.len() >= HEADER_LEN + CRC_LEN);
    Ok(out)
}

/// Encodes and writes a model atomically.
pub fn save(path: &Path, header: &Header, labels: &[u32], memories: Entries<'_>) -> Result<()> {
    write_atomic(path, &encode(header, labels, memories)?)
}

/// [`encode_with`], written atomically.
pub fn save_with(
    path: &Path,
    header: &Header,
    labels: &[i64],
    memories: Entries<'_>,
    extras: &Extras<'_>,
) -> Result<()> {
    write_atomic(path, &encode_with(header, labels, memories, extras)?)
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
///
/// At most the length the header declares (plus one byte, to see that a
/// file is longer) is read, so a device or a pipe (`/dev/zero`) is not read
/// without bound; nothing is allocated beyond what was read.
pub fn load(path: &Path) -> Result<AlignedBytes> {
    use std::io::Read;
    let cannot = || format!("cannot read {}", path.display());
    let file = std::fs::File::open(path).with_context(cannot)?;
    let mut raw = Vec::new();
    let mut file = file.take(HEADER_LEN as u64);
    file.read_to_end(&mut raw).with_context(cannot)?;
    // The total length, offset 48 (docs/model-format.md); a shorter file
    // is left to the parser's error.
    if let Some(field) = raw.get(48..56) {
        let mut b = [0u8; 8];
        b.copy_from_slice(field);
        let declared = u64::from_le_bytes(b);
        let rest = declared.saturating_sub(HEADER_LEN as u64).saturating_add(1);
        let mut file = file.into_inner().take(rest);
        file.read_to_end(&mut raw).with_context(cannot)?;
    }
    let bytes = AlignedBytes::new(&raw);
    Model::parse(bytes.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: not a usable model: {e}", path.display()))?;
    Ok(bytes)
}

/// The class scores of the model `bytes` (a classifier, f32 or i8, or a
/// Potts model) for `x`, raw inputs of `cols` values a row (the model's
/// stored input map is applied, as on a board): `rows × Nc` scores
/// (`c_α ∈ [−1, 1]` for a classifier, the posterior for a Potts model) and
/// each row's class index, as `dam scores` computes them. `model` and
/// `inputs` name the two in errors.
pub fn class_scores(
    bytes: &[u8],
    arithmetic: dam_core::Arithmetic,
    x: &[f64],
    cols: usize,
    model: &str,
    inputs: &str,
) -> Result<(Vec<f32>, Vec<usize>)> {
    let clf = dam_core::Prepared::with_arithmetic(bytes, arithmetic)
        .map_err(|e| anyhow::anyhow!("{model}: {e}"))?;
    if cols != clf.inputs() {
        anyhow::bail!(
            "{inputs}: rows of {cols} values, but {model} takes Nv = {} inputs",
            clf.inputs()
        );
    }
    let rows = x.len() / cols.max(1);
    let nc = clf.classes();
    let (mut raw, mut scratch) = (vec![0.0f32; cols], vec![0u8; clf.scratch_bytes()]);
    let mut scores = vec![0.0f32; rows * nc];
    let mut predicted = Vec::with_capacity(rows);
    for (r, (row, out)) in x
        .chunks_exact(cols.max(1))
        .zip(scores.chunks_exact_mut(nc))
        .enumerate()
    {
        for (dst, &v) in raw.iter_mut().zip(row) {
            *dst = v as f32;
        }
        let class = clf
            .scores(&raw, &mut scratch, out)
            .map_err(|e| anyhow::anyhow!("{inputs}: row {r}: {e}"))?;
        predicted.push(class);
    }
    Ok((scores, predicted))
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

    /// A small v2 model: signed labels, an input map with a constant
    /// feature (`a = 0`) and odd values, and names (one empty, one not ASCII).
    type SmallV2 = (Header, Vec<i64>, Vec<f32>, Vec<f32>, Vec<f32>, Vec<String>);

    fn small_v2() -> SmallV2 {
        let (h, _, xi) = small();
        let a = vec![0.5, 0.0, -3.25e-7, f32::MAX];
        let b = vec![-1.0, 0.125, f32::MIN_POSITIVE, -0.0];
        let names = vec!["".to_string(), "größer".to_string()];
        (h, vec![-1, i64::from(i32::MAX)], xi, a, b, names)
    }

    #[test]
    fn version_2_round_trip_is_exact() {
        let (h, labels, xi, a, b, names) = small_v2();
        let extras = Extras {
            preprocessing: Some((&a, &b)),
            names: Some(&names),
        };
        let bytes = encode_with(&h, &labels, Entries::F32(&xi), &extras).unwrap();
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 2);
        assert_eq!(bytes.len() % 4, 0);
        let aligned = AlignedBytes::new(&bytes);
        let m = Model::parse(aligned.as_bytes()).unwrap();
        assert_eq!(*m.header(), h);
        let kept = OwnedExtras::of(&m).unwrap();
        assert_eq!(kept.labels, labels);
        let (ka, kb) = kept.preprocessing.clone().unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!((bits(&ka), bits(&kb)), (bits(&a), bits(&b)));
        assert_eq!(kept.names.as_deref(), Some(&names[..]));
        assert_eq!(bits(m.memories::<f32>().unwrap().as_slice()), bits(&xi));
        // Re-encoding what was read gives the same bytes.
        let again = encode_with(&h, &kept.labels, Entries::F32(&xi), &kept.extras()).unwrap();
        assert_eq!(again, bytes);

        // Each section alone.
        for (labels, pre, names, version) in [
            (vec![0, 1], None, None, 1),
            (vec![-1, 1], None, None, 2),
            (vec![3, 42], Some((&a[..], &b[..])), None, 2),
            (vec![3, 42], None, Some(&names[..]), 2),
        ] {
            let extras = Extras {
                preprocessing: pre,
                names,
            };
            let bytes = encode_with(&h, &labels, Entries::F32(&xi), &extras).unwrap();
            let aligned = AlignedBytes::new(&bytes);
            let m = Model::parse(aligned.as_bytes()).unwrap();
            assert_eq!(m.layout().version, version);
            let kept = OwnedExtras::of(&m).unwrap();
            assert_eq!(kept.labels, labels);
            assert_eq!(kept.extras(), extras);
        }
    }

    /// With nothing newer to store, the writer's bytes are version 1 and
    /// identical to what [`encode`] writes.
    #[test]
    fn version_1_when_nothing_needs_version_2() {
        let (h, labels, xi) = small();
        let v1 = encode(&h, &labels, Entries::F32(&xi)).unwrap();
        assert_eq!(v1[8], 1);
        assert_eq!(v1.len(), h.total_len().unwrap());
        let wide: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
        let same = encode_with(&h, &wide, Entries::F32(&xi), &Extras::default()).unwrap();
        assert_eq!(same, v1);
    }

    #[test]
    fn writer_refuses_bad_extras() {
        let (h, labels, xi, a, b, names) = small_v2();
        let enc = |labels: &[i64], e: Extras<'_>| {
            encode_with(&h, labels, Entries::F32(&xi), &e)
                .unwrap_err()
                .to_string()
        };
        fn pre<'a>(p: (&'a [f32], &'a [f32])) -> Extras<'a> {
            Extras {
                preprocessing: Some(p),
                names: None,
            }
        }
        assert!(enc(&[0, 1 << 31], Extras::default()).contains("outside the i32"));
        assert!(enc(&[0], Extras::default()).contains("class labels"));
        assert!(enc(&labels, pre((&a[1..], &b))).contains("3 scales and 4 offsets"));
        let mut nan = a.clone();
        nan[2] = f32::NAN;
        assert!(enc(&labels, pre((&nan, &b))).contains("a_2"));
        let mut inf = b.clone();
        inf[3] = f32::INFINITY;
        assert!(enc(&labels, pre((&a, &inf))).contains("b_3"));
        fn names_of(n: &[String]) -> Extras<'_> {
            Extras {
                preprocessing: None,
                names: Some(n),
            }
        }
        assert!(enc(&labels, names_of(&names[..1])).contains("1 class names"));
        let empty = vec![String::new(), String::new()];
        assert!(enc(&labels, names_of(&empty)).contains("empty"));
    }

    /// Every single-byte corruption of a small v2 model (input map and
    /// names) is rejected, and every truncation.
    #[test]
    fn every_single_byte_corruption_of_a_version_2_model_is_rejected() {
        let (h, labels, xi, a, b, names) = small_v2();
        let extras = Extras {
            preprocessing: Some((&a, &b)),
            names: Some(&names),
        };
        let (q8, s8) = crate::quantize::quantize_rows::<i8>(&xi, h.d());
        let i8_entries = Entries::I8 {
            levels: &q8,
            scales: &s8,
        };
        for good in [
            encode_with(&h, &labels, Entries::F32(&xi), &extras).unwrap(),
            encode_with(&h, &labels, i8_entries, &extras).unwrap(),
        ] {
            assert!(Model::parse(AlignedBytes::new(&good).as_bytes()).is_ok());
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
                assert!(Model::parse(AlignedBytes::new(&good[..n]).as_bytes()).is_err());
            }
        }
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
        bad[8] = 3;
        assert_eq!(parse(&bad), Err(ModelError::UnknownVersion { found: 3 }));
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
