//! HTTP tests against the running server on both databases, filled with the
//! demo city: the role × route matrix, no outside URLs, CSRF, the login rate
//! limit, drafts never on the public portal, data entry with its version
//! check, import/export and the API.

mod common;

use citykpi_domain::org::Role;
use citykpi_store::Backend;
use citykpi_web::access::{Access, all_routes};
use common::{Client, csrf_in, spawn};
use reqwest::{Method, StatusCode};

/// A concrete path for a route pattern, using records the user may touch.
fn concrete(path: &str, kpi: &str, program: &str, login: &str) -> String {
    path.replace(
        "{code}",
        if path.starts_with("/kpis") || path.contains("/kpis/") {
            kpi
        } else {
            program
        },
    )
    .replace("{kind}", "money")
    .replace("{login}", login)
    .replace("{fy}", "2024")
    .replace("{file}", "app.css")
}

/// The versions an actuals form carries (what its editor saw).
async fn versions_of(c: &Client, kpi: &str) -> String {
    let page = c.get(&format!("/kpis/{kpi}/actuals")).await.body;
    let marker = "name=\"versions\" value=\"";
    let i = page.find(marker).expect("versions in the form") + marker.len();
    page[i..i + page[i..].find('"').unwrap()].to_string()
}

async fn role_route_matrix(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (kpi, _) = app.kpis_of(&dept).await;
    let (program, _) = app.programs_of(&dept).await;
    let viewer = app.user_with(Role::Viewer).await;
    let mut principals: Vec<(Option<Role>, Option<String>)> = vec![(None, None)];
    for role in Role::ALL {
        principals.push((Some(role), Some(app.user_with(role).await.login)));
    }
    let mut checked = 0;
    for (role, login) in principals {
        // Logging out ends the session: walk it last.
        let mut routes: Vec<_> = all_routes().collect();
        routes.sort_by_key(|r| r.path == "/logout");
        for rule in routes {
            // A fresh login per route, so that no route's side effect (logout,
            // a new session) changes what the next one sees.
            let mut client = match &login {
                Some(l) => app.login(l).await,
                None => app.client(),
            };
            if login.is_none() && rule.method != "GET" {
                // A visitor's form token comes with the login form.
                client.csrf = csrf_in(&client.get("/login").await.body).unwrap_or_default();
            }
            let path = concrete(rule.path, &kpi, &program, &viewer.login);
            let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
            let mut req = client.request(method.clone(), &path);
            if method != Method::GET {
                req = req.header("x-csrf-token", client.csrf.clone());
                if rule.path.starts_with("/api/") {
                    req = req.header("content-type", "application/json").body("{}");
                }
            }
            let resp = client.send(req).await;
            let allowed = rule.access.allows(role)
                && role
                    .is_none_or(|r| citykpi_web::access::role_may_send(r, rule.method, rule.path));
            let what = format!("{} {} as {:?} → {}", rule.method, path, role, resp.status);
            if let Access::Signed(_) = rule.access {
                // A signature-verified route: no session or role admits an
                // unsigned call, and it is refused without a login redirect.
                assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{what}");
                assert!(resp.body.contains("\"error\""), "{what}: {}", resp.body);
            } else if allowed {
                assert!(
                    resp.status != StatusCode::FORBIDDEN && resp.status != StatusCode::UNAUTHORIZED,
                    "should be allowed: {what}\n{}",
                    &resp.body[..resp.body.len().min(400)]
                );
                assert!(!resp.status.is_server_error(), "server error: {what}");
            } else if role.is_none() {
                if rule.path.starts_with("/api/") {
                    assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{what}");
                } else {
                    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{what}");
                    assert!(resp.location().starts_with("/login?next="), "{what}");
                }
            } else {
                assert_eq!(
                    resp.status,
                    StatusCode::FORBIDDEN,
                    "should be refused: {what}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, all_routes().count() * (Role::ALL.len() + 1));
    assert!(all_routes().any(|r| r.access == Access::Roles(&[Role::Admin])));
}
both!(matrix, role_route_matrix);

/// Every URL in a body that points somewhere else than this server.
fn outside_urls(body: &str, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for scheme in ["http://", "https://", "//cdn", "url(//"] {
        let mut rest = body;
        while let Some(i) = rest.find(scheme) {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| c == '"' || c == '\'' || c == ')' || c.is_whitespace() || c == '<')
                .unwrap_or(tail.len());
            let url = &tail[..end];
            if !url.starts_with(base) {
                out.push(url.to_string());
            }
            rest = &tail[scheme.len()..];
        }
    }
    out
}

async fn no_outside_urls(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (kpi, _) = app.kpis_of(&dept).await;
    let (program, _) = app.programs_of(&dept).await;
    let mut pages: Vec<String> = all_routes()
        .filter(|r| {
            r.method == "GET"
                && !r.path.starts_with("/api/v1")
                && !r.path.starts_with("/data/export")
                // Downloads of data (members' own websites are data, not links).
                && !r.path.starts_with("/partners/export")
                // PDFs: their XMP metadata names schemas by URI
                // (http://ns.adobe.com/…), which no reader fetches.
                && !r.path.ends_with(".pdf")
                && r.path != "/favicon.svg"
        })
        .map(|r| concrete(r.path, &kpi, &program, "viewer"))
        .collect();
    pages.extend(
        [
            "/static/app.js",
            "/kpis?status=behind",
            "/search?q=市",
            "/programs?page=2",
            "/?lang=en",
            "/no-such-page",
        ]
        .map(String::from),
    );
    let public_kpi = app
        .store
        .kpis()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.published)
        .unwrap()
        .code;
    pages.push(format!("/public/kpis/{public_kpi}"));
    for p in &pages {
        let resp = admin.get(p).await;
        let outside = outside_urls(&resp.body, &app.base);
        assert!(
            outside.is_empty(),
            "{p} refers to another host: {outside:?}"
        );
        let csp = resp
            .headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{p}: {csp}"
        );
        assert_eq!(
            resp.headers.get("x-content-type-options").unwrap(),
            "nosniff",
            "{p}"
        );
        assert_eq!(resp.headers.get("x-frame-options").unwrap(), "DENY", "{p}");
        if resp
            .headers
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/html"))
        {
            assert!(
                !resp.body.contains("<script>") && !resp.body.contains(" style=\""),
                "{p} has inline script/style"
            );
        }
    }
    // The icon is an SVG document: its namespace name is the one URI allowed.
    let icon = admin.get("/favicon.svg").await;
    let outside: Vec<String> = outside_urls(&icon.body, &app.base)
        .into_iter()
        .filter(|u| u != "http://www.w3.org/2000/svg")
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
}
both!(outside_urls_none, no_outside_urls);

async fn csrf_refused(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (kpi, _) = app.kpis_of(&dept).await;
    let c = app.login(&editor.login).await;
    let path = format!("/kpis/{kpi}/actuals");
    let fields = [("period", "2019"), ("value", "1")];
    // No token.
    let r = c.post_raw_form(&path, &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains("別のサイトから送信されました"),
        "{}",
        r.body
    );
    // A wrong token.
    let r = c
        .post_raw_form(
            &path,
            &[("csrf", "0000"), ("period", "2019"), ("value", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The right token from another site.
    let req = c
        .request(Method::POST, &path)
        .header("origin", "http://evil.example")
        .form(&[
            ("csrf", c.csrf.as_str()),
            ("period", "2019"),
            ("value", "1"),
        ]);
    assert_eq!(c.send(req).await.status, StatusCode::FORBIDDEN);
    let req = c
        .request(Method::POST, &path)
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("csrf", c.csrf.as_str()),
            ("period", "2019"),
            ("value", "1"),
        ]);
    assert_eq!(c.send(req).await.status, StatusCode::FORBIDDEN);
    // The login form needs its own token too.
    let anon = app.client();
    let r = anon
        .post_raw_form(
            "/login",
            &[("login", "admin"), ("password", common::PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // With the token and from the same site it works.
    let versions = versions_of(&c, &kpi).await;
    let req = c
        .request(Method::POST, &path)
        .header("origin", app.base.clone())
        .form(&[
            ("csrf", c.csrf.as_str()),
            ("versions", &versions),
            ("period", "2019"),
            ("value", "1"),
        ]);
    assert_eq!(c.send(req).await.status, StatusCode::SEE_OTHER);
}
both!(csrf, csrf_refused);

async fn login_rate_limit(backend: Backend) {
    let app = spawn(backend).await;
    let mut c = app.client();
    for _ in 0..5 {
        assert_eq!(
            c.login("viewer", "wrong password").await,
            StatusCode::UNAUTHORIZED
        );
    }
    // Now even the right password is refused for a while.
    assert_eq!(
        c.login("viewer", common::PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another login from the same address is not blocked by this one.
    assert_eq!(
        c.login("admin", common::PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    // Unknown logins are refused like wrong passwords.
    assert_eq!(
        app.client().login("nobody", "x").await,
        StatusCode::UNAUTHORIZED
    );
    // Session cookie flags.
    let d = app.client();
    let form = d.get("/login").await;
    let token = csrf_in(&form.body).unwrap();
    let r = d
        .post_raw_form(
            "/login",
            &[
                ("csrf", &token),
                ("login", "finance-zaisei"),
                ("password", common::PASSWORD),
            ],
        )
        .await;
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("citykpi_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}
both!(rate_limit, login_rate_limit);

async fn drafts_never_public(backend: Backend) {
    let app = spawn(backend).await;
    let kpis = app.store.kpis().await.unwrap();
    let drafts: Vec<_> = kpis.iter().filter(|k| !k.published).collect();
    assert!(!drafts.is_empty(), "the demo city has draft KPIs");
    let anon = app.client();
    let mut pages = vec![
        "/public".to_string(),
        "/public?lang=en".to_string(),
        "/api/v1/public/plans".to_string(),
    ];
    for p in app.store.plans().await.unwrap() {
        pages.push(format!("/public/plans/{}", p.code));
    }
    for k in kpis.iter().filter(|k| k.published).take(20) {
        pages.push(format!("/public/kpis/{}", k.code));
    }
    for p in &pages {
        let r = anon.get(p).await;
        assert_eq!(r.status, StatusCode::OK, "{p}");
        for d in &drafts {
            assert!(
                !r.body.contains(&format!("/kpis/{}", d.code)),
                "{p} links draft {}",
                d.code
            );
            assert!(
                !r.body.contains(&format!("\"{}\"", d.code)),
                "{p} names draft {}",
                d.code
            );
            assert!(
                !r.body.contains(&d.name_ja),
                "{p} shows draft {}",
                d.name_ja
            );
        }
    }
    for d in &drafts {
        assert_eq!(
            anon.get(&format!("/public/kpis/{}", d.code)).await.status,
            StatusCode::NOT_FOUND
        );
    }
    // The count on the portal is the number of published KPIs that serve a published plan.
    let public: serde_json::Value =
        serde_json::from_str(&anon.get("/api/v1/public/plans").await.body).unwrap();
    let n = public["kpis"].as_array().unwrap().len();
    assert_eq!(n, kpis.iter().filter(|k| k.published).count());
    // Staff pages are not public.
    assert_eq!(anon.get("/kpis").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        anon.get(&format!("/kpis/{}", drafts[0].code)).await.status,
        StatusCode::SEE_OTHER
    );
}
both!(public_portal, drafts_never_public);

async fn entry_status_and_department_rule(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (kpi, other_kpi) = app.kpis_of(&dept).await;
    let (program, other_program) = app.programs_of(&dept).await;
    let c = app.login(&editor.login).await;
    let fy = citykpi_app::clock::last_closed_fiscal_year()
        .year()
        .to_string();

    // A validation message next to the field, in Japanese.
    let bad = c
        .post_form(
            &format!("/kpis/{kpi}/actuals"),
            &[("period", &fy), ("value", "たくさん")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("id=\"value-error\""),
        "error next to the field"
    );
    assert!(bad.body.contains("「たくさん」は数値として読めません"));
    assert!(bad.body.contains("value=\"たくさん\""), "the input is kept");

    // A value far above the final target: the KPI is achieved for the year.
    let k = app.store.kpi(&kpi).await.unwrap().unwrap();
    let huge = match k.direction {
        citykpi_domain::kpi::Direction::LowerIsBetter => "0".to_string(),
        _ => format!(
            "{}",
            k.final_target
                .map(|f| f.value.abs() * 10.0 + 1000.0)
                .unwrap_or(1e9)
        ),
    };
    let versions = versions_of(&c, &kpi).await;
    let ok = c
        .post_form(
            &format!("/kpis/{kpi}/actuals"),
            &[
                ("versions", &versions),
                ("period", &fy),
                ("value", &huge),
                ("status", "provisional"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let page = c.get(&format!("/kpis/{kpi}?fy={fy}")).await;
    assert!(
        page.body.contains("status-achieved")
            || k.direction != citykpi_domain::kpi::Direction::HigherIsBetter,
        "KPI page shows the new status"
    );
    let api: serde_json::Value =
        serde_json::from_str(&c.get(&format!("/api/v1/kpis/{kpi}?fy={fy}")).await.body).unwrap();
    assert_eq!(
        api["status"]["actual_fy"].as_i64(),
        Some(fy.parse().unwrap())
    );
    let audit = app.store.audit_entries(5, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.actor == editor.login && e.entity == "observation"),
        "audited"
    );

    // Bulk paste.
    let bulk = format!(
        "年度\t値\t速報/確定\n{}\t1\t確定\n{}\t2\t確定\n",
        fy.parse::<i32>().unwrap() - 5,
        fy.parse::<i32>().unwrap() - 4
    );
    let versions = versions_of(&c, &kpi).await;
    let r = c
        .post_form(
            &format!("/kpis/{kpi}/actuals/bulk"),
            &[("versions", &versions), ("bulk", &bulk)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().ends_with("saved=2"));

    // Refused on another department's KPI and program.
    assert_eq!(
        c.get(&format!("/kpis/{other_kpi}/actuals")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.post_form(
            &format!("/kpis/{other_kpi}/actuals"),
            &[("period", &fy), ("value", "1")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.get(&format!("/programs/{other_program}/edit"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.post_form(
            &format!("/programs/{other_program}/money"),
            &[("fy", &fy), ("budget_initial", "1")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.get(&format!("/programs/{program}/edit")).await.status,
        StatusCode::OK
    );

    // Two people edit the same program: the second save is refused, with the input kept.
    let strategy = app.login("strategy-kikaku").await;
    let form_a = c.get(&format!("/programs/{program}/edit")).await;
    let form_b = strategy.get(&format!("/programs/{program}/edit")).await;
    let version = |html: &str| {
        let i = html.find("name=\"version\" value=\"").unwrap() + "name=\"version\" value=\"".len();
        html[i..i + html[i..].find('"').unwrap()].to_string()
    };
    let (va, vb) = (version(&form_a.body), version(&form_b.body));
    assert_eq!(va, vb);
    let p = app.store.program(&program).await.unwrap().unwrap();
    let base = |purpose: &str, v: &str| {
        vec![
            ("version".to_string(), v.to_string()),
            ("name_ja".to_string(), p.name_ja.clone()),
            ("purpose".to_string(), purpose.to_string()),
            ("delivery".to_string(), p.delivery.as_str().to_string()),
        ]
    };
    let a = base("部局の書いた目的", &va);
    let a_ref: Vec<(&str, &str)> = a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        c.post_form(&format!("/programs/{program}/edit"), &a_ref)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let b = base("企画課の書いた目的", &vb);
    let b_ref: Vec<(&str, &str)> = b.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let second = strategy
        .post_form(&format!("/programs/{program}/edit"), &b_ref)
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(second.body.contains("他の人が先にこの記録を更新しました"));
    assert!(
        second.body.contains("企画課の書いた目的"),
        "the second person's input is kept"
    );
    assert_eq!(
        app.store.program(&program).await.unwrap().unwrap().purpose,
        "部局の書いた目的",
        "the first save is kept"
    );

    // Money: validation next to the field, then a save.
    let money_form = c.get(&format!("/programs/{program}/money?fy={fy}")).await;
    let mv = version(&money_form.body);
    let r = c
        .post_form(
            &format!("/programs/{program}/money"),
            &[("version", &mv), ("fy", &fy), ("budget_initial", "12.5")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"budget_initial-error\""));
    let r = c
        .post_form(
            &format!("/programs/{program}/money"),
            &[
                ("version", &mv),
                ("fy", &fy),
                ("budget_initial", "12,345,000"),
                ("settled", "12000000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A second form opened at the same revision is stale now: 409, the
    // record named, the first figures kept.
    let second_editor = app.login(&editor.login).await;
    let r = second_editor
        .post_form(
            &format!("/programs/{program}/money"),
            &[("version", &mv), ("fy", &fy), ("budget_initial", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains(&format!("「{program}/{fy}」は他の人が先に更新しました")),
        "{}",
        r.body
    );
    let stored = app.store.money().await.unwrap();
    let kept = stored
        .iter()
        .find(|m| m.program_code == program && m.fy.to_string() == fy)
        .unwrap();
    assert_eq!(kept.budget_initial, 12_345_000);
    let page = c.get(&format!("/programs/{program}")).await;
    assert!(
        page.body.contains("12,345"),
        "budget in 千円 on the program page"
    );
}
both!(entry, entry_status_and_department_rule);

async fn dashboard_changes_after_entry(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (kpi, _) = app.kpis_of(&dept).await;
    let c = app.login(&editor.login).await;
    let fy = citykpi_app::clock::last_closed_fiscal_year();
    let before: serde_json::Value = serde_json::from_str(
        &c.get(&format!("/api/v1/status?fy={}", fy.year()))
            .await
            .body,
    )
    .unwrap();
    let k = app.store.kpi(&kpi).await.unwrap().unwrap();
    // Far in the wrong direction: at risk.
    let bad = match k.direction {
        citykpi_domain::kpi::Direction::LowerIsBetter => "1000000000",
        _ => "-1000000000",
    };
    let versions = versions_of(&c, &kpi).await;
    let r = c
        .post_form(
            &format!("/kpis/{kpi}/actuals"),
            &[
                ("versions", &versions),
                ("period", &fy.year().to_string()),
                ("value", bad),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after: serde_json::Value = serde_json::from_str(
        &c.get(&format!("/api/v1/status?fy={}", fy.year()))
            .await
            .body,
    )
    .unwrap();
    let status_of = |v: &serde_json::Value| {
        v["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == kpi.as_str())
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status_of(&after), "at_risk");
    if status_of(&before) != "at_risk" {
        assert_ne!(before["counts"], after["counts"], "the counts changed");
        let dash = c.get(&format!("/?fy={}", fy.year())).await;
        assert!(
            dash.body.contains(&format!("/kpis/{kpi}")),
            "the dashboard lists the change"
        );
    }
}
both!(dashboard_change, dashboard_changes_after_entry);

async fn import_export_and_api(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    // Download every table as CSV and XLSX.
    for kind in citykpi_domain::Kind::ALL {
        for format in ["csv", "xlsx"] {
            let r = admin
                .get(&format!("/data/export/{}?format={format}", kind.as_str()))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{} {format}", kind.as_str());
            assert!(
                r.headers
                    .get("content-disposition")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .contains("attachment")
            );
        }
    }
    let viewer = app.login("viewer").await;
    assert_eq!(
        viewer.get("/data/export/users?format=csv").await.status,
        StatusCode::FORBIDDEN
    );
    // Upload the downloaded KPI table back (dry run) and a broken file.
    let http = reqwest::Client::new();
    let csv = http
        .get(admin.url("/data/export/kpis?format=csv"))
        .header(
            "cookie",
            format!("citykpi_session={}", session_of(&admin).await),
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let upload = |bytes: Vec<u8>, name: &str| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        reqwest::multipart::Form::new()
            .part("file", part)
            .text("kind", "kpis")
            .text("dry_run", "1")
    };
    let req = admin
        .request(Method::POST, "/data/import")
        .header("x-csrf-token", &admin.csrf)
        .multipart(upload(csv.to_vec(), "kpis.csv"));
    let r = admin.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("確認しました"));
    let broken = "コード,名称\nK-NEW,\n".as_bytes().to_vec();
    let req = admin
        .request(Method::POST, "/data/import")
        .header("x-csrf-token", &admin.csrf)
        .multipart(upload(broken, "broken.csv"));
    let r = admin.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("取り込めませんでした"));

    // API with a token: no cookie, no CSRF token.
    let issued = admin.post_form("/account/token", &[]).await;
    let i = issued.body.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token = issued.body[i..i + 64].to_string();
    let r = http
        .get(admin.url("/api/v1/kpis"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .get(admin.url("/api/v1/kpis"))
        .bearer_auth("0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["status"], 401);
    // The token survives a restart: a second server on the same database
    // (fresh memory, no sessions) accepts it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second = format!("http://{}", listener.local_addr().unwrap());
    let state = citykpi_web::AppState::new(
        app.store.clone(),
        citykpi_web::WebConfig {
            secure_cookies: false,
            ..Default::default()
        },
    );
    tokio::spawn(citykpi_web::serve_on(listener, state));
    let r = http
        .get(format!("{second}/api/v1/kpis"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "token after restart");
    let kpi = app.store.kpis().await.unwrap()[0].code.clone();
    let r = http
        .post(admin.url(&format!("/api/v1/kpis/{kpi}/observations")))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "period": "2018", "value": "abc" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["field"], "0.value");
    let r = http
        .post(admin.url(&format!("/api/v1/kpis/{kpi}/observations")))
        .bearer_auth(&token)
        .json(&serde_json::json!([{ "period": "2018", "value": "42" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Search works inside Japanese words (no spaces), in the API and the page.
    let k = app.store.kpis().await.unwrap()[1].clone();
    let part: String = k.name_ja.chars().skip(1).take(3).collect();
    let found: serde_json::Value = http
        .get(admin.url("/api/v1/search"))
        .query(&[("q", &part)])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        found["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["code"] == k.code.as_str()),
        "{part}: {found}"
    );
    let page = admin
        .send(admin.request(Method::GET, "/search").query(&[("q", &part)]))
        .await;
    assert!(page.body.contains(&format!("/kpis/{}", k.code)), "{part}");
    let doc: serde_json::Value = http
        .get(admin.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/kpis/{code}/observations"]["post"].is_object());
    // A version conflict through the API is a 409 with a JSON message.
    let prog = app.store.programs().await.unwrap()[0].clone();
    let r = http
        .put(admin.url(&format!("/api/v1/programs/{}", prog.code)))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "version": 999, "name_ja": prog.name_ja, "delivery": prog.delivery.as_str() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
}
both!(import_export_api, import_export_and_api);

/// The KPI page shows the forecast (probability, method, the 80% band in
/// the chart) and the evidence recorded on the KPI's links; the program page
/// and /api/v1/evidence show the same evidence.
async fn forecast_and_evidence_on_pages(backend: Backend) {
    use citykpi_domain::evidence::{EvidenceMethod, LinkEvidence};
    use citykpi_domain::program::EvidenceGrade;
    let app = common::spawn_watching(backend).await;
    let link = app.store.links().await.unwrap()[0].clone();
    app.store
        .record_link_evidence(
            &LinkEvidence {
                program_code: link.program_code.clone(),
                kpi_code: link.kpi_code.clone(),
                method: EvidenceMethod::SyntheticControl,
                data: "近隣市パネル（2010–2024）".into(),
                estimate: -19.62,
                interval: None,
                level: None,
                p_value: Some(0.026),
                grade: EvidenceGrade::Causal,
                note: "プラシーボ検定39単位".into(),
                detail: String::new(),
            },
            "strategy",
        )
        .await
        .unwrap();
    let admin = app.login(&app.user_with(Role::Admin).await.login).await;

    // A KPI with a forecast: the one status says has the most points.
    let report =
        citykpi_app::status::kpi_status(&app.store, citykpi_domain::FiscalYear::new(2024).unwrap())
            .await
            .unwrap();
    let forecast = report
        .kpis
        .iter()
        .filter_map(|r| r.outlook.forecast().map(|f| (r, f)))
        .max_by_key(|(_, f)| f.points_used)
        .expect("some KPI has a forecast");
    let (row, f) = forecast;
    let page = admin.get(&format!("/kpis/{}?fy=2024", row.code)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("達成見込み（予測）"), "forecast section");
    let p = f.probability_of_reaching.expect("probability");
    let after = &page.body[page
        .body
        .find("最終目標に届く確率")
        .expect("probability row")..];
    let shown =
        &after[after.find("<strong>").expect("strong") + 8..after.find("%</strong>").expect("%")];
    let shown: f64 = shown
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("{shown}"));
    assert!(
        (shown - p * 100.0).abs() < 0.1,
        "probability {p} shown as {shown}%"
    );
    assert!(
        page.body.contains("data-series=\"forecast-band\""),
        "band in the chart"
    );
    assert!(page.body.contains(f.method.label_ja()));

    let page = admin.get(&format!("/kpis/{}", link.kpi_code)).await;
    assert!(page.body.contains("効果の根拠"));
    assert!(page.body.contains("合成コントロール法"));
    assert!(
        page.body.contains("-19.62") || page.body.contains("−19.62"),
        "estimate shown"
    );
    assert!(page.body.contains("近隣市パネル"));
    let page = admin.get(&format!("/programs/{}", link.program_code)).await;
    assert!(
        page.body.contains("合成コントロール法"),
        "program page lists it"
    );

    let api: serde_json::Value = serde_json::from_str(
        &admin
            .get(&format!("/api/v1/evidence?kpi={}", link.kpi_code))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(api["evidence"][0]["method"], "synthetic_control");
    assert_eq!(api["evidence"][0]["p_value"], 0.026);
    assert_eq!(
        api["evidence"][0]["program_code"],
        link.program_code.as_str()
    );
}
both!(forecast_evidence, forecast_and_evidence_on_pages);

/// The session id a client holds (for a plain reqwest download).
async fn session_of(c: &Client) -> String {
    // The account page is only reachable with the session; read the cookie back through it.
    let _ = c.get("/account").await;
    c.session_cookie()
}

#[tokio::test]
async fn assets_are_cached_with_etags() {
    let app = spawn(Backend::Sqlite).await;
    let c = app.client();
    let page = c.get("/login").await;
    let i = page.body.find("/static/app.css?v=").unwrap();
    let href = &page.body[i..i + page.body[i..].find('"').unwrap()];
    let r = c.get(href).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    let etag = r.headers.get("etag").unwrap().to_str().unwrap().to_string();
    let again = c
        .send(c.request(Method::GET, href).header("if-none-match", etag))
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.contains("--blue-900: #0017c1"));
    // English pages come from the English catalogue.
    let en = c.get("/login?lang=en").await;
    assert!(en.body.contains("<html lang=\"en\"") && en.body.contains("Log in"));
    let remembered = c.get("/public").await;
    assert!(
        remembered.body.contains("<html lang=\"en\""),
        "the language is kept in a cookie"
    );
}
