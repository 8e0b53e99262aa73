//! Kernels over bit-packed bipolar columns, for the packed sweep of
//! [`crate::bipolar::PackedBipolar`].
//!
//! A column is a slice of `u64` words: bit `μ % 64` of word `μ / 64` is set
//! where `ξ^μ_i = +1`, clear where it is `−1`. The values the kernels add are
//! `f64` holding integers (overlaps and the exact integer fields of the
//! sweep) whose sums stay below `2^53` in magnitude (the caller's
//! guarantee, [`Fields::new`]'s bound): every product and partial sum is
//! then exact, so the result does not depend on the evaluation order, and
//! every path returns exactly the bits of the scalar reference.
//!
//! Paths: AVX-512F on x86_64 (mask registers straight from the column
//! words), the portable reference elsewhere. [`Isa::best`] picks.
#![allow(unsafe_code)]

use super::Isa;

/// Entries of a [`Fields`] coefficient table: the polynomials in `t = m²`
/// have degree `≤ (n − 1) / 2`, and `n ≤ 32` under the `2^53` bound
/// (`4 · 3^n ≤ 2^53` already fails at `n = 33`).
const MAX_COEFFS: usize = 17;

/// How to evaluate, for `F(x) = x^n` or `max(x, 0)^n`, the two per-memory
/// fields of the packed sweep at an integer overlap `m`:
/// `b(m) = (F(m + 2) − F(m − 2)) / 2` and
/// `u(m) = (F(m + 2) + F(m − 2)) / 2 − F(m)`.
///
/// For the plain polynomial the binomial theorem gives
/// `b(m) = Σ_{j odd} C(n, j) 2^j m^{n−j}` and
/// `u(m) = Σ_{j even, j ≥ 2} C(n, j) 2^j m^{n−j}` (for `n = 3`:
/// `6m² + 8` and `12m`), evaluated by Horner's rule in `t = m²` (times `m`
/// for the odd powers): a few multiply-adds instead of three powers. Every
/// coefficient and every Horner partial value is an integer no larger in
/// magnitude than the field itself, so under the caller's bound they are
/// exact. The rectified polynomial is evaluated from its definition (three
/// powers by squaring, exact likewise).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct Fields {
    n: u32,
    rectified: bool,
    /// `b`'s coefficients in `t`, highest first, and whether `b` has the
    /// factor `m` (`n` even).
    b: [f64; MAX_COEFFS],
    b_len: usize,
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // read by the AVX-512 kernels
    b_odd: bool,
    /// As `b`, for `u` (factor `m` for `n` odd).
    u: [f64; MAX_COEFFS],
    u_len: usize,
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // read by the AVX-512 kernels
    u_odd: bool,
}

impl Fields {
    /// The fields of degree `n`; `None` if `n = 0`, `n > 32` or a
    /// coefficient is not below `2^53` (outside the caller's bound anyway).
    pub(crate) fn new(n: u32, rectified: bool) -> Option<Fields> {
        if n == 0 || n > 32 {
            return None;
        }
        let mut f = Fields {
            n,
            rectified,
            b: [0.0; MAX_COEFFS],
            b_len: 0,
            b_odd: (n - 1) % 2 == 1,
            u: [0.0; MAX_COEFFS],
            u_len: 0,
            u_odd: n % 2 == 1,
        };
        // C(n, j) 2^j for j = 0..=n, exact in u128 (≤ 3^32 < 2^51).
        let mut c: u128 = 1;
        for j in 1..=n {
            c = c * u128::from(n - j + 1) / u128::from(j);
            let coef = c << j;
            if coef >= 1 << 53 {
                return None;
            }
            // Power of m: n − j = 2k (+1 if odd); highest k first.
            let k = ((n - j) / 2) as usize;
            let (table, len) = if j % 2 == 1 {
                (&mut f.b, &mut f.b_len)
            } else {
                (&mut f.u, &mut f.u_len)
            };
            if *len == 0 {
                *len = k + 1;
            }
            let slot = len.checked_sub(1 + k).and_then(|i| table.get_mut(i))?;
            *slot = coef as f64;
        }
        Some(f)
    }

