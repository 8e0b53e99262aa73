//! \[McA\] autoassociative training of bipolar patterns (math.md §4, last part).
//!
//! Every neuron `i` of every training pattern `ξ_a` is a target: with
//! `r = ξ^μ·ξ_a − ξ^μ_i ξ_{a,i}` (the overlap without neuron `i`),
//! `C_{a,i} = tanh(Σ_μ F(β(r + ξ^μ_i)/D) − F(β(r − ξ^μ_i)/D))`, the
//! normalized form (`β = 1/T`, so the argument is `(ξ·x)/(D T)` as in
//! \[McA\]). Loss `Σ (ξ_{a,i} − C_{a,i})^{2m}`, the same optimizer as \[KH16\]
//! (momentum, max-normalized steps, clipping to `[−1, 1]`), one full-batch
//! step per epoch. With `P = δ (F'₊ − F'₋)` and `Q = δ (F'₊ + F'₋)` the
//! descent direction is `g_μk = Σ_a ξ_{a,k} Σ_i P_μai + Σ_a (Q_μak − P_μak ξ_{a,k})`,
//! `O(K·A·D)` per step from one overlap per (memory, pattern).
//!
//! The score of \[McA\]: the mean fraction of bits by which retrieval from
//! each training pattern ends away from it (lower is better).

use anyhow::{Result, bail};
use dam_core::model::cast_interaction;
use dam_core::{BipolarMemory, Form, Interaction, MemoryView, UpdateOrder};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::optimizer::{Momentum, learning_rate};

/// Settings of autoassociative training.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Number of memories `K`.
    pub k: usize,
    /// `F`.
    pub interaction: Interaction<f32>,
    /// Normalized `β = 1/T` (\[McA\]'s good region: about 0.9 at `D = 100`).
    pub beta: f32,
    /// Loss exponent `m`.
    pub m: u32,
    /// Initial learning rate.
    pub eps0: f32,
    /// Learning-rate decay per epoch.
    pub decay: f32,
    /// Momentum.
    pub momentum: f32,
    /// Full-batch steps.
    pub epochs: usize,
    /// Standard deviation of the (zero-mean) initial memories.
    pub init_std: f32,
    /// Seed of the initial memories.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            k: 20,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            beta: 0.9,
            m: 2,
            eps0: 0.04,
            decay: 0.998,
            momentum: 0.6,
            epochs: 300,
            init_std: 0.1,
            seed: 0,
        }
    }
}

/// Trains `K` memories on `patterns` (`A × d`, entries `±1`); returns the
/// memories (`K × d`) and the loss after each epoch.
///
/// ```
/// use dam_std::train::mca::{Config, retrieval_error, train};
/// let patterns = dam_std::patterns::random_bipolar(10, 50, 1);
/// let cfg = Config { k: 10, beta: 5.0, epochs: 100, ..Config::default() };
/// let (xi, losses) = train(&patterns, 50, &cfg)?;
/// assert!(losses.last() < losses.first());
/// assert!(retrieval_error(&xi, &patterns, 50, &cfg)? < 0.05);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn train(patterns: &[f32], d: usize, cfg: &Config) -> Result<(Vec<f32>, Vec<f64>)> {
    if d == 0 || patterns.is_empty() || !patterns.len().is_multiple_of(d) {
        bail!(
            "patterns: {} entries do not split into rows of {d}",
            patterns.len()
        );
    }
    if let Some(i) = patterns.iter().position(|&x| x != 1.0 && x != -1.0) {
        bail!(
            "pattern {} holds {} at neuron {}: not ±1",
            i / d,
            patterns[i],
            i % d
        );
    }
    if cfg.k == 0 || !(cfg.beta.is_finite() && cfg.beta > 0.0) || cfg.m == 0 {
        bail!("need K ≥ 1, β > 0 and m ≥ 1");
    }
    cfg.interaction
        .validate()
        .map_err(|e| anyhow::anyhow!("interaction: {e}"))?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut xi: Vec<f32> = (0..cfg.k * d)
        .map(|_| cfg.init_std * rng.random_range(-1.0f32..1.0) * 1.732)
        .collect();
    let mut opt = Momentum::new(cfg.momentum, cfg.k, d);
    let mut losses = Vec::with_capacity(cfg.epochs);
    let mut g = vec![0.0f32; xi.len()];
    for epoch in 0..cfg.epochs {
        losses.push(direction(&xi, patterns, d, cfg, &mut g));
        opt.step(&mut xi, &g, learning_rate(cfg.eps0, cfg.decay, epoch));
    }
    Ok((xi, losses))
}

