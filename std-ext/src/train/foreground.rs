//! Products over the images' foreground: the trainer's two products
//! `Ξ_vis · V` and `G · V` when most pixels hold one background value.
//!
//! With the background `b₀`, `ξ·v = Σ_{i: v_i ≠ b₀} ξ_i (v_i − b₀) + b₀ Σ_i ξ_i`,
//! and likewise `Σ_b G_μb v_bi = Σ_{b: v_bi ≠ b₀} G_μb (v_bi − b₀) + b₀ Σ_b G_μb`:
//! the products need the foreground pixels only (a fifth of an MNIST digit)
//! plus a per-memory constant. A chunk's images are listed once
//! ([`Foreground`]: per image, the foreground pixels and `v_i − b₀`), and
//! both products run over the lists with the memories transposed (`Nv × Kp`,
//! `Kp` = `K` rounded up to 16 lanes, so that a pixel's `K` entries are one
//! contiguous row of vectors):
//!
//! * [`forward`]: `out[b][μ] = init[μ] + Σ_n value_n · xt[index_n][μ]`, in
//!   the order of the list, one fused multiply-add per term;
//! * [`backward`]: `out[i][μ] = init[μ] + Σ_b Σ_{n: index_n = i} value_n ·
//!   g[b][μ]`, in image order, one fused multiply-add per term.
//!
//! Both run on AVX-512 ([`available`]), with the accumulators of up to 128
//! memories in registers; the scalar [`forward_reference`] and
//! [`backward_reference`] define the results (the same operations in the
//! same order, so the same bits) and are what the tests compare against.

/// Lanes of a vector: `Kp` is a multiple of this.
pub const LANES: usize = 16;

/// `k` rounded up to a multiple of [`LANES`]: the row length of the
/// transposed operands.
///
/// ```
/// assert_eq!(dam_std::train::foreground::padded(100), 112);
/// assert_eq!(dam_std::train::foreground::padded(16), 16);
/// ```
pub fn padded(k: usize) -> usize {
    k.div_ceil(LANES) * LANES
}

/// Whether the fast kernels run on this CPU (AVX-512 F). Without them
/// the trainer keeps its dense products.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The foreground of a chunk of images: for every image, its pixels whose
/// value is not the background `b₀`, as (pixel index, `v_i − b₀`), in pixel
/// order.
///
/// ```
/// use dam_std::train::foreground::Foreground;
/// let mut fg = Foreground::new(4, -1.0);
/// fg.push(&[-1.0, 0.5, -1.0, 1.0]);
/// fg.push(&[-1.0; 4]);
/// assert_eq!((fg.images(), fg.len()), (2, 2));
/// assert_eq!(fg.image(0).collect::<Vec<_>>(), [(1, 1.5), (3, 2.0)]);
/// assert_eq!(fg.image(1).count(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Foreground {
    pixels: usize,
    background: f32,
    /// `starts[b]..starts[b + 1]`: image `b`'s entries.
    starts: Vec<usize>,
    index: Vec<u32>,
    value: Vec<f32>,
    /// The same entries by pixel ([`Foreground::by_pixel`], for the
    /// AVX-512 backward kernel only), built on
    /// demand: `column_starts[i]..column_starts[i + 1]` are pixel `i`'s,
    /// in image order.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    column_starts: Vec<usize>,
    /// (image, `v_i − b₀`) in one entry: one store when listing.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    column: Vec<(u32, f32)>,
    columns_ready: bool,
}

impl Foreground {
    /// No images yet, of `pixels` pixels each, background `background`.
    pub fn new(pixels: usize, background: f32) -> Self {
        let mut fg = Foreground::default();
        fg.reset(pixels, background);
        fg
    }

    /// Forgets the images (keeping the buffers) and sets the image size and
    /// background for the next ones.
    pub fn reset(&mut self, pixels: usize, background: f32) {
        self.pixels = pixels;
        self.background = background;
        self.starts.clear();
        self.starts.push(0);
        self.index.clear();
        self.value.clear();
        self.columns_ready = false;
    }

