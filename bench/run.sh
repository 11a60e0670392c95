#!/usr/bin/env bash
# The benchmark suite: one command. See bench/README.md.
#
#   bench/run.sh                          # the full suite (about 10-15 minutes)
#   BENCH_ROWS=100000 bench/run.sh        # W1 and W3 with fewer rows
#   BENCH_WORKLOADS=w1,w4 bench/run.sh    # some workloads only
#   BENCH_WORKLOADS=pull bench/run.sh     # the pull queue (receive + ack) grid only
#
# Uses the release binary (SLUICE_BIN overrides) and builds nothing itself.
set -euo pipefail
cd "$(dirname "$0")/.."

SLUICE_BIN=${SLUICE_BIN:-build/release/src/daemon/sluice}
if [ ! -x "$SLUICE_BIN" ]; then
  echo "bench: $SLUICE_BIN is missing. Build it first:" >&2
  echo "  cmake --preset release && cmake --build --preset release" >&2
  exit 2
fi
# The null sink is how the suite measures Sluice without a destination.
probe=$(mktemp /tmp/sluice-bench-probe-XXXXXX.yaml)
cat >"$probe" <<'YAML'
databases: [{name: b, url: "postgres://x@127.0.0.1/x", slot: {name: s}, publication: {name: p}}]
sinks: [{name: n, destination: {type: "null"}}]
YAML
if ! "$SLUICE_BIN" config check "$probe" >/dev/null 2>&1; then
  rm -f "$probe"
  echo "bench: $SLUICE_BIN has no \"null\" sink (an older build?). Rebuild it:" >&2
  echo "  cmake --preset release && cmake --build --preset release" >&2
  exit 2
fi
rm -f "$probe"

for tool in node npm pg_recvlogical pgbench psql /usr/bin/time; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench: $tool is missing (apt-get install nodejs npm postgresql-client-15 time)" >&2
    exit 2
  fi
done
if [ ! -d bench/node_modules/pg-logical-replication ]; then
  echo "bench: installing bench/node_modules (npm ci)" >&2
  (cd bench && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

SLUICE_BIN=$SLUICE_BIN exec node bench/bench.mjs
