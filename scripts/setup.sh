#!/usr/bin/env bash
# Installs what the build needs and is not in a fresh Rust toolchain.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

need_targets=(thumbv7em-none-eabihf thumbv6m-none-eabi aarch64-unknown-linux-gnu)
installed=$(rustup target list --installed)
for t in "${need_targets[@]}"; do
    if ! grep -qx "$t" <<<"$installed"; then
        echo "setup: rustup target add $t"
        rustup target add "$t"
    fi
done
for c in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$c"; then
        echo "setup: rustup component add $c"
        rustup component add "$c"
    fi
done

# cargo-fuzz for scripts/fuzz.sh (stable toolchain, no sanitizers).
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "setup: cargo install cargo-fuzz"
    cargo install cargo-fuzz --locked --version 0.13.2
fi

# cbindgen generates include/dam.h from ffi/ (.ci/run checks it is current).
# The CLI rather than a build-dependency: only the header check needs it,
# not every build of dam-ffi (its build script would compile syn and serde
# for the thumb builds too).
if ! command -v cbindgen >/dev/null 2>&1; then
    echo "setup: cargo install cbindgen"
    cargo install cbindgen --locked --version 0.29.4
fi

# User-mode QEMU and a cross linker: the NEON kernel tests run on an
# emulated aarch64 (.cargo/config.toml names the linker and the runner).
if ! command -v qemu-aarch64 >/dev/null 2>&1 || ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
    echo "setup: apt-get install qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq || true
    $sudo_cmd apt-get install -y -qq qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
fi

# flip-link: the linker of the hardware board crates (boards/stm32f4,
# boards/rp2040), for stack-overflow protection.
if ! command -v flip-link >/dev/null 2>&1; then
    echo "setup: cargo install flip-link"
    cargo install flip-link --locked --version 0.1.10
fi

# QEMU for the emulated boards (boards/qemu-an386, boards/stm32f4).
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    echo "setup: apt-get install qemu-system-arm"
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq || true
    $sudo_cmd apt-get install -y -qq qemu-system-arm
fi

# The Arm GNU toolchain and newlib for the C firmware (boards/c-qemu).
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1 || [ ! -d /usr/lib/arm-none-eabi/newlib ]; then
    echo "setup: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi"
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq || true
    $sudo_cmd apt-get install -y -qq gcc-arm-none-eabi libnewlib-arm-none-eabi
fi
