//! One chunk of samples through the Potts memory: the forward pass
//! `p(y | v)`, the loss of a [`Target`] and its gradient with respect to
//! memories, class-weight logits and prior logits (math.md §7).
//!
//! With `a_μb = (β/D) w^μ·v_b + ln p_h(μ)`, `π_·b = softmax(a_·b)` and
//! `q_b = (1 − ς) Σ_μ π_μb p^μ + ς q⁰` (`q⁰ = Σ_μ p_h(μ) p^μ`, the
//! regularization of `docs/potts.md`), and `g_by = ∂ℓ_b/∂q_by` from the
//! target:
//! - `e_μb = Σ_y p^μ_y g_by`, `G_μb = ∂ℓ/∂a_μb = (1 − ς) π_μb (e_μb − Σ_ν π_νb e_νb)`;
//! - `∂ℓ/∂w^μ = (β/D) Σ_b G_μb v_b` (one product `G · V`);
//! - `∂ℓ/∂p^μ_y = Σ_b ((1 − ς) π_μb + ς p_h(μ)) g_by`, then through the softmax of `θ^μ`;
//! - `∂ℓ/∂ρ` through `ln p_h` in `a` and through `q⁰`.
//!
//! All four products go through [`crate::train::overlaps::gemm`].

use crate::train::overlaps::{Mat, gemm};

use super::params::Params;

/// What the loss compares `q = p(· | v)` with.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Supervised: `ℓ = −ln q_y` for the label `y` of each sample.
    Labels(&'a [u16]),
    /// Unsupervised with latent classes:
    /// `ℓ = −ln Σ_μ e^{a_μ} − KL(q ‖ q̄)`: the free energy of `v` (its
    /// negative log-likelihood up to the partition function, which the
    /// box-constrained memories leave nearly constant) pulls each memory
    /// to the samples it explains, and `−KL` against the mean `q̄`
    /// of `q` (the mutual information between `v` and the latent class,
    /// sign flipped; with `q̄` the minibatch mean, `mean_b KL(q_b ‖ q̄) =
    /// H(q̄) − mean_b H(q_b)` and `∂/∂q_b` is `ln q̄ − ln q_b` up to a
    /// constant) makes the latent classes confident and used.
    Latent {
        /// `q̄`, length `C`.
        marginal: &'a [f32],
    },
}

/// Quantities shared by every chunk of a minibatch.
#[derive(Debug, Clone)]
pub struct Shared {
    /// `p^μ_y`, `P × C`.
    pub weights: Vec<f32>,
    /// `p_h(μ)`.
    pub prior: Vec<f32>,
    /// `ln p_h(μ)`.
    pub log_prior: Vec<f32>,
    /// `q⁰_y = Σ_μ p_h(μ) p^μ_y`.
    pub q0: Vec<f32>,
    /// `ς`.
    pub smoothing: f32,
}

impl Shared {
    /// Derives them from the parameters.
    pub fn new(params: &Params, smoothing: f32) -> Self {
        let weights = params.class_weights();
        let prior = params.prior();
        let mut q0 = vec![0.0f32; params.c];
        for (row, &ph) in weights.chunks_exact(params.c).zip(&prior) {
            q0.iter_mut().zip(row).for_each(|(q, &p)| *q += ph * p);
        }
        Shared {
            weights,
            log_prior: params.log_prior(),
            prior,
            q0,
            smoothing,
        }
    }
}

/// The forward pass over `b` samples.
#[derive(Debug, Clone)]
pub struct Forward {
    /// Samples `b`.
    pub b: usize,
    /// Overlaps `w^μ·v_b`, `P × b`.
    pub overlaps: Vec<f32>,
    /// `π_μb`, `P × b`.
    pub pi: Vec<f32>,
    /// `q_by`, `b × C`.
    pub q: Vec<f32>,
    /// `ln Σ_μ e^{a_μb}`, length `b`.
    pub log_partition: Vec<f32>,
}

