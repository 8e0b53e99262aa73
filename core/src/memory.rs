//! Memories: `K` patterns of dimension `D`, stored row-major.
//!
//! [`MemoryView`] borrows any `&[T]` (a `static` array in flash, a buffer
//! read from a file, a model blob) after checking its shape and that every
//! entry is finite, once; everything downstream relies on that. [`Memories`]
//! owns a fixed-size `[[T; D]; K]` for firmware that knows its sizes at
//! compile time.

use crate::error::{Error, Operand, Result, check_finite};
use crate::real::Real;

/// A validated, borrowed `K × D` row-major matrix of memories `ξ^μ`.
///
/// ```
/// use dam_core::MemoryView;
/// static XI: [f32; 6] = [1.0, -1.0, 1.0, -1.0, -1.0, 1.0];
/// let m = MemoryView::new(&XI, 2, 3)?;
/// assert_eq!((m.k(), m.d()), (2, 3));
/// assert_eq!(m.row(1), Some(&[-1.0f32, -1.0, 1.0][..]));
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MemoryView<'a, T> {
    data: &'a [T],
    k: usize,
    d: usize,
}

impl<'a, T: Real> MemoryView<'a, T> {
    /// Views `data` as `k` rows of `d`. Errors: [`Error::EmptyMemory`] if
    /// `k` or `d` is 0, [`Error::ShapeMismatch`] if `data.len() != k·d`,
    /// [`Error::NonFinite`] if an entry is infinite or NaN.
    pub fn new(data: &'a [T], k: usize, d: usize) -> Result<Self> {
        if k == 0 || d == 0 {
            return Err(Error::EmptyMemory);
        }
        let expected = k.saturating_mul(d);
        if data.len() != expected {
            return Err(Error::ShapeMismatch {
                operand: Operand::Memories,
                expected,
                found: data.len(),
            });
        }
        check_finite(Operand::Memories, data)?;
        Ok(MemoryView { data, k, d })
    }

    /// The number of memories `K`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The dimension `D`.
    pub fn d(&self) -> usize {
        self.d
    }

    /// All entries, row-major.
    pub fn as_slice(&self) -> &'a [T] {
        self.data
    }

    /// Memory `μ`, or `None` if `μ ≥ K`.
    pub fn row(&self, mu: usize) -> Option<&'a [T]> {
        self.rows().nth(mu)
    }

    /// The memories in order, each a slice of length `D`.
    pub fn rows(&self) -> core::slice::ChunksExact<'a, T> {
        self.data.chunks_exact(self.d.max(1))
    }

    /// Entry `i` of every memory (`ξ^1_i, …, ξ^K_i`); empty if `i ≥ D`.
    pub fn column(&self, i: usize) -> impl Iterator<Item = T> + Clone + 'a {
        let start = if i < self.d { i } else { self.data.len() };
        self.data
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .step_by(self.d.max(1))
            .copied()
    }
}

/// Fixed-size owned memories, `K` rows of `D`, for sizes known at compile
/// time (no allocation: the rows live inline, on the stack or in a
/// `static mut`-free `OnceCell`-style cell of the caller's choosing). For
/// memories in flash, borrow a `static` array with [`MemoryView::new`].
///
/// ```
/// use dam_core::Memories;
/// let m = Memories::new([[1.0f32, -1.0, 1.0], [-1.0, -1.0, 1.0]])?;
/// let view = m.view();
/// assert_eq!((view.k(), view.d()), (2, 3));
/// # Ok::<(), dam_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Memories<T, const K: usize, const D: usize> {
    rows: [[T; D]; K],
}

impl<T: Real, const K: usize, const D: usize> Memories<T, K, D> {
    /// Takes ownership of `rows` after the checks of [`MemoryView::new`].
    pub fn new(rows: [[T; D]; K]) -> Result<Self> {
        MemoryView::new(rows.as_flattened(), K, D)?;
        Ok(Memories { rows })
    }

    /// A borrowed view for the retrieval functions.
    pub fn view(&self) -> MemoryView<'_, T> {
        // Validated in `new`; the fields cannot change afterwards.
        MemoryView {
            data: self.rows.as_flattened(),
            k: K,
            d: D,
        }
    }

    /// The rows.
    pub fn rows(&self) -> &[[T; D]; K] {
        &self.rows
    }
}

#[cfg(feature = "nalgebra")]
mod nalgebra_views {
    use super::MemoryView;
    use crate::error::{Error, Result};
    use crate::real::Real;
    use nalgebra::storage::{IsContiguous, RawStorage};
    use nalgebra::{Dim, Matrix};

    impl<'a, T: Real> MemoryView<'a, T> {
        /// Views a contiguous column-major `nalgebra` matrix of shape
        /// `D × K` (one memory per column): exactly the row-major `K × D`
        /// layout, so nothing is copied.
        ///
        /// ```
        /// use dam_core::MemoryView;
        /// let m = nalgebra::Matrix3x2::new(1.0f32, -1.0, 1.0, 1.0, -1.0, -1.0);
        /// let view = MemoryView::from_nalgebra_columns(&m)?;
        /// assert_eq!(view.row(0), Some(&[1.0f32, 1.0, -1.0][..]));
        /// # Ok::<(), dam_core::Error>(())
        /// ```
        pub fn from_nalgebra_columns<R: Dim, C: Dim, S>(m: &'a Matrix<T, R, C, S>) -> Result<Self>
        where
            S: RawStorage<T, R, C> + IsContiguous,
        {
            let (d, k) = m.shape();
            if k == 0 || d == 0 {
                return Err(Error::EmptyMemory);
            }
            MemoryView::new(m.as_slice(), k, d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_errors() {
        let data = [0.0f32; 6];
        assert_eq!(MemoryView::new(&data, 0, 6), Err(Error::EmptyMemory));
        assert_eq!(MemoryView::new(&data, 6, 0), Err(Error::EmptyMemory));
        assert!(matches!(
            MemoryView::new(&data, usize::MAX, 2),
            Err(Error::ShapeMismatch {
                expected: usize::MAX,
                ..
            })
        ));
        let bad = [0.0, f32::NAN];
        assert_eq!(
            MemoryView::new(&bad, 1, 2),
            Err(Error::NonFinite {
                operand: Operand::Memories,
                index: 1
            })
        );
    }

    #[test]
    fn columns_and_rows() {
        let data = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let m = MemoryView::new(&data, 2, 3).unwrap();
        let c: [f64; 2] = {
            let mut it = m.column(2);
            [it.next().unwrap(), it.next().unwrap()]
        };
        assert_eq!(c, [3.0, 6.0]);
        assert_eq!(m.column(3).count(), 0);
        assert_eq!(m.row(2), None);
        assert_eq!(m.rows().count(), 2);
    }
}
