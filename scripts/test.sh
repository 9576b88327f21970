#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test.
# Needs a Rust toolchain, python3 with venv and pip (for moto, the AWS emulator), and
# PostgreSQL's server packages and Chromium (installed with apt when missing:
# scripts/setup-postgres.sh, scripts/setup-chromium.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
# In a target dir of its own: its check-only artifacts (about 200 MB) are no use to the
# test build, and CI, which must keep its target dir under 2 GB, removes them after.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/clippy" cargo clippy --workspace --all-targets -- -D warnings
if [ -n "${CI:-}" ]; then
    rm -rf "${CARGO_TARGET_DIR:-target}/clippy"
fi
echo "== python test kit (moto, boto3)"
# Creates .venv with the pinned moto and boto3; returns at once when already done.
./scripts/setup-python.sh
echo "== PostgreSQL server for the PostgreSQL store tests"
./scripts/setup-postgres.sh
echo "== Chromium for the HTML report tests"
./scripts/setup-chromium.sh
echo "== cargo test"
# The protocol vector harness prints its per-protocol tallies; --nocapture is not
# needed because it is a plain binary (harness = false).
cargo test --workspace
echo "== all tests passed"
