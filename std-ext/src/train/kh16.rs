//! The \[KH16\] one-step classifier (math.md §4), trained with the authors'
//! notebook algorithm, in the raw and the normalized \[McA\] forms.
//!
//! Both forms evaluate `c_α = tanh(Σ_μ F(c·ξ^μ·w_α) − F(c·ξ^μ·u))` with one
//! scale `c`: normalized, `c = β/D`; raw with a homogeneous `F` of degree
//! `n` and `β = 1/T^n`, `c = 1/T`, since `β F(m) = F(m/T)`. That identity is
//! what lets the raw form, which the paper evaluates in f64 near `10^58`,
//! run in f32 here without overflow, and exactly: the raw model with
//! temperature `T` is the normalized model with `β = D/T`.
//!
//! Every overlap comes from one product `Ξ_vis · V` per chunk of samples
//! (`ξ·u = ξ_vis·v − Σ label entries`, `ξ·w_α = ξ·u + 2 ξ_{Nv+α}`), and the
//! backward pass uses the same trick: the visible part of the gradient is
//! one product `G · V` with `G_μb = Σ_α δ_bα F'(ξ·w_α) − (Σ_α δ_bα) F'(ξ·u)`,
//! and the label part is `Σ_b 2 δ_bβ F'(ξ·w_β) − G_μb`.

use anyhow::{Result, anyhow, bail};
use dam_core::classifier::Derivatives;
use dam_core::model::{ElementType, Header, Kind, Model, cast_interaction};
use dam_core::{Classifier, Form, Interaction, MemoryView};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::augment::{Augmentation, Draw};
use super::foreground::{self, Foreground, transpose};
use super::optimizer::{Momentum, learning_rate};
use super::overlaps::{Mat, gemm, gemm_into};
use super::tanh::tanh;
use crate::data::mnist::Split;

/// Samples per parallel work item. Fixed, so the reduction order, and hence
/// the trained model, does not depend on the number of threads.
pub const CHUNK: usize = 100;

/// Training samples per parallel work item (fixed, like [`CHUNK`], so that
/// the trained model does not depend on the number of threads): a multiple
/// of the scoring kernel's 16-lane blocks; the notebook's minibatch of 1000
/// splits into 8 items.
pub const TRAIN_CHUNK: usize = 128;

/// Where `β` goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// \[KH16\]: `β = 1/T^n` outside the sum (homogeneous `F` only).
    Raw {
        /// The temperature `T`.
        temperature: f32,
    },
    /// \[McA\]: `F(β ξ·x / D)`.
    Normalized {
        /// `β`.
        beta: f32,
    },
}

/// How the memories start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// Every entry from `N(init_mean, init_std)` (the notebook).
    Normal,
    /// Memory `μ` is a copy of a training sample of class `μ mod Nc`
    /// (drawn from the seed, without repeats while the class has rows
    /// left), its label units `+1` for that class and `−1` for the others.
    Samples,
}

/// Training settings; [`Config::default`] is the authors' notebook.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Number of memories `K`.
    pub k: usize,
    /// The interaction function (notebook: rectified polynomial, `n = 20`).
    pub interaction: Interaction<f32>,
    /// Raw or normalized, with `T` or `β`.
    pub scale: Scale,
    /// The loss exponent `m` (loss `Σ (t − c)^{2m}`).
    pub m: u32,
    /// Initial learning rate `ε0`.
    pub eps0: f32,
    /// Learning-rate decay `f` per epoch.
    pub decay: f32,
    /// Momentum `p`.
    pub momentum: f32,
    /// Minibatch size.
    pub batch: usize,
    /// Number of epochs.
    pub epochs: usize,
    /// How the memories start.
    pub init: Init,
    /// Mean of the initial memories ([`Init::Normal`]).
    pub init_mean: f32,
    /// Standard deviation of the initial memories ([`Init::Normal`]).
    pub init_std: f32,
    /// Seed for the initial memories and the shuffles.
    pub seed: u64,
    /// Data augmentation: each training image is shifted by a random
    /// whole number of pixels in `−shift..=shift` along each axis, drawn
    /// anew per image and epoch (0: the notebook, no augmentation). Needs
    /// square images.
    pub shift: usize,
    /// Data augmentation: largest random rotation of each training image,
    /// in degrees either way (0 with `zoom` 0: no affine distortion). With
    /// `rotate` or `zoom` above 0, each image gets a random affine
    /// distortion ([`super::augment`]) instead, whose translation is
    /// continuous in `−shift..=shift` pixels.
    pub rotate: f32,
    /// Data augmentation: largest relative change of size, the scale being
    /// drawn from `[1 − zoom, 1 + zoom]` (see `rotate`).
    pub zoom: f32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            k: 100,
            interaction: Interaction::RectifiedPolynomial { n: 20 },
            scale: Scale::Raw { temperature: 540.0 },
            m: 30,
            eps0: 0.04,
            decay: 0.998,
            momentum: 0.6,
            batch: 1000,
            epochs: 300,
            init: Init::Normal,
            init_mean: -0.3,
            init_std: 0.3,
            seed: 0,
            shift: 0,
            rotate: 0.0,
            zoom: 0.0,
        }
    }
}

impl Config {
    /// Checks every setting; errors say which and why.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 || self.batch == 0 || self.m == 0 {
            bail!("K, the minibatch size and m must be at least 1");
        }
        self.interaction
            .validate()
            .map_err(|e| anyhow::anyhow!("interaction: {e}"))?;
        let ok = |x: f32| x.is_finite() && x > 0.0;
        match self.scale {
            Scale::Raw { temperature } if !ok(temperature) => {
                bail!("temperature must be finite and > 0, got {temperature}")
            }
            Scale::Raw { .. } if !self.interaction.is_homogeneous() => bail!(
                "the raw form trains only homogeneous F (polynomials); use the normalized form"
            ),
            Scale::Normalized { beta } if !ok(beta) => {
                bail!("beta must be finite and > 0, got {beta}")
            }
            _ => {}
        }
        if !(ok(self.eps0) && ok(self.decay) && (0.0..1.0).contains(&self.momentum)) {
            bail!("need eps0 > 0, decay > 0 and momentum in [0, 1)");
        }
        self.augmentation()
            .validate()
            .map_err(|e| anyhow::anyhow!("augmentation: {e}"))?;
        if !(self.init_mean.is_finite() && self.init_std.is_finite() && self.init_std >= 0.0) {
            bail!("the initial distribution needs a finite mean and std ≥ 0");
        }
        Ok(())
    }

    /// How the training images are augmented (`shift`, `rotate`, `zoom`).
    pub fn augmentation(&self) -> Augmentation {
        Augmentation::new(self.shift, self.rotate, self.zoom)
    }
}

/// A classifier's memories ready for batched evaluation and training: a
/// [`Classifier`], whose sums inside `tanh` (and `F′`) come from
/// [`Classifier::block_sums`], the kernel of `dam-core`'s own forward pass,
/// plus the backward pass. The overlaps of a chunk are one `matrixmultiply`
/// product: on the trainer's shapes (`K × 784` by `784 × 100`) it is faster
/// than `dam-core`'s batch kernel (BENCHMARKS.md, "One forward pass").
#[derive(Debug, Clone, Copy)]
pub struct Net<'a> {
    clf: Classifier<'a, f32>,
}

/// What one pass over a chunk of samples gives.
#[cfg(test)]
#[derive(Debug, Clone, Default)]
struct Partial {
    grad: Vec<f32>,
    loss: f64,
}

