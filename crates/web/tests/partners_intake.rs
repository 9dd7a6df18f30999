//! HTTP tests of the private-proposal desk's intake against the
//! running server on both databases with the demo city: the public proposal
//! form (a proposal on a theme with a file, every bad field named and the
//! values kept, CSRF, honeypot, rate limit, refused files and bodies with
//! nothing written, escaping), the desk's entry of a proposal and its intake
//! details, the themes' administration and public page, the published
//! decisions (only with consent, escaped, never contact data), the JSON API
//! and who may use which route. A browser test submits a proposal on a theme
//! through the public form in headless Chromium and finds it in the desk's list.

mod common;

use citykpi_domain::org::Role;
use citykpi_domain::partner::attachment::MAX_BYTES;
use citykpi_domain::partner::proposal::{
    self, IntakeForm, ProposalChannel, ProposalForm, ProposalStage, Rubric,
};
use citykpi_store::Backend;
use common::{App, Client, csrf_in, spawn};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};

/// An uploaded file: its name and its bytes.
type NamedFile = (&'static str, Vec<u8>);

/// A visitor who has opened the public form: holds its pre-session token.
async fn visitor(app: &App, path: &str) -> Client {
    let mut c = app.client();
    let page = c.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}");
    c.csrf = csrf_in(&page.body).expect("csrf token in the form");
    c
}

/// A KPI the public sees (published) and that the demo theme T-PARK names.
async fn park_kpi(app: &App) -> String {
    app.store
        .theme("T-PARK")
        .await
        .unwrap()
        .expect("demo theme T-PARK")
        .kpi_codes
        .first()
        .cloned()
        .expect("T-PARK names a KPI")
}

fn fields<'a>(title: &'a str, kpi: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("proposer_name", "みなと電機株式会社"),
        ("contact_person", "提案 花子"),
        ("contact_email", "teian@example.jp"),
        ("contact_phone", ""),
        ("title", title),
        ("theme_code", "T-PARK"),
        (
            "summary",
            "公園にセンサーを置き、利用者の数を見える化します。",
        ),
        ("kpi_codes", kpi),
        ("sdg_goals", "11"),
        ("publish_consent", "1"),
        ("fax_number", ""),
    ]
}

fn multipart(fields: &[(&str, &str)], files: Vec<(&str, Vec<u8>)>) -> Form {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (name, bytes) in files {
        form = form.part("files", Part::bytes(bytes).file_name(name.to_string()));
    }
    form
}

async fn post_intake(c: &Client, path: &str, form: Form) -> common::Resp {
    c.send(
        c.request(Method::POST, path)
            .header("x-csrf-token", &c.csrf)
            .multipart(form),
    )
    .await
}

fn with<'a>(
    base: &[(&'static str, &'a str)],
    key: &'static str,
    value: &'a str,
) -> Vec<(&'static str, &'a str)> {
    base.iter()
        .map(|(k, v)| if *k == key { (*k, value) } else { (*k, *v) })
        .collect()
}

async fn count(app: &App) -> i64 {
    app.store.proposals(None, 1, 1).await.unwrap().total
}

async fn find(app: &App, title: &str) -> Option<citykpi_domain::partner::proposal::Proposal> {
    app.store
        .proposals(None, 1, 200)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|p| p.title == title)
}

const PDF: &[u8] = b"%PDF-1.7\n%proposal\n";

