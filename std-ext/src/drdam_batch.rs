//! Random-feature memories (\[DrDAM\], SPEC §6) for batches of queries on
//! the desktop: the projection and its transpose held in RAM, the two
//! products of every energy-and-gradient pass done as register-blocked
//! matrix products (`dam_core::simd::gemm_nt`), queries split across
//! threads with rayon.
//!
//! The results equal [`dam_core::DrDam`]'s up to float reassociation (the
//! tests check 1e-4 relative); `dam_core::DrDam` remains the reference and
//! the firmware path.

use anyhow::{Result, bail};
use dam_core::{Real, SeededProjection, simd};
use rayon::prelude::*;

/// A DrDAM memory with its projection `S` (`Y × D`) and `Sᵀ` in RAM.
#[derive(Debug, Clone)]
pub struct DrDamBatch {
    y: usize,
    d: usize,
    beta: f32,
    s: Vec<f32>,
    st: Vec<f32>,
    t: Vec<f32>,
}

/// Queries per block of the products: bounds the `B × Y` scratch.
const BLOCK: usize = 64;

impl DrDamBatch {
    /// An empty memory over the seeded projection `(seed, y, d)`: the same
    /// `S` as [`SeededProjection`] gives on every target.
    pub fn new(seed: u64, y: usize, d: usize, beta: f32) -> Result<Self> {
        if !(beta.is_finite() && beta > 0.0) {
            bail!("beta must be finite and > 0, got {beta}");
        }
        let proj = SeededProjection::new(seed, y, d)?;
        let mut s = vec![0.0f32; y * d];
        proj.fill(&mut s)?;
        let mut st = vec![0.0f32; d * y];
        for (j, row) in s.chunks_exact(d).enumerate() {
            for (i, &v) in row.iter().enumerate() {
                st[i * y + j] = v;
            }
        }
        Ok(DrDamBatch {
            y,
            d,
            beta,
            s,
            st,
            t: vec![0.0; 2 * y],
        })
    }

    /// The memory vector `T` (`2Y`: cosines, then sines).
    pub fn memory(&self) -> &[f32] {
        &self.t
    }

    /// The projection `S`, row-major `Y × D`.
    pub fn projection(&self) -> &[f32] {
        &self.s
    }

    /// `T += Σ φ(ξ)` over the rows of `patterns` (`K × D`).
    pub fn store_all(&mut self, patterns: &[f32]) -> Result<()> {
        self.check(patterns)?;
        let (y, d) = (self.y, self.d);
        let sqrt_beta = self.beta.sqrt();
        let norm = 1.0 / (y as f32).sqrt();
        let mut h = vec![0.0f32; BLOCK.min(patterns.len() / d.max(1)).max(1) * y];
        let (mut sn, mut cs) = (vec![0.0f32; y], vec![0.0f32; y]);
        for block in patterns.chunks(BLOCK * d) {
            let b = block.len() / d;
            let h = &mut h[..b * y];
            simd::gemm_nt(block, &self.s, d, h);
            for row in h.chunks_exact_mut(y) {
                row.iter_mut().for_each(|v| *v *= sqrt_beta);
                f32::sin_cos_slice(row, &mut sn, &mut cs);
                let (tc, ts) = self.t.split_at_mut(y);
                for j in 0..y {
                    tc[j] += cs[j] * norm;
                    ts[j] += sn[j] * norm;
                }
            }
        }
        Ok(())
    }

    fn check(&self, xs: &[f32]) -> Result<()> {
        if self.d == 0 || xs.len() % self.d != 0 {
            bail!("{} values are not whole rows of D = {}", xs.len(), self.d);
        }
        if let Some(i) = xs.iter().position(|x| !x.is_finite()) {
            bail!("query value {} at index {i} is not finite", xs[i]);
        }
        Ok(())
    }

    /// Energies (`B`) and gradients (`B × D`) of the queries `xs` (`B × D`),
    /// split across the rayon pool.
    pub fn energy_and_gradient(
        &self,
        xs: &[f32],
        energies: &mut [f32],
        grads: &mut [f32],
    ) -> Result<()> {
        self.check(xs)?;
        let b = xs.len() / self.d;
        if energies.len() != b || grads.len() != xs.len() {
            bail!("need {b} energies and {} gradient values", xs.len());
        }
        let d = self.d;
        xs.par_chunks(BLOCK * d)
            .zip(energies.par_chunks_mut(BLOCK))
            .zip(grads.par_chunks_mut(BLOCK * d))
            .for_each(|((x, e), g)| self.block(x, e, g));
        if let Some(i) = energies.iter().position(|e| !e.is_finite()) {
            bail!("energy of query {i} overflows f32");
        }
        Ok(())
    }