impl<'a> Net<'a> {
    /// The network of `K` memories `xi` (`K × (Nv + Nc)`, row-major) with
    /// interaction `f` and form `form`.
    ///
    /// ```
    /// use dam_std::train::kh16::Net;
    /// use dam_core::{Form, Interaction};
    /// // "bright → class 0", "dark → class 1" (the dam-core Classifier example).
    /// let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
    /// let net = Net::new(&xi, 2, 2, Interaction::RectifiedPolynomial { n: 3 },
    ///                    Form::Normalized { beta: 1.0 })?;
    /// assert_eq!(net.predict(&[0.9, 0.8, -0.7, -0.9])?, [0, 1]);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn new(
        xi: &'a [f32],
        nv: usize,
        nc: usize,
        f: Interaction<f32>,
        form: Form<f32>,
    ) -> Result<Self> {
        let d = nv + nc;
        let k = xi.len().checked_div(d).unwrap_or(0);
        let view = MemoryView::new(xi, k, d).map_err(|e| anyhow!("the memories: {e}"))?;
        let clf = Classifier::new(view, nc, f, form).map_err(|e| anyhow!("{e}"))?;
        Ok(Net { clf })
    }

    /// The network stored in a classifier model (f32 memories).
    pub fn from_model(model: &Model<'a>) -> Result<Self> {
        let h = model.header();
        if h.kind != Kind::Classifier {
            bail!("the model is a {:?}, not a classifier", h.kind);
        }
        let clf = model
            .classifier::<f32>()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Net { clf })
    }

    /// The classifier (`dam-core`).
    pub fn classifier(&self) -> Classifier<'a, f32> {
        self.clf
    }

    /// The visible units `Nv`.
    pub fn visible(&self) -> usize {
        self.clf.visible()
    }

    /// The classes `Nc`.
    pub fn classes(&self) -> usize {
        self.clf.classes()
    }

    /// The factor `c` applied to every overlap before `F` (the chain
    /// rule's factor of the gradient).
    pub fn scale(&self) -> f32 {
        self.clf.arg_scale()
    }

    fn k(&self) -> usize {
        self.clf.memories().k()
    }

    fn xi(&self) -> &'a [f32] {
        self.clf.memories().as_slice()
    }

    /// `ξ^μ·u_b` for the `b` images in `v` (`b × Nv`), as `K × b`:
    /// `ξ_vis·v − Σ label entries`.
    fn base(&self, v: &[f32], b: usize) -> Vec<f32> {
        let mut a = vec![0.0f32; self.k() * b];
        self.base_into(v, b, &mut a);
        a
    }

    /// [`Net::base`] into `a` (`K × b`, overwritten).
    fn base_into(&self, v: &[f32], b: usize, a: &mut [f32]) {
        let (k, nv, d) = (self.k(), self.visible(), self.clf.memories().d());
        gemm(
            Mat::rows(self.xi(), k, nv, d),
            Mat::transposed(v, nv, b, nv),
            a,
        );
        for (row, xi) in a.chunks_exact_mut(b).zip(self.xi().chunks_exact(d)) {
            let label_sum: f32 = xi[nv..].iter().sum();
            row.iter_mut().for_each(|m| *m -= label_sum);
        }
    }

    /// The sums inside `tanh` (`Nc × b`, class-major) and, with
    /// `derivatives`, `F'` at `c·ξ^μ·w_α` (`K × Nc × b`) and at `c·ξ^μ·u`
    /// (`K × b`).
    fn sums(
        &self,
        base: &[f32],
        b: usize,
        derivatives: Option<Derivatives<'_, f32>>,
    ) -> Result<Vec<f32>> {
        let mut sums = vec![0.0f32; self.classes() * b];
        let mut scratch = vec![0.0f32; Classifier::<f32>::block_scratch_len(b)];
        self.clf
            .block_sums(base, b, &mut sums, derivatives, &mut scratch)
            .map_err(|e| anyhow!("{e}; the model diverged or its β is too large for f32"))?;
        Ok(sums)
    }

    /// The sums inside `tanh`, `b × Nc` row-major, for the images `v`.
    pub fn scores(&self, v: &[f32]) -> Result<Vec<f32>> {
        let b = v.len() / self.visible().max(1);
        let base = self.base(v, b);
        let s = self.sums(&base, b, None)?;
        let nc = self.classes();
        let mut out = vec![0.0f32; b * nc];
        for (alpha, col) in s.chunks_exact(b.max(1)).enumerate() {
            for (bi, &x) in col.iter().enumerate() {
                out[bi * nc + alpha] = x;
            }
        }
        Ok(out)
    }

    /// The predicted class of each image in `v` (`b × Nv`).
    pub fn predict(&self, v: &[f32]) -> Result<Vec<usize>> {
        Ok(self
            .scores(v)?
            .chunks_exact(self.classes())
            .map(argmax)
            .collect())
    }

    /// The loss, accuracy count and descent direction for one chunk (a
    /// fresh workspace; the trainer reuses one per thread).
    #[cfg(test)]
    fn partial(&self, v: &[f32], labels: &[u16], m: u32) -> Result<Partial> {
        let mut grad = vec![0.0f32; self.k() * (self.visible() + self.classes())];
        let (loss, _) =
            self.partial_into(&mut Workspace::default(), v, labels, m, None, &mut grad)?;
        Ok(Partial { grad, loss })
    }

    /// The loss and accuracy count of one chunk (`v`: `b × Nv` images,
    /// `labels`: their classes), its descent direction written to `grad`
    /// (`K × D`, every entry overwritten). Temporaries live in `ws`, reused
    /// from chunk to chunk (fresh allocations of this size cost page
    /// faults and zeroing every time). With `sparse`, both products run
    /// over the foreground lists in `ws.fg` (filled by the caller from the
    /// same images) instead of over `v`.
    fn partial_into(
        &self,
        ws: &mut Workspace,
        v: &[f32],
        labels: &[u16],
        m: u32,
        sparse: Option<&Sparse<'_>>,
        grad: &mut [f32],
    ) -> Result<(f64, usize)> {
        let b = labels.len();
        let (k, nv, nc) = (self.k(), self.visible(), self.classes());
        let d = nv + nc;
        let images_in = match sparse {
            Some(_) => ws.fg.images() == b && ws.fg.pixels() == nv,
            None => v.len() == b * nv,
        };
        if grad.len() != k * d || !images_in {
            bail!("internal error: chunk buffers of the wrong size");
        }
        let Workspace {
            base,
            dfw,
            dfu,
            sums,
            scratch,
            delta,
            dsum,
            g,
            errors,
            terms,
            fg,
            rows,
            transposed,
            init,
            ..
        } = ws;
        let base = resized(base, k * b);
        match sparse {
            Some(sp) => {
                // Image-major overlaps from the foreground, then `K × b`.
                let kp = sp.kp;
                let rows = aligned(rows, b * kp);
                foreground::forward(fg, sp.xt, kp, sp.init, rows)?;
                transpose(rows, b, k, kp, base, b);
            }
            None => self.base_into(v, b, base),
        }
        let derivatives = Derivatives {
            labelled: resized(dfw, k * nc * b),
            unlabelled: resized(dfu, k * b),
        };
        let s = resized(sums, nc * b);
        let scratch = resized(scratch, Classifier::<f32>::block_scratch_len(b));
        if self
            .clf
            .block_sums(base, b, s, Some(derivatives), scratch)
            .is_err()
        {
            // A diverging run: a non-finite loss, which the callers
            // report (or, choosing settings, count as all wrong).
            grad.fill(0.0);
            return Ok((f64::NAN, 0));
        }
        let (dfw, dfu) = (&dfw[..k * nc * b], &dfu[..k * b]);
        // δ_αb = (t − y)^{2m−1} (1 − y²) (class-major) and the loss terms,
        // compiled for the widest vector unit here; then the accuracy and
        // the loss, image by image.
        let delta = resized(delta, nc * b);
        let dsum = resized(dsum, b);
        let terms = resized(terms, nc * b);
        dam_core::simd::vectorized(Deltas {
            sums: s,
            labels,
            power: 2 * m - 1,
            delta,
            dsum,
            terms,
            scratch: resized(errors, 3 * b),
        });
        let (mut loss, mut correct) = (0.0f64, 0usize);
        for (bi, &label) in labels.iter().enumerate() {
            let best = argmax_of((0..nc).map(|alpha| s[alpha * b + bi]));
            correct += usize::from(best == usize::from(label));
            for alpha in 0..nc {
                loss += terms[alpha * b + bi];
            }
        }
        let g = resized(g, k * b);
        // `Kp ≥ K` entries (the foreground products' lanes; the rest zero).
        let init = aligned(init, foreground::padded(k));
        init.fill(0.0);
        // G and the label part, compiled for the widest vector unit here
        // (the same bits as the plain loops: element-wise products and sums
        // in a fixed order).
        dam_core::simd::vectorized(Backward {
            b,
            nc,
            nv,
            dfw,
            dfu,
            delta,
            dsum,
            g,
            gsums: &mut init[..k],
            grad,
        });
        match sparse {
            Some(sp) => {
                // Visible part Σ_b G_μb (v_bi − b₀) + b₀ Σ_b G_μb over the
                // foreground, pixel-major, then into the rows' first Nv
                // entries.
                let kp = sp.kp;
                let rows = padded_transpose(g, k, b, b, rows, kp);
                // The background's part, b₀ Σ_b G_μb, from G's row sums.
                for x in init.iter_mut() {
                    *x *= sp.background;
                }
                let transposed = aligned(transposed, nv * kp);
                foreground::backward(fg, rows, kp, init, transposed)?;
                transpose(transposed, nv, k, kp, grad, d);
            }
            // Visible part G·V, written into the rows' first Nv entries.
            None => gemm_into(Mat::rows(g, k, b, b), Mat::rows(v, b, nv, nv), grad, d),
        }
        Ok((loss, correct))
    }
}

