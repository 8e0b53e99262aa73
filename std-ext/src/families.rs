//! Retrieval and energies of every memory family of `dam-core`, over many
//! queries at once: what `dam recall` and `dam energy` run.

use anyhow::{Result, anyhow, bail};
use dam_core::{
    BipolarMemory, EnergyModel, Form, Interaction, LseMemory, MemoryView, Similarity, UpdateOrder,
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
/// the final states (`b × D`) and, per query, the sweeps or steps taken.
///
/// ```
/// use dam_core::{Form, Interaction};
/// use dam_std::families::{Family, RecallOptions, recall};
/// let xi = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0];
/// let f = Family::Bipolar { f: Interaction::Polynomial { n: 3 }, form: Form::Normalized { beta: 1.0 } };
/// let (states, _) = recall(&xi, 3, &[1.0, -1.0, 1.0], f, RecallOptions { steps: 10, step: 1.0 })?;
/// assert_eq!(states, [1.0, 1.0, 1.0]);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn recall(
    memories: &[f64],
    d: usize,
    queries: &[f64],
    family: Family,
    opts: RecallOptions,
) -> Result<(Vec<f64>, Vec<usize>)> {
    let view = view(memories, d)?;
    let results: Vec<(Vec<f64>, usize)> = queries
        .par_chunks(d)
        .enumerate()
        .map_init(
            || vec![0.0; view.k() + d],
            |scratch, (i, q)| {
                let ctx = |e: dam_core::Error| anyhow!("query {i}: {e}");
                match family {
                    Family::Bipolar { f, form } => {
                        let net = BipolarMemory::new(view, f, form)?;
                        let mut s = binarize(q);
                        let r = net
                            .retrieve(&mut s, scratch, UpdateOrder::Sequential, opts.steps)
                            .map_err(ctx)?;
                        Ok((s.iter().map(|&x| f64::from(x)).collect(), r.sweeps))
                    }
                    Family::Lse { beta, similarity } => {
                        let net = LseMemory::new(view, beta, similarity)?;
                        let mut x = q.to_vec();
                        let r = net
                            .descend(&mut x, None, opts.step, opts.steps, scratch)
                            .map_err(ctx)?;
                        Ok((x, r.steps))
                    }
                }
            },
        )
        .collect::<Result<_>>()?;
    let (states, steps): (Vec<Vec<f64>>, Vec<usize>) = results.into_iter().unzip();
    Ok((states.concat(), steps))
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
