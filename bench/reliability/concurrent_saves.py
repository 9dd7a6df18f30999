#!/usr/bin/env python3
"""Two editors saving one record at once, many pairs, against a real server
(`citykpi serve --demo` on a free loopback port, SQLite file).

For every pair both editors read the record's form (same version), then post
their save at the same moment (a barrier releases both threads). A lost update
is a pair where both saves were acknowledged (303): one editor's value was
silently overwritten. For records with a version check it must be 0, and the
stored value must be the one of the single winner.

Usage (from the repository root):
    bench/reliability/concurrent_saves.py [PAIRS=100]
BIN=path/to/citykpi uses that binary instead of the release build.
"""
import html
import os
import re
import sqlite3
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webclient import Client, error_lines, hidden, start_server  # noqa: E402

PAIRS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
FY = "2024"


def selected(body, name):
    m = re.search(r'<select[^>]*name="%s"[^>]*>(.*?)</select>' % name, body, re.S)
    if not m:
        return None
    opt = re.search(r'<option value="([^"]*)" selected', m.group(1)) or re.search(
        r'<option value="([^"]*)"', m.group(1)
    )
    return opt.group(1) if opt else None


def textarea(body, name):
    m = re.search(r'<textarea[^>]*name="%s"[^>]*>(.*?)</textarea>' % name, body, re.S)
    return html.unescape(m.group(1)) if m else None


def both_at_once(a, b):
    barrier = threading.Barrier(2)
    out = [None, None]

    def run(i, fn):
        barrier.wait()
        out[i] = fn()

    ts = [threading.Thread(target=run, args=(0, a)), threading.Thread(target=run, args=(1, b))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def measure(name, a, b, read_form, make_fields, path, stored):
    """Runs PAIRS pairs; returns (pairs, one won, both acknowledged, other)."""
    won_one = lost = other = wrong_value = 0
    for i in range(PAIRS):
        _, fa = a.get(read_form)
        _, fb = b.get(read_form)
        va, vb = make_fields(fa, f"A{i}"), make_fields(fb, f"B{i}")
        (sa, _), (sb, _) = both_at_once(lambda: a.post(path, va), lambda: b.post(path, vb))
        acked = [s == 303 for s in (sa, sb)]
        if all(acked):
            lost += 1
        elif any(acked) and 409 in (sa, sb):
            won_one += 1
            want = f"A{i}" if acked[0] else f"B{i}"
            if stored is not None and stored(want) is False:
                wrong_value += 1
        else:
            other += 1
            if other <= 3:
                print(f"  {name} pair {i}: answers {sa} {sb}")
    print(
        f"{name}: {PAIRS} concurrent pairs: exactly one saved and the other told (409) "
        f"{won_one}; both acknowledged (lost update) {lost}; other answers {other}; "
        f"stored value not the winner's {wrong_value}"
    )
    return lost, other, wrong_value


def main():
    work = tempfile.mkdtemp()
    db = os.path.join(work, "saves.db")
    log = os.path.join(work, "server.log")
    proc, base = start_server(db, log)
    try:
        con = sqlite3.connect(db)
        program = con.execute("SELECT code FROM programs ORDER BY code LIMIT 1").fetchone()[0]
        kpi = con.execute("SELECT code FROM kpis ORDER BY code LIMIT 1").fetchone()[0]
        con.close()
        # Two people of the strategy office, each in their own session.
        a = Client(base).login("strategy-kikaku")
        b = Client(base).login("strategy-kikaku")
        results = {}

        def program_fields(form, mark):
            return [
                ("version", hidden(form, "version")),
                ("name_ja", hidden(form, "name_ja") or ""),
                ("purpose", f"目的 {mark}"),
                ("delivery", selected(form, "delivery") or ""),
            ]

        def program_stored(mark):
            _, f = a.get(f"/programs/{program}/edit")
            return textarea(f, "purpose") == f"目的 {mark}"

        results["program edit"] = measure(
            "program edit (/programs/{code}/edit)", a, b,
            f"/programs/{program}/edit", program_fields,
            f"/programs/{program}/edit", program_stored,
        )

        def money_fields(form, mark):
            n = 1_000_000 + int(mark[1:]) * 2 + (mark[0] == "B")
            return [("version", hidden(form, "version")), ("fy", FY), ("budget_initial", str(n))]

        # Money belongs to finance: two people of the finance division.
        fa = Client(base).login("finance-zaisei")
        fb = Client(base).login("finance-yosan")

        def money_stored(mark):
            n = 1_000_000 + int(mark[1:]) * 2 + (mark[0] == "B")
            _, f = fa.get(f"/programs/{program}/money?fy={FY}")
            return (hidden(f, "budget_initial") or "").replace(",", "") == str(n)

        results["program money"] = measure(
            "program money (/programs/{code}/money)", fa, fb,
            f"/programs/{program}/money?fy={FY}", money_fields,
            f"/programs/{program}/money", money_stored,
        )

        def actual_fields(form, mark):
            n = 100 + int(mark[1:]) * 2 + (mark[0] == "B")
            fields = [("period", FY), ("value", str(n)), ("source", "bench"), ("note", mark)]
            st = selected(form, "status")
            if st:
                fields.append(("status", st))
            # The versions the form showed, once actuals carry them.
            for name in ("version", "versions"):
                v = hidden(form, name)
                if v is not None:
                    fields.append((name, v))
            return fields

        results["KPI actual"] = measure(
            "KPI actual (/kpis/{code}/actuals)", a, b,
            f"/kpis/{kpi}/actuals", actual_fields,
            f"/kpis/{kpi}/actuals", None,
        )
    finally:
        proc.terminate()
        proc.wait()
    errors = error_lines(log)
    lost = sum(r[0] for r in results.values())
    print(
        "SUMMARY concurrent_saves: "
        + "; ".join(f"{k}: {r[0]} lost of {PAIRS}" for k, r in results.items())
        + f"; server ERROR lines {len(errors)}"
    )
    for l in errors[:5]:
        print("  " + l.rstrip())
    sys.exit(1 if lost or errors else 0)


if __name__ == "__main__":
    main()
