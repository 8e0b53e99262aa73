//! Retrieval and energies of every memory family of `dam-core`, over many
//! queries at once: what `dam recall` and `dam energy` run.

use anyhow::{Result, anyhow, bail};
use dam_core::{
    BipolarMemory, EnergyModel, Form, Interaction, LseMemory, MemoryView, Similarity, Stop,
    UpdateOrder,
};
use rayon::prelude::*;

/// Which memory, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    /// Bipolar autoassociative memory (math.md §3); queries are binarized
    /// (`x ≥ 0 → +1`).
    Bipolar {
        /// `F`.
        f: Interaction<f64>,
        /// Raw or normalized, and `β`.
        form: Form<f64>,
    },
    /// Continuous log-sum-exp memory (math.md §5).
    Lse {
        /// `β`.
        beta: f64,
        /// Euclidean or dot-product similarity.
        similarity: Similarity,
    },
}

/// Settings of a retrieval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecallOptions {
    /// Maximum sweeps (bipolar) or steps (log-sum-exp).
    pub steps: usize,
    /// Gradient step `η` (log-sum-exp; `1` is the one-step update).
    pub step: f64,
    /// The update order of the bipolar memory.
    pub order: Order,
}

impl Default for RecallOptions {
    /// 20 sweeps or steps, `η = 1`, sequential order.
    fn default() -> Self {
        RecallOptions {
            steps: 20,
            step: 1.0,
            order: Order::Sequential,
        }
    }
}

/// The order in which a bipolar memory updates its neurons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Neurons `0, 1, …, D−1`, each seeing the updates before it.
    Sequential,
    /// A fresh shuffled order every sweep; query `i` uses the seed
    /// `seed ^ i`, so the result does not depend on the thread.
    Random {
        /// The seed.
        seed: u64,
    },
    /// Every neuron decides from the same old state.
    Synchronous,
}

/// Which entries of the queries are known (clamped during retrieval).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Known<'a> {
    /// None: every entry may change (plain retrieval).
    None,
    /// The same `D` flags for every query.
    Shared(&'a [bool]),
    /// `B × D` flags, one row per query.
    PerQuery(&'a [bool]),
}

impl Known<'_> {
    /// The flags of query `i` (`None`: all free).
    fn of(&self, i: usize, d: usize) -> Option<&[bool]> {
        match *self {
            Known::None => None,
            Known::Shared(m) => Some(m),
            Known::PerQuery(m) => m.get(i * d..(i + 1) * d),
        }
    }

    fn check(&self, b: usize, d: usize) -> Result<()> {
        let (len, want) = match *self {
            Known::None => return Ok(()),
            Known::Shared(m) => (m.len(), d),
            Known::PerQuery(m) => (m.len(), b * d),
        };
        if len != want {
            bail!("the mask has {len} entries where {want} are needed ({b} queries of D = {d})");
        }
        Ok(())
    }
}

/// What happened to one query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryReport {
    /// Why it stopped.
    pub stop: StopReason,
    /// Sweeps (bipolar) or gradient steps (log-sum-exp) run.
    pub steps: usize,
    /// Neurons flipped in all (bipolar), entries changed (log-sum-exp).
    pub changed: usize,
    /// The energy of the query as given (bipolar: binarized).
    pub energy_before: f64,
    /// The energy of the final state.
    pub energy_after: f64,
    /// The memory with the largest overlap with the final state.
    pub nearest: usize,
    /// That overlap, divided by `D`.
    pub overlap: f64,
    /// The energy before the first and after every sweep or step
    /// (`steps + 1` values).
    pub trajectory: Vec<f64>,
}

/// Why a query's retrieval stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// A whole sweep flipped nothing.
    FixedPoint,
    /// The sweep limit was reached while neurons still flipped.
    MaxSweeps,
    /// The log-sum-exp descent ran its steps (it has no fixed-point test).
    Steps,
}

impl StopReason {
    /// `fixed-point`, `max-sweeps` or `steps`.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::FixedPoint => "fixed-point",
            StopReason::MaxSweeps => "max-sweeps",
            StopReason::Steps => "steps",
        }
    }
}

/// The energy of each query (`queries` is `b × D`, row-major), in parallel
/// on the current rayon pool.
///
/// ```
/// use dam_core::{Form, Interaction};
/// use dam_std::families::{Family, energies};
/// let xi = [1.0, 1.0, -1.0, -1.0];
/// let f = Family::Bipolar { f: Interaction::Polynomial { n: 2 }, form: Form::Raw { beta: 1.0 } };
/// assert_eq!(energies(&xi, 2, &[1.0, 1.0], f)?, [-8.0]); // −(2² + 2²)
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn energies(memories: &[f64], d: usize, queries: &[f64], family: Family) -> Result<Vec<f64>> {
    let view = view(memories, d)?;
    queries
        .par_chunks(d)
        .enumerate()
        .map_init(
            || vec![0.0; view.k()],
            |scratch, (i, q)| {
                let e = match family {
                    Family::Bipolar { f, form } => {
                        BipolarMemory::new(view, f, form)?.energy(&binarize(q))
                    }
                    Family::Lse { beta, similarity } => {
                        LseMemory::new(view, beta, similarity)?.energy(q, scratch)
                    }
                };
                e.map_err(|e| anyhow!("query {i}: {e}"))
            },
        )
        .collect()
}

