//! Several servers on one database, as behind a load balancer: two real
//! server instances, each with its own connection pool, session cache and
//! read model, on one PostgreSQL database (and one SQLite file), over HTTP.
//! Signed in on one, the user acts on the other; a change on one is read
//! on the other; a logout, a password change or "log out everywhere" on one
//! ends the session on both; the login limit counts attempts on both; a
//! scheduled job runs once per turn; a restart logs no one out. And the
//! load balancer's and the scraper's endpoints: /healthz, /readyz, /metrics.

mod common;

use std::time::{Duration, Instant};

use citykpi_store::{Backend, Store};
use citykpi_web::{AppState, WebConfig};
use common::{Client, PASSWORD, csrf_in, spawn_with};
use reqwest::StatusCode;

/// Sessions read by a server are read again after this (the tests wait a
/// little longer to see a revocation made on the other server).
const SESSION_CHECK: Duration = Duration::from_millis(500);
const AFTER_CHECK: Duration = Duration::from_millis(700);

fn config() -> WebConfig {
    WebConfig {
        session_check_every: SESSION_CHECK,
        // No scheduled job unless a test asks for one.
        cleanup_every: Duration::ZERO,
        ..WebConfig::default()
    }
}

/// Another server on the database `target`: its own store (pool), state and
/// port. Returns its address and the task to stop it with.
async fn start(target: &str, config: WebConfig) -> (String, tokio::task::JoinHandle<()>) {
    let store = Store::open(target).await.expect("open the shared database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = citykpi_web::serve_on(listener, AppState::new(store, config)).await;
    });
    (format!("http://{addr}"), task)
}

/// The status of a GET of `path` on `base` with only the session cookie `sid`.
async fn status_with(base: &str, path: &str, sid: &str) -> StatusCode {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}{path}"))
        .header("cookie", format!("citykpi_session={sid}"))
        .send()
        .await
        .unwrap()
        .status()
}

/// A client of `base` logged in as `login`, with its session cookie.
async fn logged_in(base: &str, login: &str) -> (Client, String) {
    let mut c = Client::new(base);
    assert_eq!(
        c.login(login, PASSWORD).await,
        StatusCode::SEE_OTHER,
        "{login}"
    );
    let sid = c.session_cookie();
    assert_eq!(sid.len(), 64);
    (c, sid)
}

/// The value of the hidden input `name` in a page.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let i = html.find(&marker)? + marker.len();
    let rest = &html[i..];
    Some(rest[..rest.find('"')?].to_string())
}

