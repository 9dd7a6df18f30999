//! End-to-end test of the partner platform in headless Chromium (Debian's
//! `chromium`, never a downloaded browser): a visitor registers an
//! organisation through the public form, the desk approves it, and the
//! visitor finds it in the public directory. A screenshot of the directory
//! is written to `target/screenshots/` for humans to look at.

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

/// Sets a form control's value the way a user's choice would.
fn choose(tab: &Tab, selector: &str, value: &str) {
    let el = tab
        .wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    el.call_js_fn(
        &format!("function() {{ this.value = {value:?}; }}"),
        vec![],
        false,
    )
    .unwrap();
}

fn check(tab: &Tab, selector: &str) {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_approve_and_find_in_directory() {
    let app = common::spawn(Backend::Sqlite).await;
    let desk = app.user_with(Role::StrategyOffice).await.login;
    let base = app.base.clone();
    let store = app.store.clone();
    let handle = tokio::runtime::Handle::current();
    let profile = tempfile::tempdir().unwrap();
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).unwrap();
    const NAME: &str = "ブラウザ試験株式会社";
    // The browser API is blocking: run it off the async workers serving the app.
    tokio::task::spawn_blocking(move || {
        let browser = launch(profile.path());
        let tab = browser.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(20));

        // A visitor registers through the public form (no login).
        tab.navigate_to(&format!("{base}/partners/join"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        fill(&tab, "#name", NAME);
        choose(&tab, "#org_type", "company");
        choose(&tab, "#size", "small");
        fill(&tab, "#lg_code", "27140");
        fill(&tab, "#address", "みなと市中央区本町2-3");
        fill(&tab, "#contact_person", "試験 太郎");
        fill(&tab, "#email", "taro@example.jp");
        check(&tab, "#sdg-9");
        check(&tab, "#sdg-11");
        fill(&tab, "#offers", "ブラウザ操作の自動試験");
        check(&tab, "#pf-offers");
        check(&tab, "#pf-sdg_goals");
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(shots.join("partners-join.png"), png).unwrap();
        submit(&tab, "form[action='/partners/join']", |url| {
            url.ends_with("/partners/join/thanks")
        });
        assert!(html(&tab).contains("登録を受け付けました"));

        let id = handle
            .block_on(store.members(&citykpi_store::MemberFilter {
                status: Some(citykpi_domain::partner::member::MemberStatus::Pending),
                q: NAME.into(),
                page: 1,
                per_page: 5,
            }))
            .unwrap()
            .items
            .first()
            .expect("the registration is stored as pending")
            .id;

        // Not listed before the desk approves.
        tab.navigate_to(&format!("{base}/partners/directory"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        assert!(!html(&tab).contains(NAME));

        // The desk logs in and approves it.
        tab.navigate_to(&format!("{base}/login"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        fill(&tab, "#login", &desk);
        fill(&tab, "#password", common::PASSWORD);
        submit(&tab, "form[action='/login']", |url| {
            url == format!("{base}/")
        });
        tab.navigate_to(&format!("{base}/partners/members?status=pending"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        check(&tab, &format!("a[href='/partners/members/{id}']"));
        tab.wait_until_navigated().unwrap();
        fill(&tab, "#reason", "ご登録ありがとうございます");
        submit(
            &tab,
            &format!("form[action='/partners/members/{id}/decision']"),
            |url| url.ends_with(&format!("/partners/members/{id}?decided=1")),
        );
        let page = html(&tab);
        assert!(
            page.contains("承認しました"),
            "the notice to the applicant is shown"
        );
        submit(&tab, "form[action='/logout']", |url| {
            url.ends_with("/login")
        });

        // The visitor finds it in the public directory, with the consented fields only.
        tab.navigate_to(&format!("{base}/partners/directory"))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        fill(&tab, "#q", "ブラウザ試験");
        submit(&tab, "form[action='/partners/directory']", |url| {
            url.contains("/partners/directory?q=")
        });
        let dir = html(&tab);
        assert!(dir.contains(NAME), "listed after approval");
        assert!(
            dir.contains("ブラウザ操作の自動試験"),
            "consented offers shown"
        );
        assert!(
            !dir.contains("みなと市中央区本町2-3"),
            "address not consented"
        );
        assert!(!dir.contains("taro@example.jp") && !dir.contains("試験 太郎"));
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(shots.join("partners-directory.png"), png).unwrap();
    })
    .await
    .unwrap();
    assert!(screenshot_dir().join("partners-directory.png").exists());
}
