//! The saddle hierarchy and growth by splitting \[TT\] (math.md §7).
//!
//! Duplicating every hidden state of a trained network (copies share the
//! original's prior mass, [`Params::duplicated`]) gives a network of twice
//! the size computing the same `p(y | v)`, hence a stationary point of the
//! larger loss when the smaller one was stationary. Moving the copies of
//! `w^μ` apart by `±δ u` changes their joint logit by
//! `ln cosh((β/D) δ u·v) ≈ ((β/D) δ u·v)²/2`, so to second order the loss
//! changes by `(β/D)² δ²/2 · uᵀ S_μ u` with the *splitting matrix*
//! `S_μ = Σ_b G_μb v_b v_bᵀ` (`G_μb = ∂ℓ_b/∂a_μb`): a negative eigenvalue of
//! any `S_μ` is a direction of negative curvature of the duplicated point,
//! which is then a saddle. [`split_directions`] finds each `S_μ`'s lowest
//! eigenvector by shifted power iteration on a subsample;
//! [`hessian_min_eigenvalue`] measures the whole Hessian's lowest eigenvalue
//! (power iteration on finite-difference Hessian-vector products) to check
//! it. [`grow`] trains `P = 1, 2, 4, …, P_max` this way.

use std::time::Instant;

use anyhow::Result;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::batch::{self, Shared};
use super::params::Params;
use super::train::{self, Accuracy, Config, Constraint, Samples, Task, Trainer, evaluate};
use crate::data::mnist::Split;
use crate::train::kh16::CHUNK;
use crate::train::overlaps::{Mat, gemm};

/// The lowest eigenvector of each hidden state's splitting matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    /// Unit directions `z_μ = (u_μ, t_μ)`: `P × D` memory parts ...
    pub memories: Vec<f32>,
    /// ... and `P × C` class-logit parts.
    pub logits: Vec<f32>,
    /// Their Rayleigh quotients `z_μᵀ M_μ z_μ / n` (mean over the
    /// samples): negative means splitting `μ` along `z_μ` lowers the loss.
    pub curvature: Vec<f32>,
    /// Memory-sample operations spent (`(rounds + 1) × samples × P`).
    pub ops: u64,
}

/// One chunk's samples and the terms of [`batch::split_terms`], with
/// `e = P·gᵀ`.
struct Chunk {
    v: Vec<f32>,
    terms: batch::SplitTerms,
    e: Vec<f32>,
}

