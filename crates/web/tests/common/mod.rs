//! A running server on 127.0.0.1:0 over a real database (a SQLite file in a
//! temporary directory, or a fresh PostgreSQL database dropped afterwards)
//! filled with the demo city, and a small HTTP client that keeps cookies and
//! the CSRF token like a browser.

#![allow(dead_code)]

pub mod browser;
pub mod html;

use std::collections::BTreeMap;
use std::sync::Mutex;

use citykpi_domain::org::Role;
use citykpi_store::{Backend, Store};
use citykpi_web::{AppState, WebConfig};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};
use sqlx::Connection;

pub const PASSWORD: &str = "citykpi-demo";

pub fn pg_admin_url() -> String {
    std::env::var("CITYKPI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    match admin.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{db}", &admin[..i]),
        _ => format!("{admin}/{db}"),
    }
}

/// Drops the PostgreSQL database when the test ends, also when it fails.
struct PgDbGuard(String);

impl Drop for PgDbGuard {
    fn drop(&mut self) {
        let name = self.0.clone();
        let url = pg_admin_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&url).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

pub struct App {
    pub base: String,
    pub store: Store,
    pub backend: Backend,
    /// The database as `Store::open` takes it (a second server opens it too).
    pub target: String,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDbGuard>,
}

/// Opens a fresh database of `backend`, builds the demo city into it and
/// starts the server on a free port.
pub async fn spawn(backend: Backend) -> App {
    spawn_with(backend, WebConfig::default()).await
}

/// A server that looks for writes by other processes at every request, so a
/// test that writes through the store sees the pages follow at once instead
/// of waiting out the check interval.
pub async fn spawn_watching(backend: Backend) -> App {
    spawn_with(
        backend,
        WebConfig {
            snapshot_check_every: std::time::Duration::ZERO,
            ..WebConfig::default()
        },
    )
    .await
}

/// As `spawn`, with these server settings.
pub async fn spawn_with(backend: Backend, config: WebConfig) -> App {
    let (store, dir, pg, target) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let path = dir.path().join("citykpi.db");
            let target = path.to_str().unwrap().to_string();
            let store = Store::open(&target).await.expect("open SQLite");
            (store, Some(dir), None, target)
        }
        Backend::Postgres => {
            let name = format!("citykpi_webtest_{:016x}", rand::random::<u64>());
            let mut admin = sqlx::PgConnection::connect(&pg_admin_url())
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL at {} did not answer ({e}); the PostgreSQL tests never skip",
                        pg_admin_url()
                    )
                });
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("CREATE DATABASE");
            let _ = admin.close().await;
            let guard = PgDbGuard(name.clone());
            let target = pg_url_for(&name);
            let store = Store::open(&target).await.expect("open PostgreSQL");
            (store, None, Some(guard), target)
        }
    };
    // The server and the test see the day the demo city is made as of, whose
    // numbers (fiscal year 2025, evaluating 2024) the tests check.
    let as_of = citykpi_app::demo::reference_day();
    citykpi_app::clock::set_today(Some(as_of));
    citykpi_app::demo::build_demo(&store, 1, 42, as_of)
        .await
        .expect("demo city");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(store.clone(), config);
    tokio::spawn(citykpi_web::serve_on(listener, state));
    App {
        base: format!("http://{addr}"),
        store,
        backend,
        target,
        _dir: dir,
        _pg: pg,
    }
}