    /// Lists the entries by pixel too (once per set of images): what
    /// [`backward`] runs over, so that each pixel's row of sums stays in
    /// registers.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    fn by_pixel(&mut self) {
        if self.columns_ready {
            return;
        }
        let starts = &mut self.column_starts;
        starts.clear();
        starts.resize(self.pixels + 1, 0);
        for &i in &self.index {
            starts[i as usize + 1] += 1;
        }
        for i in 0..self.pixels {
            starts[i + 1] += starts[i];
        }
        self.column.resize(self.index.len(), (0, 0.0));
        // Each pixel's next free place.
        let mut next = starts[..self.pixels].to_vec();
        let column = &mut self.column[..];
        for (b, w) in (0u32..).zip(self.starts.windows(2)) {
            let (index, value) = (&self.index[w[0]..w[1]], &self.value[w[0]..w[1]]);
            for (&i, &x) in index.iter().zip(value) {
                if let Some(p) = next.get_mut(i as usize) {
                    if let Some(entry) = column.get_mut(*p) {
                        *entry = (b, x);
                    }
                    *p += 1;
                }
            }
        }
        self.columns_ready = true;
    }

    /// Lists the foreground of `image` (its first [`Foreground::pixels`]
    /// values; missing ones count as background).
    pub fn push(&mut self, image: &[f32]) {
        let image = &image[..image.len().min(self.pixels)];
        #[cfg(target_arch = "x86_64")]
        if available() && u32::try_from(image.len()).is_ok() {
            // SAFETY: AVX-512 F present; the image's indices fit `u32`.
            #[allow(unsafe_code)]
            unsafe {
                avx512::push(self, image)
            };
            self.starts.push(self.index.len());
            self.columns_ready = false;
            return;
        }
        let b0 = self.background;
        for (i, &v) in (0u32..).zip(image) {
            // Compared as values: −0.0 is the background 0.0, and a NaN
            // pixel is foreground (it then reaches the sums, as densely).
            if v != b0 {
                self.index.push(i);
                self.value.push(v - b0);
            }
        }
        self.starts.push(self.index.len());
        self.columns_ready = false;
    }

    /// Appends image `b` of `other` (same pixels and background) as it was
    /// listed there: the lists of a whole data set, made once, feed the
    /// chunks without reading the images again.
    ///
    /// ```
    /// use dam_std::train::foreground::Foreground;
    /// let mut all = Foreground::new(3, 0.0);
    /// all.push(&[1.0, 0.0, 2.0]);
    /// all.push(&[0.0, 3.0, 0.0]);
    /// let mut chunk = Foreground::new(3, 0.0);
    /// chunk.append(&all, 1);
    /// assert_eq!(chunk.image(0).collect::<Vec<_>>(), [(1, 3.0)]);
    /// ```
    pub fn append(&mut self, other: &Foreground, b: usize) {
        let range = other.range(b);
        self.index.extend_from_slice(&other.index[range.clone()]);
        self.value.extend_from_slice(&other.value[range]);
        self.starts.push(self.index.len());
        self.columns_ready = false;
    }

    /// The entries of image `b` (empty past the last image).
    fn range(&self, b: usize) -> std::ops::Range<usize> {
        match self.starts.get(b..b + 2) {
            Some(&[s, e]) => s..e,
            _ => 0..0,
        }
    }

    /// Image `b`'s pixel indices and values as stored (for prefetching).
    pub fn entries(&self, b: usize) -> (&[u32], &[f32]) {
        let range = self.range(b);
        (&self.index[range.clone()], &self.value[range])
    }

    /// The background value `b₀`.
    pub fn background(&self) -> f32 {
        self.background
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.pixels
    }

    /// Images listed.
    pub fn images(&self) -> usize {
        self.starts.len() - 1
    }

    /// Foreground entries listed, over all images.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no image has a foreground pixel.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Image `b`'s entries (pixel, `v_i − b₀`); none past the last image.
    pub fn image(&self, b: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let range = self.range(b);
        let index = self.index.get(range.clone()).unwrap_or(&[]);
        let value = self.value.get(range).unwrap_or(&[]);
        index.iter().map(|&i| i as usize).zip(value.iter().copied())
    }
}

/// The most frequent value among the pixels of up to 64 images spread over
/// `images` (`pixels` values each), if it fills at least half of them: the
/// background the foreground products skip. `None`: no value dominates,
/// the data is dense.
///
/// ```
/// use dam_std::train::foreground::background;
/// assert_eq!(background(&[-1.0, -1.0, 0.3, -1.0, 0.2, -1.0], 3), Some(-1.0));
/// assert_eq!(background(&[0.1, 0.2, 0.3, 0.4], 2), None);
/// ```
pub fn background(images: &[f32], pixels: usize) -> Option<f32> {
    const SAMPLED: usize = 64;
    let n = images.len().checked_div(pixels)?;
    if n == 0 {
        return None;
    }
    let mut bits: Vec<u32> = Vec::with_capacity(SAMPLED.min(n) * pixels);
    for s in 0..SAMPLED.min(n) {
        let row = s * n / SAMPLED.min(n);
        let image = images.get(row * pixels..(row + 1) * pixels)?;
        // −0.0 counts as 0.0 (the comparison in `push` does too).
        bits.extend(image.iter().map(|&v| (v + 0.0).to_bits()));
    }
    bits.sort_unstable();
    let (mut best, mut best_run) = (0u32, 0usize);
    for run in bits.chunk_by(|a, b| a == b) {
        if run.len() > best_run {
            (best, best_run) = (run[0], run.len());
        }
    }
    let value = f32::from_bits(best);
    (value.is_finite() && 2 * best_run >= bits.len()).then_some(value)
}

/// Why a foreground product was refused (the buffers do not agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeError;

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("foreground product: buffers of the wrong size")
    }
}

impl std::error::Error for ShapeError {}

/// `out[b·kp + μ] = init[μ] + Σ_n value_n · xt[index_n·kp + μ]` for every
/// image `b` of `fg` and every `μ < kp` (`xt`: `pixels × kp`,
/// `out`: `images × kp`, overwritten), on AVX-512 where [`available`],
/// else through [`forward_reference`]; the same bits either way.
///
/// ```
/// use dam_std::train::foreground::{Foreground, forward};
/// let mut fg = Foreground::new(2, 0.0);
/// fg.push(&[0.0, 2.0]);
/// let mut xt = vec![0.0f32; 2 * 16];
/// xt[16] = 3.0; // pixel 1, memory 0
/// let mut out = vec![0.0f32; 16];
/// forward(&fg, &xt, 16, &[1.0; 16], &mut out)?;
/// assert_eq!((out[0], out[1]), (7.0, 1.0));
/// # Ok::<(), dam_std::train::foreground::ShapeError>(())
/// ```
pub fn forward(
    fg: &Foreground,
    xt: &[f32],
    kp: usize,
    init: &[f32],
    out: &mut [f32],
) -> Result<(), ShapeError> {
    check(fg, (xt, fg.pixels()), kp, init, (out, fg.images()))?;
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: AVX-512 F is present (checked just above); `check` has
        // verified every length the kernel relies on (`kp` a multiple of
        // 16, `xt` ≥ pixels·kp with every listed index < pixels by
        // construction of `Foreground`, `init` ≥ kp, `out` ≥ images·kp).
        #[allow(unsafe_code)]
        unsafe {
            avx512::forward(fg, xt, kp, init, out)
        };
        return Ok(());
    }
    forward_reference(fg, xt, kp, init, out)
}

