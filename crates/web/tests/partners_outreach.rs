//! HTTP tests of startup outreach against the running server on
//! both databases with the demo city: the lead list with its funnel, the
//! lead and event forms (every problem by field, nothing written), stage
//! moves, who sees a lead's contact data, an event's count recorded as a
//! KPI actual through the same service as a typed-in actual, the sums per
//! KPI, the downloads and the JSON API, for every role.

mod common;

use citykpi_domain::observation::ObsValue;
use citykpi_domain::org::Role;
use citykpi_domain::partner::outreach::{LeadStage, fiscal_year_of};
use citykpi_store::{Backend, EventFilter, LeadFilter, ObservationFilter};
use common::{App, Client};
use reqwest::StatusCode;

fn today() -> citykpi_domain::partner::Day {
    citykpi_app::partners::today()
}

async fn desk(app: &App) -> Client {
    app.login(&app.user_with(Role::StrategyOffice).await.login)
        .await
}

async fn viewer(app: &App) -> Client {
    app.login(&app.user_with(Role::Viewer).await.login).await
}

async fn lead_count(app: &App) -> i64 {
    app.store
        .leads(&LeadFilter::new(today()))
        .await
        .unwrap()
        .total
}

async fn audit_count(app: &App) -> usize {
    app.store.audit_entries(100_000, 0).await.unwrap().len()
}

/// A KPI of the demo city (the one its outreach events serve).
async fn outreach_kpi(app: &App) -> (String, String) {
    let events = app.store.events_all(&EventFilter::default()).await.unwrap();
    let e = events.first().expect("demo events");
    (e.input.kpi_codes[0].clone(), e.input.section_code.clone())
}

