//! Two real `citykpi serve` processes on one database, as behind a load
//! balancer: ready for it, a user signed in through one is signed in on the
//! other, and a logout on one ends the session on the other. Their logs are
//! JSON lines when `CITYKPI_LOG_FORMAT=json`. Plain HTTP/1.1 over a socket:
//! the requests are the few a browser would send.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use common::{Backend, TestDb};

struct Server {
    child: Child,
    port: u16,
    log: Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `citykpi serve` on a free port with JSON logs; returns once it listens.
fn serve(db: &TestDb) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_citykpi"))
        .args(["--db", &db.url, "serve", "--addr", "127.0.0.1:0"])
        .env("CITYKPI_LOG_FORMAT", "json")
        .env("CITYKPI_LOG", "info")
        .env("CITYKPI_SESSION_CHECK_SECONDS", "1")
        .env("LANG", "en_US.UTF-8")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run citykpi serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let port = loop {
        line.clear();
        assert!(out.read_line(&mut line).expect("stdout") > 0, "serve ended");
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            break rest
                .trim()
                .trim_end_matches('/')
                .parse::<u16>()
                .expect("port");
        }
    };
    let (tx, log) = channel();
    let err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    Server { child, port, log }
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    /// The value of cookie `name` set by this answer.
    fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let v = l
                .strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))?;
            let v = v.strip_prefix(&format!("{name}="))?;
            Some(v.split(';').next()?.to_string())
        })
    }
}

fn request(port: u16, method: &str, path: &str, cookie: &str, form: &[(&str, &str)]) -> Answer {
    let body = form
        .iter()
        .map(|(k, v)| {
            let v: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&");
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    s.write_all(req.as_bytes()).expect("send");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("answer");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn csrf_in(html: &str) -> String {
    let m = "name=\"csrf\" value=\"";
    let i = html.find(m).expect("a form with a CSRF token") + m.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

#[test]
fn two_serve_processes_share_sessions_postgres() {
    let db = TestDb::new(Backend::Postgres);
    db.ok(&["demo"]);
    let a = serve(&db);
    let b = serve(&db);
    for s in [&a, &b] {
        assert_eq!(request(s.port, "GET", "/healthz", "", &[]).status, 200);
        let ready = request(s.port, "GET", "/readyz", "", &[]);
        assert_eq!(ready.status, 200);
        assert!(ready.body.contains("ready"));
    }

    // The form from A, the login on B.
    let form = request(a.port, "GET", "/login", "", &[]);
    let pre = form
        .cookie("citykpi_presession")
        .expect("pre-session cookie");
    let login = request(
        b.port,
        "POST",
        "/login",
        &format!("citykpi_presession={pre}"),
        &[
            ("csrf", &csrf_in(&form.body)),
            ("login", "viewer"),
            ("password", "citykpi-demo"),
            ("next", "/"),
        ],
    );
    assert_eq!(login.status, 303, "{}", login.body);
    let session = format!(
        "citykpi_session={}",
        login.cookie("citykpi_session").expect("session cookie")
    );

    // Signed in on A with B's session.
    let account = request(a.port, "GET", "/account", &session, &[]);
    assert_eq!(account.status, 200);
    assert!(account.body.contains("viewer"));
    assert_eq!(request(b.port, "GET", "/", &session, &[]).status, 200);

    // Logged out on A: refused on B once B reads the session again (1 s here).
    let out = request(
        a.port,
        "POST",
        "/logout",
        &session,
        &[("csrf", &csrf_in(&account.body))],
    );
    assert_eq!(out.status, 303);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(request(b.port, "GET", "/", &session, &[]).status, 303);

    // Every log line is a JSON object; each server said where it listens.
    for s in [&a, &b] {
        std::thread::sleep(Duration::from_millis(100));
        let lines: Vec<String> = s.log.try_iter().collect();
        let mut listening = false;
        for l in &lines {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            if v["fields"]["message"] == "listening" {
                assert_eq!(v["level"], "INFO");
                assert_eq!(v["fields"]["address"], format!("127.0.0.1:{}", s.port));
                listening = true;
            }
        }
        assert!(listening, "{lines:?}");
    }
}
