//! The audit log as people read it: filters (who, what kind, which record,
//! when), Japan time, the changed fields, and who may read how much — the
//! administrators everything, the strategy office all but accounts and
//! settings, everyone else nothing.

#[macro_use]
mod common;

use citykpi_domain::org::Role;
use citykpi_store::Backend;
use common::spawn;
use reqwest::StatusCode;
use serde_json::Value;

async fn versions_of(c: &common::Client, kpi: &str) -> String {
    let page = c.get(&format!("/kpis/{kpi}/actuals")).await.body;
    let marker = "name=\"versions\" value=\"";
    let i = page.find(marker).expect("versions in the form") + marker.len();
    page[i..i + page[i..].find('"').unwrap()].to_string()
}

fn entries(body: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(body).expect("JSON");
    v["entries"].as_array().expect("entries").clone()
}

async fn filters_scopes_and_japan_time(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (kpi, _) = app.kpis_of(&dept).await;
    let ed = app.login(&editor.login).await;
    let fy = citykpi_app::clock::last_closed_fiscal_year()
        .year()
        .to_string();
    let versions = versions_of(&ed, &kpi).await;
    let saved = ed
        .post_form(
            &format!("/kpis/{kpi}/actuals"),
            &[
                ("versions", &versions),
                ("period", &fy),
                ("value", "4321"),
                ("status", "provisional"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stored = app.store.audit_entries(1, 0).await.unwrap().remove(0);
    assert_eq!(stored.actor, editor.login);
    assert_eq!(stored.entity, "observation");

    // The administrator filters on the editor and the kind of record.
    let admin = app.login("admin").await;
    let page = admin
        .get(&format!(
            "/admin/audit?actor={}&entity=observation",
            editor.login
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let jst = citykpi_domain::jst::display(&stored.at);
    assert!(
        page.body.contains(&format!(">{jst}</time>")),
        "the time in Japan time ({jst})"
    );
    assert!(page.body.contains("日本時間"), "the page says which time");
    assert!(page.body.contains("実績値"), "the kind by its name");
    assert!(page.body.contains("<ins>4321</ins>"), "the new value");
    assert!(
        page.body
            .contains(&format!("<option value=\"{}\" selected", editor.login)),
        "the chosen filter is kept"
    );

    let api = admin
        .get(&format!("/api/v1/audit?actor={}", editor.login))
        .await;
    assert_eq!(api.status, StatusCode::OK);
    let rows = entries(&api.body);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["actor"] == editor.login.as_str()));
    assert_eq!(rows[0]["at_jst"], jst.as_str());

    // Which record: part of the key; `%` is a character, not a wildcard.
    let by_key = entries(&admin.get(&format!("/api/v1/audit?key={kpi}")).await.body);
    assert!(!by_key.is_empty());
    assert!(
        by_key
            .iter()
            .all(|r| r["key"].as_str().unwrap().contains(&kpi))
    );
    assert!(entries(&admin.get("/api/v1/audit?key=%25").await.body).is_empty());

    // When: today in Japan holds the save; a day long ago holds nothing.
    let today = citykpi_domain::jst::day_of(&stored.at).unwrap().to_string();
    let todays = entries(
        &admin
            .get(&format!(
                "/api/v1/audit?since={today}&until={today}&entity=observation"
            ))
            .await
            .body,
    );
    assert!(todays.iter().any(|r| r["id"] == stored.id));
    let old = admin
        .get("/admin/audit?since=2001-01-01&until=2001-01-02")
        .await;
    assert_eq!(old.status, StatusCode::OK);
    assert!(old.body.contains("条件に合う記録はありません"));

    // A wrong date names the field and keeps what was typed.
    let bad = admin.get("/admin/audit?since=2026-13-01").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("日付は 2026-12-07 の形で"));
    assert!(bad.body.contains("value=\"2026-13-01\""));
    let reversed = admin
        .get("/api/v1/audit?since=2026-12-07&until=2026-12-01")
        .await;
    assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The administrator sees the accounts' rows (the demo grants approvers).
    let users = entries(&admin.get("/api/v1/audit?entity=user").await.body);
    assert!(!users.is_empty(), "the demo's approver grants are logged");

    // The strategy office reads the records, not the accounts.
    let strategy = app.login("strategy-kikaku").await;
    let sp = strategy.get("/admin/audit").await;
    assert_eq!(sp.status, StatusCode::OK);
    assert!(sp.body.contains("href=\"/admin/audit\""), "in its menu");
    assert!(!sp.body.contains("<option value=\"user\""));
    assert!(sp.body.contains("管理者だけが読めます"));
    let all = entries(&strategy.get("/api/v1/audit?limit=1000").await.body);
    assert!(all.iter().any(|r| r["entity"] == "observation"));
    assert!(all.iter().all(|r| r["entity"] != "user"));
    assert_eq!(
        strategy.get("/admin/audit?entity=user").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Nobody else reads it.
    assert_eq!(ed.get("/admin/audit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(ed.get("/api/v1/audit").await.status, StatusCode::FORBIDDEN);
    assert!(
        !ed.get("/").await.body.contains("href=\"/admin/audit\""),
        "not in an editor's menu"
    );
}
both!(audit_log, filters_scopes_and_japan_time);
