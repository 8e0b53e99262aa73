#!/usr/bin/env bash
# Long fuzzing runs with the address sanitizer (nightly), measured in CPU
# time rather than wall time: on a shared 2-core machine a wall-clock hour
# can be a few CPU-minutes of fuzzing. Each target runs until its process has
# used FUZZ_CPU_SECONDS of CPU (default 3600), then gets SIGINT, on which
# libFuzzer prints its final statistics and exits. New inputs go to
# $FUZZ_WORK/<target> (default /tmp/fuzz-long), so the committed corpus is
# never changed; a crash leaves its input in fuzz/artifacts/<target>/ and
# makes this script fail. Logs: $FUZZ_WORK/<target>.log.
#
#   bash scripts/fuzz-long.sh model readers      # one after the other
#   FUZZ_CPU_SECONDS=600 bash scripts/fuzz-long.sh simd
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
budget=${FUZZ_CPU_SECONDS:-3600}
work_root=${FUZZ_WORK:-/tmp/fuzz-long}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
rustup component add rust-src --toolchain nightly >/dev/null
# cargo fuzz build takes one target at a time.
for t in "${targets[@]}"; do
    cargo +nightly fuzz build --release "$t" >/dev/null
done
mkdir -p "$work_root"
for t in "${targets[@]}"; do
    bin=target/x86_64-unknown-linux-gnu/release/$t
    work="$work_root/$t"
    log="$work_root/$t.log"
    mkdir -p "$work" "artifacts/$t"
    echo "fuzz-long: $t until ${budget} s of CPU (log $log)"
    start=$(date +%s)
    # Wall-time cap: 4x the CPU budget, in case the machine is starved.
    "$bin" "$work" "corpus/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time=$((budget * 4)) -timeout=10 -rss_limit_mb=4096 \
        -print_final_stats=1 >"$log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
        if [ $((ticks / $(getconf CLK_TCK))) -ge "$budget" ]; then
            kill -INT "$pid"
            break
        fi
        sleep 5
    done
    status=0
    wait "$pid" || status=$?
    cpu=$((ticks / $(getconf CLK_TCK)))
    echo "fuzz-long: $t ended: status $status, ${cpu} s CPU, $(( $(date +%s) - start )) s wall"
    grep -E "^#[0-9]+.*(DONE|pulse|NEW)" "$log" | tail -1 || true
    grep -E "stat::|SUMMARY|panicked|Test unit written|ERROR" "$log" || true
    # 72 is libFuzzer's exit code for an interrupted (SIGINT) run, 0 a run that reached its time cap.
    if [ "$status" -ne 0 ] && [ "$status" -ne 72 ]; then
        tail -40 "$log"
        echo "fuzz-long: $t FAILED (input in fuzz/artifacts/$t/)"
        exit "$status"
    fi
done
