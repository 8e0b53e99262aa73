//! Random-feature memories (\[DrDAM\], math.md §6) for batches of queries on
//! the desktop: the projection and its transpose held in RAM, the two
//! products of every energy-and-gradient pass done as packed matrix
//! products (`matrixmultiply::sgemm` through
//! [`crate::train::overlaps::gemm_scaled`]) over cache-sized chunks of
//! features, with the sine/cosine pass (`dam_core::trig::sin_cos_slice`,
//! AVX2 when the CPU has it) between them while the chunk is in cache;
//! blocks of queries split across threads with rayon.
//!
//! The results equal [`dam_core::DrDam`]'s up to float reassociation (the
//! tests check 1e-4 relative); `dam_core::DrDam` remains the reference and
//! the firmware path.

use crate::train::overlaps::{Mat, gemm_scaled};
use anyhow::{Result, bail};
use dam_core::{Real, SeededProjection, simd};
use rayon::prelude::*;

/// A DrDAM memory with its projection `S` (`Y × D`) in RAM, row-major and
/// column-major.
#[derive(Debug, Clone)]
pub struct DrDamBatch {
    y: usize,
    d: usize,
    beta: f32,
    s: Vec<f32>,
    st: Vec<f32>,
    t: Vec<f32>,
}

/// Queries per block: the unit of work of a thread (500 queries make two
/// blocks, one per core of the benchmark machine).
const BLOCK: usize = 256;

/// Features per chunk of a block: the chunk's `Y_CHUNK × BLOCK` part of `H`
/// (256 KiB) and `Y_CHUNK × D` part of `S` (100 KiB at `D = 100`) stay in
/// L2 between the two products. 128 to 512 measured within 5% of each
/// other at `D = 100, Y = 10^4` (CPU time per pass, 1 thread).
const Y_CHUNK: usize = 256;

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
        if self.d == 0 || !xs.len().is_multiple_of(self.d) {
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

    /// One block of at most `BLOCK` queries, over chunks of `Y_CHUNK`
    /// features `c`: `H_cᵀ = √β S_c Xᵀ`, the element-wise pass (sine and
    /// cosine, the energy's dot with `T`, `W_cᵀ` in place of `H_cᵀ`), then
    /// `Gᵀ += S_cᵀ W_cᵀ`. A chunk of `H` and of `S` stays in cache between
    /// the two products, and every operand is laid out so that the product
    /// packs it with contiguous reads (`S` column-major for the first, row-
    /// major for the second; `Hᵀ` and `Xᵀ` row-major).
    fn block(&self, xs: &[f32], energies: &mut [f32], grads: &mut [f32]) {
        let (y, d) = (self.y, self.d);
        let b = energies.len();
        let sqrt_beta = self.beta.sqrt();
        let sqrt_y = (y as f32).sqrt();
        let yc_max = Y_CHUNK.min(y).max(1);
        let mut xt = vec![0.0f32; d * b];
        for (q, x) in xs.chunks_exact(d).enumerate() {
            for (k, &v) in x.iter().enumerate() {
                xt[k * b + q] = v;
            }
        }
        let mut w = vec![0.0f32; yc_max * b];
        let (mut sn, mut cs) = (vec![0.0f32; b], vec![0.0f32; b]);
        let mut dots = vec![0.0f32; b];
        let mut gt = vec![0.0f32; d * b];
        for (c, s_c) in self.s.chunks(yc_max * d).enumerate() {
            let yc = s_c.len() / d;
            let j0 = c * yc_max;
            let w = &mut w[..yc * b];
            let s_col = Mat::transposed(&self.st[j0..], yc, d, y);
            gemm_scaled(sqrt_beta, s_col, Mat::rows(&xt, d, b, b), false, w);
            for (j, row) in w.chunks_exact_mut(b).enumerate() {
                let (tc, ts) = (self.t[j0 + j], self.t[y + j0 + j]);
                f32::sin_cos_slice(row, &mut sn, &mut cs);
                for (((r, dot), &s), &c) in row.iter_mut().zip(dots.iter_mut()).zip(&sn).zip(&cs) {
                    *dot += c * tc + s * ts;
                    *r = c * ts - s * tc;
                }
            }
            let s_c_t = Mat::transposed(s_c, d, yc, d);
            gemm_scaled(1.0, s_c_t, Mat::rows(w, yc, b, b), true, &mut gt);
        }
        let floor = dam_core::DrDam::<f32, SeededProjection, Vec<f32>>::FLOOR as f32;
        for (q, ((e, g), dot)) in energies
            .iter_mut()
            .zip(grads.chunks_exact_mut(d))
            .zip(dots)
            .enumerate()
        {
            let phi_t = dot / sqrt_y;
            if phi_t <= floor {
                g.iter_mut().for_each(|v| *v = 0.0);
            } else {
                let scale = -1.0 / (sqrt_beta * sqrt_y * phi_t);
                for (k, v) in g.iter_mut().enumerate() {
                    *v = gt[k * b + q] * scale;
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
        // More than one block of queries, a last block and a last chunk of
        // features (300 = 256 + 44) that are partial.
        let nq = BLOCK + 9;
        let queries: Vec<f32> = (0..nq * d)
            .map(|i| ((i * 53 % 13) as f32 - 6.0) / 25.0)
            .collect();
        let mut e = vec![0.0f32; nq];
        let mut g = vec![0.0f32; nq * d];
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
