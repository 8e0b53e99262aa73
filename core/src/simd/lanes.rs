//! Kernels written once over an abstract SIMD register ([`Lanes`]) and
//! instantiated per instruction set (`x86`, `neon`) inside functions that
//! carry the matching `#[target_feature]`.
//!
//! Everything here is `#[inline(always)]` so that it is compiled as part of
//! the `#[target_feature]` wrapper that calls it: that is what lets the
//! intrinsics behind [`Lanes`] inline into one loop. Tails (lengths that are
//! not a multiple of the register width) go through one zero-padded partial
//! register, so there is no scalar epilogue and no separate code path to
//! test: padding with zeros adds nothing to a dot product or a distance.
#![allow(unsafe_code)]

use crate::real::Real;

/// The widest register any implementation has, in elements (AVX-512 `f32`).
pub(crate) const MAX_LANES: usize = 16;

/// One SIMD register of [`Lanes::N`] elements of [`Lanes::E`].
///
/// # Safety
/// Every method may execute instructions of the implementing instruction
/// set: callers must only call them on a CPU that has it (the dispatcher in
/// `simd` guarantees this). Pointer arguments must be valid as documented.
pub(crate) unsafe trait Lanes: Copy {
    /// The element type.
    type E: Real;
    /// Elements per register; at most [`MAX_LANES`].
    const N: usize;

    /// All lanes `0`.
    unsafe fn zero() -> Self;
    /// All lanes `x`.
    unsafe fn splat(x: Self::E) -> Self;
    /// Loads `N` elements from `p` (no alignment needed). `p` must be valid
    /// for `N` reads.
    unsafe fn load(p: *const Self::E) -> Self;
    /// Stores `N` elements at `p` (no alignment needed). `p` must be valid
    /// for `N` writes.
    unsafe fn store(self, p: *mut Self::E);
    /// `self · b + c`, fused where the instruction set has FMA.
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    /// `self + b`.
    unsafe fn add(self, b: Self) -> Self;
    /// `self − b`.
    unsafe fn sub(self, b: Self) -> Self;
    /// The sum of all lanes.
    unsafe fn sum(self) -> Self::E;

    /// The sums of four registers (an implementation may share the
    /// shuffles between them).
    #[inline(always)]
    unsafe fn sum4(a: Self, b: Self, c: Self, d: Self) -> [Self::E; 4] {
        // SAFETY: forwarded obligation.
        unsafe { [a.sum(), b.sum(), c.sum(), d.sum()] }
    }

    /// Loads `s` (`s.len() < N`) into the low lanes, zero in the others.
    #[inline(always)]
    unsafe fn load_partial(s: &[Self::E]) -> Self {
        let mut buf = [Self::E::ZERO; MAX_LANES];
        for (d, &x) in buf.iter_mut().zip(s) {
            *d = x;
        }
        // SAFETY: `buf` holds MAX_LANES ≥ N elements; the ISA is the
        // caller's obligation.
        unsafe { Self::load(buf.as_ptr()) }
    }

    /// The packed product's micro-kernel for a whole group of `NR`
    /// queries times a whole panel of `PANEL_REGS · N` memories, where
    /// this register type has one written in assembly: writes the same
    /// bits as [`micro`] + [`store_tile`] into `tile` (rows of
    /// `PANEL_REGS · MAX_LANES` elements) and returns `true`; otherwise
    /// does nothing and returns `false`.
    ///
    /// `panel` must be valid for `PANEL_REGS·N·d` reads, `q` for `NR·d`
    /// reads, `tile` for `NR·PANEL_REGS·MAX_LANES` writes, `d ≥ 1`.
    #[inline(always)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
    unsafe fn micro_full<const NR: usize>(
        _panel: *const Self::E,
        _q: *const Self::E,
        _d: usize,
        _tile: *mut Self::E,
    ) -> bool {
        false
    }

    /// Packs one whole panel of [`gemm_packed`] (`PANEL_REGS · N` rows of
    /// `d`, row `i` at `src + i·d`; column `p` at `dst + p·PANEL_REGS·N`)
    /// where this register type has a vector packing, and returns `true`;
    /// otherwise does nothing and returns `false`.
    ///
    /// `src` must be valid for `PANEL_REGS·N·d` reads, `dst` for as many
    /// writes.
    #[inline(always)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
    unsafe fn pack_panel(_src: *const Self::E, _d: usize, _dst: *mut Self::E) -> bool {
        false
    }

    /// Stores the low `s.len()` lanes (`s.len() < N`) into `s`.
    #[inline(always)]
    unsafe fn store_partial(self, s: &mut [Self::E]) {
        let mut buf = [Self::E::ZERO; MAX_LANES];
        // SAFETY: as for `load_partial`.
        unsafe { self.store(buf.as_mut_ptr()) };
        for (d, &x) in s.iter_mut().zip(buf.iter()) {
            *d = x;
        }
    }
}

/// The per-element step of a reduction over two vectors.
pub(crate) trait Step {
    /// `acc + g(a, b)` lane-wise.
    ///
    /// # Safety
    /// As for [`Lanes`]: the CPU must have `V`'s instruction set.
    unsafe fn step<V: Lanes>(acc: V, a: V, b: V) -> V;
}

