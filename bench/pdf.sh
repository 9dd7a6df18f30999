#!/usr/bin/env bash
# The PDF reports on the demo city (issue 4's target: the annual KPI progress
# report under 5 s): builds the release binary, makes the demo city (scale 1
# and 10) and times `citykpi report kpi-progress` and `report evaluations`
# as whole processes (font loading included), three runs each.
#
# Run from the repository root: bench/pdf.sh   (FY=2024 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p citykpi
BIN=$PWD/target/release/citykpi
FY=${FY:-2024}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

time_it() { # label, command…
    local label=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    printf '%-52s %6.2f s\n' "$label" "$(echo "$t1 - $t0" | bc)"
}

for scale in 1 10; do
    DB="$WORK/s$scale.db"
    "$BIN" --db "$DB" demo --scale "$scale" >/dev/null
    for run in 1 2 3; do
        time_it "kpi-progress, scale $scale, run $run" \
            "$BIN" --db "$DB" report kpi-progress --fy "$FY" -o "$WORK/progress.pdf"
    done
    echo "  $(pdfinfo "$WORK/progress.pdf" 2>/dev/null | grep Pages || true) $(du -h "$WORK/progress.pdf" | cut -f1)"
    for run in 1 2 3; do
        time_it "evaluations (all programs), scale $scale, run $run" \
            "$BIN" --db "$DB" report evaluations --fy "$FY" -o "$WORK/sheets.pdf"
    done
    echo "  $(pdfinfo "$WORK/sheets.pdf" 2>/dev/null | grep Pages || true) $(du -h "$WORK/sheets.pdf" | cut -f1)"
done