/// Retrieves from each query, in parallel on the current rayon pool; returns
/// the final states (`b × D`) and a report per query. Entries marked in
/// `known` are clamped: they keep the query's value.
///
/// ```
/// use dam_core::{Form, Interaction};
/// use dam_std::families::{Family, Known, RecallOptions, StopReason, recall};
/// let xi = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0];
/// let f = Family::Bipolar { f: Interaction::Polynomial { n: 3 }, form: Form::Normalized { beta: 1.0 } };
/// let (states, reports) = recall(&xi, 3, &[1.0, -1.0, 1.0], f, RecallOptions::default(), Known::None)?;
/// assert_eq!(states, [1.0, 1.0, 1.0]);
/// assert_eq!((reports[0].stop, reports[0].nearest), (StopReason::FixedPoint, 0));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn recall(
    memories: &[f64],
    d: usize,
    queries: &[f64],
    family: Family,
    opts: RecallOptions,
    known: Known<'_>,
) -> Result<(Vec<f64>, Vec<QueryReport>)> {
    let view = view(memories, d)?;
    if !queries.len().is_multiple_of(d) {
        bail!(
            "queries: {} entries do not split into rows of {d}",
            queries.len()
        );
    }
    known.check(queries.len() / d, d)?;
    if opts.steps == 0 {
        bail!("at least one sweep or step is needed (steps = 0)");
    }
    let results: Vec<(Vec<f64>, QueryReport)> = queries
        .par_chunks(d)
        .enumerate()
        .map_init(
            || (vec![0.0; view.k() + d], vec![0u32; d]),
            |(scratch, perm), (i, q)| {
                let ctx = |e: dam_core::Error| anyhow!("query {i}: {e}");
                let mask = known.of(i, d);
                let (state, stop, changed, trajectory) = match family {
                    Family::Bipolar { f, form } => {
                        let net = BipolarMemory::new(view, f, form)?;
                        let mut s = binarize(q);
                        let mut trajectory = vec![plain(net.energy_wide(&s).map_err(ctx)?)];
                        // One sweep a call, for the energy after each; the
                        // random order draws sweep `t` from `seed ^ i ^ t·2^32`.
                        let (mut flips, mut stop) = (0, StopReason::MaxSweeps);
                        for t in 0..opts.steps {
                            let order = match opts.order {
                                Order::Sequential => UpdateOrder::Sequential,
                                Order::Synchronous => UpdateOrder::Synchronous,
                                Order::Random { seed } => UpdateOrder::Random {
                                    seed: seed ^ i as u64 ^ ((t as u64) << 32),
                                    order: perm,
                                },
                            };
                            let r = match mask {
                                Some(m) => net.complete(&mut s, scratch, order, 1, m),
                                None => net.retrieve(&mut s, scratch, order, 1),
                            }
                            .map_err(ctx)?;
                            flips += r.flips;
                            trajectory.push(plain(net.energy_wide(&s).map_err(ctx)?));
                            if r.stop == Stop::FixedPoint {
                                stop = StopReason::FixedPoint;
                                break;
                            }
                        }
                        let state = s.iter().map(|&x| f64::from(x)).collect();
                        (state, stop, flips, trajectory)
                    }
                    Family::Lse { beta, similarity } => {
                        let net = LseMemory::new(view, beta, similarity)?;
                        let mut trajectory = vec![net.energy(q, scratch).map_err(ctx)?];
                        let mut x = q.to_vec();
                        for _ in 0..opts.steps {
                            let r = net
                                .descend(&mut x, mask, opts.step, 1, scratch)
                                .map_err(ctx)?;
                            trajectory.push(r.energy);
                        }
                        let changed = x.iter().zip(q).filter(|(a, b)| a != b).count();
                        (x, StopReason::Steps, changed, trajectory)
                    }
                };
                let (nearest, overlap) = nearest(memories, d, &state);
                Ok((
                    state,
                    QueryReport {
                        stop,
                        steps: trajectory.len() - 1,
                        changed,
                        energy_before: trajectory[0],
                        energy_after: trajectory[trajectory.len() - 1],
                        nearest,
                        overlap,
                        trajectory,
                    },
                ))
            },
        )
        .collect::<Result<_>>()?;
    let (states, reports): (Vec<Vec<f64>>, Vec<QueryReport>) = results.into_iter().unzip();
    Ok((states.concat(), reports))
}

/// A wide energy as an `f64`, `±∞` beyond its range (a report, not a
/// computation: the states are what matter).
fn plain(e: dam_core::Wide<f64>) -> f64 {
    e.to_real(dam_core::Quantity::Energy)
        .unwrap_or(if e.signum() < 0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        })
}

/// The memory with the largest overlap `ξ^μ·x / D` with `x` (the first
/// of ties), and that overlap.
pub fn nearest(memories: &[f64], d: usize, x: &[f64]) -> (usize, f64) {
    memories
        .chunks_exact(d.max(1))
        .map(|m| m.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() / d.max(1) as f64)
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |acc, (j, o)| if o > acc.1 { (j, o) } else { acc },
        )
}

fn view(memories: &[f64], d: usize) -> Result<MemoryView<'_, f64>> {
    if d == 0 || !memories.len().is_multiple_of(d) {
        bail!(
            "memories: {} entries do not split into rows of {d}",
            memories.len()
        );
    }
    Ok(MemoryView::new(memories, memories.len() / d, d)?)
}

fn binarize(q: &[f64]) -> Vec<i8> {
    q.iter().map(|&x| if x >= 0.0 { 1 } else { -1 }).collect()
}