/// `acc + a·b`.
pub(crate) struct DotStep;
impl Step for DotStep {
    #[inline(always)]
    unsafe fn step<V: Lanes>(acc: V, a: V, b: V) -> V {
        // SAFETY: forwarded obligation.
        unsafe { a.mul_add(b, acc) }
    }
}

/// `acc + (a−b)²`.
pub(crate) struct DistStep;
impl Step for DistStep {
    #[inline(always)]
    unsafe fn step<V: Lanes>(acc: V, a: V, b: V) -> V {
        // SAFETY: forwarded obligation.
        unsafe {
            let d = a.sub(b);
            d.mul_add(d, acc)
        }
    }
}

/// `Σ_i g(a_i, b_i)` over the common length, four registers per iteration
/// (independent accumulators hide the FMA latency).
///
/// # Safety
/// The CPU must have `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn reduce<V: Lanes, S: Step>(a: &[V::E], b: &[V::E]) -> V::E {
    let n = a.len().min(b.len());
    let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
    let w = V::N;
    // SAFETY (whole body): every `load` reads `w` elements starting at an
    // offset `o` of a chunk whose length is at least `o + w` (`chunks_exact`
    // of `4w` for offsets 0, w, 2w, 3w, then of `w`); partial tails are
    // copied. The ISA is the caller's obligation.
    unsafe {
        let (mut s0, mut s1, mut s2, mut s3) = (V::zero(), V::zero(), V::zero(), V::zero());
        let mut ca = a.chunks_exact(4 * w);
        let mut cb = b.chunks_exact(4 * w);
        for (x, y) in (&mut ca).zip(&mut cb) {
            let (px, py) = (x.as_ptr(), y.as_ptr());
            s0 = S::step(s0, V::load(px), V::load(py));
            s1 = S::step(s1, V::load(px.add(w)), V::load(py.add(w)));
            s2 = S::step(s2, V::load(px.add(2 * w)), V::load(py.add(2 * w)));
            s3 = S::step(s3, V::load(px.add(3 * w)), V::load(py.add(3 * w)));
        }
        let mut ca = ca.remainder().chunks_exact(w);
        let mut cb = cb.remainder().chunks_exact(w);
        for (x, y) in (&mut ca).zip(&mut cb) {
            s0 = S::step(s0, V::load(x.as_ptr()), V::load(y.as_ptr()));
        }
        let (ra, rb) = (ca.remainder(), cb.remainder());
        if !ra.is_empty() {
            s1 = S::step(s1, V::load_partial(ra), V::load_partial(rb));
        }
        s0.add(s1).add(s2.add(s3)).sum()
    }
}

/// `y_i += alpha · x_i` over the common length.
///
/// # Safety
/// The CPU must have `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn axpy<V: Lanes>(alpha: V::E, x: &[V::E], y: &mut [V::E]) {
    let w = V::N;
    // SAFETY: loads and stores of `w` elements at the start of `chunks_exact(w)`
    // chunks; the tail is copied through a buffer.
    unsafe {
        let a = V::splat(alpha);
        let mut cy = y.chunks_exact_mut(w);
        let mut cx = x.chunks_exact(w);
        for (yc, xc) in (&mut cy).zip(&mut cx) {
            let p = yc.as_mut_ptr();
            a.mul_add(V::load(xc.as_ptr()), V::load(p)).store(p);
        }
        let (ry, rx) = (cy.into_remainder(), cx.remainder());
        let n = ry.len().min(rx.len());
        if let (Some(ry), Some(rx)) = (ry.get_mut(..n), rx.get(..n))
            && !ry.is_empty()
        {
            a.mul_add(V::load_partial(rx), V::load_partial(ry))
                .store_partial(ry);
        }
    }
}

/// The `MR × NR` dot products of `MR` rows of `a` (row `i` at `a[i·lda..]`)
/// with `NR` rows of `b` (row `j` at `b[j·ldb..]`), each over `n` entries,
/// with `MR·NR` register accumulators: per step `MR + NR` loads feed
/// `MR·NR` FMAs. Returns `None` if a slice is too short for the shape.
///
/// # Safety
/// The CPU must have `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn tile<V: Lanes, const MR: usize, const NR: usize>(
    a: &[V::E],
    lda: usize,
    b: &[V::E],
    ldb: usize,
    n: usize,
) -> Option<[[V::E; NR]; MR]> {
    let need = |rows: usize, ld: usize| rows.checked_sub(1)?.checked_mul(ld)?.checked_add(n);
    if MR == 0 || NR == 0 || a.len() < need(MR, lda)? || b.len() < need(NR, ldb)? {
        return None;
    }
    let w = V::N;
    let full = n / w * w;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    // SAFETY: row `i` of `a` starts at `i·lda` and has `n` readable entries
    // (checked above: `(MR−1)·lda + n ≤ a.len()`), same for `b`; the loop
    // reads `[o, o + w)` with `o + w ≤ full ≤ n`. The tail of `n − full < w`
    // entries is copied from in-bounds subslices. The ISA is the caller's.
    unsafe {
        // Register budget: MR·NR accumulators + MR row registers + one
        // query register streamed through (16 for 3×4 on AVX2).
        let mut acc = [[V::zero(); NR]; MR];
        let mut ra = [V::zero(); MR];
        let mut o = 0;
        while o < full {
            for (i, r) in ra.iter_mut().enumerate() {
                *r = V::load(pa.add(i * lda + o));
            }
            for j in 0..NR {
                let x = V::load(pb.add(j * ldb + o));
                for (row, r) in acc.iter_mut().zip(ra.iter()) {
                    if let Some(s) = row.get_mut(j) {
                        *s = r.mul_add(x, *s);
                    }
                }
            }
            o += w;
        }
        if full < n {
            for (i, r) in ra.iter_mut().enumerate() {
                let s = i * lda;
                *r = V::load_partial(a.get(s + full..s + n).unwrap_or(&[]));
            }
            for j in 0..NR {
                let s = j * ldb;
                let x = V::load_partial(b.get(s + full..s + n).unwrap_or(&[]));
                for (row, r) in acc.iter_mut().zip(ra.iter()) {
                    if let Some(s) = row.get_mut(j) {
                        *s = r.mul_add(x, *s);
                    }
                }
            }
        }
        let mut out = [[V::E::ZERO; NR]; MR];
        for (o, s) in out.iter_mut().zip(acc.iter()) {
            let mut os = o.chunks_exact_mut(4);
            let mut ss = s.chunks_exact(4);
            for (o, s) in (&mut os).zip(&mut ss) {
                if let ([o0, o1, o2, o3], [s0, s1, s2, s3]) = (o, s) {
                    [*o0, *o1, *o2, *o3] = V::sum4(*s0, *s1, *s2, *s3);
                }
            }
            for (o, s) in os.into_remainder().iter_mut().zip(ss.remainder()) {
                *o = s.sum();
            }
        }
        Some(out)
    }
}

