//! HTTP tests of the cycle's pages and API against the running
//! server with the demo city, on SQLite and PostgreSQL: department editors
//! only see and edit their own department's sheets, validation messages sit
//! next to their fields, a stale save is a 409, submit and review move the
//! sheet and are in the audit log, the ceiling and finance's assessment go
//! through, and the API answers in JSON.

mod common;

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::ReviewState;
use citykpi_domain::org::Role;
use citykpi_store::Backend;
use common::{App, spawn};
use reqwest::{Method, StatusCode};

fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

/// A program of `dept` whose 2024 sheet its section may still edit, and its version.
/// The ceiling of `dept` for the 2026 budget as the budget page's form
/// sends it back (`none` when not set).
async fn ceiling_seen(app: &App, dept: &str) -> String {
    app.store
        .ceilings(fy(2026))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.department_code == dept)
        .map_or_else(|| "none".to_string(), |c| c.amount.to_string())
}

async fn editable_sheet_of(app: &App, dept: &str) -> (String, i64) {
    let sections = app.store.sections().await.unwrap();
    let programs = app.store.programs().await.unwrap();
    let sheets = app.store.sheets(fy(2024)).await.unwrap();
    for s in sheets {
        if !s.sheet.state.editable_by_section() {
            continue;
        }
        let p = programs
            .iter()
            .find(|p| p.code == s.sheet.program_code)
            .unwrap();
        let d = sections
            .iter()
            .find(|x| x.code == p.section_code)
            .map(|x| x.department_code.clone())
            .unwrap_or_default();
        if d == dept {
            return (p.code.clone(), s.version);
        }
    }
    panic!("the demo should leave an editable sheet in {dept}");
}