/// The outputs' errors of a chunk: with the sums `s` inside `tanh`
/// (`Nc × b`, class-major), `y = tanh s`, `e = t − y` (`t = ±1`, `+1` for
/// the label), `δ = e^power (1 − y²)` into `delta`, its sum over the classes
/// into `dsum` and the loss terms `e^power · e` (in `f64`) into `terms`.
/// `scratch` has `3b` entries.
struct Deltas<'a> {
    sums: &'a [f32],
    labels: &'a [u16],
    power: u32,
    delta: &'a mut [f32],
    dsum: &'a mut [f32],
    terms: &'a mut [f64],
    scratch: &'a mut [f32],
}

impl dam_core::simd::Vectorized for Deltas<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let Deltas {
            sums,
            labels,
            power,
            delta,
            dsum,
            terms,
            scratch,
        } = self;
        let b = labels.len();
        let (e, rest) = scratch.split_at_mut(b);
        let (x, acc) = rest.split_at_mut(b);
        let acc = &mut acc[..b];
        dsum.fill(0.0);
        let rows = sums.chunks_exact(b).zip(delta.chunks_exact_mut(b));
        for (alpha, ((s, delta), terms)) in rows.zip(terms.chunks_exact_mut(b)).enumerate() {
            // e and 1 − y² (in `delta` until δ replaces it).
            for (((e, d), &s), &label) in e.iter_mut().zip(delta.iter_mut()).zip(s).zip(labels) {
                let y = tanh(s);
                let t = if usize::from(label) == alpha {
                    1.0
                } else {
                    -1.0
                };
                *e = t - y;
                *d = 1.0 - y * y;
            }
            // e^power by `Real::powi`'s square-and-multiply (its bits), a
            // pass per step.
            x.copy_from_slice(e);
            acc.fill(1.0);
            let mut n = power;
            while n > 0 {
                if n & 1 == 1 {
                    for (a, &x) in acc.iter_mut().zip(x.iter()) {
                        *a *= x;
                    }
                }
                n >>= 1;
                if n > 0 {
                    for x in x.iter_mut() {
                        *x = *x * *x;
                    }
                }
            }
            let outs = delta.iter_mut().zip(terms.iter_mut()).zip(dsum.iter_mut());
            for (((d, t), ds), (&p, &e)) in outs.zip(acc.iter().zip(e.iter())) {
                *d *= p;
                *t = f64::from(p) * f64::from(e);
                *ds += *d;
            }
        }
    }
}

/// The element-wise part of a chunk's backward pass: with `δ` (`Nc × b`),
/// its per-image sum and the derivatives of the forward pass,
/// `G_μb = Σ_α δ_αb F'(ξ·w_α) − (Σ_α δ_αb) F'(ξ·u)` into `g` (`K × b`) and
/// each row's label part `2 Σ_b δ_βb F'(ξ·w_β) − Σ_b G_μb` into the last
/// `Nc` entries of `grad`'s rows (`K × (Nv + Nc)`).
struct Backward<'a> {
    b: usize,
    nc: usize,
    nv: usize,
    dfw: &'a [f32],
    dfu: &'a [f32],
    delta: &'a [f32],
    dsum: &'a [f32],
    g: &'a mut [f32],
    /// `Σ_b G_μb` per memory (`K`).
    gsums: &'a mut [f32],
    grad: &'a mut [f32],
}

impl dam_core::simd::Vectorized for Backward<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let Backward {
            b,
            nc,
            nv,
            dfw,
            dfu,
            delta,
            dsum,
            g,
            gsums,
            grad,
        } = self;
        let d = nv + nc;
        for (((g, gsum_out), grad), (dfw, dfu)) in g
            .chunks_exact_mut(b)
            .zip(gsums.iter_mut())
            .zip(grad.chunks_exact_mut(d))
            .zip(dfw.chunks_exact(nc * b).zip(dfu.chunks_exact(b)))
        {
            for ((g, &du), &ds) in g.iter_mut().zip(dfu).zip(dsum) {
                *g = -ds * du;
            }
            // One pass over F'(ξ·w_β) for both sums its products enter:
            // G's row and the label entry's Σ_b δ_βb F'(ξ·w_β) (in the
            // lanes of `sum_lanes`).
            for ((x, dw), delta) in grad[nv..]
                .iter_mut()
                .zip(dfw.chunks_exact(b))
                .zip(delta.chunks_exact(b))
            {
                let mut acc = [0.0f32; SUM_LANES];
                let (gs, g_rest) = g.as_chunks_mut::<SUM_LANES>();
                let (ws, w_rest) = dw.as_chunks::<SUM_LANES>();
                let (ls, l_rest) = delta.as_chunks::<SUM_LANES>();
                for ((g, w), l) in gs.iter_mut().zip(ws).zip(ls) {
                    let p: [f32; SUM_LANES] = core::array::from_fn(|j| l[j] * w[j]);
                    for (g, p) in g.iter_mut().zip(&p) {
                        *g += p;
                    }
                    for (a, p) in acc.iter_mut().zip(&p) {
                        *a += p;
                    }
                }
                let rest = acc.iter_mut().zip(g_rest);
                for (((a, g), &w), &l) in rest.zip(w_rest).zip(l_rest) {
                    let p = l * w;
                    *g += p;
                    *a += p;
                }
                *x = 2.0 * fold_lanes(acc);
            }
            let gsum = sum_lanes(g);
            *gsum_out = gsum;
            for x in grad[nv..].iter_mut() {
                *x -= gsum;
            }
        }
    }
}