    /// `(b(x), u(x))` of one overlap: the reference evaluation (from the
    /// definition of `F`, by repeated multiplication).
    pub(crate) fn eval(&self, x: f64) -> (f64, f64) {
        let f = |x: f64| {
            if self.rectified && x < 0.0 {
                0.0
            } else {
                let mut acc = 1.0;
                for _ in 0..self.n {
                    acc *= x;
                }
                acc
            }
        };
        let (p, q) = (f(x + 2.0), f(x - 2.0));
        ((p - q) * 0.5, (p + q) * 0.5 - f(x))
    }
}

/// `Σ v_μ` over the set bits `μ < v.len()` of `bits` (`bits` holds at least
/// `⌈v.len() / 64⌉` words; entries of `v` past `64 · bits.len()` are ignored).
#[inline]
pub(crate) fn masked_sum(bits: &[u64], v: &[f64]) -> f64 {
    masked_sum_on(Isa::best(), bits, v)
}

/// A flip: `m_μ += s` where bit `μ` is set, `m_μ −= s` where it is clear;
/// then `b_μ ← b(m_μ)`, and returns `(Σ b(m_μ), Σ u(m_μ))` (see [`Fields`]),
/// over the common length of `m` and `b`.
#[inline]
pub(crate) fn flip(f: &Fields, bits: &[u64], s: f64, m: &mut [f64], b: &mut [f64]) -> (f64, f64) {
    flip_on(Isa::best(), f, bits, s, m, b)
}

/// The overlaps `m_μ = Σ_i σ_i ξ^μ_i` of a bipolar state (`s_i ≥ 0` counts
/// as `+1`) from its packed columns (column `i` is
/// `columns[i·words ..][..words]`, for `i < min(state.len(), columns.len() /
/// words)`), for `μ < min(m.len(), b.len(), 64 · words)`; then `b_μ ← b(m_μ)`
/// and returns `(Σ b(m_μ), Σ u(m_μ))`.
#[inline]
pub(crate) fn fill(
    f: &Fields,
    columns: &[u64],
    words: usize,
    state: &[i8],
    m: &mut [f64],
    b: &mut [f64],
) -> (f64, f64) {
    fill_on(Isa::best(), f, columns, words, state, m, b)
}

/// [`masked_sum`] on `isa` (the reference where that path has no kernel).
#[inline]
pub(crate) fn masked_sum_on(isa: Isa, bits: &[u64], v: &[f64]) -> f64 {
    match isa.or_scalar() {
        // SAFETY: `or_scalar` returned the path only if the CPU has AVX-512F.
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f => unsafe { avx512::masked_sum(bits, v) },
        _ => scalar::masked_sum(bits, v),
    }
}

/// [`flip`] on `isa`.
#[inline]
pub(crate) fn flip_on(
    isa: Isa,
    f: &Fields,
    bits: &[u64],
    s: f64,
    m: &mut [f64],
    b: &mut [f64],
) -> (f64, f64) {
    match isa.or_scalar() {
        // SAFETY: as in `masked_sum_on`.
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f => unsafe { avx512::flip(f, bits, s, m, b) },
        _ => scalar::flip(f, bits, s, m, b),
    }
}

/// [`fill`] on `isa`.
#[inline]
pub(crate) fn fill_on(
    isa: Isa,
    f: &Fields,
    columns: &[u64],
    words: usize,
    state: &[i8],
    m: &mut [f64],
    b: &mut [f64],
) -> (f64, f64) {
    let len = m.len().min(b.len()).min(words.saturating_mul(64));
    let (m, b) = (
        m.get_mut(..len).unwrap_or(&mut []),
        b.get_mut(..len).unwrap_or(&mut []),
    );
    match isa.or_scalar() {
        // SAFETY: as in `masked_sum_on`.
        #[cfg(all(target_arch = "x86_64", dam_avx512))]
        Isa::Avx512f => unsafe {
            avx512::column_sums(columns, words, state, m);
            avx512::flip(f, &[], 0.0, m, b)
        },
        _ => {
            scalar::column_sums(columns, words, state, m);
            scalar::flip(f, &[], 0.0, m, b)
        }
    }
}

/// The portable reference kernels.
pub(crate) mod scalar {
    use super::Fields;

    /// [`super::masked_sum`], bit by bit.
    pub(crate) fn masked_sum(bits: &[u64], v: &[f64]) -> f64 {
        let mut acc = 0.0;
        for (&word, chunk) in bits.iter().zip(v.chunks(64)) {
            for (j, &x) in (0u32..).zip(chunk) {
                if (word >> j) & 1 == 1 {
                    acc += x;
                }
            }
        }
        acc
    }