/// `out[i·kp + μ] = init[μ] + Σ_b Σ_{n ∈ image b, index_n = i} value_n ·
/// g[b·kp + μ]` for every pixel `i` and `μ < kp` (`g`: `images × kp`,
/// `out`: `pixels × kp`, overwritten), summed in image order; AVX-512 where
/// [`available`], else [`backward_reference`]; the same bits either way.
///
/// ```
/// use dam_std::train::foreground::{Foreground, backward};
/// let mut fg = Foreground::new(2, 0.0);
/// fg.push(&[0.0, 2.0]);
/// fg.push(&[0.0, 1.0]);
/// let mut g = vec![0.0f32; 2 * 16];
/// (g[0], g[16]) = (3.0, 5.0); // memory 0 of images 0 and 1
/// let mut out = vec![0.0f32; 2 * 16];
/// backward(&mut fg, &g, 16, &[0.5; 16], &mut out)?;
/// assert_eq!((out[0], out[16]), (0.5, 0.5 + 2.0 * 3.0 + 5.0));
/// # Ok::<(), dam_std::train::foreground::ShapeError>(())
/// ```
pub fn backward(
    fg: &mut Foreground,
    g: &[f32],
    kp: usize,
    init: &[f32],
    out: &mut [f32],
) -> Result<(), ShapeError> {
    check(fg, (g, fg.images()), kp, init, (out, fg.pixels()))?;
    #[cfg(target_arch = "x86_64")]
    if available() {
        fg.by_pixel();
        // SAFETY: as in `forward`, with the roles of the operands swapped:
        // `g` ≥ images·kp, `out` ≥ pixels·kp (checked), indices < pixels.
        #[allow(unsafe_code)]
        unsafe {
            avx512::backward(fg, g, kp, init, out)
        };
        return Ok(());
    }
    backward_reference(fg, g, kp, init, out)
}

/// The shapes both products need: `kp` lanes, `init` ≥ `kp`, the operand
/// ≥ `operand_rows·kp` and `out` ≥ `out_rows·kp` (pixels and images for
/// `forward`, the other way round for `backward`).
fn check(
    fg: &Foreground,
    (operand, operand_rows): (&[f32], usize),
    kp: usize,
    init: &[f32],
    (out, out_rows): (&[f32], usize),
) -> Result<(), ShapeError> {
    let fits = |len: usize, rows: usize| rows.checked_mul(kp).is_some_and(|n| len >= n);
    let ok = kp.is_multiple_of(LANES)
        && init.len() >= kp
        && fits(operand.len(), operand_rows)
        && fits(out.len(), out_rows)
        && u32::try_from(fg.pixels()).is_ok();
    if ok { Ok(()) } else { Err(ShapeError) }
}

/// [`forward`] in plain scalar code: the definition of its results.
pub fn forward_reference(
    fg: &Foreground,
    xt: &[f32],
    kp: usize,
    init: &[f32],
    out: &mut [f32],
) -> Result<(), ShapeError> {
    check(fg, (xt, fg.pixels()), kp, init, (out, fg.images()))?;
    for (b, row) in out.chunks_exact_mut(kp).take(fg.images()).enumerate() {
        row.copy_from_slice(&init[..kp]);
        for (i, x) in fg.image(b) {
            for (o, &w) in row.iter_mut().zip(&xt[i * kp..(i + 1) * kp]) {
                *o = x.mul_add(w, *o);
            }
        }
    }
    Ok(())
}

