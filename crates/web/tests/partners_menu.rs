//! HTTP tests of the public SDGs contribution menu and members applying to
//! it themselves, against the running server on both databases
//! with the demo city: the public list and the application form (member
//! number and registered e-mail, one answer for a wrong pair whichever half
//! is wrong, unapproved members, duplicates, bad fields, CSRF, honeypot,
//! rate limit, escaping), the desk's forms to create, edit, close and reopen
//! items, dated results of participations, the JSON list, and who may do
//! what.

mod common;

use citykpi_domain::org::Role;
use citykpi_domain::partner::member::{Member, MemberStatus};
use citykpi_domain::partner::menu::{MenuItem, ParticipationStatus};
use citykpi_store::{Backend, MemberFilter};
use common::{App, Client, csrf_in, spawn};
use reqwest::{Method, StatusCode};

const GENERIC: &str = "会員番号とメールアドレスの組み合わせを確認できませんでした";

/// A visitor who has opened a public form: holds its pre-session token.
async fn visitor(app: &App, form_path: &str) -> Client {
    let mut c = app.client();
    let page = c.get(form_path).await;
    assert_eq!(page.status, StatusCode::OK, "{form_path}");
    c.csrf = csrf_in(&page.body).expect("csrf token in the public form");
    c
}

async fn members_with(app: &App, status: MemberStatus) -> Vec<Member> {
    app.store
        .members(&MemberFilter {
            status: Some(status),
            q: String::new(),
            page: 1,
            per_page: 200,
        })
        .await
        .unwrap()
        .items
}

async fn participants(app: &App, code: &str) -> Vec<(i64, ParticipationStatus)> {
    app.store
        .participations(Some(code))
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.member_id, p.status))
        .collect()
}

/// An open demo item and an approved member who has not applied to it.
async fn open_item_and_member(app: &App) -> (MenuItem, Member) {
    let items = app.store.menu_items().await.unwrap();
    let approved = members_with(app, MemberStatus::Approved).await;
    for item in items.into_iter().filter(|i| i.open) {
        let applied = participants(app, &item.code).await;
        if let Some(m) = approved
            .iter()
            .find(|m| !applied.iter().any(|(id, _)| *id == m.id))
        {
            return (item, m.clone());
        }
    }
    panic!("the demo has an open menu item and an approved member who has not applied")
}

fn apply_fields<'a>(id: &'a str, email: &'a str, note: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("member_id", id),
        ("email", email),
        ("note", note),
        ("fax_number", ""),
    ]
}

