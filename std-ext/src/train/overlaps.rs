//! Batched overlaps: the one place where training multiplies matrices.
//!
//! Both products of a training step go through [`gemm`], so switching to
//! `dam-core`'s kernels later touches this file only. For now it calls
//! `matrixmultiply::sgemm` (single-threaded, hence deterministic; the
//! parallelism is over minibatch chunks).

/// A row-major or transposed operand: `rows × cols` with strides.
#[derive(Debug, Clone, Copy)]
pub struct Mat<'a> {
    /// The entries.
    pub data: &'a [f32],
    /// Rows of the operand as used in the product.
    pub rows: usize,
    /// Columns of the operand as used in the product.
    pub cols: usize,
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl<'a> Mat<'a> {
    /// A row-major `rows × cols` block whose rows are `stride` apart
    /// (`stride ≥ cols`; e.g. the visible part of the memories).
    pub fn rows(data: &'a [f32], rows: usize, cols: usize, stride: usize) -> Self {
        Mat {
            data,
            rows,
            cols,
            row_stride: stride,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major `cols × rows` block with row stride `stride`.
    pub fn transposed(data: &'a [f32], rows: usize, cols: usize, stride: usize) -> Self {
        Mat {
            data,
            rows,
            cols,
            row_stride: 1,
            col_stride: stride,
        }
    }

    fn fits(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        last < self.data.len()
    }
}

/// `c = a · b`, `c` row-major `a.rows × b.cols` (overwritten).
///
/// ```
/// use dam_std::train::overlaps::{Mat, gemm};
/// let a = [1.0f32, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let mut c = [0.0f32; 4];
/// gemm(Mat::rows(&a, 2, 2, 2), Mat::transposed(&a, 2, 2, 2), &mut c); // a · aᵀ
/// assert_eq!(c, [5.0, 11.0, 11.0, 25.0]);
/// ```
///
/// # Panics
/// If the shapes do not agree or a slice is too short.
pub fn gemm(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
    gemm_scaled(1.0, a, b, false, c)
}

/// `c = alpha · a · b`, or `c += alpha · a · b` when `accumulate`; `c`
/// row-major `a.rows × b.cols`.
///
/// ```
/// use dam_std::train::overlaps::{Mat, gemm_scaled};
/// let a = [1.0f32, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let mut c = [1.0f32; 4];
/// gemm_scaled(2.0, Mat::rows(&a, 2, 2, 2), Mat::rows(&a, 2, 2, 2), true, &mut c); // c += 2 a²
/// assert_eq!(c, [15.0, 21.0, 31.0, 45.0]);
/// ```
///
/// # Panics
/// If the shapes do not agree or a slice is too short.
pub fn gemm_scaled(alpha: f32, a: Mat<'_>, b: Mat<'_>, accumulate: bool, c: &mut [f32]) {
    assert_eq!(c.len(), a.rows * b.cols, "output has the wrong length");
    gemm_strided(alpha, a, b, accumulate, c, b.cols)
}

/// `c = a · b` into the first `b.cols` entries of each of the `a.rows`
/// rows of `c`, whose rows are `stride ≥ b.cols` apart (the rest of each
/// row is left as it was).
///
/// ```
/// use dam_std::train::overlaps::{Mat, gemm_into};
/// let a = [1.0f32, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let mut c = [9.0f32; 6];
/// gemm_into(Mat::rows(&a, 2, 2, 2), Mat::rows(&a, 2, 2, 2), &mut c, 3); // a², rows 3 apart
/// assert_eq!(c, [7.0, 10.0, 9.0, 15.0, 22.0, 9.0]);
/// ```
///
/// # Panics
/// If the shapes do not agree or a slice is too short.
pub fn gemm_into(a: Mat<'_>, b: Mat<'_>, c: &mut [f32], stride: usize) {
    gemm_strided(1.0, a, b, false, c, stride)
}

fn gemm_strided(
    alpha: f32,
    a: Mat<'_>,
    b: Mat<'_>,
    accumulate: bool,
    c: &mut [f32],
    stride: usize,
) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    assert!(a.fits() && b.fits(), "operand slice too short");
    assert!(stride >= b.cols, "output rows overlap");
    let needed = match a.rows {
        0 => 0,
        rows => (rows - 1) * stride + b.cols,
    };
    assert!(c.len() >= needed, "output too short");
    if a.rows == 0 || b.cols == 0 {
        return;
    }
    if a.cols == 0 {
        if !accumulate {
            for row in c.chunks_mut(stride).take(a.rows) {
                row[..b.cols].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: the asserts above check that every index sgemm reads,
    // `i·row_stride + j·col_stride` for i < rows, j < cols, lies inside the
    // operand's slice, and that `c` holds the `a.rows × b.cols` entries
    // `i·stride + j` (the last at `(rows − 1)·stride + cols − 1 < c.len()`;
    // initialized: it is a `&mut [f32]`; with beta = 0 it is only written).
    #[allow(unsafe_code)]
    unsafe {
        matrixmultiply::sgemm(
            a.rows,
            a.cols,
            b.cols,
            alpha,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            if accumulate { 1.0 } else { 0.0 },
            c.as_mut_ptr(),
            stride as isize,
            1,
        );
    }
}