/// `p(y | v)` (with the smoothing `ς` of `shared`) for the `b × D` samples `v`.
pub fn forward(params: &Params, shared: &Shared, v: &[f32]) -> Forward {
    let (p, d, c) = (params.p, params.d, params.c);
    let b = v.len() / d;
    let mut overlaps = vec![0.0f32; p * b];
    gemm(
        Mat::rows(&params.w, p, d, d),
        Mat::transposed(v, d, b, d),
        &mut overlaps,
    );
    let scale = params.scale();
    let mut pi = vec![0.0f32; p * b];
    let mut max = vec![f32::NEG_INFINITY; b];
    for ((a, o), &lp) in pi
        .chunks_exact_mut(b)
        .zip(overlaps.chunks_exact(b))
        .zip(&shared.log_prior)
    {
        for ((a, &o), m) in a.iter_mut().zip(o).zip(max.iter_mut()) {
            *a = scale.mul_add(o, lp);
            *m = m.max(*a);
        }
    }
    let mut total = vec![0.0f32; b];
    for a in pi.chunks_exact_mut(b) {
        for ((a, &m), t) in a.iter_mut().zip(&max).zip(total.iter_mut()) {
            *a = (*a - m).exp();
            *t += *a;
        }
    }
    for a in pi.chunks_exact_mut(b) {
        a.iter_mut().zip(&total).for_each(|(a, &t)| *a /= t);
    }
    let mut q = vec![0.0f32; b * c];
    gemm(
        Mat::transposed(&pi, b, p, b),
        Mat::rows(&shared.weights, p, c, c),
        &mut q,
    );
    let keep = 1.0 - shared.smoothing;
    for row in q.chunks_exact_mut(c) {
        for (q, &q0) in row.iter_mut().zip(&shared.q0) {
            *q = keep.mul_add(*q, shared.smoothing * q0);
        }
    }
    let log_partition = max.iter().zip(&total).map(|(m, t)| m + t.ln()).collect();
    Forward {
        b,
        overlaps,
        pi,
        q,
        log_partition,
    }
}

/// Gradients (summed over the chunk) and statistics of one chunk.
#[derive(Debug, Clone, Default)]
pub struct Partial {
    /// `∂L/∂w`, `P × D`.
    pub w: Vec<f32>,
    /// `∂L/∂θ`, `P × C`.
    pub theta: Vec<f32>,
    /// `∂L/∂ρ`, `P`.
    pub rho: Vec<f32>,
    /// Summed loss.
    pub loss: f64,
    /// Samples whose `argmax q` is their label (supervised only).
    pub correct: usize,
}

/// What the splitting matrices of growth need from a chunk of samples.
#[derive(Debug, Clone)]
pub struct SplitTerms {
    /// `G_μb = ∂ℓ_b/∂a_μb`, `P × b`.
    pub logit: Vec<f32>,
    /// `π_μb`, `P × b`.
    pub pi: Vec<f32>,
    /// `∂ℓ_b/∂q_by`, `b × C`.
    pub dq: Vec<f32>,
}

/// The backward pass of the `b × D` samples `v` down to the logits and
/// `q`.
pub fn split_terms(params: &Params, shared: &Shared, v: &[f32], target: Target<'_>) -> SplitTerms {
    let bw = backward(params, shared, v, target);
    SplitTerms {
        logit: bw.big_g,
        pi: bw.fw.pi,
        dq: bw.g,
    }
}

/// The backward pass down to the logits.
struct Backward {
    fw: Forward,
    /// `∂ℓ/∂q`, `b × C`.
    g: Vec<f32>,
    /// `e`, `P × b`.
    e: Vec<f32>,
    /// `G`, `P × b`.
    big_g: Vec<f32>,
    stats: Partial,
}

