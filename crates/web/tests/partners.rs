//! HTTP tests of the partnership area against the running server
//! on both databases with the demo city: the public registration form (field
//! messages, CSRF, honeypot, rate limit, size limit, escaping), staff
//! decisions, the public directory (only consented members and fields), the
//! desk's inquiries and who sees personal data, proposals, and the JSON API.

mod common;

use citykpi_domain::org::Role;
use citykpi_domain::partner::member::MemberStatus;
use citykpi_store::{Backend, MemberFilter};
use common::{App, Client, csrf_in, spawn};
use reqwest::{Method, StatusCode};

/// A visitor who has opened a public form: holds its pre-session token.
async fn visitor(app: &App, form_path: &str) -> Client {
    let mut c = app.client();
    let page = c.get(form_path).await;
    assert_eq!(page.status, StatusCode::OK, "{form_path}");
    c.csrf = csrf_in(&page.body).expect("csrf token in the public form");
    c
}

fn registration<'a>(name: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("org_type", "company"),
        ("size", "small"),
        ("postal_code", "530-0001"),
        ("lg_code", "27140"),
        ("address", "みなと市中央区本町1-1"),
        ("website", "https://example.jp"),
        ("contact_person", "山田 花子"),
        ("email", email),
        ("phone", "06-1234-5678"),
        ("sdg_goals", "7"),
        ("sdg_goals", "13"),
        ("offers", "太陽光発電の知見"),
        ("publish", "1"),
        ("public_fields", "org_type"),
        ("public_fields", "sdg_goals"),
        ("fax_number", ""),
    ]
}

async fn member_named(app: &App, name: &str) -> Option<citykpi_domain::partner::member::Member> {
    app.store
        .members(&MemberFilter {
            status: None,
            q: name.into(),
            page: 1,
            per_page: 5,
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|m| m.org.name == name)
}

async fn registration_review_and_directory(backend: Backend) {
    let app = spawn(backend).await;
    let v = visitor(&app, "/partners/join").await;

    // Every problem by field, in Japanese, nothing stored.
    let bad = v
        .post_form(
            "/partners/join",
            &[
                ("name", ""),
                ("org_type", "x"),
                ("lg_code", "271404"),
                ("email", "nope"),
                ("fax_number", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    for anchor in [
        "#name",
        "#org_type",
        "#lg_code",
        "#address",
        "#contact_person",
        "#email",
        "#sdg_goals",
    ] {
        assert!(
            bad.body.contains(&format!("href=\"{anchor}\"")),
            "{anchor} missing in the error summary"
        );
    }
    assert!(
        bad.body.contains("検査数字が違います（正しくは3）"),
        "lg_code reason"
    );
    assert!(bad.body.contains("id=\"email-error\""));
    // The form keeps what was typed.
    assert!(bad.body.contains("value=\"nope\""));
    let en = v
        .post_form(
            "/partners/join?lang=en",
            &[("name", ""), ("fax_number", "")],
        )
        .await;
    assert!(en.body.contains("is required"), "English messages");

    // A name with markup is stored as text and shown escaped everywhere.
    let name = "<script>alert(1)</script>みなと環境";
    let ok = v
        .post_form("/partners/join", &registration(name, "hanako@example.jp"))
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), "/partners/join/thanks");
    let stored = member_named(&app, name).await.expect("stored");
    assert_eq!(stored.status, MemberStatus::Pending);
    assert_eq!(stored.org.lg_code, "271403", "check digit added");

    // Not in the directory before approval.
    let dir = app
        .client()
        .get("/partners/directory?q=%E3%81%BF%E3%81%AA%E3%81%A8%E7%92%B0%E5%A2%83")
        .await;
    assert!(!dir.body.contains("alert(1)"), "not listed before approval");

    // Staff: the desk approves; a rejection needs its reason.
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let list = desk
        .get("/partners/members?status=pending&q=%E3%81%BF%E3%81%AA%E3%81%A8%E7%92%B0%E5%A2%83")
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;みなと環境")
    );
    assert!(!list.body.contains("<script>alert(1)"));
    let path = format!("/partners/members/{}/decision", stored.id);
    let no_reason = desk
        .post_form(&path, &[("decision", "reject"), ("reason", "")])
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("id=\"reason-error\""));
    let approved = desk
        .post_form(&path, &[("decision", "approve"), ("reason", "ようこそ")])
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    let page = desk.get(approved.location()).await;
    assert!(
        page.body.contains("承認しました"),
        "the applicant's notice is shown"
    );
    let again = desk
        .post_form(&path, &[("decision", "reject"), ("reason", "x")])
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "decided once only"
    );

    // The public directory: listed, escaped, only consented fields.
    let dir = app
        .client()
        .get("/partners/directory?q=%E3%81%BF%E3%81%AA%E3%81%A8%E7%92%B0%E5%A2%83")
        .await;
    assert_eq!(dir.status, StatusCode::OK);
    assert!(
        dir.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;みなと環境"),
        "{}",
        dir.body
    );
    assert!(!dir.body.contains("<script>alert(1)"));
    assert!(!dir.body.contains("hanako@example.jp") && !dir.body.contains("山田 花子"));
    assert!(
        !dir.body.contains("中央区本町1-1"),
        "address was not consented"
    );
    let api: serde_json::Value = app
        .client()
        .get("/api/v1/partners/directory?q=%E7%92%B0%E5%A2%83")
        .await
        .body
        .parse()
        .unwrap();
    let item = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .expect("in the API directory")
        .clone();
    assert_eq!(item["address"], serde_json::Value::Null);
    assert_eq!(item["sdg_goals"], serde_json::json!([7, 13]));
    assert!(!api.to_string().contains("email"));

    // Paging: the demo's ~1,000 listed members come 50 a page.
    let p2: serde_json::Value = app
        .client()
        .get("/api/v1/partners/directory?page=2")
        .await
        .body
        .parse()
        .unwrap();
    assert_eq!(p2["items"].as_array().unwrap().len(), 50);
    assert!(p2["total"].as_i64().unwrap() > 500);

    // Every staff action is in the audit log.
    let audit = app.store.audit_entries(50, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "approve" && e.key == stored.id.to_string())
    );
    assert!(
        audit
            .iter()
            .any(|e| e.action == "register" && e.actor == "public")
    );
}
both!(registration, registration_review_and_directory);

