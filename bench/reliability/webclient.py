"""A browser-like client for the reliability scripts: keeps the session
cookie and the CSRF token, never follows redirects (a 303 is the answer that
acknowledges a save). Standard library only; loopback addresses only."""
import http.cookiejar
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

PASSWORD = "citykpi-demo"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def csrf_in(html):
    m = re.search(r'name="csrf" value="([^"]*)"', html)
    return m.group(1) if m else None


def hidden(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    return m.group(1) if m else None


class Client:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.csrf = ""

    def request(self, method, path, fields=None, timeout=30):
        data = None
        if fields is not None:
            data = urllib.parse.urlencode(fields).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        try:
            with self.opener.open(req, timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields):
        return self.request("POST", path, [("csrf", self.csrf)] + list(fields))

    def login(self, login, password=PASSWORD):
        _, body = self.get("/login")
        token = csrf_in(body)
        st, _ = self.request(
            "POST", "/login",
            [("csrf", token), ("login", login), ("password", password), ("next", "/")],
        )
        if st != 303:
            raise RuntimeError(f"login as {login}: {st}")
        _, account = self.get("/account")
        self.csrf = csrf_in(account)
        return self

    def cookie_header(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def binary():
    b = os.environ.get("BIN")
    if b:
        return b
    if not os.path.exists("target/release/citykpi"):
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "citykpi"], check=True)
    return os.path.abspath("target/release/citykpi")


def start_server(db, log_path, demo=True, env=None):
    """Starts `citykpi serve` on a free loopback port; returns (process, base URL)."""
    port = free_port()
    args = [binary(), "--db", db, "serve", "--addr", f"127.0.0.1:{port}"]
    if demo:
        args.append("--demo")
    log = open(log_path, "ab")
    e = dict(os.environ)
    e.setdefault("RUST_LOG", "info")
    if env:
        e.update(env)
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=e)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 600
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except Exception:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not answer /healthz")


def error_lines(log_path):
    with open(log_path, encoding="utf-8", errors="replace") as f:
        return [l for l in f if " ERROR " in l or "panicked" in l]