fn backward(params: &Params, shared: &Shared, v: &[f32], target: Target<'_>) -> Backward {
    let (p, c) = (params.p, params.c);
    let fw = forward(params, shared, v);
    let b = fw.b;
    let mut out = Partial::default();
    // g = ∂ℓ/∂q, b × C.
    let mut g = vec![0.0f32; b * c];
    for (bi, (q, g)) in fw.q.chunks_exact(c).zip(g.chunks_exact_mut(c)).enumerate() {
        match target {
            Target::Labels(labels) => {
                let y = usize::from(labels[bi]);
                let qy = q[y].max(f32::MIN_POSITIVE);
                g[y] = -1.0 / qy;
                out.loss -= f64::from(qy.ln());
                out.correct += usize::from(argmax(q) == y);
            }
            Target::Latent { marginal } => {
                out.loss -= f64::from(fw.log_partition[bi]);
                for ((g, &q), &m) in g.iter_mut().zip(q).zip(marginal) {
                    let lq = q.max(f32::MIN_POSITIVE).ln();
                    let lm = m.max(f32::MIN_POSITIVE).ln();
                    *g = lm - lq;
                    out.loss -= f64::from(q * (lq - lm));
                }
            }
        }
    }
    // e = P · gᵀ (P × b); G_μb = (1 − ς) π_μb (e_μb − Σ_ν π_νb e_νb).
    let mut e = vec![0.0f32; p * b];
    gemm(
        Mat::rows(&shared.weights, p, c, c),
        Mat::transposed(&g, c, b, c),
        &mut e,
    );
    let mut mean_e = vec![0.0f32; b];
    for (pi, e) in fw.pi.chunks_exact(b).zip(e.chunks_exact(b)) {
        for ((m, &pi), &e) in mean_e.iter_mut().zip(pi).zip(e) {
            *m += pi * e;
        }
    }
    let keep = 1.0 - shared.smoothing;
    let mut big_g = vec![0.0f32; p * b];
    for ((gr, pi), e) in big_g
        .chunks_exact_mut(b)
        .zip(fw.pi.chunks_exact(b))
        .zip(e.chunks_exact(b))
    {
        for (((gr, &pi), &e), &m) in gr.iter_mut().zip(pi).zip(e).zip(&mean_e) {
            *gr = keep * pi * (e - m);
        }
    }
    if let Target::Latent { .. } = target {
        // The free energy's ∂/∂a_μb = −π_μb.
        big_g.iter_mut().zip(&fw.pi).for_each(|(g, &pi)| *g -= pi);
    }
    Backward {
        fw,
        g,
        e,
        big_g,
        stats: out,
    }
}

/// Forward and backward pass of the `b × D` samples `v` against `target`.
pub fn partial(params: &Params, shared: &Shared, v: &[f32], target: Target<'_>) -> Partial {
    let (p, d, c) = (params.p, params.d, params.c);
    let Backward {
        fw,
        g,
        e,
        big_g,
        stats: mut out,
    } = backward(params, shared, v, target);
    let b = fw.b;
    let keep = 1.0 - shared.smoothing;
    // ∂/∂w = (β/D) G · V.
    out.w = vec![0.0f32; p * d];
    gemm(
        Mat::rows(&big_g, p, b, b),
        Mat::rows(v, b, d, d),
        &mut out.w,
    );
    let scale = params.scale();
    out.w.iter_mut().for_each(|x| *x *= scale);
    // ∂/∂p^μ_y = (1 − ς)(π · g)_μy + ς p_h(μ) Σ_b g_by, then the softmax.
    let mut gp = vec![0.0f32; p * c];
    gemm(Mat::rows(&fw.pi, p, b, b), Mat::rows(&g, b, c, c), &mut gp);
    let mut g_sum = vec![0.0f32; c];
    for row in g.chunks_exact(c) {
        g_sum.iter_mut().zip(row).for_each(|(s, &x)| *s += x);
    }
    out.theta = vec![0.0f32; p * c];
    for (((t, gp), pw), &ph) in out
        .theta
        .chunks_exact_mut(c)
        .zip(gp.chunks_exact_mut(c))
        .zip(shared.weights.chunks_exact(c))
        .zip(&shared.prior)
    {
        for (gp, &gs) in gp.iter_mut().zip(&g_sum) {
            *gp = keep.mul_add(*gp, shared.smoothing * ph * gs);
        }
        let mean: f32 = gp.iter().zip(pw).map(|(g, p)| g * p).sum();
        for ((t, &gp), &pw) in t.iter_mut().zip(gp.iter()).zip(pw) {
            *t = pw * (gp - mean);
        }
    }
    // ∂/∂ρ: r_μ = Σ_b G_μb through ln p_h; E_μ = ς Σ_b e_μb through q⁰.
    let r: Vec<f32> = big_g.chunks_exact(b).map(|x| x.iter().sum()).collect();
    let big_e: Vec<f32> = e
        .chunks_exact(b)
        .map(|x| shared.smoothing * x.iter().sum::<f32>())
        .collect();
    let r_sum: f32 = r.iter().sum();
    let e_mean: f32 = big_e.iter().zip(&shared.prior).map(|(e, p)| e * p).sum();
    out.rho = r
        .iter()
        .zip(&big_e)
        .zip(&shared.prior)
        .map(|((&r, &e), &ph)| r - ph * r_sum + ph * (e - e_mean))
        .collect();
    out
}

