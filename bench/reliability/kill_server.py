#!/usr/bin/env python3
"""kill -9 of the server during writes, ROUNDS times on one SQLite file.

WRITERS threads each own one KPI and save its actual for FY 2024 over and
over (value n, note "w<n>", through the web form). At a random moment the
server gets SIGKILL; it is started again on the same file. Then for every
writer the stored row must hold the last acknowledged value or the one that
was in flight when the server died (never an older one: nothing acknowledged
is lost), its note must match its value (nothing half-written), and
`PRAGMA integrity_check` must say ok.

Usage (from the repository root): bench/reliability/kill_server.py [ROUNDS=10] [WRITERS=4]
BIN=path/to/citykpi uses that binary instead of the release build.
"""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webclient import Client, error_lines, hidden, start_server  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
WRITERS = int(sys.argv[2]) if len(sys.argv) > 2 else 4


def stored(db, kpi):
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT o.value, o.note FROM observations o JOIN kpis k ON k.id = o.kpi_id "
        "WHERE k.code = ? AND o.note LIKE 'w%'",
        (kpi,),
    ).fetchall()
    con.close()
    return rows


def main():
    work = tempfile.mkdtemp()
    db = os.path.join(work, "kill.db")
    log = os.path.join(work, "server.log")
    proc, base = start_server(db, log)
    con = sqlite3.connect(db)
    kpis = [r[0] for r in con.execute("SELECT code FROM kpis ORDER BY code LIMIT ?", (WRITERS,))]
    con.close()
    _, form = Client(base).login("strategy-kikaku").get(f"/kpis/{kpis[0]}/actuals")
    carries_versions = hidden(form, "versions") is not None
    counter = [1000]
    lock = threading.Lock()
    acked_total = lost = half = bad_integrity = 0
    other_answers = 0
    for rnd in range(1, ROUNDS + 1):
        clients = [Client(base).login("strategy-kikaku") for _ in kpis]
        state = [{"acked": None, "inflight": None, "n": 0} for _ in kpis]
        stop = threading.Event()
        answers = {}

        def writer(i):
            c, kpi, s = clients[i], kpis[i], state[i]
            while not stop.is_set():
                with lock:
                    counter[0] += 1
                    n = counter[0]
                s["inflight"] = n
                fields = [("period", "2024"), ("value", str(n)), ("source", "kill"), ("note", f"w{n}")]
                try:
                    if carries_versions:
                        # Once actuals carry the versions their form showed, each
                        # save sends what its writer just read.
                        _, form = c.get(f"/kpis/{kpi}/actuals")
                        fields.append(("versions", hidden(form, "versions") or ""))
                    st, _ = c.post(f"/kpis/{kpi}/actuals", fields)
                except Exception:
                    return  # the server died under this request
                answers[st] = answers.get(st, 0) + 1
                if st == 303:
                    s["acked"] = n
                    s["n"] += 1

        ts = [threading.Thread(target=writer, args=(i,)) for i in range(len(kpis))]
        for t in ts:
            t.start()
        time.sleep(random.uniform(1.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in ts:
            t.join()
        acks = sum(s["n"] for s in state)
        acked_total += acks
        other_answers += sum(v for k, v in answers.items() if k != 303)
        con = sqlite3.connect(db)
        check = con.execute("PRAGMA integrity_check").fetchone()[0]
        con.close()
        if check != "ok":
            bad_integrity += 1
        verdicts = []
        for kpi, s in zip(kpis, state):
            rows = stored(db, kpi)
            if s["acked"] is None:
                verdicts.append("no ack")
                continue
            if len(rows) != 1:
                lost += 1
                verdicts.append(f"{kpi}: {len(rows)} rows")
                continue
            value, note = rows[0]
            if note != f"w{int(value)}":
                half += 1
                verdicts.append(f"{kpi}: value {value} note {note}")
            elif int(value) not in (s["acked"], s["inflight"]):
                lost += 1
                verdicts.append(f"{kpi}: stored {int(value)}, last ack {s['acked']}")
        print(
            f"round {rnd}: {acks} acknowledged writes, answers {answers}, integrity {check}, "
            + ("all last acknowledged values present" if not verdicts else "; ".join(verdicts))
        )
        proc, base2 = start_server(db, log, demo=False)
        base = base2
    proc.terminate()
    proc.wait()
    errors = error_lines(log)
    print(
        f"SUMMARY kill_server: {ROUNDS} kills during writes by {WRITERS} writers, "
        f"{acked_total} acknowledged writes: lost {lost}, half-written {half}, "
        f"integrity failures {bad_integrity}, answers other than 303 {other_answers}, "
        f"server ERROR lines {len(errors)}"
    )
    for l in errors[:5]:
        print("  " + l.rstrip())
    sys.exit(1 if lost or half or bad_integrity else 0)


if __name__ == "__main__":
    main()
