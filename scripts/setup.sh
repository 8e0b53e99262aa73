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
