#!/usr/bin/env bash
# dam's i8 MNIST classifier against the MLP a firmware engineer would pick
# instead (scikit-learn, converted to C by emlearn), on the same emulated
# chips and the same flash budget: see benches/emlearn/README.md.
#
#   bash benches/emlearn/run.sh                # everything (about 10-20 min on 2 cores)
#   bash benches/emlearn/run.sh --skip-rust    # dam's C firmware only (no Rust board builds)
#   bash benches/emlearn/run.sh --hidden 36    # a given hidden size instead of the budget's
#
# Re-measures dam every time (the vectors, `dam eval`, boards/c-qemu and the
# Rust boards), trains the MLP (seed --seed, default 0), and prints one
# Markdown table. Logs and builds: benches/emlearn/build/ (not committed).
# Needs: cargo and the Rust targets, arm-none-eabi-gcc with newlib,
# qemu-system-arm, llvm-size (scripts/setup.sh), and numpy, scikit-learn,
# emlearn for python3 (scripts/setup-python.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

SKIP_RUST=0
HIDDEN=
SEED=0
BUDGET=131072 # flash for model + code: 128 KiB, the boards' goal
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-rust) SKIP_RUST=1 ;;
        --hidden) HIDDEN=${2:?--hidden needs a number}; shift ;;
        --seed) SEED=${2:?--seed needs a number}; shift ;;
        -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

PYTHON=${PYTHON:-python3}
NICE="nice -n 10"
OUT=$ROOT/benches/emlearn/build
LOGS=$OUT/logs
MODEL=boards/data/mnist-k120.i8.dam
VECTORS=$ROOT/boards/data/vectors
mkdir -p "$LOGS"

die() { echo "run.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"; }
need cargo "install Rust (scripts/setup.sh)"
need arm-none-eabi-gcc "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi (scripts/setup.sh)"
need arm-none-eabi-size "apt-get install binutils-arm-none-eabi (scripts/setup.sh)"
need qemu-system-arm "apt-get install qemu-system-arm (scripts/setup.sh)"
[ "$SKIP_RUST" = 1 ] || need llvm-size "apt-get install llvm (scripts/setup.sh), or use --skip-rust"
"$PYTHON" -c 'import emlearn, sklearn, numpy, threadpoolctl' 2>/dev/null ||
    die "$PYTHON lacks emlearn, scikit-learn or numpy: bash scripts/setup-python.sh"

# Runs a step with its output in $LOGS/<name>.log; on failure shows its tail.
step() {
    local name=$1
    shift
    echo "== $name: $*" >&2
    if ! "$@" >"$LOGS/$name.log" 2>&1; then
        tail -n 30 "$LOGS/$name.log" >&2
        die "step '$name' failed (log: $LOGS/$name.log)"
    fi
}
# The first match of an extended regex in a log, or a clear failure.
grab() {
    local log=$1 re=$2 v
    v=$(grep -m1 -oE "$re" "$LOGS/$log.log" || true)
    [ -n "$v" ] || die "no '$re' in $LOGS/$log.log"
    printf '%s' "$v"
}
instructions() { grab "$1" '^[0-9]+ instructions per classification' | awk '{print $1}'; }
stack() { grab "$1" 'stack used by the check: [0-9]+' | awk '{print $NF}'; }
equal() { grab "$1" '[0-9]+/[0-9]+ predictions equal' | awk '{print $1}'; }
correct() { grab "$1" '[0-9]+ rows, [0-9]+ correct' | awk '{print $3 "/" $1}'; }
c_flash() { grab "$1" 'flash without the test vectors: [0-9]+' | awk '{print $NF}'; }
# Static RAM (.data + .bss [+ .uninit]) of an ELF, from `size -A`.
static_ram() { "$2" -A "$1" | awk '$1 ~ /^\.(data|bss|uninit)$/ { s += $2 } END { print s + 0 }'; }
# Flash of a Rust board's ELF without its test data (the vector files it embeds).
rust_flash() {
    local test_data
    test_data=$(cat "$VECTORS"/{inputs.u8,byte-values.f32,classes.u8,predictions-i8.u8} | wc -c)
    llvm-size -A "$1" | awk -v t="$test_data" \
        '$1 ~ /^\.(vector_table|boot2|text|rodata|ARM\.exidx|data)$/ { f += $2 } END { print f - t }'
}
# 161045 -> "161 045", as BENCHMARKS.md writes numbers.
group() { printf '%s' "$1" | sed -E ':a;s/^([0-9]+)([0-9]{3})/\1 \2/;ta'; }

