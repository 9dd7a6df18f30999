//! HTTP tests of what security probing broke, against the running server
//! with the demo city, on SQLite and PostgreSQL: open redirects after login,
//! 500s on bad input (and a failed request that had written), stale roles in
//! open sessions, API tokens that outlived a password reset and never
//! expired, weak passwords, the login limit behind a reverse proxy, and the
//! smaller hardening (HSTS, CSRF token out of upload URLs, 405 for OPTIONS
//! and TRACE, the notices' schema).

mod common;

use std::time::Duration;

use citykpi_domain::FiscalYear;
use citykpi_domain::org::Role;
use citykpi_store::Backend;
use citykpi_web::WebConfig;
use citykpi_web::proxy::parse_ranges;
use common::{App, Client, PASSWORD, csrf_in, spawn, spawn_with};
use reqwest::{Method, StatusCode};

fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

/// The login form's token for a client that is not logged in.
async fn login_token(c: &Client) -> String {
    csrf_in(&c.get("/login").await.body).expect("csrf in login form")
}

async fn open_redirect(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    // Logged in, the login form sends on to `next` at once.
    for (next, want) in [
        ("/%09/evil.example", "/"),
        ("/%0a/evil.example", "/"),
        ("/%0d%0a/evil.example", "/"),
        ("/%5C/evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/%0a", "/"),
        ("/%00", "/"),
        ("/%E5%B8%82", "/"),
        ("/kpis%3Ffy%3D2024", "/kpis?fy=2024"),
    ] {
        let r = admin.get(&format!("/login?next={next}")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "next={next}");
        assert_eq!(r.location(), want, "next={next}");
    }
    // Not logged in: the form carries only a safe target, never a 500.
    let visitor = app.client();
    let r = visitor.get("/login?next=/%0a").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("name=\"next\" value=\"/\""), "{}", r.body);
    // Logging in with a tab in the target: the browser would drop the tab
    // and go to //evil.example; the server sends it home instead.
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "/ /evil.example",
    ] {
        let c = app.client();
        let token = login_token(&c).await;
        let r = c
            .post_raw_form(
                "/login",
                &[
                    ("csrf", token.as_str()),
                    ("login", "admin"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(r.location(), "/", "{next:?}");
    }
    // A real target on the site is kept.
    let c = app.client();
    let token = login_token(&c).await;
    let r = c
        .post_raw_form(
            "/login",
            &[
                ("csrf", token.as_str()),
                ("login", "admin"),
                ("password", PASSWORD),
                ("next", "/kpis?fy=2024"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/kpis?fy=2024");
}
both!(open_redirect_after_login, open_redirect);

async fn bad_input(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    // A NUL or another control character in a search is a separator, not a 500.
    let kpi_name = app.store.kpis().await.unwrap()[0].name_ja.clone();
    let first: String = kpi_name.chars().take(3).collect();
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for q in ["a\0b", "\0", "\"", "a\"\0\"b", "\u{1}\u{7f}", "\r\n"] {
        for path in ["/api/v1/search", "/search", "/kpis", "/programs"] {
            let r = admin.get(&format!("{path}?q={}", enc(q))).await;
            assert_eq!(r.status, StatusCode::OK, "{path} q={q:?}: {}", r.body);
        }
    }
    let r = admin
        .get(&format!("/api/v1/search?q={}", enc(&format!("{first}\0"))))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains(&app.store.kpis().await.unwrap()[0].code),
        "{}",
        r.body
    );

    // Budget writes with a newline in the list filter they return to: the
    // save and the answer agree (a redirect to the encoded filter), where
    // before the save was written and the answer was a 500.
    let finance = app.login(&app.user_with(Role::Finance).await.login).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    // The form sends back the ceiling it showed (a stale form is refused).
    let seen = app
        .store
        .ceilings(fy(2026))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.department_code == dept)
        .map_or_else(|| "none".to_string(), |c| c.amount.to_string());
    let r = finance
        .post_form(
            "/cycle/2024/ceilings?department=%0d%0a",
            &[
                ("department", &dept),
                ("amount", "100000000000"),
                ("seen", &seen),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/cycle/2024/budget?department=%0D%0A");
    let sections = app.store.sections().await.unwrap();
    let programs = app.store.programs().await.unwrap();
    let code = programs
        .iter()
        .find(|p| {
            p.end_fy.is_none_or(|e| e >= fy(2026))
                && sections
                    .iter()
                    .any(|s| s.code == p.section_code && s.department_code == dept)
        })
        .expect("a running program of the editor's department")
        .code
        .clone();
    let editor = app.login(&editor_user.login).await;
    let before = app.store.budget_request(&code, fy(2026)).await.unwrap();
    let rv = before.as_ref().map_or(0, |r| r.version).to_string();
    let r = editor
        .post_form(
            &format!("/cycle/2024/budget/{code}?department=%0d%0a"),
            &[("version", &rv), ("requested", "1,234,000")],
        )
        .await;
    assert!(!r.status.is_server_error(), "{}: {}", r.status, r.body);
    let after = app.store.budget_request(&code, fy(2026)).await.unwrap();
    if r.status == StatusCode::SEE_OTHER {
        assert_eq!(r.location(), "/cycle/2024/budget?department=%0D%0A");
        assert_eq!(after.unwrap().request.requested, 1_234_000);
    } else {
        // A refusal writes nothing.
        assert_eq!(
            after.map(|a| a.version),
            before.map(|b| b.version),
            "{}",
            r.body
        );
    }
}
both!(bad_input_is_not_a_server_error, bad_input);

/// Posts a users CSV through the API as `admin` (cookie and CSRF header).
async fn import_users(admin: &Client, csv: String) {
    let r = admin
        .send(
            admin
                .request(Method::POST, "/api/v1/import/users")
                .header("x-csrf-token", &admin.csrf)
                .body(csv),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

fn user_row(u: &citykpi_domain::org::User, role: &str, active: bool) -> String {
    format!(
        "login,display_name,email,section_code,role,active\n{},{},{},{},{role},{}\n",
        u.login,
        u.display_name,
        u.email.clone().unwrap_or_default(),
        u.section_code,
        if active { "1" } else { "0" }
    )
}

async fn stale_privileges(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let (own_kpi, _) = app.kpis_of(&dept).await;
    let editor = app.login(&editor_user.login).await;
    let form = format!("/kpis/{own_kpi}/actuals");
    assert_eq!(editor.get(&form).await.status, StatusCode::OK);

    // Demoted to viewer: the open session is refused the editor's pages and
    // writes on its very next request.
    import_users(&admin, user_row(&editor_user, "viewer", true)).await;
    assert_eq!(editor.get(&form).await.status, StatusCode::FORBIDDEN);
    let write = editor
        .post_form(&form, &[("period", "2019"), ("value", "1")])
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    let account = editor.get("/account").await;
    assert!(
        account.body.contains("閲覧者"),
        "the page shows the new role"
    );

    // Deactivated: the session ends at once.
    import_users(&admin, user_row(&editor_user, "department_editor", false)).await;
    let r = editor.get("/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"), "{}", r.location());
    let r = editor.get("/api/v1/kpis").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Activated again, the old session stays gone.
    import_users(&admin, user_row(&editor_user, "department_editor", true)).await;
    assert_eq!(editor.get(&form).await.status, StatusCode::SEE_OTHER);
}
both!(stale_privileges_end_at_once, stale_privileges);

async fn issue_token(c: &Client) -> String {
    c.issue_token().await
}

async fn api_status(app: &App, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/v1/kpis", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn tokens(backend: Backend) {
    let app = spawn_with(
        backend,
        WebConfig {
            token_lifetime: Duration::from_secs(3),
            ..WebConfig::default()
        },
    )
    .await;
    let admin = app.login("admin").await;
    let viewer_user = app.user_with(Role::Viewer).await;
    let viewer = app.login(&viewer_user.login).await;

    // A token works, and its last use is noted and shown.
    let token = issue_token(&viewer).await;
    assert_eq!(api_status(&app, &token).await, StatusCode::OK);
    let info = app
        .store
        .api_token(&viewer_user.login)
        .await
        .unwrap()
        .unwrap();
    assert!(info.last_used_at.is_some());
    assert!(info.expires_at.as_deref().unwrap() > info.created_at.as_str());
    let page = viewer.get("/account").await;
    assert!(page.body.contains("有効期限"), "{}", page.body);
    assert!(page.body.contains("最終利用"));
    assert!(page.body.contains("action=\"/account/token/revoke\""));

    // It expires.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert_eq!(api_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert!(viewer.get("/account").await.body.contains("期限切れ"));

    // The user revokes their own token.
    let token = issue_token(&viewer).await;
    assert_eq!(api_status(&app, &token).await, StatusCode::OK);
    let r = viewer.post_form("/account/token/revoke", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(api_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert!(
        app.store
            .api_token(&viewer_user.login)
            .await
            .unwrap()
            .is_none()
    );
    let audit = app.store.audit_entries(5, 0).await.unwrap();
    assert_eq!(audit[0].action, "revoke_api_token");
    assert_eq!(audit[0].actor, viewer_user.login);

    // A password reset by the administrator revokes the token.
    let token = issue_token(&viewer).await;
    let r = admin
        .post_form(
            &format!("/admin/users/{}/password", viewer_user.login),
            &[("password", "Kamo-river 2026 spring")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(api_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert!(
        app.store
            .api_token(&viewer_user.login)
            .await
            .unwrap()
            .is_none()
    );

    // So does deactivation, also after the account is activated again.
    let mut v = app.client();
    assert_eq!(
        v.login(&viewer_user.login, "Kamo-river 2026 spring").await,
        StatusCode::SEE_OTHER
    );
    let token = issue_token(&v).await;
    assert_eq!(api_status(&app, &token).await, StatusCode::OK);
    import_users(&admin, user_row(&viewer_user, "viewer", false)).await;
    assert_eq!(api_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    import_users(&admin, user_row(&viewer_user, "viewer", true)).await;
    assert_eq!(api_status(&app, &token).await, StatusCode::UNAUTHORIZED);
}
both!(api_tokens_expire_and_are_revoked, tokens);

async fn passwords(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let user = app.user_with(Role::Viewer).await;
    let set = format!("/admin/users/{}/password", user.login);
    let with_login = format!("{}-2026!xyz", user.login);
    let login_upper = format!("My {} Password", user.login.to_uppercase());
    for (pw, reason) in [
        ("aaaaaaaaaa", "repeated"),
        ("abcabcabcabc", "repeated"),
        ("password12", "common"),
        ("Qwertyuiop!", "common"),
        (with_login.as_str(), "login name"),
        (login_upper.as_str(), "login name"),
        ("short", "10"),
    ] {
        let r = admin.post_form(&set, &[("password", pw)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{pw}");
        assert!(r.body.contains(reason), "{pw}: {}", r.body);
    }
    // Nothing was changed: the demo password still logs in.
    let mut me = app.client();
    assert_eq!(me.login(&user.login, PASSWORD).await, StatusCode::SEE_OTHER);

    // The user's own change needs the current password and meets the policy.
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        vec![
            ("current", current),
            ("password", new),
            ("confirm", confirm),
        ]
    };
    let r = me
        .post_form(
            "/account/password",
            &change(
                "wrong-password",
                "Kamo-river 2026 spring",
                "Kamo-river 2026 spring",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("現在のパスワードが正しくありません"),
        "{}",
        r.body
    );
    let r = me
        .post_form(
            "/account/password",
            &change(PASSWORD, "password123", "password123"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("よく使われるパスワード"), "{}", r.body);
    let r = me
        .post_form(
            "/account/password",
            &change(PASSWORD, "Kamo-river 2026 spring", "Kamo-river 2026 sprinG"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("確認のパスワードが一致しません"));
    let mut other_session = app.client();
    assert_eq!(
        other_session.login(&user.login, PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let token = issue_token(&other_session).await;
    let r = me
        .post_form(
            "/account/password",
            &change(PASSWORD, "Kamo-river 2026 spring", "Kamo-river 2026 spring"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/account?password_changed=1");
    // This browser stays logged in; the other session and the token end.
    let page = me.get("/account?password_changed=1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("パスワードを変更しました"));
    assert_eq!(other_session.get("/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(api_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    let audit = app.store.audit_entries(5, 0).await.unwrap();
    assert_eq!(audit[0].action, "set_password");
    assert_eq!(audit[0].actor, user.login);
    let mut again = app.client();
    assert_eq!(
        again.login(&user.login, PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        again.login(&user.login, "Kamo-river 2026 spring").await,
        StatusCode::SEE_OTHER
    );
}
both!(password_policy_and_own_change, passwords);

/// A failed login as `login` from a client behind the proxy at `xff`.
async fn login_from(app: &App, xff: &str, login: &str, password: &str) -> StatusCode {
    let c = app.client();
    let token = login_token(&c).await;
    c.send(
        c.request(Method::POST, "/login")
            .header("x-forwarded-for", xff)
            .form(&[
                ("csrf", token.as_str()),
                ("login", login),
                ("password", password),
                ("next", "/"),
            ]),
    )
    .await
    .status
}

async fn proxies(backend: Backend) {
    // Behind a trusted proxy (the tests' peer is 127.0.0.1): clients are
    // counted apart by the address the proxy appends.
    let app = spawn_with(
        backend,
        WebConfig {
            trusted_proxies: parse_ranges("127.0.0.1,10.0.0.0/8").unwrap(),
            ..WebConfig::default()
        },
    )
    .await;
    for _ in 0..5 {
        let s = login_from(&app, "198.51.100.1", "admin", "wrong-password").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&app, "198.51.100.1", "admin", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // What a client writes left of the proxy's entry does not change who it is.
    assert_eq!(
        login_from(&app, "203.0.113.7, 198.51.100.1", "admin", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_from(&app, "198.51.100.2", "admin", PASSWORD).await,
        StatusCode::SEE_OTHER,
        "another client behind the same proxy is not locked out"
    );
    drop(app);

    // The header from a peer that is not a configured proxy is ignored.
    let app = spawn_with(
        backend,
        WebConfig {
            trusted_proxies: parse_ranges("10.0.0.0/8").unwrap(),
            ..WebConfig::default()
        },
    )
    .await;
    for i in 0..5 {
        let s = login_from(&app, &format!("198.51.100.{i}"), "admin", "wrong-password").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&app, "198.51.100.99", "admin", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
both!(login_limit_behind_a_trusted_proxy, proxies);

async fn hardening(backend: Backend) {
    let app = spawn(backend).await;
    // HSTS only when the site is served over TLS.
    let r = app.client().get("/login").await;
    assert!(r.headers.get("strict-transport-security").is_none());
    let tls = spawn_with(
        backend,
        WebConfig {
            secure_cookies: true,
            ..WebConfig::default()
        },
    )
    .await;
    let r = tls.client().get("/login").await;
    assert_eq!(
        r.headers.get("strict-transport-security").unwrap(),
        "max-age=31536000; includeSubDomains"
    );
    drop(tls);

    // OPTIONS and TRACE: 405 with the methods the route has.
    let admin = app.login("admin").await;
    for (method, path, allow) in [
        (Method::OPTIONS, "/", "GET, HEAD"),
        (Method::TRACE, "/kpis", "GET, HEAD"),
        (Method::OPTIONS, "/login", "GET, POST, HEAD"),
        (Method::DELETE, "/api/v1/kpis", "GET, HEAD"),
    ] {
        let r = admin.send(admin.request(method.clone(), path)).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(r.headers.get("allow").unwrap(), allow, "{method} {path}");
    }

    // Uploads carry the CSRF token as their first field, not in the URL.
    let page = admin.get("/data").await;
    assert!(
        page.body.contains("action=\"/data/import\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("csrf="));
    let upload = |csrf_field: Option<&str>| {
        let mut form = reqwest::multipart::Form::new();
        if let Some(t) = csrf_field {
            form = form.text("csrf", t.to_string());
        }
        let csv = "コード,名称\nK-NEW,\n".as_bytes().to_vec();
        form.part(
            "file",
            reqwest::multipart::Part::bytes(csv).file_name("kpis.csv"),
        )
        .text("kind", "kpis")
        .text("dry_run", "1")
    };
    let r = admin
        .send(
            admin
                .request(Method::POST, "/data/import")
                .multipart(upload(Some(&admin.csrf))),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("取り込めませんでした"));
    let r = admin
        .send(
            admin
                .request(Method::POST, &format!("/data/import?csrf={}", admin.csrf))
                .multipart(upload(None)),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a token in the URL is not taken"
    );
    let r = admin
        .send(
            admin
                .request(Method::POST, "/data/import")
                .multipart(upload(Some("0000"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // /api/v1/notices answers what its schema says: a list of notices.
    let doc: serde_json::Value =
        serde_json::from_str(&admin.get("/api/openapi.json").await.body).unwrap();
    let schema = &doc["paths"]["/api/v1/notices"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_eq!(schema["type"], "array");
    let notice = &doc["components"]["schemas"]["Notice"];
    let editor = app
        .login(&app.user_with(Role::DepartmentEditor).await.login)
        .await;
    let office = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let mut seen = 0;
    for c in [&admin, &editor, &office] {
        let body: serde_json::Value =
            serde_json::from_str(&c.get("/api/v1/notices").await.body).unwrap();
        let items = body.as_array().expect("an array, as documented");
        for item in items {
            seen += 1;
            for key in notice["required"].as_array().unwrap() {
                let key = key.as_str().unwrap();
                let value = &item[key];
                let types: Vec<&str> = match &notice["properties"][key]["type"] {
                    serde_json::Value::String(t) => vec![t.as_str()],
                    serde_json::Value::Array(ts) => ts.iter().filter_map(|t| t.as_str()).collect(),
                    other => panic!("{key}: {other}"),
                };
                let actual = match value {
                    serde_json::Value::Null => "null",
                    serde_json::Value::Bool(_) => "boolean",
                    serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                    serde_json::Value::Number(_) => "number",
                    serde_json::Value::String(_) => "string",
                    serde_json::Value::Array(_) => "array",
                    serde_json::Value::Object(_) => "object",
                };
                assert!(types.contains(&actual), "{key}: {value} is not {types:?}");
            }
        }
    }
    assert!(seen > 0, "the demo's running cycle owes some work");
}
both!(hardening_headers_methods_uploads_schema, hardening);

async fn admin_users(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let sections = app.store.sections().await.unwrap();
    let section = sections[0].code.clone();
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("action=\"/admin/users\""));
    let add = |login: &'static str, password: &'static str| {
        let section = section.clone();
        let admin = &admin;
        async move {
            admin
                .post_form(
                    "/admin/users",
                    &[
                        ("login", login),
                        ("display_name", "新規 太郎"),
                        ("email", "shinki@example.jp"),
                        ("section_code", &section),
                        ("role", "department_editor"),
                        ("active", "1"),
                        ("password", password),
                    ],
                )
                .await
        }
    };
    // A weak first password or a bad login name: refused, nothing stored.
    let r = add("shinki.taro", "password12").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("よく使われる"), "{}", r.body);
    let r = add("bad/login", "Kamo-river 2026 spring").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("ログインID"), "{}", r.body);
    assert!(app.store.user("shinki.taro").await.unwrap().is_none());
    // Added, with the audit row, and the new user logs in.
    let r = add("shinki.taro", "Kamo-river 2026 spring").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let stored = app.store.user("shinki.taro").await.unwrap().unwrap();
    assert_eq!(stored.role, Role::DepartmentEditor);
    assert_eq!(stored.section_code, section);
    assert!(stored.active);
    let audit = app.store.audit_entries(1, 0).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].key.as_str()),
        ("insert_user", "shinki.taro")
    );
    assert!(
        !audit[0]
            .after
            .as_ref()
            .unwrap()
            .to_string()
            .contains("argon2")
    );
    let r = add("shinki.taro", "Kamo-river 2026 spring").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "taken");
    let mut newcomer = app.client();
    assert_eq!(
        newcomer
            .login("shinki.taro", "Kamo-river 2026 spring")
            .await,
        StatusCode::SEE_OTHER
    );
    // Role, section and deactivation through the list's row form; the
    // open session follows at once.
    let other_section = sections[1].code.clone();
    let r = admin
        .post_form(
            "/admin/users/shinki.taro",
            &[
                ("display_name", "新規 太郎"),
                ("email", ""),
                ("section_code", &other_section),
                ("role", "viewer"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let stored = app.store.user("shinki.taro").await.unwrap().unwrap();
    assert_eq!(
        (stored.role, stored.section_code.as_str()),
        (Role::Viewer, other_section.as_str())
    );
    assert_eq!(stored.email, None);
    assert!(newcomer.get("/account").await.body.contains("閲覧者"));
    let r = admin
        .post_form(
            "/admin/users/shinki.taro",
            &[
                ("display_name", "新規 太郎"),
                ("section_code", &other_section),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!app.store.user("shinki.taro").await.unwrap().unwrap().active);
    assert_eq!(newcomer.get("/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.client()
            .login("shinki.taro", "Kamo-river 2026 spring")
            .await,
        StatusCode::UNAUTHORIZED
    );
    // An administrator cannot lock themselves out.
    let me = app.store.user("admin").await.unwrap().unwrap();
    let r = admin
        .post_form(
            "/admin/users/admin",
            &[
                ("display_name", &me.display_name),
                ("section_code", &me.section_code),
                ("role", "viewer"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.store.user("admin").await.unwrap().unwrap().role,
        Role::Admin
    );
    // Only administrators.
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let r = viewer
        .post_form("/admin/users/shinki.taro", &[("role", "admin")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
both!(admin_adds_changes_and_deactivates_users, admin_users);

/// A page refused to a user just demoted by an administrator shows the
/// navigation of the role they have now, as the access check uses it: the
/// error page's header once came from the role the session was opened with.
async fn error_page_nav_follows_the_role(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let office = app.user_with(Role::StrategyOffice).await;
    let c = app.login(&office.login).await;
    let before = c.get("/admin/audit").await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(before.body.contains("href=\"/whatif\""), "{}", before.body);

    let r = admin
        .post_form(
            &format!("/admin/users/{}", office.login),
            &[
                ("display_name", &office.display_name),
                ("section_code", &office.section_code),
                ("role", "viewer"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    for path in ["/admin/audit", "/whatif"] {
        let refused = c.get(path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        let nav = &refused.body[refused
            .body
            .find("<nav class=\"site-nav\"")
            .unwrap_or_else(|| panic!("no navigation on {path}: {}", refused.body))..];
        assert!(nav.contains("href=\"/kpis\""), "{nav}");
        for gone in [
            "href=\"/admin/audit\"",
            "href=\"/whatif\"",
            "href=\"/mayor\"",
        ] {
            assert!(!nav.contains(gone), "{path}: {gone} still in the nav");
        }
        assert!(
            refused.body.contains("（閲覧者）"),
            "{path}: the header names the new role"
        );
    }
}
both!(
    error_page_shows_the_current_roles_navigation,
    error_page_nav_follows_the_role
);

/// A form body with a field sent twice (found by the form fuzzing) got
/// axum's English plain-text 422; it is the site's error page now, Japanese
/// first and naming the field, with the user's header — and JSON naming the
/// field under /api. Nothing is written.
async fn field_sent_twice(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let kpi = app.store.kpis().await.unwrap()[0].code.clone();
    let before = app
        .store
        .observations(&citykpi_store::ObservationFilter::all())
        .await
        .unwrap()
        .len();
    let form = format!("/kpis/{kpi}/actuals");
    let r = admin
        .post_form(&form, &[("period", "2019"), ("value", "1"), ("value", "2")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        r.headers
    );
    let ja = "項目「value」が2回送られました";
    let en = "the field &quot;value&quot; was sent twice";
    let (i, j) = (r.body.find(ja), r.body.find(en));
    assert!(
        i.is_some() && j.is_some() && i < j,
        "Japanese first, then English: {}",
        r.body
    );
    assert!(
        r.body.contains("<nav class=\"site-nav\""),
        "the site's page"
    );
    // The program form too: every form reads its body the same way.
    let program = app.store.programs().await.unwrap()[0].code.clone();
    let r = admin
        .post_form(
            &format!("/programs/{program}/edit"),
            &[("name_ja", "a"), ("name_ja", "b")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("項目「name_ja」が2回送られました"),
        "{}",
        r.body
    );
    // The API: a JSON object with a key twice.
    let token = admin.issue_token().await;
    let r = reqwest::Client::new()
        .put(format!("{}/api/v1/programs/{program}", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"version": 1, "name_ja": "a", "name_ja": "b"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["error"]["message"],
        "name_ja: 項目「name_ja」が2回送られました / the field \"name_ja\" was sent twice"
    );
    assert_eq!(
        app.store
            .observations(&citykpi_store::ObservationFilter::all())
            .await
            .unwrap()
            .len(),
        before
    );
}
both!(
    a_field_sent_twice_is_named_in_both_languages,
    field_sent_twice
);