async fn public_menu_and_self_application(backend: Backend) {
    let app = spawn(backend).await;
    let items = app.store.menu_items().await.unwrap();
    let (item, member) = open_item_and_member(&app).await;
    let code = item.code.as_str();
    let form_path = format!("/partners/sdgs-menu/{code}");
    let apply = format!("/partners/sdgs-menu/{code}/apply");

    // The public list: open items only, with published KPIs by name and the goals.
    let anon = app.client();
    let list = anon.get("/partners/sdgs-menu").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("SDGs貢献メニュー"));
    for i in &items {
        assert_eq!(
            list.body.contains(&format!("id=\"menu-{}\"", i.code)),
            i.open,
            "{} listed only when open",
            i.code
        );
    }
    let kpis = app.store.kpis().await.unwrap();
    let published = kpis
        .iter()
        .find(|k| k.published && item.kpi_codes.contains(&k.code));
    if let Some(k) = published {
        assert!(list.body.contains(&k.name_ja), "KPI {} by name", k.code);
        assert!(
            list.body
                .contains(&format!("href=\"/public/kpis/{}\"", k.code))
        );
    }
    for k in kpis
        .iter()
        .filter(|k| !k.published && item.kpi_codes.contains(&k.code))
    {
        assert!(
            !list.body.contains(&k.name_ja),
            "unpublished KPI {}",
            k.code
        );
    }
    if let Some(g) = item.sdg_goals.first() {
        assert!(list.body.contains(&format!("title=\"{}\"", g.label_ja())));
    }
    assert!(list.body.contains(&format!("href=\"{form_path}\"")));
    let en = anon.get("/partners/sdgs-menu?lang=en").await;
    assert!(en.body.contains("SDGs contribution menu"));

    // The form: pre-session token and honeypot.
    let v = visitor(&app, &form_path).await;
    let form = v.get(&form_path).await.body;
    assert!(form.contains("name=\"fax_number\""));
    assert!(form.contains(&format!("action=\"{apply}\"")));
    let before = participants(&app, code).await.len();

    // A wrong e-mail and an unknown member number get the same answer.
    let id = member.id.to_string();
    let wrong_mail = v
        .post_form(&apply, &apply_fields(&id, "someone.else@example.jp", ""))
        .await;
    assert_eq!(wrong_mail.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_mail.body.contains(GENERIC));
    let unknown = v
        .post_form(
            &apply,
            &apply_fields("987654321", &member.contact.email, ""),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains(GENERIC));
    let message = |b: &str| {
        let i = b.find("class=\"error-summary\"").expect("error summary");
        b[i..i + b[i..].find("</ul>").unwrap()].to_string()
    };
    assert_eq!(
        message(&wrong_mail.body).replace(&member.contact.email, ""),
        message(&unknown.body).replace(&member.contact.email, ""),
        "one message whichever half is wrong"
    );
    assert!(!unknown.body.contains(&member.org.name));
    assert_eq!(participants(&app, code).await.len(), before);

    // Bad fields, each named, in Japanese and English.
    let long = "あ".repeat(2001);
    let bad = v
        .post_form(&apply, &apply_fields("abc", "not-an-address", &long))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("会員番号は数字で入力してください"));
    assert!(bad.body.contains("メールアドレスの形式ではありません"));
    assert!(bad.body.contains("2000文字以内"));
    assert!(bad.body.contains("href=\"#member_id\""));
    assert!(bad.body.contains("href=\"#email\""));
    assert!(bad.body.contains("href=\"#note\""));
    let empty = v
        .post_form(&format!("{apply}?lang=en"), &apply_fields("", "", ""))
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("is required"));
    // Back to Japanese (the language choice is kept in a cookie).
    assert!(
        v.get(&format!("{form_path}?lang=ja"))
            .await
            .body
            .contains("会員番号")
    );

    // What was typed comes back escaped.
    let script = "<script>alert(1)</script>";
    let echoed = v
        .post_form(&apply, &apply_fields(script, "x@example.jp", script))
        .await;
    assert_eq!(echoed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!echoed.body.contains(script));
    assert!(echoed.body.contains("&lt;script&gt;"));

    // A member not yet approved is told so (it knows its own number and address).
    let pending = members_with(&app, MemberStatus::Pending)
        .await
        .into_iter()
        .next()
        .expect("a pending demo member");
    let r = v
        .post_form(
            &apply,
            &apply_fields(&pending.id.to_string(), &pending.contact.email, ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("承認された会員だけが申し込めます"),
        "{}",
        message(&r.body)
    );
    assert_eq!(participants(&app, code).await.len(), before);

    // The approved member applies (the address in any case, the number full-width).
    let upper = member.contact.email.to_uppercase();
    let wide: String = id
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
        .collect();
    let note = "社員10名で参加します <b>よろしく</b>";
    let ok = v
        .post_form(&apply, &apply_fields(&wide, &upper, note))
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), format!("/partners/sdgs-menu/{code}/thanks"));
    let thanks = v.get(ok.location()).await;
    assert_eq!(thanks.status, StatusCode::OK);
    assert!(thanks.body.contains("申込を受け付けました"));
    let stored = app.store.participations(Some(code)).await.unwrap();
    let p = stored
        .iter()
        .find(|p| p.member_id == member.id)
        .expect("the application is stored");
    assert_eq!(p.status, ParticipationStatus::Applied, "awaits the desk");
    assert_eq!(p.note, "社員10名で参加します <b>よろしく</b>");
    let audit = app.store.audit_entries(20, 0).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "apply"
        && e.actor == "public"
        && e.entity == "partner_participation"
        && e.key == p.id.to_string()));

    // Twice: refused by field, nothing more stored.
    let again = v
        .post_form(&apply, &apply_fields(&id, &member.contact.email, ""))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("すでに申し込まれています"));
    assert_eq!(participants(&app, code).await.len(), before + 1);

    // The staff menu page shows the application, escaped.
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let staff = desk.get("/partners/menu").await.body;
    assert!(staff.contains(&format!("id=\"participation-{}\"", p.id)));
    assert!(staff.contains("&lt;b&gt;よろしく&lt;/b&gt;"));
    assert!(!staff.contains("<b>よろしく</b>"));
    assert!(staff.contains("href=\"/partners/sdgs-menu\""));

    // Without the token, or from another site: refused, nothing stored.
    let r = app
        .client()
        .post_raw_form(&apply, &apply_fields(&id, &member.contact.email, ""))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut fields = apply_fields(&id, &member.contact.email, "");
    fields.push(("csrf", v.csrf.as_str()));
    let foreign = v
        .send(
            v.request(Method::POST, &apply)
                .header("origin", "http://evil.example")
                .form(&fields),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);

    // The honeypot: thanked, nothing stored.
    let (other_item, other) = open_item_and_member(&app).await;
    let other_apply = format!("/partners/sdgs-menu/{}/apply", other_item.code);
    let other_id = other.id.to_string();
    let mut bot = apply_fields(&other_id, &other.contact.email, "");
    bot.retain(|(k, _)| *k != "fax_number");
    bot.push(("fax_number", "0612345678"));
    let before_other = participants(&app, &other_item.code).await.len();
    let r = v.post_form(&other_apply, &bot).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        participants(&app, &other_item.code).await.len(),
        before_other
    );

    // Unknown and closed items are not found, to read or to apply to.
    assert_eq!(
        anon.get("/partners/sdgs-menu/NO-SUCH-ITEM").await.status,
        StatusCode::NOT_FOUND
    );
    if let Some(closed) = items.iter().find(|i| !i.open) {
        assert_eq!(
            anon.get(&format!("/partners/sdgs-menu/{}", closed.code))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let r = v
            .post_form(
                &format!("/partners/sdgs-menu/{}/apply", closed.code),
                &apply_fields(&id, &member.contact.email, ""),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }

    // The rate limit per address: 429 with Retry-After, nothing stored.
    let mut last = StatusCode::OK;
    for _ in 0..25 {
        let r = v
            .post_form(&other_apply, &apply_fields("1", "nobody@example.jp", ""))
            .await;
        last = r.status;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers.get("retry-after").is_some());
            assert!(r.body.contains("送信が多すぎます"));
            break;
        }
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let r = v
        .post_form(
            &other_apply,
            &apply_fields(&other_id, &other.contact.email, ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        participants(&app, &other_item.code).await.len(),
        before_other
    );

    // The JSON list: open items, published KPIs by name.
    let json: serde_json::Value = anon
        .get("/api/v1/partners/sdgs-menu")
        .await
        .body
        .parse()
        .unwrap();
    let listed = json["items"].as_array().unwrap();
    assert_eq!(listed.len(), items.iter().filter(|i| i.open).count());
    let mine = listed.iter().find(|i| i["code"] == code).unwrap();
    if let Some(k) = published {
        assert!(
            mine["kpis"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["name_ja"] == k.name_ja.as_str())
        );
    }
}
both!(self_application, public_menu_and_self_application);

fn item_fields<'a>(code: &'a str, title: &'a str, kpis: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("code", code),
        ("title", title),
        ("kind", "volunteer"),
        ("description", "市内の公園を月1回清掃します"),
        ("kpi_codes", kpis),
        ("sdg_goals", "11"),
        ("sdg_goals", "15"),
        ("open", "1"),
    ]
}