/// `out[μ] = Σ_{i<n} a[μ·lda + i] x_i` with `n = min(x.len(), lda)`, for
/// `μ < min(out.len(), a.len() / lda)`, `MR` rows at a time.
///
/// # Safety
/// The CPU must have `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn gemv<V: Lanes, const MR: usize>(
    a: &[V::E],
    lda: usize,
    x: &[V::E],
    out: &mut [V::E],
) {
    if lda == 0 || MR == 0 {
        return;
    }
    let n = x.len().min(lda);
    let k = (a.len() / lda).min(out.len());
    let (a, out) = (
        a.get(..k * lda).unwrap_or(&[]),
        out.get_mut(..k).unwrap_or(&mut []),
    );
    let mut blocks = a.chunks_exact(MR * lda);
    let mut outs = out.chunks_exact_mut(MR);
    // SAFETY: the ISA is the caller's; `tile` checks the shapes.
    unsafe {
        for (blk, o) in (&mut blocks).zip(&mut outs) {
            if let Some(t) = tile::<V, MR, 1>(blk, lda, x, 0, n) {
                for (o, [t]) in o.iter_mut().zip(t) {
                    *o = t;
                }
            }
        }
        for (row, o) in blocks
            .remainder()
            .chunks_exact(lda)
            .zip(outs.into_remainder())
        {
            if let Some([[t]]) = tile::<V, 1, 1>(row, lda, x, 0, n) {
                *o = t;
            }
        }
    }
}

/// Rows of `a` per cache block of [`gemm_fused`]: a block of `KC` rows of
/// `d` entries is kept near `L2_BLOCK_BYTES` so that it stays in L2 while
/// every query passes over it. Under Miri, 4 KiB: the test that spans
/// several blocks then needs a few rows, not the hours Miri takes for 280 KB.
const L2_BLOCK_BYTES: usize = if cfg!(miri) { 4 * 1024 } else { 192 * 1024 };

/// Calls `f(μ, b, a_μ·q_b)` once for every row `μ` of `a` (`K = a.len()/d`
/// rows of `d`) and every query `b` of `q` (`B = q.len()/d` rows of `d`).
/// Order: cache blocks of `a`, then `NR` queries, then `MR` rows.
///
/// # Safety
/// The CPU must have `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn gemm_fused<V: Lanes, const MR: usize, const NR: usize, F>(
    a: &[V::E],
    q: &[V::E],
    d: usize,
    mut f: F,
) where
    F: FnMut(usize, usize, V::E),
{
    if d == 0 {
        return;
    }
    let (k, nq) = (a.len() / d, q.len() / d);
    let row_bytes = d * core::mem::size_of::<V::E>();
    let kc = (L2_BLOCK_BYTES / row_bytes.max(1) / MR).max(1) * MR;
    let (a, q) = (
        a.get(..k * d).unwrap_or(&[]),
        q.get(..nq * d).unwrap_or(&[]),
    );
    // SAFETY: the ISA is the caller's.
    unsafe {
        for (c, chunk) in a.chunks(kc * d).enumerate() {
            let mut qblocks = q.chunks_exact(NR * d);
            for (jb, qb) in (&mut qblocks).enumerate() {
                block::<V, MR, NR, F>(chunk, c * kc, qb, jb * NR, d, &mut f);
            }
            for (j, qr) in qblocks.remainder().chunks_exact(d).enumerate() {
                block::<V, MR, 1, F>(chunk, c * kc, qr, nq / NR * NR + j, d, &mut f);
            }
        }
    }
}

