#!/usr/bin/env bash
# The OpenAI-compatible endpoint (/v1/chat/completions, /v1/models) driven by the official
# `openai` Python client from PyPI, as a real client: a served brand answers through it,
# streamed and not, with its citations in the extra field. Called by scripts/test.sh.
#
#   scripts/openai-client.sh [path/to/brandpilot]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-${CARGO_TARGET_DIR:-target}/debug/brandpilot}
[ -x "$bin" ] || cargo build --locked -p brandpilot
venv=${CARGO_TARGET_DIR:-target}/openai-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import openai' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check openai==3.54.0
fi

work=$(mktemp -d /tmp/brandpilot-openai.XXXXXX)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export BRANDPILOT__EMBEDDER__KIND=hashing
run() { "$bin" --data-dir "$work/data" --models-dir "$work/no-models" "$@"; }

mkdir -p "$work/docs"
printf '# Refunds\n\nDamaged parcels are refunded in full within fourteen days of delivery.\n' >"$work/docs/refunds.md"
printf '# Care\n\nLeather bags are cleaned with a dry cloth and never soaked in water.\n' >"$work/docs/care.md"
run ingest --brand acme "$work/docs" >/dev/null
key=$(run keys create --name openai-client)
# The binary itself in the background (not through `run`), so that `$!` is the server.
"$bin" --data-dir "$work/data" --models-dir "$work/no-models" serve --bind 127.0.0.1:0 \
    >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
address=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/serve.out")
[ -n "$address" ] || { cat "$work/serve.log" >&2; exit 1; }

BRANDPILOT_URL="$address" BRANDPILOT_KEY="$key" "$venv/bin/python" scripts/openai_client_test.py
