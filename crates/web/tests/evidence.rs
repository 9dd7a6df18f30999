//! The evidence workbench over real HTTP on the demo city, on SQLite and
//! PostgreSQL: the strategy office opens it from the program page's KPI link,
//! runs a synthetic control on the stored peer values and sees the service's
//! numbers with the charts, saves it, and the evidence shows on the KPI and
//! program pages; a bad design shows its reason (422); the API runs the same
//! service; a department editor of another department is refused (403); a
//! viewer reads the page but cannot run it.

mod common;

use citykpi_app::evidence::{Method, StoredRequest, stored};
use citykpi_domain::org::Role;
use citykpi_store::Backend;
use reqwest::StatusCode;

const KPI_NAME: &str = "合計特殊出生率";

fn attr_after(html: &str, id: &str, attr: &str) -> String {
    let i = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} in page"));
    let tag = &html[i..i + html[i..].find('>').unwrap()];
    let j = tag
        .find(&format!("{attr}=\""))
        .unwrap_or_else(|| panic!("{attr} on {id}"))
        + attr.len()
        + 2;
    tag[j..j + tag[j..].find('"').unwrap()].to_string()
}

async fn workbench(backend: Backend) {
    let app = common::spawn(backend).await;
    let kpi = app
        .store
        .kpis()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.name_ja == KPI_NAME)
        .unwrap();
    let program_code = app
        .store
        .links()
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.kpi_code == kpi.code)
        .unwrap()
        .program_code;
    let program = app.store.program(&program_code).await.unwrap().unwrap();
    let choices = stored::choices(&app.store, &kpi.code, None).await.unwrap();
    let treatment = choices.years[0] + 5;

    let office = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    // Reached from the program page's KPI link.
    let ppage = office.get(&format!("/programs/{program_code}")).await;
    let link = format!("/evidence?kpi={}&amp;program={program_code}", kpi.code);
    assert!(
        ppage.body.contains(&link),
        "program page links the workbench"
    );
    let kpage = office.get(&format!("/kpis/{}", kpi.code)).await;
    assert!(kpage.body.contains(&format!("/evidence?kpi={}", kpi.code)));
    let form = office
        .get(&format!(
            "/evidence?kpi={}&program={program_code}",
            kpi.code
        ))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("合成コントロール法"));
    assert!(form.body.contains("大阪市"));
    if let Some(start) = program.start_fy {
        assert!(form.body.contains(&format!("value=\"{}\"", start.year())));
    }

    // Run: the page shows the service's numbers and the charts.
    let y = treatment.to_string();
    let fields: Vec<(&str, &str)> = vec![
        ("kpi", kpi.code.as_str()),
        ("method", "synth"),
        ("program", program_code.as_str()),
        ("treatment_year", y.as_str()),
        ("placebos", "1"),
    ];
    let ran = office.post_form("/evidence/run", &fields).await;
    assert_eq!(ran.status, StatusCode::OK, "{}", ran.body);
    let service = stored::run(
        &app.store,
        &StoredRequest {
            kpi: kpi.code.clone(),
            method: Method::Synth,
            program: Some(program_code.clone()),
            treatment_year: Some(treatment),
            units: Vec::new(),
            predictors: Vec::new(),
            placebos: true,
            drop_incomplete_donors: false,
        },
    )
    .await
    .unwrap();
    let shown: f64 = attr_after(&ran.body, "evidence-estimate", "data-value")
        .parse()
        .unwrap();
    assert_eq!(shown, service.report.estimate());
    assert!(ran.body.contains("id=\"evidence-path-title\""));
    assert!(ran.body.contains("data-series=\"treatment\""));
    assert!(ran.body.contains("id=\"evidence-placebo-title\""));
    assert!(ran.body.contains("data-highlight=\"true\""));
    assert!(ran.body.contains("id=\"evidence-weights-title\""));
    assert!(
        ran.body.contains(&service.summary_ja),
        "plain sentence shown"
    );
    assert!(ran.body.contains("id=\"evidence-save\""));

    // A bad design: the reason, not a number.
    let early = (choices.years[0] + 1).to_string();
    let mut bad = fields.clone();
    bad[3] = ("treatment_year", early.as_str());
    let refused = office.post_form("/evidence/run", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"evidence-error\""));
    assert!(refused.body.contains("介入前の時点が1つしかありません"));
    assert!(!refused.body.contains("id=\"evidence-estimate\""));

    // The API runs the same service.
    let api = office
        .send(
            office
                .request(reqwest::Method::POST, "/api/v1/evidence/run")
                .header("x-csrf-token", office.csrf.clone())
                .header("origin", office.base.clone())
                .json(&serde_json::json!({
                    "kpi": kpi.code, "method": "synth", "program": program_code,
                    "treatment_year": treatment, "placebos": true
                })),
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(
        v["report"]["estimate"].as_f64().unwrap(),
        service.report.estimate()
    );
    assert_eq!(v["report"]["method"], "synthetic_control");

    // Save: evidence on the KPI and program pages.
    let mut save = fields.clone();
    save.push(("grade", "A"));
    save.push(("note", "ワークベンチの試験"));
    let saved = office.post_form("/evidence/save", &save).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), format!("/kpis/{}", kpi.code));
    let rows = citykpi_app::evidence::for_kpi(&app.store, &kpi.code)
        .await
        .unwrap();
    let row = rows
        .iter()
        .find(|r| r.evidence.note == "ワークベンチの試験")
        .expect("saved");
    assert_eq!(row.evidence.estimate, service.report.estimate());
    let kpage = office.get(&format!("/kpis/{}", kpi.code)).await;
    assert!(
        kpage.body.contains("ワークベンチの試験"),
        "evidence on the KPI page"
    );
    let ppage = office.get(&format!("/programs/{program_code}")).await;
    assert!(
        ppage.body.contains("ワークベンチの試験"),
        "evidence on the program page"
    );
    let audit = app.store.audit_entries(200, 0).await.unwrap();
    assert!(audit.iter().any(|a| a.entity == "link_evidence"));

    // A department editor of another department: refused.
    let sections = app.store.sections().await.unwrap();
    let dept_of_program = sections
        .iter()
        .find(|s| s.code == program.section_code)
        .map(|s| s.department_code.clone())
        .unwrap();
    let other_editor = app
        .store
        .users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| {
            u.role == Role::DepartmentEditor
                && u.active
                && sections
                    .iter()
                    .find(|s| s.code == u.section_code)
                    .is_some_and(|s| s.department_code != dept_of_program)
        })
        .unwrap();
    let editor = app.login(&other_editor.login).await;
    let denied = editor.post_form("/evidence/run", &fields).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let denied = editor.post_form("/evidence/save", &save).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // A viewer reads the page, without the run button, and cannot run.
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let page = viewer
        .get(&format!(
            "/evidence?kpi={}&program={program_code}",
            kpi.code
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("分析する</button>"));
    let denied = viewer.post_form("/evidence/run", &fields).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workbench_sqlite() {
    workbench(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workbench_postgres() {
    workbench(Backend::Postgres).await;
}