/// All rows of `chunk` (the first is row `mu0`) times the `NR` queries of
/// `qb` (the first is query `b0`): `MR` rows per tile, then single rows.
///
/// # Safety
/// The CPU must have `V`'s instruction set.
#[inline(always)]
unsafe fn block<V: Lanes, const MR: usize, const NR: usize, F>(
    chunk: &[V::E],
    mu0: usize,
    qb: &[V::E],
    b0: usize,
    d: usize,
    f: &mut F,
) where
    F: FnMut(usize, usize, V::E),
{
    let mut emit = |mu: usize, t: &[[V::E; NR]]| {
        for (i, row) in t.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                f(mu + i, b0 + j, v);
            }
        }
    };
    let mut ablocks = chunk.chunks_exact(MR * d);
    // SAFETY: the ISA is the caller's; `tile` checks the shapes.
    unsafe {
        for (ib, ab) in (&mut ablocks).enumerate() {
            if let Some(t) = tile::<V, MR, NR>(ab, d, qb, d, d) {
                emit(mu0 + ib * MR, &t);
            }
        }
        let i0 = mu0 + chunk.len() / d / MR * MR;
        for (i, ar) in ablocks.remainder().chunks_exact(d).enumerate() {
            if let Some(t) = tile::<V, 1, NR>(ar, d, qb, d, d) {
                emit(i0 + i, &t);
            }
        }
    }
}

/// Steps of [`micro`]'s loop per iteration.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
const UNROLL: usize = 4;

/// Registers per column of a packed memory panel: the micro-kernel of
/// [`gemm_packed`] covers `PANEL_REGS · N` memories (32 `f32` on AVX-512,
/// 16 on AVX2).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
pub(crate) const PANEL_REGS: usize = 2;

/// Registers of the packing buffer of [`gemm_packed`], on the stack (the
/// crate has no allocator): 256 KiB on AVX-512, 128 KiB on AVX2. A block
/// of packed memories fills at most this, so it stays in L2 while every
/// query passes over it.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
pub(crate) const PACK_REGS: usize = 4096;

/// Whether [`gemm_packed`] takes `K = k` memories times `B = nq` queries of
/// `d` entries: at least one whole micro-tile (`MR = PANEL_REGS · N`
/// memories, `NR` queries) and a packed panel of `MR × d` that fits the
/// packing buffer. Smaller shapes (and `d > PACK_REGS · N / MR`, 2048
/// entries) use the dot-product tiles of [`gemm_fused`].
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
pub(crate) fn packed_fits<V: Lanes, const NR: usize>(k: usize, nq: usize, d: usize) -> bool {
    let mr = PANEL_REGS * V::N;
    NR > 0 && d > 0 && k >= mr && nq >= NR && d.saturating_mul(mr) <= PACK_REGS * V::N
}

/// Packs `rows ≤ capacity` rows of `d` entries of `a` (row-major) into
/// panels of `MR = PANEL_REGS · N` rows: panel `t` starts at `t·MR·d`, its
/// column `p` holds rows `t·MR .. t·MR + MR` at `p·MR ..`, rows past `rows`
/// are zero. Writes exactly `ceil(rows / MR) · MR · d` elements of `buf`.
///
/// # Safety
/// `buf` must be valid for `ceil(rows / MR) · MR · d` writes, and `a` hold
/// at least `rows · d` elements.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
unsafe fn pack_panels<V: Lanes>(a: &[V::E], rows: usize, d: usize, buf: *mut V::E) {
    let mr = PANEL_REGS * V::N;
    let panels = rows.div_ceil(mr);
    for t in 0..panels {
        // SAFETY: `t·MR·d + p·MR + i < panels·MR·d` for `i < MR`, `p < d`:
        // inside the caller's `buf`.
        let dst = unsafe { buf.add(t * mr * d) };
        let full = rows - t * mr >= mr;
        match a.get(t * mr * d..(t * mr + mr) * d) {
            // A whole panel, by the register type's own packing where it
            // has one (AVX-512 `f32`: in-register transposes).
            // SAFETY: `src` holds the panel's `MR·d` entries; `dst` has
            // room for `MR·d` (above).
            Some(src) if full && unsafe { V::pack_panel(src.as_ptr(), d, dst) } => {}
            // Otherwise column by column, so the writes are contiguous and
            // each row's cache line serves the next 16 columns. The column
            // is gathered by scalar loads (faster here than the vector
            // scatters or gathers LLVM would otherwise emit).
            Some(src) if full => {
                let sp = src.as_ptr();
                for p in 0..d {
                    // Hidden from the optimizer per column: otherwise LLVM
                    // vectorizes along `p` (eight columns of a row per
                    // load, then vector scatters: 4.7 % of the samples at
                    // batch 1000, K = 2000; 3.7 % with this).
                    let col = opaque(dst.wrapping_add(p * mr)).cast_mut();
                    let mut i = 0;
                    while i < mr {
                        // SAFETY: `i < MR`, `p < d`: `i·d + p < MR·d =
                        // src.len()`; the write is inside `buf` (above).
                        unsafe {
                            let (r0, r1) =
                                (sp.add(i * d + p).read(), sp.add((i + 1) * d + p).read());
                            let (r2, r3) = (
                                sp.add((i + 2) * d + p).read(),
                                sp.add((i + 3) * d + p).read(),
                            );
                            let o = col.add(i);
                            o.write(r0);
                            o.add(1).write(r1);
                            o.add(2).write(r2);
                            o.add(3).write(r3);
                        }
                        i += 4;
                    }
                }
            }
            // The last, partial panel: rows past `rows` are zero.
            _ => {
                for i in 0..mr {
                    let r = t * mr + i;
                    let row = if r < rows {
                        a.get(r * d..r * d + d)
                    } else {
                        None
                    };
                    for p in 0..d {
                        let x = row
                            .and_then(|row| row.get(p))
                            .copied()
                            .unwrap_or(V::E::ZERO);
                        // SAFETY: as above.
                        unsafe { dst.add(p * mr + i).write(x) };
                    }
                }
            }
        }
    }
}