/// The readouts of a batch: `argmax_y p(y | v)` and the 1-NN label (the
/// label `argmax_y p^μ_y` of the memory with the largest overlap).
pub fn predict(params: &Params, shared: &Shared, v: &[f32]) -> (Vec<usize>, Vec<usize>) {
    let fw = forward(params, shared, v);
    let b = fw.b;
    let posterior = fw.q.chunks_exact(params.c).map(argmax).collect();
    let mut best = vec![(0usize, f32::NEG_INFINITY); b];
    for (mu, o) in fw.overlaps.chunks_exact(b).enumerate() {
        for (best, &o) in best.iter_mut().zip(o) {
            if o > best.1 {
                *best = (mu, o);
            }
        }
    }
    let labels: Vec<usize> = shared.weights.chunks_exact(params.c).map(argmax).collect();
    let nearest = best.iter().map(|&(mu, _)| labels[mu]).collect();
    (posterior, nearest)
}

/// The index of the largest entry (the first of ties).
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in row.iter().enumerate() {
        if x > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn rand_vec(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(lo..hi)).collect()
    }

    fn params() -> Params {
        let (p, d, c) = (3, 5, 3);
        Params {
            p,
            d,
            c,
            beta: 6.0,
            w: rand_vec(p * d, 1, -1.0, 1.0),
            theta: rand_vec(p * c, 2, -2.0, 2.0),
            rho: rand_vec(p, 3, -1.0, 1.0),
        }
    }

    fn loss(params: &Params, smoothing: f32, v: &[f32], target: Target<'_>) -> f64 {
        partial(params, &Shared::new(params, smoothing), v, target).loss
    }

    /// The analytic gradient of every parameter equals central finite
    /// differences of the loss, for both targets, with and without `ς`.
    #[test]
    fn gradient_matches_finite_differences() {
        let v = rand_vec(7 * 5, 4, -1.0, 1.0);
        let labels = [0u16, 2, 1, 1, 0, 2, 2];
        let marginal = [0.5f32, 0.2, 0.3];
        for smoothing in [0.0, 0.3] {
            for target in [
                Target::Labels(&labels),
                Target::Latent {
                    marginal: &marginal,
                },
            ] {
                let base = params();
                let g = partial(&base, &Shared::new(&base, smoothing), &v, target);
                let h = 1e-2f32;
                type Field = fn(&mut Params) -> &mut Vec<f32>;
                let fields: [(Field, &Vec<f32>); 3] = [
                    (|p| &mut p.w, &g.w),
                    (|p| &mut p.theta, &g.theta),
                    (|p| &mut p.rho, &g.rho),
                ];
                for (field, analytic) in fields {
                    for (i, &a) in analytic.iter().enumerate() {
                        let (mut plus, mut minus) = (base.clone(), base.clone());
                        field(&mut plus)[i] += h;
                        field(&mut minus)[i] -= h;
                        let numeric = (loss(&plus, smoothing, &v, target)
                            - loss(&minus, smoothing, &v, target))
                            / (2.0 * f64::from(h));
                        let a = f64::from(a);
                        assert!(
                            (a - numeric).abs() < 2e-2 * numeric.abs().max(0.05),
                            "ς {smoothing} {target:?} entry {i}: analytic {a} numeric {numeric}"
                        );
                    }
                }
            }
        }
    }

    /// The batched readouts agree with `dam-core`'s `PottsClassifier` on the
    /// saved model.
    #[test]
    fn predictions_match_dam_core() {
        let params = params();
        let v = rand_vec(40 * 5, 5, -1.0, 1.0);
        let (post, near) = predict(&params, &Shared::new(&params, 0.0), &v);
        let bytes = crate::model_io::AlignedBytes::new(&params.encode().unwrap());
        let model = dam_core::model::Model::parse(bytes.as_bytes()).unwrap();
        let clf = model.potts::<f32>().unwrap();
        let (mut probs, mut scratch) = ([0.0f32; 3], [0.0f32; 3]);
        for (i, x) in v.chunks_exact(5).enumerate() {
            assert_eq!(clf.posterior(x, &mut probs, &mut scratch).unwrap(), post[i]);
            assert_eq!(clf.nearest_memory(x).unwrap().1, near[i]);
        }
        let back = Params::from_model(&model).unwrap();
        assert_eq!(back.w, params.w);
        assert!((back.beta - params.beta).abs() < 1e-5);
        let (p2, n2) = predict(&back, &Shared::new(&back, 0.0), &v);
        assert_eq!((p2, n2), (post, near));
    }
}
