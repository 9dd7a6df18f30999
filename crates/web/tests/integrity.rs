//! What the probes broke, on SQLite and PostgreSQL through the real server:
//! uploads as large as the CLI takes (the limit is configured and stated),
//! text limits at every edge (form, API, file) with the field named, exports
//! that never fail on stored data, duplicate JSON keys refused, and stale
//! money saves through the API refused.

mod common;

use citykpi_domain::observation::{ObsValue, Observation, Period};
use citykpi_domain::org::Role;
use citykpi_store::{Backend, ObservationFilter};
use common::{App, Client, spawn};
use reqwest::{Method, StatusCode};

/// An observations CSV of `rows` rows for `kpi`, each at its own area code.
fn observations_csv(kpi: &str, rows: usize) -> Vec<u8> {
    let mut s = String::with_capacity(rows * 40);
    s.push_str("kpi_code,period,area_code,value,note\n");
    for i in 0..rows {
        s.push_str(&format!("{kpi},2019,{:06},{}.25,n{i}\n", 100_000 + i, i));
    }
    s.into_bytes()
}

fn form_upload(bytes: Vec<u8>, name: &str) -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    reqwest::multipart::Form::new()
        .part("file", part)
        .text("kind", "observations")
}

async fn web_upload(c: &Client, bytes: Vec<u8>, name: &str) -> common::Resp {
    let req = c
        .request(Method::POST, "/data/import")
        .header("x-csrf-token", c.csrf.clone())
        .multipart(form_upload(bytes, name));
    c.send(req).await
}

async fn api_upload(c: &Client, kind: &str, bytes: Vec<u8>, name: &str) -> common::Resp {
    let req = c
        .request(
            Method::POST,
            &format!("/api/v1/import/{kind}?file_name={name}"),
        )
        .header("x-csrf-token", c.csrf.clone())
        .body(bytes);
    c.send(req).await
}

async fn count_at(app: &App, kpi: &str, period: &str) -> usize {
    app.store
        .observations(&ObservationFilter::default().kpis([kpi]))
        .await
        .unwrap()
        .iter()
        .filter(|o| o.period.to_string() == period)
        .count()
}

/// A ~10 MB observations file goes through the web form and the API (the
/// old 2 MB body limit refused it); over a configured limit the refusal
/// names the limit, on the page and in the JSON.
async fn uploads(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let (kpi, _) = app
        .kpis_of(
            &app.department_of(&app.user_with(Role::DepartmentEditor).await.section_code)
                .await,
        )
        .await;
    let rows = 270_000;
    let csv = observations_csv(&kpi, rows);
    assert!(csv.len() > 9_000_000, "{} bytes", csv.len());

    let r = web_upload(&admin, csv.clone(), "big.csv").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        r.body.chars().take(2000).collect::<String>()
    );
    assert_eq!(count_at(&app, &kpi, "2019").await, rows);

    let r = api_upload(&admin, "observations", csv, "big.csv").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        r.body.chars().take(2000).collect::<String>()
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["rows_read"], rows);

    // A limit of 1 MB (read at each upload) and a 2 MB file.
    // SAFETY: this binary's tests run one at a time per process (nextest),
    // and no other thread of this test reads the environment meanwhile.
    unsafe { std::env::set_var("CITYKPI_UPLOAD_LIMIT_MB", "1") };
    let small = observations_csv(&kpi, 80_000);
    assert!(small.len() > 2 * 1024 * 1024);
    let r = web_upload(&admin, small.clone(), "over.csv").await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        r.body.contains("上限 1 MB") && r.body.contains("the limit is 1 MB"),
        "{}",
        r.body
    );
    let r = api_upload(&admin, "observations", small, "over.csv").await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["error"]["status"], 413);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the limit is 1 MB"),
        "{v}"
    );
    unsafe { std::env::remove_var("CITYKPI_UPLOAD_LIMIT_MB") };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_as_large_as_the_cli_takes() {
    // One test per binary run for both backends: the limit is an
    // environment setting, changed here in turn.
    uploads(Backend::Sqlite).await;
    uploads(Backend::Postgres).await;
}