    /// `m_μ ± s` by bit `μ` (bits missing from `bits` count as clear).
    fn signed_add(bits: &[u64], s: f64, m: &mut [f64]) {
        for (w, chunk) in m.chunks_mut(64).enumerate() {
            let word = bits.get(w).copied().unwrap_or(0);
            for (j, x) in (0u32..).zip(chunk) {
                if (word >> j) & 1 == 1 {
                    *x += s;
                } else {
                    *x -= s;
                }
            }
        }
    }

    /// [`super::flip`], one entry at a time, fields from the definition.
    pub(crate) fn flip(
        f: &Fields,
        bits: &[u64],
        s: f64,
        m: &mut [f64],
        b: &mut [f64],
    ) -> (f64, f64) {
        let len = m.len().min(b.len());
        let m = m.get_mut(..len).unwrap_or(&mut []);
        signed_add(bits, s, m);
        let (mut sum_b, mut sum_u) = (0.0, 0.0);
        for (o, &x) in b.iter_mut().zip(m.iter()) {
            let (bx, ux) = f.eval(x);
            *o = bx;
            sum_b += bx;
            sum_u += ux;
        }
        (sum_b, sum_u)
    }

    /// [`super::fill`]'s overlaps, one column at a time.
    pub(crate) fn column_sums(columns: &[u64], words: usize, state: &[i8], m: &mut [f64]) {
        m.fill(0.0);
        if words == 0 {
            return;
        }
        for (col, &s) in columns.chunks_exact(words).zip(state) {
            signed_add(col, if s >= 0 { 1.0 } else { -1.0 }, m);
        }
    }
}

/// AVX-512F: 8 `f64` lanes, one byte of a column word as the lane mask.
#[cfg(all(target_arch = "x86_64", dam_avx512))]
#[allow(clippy::incompatible_msrv)]
mod avx512 {
    use super::Fields;
    use core::arch::x86_64::*;

