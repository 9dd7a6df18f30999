#!/usr/bin/env python3
"""Synthetic control: citykpi (Rust CLI) against pysyncon on the same data.

Runs Proposition 99 (outcome-only, V = identity on the raw outcomes) and the
Basque Country (Abadie & Gardeazabal predictors, V chosen by Nelder-Mead) with
both tools and prints the timings, their ratio and the weight differences.

    python3 -m venv /tmp/pysyncon && /tmp/pysyncon/bin/pip install pysyncon   # from PyPI (pulls pandas, scipy)
    cargo build --release -p citykpi
    /tmp/pysyncon/bin/python bench/synth_compare.py [--citykpi target/release/citykpi] [--data testdata] [--pairs 7]

pysyncon is timed in-process (fit only); citykpi is timed as a whole process
(start, CSV read, fit, JSON output), so the comparison favours pysyncon.
The Basque case is run --pairs times, the two tools alternated, and the ratio
taken pair by pair (median and minimum printed): on a shared machine the load
changes between runs, so only paired ratios are comparable. Issue 22's targets:
citykpi's whole process under 100 ms, at least 15x pysyncon, weights equal to
the published ones (Cataluna .8508, Madrid .1492) to 3 decimals.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np
import pandas as pd
from pysyncon import Dataprep, Synth

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_cli(binary, args):
    start = time.perf_counter()
    out = subprocess.run([binary, "evidence", "synth", *args, "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - start, json.loads(out)


def compare(title, ours_s, theirs_s, ours_w, theirs_w, ours_effect, theirs_effect, ours_loss=None, theirs_loss=None):
    units = sorted(set(ours_w) | set(theirs_w), key=lambda u: -max(ours_w.get(u, 0), theirs_w.get(u, 0)))
    diffs = {u: ours_w.get(u, 0.0) - theirs_w.get(u, 0.0) for u in units}
    print(f"\n== {title}")
    print(f"time: citykpi {ours_s * 1000:.1f} ms (whole process), pysyncon {theirs_s * 1000:.1f} ms (fit only), "
          f"ratio pysyncon/citykpi = {theirs_s / ours_s:.1f}x")
    print(f"effect (mean post gap): citykpi {ours_effect:.4f}, pysyncon {theirs_effect:.4f}")
    if ours_loss is not None:
        print(f"outcome MSPE over the fit period: citykpi {ours_loss:.6f}, pysyncon {theirs_loss:.6f} (lower is better)")
    print(f"{'unit':<34}{'citykpi':>10}{'pysyncon':>10}{'diff':>10}")
    for u in units:
        if max(ours_w.get(u, 0), theirs_w.get(u, 0)) >= 0.001:
            print(f"{u:<34}{ours_w.get(u, 0):>10.4f}{theirs_w.get(u, 0):>10.4f}{diffs[u]:>10.4f}")
    print(f"max |weight difference| = {max(abs(d) for d in diffs.values()):.5f}")


def prop99(binary, data):
    path = os.path.join(data, "prop99", "california_prop99.csv")
    ours_s, ours = run_cli(binary, ["--panel", path, "--unit", "State", "--time", "Year", "--outcome",
                                    "PacksPerCapita", "--treated", "California", "--treatment-time", "1989"])
    df = pd.read_csv(path, sep=";")
    controls = sorted(s for s in df.State.unique() if s != "California")
    pre = list(range(1970, 1989))
    dp = Dataprep(foo=df, predictors=[], predictors_op="mean", dependent="PacksPerCapita", unit_variable="State",
                  time_variable="Year", treatment_identifier="California", controls_identifier=controls,
                  time_predictors_prior=pre, time_optimize_ssr=pre,
                  special_predictors=[("PacksPerCapita", [y], "mean") for y in pre])
    X0, X1 = dp.make_covariate_mats()
    # pysyncon divides each predictor by its sd across units; V = sd² undoes that,
    # so both tools solve min |X1 − X0 w|² on the raw outcomes.
    sd2 = (pd.concat([X0, X1], axis=1).std(axis=1) ** 2).to_numpy()
    start = time.perf_counter()
    synth = Synth()
    synth.fit(dataprep=dp, custom_V=sd2)
    theirs_s = time.perf_counter() - start
    w = synth.weights(round=6).to_dict()
    Z0, Z1 = dp.make_outcome_mats(time_period=range(1989, 2001))
    theirs_effect = float((Z1 - Z0 @ synth.W).mean())
    compare("Proposition 99, outcome-only, V = I", ours_s, theirs_s, ours["weights"], w,
            ours["estimate"], theirs_effect)


def basque(binary, data, pairs):
    path = os.path.join(data, "basque", "basque.csv")
    school = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high", "invest"]
    sec = ["sec.agriculture", "sec.energy", "sec.industry", "sec.construction", "sec.services.venta",
           "sec.services.nonventa"]
    preds = [f"{c}:1964-1969" for c in school] + ["gdpcap:1960-1969"] + [f"{c}:1961-1969:2" for c in sec] + \
        ["popdens:1969"]
    args = ["--panel", path, "--unit", "regionno", "--time", "year", "--outcome", "gdpcap", "--treated", "17",
            "--treatment-time", "1970", "--exclude", "1", "--fit-period", "1960-1969"]
    for p in preds:
        args += ["--predictor", p]
    df = pd.read_csv(path)
    names = df.drop_duplicates("regionno").set_index("regionno").regionname
    controls = sorted(n for n in df.regionname.unique() if n not in ("Basque Country (Pais Vasco)", "Spain (Espana)"))
    dp = Dataprep(foo=df, predictors=school, predictors_op="mean", time_predictors_prior=range(1964, 1970),
                  special_predictors=[("gdpcap", range(1960, 1970), "mean")] +
                  [(c, range(1961, 1970, 2), "mean") for c in sec] + [("popdens", [1969], "mean")],
                  dependent="gdpcap", unit_variable="regionname", time_variable="year",
                  treatment_identifier="Basque Country (Pais Vasco)", controls_identifier=controls,
                  time_optimize_ssr=range(1960, 1970))
    ours_times, theirs_times = [], []
    for _ in range(pairs):
        ours_s, ours = run_cli(binary, args)
        start = time.perf_counter()
        synth = Synth()
        synth.fit(dataprep=dp, optim_method="Nelder-Mead", optim_initial="equal")
        theirs_s = time.perf_counter() - start
        ours_times.append(ours_s)
        theirs_times.append(theirs_s)
    ratios = sorted(t / o for o, t in zip(ours_times, theirs_times))
    ours_w = {names[float(k)]: v for k, v in ours["weights"].items()}
    w = synth.weights(round=6).to_dict()
    Z0, Z1 = dp.make_outcome_mats(time_period=range(1970, 1998))
    theirs_effect = float((Z1 - Z0 @ synth.W).mean())
    compare("Basque Country, predictors, V by Nelder-Mead (published: Cataluna .8508, Madrid .1492)",
            statistics.median(ours_times), statistics.median(theirs_times), ours_w, w, ours["estimate"],
            theirs_effect, ours["fit_mspe"], float(synth.loss_V))
    published = {"Cataluna": 0.8508, "Madrid (Comunidad De)": 0.1492}
    off = max(abs(ours_w.get(u, 0.0) - published.get(u, 0.0)) for u in set(ours_w) | set(published))
    print(f"{pairs} paired runs: citykpi whole process median {statistics.median(ours_times) * 1000:.1f} ms "
          f"(max {max(ours_times) * 1000:.1f}), pysyncon fit median {statistics.median(theirs_times) * 1000:.1f} ms; "
          f"ratio pysyncon/citykpi pair by pair: median {statistics.median(ratios):.1f}x, min {ratios[0]:.1f}x")
    print(f"citykpi max |weight - published| = {off:.5f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--citykpi", default=os.path.join(ROOT, "target", "release", "citykpi"))
    ap.add_argument("--data", default=os.path.join(ROOT, "testdata"))
    ap.add_argument("--pairs", type=int, default=7, help="paired runs of the Basque case")
    a = ap.parse_args()
    if not os.path.exists(a.citykpi):
        raise SystemExit(f"{a.citykpi} not found: run `cargo build --release -p citykpi` first")
    prop99(a.citykpi, a.data)
    basque(a.citykpi, a.data, a.pairs)


if __name__ == "__main__":
    main()
