#!/usr/bin/env bash
# Issue #17's figures: the same N synthetic MARC 21 records harvested into SQLite and into
# PostgreSQL through the real path (`jincheng bench dump`, run once with each store, one after
# the other), searched in process on each (latency and two-thread throughput), and a second
# node bootstrapped from the PostgreSQL store with an empty data directory.
#
#   benches/postgres.sh [N]        # N = 100000 by default; 1000000 needs about 10 GB of disk
#
# PostgreSQL is Debian's (installed by the tests when missing), started here as a private
# server with its default settings (fsync on) on a free loopback port, and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$BIN/initdb" ] || { echo "needs Debian's postgresql (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jincheng-pgbench.XXXXXX")
chmod 755 "$WORK"
PGDATA="$WORK/postgres"
mkdir "$PGDATA"
[ "$(id -u)" = 0 ] && chown postgres: "$PGDATA"
as_pg "$BIN/initdb" -D "$PGDATA" --auth=trust --username=postgres --encoding=UTF8 --locale=C >/dev/null
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
    -o "-p $PORT -k $PGDATA -c listen_addresses=127.0.0.1" start >/dev/null
trap 'as_pg "$BIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
"$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -c "CREATE DATABASE jincheng"

cargo build --release
echo "== $N records, SQLite"
target/release/jincheng bench dump --records "$N" --rounds 20 --data "$WORK/sqlite"
rm -rf "$WORK/sqlite"
echo "== $N records, PostgreSQL $("$BIN/postgres" --version | awk '{print $3}')"
target/release/jincheng bench dump --records "$N" --rounds 20 --data "$WORK/pg-run" \
    --store-url "postgres://postgres@127.0.0.1:$PORT/jincheng"