    /// The mask of the first `min(n, 8)` lanes.
    #[inline(always)]
    fn low_lanes(n: usize) -> u8 {
        if n >= 8 { u8::MAX } else { (1u8 << n) - 1 }
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn masked_sum(bits: &[u64], v: &[f64]) -> f64 {
        let [mut a0, mut a1, mut a2, mut a3] = [_mm512_setzero_pd(); 4];
        for (&word, chunk) in bits.iter().zip(v.chunks(64)) {
            if chunk.len() == 64 {
                let p = chunk.as_ptr();
                // SAFETY: `chunk` has 64 entries, so the eight loads of 8 at
                // offsets 0, 8, …, 56 are in bounds.
                unsafe {
                    a0 = _mm512_mask_add_pd(a0, word as u8, a0, _mm512_loadu_pd(p));
                    a1 = _mm512_mask_add_pd(a1, (word >> 8) as u8, a1, _mm512_loadu_pd(p.add(8)));
                    a2 = _mm512_mask_add_pd(a2, (word >> 16) as u8, a2, _mm512_loadu_pd(p.add(16)));
                    a3 = _mm512_mask_add_pd(a3, (word >> 24) as u8, a3, _mm512_loadu_pd(p.add(24)));
                    a0 = _mm512_mask_add_pd(a0, (word >> 32) as u8, a0, _mm512_loadu_pd(p.add(32)));
                    a1 = _mm512_mask_add_pd(a1, (word >> 40) as u8, a1, _mm512_loadu_pd(p.add(40)));
                    a2 = _mm512_mask_add_pd(a2, (word >> 48) as u8, a2, _mm512_loadu_pd(p.add(48)));
                    a3 = _mm512_mask_add_pd(a3, (word >> 56) as u8, a3, _mm512_loadu_pd(p.add(56)));
                }
            } else {
                for (j, part) in (0u32..).zip(chunk.chunks(8)) {
                    let k = (word >> (8 * j)) as u8 & low_lanes(part.len());
                    // SAFETY: the masked load reads only the lanes of `k`,
                    // all within `part`; masked-off lanes cannot fault.
                    let x = unsafe { _mm512_maskz_loadu_pd(k, part.as_ptr()) };
                    a0 = _mm512_add_pd(a0, x);
                }
            }
        }
        _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)))
    }

    /// `Σ_k c_k t^{len−1−k}` by Horner (`0` for an empty table).
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn horner(c: &[f64], t: __m512d) -> __m512d {
        let mut acc = _mm512_setzero_pd();
        for &ck in c {
            acc = _mm512_fmadd_pd(acc, t, _mm512_set1_pd(ck));
        }
        acc
    }

    /// `v^n` by squaring.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn pow(mut v: __m512d, n: u32) -> __m512d {
        let mut acc = _mm512_set1_pd(1.0);
        let mut e = n;
        while e > 0 {
            if e & 1 == 1 {
                acc = _mm512_mul_pd(acc, v);
            }
            e >>= 1;
            if e > 0 {
                v = _mm512_mul_pd(v, v);
            }
        }
        acc
    }

    /// `(b(x), u(x))` lane by lane (see [`Fields`]).
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn eval(f: &Fields, x: __m512d) -> (__m512d, __m512d) {
        if f.rectified {
            let (zero, two, half) = (
                _mm512_setzero_pd(),
                _mm512_set1_pd(2.0),
                _mm512_set1_pd(0.5),
            );
            let p = pow(_mm512_max_pd(_mm512_add_pd(x, two), zero), f.n);
            let q = pow(_mm512_max_pd(_mm512_sub_pd(x, two), zero), f.n);
            let c = pow(_mm512_max_pd(x, zero), f.n);
            let b = _mm512_mul_pd(_mm512_sub_pd(p, q), half);
            let u = _mm512_fmsub_pd(_mm512_add_pd(p, q), half, c);
            (b, u)
        } else {
            let t = _mm512_mul_pd(x, x);
            let mut b = horner(f.b.get(..f.b_len).unwrap_or(&[]), t);
            let mut u = horner(f.u.get(..f.u_len).unwrap_or(&[]), t);
            if f.b_odd {
                b = _mm512_mul_pd(b, x);
            }
            if f.u_odd {
                u = _mm512_mul_pd(u, x);
            }
            (b, u)
        }
    }

    /// `(b(x), u(x))` of the plain polynomial from fixed-size tables
    /// (unrolled; `ODD`: `n` odd, so `u` has the factor `m`, `b` not).
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn poly<const NB: usize, const NU: usize, const ODD: bool>(
        b: &[f64; NB],
        u: &[f64; NU],
        x: __m512d,
    ) -> (__m512d, __m512d) {
        let t = _mm512_mul_pd(x, x);
        let (vb, vu) = (horner(b, t), horner(u, t));
        if ODD {
            (vb, _mm512_mul_pd(vu, x))
        } else {
            (_mm512_mul_pd(vb, x), vu)
        }
    }

    /// [`super::flip`]: one pass, 8 entries at a time, with the fields'
    /// evaluation chosen once (unrolled tables for `n ≤ 6`).
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn flip(
        f: &Fields,
        bits: &[u64],
        s: f64,
        m: &mut [f64],
        b: &mut [f64],
    ) -> (f64, f64) {
        /// The first `N` coefficients of a table.
        fn head<const N: usize>(t: &[f64; super::MAX_COEFFS]) -> [f64; N] {
            core::array::from_fn(|i| t.get(i).copied().unwrap_or(0.0))
        }
        let (tb, tu) = (&f.b, &f.u);
        // SAFETY (every arm): the features are this function's.
        unsafe {
            match (f.rectified, f.n) {
                (true, _) => flip_with(|x| eval(f, x), bits, s, m, b),
                (false, 1) => flip_with(
                    |x| poly::<1, 0, true>(&head(tb), &head(tu), x),
                    bits,
                    s,
                    m,
                    b,
                ),
                (false, 2) => flip_with(
                    |x| poly::<1, 1, false>(&head(tb), &head(tu), x),
                    bits,
                    s,
                    m,
                    b,
                ),
                (false, 3) => flip_with(
                    |x| poly::<2, 1, true>(&head(tb), &head(tu), x),
                    bits,
                    s,
                    m,
                    b,
                ),
                (false, 4) => flip_with(
                    |x| poly::<2, 2, false>(&head(tb), &head(tu), x),
                    bits,
                    s,
                    m,
                    b,
                ),
                (false, 5) => flip_with(
                    |x| poly::<3, 2, true>(&head(tb), &head(tu), x),
                    bits,
                    s,
                    m,
                    b,
                ),
                (false, 6) => flip_with(
                    |x| poly::<3, 3, false>(&head(tb), &head(tu), x),
                    bits,
                    s,
                    m,
                    b,
                ),
                _ => flip_with(|x| eval(f, x), bits, s, m, b),
            }
        }
    }

    /// The pass of [`flip`] with the fields `fields` (inlined per caller).
    /// Words missing from `bits` count as clear (`fill` passes none with
    /// `s = 0`).
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn flip_with(
        fields: impl Fn(__m512d) -> (__m512d, __m512d),
        bits: &[u64],
        s: f64,
        m: &mut [f64],
        b: &mut [f64],
    ) -> (f64, f64) {
        let len = m.len().min(b.len());
        let (m, b) = (
            m.get_mut(..len).unwrap_or(&mut []),
            b.get_mut(..len).unwrap_or(&mut []),
        );
        let (pos, neg) = (_mm512_set1_pd(s), _mm512_set1_pd(-s));
        let (mut sum_b, mut sum_u) = (_mm512_setzero_pd(), _mm512_setzero_pd());
        for (w, (mc, bc)) in m.chunks_mut(64).zip(b.chunks_mut(64)).enumerate() {
            let word = bits.get(w).copied().unwrap_or(0);
            for (j, (mp, bp)) in (0u32..).zip(mc.chunks_mut(8).zip(bc.chunks_mut(8))) {
                let step = _mm512_mask_blend_pd((word >> (8 * j)) as u8, neg, pos);
                let live = low_lanes(mp.len().min(bp.len()));
                // SAFETY: the masked loads and stores touch only the first
                // `live` lanes, within both `mp` and `bp` (both at least that
                // long); masked-off lanes cannot fault.
                unsafe {
                    let x = _mm512_add_pd(_mm512_maskz_loadu_pd(live, mp.as_ptr()), step);
                    _mm512_mask_storeu_pd(mp.as_mut_ptr(), live, x);
                    let (vb, vu) = fields(x);
                    _mm512_mask_storeu_pd(bp.as_mut_ptr(), live, vb);
                    sum_b = _mm512_mask_add_pd(sum_b, live, sum_b, vb);
                    sum_u = _mm512_mask_add_pd(sum_u, live, sum_u, vu);
                }
            }
        }
        (_mm512_reduce_add_pd(sum_b), _mm512_reduce_add_pd(sum_u))
    }

    /// [`super::fill`]'s overlaps: a block of 64 at a time in eight
    /// registers, over all columns (no loads or stores of `m` per column).
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn column_sums(columns: &[u64], words: usize, state: &[i8], m: &mut [f64]) {
        if words == 0 {
            return;
        }
        // m_μ = Σ_i σ_i (2 bit − 1) = Σ_{i: bit set} 2σ_i − Σ_i σ_i: one
        // masked add per column and register, the constant subtracted once.
        let columns = columns.chunks_exact(words).zip(state);
        let total: f64 = columns
            .clone()
            .map(|(_, &s)| if s >= 0 { 1.0 } else { -1.0 })
            .sum();
        let (two, minus_two) = (_mm512_set1_pd(2.0), _mm512_set1_pd(-2.0));
        for (w, block) in m.chunks_mut(64).enumerate() {
            let mut acc = [_mm512_set1_pd(-total); 8];
            for (col, &s) in columns.clone() {
                let word = col.get(w).copied().unwrap_or(0);
                let step = if s >= 0 { two } else { minus_two };
                for (j, a) in (0u32..).zip(acc.iter_mut()) {
                    *a = _mm512_mask_add_pd(*a, (word >> (8 * j)) as u8, *a, step);
                }
            }
            for (part, a) in block.chunks_mut(8).zip(acc) {
                let live = low_lanes(part.len());
                // SAFETY: the masked store writes only the first
                // `part.len()` lanes, all within `part`.
                unsafe { _mm512_mask_storeu_pd(part.as_mut_ptr(), live, a) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A small xorshift generator for the test data.
    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    #[test]
    fn fields_of_the_cube() {
        let f = Fields::new(3, false).unwrap();
        for m in -50..=50 {
            let m = f64::from(m);
            assert_eq!(f.eval(m), (6.0 * m * m + 8.0, 12.0 * m));
        }
        assert!(Fields::new(33, false).is_none());
        assert!(Fields::new(0, false).is_none());
        assert!(Fields::new(32, true).is_some());
    }

    proptest! {
        #![proptest_config(crate::test_config::proptest_config(ProptestConfig::with_cases(256), 3))]

        /// Every path against the reference, bit for bit, on integer data
        /// of every length class (full words, partial words, partial
        /// lanes), every degree the `2^53` bound allows at this magnitude.
        #[test]
        fn paths_match_the_reference(
            len in 0usize..300,
            seed in any::<u64>(),
            n in 1u32..=6,
            rectified in any::<bool>(),
        ) {
            let mut next = xorshift(seed);
            let f = Fields::new(n, rectified).unwrap();
            let words = len.div_ceil(64);
            let bits: [u64; 5] = core::array::from_fn(|_| next());
            let bits = &bits[..words];
            let v: [f64; 300] = core::array::from_fn(|_| (next() % 201) as f64 - 100.0);
            let v = &v[..len];
            let want_sum = scalar::masked_sum(bits, v);
            let mut want_m = [0.0; 300];
            want_m[..len].copy_from_slice(v);
            let mut want_b = [7.0; 300];
            let want_f = scalar::flip(&f, bits, 6.0, &mut want_m[..len], &mut want_b[..len]);
            // The reference itself against the definition.
            for mu in 0..len {
                let bit = (bits[mu / 64] >> (mu % 64)) & 1;
                prop_assert_eq!(want_m[mu], v[mu] + if bit == 1 { 6.0 } else { -6.0 });
                prop_assert_eq!(want_b[mu], f.eval(want_m[mu]).0);
            }
            for isa in Isa::ALL {
                prop_assert_eq!(masked_sum_on(isa, bits, v), want_sum, "{:?}", isa);
                let mut m = [0.0; 300];
                m[..len].copy_from_slice(v);
                let mut b = [7.0; 300];
                let got = flip_on(isa, &f, bits, 6.0, &mut m[..len], &mut b[..len]);
                prop_assert_eq!(got, want_f, "{:?}", isa);
                prop_assert_eq!(&m[..], &want_m[..], "{:?}", isa);
                prop_assert_eq!(&b[..], &want_b[..], "{:?}", isa);
            }
            let state: [i8; 7] = core::array::from_fn(|_| if next().is_multiple_of(2) { 1 } else { -1 });
            let cols: [u64; 35] = core::array::from_fn(|_| next());
            let words = words.max(1);
            let cols = &cols[..7 * words];
            let (mut want_c, mut want_cb) = ([7.0; 300], [7.0; 300]);
            let want_cf = scalar::flip(&f, &[], 0.0, &mut [], &mut []);
            prop_assert_eq!(want_cf, (0.0, 0.0));
            let want_cf = fill_on(Isa::Scalar, &f, cols, words, &state, &mut want_c[..len], &mut want_cb[..len]);
            for isa in Isa::ALL {
                let (mut c, mut cb) = ([7.0; 300], [7.0; 300]);
                let got = fill_on(isa, &f, cols, words, &state, &mut c[..len], &mut cb[..len]);
                prop_assert_eq!(got, want_cf, "{:?}", isa);
                prop_assert_eq!(&c[..], &want_c[..], "{:?}", isa);
                prop_assert_eq!(&cb[..], &want_cb[..], "{:?}", isa);
            }
            // Against the definition.
            for (mu, &got) in want_c[..len].iter().enumerate() {
                let want: f64 = (0..7)
                    .map(|i| {
                        let bit = (cols[i * words + mu / 64] >> (mu % 64)) & 1;
                        f64::from(state[i]) * if bit == 1 { 1.0 } else { -1.0 }
                    })
                    .sum();
                prop_assert_eq!(got, want);
                prop_assert_eq!(want_cb[mu], f.eval(want).0);
            }
        }

        /// The Horner form of the plain polynomial equals the definition
        /// for every degree up to the bound, on the whole exact range.
        #[test]
        fn horner_equals_the_definition(n in 1u32..=32, raw in any::<i32>()) {
            let f = Fields::new(n, false).unwrap();
            // Exact only while (|m| + 2)^n < 2^53: |m| ≤ 2^(50/n) − 2.
            let max = ((2f64.powf(50.0 / f64::from(n))).floor() as i32 - 2).clamp(0, 1000);
            let m = raw % (max + 1);
            let x = f64::from(m);
            let mut b = [0.0];
            let got = flip_on(Isa::best(), &f, &[], 0.0, &mut [x], &mut b);
            prop_assert_eq!((b[0], got.0), (f.eval(x).0, f.eval(x).0));
            prop_assert_eq!(got.1, f.eval(x).1);
        }
    }
}
