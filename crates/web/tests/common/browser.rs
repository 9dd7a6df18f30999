//! The headless-Chromium harness of the browser tests (Debian's `chromium`,
//! never a downloaded browser): launch, navigate, fill and submit forms, log
//! in, read the page and write screenshots or the DOM to
//! `target/screenshots/` for humans to look at.
//!
//! The DevTools API is blocking: run it inside `tokio::task::spawn_blocking`
//! so that the async workers keep serving the application under test.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// `target/screenshots` (or `$CARGO_TARGET_DIR/screenshots`), created.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

/// Starts headless Chromium with its profile in `profile`.
pub fn launch(profile: &Path) -> Browser {
    assert!(
        Path::new(CHROMIUM).exists(),
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

/// A running Chromium with its own temporary profile (removed on drop).
pub struct Chromium {
    pub browser: Browser,
    _profile: tempfile::TempDir,
}

impl Chromium {
    pub fn start() -> Chromium {
        let profile = tempfile::tempdir().expect("temporary profile directory");
        Chromium {
            browser: launch(profile.path()),
            _profile: profile,
        }
    }

    /// A new tab waiting up to 20 s for elements and navigations.
    pub fn tab(&self) -> std::sync::Arc<Tab> {
        let tab = self.browser.new_tab().expect("new tab");
        tab.set_default_timeout(Duration::from_secs(20));
        tab
    }
}

/// The current DOM as HTML.
pub fn html(tab: &Tab) -> String {
    tab.get_content().expect("page content")
}

/// Opens `url` and waits until it has loaded.
pub fn goto(tab: &Tab, url: &str) {
    tab.navigate_to(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .wait_until_navigated()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
}

/// Clicks into a text field, clears what the form pre-filled and types `text`.
pub fn fill(tab: &Tab, selector: &str, text: &str) {
    let el = tab
        .wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    el.click().unwrap();
    el.call_js_fn("function() { this.value = ''; }", vec![], false)
        .unwrap();
    tab.type_str(text).unwrap();
}

/// Sets a form control's value the way a user's choice would (selects).
pub fn choose(tab: &Tab, selector: &str, value: &str) {
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

/// Clicks an element (a checkbox, a link).
pub fn check(tab: &Tab, selector: &str) {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .unwrap();
}

/// Submits a form and waits until the browser has arrived at a page whose
/// address satisfies `arrived` (a click returns before the POST completes).
/// The page before the click is marked, so that a form which leads back to
/// the address it was sent from (`…?saved=1` twice in a row) is waited for
/// too, not taken as arrived while the POST is still under way.
pub fn submit(tab: &Tab, form_selector: &str, arrived: impl Fn(&str) -> bool) {
    tab.evaluate("window.__citykpiBeforeSubmit = true; 0", false)
        .unwrap();
    tab.wait_for_element(&format!("{form_selector} button[type=submit]"))
        .unwrap_or_else(|e| panic!("{form_selector} button[type=submit]: {e}"))
        .click()
        .unwrap();
    let start = Instant::now();
    let left_old_page = || {
        tab.evaluate("window.__citykpiBeforeSubmit === undefined", false)
            .ok()
            .and_then(|r| r.value)
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    while !(arrived(&tab.get_url()) && left_old_page()) {
        if start.elapsed() >= Duration::from_secs(20) {
            let page = dump(tab, "submit-failed");
            panic!(
                "the form {form_selector} did not lead on: {} (page in {})",
                tab.get_url(),
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    tab.wait_until_navigated().unwrap();
}

/// Logs in through the login form as `login` (demo password) and waits for
/// the dashboard.
pub fn login(tab: &Tab, base: &str, login: &str) {
    goto(tab, &format!("{base}/login"));
    fill(tab, "#login", login);
    fill(tab, "#password", super::PASSWORD);
    submit(tab, "form[action='/login']", |url| {
        url == format!("{base}/")
    });
}

/// Logs out through the header's form and waits for the login page.
pub fn logout(tab: &Tab) {
    submit(tab, "form[action='/logout']", |url| url.ends_with("/login"));
}

/// Writes a full-page PNG to `target/screenshots/{name}.png`; returns its path.
pub fn screenshot(tab: &Tab, name: &str) -> PathBuf {
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    let path = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    path
}

/// Writes the current DOM to `target/screenshots/{name}.html`; returns its path.
pub fn dump(tab: &Tab, name: &str) -> PathBuf {
    let path = screenshot_dir().join(format!("{name}.html"));
    std::fs::write(&path, html(tab)).unwrap();
    path
}

/// Panics with the page saved to `target/screenshots/{name}.html` unless the
/// page contains `needle`.
pub fn expect_contains(tab: &Tab, needle: &str, name: &str) -> String {
    let page = html(tab);
    if !page.contains(needle) {
        let path = dump(tab, name);
        panic!("the page lacks {needle:?} (page in {})", path.display());
    }
    page
}
