#!/usr/bin/env bash
# The KPI page of a monthly KPI with 120 months (ten fiscal years, October
# 2015 – September 2025, seasonal): requests/s and latency at 50 connections
# with wrk (Debian package `wrk`), and the first (uncached) request, which
# fits the seasonal model.
#
# Run from the repository root: bench/monthly.sh   (DURATION=10s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
# The KPI page needs no PDF: the binary is built without the typst-based
# feature. BIN=path runs another build instead (e.g. target/debug/citykpi).
if [ -z "${BIN:-}" ]; then
    cargo build --release -q -p citykpi --no-default-features
    BIN=$PWD/target/release/citykpi
fi
DURATION=${DURATION:-10s}
PORT=${PORT:-18191}
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$WORK"' EXIT

"$BIN" --db "$WORK/m.db" demo --scale 1 >/dev/null
"$BIN" --db "$WORK/m.db" export kpis --format json -o "$WORK/kpis.json"
"$BIN" --db "$WORK/m.db" export observations --format csv -o "$WORK/obs_before.csv"
# The overtime KPI (時間外勤務) and the city's area code, from the exports.
read -r KPI AREA < <(python3 - "$WORK" <<'PY'
import csv, json, sys
work = sys.argv[1]
d = json.load(open(f"{work}/kpis.json"))
kpis = d.get("kpis", d) if isinstance(d, dict) else d
code = next(k["code"] for k in kpis if "時間外勤務" in k["name_ja"])
rows = list(csv.reader(open(f"{work}/obs_before.csv", encoding="utf-8-sig")))
head = rows[0]
ki = head.index("KPIコード")
ai = head.index("地域コード")
area = next(r[ai] for r in rows[1:] if r[ki] == code)
print(code, area)
PY
)
# 120 months with a seasonal swing and a slow decline.
python3 - "$WORK/obs.csv" "$KPI" "$AREA" <<'PY'
import math, sys
path, kpi, area = sys.argv[1:]
season = [1.18, 1.08, 0.95, 0.92, 0.78, 0.88, 0.92, 0.96, 1.02, 1.04, 1.06, 1.21]
with open(path, "w", encoding="utf-8") as f:
    f.write("KPIコード,期間,地域コード,実績値\n")
    for i in range(120):
        y, m = 2015 + (9 + i) // 12, (9 + i) % 12 + 1
        fiscal_month = (m + 8) % 12
        v = (16.0 - 0.04 * i) * season[fiscal_month] + 0.5 * math.sin(i * 1.7)
        f.write(f"{kpi},{y}-{m:02d},{area},{v:.1f}\n")
PY
"$BIN" --db "$WORK/m.db" import "$WORK/obs.csv" --kind observations >/dev/null
"$BIN" --db "$WORK/m.db" serve --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

jar="$WORK/jar"
csrf=$(curl -s -c "$jar" "http://127.0.0.1:$PORT/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null -H "Origin: http://127.0.0.1:$PORT" \
    --data-urlencode "csrf=$csrf" --data-urlencode "login=admin" \
    --data-urlencode "password=citykpi-demo" --data-urlencode "next=/" \
    "http://127.0.0.1:$PORT/login"
COOKIE="Cookie: citykpi_session=$(awk '$6 == "citykpi_session" {print $7}' "$jar")"
URL="http://127.0.0.1:$PORT/kpis/$KPI?fy=2025"
curl -s -o /dev/null -w "first request (fits the model): %{http_code} %{time_total} s\n" -H "$COOKIE" "$URL"
POINTS=$(curl -s -H "$COOKIE" "$URL" | grep -o '<circle data-series="actual"' | wc -l)
echo "chart points on the page: $POINTS"
echo "== $URL"
wrk -t2 -c50 -d"$DURATION" --latency -H "$COOKIE" "$URL" | grep -E "Requests/sec|Latency  |50%|99%|Non-2xx"
echo "== /public/kpis/$KPI?fy=2025"
wrk -t2 -c50 -d"$DURATION" --latency "http://127.0.0.1:$PORT/public/kpis/$KPI?fy=2025" | grep -E "Requests/sec|Latency  |50%|99%|Non-2xx"
