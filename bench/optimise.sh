#!/usr/bin/env bash
# The budget what-if through the service (`citykpi optimise`, the same
# service as the web page and the API) on a demo city large enough for
# about 2,000 programs in the budget year, every one offered up to four
# options (--expand-all: abolish, reduce, keep, expand; mandatory programs
# cannot be abolished). The budget is 3 % below the requests and at most
# two abolitions per department are allowed, so the budget and ceilings
# bind. Prints per run the wall time of the whole process, the optimiser's
# time (the plan, the budget's and every ceiling's shadow price), the size
# of the problem and whether the plan is proven optimal.
#
#   bench/optimise.sh [RUNS] [SCALE]
set -euo pipefail
runs=${1:-5}
scale=${2:-3}
cd "$(dirname "$0")/.."
cargo build --release -p citykpi --quiet
bin=target/release/citykpi
dir=$(mktemp -d)
db=$dir/optimise.db
"$bin" --db "$db" demo --scale "$scale" > /dev/null
total=$("$bin" --db "$db" optimise --fy 2026 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["current_cost_yen"])')
budget=$((total / 100 * 97))
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  out=$("$bin" --db "$db" optimise --fy 2026 --budget "$budget" --max-abolitions 2 --expand-all --format json)
  end=$(date +%s.%N)
  printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
wall = float(sys.argv[2]) - float(sys.argv[1])
n = len(r["programs"])
opts = sum(len(p["options"]) for p in r["programs"])
four = sum(1 for p in r["programs"] if len(p["options"]) == 4)
print("wall %.3f s  optimiser %.3f s  programs %d (%d with 4 options, %.2f options each)  ceilings %d  proven %s  gap %.1e  changed %d" % (
    wall, r["solve_seconds"], n, four, opts / n, sum(1 for d in r["departments"] if d["ceiling"] is not None),
    r["proven_optimal"], r["relative_gap"], sum(1 for p in r["programs"] if p["kind"] != "keep")))
' "$start" "$end"
done
rm -rf "$dir"
