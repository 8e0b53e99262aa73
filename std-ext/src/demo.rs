//! The README's main job: store random bipolar patterns, corrupt them, and
//! measure how often retrieval recovers them, across degrees `n` and loads
//! `K/D` (the capacity story of \[KH16\]: `K` grows like `D^(n−1)`).

use std::time::Instant;

use anyhow::{Context, Result};
use dam_core::{BipolarMemory, Form, Interaction, MemoryView, UpdateOrder};

use crate::patterns::{corrupt, hamming, random_bipolar};

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Dimension `D`.
    pub dim: usize,
    /// Degrees `n` to try.
    pub degrees: Vec<u32>,
    /// Numbers of memories `K` to try.
    pub loads: Vec<usize>,
    /// Fraction of bits flipped in each query.
    pub flip_fraction: f64,
    /// Queries per `(n, K)` cell.
    pub queries: usize,
    /// Normalized inverse temperature `β`.
    pub beta: f32,
    /// Seed for memories and corruption.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            dim: 100,
            degrees: vec![2, 3, 4],
            loads: vec![5, 20, 100, 300, 1000],
            flip_fraction: 0.1,
            queries: 40,
            beta: 1.0,
            seed: 2016,
        }
    }
}

/// One cell of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoRow {
    /// Degree `n`.
    pub n: u32,
    /// Number of memories `K`.
    pub k: usize,
    /// Fraction of queries that ended exactly on their memory.
    pub recalled: f64,
    /// Mean Hamming distance from the memory at the end.
    pub mean_distance: f64,
    /// Mean sweeps until a fixed point (or the limit).
    pub mean_sweeps: f64,
    /// Mean wall time per retrieval, microseconds.
    pub micros: f64,
}

/// Runs the grid of `config` and returns one row per `(n, K)`.
pub fn run(config: &DemoConfig) -> Result<Vec<DemoRow>> {
    let d = config.dim;
    let flips = (config.flip_fraction * d as f64).round() as usize;
    let mut rows = Vec::new();
    for &n in &config.degrees {
        for &k in &config.loads {
            let xi = random_bipolar(k, d, config.seed ^ ((k as u64) << 8));
            let view = MemoryView::new(&xi, k, d).context("building the memory view")?;
            let net = BipolarMemory::new(
                view,
                Interaction::Polynomial { n },
                Form::Normalized { beta: config.beta },
            )?;
            let mut overlaps = vec![0.0f32; k];
            let (mut ok, mut dist, mut sweeps) = (0usize, 0usize, 0usize);
            let start = Instant::now();
            for q in 0..config.queries {
                let mu = q % k;
                let target = &xi[mu * d..(mu + 1) * d];
                let mut state = corrupt(target, flips, config.seed.wrapping_add(q as u64));
                let r = net.retrieve(&mut state, &mut overlaps, UpdateOrder::Sequential, 50)?;
                let h = hamming(target, &state);
                ok += usize::from(h == 0);
                dist += h;
                sweeps += r.sweeps;
            }
            let q = config.queries.max(1) as f64;
            rows.push(DemoRow {
                n,
                k,
                recalled: ok as f64 / q,
                mean_distance: dist as f64 / q,
                mean_sweeps: sweeps as f64 / q,
                micros: start.elapsed().as_secs_f64() * 1e6 / q,
            });
        }
    }
    Ok(rows)
}

/// Formats rows as a plain-text table.
pub fn table(config: &DemoConfig, rows: &[DemoRow]) -> String {
    let mut out = format!(
        "Recall of random bipolar memories, D = {}, {:.0}% of bits flipped, {} queries per row,\n\
         F(s) = s^n in the normalized form (beta = {}), asynchronous updates.\n\n",
        config.dim,
        config.flip_fraction * 100.0,
        config.queries,
        config.beta
    );
    out.push_str("   n       K     K/D   recalled   mean dist   sweeps   us/query\n");
    for r in rows {
        out.push_str(&format!(
            "{:>4} {:>7} {:>7.2} {:>9.0}% {:>11.2} {:>8.2} {:>10.1}\n",
            r.n,
            r.k,
            r.k as f64 / config.dim as f64,
            r.recalled * 100.0,
            r.mean_distance,
            r.mean_sweeps,
            r.micros
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_degree_stores_more() {
        let config = DemoConfig {
            dim: 60,
            degrees: vec![2, 4],
            loads: vec![60],
            queries: 20,
            ..DemoConfig::default()
        };
        let rows = run(&config).unwrap();
        assert_eq!(rows.len(), 2);
        // K = D is far beyond n = 2's capacity (≈ D / (2 ln D) ≈ 7) and well
        // inside n = 4's.
        assert!(rows[0].recalled < 0.5, "{rows:?}");
        assert_eq!(rows[1].recalled, 1.0, "{rows:?}");
        assert!(table(&config, &rows).contains("recalled"));
    }
}
