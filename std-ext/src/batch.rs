//! Multi-threaded batch classification: many inputs at once, split across
//! the current rayon pool.
//!
//! Each worker takes a block of [`QUERY_BLOCK`] inputs and gets the overlaps
//! of all of them with one register-blocked product
//! ([`dam_core::simd::gemm_nt_fused`]), so a block of memories is read from
//! memory once per block of inputs rather than once per input; then
//! [`Classifier::forward_from_overlaps`] scores each input. The results are
//! those of [`Classifier::forward`] up to the summation order of the
//! overlaps, and do not depend on the number of threads.
//!
//! The number of threads is the pool's: all cores by default, or run the
//! call inside [`rayon::ThreadPool::install`] to choose.

use anyhow::{Result, anyhow, bail};
use dam_core::{Classifier, Real};
use rayon::prelude::*;

/// Inputs per block: their padded copies (`64 × D` entries) and overlaps
/// (`64 × K`) stay in a worker's L2 for MNIST shapes.
pub const QUERY_BLOCK: usize = 64;

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
    inputs
        .par_chunks(QUERY_BLOCK * nv)
        .zip(out.scores.par_chunks_mut(QUERY_BLOCK * nc))
        .zip(out.classes.par_chunks_mut(QUERY_BLOCK))
        .enumerate()
        .try_for_each_init(
            || Block::new(clf),
            |block, (i, ((inputs, scores), classes))| {
                block.classify(clf, inputs, scores, classes, i * QUERY_BLOCK)
            },
        )?;
    Ok(out)
}

/// A worker's buffers for one block of inputs.
struct Block<T> {
    /// Inputs followed by `Nc` entries `−1` (the `u` of math.md §4), `× D`.
    padded: Vec<T>,
    /// `ξ^μ·u_b` at `[b·K + μ]`.
    overlaps: Vec<T>,
}

impl<T: Real> Block<T> {
    fn new(clf: &Classifier<'_, T>) -> Self {
        let (k, d) = (clf.memories().k(), clf.memories().d());
        Block {
            padded: Vec::with_capacity(QUERY_BLOCK * d),
            overlaps: vec![T::ZERO; QUERY_BLOCK * k],
        }
    }

    fn classify(
        &mut self,
        clf: &Classifier<'_, T>,
        inputs: &[T],
        scores: &mut [T],
        classes: &mut [usize],
        first: usize,
    ) -> Result<()> {
        let (nv, nc) = (clf.visible(), clf.classes());
        let (k, d) = (clf.memories().k(), clf.memories().d());
        self.padded.clear();
        for v in inputs.chunks_exact(nv) {
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                let q = first + self.padded.len() / d;
                bail!("input {q}: value {i} is {}", v[i].to_f64());
            }
            self.padded.extend_from_slice(v);
            self.padded.extend(std::iter::repeat_n(-T::ONE, nc));
        }
        let overlaps = &mut self.overlaps;
        dam_core::simd::gemm_nt_fused(clf.memories().as_slice(), &self.padded, d, |mu, b, m| {
            overlaps[b * k + mu] = m;
        });
        for (b, ((o, s), c)) in overlaps
            .chunks_exact(k)
            .zip(scores.chunks_exact_mut(nc))
            .zip(classes.iter_mut())
            .enumerate()
        {
            *c = clf
                .forward_from_overlaps(o, s)
                .map_err(|e| anyhow!("input {}: {e}", first + b))?;
        }
        Ok(())
    }
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
