//! Portable reference kernels: the ground truth every faster path is tested
//! against.

use crate::real::Real;

/// Reduces `f(x_i, y_i)` pairs with four independent accumulators (hides
/// the add latency without reassociating across more than four lanes).
#[inline]
fn reduce4<A: Copy, B: Copy, T: Real>(a: &[A], b: &[B], f: impl Fn(A, B, T) -> T) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
    let mut acc = [T::ZERO; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for ((s, &xi), &yi) in acc.iter_mut().zip(x).zip(y) {
            *s = f(xi, yi, *s);
        }
    }
    let mut tail = T::ZERO;
    for (&xi, &yi) in ca.remainder().iter().zip(cb.remainder()) {
        tail = f(xi, yi, tail);
    }
    let [s0, s1, s2, s3] = acc;
    (s0 + s1) + (s2 + s3) + tail
}

/// `Σ a_i b_i`.
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    reduce4(a, b, |x: T, y: T, s: T| x.mul_add(y, s))
}

/// `Σ a_i σ_i` with `σ_i = +1` for `s_i ≥ 0`, else `−1`.
pub fn dot_bipolar<T: Real>(a: &[T], s: &[i8]) -> T {
    reduce4(
        a,
        s,
        |x: T, y: i8, acc: T| if y >= 0 { acc + x } else { acc - x },
    )
}

/// `Σ (a_i − b_i)²`.
pub fn squared_distance<T: Real>(a: &[T], b: &[T]) -> T {
    reduce4(a, b, |x: T, y: T, s: T| {
        let d = x - y;
        d.mul_add(d, s)
    })
}

/// `y_i += alpha · x_i`.
pub fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = alpha.mul_add(xi, *yi);
    }
}

/// `out[μ] = Σ_{i<n} a[μ·lda + i] x_i`, `n = min(x.len(), lda)`, for
/// `μ < min(out.len(), a.len() / lda)`.
pub fn gemv<T: Real>(a: &[T], lda: usize, x: &[T], out: &mut [T]) {
    let n = x.len().min(lda);
    if lda == 0 {
        return;
    }
    for (o, row) in out.iter_mut().zip(a.chunks_exact(lda)) {
        *o = dot(row.get(..n).unwrap_or(&[]), x);
    }
}

/// Calls `f(μ, b, a_μ·q_b)` for every row `μ` of `a` and `b` of `q` (rows of
/// `d` entries, trailing partial rows ignored), `μ`-major.
pub fn gemm_nt_fused<T: Real, F: FnMut(usize, usize, T)>(a: &[T], q: &[T], d: usize, mut f: F) {
    if d == 0 {
        return;
    }
    for (mu, row) in a.chunks_exact(d).enumerate() {
        for (b, x) in q.chunks_exact(d).enumerate() {
            f(mu, b, dot(row, x));
        }
    }
}

/// `Σ a_i b_i` of `i8` entries, accumulated in `i32` (wrapping: the
/// callers in [`super::integer`] bound the length so that it cannot wrap).
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |s, (&x, &y)| {
        s.wrapping_add(i32::from(x) * i32::from(y))
    })
}

/// `Σ a_i b_i` of `i16` entries, accumulated in `i64` (as [`dot_i8`]).
pub fn dot_i16(a: &[i16], b: &[i16]) -> i64 {
    a.iter().zip(b).fold(0i64, |s, (&x, &y)| {
        s.wrapping_add(i64::from(x) * i64::from(y))
    })
}

/// `out[μ] = dot(a[μ·lda ..][..n], x)` with `n = min(x.len(), lda)`, for
/// `μ < min(out.len(), a.len() / lda)`: the row loop every integer path
/// without a row-blocked kernel shares.
#[doc(hidden)] // the tests' and benchmarks' reference row loop
pub fn gemv_rows<E, A>(a: &[E], lda: usize, x: &[E], out: &mut [A], dot: impl Fn(&[E], &[E]) -> A) {
    if lda == 0 {
        return;
    }
    let n = x.len().min(lda);
    for (o, row) in out.iter_mut().zip(a.chunks_exact(lda)) {
        *o = dot(row.get(..n).unwrap_or(&[]), x);
    }
}
