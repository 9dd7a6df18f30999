#!/usr/bin/env python3
"""Writes an observations CSV of N rows for the import benchmarks: every KPI
of kpis.csv (a `citykpi export kpis` of the demo city) x 20 fiscal years x 12
months x as many real municipality codes (crates/app/data) as make N rows.

Usage: bench/import_obs_csv.py KPIS_CSV OUT_CSV N [BAD_LAST]
BAD_LAST=1 makes the last row's value unreadable (the one-transaction check).
"""
import csv, json, sys

kpis_csv, out, n_rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
bad_last = len(sys.argv) > 4 and sys.argv[4] == "1"
with open(kpis_csv, encoding="utf-8-sig") as f:
    codes = [r[0] for r in list(csv.reader(f))[1:]]
tree = json.load(open("crates/app/data/jp_local_gov_codes.json", encoding="utf-8"))
areas = [m["code"] for p in tree for m in p.get("municipalities", [])]
periods = [f"{y}-{m:02d}" for y in range(2005, 2025) for m in range(1, 13)]
# More rows than codes x KPIs x periods: the areas repeat with a suffix.
def area_codes():
    k = 0
    while True:
        for a in areas:
            yield a if k == 0 else f"{a}{k}"
        k += 1
n = 0
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["KPIコード", "年度", "地域コード", "値", "状態", "出典"])
    for area in area_codes():
        for kpi in codes:
            for p in periods:
                n += 1
                value = "bad" if bad_last and n == n_rows else f"{(n * 7919) % 100000 / 10:.1f}"
                w.writerow([kpi, p, area, value, "確定", "bench"])
                if n == n_rows:
                    break
            if n == n_rows:
                break
        if n == n_rows:
            break
print(f"{n} rows, {len(codes)} KPIs", file=sys.stderr)
