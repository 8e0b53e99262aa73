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
        self.step_then(xi, g, eps, |x| x.clamp(-1.0, 1.0));
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
        self.step_then(xi, g, eps, |x| x);
    }

    /// The step, with `bound` applied to every new entry in the same pass.
    /// The step, one memory (row of `d` entries) per parallel task: each
    /// row's arithmetic is the same in any thread, so the result does not
    /// depend on the number of threads.
    #[inline(always)]
    fn step_then(
        &mut self,
        xi: &mut [f32],
        g: &[f32],
        eps: f32,
        bound: impl Fn(f32) -> f32 + Sync,
    ) {
        let (d, p) = (self.d.max(1), self.p);
        xi.par_chunks_exact_mut(d)
            .zip(self.velocity.par_chunks_exact_mut(d))
            .zip(g.par_chunks_exact(d))
            .with_min_len(8)
            .for_each(|((x, v), g)| {
                let mut max = 0.0f32;
                for (v, &g) in v.iter_mut().zip(g) {
                    *v = p * *v + g;
                    max = max.max(v.abs());
                }
                let scale = eps / max.max(MAX_FLOOR);
                for (x, &v) in x.iter_mut().zip(v.iter()) {
                    *x = bound(*x + scale * v);
                }
            });
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