echo "## emlearn comparison, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (instruction counts under -icount do not depend on it)"
echo "$(arm-none-eabi-gcc --version | head -1); $(qemu-system-arm --version | head -1); $(rustc --version)"
"$PYTHON" -c 'import sys, emlearn, sklearn, numpy; print(f"Python {sys.version.split()[0]}, emlearn {emlearn.__version__}, scikit-learn {sklearn.__version__}, numpy {numpy.__version__}")'
echo

# ---- dam: the boards' model, re-measured
step dam-build $NICE cargo build --release -p dam-cli
D=$ROOT/target/release/dam
step dam-predict "$D" predict --model "$MODEL" --count 500 --out "$VECTORS"
step dam-eval "$D" eval "$MODEL"
step dam-eval-fixed "$D" eval --fixed "$MODEL"
dam_acc=$(grab dam-eval 'test accuracy: *[0-9.]+' | grep -oE '[0-9.]+$')
dam_acc_fixed=$(grab dam-eval-fixed 'test accuracy: *[0-9.]+' | grep -oE '[0-9.]+$')
step dam-c-m4f $NICE make -C boards/c-qemu run
step dam-c-m0 $NICE make -C boards/c-qemu run-m0
C_ELF=$ROOT/boards/c-qemu/build
if [ "$SKIP_RUST" = 0 ]; then
    step dam-rust-m4f bash -c "cd boards/qemu-an386 && $NICE cargo run --release"
    step dam-rust-m0 bash -c "cd boards/qemu-an386 && $NICE cargo run --release --target thumbv6m-none-eabi"
    step dam-stm32f4 bash -c "cd boards/stm32f4 && $NICE cargo build --release"
    R_ELF=$ROOT/boards/qemu-an386/target
    stm32_elf=$ROOT/boards/stm32f4/target/thumbv7em-none-eabihf/release/dam-stm32f4
fi

# ---- the MLP: size the hidden layer to the budget, train, convert, build, run
make_mlp() { $NICE make --no-print-directory -f benches/emlearn/Makefile PYTHON="$PYTHON" VECTORS="$VECTORS" "$@"; }
if [ -z "$HIDDEN" ]; then
    # A one-unit network gives the flash of everything but the weights (the
    # larger of the two cores: soft float adds code on the M0+).
    step mlp-probe-train $NICE "$PYTHON" benches/emlearn/train.py --vectors "$VECTORS" --out "$OUT/probe" --hidden 1 --quick
    step mlp-probe-build make_mlp NET="$OUT/probe" all
    code=0
    for core in m4f m0; do
        make_mlp size ELF="$OUT/probe/$core/mlp.elf" >"$LOGS/mlp-probe-size-$core.log"
        f=$(c_flash "mlp-probe-size-$core")
        [ "$f" -gt "$code" ] && code=$f
    done
    code=$((code - 4 * (795 + 10))) # minus the one-unit network's weights and biases
    size_arg=(--code-bytes "$code" --budget "$BUDGET")
else
    size_arg=(--hidden "$HIDDEN")
fi
step mlp-train $NICE "$PYTHON" benches/emlearn/train.py --vectors "$VECTORS" --out "$OUT/net" --seed "$SEED" "${size_arg[@]}"
step mlp-m4f make_mlp NET="$OUT/net" run
step mlp-m0 make_mlp NET="$OUT/net" run-m0
summary() { "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$OUT/net/summary.json" "$1"; }
hidden=$(summary hidden)
mlp_acc=$(summary emlearn_host_accuracy)
sk_acc=$(summary sklearn_accuracy)
sk_equal=$(summary emlearn_equal_sklearn)
mlp_flash_m4f=$(c_flash mlp-m4f)
mlp_flash_m0=$(c_flash mlp-m0)
for f in "$mlp_flash_m4f" "$mlp_flash_m0"; do
    [ "$f" -le "$BUDGET" ] || echo "WARNING: the MLP firmware takes $f bytes of flash, over the budget of $BUDGET" >&2
