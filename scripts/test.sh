#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, model files, formatting,
# lints, then every test of every crate. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-system.sh
scripts/setup-models.sh
scripts/setup-postgres.sh

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# The widget's browser test fails, instead of skipping, when Chromium is missing.
export BRANDPILOT_REQUIRE_BROWSER=1
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# One PostgreSQL 18 for the whole run (the store's tests run on SQLite and on PostgreSQL,
# each test in a schema of its own), stopped and deleted on exit. PostgreSQL refuses to run
# as root: as root, it runs as uid 65534 (nobody), which owns its directory.
pg_bin=${BRANDPILOT_PG_HOME:-"$(pwd)/target/pgserver"}/pgserver/pginstall/bin
pg_run=$(mktemp -d /tmp/brandpilot-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    chown 65534:65534 "$pg_run"
    as_pg=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
chmod 700 "$pg_run"
stop_pg() {
    "${as_pg[@]}" "$pg_bin/pg_ctl" stop -D "$pg_run/data" -m fast -w >/dev/null 2>&1 || true
    rm -rf "$pg_run"
}
trap stop_pg EXIT
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_run/data" -U postgres --auth=trust --no-sync \
    --no-instructions -E UTF8 --locale=C >"$pg_run/initdb.log" 2>&1 \
    || { cat "$pg_run/initdb.log" >&2; exit 1; }
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pg_bin/postgres" -D "$pg_run/data" -p "$pg_port" -k "$pg_run" \
    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
    -c full_page_writes=off -c max_connections=300 >"$pg_run/postgres.log" 2>&1 &
for _ in $(seq 1 500); do
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
    sleep 0.02
done
"$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { cat "$pg_run/postgres.log" >&2; exit 1; }
export BRANDPILOT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi

# The job runner, the app's knowledge base and the whole HTTP API (tenancy walk included)
# again, on PostgreSQL: each test in a fresh schema of the same server.
# (Through nextest, the binaries built above are reused as they are.)
if cargo nextest --version >/dev/null 2>&1; then
    BRANDPILOT_TEST_STORE=postgres cargo nextest run --workspace --locked --no-fail-fast -E \
        'binary_id(brandpilot-jobs::jobs) | binary_id(brandpilot-app::knowledge_base) | binary_id(brandpilot-server::api)'
else
    for suite in "brandpilot-jobs jobs" "brandpilot-app knowledge_base" "brandpilot-server api"; do
        read -r package binary <<<"$suite"
        BRANDPILOT_TEST_STORE=postgres cargo test --locked -p "$package" --test "$binary" --no-fail-fast
    done
fi

# The HTTP API against its own OpenAPI document (schemathesis from PyPI, in a venv), on
# SQLite and then on a database of its own in the PostgreSQL above.
scripts/schemathesis.sh
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres schemathesis
SCHEMATHESIS_STORE_URL="postgres://postgres@127.0.0.1:$pg_port/schemathesis" scripts/schemathesis.sh

# The OpenAI-compatible endpoint with the official `openai` Python client (PyPI, in a venv).
scripts/openai-client.sh
