//! The annual KPI progress report as a web page, against the
//! running server with the demo city on SQLite and PostgreSQL: the staff
//! page's numbers are the database's, the public page shows no unpublished
//! KPI, a year that is not a year or has no report is a 404 that says so, and
//! headless Chromium renders the page with its charts and hides the site's
//! frame when printing (a screenshot is written to `target/screenshots/`).

mod common;

use citykpi_app::reports::check_progress_year;
use citykpi_app::status::kpi_status;
use citykpi_domain::FiscalYear;
use citykpi_domain::org::Role;
use citykpi_reports::progress::{number, percent};
use citykpi_store::{Backend, ObservationFilter};
use common::spawn;
use reqwest::StatusCode;

/// The year the report pages open on: the last one ended.
fn report_year() -> FiscalYear {
    citykpi_app::clock::last_closed_fiscal_year()
}

/// The HTML of the row of KPI `code` (`<tr data-kpi="code">…</tr>`).
fn row_of<'a>(body: &'a str, code: &str) -> Option<&'a str> {
    let start = body.find(&format!("<tr data-kpi=\"{code}\""))?;
    let rest = &body[start..];
    Some(&rest[..rest.find("</tr>")?])
}

/// The text of the cell `data-field="field"` up to its first tag.
fn cell(row: &str, field: &str) -> String {
    let marker = format!("data-field=\"{field}\">");
    let i = row
        .find(&marker)
        .unwrap_or_else(|| panic!("no {field} in {row}"))
        + marker.len();
    let rest = &row[i..];
    rest[..rest.find('<').unwrap_or(rest.len())]
        .trim()
        .to_string()
}

async fn staff_page_numbers_are_the_database(backend: Backend) {
    let app = spawn(backend).await;
    let fy = report_year();
    let report = kpi_status(&app.store, fy).await.unwrap();
    check_progress_year(fy, &report).expect("the demo has actuals for the last year");
    let kpis = app.store.kpis().await.unwrap();
    let area = citykpi_app::status::city_code(&app.store)
        .await
        .unwrap()
        .expect("the demo sets its city code");

    // Logged-in staff only.
    let anonymous = app
        .client()
        .get(&format!("/cycle/{}/progress", fy.year()))
        .await;
    assert_ne!(anonymous.status, StatusCode::OK);

    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let page = viewer.get(&format!("/cycle/{}/progress", fy.year())).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("年次KPI進捗報告書"));
    assert!(body.contains(&fy.wareki()));
    // The summary counts all KPIs; every plan has its section.
    assert!(
        body.contains(&format!("全指標 {}", report.counts.total())),
        "the total of {} KPIs",
        report.counts.total()
    );
    for plan in &report.plans {
        assert!(body.contains(&format!("id=\"plan-{}\"", plan.code)));
    }
    // Charts are inline SVG, never an image from elsewhere.
    assert!(body.contains("<svg"));
    assert!(!body.contains("<script src=\"http"));

    // A few KPIs with an actual: each number is the database's.
    let with_actual: Vec<_> = report
        .kpis
        .iter()
        .filter(|r| r.progress.actual.is_some())
        .take(5)
        .collect();
    assert!(with_actual.len() >= 3, "the demo has KPIs with actuals");
    for r in with_actual {
        let row = row_of(body, &r.code).unwrap_or_else(|| panic!("KPI {} on the page", r.code));
        let actual_fy = r.progress.actual_fy.expect("an actual has its year");
        let observations = app
            .store
            .observations(&ObservationFilter {
                kpi_codes: vec![r.code.clone()],
                from_fy: Some(actual_fy),
                to_fy: Some(actual_fy),
                area_code: Some(area.clone()),
                confirmed: None,
            })
            .await
            .unwrap();
        let shown = cell(row, "actual");
        let shown_value = shown.trim_end_matches('*');
        assert!(
            observations
                .iter()
                .filter_map(|o| o.value.value())
                .any(|v| number(Some(v)) == shown_value),
            "KPI {}: the actual {shown} is a stored value of {actual_fy}",
            r.code
        );
        assert_eq!(shown_value, number(r.progress.actual));
        let def = kpis.iter().find(|k| k.code == r.code).unwrap();
        assert_eq!(
            cell(row, "baseline"),
            number(def.baseline.as_ref().map(|b| b.value)),
            "KPI {} baseline",
            r.code
        );
        assert_eq!(cell(row, "target"), number(r.progress.target));
        assert_eq!(cell(row, "rate"), percent(r.progress.rate));
        assert!(
            row.contains(&format!("status-{}", r.progress.status.as_str())),
            "KPI {} status",
            r.code
        );
    }

    // English on the language switch, same numbers.
    let en = viewer
        .get(&format!("/cycle/{}/progress?lang=en", fy.year()))
        .await;
    assert_eq!(en.status, StatusCode::OK);
    assert!(en.body.contains("Annual KPI progress report"));
    let first = report
        .kpis
        .iter()
        .find(|r| r.progress.actual.is_some())
        .unwrap();
    assert_eq!(
        cell(row_of(&en.body, &first.code).unwrap(), "actual").trim_end_matches('*'),
        number(first.progress.actual)
    );

    // The cycle's pages link to the report.
    let stage = viewer.get(&format!("/cycle?fy={}", fy.year())).await;
    assert!(
        stage
            .body
            .contains(&format!("href=\"/cycle/{}/progress\"", fy.year()))
    );

    #[cfg(feature = "pdf")]
    {
        let (status, headers, bytes) = viewer
            .get_bytes(&format!("/cycle/{}/reports/kpi-progress.pdf", fy.year()))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "application/pdf");
        assert!(bytes.starts_with(b"%PDF"));
        assert!(body.contains(&format!("/cycle/{}/reports/kpi-progress.pdf", fy.year())));
    }
}

