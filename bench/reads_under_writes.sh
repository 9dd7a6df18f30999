#!/usr/bin/env bash
# Reads while people write (issue 22): wrk at CONNS connections (50) on the
# dashboard and on a KPI page of the demo city (logged in as admin), first
# read-only, then with a writer making RATE writes a second (20) over real
# HTTP through the JSON API with the session's CSRF token — KPI values,
# evaluation sheets and budget rows in turn (bench/reads_under_writes.py).
# Prints req/s and p99 of both runs and their ratio.
#
# Run from anywhere: bench/reads_under_writes.sh   (DURATION=10s by default)
# BIN=path/to/citykpi measures that binary instead of a fresh release build
# (the "before" column: a binary built before the incremental read model).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
if [ -z "${BIN:-}" ]; then
    cargo build --release -q -p citykpi --no-default-features
    BIN=$PWD/target/release/citykpi
fi
DURATION=${DURATION:-10s}
SECS=${DURATION%s}
CONNS=${CONNS:-50}
RATE=${RATE:-20}
PORT=${PORT:-18230}
WORK=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

"$BIN" --db "$WORK/b.db" demo >/dev/null
"$BIN" --db "$WORK/b.db" serve --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

jar="$WORK/jar"
csrf=$(curl -s -c "$jar" "$BASE/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null -H "Origin: $BASE" \
    --data-urlencode "csrf=$csrf" --data-urlencode "login=admin" \
    --data-urlencode "password=citykpi-demo" --data-urlencode "next=/" "$BASE/login"
COOKIE="Cookie: citykpi_session=$(awk '$6 == "citykpi_session" {print $7}' "$jar")"
CODE=$(curl -s -H "$COOKIE" "$BASE/api/v1/kpis" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("kpis", d); print(d[0]["code"])')

measure() { # path → "req/s p99_ms"
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "$COOKIE" "$BASE$1" >"$WORK/wrk" || true
    local rps p99 non2xx
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$WORK/wrk")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk")
    echo "$rps ${p99:-?} ${non2xx:-0}"
}

echo "binary: $BIN"
printf '%-22s %12s %9s %12s %9s %7s %s\n' page "read-only/s" "p99 ms" "+writes/s" "p99 ms" ratio "non-2xx"
for page in / "/kpis/$CODE"; do
    # Warm the page (and its kept rendering) first.
    curl -s -o /dev/null -H "$COOKIE" "$BASE$page"
    read -r ro_rps ro_p99 ro_bad < <(measure "$page")
    rm -f "$WORK/ready"
    python3 bench/reads_under_writes.py "$BASE" admin citykpi-demo "$RATE" "$SECS" "$WORK/ready" >"$WORK/writer" 2>&1 &
    WPID=$!
    # The writer logs in and finds what to write first.
    for _ in $(seq 600); do [ -e "$WORK/ready" ] || ! kill -0 "$WPID" 2>/dev/null && break; sleep 0.1; done
    read -r rw_rps rw_p99 rw_bad < <(measure "$page")
    wait "$WPID" || true
    ratio=$(python3 -c "print(f'{$rw_rps / $ro_rps:.2f}')")
    printf '%-22s %12s %9s %12s %9s %7s %s\n' "$page" "$ro_rps" "$ro_p99" "$rw_rps" "$rw_p99" "$ratio" "$ro_bad/$rw_bad"
    sed 's/^/    /' "$WORK/writer"
done