/// `p`, hidden from the optimizer: the row pointers of [`micro`] stay
/// independent base registers instead of being recomputed from one base
/// and the row stride inside the loop.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
fn opaque<T>(p: *const T) -> *const T {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        let mut p = p;
        // SAFETY: an empty asm block that only "modifies" a register.
        // `nomem` is right: the pointer is passed through, never
        // dereferenced.
        #[allow(clippy::pointers_in_nomem_asm_block)]
        unsafe {
            core::arch::asm!("/* {0} */", inout(reg) p, options(pure, nomem, nostack, preserves_flags))
        };
        p
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        p
    }
}

/// The outer-product micro-kernel: `MR = PANEL_REGS · N` packed memories
/// (`panel`, `d` columns of `MR`) times `NR` queries (row `j` at
/// `q + j·d`; rows `j ≥ nj` repeat row `nj − 1`, so a last, partial group
/// of queries runs the same loop), over all `d` entries: per entry
/// `PR` vector loads (the first `PR · N` memories of each column: `PR =
/// PANEL_REGS` for a whole panel, `1` for a last panel of at most `N`
/// memories), `NR` broadcasts and `PR · NR` FMAs into as many accumulator
/// registers, no horizontal reduction. Returns the accumulators, `[j][r]`
/// holding memories `r·N ..` of query `j`.
///
/// # Safety
/// The CPU must have `V`'s instruction set; `panel` must be valid for
/// `MR · d` reads and `q` for `nj·d` reads, `1 ≤ nj`; `PR ≤ PANEL_REGS`.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
unsafe fn micro<V: Lanes, const NR: usize, const PR: usize>(
    panel: *const V::E,
    q: *const V::E,
    d: usize,
    nj: usize,
) -> [[V; PR]; NR] {
    let mr = PANEL_REGS * V::N;
    // SAFETY: `p < d`, `PR ≤ PANEL_REGS`, so the panel reads
    // `[p·MR, p·MR + PR·N)` lie inside
    // `MR · d`, and the broadcast of row `j` reads `min(j, nj − 1)·d + p
    // < nj·d`. The
    // ISA is the caller's.
    unsafe {
        let mut acc = [[V::zero(); PR]; NR];
        // One base pointer per query row, all indexed by `p`: each
        // broadcast is `[row_j + 4p]`, with no address arithmetic per row
        // in the loop (it would compete with the FMAs for their ports).
        let mut rows = [q; NR];
        for (j, r) in rows.iter_mut().enumerate() {
            *r = opaque(q.add(j.min(nj - 1) * d));
        }
        let mut pa = panel;
        // One step: entry `p` of every row times column `p` of the panel.
        let step = |acc: &mut [[V; PR]; NR], pa: *const V::E, p: usize| {
            let a: [V; PR] = core::array::from_fn(|r| V::load(pa.add(r * V::N)));
            for (c, r) in acc.iter_mut().zip(rows.iter()) {
                let x = V::splat(*r.add(p));
                for (c, a) in c.iter_mut().zip(a.iter()) {
                    *c = a.mul_add(x, *c);
                }
            }
        };
        // Four steps per iteration: the loop's counter, pointer and branch
        // (scalar operations the scheduler may put on the FMA ports) once
        // per 4·PR·NR FMAs. Each accumulator still sees `p` in order.
        let mut p = 0;
        while p + UNROLL <= d {
            for u in 0..UNROLL {
                step(&mut acc, pa.add(u * mr), p + u);
            }
            pa = pa.add(UNROLL * mr);
            p += UNROLL;
        }
        while p < d {
            step(&mut acc, pa, p);
            pa = pa.add(mr);
            p += 1;
        }
        acc
    }
}

/// Stores the accumulators of [`micro`] into `tile`: `tile[j][r·N ..]`
/// from `acc[j][r]`.
///
/// # Safety
/// The CPU must have `V`'s instruction set.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
unsafe fn store_tile<V: Lanes, const NR: usize, const PR: usize>(
    acc: &[[V; PR]; NR],
    tile: &mut [[V::E; PANEL_REGS * MAX_LANES]; NR],
) {
    for (cj, tj) in acc.iter().zip(tile.iter_mut()) {
        for (r, v) in cj.iter().enumerate() {
            if let Some(dst) = tj.get_mut(r * V::N..r * V::N + V::N) {
                // SAFETY: `dst` holds `N` elements; the ISA is the
                // caller's.
                unsafe { v.store(dst.as_mut_ptr()) };
            }
        }
    }
}

