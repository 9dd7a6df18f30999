#!/usr/bin/env bash
# Partnerships at 10,000 members and 50,000 inquiries (issue 6: "the
# directory and the inquiry list answer under 50 ms"). Builds the release
# binary once, writes the demo city with `citykpi demo --partner-members
# 10000 --partner-inquiries 50000` (the demo's bulk paths), serves it, logs in
# as admin and runs wrk against the public directory (first page, a search, a
# deep page), the desk's inquiry list (first page, a status filter, overdue
# only, a search, a deep page) and the member list (all, a search), on SQLite
# and, when it answers, on PostgreSQL (127.0.0.1:5432, user postgres).
#
# Run from the repository root: bench/partners.sh
#   DURATION=5s CONNS=8 by default; SKIP_BUILD=1 reuses target/release/citykpi
#   (or BIN=path);
#   BACKENDS="sqlite postgres" by default.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
if [ "${SKIP_BUILD:-}" != 1 ]; then
    cargo build --release -q -p citykpi
fi
BIN=${BIN:-$PWD/target/release/citykpi}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-8}
MEMBERS=${MEMBERS:-10000}
INQUIRIES=${INQUIRIES:-50000}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=citykpi_bench_partners_$$
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    kill "${PIDS[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

start() { # db port
    local t0 t1
    t0=$(date +%s.%N)
    "$BIN" --db "$1" demo --partner-members "$MEMBERS" --partner-inquiries "$INQUIRIES" >/dev/null
    t1=$(date +%s.%N)
    printf "demo city with %s members and %s inquiries written in %.1f s\n" "$MEMBERS" "$INQUIRIES" "$(echo "$t1 - $t0" | bc)"
    "$BIN" --db "$1" serve --addr "127.0.0.1:$2" >/dev/null 2>&1 &
    PIDS+=($!)
    for _ in $(seq 300); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && break; sleep 0.1; done
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

# The last page of a list, read from its pager ("1 / 123").
last_page() { # port cookie path
    curl -s -H "$2" "http://127.0.0.1:$1$3" | grep -o '1 / [0-9]*' | head -1 | awk '{print $3}'
}

stat() { # wrk output, field → value
    case $2 in
    p50) echo "$1" | awk '$1 == "50%" {print $2}' ;;
    p99) echo "$1" | awk '$1 == "99%" {print $2}' ;;
    rps) echo "$1" | awk '/Requests\/sec/ {printf "%.0f", $2}' ;;
    esac
}

# One request (the first after the server started), then one connection
# (latency alone), then $CONNS connections (throughput, latency with queueing).
measure() { # port cookie label path
    local one many first
    first=$(curl -s -o /dev/null -w "%{http_code} %{time_total}" -H "$2" "http://127.0.0.1:$1$4")
    one=$(wrk -t1 -c1 -d"$DURATION" --latency -H "$2" "http://127.0.0.1:$1$4")
    many=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "$2" "http://127.0.0.1:$1$4")
    printf "%-32s %s first %4.0f ms | c1 p50 %8s p99 %8s %6s/s | c%s p50 %8s p99 %8s %6s/s%s\n" "$3" "${first% *}" \
        "$(echo "${first#* }*1000" | bc)" \
        "$(stat "$one" p50)" "$(stat "$one" p99)" "$(stat "$one" rps)" "$CONNS" \
        "$(stat "$many" p50)" "$(stat "$many" p99)" "$(stat "$many" rps)" \
        "$(echo "$one$many" | grep -q Non-2xx && echo "  NON-2xx!" || true)"
}

run() { # db port backend-label
    echo "=== $3"
    start "$1" "$2"
    local port=$2 cookie dir_last inq_last
    cookie=$(login "$port")
    dir_last=$(last_page "$port" "$cookie" "/partners/directory")
    inq_last=$(last_page "$port" "$cookie" "/partners/inquiries")
    echo "directory pages: $dir_last, inquiry pages: $inq_last; wrk -d$DURATION at 1 and $CONNS connections"
    # エネルギー (energy) is in members' names, 公民連携 (partnership) in inquiries' subjects.
    measure "$port" "" "directory, first page" "/partners/directory"
    measure "$port" "" "directory, search エネルギー" "/partners/directory?q=%E3%82%A8%E3%83%8D%E3%83%AB%E3%82%AE%E3%83%BC"
    measure "$port" "" "directory, deep page $((dir_last * 9 / 10))" "/partners/directory?page=$((dir_last * 9 / 10))"
    measure "$port" "$cookie" "inquiries, first page" "/partners/inquiries"
    measure "$port" "$cookie" "inquiries, status=received" "/partners/inquiries?status=received"
    measure "$port" "$cookie" "inquiries, overdue only" "/partners/inquiries?overdue=1"
    measure "$port" "$cookie" "inquiries, search 公民連携" "/partners/inquiries?q=%E5%85%AC%E6%B0%91%E9%80%A3%E6%90%BA"
    measure "$port" "$cookie" "inquiries, deep page $((inq_last * 9 / 10))" "/partners/inquiries?page=$((inq_last * 9 / 10))"
    measure "$port" "$cookie" "members (all), first page" "/partners/members?status=all"
    measure "$port" "$cookie" "members, search エネルギー" "/partners/members?status=all&q=%E3%82%A8%E3%83%8D%E3%83%AB%E3%82%AE%E3%83%BC"
    measure "$port" "$cookie" "members (pending)" "/partners/members?status=pending"
    echo "server RSS: $(ps -o rss= -p "${PIDS[-1]}" | awk '{printf "%.1f MB", $1/1024}')"
    kill "${PIDS[-1]}" 2>/dev/null || true
}

for b in $BACKENDS; do
    case $b in
    sqlite) run "$WORK/partners.db" 18281 "SQLite" ;;
    postgres)
        if psql -q "$PG_ADMIN" -c "CREATE DATABASE $PG_DB" >/dev/null 2>&1; then
            run "${PG_ADMIN%/*}/$PG_DB" 18282 "PostgreSQL"
        else
            echo "=== PostgreSQL at $PG_ADMIN did not answer: skipped"
        fi
        ;;
    esac
done