fn id_from(location: &str, prefix: &str) -> i64 {
    location
        .strip_prefix(prefix)
        .and_then(|r| r.split('?').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no id in {location}"))
}

async fn leads_forms_roles_and_personal_data(backend: Backend) {
    let app = common::spawn(backend).await;
    let desk = desk(&app).await;
    let viewer = viewer(&app).await;
    let (kpi, _) = outreach_kpi(&app).await;

    // The list with the funnel and the demo's leads; anonymous visitors see nothing.
    let list = desk.get("/partners/outreach").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("スタートアップ誘致") && list.body.contains("段階別の件数"));
    assert!(list.body.contains("株式会社モビリティブリッジ"));
    assert!(list.body.contains("href=\"/partners/outreach/leads/new\""));
    assert!(
        list.body.contains("aria-current=\"page\""),
        "in the area nav"
    );
    let anon = app.client().get("/partners/outreach").await;
    assert_ne!(anon.status, StatusCode::OK);
    assert!(!anon.body.contains("モビリティブリッジ"));
    let en = desk.get("/partners/outreach?lang=en").await;
    assert!(en.body.contains("Startup outreach") && en.body.contains("Leads per stage"));
    // `?lang=` is remembered in a cookie: back to Japanese.
    desk.get("/partners/outreach?lang=ja").await;
    let overdue = desk.get("/partners/outreach?overdue=1").await;
    assert!(overdue.body.contains("期限超過"), "the demo has late leads");

    // Only the desk gets the form.
    assert_eq!(
        viewer.get("/partners/outreach/leads/new").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !viewer
            .get("/partners/outreach")
            .await
            .body
            .contains("/partners/outreach/leads/new")
    );
    let form = desk.get("/partners/outreach/leads/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"csrf\""));

    // Bad input: every problem by field, nothing written.
    let (leads_before, audit_before) = (lead_count(&app).await, audit_count(&app).await);
    let bad = desk
        .post_form(
            "/partners/outreach/leads",
            &[
                ("name", " "),
                ("met_at", "bar"),
                ("field", ""),
                ("email", "nope"),
                ("member_id", "abc"),
                ("next_action", "電話"),
                ("next_action_on", "2026-13-01"),
                ("sdg_goals", "18"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    for anchor in [
        "name",
        "met_at",
        "field",
        "email",
        "member_id",
        "next_action_on",
        "sdg_goals",
    ] {
        assert!(
            bad.body.contains(&format!("href=\"#{anchor}\"")),
            "{anchor} in the error summary"
        );
    }
    assert!(bad.body.contains("id=\"email-error\""));
    assert!(bad.body.contains("入力してください"));
    assert!(
        bad.body.contains("value=\"nope\""),
        "the form keeps what was typed"
    );
    let en = desk
        .post_form("/partners/outreach/leads?lang=en", &[("name", "")])
        .await;
    assert!(en.body.contains("is required"));
    desk.get("/partners/outreach?lang=ja").await;
    // A KPI or member that does not exist is named too.
    let unknown = desk
        .post_form(
            "/partners/outreach/leads",
            &[
                ("name", "存在しないKPIの会社"),
                ("met_at", "coworking"),
                ("field", "energy"),
                ("kpi_codes", "NO-SUCH-KPI"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("href=\"#kpi_codes\"") && unknown.body.contains("NO-SUCH-KPI"));
    let ghost = desk
        .post_form(
            "/partners/outreach/leads",
            &[
                ("name", "幽霊会員"),
                ("met_at", "coworking"),
                ("field", "energy"),
                ("member_id", "99999999"),
            ],
        )
        .await;
    assert_eq!(ghost.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(ghost.body.contains("href=\"#member_id\""));
    // A viewer and a form without its token write nothing.
    let good: Vec<(&str, &str)> = vec![
        ("name", "<script>alert(1)</script>テストモビリティ"),
        ("met_at", "coworking"),
        ("met_where", "渋谷のコワーキングスペース"),
        ("field", "mobility"),
        ("summary", "オンデマンド交通"),
        ("contact_person", "鈴木 花子"),
        ("email", "hanako@startup.example.jp"),
        ("kpi_codes", kpi.as_str()),
        ("sdg_goals", "9"),
        ("sdg_goals", "11"),
        ("next_action", "面談の日程調整"),
        ("next_action_on", "2099-01-01"),
    ];
    assert_eq!(
        viewer
            .post_form("/partners/outreach/leads", &good)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        desk.post_raw_form("/partners/outreach/leads", &good)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(lead_count(&app).await, leads_before);
    assert_eq!(audit_count(&app).await, audit_before);

    // A good lead is stored at 接触 and shown escaped.
    let ok = desk.post_form("/partners/outreach/leads", &good).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let id = id_from(ok.location(), "/partners/outreach/leads/");
    let path = format!("/partners/outreach/leads/{id}");
    let page = desk.get(ok.location()).await;
    assert!(page.body.contains("保存しました"));
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;テストモビリティ")
    );
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(
        page.body.contains("hanako@startup.example.jp"),
        "the desk sees the contact"
    );
    assert!(page.body.contains("接触"));
    let stored = app.store.lead(id).await.unwrap().unwrap();
    assert_eq!(stored.stage, LeadStage::Contact);
    assert_eq!(stored.input.kpi_codes, vec![kpi.clone()]);

    // Logged-in staff read it without the personal fields and without forms.
    let seen = viewer.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("テストモビリティ"));
    assert!(!seen.body.contains("hanako@startup.example.jp") && !seen.body.contains("鈴木 花子"));
    assert!(seen.body.contains("窓口にだけ表示"));
    assert!(!seen.body.contains("/stage\""), "no move form");

    // Moves: by the rules, by field; the desk only.
    let stage = format!("{path}/stage");
    assert_eq!(
        viewer.post_form(&stage, &[("to", "meeting")]).await.status,
        StatusCode::FORBIDDEN
    );
    let skip = desk.post_form(&stage, &[("to", "implemented")]).await;
    assert_eq!(skip.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(skip.body.contains("href=\"#to\"") && skip.body.contains("進められません"));
    let future = desk
        .post_form(&stage, &[("to", "meeting"), ("on", "2099-01-01")])
        .await;
    assert_eq!(future.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(future.body.contains("id=\"on-error\""));
    let no_reason = desk.post_form(&stage, &[("to", "declined")]).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("id=\"note-error\""));
    assert_eq!(
        app.store.lead(id).await.unwrap().unwrap().stage,
        LeadStage::Contact
    );
    let moved = desk
        .post_form(&stage, &[("to", "meeting"), ("note", "初回面談")])
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let page = desk.get(&path).await;
    assert!(page.body.contains("接触 → 面談") && page.body.contains("初回面談"));
    assert_eq!(app.store.lead_moves(id).await.unwrap().len(), 2);

    // Editing: the loaded version is checked.
    let edit = desk.get(&format!("{path}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK);
    let lead = app.store.lead(id).await.unwrap().unwrap();
    assert!(
        edit.body
            .contains(&format!("name=\"version\" value=\"{}\"", lead.version))
    );
    let mut changed = good.clone();
    changed.retain(|(k, _)| *k != "next_action");
    changed.push(("next_action", "提案書の確認"));
    let stale_version = (lead.version - 1).to_string();
    let mut stale = changed.clone();
    stale.push(("version", &stale_version));
    let refused = desk.post_form(&path, &stale).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("他の職員が先に更新しました"));
    let version = lead.version.to_string();
    changed.push(("version", &version));
    let saved = desk.post_form(&path, &changed).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let lead = app.store.lead(id).await.unwrap().unwrap();
    assert_eq!(lead.input.next_action, "提案書の確認");
    assert_eq!(lead.stage, LeadStage::Meeting, "editing keeps the stage");
    assert_eq!(
        viewer.get(&format!("{path}/edit")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        desk.get("/partners/outreach/leads/424242").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        desk.get("/partners/outreach/leads/abc").await.status,
        StatusCode::NOT_FOUND
    );

    // The API: contact data for the desk only; a bad filter named.
    let api: serde_json::Value = viewer
        .get("/api/v1/partners/leads?q=%E3%83%86%E3%82%B9%E3%83%88%E3%83%A2%E3%83%93%E3%83%AA%E3%83%86%E3%82%A3")
        .await
        .body
        .parse()
        .unwrap();
    assert_eq!(api["total"], 1);
    assert_eq!(api["items"][0]["stage"], "meeting");
    assert_eq!(api["personal_visible"], false);
    assert!(api["items"][0].get("contact").is_none());
    assert_eq!(api["funnel"].as_array().unwrap().len(), 6);
    let api: serde_json::Value = desk
        .get("/api/v1/partners/leads?stage=meeting&field=mobility")
        .await
        .body
        .parse()
        .unwrap();
    assert!(
        api["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["contact"]["email"] == "hanako@startup.example.jp")
    );
    let bad = desk.get("/api/v1/partners/leads?stage=bogus").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("\"field\":\"stage\""), "{}", bad.body);
    assert_ne!(
        app.client().get("/api/v1/partners/leads").await.status,
        StatusCode::OK
    );

    // Every change in the audit log, never the contact data.
    let login = app.user_with(Role::StrategyOffice).await.login;
    let entries = app.store.audit_entries(200, 0).await.unwrap();
    let ours: Vec<&str> = entries
        .iter()
        .filter(|e| e.entity == "outreach_lead" && e.key == id.to_string())
        .map(|e| {
            assert_eq!(e.actor, login);
            e.action.as_str()
        })
        .collect();
    assert_eq!(ours, vec!["update", "move", "insert"]);
    for e in &entries {
        let text = format!("{:?}{:?}", e.before, e.after);
        assert!(!text.contains("hanako@startup"), "{text}");
    }
}
both!(leads, leads_forms_roles_and_personal_data);

async fn events_and_counts_as_kpi_actuals(backend: Backend) {
    let app = common::spawn(backend).await;
    let desk = desk(&app).await;
    let viewer = viewer(&app).await;
    let (kpi, section) = outreach_kpi(&app).await;
    let area = citykpi_app::status::city_code(&app.store)
        .await
        .unwrap()
        .expect("the demo sets its city code");

    let page = viewer.get("/partners/outreach/events").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("KPI別・年度別の集計") && page.body.contains("id=\"kpi-sums\""));
    assert!(page.body.contains("首都圏スタートアップピッチ"));
    assert!(
        !page
            .body
            .contains("method=\"post\" action=\"/partners/outreach/events\""),
        "no form for a viewer"
    );

    // Bad input by field, nothing written.
    let events_before = app
        .store
        .events(&EventFilter::default())
        .await
        .unwrap()
        .total;
    let audit_before = audit_count(&app).await;
    let bad = desk
        .post_form(
            "/partners/outreach/events",
            &[
                ("title", ""),
                ("kind", "party"),
                ("held_on", "someday"),
                ("place", ""),
                ("section_code", ""),
                ("attendees", "-1"),
                ("visitors", "たくさん"),
                ("kpi_codes", ""),
                ("lead_ids", "x"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    for anchor in [
        "title",
        "kind",
        "held_on",
        "place",
        "section_code",
        "attendees",
        "visitors",
        "kpi_codes",
        "lead_ids",
    ] {
        assert!(
            bad.body.contains(&format!("href=\"#{anchor}\"")),
            "{anchor}"
        );
    }
    assert!(bad.body.contains("0以上の整数ではありません"));
    let held = today().plus_days(-10).to_string();
    let event = |title: &'static str, rel: &'static str| -> Vec<(String, String)> {
        [
            ("title", title),
            ("kind", "meetup"),
            ("held_on", held.as_str()),
            ("place", "東京・渋谷"),
            ("section_code", section.as_str()),
            ("attendees", "１,２００"),
            ("visitors", "300"),
            ("relationship_population", rel),
            ("firms_attracted", "2"),
            ("kpi_codes", kpi.as_str()),
            ("sdg_goals", "17"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let pairs = |v: &[(String, String)]| -> Vec<(String, String)> { v.to_vec() };
    let mut unknown_section = pairs(&event("課の無い催し", "10"));
    for (k, v) in unknown_section.iter_mut() {
        if k == "section_code" {
            *v = "NO-SUCH-SECTION".into();
        }
    }
    let refused = desk
        .post_form("/partners/outreach/events", &as_refs(&unknown_section))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("href=\"#section_code\""));
    let first = event("渋谷交流会<b>", "80");
    assert_eq!(
        viewer
            .post_form("/partners/outreach/events", &as_refs(&first))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.store
            .events(&EventFilter::default())
            .await
            .unwrap()
            .total,
        events_before
    );
    assert_eq!(audit_count(&app).await, audit_before);

    // Two events of the same fiscal year.
    let ok = desk
        .post_form("/partners/outreach/events", &as_refs(&first))
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let e1 = id_from(ok.location(), "/partners/outreach/events/");
    let ok = desk
        .post_form(
            "/partners/outreach/events",
            &as_refs(&event("丸の内ピッチ", "45")),
        )
        .await;
    let e2 = id_from(ok.location(), "/partners/outreach/events/");
    let stored = app.store.event(e1).await.unwrap().unwrap();
    assert_eq!(stored.input.counts.attendees, 1200);
    let page = desk.get(&format!("/partners/outreach/events/{e1}")).await;
    assert!(page.body.contains("渋谷交流会&lt;b&gt;"));
    assert!(page.body.contains("KPIの実績値として記録"));
    assert!(
        !viewer
            .get(&format!("/partners/outreach/events/{e1}"))
            .await
            .body
            .contains("/record\"")
    );

    // Recording a count: refused by field, then the KPI's actual is the sum.
    let fy = fiscal_year_of(today().plus_days(-10)).year().to_string();
    let actual = |app: &App, kpi: String, area: String, fy: String| {
        let store = app.store.clone();
        async move {
            store
                .observations(&ObservationFilter {
                    kpi_codes: vec![kpi],
                    area_code: Some(area),
                    ..ObservationFilter::default()
                })
                .await
                .unwrap()
                .into_iter()
                .find(|o| o.period.to_string() == fy)
        }
    };
    let before = actual(&app, kpi.clone(), area.clone(), fy.clone()).await;
    let record1 = format!("/partners/outreach/events/{e1}/record");
    let wrong = desk
        .post_form(
            &record1,
            &[
                ("measure", "smiles"),
                ("kpi_code", "OTHER-KPI"),
                ("period", "2019"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["measure", "kpi_code", "period"] {
        assert!(wrong.body.contains(&format!("href=\"#{f}\"")), "{f}");
    }
    assert_eq!(
        actual(&app, kpi.clone(), area.clone(), fy.clone()).await,
        before
    );
    assert!(app.store.postings_of_event(e1).await.unwrap().is_empty());
    assert_eq!(
        viewer
            .post_form(
                &record1,
                &[("measure", "visitors"), ("kpi_code", kpi.as_str())]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let done = desk
        .post_form(
            &record1,
            &[
                ("measure", "relationship_population"),
                ("kpi_code", kpi.as_str()),
                ("period", ""),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let obs = actual(&app, kpi.clone(), area.clone(), fy.clone())
        .await
        .expect("the actual is stored");
    assert_eq!(obs.value, ObsValue::Value(80.0));
    assert_eq!(obs.source, citykpi_app::partners::outreach::ACTUAL_SOURCE);
    let done = desk
        .post_form(
            &format!("/partners/outreach/events/{e2}/record"),
            &[
                ("measure", "relationship_population"),
                ("kpi_code", kpi.as_str()),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let obs = actual(&app, kpi.clone(), area.clone(), fy.clone())
        .await
        .unwrap();
    assert_eq!(obs.value, ObsValue::Value(125.0), "80 + 45");
    // Recording the first again with another count replaces its share.
    desk.post_form(
        &record1,
        &[("measure", "firms_attracted"), ("kpi_code", kpi.as_str())],
    )
    .await;
    let obs = actual(&app, kpi.clone(), area.clone(), fy.clone())
        .await
        .unwrap();
    assert_eq!(obs.value, ObsValue::Value(47.0), "2 + 45");
    let page = desk.get(&format!("/partners/outreach/events/{e1}")).await;
    assert!(page.body.contains("id=\"postings\""));
    // The observation went through the store's audited write.
    let login = app.user_with(Role::StrategyOffice).await.login;
    let audit = app.store.audit_entries(50, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.entity == "observation" && e.actor == login)
    );
    assert!(
        audit
            .iter()
            .any(|e| e.entity == "outreach_event" && e.action == "repost")
    );

    // The sums per KPI and fiscal year (API and page).
    let api: serde_json::Value = viewer
        .get(&format!("/api/v1/partners/events?fy={fy}"))
        .await
        .body
        .parse()
        .unwrap();
    let sum = api["kpi_sums"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["kpi_code"] == kpi.as_str() && s["fiscal_year"].as_i64() == fy.parse::<i64>().ok()
        })
        .expect("a sum for the KPI and year")
        .clone();
    assert!(sum["counts"]["relationship_population"].as_u64().unwrap() >= 125);
    assert!(sum["events"].as_u64().unwrap() >= 2);
    assert!(
        api["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["title"] == "丸の内ピッチ")
    );
    assert_eq!(
        viewer.get("/api/v1/partners/events?fy=abc").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Editing checks the version and the rules.
    let version = stored.version.to_string();
    let mut edit = pairs(&first);
    edit.push(("version".into(), version.clone()));
    for (k, v) in edit.iter_mut() {
        if k == "visitors" {
            *v = "-3".into();
        }
    }
    let refused = desk
        .post_form(&format!("/partners/outreach/events/{e1}"), &as_refs(&edit))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"visitors-error\""));
    let mut edit = pairs(&first);
    edit.push(("version".into(), version));
    for (k, v) in edit.iter_mut() {
        if k == "visitors" {
            *v = "310".into();
        }
    }
    let saved = desk
        .post_form(&format!("/partners/outreach/events/{e1}"), &as_refs(&edit))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        app.store
            .event(e1)
            .await
            .unwrap()
            .unwrap()
            .input
            .counts
            .visitors,
        310
    );
    let again = desk
        .post_form(&format!("/partners/outreach/events/{e1}"), &as_refs(&edit))
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "stale version"
    );

    // Downloads: a lead's contact data for the desk only; each in the audit log.
    let (status, headers, bytes) = desk
        .get_bytes("/partners/outreach/export/leads?format=xlsx")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let rows = xlsx_cells(&bytes);
    assert_eq!(rows.len() as i64, lead_count(&app).await + 1);
    assert!(rows[0].iter().any(|h| h == "メールアドレス"));
    let (_, _, bytes) = viewer
        .get_bytes("/partners/outreach/export/leads?format=xlsx")
        .await;
    let rows = xlsx_cells(&bytes);
    assert!(
        !rows[0]
            .iter()
            .any(|h| h == "メールアドレス" || h == "担当者名")
    );
    let (status, headers, csv) = viewer
        .get_bytes("/partners/outreach/export/kpi-sums?format=csv")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().contains("csv"));
    let csv = String::from_utf8_lossy(&csv);
    assert!(csv.contains("関係人口") && csv.contains(&kpi));
    let (status, _, events_csv) = viewer
        .get_bytes("/partners/outreach/export/events?format=csv")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&events_csv).contains("丸の内ピッチ"));
    assert_eq!(
        viewer
            .get("/partners/outreach/export/leads?format=pdf")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        viewer.get("/partners/outreach/export/nothing").await.status,
        StatusCode::NOT_FOUND
    );
    let audit = app.store.audit_entries(20, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "export" && e.entity == "outreach_lead")
    );
}
both!(events, events_and_counts_as_kpi_actuals);

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

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
