#!/usr/bin/env bash
# The HTTP API's load test (issue 5's acceptance figures; not part of the test suite):
# 10,000 chunks with the hashing embedder, then wrk on loopback against an authenticated
# POST /api/v1/brands/{id}/search and against GET /healthz. Needs a release build; run it
# on a quiet machine. wrk takes one of the cores itself.
#
#   benchmarks/load_search.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
bin=${BRANDPILOT_BIN:-${CARGO_TARGET_DIR:-target}/release/brandpilot}
[ -x "$bin" ] || cargo build --release --locked -p brandpilot

work=$(mktemp -d /tmp/brandpilot-load.XXXXXX)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export BRANDPILOT__EMBEDDER__KIND=hashing
export BRANDPILOT__SERVER__PER_IP_PER_MINUTE=0 BRANDPILOT__SERVER__PER_KEY_PER_MINUTE=0
run() { "$bin" --data-dir "$work/data" "$@"; }

python3 - "$work/docs" <<'PY'
import os, random, sys
root = sys.argv[1]
random.seed(7)
words = ("coffee roast bean espresso customer order refund latte oat milk shop morning delivery "
         "subscription flavour cup barista price season menu loyalty card weekend pastry organic "
         "farm origin grinder filter brew aroma review parcel damaged weekday course profile").split()
for i in range(10_000):
    folder = os.path.join(root, f"part{i % 50}")
    os.makedirs(folder, exist_ok=True)
    text = " ".join(random.choice(words) for _ in range(random.randint(90, 130)))
    with open(os.path.join(folder, f"doc{i}.txt"), "w") as f:
        f.write(text + ".\n")
PY
run ingest --brand loadtest "$work/docs" >/dev/null
export BRANDPILOT_KEY=$(run keys create --name loadtest 2>/dev/null)
"$bin" --data-dir "$work/data" ${BRANDPILOT_LOG:+--log "$BRANDPILOT_LOG"} serve --bind 127.0.0.1:0 \
    >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
address=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/serve.out")
brand=$(curl -s -H "Authorization: Bearer $BRANDPILOT_KEY" "$address/api/v1/brands" | python3 -c 'import json,sys; print(json.load(sys.stdin)["brands"][0]["id"])')
chunks=$(curl -s "$address/readyz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["indexed_chunks"])')
echo "server $address, brand $brand, $chunks chunks indexed"

echo "== POST /api/v1/brands/$brand/search (32 connections, ${seconds}s)"
if [ -n "${BRANDPILOT_PERF:-}" ]; then  # a CPU profile of the server during the search run
    perf record -F 999 -g -p "$server_pid" -o "$BRANDPILOT_PERF" -- sleep "$seconds" >/dev/null 2>&1 &
fi
wrk -t1 -c32 -d"${seconds}s" --latency -s benchmarks/search.lua "$address/api/v1/brands/$brand/search"
if grep -q "\"level\":\"ERROR\"\|\"level\":\"WARN\"" "$work/serve.log"; then echo "the server logged errors or warnings:" >&2; grep -m3 "\"level\":\"ERROR\"\|\"level\":\"WARN\"" "$work/serve.log" >&2; fi
echo "== GET /healthz (64 connections, $((seconds / 2))s)"
wrk -t1 -c64 -d"$((seconds / 2))s" --latency "$address/healthz"
echo "server peak RSS: $(grep VmHWM /proc/$server_pid/status | awk '{print $2 / 1024 " MB"}')"
