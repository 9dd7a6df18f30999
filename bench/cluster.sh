#!/usr/bin/env bash
# Sessions in the database: what a page view costs. wrk against a KPI page
# of the demo city (logged in as admin, 50 connections), on
#   1. one server on SQLite, sessions read again every 2 s (the default),
#   2. the same with CITYKPI_SESSION_CHECK_SECONDS=0 (the session row read
#      at every request),
#   3. two servers on one PostgreSQL database, the load split between them
#      (wrk on each at once, 25 connections each), default check,
# and, when BEFORE=path/to/citykpi is given (a binary built before sessions
# moved to the database), that binary on SQLite for comparison.
#
# Run from the repository root: bench/cluster.sh   (DURATION=10s by default;
# CONNS=50 connections by default;
# PGURL=postgres://postgres@127.0.0.1:5432 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
# BIN=path/to/citykpi measures that binary instead of a fresh release build.
if [ -z "${BIN:-}" ]; then
    cargo build --release -q -p citykpi --no-default-features
    BIN=$PWD/target/release/citykpi
fi
DURATION=${DURATION:-10s}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
WORK=$(mktemp -d)
PIDS=()
PGDB=citykpi_bench_cluster_$$
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$WORK"; psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

start() { # binary db port [env…]
    local bin=$1 db=$2 port=$3
    shift 3
    env "$@" "$bin" --db "$db" serve --addr "127.0.0.1:$port" >/dev/null 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
}

login() { # port → session cookie header
    local jar="$WORK/jar$1" csrf
    csrf=$(curl -s -c "$jar" "http://127.0.0.1:$1/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
    curl -s -b "$jar" -c "$jar" -o /dev/null -H "Origin: http://127.0.0.1:$1" \
        --data-urlencode "csrf=$csrf" --data-urlencode "login=admin" \
        --data-urlencode "password=citykpi-demo" --data-urlencode "next=/" \
        "http://127.0.0.1:$1/login"
    echo "Cookie: citykpi_session=$(awk '$6 == "citykpi_session" {print $7}' "$jar")"
}

kpi() { # port cookie
    curl -s -H "$2" "http://127.0.0.1:$1/api/v1/kpis" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("kpis", d); print(d[0]["code"])'
}

run() { # label port cookie connections
    local code
    code=$(kpi "$2" "$3")
    echo "== $1: /kpis/$code"
    wrk -t2 -c"$4" -d"$DURATION" --latency -H "$3" "http://127.0.0.1:$2/kpis/$code" \
        | grep -E "Requests/sec|Latency  |50%|99%|Non-2xx"
}

"$BIN" --db "$WORK/s.db" demo >/dev/null
stop_all() { kill "${PIDS[@]}" 2>/dev/null || true; wait "${PIDS[@]}" 2>/dev/null || true; PIDS=(); }

if [ -n "${BEFORE:-}" ]; then
    # Its own database: the older binary refuses one with a newer migration.
    "$BEFORE" --db "$WORK/before.db" demo >/dev/null
    start "$BEFORE" "$WORK/before.db" 18190
    run "before (sessions in memory), SQLite" 18190 "$(login 18190)" "${CONNS:-50}"
    stop_all
fi
start "$BIN" "$WORK/s.db" 18191
run "sessions in the database, read again every 2 s, SQLite" 18191 "$(login 18191)" "${CONNS:-50}"
stop_all
start "$BIN" "$WORK/s.db" 18192 CITYKPI_SESSION_CHECK_SECONDS=0
run "sessions in the database, read at every request, SQLite" 18192 "$(login 18192)" "${CONNS:-50}"
stop_all

psql "$PGURL/postgres" -qc "CREATE DATABASE $PGDB" >/dev/null
"$BIN" --db "$PGURL/$PGDB" demo >/dev/null
start "$BIN" "$PGURL/$PGDB" 18193
start "$BIN" "$PGURL/$PGDB" 18194
COOKIE=$(login 18193)
echo "(two servers on one PostgreSQL database, one session, wrk on both at once)"
run "server A" 18193 "$COOKIE" 25 &
run "server B" 18194 "$COOKIE" 25
wait %1 2>/dev/null || true
stop_all
start "$BIN" "$PGURL/$PGDB" 18195 CITYKPI_SESSION_CHECK_SECONDS=0
run "one server, PostgreSQL, read at every request" 18195 "$(login 18195)" "${CONNS:-50}"
stop_all
start "$BIN" "$PGURL/$PGDB" 18196
run "one server, PostgreSQL, read again every 2 s" 18196 "$(login 18196)" "${CONNS:-50}"
