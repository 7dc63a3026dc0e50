#!/usr/bin/env bash
# From a fresh clone: installs what is missing, fetches the models, builds Brandpilot,
# teaches it the sample brand in examples/sample-brand/, asks it a question, and has the
# local chat model (no provider configured, no network) write a caption; then creates an
# API key and serves the HTTP API until Ctrl-C (BRANDPILOT_QUICKSTART_SERVE=0 skips that).
# Pass your own question as the first argument.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-system.sh
scripts/setup-models.sh
cargo build --release --locked -p brandpilot
bin="${CARGO_TARGET_DIR:-target}/release/brandpilot"

"$bin" ingest examples/sample-brand --brand northwind --tag sample
"$bin" search "${1:-can I get a refund on an opened bag of coffee?}" --brand northwind -k 3
"$bin" chat "Write a one-sentence Instagram caption for a coffee shop's new oat-milk latte"

if [ "${BRANDPILOT_QUICKSTART_SERVE:-1}" != 0 ]; then
    key=$("$bin" keys create --name quickstart)
    echo
    echo "An API key for the sample brand's workspace (shown once; only its hash is stored):"
    echo
    echo "    export BRANDPILOT_KEY=$key"
    echo
    echo "Then, in another terminal:"
    echo
    echo '    curl -s -H "Authorization: Bearer $BRANDPILOT_KEY" http://127.0.0.1:8080/api/v1/brands'
    echo
    exec "$bin" serve
fi
