#!/usr/bin/env bash
# Runs every cargo-fuzz target for a fixed budget (default 30 s each) on the
# stable toolchain without sanitizers (`-s none`). Seeds come from
# fuzz/corpus/<target>/ (read-only here: new inputs go to a temporary
# directory, so a run never changes the repository). A crash fails the
# script and leaves the input in fuzz/artifacts/<target>/; so does an input
# that runs longer than FUZZ_TIMEOUT seconds (default 10: every target
# handles an input in milliseconds, so a slow one is a hang).
#
#   bash scripts/fuzz.sh            # 30 s per target
#   FUZZ_SECONDS=3600 bash scripts/fuzz.sh retrieval
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-30}
per_input=${FUZZ_TIMEOUT:-10}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
for t in "${targets[@]}"; do
    work=$(mktemp -d)
    echo "fuzz: $t for ${seconds}s"
    log="$work/log"
    status=0
    cargo fuzz run -s none --release "$t" "$work" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout="$per_input" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E "DONE|ALARM|timeout|stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY|panicked|Test unit written" "$log" || true
    if [ "$status" -ne 0 ]; then tail -40 "$log"; fi
    rm -rf "$work"
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $t FAILED (input in fuzz/artifacts/$t/)"
        exit "$status"
    fi
done
