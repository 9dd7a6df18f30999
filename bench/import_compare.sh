#!/usr/bin/env bash
# Streaming import (issue 22): `citykpi import` of one observations CSV side
# by side with the tools an analyst would otherwise use, run alternately on
# the same file, with wall time and peak memory (/usr/bin/time) per run and
# the ratios taken pair by pair:
#   * raw `sqlite3 .import` into a plain table with the same primary key;
#   * pandas `read_csv` + `to_sql` into the same plain table (SQLite);
#   * PostgreSQL: `psql \copy` into a plain table with the same primary key.
# Every tool loads into an empty table: citykpi into a demo city's database
# whose observations were deleted (its KPIs are needed to check the codes).
#
# Usage (from the repository root): bench/import_compare.sh [ROWS] [RUNS]
#   ROWS default 1000000, RUNS default 3. PANDAS=0 / PG=0 leave those out.
# Needs: sqlite3 and psql (apt-get install sqlite3 postgresql-client),
# pandas (pip install pandas), PostgreSQL at CITYKPI_BENCH_PG
# (default postgres://postgres@127.0.0.1:5432; databases citykpi_bench_cmp*
# are created and dropped).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
RUNS=${2:-3}
PANDAS=${PANDAS:-1}
PG=${PG:-1}
PGURL=${CITYKPI_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
cargo build --release -q -p citykpi
BIN=$PWD/target/release/citykpi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; [ "$PG" = 1 ] && psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS citykpi_bench_cmp" -qc "DROP DATABASE IF EXISTS citykpi_bench_cmp_plain" >/dev/null 2>&1 || true' EXIT

"$BIN" --db "$WORK/seed.db" demo >/dev/null
"$BIN" --db "$WORK/seed.db" export kpis --format csv -o "$WORK/kpis.csv" >/dev/null
sqlite3 "$WORK/seed.db" "DELETE FROM observations; VACUUM;"
python3 bench/import_obs_csv.py "$WORK/kpis.csv" "$WORK/obs.csv" "$ROWS"
ls -l "$WORK/obs.csv" | awk '{printf "CSV: %.1f MB\n", $5/1e6}'

PLAIN="CREATE TABLE obs (kpi TEXT, period TEXT, area TEXT, value REAL, status TEXT, source TEXT, PRIMARY KEY (kpi, period, area));"

# measure LABEL CMD… → appends "LABEL seconds peak_kB" to $WORK/results
measure() {
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    read -r secs kb <"$WORK/t"
    echo "$label $secs $kb" >>"$WORK/results"
    printf '  %-22s %6.2f s  %7.1f MB peak\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)"
}

citykpi_sqlite() { cp "$WORK/seed.db" "$WORK/c.db"; rm -f "$WORK/c.db-wal" "$WORK/c.db-shm"; measure citykpi-sqlite "$BIN" --db "$WORK/c.db" import "$WORK/obs.csv" --kind observations; }
sqlite_import() { rm -f "$WORK/p.db"; sqlite3 "$WORK/p.db" "$PLAIN"; measure sqlite3-import sqlite3 "$WORK/p.db" ".import --csv --skip 1 $WORK/obs.csv obs"; }
pandas_to_sql() {
    rm -f "$WORK/d.db"; sqlite3 "$WORK/d.db" "$PLAIN"
    measure pandas-to_sql python3 -c "
import sqlite3, pandas as pd
df = pd.read_csv('$WORK/obs.csv', dtype=str)
df.columns = ['kpi', 'period', 'area', 'value', 'status', 'source']
con = sqlite3.connect('$WORK/d.db')
df.to_sql('obs', con, if_exists='append', index=False)
con.commit()"
}
if [ "$PG" = 1 ]; then
    psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS citykpi_bench_cmp" -qc "CREATE DATABASE citykpi_bench_cmp" >/dev/null
    "$BIN" --db "$PGURL/citykpi_bench_cmp" demo >/dev/null
    psql "$PGURL/citykpi_bench_cmp" -qc "TRUNCATE observations" >/dev/null
    psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS citykpi_bench_cmp_plain" -qc "CREATE DATABASE citykpi_bench_cmp_plain" >/dev/null
fi
citykpi_pg() {
    psql "$PGURL/citykpi_bench_cmp" -qc "TRUNCATE observations" -qc "VACUUM observations" >/dev/null
    measure citykpi-pg "$BIN" --db "$PGURL/citykpi_bench_cmp" import "$WORK/obs.csv" --kind observations
}
psql_copy() {
    psql "$PGURL/citykpi_bench_cmp_plain" -qc "DROP TABLE IF EXISTS obs" -qc "$PLAIN" >/dev/null
    measure psql-copy psql "$PGURL/citykpi_bench_cmp_plain" -qc "\\copy obs FROM '$WORK/obs.csv' WITH (FORMAT csv, HEADER true)"
}

for run in $(seq 1 "$RUNS"); do
    echo "run $run (load average $(cut -d' ' -f1 /proc/loadavg))"
    citykpi_sqlite; sqlite_import
    [ "$PANDAS" = 1 ] && pandas_to_sql
    if [ "$PG" = 1 ]; then citykpi_pg; psql_copy; fi
done

python3 - "$WORK/results" "$RUNS" <<'PY'
import sys, statistics
runs = int(sys.argv[2])
res = {}
for line in open(sys.argv[1]):
    label, secs, kb = line.split()
    res.setdefault(label, []).append((float(secs), int(kb)))
def pairs(a, b, what):
    if a not in res or b not in res:
        return
    r = [x[0] / y[0] for x, y in zip(res[a], res[b])]
    print(f"{a} / {b} wall time, pair by pair: " + ", ".join(f"{v:.2f}" for v in r)
          + f"  (median {statistics.median(r):.2f}; {what})")
print("peak RSS (MB), max over runs: " + ", ".join(f"{k} {max(v[1] for v in vs)/1024:.1f}" for k, vs in res.items()))
pairs("citykpi-sqlite", "sqlite3-import", "target <= 1.3")
pairs("pandas-to_sql", "citykpi-sqlite", "target >= 2")
pairs("citykpi-pg", "psql-copy", "target <= 1.3")
PY