async fn public_intake_and_field_messages(backend: Backend) {
    let app = spawn(backend).await;
    let kpi = park_kpi(&app).await;

    // The public themes page lists the open demo themes, each linked to the form.
    let themes = app.client().get("/partners/themes").await;
    assert_eq!(themes.status, StatusCode::OK);
    assert!(themes.body.contains("/partners/propose?theme=T-PARK"));
    assert!(themes.body.contains("T-DX"));
    assert!(
        !themes.body.contains("T-ENERGY"),
        "a theme past its last day is not listed"
    );
    // The public portal links to the desk's public pages.
    let portal = app.client().get("/public").await;
    assert!(portal.body.contains("/partners/proposals/decisions"));
    assert!(portal.body.contains(r#"href="/partners/sdgs-menu""#));
    assert!(portal.body.contains("SDGs貢献メニュー"));

    // The form opened from a theme has it chosen, with its KPIs ticked.
    let v = visitor(&app, "/partners/propose?theme=T-PARK").await;
    let form = v.get("/partners/propose?theme=T-PARK").await.body;
    assert!(
        form.contains(r#"value="T-PARK" selected"#),
        "theme pre-selected"
    );
    assert!(form.contains(&format!(r#"value="{kpi}" checked"#)));
    assert!(form.contains("enctype=\"multipart/form-data\""));
    assert!(form.contains("name=\"fax_number\""), "honeypot");

    // A proposal on the theme with a file: thanked with its receipt number.
    let before = count(&app).await;
    let r = post_intake(
        &v,
        "/partners/propose",
        multipart(
            &fields("公園の見える化", &kpi),
            vec![("提案書.pdf", PDF.to_vec())],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.location().starts_with("/partners/propose/thanks?no=P-"),
        "{}",
        r.location()
    );
    let thanks = v.get(r.location()).await;
    let receipt = r.location().rsplit('=').next().unwrap().to_string();
    assert!(thanks.body.contains(&receipt), "receipt shown");
    assert!(thanks.body.contains("提案を受け付けました"));
    let p = find(&app, "公園の見える化").await.expect("stored");
    assert_eq!(count(&app).await, before + 1);
    assert_eq!(p.theme_code.as_deref(), Some("T-PARK"));
    assert_eq!(p.kpi_codes, vec![kpi.clone()]);
    assert_eq!(p.stage, ProposalStage::Received);
    assert!(p.publish_consent);
    let d = app.store.intake_details(p.id).await.unwrap().unwrap();
    assert_eq!(d.channel, ProposalChannel::Web);
    assert_eq!(d.receipt, receipt);
    assert_eq!(d.contact_person, "提案 花子");
    let files = app.store.attachments(p.id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].uploaded_by, "public");
    // A made-up receipt number in the address is not shown.
    let fake = v
        .get("/partners/propose/thanks?no=%3Cb%3Ebold%3C%2Fb%3E")
        .await;
    assert!(!fake.body.contains("<b>bold") && !fake.body.contains("&lt;b&gt;"));

    // Every bad field comes back named, in Japanese, with the entered values kept.
    let long = "あ".repeat(20_001);
    let base = fields("誤りのある提案", &kpi);
    let cases: Vec<(&str, Vec<(&'static str, &str)>)> = vec![
        ("title", with(&base, "title", "")),
        ("proposer_name", with(&base, "proposer_name", "  ")),
        ("contact_person", with(&base, "contact_person", "")),
        (
            "contact_email",
            with(&with(&base, "contact_email", ""), "contact_phone", ""),
        ),
        (
            "contact_email",
            with(&base, "contact_email", "not-an-address"),
        ),
        ("contact_phone", with(&base, "contact_phone", "abc")),
        ("theme_code", with(&base, "theme_code", "T-ENERGY")),
        ("theme_code", with(&base, "theme_code", "T-NONE")),
        ("kpi_codes", with(&base, "kpi_codes", "K-NOPE")),
        ("sdg_goals", with(&base, "sdg_goals", "18")),
        ("summary", with(&base, "summary", &long)),
        ("summary", with(&base, "summary", "")),
    ];
    for (field, f) in &cases {
        let r = post_intake(&v, "/partners/propose", multipart(f, vec![])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            r.body.contains(&format!("href=\"#{field}\"")),
            "{field}: the error summary links to the field"
        );
        assert!(r.body.contains(&format!("id=\"{field}-error\"")), "{field}");
        let kept = if *field == "proposer_name" {
            "提案 花子"
        } else {
            "みなと電機株式会社"
        };
        assert!(r.body.contains(kept), "{field}: values kept");
    }
    // A free proposal reached by phone only is fine.
    let free = with(
        &with(&with(&base, "theme_code", ""), "contact_email", ""),
        "contact_phone",
        "06-1234-5678",
    );
    let free = with(&free, "title", "電話だけの自由提案");
    let r = post_intake(&v, "/partners/propose", multipart(&free, vec![])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        find(&app, "電話だけの自由提案").await.unwrap().theme_code,
        None
    );
    assert_eq!(count(&app).await, before + 2, "no bad one was stored");

    // What is shown again is escaped.
    let evil = with(
        &with(&base, "title", "<script>alert('x')</script>"),
        "proposer_name",
        "",
    );
    let r = post_intake(&v, "/partners/propose", multipart(&evil, vec![])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.body.contains("<script>alert"));
    assert!(r.body.contains("&lt;script&gt;alert"));
}
both!(public_intake, public_intake_and_field_messages);

async fn public_form_defences(backend: Backend) {
    let app = spawn(backend).await;
    let kpi = park_kpi(&app).await;
    let before = count(&app).await;

    // No token, or another site's origin: refused before the body is read
    // (sent url-encoded: a refused multipart body may still be on its way
    // when the answer comes, and the client would see a broken pipe).
    let anon = app.client();
    let r = anon
        .post_raw_form("/partners/propose", &fields("トークン無し", &kpi))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let v = visitor(&app, "/partners/propose").await;
    let r = v
        .send(
            v.request(Method::POST, &format!("/partners/propose?csrf={}", v.csrf))
                .header("origin", "http://evil.example")
                .form(&fields("他サイト", &kpi)),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(find(&app, "トークン無し").await.is_none());

    // The honeypot: a bot is thanked and nothing is stored.
    let bot = with(&fields("ボットの提案", &kpi), "fax_number", "0612345678");
    let r = post_intake(&v, "/partners/propose", multipart(&bot, vec![])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/partners/propose/thanks");
    assert!(find(&app, "ボットの提案").await.is_none());

    // Files: too large, of a refused kind, or too many — 422 at the files, nothing written.
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(MAX_BYTES + 1, b'a');
    let bad_files: Vec<(&str, Vec<NamedFile>)> = vec![
        ("oversize", vec![("big.pdf", big)]),
        (
            "html",
            vec![("page.html", b"<script>alert(1)</script>".to_vec())],
        ),
        ("exe as pdf", vec![("run.pdf", b"MZ\x90\x00\x03".to_vec())]),
        ("html as txt", vec![("a.txt", b"<html>\x00".to_vec())]),
        (
            "too many",
            (0..4).map(|_| ("a.pdf", PDF.to_vec())).collect(),
        ),
        (
            "one good one bad",
            vec![("ok.pdf", PDF.to_vec()), ("bad.exe", b"MZ".to_vec())],
        ),
    ];
    for (what, files) in bad_files {
        let r = post_intake(
            &v,
            "/partners/propose",
            multipart(&fields("ファイルに誤り", &kpi), files),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert!(r.body.contains("href=\"#files\""), "{what}");
        assert!(r.body.contains("id=\"files-error\""), "{what}");
        assert!(
            r.body.contains("添付ファイルは保存されていません"),
            "{what}: asked to choose them again"
        );
    }
    assert!(find(&app, "ファイルに誤り").await.is_none());
    assert_eq!(count(&app).await, before);

    // A body beyond the intake limit is cut: 413 with the reason at the files.
    let huge: Vec<(&str, Vec<u8>)> = (0..3)
        .map(|_| {
            let mut b = b"%PDF-1.7\n".to_vec();
            b.resize(MAX_BYTES + 200_000, b'a');
            ("huge.pdf", b)
        })
        .collect();
    let r = post_intake(
        &v,
        "/partners/propose",
        multipart(&fields("大きすぎる提案", &kpi), huge),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("送信できる大きさを超えています"));
    assert!(find(&app, "大きすぎる提案").await.is_none());

    // Rate limit per address: after the limit, 429 with Retry-After, nothing stored.
    let mut last = StatusCode::OK;
    for i in 0..25 {
        let title = format!("連投{i}");
        let r = post_intake(
            &v,
            "/partners/propose",
            multipart(&fields(&title, &kpi), vec![]),
        )
        .await;
        last = r.status;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers.get("retry-after").is_some());
            assert!(r.body.contains("送信が多すぎます"));
            assert!(find(&app, &title).await.is_none());
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    assert!(count(&app).await - before <= 20);
}
both!(defences, public_form_defences);

async fn desk_entry_themes_and_roles(backend: Backend) {
    let app = spawn(backend).await;
    let kpi = park_kpi(&app).await;
    let anon = app.client();
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let editor = app
        .login(&app.user_with(Role::DepartmentEditor).await.login)
        .await;
    let desk = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;

    // Staff-only routes: the login form for visitors, 403 for other roles.
    for path in [
        "/partners/proposals/new",
        "/partners/themes/manage",
        "/partners/themes/manage/T-PARK",
    ] {
        let r = anon.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(r.location().starts_with("/login"), "{path}");
        for c in [&viewer, &editor] {
            assert_eq!(c.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(desk.get(path).await.status, StatusCode::OK, "{path}");
    }
    for c in [&viewer, &editor] {
        let r = c
            .post_form(
                "/partners/themes/manage",
                &[("code", "T-X"), ("title", "x")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = c
            .post_form("/partners/themes/manage/T-PARK/close", &[])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Refused before the body is read (sent url-encoded: a refused
        // multipart body may still be on its way when the answer comes).
        let r = c
            .post_form("/partners/proposals/new", &fields("職員以外", &kpi))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = c
            .send(
                c.request(Method::POST, "/api/v1/partners/proposals")
                    .header("x-csrf-token", c.csrf.clone())
                    .json(&serde_json::json!({ "title": "x" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert!(find(&app, "職員以外").await.is_none());
    assert!(app.store.theme("T-X").await.unwrap().is_none());

    // The desk enters a proposal that came by post, reachable by phone only.
    let by_post = with(
        &with(
            &with(&fields("郵送で届いた提案", &kpi), "contact_email", ""),
            "contact_phone",
            "06-2222-3333",
        ),
        "theme_code",
        "T-ENERGY",
    );
    let mut with_channel = by_post.clone();
    with_channel.push(("channel", "web"));
    let r = post_intake(
        &desk,
        "/partners/proposals/new",
        multipart(&with_channel, vec![]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("href=\"#channel\""),
        "the web is not a desk channel"
    );
    let mut with_channel = by_post.clone();
    with_channel.push(("channel", "post"));
    let r = post_intake(
        &desk,
        "/partners/proposals/new",
        multipart(
            &with_channel,
            vec![("企画書.docx", b"PK\x03\x04rest".to_vec())],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let p = find(&app, "郵送で届いた提案").await.unwrap();
    assert_eq!(
        r.location(),
        format!("/partners/proposals/{}?saved=1", p.id)
    );
    assert_eq!(
        p.theme_code.as_deref(),
        Some("T-ENERGY"),
        "the desk may enter one on a closed theme"
    );
    let d = app.store.intake_details(p.id).await.unwrap().unwrap();
    assert_eq!(d.channel, ProposalChannel::Post);
    assert_eq!(
        app.store.attachments(p.id).await.unwrap()[0].uploaded_by,
        desk_login(&app).await
    );
    // The proposal page links to its intake details, which only the desk sees.
    let page = desk.get(&format!("/partners/proposals/{}", p.id)).await;
    assert!(
        page.body
            .contains(&format!("/partners/proposals/{}/intake", p.id))
    );
    let intake = desk
        .get(&format!("/partners/proposals/{}/intake", p.id))
        .await;
    assert_eq!(intake.status, StatusCode::OK);
    assert!(intake.body.contains("06-2222-3333") && intake.body.contains(&d.receipt));
    assert!(intake.body.contains("郵送"));
    assert_eq!(
        viewer
            .get(&format!("/partners/proposals/{}/intake", p.id))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !viewer
            .get(&format!("/partners/proposals/{}", p.id))
            .await
            .body
            .contains("/intake"),
        "no link for others"
    );
    assert_eq!(
        desk.get("/partners/proposals/999999/intake").await.status,
        StatusCode::NOT_FOUND
    );

    // Rejected, then past the retention period: the contact is erased and
    // the intake page says so instead of showing blanks.
    for (stage, reason) in [
        (ProposalStage::Dialogue, ""),
        (ProposalStage::Review, ""),
        (ProposalStage::Rejected, "既存事業と重複"),
    ] {
        app.store
            .move_proposal(p.id, stage, reason, "desk")
            .await
            .unwrap();
    }
    let today = citykpi_domain::partner::Day::parse(&citykpi_store::now_rfc3339()[..10]).unwrap();
    let erased = app
        .store
        .erase_expired_personal(today.plus_days(400), 365, "retention")
        .await
        .unwrap();
    assert!(erased.proposals.contains(&p.id), "{erased:?}");
    let intake = desk
        .get(&format!("/partners/proposals/{}/intake", p.id))
        .await;
    assert!(
        intake
            .body
            .contains("保存期間を過ぎたため連絡先を消去しました")
    );
    assert!(!intake.body.contains("06-2222-3333"));
    assert!(intake.body.contains(&d.receipt), "the rest stays");

    // Themes: created, refused by field, changed and closed by the desk.
    let r = desk
        .post_form(
            "/partners/themes/manage",
            &theme_fields("T-TEST", "試験のテーマ", &kpi, ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = desk
        .post_form(
            "/partners/themes/manage",
            &theme_fields("T-TEST", "重複", &kpi, ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("href=\"#code\""));
    let r = desk
        .post_form(
            "/partners/themes/manage",
            &theme_fields("T BAD", "", "K-NOPE", "2019-01-01"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["code", "title", "kpi_codes", "open_until"] {
        assert!(r.body.contains(&format!("href=\"#{f}\"")), "{f}");
    }
    assert!(r.body.contains("K-NOPE"), "values kept");
    let public = anon.get("/partners/themes").await.body;
    assert!(public.contains("試験のテーマ"));
    assert!(public.contains("&lt;b&gt;太字&lt;/b&gt;"), "escaped");
    let api: serde_json::Value = anon
        .get("/api/v1/partners/themes")
        .await
        .body
        .parse()
        .unwrap();
    let codes: Vec<&str> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["code"].as_str())
        .collect();
    assert!(codes.contains(&"T-TEST") && codes.contains(&"T-PARK"));
    assert!(!codes.contains(&"T-ENERGY"));
    let r = desk
        .post_form(
            "/partners/themes/manage/T-TEST",
            &[
                ("code", "T-OTHER"),
                ("title", "試験のテーマ 改"),
                ("kpi_codes", kpi.as_str()),
                ("open_from", ""),
                ("open_until", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let changed = app.store.theme("T-TEST").await.unwrap().unwrap();
    assert_eq!(changed.title, "試験のテーマ 改");
    assert!(
        app.store.theme("T-OTHER").await.unwrap().is_none(),
        "the key stays"
    );
    let r = desk
        .post_form("/partners/themes/manage/T-TEST", &[("title", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = desk
        .post_form("/partners/themes/manage/T-TEST/close", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.store.theme("T-TEST").await.unwrap().unwrap().closed);
    assert!(
        !anon
            .get("/partners/themes")
            .await
            .body
            .contains("試験のテーマ")
    );
    assert_eq!(
        desk.post_form("/partners/themes/manage/T-NONE/close", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A closed theme takes no public proposal.
    let v = visitor(&app, "/partners/propose").await;
    let r = post_intake(
        &v,
        "/partners/propose",
        multipart(
            &with(&fields("閉じたテーマへ", &kpi), "theme_code", "T-TEST"),
            vec![],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("href=\"#theme_code\""));

    // The JSON API: 201 with the receipt, 422 by field, nothing written on error.
    let api_post = |body: serde_json::Value| {
        desk.request(Method::POST, "/api/v1/partners/proposals")
            .header("x-csrf-token", desk.csrf.clone())
            .json(&body)
    };
    let r = desk
        .send(api_post(serde_json::json!({
            "title": "APIで登録した提案",
            "proposer_name": "ベイ商事",
            "contact_person": "API 太郎",
            "contact_email": "api@example.jp",
            "theme_code": "T-PARK",
            "summary": "メールで届いた提案",
            "kpi_codes": [kpi],
            "sdg_goals": [11, 17],
            "publish_consent": true,
            "channel": "email"
        })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created: serde_json::Value = r.body.parse().unwrap();
    assert!(
        proposal::is_receipt_number(created["receipt"].as_str().unwrap()),
        "{created}"
    );
    assert_eq!(created["intake"]["channel"], "email");
    assert_eq!(created["proposal"]["theme_code"], "T-PARK");
    let before = count(&app).await;
    let r = desk
        .send(api_post(serde_json::json!({
            "title": "",
            "proposer_name": "ベイ商事",
            "contact_person": "API 太郎",
            "summary": "x",
            "kpi_codes": ["K-NOPE"],
            "sdg_goals": [18],
            "channel": "fax"
        })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = r.body.parse().unwrap();
    let named: Vec<&str> = err["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["field"].as_str())
        .collect();
    for f in [
        "title",
        "kpi_codes",
        "sdg_goals",
        "channel",
        "contact_email",
    ] {
        assert!(named.contains(&f), "{f}: {named:?}");
    }
    assert!(err["error"]["problems"][0]["ja"].as_str().is_some());
    let r = desk
        .send(api_post(
            serde_json::json!({ "title": ["not", "text"], "publish_consent": "yes" }),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("\"title\"") && r.body.contains("\"publish_consent\""));
    let r = desk
        .send(
            desk.request(Method::POST, "/api/v1/partners/proposals")
                .header("x-csrf-token", desk.csrf.clone())
                .header("content-type", "application/json")
                .body("[1, 2"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("\"body\""));
    assert_eq!(count(&app).await, before);
    // Without the CSRF header a cookie caller is refused.
    let r = desk
        .send(
            desk.request(Method::POST, "/api/v1/partners/proposals")
                .json(&serde_json::json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Every desk write is in the audit log.
    let audit = app.store.audit_entries(2000, 0).await.unwrap();
    for (action, entity) in [
        ("insert", "partner_theme"),
        ("update", "partner_theme"),
        ("close", "partner_theme"),
        ("insert", "partner_proposal"),
    ] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.entity == entity),
            "{action} {entity}"
        );
    }
}
both!(desk_and_roles, desk_entry_themes_and_roles);

fn theme_fields<'a>(
    code: &'a str,
    title: &'a str,
    kpis: &'a str,
    until: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("code", code),
        ("title", title),
        ("description", "<b>太字</b>の説明"),
        ("kpi_codes", kpis),
        ("sdg_goals", "11"),
        ("open_from", "2020-04-01"),
        ("open_until", until),
    ]
}

async fn desk_login(app: &App) -> String {
    app.user_with(Role::StrategyOffice).await.login
}

async fn decisions_published_only_with_consent(backend: Backend) {
    let app = spawn(backend).await;
    let kpi = park_kpi(&app).await;
    let s = &app.store;
    let themes = s.themes().await.unwrap();
    let mut ids = Vec::new();
    for (title, consent) in [
        ("<b>公表される</b>採択提案", true),
        ("公表される不採択提案", true),
        ("公表しない提案ZZZ", false),
        ("まだ検討中の提案YYY", true),
    ] {
        let new = proposal::validate_intake(
            &IntakeForm {
                proposal: ProposalForm {
                    title: title.into(),
                    proposer_name: "秘密の提案者QQQ".into(),
                    theme_code: "T-PARK".into(),
                    summary: "内容".into(),
                    kpi_codes: kpi.clone(),
                    contact_email: "secret-proposer@example.jp".into(),
                    publish_consent: consent,
                    ..ProposalForm::default()
                },
                contact_person: "連絡 担当PPP".into(),
                contact_phone: "06-9999-0000".into(),
                channel: "email".into(),
            },
            std::slice::from_ref(&kpi),
            &themes,
            false,
        )
        .unwrap();
        ids.push(s.insert_intake(&new, &[], "desk").await.unwrap().0);
    }
    for id in [ids[0]] {
        s.move_proposal(id, ProposalStage::Dialogue, "", "desk")
            .await
            .unwrap();
        s.move_proposal(id, ProposalStage::Review, "", "desk")
            .await
            .unwrap();
        s.score_proposal(
            id,
            &Rubric {
                scores: [5, 4, 4, 4, 4],
            },
            "desk",
        )
        .await
        .unwrap();
        s.move_proposal(
            id,
            ProposalStage::Adopted,
            "KPIへの<i>寄与</i>が大きい",
            "desk",
        )
        .await
        .unwrap();
    }
    s.move_proposal(
        ids[1],
        ProposalStage::Rejected,
        "既存事業と重複する",
        "desk",
    )
    .await
    .unwrap();
    s.move_proposal(ids[2], ProposalStage::Rejected, "非公表の理由XXX", "desk")
        .await
        .unwrap();

    let page = app.client().get("/partners/proposals/decisions").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(
        body.contains("&lt;b&gt;公表される&lt;/b&gt;採択提案"),
        "escaped title"
    );
    assert!(!body.contains("<b>公表される"));
    assert!(
        body.contains("KPIへの&lt;i&gt;寄与&lt;/i&gt;が大きい"),
        "escaped reason"
    );
    assert!(body.contains("公表される不採択提案") && body.contains("既存事業と重複する"));
    assert!(body.contains("採択") && body.contains("不採択"));
    assert!(body.contains("公園のにぎわいづくり"), "the theme's title");
    assert!(body.contains(&kpi));
    // Decisions are stamped by the real clock (the day in Japan), whatever
    // day the test's server takes as today.
    let now = citykpi_app::clock::now_jst();
    let today = format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    assert!(body.contains(&today), "the decision's date {today}");
    for hidden in [
        "公表しない提案ZZZ",
        "非公表の理由XXX",
        "まだ検討中の提案YYY",
        "秘密の提案者QQQ",
        "secret-proposer@",
        "連絡 担当PPP",
        "06-9999-0000",
    ] {
        assert!(!body.contains(hidden), "{hidden}");
    }
    // In English too.
    let en = app
        .client()
        .get("/partners/proposals/decisions?lang=en")
        .await;
    assert!(en.body.contains("Not adopted") && en.body.contains("Decided on"));
}
both!(decisions, decisions_published_only_with_consent);

/// Clicks a link and waits until the browser has arrived where `arrived` says.
fn follow(tab: &headless_chrome::Tab, selector: &str, arrived: impl Fn(&str) -> bool) {
    common::browser::check(tab, selector);
    let start = std::time::Instant::now();
    while !arrived(&tab.get_url()) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{selector} did not lead on: {}",
            tab.get_url()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    tab.wait_until_navigated().unwrap();
}

/// A visitor proposes on a theme through the public form in headless
/// Chromium; the desk logs in and finds it in the staff list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_proposal_on_a_theme_reaches_the_desk() {
    use common::browser::{self as chrome, Chromium, check, fill, goto, html, screenshot, submit};
    let app = spawn(Backend::Sqlite).await;
    let desk = desk_login(&app).await;
    let base = app.base.clone();
    let store = app.store.clone();
    let handle = tokio::runtime::Handle::current();
    const TITLE: &str = "ブラウザから届いた公園の提案";
    tokio::task::spawn_blocking(move || {
        let chromium = Chromium::start();
        let tab = chromium.tab();
        // From the public themes page to the form with the theme chosen.
        goto(&tab, &format!("{base}/partners/themes"));
        follow(&tab, "a[href='/partners/propose?theme=T-PARK']", |u| {
            u.ends_with("/partners/propose?theme=T-PARK")
        });
        fill(&tab, "#proposer_name", "ブラウザ試験株式会社");
        fill(&tab, "#contact_person", "試験 次郎");
        fill(&tab, "#contact_email", "jiro@example.jp");
        fill(&tab, "#title", TITLE);
        fill(&tab, "#summary", "公園の利用者数をセンサーで数えます。");
        check(&tab, "#sdg-11");
        screenshot(&tab, "partners-propose");
        submit(&tab, "form[action^='/partners/propose']", |url| {
            url.contains("/partners/propose/thanks?no=P-")
        });
        let thanks = html(&tab);
        assert!(thanks.contains("提案を受け付けました"));
        let stored = handle
            .block_on(store.proposals(None, 1, 50))
            .unwrap()
            .items
            .into_iter()
            .find(|p| p.title == TITLE)
            .expect("stored");
        assert_eq!(stored.theme_code.as_deref(), Some("T-PARK"));
        assert!(!stored.kpi_codes.is_empty(), "the theme's KPIs were ticked");
        let receipt = handle
            .block_on(store.intake_details(stored.id))
            .unwrap()
            .unwrap()
            .receipt;
        assert!(thanks.contains(&receipt));

        // The desk logs in and sees it in the staff list.
        chrome::login(&tab, &base, &desk);
        goto(&tab, &format!("{base}/partners/proposals"));
        let list = html(&tab);
        assert!(list.contains(TITLE), "in the staff list");
        let detail = format!("/partners/proposals/{}", stored.id);
        follow(&tab, &format!("a[href='{detail}']"), |u| {
            u.ends_with(&detail)
        });
        let intake_path = format!("/partners/proposals/{}/intake", stored.id);
        follow(&tab, &format!("a[href='{intake_path}']"), |u| {
            u.ends_with(&intake_path)
        });
        let intake = html(&tab);
        assert!(intake.contains(&receipt) && intake.contains("試験 次郎"));
        screenshot(&tab, "partners-proposal-intake");
    })
    .await
    .unwrap();
}
