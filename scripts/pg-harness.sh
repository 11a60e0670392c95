#!/usr/bin/env bash
# A throwaway Postgres 15 cluster for scripts and benchmarks.
#
#   eval "$(scripts/pg-harness.sh start)"   # exports PGHARNESS_DIR, PGHOST, PGPORT, PGUSER, DATABASE_URL
#   ...
#   scripts/pg-harness.sh stop "$PGHARNESS_DIR"
#
# Runs the server as the `postgres` user when invoked as root (Postgres
# refuses root), on a free port on 127.0.0.1 with its own socket directory
# and wal_level=logical. `stop` removes every file it made. Extra settings:
# PGHARNESS_SETTINGS="logical_decoding_work_mem=64kB max_wal_size=4GB".
set -euo pipefail
BIN=${PGHARNESS_BIN:-/usr/lib/postgresql/15/bin}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/sluice-pgh-XXXXXX)
    mkdir -p "$dir/sock"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale \
      --no-sync --no-instructions >"$dir/initdb.log" 2>&1
    port=$(free_port)
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $port"
      echo "unix_socket_directories = '$dir/sock'"
      echo "wal_level = logical"
      echo "max_replication_slots = 20"
      echo "max_wal_senders = 20"
      echo "fsync = off"
      echo "synchronous_commit = on"
      for kv in ${PGHARNESS_SETTINGS:-}; do echo "${kv%%=*} = '${kv#*=}'"; done
    } >"$dir/data/postgresql.auto.conf"
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w start >/dev/null
    echo "export PGHARNESS_DIR=$dir PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres"
    echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir=${2:?usage: pg-harness.sh stop DIR}
    case "$dir" in /tmp/sluice-pgh-*) ;; *) echo "refusing to remove $dir" >&2; exit 2 ;; esac
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