async fn sessions_across_servers(backend: Backend) {
    let a = spawn_with(backend, config()).await;
    let (b, _b_task) = start(&a.target, config()).await;

    // The login form comes from B, the login goes to A: the pre-session
    // CSRF token is the cookie's, so no server needs to have issued it.
    let mut c = Client::new(&b);
    let form = c.get("/login").await;
    let token = csrf_in(&form.body).expect("login form token");
    c.base = a.base.clone();
    let r = c
        .post_raw_form(
            "/login",
            &[
                ("csrf", &token),
                ("login", "strategy-kikaku"),
                ("password", PASSWORD),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let sid = c.session_cookie();
    let on_a = c.get("/account").await;
    assert_eq!(on_a.status, StatusCode::OK);
    c.csrf = csrf_in(&on_a.body).expect("csrf on A");
    // Only the digest of the cookie's id is stored.
    assert!(
        a.store.session(&sid).await.unwrap().is_none(),
        "the id is not kept"
    );
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(sid.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let stored = a
        .store
        .session(&digest)
        .await
        .unwrap()
        .expect("its digest is");
    assert_eq!(stored.login, "strategy-kikaku");
    assert_eq!(stored.csrf, c.csrf);
    assert_eq!(a.store.session_count("strategy-kikaku").await.unwrap(), 1);

    // The same cookie on B: a page, and a form with the same CSRF token.
    c.base = b.clone();
    let on_b = c.get("/account").await;
    assert_eq!(on_b.status, StatusCode::OK, "{}", on_b.location());
    assert!(on_b.body.contains("strategy-kikaku"));
    assert_eq!(csrf_in(&on_b.body).as_deref(), Some(c.csrf.as_str()));
    let r = c.post_form("/account/token", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"new-token\""));
    let r = c
        .post_raw_form("/account/token", &[("csrf", "wrong")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // B reads the KPI page once, so its read model is built before the change.
    let kpi = a.store.kpis().await.unwrap()[0].code.clone();
    let fy = citykpi_app::clock::last_closed_fiscal_year()
        .year()
        .to_string();
    let page = format!("/kpis/{kpi}?fy={fy}");
    assert_eq!(c.get(&page).await.status, StatusCode::OK);

    // A changes an actual through its form; B shows it within its check
    // interval (two seconds: it polls the newest audit row).
    c.base = a.base.clone();
    let note = "二台目のサーバーで読む実績";
    let form = c.get(&format!("/kpis/{kpi}/actuals")).await;
    assert_eq!(form.status, StatusCode::OK);
    let versions = hidden(&form.body, "versions").expect("versions");
    let r = c
        .post_form(
            &format!("/kpis/{kpi}/actuals"),
            &[
                ("versions", &versions),
                ("period", &fy),
                ("value", "97531.5"),
                ("note", note),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(c.get(&page).await.body.contains(note), "A shows it at once");
    c.base = b.clone();
    let changed = Instant::now();
    loop {
        let body = c.get(&page).await.body;
        if body.contains(note) {
            assert!(body.contains("97,531.5"));
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(4),
            "B did not show A's change within its check interval"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen_after = changed.elapsed();
    assert!(seen_after <= Duration::from_millis(3000), "{seen_after:?}");

    // A logout on A ends the session on B too (B read it a moment ago).
    assert_eq!(status_with(&b, "/", &sid).await, StatusCode::OK);
    c.base = a.base.clone();
    let r = c.post_form("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(status_with(&a.base, "/", &sid).await, StatusCode::SEE_OTHER);
    tokio::time::sleep(AFTER_CHECK).await;
    assert_eq!(status_with(&b, "/", &sid).await, StatusCode::SEE_OTHER);
    assert_eq!(a.store.session_count("strategy-kikaku").await.unwrap(), 0);

    // The login limit counts failures on both servers together.
    for i in 0..5 {
        let base = if i % 2 == 0 { &a.base } else { &b };
        let mut x = Client::new(base);
        assert_eq!(
            x.login("viewer", "not the password").await,
            StatusCode::UNAUTHORIZED
        );
    }
    for base in [&a.base, &b] {
        let mut x = Client::new(base);
        assert_eq!(
            x.login("viewer", PASSWORD).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{base}"
        );
    }
}
both!(sessions_work_on_both_servers, sessions_across_servers);

async fn revocation(backend: Backend) {
    let a = spawn_with(backend, config()).await;
    let (b, _b_task) = start(&a.target, config()).await;
    let user = "editor-kodomo";

    // Signed in on A and on B; both servers have read both sessions.
    let (_on_a, sid_a) = logged_in(&a.base, user).await;
    let (_on_b, sid_b) = logged_in(&b, user).await;
    for base in [&a.base, &b] {
        for sid in [&sid_a, &sid_b] {
            assert_eq!(status_with(base, "/", sid).await, StatusCode::OK);
        }
    }
    assert_eq!(a.store.session_count(user).await.unwrap(), 2);

    // An administrator on A resets the password: both sessions end on both.
    let (admin, _) = logged_in(&a.base, "admin").await;
    let r = admin
        .post_form(
            &format!("/admin/users/{user}/password"),
            &[("password", "Kamo-river 2026 spring")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(a.store.session_count(user).await.unwrap(), 0);
    tokio::time::sleep(AFTER_CHECK).await;
    for base in [&a.base, &b] {
        for sid in [&sid_a, &sid_b] {
            assert_eq!(status_with(base, "/", sid).await, StatusCode::SEE_OTHER);
        }
    }

    // The user's own password change on B ends the session on A and keeps
    // the one that changed it.
    let new = "Kamo-river 2026 spring";
    let mut on_a = Client::new(&a.base);
    assert_eq!(on_a.login(user, new).await, StatusCode::SEE_OTHER);
    let sid_a = on_a.session_cookie();
    let mut on_b = Client::new(&b);
    assert_eq!(on_b.login(user, new).await, StatusCode::SEE_OTHER);
    assert_eq!(status_with(&a.base, "/", &sid_a).await, StatusCode::OK);
    let r = on_b
        .post_form(
            "/account/password",
            &[
                ("current", new),
                ("password", "Higashiyama 2027 autumn"),
                ("confirm", "Higashiyama 2027 autumn"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    tokio::time::sleep(AFTER_CHECK).await;
    assert_eq!(
        status_with(&a.base, "/", &sid_a).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(on_b.get("/account").await.status, StatusCode::OK);
    let kept = on_b.session_cookie();
    assert_eq!(
        status_with(&a.base, "/account", &kept).await,
        StatusCode::OK
    );

    // "Log out everywhere" on A ends the session on B, with an audit row.
    let page = on_b.get("/account").await;
    assert!(page.body.contains("action=\"/account/sessions/revoke\""));
    let mut everywhere = Client::new(&a.base);
    assert_eq!(
        everywhere.login(user, "Higashiyama 2027 autumn").await,
        StatusCode::SEE_OTHER
    );
    let r = everywhere.post_form("/account/sessions/revoke", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login");
    tokio::time::sleep(AFTER_CHECK).await;
    assert_eq!(on_b.get("/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        everywhere.get("/account").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(a.store.session_count(user).await.unwrap(), 0);
    let audit = a.store.audit_entries(5, 0).await.unwrap();
    assert_eq!(audit[0].action, "revoke_sessions");
    assert_eq!(audit[0].actor, user);

    // A deactivated account's sessions are deleted with the change.
    let (_v, sid_v) = logged_in(&b, "viewer").await;
    assert_eq!(a.store.session_count("viewer").await.unwrap(), 1);
    let mut viewer = a.store.user("viewer").await.unwrap().expect("viewer");
    viewer.active = false;
    a.store.save_user(&viewer, false, "admin").await.unwrap();
    assert_eq!(a.store.session_count("viewer").await.unwrap(), 0);
    tokio::time::sleep(AFTER_CHECK).await;
    assert_eq!(status_with(&b, "/", &sid_v).await, StatusCode::SEE_OTHER);
}
both!(revocation_reaches_both_servers, revocation);

/// The sum over the servers' /metrics of the job's turns with `outcome`.
async fn job_turns(bases: &[&str], outcome: &str) -> u64 {
    let mut n = 0;
    for base in bases {
        let text = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let line =
            format!("citykpi_job_runs_total{{job=\"session_cleanup\",outcome=\"{outcome}\"}} ");
        n += text
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .map_or(0, |v| v.trim().parse::<u64>().unwrap());
    }
    n
}

async fn job_once(backend: Backend) {
    let a = spawn_with(backend, config()).await;
    // An expired session (logged in 13 hours ago) and a live one.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let old = now - 13 * 3600;
    a.store
        .create_session(&"0".repeat(64), "viewer", "csrf-old", old)
        .await
        .unwrap();
    a.store
        .create_session(&"1".repeat(64), "viewer", "csrf-new", now)
        .await
        .unwrap();
    let every = WebConfig {
        cleanup_every: Duration::from_secs(1),
        ..config()
    };
    let (b, _b) = start(&a.target, every.clone()).await;
    let (c, _c) = start(&a.target, every).await;
    tokio::time::sleep(Duration::from_millis(4300)).await;
    let runs = a.store.job_runs("session_cleanup").await.unwrap();
    // One run per one-second slot, whichever server took it; every slot
    // was tried by both servers.
    assert!(runs.len() >= 3, "{runs:?}");
    for w in runs.windows(2) {
        assert!(w[0].0 < w[1].0, "one run per slot: {runs:?}");
    }
    let ran = job_turns(&[&b, &c], "ran").await;
    let skipped = job_turns(&[&b, &c], "skipped").await;
    assert_eq!(ran, runs.len() as u64, "each run is counted once");
    assert!(
        skipped + 1 >= ran,
        "the other server skipped: {ran} ran, {skipped} skipped"
    );
    assert_eq!(job_turns(&[&b, &c], "failed").await, 0);
    // The job did its work: the expired session is gone, the live one kept.
    assert_eq!(a.store.session_count("viewer").await.unwrap(), 1);
    assert!(a.store.session(&"1".repeat(64)).await.unwrap().is_some());
}
both!(scheduled_job_runs_once, job_once);

async fn health(backend: Backend) {
    let a = spawn_with(backend, config()).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", a.base));
    let r = get("/healthz").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok");
    let r = get("/readyz").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ready");
    assert!(a.store.readiness().await.unwrap().ready());

    // Some traffic, then the numbers from this host.
    let (viewer, _) = logged_in(&a.base, "viewer").await;
    let kpi = a.store.kpis().await.unwrap()[0].code.clone();
    assert_eq!(
        viewer.get(&format!("/kpis/{kpi}")).await.status,
        StatusCode::OK
    );
    let r = get("/metrics").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains(
            "citykpi_http_requests_total{method=\"GET\",route=\"/kpis/{code}\",status=\"200\"} 1\n"
        ),
        "{text}"
    );
    assert!(text.contains(
        "citykpi_http_requests_total{method=\"POST\",route=\"/login\",status=\"303\"} 1\n"
    ));
    assert!(text.contains(
        "citykpi_http_request_duration_seconds_bucket{route=\"/kpis/{code}\",le=\"+Inf\"} 1\n"
    ));
    assert!(text.contains("# TYPE citykpi_http_request_duration_seconds histogram"));
    assert!(text.contains("citykpi_db_pool_connections{state=\"max\"} "));
    assert!(!text.contains(&kpi), "route templates, not addresses");

    // Forwarded by a proxy that is not trusted: refused, although the
    // proxy itself is on this host.
    let r = get("/metrics")
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // No page links to the endpoints.
    let home = viewer.get("/").await.body;
    assert!(!home.contains("/metrics") && !home.contains("/readyz"));

    // A server that admits only another network refuses this host, but an
    // administrator's API token is let in from anywhere; a viewer's is not.
    let (b, _b) = start(
        &a.target,
        WebConfig {
            metrics_allow: citykpi_web::proxy::parse_ranges("10.0.0.0/8").unwrap(),
            ..config()
        },
    )
    .await;
    let r = http.get(format!("{b}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let token_of = |c: Client| async move {
        let page = c.post_form("/account/token", &[]).await.body;
        let i = page.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
        page[i..i + 64].to_string()
    };
    let (admin, _) = logged_in(&a.base, "admin").await;
    let admin_token = token_of(admin).await;
    let viewer_token = token_of(viewer).await;
    let with = |t: &str| {
        http.get(format!("{b}/metrics"))
            .header("authorization", format!("Bearer {t}"))
    };
    assert_eq!(
        with(&admin_token).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        with(&viewer_token).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        with("nonsense").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // /healthz and /readyz stay open there.
    let r = http.get(format!("{b}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
both!(health_readiness_and_metrics, health);

/// A restarted server (a new process: nothing in memory) keeps everyone
/// signed in, because the sessions are in the SQLite file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_sessions_sqlite() {
    let a = spawn_with(Backend::Sqlite, config()).await;
    let (first, task) = start(&a.target, config()).await;
    let (mut c, sid) = logged_in(&first, "viewer").await;
    task.abort();
    let _ = task.await;
    assert!(
        reqwest::get(format!("{first}/healthz")).await.is_err(),
        "stopped"
    );
    let (second, _task) = start(&a.target, config()).await;
    assert_eq!(status_with(&second, "/", &sid).await, StatusCode::OK);
    c.base = second.clone();
    let page = c.get("/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(csrf_in(&page.body).as_deref(), Some(c.csrf.as_str()));
    let r = c.post_form("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(status_with(&second, "/", &sid).await, StatusCode::SEE_OTHER);
}
