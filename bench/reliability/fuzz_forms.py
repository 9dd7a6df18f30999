#!/usr/bin/env python3
"""Fuzzing of form bodies over HTTP against a real server (demo, SQLite):
random and mutated url-encoded bodies (the session's CSRF token kept, so the
body reaches the form's parser) posted to the editing forms. Every answer must
be below 500, the server log must have no ERROR line, and every 422 must name
a field (an element with an id ending in -error, or the error summary's
link to a field). Bodies that fail before the form's own checks (a field sent
twice, an unparsable number in a typed field) get the site's error page,
Japanese first, naming the field (項目「…」); axum's plain-text rejection,
which they got before, is counted apart and must not occur.

Usage (from the repository root): bench/reliability/fuzz_forms.py [CASES=20000]
BIN=path/to/citykpi uses that binary instead of the release build.
"""
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webclient import Client, error_lines, start_server  # noqa: E402

CASES = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
rng = random.Random(20261207)

VALUES = [
    "", " ", "0", "-1", "1e309", "NaN", "9" * 40, "１２３", "R6", "令和6年度", "2024Q5",
    "2024-13", "X", "-", "△1,234", "1,2,3", "\x00", "\r\n", "\t", "%", "%zz", "a" * 5000,
    "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "\u202e", "🏙" * 50,
    "true", "on", "null", "[]", "{}", "2024", "確定", "速報", "value", "secret",
]


def templates(kpi, program, dept):
    return [
        (f"/kpis/{kpi}/actuals", ["period", "value", "status", "source", "note"]),
        (f"/kpis/{kpi}/actuals/bulk", ["bulk"]),
        (f"/programs/{program}/edit", ["version", "name_ja", "name_en", "purpose", "delivery",
                                        "target_group", "intent", "means", "start_fy", "end_fy"]),
        (f"/programs/{program}/money", ["version", "fy", "budget_initial", "budget_revised",
                                         "settled", "staff_fte", "staff_unit_cost", "output_quantity"]),
        ("/cycle/2024/ceilings", ["department", "amount", "seen"]),
        ("/partners/inquire", ["name", "organisation", "email", "phone", "message", "consent"]),
        ("/admin/users", ["login", "name", "role", "section", "email", "password"]),
    ]


def body_for(csrf, fields):
    pairs = [("csrf", csrf)]
    for f in fields:
        r = rng.random()
        if r < 0.15:
            continue  # a field left out
        v = rng.choice(VALUES)
        if rng.random() < 0.3:
            v = v + rng.choice(VALUES)
        pairs.append((f, v))
        if rng.random() < 0.05:
            pairs.append((f, rng.choice(VALUES)))  # the field twice
    if rng.random() < 0.1:
        pairs.append((rng.choice(["x", "csrf2", "version[]", "a[b]", ""]), rng.choice(VALUES)))
    body = urllib.parse.urlencode(pairs)
    if rng.random() < 0.1:
        # Broken encoding after the token: stray %, bare &, =, raw bytes.
        junk = rng.choice(["%", "%G1", "&&", "==", "&=&", "%FF%FE", "+" * 10, "%00"])
        at = rng.randrange(len(body) + 1)
        at = max(at, len(pairs[0][1]) + 6)
        body = body[:at] + junk + body[at:]
    return body


def main():
    work = tempfile.mkdtemp()
    db = os.path.join(work, "forms.db")
    log = os.path.join(work, "server.log")
    proc, base = start_server(db, log)
    con = sqlite3.connect(db)
    kpi = con.execute("SELECT code FROM kpis ORDER BY code LIMIT 1").fetchone()[0]
    program = con.execute("SELECT code FROM programs ORDER BY code LIMIT 1").fetchone()[0]
    con.close()
    c = Client(base).login("admin")
    forms = templates(kpi, program, "")
    statuses = {}
    server_errors = unnamed_422 = 0
    bare = {}
    start = time.time()
    try:
        for case in range(CASES):
            path, fields = rng.choice(forms)
            body = body_for(c.csrf, fields)
            import urllib.request
            req = urllib.request.Request(base + path, data=body.encode("utf-8", "surrogatepass"), method="POST")
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
            try:
                with c.opener.open(req, timeout=60) as r:
                    st, text = r.status, r.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as e:
                st, text = e.code, e.read().decode("utf-8", "replace")
            statuses[st] = statuses.get(st, 0) + 1
            if st >= 500:
                server_errors += 1
                if server_errors <= 5:
                    print(f"case {case}: {st} on {path}: {body[:200]!r}")
            if st in (400, 422) and text.startswith("Failed to deserialize form body"):
                # The body never reached the form's own checks: axum's plain
                # English text (it names the field, e.g. a field sent twice).
                bare[st] = bare.get(st, 0) + 1
                if "`" not in text and "field" not in text:
                    unnamed_422 += 1
                continue
            # A body the form's type cannot take (a field sent twice, a
            # number that is not one) is the site's error page naming the
            # field: 項目「name」….
            if st == 422 and not re.search(r'id="[^"]+-error"|href="#[^"]+"|項目「[^」]+」', text):
                unnamed_422 += 1
                if unnamed_422 <= 5:
                    print(f"case {case}: 422 without a named field on {path}: {body[:200]!r}")
            if st in (401, 303) and "/login" in text:
                c = Client(base).login("admin")
    finally:
        proc.terminate()
        proc.wait()
    secs = time.time() - start
    errors = error_lines(log)
    for l in errors[:5]:
        print("  " + l.rstrip())
    print(
        f"SUMMARY fuzz_forms: {CASES} bodies to {len(forms)} forms in {secs:.0f} s ({CASES / secs:.0f}/s): "
        f"answers {dict(sorted(statuses.items()))}; 5xx {server_errors}; 422 without a named field {unnamed_422}; "
        f"server ERROR lines {len(errors)}; of the 4xx, axum's bare-text form rejections (not the bilingual page) {bare}"
    )
    sys.exit(1 if server_errors or unnamed_422 or errors or bare else 0)


if __name__ == "__main__":
    main()