both!(staff_page, staff_page_numbers_are_the_database);

async fn public_page_shows_published_records_only(backend: Backend) {
    let app = spawn(backend).await;
    let fy = report_year();
    let kpis = app.store.kpis().await.unwrap();
    let unpublished: Vec<_> = kpis.iter().filter(|k| !k.published).collect();
    assert!(
        !unpublished.is_empty(),
        "the demo city keeps some KPIs unpublished"
    );
    let published: Vec<_> = kpis.iter().filter(|k| k.published).collect();

    let public = app.client();
    let page = public.get(&format!("/public/progress/{}", fy.year())).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    for k in &unpublished {
        assert!(
            !body.contains(&format!("data-kpi=\"{}\"", k.code)),
            "unpublished KPI {} on the public page",
            k.code
        );
        assert!(
            !body.contains(&k.name_ja),
            "unpublished KPI {}'s name on the public page",
            k.code
        );
    }
    // Every KPI row is a published KPI, and the published ones with a plan are there.
    let rows = body.matches("<tr data-kpi=").count();
    assert!(rows > 0);
    let mut n = 0;
    for k in &published {
        if body.contains(&format!("data-kpi=\"{}\"", k.code)) {
            n += 1;
        }
    }
    assert!(n > 0 && n <= published.len());
    // The counts are those of published KPIs only.
    let staff = kpi_status(&app.store, fy).await.unwrap();
    let i = body.find("全指標 ").expect("the summary's total") + "全指標 ".len();
    let public_total: usize = body[i..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap();
    assert!(public_total <= published.len());
    if staff
        .kpis
        .iter()
        .any(|r| unpublished.iter().any(|k| k.code == r.code))
    {
        assert!(public_total < staff.counts.total());
    }
    // KPI links stay on the public portal.
    assert!(body.contains("href=\"/public/kpis/"));
    assert!(!body.contains("href=\"/kpis/"));

    // The portal's index links to the report.
    let index = public.get("/public").await;
    assert!(
        index
            .body
            .contains(&format!("href=\"/public/progress/{}\"", fy.year())),
        "{}",
        index.body
    );

    #[cfg(feature = "pdf")]
    {
        let (status, _, bytes) = public
            .get_bytes(&format!("/public/progress/{}/report.pdf", fy.year()))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(bytes.starts_with(b"%PDF"));
    }
}

both!(public_page, public_page_shows_published_records_only);

async fn bad_years_are_404_with_a_reason(backend: Backend) {
    let app = spawn(backend).await;
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let public = app.client();

    let not_a_year = viewer.get("/cycle/abc/progress").await;
    assert_eq!(not_a_year.status, StatusCode::NOT_FOUND);
    assert!(not_a_year.body.contains("「abc」は年度として読めません"));
    assert!(not_a_year.body.contains("is not a fiscal year"));

    let future = citykpi_app::clock::current_fiscal_year().year() + 3;
    let later = public.get(&format!("/public/progress/{future}")).await;
    assert_eq!(later.status, StatusCode::NOT_FOUND);
    assert!(
        later.body.contains("まだ始まっていません"),
        "{}",
        later.body
    );
    assert!(later.body.contains("has not started"));

    let before = viewer.get("/cycle/1990/progress").await;
    assert_eq!(before.status, StatusCode::NOT_FOUND);
    assert!(before.body.contains("実績があるKPIがありません"));
    assert!(before.body.contains("no KPI has an actual"));

    // Markup in the path is shown as text, never as markup.
    let tag = public.get("/public/progress/%3Cb%3Ex").await;
    assert_eq!(tag.status, StatusCode::NOT_FOUND);
    assert!(tag.body.contains("&lt;b&gt;x"));
    assert!(!tag.body.contains("<b>x"));
}

both!(bad_years, bad_years_are_404_with_a_reason);

/// Headless Chromium: the public report renders with its charts, in
/// Japanese and English, and the print stylesheet hides the site's frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_in_chromium() {
    use headless_chrome::protocol::cdp::Emulation;
    use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;

    let app = spawn(Backend::Sqlite).await;
    let url = format!("{}/public/progress/{}", app.base, report_year().year());
    tokio::task::spawn_blocking(move || {
        assert!(
            std::path::Path::new("/usr/bin/chromium").exists(),
            "/usr/bin/chromium is missing: install Debian's chromium; this test never skips"
        );
        let profile = tempfile::tempdir().unwrap();
        let options = headless_chrome::LaunchOptions::default_builder()
            .path(Some("/usr/bin/chromium".into()))
            .headless(true)
            .sandbox(false)
            .user_data_dir(Some(profile.path().to_path_buf()))
            .window_size(Some((1280, 1000)))
            .idle_browser_timeout(std::time::Duration::from_secs(120))
            .build()
            .unwrap();
        let browser = headless_chrome::Browser::new(options).expect("start chromium");
        let tab = browser.new_tab().unwrap();
        tab.set_default_timeout(std::time::Duration::from_secs(20));
        tab.navigate_to(&url).unwrap().wait_until_navigated().unwrap();
        tab.wait_for_element("article.progress-report").unwrap();
        // The charts are drawn: the donut and the policies' bars have a size.
        let drawn = tab
            .evaluate(
                "Array.from(document.querySelectorAll('.progress-report svg')).filter(s => s.getBoundingClientRect().width > 50).length",
                false,
            )
            .unwrap()
            .value
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        assert!(drawn >= 2, "drawn charts: {drawn}");
        let dir = screenshot_dir();
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        assert!(png.len() > 10_000, "a screenshot with content");
        std::fs::write(dir.join("progress-report.png"), png).unwrap();

        // Printing: the header and the language switch are not printed.
        tab.call_method(Emulation::SetEmulatedMedia {
            media: Some("print".into()),
            features: None,
        })
        .unwrap();
        let header = tab
            .evaluate(
                "getComputedStyle(document.querySelector('.site-header')).display",
                false,
            )
            .unwrap()
            .value
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        assert_eq!(header, "none", "the site header is hidden in print");
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(dir.join("progress-report-print.png"), png).unwrap();

        // English.
        tab.call_method(Emulation::SetEmulatedMedia {
            media: Some("screen".into()),
            features: None,
        })
        .unwrap();
        tab.navigate_to(&format!("{url}?lang=en"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let html = tab.get_content().unwrap();
        assert!(html.contains("Annual KPI progress report"));
    })
    .await
    .unwrap();
}

/// `target/screenshots` (or `$CARGO_TARGET_DIR/screenshots`), created.
fn screenshot_dir() -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
