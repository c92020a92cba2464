#!/bin/sh
# Starts a throwaway PostgreSQL cluster for the tests and prints its URL.
#
#   eval "$(scripts/start-postgres.sh)"   # sets ATTENDANT_TEST_PG_URL and ATTENDANT_TEST_PG_DIR
#   pg_ctl -D "$ATTENDANT_TEST_PG_DIR" stop   (as the cluster's owner) when done
#
# Installs Debian's `postgresql` if its binaries are missing (needs root), then
# runs initdb + pg_ctl under /tmp as a non-root user (the `postgres` account
# when run as root), listening on 127.0.0.1 on a free port, trust
# authentication (loopback only, throwaway data).
set -eu

bindir=""
for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && bindir="$candidate"
done
if [ -z "$bindir" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "postgresql is not installed and this is not root: apt-get install postgresql" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    for candidate in /usr/lib/postgresql/*/bin; do
        [ -x "$candidate/initdb" ] && bindir="$candidate"
    done
fi

# A free port: ask the kernel for one, then hand it to the server.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d /tmp/attendant-pg.XXXXXX)

if [ "$(id -u)" = 0 ]; then
    owner=postgres
    id "$owner" >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$owner"
    chown "$owner" "$dir"
    run() { runuser -u "$owner" -- "$@"; }
else
    owner=$(id -un)
    run() { "$@"; }
fi

run "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }

echo "ATTENDANT_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres; export ATTENDANT_TEST_PG_URL"
echo "ATTENDANT_TEST_PG_DIR=$dir/data; export ATTENDANT_TEST_PG_DIR"
