//! The REST API against its own OpenAPI document, checked by Schemathesis
//! (PyPI `schemathesis`, the `schemathesis` command; `.ci/run` installs it):
//! the server runs on a free port over a real SQLite file with the demo
//! city, an administrator's API token (issued on the account page as a user
//! would) authenticates every request, and Schemathesis generates requests
//! for every documented operation (examples, coverage, fuzzing and stateful
//! phases) with the checks `not_a_server_error`,
//! `response_schema_conformance` and `content_type_conformance`. Its exit
//! status must be 0 and its summary must say it tested every operation of
//! the document with a real number of cases.
//!
//! CI runs `CITYKPI_SCHEMATHESIS_EXAMPLES` (default 10) examples per
//! operation; bench/reliability/schemathesis.sh runs many more.
//!
//! Also the regressions of what it found: JSON bodies the handler's type
//! cannot take answered English plain text (now the JSON error naming the
//! field), exports documented as JSON answered CSV (now declared), and three
//! request bodies written inline sat in a `$ref` that did not resolve.

mod common;

use std::process::Command;

use citykpi_store::Backend;
use common::spawn;
use reqwest::StatusCode;
use serde_json::Value;

fn examples() -> u32 {
    std::env::var("CITYKPI_SCHEMATHESIS_EXAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// The number after `label` on a line of Schemathesis' summary
/// (`  Tested: 53`, `1080 generated, …`).
fn number_after(out: &str, label: &str) -> Option<u64> {
    out.lines().find_map(|l| {
        let i = l.find(label)? + label.len();
        l[i..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    })
}

fn number_before(out: &str, label: &str) -> Option<u64> {
    out.lines().find_map(|l| {
        let i = l.find(label)?;
        l[..i].split_whitespace().last()?.parse().ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let token = admin.issue_token().await;
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operations: u64 = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len() as u64)
        .sum();
    assert!(operations > 40, "{operations}");

    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let program = std::env::var("CITYKPI_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let base = app.base.clone();
    let args = [
        "run".to_string(),
        format!("{base}/api/openapi.json"),
        "--url".into(),
        base.clone(),
        "--header".into(),
        format!("Authorization: Bearer {token}"),
        "--checks".into(),
        "not_a_server_error,response_schema_conformance,content_type_conformance".into(),
        "--max-examples".into(),
        examples().to_string(),
        "--seed".into(),
        "20261207".into(),
        "--workers".into(),
        "2".into(),
        "--request-timeout".into(),
        "30".into(),
        // Nothing kept between runs (the default writes .schemathesis/ here).
        "--generation-database".into(),
        "none".into(),
        "--no-color".into(),
        "--report".into(),
        "junit".into(),
        "--report-junit-path".into(),
        junit.to_string_lossy().into_owned(),
    ];
    let started = std::time::Instant::now();
    let output = tokio::task::spawn_blocking(move || Command::new(&program).args(&args).output())
        .await
        .unwrap()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run schemathesis ({e}): install it with `pip install schemathesis` \
                 (.ci/run does), or name it in CITYKPI_SCHEMATHESIS"
            )
        });
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let tested = number_after(&out, "Tested:");
    let generated = number_before(&out, "generated");
    println!(
        "SCHEMATHESIS: {} examples per operation, {operations} operations in the document, tested {tested:?}, cases {generated:?}, exit {:?}, {:.0} s",
        examples(),
        output.status.code(),
        started.elapsed().as_secs_f64()
    );
    assert!(output.status.success(), "schemathesis failed:\n{out}");
    assert_eq!(tested, Some(operations), "{out}");
    let cases = generated.unwrap_or_else(|| panic!("no case count in:\n{out}"));
    assert!(cases >= operations * 5, "only {cases} cases:\n{out}");
    assert!(
        out.contains("No issues found") || !out.contains("failures"),
        "{out}"
    );
    // The JUnit report has a test case for every operation (the stateful
    // phase adds its own), none failed.
    let report = std::fs::read_to_string(&junit).unwrap();
    assert!(
        report.matches("<testcase").count() as u64 >= operations,
        "{report}"
    );
    assert!(!report.contains("<failure"), "{report}");
}

/// Found by Schemathesis: a JSON body of the wrong shape, or none at all,
/// was answered by axum in English plain text; now it is the API's JSON
/// error, Japanese first, naming the field or the line and column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_the_api_cannot_take_are_refused_in_json() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let token = admin.issue_token().await;
    let kpi = app.store.kpis().await.unwrap()[0].code.clone();
    let http = reqwest::Client::new();
    let send = |path: String, body: &'static str, content_type: Option<&'static str>| {
        let mut r = http
            .post(format!("{}{path}", app.base))
            .bearer_auth(&token)
            .body(body);
        if let Some(ct) = content_type {
            r = r.header("content-type", ct);
        }
        r.send()
    };
    let observations = format!("/api/v1/kpis/{kpi}/observations");
    for (body, ct, status, says) in [
        (
            "[null, null]",
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "body: JSONの形が違います",
        ),
        (
            r#"{"period": 2024}"#,
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "body: JSONの形が違います",
        ),
        (
            "{\"period\": \"2024\",",
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "body: JSONとして読めません（1行",
        ),
        (
            r#"{"period": "2024"}"#,
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "JSON（Content-Type: application/json）で送ってください",
        ),
    ] {
        let r = send(observations.clone(), body, ct).await.unwrap();
        assert_eq!(r.status(), status, "{body}");
        let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        let v: Value = r.json().await.unwrap();
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(says), "{body}: {message}");
        assert_eq!(v["error"]["status"], status.as_u16());
    }
    // The same on a route of another area (the program's PUT).
    let program = app.store.programs().await.unwrap()[0].code.clone();
    let r = http
        .put(format!("{}/api/v1/programs/{program}", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"name_ja": "x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("version: 項目「version」がありません / the field \"version\" is missing"),
        "{v}"
    );
}

/// Found by Schemathesis: an id in the address that cannot be one
/// (`/api/v1/partners/inquiries/x`) was axum's English plain-text 400; it is
/// the bilingual 404 in JSON now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_names_nothing_is_a_json_404() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let token = admin.issue_token().await;
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/partners/inquiries/%27x", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("ページが見つかりません"),
        "{v}"
    );
    let page = admin.get("/partners/inquiries/x").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("<h1>エラー 404</h1>"), "{}", page.body);
}

/// Found by Schemathesis: the exports answered CSV where the document said
/// JSON. The document now declares the file types, and each answer's type is
/// one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_answer_a_documented_content_type() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let token = admin.issue_token().await;
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if !path.contains("/export/") || path.contains('{') {
            continue;
        }
        let documented: Vec<&String> = ops["get"]["responses"]["200"]["content"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        for format in ["", "?format=xlsx", "?format=json"] {
            let r = http
                .get(format!("{}{path}{format}", app.base))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}{format}");
            let ct = r.headers()["content-type"].to_str().unwrap();
            let bare = ct.split(';').next().unwrap().trim();
            assert!(
                documented.iter().any(|d| d.as_str() == bare),
                "{path}{format}: {ct} not in {documented:?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 18, "{checked}");
}