done

# ---- the table
ram() { echo "$(group "$1") + $(group "$2")"; }
row_c() { # label log elf
    echo "| $1 | $(correct "$2") | $(equal "$2") | $(group "$(instructions "$2")") | $(group "$(c_flash "$2")") | $(ram "$(static_ram "$3" arm-none-eabi-size)" "$(stack "$2")") |"
}
row_rust() { # label log elf
    echo "| $1 | $(correct "$2") | $(equal "$2") | $(group "$(instructions "$2")") | $(group "$(rust_flash "$3")") (with self-checks) | $(ram "$(static_ram "$3" llvm-size)" "$(stack "$2")") |"
}
if [ -z "$HIDDEN" ]; then
    echo "Flash budget for model + code: $(group "$BUDGET") bytes. The MLP firmware without its weights takes $(group "$code") bytes (the larger of M4F and M0+), so h = $hidden: $(group "$(summary param_bytes)") bytes of float weights and biases."
fi
echo "Test accuracy, 10 000 MNIST test images, on the host: dam i8 ($MODEL) ${dam_acc}% (fixed point ${dam_acc_fixed}%);"
printf 'MLP 784-%s-10 (seed %s) %.2f%% in emlearn'"'"'s C code (scikit-learn %.2f%%, %s/10000 equal).\n' \
    "$hidden" "$SEED" "$mlp_acc" "$sk_acc" "$sk_equal"
echo
echo "| firmware (QEMU mps2-an386, -icount shift=0) | correct / rows | equal to the host | instructions per classification | flash: model + code (bytes) | RAM: static + stack (bytes) |"
echo "|---|---:|---:|---:|---:|---:|"
row_c "dam i8, C (boards/c-qemu), M4F" dam-c-m4f "$C_ELF/m4f/dam-c-qemu.elf"
[ "$SKIP_RUST" = 1 ] || row_rust "dam i8, Rust (boards/qemu-an386), M4F" dam-rust-m4f "$R_ELF/thumbv7em-none-eabihf/release/dam-qemu-an386"
row_c "**emlearn MLP 784-$hidden-10, M4F**" mlp-m4f "$OUT/net/m4f/mlp.elf"
row_c "dam fixed point, C, M0+" dam-c-m0 "$C_ELF/m0/dam-c-qemu.elf"
[ "$SKIP_RUST" = 1 ] || row_rust "dam fixed point, Rust, M0+" dam-rust-m0 "$R_ELF/thumbv6m-none-eabi/release/dam-qemu-an386"
row_c "**emlearn MLP 784-$hidden-10, M0+ (soft float)**" mlp-m0 "$OUT/net/m0/mlp.elf"
if [ "$SKIP_RUST" = 0 ]; then
    echo
    echo "dam's product firmware (boards/stm32f4, hardware build, no self-checks): model + code $(group "$(rust_flash "$stm32_elf")") bytes, static RAM $(group "$(static_ram "$stm32_elf" llvm-size)") bytes."
fi
echo
# dam's C firmware against the MLP, per core (dam's accuracy: i8 on the
# M4F, fixed point on the M0+; both on the host, 10 000 images).
verdict() {
    "$PYTHON" - "$@" <<'EOF'
import sys
core, dam_acc, mlp_acc, dam_i, mlp_i = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
acc = "at least as accurate as" if dam_acc >= mlp_acc else "less accurate than"
ins = "no more" if dam_i <= mlp_i else "more"
met = "met" if dam_acc >= mlp_acc and dam_i <= mlp_i else "NOT met"
print(f"{core}: dam is {acc} the MLP ({dam_acc:.2f}% vs {mlp_acc:.2f}%, {dam_acc - mlp_acc:+.2f} points) "
      f"with {ins} instructions per classification ({dam_i} vs {mlp_i}: {dam_i / mlp_i:.2f}x the MLP's); "
      f"at least as accurate with no more instructions: {met}.")
EOF
}
verdict M4F "$dam_acc" "$mlp_acc" "$(instructions dam-c-m4f)" "$(instructions mlp-m4f)"
verdict M0+ "$dam_acc_fixed" "$mlp_acc" "$(instructions dam-c-m0)" "$(instructions mlp-m0)"