async fn sheets_roles_review_and_budget(backend: Backend) {
    let app = spawn(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let (_, other_program) = app.programs_of(&dept).await;
    let (code, version) = editable_sheet_of(&app, &dept).await;
    let editor = app.login(&editor_user.login).await;

    let stage = editor.get("/cycle?fy=2024").await;
    assert_eq!(stage.status, StatusCode::OK);
    assert!(stage.body.contains("進行管理サイクル"), "{}", stage.body);
    assert!(stage.body.contains("事務事業の自己評価"));
    // Another department's sheet is not the editor's to see.
    let other = editor
        .get(&format!("/cycle/2024/sheets/{other_program}"))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let list = editor.get("/cycle/2024/sheets").await;
    assert!(
        !list
            .body
            .contains(&format!("/cycle/2024/sheets/{other_program}\""))
    );
    assert!(list.body.contains(&format!("/cycle/2024/sheets/{code}\"")));

    let path = format!("/cycle/2024/sheets/{code}");
    let page = editor.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("action=\"{path}\"")));
    let v = version.to_string();

    // A bad score: refused with the message next to the field; nothing saved.
    let bad = editor
        .post_form(
            &path,
            &[
                ("version", &v),
                ("scores_necessity", "7"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("id=\"scores_necessity-error\""),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("必要性は1〜5で評価してください（7）"));
    let unreadable = editor
        .post_form(
            &path,
            &[
                ("version", &v),
                ("money_staff_fte", "二人"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(unreadable.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unreadable.body.contains("「二人」は数値として読めません"));
    assert_eq!(
        app.store
            .sheet(&code, fy(2024))
            .await
            .unwrap()
            .unwrap()
            .version,
        version
    );
    // A stale version: 409.
    let stale = (version - 1).to_string();
    let conflict = editor
        .post_form(
            &path,
            &[
                ("version", &stale),
                ("issues", "古い画面"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(conflict.body.contains("他の人が先に更新しました"));

    // Save and submit in one go.
    let ok = editor
        .post_form(
            &path,
            &[
                ("version", &v),
                ("purpose", "市民の健康を守る"),
                ("scores_necessity", "5"),
                ("scores_effectiveness", "4"),
                ("scores_efficiency", "3"),
                ("scores_means", "4"),
                ("direction", "continue"),
                ("direction_reason", ""),
                ("issues", "人員の不足"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let stored = app.store.sheet(&code, fy(2024)).await.unwrap().unwrap();
    assert_eq!(stored.sheet.state, ReviewState::Submitted);
    assert_eq!(stored.sheet.issues, "人員の不足");
    assert_eq!(
        stored.version,
        version + 2,
        "a saved version and a submitted one"
    );
    // Submitted: the section can no longer change it.
    let after = editor
        .post_form(
            &path,
            &[("version", &stored.version.to_string()), ("issues", "x")],
        )
        .await;
    assert_eq!(after.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The strategy office reviews: a return needs a comment.
    let office = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let review = format!("{path}/review");
    let sv = stored.version.to_string();
    let no_comment = office
        .post_form(&review, &[("version", &sv), ("action", "return")])
        .await;
    assert_eq!(no_comment.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_comment.body.contains("差戻しには所見（理由）が必要です"));
    let returned = office
        .post_form(
            &review,
            &[
                ("version", &sv),
                ("action", "return"),
                ("reviewer_comment", "成果指標の根拠を補足してください"),
            ],
        )
        .await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER, "{}", returned.body);
    let stored = app.store.sheet(&code, fy(2024)).await.unwrap().unwrap();
    assert_eq!(stored.sheet.state, ReviewState::Returned);
    assert_eq!(
        stored.sheet.reviewer_comment,
        "成果指標の根拠を補足してください"
    );
    // Reviews are the strategy office's: the editor and a viewer are refused.
    let by_editor = editor
        .post_form(
            &review,
            &[
                ("version", &stored.version.to_string()),
                ("action", "accept"),
            ],
        )
        .await;
    assert_eq!(by_editor.status, StatusCode::FORBIDDEN);
    let audit = app.store.audit_entries(10, 0).await.unwrap();
    let rows: Vec<(&str, &str)> = audit
        .iter()
        .filter(|e| e.entity == "evaluation_sheet")
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .take(3)
        .collect();
    assert_eq!(rows[0].0, "return");
    assert_eq!(rows[1], ("submit", editor_user.login.as_str()));
    assert_eq!(rows[2], ("save", editor_user.login.as_str()));

    // Restructuring list page.
    let r = editor.get("/cycle/2024/restructure").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("費用当たり寄与度が低い"));

    // Budget: finance sets a tiny ceiling, the editor's request is refused
    // with the ceiling named; with a real ceiling it goes through and finance assesses it.
    let finance = app.login(&app.user_with(Role::Finance).await.login).await;
    let budget = finance
        .get(&format!("/cycle/2024/budget?department={dept}"))
        .await;
    assert_eq!(budget.status, StatusCode::OK);
    assert!(budget.body.contains("部局別"));
    let tiny = finance
        .post_form(
            "/cycle/2024/ceilings",
            &[
                ("department", &dept),
                ("amount", "1,000"),
                ("seen", &ceiling_seen(&app, &dept).await),
            ],
        )
        .await;
    assert_eq!(tiny.status, StatusCode::SEE_OTHER, "{}", tiny.body);
    let program = app.store.program(&code).await.unwrap().unwrap();
    assert!(
        program.end_fy.is_none_or(|e| e >= fy(2026)),
        "demo program runs on"
    );
    let req_path = format!("/cycle/2024/budget/{code}");
    let current = app.store.budget_request(&code, fy(2026)).await.unwrap();
    let rv = current.as_ref().map_or(0, |r| r.version).to_string();
    let over = editor
        .post_form(&req_path, &[("version", &rv), ("requested", "2,000,000")])
        .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        over.body.contains("部局の要求上限（枠）1,000円を超えます"),
        "{}",
        over.body
    );
    let ceiling = finance
        .post_form(
            "/cycle/2024/ceilings",
            &[
                ("department", &dept),
                ("amount", "100000000000"),
                ("seen", &ceiling_seen(&app, &dept).await),
            ],
        )
        .await;
    assert_eq!(ceiling.status, StatusCode::SEE_OTHER);
    let saved = editor
        .post_form(
            &req_path,
            &[
                ("version", &rv),
                ("requested", "2,000,000"),
                ("national", "500000"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stored = app
        .store
        .budget_request(&code, fy(2026))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.request.requested, 2_000_000);
    assert_eq!(stored.request.funding.general, 1_500_000);
    let by_editor = editor
        .post_form(
            &format!("{req_path}/assess"),
            &[("version", &stored.version.to_string()), ("assessed", "1")],
        )
        .await;
    assert_eq!(by_editor.status, StatusCode::FORBIDDEN);
    let assessed = finance
        .post_form(
            &format!("{req_path}/assess"),
            &[
                ("version", &stored.version.to_string()),
                ("assessed", "1,900,000"),
            ],
        )
        .await;
    assert_eq!(assessed.status, StatusCode::SEE_OTHER, "{}", assessed.body);
    let stored = app
        .store
        .budget_request(&code, fy(2026))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.request.assessed, Some(1_900_000));
    // The editor cannot request for another department's program.
    let foreign = editor
        .post_form(
            &format!("/cycle/2024/budget/{other_program}"),
            &[("version", "0"), ("requested", "1")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    // Without the CSRF token nothing happens.
    let no_token = editor
        .post_raw_form(&req_path, &[("version", "0"), ("requested", "1")])
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
}
both!(pages, sheets_roles_review_and_budget);

/// Two people saving the same budget figure from the same page: the second
/// gets a 409 naming the record, and the first value stays. Sequentially
/// (two open pages) and at once (20 concurrent pairs each for the request,
/// finance's assessment and the ceiling): exactly one of each pair wins.
async fn budget_figures_refuse_stale_saves(backend: Backend) {
    let app = spawn(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let (code, _) = editable_sheet_of(&app, &dept).await;
    let first = app.login(&editor_user.login).await;
    let second = app.login(&editor_user.login).await;
    let finance = app.login(&app.user_with(Role::Finance).await.login).await;
    let finance2 = app.login(&app.user_with(Role::Finance).await.login).await;
    let ceiling = finance
        .post_form(
            "/cycle/2024/ceilings",
            &[
                ("department", &dept),
                ("amount", "100000000000"),
                ("seen", &ceiling_seen(&app, &dept).await),
            ],
        )
        .await;
    assert_eq!(ceiling.status, StatusCode::SEE_OTHER, "{}", ceiling.body);
    let req_path = format!("/cycle/2024/budget/{code}");
    let stored = || async {
        app.store
            .budget_request(&code, fy(2026))
            .await
            .unwrap()
            .map(|r| (r.version, r.request.requested, r.request.assessed))
    };
    let v0 = stored().await.map_or(0, |r| r.0).to_string();

    // Both editors opened the page at v0; the first saves, the second is stale.
    let a = first
        .post_form(&req_path, &[("version", &v0), ("requested", "2,000,001")])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let b = second
        .post_form(&req_path, &[("version", &v0), ("requested", "2,000,002")])
        .await;
    assert_eq!(b.status, StatusCode::CONFLICT, "{}", b.body);
    assert!(
        b.body.contains(&format!(
            "予算要求「{code}/2026」は他の人が先に更新しました"
        )) && b.body.contains(&format!(
            "budget request &quot;{code}/2026&quot; was changed by someone else"
        )),
        "{}",
        b.body
    );
    assert_eq!(stored().await.unwrap().1, 2_000_001);
    // The same through the request page.
    let b = second
        .post_form(
            &req_path,
            &[
                ("version", &v0),
                ("requested", "2,000,003"),
                ("back", "request"),
            ],
        )
        .await;
    assert_eq!(b.status, StatusCode::CONFLICT, "{}", b.body);
    assert_eq!(stored().await.unwrap().1, 2_000_001);

    // Concurrent pairs: one wins, the other is told, nothing is lost.
    for i in 0..20i64 {
        let (v, _, _) = stored().await.unwrap();
        let v = v.to_string();
        let (x, y) = (3_000_000 + 2 * i, 3_000_001 + 2 * i);
        let (xs, ys) = (x.to_string(), y.to_string());
        let (fa, fb) = (
            [("version", v.as_str()), ("requested", xs.as_str())],
            [("version", v.as_str()), ("requested", ys.as_str())],
        );
        let (ra, rb) = tokio::join!(
            first.post_form(&req_path, &fa),
            second.post_form(&req_path, &fb),
        );
        let won: Vec<i64> = [(ra.status, x), (rb.status, y)]
            .into_iter()
            .filter(|(st, _)| *st == StatusCode::SEE_OTHER)
            .map(|(_, v)| v)
            .collect();
        let lost = [ra.status, rb.status]
            .iter()
            .filter(|st| **st == StatusCode::CONFLICT)
            .count();
        assert_eq!(
            (won.len(), lost),
            (1, 1),
            "request pair {i}: {} {}",
            ra.status,
            rb.status
        );
        assert_eq!(stored().await.unwrap().1, won[0], "request pair {i}");
    }

    // Finance's assessment.
    let assess_path = format!("{req_path}/assess");
    for i in 0..20i64 {
        let (v, _, _) = stored().await.unwrap();
        let v = v.to_string();
        let (x, y) = (1_000_000 + 2 * i, 1_000_001 + 2 * i);
        let (xs, ys) = (x.to_string(), y.to_string());
        let (fa, fb) = (
            [("version", v.as_str()), ("assessed", xs.as_str())],
            [("version", v.as_str()), ("assessed", ys.as_str())],
        );
        let (ra, rb) = tokio::join!(
            finance.post_form(&assess_path, &fa),
            finance2.post_form(&assess_path, &fb),
        );
        let won: Vec<i64> = [(ra.status, x), (rb.status, y)]
            .into_iter()
            .filter(|(st, _)| *st == StatusCode::SEE_OTHER)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(won.len(), 1, "assess pair {i}: {} {}", ra.status, rb.status);
        assert!(
            [ra.status, rb.status].contains(&StatusCode::CONFLICT),
            "assess pair {i}"
        );
        assert_eq!(stored().await.unwrap().2, Some(won[0]), "assess pair {i}");
    }

    // The ceiling: a page showing an old amount is stale.
    let shown = ceiling_seen(&app, &dept).await;
    let a = finance
        .post_form(
            "/cycle/2024/ceilings",
            &[
                ("department", &dept),
                ("amount", "90000000000"),
                ("seen", &shown),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let b = finance2
        .post_form(
            "/cycle/2024/ceilings",
            &[
                ("department", &dept),
                ("amount", "80000000000"),
                ("seen", &shown),
            ],
        )
        .await;
    assert_eq!(b.status, StatusCode::CONFLICT, "{}", b.body);
    assert!(
        b.body.contains(&format!(
            "要求上限（枠）「{dept}/2026」は他の人が先に更新しました"
        )),
        "{}",
        b.body
    );
    assert_eq!(ceiling_seen(&app, &dept).await, "90000000000");
    for i in 0..20i64 {
        let shown = ceiling_seen(&app, &dept).await;
        let (x, y) = (50_000_000_000 + 2 * i, 50_000_000_001 + 2 * i);
        let (xs, ys) = (x.to_string(), y.to_string());
        let (fa, fb) = (
            [
                ("department", dept.as_str()),
                ("amount", xs.as_str()),
                ("seen", shown.as_str()),
            ],
            [
                ("department", dept.as_str()),
                ("amount", ys.as_str()),
                ("seen", shown.as_str()),
            ],
        );
        let (ra, rb) = tokio::join!(
            finance.post_form("/cycle/2024/ceilings", &fa),
            finance2.post_form("/cycle/2024/ceilings", &fb),
        );
        let won: Vec<i64> = [(ra.status, x), (rb.status, y)]
            .into_iter()
            .filter(|(st, _)| *st == StatusCode::SEE_OTHER)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            won.len(),
            1,
            "ceiling pair {i}: {} {}",
            ra.status,
            rb.status
        );
        assert_eq!(ceiling_seen(&app, &dept).await, won[0].to_string());
    }
    // A form without the amount it showed is refused, nothing written.
    let blind = finance
        .post_form(
            "/cycle/2024/ceilings",
            &[("department", &dept), ("amount", "1")],
        )
        .await;
    assert_eq!(blind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_ne!(ceiling_seen(&app, &dept).await, "1");
}
both!(stale_budget, budget_figures_refuse_stale_saves);

/// The request page: the funding breakdown is entered field by field, the
/// general funds are computed, a breakdown above the request is refused with
/// the entered values kept and nothing written, and other departments'
/// requests are neither shown nor writable.
async fn request_page_with_funding_breakdown(backend: Backend) {
    let app = spawn(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let (_, other_program) = app.programs_of(&dept).await;
    let (code, _) = editable_sheet_of(&app, &dept).await;
    let editor = app.login(&editor_user.login).await;
    let finance = app.login(&app.user_with(Role::Finance).await.login).await;
    let ceiling = finance
        .post_form(
            "/cycle/2024/ceilings",
            &[
                ("department", &dept),
                ("amount", "100000000000"),
                ("seen", &ceiling_seen(&app, &dept).await),
            ],
        )
        .await;
    assert_eq!(ceiling.status, StatusCode::SEE_OTHER);

    let path = format!("/cycle/2024/budget/{code}");
    let page = editor.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("財源内訳"), "{}", page.body);
    assert!(page.body.contains("name=\"funding_national\""));
    assert!(
        page.body.contains("100,000,000,000"),
        "the ceiling is shown"
    );
    // The list links each program to its request page.
    let list = editor.get("/cycle/2024/budget").await;
    assert!(list.body.contains(&format!("href=\"{path}\"")));

    let before = app.store.budget_request(&code, fy(2026)).await.unwrap();
    let version = before.as_ref().map_or(0, |r| r.version).to_string();
    // Specific sources above the request: refused on the page, values kept.
    let over = editor
        .post_form(
            &path,
            &[
                ("back", "request"),
                ("version", &version),
                ("requested", "3,000,000"),
                ("funding_national", "2,000,000"),
                ("funding_prefectural", "1,500,000"),
                ("note", "<b>要求</b>"),
            ],
        )
        .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        over.body
            .contains("特定財源の合計（3,500,000円）が要求額（3,000,000円）を超えています"),
        "{}",
        over.body
    );
    assert!(
        over.body.contains("value=\"1,500,000\""),
        "entered value kept"
    );
    assert!(over.body.contains("&lt;b&gt;要求&lt;/b&gt;"), "escaped");
    assert_eq!(
        app.store.budget_request(&code, fy(2026)).await.unwrap(),
        before
    );
    // A word in an amount field is named.
    let word = editor
        .post_form(
            &path,
            &[
                ("back", "request"),
                ("version", &version),
                ("requested", "1000"),
                ("funding_bonds", "たくさん"),
            ],
        )
        .await;
    assert_eq!(word.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        word.body
            .contains("「たくさん」は金額（円）として読めません"),
        "{}",
        word.body
    );

    let saved = editor
        .post_form(
            &path,
            &[
                ("back", "request"),
                ("version", &version),
                ("requested", "3,000,000"),
                ("funding_national", "1,000,000"),
                ("funding_prefectural", "500,000"),
                ("funding_bonds", "250,000"),
                ("funding_other", "50,000"),
                ("note", "国庫補助 1/3"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), path);
    let stored = app
        .store
        .budget_request(&code, fy(2026))
        .await
        .unwrap()
        .unwrap();
    let f = stored.request.funding;
    assert_eq!(
        (f.national, f.prefectural, f.bonds, f.other, f.general),
        (1_000_000, 500_000, 250_000, 50_000, 1_200_000)
    );
    assert_eq!(stored.request.note, "国庫補助 1/3");
    let shown = editor.get(&path).await.body;
    assert!(shown.contains("1,200,000"), "general funds shown: {shown}");

    // Finance reads it without a form; another department's is refused.
    let read = finance.get(&path).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(!read.body.contains("name=\"funding_national\""));
    assert!(read.body.contains("1,200,000"));
    let foreign = editor
        .get(&format!("/cycle/2024/budget/{other_program}"))
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let missing = editor.get("/cycle/2024/budget/NOPE").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
both!(request_page, request_page_with_funding_breakdown);

async fn cycle_api(backend: Backend) {
    let app = spawn(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let (_, other_program) = app.programs_of(&dept).await;
    let (code, version) = editable_sheet_of(&app, &dept).await;
    let editor = app.login(&editor_user.login).await;
    let status: serde_json::Value =
        serde_json::from_str(&editor.get("/api/v1/cycle/2024").await.body).unwrap();
    assert_eq!(status["fy"], 2024);
    assert_eq!(status["stages"].as_array().unwrap().len(), 6);
    let sheet_path = format!("/api/v1/cycle/2024/sheets/{code}");
    let view: serde_json::Value =
        serde_json::from_str(&editor.get(&sheet_path).await.body).unwrap();
    assert_eq!(view["version"], version);
    let foreign = editor
        .get(&format!("/api/v1/cycle/2024/sheets/{other_program}"))
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);

    let mut sheet = view["sheet"].clone();
    // A score the sheet does not have yet, so the save is a change.
    let score: u8 = if sheet["scores"]["necessity"] == 4 {
        3
    } else {
        4
    };
    sheet["scores"]["necessity"] = serde_json::json!(9);
    let put = |body: serde_json::Value| {
        editor
            .request(Method::PUT, &sheet_path)
            .header("x-csrf-token", editor.csrf.clone())
            .json(&body)
    };
    let bad = editor
        .send(put(
            serde_json::json!({ "version": version, "sheet": sheet }),
        ))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = serde_json::from_str(&bad.body).unwrap();
    assert_eq!(err["error"]["fields"][0]["field"], "scores.necessity");
    sheet["scores"]["necessity"] = serde_json::json!(score);
    let stale = editor
        .send(put(
            serde_json::json!({ "version": version - 1, "sheet": sheet }),
        ))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let ok = editor
        .send(put(
            serde_json::json!({ "version": version, "sheet": sheet }),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let saved: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
    assert_eq!(saved["version"], version + 1);
    let stored = app.store.sheet(&code, fy(2024)).await.unwrap().unwrap();
    assert_eq!(stored.sheet.scores.necessity, Some(score));

    let restructure: serde_json::Value =
        serde_json::from_str(&editor.get("/api/v1/cycle/2024/restructure").await.body).unwrap();
    assert!(restructure.as_array().unwrap().len() > 10);
    let budget: serde_json::Value =
        serde_json::from_str(&editor.get("/api/v1/cycle/2024/budget").await.body).unwrap();
    assert_eq!(budget["fy"], 2026);
    assert!(
        budget["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["department_code"] == dept.as_str()),
        "an editor sees only its department's requests"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&editor.get("/api/openapi.json").await.body).unwrap();
    assert!(doc["paths"]["/api/v1/cycle/{fy}/sheets/{code}"]["put"].is_object());
}
both!(api, cycle_api);

/// The submitted sheets of 2024 as the API reports them.
async fn submitted_2024(client: &common::Client) -> u64 {
    let status: serde_json::Value =
        serde_json::from_str(&client.get("/api/v1/cycle/2024").await.body).unwrap();
    status["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0] == "submitted")
        .and_then(|pair| pair[1].as_u64())
        .unwrap()
}

/// The cycle is computed once per data version and kept with the read
/// model: a write through the web shows at once, a write by another process
/// (here: straight into the store, as the CLI does) within the check interval.
async fn cached_cycle_follows_the_data(backend: Backend) {
    let app = common::spawn_watching(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let (code, version) = editable_sheet_of(&app, &dept).await;
    let editor = app.login(&editor_user.login).await;
    let before = submitted_2024(&editor).await;
    let stored_before = app
        .store
        .sheets(fy(2024))
        .await
        .unwrap()
        .iter()
        .filter(|s| s.sheet.state == ReviewState::Submitted)
        .count() as u64;
    assert_eq!(before, stored_before);
    // Asked twice: the same answer from the cached computation.
    assert_eq!(submitted_2024(&editor).await, before);

    let path = format!("/cycle/2024/sheets/{code}");
    let ok = editor
        .post_form(
            &path,
            &[
                ("version", &version.to_string()),
                ("purpose", "市民の健康を守る"),
                ("scores_necessity", "5"),
                ("scores_effectiveness", "4"),
                ("scores_efficiency", "3"),
                ("scores_means", "4"),
                ("direction", "continue"),
                ("direction_reason", ""),
                ("issues", "人員の不足"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(submitted_2024(&editor).await, before + 1);
    let list = editor.get("/cycle/2024/sheets").await;
    let row = list
        .body
        .split("<tr>")
        .find(|r| r.contains(&format!("/cycle/2024/sheets/{code}\"")))
        .unwrap();
    assert!(row.contains("提出済"), "{row}");

    // Another process sets a department's ceiling for the 2026 budget.
    let finance = app.login(&app.user_with(Role::Finance).await.login).await;
    let budget_path = format!("/api/v1/cycle/2024/budget?department={dept}");
    let ceiling_of = |body: &str| -> Option<i64> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["ceilings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["department_code"] == dept.as_str())
            .and_then(|c| c["amount"].as_i64())
    };
    let first = ceiling_of(&finance.get(&budget_path).await.body);
    assert_ne!(first, Some(123_456_789));
    app.store
        .set_ceiling(
            &citykpi_domain::cycle::budget::Ceiling {
                fy: fy(2026),
                department_code: dept.clone(),
                amount: 123_456_789,
            },
            "cli",
        )
        .await
        .unwrap();
    let seen = ceiling_of(&finance.get(&budget_path).await.body);
    assert_eq!(seen, Some(123_456_789));
}
both!(cache, cached_cycle_follows_the_data);

/// A merge recorded by the strategy office (here through the service the
/// CLI's `restructure record` calls, as another process) shows on the pages
/// of all three programs, with the KPI links of the whole lineage.
async fn lineage_on_the_program_page(backend: Backend) {
    let app = common::spawn_watching(backend).await;
    let programs = app.store.programs().await.unwrap();
    let links = app.store.links().await.unwrap();
    let linked: Vec<&str> = programs
        .iter()
        .map(|p| p.code.as_str())
        .filter(|c| links.iter().any(|l| l.program_code == *c))
        .take(3)
        .collect();
    let (a, b, c) = (linked[0], linked[1], linked[2]);
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    let before = viewer.get(&format!("/programs/{a}")).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(before.body.contains("統合・分割などの記録はありません。"));

    citykpi_app::cycle::restructure_programs(
        &app.store,
        "strategy",
        fy(2024),
        citykpi_domain::cycle::lineage::LineageKind::Merge,
        &[a.to_string(), b.to_string()],
        &[c.to_string()],
        "類似事業の統合",
    )
    .await
    .unwrap();
    let api: serde_json::Value = serde_json::from_str(
        &viewer
            .get(&format!("/api/v1/programs/{b}/lineage"))
            .await
            .body,
    )
    .unwrap();
    let mut group: Vec<&str> = api["group"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    group.sort();
    let mut want = vec![a, b, c];
    want.sort();
    assert_eq!(group, want);
    assert_eq!(api["steps"][0]["kind"], "merge");
    assert_eq!(
        viewer.get("/api/v1/programs/NO-SUCH/lineage").await.status,
        StatusCode::NOT_FOUND
    );
    for code in [a, b, c] {
        let page = viewer.get(&format!("/programs/{code}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let section = page
            .body
            .split("事業の系譜（統合・分割・廃止）")
            .nth(1)
            .unwrap_or_else(|| panic!("no lineage on {code}"));
        assert!(section.contains("統合"), "{section}");
        assert!(section.contains("類似事業の統合"));
        for other in [a, b, c] {
            assert!(
                section.contains(&format!("href=\"/programs/{other}\"")),
                "{code}: {other} missing"
            );
        }
        // Every KPI link of the three programs is listed.
        let lineage_links = links
            .iter()
            .filter(|l| [a, b, c].contains(&l.program_code.as_str()))
            .count();
        let table = section.split("系譜上の事業とKPIへの貢献").nth(1).unwrap();
        assert_eq!(
            table.matches("href=\"/kpis/").count(),
            lineage_links,
            "{table}"
        );
    }
}
both!(lineage, lineage_on_the_program_page);

/// The dashboard tells a department editor what its department still owes
/// in the running cycle, stage by stage with the deadline; a viewer gets no
/// notices; handing in a sheet takes one off at once.
async fn notices_on_the_dashboard(backend: Backend) {
    use citykpi_app::cycle::{CycleYear, NoticeScope};
    let app = spawn(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let expected = CycleYear::load(&app.store, fy(2024))
        .await
        .unwrap()
        .notices(NoticeScope::Department(&dept), None);
    assert!(!expected.is_empty(), "the demo cycle leaves work owed");
    let editor = app.login(&editor_user.login).await;
    let dash = editor.get("/").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(
        dash.body.contains("お知らせ：期限のある作業"),
        "{}",
        dash.body
    );
    for n in &expected {
        let line = format!("{}. {}</a>: {}件", n.stage_number, n.label_ja, n.count);
        assert!(dash.body.contains(&line), "missing {line}");
        if let Some(d) = n.deadline {
            assert!(dash.body.contains(&format!("期限 {d}")));
        }
    }
    let api: serde_json::Value =
        serde_json::from_str(&editor.get("/api/v1/notices").await.body).unwrap();
    let counts: Vec<u64> = api
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["count"].as_u64().unwrap())
        .collect();
    assert_eq!(
        counts,
        expected.iter().map(|n| n.count as u64).collect::<Vec<_>>()
    );
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    assert_eq!(viewer.get("/api/v1/notices").await.body, "[]");
    assert!(
        !viewer
            .get("/")
            .await
            .body
            .contains("お知らせ：期限のある作業")
    );

    let sheets = expected
        .iter()
        .find(|n| n.stage_number == 2)
        .map(|n| n.count)
        .expect("sheets owed in the demo");
    let (code, version) = editable_sheet_of(&app, &dept).await;
    let ok = editor
        .post_form(
            &format!("/cycle/2024/sheets/{code}"),
            &[
                ("version", &version.to_string()),
                ("purpose", "市民の健康を守る"),
                ("scores_necessity", "5"),
                ("scores_effectiveness", "4"),
                ("scores_efficiency", "3"),
                ("scores_means", "4"),
                ("direction", "continue"),
                ("direction_reason", ""),
                ("issues", "人員の不足"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let after = editor.get("/").await.body;
    let label = &expected
        .iter()
        .find(|n| n.stage_number == 2)
        .unwrap()
        .label_ja;
    if sheets > 1 {
        assert!(
            after.contains(&format!("2. {label}</a>: {}件", sheets - 1)),
            "{after}"
        );
    } else {
        assert!(!after.contains(&format!("2. {label}</a>")));
    }
}
both!(notices, notices_on_the_dashboard);

/// シナリオの仮説: the owner department's editor writes a KPI's scenario,
/// a verdict without evidence is refused next to its field, a stale version
/// is a 409, the revision keeps the first version in the history, another
/// department's editor is refused, and the API reads the same.
async fn scenario_hypotheses(backend: Backend) {
    let app = spawn(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let (kpi, other_kpi) = app.kpis_of(&dept).await;
    let (program, _) = app.programs_of(&dept).await;
    let editor = app.login(&editor_user.login).await;
    let path = format!("/kpis/{kpi}/scenario");
    let empty = editor.get(&path).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("まだ記入されていません。"));
    assert!(empty.body.contains(&format!("action=\"{path}\"")));
    let kpi_page = editor.get(&format!("/kpis/{kpi}")).await;
    assert!(kpi_page.body.contains(&format!("href=\"{path}\"")));

    let mut fields = vec![
        ("version", "0".to_string()),
        ("strategy", "子育て世帯の転入を増やす".to_string()),
        ("chain_0__level", "activity".to_string()),
        ("chain_0__text", "保育所の整備".to_string()),
        ("chain_0__program_code", program.clone()),
        ("chain_1__level", "output".to_string()),
        ("chain_1__text", "定員300人増".to_string()),
        ("chain_2__level", "kpi".to_string()),
        ("chain_2__text", "待機児童数の減少".to_string()),
        (
            "assumptions_0__text",
            "定員が増えれば待機児童が減る".to_string(),
        ),
        ("assumptions_0__verdict", "held".to_string()),
        ("assumptions_0__evidence", String::new()),
    ];
    let post = |f: Vec<(&'static str, String)>| {
        let editor = &editor;
        let path = path.clone();
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            editor.post_form(&path, &pairs).await
        }
    };
    // A verdict without evidence: refused next to the evidence field.
    let bad = post(fields.clone()).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body.contains("id=\"assumptions_0__evidence-error\""),
        "{}",
        bad.body
    );
    assert!(
        bad.body
            .contains("「成立」と判定するには根拠を記入してください")
    );
    assert!(app.store.scenario_versions(&kpi).await.unwrap().is_empty());

    fields[11].1 = "2024年度の待機児童は0人".to_string();
    let ok = post(fields.clone()).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let stored = app.store.scenario_versions(&kpi).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].scenario.chain.len(), 3);
    assert_eq!(
        stored[0].scenario.chain[0].program_code.as_deref(),
        Some(program.as_str())
    );
    assert_eq!(stored[0].saved_by, editor_user.login);

    // Someone still holding version 0 is refused; nothing is lost.
    fields[1].1 = "古い画面からの保存".to_string();
    let stale = post(fields.clone()).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.body.contains("古い画面からの保存"),
        "the draft is kept in the form"
    );

    // The revision: the assumption failed; version 1 stays in the history.
    fields[0].1 = "1".to_string();
    fields[1].1 = "保育の質を高めて定着を図る".to_string();
    fields[10].1 = "failed".to_string();
    fields[11].1 = "定員増でも転入は増えなかった".to_string();
    let revised = post(fields.clone()).await;
    assert_eq!(revised.status, StatusCode::SEE_OTHER, "{}", revised.body);
    let page = editor.get(&path).await.body;
    assert!(page.contains("第2版"));
    assert!(page.contains("保育の質を高めて定着を図る"));
    assert!(page.contains("成立 0件・不成立 1件・未検証 0件"));
    let history = page.split("これまでの版").nth(1).unwrap();
    assert!(history.contains("第1版") && history.contains("子育て世帯の転入を増やす"));
    let audit = app.store.audit_entries(5, 0).await.unwrap();
    assert_eq!(audit[0].entity, "kpi_scenario");
    assert_eq!(audit[0].key, kpi);

    // The API reads the same; another department's editor and a viewer may not write.
    let api: serde_json::Value = serde_json::from_str(
        &editor
            .get(&format!("/api/v1/kpis/{kpi}/scenario"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(api["current"]["version"], 2);
    assert_eq!(
        api["current"]["scenario"]["assumptions"][0]["verdict"],
        "failed"
    );
    assert_eq!(api["history"][0]["version"], 1);
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;
    assert_eq!(viewer.get(&path).await.status, StatusCode::OK);
    let refused = viewer
        .post_form(&path, &[("version", "2"), ("strategy", "x")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let foreign = editor
        .post_form(
            &format!("/kpis/{other_kpi}/scenario"),
            &[("version", "0"), ("strategy", "x")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let unknown = editor.get("/kpis/NO-SUCH-KPI/scenario").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
both!(scenario, scenario_hypotheses);

/// The reports as downloads: a department editor's evaluation sheets hold
/// only its department's programs, the compiled budget is finance's and the
/// strategy office's (refused to an editor), and the open data is public and
/// holds published KPIs only.
async fn report_downloads(backend: Backend) {
    use calamine::Reader;
    let app = spawn(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let editor = app.login(&editor_user.login).await;
    let sections = app.store.sections().await.unwrap();
    let own: std::collections::BTreeSet<String> = app
        .store
        .programs()
        .await
        .unwrap()
        .into_iter()
        .filter(|p| {
            sections
                .iter()
                .any(|s| s.code == p.section_code && s.department_code == dept)
        })
        .map(|p| p.code)
        .collect();
    let list = editor.get("/cycle/2024/sheets").await.body;
    assert!(list.contains("href=\"/cycle/2024/reports/evaluations.xlsx\""));
    let (status, headers, bytes) = editor
        .get_bytes("/cycle/2024/reports/evaluations.xlsx?department=OTHER")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = book
        .sheet_names()
        .into_iter()
        .filter(|n| n != "一覧")
        .collect();
    assert!(!names.is_empty());
    for n in &names {
        assert!(own.contains(n), "{n} is not {dept}'s");
    }

    let (refused, _, _) = editor.get_bytes("/cycle/2024/reports/budget.xlsx").await;
    assert_eq!(refused, StatusCode::FORBIDDEN);
    let finance = app.login(&app.user_with(Role::Finance).await.login).await;
    let budget_page = finance
        .get(&format!("/cycle/2024/budget?department={dept}"))
        .await
        .body;
    assert!(budget_page.contains("href=\"/cycle/2024/reports/budget.xlsx\""));
    let (status, _, bytes) = finance.get_bytes("/cycle/2024/reports/budget.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert!(book.sheet_names().iter().any(|n| n == "部局別"));

    // Open data, without logging in.
    let visitor = app.client();
    let portal = visitor.get("/public").await.body;
    assert!(portal.contains("href=\"/public/open-data\""));
    let page = visitor.get("/public/open-data?fy=2024").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("href=\"/public/open-data/2024/kpis.csv\"")
    );
    assert!(page.body.contains("datapackage.json"));
    let (status, headers, bytes) = visitor.get_bytes("/public/open-data/2024/kpis.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = String::from_utf8(bytes).unwrap();
    let kpis = app.store.kpis().await.unwrap();
    assert!(kpis.iter().any(|k| !k.published), "the demo has drafts");
    for k in &kpis {
        let listed = csv
            .lines()
            .skip(1)
            .any(|l| l.split(',').nth(1) == Some(k.code.as_str()));
        assert_eq!(listed, k.published, "{}", k.code);
    }
    let (missing, _, _) = visitor.get_bytes("/public/open-data/2024/secret.csv").await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
}
both!(downloads, report_downloads);