/// How many images ahead of the one being gathered [`prefetch`] asks for.
const PREFETCH_AHEAD: usize = 4;

/// Asks the CPU to bring `x` into the cache (a hint: no effect on results;
/// a no-op off x86_64).
#[inline]
fn prefetch<T>(x: &[T]) {
    #[cfg(target_arch = "x86_64")]
    for line in x.chunks((64 / std::mem::size_of::<T>().max(1)).max(1)) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of x86_64; `prefetcht0` only hints the
        // cache, never faults, and reads nothing the program sees (the
        // address is inside `x` anyway).
        #[allow(unsafe_code)]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// A chunk's temporaries, kept between chunks (see [`Net::partial_into`]).
#[derive(Debug, Default)]
struct Workspace {
    base: Vec<f32>,
    dfw: Vec<f32>,
    dfu: Vec<f32>,
    sums: Vec<f32>,
    scratch: Vec<f32>,
    delta: Vec<f32>,
    dsum: Vec<f32>,
    g: Vec<f32>,
    /// [`Deltas`]' scratch, `3b`.
    errors: Vec<f32>,
    /// The loss terms of [`Deltas`], `Nc × b`.
    terms: Vec<f64>,
    /// The foreground lists of the chunk's images (with [`Sparse`]).
    fg: Foreground,
    /// Image-major rows, `b × Kp`: the overlaps, then `G`'s transpose.
    rows: Vec<f32>,
    /// The visible gradient, pixel-major (`Nv × Kp`).
    transposed: Vec<f32>,
    /// `G`'s row sums, then (with [`Sparse`]) the background's part of the
    /// visible gradient (`Kp`).
    init: Vec<f32>,
    /// The chunk's (drawn) images, `b × Nv`, and their labels: filled by
    /// the caller of [`Net::partial_into`], not by it.
    images: Vec<f32>,
    labels: Vec<u16>,
}

thread_local! {
    /// One workspace per rayon worker.
    static WORKSPACE: std::cell::RefCell<Workspace> = std::cell::RefCell::default();
}

/// A minibatch's memories for the foreground products: the visible part
/// transposed (`Nv × Kp`) and each memory's constant
/// `b₀ Σ_i ξ_i − Σ_α ξ_{Nv+α}` (`Kp`, padding zero).
struct Sparse<'a> {
    background: f32,
    kp: usize,
    xt: &'a [f32],
    init: &'a [f32],
}

/// [`Sparse`] for the `k` memories `xi` (`K × D`, `Nv` visible entries
/// each), in the buffers `xt` and `init`.
fn sparse_memories<'a>(
    xi: &[f32],
    k: usize,
    nv: usize,
    background: f32,
    xt: &'a mut Vec<f32>,
    init: &'a mut Vec<f32>,
) -> Sparse<'a> {
    let kp = foreground::padded(k);
    let d = xi.len().checked_div(k).unwrap_or(0);
    let xt = padded_transpose(xi, k, nv, d, xt, kp);
    let init = aligned(init, kp);
    init.fill(0.0);
    for (x, row) in init.iter_mut().zip(xi.chunks_exact(d.max(1))) {
        let (visible, labels) = row.split_at(nv);
        *x = background * sum_lanes(visible) - labels.iter().sum::<f32>();
    }
    Sparse {
        background,
        kp,
        xt,
        init,
    }
}

/// Whether the foreground products beat the dense ones for `entries`
/// foreground entries among `pixels`: up to 40 % foreground. Measured on
/// MNIST (BENCHMARKS.md, "The epoch, third pass"): ≈ 8.7 ns per listed
/// entry for the two kernels and the by-pixel sort against ≈ 3.5 ns per
/// pixel for the two dense products, a break-even at 40 %.
fn pays_off(entries: usize, pixels: usize) -> bool {
    5 * entries <= 2 * pixels
}

/// The transpose of `src` (`rows × cols`, row stride `stride`) into
/// `cols` rows of `kp ≥ rows` lanes (aligned, [`aligned`]), the lanes past
/// `rows` zero.
fn padded_transpose<'a>(
    src: &[f32],
    rows: usize,
    cols: usize,
    stride: usize,
    dst: &'a mut Vec<f32>,
    kp: usize,
) -> &'a mut [f32] {
    let dst = aligned(dst, cols * kp);
    for row in dst.chunks_exact_mut(kp) {
        row[rows..].fill(0.0);
    }
    transpose(src, rows, cols, stride, dst, kp);
    dst
}

/// `len` entries of `v` starting on a 64-byte boundary (grown if needed,
/// entries left as they were), for the foreground kernels' rows of 16
/// lanes: a vector load or store across two cache lines costs two (and
/// large allocations start 16 bytes past a page boundary).
fn aligned(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    const LINE: usize = 64 / std::mem::size_of::<f32>();
    if v.len() < len + LINE {
        v.resize(len + LINE, 0.0);
    }
    // At most 15 entries (0 where the pointer cannot be aligned).
    let skip = v.as_ptr().align_offset(64).min(LINE - 1);
    &mut v[skip..skip + len]
}

/// `v` with exactly `len` entries (grown if needed; the entries are left as
/// they were: every user overwrites them).
fn resized<T: Copy + Default>(v: &mut Vec<T>, len: usize) -> &mut [T] {
    if v.len() < len {
        v.resize(len, T::default());
    }
    &mut v[..len]
}

/// Lanes of the partial sums in [`sum_lanes`] and [`Backward`]'s label part: independent
/// accumulators the compiler keeps in vector registers (a single running
/// sum is one dependent add per entry).
const SUM_LANES: usize = 16;

/// `Σ_i x_i`, summed in [`SUM_LANES`] interleaved partial sums, then those
/// pairwise ([`fold_lanes`]): a fixed order, so the same bits on every
/// machine and thread count.
#[inline(always)]
fn sum_lanes(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; SUM_LANES];
    let mut chunks = x.chunks_exact(SUM_LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    for (a, &x) in acc.iter_mut().zip(chunks.remainder()) {
        *a += x;
    }
    fold_lanes(acc)
}

/// The sum of the lanes, halving: lane `i` plus lane `i + 8`, then `+ 4`,
/// `+ 2`, `+ 1` (vector adds and shuffles, where a running sum is 16
/// dependent adds: it dominated the label part's short dot products).
#[inline(always)]
fn fold_lanes(mut acc: [f32; SUM_LANES]) -> f32 {
    let mut half = SUM_LANES / 2;
    while half > 0 {
        let (lo, hi) = acc.split_at_mut(half);
        for (a, &b) in lo.iter_mut().zip(hi.iter()) {
            *a += b;
        }
        half /= 2;
    }
    acc[0]
}

/// The index of the largest entry of `row` (the first of ties; 0 if empty).
fn argmax(row: &[f32]) -> usize {
    argmax_of(row.iter().copied())
}

