#!/usr/bin/env bash
# Runs the directory storage tests on PostgreSQL as well as SQLite: starts a
# throw-away PostgreSQL server (trust auth, 127.0.0.1 only, in a temporary
# folder), runs `cargo test` on directory::store including the PostgreSQL
# scenarios (ignored by default), then stops the server and deletes its folder.
#
# Usage: scripts/test-postgres.sh   Env: ATTENDANT_TEST_POSTGRES_PORT (default 55432)
set -euo pipefail

cd "$(dirname "$0")/.."
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bindir/initdb" ] || { echo "test-postgres: PostgreSQL server binaries not found" >&2; exit 1; }
port=${ATTENDANT_TEST_POSTGRES_PORT:-55432}

data=$(mktemp -d /tmp/attendant-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root.
    chown postgres "$data"
    as_owner=(runuser -u postgres --)
fi
stop() {
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$data"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$data/db" -A trust -U postgres >/dev/null
"${as_owner[@]}" "$bindir/pg_ctl" -D "$data/db" -l "$data/server.log" -w \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1" start >/dev/null

export ATTENDANT_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
cargo test --lib directory::store -- --include-ignored
