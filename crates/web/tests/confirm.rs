//! Actuals reach the public only once confirmed (確認済), and two people
//! saving the same actual cannot silently overwrite each other. Real server,
//! real SQLite file and real PostgreSQL database, over HTTP.

mod common;

use citykpi_domain::org::Role;
use citykpi_store::Backend;
use common::{App, Client, spawn};
use reqwest::StatusCode;

/// The value of the hidden input `name` in a page.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let i = html.find(&marker)? + marker.len();
    let rest = &html[i..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The department of a demo user.
async fn dept_of(app: &App, login: &str) -> String {
    let u = app.store.user(login).await.unwrap().expect(login);
    app.department_of(&u.section_code).await
}

/// A published KPI owned by `dept`.
async fn published_kpi_of(app: &App, dept: &str) -> String {
    let sections = app.store.sections().await.unwrap();
    app.store
        .kpis()
        .await
        .unwrap()
        .into_iter()
        .find(|k| {
            k.published
                && k.owner_sections.iter().any(|s| {
                    sections
                        .iter()
                        .any(|x| &x.code == s && x.department_code == dept)
                })
        })
        .expect("a published KPI of the department")
        .code
}

/// An approver of a department other than `dept`.
async fn approver_elsewhere(app: &App, dept: &str) -> String {
    for login in app.store.approvers().await.unwrap() {
        if dept_of(app, &login).await != dept {
            return login;
        }
    }
    panic!("the demo has an approver per department")
}

/// Enters one actual through the form, as a browser does (with the versions
/// the form carries).
async fn enter(c: &Client, kpi: &str, period: &str, value: &str, note: &str) -> common::Resp {
    let form = c.get(&format!("/kpis/{kpi}/actuals")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let versions = hidden(&form.body, "versions").expect("the form carries versions");
    c.post_form(
        &format!("/kpis/{kpi}/actuals"),
        &[
            ("versions", &versions),
            ("period", period),
            ("value", value),
            ("note", note),
        ],
    )
    .await
}

/// The `items` value of the confirm button of `period` on the actuals page.
fn confirm_items(page: &str, period: &str) -> Option<String> {
    let marker = format!("name=\"items\" value=\"{period}:");
    let i = page.find(&marker)? + "name=\"items\" value=\"".len();
    let rest = &page[i..];
    Some(rest[..rest.find('"')?].to_string())
}

async fn public_texts(app: &App, kpi: &str, fy: &str) -> (String, String, String) {
    let anon = app.client();
    let page = anon.get(&format!("/public/kpis/{kpi}?fy={fy}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let api = anon.get(&format!("/api/v1/public/plans?fy={fy}")).await;
    assert_eq!(api.status, StatusCode::OK);
    let (status, _, csv) = anon
        .get_bytes(&format!("/public/open-data/{fy}/kpis.csv"))
        .await;
    assert_eq!(status, StatusCode::OK);
    (
        page.body,
        api.body,
        String::from_utf8_lossy(&csv).to_string(),
    )
}

/// The actual of `kpi` in the public API's status.
fn public_actual(api: &str, kpi: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(api).unwrap();
    v["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == kpi)
        .and_then(|r| r["actual"].as_f64())
}

/// The open-data CSV line of `kpi`.
fn csv_line<'a>(csv: &'a str, kpi: &str) -> &'a str {
    csv.lines()
        .find(|l| l.contains(&format!(",{kpi},")))
        .unwrap_or("")
}

async fn unconfirmed_values_stay_internal_until_confirmed(backend: Backend) {
    let app = spawn(backend).await;
    let approver = app
        .store
        .approvers()
        .await
        .unwrap()
        .into_iter()
        .find(|l| l == "approver-kenko")
        .expect("the demo's health department has an approver");
    let dept = dept_of(&app, &approver).await;
    let editor_login = "editor-kenko";
    assert_eq!(dept_of(&app, editor_login).await, dept);
    let kpi = published_kpi_of(&app, &dept).await;
    let fy = citykpi_app::clock::last_closed_fiscal_year()
        .year()
        .to_string();
    let note = "未確認メモ・速報前の検算中";

    // A department editor enters a value with a note.
    let editor = app.login(editor_login).await;
    let r = enter(&editor, &kpi, &fy, "98765.4", note).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Not on the public page, the public API or the open data.
    let (page, api, csv) = public_texts(&app, &kpi, &fy).await;
    assert!(!page.contains(note), "note on the public page");
    assert!(!page.contains("98,765.4") && !page.contains("98765.4"));
    assert_ne!(public_actual(&api, &kpi), Some(98765.4));
    assert!(!api.contains("98765.4"));
    assert!(
        !csv_line(&csv, &kpi).contains("98765.4"),
        "{}",
        csv_line(&csv, &kpi)
    );

    // Staff see it, marked unconfirmed.
    let internal = editor.get(&format!("/kpis/{kpi}?fy={fy}")).await;
    assert!(internal.body.contains(note));
    assert!(internal.body.contains("98,765.4"));
    assert!(internal.body.contains("未確認"));
    let api_internal = editor
        .get(&format!("/api/v1/kpis/{kpi}/observations"))
        .await;
    assert!(api_internal.body.contains(note));

    // The editor has no confirm button and may not confirm (not an approver).
    let actuals = editor.get(&format!("/kpis/{kpi}/actuals")).await;
    assert!(confirm_items(&actuals.body, &fy).is_none());
    let approver_client = app.login(&approver).await;
    let owner_page = approver_client.get(&format!("/kpis/{kpi}/actuals")).await;
    let items = confirm_items(&owner_page.body, &fy).expect("the owner's approver sees the button");
    let r = editor
        .post_form(
            &format!("/kpis/{kpi}/actuals/confirm"),
            &[("items", &items)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("確認する権限がありません"), "{}", r.body);
    // Nor may another department's approver.
    let other = app.login(&approver_elsewhere(&app, &dept).await).await;
    let r = other
        .post_form(
            &format!("/kpis/{kpi}/actuals/confirm"),
            &[("items", &items)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (page, _, _) = public_texts(&app, &kpi, &fy).await;
    assert!(!page.contains(note), "still not public after refusals");

    // The owner's approver finds it in the list awaiting confirmation and confirms it.
    let list = approver_client.get("/kpis/confirm").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(note), "listed as awaiting");
    let r = approver_client
        .post_form(
            &format!("/kpis/{kpi}/actuals/confirm"),
            &[("items", &items)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (page, api, csv) = public_texts(&app, &kpi, &fy).await;
    assert!(page.contains(note), "public once confirmed");
    assert!(page.contains("98,765.4"));
    assert_eq!(public_actual(&api, &kpi), Some(98765.4));
    assert!(
        csv_line(&csv, &kpi).contains("98765.4"),
        "{}",
        csv_line(&csv, &kpi)
    );
    let audit = app.store.audit_entries(5, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "confirm" && e.actor == approver),
        "the confirmation is audited"
    );
    // Confirming the same version again is stale now: 409, naming the value.
    let r = approver_client
        .post_form(
            &format!("/kpis/{kpi}/actuals/confirm"),
            &[("items", &items)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains(&kpi), "{}", r.body);

    // Changing it makes it unconfirmed again: the new value and note stay internal.
    let note2 = "再入力した値・確認待ち";
    let r = enter(&editor, &kpi, &fy, "12121.2", note2).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (page, api, _) = public_texts(&app, &kpi, &fy).await;
    assert!(!page.contains(note2));
    assert!(!page.contains("12,121.2"));
    assert_ne!(public_actual(&api, &kpi), Some(12121.2));
    let internal = editor.get(&format!("/kpis/{kpi}?fy={fy}")).await;
    assert!(internal.body.contains(note2));
    assert!(internal.body.contains("未確認"));

    // The strategy office confirms it (several at once through the list).
    let strategy = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let list = strategy.get("/kpis/confirm").await;
    assert!(list.body.contains(note2));
    let item = {
        let marker = format!("value=\"{kpi}|{fy}|");
        let i = list.body.find(&marker).expect("listed") + "value=\"".len();
        let rest = &list.body[i..];
        rest[..rest.find('"').unwrap()].to_string()
    };
    let r = strategy
        .post_form("/kpis/confirm", &[("item", &item)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (page, api, _) = public_texts(&app, &kpi, &fy).await;
    assert!(page.contains(note2));
    assert_eq!(public_actual(&api, &kpi), Some(12121.2));
}
both!(
    unconfirmed_values_stay_internal,
    unconfirmed_values_stay_internal_until_confirmed
);

async fn nobody_confirms_their_own_entry(backend: Backend) {
    let app = spawn(backend).await;
    let strategy_login = app.user_with(Role::StrategyOffice).await.login;
    let kpi = app
        .store
        .kpis()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.published)
        .unwrap()
        .code;
    let fy = citykpi_app::clock::last_closed_fiscal_year()
        .year()
        .to_string();
    let strategy = app.login(&strategy_login).await;
    let r = enter(&strategy, &kpi, &fy, "4321", "自分で入れた値").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = strategy.get(&format!("/kpis/{kpi}/actuals")).await;
    assert!(
        confirm_items(&page.body, &fy).is_none(),
        "no button for one's own entry"
    );
    let (_, version) = app
        .store
        .observation_with_version(
            &kpi,
            citykpi_domain::observation::Period::parse(&fy).unwrap(),
            &citykpi_app::status::city_code(&app.store)
                .await
                .unwrap()
                .unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let r = strategy
        .post_form(
            &format!("/kpis/{kpi}/actuals/confirm"),
            &[("items", &format!("{fy}:{version}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("ご自身が入力"), "{}", r.body);
    // The API says the same.
    let r = strategy
        .send(
            strategy
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v1/kpis/{kpi}/observations/confirm"),
                )
                .header("x-csrf-token", &strategy.csrf)
                .json(&serde_json::json!({ "period": fy, "version": version })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Someone else of the strategy office may.
    let admin = app.login("admin").await;
    let r = admin
        .send(
            admin
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v1/kpis/{kpi}/observations/confirm"),
                )
                .header("x-csrf-token", &admin.csrf)
                .json(&serde_json::json!([{ "period": fy, "version": version }])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (page, _, _) = public_texts(&app, &kpi, &fy).await;
    assert!(page.contains("自分で入れた値"));
}
both!(own_entry, nobody_confirms_their_own_entry);

async fn second_of_two_stale_saves_is_refused(backend: Backend) {
    let app = spawn(backend).await;
    let editor_login = "editor-kenko";
    let dept = dept_of(&app, editor_login).await;
    let kpi = published_kpi_of(&app, &dept).await;
    let fy = citykpi_app::clock::last_closed_fiscal_year()
        .year()
        .to_string();
    let first = app.login(editor_login).await;
    let second = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    // Both load the form.
    let path = format!("/kpis/{kpi}/actuals");
    let v1 = hidden(&first.get(&path).await.body, "versions").unwrap();
    let v2 = hidden(&second.get(&path).await.body, "versions").unwrap();
    assert_eq!(v1, v2);
    // Both post.
    let r = first
        .post_form(
            &path,
            &[("versions", &v1), ("period", &fy), ("value", "111")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = second
        .post_form(
            &path,
            &[
                ("versions", &v2),
                ("period", &fy),
                ("value", "222"),
                ("note", "後から"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body.contains("他の人が先に更新しました") && r.body.contains(&kpi),
        "a message naming the record: {}",
        r.body
    );
    assert!(r.body.contains("value=\"222\""), "the input is kept");
    // The first value stays.
    let stored = app
        .store
        .observations(&citykpi_store::ObservationFilter::all().kpis([kpi.clone()]))
        .await
        .unwrap();
    let fy_period = citykpi_domain::observation::Period::parse(&fy).unwrap();
    let city = citykpi_app::status::city_code(&app.store)
        .await
        .unwrap()
        .unwrap();
    let now = stored
        .iter()
        .find(|o| o.period == fy_period && o.area_code == city)
        .unwrap();
    assert_eq!(now.value.value(), Some(111.0));
    // The refused page carries the versions stored now: saving again is a
    // deliberate overwrite, and it goes through.
    let v3 = hidden(&r.body, "versions").unwrap();
    assert_ne!(v3, v2);
    let r = second
        .post_form(
            &path,
            &[("versions", &v3), ("period", &fy), ("value", "222")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // A paste from Excel is checked the same way, and refused whole.
    let stale = hidden(&first.get(&path).await.body, "versions").unwrap();
    let r = second
        .post_form(
            &path,
            &[("versions", &stale), ("period", &fy), ("value", "333")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let older = format!("{fy}Q1");
    let bulk = format!("{older}\t5\n{fy}\t444\n");
    let r = first
        .post_form(
            &format!("{path}/bulk"),
            &[("versions", &stale), ("bulk", &bulk)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let stored = app
        .store
        .observations(&citykpi_store::ObservationFilter::all().kpis([kpi.clone()]))
        .await
        .unwrap();
    assert!(
        !stored.iter().any(|o| o.period.to_string() == older),
        "nothing of the refused paste was written"
    );
    // A form without versions is refused, not saved unchecked.
    let r = first
        .post_form(&path, &[("period", &fy), ("value", "555")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // The API: a stale version answers 409, none is unchecked.
    let api = |c: &Client, body: serde_json::Value| {
        c.request(
            reqwest::Method::POST,
            &format!("/api/v1/kpis/{kpi}/observations"),
        )
        .header("x-csrf-token", &c.csrf)
        .json(&body)
    };
    let r = first
        .send(api(
            &first,
            serde_json::json!({ "period": fy, "value": "666", "version": 1 }),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}
both!(stale_actual_saves, second_of_two_stale_saves_is_refused);

async fn admin_marks_approvers(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let page = admin.get("/admin/users").await;
    assert!(page.body.contains("承認者から外す"), "demo approvers shown");
    let editor = "editor-kenko";
    assert!(!app.store.is_approver(editor).await.unwrap());
    let r = admin
        .post_form(
            &format!("/admin/users/{editor}/approver"),
            &[("approver", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(app.store.is_approver(editor).await.unwrap());
    // Only the administrator.
    let other = app.login(editor).await;
    let r = other
        .post_form(
            &format!("/admin/users/{editor}/approver"),
            &[("approver", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.store.is_approver(editor).await.unwrap());
}
both!(approver_marks, admin_marks_approvers);
