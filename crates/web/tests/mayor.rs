//! The mayor's view (`/mayor`) over real HTTP on the demo city: its numbers
//! are the status report's and the cycle's, the executive role reads staff
//! pages and the view but changes nothing (every form refused with 403), the
//! department editor is refused the view, the one-page A4 PDF carries the
//! headline numbers (pdfinfo, pdftotext), and in Chromium at tablet width the
//! page fits the screen.

mod common;

use citykpi_app::cycle::CycleYear;
use citykpi_domain::cycle::stage::Stage;
use citykpi_store::Backend;
use common::spawn;
use reqwest::StatusCode;

/// The text of the element with `id` (its first text up to the next tag).
fn text_of(body: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let i = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let rest = &body[i..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    rest[start..end].trim().to_string()
}

async fn the_view_shows_the_real_numbers(backend: Backend) {
    let app = spawn(backend).await;
    let fy = citykpi_app::clock::last_closed_fiscal_year();
    let report = citykpi_app::status::kpi_status(&app.store, fy)
        .await
        .unwrap();
    let cycle = CycleYear::load(&app.store, fy).await.unwrap();
    let owed = |stage: Stage| {
        cycle
            .status
            .stages
            .iter()
            .find(|s| s.record.stage == stage)
            .unwrap()
            .owed
    };

    let mayor = app.login("mayor").await;
    let page = mayor.get("/mayor").await;
    assert_eq!(page.status, StatusCode::OK);
    let off = report.counts.behind + report.counts.at_risk;
    assert!(off > 0, "the demo has KPIs off track");
    assert_eq!(text_of(&page.body, "off-track-count"), off.to_string());
    assert!(
        page.body
            .contains(&format!("<span class=\"mayor-tile-value\">{off}</span>"))
    );
    assert_eq!(
        text_of(&page.body, "sheets-to-review"),
        owed(Stage::Review).to_string()
    );
    assert_eq!(
        text_of(&page.body, "requests-unassessed"),
        format!(
            "{} / {}",
            cycle.compiled.total.unassessed, cycle.status.budget_requests
        )
    );
    // Every policy area of the Basic Plan, and the worst KPI off track.
    let plan = &report.plans[0];
    for area in &plan.children {
        assert!(page.body.contains(&area.name_ja), "{}", area.name_ja);
    }
    let at_risk = report
        .kpis
        .iter()
        .find(|r| r.progress.status == citykpi_domain::progress::Status::AtRisk)
        .unwrap();
    assert!(
        page.body
            .contains(&format!("data-kpi=\"{}\"", at_risk.code))
            || off > 10
    );
    assert!(page.body.contains("トップマネジメント"));
    let en = mayor.get("/mayor?lang=en").await;
    assert!(en.body.contains("Mayor&#39;s view") || en.body.contains("Mayor's view"));

    // The strategy office prepares the briefing; the department editor and
    // the viewer are refused; without a login, the login form.
    let strategy = app.login("strategy-kikaku").await;
    assert_eq!(strategy.get("/mayor").await.status, StatusCode::OK);
    for login in ["editor-kenko", "viewer"] {
        let c = app.login(login).await;
        assert_eq!(
            c.get("/mayor").await.status,
            StatusCode::FORBIDDEN,
            "{login}"
        );
    }
    let anon = app.client().get("/mayor").await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert!(anon.location().starts_with("/login"));
}
both!(mayor_view, the_view_shows_the_real_numbers);

async fn the_executive_reads_and_writes_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let mayor = app.login("mayor").await;
    for path in ["/", "/kpis", "/programs", "/cycle", "/mayor"] {
        assert_eq!(mayor.get(path).await.status, StatusCode::OK, "{path}");
    }
    // The editors' pages are not the executive's.
    assert_eq!(
        mayor.get("/kpis/confirm").await.status,
        StatusCode::FORBIDDEN
    );
    // Every form of the application, with a valid CSRF token: refused.
    let newest = |entries: Vec<citykpi_store::AuditEntry>| entries.first().map(|e| e.id);
    let before = newest(app.store.audit_entries(1, 0).await.unwrap());
    let mut tried = 0;
    for rule in citykpi_web::access::all_routes() {
        if rule.method != "POST"
            || matches!(rule.access, citykpi_web::access::Access::Signed(_))
            || citykpi_web::access::EXECUTIVE_POSTS.contains(&rule.path)
        {
            continue;
        }
        let path: String = rule
            .path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "X" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let r = mayor.post_form(&path, &[("value", "1")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path}");
        tried += 1;
    }
    assert!(tried > 50, "{tried} forms");
    // Nothing was written.
    let after = newest(app.store.audit_entries(1, 0).await.unwrap());
    assert_eq!(before, after);
    // The executive still logs out.
    let out = mayor.post_form("/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
}
both!(executive_read_only, the_executive_reads_and_writes_nothing);

#[cfg(feature = "pdf")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_briefing_is_one_a4_page_with_the_headline_numbers() {
    let app = spawn(Backend::Sqlite).await;
    let fy = citykpi_app::clock::last_closed_fiscal_year();
    let report = citykpi_app::status::kpi_status(&app.store, fy)
        .await
        .unwrap();
    let mayor = app.login("mayor").await;
    let (status, headers, bytes) = mayor.get_bytes("/mayor.pdf").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/pdf");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mayor.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let info = std::process::Command::new("pdfinfo")
        .arg(&file)
        .output()
        .expect("pdfinfo (poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 1")),
        "{info}"
    );
    assert!(info.contains("595.") && info.contains("841."), "A4: {info}");
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(text.contains("トップマネジメント"), "{text}");
    assert!(text.contains("遅れているKPI"), "{text}");
    let off = report.counts.behind + report.counts.at_risk;
    assert!(text.contains(&off.to_string()), "{off} in {text}");
    assert!(text.contains(&report.counts.total().to_string()), "{text}");
    assert!(
        text.contains(&report.plans[0].children[0].name_ja),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_tablet_the_page_fits_the_screen() {
    use common::browser::{self as chrome, Chromium, expect_contains, goto, screenshot};
    let app = spawn(Backend::Sqlite).await;
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || {
        let chromium = Chromium::start();
        let tab = chromium.tab();
        chrome::login(&tab, &base, "mayor");
        // An iPad in portrait: 768 × 1024 CSS pixels.
        tab.call_method(
            headless_chrome::protocol::cdp::Emulation::SetDeviceMetricsOverride {
                width: 768,
                height: 1024,
                device_scale_factor: 1.0,
                mobile: true,
                scale: None,
                screen_width: None,
                screen_height: None,
                position_x: None,
                position_y: None,
                dont_set_visible_size: None,
                screen_orientation: None,
                viewport: None,
                display_feature: None,
                device_posture: None,
            },
        )
        .unwrap();
        goto(&tab, &format!("{base}/mayor"));
        expect_contains(&tab, "トップマネジメント", "mayor-tablet");
        let fits = tab
            .evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth + 1",
                false,
            )
            .unwrap()
            .value
            .unwrap();
        assert_eq!(fits, serde_json::Value::Bool(true), "no sideways scrolling");
        let width = tab
            .evaluate("window.innerWidth", false)
            .unwrap()
            .value
            .unwrap();
        assert_eq!(width, serde_json::json!(768));
        let png = screenshot(&tab, "mayor-tablet");
        assert!(std::fs::metadata(png).unwrap().len() > 10_000);
    })
    .await
    .unwrap();
}
