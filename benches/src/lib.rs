//! Criterion benchmarks of `dam-core` against baselines; see `BENCHMARKS.md`.
//! The benchmarks live in `benches/benches/`; this library is empty.
