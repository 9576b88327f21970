#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test.
# Needs only a Rust toolchain (and, once the emulator tests land, python3 with pip).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
# The protocol vector harness prints its per-protocol tallies; --nocapture is not
# needed because it is a plain binary (harness = false).
cargo test --workspace
echo "== all tests passed"
