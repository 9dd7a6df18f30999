//! HTTP tests of the registry part of the partnerships area
//! against the running server on both databases with the demo city: the
//! desk's forms for demonstrations (create, edit, stage, dated results) and
//! PR plans (create, edit, reach per channel), the NGSI-LD form of a
//! demonstration (paste and upload, a malformed document refused with its
//! entity and attribute named and nothing written), the administrator's
//! LINE channel secret page (never shown back, audited, used by the
//! webhook), and the exports of the SDGs menu, teams, demonstrations and PR
//! plans opened with calamine and checked against the database.

mod common;

use citykpi_domain::org::Role;
use citykpi_domain::partner::member::MemberStatus;
use citykpi_domain::partner::projects::{DemoStage, PrChannel};
use citykpi_store::{Backend, MemberFilter};
use common::{App, Client, spawn};
use reqwest::{Method, StatusCode};

async fn members_with(app: &App, status: MemberStatus) -> Vec<i64> {
    app.store
        .members(&MemberFilter {
            status: Some(status),
            q: String::new(),
            page: 1,
            per_page: 10,
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.id)
        .collect()
}

fn assert_fields(body: &str, fields: &[&str]) {
    for f in fields {
        assert!(
            body.contains(&format!("href=\"#{f}\"")),
            "{f} missing in the error summary:\n{}",
            &body[..body.len().min(4000)]
        );
    }
}

async fn audit_has(app: &App, action: &str, entity: &str, key: &str, actor: &str) -> bool {
    app.store
        .audit_entries(500, 0)
        .await
        .unwrap()
        .iter()
        .any(|e| e.action == action && e.entity == entity && e.key == key && e.actor == actor)
}

/// Clients of the roles that are not the desk.
async fn others(app: &App) -> Vec<(Role, Client)> {
    let mut v = Vec::new();
    for role in [Role::Viewer, Role::DepartmentEditor, Role::Finance] {
        v.push((role, app.login(&app.user_with(role).await.login).await));
    }
    v
}

async fn demonstration_forms(backend: Backend) {
    let app = spawn(backend).await;
    let desk_user = app.user_with(Role::StrategyOffice).await;
    let desk = app.login(&desk_user.login).await;
    let kpis = app.store.kpis().await.unwrap();
    let (k1, k2) = (kpis[0].code.clone(), kpis[1].code.clone());
    let approved = members_with(&app, MemberStatus::Approved).await;
    let pending = members_with(&app, MemberStatus::Pending).await;
    assert!(approved.len() >= 2, "the demo has approved members");
    let before = app.store.demonstrations().await.unwrap().len();

    // The form lists the approved members, not the pending ones.
    let form = desk.get("/partners/demonstrations/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"csrf\""));
    // They are checkboxes in a scrolling box with a search box that
    // narrows them (app.js), not a multiple select of 1,300 options.
    let partner = |id: i64| format!(r#"name="partner_ids" value="{id}""#);
    assert!(form.body.contains(&partner(approved[0])));
    assert!(form.body.contains(r#"data-filter-for="partner_ids-list""#));
    assert!(
        form.body
            .contains(r#"class="scroll-box" id="partner_ids-list""#)
    );
    if let Some(p) = pending.first() {
        assert!(!form.body.contains(&partner(*p)));
    }

    // Every bad field named (Japanese; English with ?lang=en), nothing written.
    let bad = desk
        .post_form(
            "/partners/demonstrations/new",
            &[
                ("code", "bad code!"),
                ("title", ""),
                ("field", "space"),
                ("area", ""),
                ("start", "2026-13-01"),
                ("end", ""),
                ("partner_ids", "x"),
                ("kpi_codes", k1.as_str()),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_fields(
        &bad.body,
        &[
            "code",
            "title",
            "field",
            "area",
            "start",
            "end",
            "partner_ids",
        ],
    );
    assert!(bad.body.contains("開始日（YYYY-MM-DD）を入力してください"));
    // (English in a second session: ?lang= is kept in a cookie.)
    let en = app
        .login(&desk_user.login)
        .await
        .post_form("/partners/demonstrations/new?lang=en", &[("title", "")])
        .await;
    assert!(en.body.contains("is required"), "English messages");
    // References: unknown KPI, a member not approved, an unknown member.
    let title = "<script>alert(1)</script>自動運転バス";
    let mut good: Vec<(&str, String)> = vec![
        ("code", "DX-TEST".into()),
        ("title", title.into()),
        ("field", "mobility".into()),
        ("area", "臨海地区".into()),
        ("start", "2026-04-01".into()),
        ("end", "2027-03-31".into()),
        ("kpi_codes", "NO_SUCH_KPI".into()),
        ("results", "".into()),
    ];
    let refs = |g: &Vec<(&'static str, String)>, extra: Vec<(&'static str, String)>| {
        let mut all = g.clone();
        all.extend(extra);
        all
    };
    let as_refs = |v: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { v.clone() };
    let post = |fields: Vec<(&'static str, String)>| {
        let desk = &desk;
        async move {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            desk.post_form("/partners/demonstrations/new", &f).await
        }
    };
    let r = post(as_refs(&good)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fields(&r.body, &["kpi_codes"]);
    assert!(
        r.body.contains("KPI「NO_SUCH_KPI」は登録されていません"),
        "{}",
        r.body
    );
    good[6].1 = format!("{k1}, {k2}");
    let mut not_partners = vec![("partner_ids", "99999999".to_string())];
    if let Some(p) = pending.first() {
        not_partners.push(("partner_ids", p.to_string()));
    }
    let r = post(refs(&good, not_partners)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fields(&r.body, &["partner_ids"]);
    assert!(r.body.contains("会員 99999999 は登録されていません"));
    if !pending.is_empty() {
        assert!(r.body.contains("は承認された会員ではありません"));
    }
    assert_eq!(app.store.demonstrations().await.unwrap().len(), before);

    // Without the CSRF token: refused, nothing written.
    let f: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = desk.post_raw_form("/partners/demonstrations/new", &f).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.store.demonstration("DX-TEST").await.unwrap().is_none());

    // The good form: stored at 構想 with its partners and KPIs, audited.
    let partners = vec![
        ("partner_ids", approved[0].to_string()),
        ("partner_ids", approved[1].to_string()),
    ];
    let r = post(refs(&good, partners.clone())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/partners/demonstrations/DX-TEST?saved=1");
    let d = app.store.demonstration("DX-TEST").await.unwrap().unwrap();
    assert_eq!(d.stage, DemoStage::Concept);
    assert_eq!(d.title, title);
    assert_eq!(d.partner_ids, vec![approved[0], approved[1]]);
    assert_eq!(d.kpi_codes, vec![k1.clone(), k2.clone()]);
    // The edit form has them ticked and at the top of the list.
    let edit = desk.get("/partners/demonstrations/DX-TEST/edit").await.body;
    let ticked = format!(r#"value="{}" checked"#, approved[1]);
    assert!(edit.contains(&ticked), "chosen partner ticked");
    if let Some(other) = approved.get(2) {
        let unticked = format!(r#"name="partner_ids" value="{other}""#);
        let (a, b) = (edit.find(&ticked), edit.find(&unticked));
        assert!(a.is_some() && b.is_some() && a < b, "ticked ones first");
    }
    assert!(
        audit_has(
            &app,
            "insert",
            "partner_demonstration",
            "DX-TEST",
            &desk_user.login
        )
        .await
    );
    // The code is taken now.
    let r = post(refs(&good, partners.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("このコードはすでに使われています"));

    // The page: escaped, partners, KPIs with their recent actuals, the forms.
    let page = desk.get("/partners/demonstrations/DX-TEST").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;自動運転バス")
    );
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(page.body.contains(&format!("href=\"/kpis/{k1}\"")));
    let latest = app
        .store
        .observations(&citykpi_store::ObservationFilter {
            kpi_codes: vec![k1.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .max_by_key(|o| o.period);
    if let Some(o) = latest {
        assert!(
            page.body.contains(&format!("<td>{}</td>", o.period)),
            "the newest actual of {k1} ({}) on the page",
            o.period
        );
    }
    assert!(page.body.contains("/partners/demonstrations/DX-TEST/stage"));
    assert!(
        page.body
            .contains("action=\"/partners/demonstrations/DX-TEST/ngsi\"")
    );
    // The list links to it.
    let list = desk.get("/partners/demonstrations").await;
    assert!(
        list.body
            .contains("href=\"/partners/demonstrations/DX-TEST\"")
    );
    assert!(list.body.contains("href=\"/partners/demonstrations/new\""));

    // Edit: the stage and the code stay; audited with the record before.
    let mut edited = good.clone();
    edited[3].1 = "中央地区".into();
    edited[0].1 = "OTHER-CODE".into();
    edited.push(("results", "乗車 1,200人".into()));
    let f: Vec<(&str, &str)> = edited.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = desk
        .post_form("/partners/demonstrations/DX-TEST/edit", &f)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let d = app.store.demonstration("DX-TEST").await.unwrap().unwrap();
    assert_eq!(d.area, "中央地区");
    assert_eq!(d.stage, DemoStage::Concept);
    assert!(d.partner_ids.is_empty(), "no partner chosen in the edit");
    assert!(
        app.store
            .demonstration("OTHER-CODE")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        audit_has(
            &app,
            "update",
            "partner_demonstration",
            "DX-TEST",
            &desk_user.login
        )
        .await
    );
    let r = desk
        .post_form(
            "/partners/demonstrations/DX-TEST/edit",
            &[("title", ""), ("field", "mobility")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.store
            .demonstration("DX-TEST")
            .await
            .unwrap()
            .unwrap()
            .area,
        "中央地区",
        "nothing written"
    );
    assert_eq!(
        desk.get("/partners/demonstrations/NOPE/edit").await.status,
        StatusCode::NOT_FOUND
    );

    // Stage: only allowed moves.
    let r = desk
        .post_form(
            "/partners/demonstrations/DX-TEST/stage",
            &[("stage", "implemented")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("構想から実装には進められません"));
    let r = desk
        .post_form("/partners/demonstrations/DX-TEST/stage", &[("stage", "x")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fields(&r.body, &["stage"]);
    let r = desk
        .post_form(
            "/partners/demonstrations/DX-TEST/stage",
            &[("stage", "trial")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store
            .demonstration("DX-TEST")
            .await
            .unwrap()
            .unwrap()
            .stage,
        DemoStage::Trial
    );
    assert!(
        audit_has(
            &app,
            "stage",
            "partner_demonstration",
            "DX-TEST",
            &desk_user.login
        )
        .await
    );

    // Dated results.
    let r = desk
        .post_form(
            "/partners/demonstrations/DX-TEST/results",
            &[("on", "soon"), ("body", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fields(&r.body, &["on", "body"]);
    assert!(
        app.store
            .demo_results(Some("DX-TEST"))
            .await
            .unwrap()
            .is_empty()
    );
    let r = desk
        .post_form(
            "/partners/demonstrations/DX-TEST/results",
            &[("on", "2026-06-30"), ("body", "<b>利用者</b> 1,200人")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let results = app.store.demo_results(Some("DX-TEST")).await.unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].on.to_string(), "2026-06-30");
    assert_eq!(results[0].author, desk_user.login);
    assert!(
        audit_has(
            &app,
            "result",
            "partner_demonstration",
            "DX-TEST",
            &desk_user.login
        )
        .await
    );
    let page = desk.get("/partners/demonstrations/DX-TEST").await;
    assert!(page.body.contains("&lt;b&gt;利用者&lt;/b&gt; 1,200人"));

    // Other roles read the page without the forms and may not write.
    for (role, c) in others(&app).await {
        let page = c.get("/partners/demonstrations/DX-TEST").await;
        assert_eq!(page.status, StatusCode::OK, "{role:?}");
        assert!(!page.body.contains("/partners/demonstrations/DX-TEST/stage"));
        assert!(!page.body.contains("/ngsi\""));
        assert!(
            !c.get("/partners/demonstrations")
                .await
                .body
                .contains("/partners/demonstrations/new")
        );
        for path in [
            "/partners/demonstrations/new",
            "/partners/demonstrations/DX-TEST/edit",
        ] {
            assert_eq!(
                c.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{role:?} {path}"
            );
        }
        let f: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for path in [
            "/partners/demonstrations/new",
            "/partners/demonstrations/DX-TEST/edit",
            "/partners/demonstrations/DX-TEST/results",
        ] {
            assert_eq!(
                c.post_form(path, &f).await.status,
                StatusCode::FORBIDDEN,
                "{role:?} {path}"
            );
        }
        let r = c
            .post_form(
                "/partners/demonstrations/DX-TEST/stage",
                &[("stage", "ended")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.store
            .demonstration("DX-TEST")
            .await
            .unwrap()
            .unwrap()
            .stage,
        DemoStage::Trial
    );
    assert_eq!(
        app.store.demo_results(Some("DX-TEST")).await.unwrap().len(),
        1
    );
    // A visitor is sent to the login.
    let r = app.client().get("/partners/demonstrations/DX-TEST").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"));
    // The administrator is the desk too.
    let admin = app.login("admin").await;
    assert_eq!(
        admin.get("/partners/demonstrations/new").await.status,
        StatusCode::OK
    );
}
both!(demonstrations, demonstration_forms);

async fn pr_plan_forms(backend: Backend) {
    let app = spawn(backend).await;
    let desk_user = app.user_with(Role::StrategyOffice).await;
    let desk = app.login(&desk_user.login).await;
    let kpi = app.store.kpis().await.unwrap()[0].code.clone();
    let section = app.store.sections().await.unwrap()[0].code.clone();
    let program = app.store.programs().await.unwrap()[0].code.clone();
    let form = desk.get("/partners/pr/plans/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(&format!("option value=\"{section}\"")));
    assert!(form.body.contains("value=\"line\""));

    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let desk = &desk;
        async move {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            desk.post_form(path, &f).await
        }
    };
    // Every bad field named; nothing written.
    let r = post(
        "/partners/pr/plans/new",
        vec![
            ("code", "".into()),
            ("title", "".into()),
            ("section_code", "".into()),
            ("goal", "".into()),
            ("audience", "".into()),
            ("message", "".into()),
            ("channels", "fax".into()),
            ("start", "2026-05-01".into()),
            ("end", "2026-04-01".into()),
            ("reach_target", "-1".into()),
            ("program_code", "A B".into()),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_fields(
        &r.body,
        &[
            "code",
            "title",
            "section_code",
            "goal",
            "audience",
            "message",
            "channels",
            "end",
            "reach_target",
            "program_code",
        ],
    );
    assert!(r.body.contains("「fax」は広報媒体ではありません"));
    let good = |section: &str, program: &str, kpi: &str| -> Vec<(&'static str, String)> {
        vec![
            ("code", "PR-TEST".into()),
            ("title", "<i>健診</i>の受診勧奨".into()),
            ("section_code", section.into()),
            ("program_code", program.into()),
            ("goal", "受診率を上げる".into()),
            ("audience", "40代の市民".into()),
            ("message", "無料で受けられます".into()),
            ("channels", "line".into()),
            ("channels", "newsletter".into()),
            ("start", "2026-05-01".into()),
            ("end", "2026-06-30".into()),
            ("kpi_codes", kpi.into()),
            ("reach_target", "１０,０００".into()),
        ]
    };
    let r = post(
        "/partners/pr/plans/new",
        good("NO-SECTION", "NO-PROGRAM", "NO-KPI"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fields(&r.body, &["section_code", "program_code", "kpi_codes"]);
    assert!(app.store.pr_plan("PR-TEST").await.unwrap().is_none());

    let r = post("/partners/pr/plans/new", good(&section, &program, &kpi)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/partners/pr/plans/PR-TEST?saved=1");
    let plan = app.store.pr_plan("PR-TEST").await.unwrap().unwrap();
    assert_eq!(plan.channels, vec![PrChannel::Line, PrChannel::Newsletter]);
    assert_eq!(plan.program_code.as_deref(), Some(program.as_str()));
    assert_eq!(plan.reach_target, Some(10_000));
    assert!(
        audit_has(
            &app,
            "insert",
            "partner_pr_plan",
            "PR-TEST",
            &desk_user.login
        )
        .await
    );

    // The calendar of May 2026 links to the plan; the page escapes the title.
    let cal = desk.get("/partners/pr?month=2026-05").await;
    assert!(cal.body.contains("href=\"/partners/pr/plans/PR-TEST\""));
    assert!(cal.body.contains("href=\"/partners/pr/plans/new\""));
    let page = desk.get("/partners/pr/plans/PR-TEST").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("&lt;i&gt;健診&lt;/i&gt;の受診勧奨"));
    assert!(page.body.contains(&format!("href=\"/programs/{program}\"")));

    // Reach: a channel of the plan, not before it starts, a whole number.
    let r = post(
        "/partners/pr/plans/PR-TEST/reach",
        vec![
            ("channel", "press".into()),
            ("on", "2026-04-30".into()),
            ("reach", "many".into()),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fields(&r.body, &["channel", "on", "reach"]);
    assert!(r.body.contains("この広報計画の媒体ではありません"));
    assert!(
        app.store
            .pr_reach(Some("PR-TEST"))
            .await
            .unwrap()
            .is_empty()
    );
    for (ch, on, n) in [
        ("line", "2026-05-10", "1,200"),
        ("line", "2026-05-20", "800"),
        ("newsletter", "2026-05-01", "5000"),
    ] {
        let r = post(
            "/partners/pr/plans/PR-TEST/reach",
            vec![
                ("channel", ch.into()),
                ("on", on.into()),
                ("reach", n.into()),
                ("note", "配信".into()),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let plan = app.store.pr_plan("PR-TEST").await.unwrap().unwrap();
    assert_eq!(plan.reach_actual, Some(7_000));
    assert_eq!(app.store.pr_reach(Some("PR-TEST")).await.unwrap().len(), 3);
    assert!(
        audit_has(
            &app,
            "reach",
            "partner_pr_plan",
            "PR-TEST",
            &desk_user.login
        )
        .await
    );
    let page = desk.get("/partners/pr/plans/PR-TEST").await;
    assert!(
        page.body.contains("<td class=\"num\">2000</td>"),
        "LINE: 1,200 + 800"
    );
    assert!(page.body.contains("id=\"reach-actual\">7000<"));

    // Edit: the recorded reach stays the plan's measured reach.
    let mut edited = good(&section, "", &kpi);
    edited[1].1 = "健診の受診勧奨（改）".into();
    let r = post("/partners/pr/plans/PR-TEST/edit", edited).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let plan = app.store.pr_plan("PR-TEST").await.unwrap().unwrap();
    assert_eq!(plan.title, "健診の受診勧奨(改)", "NFKC-normalised");
    assert_eq!(plan.program_code, None);
    assert_eq!(plan.reach_actual, Some(7_000));
    assert!(
        audit_has(
            &app,
            "update",
            "partner_pr_plan",
            "PR-TEST",
            &desk_user.login
        )
        .await
    );

    // Other roles read, and may not write.
    for (role, c) in others(&app).await {
        assert_eq!(
            c.get("/partners/pr/plans/PR-TEST").await.status,
            StatusCode::OK
        );
        assert!(
            !c.get("/partners/pr/plans/PR-TEST")
                .await
                .body
                .contains("/reach\"")
        );
        assert_eq!(
            c.get("/partners/pr/plans/new").await.status,
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
        let f = [("channel", "line"), ("on", "2026-05-11"), ("reach", "1")];
        assert_eq!(
            c.post_form("/partners/pr/plans/PR-TEST/reach", &f)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            c.post_form("/partners/pr/plans/PR-TEST/edit", &[("title", "x")])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(app.store.pr_reach(Some("PR-TEST")).await.unwrap().len(), 3);
}
both!(pr_plans, pr_plan_forms);

/// A temporal-API answer written to the NGSI-LD specification (normalized
/// temporal representation: an array of instances per attribute).
fn temporal_document(year: i32, second: serde_json::Value) -> String {
    let inst = |v: serde_json::Value, t: String| serde_json::json!({ "type": "Property", "value": v, "observedAt": t, "unitCode": "GQ" });
    serde_json::json!([
        { "id": "urn:ngsi-ld:AirQualityObserved:minato-01", "type": "AirQualityObserved",
          "@context": ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"],
          "NO2": [ inst(serde_json::json!(20.0), format!("{year}-04-01T09:00:00Z")),
                   inst(serde_json::json!(24.0), format!("{year}-04-15T09:00:00Z")),
                   inst(serde_json::json!(30.0), format!("{year}-05-01T09:00:00+09:00")) ] },
        { "id": "urn:ngsi-ld:AirQualityObserved:minato-02", "type": "AirQualityObserved",
          "NO2": [ inst(second, format!("{year}-04-20T09:00:00Z")) ] }
    ])
    .to_string()
}

/// Posts the NGSI-LD form of DX-AIR as a browser does (multipart, the
/// token in the action's query).
async fn send(
    c: &Client,
    fields: Vec<(&'static str, String)>,
    file: Option<(String, String)>,
    csrf: bool,
) -> common::Resp {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k, v);
    }
    if let Some((name, body)) = file {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(body.into_bytes()).file_name(name),
        );
    }
    let mut req = c.request(Method::POST, "/partners/demonstrations/DX-AIR/ngsi");
    if csrf {
        req = req.header("x-csrf-token", &c.csrf);
    }
    c.send(req.multipart(form)).await
}

async fn ngsi_form(backend: Backend) {
    use citykpi_domain::observation::Period;
    let app = spawn(backend).await;
    let kpis = app.store.kpis().await.unwrap();
    let (kpi, other) = (kpis[0].code.clone(), kpis[1].code.clone());
    let d = citykpi_domain::partner::projects::validate_demonstration_of(
        &citykpi_domain::partner::projects::DemonstrationForm {
            code: "DX-AIR".into(),
            title: "大気の見える化".into(),
            field: "energy".into(),
            area: "臨海地区".into(),
            start: "2017-04-01".into(),
            end: "2027-03-31".into(),
            kpi_codes: kpi.clone(),
        },
        &[],
        "",
    )
    .unwrap();
    app.store
        .save_demonstration(&d, true, "desk")
        .await
        .unwrap();
    let count = |year: i32| {
        let app = &app;
        let kpi = kpi.clone();
        async move {
            app.store
                .observations(&citykpi_store::ObservationFilter {
                    kpi_codes: vec![kpi],
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_iter()
                .filter(|o| matches!(o.period, Period::Month(y, _) if y == year))
                .count()
        }
    };
    let admin = app.login("admin").await;
    let fields = |kpi: &str, doc: &str| -> Vec<(&'static str, String)> {
        vec![
            ("kpi_code", kpi.into()),
            ("attribute", "NO2".into()),
            ("period", "month".into()),
            ("aggregate", "mean".into()),
            ("area_code", "".into()),
            ("unit_code", "GQ".into()),
            ("document", doc.into()),
        ]
    };

    // A malformed document: refused naming entity and attribute; nothing written.
    let bad = temporal_document(2019, serde_json::json!("high"));
    let r = send(&admin, fields(&kpi, &bad), None, true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"ngsi-problems\""));
    assert!(r.body.contains("urn:ngsi-ld:AirQualityObserved:minato-02"));
    assert!(r.body.contains("属性 NO2"));
    assert_eq!(count(2019).await, 0);
    // Not JSON at all; a KPI that is not the demonstration's; missing fields.
    let r = send(&admin, fields(&kpi, "{ not json"), None, true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"ngsi-problems\""));
    let r = send(&admin, fields(&other, &bad), None, true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fields(&r.body, &["kpi_code"]);
    let r = send(
        &admin,
        vec![
            ("kpi_code", kpi.clone()),
            ("period", "week".into()),
            ("aggregate", "median".into()),
        ],
        None,
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fields(&r.body, &["attribute", "period", "aggregate", "document"]);
    // Wrong unit: the entity and attribute are named.
    let mut wrong_unit = fields(&kpi, &temporal_document(2019, serde_json::json!(28.0)));
    wrong_unit[5].1 = "KGM".into();
    let r = send(&admin, wrong_unit, None, true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("minato-01"));
    assert_eq!(count(2019).await, 0);

    // A dry run stores nothing.
    let good = temporal_document(2019, serde_json::json!(28.0));
    let mut dry = fields(&kpi, &good);
    dry.push(("dry_run", "1".into()));
    let r = send(&admin, dry, None, true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("確認しました（保存していません）"));
    assert_eq!(count(2019).await, 0);

    // Pasted: two months written, the mean of each; audited.
    let r = send(&admin, fields(&kpi, &good), None, true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"ngsi-result\""));
    assert!(
        r.body.contains("書き込んだ実績値： 2（新規 2・更新 0）"),
        "{}",
        r.body
    );
    assert_eq!(count(2019).await, 2);
    let april = app
        .store
        .observations(&citykpi_store::ObservationFilter {
            kpi_codes: vec![kpi.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.period == Period::Month(2019, 4))
        .unwrap();
    assert_eq!(april.value.value(), Some(24.0), "mean of 20, 24, 28");
    assert_eq!(april.entered_by, "admin");
    assert!(
        app.store
            .audit_entries(50, 0)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "ngsi_ld_import" && e.key == kpi && e.actor == "admin")
    );
    // The same again: unchanged.
    let r = send(&admin, fields(&kpi, &good), None, true).await;
    assert!(r.body.contains("変更なし： 2"), "{}", r.body);
    // The page shows the KPI's new actuals.
    let page = admin.get("/partners/demonstrations/DX-AIR").await;
    assert!(page.body.contains("<td>2019-05</td>") || page.body.contains("2019-05"));

    // Uploaded as a file (the pasted text is then ignored).
    let r = send(
        &admin,
        fields(&kpi, ""),
        Some((
            "air-2018.jsonld".into(),
            temporal_document(2018, serde_json::json!(26.0)),
        )),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(count(2018).await, 2);
    let src = app
        .store
        .observations(&citykpi_store::ObservationFilter {
            kpi_codes: vec![kpi.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.period == Period::Month(2018, 4))
        .unwrap()
        .source;
    assert!(src.contains("air-2018.jsonld"), "{src}");

    // Without the token, or by a role that may not: refused, nothing written.
    let r = send(
        &admin,
        fields(&kpi, &temporal_document(2017, serde_json::json!(1.0))),
        None,
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for (role, c) in others(&app).await {
        let r = send(
            &c,
            fields(&kpi, &temporal_document(2017, serde_json::json!(1.0))),
            None,
            true,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    assert_eq!(count(2017).await, 0);
}
both!(ngsi, ngsi_form);

async fn line_secret(backend: Backend) {
    use citykpi_app::partners::{LINE_SECRET_SETTING, line_signature};
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let page = admin.get("/partners/line/secret").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"webhook-url\""));
    let host = app.base.trim_start_matches("http://");
    assert!(
        page.body
            .contains(&format!("http://{host}/partners/line/webhook")),
        "the webhook URL to paste"
    );
    for role in [Role::StrategyOffice, Role::Viewer, Role::DepartmentEditor] {
        let c = app.login(&app.user_with(role).await.login).await;
        assert_eq!(
            c.get("/partners/line/secret").await.status,
            StatusCode::FORBIDDEN
        );
        let r = c
            .post_form(
                "/partners/line/secret",
                &[
                    ("action", "set"),
                    ("secret", "0123456789abcdef0123456789abcdef"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    assert!(
        app.store
            .get_setting(LINE_SECRET_SETTING)
            .await
            .unwrap()
            .is_none()
    );

    // A bad value: named, nothing stored.
    let r = admin
        .post_form(
            "/partners/line/secret",
            &[("action", "set"), ("secret", "秘密 <x>")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_fields(&r.body, &["secret"]);
    assert!(!r.body.contains("秘密 <x>"));
    assert!(
        app.store
            .get_setting(LINE_SECRET_SETTING)
            .await
            .unwrap()
            .is_none()
    );

    // Set: stored, never shown back, audited without the value.
    let first = "0123456789abcdef0123456789abcdef";
    let r = admin
        .post_form(
            "/partners/line/secret",
            &[("action", "set"), ("secret", first)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.store
            .get_setting(LINE_SECRET_SETTING)
            .await
            .unwrap()
            .as_deref(),
        Some(first)
    );
    let page = admin.get("/partners/line/secret?done=set").await;
    assert!(page.body.contains("設定済み"));
    assert!(page.body.contains("admin"), "who changed it");
    assert!(!page.body.contains(first), "the secret is never shown");
    assert!(audit_has(&app, "set", "setting", LINE_SECRET_SETTING, "admin").await);

    // The webhook takes a call signed with it.
    let body = r#"{"destination":"U0","events":[{"type":"message","message":{"type":"text","id":"1","text":"ごみの出し方を教えてください"},"source":{"type":"user","userId":"U123"}}]}"#.as_bytes();
    let webhook = |sig: String| {
        app.client()
            .request(Method::POST, "/partners/line/webhook")
            .header("x-line-signature", sig)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
    };
    let r = webhook(line_signature(first, body)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Replace: the old signature is refused.
    let second = "fedcba9876543210fedcba9876543210";
    let r = admin
        .post_form(
            "/partners/line/secret",
            &[("action", "set"), ("secret", second)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(audit_has(&app, "replace", "setting", LINE_SECRET_SETTING, "admin").await);
    assert_eq!(
        webhook(line_signature(first, body)).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        webhook(line_signature(second, body))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Clear: gone, audited; the page says it is not set.
    let r = admin
        .post_form("/partners/line/secret", &[("action", "clear")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.store
            .get_setting(LINE_SECRET_SETTING)
            .await
            .unwrap()
            .is_none()
    );
    assert!(audit_has(&app, "clear", "setting", LINE_SECRET_SETTING, "admin").await);
    let page = admin.get("/partners/line/secret").await;
    assert!(page.body.contains("未設定") || page.body.contains("環境変数"));
    assert!(
        webhook(line_signature(second, body))
            .await
            .unwrap()
            .status()
            != StatusCode::OK
            || std::env::var(citykpi_app::partners::LINE_SECRET_ENV).is_ok()
    );
    // No audit row holds either secret.
    let audit = app.store.audit_entries(500, 0).await.unwrap();
    for e in &audit {
        let text = format!("{:?} {:?}", e.before, e.after);
        assert!(!text.contains(first) && !text.contains(second), "{e:?}");
    }
    // An unknown action is named.
    let r = admin
        .post_form("/partners/line/secret", &[("action", "show")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
both!(line, line_secret);

/// Cell (row, col) of the first sheet of an XLSX file as text.
fn xlsx_cells(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX file");
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).expect("the first sheet");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

fn column(rows: &[Vec<String>], header: &str) -> usize {
    rows[0]
        .iter()
        .position(|h| h == header)
        .unwrap_or_else(|| panic!("no column {header}: {:?}", rows[0]))
}

async fn exports(backend: Backend) {
    use citykpi_domain::partner::projects::{validate_demo_result, validate_reach};
    let app = spawn(backend).await;
    let viewer_user = app.user_with(Role::Viewer).await;
    let viewer = app.login(&viewer_user.login).await;
    let demos = app.store.demonstrations().await.unwrap();
    let d = &demos[0];
    app.store
        .add_demo_result(
            &validate_demo_result(&d.code, "2026-05-01", "利用者アンケートを実施", "desk").unwrap(),
            "desk",
        )
        .await
        .unwrap();
    let plans = app.store.pr_plans_all().await.unwrap();
    let plan = plans.first().expect("a demo PR plan").clone();
    let ch = plan.channels[0];
    app.store
        .add_pr_reach(
            &validate_reach(
                &plan,
                ch.code(),
                &plan.start.to_string(),
                "4321",
                "",
                "desk",
            )
            .unwrap(),
            "desk",
        )
        .await
        .unwrap();

    // Demonstrations: one row each, the values of the database, Japanese labels.
    let (status, headers, bytes) = viewer
        .get_bytes("/partners/export/demonstrations?format=xlsx")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"partner-demonstrations-")
    );
    let rows = xlsx_cells(&bytes);
    assert_eq!(rows.len(), demos.len() + 1);
    let row = rows
        .iter()
        .find(|r| r[column(&rows, "コード")] == d.code)
        .expect("the demonstration");
    assert_eq!(row[column(&rows, "名称")], d.title);
    assert_eq!(row[column(&rows, "段階")], d.stage.label_ja());
    assert_eq!(row[column(&rows, "分野")], d.field.label_ja());
    assert_eq!(row[column(&rows, "開始日")], d.start.to_string());
    assert_eq!(row[column(&rows, "寄与するKPI")], d.kpi_codes.join(", "));
    assert_eq!(
        row[column(&rows, "成果の記録")],
        "2026-05-01 利用者アンケートを実施"
    );
    // English headers and labels with ?lang=en.
    let (_, _, en) = viewer
        .get_bytes("/partners/export/demonstrations?format=xlsx&lang=en")
        .await;
    let en = xlsx_cells(&en);
    let row = en
        .iter()
        .find(|r| r[column(&en, "code")] == d.code)
        .unwrap();
    assert_eq!(row[column(&en, "stage")], d.stage.label_en());
    assert_eq!(row[column(&en, "field")], d.field.label_en());

    // PR plans: reach per channel as recorded.
    let (_, _, bytes) = viewer
        .get_bytes("/partners/export/pr_plans?format=xlsx")
        .await;
    let rows = xlsx_cells(&bytes);
    assert_eq!(rows.len(), plans.len() + 1);
    let stored = app.store.pr_plan(&plan.code).await.unwrap().unwrap();
    let row = rows
        .iter()
        .find(|r| r[column(&rows, "コード")] == plan.code)
        .unwrap();
    assert_eq!(row[column(&rows, "件名")], stored.title);
    assert_eq!(
        row[column(&rows, "到達実績")],
        stored.reach_actual.unwrap().to_string()
    );
    let header = match ch {
        PrChannel::Newsletter => "到達数（市報）",
        PrChannel::Website => "到達数（ウェブサイト）",
        PrChannel::Line => "到達数（LINE）",
        PrChannel::Press => "到達数（報道発表）",
        PrChannel::Event => "到達数（イベント）",
    };
    assert_eq!(row[column(&rows, header)], "4321");
    assert_eq!(
        row[column(&rows, "到達目標")],
        stored
            .reach_target
            .map(|n| n.to_string())
            .unwrap_or_default()
    );

    // The SDGs menu: one row per participation (or per item without any).
    let menu = citykpi_app::partners::menu(&app.store).await.unwrap();
    let expected: usize = menu.iter().map(|(_, p)| p.len().max(1)).sum();
    let (_, _, bytes) = viewer.get_bytes("/partners/export/menu?format=xlsx").await;
    let rows = xlsx_cells(&bytes);
    assert_eq!(rows.len(), expected + 1);
    let (item, _) = &menu[0];
    let row = rows
        .iter()
        .find(|r| r[column(&rows, "メニューコード")] == item.code)
        .unwrap();
    assert_eq!(row[column(&rows, "メニュー名")], item.title);
    assert_eq!(row[column(&rows, "種類")], item.kind.label_ja());
    if let Some((_, parts)) = menu.iter().find(|(_, p)| !p.is_empty()) {
        let (p, name) = &parts[0];
        let row = rows
            .iter()
            .find(|r| r[column(&rows, "会員番号")] == p.member_id.to_string())
            .expect("the participation");
        assert_eq!(row[column(&rows, "会員名")], *name);
        assert_eq!(row[column(&rows, "参加状況")], p.status.label_ja());
    }

    // Teams: one row per log entry.
    let teams = citykpi_app::partners::teams(&app.store).await.unwrap();
    let expected: usize = teams.iter().map(|(_, _, l)| l.len().max(1)).sum();
    let (_, _, csv) = viewer.get_bytes("/partners/export/teams?format=csv").await;
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "CSV with a BOM for Excel");
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.lines().next().unwrap().contains("チーム名"));
    let (_, _, bytes) = viewer.get_bytes("/partners/export/teams?format=xlsx").await;
    let rows = xlsx_cells(&bytes);
    assert_eq!(rows.len(), expected + 1);
    if let Some((t, _, log)) = teams.iter().find(|(_, _, l)| !l.is_empty()) {
        let row = rows
            .iter()
            .find(|r| r[column(&rows, "チームコード")] == t.code)
            .unwrap();
        assert_eq!(row[column(&rows, "チーム名")], t.name);
        assert_eq!(row[column(&rows, "内容")], log[0].body);
        assert_eq!(row[column(&rows, "日付")], log[0].on.to_string());
    }

    // The API: JSON by the columns' keys; visitors are refused.
    let api = viewer
        .get("/api/v1/partners/export/demonstrations?format=json")
        .await;
    assert_eq!(api.status, StatusCode::OK);
    let json: serde_json::Value = api.body.parse().unwrap();
    assert_eq!(json.as_array().unwrap().len(), demos.len());
    assert!(json[0].get("stage").is_some());
    for path in [
        "/api/v1/partners/export/menu",
        "/api/v1/partners/export/teams",
        "/api/v1/partners/export/pr_plans",
    ] {
        assert_eq!(
            viewer.get(&format!("{path}?format=json")).await.status,
            StatusCode::OK,
            "{path}"
        );
        assert_eq!(
            app.client().get(path).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    assert_eq!(
        viewer.get("/partners/export/menu?format=pdf").await.status,
        StatusCode::BAD_REQUEST
    );

    // The pages link to their downloads; each download is in the audit log.
    for (page, link) in [
        ("/partners/menu", "/partners/export/menu?format=xlsx"),
        ("/partners/teams", "/partners/export/teams?format=xlsx"),
        (
            "/partners/demonstrations",
            "/partners/export/demonstrations?format=csv",
        ),
        ("/partners/pr", "/partners/export/pr_plans?format=xlsx"),
    ] {
        assert!(viewer.get(page).await.body.contains(link), "{page}");
    }
    let audit = app.store.audit_entries(200, 0).await.unwrap();
    for entity in [
        "partner_demonstration",
        "partner_pr_plan",
        "partner_menu_item",
        "partner_team",
    ] {
        assert!(
            audit.iter().any(|e| e.action == "export"
                && e.entity == entity
                && e.actor == viewer_user.login),
            "{entity}"
        );
    }
}
both!(export_lists, exports);

/// In headless Chromium (Debian's `chromium`): the desk registers a
/// demonstration through the form, moves it to 実証 and records a result,
/// as a member of staff would; the page shows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_registers_a_demonstration() {
    use common::browser::{self as chrome, Chromium, choose, fill, goto, html, screenshot, submit};
    let app = spawn(Backend::Sqlite).await;
    let desk = app.user_with(Role::StrategyOffice).await.login;
    let kpi = app.store.kpis().await.unwrap()[0].code.clone();
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || {
        let chromium = Chromium::start();
        let tab = chromium.tab();
        chrome::login(&tab, &base, &desk);
        goto(&tab, &format!("{base}/partners/demonstrations"));
        chrome::check(&tab, "a[href='/partners/demonstrations/new']");
        tab.wait_until_navigated().unwrap();
        fill(&tab, "#code", "DX-BROWSER");
        fill(&tab, "#title", "オンデマンド交通の実証");
        choose(&tab, "#field", "mobility");
        fill(&tab, "#area", "北部地区");
        choose(&tab, "#start", "2026-04-01");
        choose(&tab, "#end", "2027-03-31");
        fill(&tab, "#kpi_codes", &kpi);
        submit(&tab, "form[action='/partners/demonstrations/new']", |url| {
            url.ends_with("/partners/demonstrations/DX-BROWSER?saved=1")
        });
        assert!(html(&tab).contains("オンデマンド交通の実証"));
        choose(&tab, "#stage-to", "trial");
        submit(
            &tab,
            "form[action='/partners/demonstrations/DX-BROWSER/stage']",
            |url| url.contains("/partners/demonstrations/DX-BROWSER?saved=1"),
        );
        choose(&tab, "#on", "2026-07-01");
        fill(&tab, "#body", "予約数 320件");
        submit(
            &tab,
            "form[action='/partners/demonstrations/DX-BROWSER/results']",
            |url| url.contains("/partners/demonstrations/DX-BROWSER?saved=1"),
        );
        let page = html(&tab);
        assert!(
            page.contains("2026-07-01 予約数 320件"),
            "the result is listed"
        );
        assert!(page.contains(">実証<"), "the stage moved");
        screenshot(&tab, "partners-demonstration");
    })
    .await
    .unwrap();
    let d = app
        .store
        .demonstration("DX-BROWSER")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.stage, DemoStage::Trial);
    assert_eq!(
        app.store
            .demo_results(Some("DX-BROWSER"))
            .await
            .unwrap()
            .len(),
        1
    );
}