/// [`argmax`] of the values in order (a column of a class-major block, say).
fn argmax_of(values: impl IntoIterator<Item = f32>) -> usize {
    let mut best: Option<(usize, f32)> = None;
    for (i, x) in values.into_iter().enumerate() {
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// Checks that `split` fits a model with `nv` visible units and `nc` classes.
fn check_split(split: &Split, nv: usize, nc: usize) -> Result<()> {
    if split.dim != nv {
        bail!(
            "the images have {} pixels, the model expects Nv = {nv}",
            split.dim
        );
    }
    if let Some(&l) = split.labels.iter().find(|&&l| usize::from(l) >= nc) {
        bail!("label {l} does not fit a model with {nc} classes");
    }
    Ok(())
}

/// Test-set (or any split's) performance.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Fraction classified correctly.
    pub accuracy: f64,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<u64>>,
}

/// Classifies every image of `split` (in parallel) and tallies the results.
pub fn evaluate(net: &Net<'_>, split: &Split) -> Result<Evaluation> {
    let (nv, nc) = (net.visible(), net.classes());
    check_split(split, nv, nc)?;
    let preds: Vec<Vec<usize>> = split
        .images
        .par_chunks(CHUNK * nv)
        .map(|v| net.predict(v))
        .collect::<Result<_>>()?;
    crate::quantize::tally(&split.labels, &preds.concat(), nc)
}

/// Loss and training accuracy of one epoch (measured on each minibatch
/// before its update, as the notebook does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// The epoch just finished (from 1).
    pub epoch: usize,
    /// Mean loss per sample, `Σ_α (t_α − c_α)^{2m}`.
    pub loss: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// The learning rate used.
    pub learning_rate: f32,
}

/// Training data with the foreground of every image listed once
/// ([`foreground`]): the epochs of [`Trainer::run_epoch_listed`] then read
/// the short lists instead of the images (a third of the bytes on MNIST,
/// fetched in random order). Used when the trainer draws no augmentation;
/// otherwise the images are read and listed per epoch as by
/// [`Trainer::run_epoch`]. Borrows the data, so the lists cannot go stale.
///
/// ```
/// use dam_std::data::Split;
/// use dam_std::train::kh16::{Config, Listed, Trainer};
/// let data = Split { images: vec![-1.0, 1.0, 1.0, -1.0], labels: vec![0, 1], dim: 2 };
/// let listed = Listed::new(&data);
/// let config = Config { k: 2, batch: 2, shift: 0, ..Config::default() };
/// let mut t = Trainer::new(config, 2, 2)?;
/// let stats = t.run_epoch_listed(&listed, &|| false)?.expect("not stopped");
/// assert_eq!(stats.epoch, 1);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Debug)]
pub struct Listed<'a> {
    data: &'a Split,
    /// The value the foreground products skip, where they run
    /// ([`foreground::background`]).
    background: Option<f32>,
    lists: Option<Foreground>,
}

impl<'a> Listed<'a> {
    /// `data` with its foreground listed, where the CPU runs the foreground
    /// kernels and the images have a background value (else as it is).
    pub fn new(data: &'a Split) -> Self {
        let unlisted = Listed::unlisted(data);
        let lists = unlisted.background.map(|b0| {
            let mut lists = Foreground::new(data.dim, b0);
            for i in 0..data.len() {
                lists.push(data.image(i));
            }
            lists
        });
        Listed { lists, ..unlisted }
    }

    /// `data` without lists ([`Trainer::run_epoch`]; the images are listed
    /// per chunk, as with augmentation).
    pub fn unlisted(data: &'a Split) -> Self {
        let background = foreground::available()
            .then(|| foreground::background(&data.images, data.dim))
            .flatten();
        Listed {
            data,
            background,
            lists: None,
        }
    }

    /// The data.
    pub fn data(&self) -> &'a Split {
        self.data
    }
}

/// A model being trained: memories, optimizer state and epoch count.
#[derive(Debug, Clone, PartialEq)]
pub struct Trainer {
    /// The settings.
    pub config: Config,
    /// `K × D` memories.
    pub xi: Vec<f32>,
    /// Momentum state.
    pub opt: Momentum,
    /// Epochs completed.
    pub epoch: usize,
    /// Visible units.
    pub nv: usize,
    /// Classes.
    pub nc: usize,
}

