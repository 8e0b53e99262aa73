#!/usr/bin/env bash
# Miri on dam-core's unsafe SIMD module: the kernel proptests
# (core/tests/simd_kernels.rs) and the unit tests of core/src/simd (the
# integer kernels and the x86 tile shapes), 3 cases per property under Miri,
# compare every path Miri can run with the scalar reference, checking each
# `unsafe` load/store for out-of-bounds, misaligned and uninitialized
# access. Too slow for .ci/run; see docs/robustness.md for the figures.
#
# Under Miri, cpufeatures cannot run `cpuid` and reports only the features
# enabled at compile time, so the default run covers SSE2 and the scalar
# reference; MIRI_AVX2=1 adds a second run compiled with AVX2 and FMA,
# whose intrinsics Miri implements. AVX-512 is never run under Miri (no
# support for its intrinsics): `Isa::Avx512f.is_available()` is false
# there and the dispatcher falls back to scalar. `cfg(miri)` shrinks two
# things only: the L2 block of `gemm_nt_fused` (4 KiB instead of 192 KiB,
# so a small test spans several blocks) and the test sizes.
#
#   bash scripts/miri.sh
#   MIRI_AVX2=1 bash scripts/miri.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rustup component add miri rust-src --toolchain nightly >/dev/null
# proptest's failure persistence needs the file system.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
run() {
    cargo +nightly miri test -p dam-core --test simd_kernels "$@"
    cargo +nightly miri test -p dam-core --lib "$@" -- simd::
}
run
if [ "${MIRI_AVX2:-0}" = 1 ]; then
    RUSTFLAGS="-C target-feature=+avx2,+fma" run --target-dir target/miri-avx2
fi