/// Shifted power iteration, for all hidden states at once, on the
/// splitting matrices `M_μ` over the samples `idx` (`rounds` rounds, seeded
/// start). See the module docs and `docs/potts.md` for `M_μ`.
pub fn split_directions(
    trainer: &Trainer,
    data: &Split,
    idx: &[usize],
    rounds: usize,
    seed: u64,
) -> Splits {
    let params = &trainer.params;
    let (p, d, c) = (params.p, params.d, params.c);
    let smoothing = trainer.config.smoothing;
    let shared = Shared::new(params, smoothing);
    let chunks: Vec<Chunk> = idx
        .par_chunks(CHUNK)
        .map(|idx| {
            let samples = Samples::gather(data, idx);
            let target = samples.target(trainer.task, &trainer.marginal);
            let terms = batch::split_terms(params, &shared, &samples.v, target);
            let v = samples.v;
            let b = idx.len();
            let mut e = vec![0.0f32; p * b];
            gemm(
                Mat::rows(&shared.weights, p, c, c),
                Mat::transposed(&terms.dq, c, b, c),
                &mut e,
            );
            Chunk { v, terms, e }
        })
        .collect();
    let scale = params.scale();
    let (a, k) = (0.5 * scale * scale, 0.5 * scale * (1.0 - smoothing));
    // Shift: a bound on each ‖M_μ‖, so shift·I − M_μ is positive
    // semi-definite and its top eigenvector is M_μ's lowest.
    let mut shift = vec![0.0f32; p];
    for ch in &chunks {
        let b = ch.v.len() / d;
        let norms: Vec<f32> =
            ch.v.chunks_exact(d)
                .map(|x| x.iter().map(|a| a * a).sum())
                .collect();
        for (mu, s) in shift.iter_mut().enumerate() {
            let pw = &shared.weights[mu * c..][..c];
            for (bi, &norm) in norms.iter().enumerate() {
                let (g, pi) = (ch.terms.logit[mu * b + bi], ch.terms.pi[mu * b + bi]);
                let gq = &ch.terms.dq[bi * c..][..c];
                let mean: f32 = pw.iter().zip(gq).map(|(p, g)| p * g).sum();
                let jg: f32 = pw
                    .iter()
                    .zip(gq)
                    .map(|(p, g)| (p * (g - mean)).powi(2))
                    .sum();
                *s += a * g.abs() * norm + 2.0 * k * pi * norm.sqrt() * jg.sqrt();
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut u: Vec<f32> = (0..p * d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let mut t: Vec<f32> = (0..p * c).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    normalize_pairs(&mut u, &mut t, d, c);
    let (mut mu_u, mut mu_t) = (vec![0.0f32; p * d], vec![0.0f32; p * c]);
    for round in 0..=rounds {
        apply_splitting(
            &chunks,
            &shared.weights,
            (a, k),
            &u,
            &t,
            (p, d, c),
            &mut mu_u,
            &mut mu_t,
        );
        if round == rounds {
            break;
        }
        for (mu, &s) in shift.iter().enumerate() {
            let shifted = |x: &mut [f32], mx: &[f32]| {
                x.iter_mut().zip(mx).for_each(|(x, &y)| *x = s * *x - y);
            };
            shifted(&mut u[mu * d..][..d], &mu_u[mu * d..][..d]);
            shifted(&mut t[mu * c..][..c], &mu_t[mu * c..][..c]);
        }
        normalize_pairs(&mut u, &mut t, d, c);
    }
    let n = idx.len().max(1) as f32;
    let curvature = (0..p)
        .map(|mu| {
            let du: f32 = u[mu * d..][..d]
                .iter()
                .zip(&mu_u[mu * d..][..d])
                .map(|(a, b)| a * b)
                .sum();
            let dt: f32 = t[mu * c..][..c]
                .iter()
                .zip(&mu_t[mu * c..][..c])
                .map(|(a, b)| a * b)
                .sum();
            (du + dt) / n
        })
        .collect();
    Splits {
        memories: u,
        logits: t,
        curvature,
        ops: ((rounds + 1) * idx.len() * p) as u64,
    }
}

/// `(M_μ z_μ)` for every `μ`, summed over the chunks:
/// memory part `Σ_b (a G_μb (u_μ·v_b) + k π_μb s_μb) v_b`, class-logit part
/// `k J_μ Σ_b π_μb (u_μ·v_b) g_b`, with `s_μb = (J_μ g_b)·t_μ` and
/// `J_μ x = p^μ ∘ (x − p^μ·x)`.
#[allow(clippy::too_many_arguments)]
fn apply_splitting(
    chunks: &[Chunk],
    weights: &[f32],
    (a, k): (f32, f32),
    u: &[f32],
    t: &[f32],
    (p, d, c): (usize, usize, usize),
    out_u: &mut [f32],
    out_t: &mut [f32],
) {
    let pt: Vec<f32> = weights.iter().zip(t).map(|(p, t)| p * t).collect();
    let p_dot_t: Vec<f32> = pt.chunks_exact(c).map(|r| r.iter().sum()).collect();
    let parts: Vec<(Vec<f32>, Vec<f32>)> = chunks
        .par_iter()
        .map(|ch| {
            let b = ch.v.len() / d;
            let mut proj = vec![0.0f32; p * b];
            gemm(
                Mat::rows(u, p, d, d),
                Mat::transposed(&ch.v, d, b, d),
                &mut proj,
            );
            let mut s = vec![0.0f32; p * b];
            gemm(
                Mat::rows(&pt, p, c, c),
                Mat::transposed(&ch.terms.dq, c, b, c),
                &mut s,
            );
            let mut coef = vec![0.0f32; p * b];
            let mut pi_proj = vec![0.0f32; p * b];
            for (mu, &pt_mu) in p_dot_t.iter().enumerate() {
                for bi in 0..b {
                    let i = mu * b + bi;
                    let s_mb = s[i] - ch.e[i] * pt_mu;
                    coef[i] = a * ch.terms.logit[i] * proj[i] + k * ch.terms.pi[i] * s_mb;
                    pi_proj[i] = ch.terms.pi[i] * proj[i];
                }
            }
            let mut yu = vec![0.0f32; p * d];
            gemm(
                Mat::rows(&coef, p, b, b),
                Mat::rows(&ch.v, b, d, d),
                &mut yu,
            );
            let mut r = vec![0.0f32; p * c];
            gemm(
                Mat::rows(&pi_proj, p, b, b),
                Mat::rows(&ch.terms.dq, b, c, c),
                &mut r,
            );
            (yu, r)
        })
        .collect();
    out_u.fill(0.0);
    let mut r = vec![0.0f32; p * c];
    for (yu, yr) in &parts {
        out_u.iter_mut().zip(yu).for_each(|(o, y)| *o += y);
        r.iter_mut().zip(yr).for_each(|(o, y)| *o += y);
    }
    for ((o, r), pw) in out_t
        .chunks_exact_mut(c)
        .zip(r.chunks_exact(c))
        .zip(weights.chunks_exact(c))
    {
        let mean: f32 = pw.iter().zip(r).map(|(p, r)| p * r).sum();
        for ((o, &r), &p) in o.iter_mut().zip(r).zip(pw) {
            *o = k * p * (r - mean);
        }
    }
}

/// Scales each `(u_μ, t_μ)` to unit length.
fn normalize_pairs(u: &mut [f32], t: &mut [f32], d: usize, c: usize) {
    for (u, t) in u.chunks_exact_mut(d).zip(t.chunks_exact_mut(c)) {
        let n = u
            .iter()
            .chain(t.iter())
            .map(|a| a * a)
            .sum::<f32>()
            .sqrt()
            .max(1e-30);
        u.iter_mut().chain(t.iter_mut()).for_each(|a| *a /= n);
    }
}

/// Duplicates every hidden state and moves the copies apart along the
/// splitting directions: `w^μ ± δ u_μ` (projected back onto `constraint`)
/// and `θ^μ ± δ t_μ`.
pub fn split(params: &Params, splits: &Splits, delta: f32, constraint: Constraint) -> Params {
    let mut out = params.duplicated();
    let apart = |x: &mut Vec<f32>, dir: &[f32]| {
        let (first, second) = x.split_at_mut(dir.len());
        for ((a, b), &u) in first.iter_mut().zip(second.iter_mut()).zip(dir) {
            (*a, *b) = (*a + delta * u, *b - delta * u);
        }
    };
    apart(&mut out.w, &splits.memories);
    constraint.project(&mut out.w, out.d);
    apart(&mut out.theta, &splits.logits);
    out
}

/// The mean loss's gradient with respect to the memories and the class
/// logits (and the prior logits if `with_prior`), flattened.
fn flat_gradient(
    params: &Params,
    smoothing: f32,
    task: Task,
    marginal: &[f32],
    data: &Split,
    idx: &[usize],
    with_prior: bool,
) -> Vec<f64> {
    let g = train::gradient(
        params,
        smoothing,
        task,
        marginal,
        data,
        idx,
        crate::train::augment::Draw::PLAIN,
    );
    let n = idx.len().max(1) as f64;
    let mut out: Vec<f64> =
        g.w.iter()
            .chain(&g.theta)
            .map(|&x| f64::from(x) / n)
            .collect();
    if with_prior {
        out.extend(g.rho.iter().map(|&x| f64::from(x) / n));
    }
    out
}

fn moved(params: &Params, u: &[f64], h: f64) -> Params {
    let mut out = params.clone();
    let (pw, pt) = (out.w.len(), out.theta.len());
    for (x, &u) in out.w.iter_mut().zip(u) {
        *x += (h * u) as f32;
    }
    for (x, &u) in out.theta.iter_mut().zip(&u[pw..]) {
        *x += (h * u) as f32;
    }
    for (x, &u) in out.rho.iter_mut().zip(u.get(pw + pt..).unwrap_or(&[])) {
        *x += (h * u) as f32;
    }
    out
}

/// Settings of a Hessian measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HessianProbe {
    /// Power-iteration rounds (each two gradient evaluations).
    pub iterations: usize,
    /// Finite-difference step.
    pub step: f64,
    /// Include the prior logits.
    pub with_prior: bool,
    /// Seed of the start vector.
    pub seed: u64,
}

impl Default for HessianProbe {
    fn default() -> Self {
        HessianProbe {
            iterations: 60,
            step: 1e-2,
            with_prior: false,
            seed: 0,
        }
    }
}

/// `Hu` by central differences of the mean gradient over `idx`.
#[allow(clippy::too_many_arguments)]
fn hvp(
    params: &Params,
    smoothing: f32,
    task: Task,
    marginal: &[f32],
    data: &Split,
    idx: &[usize],
    probe: &HessianProbe,
    u: &[f64],
) -> Vec<f64> {
    let grad = |h: f64| {
        flat_gradient(
            &moved(params, u, h),
            smoothing,
            task,
            marginal,
            data,
            idx,
            probe.with_prior,
        )
    };
    let (plus, minus) = (grad(probe.step), grad(-probe.step));
    plus.iter()
        .zip(&minus)
        .map(|(a, b)| (a - b) / (2.0 * probe.step))
        .collect()
}

/// `uᵀHu / uᵀu` of the mean loss over `idx` along `u` (memories, class
/// logits, then prior logits if `probe.with_prior`).
#[allow(clippy::too_many_arguments)]
pub fn curvature_along(
    params: &Params,
    smoothing: f32,
    task: Task,
    marginal: &[f32],
    data: &Split,
    idx: &[usize],
    probe: &HessianProbe,
    u: &[f64],
) -> f64 {
    let hu = hvp(params, smoothing, task, marginal, data, idx, probe, u);
    dot(u, &hu) / dot(u, u).max(1e-300)
}

/// The lowest eigenvalue of the Hessian of the mean loss over `idx`
/// (memories and class logits, and prior logits if asked), by power
/// iteration: first on `H` for the largest magnitude `λ`, then on
/// `|λ| I − H`. Returns the final Rayleigh quotient, an upper bound on the
/// lowest eigenvalue (so a negative value proves negative curvature).
pub fn hessian_min_eigenvalue(
    params: &Params,
    smoothing: f32,
    task: Task,
    marginal: &[f32],
    data: &Split,
    idx: &[usize],
    probe: &HessianProbe,
) -> f64 {
    let n = params.w.len() + params.theta.len() + if probe.with_prior { params.p } else { 0 };
    let mut rng = ChaCha8Rng::seed_from_u64(probe.seed);
    let mut u: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let h = |u: &[f64]| hvp(params, smoothing, task, marginal, data, idx, probe, u);
    let norm = |u: &mut Vec<f64>| {
        let s = dot(u, u).sqrt().max(1e-300);
        u.iter_mut().for_each(|x| *x /= s);
    };
    norm(&mut u);
    let rounds = probe.iterations / 3;
    let mut big = 0.0f64;
    for _ in 0..rounds.max(1) {
        let mut hu = h(&u);
        big = dot(&u, &hu).abs().max(dot(&hu, &hu).sqrt());
        norm(&mut hu);
        u = hu;
    }
    let shift = 1.05 * big;
    let mut v: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    norm(&mut v);
    let mut rayleigh = f64::INFINITY;
    for _ in 0..probe.iterations.saturating_sub(rounds).max(1) {
        let hv = h(&v);
        rayleigh = rayleigh.min(dot(&v, &hv));
        let mut next: Vec<f64> = v.iter().zip(&hv).map(|(a, b)| shift * a - b).collect();
        norm(&mut next);
        v = next;
    }
    rayleigh
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Growth settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GrowthConfig {
    /// Training settings of every stage (`p` is ignored).
    pub train: Config,
    /// The final size (a power of two is reached exactly; otherwise the
    /// last doubling stops at the first power of two `≥ P_max`).
    pub p_max: usize,
    /// Epochs at each size below `P_max`.
    pub stage_epochs: usize,
    /// Epochs at `P_max`.
    pub final_epochs: usize,
    /// The split distance `δ` (entries are in `[−1, 1]`).
    pub delta: f32,
    /// Samples for the splitting matrices.
    pub split_samples: usize,
    /// Power-iteration rounds for the splitting directions.
    pub split_iterations: usize,
}

impl Default for GrowthConfig {
    fn default() -> Self {
        GrowthConfig {
            train: Config::default(),
            p_max: 1024,
            stage_epochs: 2,
            final_epochs: 10,
            delta: 0.1,
            split_samples: 1000,
            split_iterations: 20,
        }
    }
}

/// One evaluation point of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Hidden states at that point.
    pub p: usize,
    /// Epochs at this size so far.
    pub epoch: usize,
    /// Cumulative memory-sample operations (training and splitting).
    pub ops: u64,
    /// Cumulative training wall time, seconds (evaluation excluded).
    pub seconds: f64,
    /// Test accuracy of both readouts.
    pub accuracy: Accuracy,
    /// Mean training loss of the epoch.
    pub loss: f64,
}

/// What [`grow`] returns: the final trainer and one point per epoch.
#[derive(Debug, Clone)]
pub struct Grown {
    /// The network at `P_max`.
    pub trainer: Trainer,
    /// Every epoch's point.
    pub points: Vec<Point>,
    /// The mean splitting curvature (`Splits::curvature`) at each doubling.
    pub split_curvature: Vec<f32>,
}

/// Trains `P = 1`, splits, trains `P = 2`, …, up to `P_max`; `on_point` is
/// called after every epoch.
pub fn grow(
    config: &GrowthConfig,
    task: Task,
    train_set: &Split,
    test: &Split,
    mut on_point: impl FnMut(&Point),
) -> Result<Grown> {
    let mut t = Trainer::new(
        Config {
            p: 1,
            ..config.train.clone()
        },
        task,
        train_set,
    )?;
    let (mut points, mut split_curvature) = (Vec::new(), Vec::new());
    let mut seconds = 0.0;
    let mut rng = ChaCha8Rng::seed_from_u64(config.train.seed ^ 0x5eed);
    loop {
        let last = t.params.p >= config.p_max;
        let epochs = if last {
            config.final_epochs
        } else {
            config.stage_epochs
        };
        for _ in 0..epochs {
            let start = Instant::now();
            let stats = t
                .run_epoch(train_set, &|| false)?
                .unwrap_or_else(|| unreachable!());
            seconds += start.elapsed().as_secs_f64();
            let point = Point {
                p: t.params.p,
                epoch: t.epoch,
                ops: t.ops,
                seconds,
                accuracy: evaluate(&t.params, test),
                loss: stats.loss,
            };
            on_point(&point);
            if let Some(what) = t.params.first_non_finite() {
                anyhow::bail!(
                    "training diverged at epoch {} (P = {}): {what}",
                    point.epoch,
                    point.p
                );
            }
            points.push(point);
        }
        if last {
            return Ok(Grown {
                trainer: t,
                points,
                split_curvature,
            });
        }
        let start = Instant::now();
        let idx: Vec<usize> = (0..config.split_samples.min(train_set.len()))
            .map(|_| rng.random_range(0..train_set.len()))
            .collect();
        let s = split_directions(&t, train_set, &idx, config.split_iterations, rng.random());
        split_curvature.push(s.curvature.iter().sum::<f32>() / s.curvature.len() as f32);
        let params = split(&t.params, &s, config.delta, config.train.constraint);
        let (ops, marginal) = (t.ops + s.ops, t.marginal.clone());
        t = Trainer::from_params(t.config.clone(), task, params);
        t.ops = ops;
        t.marginal = marginal;
        seconds += start.elapsed().as_secs_f64();
    }
}

/// The growth-versus-direct comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Growth settings; direct training uses `growth.train` with `P_max`.
    pub growth: GrowthConfig,
    /// Epochs of direct training at `P_max`.
    pub direct_epochs: usize,
    /// Use only the first `n` training images (`None`: all).
    pub train_limit: Option<usize>,
    /// Use only the first `n` test images (`None`: all).
    pub test_limit: Option<usize>,
}

impl Comparison {
    /// A reduced size that runs in about a minute on 2 cores: 10 000
    /// training and 2 000 test images of MNIST, `P_max = 64`.
    pub fn reduced() -> Self {
        Comparison {
            growth: GrowthConfig {
                p_max: 64,
                stage_epochs: 2,
                final_epochs: 6,
                ..GrowthConfig::default()
            },
            direct_epochs: 20,
            train_limit: Some(10_000),
            test_limit: Some(2_000),
        }
    }

    /// A few seconds' worth (2 000 training and 500 test images, `P_max =
    /// 8`, 200 samples per split): what `dam experiment saddle-growth
    /// --quick` and its test run.
    pub fn quick() -> Self {
        Comparison {
            growth: GrowthConfig {
                p_max: 8,
                stage_epochs: 3,
                final_epochs: 10,
                split_samples: 200,
                ..GrowthConfig::default()
            },
            direct_epochs: 19,
            train_limit: Some(2_000),
            test_limit: Some(500),
        }
    }
}

/// Both runs' points.
#[derive(Debug, Clone)]
pub struct Report {
    /// Direct training at `P_max`, one point per epoch.
    pub direct: Vec<Point>,
    /// Growth, one point per epoch.
    pub growth: Vec<Point>,
    /// The mean splitting curvature at each doubling (negative: saddle).
    pub split_curvature: Vec<f32>,
}

impl Report {
    /// The best test accuracy (`argmax p(y|v)`) of direct training.
    pub fn direct_accuracy(&self) -> f64 {
        self.direct
            .iter()
            .map(|p| p.accuracy.posterior)
            .fold(0.0, f64::max)
    }

    /// The first growth point reaching `target` accuracy, if any.
    pub fn growth_reaching(&self, target: f64) -> Option<&Point> {
        self.growth.iter().find(|p| p.accuracy.posterior >= target)
    }

    /// The first direct point reaching `target` accuracy, if any.
    pub fn direct_reaching(&self, target: f64) -> Option<&Point> {
        self.direct.iter().find(|p| p.accuracy.posterior >= target)
    }

    /// The best test accuracy (`argmax p(y|v)`) of growth.
    pub fn growth_accuracy(&self) -> f64 {
        self.growth
            .iter()
            .map(|p| p.accuracy.posterior)
            .fold(0.0, f64::max)
    }

    /// The comparison in words: best accuracies, the operations and time
    /// each method needed to reach the lower of the two, and the splitting
    /// curvatures.
    pub fn summary(&self) -> String {
        let (bd, bg) = (self.direct_accuracy(), self.growth_accuracy());
        let mut s = format!(
            "best test accuracy: direct {:.2}%, growth {:.2}%\n",
            100.0 * bd,
            100.0 * bg
        );
        let target = bd.min(bg);
        if let (Some(d), Some(g)) = (self.direct_reaching(target), self.growth_reaching(target)) {
            s += &format!(
                "to reach {:.2}%: direct {:.3e} ops, {:.1} s; growth {:.3e} ops, {:.1} s \
                 (ops ratio {:.2}, time ratio {:.2})\n",
                100.0 * target,
                d.ops as f64,
                d.seconds,
                g.ops as f64,
                g.seconds,
                d.ops as f64 / g.ops.max(1) as f64,
                d.seconds / g.seconds.max(f64::MIN_POSITIVE)
            );
        }
        if !self.split_curvature.is_empty() {
            s += &format!(
                "mean splitting curvature at each doubling: {:?}\n",
                self.split_curvature
            );
        }
        s
    }
}

/// Runs direct training at `P_max` and growth to `P_max` on the same data
/// (supervised), calling `on_point(is_growth, point)` after every epoch.
pub fn growth_vs_direct(
    cmp: &Comparison,
    train_set: &Split,
    test: &Split,
    mut on_point: impl FnMut(bool, &Point),
) -> Result<Report> {
    let train_set = cmp
        .train_limit
        .map_or_else(|| train_set.clone(), |n| train_set.head(n));
    let test = cmp
        .test_limit
        .map_or_else(|| test.clone(), |n| test.head(n));
    let task = Task::Supervised {
        classes: crate::data::mnist::CLASSES,
    };
    let grown = grow(&cmp.growth, task, &train_set, &test, |p| on_point(true, p))?;
    let mut direct = Vec::new();
    let config = Config {
        p: grown.trainer.params.p,
        ..cmp.growth.train.clone()
    };
    let mut t = Trainer::new(config, task, &train_set)?;
    let mut seconds = 0.0;
    for _ in 0..cmp.direct_epochs {
        let start = Instant::now();
        let stats = t
            .run_epoch(&train_set, &|| false)?
            .unwrap_or_else(|| unreachable!());
        seconds += start.elapsed().as_secs_f64();
        let point = Point {
            p: t.params.p,
            epoch: t.epoch,
            ops: t.ops,
            seconds,
            accuracy: evaluate(&t.params, &test),
            loss: stats.loss,
        };
        on_point(false, &point);
        direct.push(point);
    }
    Ok(Report {
        direct,
        growth: grown.points,
        split_curvature: grown.split_curvature,
    })
}
