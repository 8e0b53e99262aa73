//! The optimizer of the \[KH16\] notebook (math.md §4): momentum, a step
//! normalized per memory by its largest entry, clipping to `[−1, 1]`, and an
//! exponentially decaying learning rate.

use rayon::prelude::*;

/// The floor on `max_i |V_μ,i|` (the notebook's `1e-30`).
pub const MAX_FLOOR: f32 = 1e-30;

/// Momentum with per-memory max-normalized steps.
///
/// ```
/// use dam_std::train::optimizer::Momentum;
/// let mut opt = Momentum::new(0.6, 2, 2);
/// let mut xi = [0.0f32, 0.0, 0.9, 0.9];
/// opt.step(&mut xi, &[2.0, -1.0, 0.5, 0.0], 0.5);
/// // Row 0: V = (2, −1), max 2: step (0.5, −0.25). Row 1: clipped at 1.
/// assert_eq!(xi, [0.5, -0.25, 1.0, 0.9]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Momentum {
    /// The momentum `p`.
    pub p: f32,
    /// The velocity `V`, `K × D` row-major.
    pub velocity: Vec<f32>,
    /// `D`.
    pub d: usize,
}

impl Momentum {
    /// Zero velocity for `k` memories of dimension `d`.
    pub fn new(p: f32, k: usize, d: usize) -> Self {
        Momentum {
            p,
            velocity: vec![0.0; k * d],
            d,
        }
    }

    /// `V ← pV + g`, then `ξ_μ ← clip(ξ_μ + ε V_μ / max(max_i |V_μ,i|, 1e-30), −1, 1)`.
    pub fn step(&mut self, xi: &mut [f32], g: &[f32], eps: f32) {
        self.step_then(xi, g, eps, true);
    }

    /// [`Momentum::step`] with `g` the sum of the gradients `parts` (one
    /// after another, `K × D` each), added entry by entry in their order:
    /// the same bits as summing them first, one pass over memory less.
    ///
    /// ```
    /// use dam_std::train::optimizer::Momentum;
    /// let (mut a, mut b) = (Momentum::new(0.6, 1, 2), Momentum::new(0.6, 1, 2));
    /// let (mut xa, mut xb) = ([0.1f32, 0.2], [0.1f32, 0.2]);
    /// a.step_sum(&mut xa, &[2.0, -1.0, 0.5, 0.25], 0.5);
    /// b.step(&mut xb, &[2.5, -0.75], 0.5);
    /// assert_eq!(xa, xb);
    /// ```
    pub fn step_sum(&mut self, xi: &mut [f32], parts: &[f32], eps: f32) {
        self.step_then(xi, parts, eps, true);
    }

    /// The same step without the clip, for callers that project onto
    /// another constraint set afterwards.
    ///
    /// ```
    /// use dam_std::train::optimizer::Momentum;
    /// let mut opt = Momentum::new(0.6, 1, 2);
    /// let mut xi = [0.9f32, 0.0];
    /// opt.step_unclipped(&mut xi, &[2.0, -1.0], 0.5);
    /// assert_eq!(xi, [1.4, -0.25]);
    /// ```
    pub fn step_unclipped(&mut self, xi: &mut [f32], g: &[f32], eps: f32) {
        self.step_then(xi, g, eps, false);
    }

    /// The step, one memory (row of `d` entries) per parallel task: each
    /// row's arithmetic is the same in any thread, so the result does not
    /// depend on the number of threads. `parts`: one or more gradients
    /// (`xi.len()` entries each) whose sum is the step's; `clip`: clip the
    /// new entries to `[−1, 1]` in the same pass.
    fn step_then(&mut self, xi: &mut [f32], parts: &[f32], eps: f32, clip: bool) {
        let (d, p, kd) = (self.d.max(1), self.p, xi.len());
        if kd == 0 {
            return;
        }
        xi.par_chunks_exact_mut(d)
            .zip(self.velocity.par_chunks_exact_mut(d))
            .enumerate()
            .with_min_len(8)
            .for_each_init(Vec::new, |g, (mu, (x, v))| {
                g.resize(d, 0.0);
                dam_core::simd::vectorized(Row {
                    x,
                    v,
                    g,
                    parts,
                    kd,
                    at: mu * d,
                    p,
                    eps,
                    clip,
                })
            });
    }
}

/// Lanes of [`Row`]'s running maximum.
const MAX_LANES: usize = 16;