    /// One block of at most `BLOCK` queries: `Hᵀ = X Sᵀ`, the element-wise
    /// pass, then `G = Sᵀ·W` as `gemm_nt(Sᵀ, Wᵀ)`.
    fn block(&self, xs: &[f32], energies: &mut [f32], grads: &mut [f32]) {
        let (y, d) = (self.y, self.d);
        let b = energies.len();
        let sqrt_beta = self.beta.sqrt();
        let sqrt_y = (y as f32).sqrt();
        let mut w = vec![0.0f32; b * y];
        simd::gemm_nt(xs, &self.s, d, &mut w);
        let (tc, ts) = self.t.split_at(y);
        let (mut sn, mut cs) = (vec![0.0f32; y], vec![0.0f32; y]);
        for (row, e) in w.chunks_exact_mut(y).zip(energies.iter_mut()) {
            row.iter_mut().for_each(|v| *v *= sqrt_beta);
            f32::sin_cos_slice(row, &mut sn, &mut cs);
            let mut dot = 0.0f32;
            for j in 0..y {
                dot += cs[j] * tc[j] + sn[j] * ts[j];
                row[j] = -sn[j] * tc[j] + cs[j] * ts[j];
            }
            *e = dot / sqrt_y;
        }
        let mut gt = vec![0.0f32; d * b];
        simd::gemm_nt(&self.st, &w, y, &mut gt);
        let floor = dam_core::DrDam::<f32, SeededProjection, Vec<f32>>::FLOOR as f32;
        for (bi, (e, g)) in energies
            .iter_mut()
            .zip(grads.chunks_exact_mut(d))
            .enumerate()
        {
            let phi_t = *e;
            if phi_t <= floor {
                g.iter_mut().for_each(|v| *v = 0.0);
            } else {
                let scale = -1.0 / (sqrt_beta * sqrt_y * phi_t);
                for (i, v) in g.iter_mut().enumerate() {
                    *v = gt[i * b + bi] * scale;
                }
            }
            *e = -phi_t.max(floor).ln() / self.beta;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::{DrDam, EnergyModel};

    #[test]
    fn matches_the_core_reference() {
        let (d, y, beta) = (12, 300, 6.0f32);
        let patterns: Vec<f32> = (0..5 * d)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 20.0)
            .collect();
        let mut batch = DrDamBatch::new(9, y, d, beta).unwrap();
        batch.store_all(&patterns).unwrap();
        let mut core = DrDam::new(
            SeededProjection::new(9, y, d).unwrap(),
            beta,
            vec![0.0f32; 2 * y],
        )
        .unwrap();
        let mut scratch = vec![0.0f32; d];
        for p in patterns.chunks_exact(d) {
            core.store(p, &mut scratch).unwrap();
        }
        for (a, b) in batch.memory().iter().zip(core.memory()) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        let queries: Vec<f32> = (0..70 * d)
            .map(|i| ((i * 53 % 13) as f32 - 6.0) / 25.0)
            .collect();
        let mut e = vec![0.0f32; 70];
        let mut g = vec![0.0f32; 70 * d];
        batch.energy_and_gradient(&queries, &mut e, &mut g).unwrap();
        let mut g1 = vec![0.0f32; d];
        for (bi, q) in queries.chunks_exact(d).enumerate() {
            let e1 = core.energy_and_gradient(q, &mut g1, &mut scratch).unwrap();
            assert!(
                (e[bi] - e1).abs() <= 1e-4 * e1.abs().max(1.0),
                "query {bi}: {} vs {e1}",
                e[bi]
            );
            let scale = g1.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-3);
            for (a, b) in g[bi * d..(bi + 1) * d].iter().zip(&g1) {
                assert!((a - b).abs() <= 1e-3 * scale, "query {bi}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let batch = DrDamBatch::new(1, 10, 4, 1.0).unwrap();
        let (mut e, mut g) = (vec![0.0; 1], vec![0.0; 4]);
        assert!(
            batch
                .energy_and_gradient(&[0.0; 3], &mut e, &mut g)
                .is_err()
        );
        assert!(
            batch
                .energy_and_gradient(&[0.0, f32::NAN, 0.0, 0.0], &mut e, &mut g)
                .is_err()
        );
        assert!(DrDamBatch::new(1, 10, 4, -1.0).is_err());
    }
}
