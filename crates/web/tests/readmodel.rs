//! The read model updated for each write (issue 22): after a sequence of
//! mixed writes through one server (KPI values, budget rows, evaluation
//! sheets), whose read model follows each write incrementally, every page
//! it shows is the same as on a second server that reads everything afresh
//! from the same database — the dashboard, the KPI and program pages, the
//! status report of the API — on SQLite and on PostgreSQL. And each page of
//! the first server shows the new value at once.

mod common;

use citykpi_store::{Backend, Store};
use citykpi_web::{AppState, WebConfig};
use common::{Client, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A second server on the database `target`, with its own read model.
async fn second_server(target: &str) -> String {
    let store = Store::open(target).await.expect("open the shared database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = citykpi_web::serve_on(listener, AppState::new(store, WebConfig::default())).await;
    });
    format!("http://{addr}")
}

/// The body of a GET of `path` on `base` with the session cookie `sid`.
async fn body(base: &str, path: &str, sid: &str) -> String {
    let resp = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("cookie", format!("citykpi_session={sid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "GET {path} on {base}");
    resp.text().await.unwrap()
}

async fn read_all(base: &str, pages: &[String], sid: &str) {
    for p in pages {
        body(base, p, sid).await;
    }
}

async fn json_of(c: &Client, path: &str) -> Value {
    let r = c.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

async fn send_json(c: &Client, method: reqwest::Method, path: &str, body: Value) -> Value {
    let r = c
        .send(
            c.request(method, path)
                .header("x-csrf-token", &c.csrf)
                .header("origin", &c.base)
                .json(&body),
        )
        .await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

fn list(v: Value, key: &str) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove(key) {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn incremental_equals_reload(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let sid = admin.session_cookie();

    // KPIs with a stored value, programs with money, a sheet of the cycle.
    let mut kpis = Vec::new();
    for k in list(json_of(&admin, "/api/v1/kpis").await, "kpis") {
        let code = text(&k["code"]);
        let obs = list(
            json_of(&admin, &format!("/api/v1/kpis/{code}/observations")).await,
            "observations",
        );
        if let Some(o) = obs.last() {
            kpis.push((code, text(&o["period"])));
        }
        if kpis.len() == 3 {
            break;
        }
    }
    assert_eq!(kpis.len(), 3, "the demo city has KPIs with values");
    let mut money = Vec::new();
    let mut sheet = None;
    let programs = list(json_of(&admin, "/api/v1/programs").await, "programs");
    for p in &programs {
        let code = text(&p["code"]);
        let d = json_of(&admin, &format!("/api/v1/programs/{code}")).await;
        if let Some(fy) = d["money_versions"]
            .as_object()
            .and_then(|m| m.keys().max().cloned())
            && money.len() < 2
        {
            money.push((code.clone(), fy));
        }
        if sheet.is_none() {
            for fy in [2024] {
                let r = admin
                    .get(&format!("/api/v1/cycle/{fy}/sheets/{code}"))
                    .await;
                // Only a sheet still open to its section can be saved.
                let open = serde_json::from_str::<Value>(&r.body).is_ok_and(|v| {
                    matches!(v["sheet"]["state"].as_str(), Some("draft" | "returned"))
                });
                if r.status == StatusCode::OK && open {
                    sheet = Some((code.clone(), fy));
                    break;
                }
            }
        }
        if money.len() == 2 && sheet.is_some() {
            break;
        }
    }
    assert_eq!(money.len(), 2, "the demo city has money rows");
    let (sheet_program, sheet_fy) = sheet.expect("the demo city has an evaluation sheet");

    let mut pages = vec![
        "/".to_string(),
        "/?fy=2024".to_string(),
        "/kpis".to_string(),
        "/programs".to_string(),
        "/api/v1/status".to_string(),
        format!("/cycle/{sheet_fy}/sheets/{sheet_program}"),
        format!("/api/v1/cycle/{sheet_fy}/sheets/{sheet_program}"),
    ];
    pages.extend(kpis.iter().map(|(k, _)| format!("/kpis/{k}")));
    pages.extend(kpis.iter().map(|(k, _)| format!("/api/v1/kpis/{k}")));
    pages.extend(money.iter().map(|(p, _)| format!("/programs/{p}")));
    pages.extend(money.iter().map(|(p, _)| format!("/api/v1/programs/{p}")));
    // A program and a KPI no write touches: their kept pages are kept.
    if let Some(p) = programs.last() {
        pages.push(format!("/programs/{}", text(&p["code"])));
    }

    // Each page read (and kept) before the writes and between them.
    read_all(&app.base, &pages, &sid).await;
    for round in 0..3 {
        for (i, (code, period)) in kpis.iter().enumerate() {
            let value = format!("{}.25", 100 + 17 * round + i);
            send_json(
                &admin,
                reqwest::Method::POST,
                &format!("/api/v1/kpis/{code}/observations"),
                json!({ "period": period, "value": value, "note": format!("round {round}") }),
            )
            .await;
            // The new value is on the KPI page at once.
            let page = body(&app.base, &format!("/kpis/{code}"), &sid).await;
            assert!(
                page.contains(&format!("{}.25", 100 + 17 * round + i)),
                "{code} after round {round}"
            );
            read_all(&app.base, &pages, &sid).await;
        }
        for (program, fy) in &money {
            let d = json_of(&admin, &format!("/api/v1/programs/{program}")).await;
            let version = d["money_versions"][fy.as_str()].as_i64().unwrap_or(0);
            let settled = format!("{}", 4_321_000 + round * 1000);
            send_json(
                &admin,
                reqwest::Method::PUT,
                &format!("/api/v1/programs/{program}/money/{fy}"),
                json!({ "version": version, "fy": fy, "budget_initial": "5000000", "settled": settled }),
            )
            .await;
            let after = json_of(&admin, &format!("/api/v1/programs/{program}")).await;
            assert!(
                after.to_string().contains(&settled),
                "{program} money after round {round}"
            );
            read_all(&app.base, &pages, &sid).await;
        }
        let path = format!("/api/v1/cycle/{sheet_fy}/sheets/{sheet_program}");
        let v = json_of(&admin, &path).await;
        let mut s = v["sheet"].clone();
        s["issues"] = json!(format!("課題 round {round}"));
        send_json(
            &admin,
            reqwest::Method::PUT,
            &path,
            json!({ "version": v["version"], "sheet": s }),
        )
        .await;
        let page = body(
            &app.base,
            &format!("/cycle/{sheet_fy}/sheets/{sheet_program}"),
            &sid,
        )
        .await;
        assert!(
            page.contains(&format!("課題 round {round}")),
            "sheet after round {round}"
        );
        read_all(&app.base, &pages, &sid).await;
    }

    // A second server reads everything afresh: the same pages, byte for byte.
    let fresh = second_server(&app.target).await;
    for p in &pages {
        let incremental = body(&app.base, p, &sid).await;
        let reloaded = body(&fresh, p, &sid).await;
        assert!(
            incremental == reloaded,
            "{p} differs between the updated read model and a full reload:\n--- updated\n{incremental}\n--- reloaded\n{reloaded}"
        );
    }
}

both!(
    incremental_update_equals_full_reload,
    incremental_equals_reload
);
