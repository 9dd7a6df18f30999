#!/usr/bin/env python3
"""The writer of bench/reads_under_writes.sh: logs in as a demo user over
real HTTP, takes the session's CSRF token and then makes RATE writes a
second for SECONDS seconds through the JSON API, in turn
  1. a KPI value      (POST /api/v1/kpis/{code}/observations),
  2. an evaluation sheet (PUT /api/v1/cycle/{fy}/sheets/{program}),
  3. a budget row     (PUT /api/v1/programs/{program}/money/{fy}),
each on a few KPIs / programs in rotation, the value changed every time.
Prints one line: writes made, refused (non-2xx) and the p50/p99 of a write.

usage: reads_under_writes.py BASE_URL LOGIN PASSWORD RATE SECONDS [READY_FILE]
"""
import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE, LOGIN, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
RATE, SECONDS = float(sys.argv[4]), float(sys.argv[5])

jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
ORIGIN = {"Origin": BASE}


def call(method, path, body=None, headers=None, form=False):
    h = dict(ORIGIN)
    h.update(headers or {})
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
    req = urllib.request.Request(BASE + path, data=data, headers=h, method=method)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def csrf_of(html):
    m = re.search(r'name="csrf" value="([^"]*)"', html) or re.search(
        r'name="csrf-token" content="([^"]*)"', html
    )
    return m.group(1) if m else ""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


# Log in like a browser: the login form's token, then the form.
_, page = call("GET", "/login")
call("POST", "/login", {"csrf": csrf_of(page), "login": LOGIN, "password": PASSWORD, "next": "/"}, form=True)
_, page = call("GET", "/account")
token = csrf_of(page)
if not token:
    sys.exit("writer: no CSRF token after logging in (login refused?)")
API = {"X-CSRF-Token": token}

# What to write: KPIs with a stored value of the city, programs with money
# rows, and the evaluation sheets of the year under evaluation.
_, body = call("GET", "/api/v1/kpis")
kpis = json.loads(body)
kpis = kpis.get("kpis", kpis)
targets_obs = []
for k in kpis:
    s, body = call("GET", f"/api/v1/kpis/{k['code']}/observations")
    if s != 200:
        continue
    obs = json.loads(body)
    obs = obs.get("observations", obs)
    if obs:
        o = obs[-1]
        v = o["value"]
        # The API gives a value as {"value": n, …} (or {"missing": …}).
        if isinstance(v, dict):
            v = v.get("value")
        if isinstance(v, (int, float)):
            targets_obs.append((k["code"], o["period"], float(v)))
    if len(targets_obs) >= 5:
        break
_, body = call("GET", "/api/v1/programs")
programs = json.loads(body)
programs = programs.get("programs", programs)
targets_money, targets_sheet = [], []
for p in programs[:40]:
    s, body = call("GET", f"/api/v1/programs/{p['code']}")
    if s != 200:
        continue
    d = json.loads(body)
    versions = d.get("money_versions", {})
    if versions and len(targets_money) < 5:
        fy = sorted(versions)[-1]
        targets_money.append((p["code"], fy))
    if len(targets_sheet) < 5:
        for fy in range(2030, 2015, -1):
            s, _ = call("GET", f"/api/v1/cycle/{fy}/sheets/{p['code']}")
            if s == 200:
                targets_sheet.append((p["code"], fy))
                break
if not (targets_obs and targets_money and targets_sheet):
    sys.exit(f"writer: found nothing to write (KPIs {len(targets_obs)}, money {len(targets_money)}, sheets {len(targets_sheet)})")


def write_obs(n):
    code, period, value = targets_obs[n % len(targets_obs)]
    return call("POST", f"/api/v1/kpis/{code}/observations",
                {"period": str(period), "value": str(round(value + (n % 7) * 0.5, 2)), "note": f"bench {n}"}, API)


def write_sheet(n):
    code, fy = targets_sheet[n % len(targets_sheet)]
    s, body = call("GET", f"/api/v1/cycle/{fy}/sheets/{code}")
    if s != 200:
        return s, body
    v = json.loads(body)
    sheet = v["sheet"]
    # A text field of the sheet, changed each time.
    for field in ("issues", "improvements"):
        if field in sheet and isinstance(sheet[field], str):
            sheet[field] = f"bench {n}"
            break
    return call("PUT", f"/api/v1/cycle/{fy}/sheets/{code}", {"version": v.get("version", 0), "sheet": sheet}, API)


def write_money(n):
    code, fy = targets_money[n % len(targets_money)]
    s, body = call("GET", f"/api/v1/programs/{code}")
    d = json.loads(body)
    version = d.get("money_versions", {}).get(fy, 0)
    row = next((m for m in d.get("money", []) if str(m.get("fy")) == str(fy)), {})
    settled = row.get("settled") or row.get("budget_initial") or 1000
    return call("PUT", f"/api/v1/programs/{code}/money/{fy}",
                {"version": version, "fy": str(fy), "budget_initial": str(row.get("budget_initial") or 1000),
                 "settled": str(int(float(settled)) + (n % 5) + 1)}, API)


# Tell the script the writes start now (it starts wrk then).
if len(sys.argv) > 6:
    open(sys.argv[6], "w").close()

kinds = [write_obs, write_sheet, write_money]
made = refused = 0
lat = []
failures = {}
start = time.monotonic()
n = 0
while time.monotonic() - start < SECONDS:
    due = start + n / RATE
    wait = due - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    t0 = time.monotonic()
    s, body = kinds[n % 3](n // 3)
    lat.append(time.monotonic() - t0)
    made += 1
    if not 200 <= s < 300:
        refused += 1
        failures.setdefault(kinds[n % 3].__name__, f"{s} {body[:200]}")
    n += 1
elapsed = time.monotonic() - start
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
print(f"writer: {made} writes in {elapsed:.1f} s ({made / elapsed:.1f}/s), {refused} refused, "
      f"write p50 {q(0.5):.1f} ms p99 {q(0.99):.1f} ms")
for k, v in failures.items():
    print(f"writer: first refusal of {k}: {v}")