async fn public_form_defences(backend: Backend) {
    let app = spawn(backend).await;
    let before = app
        .store
        .members(&MemberFilter {
            status: None,
            q: String::new(),
            page: 1,
            per_page: 1,
        })
        .await
        .unwrap()
        .total;

    // No token, or another site's origin: refused.
    let anon = app.client();
    let r = anon
        .post_raw_form("/partners/join", &registration("Token無し", "a@example.jp"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let v = visitor(&app, "/partners/join").await;
    let mut fields = registration("他サイト", "a@example.jp");
    fields.push(("csrf", v.csrf.as_str()));
    let foreign = v
        .send(
            v.request(Method::POST, "/partners/join")
                .header("origin", "http://evil.example")
                .form(&fields),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);

    // The honeypot: a bot is thanked and nothing is stored.
    let mut bot = registration("ボット商事", "bot@example.jp");
    bot.retain(|(k, _)| *k != "fax_number");
    bot.push(("fax_number", "0612345678"));
    let r = v.post_form("/partners/join", &bot).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(member_named(&app, "ボット商事").await.is_none());

    // Size limit: a field far beyond its limit is refused whole, naming the
    // field (the text limits at the edge answer before the form is read).
    let huge = "あ".repeat(40_000);
    let mut big = registration("大きな会社", "big@example.jp");
    big.push(("offers", &huge));
    let r = v.post_form("/partners/join", &big).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.body.chars().take(300).collect::<String>()
    );
    assert!(r.body.contains("offers"), "the field is named");
    assert!(member_named(&app, "大きな会社").await.is_none());

    // Rate limit per address: after the limit, 429 with Retry-After, nothing stored.
    let mut last = StatusCode::OK;
    for i in 0..25 {
        let n = format!("連投{i}");
        let r = v
            .post_form("/partners/join", &registration(&n, "r@example.jp"))
            .await;
        last = r.status;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers.get("retry-after").is_some());
            assert!(r.body.contains("送信が多すぎます"));
            assert!(member_named(&app, &n).await.is_none());
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let after = app
        .store
        .members(&MemberFilter {
            status: None,
            q: String::new(),
            page: 1,
            per_page: 1,
        })
        .await
        .unwrap()
        .total;
    // 20 allowed per hour: the honeypot, the oversized body and 17 real ones used them.
    assert!(after - before <= 20 && after > before, "{before} → {after}");
}
both!(defences, public_form_defences);

async fn desk_inquiries_and_personal_data(backend: Backend) {
    let app = spawn(backend).await;
    // A citizen asks through the public form.
    let v = visitor(&app, "/partners/inquire").await;
    let bad = v
        .post_form(
            "/partners/inquire",
            &[
                ("category", "partnership"),
                ("subject", ""),
                ("fax_number", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#subject\"") && bad.body.contains("href=\"#email\""));
    let subject = "実証フィールド<b>の</b>相談 ZQ7";
    let ok = v
        .post_form(
            "/partners/inquire",
            &[
                ("category", "demonstration"),
                ("org_name", "みなと電機"),
                ("subject", subject),
                ("content", "公園で実証したい"),
                ("person_name", "佐藤 一郎"),
                ("email", "sato@example.jp"),
                ("fax_number", ""),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let list: serde_json::Value = desk
        .get("/api/v1/partners/inquiries?q=zq7")
        .await
        .body
        .parse()
        .unwrap();
    let id = list["items"][0]["id"].as_i64().expect("the new inquiry");
    assert_eq!(
        list["items"][0]["personal"]["email"], "sato@example.jp",
        "the desk sees personal data"
    );

    // The desk's list: overdue first (the demo has overdue inquiries).
    let all: serde_json::Value = desk
        .get("/api/v1/partners/inquiries")
        .await
        .body
        .parse()
        .unwrap();
    let today = citykpi_app::partners::today().to_string();
    let first_due = all["items"][0]["due_on"].as_str().unwrap().to_string();
    assert!(
        first_due < today,
        "first is overdue: {first_due} vs {today}"
    );
    let page = desk.get("/partners/inquiries").await;
    assert!(page.body.contains("期限超過"));

    // Route it to the KENKO department; its editor then sees it with personal data, another department does not see it at all.
    let editor_kenko = app.login("editor-kenko").await;
    assert_eq!(
        editor_kenko
            .get(&format!("/partners/inquiries/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let routed = desk
        .post_form(
            &format!("/partners/inquiries/{id}/route"),
            &[("departments", "KENKO")],
        )
        .await;
    assert_eq!(routed.status, StatusCode::SEE_OTHER);
    let seen = editor_kenko.get(&format!("/partners/inquiries/{id}")).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("sato@example.jp"));
    assert!(
        seen.body
            .contains("実証フィールド&lt;b&gt;の&lt;/b&gt;相談")
    );
    let editor_kodomo = app.login("editor-kodomo").await;
    assert_eq!(
        editor_kodomo
            .get(&format!("/partners/inquiries/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let theirs: serde_json::Value = editor_kodomo
        .get("/api/v1/partners/inquiries")
        .await
        .body
        .parse()
        .unwrap();
    assert!(theirs["items"].as_array().unwrap().iter().all(|i| {
        i["departments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "KODOMO")
    }));
    // Finance has no department routing here: sees none, and the route to reply is refused.
    let finance = app.login(&app.user_with(Role::Finance).await.login).await;
    let fin: serde_json::Value = finance
        .get("/api/v1/partners/inquiries")
        .await
        .body
        .parse()
        .unwrap();
    assert!(
        fin["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["personal"]["email"] == ""),
        "no personal data outside the routing"
    );
    assert_eq!(
        finance
            .post_form(&format!("/partners/inquiries/{id}/reply"), &[("body", "x")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // The department answers: 受付 → 完了 refused, 受付 → 対応中 → 回答済 allowed.
    let skip = editor_kenko
        .post_form(
            &format!("/partners/inquiries/{id}/reply"),
            &[("status", "closed"), ("body", "x")],
        )
        .await;
    assert_eq!(skip.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(skip.body.contains("受付から完了には進められません"));
    for (status, body) in [
        ("in_progress", ""),
        ("answered", "公園緑地課をご紹介しました"),
    ] {
        let r = editor_kenko
            .post_form(
                &format!("/partners/inquiries/{id}/reply"),
                &[("status", status), ("body", body)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{status}: {}", r.body);
    }
    let detail: serde_json::Value = desk
        .get(&format!("/api/v1/partners/inquiries/{id}"))
        .await
        .body
        .parse()
        .unwrap();
    assert_eq!(detail["inquiry"]["status"], "answered");
    assert_eq!(detail["replies"].as_array().unwrap().len(), 2);
    assert!(
        app.store
            .audit_entries(20, 0)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "reply" && e.actor == "editor-kenko")
    );

    // Staff entry of a phone call.
    let new = desk
        .post_form(
            "/partners/inquiries",
            &[
                ("category", "startup"),
                ("channel", "phone"),
                ("subject", "進出の相談"),
                ("content", "事務所を探している"),
                ("departments", "SANGYO"),
                ("due_on", ""),
            ],
        )
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "{}", new.body);
    let bad_due = desk
        .post_form(
            "/partners/inquiries",
            &[
                ("category", "startup"),
                ("channel", "phone"),
                ("subject", "x"),
                ("content", "y"),
                ("due_on", "2001-01-01"),
            ],
        )
        .await;
    assert_eq!(bad_due.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_due.body.contains("id=\"due_on-error\""));
}
both!(desk, desk_inquiries_and_personal_data);

async fn proposals_and_api_roles(backend: Backend) {
    let app = spawn(backend).await;
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let list: serde_json::Value = desk
        .get("/api/v1/partners/proposals")
        .await
        .body
        .parse()
        .unwrap();
    let id = list["items"][0]["id"].as_i64().expect("demo proposals");
    let path = format!("/partners/proposals/{id}");
    let page = desk.get(&path).await;
    assert!(page.body.contains("計画のKPIへの寄与"));
    // Scoring at intake is refused; the pipeline goes 受付 → 対話 → 検討.
    let early = desk
        .post_form(
            &format!("{path}/score"),
            &[
                ("score_kpi_contribution", "4"),
                ("score_feasibility", "4"),
                ("score_city_cost", "4"),
                ("score_sustainability", "4"),
                ("score_novelty", "4"),
            ],
        )
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    for stage in ["dialogue", "review"] {
        assert_eq!(
            desk.post_form(
                &format!("{path}/stage"),
                &[("stage", stage), ("reason", "")]
            )
            .await
            .status,
            StatusCode::SEE_OTHER
        );
    }
    let bad = desk
        .post_form(&format!("{path}/score"), &[("score_kpi_contribution", "9")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#score_kpi_contribution\""));
    let low = desk
        .post_form(
            &format!("{path}/score"),
            &[
                ("score_kpi_contribution", "2"),
                ("score_feasibility", "5"),
                ("score_city_cost", "5"),
                ("score_sustainability", "5"),
                ("score_novelty", "5"),
            ],
        )
        .await;
    assert_eq!(low.status, StatusCode::SEE_OTHER);
    let refused = desk
        .post_form(
            &format!("{path}/stage"),
            &[("stage", "adopted"), ("reason", "総合点が高い")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("KPIへの寄与が3点未満"));
    desk.post_form(
        &format!("{path}/score"),
        &[
            ("score_kpi_contribution", "4"),
            ("score_feasibility", "3"),
            ("score_city_cost", "3"),
            ("score_sustainability", "3"),
            ("score_novelty", "3"),
        ],
    )
    .await;
    let adopted = desk
        .post_form(
            &format!("{path}/stage"),
            &[("stage", "adopted"), ("reason", "KPIへの寄与が大きい")],
        )
        .await;
    assert_eq!(adopted.status, StatusCode::SEE_OTHER, "{}", adopted.body);
    let p = app.store.proposal(id).await.unwrap().unwrap();
    assert_eq!(p.decision_reason, "KPIへの寄与が大きい");

    // A viewer reads proposals without the proposer's e-mail and cannot move them.
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let vlist: serde_json::Value = viewer
        .get("/api/v1/partners/proposals")
        .await
        .body
        .parse()
        .unwrap();
    assert!(
        vlist["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["contact_email"] == "")
    );
    assert_eq!(
        viewer
            .post_form(
                &format!("{path}/stage"),
                &[("stage", "agreement"), ("reason", "")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer.get("/partners/members").await.status,
        StatusCode::FORBIDDEN,
        "registrations hold personal data: desk only"
    );

    // The API: members for the desk only; decisions with every problem by field.
    assert_eq!(
        app.client().get("/api/v1/partners/members").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        viewer.get("/api/v1/partners/members").await.status,
        StatusCode::FORBIDDEN
    );
    let pending: serde_json::Value = desk
        .get("/api/v1/partners/members?status=pending")
        .await
        .body
        .parse()
        .unwrap();
    let mid = pending["items"][0]["id"]
        .as_i64()
        .expect("demo has pending members");
    let r = desk
        .send(
            desk.request(
                Method::POST,
                &format!("/api/v1/partners/members/{mid}/decision"),
            )
            .header("x-csrf-token", desk.csrf.clone())
            .json(&serde_json::json!({ "decision": "reject", "reason": "" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = r.body.parse().unwrap();
    assert_eq!(err["error"]["problems"][0]["field"], "reason");
    assert!(
        err["error"]["problems"][0]["en"]
            .as_str()
            .unwrap()
            .contains("required")
    );
    let r = desk
        .send(
            desk.request(
                Method::POST,
                &format!("/api/v1/partners/members/{mid}/decision"),
            )
            .header("x-csrf-token", desk.csrf.clone())
            .json(&serde_json::json!({ "decision": "reject", "reason": "所在地を確認できません" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ok: serde_json::Value = r.body.parse().unwrap();
    assert_eq!(ok["member"]["status"], "rejected");
    assert!(
        ok["notice"]
            .as_str()
            .unwrap()
            .contains("所在地を確認できません")
    );
    // The OpenAPI document lists this area's routes.
    let doc: serde_json::Value = app
        .client()
        .get("/api/openapi.json")
        .await
        .body
        .parse()
        .unwrap();
    assert!(doc["paths"]["/api/v1/partners/directory"]["get"].is_object());
}
both!(proposals, proposals_and_api_roles);

async fn attachments_are_downloads_only(backend: Backend) {
    let app = spawn(backend).await;
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let list: serde_json::Value = desk
        .get("/api/v1/partners/proposals")
        .await
        .body
        .parse()
        .unwrap();
    let id = list["items"][0]["id"].as_i64().unwrap();
    let upload = |name: &'static str, bytes: Vec<u8>, client: &Client| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
        let form = reqwest::multipart::Form::new().part("file", part);
        client
            .request(
                Method::POST,
                &format!("/partners/proposals/{id}/attachments"),
            )
            .header("x-csrf-token", &client.csrf)
            .multipart(form)
    };
    let pdf = b"%PDF-1.7\n<html><script>alert(1)</script>".to_vec();
    let ok = desk.send(upload("提案書.pdf", pdf.clone(), &desk)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    // A page posing as a text file, and an executable named .pdf: refused with the field named.
    for (name, bytes) in [
        ("page.html", b"<script>alert(1)</script>".to_vec()),
        ("run.pdf", b"MZ\x90\x00".to_vec()),
    ] {
        let r = desk.send(upload(name, bytes, &desk)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains("href=\"#file\""), "{name}");
    }
    // Without the CSRF token the upload is refused.
    let no_token = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.txt"),
    );
    let r = desk
        .send(
            desk.request(
                Method::POST,
                &format!("/partners/proposals/{id}/attachments"),
            )
            .multipart(no_token),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A viewer reads but does not upload.
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    assert_eq!(
        viewer
            .send(upload("a.txt", b"x".to_vec(), &viewer))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let files = app.store.attachments(id).await.unwrap();
    assert_eq!(files.len(), 1);
    let page = desk.get(&format!("/partners/proposals/{id}")).await;
    assert!(
        page.body
            .contains(&format!("/partners/attachments/{}", files[0].id))
    );
    let dl = viewer
        .get(&format!("/partners/attachments/{}", files[0].id))
        .await;
    assert_eq!(dl.status, StatusCode::OK);
    assert_eq!(dl.headers["content-type"], "application/octet-stream");
    assert_eq!(dl.headers["x-content-type-options"], "nosniff");
    let disposition = dl.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E6%8F%90%E6%A1%88%E6%9B%B8.pdf"),
        "{disposition}"
    );
    assert_eq!(dl.body.as_bytes(), &pdf[..]);
    assert_eq!(
        app.client()
            .get(&format!("/partners/attachments/{}", files[0].id))
            .await
            .status,
        StatusCode::SEE_OTHER,
        "staff only"
    );
}
both!(attachments, attachments_are_downloads_only);

async fn retention_erases_old_personal_data(backend: Backend) {
    use citykpi_domain::partner::Day;
    use citykpi_domain::partner::desk::{self, InquiryForm, InquiryStatus};
    let app = spawn(backend).await;
    let long_ago = Day::parse("2020-01-06").unwrap();
    let form = InquiryForm {
        category: "other".into(),
        channel: "mail".into(),
        subject: "古い相談".into(),
        content: "内容".into(),
        person_name: "古川 一".into(),
        email: "old@example.jp".into(),
        ..InquiryForm::default()
    };
    let i = app
        .store
        .insert_inquiry(&desk::validate(&form, long_ago, false).unwrap(), "desk")
        .await
        .unwrap();
    for (s, body) in [
        (InquiryStatus::InProgress, ""),
        (InquiryStatus::Answered, "回答"),
        (InquiryStatus::Closed, ""),
    ] {
        app.store
            .reply_inquiry(i.id, Some(s), body, "desk", long_ago)
            .await
            .unwrap();
    }
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    assert_eq!(
        viewer
            .post_form("/partners/inquiries/retention", &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let r = desk.post_form("/partners/inquiries/retention", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/partners/inquiries?erased="),
        "{}",
        r.location()
    );
    let (after, _) = app.store.inquiry(i.id).await.unwrap().unwrap();
    assert!(
        after.personal.is_empty(),
        "erased after the retention period"
    );
    assert_eq!(after.subject, "古い相談");
    let page = desk.get(&format!("/partners/inquiries/{}", i.id)).await;
    assert!(
        page.body
            .contains("保存期間を過ぎたため個人情報は消去されました")
    );
    assert!(!page.body.contains("old@example.jp"));
    let audit = app.store.audit_entries(200, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "erase_personal" && e.key == i.id.to_string())
    );
}
both!(retention, retention_erases_old_personal_data);

/// The LINE official account's webhook: signed calls become desk inquiries
/// (one transaction, an audit row each), wrong or missing signatures are
/// refused with 401 and write nothing, a signed body that is not JSON is a
/// 400 with a message; a session cookie neither helps nor is needed.
async fn line_webhook_signed_and_tampered(backend: Backend) {
    use citykpi_app::partners::{LINE_SECRET_SETTING, line_signature};
    use citykpi_domain::partner::desk::Channel;
    const SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let app = spawn(backend).await;
    let count = || async {
        app.store
            .inquiries(&citykpi_store::InquiryFilter::new(
                citykpi_app::partners::today(),
            ))
            .await
            .unwrap()
            .total
    };
    let before = count().await;
    let body = serde_json::json!({
        "destination": "U0123456789abcdef0123456789abcdef",
        "events": [
            { "type": "message", "mode": "active", "timestamp": 1_767_225_600_000u64,
              "source": { "type": "user", "userId": "Uaaaabbbbccccddddeeeeffff00001111" },
              "webhookEventId": "01J0000000000000000000000A", "deliveryContext": { "isRedelivery": false },
              "replyToken": "r1", "message": { "id": "1", "type": "text", "text": "公園のベンチが壊れています\n中央公園の東側" } },
            { "type": "message", "timestamp": 1_767_225_601_000u64,
              "source": { "type": "user", "userId": "Uaaaabbbbccccddddeeeeffff00002222" },
              "replyToken": "r2", "message": { "id": "2", "type": "text", "text": "<script>alert(1)</script>SDGsの登録について" } },
            { "type": "follow", "timestamp": 1_767_225_602_000u64, "source": { "type": "user", "userId": "U3" } }
        ]
    })
    .to_string();
    let sig = line_signature(SECRET, body.as_bytes());
    let c = app.client();
    let post = |body: String, sig: Option<String>| {
        let mut req = c
            .request(Method::POST, "/partners/line/webhook")
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = sig {
            req = req.header("x-line-signature", s);
        }
        c.send(req)
    };

    // No channel secret yet: refused as a configuration problem, nothing stored.
    let r = post(body.clone(), Some(sig.clone())).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    app.store
        .set_setting(LINE_SECRET_SETTING, SECRET)
        .await
        .unwrap();

    // Missing, wrong and tampered signatures: 401, nothing stored.
    let r = post(body.clone(), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert!(r.body.contains("X-Line-Signature"), "{}", r.body);
    let r = post(
        body.clone(),
        Some(line_signature("another-secret", body.as_bytes())),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert!(r.body.contains("一致しません"), "{}", r.body);
    let tampered = body.replace("壊れています", "直りました");
    let r = post(tampered, Some(sig.clone())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = post(body.clone(), Some("not base64!".into())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count().await, before, "nothing stored from refused calls");

    // A logged-in desk user's cookie and CSRF token do not replace the signature.
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let r = desk
        .send(
            desk.request(Method::POST, "/partners/line/webhook")
                .header("x-csrf-token", desk.csrf.clone())
                .header("content-type", "application/json")
                .body(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Signed: two text messages become two inquiries; the follow event does not.
    let r = post(body.clone(), Some(sig.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let answer: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let ids: Vec<i64> = answer["inquiries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_i64)
        .collect();
    assert_eq!(ids.len(), 2, "{}", r.body);
    assert_eq!(count().await, before + 2);
    let (i, _) = app.store.inquiry(ids[0]).await.unwrap().unwrap();
    assert_eq!(i.channel, Channel::Line);
    assert_eq!(i.subject, "公園のベンチが壊れています");
    assert_eq!(i.personal.name, "LINE Uaaaabbbbccccddddeeeeffff00001111");
    let audit = app.store.audit_entries(50, 0).await.unwrap();
    for id in &ids {
        assert!(
            audit.iter().any(|e| e.actor == "line"
                && e.entity == "partner_inquiry"
                && e.key == id.to_string()),
            "an audit row for inquiry {id}"
        );
    }
    // The desk sees it in the list, escaped.
    let list = desk.get(&format!("/partners/inquiries/{}", ids[1])).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains("<script>alert(1)</script>"));
    assert!(list.body.contains("&lt;script&gt;"));

    // LINE's "verify" call (no events) is answered 200 and stores nothing.
    let verify = r#"{"destination":"U0123456789abcdef0123456789abcdef","events":[]}"#.to_string();
    let r = post(
        verify.clone(),
        Some(line_signature(SECRET, verify.as_bytes())),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(count().await, before + 2);

    // Signed but malformed JSON: 400 with a message, nothing stored.
    let junk = r#"{"events": [ {"type": "message", "#.to_string();
    let r = post(junk.clone(), Some(line_signature(SECRET, junk.as_bytes()))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("JSONとして読めません"), "{}", r.body);
    assert_eq!(count().await, before + 2);
}
both!(line_webhook, line_webhook_signed_and_tampered);

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

/// The partnership lists as CSV, XLSX and JSON: the member register for the
/// desk only; inquiries as each user handles them, personal data only where
/// allowed; a proposal's contact address for the desk only; each download in
/// the audit log; the links on the pages.
async fn exports_follow_the_personal_data_rules(backend: Backend) {
    use citykpi_domain::partner::desk::{self, InquiryForm};
    let app = spawn(backend).await;
    let desk_user = app.user_with(Role::StrategyOffice).await;
    let desk = app.login(&desk_user.login).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let editor_dept = app.department_of(&editor_user.section_code).await;
    let other_dept = app
        .store
        .departments()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.code)
        .find(|d| *d != editor_dept)
        .unwrap();
    let mut ids = Vec::new();
    for (dept, email) in [
        (&editor_dept, "own-dept@example.jp"),
        (&other_dept, "other-dept@example.jp"),
    ] {
        let form = InquiryForm {
            category: "other".into(),
            channel: "phone".into(),
            subject: format!("書き出し確認 {dept}"),
            content: "内容".into(),
            person_name: "書出 太郎".into(),
            email: email.into(),
            ..InquiryForm::default()
        };
        let new = desk::validate(&form, citykpi_app::partners::today(), false).unwrap();
        let i = app.store.insert_inquiry(&new, "desk").await.unwrap();
        app.store
            .route_inquiry(i.id, std::slice::from_ref(dept), "desk")
            .await
            .unwrap();
        ids.push(i.id);
    }

    // Members: the desk's XLSX holds the register with contacts, cell by cell.
    let members = app
        .store
        .members_for_export(&MemberFilter::default())
        .await
        .unwrap();
    assert!(!members.is_empty());
    let (status, headers, bytes) = desk.get_bytes("/partners/export/members?format=xlsx").await;
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
            .starts_with("attachment; filename=\"partner-members-")
    );
    let rows = xlsx_cells(&bytes);
    assert_eq!(rows.len(), members.len() + 1);
    let m = &members[0];
    assert_eq!(rows[1][column(&rows, "会員番号")], m.id.to_string());
    assert_eq!(rows[1][column(&rows, "団体名")], m.org.name);
    assert_eq!(rows[1][column(&rows, "メールアドレス")], m.contact.email);
    assert_eq!(
        rows[1][column(&rows, "状態")],
        m.status.label_ja(),
        "labels in Japanese"
    );
    // English headers and labels with ?lang=en.
    let (_, _, en) = desk
        .get_bytes("/partners/export/members?format=xlsx&lang=en")
        .await;
    let en = xlsx_cells(&en);
    assert_eq!(en[1][column(&en, "name")], m.org.name);
    assert_eq!(en[1][column(&en, "status")], m.status.label_en());
    // CSV: BOM, Japanese headers, the same rows.
    let (_, _, csv) = desk.get_bytes("/partners/export/members?format=csv").await;
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.lines().next().unwrap().contains("団体名"));
    assert_eq!(csv.lines().count(), members.len() + 1);
    // Nobody else downloads the register, nor asks for an unknown format.
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    assert_eq!(
        viewer
            .get("/partners/export/members?format=csv")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        desk.get("/partners/export/members?format=pdf").await.status,
        StatusCode::BAD_REQUEST
    );

    // Inquiries: the desk sees both with personal data; the department
    // editor only the one routed to its department.
    let (_, _, bytes) = desk
        .get_bytes("/partners/export/inquiries?format=xlsx")
        .await;
    let rows = xlsx_cells(&bytes);
    let email = column(&rows, "メールアドレス");
    let id = column(&rows, "相談番号");
    for (n, want) in [
        (ids[0], "own-dept@example.jp"),
        (ids[1], "other-dept@example.jp"),
    ] {
        let row = rows
            .iter()
            .find(|r| r[id] == n.to_string())
            .expect("the inquiry");
        assert_eq!(row[email], want);
    }
    let editor = app.login(&editor_user.login).await;
    let (status, _, bytes) = editor
        .get_bytes("/partners/export/inquiries?format=xlsx")
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = xlsx_cells(&bytes);
    assert!(rows.iter().any(|r| r[id] == ids[0].to_string()));
    assert!(
        !rows.iter().any(|r| r[id] == ids[1].to_string()),
        "another department's inquiry is not in the file"
    );
    assert!(rows.iter().all(|r| r[email] != "other-dept@example.jp"));
    // A viewer without routed inquiries gets personal data of none.
    let (_, _, csv) = viewer
        .get_bytes("/partners/export/inquiries?format=csv")
        .await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(!csv.contains("other-dept@example.jp"));

    // Proposals: the contact address column is the desk's.
    let proposals = app.store.proposals_for_export(None).await.unwrap();
    let p = proposals
        .iter()
        .find(|p| !p.contact_email.is_empty())
        .expect("a demo proposal with a contact");
    let (_, _, bytes) = desk
        .get_bytes("/partners/export/proposals?format=xlsx")
        .await;
    let rows = xlsx_cells(&bytes);
    let row = rows
        .iter()
        .find(|r| r[column(&rows, "提案番号")] == p.id.to_string())
        .unwrap();
    assert_eq!(row[column(&rows, "件名")], p.title);
    assert_eq!(row[column(&rows, "連絡先メールアドレス")], p.contact_email);
    let (_, _, bytes) = viewer
        .get_bytes("/partners/export/proposals?format=xlsx")
        .await;
    let rows = xlsx_cells(&bytes);
    assert!(!rows[0].iter().any(|h| h == "連絡先メールアドレス"));
    assert!(rows.iter().flatten().all(|c| *c != p.contact_email));

    // The API gives the same lists (JSON by the columns' keys).
    let api = desk
        .get("/api/v1/partners/export/proposals?format=json")
        .await;
    assert_eq!(api.status, StatusCode::OK);
    let json: serde_json::Value = api.body.parse().unwrap();
    assert_eq!(json.as_array().unwrap().len(), proposals.len());
    assert!(json[0].get("score_total").is_some());
    assert_eq!(
        viewer
            .get("/api/v1/partners/export/members?format=json")
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Download links on the pages; every download in the audit log.
    assert!(
        desk.get("/partners/members")
            .await
            .body
            .contains("/partners/export/members?format=xlsx")
    );
    assert!(
        editor
            .get("/partners/inquiries")
            .await
            .body
            .contains("/partners/export/inquiries?format=csv")
    );
    let audit = app.store.audit_entries(200, 0).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "export"
        && e.entity == "partner_member"
        && e.actor == desk_user.login));
    assert!(audit.iter().any(|e| e.action == "export"
        && e.entity == "partner_inquiry"
        && e.actor == editor_user.login));
}
both!(exports, exports_follow_the_personal_data_rules);

/// The SDGs menu, the demonstrations registry and the PR calendar: every
/// logged-in user reads them (demo data shown, escaped), visitors are sent
/// to the login, and the pages link to each other.
async fn menu_demonstrations_and_pr_pages(backend: Backend) {
    let app = spawn(backend).await;
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let menu = app.store.menu_items().await.unwrap();
    let demos = app.store.demonstrations().await.unwrap();
    assert!(!menu.is_empty() && !demos.is_empty(), "the demo has both");

    let page = viewer.get("/partners/menu").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("SDGs貢献メニュー"));
    for item in &menu {
        assert!(page.body.contains(&format!("id=\"menu-{}\"", item.code)));
    }
    assert!(
        page.body
            .contains(&format!("href=\"/kpis/{}\"", menu[0].kpi_codes[0]))
    );

    let page = viewer.get("/partners/demonstrations").await;
    assert_eq!(page.status, StatusCode::OK);
    for d in &demos {
        assert!(
            page.body.contains(&format!("id=\"demo-{}\"", d.code)),
            "{}",
            d.code
        );
    }
    assert!(page.body.contains("分野：モビリティ") || page.body.contains("分野：ヘルスケア"));
    assert!(page.body.contains("citykpi ngsi import"));

    // The PR calendar: a month with a plan shows it; a bad month is a 400.
    let plans = app
        .store
        .pr_plans_between(
            citykpi_domain::partner::Day::parse("2000-01-01").unwrap(),
            citykpi_domain::partner::Day::parse("2100-01-01").unwrap(),
        )
        .await
        .unwrap();
    let p = plans.first().expect("a demo PR plan");
    let month = format!("{:04}-{:02}", p.start.year(), p.start.month());
    let page = viewer.get(&format!("/partners/pr?month={month}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("id=\"pr-{}\"", p.code)),
        "{month}"
    );
    assert_eq!(
        viewer.get("/partners/pr?month=2026-13").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(viewer.get("/partners/pr").await.status, StatusCode::OK);

    // The pages link to each other; the register only for the desk.
    assert!(page.body.contains("href=\"/partners/demonstrations\""));
    assert!(!page.body.contains("href=\"/partners/members\""));
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let desk_menu = desk.get("/partners/menu").await.body;
    assert!(desk_menu.contains("href=\"/partners/members\""));
    // The desk is shown members to involve for open items, with reasons.
    if menu.iter().any(|m| m.open) {
        assert!(desk_menu.contains("連携候補の会員"));
        assert!(desk_menu.contains("href=\"/partners/members/"));
    }
    assert!(
        !viewer
            .get("/partners/menu")
            .await
            .body
            .contains("連携候補の会員")
    );
    // The desk records an application for an approved member, accepts it and
    // completes it with its result; every problem by field; audited.
    if let Some(item) = menu.iter().find(|m| m.open) {
        let applied: Vec<i64> = app
            .store
            .participations(Some(&item.code))
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.member_id)
            .collect();
        let member = app
            .store
            .members_for_export(&MemberFilter {
                status: Some(MemberStatus::Approved),
                ..MemberFilter::default()
            })
            .await
            .unwrap()
            .into_iter()
            .find(|m| !applied.contains(&m.id))
            .expect("an approved member who has not applied");
        let apply = format!("/partners/menu/{}/apply", item.code);
        let bad = desk
            .post_form(&apply, &[("member_id", "abc"), ("note", "")])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("href=\"#member_id\""));
        let ok = desk
            .post_form(
                &apply,
                &[
                    ("member_id", &member.id.to_string()),
                    ("note", "社員10名で参加"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let twice = desk
            .post_form(
                &apply,
                &[("member_id", &member.id.to_string()), ("note", "")],
            )
            .await;
        assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(twice.body.contains("すでに申し込まれています"));
        let p = app
            .store
            .participations(Some(&item.code))
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.member_id == member.id)
            .unwrap();
        let url = format!("/partners/participations/{}", p.id);
        let r = desk
            .post_form(&url, &[("status", "accepted"), ("result", "")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = desk
            .post_form(&url, &[("status", "completed"), ("result", "")])
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a result is needed"
        );
        let r = desk
            .post_form(
                &url,
                &[("status", "completed"), ("result", "清掃活動に120名参加")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = desk
            .post_form(&url, &[("status", "accepted"), ("result", "")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no way back");
        let page = viewer.get("/partners/menu").await.body;
        assert!(page.contains("清掃活動に120名参加"));
        assert!(
            !page.contains(&format!("action=\"{url}\"")),
            "no forms for a viewer"
        );
        assert_eq!(
            viewer
                .post_form(&url, &[("status", "declined")])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let audit = app.store.audit_entries(50, 0).await.unwrap();
        assert!(audit.iter().any(|e| e.entity.contains("participation")));
    }

    let anonymous = app.client().get("/partners/menu").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}
both!(menu_pages, menu_demonstrations_and_pr_pages);

/// NGSI-LD through the API: a broker's subscription notification, posted
/// with an API token (as a broker sends it through `receiverInfo`), becomes
/// the KPI's monthly actuals with an audit row; bad values are a 422 naming
/// entity and attribute, nothing written; unknown KPIs 404; viewers 403.
async fn ngsi_notifications_through_the_api(backend: Backend) {
    use citykpi_domain::observation::Period;
    let app = spawn(backend).await;
    let kpi = app.store.kpis().await.unwrap()[0].code.clone();
    let desk = app.login("admin").await;
    let issued = desk.post_form("/account/token", &[]).await;
    let i = issued.body.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token = issued.body[i..i + 64].to_string();
    let http = reqwest::Client::new();
    let spot = |id: &str, v: serde_json::Value, at: &str| {
        serde_json::json!({ "id": id, "type": "ParkingSpot",
            "occupancy": { "type": "Property", "value": v, "observedAt": at } })
    };
    let notification = |data: Vec<serde_json::Value>| {
        serde_json::json!({ "id": "urn:ngsi-ld:Notification:42", "type": "Notification",
            "subscriptionId": "urn:ngsi-ld:Subscription:parking", "notifiedAt": "2019-08-01T00:00:00Z",
            "data": data })
        .to_string()
    };
    let url = format!(
        "{}/api/v1/kpis/{kpi}/ngsi?attr=occupancy&aggregate=max",
        app.base
    );
    let post = |url: String, body: String| {
        http.post(url)
            .bearer_auth(&token)
            .header("content-type", "application/ld+json")
            .body(body)
            .send()
    };
    let count = || async {
        app.store
            .observations(&citykpi_store::ObservationFilter {
                kpi_codes: vec![kpi.clone()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .filter(|o| matches!(o.period, Period::Month(2019, _)))
            .count()
    };

    // A value that is not a number: 422 naming the entity and attribute; nothing stored.
    let bad = notification(vec![
        spot(
            "urn:ngsi-ld:ParkingSpot:a",
            serde_json::json!(0.4),
            "2019-07-01T10:00:00Z",
        ),
        spot(
            "urn:ngsi-ld:ParkingSpot:b",
            serde_json::json!("full"),
            "2019-07-02T10:00:00Z",
        ),
    ]);
    let r = post(url.clone(), bad).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["problems"][0]["entity"],
        "urn:ngsi-ld:ParkingSpot:b"
    );
    assert_eq!(body["error"]["problems"][0]["attribute"], "occupancy");
    assert_eq!(count().await, 0);

    // The good notification: two months, the maximum of each.
    let good = notification(vec![
        spot(
            "urn:ngsi-ld:ParkingSpot:a",
            serde_json::json!(0.4),
            "2019-07-01T10:00:00Z",
        ),
        spot(
            "urn:ngsi-ld:ParkingSpot:b",
            serde_json::json!(0.9),
            "2019-07-02T10:00:00Z",
        ),
        spot(
            "urn:ngsi-ld:ParkingSpot:a",
            serde_json::json!(0.7),
            "2019-08-01T10:00:00Z",
        ),
    ]);
    let r = post(url.clone(), good.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["counts"]["inserted"], 2, "{body}");
    assert_eq!(count().await, 2);
    let july = app
        .store
        .observations(&citykpi_store::ObservationFilter {
            kpi_codes: vec![kpi.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.period == Period::Month(2019, 7))
        .unwrap();
    assert_eq!(july.value.value(), Some(0.9));
    assert_eq!(july.entered_by, "admin");
    let audit = app.store.audit_entries(20, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "ngsi_ld_import" && e.key == kpi && e.actor == "admin")
    );
    // The KPI page's data follows (the read model is refreshed).
    let api: serde_json::Value = desk
        .get(&format!("/api/v1/kpis/{kpi}/observations"))
        .await
        .body
        .parse()
        .unwrap();
    assert!(api.to_string().contains("2019-07"), "{api}");

    // Unknown KPI, missing attribute, a viewer.
    let r = post(
        format!("{}/api/v1/kpis/NO_SUCH_KPI/ngsi?attr=occupancy", app.base),
        good.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = post(format!("{}/api/v1/kpis/{kpi}/ngsi", app.base), good.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let r = viewer
        .send(
            viewer
                .request(
                    Method::POST,
                    &format!("/api/v1/kpis/{kpi}/ngsi?attr=occupancy"),
                )
                .header("x-csrf-token", viewer.csrf.clone())
                .header("content-type", "application/json")
                .body(good),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
both!(ngsi_api, ngsi_notifications_through_the_api);

/// Project teams: the desk creates a team (every problem by field; unknown
/// KPIs and members refused), logs activities and results; everyone logged
/// in reads them; each change in the audit log.
async fn project_teams(backend: Backend) {
    let app = spawn(backend).await;
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let kpi = app.store.kpis().await.unwrap()[0].code.clone();
    let member = app
        .store
        .members_for_export(&MemberFilter::default())
        .await
        .unwrap()[0]
        .clone();
    let page = desk.get("/partners/teams").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("TEAM-01"), "the demo's teams");

    let bad = desk
        .post_form(
            "/partners/teams",
            &[
                ("code", ""),
                ("name", "臨海部の脱炭素"),
                ("goal", ""),
                ("member_ids", "abc"),
                ("kpi_codes", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for anchor in ["#code", "#goal", "#member_ids", "#kpi_codes"] {
        assert!(bad.body.contains(&format!("href=\"{anchor}\"")), "{anchor}");
    }
    let unknown = desk
        .post_form(
            "/partners/teams",
            &[
                ("code", "T-ZQ"),
                ("name", "臨海部の脱炭素"),
                ("goal", "CO2を半減"),
                ("member_ids", "99999999"),
                ("kpi_codes", "NO_SUCH_KPI"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("NO_SUCH_KPI"));
    let ids = member.id.to_string();
    let ok = desk
        .post_form(
            "/partners/teams",
            &[
                ("code", "T-ZQ"),
                ("name", "臨海部の<b>脱炭素</b>"),
                ("goal", "CO2を半減"),
                ("member_ids", &ids),
                ("section_codes", "KANKYO"),
                ("kpi_codes", &kpi),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let log = desk
        .post_form(
            "/partners/teams/T-ZQ/log",
            &[
                ("kind", "result"),
                ("on", "2026-04-01"),
                ("body", "削減量を確認"),
            ],
        )
        .await;
    assert_eq!(log.status, StatusCode::SEE_OTHER, "{}", log.body);
    let bad_log = desk
        .post_form(
            "/partners/teams/T-ZQ/log",
            &[("kind", "x"), ("on", "soon"), ("body", "")],
        )
        .await;
    assert_eq!(bad_log.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        desk.post_form(
            "/partners/teams/NOPE/log",
            &[("kind", "activity"), ("on", "2026-04-01"), ("body", "x")]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let desk_page = desk.get("/partners/teams").await.body;
    assert!(
        desk_page.contains("連携候補の会員"),
        "suggestions for the desk"
    );
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let page = viewer.get("/partners/teams").await;
    assert!(!page.body.contains("連携候補の会員"));
    assert!(page.body.contains("id=\"team-T-ZQ\""));
    assert!(page.body.contains("&lt;b&gt;脱炭素"), "escaped");
    assert!(page.body.contains(&member.org.name));
    assert!(page.body.contains("削減量を確認") && page.body.contains("成果"));
    assert!(
        !page.body.contains("action=\"/partners/teams\""),
        "no form for a viewer"
    );
    assert_eq!(
        viewer
            .post_form(
                "/partners/teams/T-ZQ/log",
                &[("kind", "activity"), ("on", "2026-04-01"), ("body", "x")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let entries = app.store.team_entries("T-ZQ").await.unwrap();
    assert_eq!(entries.len(), 1);
    let audit = app.store.audit_entries(50, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.entity == "partner_team" && e.action == "insert" && e.key == "T-ZQ")
    );
    assert!(
        audit
            .iter()
            .any(|e| e.entity == "partner_team" && e.action == "log" && e.key == "T-ZQ")
    );
}
both!(teams, project_teams);
