//! The budget what-if in headless Chromium (Debian's `chromium`): finance
//! types a tighter total budget and an abolition limit into the form, runs
//! it, reads the allocation within the budget, saves it under a name, sends
//! it to the assessment and accepts one proposal on the budget page; the
//! strategy office sees the saved scenario without the form; a department
//! editor is refused. Screenshots go to `target/screenshots/`.

mod common;

use std::time::{Duration, Instant};

use citykpi_app::whatif;
use citykpi_domain::org::Role;
use citykpi_store::Backend;
use common::browser::{
    self as chrome, Chromium, expect_contains, fill, goto, html, screenshot, submit,
};

/// The number in `data-…="…"` after an element's id.
fn attr_after(html: &str, id: &str, attr: &str) -> String {
    let i = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id}"));
    let rest = &html[i..];
    let j = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    rest[j..j + rest[j..].find('"').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_what_if_in_chromium() {
    let app = common::spawn(Backend::Sqlite).await;
    // The demo city's running cycle builds the budget of 2026.
    let fy = citykpi_domain::FiscalYear::new(2026).unwrap();
    let y = fy.year();
    let defaults = whatif::default_rules(&app.store, fy).await.unwrap();
    let budget_sen = defaults.budget_yen / 1000 * 97 / 100;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let base = app.base.clone();
    let store = app.store.clone();
    let handle = tokio::runtime::Handle::current();

    let accepted = tokio::task::spawn_blocking(move || {
        let chromium = Chromium::start();
        let tab = chromium.tab();

        chrome::login(&tab, &base, "finance-zaisei");
        // The navigation leads to the page.
        expect_contains(&tab, "href=\"/whatif\"", "whatif-nav");
        goto(&tab, &format!("{base}/whatif/{y}"));
        expect_contains(&tab, "予算の試算", "whatif-page");

        fill(&tab, "#budget_yen", &budget_sen.to_string());
        fill(&tab, "#max_abolitions", "2");
        submit(&tab, "form.whatif-form", |url| {
            url.ends_with(&format!("/whatif/{y}"))
        });
        let page = expect_contains(&tab, "id=\"result-objective\"", "whatif-result");
        let total: i64 = attr_after(&page, "total-optimal", "data-yen")
            .parse()
            .unwrap();
        assert!(total <= budget_sen * 1000, "{total} within the budget");
        assert!(page.contains("最適性が証明されました"), "proven optimal");
        // What was typed stays in the form.
        assert!(page.contains(&format!("value=\"{budget_sen}\"")));
        screenshot(&tab, "whatif-result");

        // Save under a name: the second button of the form.
        fill(&tab, "#name", "ブラウザ案");
        tab.evaluate("window.__citykpiBeforeSubmit = true; 0", false)
            .unwrap();
        tab.wait_for_element("button[value=save]")
            .unwrap()
            .click()
            .unwrap();
        let start = Instant::now();
        while !tab.get_url().contains("/scenarios/") {
            // Saving runs the optimiser again (slow in a debug build).
            assert!(start.elapsed() < Duration::from_secs(180), "saved");
            std::thread::sleep(Duration::from_millis(50));
        }
        tab.wait_until_navigated().unwrap();
        let url = tab.get_url();
        let id: i64 = url.rsplit('/').next().unwrap().parse().unwrap();
        expect_contains(&tab, "ブラウザ案", "whatif-saved");

        // Send to the assessment.
        submit(
            &tab,
            &format!("form[action='/whatif/{y}/scenarios/{id}/send']"),
            |u| u.contains("sent="),
        );
        expect_contains(&tab, "査定案を送りました", "whatif-sent");

        // Accept one proposal on the budget page of its department.
        let proposals = handle.block_on(whatif::proposals(&store, fy)).unwrap();
        let p = proposals
            .iter()
            .find(|p| p.option_kind != "keep")
            .unwrap_or(&proposals[0])
            .clone();
        let program = handle
            .block_on(store.program(&p.program_code))
            .unwrap()
            .unwrap();
        let dept = handle
            .block_on(store.sections())
            .unwrap()
            .into_iter()
            .find(|s| s.code == program.section_code)
            .unwrap()
            .department_code;
        goto(
            &tab,
            &format!("{base}/cycle/{}/budget?department={dept}", y - 2),
        );
        expect_contains(
            &tab,
            &format!("data-proposal=\"{}\"", p.id),
            "whatif-proposal",
        );
        screenshot(&tab, "whatif-proposals");
        submit(
            &tab,
            &format!("form[action='/whatif/proposals/{}']", p.id),
            |u| u.contains("/budget"),
        );
        let after = html(&tab);
        assert!(
            !after.contains(&format!("data-proposal=\"{}\"", p.id)),
            "decided"
        );
        chrome::logout(&tab);

        // The strategy office reads the scenario; no form.
        chrome::login(&tab, &base, "strategy-kikaku");
        goto(&tab, &format!("{base}/whatif/{y}"));
        let page = expect_contains(&tab, "ブラウザ案", "whatif-strategy");
        assert!(!page.contains("id=\"budget_yen\""));
        chrome::logout(&tab);

        // A department editor is refused.
        chrome::login(&tab, &base, &editor.login);
        goto(&tab, &format!("{base}/whatif/{y}"));
        expect_contains(&tab, "権限がありません", "whatif-refused");
        p
    })
    .await
    .unwrap();
    let req = app
        .store
        .budget_request(&accepted.program_code, fy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(req.request.assessed, Some(accepted.proposed));
}
