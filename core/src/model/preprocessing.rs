//! The per-feature input map a version-2 model may store.

use super::ModelError;
use crate::error::{Error, Operand, Result, check_finite, check_len};

/// A per-feature affine input map `x'_i = a_i·x_i + b_i`, fitted on the
/// training set and stored in the model (`docs/model-format.md`, version 2),
/// so that firmware feeds raw sensor values and gets the host's prediction.
/// Borrows its `Nv` scales `a_i` and `Nv` offsets `b_i` (from the model's
/// bytes, with [`crate::model::Model::preprocessing`]); all finite.
///
/// The map is computed in plain `f32` (one multiplication, one addition, no
/// fused multiply-add), so its bits are the same on every target.
///
/// ```
/// use dam_core::model::Preprocessing;
/// let (a, b) = ([0.5f32, 2.0, 0.0], [-1.0f32, 0.0, 0.25]);
/// let map = Preprocessing::new(&a, &b)?;
/// let mut out = [0.0f32; 3];
/// map.apply(&[4.0, -0.25, 123.0], &mut out)?;
/// assert_eq!(out, [1.0, -0.5, 0.25]); // a constant feature (a = 0) maps to b
/// assert!(map.apply(&[4.0, f32::NAN, 0.0], &mut out).is_err());
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Preprocessing<'a> {
    scales: &'a [f32],
    offsets: &'a [f32],
}

impl<'a> Preprocessing<'a> {
    /// The map with `scales` `a` and `offsets` `b`. Errors:
    /// [`Error::ShapeMismatch`] if the lengths differ,
    /// [`Error::NonFinite`] (operand [`Operand::Preprocessing`], index `i`
    /// for `a_i`, `len + i` for `b_i`) if one is not finite.
    ///
    /// ```
    /// use dam_core::{Error, Operand, model::Preprocessing};
    /// assert!(Preprocessing::new(&[1.0], &[0.0, 1.0]).is_err());
    /// assert_eq!(
    ///     Preprocessing::new(&[1.0, 2.0], &[0.0, f32::INFINITY]),
    ///     Err(Error::NonFinite { operand: Operand::Preprocessing, index: 3 })
    /// );
    /// ```
    pub fn new(scales: &'a [f32], offsets: &'a [f32]) -> Result<Self> {
        check_len(Operand::Preprocessing, scales.len(), offsets.len())?;
        check_finite(Operand::Preprocessing, scales)?;
        check_finite(Operand::Preprocessing, offsets).map_err(|e| match e {
            Error::NonFinite { operand, index } => Error::NonFinite {
                operand,
                index: index.saturating_add(scales.len()),
            },
            e => e,
        })?;
        Ok(Preprocessing { scales, offsets })
    }

    /// Views `2·nv` little-endian `f32`s (scales, then offsets) in place;
    /// `at` is their offset in the file, for the errors.
    pub(crate) fn from_bytes(
        bytes: &'a [u8],
        nv: usize,
        at: usize,
    ) -> core::result::Result<Self, ModelError> {
        let all = <[f32] as zerocopy::FromBytes>::ref_from_bytes(bytes).map_err(|_| {
            ModelError::Misaligned {
                offset: at,
                align: 4,
            }
        })?;
        let (scales, offsets) = all.split_at_checked(nv).ok_or(ModelError::Dims {
            k: 0,
            nv: nv as u32,
            nc: 0,
        })?;
        match Preprocessing::new(scales, offsets) {
            Ok(p) => Ok(p),
            Err(Error::NonFinite { index, .. }) => Err(ModelError::Preprocessing { index }),
            Err(_) => Err(ModelError::Dims {
                k: 0,
                nv: nv as u32,
                nc: 0,
            }),
        }
    }

    /// The number of features `Nv`.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Whether the map has no features (never for a parsed model).
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// The scales `a_i`.
    pub fn scales(&self) -> &'a [f32] {
        self.scales
    }

    /// The offsets `b_i`.
    pub fn offsets(&self) -> &'a [f32] {
        self.offsets
    }

    /// `out_i = a_i·raw_i + b_i`, in plain `f32`. Errors:
    /// [`Error::ShapeMismatch`] if `raw` or `out` is not `Nv` long,
    /// [`Error::NonFinite`] for a non-finite input (operand
    /// [`Operand::Query`]) or result (operand [`Operand::Output`], e.g. an
    /// overflow); `out` is then unspecified.
    ///
    /// ```
    /// use dam_core::model::Preprocessing;
    /// let map = Preprocessing::new(&[0.1, 0.01], &[-1.0, 0.5])?;
    /// let mut x = [0.0f32; 2];
    /// map.apply(&[15.0, -20.0], &mut x)?;
    /// assert_eq!(x, [0.1f32 * 15.0 - 1.0, 0.01f32 * -20.0 + 0.5]);
    /// assert!(map.apply(&[15.0], &mut x).is_err());
    /// # Ok::<(), dam_core::Error>(())
    /// ```
    pub fn apply(&self, raw: &[f32], out: &mut [f32]) -> Result<()> {
        self.apply_with(raw, out, |y| y)
    }

    /// `out[i] = then(a_i·raw[i] + b_i)`, checking the input and the
    /// mapped value finite.
    pub(crate) fn apply_with<T>(
        &self,
        raw: &[f32],
        out: &mut [T],
        mut then: impl FnMut(f32) -> T,
    ) -> Result<()> {
        let n = self.scales.len();
        check_len(Operand::Query, n, raw.len())?;
        check_len(Operand::Output, n, out.len())?;
        let params = self.scales.iter().zip(self.offsets);
        for (index, ((o, &x), (&a, &b))) in crate::indexed(out.iter_mut().zip(raw).zip(params)) {
            if !x.is_finite() {
                return Err(Error::NonFinite {
                    operand: Operand::Query,
                    index,
                });
            }
            let y = a * x + b;
            if !y.is_finite() {
                return Err(Error::NonFinite {
                    operand: Operand::Output,
                    index,
                });
            }
            *o = then(y);
        }
        Ok(())
    }
}
