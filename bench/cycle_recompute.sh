#!/usr/bin/env bash
# Times `citykpi cycle recompute` on the demo city at --scale 10 (issue 4:
# under 1 s for the whole process). Prints each run's wall time and the
# recompute's own figures (elapsed and of which reading, in ms).
#
#   bench/cycle_recompute.sh [RUNS]
set -euo pipefail
runs=${1:-9}
cd "$(dirname "$0")/.."
cargo build --release -p citykpi --quiet
bin=target/release/citykpi
db=$(mktemp -d)/cycle.db
"$bin" --db "$db" demo --scale 10 > /dev/null
"$bin" --db "$db" cycle recompute --fy 2024 --format json > /dev/null # warm the file cache
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  out=$("$bin" --db "$db" cycle recompute --fy 2024 --format json)
  end=$(date +%s.%N)
  printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
wall = float(sys.argv[2]) - float(sys.argv[1])
print("wall %.3f s  recompute %d ms  reading %d ms  flagged %d" % (wall, r["elapsed_ms"], r["load_ms"], len(r["restructure"])))
' "$start" "$end"
done
rm -rf "$(dirname "$db")"