async fn staff_items_and_results(backend: Backend) {
    let app = spawn(backend).await;
    let kpis = app.store.kpis().await.unwrap();
    let kpi = kpis
        .iter()
        .find(|k| k.published)
        .expect("a published KPI")
        .clone();
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let editor = app
        .login(&app.user_with(Role::DepartmentEditor).await.login)
        .await;
    let anon = app.client();

    // Who may open the forms.
    assert_eq!(
        desk.get("/partners/menu-items/new").await.status,
        StatusCode::OK
    );
    for c in [&viewer, &editor] {
        assert_eq!(
            c.get("/partners/menu-items/new").await.status,
            StatusCode::FORBIDDEN
        );
        let r = c
            .post_form(
                "/partners/menu-items",
                &item_fields("M-NEW", "新メニュー", &kpi.code),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let r = anon.get("/partners/menu-items/new").await;
    assert_ne!(r.status, StatusCode::OK);
    assert!(r.location().contains("/login"), "{}", r.location());
    assert!(app.store.menu_item("M-NEW").await.unwrap().is_none());

    // Bad fields, each named; unknown KPIs; a code already used.
    let r = desk
        .post_form(
            "/partners/menu-items",
            &[
                ("code", ""),
                ("title", ""),
                ("kind", "x"),
                ("kpi_codes", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["code", "title", "kind", "kpi_codes"] {
        assert!(r.body.contains(&format!("href=\"#{f}\"")), "{f}");
    }
    assert!(r.body.contains("寄与するKPIを1つ以上指定してください"));
    let r = desk
        .post_form(
            "/partners/menu-items",
            &item_fields("M-NEW", "新メニュー", "NO-SUCH-KPI"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("登録されていないKPIです: NO-SUCH-KPI"));
    let existing = app.store.menu_items().await.unwrap()[0].code.clone();
    let r = desk
        .post_form(
            "/partners/menu-items",
            &item_fields(&existing, "上書き", &kpi.code),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("すでに使われています"));
    assert_ne!(
        app.store.menu_item(&existing).await.unwrap().unwrap().title,
        "上書き"
    );

    // Created, with a title that is escaped wherever it is shown.
    let title = "<i>公園清掃</i>";
    let r = desk
        .post_form(
            "/partners/menu-items",
            &item_fields("M-NEW", title, &kpi.code),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/partners/menu-items/M-NEW?saved=1");
    let stored = app.store.menu_item("M-NEW").await.unwrap().unwrap();
    assert!(stored.open && stored.kpi_codes == vec![kpi.code.clone()]);
    let public = anon.get("/partners/sdgs-menu").await.body;
    assert!(public.contains("id=\"menu-M-NEW\""));
    assert!(public.contains("&lt;i&gt;公園清掃&lt;/i&gt;") && !public.contains(title));
    assert!(public.contains(&kpi.name_ja));
    let page = viewer.get("/partners/menu-items/M-NEW").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(title));
    assert!(!page.body.contains("action=\"/partners/menu-items/M-NEW\""));

    // Edited: the code in the address wins; bad fields by name.
    let r = desk
        .post_form(
            "/partners/menu-items/M-NEW",
            &[("title", ""), ("kind", "sponsor"), ("kpi_codes", &kpi.code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("href=\"#title\""));
    let r = desk
        .post_form(
            "/partners/menu-items/M-NEW",
            &item_fields("OTHER", "公園清掃（改）", &kpi.code),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.menu_item("M-NEW").await.unwrap().unwrap().title,
        "公園清掃(改)" // stored NFKC-normalised
    );
    assert!(app.store.menu_item("OTHER").await.unwrap().is_none());
    assert_eq!(
        desk.post_form(
            "/partners/menu-items/NO-SUCH",
            &item_fields("NO-SUCH", "x", &kpi.code)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // A member applies through the public form; the desk accepts on the menu page.
    let member = members_with(&app, MemberStatus::Approved)
        .await
        .into_iter()
        .next()
        .unwrap();
    let v = visitor(&app, "/partners/sdgs-menu/M-NEW").await;
    let r = v
        .post_form(
            "/partners/sdgs-menu/M-NEW/apply",
            &apply_fields(&member.id.to_string(), &member.contact.email, "参加します"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let p = app.store.participations(Some("M-NEW")).await.unwrap()[0].clone();

    // Results only once accepted; then dated and checked by field.
    let results = format!("/partners/participations/{}/results", p.id);
    let r = desk
        .post_form(
            &results,
            &[("on", "2025-07-10"), ("body", "清掃に10名参加")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("成果は受入または完了の参加にだけ記録できます")
    );
    let r = desk
        .post_form(
            &format!("/partners/participations/{}", p.id),
            &[("status", "accepted"), ("result", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = desk
        .post_form(&results, &[("on", "2026-02-30"), ("body", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("日付は 2025-06-30 の形で入力してください"));
    assert!(r.body.contains("入力してください"));
    assert!(r.body.contains(&format!("href=\"#on-{}\"", p.id)));
    assert!(r.body.contains(&format!("href=\"#body-{}\"", p.id)));
    let r = desk
        .post_form(&results, &[("on", "2999-01-01"), ("body", "未来")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("より後の日付は記録できません"));
    for c in [&viewer, &editor] {
        let r = c
            .post_form(&results, &[("on", "2025-07-10"), ("body", "x")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let r = desk
        .post_form(
            &results,
            &[
                ("on", "2025/7/10"),
                ("body", "清掃に10名参加 <script>x</script>"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        format!("/partners/menu-items/M-NEW?saved=1#participation-{}", p.id)
    );
    assert_eq!(
        desk.post_form(
            "/partners/participations/999999/results",
            &[("on", "2025-07-10"), ("body", "x")]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let page = viewer.get("/partners/menu-items/M-NEW").await.body;
    assert!(page.contains("2025-07-10"));
    assert!(page.contains("清掃に10名参加 &lt;script&gt;x&lt;/script&gt;"));
    assert!(page.contains(&member.org.name));
    let saved = app
        .store
        .participation_results(Some("M-NEW"))
        .await
        .unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].on.to_string(), "2025-07-10");

    // Closed: gone from the public page and its form; a bad value is refused.
    let r = desk
        .post_form("/partners/menu-items/M-NEW/open", &[("open", "maybe")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = viewer
        .post_form("/partners/menu-items/M-NEW/open", &[("open", "0")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = desk
        .post_form("/partners/menu-items/M-NEW/open", &[("open", "0")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!app.store.menu_item("M-NEW").await.unwrap().unwrap().open);
    assert!(
        !anon
            .get("/partners/sdgs-menu")
            .await
            .body
            .contains("id=\"menu-M-NEW\"")
    );
    assert_eq!(
        anon.get("/partners/sdgs-menu/M-NEW").await.status,
        StatusCode::NOT_FOUND
    );
    // Reopened by the administrator.
    let admin = app.login(&app.user_with(Role::Admin).await.login).await;
    let r = admin
        .post_form("/partners/menu-items/M-NEW/open", &[("open", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        anon.get("/partners/sdgs-menu/M-NEW").await.status,
        StatusCode::OK
    );

    // Every change is in the audit log.
    let audit = app.store.audit_entries(50, 0).await.unwrap();
    for action in ["insert", "update"] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.entity == "partner_menu_item" && e.key == "M-NEW"),
            "{action}"
        );
    }
    assert!(
        audit
            .iter()
            .any(|e| e.action == "add_result" && e.key == p.id.to_string())
    );
}
both!(staff_items, staff_items_and_results);

/// In headless Chromium: a member applies through the public form, the desk
/// accepts on the menu page, the participation shows as accepted and a
/// dated result is recorded on the item's page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_applies_and_desk_accepts_in_chromium() {
    use common::browser::{self as chrome, Chromium, choose, expect_contains, fill, goto, html};
    let app = spawn(Backend::Sqlite).await;
    let (item, member) = open_item_and_member(&app).await;
    let desk = app.user_with(Role::StrategyOffice).await.login;
    let base = app.base.clone();
    let store = app.store.clone();
    let handle = tokio::runtime::Handle::current();
    let code = item.code.clone();
    tokio::task::spawn_blocking(move || {
        let chromium = Chromium::start();
        let tab = chromium.tab();

        // The member finds the item on the public page and applies.
        goto(&tab, &format!("{base}/partners/sdgs-menu"));
        chrome::check(&tab, &format!("a[href='/partners/sdgs-menu/{code}']"));
        tab.wait_until_navigated().unwrap();
        fill(&tab, "#member_id", &member.id.to_string());
        fill(&tab, "#email", &member.contact.email);
        fill(&tab, "#note", "ブラウザから申し込みます");
        chrome::screenshot(&tab, "sdgs-menu-apply");
        chrome::submit(
            &tab,
            &format!("form[action='/partners/sdgs-menu/{code}/apply']"),
            |url| url.ends_with(&format!("/partners/sdgs-menu/{code}/thanks")),
        );
        expect_contains(&tab, "申込を受け付けました", "sdgs-menu-thanks");

        let p = handle
            .block_on(store.participations(Some(&code)))
            .unwrap()
            .into_iter()
            .find(|p| p.member_id == member.id)
            .expect("the application is stored");
        assert_eq!(p.status, ParticipationStatus::Applied);

        // The desk accepts it on the menu page.
        chrome::login(&tab, &base, &desk);
        goto(&tab, &format!("{base}/partners/menu"));
        expect_contains(&tab, "ブラウザから申し込みます", "sdgs-menu-staff");
        choose(&tab, &format!("#status-{}", p.id), "accepted");
        chrome::submit(
            &tab,
            &format!("form[action='/partners/participations/{}']", p.id),
            |url| url.contains("/partners/menu?saved=1"),
        );
        let accepted = handle.block_on(store.participation(p.id)).unwrap().unwrap();
        assert_eq!(accepted.status, ParticipationStatus::Accepted);

        // The participation shows as accepted on the item's page, with a result.
        goto(&tab, &format!("{base}/partners/menu-items/{code}"));
        let page = expect_contains(&tab, &member.org.name, "sdgs-menu-item");
        assert!(page.contains("受入"), "shown as accepted");
        choose(&tab, &format!("#on-{}", p.id), "2025-07-11");
        fill(&tab, &format!("#body-{}", p.id), "清掃活動に12名が参加");
        chrome::submit(
            &tab,
            &format!("form[action='/partners/participations/{}/results']", p.id),
            |url| url.contains(&format!("/partners/menu-items/{code}?saved=1")),
        );
        let page = html(&tab);
        assert!(page.contains("清掃活動に12名が参加") && page.contains("2025-07-11"));
        chrome::screenshot(&tab, "sdgs-menu-item");
    })
    .await
    .unwrap();
}