/// What [`gemm_packed`] does with its results: one product at a time (the
/// dot-product tiles it falls back to) or a micro-tile of them.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
pub(crate) trait Epilogue<E: Real> {
    /// The product of memory `mu` and query `b`.
    fn one(&mut self, mu: usize, b: usize, v: E);
    /// A micro-tile: `tile[j][i]` is the product of memory `m0 + i` and
    /// query `b0 + j`, for `i < valid`, `j < nj`.
    fn tile<const NR: usize>(
        &mut self,
        m0: usize,
        b0: usize,
        nj: usize,
        valid: usize,
        tile: &[[E; PANEL_REGS * MAX_LANES]; NR],
    );
}

/// `f(μ, b, v)` per product ([`crate::simd::gemm_nt_fused`]).
pub(crate) struct Each<F>(pub F);

impl<E: Real, F: FnMut(usize, usize, E)> Epilogue<E> for Each<F> {
    #[inline(always)]
    fn one(&mut self, mu: usize, b: usize, v: E) {
        (self.0)(mu, b, v)
    }

    #[inline(always)]
    fn tile<const NR: usize>(
        &mut self,
        m0: usize,
        b0: usize,
        nj: usize,
        valid: usize,
        tile: &[[E; PANEL_REGS * MAX_LANES]; NR],
    ) {
        // Memory by memory, the `NR` queries inside: consecutive calls
        // then update `NR` different queries (independent chains in a
        // caller that sums per query, instead of one chain of `MR`
        // dependent additions per query), and each query still sees its
        // memories in increasing order. A whole group separately: its
        // query loop has a constant trip count and is unrolled.
        if nj == NR {
            for i in 0..valid {
                for (j, tj) in tile.iter().enumerate() {
                    if let Some(&v) = tj.get(i) {
                        (self.0)(m0 + i, b0 + j, v);
                    }
                }
            }
        } else {
            for i in 0..valid {
                for (j, tj) in tile.iter().enumerate().take(nj) {
                    if let Some(&v) = tj.get(i) {
                        (self.0)(m0 + i, b0 + j, v);
                    }
                }
            }
        }
    }
}

/// `f(μ₀, b, run)` per query and run of consecutive memories
/// ([`crate::simd::gemm_nt_fused_runs`]): a micro-tile gives each of its
/// queries one run of up to `PANEL_REGS · N` memories.
pub(crate) struct Runs<F>(pub F);

impl<E: Real, F: FnMut(usize, usize, &[E])> Epilogue<E> for Runs<F> {
    #[inline(always)]
    fn one(&mut self, mu: usize, b: usize, v: E) {
        (self.0)(mu, b, core::slice::from_ref(&v))
    }

    #[inline(always)]
    fn tile<const NR: usize>(
        &mut self,
        m0: usize,
        b0: usize,
        nj: usize,
        valid: usize,
        tile: &[[E; PANEL_REGS * MAX_LANES]; NR],
    ) {
        for (j, tj) in tile.iter().enumerate().take(nj) {
            if let Some(run) = tj.get(..valid) {
                (self.0)(m0, b0 + j, run);
            }
        }
    }
}

