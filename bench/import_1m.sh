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
# real municipality codes as make 1,000,000 rows (bench/import_obs_csv.py).
"$BIN" --db "$WORK/seed.db" demo >/dev/null
"$BIN" --db "$WORK/seed.db" export kpis --format csv -o "$WORK/kpis.csv" >/dev/null
python3 bench/import_obs_csv.py "$WORK/kpis.csv" "$WORK/obs.csv" 1000000
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
