//! End-to-end test in headless Chromium (Debian's `chromium`, never a
//! downloaded browser): a department editor logs in, enters an actual, sees
//! the KPI's status and the dashboard change, and is refused on another
//! department's program. A screenshot of the dashboard is written to
//! `target/screenshots/` for humans to look at.

mod common;

use std::ffi::OsStr;
use std::time::Duration;

use citykpi_domain::org::Role;
use citykpi_store::Backend;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};

const CHROMIUM: &str = "/usr/bin/chromium";

fn screenshot_dir() -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}

fn launch(profile: &std::path::Path) -> Browser {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); this test never skips"
    );
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=ja",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(CHROMIUM.into()))
        .headless(true)
        .sandbox(false)
        .user_data_dir(Some(profile.to_path_buf()))
        .window_size(Some((1280, 1000)))
        .idle_browser_timeout(Duration::from_secs(120))
        .args(args)
        .build()
        .expect("launch options");
    Browser::new(options).expect("start chromium")
}

fn html(tab: &Tab) -> String {
    tab.get_content().expect("page content")
}

fn fill(tab: &Tab, selector: &str, text: &str) {
    let el = tab
        .wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    el.click().unwrap();
    // Clear what the form pre-filled before typing.
    el.call_js_fn("function() { this.value = ''; }", vec![], false)
        .unwrap();
    tab.type_str(text).unwrap();
}

/// Submits a form and waits until the browser has arrived at a page whose
/// address satisfies `arrived` (a click returns before the POST completes).
fn submit(tab: &Tab, form_selector: &str, arrived: impl Fn(&str) -> bool) {
    tab.wait_for_element(&format!("{form_selector} button[type=submit]"))
        .unwrap()
        .click()
        .unwrap();
    let start = std::time::Instant::now();
    while !arrived(&tab.get_url()) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the form did not lead on: {}",
            tab.get_url()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    tab.wait_until_navigated().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn department_editor_in_chromium() {
    let app = common::spawn(Backend::Sqlite).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (own_program, other_program) = app.programs_of(&dept).await;
    let fy = citykpi_app::clock::last_closed_fiscal_year();
    // A KPI of the editor's department that is not yet "at risk", so that the
    // value entered below must change its status and the dashboard.
    let report = citykpi_app::status::kpi_status(&app.store, fy)
        .await
        .unwrap();
    let sections = app.store.sections().await.unwrap();
    let owned = |k: &citykpi_domain::kpi::Kpi| {
        k.owner_sections.iter().any(|s| {
            sections
                .iter()
                .any(|x| &x.code == s && x.department_code == dept)
        })
    };
    let kpis = app.store.kpis().await.unwrap();
    let k = kpis
        .iter()
        .filter(|k| owned(k) && !matches!(k.direction, citykpi_domain::kpi::Direction::Band { .. }))
        .find(|k| {
            report.kpis.iter().any(|r| {
                r.code == k.code && r.progress.status != citykpi_domain::progress::Status::AtRisk
            })
        })
        .expect("a KPI of the department that is not at risk")
        .clone();
    let kpi = k.code.clone();
    let fy = fy.year();
    // Far in the wrong direction, so the status is certain to become "at risk".
    let bad = match k.direction {
        citykpi_domain::kpi::Direction::LowerIsBetter => "1000000000",
        _ => "-1000000000",
    };
    let base = app.base.clone();
    let login = editor.login.clone();
    let profile = tempfile::tempdir().unwrap();
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).unwrap();
    // The browser API is blocking: run it off the async workers serving the app.
    tokio::task::spawn_blocking(move || {
        let browser = launch(profile.path());
        let tab = browser.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(20));

        tab.navigate_to(&format!("{base}/login"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        fill(&tab, "#login", &login);
        fill(&tab, "#password", common::PASSWORD);
        submit(&tab, "form[action='/login']", |url| {
            url == format!("{base}/")
        });
        assert!(html(&tab).contains("ログアウト"), "logged in");

        let before = {
            tab.navigate_to(&format!("{base}/?fy={fy}"))
                .unwrap()
                .wait_until_navigated()
                .unwrap();
            html(&tab)
        };

        tab.navigate_to(&format!("{base}/kpis/{kpi}/actuals"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        fill(&tab, "#period", &fy.to_string());
        fill(&tab, "#value", bad);
        submit(
            &tab,
            &format!("form[action='/kpis/{kpi}/actuals']"),
            |url| url.ends_with(&format!("/kpis/{kpi}?saved=1")),
        );
        tab.navigate_to(&format!("{base}/kpis/{kpi}?fy={fy}"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let page = html(&tab);
        if !page.contains("status status-at_risk") {
            std::fs::write(shots.join("kpi-failed.html"), &page).unwrap();
            panic!(
                "the KPI shows its new status (page in {})",
                shots.join("kpi-failed.html").display()
            );
        }

        tab.navigate_to(&format!("{base}/?fy={fy}"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let after = html(&tab);
        assert_ne!(before, after, "the dashboard changed");
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(shots.join("dashboard.png"), png).unwrap();

        tab.navigate_to(&format!("{base}/kpis/{kpi}?fy={fy}"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(shots.join("kpi.png"), png).unwrap();

        tab.navigate_to(&format!("{base}/programs/{own_program}"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(shots.join("program.png"), png).unwrap();
        tab.navigate_to(&format!("{base}/public"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(shots.join("public.png"), png).unwrap();

        tab.navigate_to(&format!("{base}/programs/{other_program}/edit"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let refused = html(&tab);
        assert!(
            refused.contains("この操作を行う権限がありません"),
            "refused on another department's program"
        );
    })
    .await
    .unwrap();
    assert!(screenshot_dir().join("dashboard.png").exists());
}
