#!/usr/bin/env bash
# From a fresh clone: installs what is missing, fetches the embedding model, builds
# Brandpilot, teaches it the sample brand in examples/sample-brand/ and asks it a question.
# Pass your own question as the first argument.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-system.sh
scripts/setup-models.sh
cargo build --release --locked -p brandpilot
bin="${CARGO_TARGET_DIR:-target}/release/brandpilot"

"$bin" ingest examples/sample-brand --brand northwind --tag sample
"$bin" search "${1:-can I get a refund on an opened bag of coffee?}" --brand northwind -k 3