impl Trainer {
    /// Fresh memories drawn from `N(init_mean, init_std)` with the seed
    /// (for [`Init::Samples`], see [`Trainer::for_data`]).
    ///
    /// ```
    /// use dam_core::Interaction;
    /// use dam_std::train::kh16::{Config, Scale, Trainer};
    /// use dam_std::data::mnist::Split;
    /// // Two toy "images" of 4 pixels, classes 0 and 1.
    /// let data = Split::from_bytes(&[255, 255, 0, 0, 0, 0, 255, 255], &[0, 1], 4, "toy")?;
    /// let config = Config {
    ///     k: 4, batch: 2, init_mean: 0.0,
    ///     interaction: Interaction::RectifiedPolynomial { n: 3 },
    ///     scale: Scale::Normalized { beta: 4.0 },
    ///     ..Config::default()
    /// };
    /// let mut t = Trainer::new(config, 4, 2)?;
    /// for _ in 0..20 { t.run_epoch(&data, &|| false)?; }
    /// assert_eq!(t.net()?.predict(&data.images)?, [0, 1]);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn new(config: Config, nv: usize, nc: usize) -> Result<Self> {
        config.validate()?;
        if nv == 0 || nc == 0 {
            bail!("need at least one pixel and one class");
        }
        config
            .augmentation()
            .check_image(nv)
            .map_err(|e| anyhow::anyhow!("augmentation: {e}"))?;
        if config.init != Init::Normal {
            bail!("memories copied from samples need the data: use Trainer::for_data");
        }
        let d = nv + nc;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let xi = (0..config.k * d)
            .map(|_| config.init_mean + config.init_std * normal(&mut rng))
            .collect();
        Ok(Trainer {
            opt: Momentum::new(config.momentum, config.k, d),
            xi,
            epoch: 0,
            nv,
            nc,
            config,
        })
    }

    /// Fresh memories for `data` (`nc` classes) as `config.init` says.
    ///
    /// ```
    /// use dam_std::data::Split;
    /// use dam_std::train::kh16::{Config, Init, Trainer};
    /// let data = Split { images: vec![0.5, -0.5, -0.5, 0.5], labels: vec![0, 1], dim: 2 };
    /// let t = Trainer::for_data(Config { k: 2, init: Init::Samples, ..Config::default() }, &data, 2)?;
    /// assert_eq!(t.xi, [0.5, -0.5, 1.0, -1.0, -0.5, 0.5, -1.0, 1.0]);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn for_data(config: Config, data: &Split, nc: usize) -> Result<Self> {
        let samples = config.init == Init::Samples;
        let mut t = Trainer::new(
            Config {
                init: Init::Normal,
                ..config
            },
            data.dim,
            nc,
        )?;
        t.config.init = config.init;
        if !samples {
            return Ok(t);
        }
        check_split(data, t.nv, nc)?;
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); nc];
        for (i, &l) in data.labels.iter().enumerate() {
            by_class[usize::from(l)].push(i);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x1a17_5a3c);
        for rows in &mut by_class {
            for i in (1..rows.len()).rev() {
                rows.swap(i, rng.random_range(0..=i));
            }
        }
        let classes: Vec<usize> = (0..nc).filter(|&c| !by_class[c].is_empty()).collect();
        if classes.is_empty() {
            bail!("no training rows to copy memories from");
        }
        let d = t.nv + nc;
        let mut taken = vec![0usize; nc];
        for (mu, xi) in t.xi.chunks_exact_mut(d).enumerate() {
            let c = classes[mu % classes.len()];
            let rows = &by_class[c];
            let row = rows[taken[c] % rows.len()];
            taken[c] += 1;
            xi[..t.nv].copy_from_slice(data.image(row));
            for (alpha, x) in xi[t.nv..].iter_mut().enumerate() {
                *x = if alpha == c { 1.0 } else { -1.0 };
            }
            xi.iter_mut().for_each(|x| *x = x.clamp(-1.0, 1.0));
        }
        Ok(t)
    }

    /// The current network (the form of [`Trainer::header`]). Errors:
    /// none for a trainer built by [`Trainer::new`] (its settings are
    /// checked there).
    pub fn net(&self) -> Result<Net<'_>> {
        let form = match self.header().form {
            Form::Normalized { beta } => Form::Normalized { beta: beta as f32 },
            Form::Raw { beta } => Form::Raw { beta: beta as f32 },
            form => bail!("the form {form:?} is not one this trainer knows"),
        };
        Net::new(&self.xi, self.nv, self.nc, self.config.interaction, form)
    }

    /// The model header describing these memories.
    ///
    /// A raw-form model (`β = 1/T^n`) is saved in its exactly equivalent
    /// normalized form, `β = D/T` (`β F(m) = F(m/T) = F((D/T)·m/D)` for a
    /// homogeneous `F`, the only kind the raw form trains): `dam-core`
    /// evaluates that in f32 without overflow, where the literal raw form
    /// overflows (`794^20`), and every prediction is the same.
    pub fn header(&self) -> Header {
        let f = self.config.interaction;
        let d = (self.nv + self.nc) as f64;
        let form = match self.config.scale {
            Scale::Raw { temperature } => Form::Normalized {
                beta: d / f64::from(temperature),
            },
            Scale::Normalized { beta } => Form::Normalized {
                beta: f64::from(beta),
            },
        };
        let interaction = cast_interaction(f);
        Header {
            kind: Kind::Classifier,
            element: ElementType::F32,
            interaction,
            form,
            k: self.config.k as u32,
            nv: self.nv as u32,
            nc: self.nc as u32,
        }
    }

    /// One epoch over `data` (shuffled from the seed and the epoch number,
    /// so a resumed run shuffles like an uninterrupted one). Returns `None`,
    /// leaving the memories at the last completed minibatch, if `stop()`
    /// turns true between minibatches.
    pub fn run_epoch(
        &mut self,
        data: &Split,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<EpochStats>> {
        self.run_epoch_listed(&Listed::unlisted(data), stop)
    }

    /// `data` prepared for [`Trainer::run_epoch_listed`]: listed once
    /// where the lists serve every epoch (no augmentation), else not (the
    /// drawn images are listed per chunk).
    pub fn listed<'a>(&self, data: &'a Split) -> Listed<'a> {
        if self.draws_identity() {
            Listed::new(data)
        } else {
            Listed::unlisted(data)
        }
    }

    /// Whether every epoch sees the images as they are.
    fn draws_identity(&self) -> bool {
        self.config.augmentation() == Augmentation::Shift(0)
    }

    /// [`Trainer::run_epoch`] over data listed once ([`Listed`]): the same
    /// model, loss and accuracy to the last bit, faster.
    pub fn run_epoch_listed(
        &mut self,
        listed: &Listed<'_>,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<EpochStats>> {
        let data = listed.data;
        check_split(data, self.nv, self.nc)?;
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.config.seed ^ (self.epoch as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let eps = learning_rate(self.config.eps0, self.config.decay, self.epoch);
        let (mut loss, mut correct) = (0.0f64, 0usize);
        let draw = Draw::for_epoch(self.config.augmentation(), self.config.seed, self.epoch);
        // Each chunk's descent direction in its own slice, summed in chunk
        // order afterwards: the same bits for any number of threads.
        let kd = self.xi.len();
        let chunks = self.config.batch.div_ceil(TRAIN_CHUNK);
        let mut parts = vec![0.0f32; chunks * kd];
        // Images that are mostly one background value train through the
        // foreground products (where the CPU runs their kernels).
        // Lists made once serve while every epoch sees the images as they
        // are (no augmentation).
        let identity = self.draws_identity();
        let cached = (listed.lists.as_ref()).filter(|l| identity && l.pixels() == self.nv);
        let background = listed.background;
        let (mut xt, mut init) = (Vec::new(), Vec::new());
        for batch in order.chunks(self.config.batch) {
            if stop() {
                return Ok(None);
            }
            let net = self.net()?;
            let m = self.config.m;
            let sparse = background.map(|background| {
                let k = self.config.k;
                sparse_memories(&self.xi, k, self.nv, background, &mut xt, &mut init)
            });
            let nv = self.nv;
            let used = batch.len().div_ceil(TRAIN_CHUNK);
            let stats: Vec<(f64, usize)> = batch
                .par_chunks(TRAIN_CHUNK)
                .zip(parts.par_chunks_mut(kd))
                .map(|(idx, part)| {
                    WORKSPACE.with_borrow_mut(|ws| {
                        // The chunk's images gathered into the worker's own
                        // buffers (not a fresh ~400 KB one per chunk).
                        let mut v = std::mem::take(&mut ws.images);
                        let mut labels = std::mem::take(&mut ws.labels);
                        v.clear();
                        labels.clear();
                        labels.extend(idx.iter().map(|&i| data.labels[i]));
                        let pixels = idx.len() * nv;
                        // The chunk's lists copied from the data's, where
                        // they were made once.
                        let mut listed = false;
                        if let (Some(lists), Some(sp)) = (cached, &sparse) {
                            ws.fg.reset(nv, sp.background);
                            for (j, &i) in idx.iter().enumerate() {
                                if let Some(&ahead) = idx.get(j + PREFETCH_AHEAD) {
                                    let (index, value) = lists.entries(ahead);
                                    prefetch(index);
                                    prefetch(value);
                                }
                                ws.fg.append(lists, i);
                            }
                            listed = pays_off(ws.fg.len(), pixels);
                        }
                        if !listed {
                            if let Some(sp) = &sparse {
                                ws.fg.reset(nv, sp.background);
                            }
                            for (j, &i) in idx.iter().enumerate() {
                                // The images are read in a random order, so
                                // from main memory: ask for one a few ahead.
                                if let Some(&ahead) = idx.get(j + PREFETCH_AHEAD) {
                                    prefetch(data.image(ahead));
                                }
                                // One generator per image: the draw does not
                                // depend on the thread that gathers it.
                                draw.append(data.image(i), i, &mut v);
                                if sparse.is_some() {
                                    ws.fg.push(&v[j * nv..]);
                                }
                            }
                        }
                        let sparse = sparse.as_ref().filter(|_| pays_off(ws.fg.len(), pixels));
                        let r = net.partial_into(ws, &v, &labels, m, sparse, part);
                        (ws.images, ws.labels) = (v, labels);
                        r
                    })
                })
                .collect::<Result<_>>()?;
            for (l, c) in stats {
                loss += l;
                correct += c;
            }
            // The step with Σ_p part_p, summed in chunk order per entry.
            self.opt.step_sum(&mut self.xi, &parts[..used * kd], eps);
        }
        self.epoch += 1;
        let n = data.len().max(1) as f64;
        Ok(Some(EpochStats {
            epoch: self.epoch,
            loss: loss / n,
            train_accuracy: correct as f64 / n,
            learning_rate: eps,
        }))
    }
}

