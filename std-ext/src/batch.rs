//! Multi-threaded batch classification: many inputs at once, split across
//! the current rayon pool.
//!
//! The inputs go in blocks of [`QUERY_BLOCK`]. For each block, the overlaps
//! of all its inputs with all memories come from products
//! ([`dam_core::simd::gemm_nt_fused_runs`]) of [`MEMORY_BLOCK`] memories each,
//! run in parallel: every task packs its own memories once and streams the
//! whole block of inputs over them (the packed kernel's cost of packing is
//! then shared by a thousand inputs, not by a few). Then
//! [`Classifier::forward_from_overlaps`] scores the inputs in parallel. The
//! results are those of [`Classifier::forward`] up to the summation order
//! of the overlaps; the blocks do not depend on the number of threads, so
//! neither do the results.
//!
//! The number of threads is the pool's: all cores by default, or run the
//! call inside [`rayon::ThreadPool::install`] to choose.

use anyhow::{Result, anyhow, bail};
use dam_core::{Classifier, Real};
use rayon::prelude::*;

/// Inputs per block: their padded copies (`B × D` entries) and overlaps
/// (`B × K`) are allocated once per call (8 MB at `K = 2000`).
pub const QUERY_BLOCK: usize = 1024;

/// Memories per parallel product: a multiple of the packed kernels'
/// panel heights (32 memories on AVX-512, 16 on AVX2), and small enough
/// that `K = 2000` gives 16 tasks to share between the threads.
pub const MEMORY_BLOCK: usize = 128;

/// The predictions and scores of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified<T> {
    /// The predicted class of each input.
    pub classes: Vec<usize>,
    /// The scores `c_α` of each input (`B × Nc`, row-major).
    pub scores: Vec<T>,
}

/// Classifies every input of `inputs` (`B × Nv`, row-major) in parallel.
///
/// ```
/// use dam_core::{Classifier, Form, Interaction, MemoryView};
/// // Two memories over 2 pixels + 2 labels: "bright → class 0", "dark → class 1".
/// let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
/// let clf = Classifier::new(
///     MemoryView::new(&xi, 2, 4)?, 2,
///     Interaction::RectifiedPolynomial { n: 3 }, Form::Normalized { beta: 1.0 })?;
/// let out = dam_std::batch::classify(&clf, &[0.9, 0.8, -0.7, -0.9, 0.5, 0.1])?;
/// assert_eq!(out.classes, [0, 1, 0]);
/// # Ok::<(), anyhow::Error>(())
/// ```
///
/// Errors: `inputs` not a whole number of rows of `Nv`, and the errors of
/// [`Classifier::forward`], naming the input.
pub fn classify<T: Real + Send + Sync>(
    clf: &Classifier<'_, T>,
    inputs: &[T],
) -> Result<Classified<T>> {
    let (nv, nc) = (clf.visible(), clf.classes());
    if !inputs.len().is_multiple_of(nv) {
        bail!(
            "inputs: {} values do not split into rows of Nv = {nv}",
            inputs.len()
        );
    }
    let b = inputs.len() / nv;
    let mut out = Classified {
        classes: vec![0; b],
        scores: vec![T::ZERO; b * nc],
    };
    let (k, d) = (clf.memories().k(), clf.memories().d());
    let block = QUERY_BLOCK.min(b);
    let mut padded = Vec::with_capacity(block * d);
    let mut overlaps = vec![T::ZERO; block * k];
    for (i, ((inputs, scores), classes)) in inputs
        .chunks(QUERY_BLOCK * nv)
        .zip(out.scores.chunks_mut(QUERY_BLOCK * nc))
        .zip(out.classes.chunks_mut(QUERY_BLOCK))
        .enumerate()
    {
        let first = i * QUERY_BLOCK;
        pad(clf, inputs, first, &mut padded)?;
        let nq = inputs.len() / nv;
        let overlaps = overlaps.get_mut(..nq * k).unwrap_or(&mut []);
        products(clf, &padded, nq, overlaps);
        // Chunk `c` of `overlaps` holds `ξ^μ·u_b` of its memories at
        // `[b·rows + μ − c·MEMORY_BLOCK]`: input `b`'s overlaps are one run
        // of `rows` per chunk.
        let overlaps = &*overlaps;
        scores
            .par_chunks_mut(nc)
            .zip(classes.par_iter_mut())
            .enumerate()
            .try_for_each_init(
                || vec![T::ZERO; k],
                |column, (b, (s, c))| {
                    let mut at = 0;
                    for chunk in overlaps.chunks(MEMORY_BLOCK * nq) {
                        let rows = chunk.len() / nq;
                        if let (Some(src), Some(dst)) = (
                            chunk.get(b * rows..(b + 1) * rows),
                            column.get_mut(at..at + rows),
                        ) {
                            dst.copy_from_slice(src);
                        }
                        at += rows;
                    }
                    *c = clf
                        .forward_from_overlaps(column, s)
                        .map_err(|e| anyhow!("input {}: {e}", first + b))?;
                    Ok::<(), anyhow::Error>(())
                },
            )?;
    }
    Ok(out)
}