/// [`backward`] in plain scalar code: the definition of its results.
pub fn backward_reference(
    fg: &Foreground,
    g: &[f32],
    kp: usize,
    init: &[f32],
    out: &mut [f32],
) -> Result<(), ShapeError> {
    check(fg, (g, fg.images()), kp, init, (out, fg.pixels()))?;
    for row in out.chunks_exact_mut(kp).take(fg.pixels()) {
        row.copy_from_slice(&init[..kp]);
    }
    for (b, gb) in g.chunks_exact(kp).take(fg.images()).enumerate() {
        for (i, x) in fg.image(b) {
            for (o, &w) in out[i * kp..(i + 1) * kp].iter_mut().zip(gb) {
                *o = x.mul_add(w, *o);
            }
        }
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512 {
    //! The kernels: the accumulators of one image (forward) or the `g` row of
    //! one image (backward) in up to 8 registers of 16 lanes, one block of
    //! 128 memories at a time.
    use super::{Foreground, LANES};
    use std::arch::x86_64::{
        __m512, __mmask16, _CMP_NEQ_UQ, _mm512_add_epi32, _mm512_fmadd_ps, _mm512_loadu_ps,
        _mm512_mask_cmp_ps_mask, _mm512_maskz_compress_epi32, _mm512_maskz_compress_ps,
        _mm512_maskz_loadu_ps, _mm512_set1_epi32, _mm512_set1_ps, _mm512_setr_epi32,
        _mm512_storeu_ps, _mm512_storeu_si512, _mm512_sub_ps,
    };

    /// Appends `image`'s foreground to the lists (the same entries as the
    /// scalar loop of [`Foreground::push`]): 16 pixels at a time, compared
    /// with the background, compressed in registers and stored whole (the
    /// lists keep 16 entries of slack; only the kept ones count).
    ///
    /// # Safety
    /// AVX-512 F present; `image.len() ≤ u32::MAX`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn push(fg: &mut Foreground, image: &[f32]) {
        let b0 = _mm512_set1_ps(fg.background);
        let mut n = fg.index.len();
        fg.index.reserve(image.len() + LANES);
        fg.value.reserve(image.len() + LANES);
        let (index, value) = (fg.index.as_mut_ptr(), fg.value.as_mut_ptr());
        let mut iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for chunk in image.chunks(LANES) {
            let lanes: __mmask16 = if chunk.len() == LANES {
                0xffff
            } else {
                (1u16 << chunk.len()) - 1
            };
            // SAFETY: the masked load reads the chunk's lanes only.
            let v = unsafe { _mm512_maskz_loadu_ps(lanes, chunk.as_ptr()) };
            // Unordered not-equal: a NaN pixel is foreground, as `!=`.
            let keep = _mm512_mask_cmp_ps_mask::<_CMP_NEQ_UQ>(lanes, v, b0);
            let x = _mm512_maskz_compress_ps(keep, _mm512_sub_ps(v, b0));
            let i = _mm512_maskz_compress_epi32(keep, iota);
            // SAFETY: 16 entries from `n`; `n` grows by at most 16 per
            // chunk, so they stay inside the capacity reserved above (the
            // old length + image.len() + 16).
            unsafe {
                _mm512_storeu_ps(value.add(n), x);
                _mm512_storeu_si512(index.add(n).cast(), i);
            }
            n += keep.count_ones() as usize;
            iota = _mm512_add_epi32(iota, _mm512_set1_epi32(LANES as i32));
        }
        // SAFETY: entries ..n are initialized: the old ones, and the
        // kept lanes of each chunk, stored contiguously.
        unsafe {
            fg.index.set_len(n);
            fg.value.set_len(n);
        }
    }

    /// Runs `kernel::<V>(…, j0, …)` over the lanes `0..kp` in blocks of
    /// `V ≤ BLOCK` vectors from `j0` (the widest that fit, then the rest):
    /// one instantiation per width, so each keeps its vectors in registers.
    macro_rules! by_blocks {
        ($kp:expr, |$j0:ident| $kernel:ident($($arg:expr),*)) => {{
            let mut $j0 = 0;
            while $j0 < $kp {
                let vecs = (($kp - $j0) / LANES).min(BLOCK);
                unsafe {
                    match vecs {
                        8 => $kernel::<8>($($arg),*),
                        7 => $kernel::<7>($($arg),*),
                        6 => $kernel::<6>($($arg),*),
                        5 => $kernel::<5>($($arg),*),
                        4 => $kernel::<4>($($arg),*),
                        3 => $kernel::<3>($($arg),*),
                        2 => $kernel::<2>($($arg),*),
                        _ => $kernel::<1>($($arg),*),
                    }
                }
                $j0 += vecs.max(1) * LANES;
            }
        }};
    }

    /// Vectors per block: 8 accumulators (forward) or operands (backward)
    /// leave room for the loads in the 32 registers.
    const BLOCK: usize = 8;

    /// See [`super::forward`].
    ///
    /// # Safety
    /// AVX-512 F present; `kp % 16 == 0`; `init.len() ≥ kp`;
    /// `xt.len() ≥ fg.pixels()·kp`; `out.len() ≥ fg.images()·kp`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn forward(
        fg: &Foreground,
        xt: &[f32],
        kp: usize,
        init: &[f32],
        out: &mut [f32],
    ) {
        // SAFETY: the caller's contract, with `j0 + vecs·16 ≤ kp`.
        by_blocks!(kp, |j0| forward_block(fg, xt, kp, j0, init, out));
    }

    /// Lanes `j0..j0 + V·16` of every image's row, over the pixels in
    /// blocks whose rows of `xt` stay in the L1 cache ([`pixel_block`]):
    /// each entry of `xt` loaded feeds one multiply-add, so streaming them
    /// from L2 would bound the kernel by its bandwidth. Each image's
    /// accumulators go through `out` between blocks; the terms still come
    /// in list order, so the bits are those of one pass.
    ///
    /// # Safety
    /// [`forward`]'s, and `j0 + V·16 ≤ kp`.
    #[target_feature(enable = "avx512f")]
    unsafe fn forward_block<const V: usize>(
        fg: &Foreground,
        xt: &[f32],
        kp: usize,
        j0: usize,
        init: &[f32],
        out: &mut [f32],
    ) {
        let (xt, out) = (xt.as_ptr(), out.as_mut_ptr());
        let images = fg.images();
        for b in 0..images {
            // SAFETY: lanes j0..j0 + V·16 ≤ kp ≤ init.len(); row b of out.
            unsafe {
                for j in 0..V {
                    let x = _mm512_loadu_ps(init.as_ptr().add(j0 + j * LANES));
                    _mm512_storeu_ps(out.add(b * kp + j0 + j * LANES), x);
                }
            }
        }
        // Each image's next entry.
        let mut next: Vec<usize> = fg.starts[..images].to_vec();
        let (index, value) = (&fg.index, &fg.value);
        // Whether image `b`'s next entry `n` is in the block (below `hi`).
        macro_rules! inside {
            ($n:expr, $e:expr, $hi:expr) => {
                $n < $e && (index[$n] as usize) < $hi
            };
        }
        // One term: `acc += value[n] · xt[index[n]]`.
        // SAFETY (every use): `n < index.len() = value.len()` (`Foreground`
        // keeps them so); `index[n] < pixels`, so the row
        // `index[n]·kp + j0 .. + V·16 ≤ pixels·kp ≤ xt.len()`.
        macro_rules! term {
            ($acc:ident, $n:expr) => {{
                let x = _mm512_set1_ps(*value.get_unchecked($n));
                let w = xt.add(*index.get_unchecked($n) as usize * kp + j0);
                for (j, a) in $acc.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(x, _mm512_loadu_ps(w.add(j * LANES)), *a);
                }
            }};
        }
        // SAFETY (every use): row `b < images` of `out`, lanes
        // j0..j0 + V·16 ≤ kp.
        macro_rules! load {
            ($b:expr) => {
                core::array::from_fn::<__m512, V, _>(|j| unsafe {
                    _mm512_loadu_ps(out.add($b * kp + j0 + j * LANES))
                })
            };
        }
        macro_rules! store {
            ($b:expr, $acc:ident) => {
                for (j, a) in $acc.iter().enumerate() {
                    _mm512_storeu_ps(out.add($b * kp + j0 + j * LANES), *a);
                }
            };
        }
        let width = pixel_block(kp);
        let mut hi = 0;
        while hi < fg.pixels {
            hi = (hi + width).min(fg.pixels);
            // Two images at a time: two independent chains of
            // multiply-adds hide their latency.
            let mut b = 0;
            while b < images {
                let (mut n0, e0) = (next[b], fg.starts[b + 1]);
                let two = b + 1 < images;
                let (mut n1, e1) = if two {
                    (next[b + 1], fg.starts[b + 2])
                } else {
                    (0, 0)
                };
                let (has0, has1) = (inside!(n0, e0, hi), two && inside!(n1, e1, hi));
                if has0 && has1 {
                    let (mut a0, mut a1) = (load!(b), load!(b + 1));
                    // SAFETY: see the macros.
                    unsafe {
                        while inside!(n0, e0, hi) && inside!(n1, e1, hi) {
                            term!(a0, n0);
                            term!(a1, n1);
                            n0 += 1;
                            n1 += 1;
                        }
                        while inside!(n0, e0, hi) {
                            term!(a0, n0);
                            n0 += 1;
                        }
                        while inside!(n1, e1, hi) {
                            term!(a1, n1);
                            n1 += 1;
                        }
                        store!(b, a0);
                        store!(b + 1, a1);
                    }
                } else if has0 || has1 {
                    let (c, n, e) = if has0 {
                        (b, &mut n0, e0)
                    } else {
                        (b + 1, &mut n1, e1)
                    };
                    let mut a = load!(c);
                    // SAFETY: see the macros.
                    unsafe {
                        while inside!(*n, e, hi) {
                            term!(a, *n);
                            *n += 1;
                        }
                        store!(c, a);
                    }
                }
                next[b] = n0;
                if two {
                    next[b + 1] = n1;
                }
                b += 2;
            }
        }
    }

    /// See [`super::backward`].
    ///
    /// # Safety
    /// AVX-512 F present; `kp % 16 == 0`; `init.len() ≥ kp`;
    /// `g.len() ≥ fg.images()·kp`; `out.len() ≥ fg.pixels()·kp`; the
    /// by-pixel lists built ([`Foreground::by_pixel`]).
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn backward(
        fg: &Foreground,
        g: &[f32],
        kp: usize,
        init: &[f32],
        out: &mut [f32],
    ) {
        // SAFETY: the caller's contract, with `j0 + vecs·16 ≤ kp`.
        by_blocks!(kp, |j0| backward_block(fg, g, kp, j0, init, out));
    }

    /// Lanes `j0..j0 + V·16` of every pixel's row, from the by-pixel lists:
    /// a pixel's sums stay in registers while its images' rows of `g` are
    /// loaded, two pixels at a time (two independent chains of
    /// multiply-adds hide their latency). Each pixel's images come in
    /// order, so the bits are the reference's.
    ///
    /// # Safety
    /// [`backward`]'s, and `j0 + V·16 ≤ kp`.
    #[target_feature(enable = "avx512f")]
    unsafe fn backward_block<const V: usize>(
        fg: &Foreground,
        g: &[f32],
        kp: usize,
        j0: usize,
        init: &[f32],
        out: &mut [f32],
    ) {
        let (g, out) = (g.as_ptr(), out.as_mut_ptr());
        let (starts, column) = (&fg.column_starts, &fg.column);
        // SAFETY: lanes j0..j0 + V·16 ≤ kp ≤ init.len().
        let first: [__m512; V] =
            core::array::from_fn(|j| unsafe { _mm512_loadu_ps(init.as_ptr().add(j0 + j * LANES)) });
        // One term: `acc += value[n] · g[image[n]]`.
        // SAFETY (every use): `n < column_starts[pixels] = len`, so inside
        // the by-pixel lists; `image[n] < images`, so the row
        // `image[n]·kp + j0 .. + V·16 ≤ images·kp ≤ g.len()`.
        macro_rules! term {
            ($acc:ident, $n:expr) => {{
                let (b, x) = *column.get_unchecked($n);
                let x = _mm512_set1_ps(x);
                let row = g.add(b as usize * kp + j0);
                for (j, a) in $acc.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(x, _mm512_loadu_ps(row.add(j * LANES)), *a);
                }
            }};
        }
        let pixels = fg.pixels;
        let mut i = 0;
        while i < pixels {
            let two = i + 1 < pixels;
            let (s0, e0) = (starts[i], starts[i + 1]);
            let (s1, e1) = if two {
                (starts[i + 1], starts[i + 2])
            } else {
                (e0, e0)
            };
            let (mut a0, mut a1) = (first, first);
            let both = (e0 - s0).min(e1 - s1);
            // SAFETY: see `term`; the stores write rows i and i + 1 < pixels
            // of `out`, lanes j0..j0 + V·16 ≤ kp.
            unsafe {
                for t in 0..both {
                    term!(a0, s0 + t);
                    term!(a1, s1 + t);
                }
                for n in s0 + both..e0 {
                    term!(a0, n);
                }
                for n in s1 + both..e1 {
                    term!(a1, n);
                }
                let row = out.add(i * kp + j0);
                for (j, a) in a0.iter().enumerate() {
                    _mm512_storeu_ps(row.add(j * LANES), *a);
                }
                if two {
                    let row = out.add((i + 1) * kp + j0);
                    for (j, a) in a1.iter().enumerate() {
                        _mm512_storeu_ps(row.add(j * LANES), *a);
                    }
                }
            }
            i += 2;
        }
    }

    /// Pixels per block: their rows of `kp` lanes in half of a 48 KiB L1
    /// data cache (the other half for the rows the block is combined with).
    fn pixel_block(kp: usize) -> usize {
        const BYTES: usize = 24 * 1024;
        (BYTES / (kp * 4).max(1)).max(1)
    }
}

