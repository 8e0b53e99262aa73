//! \[McA\] autoassociative training of bipolar patterns (SPEC §4, last part).
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
    if d == 0 || patterns.is_empty() || patterns.len() % d != 0 {
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
/// (`−∂L/∂ξ` up to the factor `2m β/D`).
fn direction(xi: &[f32], patterns: &[f32], d: usize, cfg: &Config, g: &mut [f32]) -> f64 {
    let c = cfg.beta / d as f32;
    let k = xi.len() / d;
    g.fill(0.0);
    let mut loss = 0.0f64;
    let mut s = vec![0.0f32; d];
    let mut dp = vec![0.0f32; k * d];
    let mut dm = vec![0.0f32; k * d];
    for x in patterns.chunks_exact(d) {
        // The sums S_i and the F' factors, from one overlap per memory.
        s.fill(0.0);
        for (mu, mem) in xi.chunks_exact(d).enumerate() {
            let ov: f32 = mem.iter().zip(x).map(|(a, b)| a * b).sum();
            for (i, (&e, &xa)) in mem.iter().zip(x).enumerate() {
                let r = ov - e * xa;
                let (fp, dfp) = fd(&cfg.interaction, c * (r + e));
                let (fm, dfm) = fd(&cfg.interaction, c * (r - e));
                s[i] += fp - fm;
                dp[mu * d + i] = dfp;
                dm[mu * d + i] = dfm;
            }
        }
        let delta: Vec<f32> = s
            .iter()
            .zip(x)
            .map(|(&si, &t)| {
                let y = si.tanh();
                let e = t - y;
                let ep = e.powi(2 * cfg.m as i32 - 1);
                loss += f64::from(ep) * f64::from(e);
                ep * (1.0 - y * y)
            })
            .collect();
        for (mu, gm) in g.chunks_exact_mut(d).enumerate() {
            let (dp, dm) = (&dp[mu * d..][..d], &dm[mu * d..][..d]);
            let psum: f32 = (0..d).map(|i| delta[i] * (dp[i] - dm[i])).sum();
            for k in 0..d {
                let p = delta[k] * (dp[k] - dm[k]);
                let q = delta[k] * (dp[k] + dm[k]);
                gm[k] += x[k] * psum + q - p * x[k];
            }
        }
    }
    loss
}

/// `F(h)` and `F'(h)` in plain f32 (inside the normalized domain `|h| ≤ β`).
fn fd(f: &Interaction<f32>, h: f32) -> (f32, f32) {
    match (f.value(h), f.derivative(h)) {
        (Ok(v), Ok(d)) => (v, d),
        _ => (0.0, 0.0),
    }
}

/// The \[McA\] score: the mean fraction of bits by which sequential retrieval
/// (at most 50 sweeps) from each pattern ends away from it.
pub fn retrieval_error(memories: &[f32], patterns: &[f32], d: usize, cfg: &Config) -> Result<f64> {
    let view = MemoryView::new(memories, memories.len() / d.max(1), d)?;
    let net = BipolarMemory::new(view, cfg.interaction, Form::Normalized { beta: cfg.beta })?;
    let mut overlaps = vec![0.0f32; view.k()];
    let mut total = 0usize;
    let mut count = 0usize;
    for x in patterns.chunks_exact(d) {
        let mut state: Vec<i8> = x.iter().map(|&v| if v >= 0.0 { 1 } else { -1 }).collect();
        net.retrieve(&mut state, &mut overlaps, UpdateOrder::Sequential, 50)?;
        total += state
            .iter()
            .zip(x)
            .filter(|(s, v)| f32::from(**s) != **v)
            .count();
        count += d;
    }
    Ok(total as f64 / count.max(1) as f64)
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
            let mut g = vec![0.0f32; xi.len()];
            direction(&xi, &patterns, d, &cfg, &mut g);
            let mut scratch = g.clone();
            let h = 1e-2f32;
            for j in 0..xi.len() {
                let (mut a, mut b) = (xi.clone(), xi.clone());
                a[j] += h;
                b[j] -= h;
                let la = direction(&a, &patterns, d, &cfg, &mut scratch);
                let lb = direction(&b, &patterns, d, &cfg, &mut scratch);
                let numeric = -(la - lb) / (2.0 * f64::from(h)) / (2.0 * 2.0 / d as f64);
                let tol = 3e-2 * numeric.abs().max(1e-2);
                assert!(
                    (f64::from(g[j]) - numeric).abs() < tol,
                    "{j}: {} vs {numeric}",
                    g[j]
                );
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
