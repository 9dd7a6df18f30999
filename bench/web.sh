#!/usr/bin/env bash
# Web speed on the demo city: requests/s and latency of the dashboard and a
# KPI page next to a static asset of the same server, at 50 connections with
# wrk (Debian package `wrk`), then the server's memory; then every kind of
# page at --scale 10, timed one by one.
#
# Run from the repository root: bench/web.sh   (DURATION=20s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
cargo build --release -q -p citykpi
BIN=$PWD/target/release/citykpi
DURATION=${DURATION:-20s}
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$WORK"' EXIT

start() { # scale port
    "$BIN" --db "$WORK/s$1.db" demo --scale "$1" >/dev/null
    "$BIN" --db "$WORK/s$1.db" serve --addr "127.0.0.1:$2" >/dev/null 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && break; sleep 0.1; done
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

start 1 18181
COOKIE=$(login 18181)
KPI=$(curl -s -H "$COOKIE" "http://127.0.0.1:18181/api/v1/kpis" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("kpis", d); print(d[0]["code"])')
curl -s -o /dev/null -w "dashboard answers %{http_code} (logged in)\n" -H "$COOKIE" "http://127.0.0.1:18181/"
for target in "/" "/kpis/$KPI" "/static/app.css"; do
    echo "== $target"
    wrk -t2 -c50 -d"$DURATION" --latency -H "$COOKIE" "http://127.0.0.1:18181$target" \
        | grep -E "Requests/sec|Latency  |50%|99%|Non-2xx"
done
echo "server RSS: $(ps -o rss= -p "${PIDS[0]}" | awk '{printf "%.1f MB", $1/1024}')"

start 10 18182
COOKIE=$(login 18182)
P=$(curl -s -H "$COOKIE" "http://127.0.0.1:18182/api/v1/programs" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("programs", d); print(d[0]["code"])')
KPI=$(curl -s -H "$COOKIE" "http://127.0.0.1:18182/api/v1/kpis" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("kpis", d); print(d[0]["code"])')
echo "== scale 10: first (uncached) and second request of each page"
for page in "/" "/kpis" "/kpis/$KPI" "/programs" "/programs/$P" "/search?q=%E5%AD%90%E8%82%B2%E3%81%A6" "/data" "/admin/audit" "/cycle?fy=2024" "/cycle/2024/sheets" "/cycle/2024/restructure" "/cycle/2024/budget" "/cycle/2024/sheets/$P" "/partners/inquiries" "/partners/proposals" "/partners/directory" "/public" "/public/kpis/$KPI"; do
    a=$(curl -s -o /dev/null -w "%{time_total}" -H "$COOKIE" "http://127.0.0.1:18182$page")
    b=$(curl -s -o /dev/null -w "%{http_code} %{time_total}" -H "$COOKIE" "http://127.0.0.1:18182$page")
    printf "%-28s first %5.0f ms   then %s %5.0f ms\n" "$page" "$(echo "$a*1000" | bc)" "${b% *}" "$(echo "${b#* }*1000" | bc)"
done
