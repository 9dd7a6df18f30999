#!/usr/bin/env python3
"""The Basque synthetic control (14 predictors, nested V search) as one whole
process of citykpi's analytics, alternated with pysyncon's fit of the same
case, ratios taken pair by pair (issue 22: under 100 ms, at least 15x).

The process is the synth bench binary in its `basque-once` mode: it reads
testdata/basque/basque.csv, fits once and prints the weights, as
`citykpi evidence synth` does (bench/synth_compare.py times the CLI itself).

    cargo bench -p citykpi-analytics --bench synth --no-run   # prints the binary's path
    python3 -m venv /tmp/pysyncon && /tmp/pysyncon/bin/pip install pysyncon
    /tmp/pysyncon/bin/python bench/synth_basque_pairs.py target/release/deps/synth-HASH [PAIRS]
"""
import statistics, subprocess, sys, time
import pandas as pd
from pysyncon import Dataprep, Synth
binary = sys.argv[1]; pairs = int(sys.argv[2])
df = pd.read_csv("testdata/basque/basque.csv")
school = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high", "invest"]
sec = ["sec.agriculture", "sec.energy", "sec.industry", "sec.construction", "sec.services.venta", "sec.services.nonventa"]
controls = sorted(n for n in df.regionname.unique() if n not in ("Basque Country (Pais Vasco)", "Spain (Espana)"))
dp = Dataprep(foo=df, predictors=school, predictors_op="mean", time_predictors_prior=range(1964, 1970),
              special_predictors=[("gdpcap", range(1960, 1970), "mean")] + [(c, range(1961, 1970, 2), "mean") for c in sec] + [("popdens", [1969], "mean")],
              dependent="gdpcap", unit_variable="regionname", time_variable="year",
              treatment_identifier="Basque Country (Pais Vasco)", controls_identifier=controls, time_optimize_ssr=range(1960, 1970))
ours, theirs = [], []
for _ in range(pairs):
    t = time.perf_counter(); out = subprocess.run([binary, "basque-once"], check=True, capture_output=True, text=True).stdout; ours.append(time.perf_counter() - t)
    t = time.perf_counter(); s = Synth(); s.fit(dataprep=dp, optim_method="Nelder-Mead", optim_initial="equal"); theirs.append(time.perf_counter() - t)
r = sorted(b / a for a, b in zip(ours, theirs))
print(out.strip())
print("process ms:", " ".join(f"{x*1000:.1f}" for x in ours), "| median", f"{statistics.median(ours)*1000:.1f}")
print("pysyncon ms:", " ".join(f"{x*1000:.0f}" for x in theirs), "| median", f"{statistics.median(theirs)*1000:.0f}")
print(f"ratio pair by pair: median {statistics.median(r):.1f}x min {r[0]:.1f}x max {r[-1]:.1f}x; load {open('/proc/loadavg').read().split()[:3]}")