/// [`gemm_fused`] as packed outer products, the way BLIS-style GEMMs do
/// it: blocks of memories are packed (transposed into panels of
/// `MR = PANEL_REGS · N` rows, at most [`PACK_REGS`] registers, so a block
/// stays in L2) once per call; for each block, every group of `NR`
/// queries is multiplied by every panel with [`micro`] over the whole `d`
/// (queries are read in place: a broadcast needs no packing), and `f` is
/// called from the accumulators. The last group may hold fewer than `NR`
/// queries: [`micro`] then repeats its last row and only the group's
/// queries are reported.
/// Order: blocks of memories, groups of `NR` queries, panels, memories,
/// queries. Rows of the last panel past `K` are zero and not reported.
///
/// Falls back to [`gemm_fused`] (tile `MRT × NRT`) when [`packed_fits`]
/// says no.
///
/// Why this shape (measured at batch 1000, K = 2000, D = 794 on an AVX-512
/// Xeon, `BENCHMARKS.md`): the dot-product tiles reached about 40 % of the
/// FMA peak, the packed kernel first 55–74 % on the shared, loaded
/// machine, 76–84 % in the quieter runs with the partial groups and
/// panels on the packed loop and the callbacks memory by memory (1.07–2.19×
/// `matrixmultiply`'s sgemm + pass). Only the memories are packed: the
/// vector operand must
/// be transposed, but a broadcast reads the query rows in place, and
/// packing the queries per block of memories would copy `B·D` entries per
/// block (a block holds only 64 memories of `D = 794` in 256 KiB). The
/// row pointers are hidden from the optimizer ([`opaque`]): otherwise LLVM
/// recomputes them from one base and the stride, adding a dozen integer
/// instructions per step on the ports the FMAs need. Rows are not split
/// along `d` (no `KC` blocking): the accumulators live in registers for
/// the whole `d`, then go to a small stack tile that `f` is called from;
/// the memory
/// panel (`MR · d`) streams from L2, the query rows from L1/L2.
///
/// # Safety
/// The CPU must have `V`'s instruction set.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // the packed kernel runs on x86_64 only
pub(crate) unsafe fn gemm_packed<V: Lanes, const NR: usize, const MRT: usize, const NRT: usize, P>(
    a: &[V::E],
    q: &[V::E],
    d: usize,
    mut ep: P,
) where
    P: Epilogue<V::E>,
{
    let (k, nq) = (
        a.len().checked_div(d).unwrap_or(0),
        q.len().checked_div(d).unwrap_or(0),
    );
    if !packed_fits::<V, NR>(k, nq, d) {
        // SAFETY: the ISA is the caller's.
        return unsafe { gemm_fused::<V, MRT, NRT, _>(a, q, d, |mu, b, v| ep.one(mu, b, v)) };
    }
    let mr = PANEL_REGS * V::N;
    // Whole panels per block (≥ 1: `packed_fits` checked `MR·d ≤ capacity`).
    let mc = (PACK_REGS * V::N / (mr * d)).max(1) * mr;
    let mut buf = [core::mem::MaybeUninit::<V>::uninit(); PACK_REGS];
    let bp = buf.as_mut_ptr().cast::<V::E>();
    let (a, q) = (
        a.get(..k * d).unwrap_or(&[]),
        q.get(..nq * d).unwrap_or(&[]),
    );
    let groups = nq.div_ceil(NR);
    let mut tile = [[V::E::ZERO; PANEL_REGS * MAX_LANES]; NR];
    for (c, chunk) in a.chunks(mc * d).enumerate() {
        let (mu0, rows) = (c * mc, chunk.len() / d);
        let panels = rows.div_ceil(mr);
        // SAFETY: `rows ≤ mc`, so the `panels·MR·d ≤ mc·d ≤ PACK_REGS·N`
        // elements written fit `buf`; `chunk` holds `rows·d` elements.
        unsafe { pack_panels::<V>(chunk, rows, d, bp) };
        for g in 0..groups {
            let b0 = g * NR;
            // The group's queries: `nj ≥ 1` whole rows (`b0 < nq`); the
            // last group may have fewer than `NR`.
            let nj = (nq - b0).min(NR);
            let Some(qg) = q.get(b0 * d..(b0 + nj) * d) else {
                continue;
            };
            for t in 0..panels {
                // A last panel of at most `N` memories runs on one
                // register per column (half the FMAs; `K = 100` ends on
                // a panel of 4).
                let (m0, pt) = (mu0 + t * mr, bp.wrapping_add(t * mr * d));
                let valid = (rows - t * mr).min(mr);
                // SAFETY: as below; `tile` holds `NR` rows of
                // `PANEL_REGS · MAX_LANES` elements, `d ≥ 1`
                // (`packed_fits`).
                if nj == NR
                    && valid > V::N
                    && unsafe { V::micro_full::<NR>(pt, qg.as_ptr(), d, tile.as_mut_ptr().cast()) }
                {
                    // The assembly kernel filled `tile`.
                } else if valid > V::N {
                    // SAFETY: panel `t < panels` was written by
                    // `pack_panels` (`MR·d` elements at `pt = t·MR·d`);
                    // `qg` holds `nj·d` elements, `nj ≥ 1`. The ISA is the
                    // caller's.
                    unsafe {
                        let acc = micro::<V, NR, PANEL_REGS>(pt, qg.as_ptr(), d, nj);
                        store_tile(&acc, &mut tile);
                    }
                } else {
                    // SAFETY: as above; `1 ≤ PANEL_REGS`.
                    unsafe {
                        let acc = micro::<V, NR, 1>(pt, qg.as_ptr(), d, nj);
                        store_tile(&acc, &mut tile);
                    }
                }
                ep.tile(m0, b0, nj, valid, &tile);
            }
        }
    }
}

/// Implements [`Lanes`] for a register type from its intrinsics.
macro_rules! impl_lanes {
    (
        $name:ident($reg:ty): [$e:ty; $n:literal],
        zero: $zero:ident, splat: $splat:ident, load: $load:ident, store: $store:ident,
        add: $add:ident, sub: $sub:ident,
        mul_add: |$a:ident, $b:ident, $c:ident| $fma:expr,
        sum: |$v:ident| $sum:expr
        $(, load_partial: |$s:ident| $lp:expr)?
        $(, sum4: |$q0:ident, $q1:ident, $q2:ident, $q3:ident| $s4:expr)?
        $(, micro_full: $mf:ident, pack_panel: $pp:ident)? $(,)?
    ) => {
        #[derive(Clone, Copy)]
        pub(crate) struct $name($reg);

        // SAFETY: each method is a single intrinsic (or a short fixed
        // sequence) of the instruction set named by the module that uses
        // the type; `load`/`store` access exactly `N` elements, as the trait
        // requires of its callers; an overriding `load_partial` is a masked
        // load whose mask selects only the `s.len()` lanes inside `s`
        // (masked-off lanes are not accessed and cannot fault).
        unsafe impl $crate::simd::lanes::Lanes for $name {
            type E = $e;
            const N: usize = $n;
            #[inline(always)]
            unsafe fn zero() -> Self {
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { Self($zero()) }
            }
            #[inline(always)]
            unsafe fn splat(x: $e) -> Self {
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { Self($splat(x)) }
            }
            #[inline(always)]
            unsafe fn load(p: *const $e) -> Self {
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { Self($load(p)) }
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut $e) {
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { $store(p, self.0) }
            }
            #[inline(always)]
            unsafe fn mul_add(self, b: Self, c: Self) -> Self {
                let ($a, $b, $c) = (self.0, b.0, c.0);
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { Self($fma) }
            }
            #[inline(always)]
            unsafe fn add(self, b: Self) -> Self {
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { Self($add(self.0, b.0)) }
            }
            #[inline(always)]
            unsafe fn sub(self, b: Self) -> Self {
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { Self($sub(self.0, b.0)) }
            }
            #[inline(always)]
            unsafe fn sum(self) -> $e {
                let $v = self.0;
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { $sum }
            }
            $(
            #[inline(always)]
            unsafe fn load_partial($s: &[$e]) -> Self {
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { Self($lp) }
            }
            )?
            $(
            #[inline(always)]
            unsafe fn micro_full<const NR: usize>(
                panel: *const $e,
                q: *const $e,
                d: usize,
                tile: *mut $e,
            ) -> bool {
                // SAFETY: the trait's obligations, forwarded.
                unsafe { $mf::<NR>(panel, q, d, tile) }
            }
            #[inline(always)]
            unsafe fn pack_panel(src: *const $e, d: usize, dst: *mut $e) -> bool {
                // SAFETY: the trait's obligations, forwarded.
                unsafe { $pp(src, d, dst) }
            }
            )?
            $(
            #[inline(always)]
            unsafe fn sum4($q0: Self, $q1: Self, $q2: Self, $q3: Self) -> [$e; 4] {
                let ($q0, $q1, $q2, $q3) = ($q0.0, $q1.0, $q2.0, $q3.0);
                // SAFETY: see the comment on the `unsafe impl`.
                unsafe { $s4 }
            }
            )?
        }
    };
}
pub(crate) use impl_lanes;