/// The loss of `xi` on `patterns`, and the descent direction in `g`
/// (`−∂L/∂ξ` up to the factor `2m β/D` and a power of two).
///
/// Computed in f64 and rescaled by a power of two so that its largest entry
/// lies in `[½, 1)`: at large `n` and `β ≤ 1` the factors `F'(h) ~ h^(n−1)`
/// of a fresh start (`h ≈ 10⁻²`) fall below f32's smallest number, which
/// froze every memory in f32. The optimizer normalizes each memory's step,
/// so only the direction matters.
fn direction(xi: &[f32], patterns: &[f32], d: usize, cfg: &Config, g: &mut [f32]) -> f64 {
    let (loss, g64) = gradient(xi, patterns, d, cfg);
    let max = g64.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let scale = if max > 0.0 && max.is_finite() {
        (-max.log2().floor() - 1.0).exp2()
    } else {
        1.0
    };
    for (g, v) in g.iter_mut().zip(&g64) {
        *g = (v * scale) as f32;
    }
    loss
}

/// The loss and `−∂L/∂ξ` up to the factor `2m β/D`, in f64.
fn gradient(xi: &[f32], patterns: &[f32], d: usize, cfg: &Config) -> (f64, Vec<f64>) {
    let c = f64::from(cfg.beta) / d as f64;
    let f = cast_interaction::<f32, f64>(cfg.interaction);
    let k = xi.len() / d;
    let mut g64 = vec![0.0f64; k * d];
    let mut loss = 0.0f64;
    let mut s = vec![0.0f64; d];
    let mut dp = vec![0.0f64; k * d];
    let mut dm = vec![0.0f64; k * d];
    for x in patterns.chunks_exact(d) {
        // The sums S_i and the F' factors, from one overlap per memory.
        s.fill(0.0);
        for ((mem, dp), dm) in xi
            .chunks_exact(d)
            .zip(dp.chunks_exact_mut(d))
            .zip(dm.chunks_exact_mut(d))
        {
            let ov: f64 = mem.iter().zip(x).map(|(&a, &b)| f64::from(a * b)).sum();
            for ((((&e, &xa), si), dp), dm) in mem.iter().zip(x).zip(&mut s).zip(dp).zip(dm) {
                let (e, xa) = (f64::from(e), f64::from(xa));
                let r = ov - e * xa;
                let (fp, dfp) = fd(&f, c * (r + e));
                let (fm, dfm) = fd(&f, c * (r - e));
                *si += fp - fm;
                *dp = dfp;
                *dm = dfm;
            }
        }
        let delta: Vec<f64> = s
            .iter()
            .zip(x)
            .map(|(&si, &t)| {
                let y = si.tanh();
                let e = f64::from(t) - y;
                let ep = e.powi(2 * cfg.m as i32 - 1);
                loss += ep * e;
                ep * (1.0 - y * y)
            })
            .collect();
        for ((gm, dp), dm) in g64
            .chunks_exact_mut(d)
            .zip(dp.chunks_exact(d))
            .zip(dm.chunks_exact(d))
        {
            let psum: f64 = delta
                .iter()
                .zip(dp.iter().zip(dm))
                .map(|(de, (p, m))| de * (p - m))
                .sum();
            for ((((g, &de), &p), &m), &xk) in gm.iter_mut().zip(&delta).zip(dp).zip(dm).zip(x) {
                let xk = f64::from(xk);
                *g += xk * psum + de * (p + m) - de * (p - m) * xk;
            }
        }
    }
    (loss, g64)
}

/// `F(h)` and `F'(h)` in f64, from one power (0 where `F` is not finite).
fn fd(f: &Interaction<f64>, h: f64) -> (f64, f64) {
    let power = |n: u32| {
        let p = h.powi(n.saturating_sub(1) as i32);
        (p * h, f64::from(n) * p)
    };
    let (v, dv) = match *f {
        Interaction::Polynomial { n } => power(n),
        Interaction::RectifiedPolynomial { n } if h >= 0.0 => power(n),
        Interaction::RectifiedPolynomial { .. } => (0.0, 0.0),
        Interaction::LeakyRectifiedPolynomial { n, .. } if h >= 0.0 => power(n),
        Interaction::LeakyRectifiedPolynomial { leak, .. } => (leak * h, leak),
        Interaction::Exponential => (h.exp(), h.exp()),
        // An F of a newer dam-core: its own definition (an overflow gives a
        // non-finite value, handled below).
        _ => (
            f.value(h).unwrap_or(f64::NAN),
            f.derivative(h).unwrap_or(f64::NAN),
        ),
    };
    if v.is_finite() && dv.is_finite() {
        (v, dv)
    } else {
        (0.0, 0.0)
    }
}

