//! How well DrDAM approximates the exact log-sum-exp memory, over a grid of
//! features `Y`, inverse temperatures `β` and dimensions `D` (the paper's
//! Figure 3): mean absolute error of the energy and of the gradient, at
//! queries on, near (10% of bits flipped) and far from the stored patterns.

use anyhow::Result;
use dam_core::{LseMemory, MemoryView, Similarity};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::drdam_batch::DrDamBatch;

/// Where the queries start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// Exactly the stored patterns.
    Stored,
    /// Stored patterns with 10% of their bits flipped.
    Near,
    /// Random patterns.
    Random,
}

impl QueryKind {
    /// All three, in the paper's order.
    pub const ALL: [QueryKind; 3] = [QueryKind::Stored, QueryKind::Near, QueryKind::Random];
}

/// One point of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRow {
    /// Dimension `D`.
    pub d: usize,
    /// Inverse temperature `β`.
    pub beta: f32,
    /// Number of random features `Y`.
    pub y: usize,
    /// Query kind.
    pub kind: QueryKind,
    /// Mean |Ẽ − E|.
    pub energy_mae: f64,
    /// Mean over queries and coordinates of |∇Ẽ − ∇E|.
    pub gradient_mae: f64,
}

/// The grid to measure.
#[derive(Debug, Clone)]
pub struct ErrorGrid {
    /// Dimensions.
    pub dims: Vec<usize>,
    /// Inverse temperatures.
    pub betas: Vec<f32>,
    /// Feature counts.
    pub features: Vec<usize>,
    /// Stored patterns `K` (binary, in `{0, 1/√D}` as in the paper).
    pub patterns: usize,
    /// Queries per kind.
    pub queries: usize,
    /// Seed for patterns, queries and projections.
    pub seed: u64,
}

/// Measures every point of `grid`.
pub fn measure(grid: &ErrorGrid) -> Result<Vec<ErrorRow>> {
    let mut rows = Vec::new();
    for &d in &grid.dims {
        let mut rng = ChaCha8Rng::seed_from_u64(grid.seed ^ d as u64);
        let s = 1.0 / (d as f32).sqrt();
        let mut binary = |n: usize| -> Vec<f32> {
            (0..n * d)
                .map(|_| if rng.random_bool(0.5) { s } else { 0.0 })
                .collect()
        };
        let patterns = binary(grid.patterns);
        let q = grid.queries.min(grid.patterns);
        let random = binary(q);
        let near: Vec<f32> = patterns[..q * d]
            .iter()
            .enumerate()
            .map(|(i, &v)| if i % 10 == 3 { s - v } else { v })
            .collect();
        let xi64: Vec<f64> = patterns.iter().map(|&x| f64::from(x)).collect();
        for &beta in &grid.betas {
            let exact = LseMemory::new(
                MemoryView::new(&xi64, grid.patterns, d)?,
                f64::from(beta),
                Similarity::Euclidean,
            )?;
            for &y in &grid.features {
                let mut dam = DrDamBatch::new(grid.seed.wrapping_add(y as u64), y, d, beta)?;
                dam.store_all(&patterns)?;
                for kind in QueryKind::ALL {
                    let queries = match kind {
                        QueryKind::Stored => &patterns[..q * d],
                        QueryKind::Near => &near[..],
                        QueryKind::Random => &random[..],
                    };
                    let (mut e, mut g) = (vec![0.0f32; q], vec![0.0f32; q * d]);
                    dam.energy_and_gradient(queries, &mut e, &mut g)?;
                    let (mut e_err, mut g_err) = (0.0, 0.0);
                    let mut g1 = vec![0.0f64; d];
                    let mut scratch = vec![0.0f64; grid.patterns];
                    for (b, x) in queries.chunks_exact(d).enumerate() {
                        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
                        let e1 = exact.energy_and_gradient(&x64, &mut g1, &mut scratch)?;
                        e_err += (f64::from(e[b]) - e1).abs();
                        g_err += g[b * d..(b + 1) * d]
                            .iter()
                            .zip(&g1)
                            .map(|(a, b)| (f64::from(*a) - b).abs())
                            .sum::<f64>()
                            / d as f64;
                    }
                    rows.push(ErrorRow {
                        d,
                        beta,
                        y,
                        kind,
                        energy_mae: e_err / q as f64,
                        gradient_mae: g_err / q as f64,
                    });
                }
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_falls_with_features_and_is_lowest_at_stored_patterns() {
        let grid = ErrorGrid {
            dims: vec![16],
            betas: vec![10.0],
            features: vec![500, 8000],
            patterns: 30,
            queries: 20,
            seed: 3,
        };
        let rows = measure(&grid).unwrap();
        assert_eq!(rows.len(), 6);
        let get = |y, kind| rows.iter().find(|r| r.y == y && r.kind == kind).unwrap();
        assert!(get(8000, QueryKind::Near).energy_mae < get(500, QueryKind::Near).energy_mae);
        assert!(get(8000, QueryKind::Stored).energy_mae < get(8000, QueryKind::Random).energy_mae);
    }
}
