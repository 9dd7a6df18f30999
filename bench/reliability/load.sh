#!/usr/bin/env bash
# Load: `citykpi serve --demo` on a free loopback port (SQLite), one signed-in
# session, wrk with CONNS connections for SECS seconds on the dashboard (/) and
# a KPI page, one request in WRITE_EVERY a POST of a KPI actual (form with the
# session cookie and CSRF token). Counts answers that are not 2xx/3xx (by
# load.lua's STATUS lines; a 409 to a stale write counted apart), socket errors and the server's ERROR log lines:
# each must be 0.
#
# Run from the repository root: bench/reliability/load.sh [CONNS=50] [SECS=60] [WRITE_EVERY=10]
# BIN=path/to/citykpi uses that binary instead of the release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONNS=${1:-50}
SECS=${2:-60}
export WRITE_EVERY=${3:-10}
WORK=$(mktemp -d)
python3 - "$WORK" > "$WORK/session" <<'PY'
import os, sys, sqlite3
sys.path.insert(0, "bench/reliability")
from webclient import Client, start_server
work = sys.argv[1]
proc, base = start_server(f"{work}/load.db", f"{work}/server.log")
c = Client(base).login("strategy-kikaku")
kpi = sqlite3.connect(f"{work}/load.db").execute("SELECT code FROM kpis ORDER BY code LIMIT 1").fetchone()[0]
# The write wrk repeats is a real save (303), not a refusal that wrk would count as fine.
import urllib.parse
from webclient import hidden
_, form = c.get(f"/kpis/{kpi}/actuals")
versions = urllib.parse.quote(hidden(form, "versions") or "", safe="")
fields = [("period", "2024"), ("value", "1"), ("source", "wrk"), ("note", "load")]
if versions:
    fields.append(("versions", hidden(form, "versions")))
st, _ = c.post(f"/kpis/{kpi}/actuals", fields)
assert st == 303, f"the load's write is answered {st}"
_, form = c.get(f"/kpis/{kpi}/actuals")
versions = urllib.parse.quote(hidden(form, "versions") or "", safe="")
print(proc.pid, base, c.cookie_header(), c.csrf, kpi, versions or "-", sep="\n")
PY
{ read -r PID; read -r BASE; read -r COOKIE; read -r CSRF; read -r KPI; read -r VERSIONS; } < "$WORK/session"
[ "$VERSIONS" = - ] && VERSIONS=""
# The server is not this shell's child (the Python helper started it): wait until it is gone.
trap 'kill "$PID" 2>/dev/null; while kill -0 "$PID" 2>/dev/null; do sleep 0.2; done; rm -rf "$WORK"' EXIT
export COOKIE CSRF KPI VERSIONS
wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 30s --latency -s bench/reliability/load.lua "$BASE/" | tee "$WORK/wrk.out"
# Once actuals carry versions, most of wrk's repeated writes are stale: a 409
# that tells the writer is the right answer, counted apart, not an error.
conflicts=$(awk '$1 == "STATUS" && $2 == 409 {n += $3} END {print n+0}' "$WORK/wrk.out")
non2xx=$(awk '$1 == "STATUS" && $2 >= 400 && $2 != 409 {n += $3} END {print n+0}' "$WORK/wrk.out")
sockerr=$({ grep 'Socket errors' "$WORK/wrk.out" || true; } | { grep -o '[0-9]\+' || true; } | awk '{s+=$1} END {print s+0}')
total=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
writes=$(sqlite3 "$WORK/load.db" "SELECT count(*) FROM audit_log WHERE actor = 'strategy-kikaku'" 2>/dev/null || echo "?")
errors=$(grep -c -E ' ERROR |panicked' "$WORK/server.log" || true)
grep -E ' ERROR |panicked' "$WORK/server.log" | head -5 || true
echo "SUMMARY load: $CONNS connections, ${SECS} s, $total requests (1 in $WRITE_EVERY a write): non-2xx/3xx $non2xx (besides $conflicts stale writes told 409), socket errors $sockerr, server ERROR lines $errors; audit rows of the session $writes"
[ "$non2xx" = 0 ] && [ "$sockerr" = 0 ] && [ "$errors" = 0 ]