/// `dst[c·dst_stride + r] = src[r·src_stride + c]` for `r < rows`,
/// `c < cols`: a transpose in tiles of 16 × 16, each in registers on
/// AVX-512 ([`available`]), element by element elsewhere and at the edges.
///
/// ```
/// use dam_std::train::foreground::transpose;
/// let src = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 × 3
/// let mut dst = [0.0f32; 6];
/// transpose(&src, 2, 3, 3, &mut dst, 2);
/// assert_eq!(dst, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
/// ```
///
/// # Panics
/// If a slice is too short for its shape and stride.
pub fn transpose(
    src: &[f32],
    rows: usize,
    cols: usize,
    src_stride: usize,
    dst: &mut [f32],
    dst_stride: usize,
) {
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(src_stride >= cols && dst_stride >= rows, "rows overlap");
    assert!(
        src.len() >= (rows - 1) * src_stride + cols,
        "source too short"
    );
    assert!(
        dst.len() >= (cols - 1) * dst_stride + rows,
        "destination too short"
    );
    let done = whole_tiles(src, rows, cols, src_stride, dst, dst_stride);
    let copy = |dst: &mut [f32], r: std::ops::Range<usize>, c: std::ops::Range<usize>| {
        for c in c {
            for r in r.clone() {
                dst[c * dst_stride + r] = src[r * src_stride + c];
            }
        }
    };
    if done == (0, 0) {
        copy(dst, 0..rows, 0..cols);
    } else {
        // The edges the tiles left: the last columns of every row, then the
        // last rows of the tiled columns.
        copy(dst, 0..rows, done.1..cols);
        copy(dst, done.0..rows, 0..done.1);
    }
}

