#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, model files, formatting,
# lints, then every test of every crate. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-system.sh
scripts/setup-models.sh

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi

# The HTTP API against its own OpenAPI document (schemathesis from PyPI, in a venv).
scripts/schemathesis.sh