pub use super::augment::shifted_into;

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three memories over 4 pixels and 3 classes, `c = β/D ≈ 0.3`.
    fn toy_net(xi: &[f32], f: Interaction<f32>) -> Net<'_> {
        Net::new(xi, 4, 3, f, Form::Normalized { beta: 2.1 }).unwrap()
    }

    fn rand_vec(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(lo..hi)).collect()
    }

    /// A workspace reused after a longer chunk (the last chunk of a
    /// minibatch that is not a multiple of [`TRAIN_CHUNK`]) gives the same
    /// loss and descent direction as a fresh one.
    #[test]
    fn reused_workspaces_match_fresh_ones() {
        let xi = rand_vec(3 * 7, 2, -0.8, 0.8);
        let net = toy_net(&xi, Interaction::RectifiedPolynomial { n: 3 });
        let long = rand_vec(9 * 4, 3, -1.0, 1.0);
        let short = rand_vec(5 * 4, 4, -1.0, 1.0);
        let (long_labels, short_labels) = ([0u16, 1, 2, 0, 1, 2, 0, 1, 2], [2u16, 0, 1, 1, 0]);
        let mut ws = Workspace::default();
        let mut grad = vec![0.0f32; xi.len()];
        net.partial_into(&mut ws, &long, &long_labels, 2, None, &mut grad)
            .unwrap();
        let (loss, _) = net
            .partial_into(&mut ws, &short, &short_labels, 2, None, &mut grad)
            .unwrap();
        let fresh = net.partial(&short, &short_labels, 2).unwrap();
        assert!(loss.is_finite(), "{loss}");
        assert_eq!(loss, fresh.loss);
        assert_eq!(grad, fresh.grad);
    }

    /// The foreground products (images with a background value) give the
    /// dense products' loss and descent direction, up to rounding, for a
    /// `K` that is not a multiple of the kernels' 16 lanes.
    #[test]
    fn foreground_products_match_the_dense_ones() {
        let (nv, nc, k, b) = (20, 3, 19, 9);
        let xi = rand_vec(k * (nv + nc), 5, -0.8, 0.8);
        let net = Net::new(
            &xi,
            nv,
            nc,
            Interaction::RectifiedPolynomial { n: 3 },
            Form::Normalized { beta: 2.0 },
        )
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let v: Vec<f32> = (0..b * nv)
            .map(|_| match rng.random_bool(0.7) {
                true => -1.0,
                false => rng.random_range(-1.0..1.0),
            })
            .collect();
        let labels: Vec<u16> = (0..b).map(|i| (i % nc) as u16).collect();
        let (mut xt, mut init) = (Vec::new(), Vec::new());
        let sparse = sparse_memories(&xi, k, nv, -1.0, &mut xt, &mut init);
        let mut ws = Workspace::default();
        ws.fg.reset(nv, -1.0);
        for image in v.chunks_exact(nv) {
            ws.fg.push(image);
        }
        let mut grad = vec![f32::NAN; xi.len()];
        let (loss, correct) = net
            .partial_into(&mut ws, &[], &labels, 2, Some(&sparse), &mut grad)
            .unwrap();
        let dense = net.partial(&v, &labels, 2).unwrap();
        let (_, dense_correct) = net
            .partial_into(
                &mut Workspace::default(),
                &v,
                &labels,
                2,
                None,
                &mut vec![0.0; xi.len()],
            )
            .unwrap();
        assert!(
            (loss - dense.loss).abs() <= 1e-5 * dense.loss.abs(),
            "{loss} {}",
            dense.loss
        );
        assert_eq!(correct, dense_correct);
        let scale = dense.grad.iter().fold(0.0f32, |m, g| m.max(g.abs()));
        assert!(scale > 0.0);
        for (i, (s, d)) in grad.iter().zip(&dense.grad).enumerate() {
            assert!((s - d).abs() <= 1e-5 * scale, "entry {i}: {s} against {d}");
        }
    }

    /// Epochs over data listed once are the epochs over the data, bit for
    /// bit (whichever products this CPU runs).
    #[test]
    fn listed_epochs_are_the_unlisted_ones() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let (mut px, mut labels) = (Vec::new(), Vec::new());
        for i in 0..240 {
            // Mostly background (byte 0), a class-dependent foreground.
            px.extend(
                (0..16).map(|p| match (p + i % 2) % 3 == 0 && rng.random_bool(0.8) {
                    true => rng.random_range(100..=255u8),
                    false => 0,
                }),
            );
            labels.push((i % 2) as u8);
        }
        let data = Split::from_bytes(&px, &labels, 16, "toy").unwrap();
        let config = Config {
            k: 21,
            batch: 60,
            shift: 0,
            ..Config::default()
        };
        let mut plain = Trainer::new(config.clone(), 16, 2).unwrap();
        let mut listed = Trainer::new(config, 16, 2).unwrap();
        let lists = Listed::new(&data);
        for _ in 0..3 {
            let a = plain.run_epoch(&data, &|| false).unwrap().unwrap();
            let b = listed.run_epoch_listed(&lists, &|| false).unwrap().unwrap();
            assert_eq!(a.loss.to_bits(), b.loss.to_bits());
        }
        assert!(
            plain
                .xi
                .iter()
                .zip(&listed.xi)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }

    /// The backward pass with the `ξ·w_α = ξ·u + 2ξ_α` trick equals
    /// `−∂L/∂ξ / (2m c)` by central differences, for every `F`.
    #[test]
    fn gradient_matches_finite_differences() {
        let v = rand_vec(5 * 4, 1, -1.0, 1.0);
        let labels = [0u16, 2, 1, 1, 0];
        for f in [
            Interaction::Polynomial { n: 3 },
            Interaction::RectifiedPolynomial { n: 2 },
            Interaction::leaky(3),
            Interaction::Exponential,
        ] {
            let xi = rand_vec(3 * 7, 2, -0.8, 0.8);
            let m = 2;
            let c = f64::from(toy_net(&xi, f).scale());
            let g = toy_net(&xi, f).partial(&v, &labels, m).unwrap().grad;
            let h = 1e-2f32;
            for i in 0..xi.len() {
                let mut plus = xi.clone();
                plus[i] += h;
                let mut minus = xi.clone();
                minus[i] -= h;
                let lp = toy_net(&plus, f).partial(&v, &labels, m).unwrap().loss;
                let lm = toy_net(&minus, f).partial(&v, &labels, m).unwrap().loss;
                let numeric = -(lp - lm) / (2.0 * f64::from(h)) / (2.0 * m as f64 * c);
                let tol = 2e-2 * numeric.abs().max(1e-2);
                assert!(
                    (f64::from(g[i]) - numeric).abs() < tol,
                    "{f:?} entry {i}: analytic {} numeric {numeric}",
                    g[i]
                );
            }
        }
    }

    /// A raw-form model, saved and read back by dam-core, predicts what the
    /// trainer predicts (it is stored in the equivalent normalized form).
    #[test]
    fn saved_raw_model_runs_in_dam_core() {
        let data = toy_data();
        let config = Config {
            k: 6,
            batch: 100,
            interaction: Interaction::RectifiedPolynomial { n: 4 },
            scale: Scale::Raw { temperature: 8.0 },
            init_mean: 0.0,
            ..Config::default()
        };
        let mut t = Trainer::new(config, 4, 3).unwrap();
        for _ in 0..20 {
            t.run_epoch(&data, &|| false).unwrap();
        }
        let bytes = crate::model_io::AlignedBytes::new(
            &crate::model_io::encode(
                &t.header(),
                &[0, 1, 2],
                crate::model_io::Entries::F32(&t.xi),
            )
            .unwrap(),
        );
        let model = Model::parse(bytes.as_bytes()).unwrap();
        let clf = model.classifier::<f32>().unwrap();
        let (mut scores, mut scratch) = ([0.0f32; 3], [0.0f32; 6]);
        let expected = t.net().unwrap().predict(&data.images).unwrap();
        let got: Vec<usize> = data
            .images
            .chunks_exact(4)
            .map(|x| clf.forward(x, &mut scores, &mut scratch).unwrap())
            .collect();
        assert_eq!(got, expected);
        let correct = expected.iter().zip(&data.labels);
        let correct = correct.filter(|(p, l)| **p == usize::from(**l)).count();
        assert!(correct > 250, "{correct} of 300 right");
        // The net rebuilt from the file has the same scale.
        let net = Net::from_model(&model).unwrap();
        let c = t.net().unwrap().scale();
        assert!((net.scale() - c).abs() < 1e-6 * c);
    }

    /// Batched scores agree with dam-core's `Classifier` (normalized form).
    #[test]
    fn predictions_match_dam_core() {
        let xi = rand_vec(3 * 7, 3, -1.0, 1.0);
        let v = rand_vec(20 * 4, 4, -1.0, 1.0);
        let f = Interaction::RectifiedPolynomial { n: 3 };
        let beta = 2.1f32;
        let net = Net::new(&xi, 4, 3, f, Form::Normalized { beta }).unwrap();
        let view = dam_core::MemoryView::new(&xi, 3, 7).unwrap();
        let clf = dam_core::Classifier::new(view, 3, f, Form::Normalized { beta }).unwrap();
        let (mut scores, mut scratch) = ([0.0f32; 3], [0.0f32; 3]);
        let expected: Vec<usize> = v
            .chunks_exact(4)
            .map(|x| clf.forward(x, &mut scores, &mut scratch).unwrap())
            .collect();
        assert_eq!(net.predict(&v).unwrap(), expected);
    }

    fn toy_data() -> Split {
        // 300 noisy copies of three 4-pixel prototypes.
        let protos = [[255u8, 255, 0, 0], [0, 0, 255, 255], [255, 0, 255, 0]];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (mut px, mut labels) = (Vec::new(), Vec::new());
        for i in 0..300 {
            let c = i % 3;
            px.extend(
                protos[c]
                    .iter()
                    .map(|&p| p.saturating_add(rng.random_range(0..40)).saturating_sub(20)),
            );
            labels.push(c as u8);
        }
        Split::from_bytes(&px, &labels, 4, "toy").unwrap()
    }

    /// Same seed and threads → bit-identical memories; and the result does
    /// not depend on the thread count either (fixed chunking).
    #[test]
    fn training_is_deterministic() {
        let data = toy_data();
        let config = Config {
            k: 6,
            batch: 250,
            epochs: 3,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            scale: Scale::Normalized { beta: 1.0 },
            ..Config::default()
        };
        let train = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut t = Trainer::new(config.clone(), 4, 3).unwrap();
                for _ in 0..3 {
                    let stats = t.run_epoch(&data, &|| false).unwrap().unwrap();
                    assert!(stats.loss.is_finite(), "{stats:?}");
                }
                t.xi
            })
        };
        let a = train(2);
        assert_eq!(a, train(2));
        assert_eq!(a, train(1));
        let other = Trainer::new(Config { seed: 1, ..config }, 4, 3).unwrap();
        assert_ne!(a, other.xi);
    }

    /// Shift augmentation keeps training deterministic across thread
    /// counts, and it does change what is learned.
    #[test]
    fn shift_augmentation_is_deterministic_and_effective() {
        let data = toy_data();
        let config = |shift| Config {
            k: 6,
            batch: 250,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            scale: Scale::Normalized { beta: 1.0 },
            shift,
            ..Config::default()
        };
        let train = |threads: usize, shift: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut t = Trainer::new(config(shift), 4, 3).unwrap();
                for _ in 0..3 {
                    t.run_epoch(&data, &|| false).unwrap();
                }
                t.xi
            })
        };
        let shifted = train(2, 1);
        assert_eq!(shifted, train(1, 1));
        assert_ne!(shifted, train(2, 0));
        // 4 pixels are 2 × 2: a shift of 2 leaves nothing; 5 are not square.
        assert!(Trainer::new(config(2), 4, 3).is_err());
        assert!(Trainer::new(config(1), 5, 3).is_err());
    }

    /// Rotation and zoom augmentation: deterministic across thread counts,
    /// different from whole-pixel shifts, and checked.
    #[test]
    fn affine_augmentation_is_deterministic_and_effective() {
        let data = toy_data();
        let config = |rotate, zoom| Config {
            k: 6,
            batch: 250,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            scale: Scale::Normalized { beta: 1.0 },
            shift: 1,
            rotate,
            zoom,
            ..Config::default()
        };
        let train = |threads: usize, rotate: f32, zoom: f32| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut t = Trainer::new(config(rotate, zoom), 4, 3).unwrap();
                for _ in 0..3 {
                    t.run_epoch(&data, &|| false).unwrap();
                }
                t.xi
            })
        };
        let distorted = train(2, 20.0, 0.1);
        assert_eq!(distorted, train(1, 20.0, 0.1));
        assert_ne!(distorted, train(2, 0.0, 0.0));
        assert_ne!(distorted, train(2, 20.0, 0.0));
        assert!(matches!(
            config(20.0, 0.0).augmentation(),
            Augmentation::Affine(_)
        ));
        assert!(matches!(
            config(0.0, 0.0).augmentation(),
            Augmentation::Shift(1)
        ));
        for (rotate, zoom) in [(-1.0, 0.0), (f32::NAN, 0.0), (0.0, 1.5), (200.0, 0.1)] {
            let err = Trainer::new(config(rotate, zoom), 4, 3).unwrap_err();
            assert!(err.to_string().contains("augmentation"), "{err}");
        }
        assert!(Trainer::new(config(5.0, 0.0), 5, 3).is_err(), "not square");
    }

    #[test]
    fn stop_and_bad_input() {
        let data = toy_data();
        let mut t = Trainer::new(
            Config {
                k: 4,
                ..Config::default()
            },
            4,
            3,
        )
        .unwrap();
        assert_eq!(t.run_epoch(&data, &|| true).unwrap(), None);
        assert_eq!(t.epoch, 0);
        let mut wrong = Trainer::new(
            Config {
                k: 4,
                ..Config::default()
            },
            5,
            3,
        )
        .unwrap();
        assert!(wrong.run_epoch(&data, &|| false).is_err());
        let mut two = Trainer::new(
            Config {
                k: 4,
                ..Config::default()
            },
            4,
            2,
        )
        .unwrap();
        assert!(
            two.run_epoch(&data, &|| false)
                .unwrap_err()
                .to_string()
                .contains("label 2")
        );
        let exp_raw = Config {
            interaction: Interaction::Exponential,
            ..Config::default()
        };
        assert!(Trainer::new(exp_raw, 4, 3).is_err());
    }
}
