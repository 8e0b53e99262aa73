#!/usr/bin/env bash
# Miri on all of dam-core: `cargo +nightly miri test -p dam-core`, every
# unit test, integration test (core/tests) and doctest, checking each
# `unsafe` access (the SIMD kernels of core/src/simd above all) for
# out-of-bounds, misaligned and uninitialized memory and every other kind
# of undefined behaviour Miri detects. Too slow for .ci/run: 18 minutes
# (plus 4 for the first build; MIRI_AVX2=1 adds 5) on a loaded 2-core
# machine. Figures in docs/robustness.md, "Miri".
#
# Miri is about 10^5 times slower than native code, so under `cfg(miri)`
# the tests shrink their sizes and proptest case counts (native runs are
# unchanged), and proptest keeps no failure file (Miri's isolation has no
# file system), so the command needs no MIRIFLAGS. Four statistical tests
# are `#[cfg_attr(miri, ignore)]`, each with its reason. The library's
# `cfg(miri)` difference: the L2 block of `gemm_nt_fused` is 4 KiB instead
# of 192 KiB, so small tests span several blocks. For the test build only,
# core/Cargo.toml turns on libm's `force-soft-floats` under Miri (libm's
# x86 `sqrt`/`fma` are inline assembly, which Miri cannot run).
#
# Under Miri, cpufeatures cannot run `cpuid` and reports only the features
# enabled at compile time, so the default run covers SSE2 and the scalar
# reference; MIRI_AVX2=1 adds a second run of the kernel tests
# (core/tests/simd_kernels.rs and the lib's `simd::` unit tests) compiled
# with AVX2 and FMA, whose intrinsics Miri implements, in its own target
# directory. AVX-512 is never run under Miri (no support for its
# intrinsics): `Isa::Avx512f.is_available()` is false there and the
# dispatcher falls back to scalar.
#
#   bash scripts/miri.sh
#   MIRI_AVX2=1 bash scripts/miri.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rustup component add miri rust-src --toolchain nightly >/dev/null
cargo +nightly miri test -p dam-core
if [ "${MIRI_AVX2:-0}" = 1 ]; then
    export RUSTFLAGS="-C target-feature=+avx2,+fma"
    cargo +nightly miri test -p dam-core --target-dir target/miri-avx2 --test simd_kernels
    cargo +nightly miri test -p dam-core --target-dir target/miri-avx2 --lib -- simd::
fi