/// The \[McA\] score: the mean fraction of bits by which sequential retrieval
/// (at most 50 sweeps) from each pattern ends away from it.
pub fn retrieval_error(memories: &[f32], patterns: &[f32], d: usize, cfg: &Config) -> Result<f64> {
    let flips = relaxation_flips(memories, patterns, d, cfg)?;
    let total: usize = flips.iter().sum();
    Ok(total as f64 / (flips.len() * d).max(1) as f64)
}

/// For each pattern, the number of bits by which the state that sequential
/// retrieval (at most 50 sweeps) relaxes it to differs from it; \[McA\]'s
/// Euclidean distance is `2 √flips`.
pub fn relaxation_flips(
    memories: &[f32],
    patterns: &[f32],
    d: usize,
    cfg: &Config,
) -> Result<Vec<usize>> {
    let view = MemoryView::new(memories, memories.len() / d.max(1), d)?;
    let net = BipolarMemory::new(view, cfg.interaction, Form::Normalized { beta: cfg.beta })?;
    let mut overlaps = vec![0.0f32; view.k()];
    let mut flips = Vec::with_capacity(patterns.len() / d.max(1));
    for x in patterns.chunks_exact(d) {
        let mut state: Vec<i8> = x.iter().map(|&v| if v >= 0.0 { 1 } else { -1 }).collect();
        net.retrieve(&mut state, &mut overlaps, UpdateOrder::Sequential, 50)?;
        flips.push(
            state
                .iter()
                .zip(x)
                .filter(|(s, v)| f32::from(**s) != **v)
                .count(),
        );
    }
    Ok(flips)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of the loss agree with the descent direction
    /// (up to the dropped factor 2m·β/D), for two families of `F`.
    #[test]
    fn gradient_matches_finite_differences() {
        let d = 6;
        let patterns = crate::patterns::random_bipolar(3, d, 5);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let xi: Vec<f32> = (0..2 * d).map(|_| rng.random_range(-0.9f32..0.9)).collect();
        for interaction in [Interaction::Polynomial { n: 3 }, Interaction::leaky(2)] {
            let cfg = Config {
                k: 2,
                m: 1,
                beta: 2.0,
                interaction,
                ..Config::default()
            };
            let (_, g) = gradient(&xi, &patterns, d, &cfg);
            let h = 1e-2f32;
            for j in 0..xi.len() {
                let (mut a, mut b) = (xi.clone(), xi.clone());
                a[j] += h;
                b[j] -= h;
                let la = gradient(&a, &patterns, d, &cfg).0;
                let lb = gradient(&b, &patterns, d, &cfg).0;
                let numeric = -(la - lb) / (2.0 * f64::from(h)) / (2.0 * 2.0 / d as f64);
                let tol = 3e-2 * numeric.abs().max(1e-2);
                assert!((g[j] - numeric).abs() < tol, "{j}: {} vs {numeric}", g[j]);
            }
        }
    }

    #[test]
    fn training_lowers_the_retrieval_error() {
        let d = 100;
        let patterns = crate::patterns::random_bipolar(20, d, 7);
        // Measured: error 0.0 after 200 epochs (n = 3, β = 5); at β = 0.9
        // the rectified units die (every overlap negative) and at n ≥ 10
        // several memories collapse onto the same pattern (BENCHMARKS.md).
        let cfg = Config {
            k: 20,
            interaction: Interaction::RectifiedPolynomial { n: 3 },
            beta: 5.0,
            epochs: 200,
            ..Config::default()
        };
        let untrained = Config {
            epochs: 0,
            ..cfg.clone()
        };
        let (x0, _) = train(&patterns, d, &untrained).unwrap();
        let (x1, losses) = train(&patterns, d, &cfg).unwrap();
        let before = retrieval_error(&x0, &patterns, d, &cfg).unwrap();
        let after = retrieval_error(&x1, &patterns, d, &cfg).unwrap();
        assert!(losses[losses.len() - 1] < losses[0]);
        println!("retrieval error before {before}, after {after}");
        assert!(
            after < 0.01 && before > 0.1,
            "before {before}, after {after}"
        );
    }

    #[test]
    fn rejects_non_bipolar_patterns() {
        let err = train(&[1.0, 0.5, -1.0, 1.0], 2, &Config::default()).unwrap_err();
        assert!(err.to_string().contains("0.5"));
    }
}
