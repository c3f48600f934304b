#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the tests and print its URL.
# Installs Debian's postgresql when missing. Usage: eval "$(scripts/start-postgres.sh)"
# (exports NAVI_TEST_PG_URL). Stop it with: scripts/stop-postgres.sh
set -euo pipefail
port="${NAVI_TEST_PG_PORT:-54329}"
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is not installed; run as root to install it (apt-get install postgresql)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
dir=$(mktemp -d /tmp/navi-pg.XXXXXX)
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
run "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync >&2
run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
run "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres navi_test >&2
echo "export NAVI_TEST_PG_URL=postgresql://postgres@127.0.0.1:$port/navi_test"
echo "export NAVI_TEST_PG_DIR=$dir/data"
echo "export NAVI_TEST_PG_CTL=$bindir/pg_ctl"
