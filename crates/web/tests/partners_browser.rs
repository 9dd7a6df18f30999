//! End-to-end test of the partner platform in headless Chromium (Debian's
//! `chromium`, never a downloaded browser): a visitor registers an
//! organisation through the public form, the desk approves it, and the
//! visitor finds it in the public directory; the desk narrows the partner
//! list of a new demonstration to it with the search box. A screenshot of the directory
//! is written to `target/screenshots/` for humans to look at.

mod common;

use citykpi_domain::org::Role;
use citykpi_store::Backend;
use common::browser::{
    self as chrome, Chromium, check, choose, fill, goto, html, screenshot, screenshot_dir, submit,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_approve_and_find_in_directory() {
    let app = common::spawn(Backend::Sqlite).await;
    let desk = app.user_with(Role::StrategyOffice).await.login;
    let base = app.base.clone();
    let store = app.store.clone();
    let handle = tokio::runtime::Handle::current();
    const NAME: &str = "ブラウザ試験株式会社";
    // The browser API is blocking: run it off the async workers serving the app.
    tokio::task::spawn_blocking(move || {
        let chromium = Chromium::start();
        let tab = chromium.tab();

        // A visitor registers through the public form (no login).
        goto(&tab, &format!("{base}/partners/join"));
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
        screenshot(&tab, "partners-join");
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
        goto(&tab, &format!("{base}/partners/directory"));
        assert!(!html(&tab).contains(NAME));

        // The desk logs in and approves it.
        chrome::login(&tab, &base, &desk);
        goto(&tab, &format!("{base}/partners/members?status=pending"));
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

        // Choosing it as a demonstration's partner: the search box narrows
        // the list of every approved member to it; the ticked one stays
        // when the search changes.
        goto(&tab, &format!("{base}/partners/demonstrations/new"));
        let visible = |tab: &headless_chrome::Tab| -> i64 {
            tab.evaluate(
                "Array.from(document.querySelectorAll('#partner_ids-list > div')).filter(d => !d.hidden).length",
                false,
            )
            .unwrap()
            .value
            .and_then(|v| v.as_i64())
            .unwrap()
        };
        let all = visible(&tab);
        assert!(all > 1, "every approved member listed ({all})");
        fill(&tab, "#partner_ids-filter", "ブラウザ試験");
        assert_eq!(visible(&tab), 1, "narrowed to the new member");
        assert!(html(&tab).contains(r#"id="partner_ids-list-shown">1<"#));
        check(&tab, &format!("#partner_ids-{id}"));
        fill(&tab, "#partner_ids-filter", "該当なしの名前");
        assert_eq!(visible(&tab), 1, "a ticked member stays in view");
        // Emptying the box (as a user deleting the text) shows them all again.
        tab.evaluate(
            "const b = document.getElementById('partner_ids-filter'); b.value = ''; b.dispatchEvent(new Event('input')); 0",
            false,
        )
        .unwrap();
        assert_eq!(visible(&tab), all);
        screenshot(&tab, "partners-demonstration-partners");
        chrome::logout(&tab);

        // The visitor finds it in the public directory, with the consented fields only.
        goto(&tab, &format!("{base}/partners/directory"));
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
        screenshot(&tab, "partners-directory");
    })
    .await
    .unwrap();
    assert!(screenshot_dir().join("partners-directory.png").exists());
}