/// The kernels of this module compiled with one set of target features.
/// `MR × NR` is the register tile of the batch kernel (accumulators plus
/// `MR` row registers plus one query register must fit the register file),
/// `GEMV_MR` the rows per step of the matrix-vector kernel.
macro_rules! isa_module {
    ($(#[$doc:meta])* $m:ident, $features:literal, mr: $mr:literal, nr: $nr:literal, gemv_mr: $gmr:literal
     $(, packed_nr: $pnr:literal)?) => {
        $(#[$doc])*
        pub(crate) mod $m {
            use $crate::simd::lanes::{self, DistStep, DotStep, Lanes};

            /// Dot product. # Safety: the CPU must have the features.
            #[target_feature(enable = $features)]
            pub(crate) unsafe fn dot<V: Lanes>(a: &[V::E], b: &[V::E]) -> V::E {
                // SAFETY: the features are enabled (caller's obligation).
                unsafe { lanes::reduce::<V, DotStep>(a, b) }
            }

            /// Squared distance. # Safety: the CPU must have the features.
            #[target_feature(enable = $features)]
            pub(crate) unsafe fn squared_distance<V: Lanes>(a: &[V::E], b: &[V::E]) -> V::E {
                // SAFETY: as above.
                unsafe { lanes::reduce::<V, DistStep>(a, b) }
            }

            /// `y += αx`. # Safety: the CPU must have the features.
            #[target_feature(enable = $features)]
            pub(crate) unsafe fn axpy<V: Lanes>(alpha: V::E, x: &[V::E], y: &mut [V::E]) {
                // SAFETY: as above.
                unsafe { lanes::axpy::<V>(alpha, x, y) }
            }

            /// Matrix-vector. # Safety: the CPU must have the features.
            #[target_feature(enable = $features)]
            pub(crate) unsafe fn gemv<V: Lanes>(a: &[V::E], lda: usize, x: &[V::E], out: &mut [V::E]) {
                // SAFETY: as above.
                unsafe { lanes::gemv::<V, $gmr>(a, lda, x, out) }
            }

            /// The batch product, its results handed to `ep` (packed
            /// outer products where this module has them, else the
            /// dot-product tiles, one result at a time). # Safety: the
            /// CPU must have the features.
            #[target_feature(enable = $features)]
            unsafe fn gemm_epilogue<V: Lanes, P: lanes::Epilogue<V::E>>(
                a: &[V::E],
                q: &[V::E],
                d: usize,
                ep: P,
            ) {
                $(
                // SAFETY: as above.
                return unsafe { lanes::gemm_packed::<V, $pnr, $mr, $nr, _>(a, q, d, ep) };
                )?
                #[allow(unreachable_code)]
                let mut ep = ep;
                // SAFETY: as above.
                unsafe { lanes::gemm_fused::<V, $mr, $nr, _>(a, q, d, |mu, b, v| ep.one(mu, b, v)) }
            }

            /// Batch product with a per-result callback. # Safety: the CPU
            /// must have the features.
            #[inline(always)]
            pub(crate) unsafe fn gemm_fused<V: Lanes>(
                a: &[V::E],
                q: &[V::E],
                d: usize,
                f: impl FnMut(usize, usize, V::E),
            ) {
                // SAFETY: the caller's.
                unsafe { gemm_epilogue::<V, _>(a, q, d, lanes::Each(f)) }
            }

            /// Batch product with a callback per run of memories.
            /// # Safety: the CPU must have the features.
            #[inline(always)]
            pub(crate) unsafe fn gemm_fused_runs<V: Lanes>(
                a: &[V::E],
                q: &[V::E],
                d: usize,
                f: impl FnMut(usize, usize, &[V::E]),
            ) {
                // SAFETY: the caller's.
                unsafe { gemm_epilogue::<V, _>(a, q, d, lanes::Runs(f)) }
            }
        }
    };
}
pub(crate) use isa_module;
