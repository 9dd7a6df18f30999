#!/usr/bin/env bash
# kill -9 during a large import: after every kill the database opens clean,
# holds either the observations it had before or all of the file (never part
# of it), and the rerun of the same import succeeds with the full count.
#
# Run from the repository root:
#   bench/reliability/kill_import.sh [SQLITE_RUNS=20] [PG_RUNS=10] [ROWS=300000]
# BIN=path/to/citykpi uses that binary instead of building the release one.
# PostgreSQL at CITYKPI_BENCH_PG (default postgres://postgres@127.0.0.1:5432);
# a database citykpi_rel_kill is created and dropped.
set -euo pipefail
cd "$(dirname "$0")/../.."
SQLITE_RUNS=${1:-20}
PG_RUNS=${2:-10}
ROWS=${3:-300000}
if [ -z "${BIN:-}" ]; then
    [ -x target/release/citykpi ] || cargo build --release -q -p citykpi
    BIN=$PWD/target/release/citykpi
fi
PG=${CITYKPI_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICE for a database that is not there yet
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; [ "$PG_RUNS" -gt 0 ] && psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS citykpi_rel_kill" -qc "DROP DATABASE IF EXISTS citykpi_rel_seed" >/dev/null 2>&1 || true' EXIT

# The file: every demo KPI × monthly periods × real municipality codes, as
# bench/import_1m.sh makes it, cut at ROWS rows.
"$BIN" --db "$WORK/seed.db" demo >/dev/null
"$BIN" --db "$WORK/seed.db" export kpis --format csv -o "$WORK/kpis.csv" >/dev/null
python3 - "$WORK" "$ROWS" <<'PY'
import csv, json, sys
work, rows = sys.argv[1], int(sys.argv[2])
with open(f"{work}/kpis.csv", encoding="utf-8-sig") as f:
    codes = [r[0] for r in list(csv.reader(f))[1:]]
tree = json.load(open("crates/app/data/jp_local_gov_codes.json", encoding="utf-8"))
areas = [m["code"] for p in tree for m in p.get("municipalities", [])]
periods = [f"{y}-{m:02d}" for y in range(2005, 2025) for m in range(1, 13)]
def gen():
    n = 0
    for area in areas:
        for kpi in codes:
            for p in periods:
                yield [kpi, p, area, f"{(n * 7919) % 100000 / 10:.1f}", "確定", "bench"]
                n += 1
with open(f"{work}/big.csv", "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["KPIコード", "年度", "地域コード", "値", "状態", "出典"])
    for i, row in enumerate(gen()):
        if i == rows: break
        w.writerow(row)
PY

count_sqlite() { sqlite3 "$1" 'SELECT count(*) FROM observations'; }
count_pg() { psql "$PG/citykpi_rel_kill" -tAc 'SELECT count(*) FROM observations'; }

# How long one whole import takes, to draw the kill moments from.
cp "$WORK/seed.db" "$WORK/full.db"
BEFORE=$(count_sqlite "$WORK/full.db")
start=$(date +%s%N)
"$BIN" --db "$WORK/full.db" import "$WORK/big.csv" --kind observations >/dev/null
FULL_MS=$(( ($(date +%s%N) - start) / 1000000 ))
FULL=$(count_sqlite "$WORK/full.db")
echo "file: $ROWS rows; seed holds $BEFORE observations, after import $FULL; one import takes ${FULL_MS} ms"

fail=0
run_one() { # backend run_no
    local backend=$1 i=$2 db before after rerun check delay pid killed
    if [ "$backend" = sqlite ]; then
        db=$WORK/run.db
        rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
        cp "$WORK/seed.db" "$db"
    else
        db=$PG/citykpi_rel_kill
    fi
    before=$([ "$backend" = sqlite ] && count_sqlite "$db" || count_pg)
    # A random moment within 1.2 × the whole import on that backend (some kills land after the end).
    delay=$(( RANDOM * 32768 + RANDOM ))
    delay=$(( delay % (WINDOW_MS * 12 / 10 + 1) ))
    "$BIN" --db "$db" import "$WORK/big.csv" --kind observations >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v ms="$delay" 'BEGIN{printf "%.3f", ms/1000}')"
    if kill -9 "$pid" 2>/dev/null; then killed=killed; else killed=finished; fi
    wait "$pid" 2>/dev/null || true
    if [ "$backend" = sqlite ]; then
        check=$(sqlite3 "$db" 'PRAGMA integrity_check')
        after=$(count_sqlite "$db")
    else
        check=$(psql "$PG/citykpi_rel_kill" -tAc "SELECT 'ok' FROM pg_database WHERE datname='citykpi_rel_kill'")
        after=$(count_pg)
    fi
    # The binary itself must open it too.
    "$BIN" --db "$db" kpi status >/dev/null 2>&1 || check="$check; citykpi cannot open it"
    "$BIN" --db "$db" import "$WORK/big.csv" --kind observations >/dev/null 2>&1 && rerun=ok || rerun=FAILED
    local final
    final=$([ "$backend" = sqlite ] && count_sqlite "$db" || count_pg)
    local verdict=ok
    if [ "$check" != ok ] || { [ "$after" != "$before" ] && [ "$after" != "$FULL" ]; } || [ "$rerun" != ok ] || [ "$final" != "$FULL" ]; then
        verdict=FAIL; fail=$((fail + 1))
    fi
    printf '%s run %2d: kill at %5d ms (%s) integrity=%s count=%s (before %s, full %s) rerun=%s final=%s → %s\n' \
        "$backend" "$i" "$delay" "$killed" "$check" "$after" "$before" "$FULL" "$rerun" "$final" "$verdict"
    if [ "$after" = "$before" ]; then n_before=$((n_before + 1))
    elif [ "$after" = "$FULL" ]; then n_full=$((n_full + 1))
    else partial=$((partial + 1)); fi
}

n_before=0; n_full=0; partial=0
WINDOW_MS=$FULL_MS
for i in $(seq 1 "$SQLITE_RUNS"); do run_one sqlite "$i"; done
s_before=$n_before; s_full=$n_full; s_fail=$fail

if [ "$PG_RUNS" -gt 0 ]; then
    n_before=0; n_full=0
    # The demo city once, then every run starts from a copy of it.
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS citykpi_rel_seed" -qc "CREATE DATABASE citykpi_rel_seed" >/dev/null
    "$BIN" --db "$PG/citykpi_rel_seed" demo >/dev/null
    # PostgreSQL's import takes its own time: the kill moments are drawn from it.
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS citykpi_rel_kill" -qc "CREATE DATABASE citykpi_rel_kill TEMPLATE citykpi_rel_seed" >/dev/null
    start=$(date +%s%N)
    "$BIN" --db "$PG/citykpi_rel_kill" import "$WORK/big.csv" --kind observations >/dev/null
    WINDOW_MS=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "one import into PostgreSQL takes ${WINDOW_MS} ms"
    for i in $(seq 1 "$PG_RUNS"); do
        psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS citykpi_rel_kill" -qc "CREATE DATABASE citykpi_rel_kill TEMPLATE citykpi_rel_seed" >/dev/null
        run_one postgres "$i"
    done
fi
echo "SUMMARY kill_import: SQLite $SQLITE_RUNS kills ($s_before left the before-count, $s_full the full count, $s_fail failed); PostgreSQL $PG_RUNS kills ($n_before before-count, $n_full full, $((fail - s_fail)) failed); runs that left a partial import: $partial; runs failed in all: $fail"
[ "$fail" -eq 0 ]
