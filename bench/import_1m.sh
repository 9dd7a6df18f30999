#!/usr/bin/env bash
# End-to-end speed of `citykpi import` for 1,000,000 observations from one CSV
# file (read, decode, validate every row, then one transaction), on SQLite and
# on PostgreSQL (bulk path: COPY). Also times `citykpi demo` at scale 1 and
# `citykpi kpi status` at scale 10.
#
# Run from the repository root: bench/import_1m.sh
# (PostgreSQL at CITYKPI_BENCH_PG, default postgres://postgres@127.0.0.1:5432;
#  a database citykpi_bench_import is created and dropped.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p citykpi
BIN=$PWD/target/release/citykpi
PG=${CITYKPI_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The observations: every demo KPI × 20 fiscal years × 12 months × as many
# real municipality codes (from the embedded code list, crates/app/data) as make 1,000,000 rows.
"$BIN" --db "$WORK/seed.db" demo >/dev/null
"$BIN" --db "$WORK/seed.db" export kpis --format csv -o "$WORK/kpis.csv" >/dev/null
python3 - "$WORK" <<'PY'
import csv, json, sys, itertools
work = sys.argv[1]
with open(f"{work}/kpis.csv", encoding="utf-8-sig") as f:
    rows = list(csv.reader(f))
codes = [r[0] for r in rows[1:]]
tree = json.load(open("crates/app/data/jp_local_gov_codes.json", encoding="utf-8"))
areas = [m["code"] for p in tree for m in p.get("municipalities", [])]
periods = [f"{y}-{m:02d}" for y in range(2005, 2025) for m in range(1, 13)]
n = 0
with open(f"{work}/obs.csv", "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["KPIコード", "年度", "地域コード", "値", "状態", "出典"])
    for area in areas:
        for kpi in codes:
            for p in periods:
                w.writerow([kpi, p, area, f"{(n * 7919) % 100000 / 10:.1f}", "確定", "bench"])
                n += 1
                if n == 1_000_000:
                    break
            if n == 1_000_000: break
        if n == 1_000_000: break
print(f"{n} rows, {len(codes)} KPIs")
PY
ls -l "$WORK/obs.csv" | awk '{printf "CSV size: %.1f MB\n", $5/1e6}'

timed() { # label, command…
    local start end
    start=$(date +%s.%N)
    "${@:2}" >/dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; t=$end-$start; print(f'$1: {t:.2f} s' + (f', {1e6/t:,.0f} rows/s' if '$1'.startswith('import') else ''))"
}

cp "$WORK/seed.db" "$WORK/sqlite.db"
timed "import 1M observations, SQLite" "$BIN" --db "$WORK/sqlite.db" import "$WORK/obs.csv" --kind observations

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS citykpi_bench_import" -qc "CREATE DATABASE citykpi_bench_import" >/dev/null
"$BIN" --db "$PG/citykpi_bench_import" demo >/dev/null
timed "import 1M observations, PostgreSQL" "$BIN" --db "$PG/citykpi_bench_import" import "$WORK/obs.csv" --kind observations
psql "$PG/postgres" -qc "DROP DATABASE citykpi_bench_import" >/dev/null

timed "citykpi demo (scale 1, SQLite)" "$BIN" --db "$WORK/demo1.db" demo
"$BIN" --db "$WORK/demo10.db" demo --scale 10 >/dev/null
timed "citykpi kpi status (scale 10, SQLite)" "$BIN" --db "$WORK/demo10.db" kpi status
timed "citykpi kpi status --format json (scale 10, SQLite)" "$BIN" --db "$WORK/demo10.db" kpi status --format json
