#!/usr/bin/env bash
# Regenerates the headline performance table of BENCHMARKS.md on this
# machine: prints the CPU model and SIMD flags, runs the relevant criterion
# benchmarks of `dam-benches` in a quick mode, reads criterion's
# `target/criterion/**/new/{benchmark,estimates}.json` and prints
#
#   | workload | dam | best baseline | limit | ratio |
#
# in Markdown (ratio = dam ÷ best baseline; the limit column also gives dam
# as a fraction of the machine limit measured in the same run).
#
# Usage: scripts/bench-table.sh [--full] [--dry-run]
#   --full     also the batch-1000 rows (a GEMM of 1000 × 2000 × 794 per
#              iteration; several minutes more on 2 cores)
#   --dry-run  print the commands, run nothing
#
# Quick mode took 1 min 20 s on the 2-core development machine (load 9),
# after `cargo bench -p dam-benches --no-run` (the build is not counted).
# Figures are criterion's median, thread CPU time (see
# benches/benches/support/mod.rs); the load average is printed with them
# because the machine is shared. Not part of .ci/run.
set -euo pipefail

full=0
dry=0
for arg in "$@"; do
    case "$arg" in
        --full) full=1 ;;
        --dry-run) dry=1 ;;
        -h | --help)
            sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "unknown argument: $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

cd "$(dirname "$0")/.."
quick=(--warm-up-time 1 --measurement-time 3)

# Criterion filters (regular expressions on `group/function`).
kernels='^limits/(fma_avx2_12chains|fma_avx512_12chains|read_6\.35MB)$'
kernels+='|^batch1_K(100|2000)_D794/(dam_gemv|nalgebra_gemv_tr|matrixmultiply_sgemm|iterator)$'
if [ "$full" = 1 ]; then
    kernels+='|^batch1000_K(100|2000)_D794/(dam_fused|dam_fused_runs|matrixmultiply_sgemm_then_pass|nalgebra_gemm_tr_then_pass)$'
fi
retrieval='^bipolar_sweep_K(100|1000)_D1000/sequential_1_sweep(_packed)?$'

echo "# dam benchmark table"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) logical CPUs)"
echo "- SIMD flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(sse2|avx|avx2|fma|avx512[a-z_0-9]*)$' | sort -u | tr '\n' ' ')"
echo "- load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- mode: $([ "$full" = 1 ] && echo full || echo quick) (criterion ${quick[*]})"
echo

run() {
    echo "\$ $*" >&2
    if [ "$dry" = 0 ]; then
        "$@" >&2
    fi
}

stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
# Files older than the stamp are from earlier runs and are ignored.
sleep 1
run nice -n 10 cargo bench -q -p dam-benches --bench kernels -- "${quick[@]}" "$kernels"
run nice -n 10 cargo bench -q -p dam-benches --bench retrieval -- "${quick[@]}" "$retrieval"
[ "$dry" = 1 ] && exit 0

echo "- load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

target=$(cargo metadata -q --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

python3 - "$target/criterion" "$stamp" "$full" <<'PY'
import json, os, sys

root, stamp, full = sys.argv[1], os.path.getmtime(sys.argv[2]), sys.argv[3] == "1"

# full_id -> (median seconds per iteration, throughput dict)
runs = {}
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
        continue
    est = os.path.join(dirpath, "estimates.json")
    if os.path.getmtime(est) < stamp:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        bench = json.load(f)
    with open(est) as f:
        median_ns = json.load(f)["median"]["point_estimate"]
    runs[bench["full_id"]] = (median_ns * 1e-9, bench.get("throughput") or {})


def rate(full_id, scale=1.0):
    """Throughput per second of a benchmark of this run (elements or bytes), or None."""
    if full_id not in runs:
        return None
    secs, tp = runs[full_id]
    n = tp.get("Elements", tp.get("Bytes"))
    return None if n is None else n / secs * scale


def gib(x):
    return f"{x / 2**30:.1f} GiB/s"


def gflops(x):
    return f"{x / 1e9:.1f} GFLOP/s"


def mups(x):
    return f"{x / 1e6:.0f} M overlap-updates/s"


def best(group, names, scale=1.0):
    """(name, rate) of the fastest of the baselines that ran."""
    found = [(n, rate(f"{group}/{n}", scale)) for n in names]
    found = [(n, r) for n, r in found if r is not None]
    return max(found, key=lambda p: p[1]) if found else (None, None)


rows = []
peak = max(
    (r for r in (rate("limits/fma_avx2_12chains"), rate("limits/fma_avx512_12chains")) if r),
    default=None,
)
read = rate("limits/read_6.35MB")

for k in (2000, 100):
    g = f"batch1_K{k}_D794"
    dam = rate(f"{g}/dam_gemv")
    name, base = best(g, ["nalgebra_gemv_tr", "matrixmultiply_sgemm", "iterator"])
    limit = read if k == 2000 else None
    rows.append((f"batch 1, K = {k}, D = 794 (bytes of memories read)", "`dam_gemv`", dam, name, base, limit, gib))

if full:
    for k in (2000, 100):
        g = f"batch1000_K{k}_D794"
        name, base = best(g, ["matrixmultiply_sgemm_then_pass", "nalgebra_gemm_tr_then_pass"])
        # The pass per product (`gemm_nt_fused`), then per run of memories
        # (`gemm_nt_fused_runs`, the interaction vectorized by the caller).
        for fn, label in (("dam_fused", "per product"), ("dam_fused_runs", "per run")):
            dam = rate(f"{g}/{fn}")
            rows.append((f"batch 1000, K = {k}, D = 794, pass {label} (FLOP)", f"`{fn}`", dam,
                         name, base, peak, gflops))

for k in (1000, 100):
    g = f"bipolar_sweep_K{k}_D1000"
    # elem/s counts 2·K·D per sweep: overlap-updates/s is half of it.
    dam = rate(f"{g}/sequential_1_sweep_packed", 0.5)
    ref = rate(f"{g}/sequential_1_sweep", 0.5)
    rows.append((f"bipolar sweep, K = {k}, D = 1000, n = 3", "`PackedBipolar`", dam,
                 "reference `retrieve` (no external baseline)", ref, None, mups))

print("Limits measured in this run: peak FMA "
      + (gflops(peak) if peak else "not run")
      + ", read of 6.35 MB " + (gib(read) if read else "not run") + ".\n")
print("| workload | dam | best baseline | limit | ratio |")
print("|---|---|---|---|---|")
for workload, dam_name, dam, base_name, base, limit, unit in rows:
    dam_s = f"{dam_name} {unit(dam)}" if dam else "not run"
    base_s = f"{base_name} {unit(base)}" if base else "–"
    if limit and dam:
        limit_s = f"{unit(limit)} (dam at {100 * dam / limit:.0f} %)"
    else:
        limit_s = "–"
    ratio = f"{dam / base:.2f}×" if dam and base else "–"
    print(f"| {workload} | {dam_s} | {base_s} | {limit_s} | {ratio} |")
if not runs:
    print("\nNo criterion results newer than this run were found.", file=sys.stderr)
    sys.exit(1)
PY