/// [`transpose`]'s whole 16 × 16 tiles, in registers where AVX-512 runs:
/// returns the rows and columns done (none elsewhere). The caller has
/// checked the shapes.
fn whole_tiles(
    src: &[f32],
    rows: usize,
    cols: usize,
    src_stride: usize,
    dst: &mut [f32],
    dst_stride: usize,
) -> (usize, usize) {
    #[cfg(target_arch = "x86_64")]
    if available() {
        let (rows, cols) = (rows / LANES * LANES, cols / LANES * LANES);
        // SAFETY: AVX-512 F present; the caller's asserts bound every index
        // the tiles touch (`r < rows`, `c < cols`, both rounded down here).
        #[allow(unsafe_code)]
        unsafe {
            avx512_tiles::transpose_tiles(src, rows, cols, src_stride, dst, dst_stride)
        };
        return (rows, cols);
    }
    let _ = (src, rows, cols, src_stride, dst, dst_stride);
    (0, 0)
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512_tiles {
    use super::LANES;
    use std::arch::x86_64::{
        __m512, _mm512_castpd_ps, _mm512_castps_pd, _mm512_loadu_ps, _mm512_shuffle_f32x4,
        _mm512_storeu_ps, _mm512_unpackhi_pd, _mm512_unpackhi_ps, _mm512_unpacklo_pd,
        _mm512_unpacklo_ps,
    };

    /// The 16 × 16 tiles of `rows × cols` (both multiples of 16).
    ///
    /// # Safety
    /// AVX-512 F present; `src.len() ≥ (rows − 1)·src_stride + cols`,
    /// `dst.len() ≥ (cols − 1)·dst_stride + rows` (when both are non-zero).
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn transpose_tiles(
        src: &[f32],
        rows: usize,
        cols: usize,
        src_stride: usize,
        dst: &mut [f32],
        dst_stride: usize,
    ) {
        let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
        // Column blocks outside: the 16 destination rows are then written
        // as 16 sequential streams, which the hardware prefetchers follow
        // (the other order touches every destination row per tile).
        for c0 in (0..cols).step_by(LANES) {
            for r0 in (0..rows).step_by(LANES) {
                // SAFETY: rows r0..r0 + 16 ≤ rows, columns c0..c0 + 16 ≤
                // cols: inside both slices by the caller's bounds.
                unsafe {
                    let r: [__m512; 16] = core::array::from_fn(|i| {
                        _mm512_loadu_ps(s.add((r0 + i) * src_stride + c0))
                    });
                    let t = tile(r);
                    for (i, v) in t.iter().enumerate() {
                        _mm512_storeu_ps(d.add((c0 + i) * dst_stride + r0), *v);
                    }
                }
            }
        }
    }

    /// The transpose of 16 rows of 16: pairs of rows interleaved by 32 then
    /// 64 bits (each 128-bit lane then holds one column of 4 rows), then
    /// the lanes gathered by two 128-bit shuffles.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn tile(r: [__m512; 16]) -> [__m512; 16] {
        // Per group of 4 rows g: u[4g + j] holds, in lane L, column 4L + j
        // of rows 4g..4g + 4.
        let mut u = [r[0]; 16];
        for g in 0..4 {
            let (a, b, c, e) = (r[4 * g], r[4 * g + 1], r[4 * g + 2], r[4 * g + 3]);
            let (t0, t1) = (_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
            let (t2, t3) = (_mm512_unpacklo_ps(c, e), _mm512_unpackhi_ps(c, e));
            u[4 * g] = lo64(t0, t2);
            u[4 * g + 1] = hi64(t0, t2);
            u[4 * g + 2] = lo64(t1, t3);
            u[4 * g + 3] = hi64(t1, t3);
        }
        // v[j] (rows 0..8) and v[8 + j] (rows 8..16): lanes 0, 2 / 1, 3 of
        // groups (0, 1) or (2, 3), i.e. columns j, 8 + j / 4 + j, 12 + j.
        let mut v = [r[0]; 16];
        for j in 0..4 {
            v[j] = _mm512_shuffle_f32x4::<0x88>(u[j], u[4 + j]);
            v[4 + j] = _mm512_shuffle_f32x4::<0xdd>(u[j], u[4 + j]);
            v[8 + j] = _mm512_shuffle_f32x4::<0x88>(u[8 + j], u[12 + j]);
            v[12 + j] = _mm512_shuffle_f32x4::<0xdd>(u[8 + j], u[12 + j]);
        }
        // Column c = 8h + 4q + j: lanes 2h·… of v[4q + j] and v[8 + 4q + j].
        let mut out = [r[0]; 16];
        for q in 0..2 {
            for j in 0..4 {
                let (a, b) = (v[4 * q + j], v[8 + 4 * q + j]);
                out[4 * q + j] = _mm512_shuffle_f32x4::<0x88>(a, b);
                out[8 + 4 * q + j] = _mm512_shuffle_f32x4::<0xdd>(a, b);
            }
        }
        out
    }

    /// The 64-bit halves interleaved (low halves of each 128-bit lane).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn lo64(a: __m512, b: __m512) -> __m512 {
        _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
    }

    /// The 64-bit halves interleaved (high halves of each 128-bit lane).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn hi64(a: __m512, b: __m512) -> __m512 {
        _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The lists of `images`.
    fn lists(images: &[Vec<f32>], pixels: usize, b0: f32) -> Foreground {
        let mut fg = Foreground::new(pixels, b0);
        for image in images {
            fg.push(image);
        }
        fg
    }

    fn image_strategy(pixels: usize) -> impl Strategy<Value = Vec<f32>> {
        prop::collection::vec(
            prop_oneof![3 => Just(-1.0f32), 1 => -4.0f32..4.0],
            pixels..=pixels,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The kernels give the reference's bits, for every block width
        /// (`k` up to 300: blocks of 8 vectors and every remainder).
        #[test]
        fn kernels_match_the_reference_bit_for_bit(
            pixels in 1usize..70,
            k in 1usize..300,
            images in 1usize..9,
            seed in any::<u64>(),
        ) {
            use rand::{RngExt, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let kp = padded(k);
            let imgs: Vec<Vec<f32>> = (0..images)
                .map(|_| (0..pixels).map(|_| if rng.random_bool(0.7) { -1.0 } else { rng.random_range(-4.0f32..4.0) }).collect())
                .collect();
            let mut fg = lists(&imgs, pixels, -1.0);
            let mut random = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-2.0f32..2.0)).collect() };
            let (xt, init, g) = (random(pixels * kp), random(kp), random(images * kp));
            let (mut fast, mut slow) = (vec![0.0; images * kp], vec![1.0; images * kp]);
            forward(&fg, &xt, kp, &init, &mut fast).unwrap();
            forward_reference(&fg, &xt, kp, &init, &mut slow).unwrap();
            prop_assert!(fast.iter().zip(&slow).all(|(a, b)| a.to_bits() == b.to_bits()));
            let (mut fast, mut slow) = (vec![0.0; pixels * kp], vec![1.0; pixels * kp]);
            backward(&mut fg, &g, kp, &init, &mut fast).unwrap();
            backward_reference(&fg, &g, kp, &init, &mut slow).unwrap();
            prop_assert!(fast.iter().zip(&slow).all(|(a, b)| a.to_bits() == b.to_bits()));
        }

        /// The foreground products equal the dense ones (up to rounding).
        #[test]
        fn products_equal_the_dense_sums(imgs in prop::collection::vec(image_strategy(12), 1..6)) {
            let (pixels, k) = (12, 20);
            let kp = padded(k);
            let b0 = -1.0f32;
            let fg = lists(&imgs, pixels, b0);
            let xt: Vec<f32> = (0..pixels * kp).map(|n| ((n * 7 % 13) as f32 - 6.0) / 4.0).collect();
            // init: b₀ Σ_i xt[i][μ], the background's part.
            let init: Vec<f32> = (0..kp).map(|m| b0 * (0..pixels).map(|i| xt[i * kp + m]).sum::<f32>()).collect();
            let mut out = vec![0.0; imgs.len() * kp];
            forward(&fg, &xt, kp, &init, &mut out).unwrap();
            for (b, image) in imgs.iter().enumerate() {
                for m in 0..k {
                    let dense: f32 = image.iter().enumerate().map(|(i, &v)| v * xt[i * kp + m]).sum();
                    prop_assert!((out[b * kp + m] - dense).abs() <= 1e-3 * (1.0 + dense.abs()));
                }
            }
        }
    }

    proptest! {
        /// The vectorized listing gives the scalar loop's entries (NaN,
        /// −0.0 and every length around the 16-lane chunks included).
        #[test]
        fn listing_matches_the_scalar_loop(
            image in prop::collection::vec(prop_oneof![
                4 => Just(0.0f32), 1 => Just(-0.0f32), 1 => Just(f32::NAN), 3 => -2.0f32..2.0
            ], 0..80),
            pixels in 0usize..90,
        ) {
            let mut fg = Foreground::new(pixels, 0.0);
            fg.push(&image);
            fg.push(&image);
            let want: Vec<(usize, f32)> = image
                .iter()
                .take(pixels)
                .enumerate()
                .filter(|&(_, &v)| v != 0.0)
                .map(|(i, &v)| (i, v - 0.0))
                .collect();
            for b in 0..2 {
                let got: Vec<(usize, f32)> = fg.image(b).collect();
                prop_assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    prop_assert_eq!(g.0, w.0);
                    prop_assert_eq!(g.1.to_bits(), w.1.to_bits());
                }
            }
        }
    }

    #[test]
    fn wrong_shapes_are_refused() {
        let mut fg = Foreground::new(3, 0.0);
        fg.push(&[1.0, 0.0, 2.0]);
        let mut out = vec![0.0; 16];
        assert_eq!(
            forward(&fg, &[0.0; 47], 16, &[0.0; 16], &mut out),
            Err(ShapeError)
        );
        assert_eq!(
            forward(&fg, &[0.0; 48], 15, &[0.0; 16], &mut out),
            Err(ShapeError)
        );
        assert_eq!(
            forward(&fg, &[0.0; 48], 16, &[0.0; 15], &mut out),
            Err(ShapeError)
        );
        assert!(forward(&fg, &[0.0; 48], 16, &[0.0; 16], &mut out).is_ok());
        assert_eq!(
            backward(&mut fg, &[0.0; 16], 16, &[0.0; 16], &mut out),
            Err(ShapeError)
        );
        assert!(backward(&mut fg, &[0.0; 16], 16, &[0.0; 16], &mut [0.0; 48]).is_ok());
    }

    #[test]
    fn background_is_the_dominant_value() {
        assert_eq!(background(&[0.0, -0.0, 0.0, 1.0], 2), Some(0.0));
        assert_eq!(background(&[f32::NAN; 4], 2), None);
        assert_eq!(background(&[], 3), None);
        assert_eq!(background(&[1.0], 0), None);
    }

    proptest! {
        /// The tiled transpose (registers on AVX-512, edges element by
        /// element) against the definition.
        #[test]
        fn transpose_is_the_definition(rows in 1usize..70, cols in 1usize..70, pad_s in 0usize..5, pad_d in 0usize..5) {
            let (ss, ds) = (cols + pad_s, rows + pad_d);
            let src: Vec<f32> = (0..rows * ss).map(|n| n as f32).collect();
            let mut dst = vec![-1.0f32; cols * ds];
            transpose(&src, rows, cols, ss, &mut dst, ds);
            for c in 0..cols {
                for r in 0..ds {
                    let want = if r < rows { src[r * ss + c] } else { -1.0 };
                    prop_assert_eq!(dst[c * ds + r], want);
                }
            }
        }
    }

    #[test]
    fn transpose_round_trips() {
        let (rows, cols) = (37, 21);
        let src: Vec<f32> = (0..rows * 25).map(|n| n as f32).collect();
        let mut t = vec![0.0; cols * 40];
        transpose(&src, rows, cols, 25, &mut t, 40);
        let mut back = vec![0.0; rows * 25];
        transpose(&t, cols, rows, 40, &mut back, 25);
        for r in 0..rows {
            assert_eq!(&back[r * 25..r * 25 + cols], &src[r * 25..r * 25 + cols]);
        }
    }
}