/// A note of 10,001 characters is refused by the web form, the API and the
/// file import, each naming the field (and row and column); a note already
/// stored at 40,000 characters still exports to XLSX, cut with a marker.
async fn text_limits_and_exports(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (kpi, _) = app.kpis_of(&dept).await;
    let c = app.login(&editor.login).await;
    let long = "あ".repeat(10_001);
    let before = app
        .store
        .observations(&ObservationFilter::default().kpis([kpi.as_str()]))
        .await
        .unwrap();

    // The web form.
    let r = c
        .post_form(
            &format!("/kpis/{kpi}/actuals"),
            &[("period", "2018"), ("value", "1"), ("note", &long)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.body.chars().take(3000).collect::<String>()
    );
    assert!(
        r.body
            .contains("「note」は10000文字までです（10001文字あります）"),
        "{}",
        r.body.chars().take(3000).collect::<String>()
    );
    // The API.
    let req = c
        .request(Method::POST, &format!("/api/v1/kpis/{kpi}/observations"))
        .header("x-csrf-token", c.csrf.clone())
        .header("content-type", "application/json")
        .body(serde_json::json!([{ "period": "2018", "value": "1", "note": long }]).to_string());
    let r = c.send(req).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.body.chars().take(3000).collect::<String>()
    );
    assert!(
        r.body
            .contains("\\\"[0].note\\\" is at most 10000 characters (10001 given)"),
        "{}",
        r.body.chars().take(3000).collect::<String>()
    );
    // A file: row and column named.
    let admin = app.login("admin").await;
    let file = format!("kpi_code,period,value,note\n{kpi},2018,1,ok\n{kpi},2017,2,{long}\n");
    let r = api_upload(&admin, "observations", file.into_bytes(), "long.csv").await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.body.chars().take(3000).collect::<String>()
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let p = &v["error"]["problems"][0];
    assert_eq!(
        (p["row"].as_u64(), p["column"].as_str()),
        (Some(3), Some("note")),
        "{v}"
    );
    assert!(
        p["reason"]
            .as_str()
            .unwrap()
            .contains("at most 10000 characters"),
        "{v}"
    );
    // A JSON file names the record and field too.
    let json =
        serde_json::json!([{ "kpi_code": kpi, "period": "2018", "value": 1.0, "note": long }]);
    let r = api_upload(
        &admin,
        "observations",
        json.to_string().into_bytes(),
        "long.json",
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.body.chars().take(3000).collect::<String>()
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let p = &v["error"]["problems"][0];
    assert_eq!(
        (p["row"].as_u64(), p["column"].as_str()),
        (Some(1), Some("observations.note")),
        "{v}"
    );
    // Nothing was written by any of them.
    let after = app
        .store
        .observations(&ObservationFilter::default().kpis([kpi.as_str()]))
        .await
        .unwrap();
    assert_eq!(after.len(), before.len());

    // A note stored before the limits (written past the edge, as old data
    // is): the XLSX export of the whole table still works.
    let stored_long = "い".repeat(40_000);
    app.store
        .apply(
            &citykpi_domain::Dataset {
                observations: vec![Observation {
                    kpi_code: kpi.clone(),
                    period: Period::parse("2016").unwrap(),
                    area_code: before
                        .first()
                        .map(|o| o.area_code.clone())
                        .unwrap_or_default(),
                    value: ObsValue::Value(3.0),
                    status: Default::default(),
                    source: String::new(),
                    note: stored_long,
                    entered_by: "old".into(),
                    entered_at: String::new(),
                    confirmed_by: "old".into(),
                    confirmed_at: String::new(),
                }],
                ..Default::default()
            },
            "old",
        )
        .await
        .unwrap();
    let (status, _, bytes) = admin
        .get_bytes("/data/export/observations?format=xlsx")
        .await;
    assert_eq!(status, StatusCode::OK);
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let cut = range
        .rows()
        .flat_map(|r| r.iter())
        .map(|c| c.to_string())
        .find(|s| s.starts_with("いいい") && s.chars().count() > 30_000)
        .expect("the long note, cut");
    assert!(cut.encode_utf16().count() <= 32_767);
    assert!(
        cut.ends_with("…〔以下省略：全40000文字 / truncated: 40000 characters〕"),
        "{}",
        cut.chars().rev().take(80).collect::<String>()
    );

    // Duplicate keys in a JSON import: refused, the key and record named.
    let dup = format!(
        r#"[{{"kpi_code":"{kpi}","period":"2018","value":1}},{{"kpi_code":"{kpi}","period":"2018","value":1,"value":2}}]"#
    );
    let r = api_upload(&admin, "observations", dup.into_bytes(), "dup.json").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("duplicate key \\\"value\\\" in $[1]"),
        "{}",
        r.body
    );
}
both!(limits, text_limits_and_exports);

/// Money through the API: the revision read is sent back; a stale one is a
/// 409 naming the record, and the first figures stay.
async fn stale_money_through_the_api(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (program, _) = app.programs_of(&dept).await;
    let c = app.login(&editor.login).await;
    let read: serde_json::Value =
        serde_json::from_str(&c.get(&format!("/api/v1/programs/{program}")).await.body).unwrap();
    let v0 = read["money_versions"]["2023"].as_i64().unwrap_or(0);
    let put = |amount: &str, version: i64| {
        c.request(
            Method::PUT,
            &format!("/api/v1/programs/{program}/money/2023"),
        )
        .header("x-csrf-token", c.csrf.clone())
        .header("content-type", "application/json")
        .body(serde_json::json!({ "version": version, "budget_initial": amount }).to_string())
    };
    let first = c.send(put("7,000,000", v0)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let second = c.send(put("8,000,000", v0)).await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.body);
    assert!(
        second.body.contains(&format!("{program}/2023")),
        "{}",
        second.body
    );
    let stored = app.store.money().await.unwrap();
    let m = stored
        .iter()
        .find(|m| m.program_code == program && m.fy.year() == 2023)
        .unwrap();
    assert_eq!(m.budget_initial, 7_000_000);
    // With the new revision it goes through.
    let read: serde_json::Value =
        serde_json::from_str(&c.get(&format!("/api/v1/programs/{program}")).await.body).unwrap();
    let v1 = read["money_versions"]["2023"].as_i64().unwrap();
    assert_ne!(v1, v0);
    let third = c.send(put("8,000,000", v1)).await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.body);
}
both!(money_api, stale_money_through_the_api);