/// Copies the inputs into `padded`, each followed by `Nc` entries `−1`
/// (the `u` of math.md §4), `× D`; errors on a non-finite value.
fn pad<T: Real>(
    clf: &Classifier<'_, T>,
    inputs: &[T],
    first: usize,
    padded: &mut Vec<T>,
) -> Result<()> {
    let (nv, nc) = (clf.visible(), clf.classes());
    padded.clear();
    for (q, v) in inputs.chunks_exact(nv).enumerate() {
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            bail!("input {}: value {i} is {}", first + q, v[i].to_f64());
        }
        padded.extend_from_slice(v);
        padded.extend(std::iter::repeat_n(-T::ONE, nc));
    }
    Ok(())
}

/// The overlaps of the `nq` padded inputs with every memory, in parallel
/// over chunks of [`MEMORY_BLOCK`] memories: chunk `c` of `overlaps`
/// (`MEMORY_BLOCK · nq` entries, fewer for the last) gets `ξ^μ·u_b` at
/// `[b·rows + μ − c·MEMORY_BLOCK]`.
fn products<T: Real + Send + Sync>(
    clf: &Classifier<'_, T>,
    padded: &[T],
    nq: usize,
    overlaps: &mut [T],
) {
    let d = clf.memories().d();
    overlaps
        .par_chunks_mut(MEMORY_BLOCK * nq)
        .zip(clf.memories().as_slice().par_chunks(MEMORY_BLOCK * d))
        .for_each(|(out, memories)| {
            let rows = memories.len() / d;
            // Each run is consecutive memories of one input: contiguous
            // in `out`, one copy per run.
            dam_core::simd::gemm_nt_fused_runs(memories, padded, d, |mu0, b, run| {
                let at = b * rows + mu0;
                if let Some(o) = out.get_mut(at..at + run.len()) {
                    o.copy_from_slice(run);
                }
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::{Form, Interaction, MemoryView};

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// Every block size boundary (fewer, exactly, more than one block) and
    /// every thread count give `forward`'s predictions, and scores equal to
    /// f32 rounding.
    #[test]
    fn batch_equals_one_at_a_time_for_any_thread_count() {
        let (k, nv, nc) = (37, 50, 10);
        let mut seed = 7;
        let xi: Vec<f32> = (0..k * (nv + nc)).map(|_| lcg(&mut seed)).collect();
        let clf = Classifier::new(
            MemoryView::new(&xi, k, nv + nc).unwrap(),
            nc,
            Interaction::RectifiedPolynomial { n: 5 },
            Form::Normalized { beta: 4.0 },
        )
        .unwrap();
        for b in [1, QUERY_BLOCK, 2 * QUERY_BLOCK + 5] {
            let inputs: Vec<f32> = (0..b * nv).map(|_| lcg(&mut seed)).collect();
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let got = pool.install(|| classify(&clf, &inputs)).unwrap();
                let (mut scores, mut scratch) = (vec![0.0; nc], vec![0.0; k]);
                for (q, v) in inputs.chunks_exact(nv).enumerate() {
                    let want = clf.forward(v, &mut scores, &mut scratch).unwrap();
                    assert_eq!(got.classes[q], want, "input {q}, {threads} threads");
                    for (a, w) in got.scores[q * nc..(q + 1) * nc].iter().zip(&scores) {
                        assert!((a - w).abs() <= 1e-4, "input {q}: {a} vs {w}");
                    }
                }
            }
        }
    }

    #[test]
    fn bad_inputs_name_the_input() {
        let xi = [1.0f32, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
        let clf = Classifier::new(
            MemoryView::new(&xi, 2, 4).unwrap(),
            2,
            Interaction::Polynomial { n: 2 },
            Form::Normalized { beta: 1.0 },
        )
        .unwrap();
        let e = classify(&clf, &[1.0, 2.0, 3.0]).unwrap_err().to_string();
        assert!(e.contains("rows of Nv = 2"), "{e}");
        let e = classify(&clf, &[1.0, 2.0, 0.5, f32::NAN])
            .unwrap_err()
            .to_string();
        assert!(e.contains("input 1: value 1 is NaN"), "{e}");
        assert_eq!(classify(&clf, &[]).unwrap().classes, Vec::<usize>::new());
    }
}
