#!/usr/bin/env bash
# Property-based tests of the HTTP API from its OpenAPI document (schemathesis, from PyPI):
# every operation with generated valid and invalid input, and the stateful links between
# them. Fails on any 5xx, any response that breaks the documented schema or status codes,
# and any invalid input that is accepted. Called by scripts/test.sh after the Rust tests.
#
#   scripts/schemathesis.sh [path/to/brandpilot]
#
# With SCHEMATHESIS_STORE_URL=postgres://… the server keeps its store in that (empty)
# database instead of SQLite; scripts/test.sh runs it both ways.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-${CARGO_TARGET_DIR:-target}/debug/brandpilot}
# Build (a no-op when fresh): a stale binary would test yesterday's API.
[ -n "${1:-}" ] || cargo build --locked -p brandpilot
venv=${CARGO_TARGET_DIR:-target}/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi

work=$(mktemp -d /tmp/brandpilot-schemathesis.XXXXXX)
server_pid=
model_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    [ -n "$model_pid" ] && kill "$model_pid" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
export BRANDPILOT__EMBEDDER__KIND=hashing
store=sqlite
if [ -n "${SCHEMATHESIS_STORE_URL:-}" ]; then
    export BRANDPILOT__STORE__URL=$SCHEMATHESIS_STORE_URL
    store=postgres
fi
export BRANDPILOT__SERVER__PER_IP_PER_MINUTE=0 BRANDPILOT__SERVER__PER_KEY_PER_MINUTE=0
export BRANDPILOT__SERVER__SIGN_IN_PER_MINUTE=0
# Studio's generation routes need a model; a fake hosted one answers on loopback so they
# are exercised (the local model would take minutes per case).
python3 scripts/fake-openai-chat.py >"$work/model.url" &
model_pid=$!
for _ in $(seq 1 50); do [ -s "$work/model.url" ] && break; sleep 0.1; done
export BRANDPILOT__LLM__PROVIDERS__FAKE__KIND=openai
export BRANDPILOT__LLM__PROVIDERS__FAKE__MODEL=fake
BRANDPILOT__LLM__PROVIDERS__FAKE__BASE_URL=$(cat "$work/model.url")
export BRANDPILOT__LLM__PROVIDERS__FAKE__BASE_URL
run() { "$bin" --data-dir "$work/data" --models-dir "$work/no-models" "$@"; }

mkdir -p "$work/docs"
printf '# Refunds\n\nDamaged parcels are refunded in full within fourteen days.\n' >"$work/docs/refunds.md"
run ingest --brand acme "$work/docs" >/dev/null
key=$(run keys create --name schemathesis)
"$bin" --data-dir "$work/data" --models-dir "$work/no-models" serve --bind 127.0.0.1:0 \
    >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
address=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/serve.out")
[ -n "$address" ] || { cat "$work/serve.log" >&2; exit 1; }

# A person too: the owner of a workspace of their own, for the operations no key may call
# (members, invitations, keys, new workspaces).
token=$(curl -sf -H 'content-type: application/json' \
    -d '{"email": "schemathesis@example.com", "password": "schemathesis password"}' \
    "$address/api/v1/auth/signup" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

status=0
# One worker: on Python 3.11.7 two threads parsing source at once (hypothesis describes its
# filters by parsing their source) can trip CPython's "AST constructor recursion depth
# mismatch" SystemError (a CPython bug fixed in later 3.11 releases), failing the run at random.
# ensure_resource_availability (ST302) is left out: schemathesis infers links by parameter
# name, so after POST /brands it expects every GET under /brands/{brand_id} to exist, but a
# brand's widget and voice profile exist only once saved, and 404 is their documented
# answer until then. Created resources are still checked by the Rust API tests.
for credential in key token; do
    timeout 600 "$venv/bin/schemathesis" run "$address/api/v1/openapi.json" \
        --url "$address" -H "Authorization: Bearer ${!credential}" \
        --checks all --exclude-checks positive_data_acceptance,ensure_resource_availability \
        -n 30 --seed 1 --generation-database none --workers 1 --no-color \
        --report junit \
        --report-junit-path "${CARGO_TARGET_DIR:-target}/schemathesis-$store-$credential.xml" || status=$?
done
if grep -q '"level":"ERROR"' "$work/serve.log"; then
    echo "the server logged errors during the run:" >&2
    grep -m5 '"level":"ERROR"' "$work/serve.log" >&2
    status=1
fi
exit "$status"