impl App {
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client logged in as a demo user.
    pub async fn login(&self, login: &str) -> Client {
        let mut c = self.client();
        let status = c.login(login, PASSWORD).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "login as {login}");
        c
    }

    /// A demo user with `role` (the first one).
    pub async fn user_with(&self, role: Role) -> citykpi_domain::org::User {
        self.store
            .users()
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.role == role && u.active)
            .expect("demo user")
    }

    pub async fn department_of(&self, section: &str) -> String {
        self.store
            .sections()
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.code == section)
            .map(|s| s.department_code)
            .unwrap_or_default()
    }

    /// A KPI owned by `dept` and a KPI not owned by it.
    pub async fn kpis_of(&self, dept: &str) -> (String, String) {
        let sections = self.store.sections().await.unwrap();
        let dept_of = |s: &str| {
            sections
                .iter()
                .find(|x| x.code == s)
                .map(|x| x.department_code.clone())
                .unwrap_or_default()
        };
        let kpis = self.store.kpis().await.unwrap();
        let own = kpis
            .iter()
            .find(|k| k.owner_sections.iter().any(|s| dept_of(s) == dept))
            .expect("own KPI");
        let other = kpis
            .iter()
            .find(|k| !k.owner_sections.iter().any(|s| dept_of(s) == dept))
            .expect("other KPI");
        (own.code.clone(), other.code.clone())
    }

    /// A program of `dept` and a program of another department.
    pub async fn programs_of(&self, dept: &str) -> (String, String) {
        let sections = self.store.sections().await.unwrap();
        let dept_of = |s: &str| {
            sections
                .iter()
                .find(|x| x.code == s)
                .map(|x| x.department_code.clone())
                .unwrap_or_default()
        };
        let programs = self.store.programs().await.unwrap();
        let own = programs
            .iter()
            .find(|p| dept_of(&p.section_code) == dept)
            .expect("own program");
        let other = programs
            .iter()
            .find(|p| dept_of(&p.section_code) != dept)
            .expect("other program");
        (own.code.clone(), other.code.clone())
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Cookies and the CSRF token, kept the way a browser would.
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    cookies: Mutex<BTreeMap<String, String>>,
    pub csrf: String,
}

/// The value of the first `name="csrf" value="…"` in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let rest = &html[i..];
    Some(rest[..rest.find('"')?].to_string())
}

impl Client {
    pub fn new(base: &str) -> Client {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client {
            http,
            base: base.to_string(),
            cookies: Mutex::new(BTreeMap::new()),
            csrf: String::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, headers: &HeaderMap) {
        let mut jar = self.cookies.lock().unwrap();
        for v in headers.get_all(SET_COOKIE) {
            let Ok(s) = v.to_str() else { continue };
            let first = s.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                if v.is_empty() || s.contains("Max-Age=0") {
                    jar.remove(k);
                } else {
                    jar.insert(k.to_string(), v.to_string());
                }
            }
        }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("HTTP request");
        let status = resp.status();
        let headers = resp.headers().clone();
        self.keep_cookies(&headers);
        let body = resp.text().await.unwrap_or_default();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn session_cookie(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .get("citykpi_session")
            .cloned()
            .unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET returning the raw body (downloads: XLSX).
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let resp = self
            .http
            .get(self.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("HTTP request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        (status, headers, body)
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(self.url(path))).await
    }

    /// Posts a form with the session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.send(self.http.post(self.url(path)).form(&all)).await
    }

    /// Posts a form exactly as given (no token added).
    pub async fn post_raw_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.send(self.http.post(self.url(path)).form(fields)).await
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// Issues an API token on the account page (as the user would) and
    /// returns it.
    pub async fn issue_token(&self) -> String {
        let issued = self.post_form("/account/token", &[]).await;
        assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
        let i = issued
            .body
            .find("id=\"new-token\">")
            .expect("the new token")
            + "id=\"new-token\">".len();
        issued.body[i..i + 64].to_string()
    }

    /// Logs in through the form; returns the status of the POST.
    pub async fn login(&mut self, login: &str, password: &str) -> StatusCode {
        let form = self.get("/login").await;
        let token = csrf_in(&form.body).expect("csrf in login form");
        let resp = self
            .post_raw_form(
                "/login",
                &[
                    ("csrf", &token),
                    ("login", login),
                    ("password", password),
                    ("next", "/"),
                ],
            )
            .await;
        if resp.status == StatusCode::SEE_OTHER {
            let account = self.get("/account").await;
            self.csrf = csrf_in(&account.body).expect("csrf on the account page");
        }
        resp.status
    }
}

/// Runs a test body on both backends: `both!(name, body_fn)` makes
/// `name_sqlite` and `name_postgres`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(citykpi_store::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(citykpi_store::Backend::Postgres).await;
            }
        }
    };
}