/// One memory's step (see [`Momentum::step_sum`]); `g` is scratch of the
/// row's length.
struct Row<'a> {
    x: &'a mut [f32],
    v: &'a mut [f32],
    g: &'a mut [f32],
    parts: &'a [f32],
    kd: usize,
    at: usize,
    p: f32,
    eps: f32,
    clip: bool,
}

impl dam_core::simd::Vectorized for Row<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let Row {
            x,
            v,
            g,
            parts,
            kd,
            at,
            p,
            eps,
            clip,
        } = self;
        let d = x.len();
        for (i, part) in parts.chunks_exact(kd).enumerate() {
            let part = &part[at..at + d];
            if i == 0 {
                g.copy_from_slice(part);
            } else {
                for (g, &q) in g.iter_mut().zip(part) {
                    *g += q;
                }
            }
        }
        // V ← pV + g and max |V| in lanes (a maximum is exact in any order).
        let mut lanes = [0.0f32; MAX_LANES];
        let (vb, vr) = v.as_chunks_mut::<MAX_LANES>();
        let (gb, gr) = g.as_chunks::<MAX_LANES>();
        for (vb, gb) in vb.iter_mut().zip(gb) {
            for l in 0..MAX_LANES {
                vb[l] = p * vb[l] + gb[l];
                lanes[l] = lanes[l].max(vb[l].abs());
            }
        }
        for ((v, &g), m) in vr.iter_mut().zip(gr).zip(lanes.iter_mut()) {
            *v = p * *v + g;
            *m = m.max(v.abs());
        }
        let mut max = 0.0f32;
        for m in lanes {
            max = max.max(m);
        }
        let scale = eps / max.max(MAX_FLOOR);
        for (x, &v) in x.iter_mut().zip(v.iter()) {
            let y = *x + scale * v;
            *x = if clip { y.clamp(-1.0, 1.0) } else { y };
        }
    }
}

/// The learning rate of epoch `epoch` (from 0): `ε0 · f^epoch`.
///
/// ```
/// assert_eq!(dam_std::train::optimizer::learning_rate(0.04, 0.5, 2), 0.01);
/// ```
pub fn learning_rate(eps0: f32, decay: f32, epoch: usize) -> f32 {
    eps0 * decay.powi(epoch.min(i32::MAX as usize) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The step written out entry by entry (the notebook's formula).
    fn reference(p: f32, v: &mut [f32], xi: &mut [f32], g: &[f32], d: usize, eps: f32) {
        for ((x, v), g) in xi.chunks_mut(d).zip(v.chunks_mut(d)).zip(g.chunks(d)) {
            let mut max = 0.0f32;
            for (v, &g) in v.iter_mut().zip(g) {
                *v = p * *v + g;
                max = max.max(v.abs());
            }
            let scale = eps / max.max(MAX_FLOOR);
            for (x, &v) in x.iter_mut().zip(v.iter()) {
                *x = (*x + scale * v).clamp(-1.0, 1.0);
            }
        }
    }

    #[test]
    fn summed_step_is_the_literal_one_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for (k, d, parts) in [(3, 5, 1), (7, 33, 4), (20, 794, 8), (1, 16, 2)] {
            let xi0: Vec<f32> = (0..k * d).map(|_| rng.random_range(-1.0..1.0)).collect();
            let v0: Vec<f32> = (0..k * d).map(|_| rng.random_range(-0.1..0.1)).collect();
            let ps: Vec<f32> = (0..parts * k * d)
                .map(|_| rng.random_range(-3.0..3.0))
                .collect();
            let mut g = ps[..k * d].to_vec();
            for part in ps.chunks_exact(k * d).skip(1) {
                g.iter_mut().zip(part).for_each(|(g, &x)| *g += x);
            }
            let mut opt = Momentum::new(0.6, k, d);
            opt.velocity.copy_from_slice(&v0);
            let mut xi = xi0.clone();
            opt.step_sum(&mut xi, &ps, 0.04);
            let (mut v_ref, mut xi_ref) = (v0.clone(), xi0.clone());
            reference(0.6, &mut v_ref, &mut xi_ref, &g, d, 0.04);
            let bits = |x: &[f32]| x.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&xi), bits(&xi_ref), "k {k} d {d} parts {parts}");
            assert_eq!(bits(&opt.velocity), bits(&v_ref));
        }
    }
}
