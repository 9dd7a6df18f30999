//! Pages and API of the yearly management cycle: the stage page,
//! evaluation sheets (view, edit, submit, review), the restructuring list,
//! budget requests, ceilings and the finance assessment. Every rule lives in
//! `citykpi_app::cycle`; these handlers check who may act on which record
//! (the `can_*` functions below), show forms and map refusals to messages.
//! This area's UI text is its own catalogue (`CycleText`).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::sync::Arc;

use citykpi_app::cycle::{
    self as service, CycleServiceError, CycleStatus, CycleYear, Review, SheetView,
};
use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::budget::{BudgetRequest, Ceiling};
use citykpi_domain::cycle::sheet::{EvaluationSheet, ProgramDirection, ReviewAction, ReviewState};
use citykpi_domain::cycle::{Cycle, FieldError, Stage};
use citykpi_domain::money::{FundingSources, format_yen};
use citykpi_domain::org::Role;
use citykpi_domain::text::{parse_number, parse_yen};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::access::{Access, RouteRule};
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, field_error, render};
use crate::session::SessionUser;

use crate::extract::{Form, Json, Path};
use Role::*;

/// Stages, cycle close/reopen and reviews: the strategy office.
const CYCLE_MANAGERS: &[Role] = &[Admin, StrategyOffice];
/// Sheets and budget requests are written by the sections (department editors).
const SECTION_WRITERS: &[Role] = &[Admin, DepartmentEditor];
/// Ceilings and assessments: finance.
const FINANCE: &[Role] = &[Admin, Finance];

/// The whole compiled budget with every department's requests.
const BUDGET_READERS: &[Role] = &[Admin, StrategyOffice, Finance];

/// Scenario hypotheses are revised by the strategy office and the editors of
/// the KPI's owner departments (checked per KPI in the handler).
const SCENARIO_WRITERS: &[Role] = &[Admin, StrategyOffice, DepartmentEditor];

mod downloads;
mod mail;
mod progress;
mod request;
mod scenario;

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteRule {
    RouteRule {
        method,
        path,
        access,
    }
}

/// This area's routes with the roles they admit.
pub const ROUTES: &[RouteRule] = &[
    r("GET", "/cycle", Access::Login),
    r("POST", "/cycle/{fy}/start", Access::Roles(CYCLE_MANAGERS)),
    r("POST", "/cycle/{fy}/stage", Access::Roles(CYCLE_MANAGERS)),
    r("POST", "/cycle/{fy}/state", Access::Roles(CYCLE_MANAGERS)),
    r("GET", "/cycle/{fy}/sheets", Access::Login),
    r("GET", "/cycle/{fy}/sheets/{code}", Access::Login),
    r(
        "POST",
        "/cycle/{fy}/sheets/{code}",
        Access::Roles(SECTION_WRITERS),
    ),
    r(
        "POST",
        "/cycle/{fy}/sheets/{code}/review",
        Access::Roles(CYCLE_MANAGERS),
    ),
    r("GET", "/cycle/{fy}/restructure", Access::Login),
    r("GET", "/cycle/{fy}/budget", Access::Login),
    r("GET", "/cycle/{fy}/budget/{code}", Access::Login),
    r(
        "POST",
        "/cycle/{fy}/budget/{code}",
        Access::Roles(SECTION_WRITERS),
    ),
    r(
        "POST",
        "/cycle/{fy}/budget/{code}/assess",
        Access::Roles(FINANCE),
    ),
    r("POST", "/cycle/{fy}/ceilings", Access::Roles(FINANCE)),
    r("GET", "/api/v1/cycle/{fy}", Access::Login),
    r("GET", "/api/v1/cycle/{fy}/restructure", Access::Login),
    r("GET", "/api/v1/cycle/{fy}/budget", Access::Login),
    r("GET", "/api/v1/cycle/{fy}/sheets/{code}", Access::Login),
    r(
        "PUT",
        "/api/v1/cycle/{fy}/sheets/{code}",
        Access::Roles(SECTION_WRITERS),
    ),
    r(
        "POST",
        "/api/v1/cycle/{fy}/sheets/{code}/review",
        Access::Roles(CYCLE_MANAGERS),
    ),
    r("GET", "/cycle/{fy}/reports/evaluations.xlsx", Access::Login),
    r(
        "GET",
        "/cycle/{fy}/reports/budget.xlsx",
        Access::Roles(BUDGET_READERS),
    ),
    r("GET", "/cycle/{fy}/notify", Access::Roles(CYCLE_MANAGERS)),
    r("POST", "/cycle/{fy}/notify", Access::Roles(CYCLE_MANAGERS)),
    r("GET", "/cycle/{fy}/progress", Access::Login),
    r("GET", "/cycle/{fy}/reports/kpi-progress.pdf", Access::Login),
    r("GET", "/public/progress/{fy}", Access::Public),
    r("GET", "/public/progress/{fy}/report.pdf", Access::Public),
    r("GET", "/public/open-data", Access::Public),
    r("GET", "/public/open-data/{fy}/{file}", Access::Public),
    r("GET", "/api/v1/programs/{code}/lineage", Access::Login),
    r("GET", "/api/v1/notices", Access::Login),
    r("GET", "/kpis/{code}/scenario", Access::Login),
    r(
        "POST",
        "/kpis/{code}/scenario",
        Access::Roles(SCENARIO_WRITERS),
    ),
    r("GET", "/api/v1/kpis/{code}/scenario", Access::Login),
    r(
        "PUT",
        "/api/v1/kpis/{code}/scenario",
        Access::Roles(SCENARIO_WRITERS),
    ),
];

/// Documentation of this area's API routes, in the shape of `api::API_DOCS`.
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "GET",
        "/api/v1/cycle/{fy}",
        "進行管理サイクルの状況（段階・未了の作業）",
        "The cycle's stages and what is still owed",
        None,
    ),
    (
        "GET",
        "/api/v1/cycle/{fy}/restructure",
        "事業再編の候補（理由付き）",
        "The ranked restructuring list with reasons",
        None,
    ),
    (
        "GET",
        "/api/v1/cycle/{fy}/budget",
        "予算要求・査定と集計（?department=）",
        "Budget requests, assessment and compiled totals (?department=)",
        None,
    ),
    (
        "GET",
        "/api/v1/cycle/{fy}/sheets/{code}",
        "事務事業評価シート（未作成なら前年度から下書き）",
        "An evaluation sheet (pre-filled from last year if new)",
        None,
    ),
    (
        "PUT",
        "/api/v1/cycle/{fy}/sheets/{code}",
        "評価シートの保存（version必須）",
        "Save an evaluation sheet (JSON body {version, sheet, submit})",
        None,
    ),
    (
        "POST",
        "/api/v1/cycle/{fy}/sheets/{code}/review",
        "評価シートの差戻し・承認",
        "Return or accept a sheet (JSON body {action, comment, direction, version})",
        None,
    ),
    (
        "GET",
        "/api/v1/programs/{code}/lineage",
        "事業の系譜（統合・分割・廃止とKPIへの貢献）",
        "A program's lineage: merges, splits, abolitions and the KPI links across them",
        None,
    ),
    (
        "GET",
        "/api/v1/notices",
        "ログイン中の利用者のお知らせ（期限のある作業）",
        "The logged-in user's notices (work due in running cycles)",
        None,
    ),
    (
        "GET",
        "/api/v1/kpis/{code}/scenario",
        "KPIのシナリオの仮説（現行版と過去の版）",
        "A KPI's scenario hypotheses (current and earlier versions)",
        None,
    ),
    (
        "PUT",
        "/api/v1/kpis/{code}/scenario",
        "シナリオの改訂（新しい版として記録、version必須）",
        "Revise the scenario as a new version (JSON body {version, strategy, chain, assumptions})",
        None,
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cycle", get(stage_page))
        .route("/cycle/{fy}/start", post(start))
        .route("/cycle/{fy}/stage", post(change_stage))
        .route("/cycle/{fy}/state", post(change_state))
        .route("/cycle/{fy}/sheets", get(sheet_list))
        .route(
            "/cycle/{fy}/sheets/{code}",
            get(sheet_page).post(save_sheet),
        )
        .route("/cycle/{fy}/sheets/{code}/review", post(review))
        .route("/cycle/{fy}/restructure", get(restructure_page))
        .route("/cycle/{fy}/budget", get(budget_page))
        .route(
            "/cycle/{fy}/budget/{code}",
            get(request::request_page).post(save_request),
        )
        .route("/cycle/{fy}/budget/{code}/assess", post(assess))
        .route("/cycle/{fy}/ceilings", post(set_ceiling))
        .route("/api/v1/cycle/{fy}", get(api_status))
        .route("/api/v1/cycle/{fy}/restructure", get(api_restructure))
        .route("/api/v1/cycle/{fy}/budget", get(api_budget))
        .route(
            "/api/v1/cycle/{fy}/sheets/{code}",
            get(api_sheet).put(api_save_sheet),
        )
        .route("/api/v1/cycle/{fy}/sheets/{code}/review", post(api_review))
        .route(
            "/cycle/{fy}/reports/evaluations.xlsx",
            get(downloads::evaluations_xlsx),
        )
        .route(
            "/cycle/{fy}/reports/budget.xlsx",
            get(downloads::budget_xlsx),
        )
        .route(
            "/cycle/{fy}/notify",
            get(mail::notify_page).post(mail::send_notices),
        )
        .route("/cycle/{fy}/progress", get(progress::staff_page))
        .route(
            "/cycle/{fy}/reports/kpi-progress.pdf",
            get(progress::staff_pdf),
        )
        .route("/public/progress/{fy}", get(progress::public_page))
        .route(
            "/public/progress/{fy}/report.pdf",
            get(progress::public_pdf),
        )
        .route("/public/open-data", get(downloads::open_data_page))
        .route(
            "/public/open-data/{fy}/{file}",
            get(downloads::open_data_file),
        )
        .route("/api/v1/programs/{code}/lineage", get(api_lineage))
        .route("/api/v1/notices", get(api_notices))
        .route(
            "/kpis/{code}/scenario",
            get(scenario::scenario_page).post(scenario::save_scenario),
        )
        .route(
            "/api/v1/kpis/{code}/scenario",
            get(scenario::api_scenario).put(scenario::api_save_scenario),
        )
}

// ----- who may act on which record -----

/// May `user` see the sheets and requests of `department`? Department
/// editors see only their own department's; everyone else reads all.
pub fn can_view_department(user: &SessionUser, department: &str) -> bool {
    match user.role {
        DepartmentEditor => !user.department_code.is_empty() && user.department_code == department,
        Admin | StrategyOffice | Finance | Viewer | Executive => true,
    }
}

/// May `user` write the evaluation sheet or budget request of a program of
/// `department`?
pub fn can_edit_sheet(user: &SessionUser, department: &str) -> bool {
    match user.role {
        Admin => true,
        DepartmentEditor => !user.department_code.is_empty() && user.department_code == department,
        StrategyOffice | Finance | Viewer | Executive => false,
    }
}

/// May `user` review sheets and run the cycle's stages?
pub fn can_manage_cycle(user: &SessionUser) -> bool {
    matches!(user.role, Admin | StrategyOffice)
}

/// May `user` set ceilings and assessed amounts?
pub fn can_assess(user: &SessionUser) -> bool {
    matches!(user.role, Admin | Finance)
}

// ----- text -----

/// This area's UI text.
pub struct CycleText {
    pub title: &'static str,
    pub not_started: &'static str,
    pub start: &'static str,
    pub closed: &'static str,
    pub stage: &'static str,
    pub deadline: &'static str,
    pub state: &'static str,
    pub owed: &'static str,
    pub reason: &'static str,
    pub close_stage: &'static str,
    pub waive_stage: &'static str,
    pub reopen_stage: &'static str,
    pub set_deadline: &'static str,
    pub close_cycle: &'static str,
    pub reopen_cycle: &'static str,
    pub who: &'static str,
    pub what: &'static str,
    pub office: &'static str,
    pub sheets: &'static str,
    pub sheet: &'static str,
    pub restructure: &'static str,
    pub budget: &'static str,
    pub program: &'static str,
    pub department: &'static str,
    pub direction: &'static str,
    pub none: &'static str,
    pub full_cost: &'static str,
    pub position: &'static str,
    pub purpose: &'static str,
    pub target_group: &'static str,
    pub intent: &'static str,
    pub means: &'static str,
    pub indicators: &'static str,
    pub target: &'static str,
    pub actual: &'static str,
    pub achievement: &'static str,
    pub money: &'static str,
    pub budget_amount: &'static str,
    pub settled: &'static str,
    pub staff_fte: &'static str,
    pub staff_cost: &'static str,
    pub output: &'static str,
    pub unit_cost: &'static str,
    pub scores: &'static str,
    pub necessity: &'static str,
    pub effectiveness: &'static str,
    pub efficiency: &'static str,
    pub means_score: &'static str,
    pub issues: &'static str,
    pub improvements: &'static str,
    pub direction_reason: &'static str,
    pub reviewer_comment: &'static str,
    pub save: &'static str,
    pub submit: &'static str,
    pub accept: &'static str,
    pub return_sheet: &'static str,
    pub saved: &'static str,
    pub version: &'static str,
    pub conflict: &'static str,
    pub errors: &'static str,
    pub flags: &'static str,
    pub per_100m: &'static str,
    pub last_year: &'static str,
    pub requested: &'static str,
    pub assessed: &'static str,
    pub ceiling: &'static str,
    pub variance: &'static str,
    pub by_department: &'static str,
    pub by_policy: &'static str,
    pub by_source: &'static str,
    pub breakdown: &'static str,
    pub total: &'static str,
    pub override_reason: &'static str,
    pub show: &'static str,
    pub yen: &'static str,
    pub budget_year: &'static str,
    pub sheets_xlsx: &'static str,
    pub budget_xlsx: &'static str,
}

impl CycleText {
    pub const JA: CycleText = CycleText {
        title: "進行管理サイクル",
        not_started: "このサイクルはまだ開始されていません。",
        start: "サイクルを開始",
        closed: "このサイクルは締め切られています（読み取り専用）。",
        stage: "段階",
        deadline: "締切",
        state: "状態",
        owed: "未了",
        reason: "理由",
        close_stage: "完了にする",
        waive_stage: "理由を付けて免除",
        reopen_stage: "再開",
        set_deadline: "締切を変更",
        close_cycle: "サイクルを締め切る",
        reopen_cycle: "サイクルを再開（修正）",
        who: "担当",
        what: "内容",
        office: "企画・財政",
        sheets: "事務事業評価シート",
        sheet: "評価シート",
        restructure: "事業再編の候補",
        budget: "予算要求・査定",
        program: "事務事業",
        department: "部局",
        direction: "今後の方向性",
        none: "未作成",
        full_cost: "フルコスト（円）",
        position: "計画上の位置付け",
        purpose: "目的",
        target_group: "対象",
        intent: "意図",
        means: "手段",
        indicators: "活動指標・成果指標",
        target: "目標",
        actual: "実績",
        achievement: "達成率",
        money: "事業費",
        budget_amount: "予算額",
        settled: "決算額",
        staff_fte: "人工（人）",
        staff_cost: "人件費",
        output: "活動量",
        unit_cost: "単位当たりコスト",
        scores: "評価（1〜5）",
        necessity: "必要性",
        effectiveness: "有効性",
        efficiency: "効率性",
        means_score: "手段の妥当性",
        issues: "課題",
        improvements: "改善策",
        direction_reason: "方向性の理由",
        reviewer_comment: "所見（企画部門）",
        save: "保存",
        submit: "提出",
        accept: "承認",
        return_sheet: "差戻し",
        saved: "保存しました。",
        version: "版",
        conflict: "他の人が先に更新しました。再読み込みしてからやり直してください。",
        errors: "入力内容を確認してください",
        flags: "理由",
        per_100m: "1億円あたり寄与度",
        last_year: "前年度予算",
        requested: "要求額",
        assessed: "査定額",
        ceiling: "要求上限（枠）",
        variance: "前年度比",
        by_department: "部局別",
        by_policy: "政策別",
        by_source: "財源別",
        breakdown: "財源内訳",
        total: "合計",
        override_reason: "前年度超過の理由",
        show: "表示",
        yen: "円",
        budget_year: "予算年度",
        sheets_xlsx: "評価シート（Excel）",
        budget_xlsx: "予算集計（Excel）",
    };
    pub const EN: CycleText = CycleText {
        title: "Management cycle",
        not_started: "This cycle has not been started.",
        start: "Start the cycle",
        closed: "This cycle is closed (read-only).",
        stage: "Stage",
        deadline: "Deadline",
        state: "State",
        owed: "Owed",
        reason: "Reason",
        close_stage: "Close",
        waive_stage: "Waive with a reason",
        reopen_stage: "Reopen",
        set_deadline: "Change deadline",
        close_cycle: "Close the cycle",
        reopen_cycle: "Reopen the cycle (correction)",
        who: "Who",
        what: "What",
        office: "strategy/finance",
        sheets: "Evaluation sheets",
        sheet: "Evaluation sheet",
        restructure: "Restructuring candidates",
        budget: "Budget requests and assessment",
        program: "Program",
        department: "Department",
        direction: "Direction",
        none: "not started",
        full_cost: "Full cost (yen)",
        position: "Place in the plan",
        purpose: "Purpose",
        target_group: "Target group",
        intent: "Intent",
        means: "Means",
        indicators: "Activity and outcome indicators",
        target: "Target",
        actual: "Actual",
        achievement: "Achievement",
        money: "Cost",
        budget_amount: "Budget",
        settled: "Settled",
        staff_fte: "Staff (FTE)",
        staff_cost: "Staff cost",
        output: "Output",
        unit_cost: "Unit cost",
        scores: "Scores (1-5)",
        necessity: "Necessity",
        effectiveness: "Effectiveness",
        efficiency: "Efficiency",
        means_score: "Appropriateness of means",
        issues: "Issues",
        improvements: "Improvements",
        direction_reason: "Reason for the direction",
        reviewer_comment: "Reviewer's comment",
        save: "Save",
        submit: "Submit",
        accept: "Accept",
        return_sheet: "Return",
        saved: "Saved.",
        version: "Version",
        conflict: "Someone else saved first. Reload and try again.",
        errors: "Please check your input",
        flags: "Reasons",
        per_100m: "Contribution per ¥100M",
        last_year: "Last year's budget",
        requested: "Requested",
        assessed: "Assessed",
        ceiling: "Ceiling",
        variance: "Change",
        by_department: "By department",
        by_policy: "By policy",
        by_source: "By funding source",
        breakdown: "Funding breakdown",
        total: "Total",
        override_reason: "Reason for exceeding last year",
        show: "Show",
        yen: "yen",
        budget_year: "Budget year",
        sheets_xlsx: "Evaluation sheets (Excel)",
        budget_xlsx: "Compiled budget (Excel)",
    };
}

/// The annual KPI progress report's title (for links from other areas).
pub fn progress_title(lang: Lang) -> &'static str {
    progress::text(lang).title
}

fn text(lang: Lang) -> &'static CycleText {
    match lang {
        Lang::Ja => &CycleText::JA,
        Lang::En => &CycleText::EN,
    }
}

fn user(ctx: &Ctx) -> WebResult<&SessionUser> {
    ctx.user().ok_or(WebError::Unauthorized)
}

fn parse_fy(s: &str) -> WebResult<FiscalYear> {
    FiscalYear::parse(s).map_err(|_| WebError::NotFound)
}

fn field_message(lang: Lang, e: &FieldError) -> String {
    match lang {
        Lang::Ja => e.ja.clone(),
        Lang::En => e.en.clone(),
    }
}

/// A service error as the web's: missing records are 404, database failures
/// stay internal; refusals are shown by the pages themselves.
/// A program's lineage, from the read model (as its page shows it).
pub async fn api_lineage(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    if snap.program(&code).is_none()
        && !snap
            .lineage
            .iter()
            .any(|r| r.from_codes.contains(&code) || r.to_codes.contains(&code))
    {
        return Err(WebError::NotFound);
    }
    Ok(Json(service::history_of(&code, &snap.lineage, &snap.ds.links)).into_response())
}

/// The logged-in user's notices, as the dashboard shows them.
pub async fn api_notices(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = user(&ctx)?;
    let snap = state.snapshot().await?;
    let notices = notices_for(&state, &snap, u).await?;
    Ok(Json(notices).into_response())
}

/// What `u`'s role answers for in every running cycle (empty for viewers).
pub async fn notices_for(
    state: &AppState,
    snap: &Arc<crate::cache::Snapshot>,
    u: &SessionUser,
) -> WebResult<Vec<service::Notice>> {
    use service::NoticeScope;
    let scope = match u.role {
        DepartmentEditor => NoticeScope::Department(&u.department_code),
        StrategyOffice | Admin => NoticeScope::StrategyOffice,
        Finance => NoticeScope::Finance,
        Viewer | Executive => return Ok(Vec::new()),
    };
    let today = service::today();
    let mut notices = Vec::new();
    for fy in &snap.running_cycles {
        let year = snap.cycle_year(state.store(), *fy).await?;
        notices.extend(year.notices(scope, today));
    }
    Ok(notices)
}

/// The cycle of the evaluated year `fy`, from the read model (computed once
/// per data version).
async fn cycle_year(state: &AppState, fy: FiscalYear) -> WebResult<Arc<CycleYear>> {
    state
        .snapshot()
        .await?
        .cycle_year(state.store(), fy)
        .await
        .map_err(WebError::from)
}

/// A refusal to show on a page: status and the messages (field errors, or
/// the rule's message).
fn refusal(lang: Lang, e: &CycleServiceError) -> Option<(StatusCode, Vec<FieldError>)> {
    if e.is_conflict() {
        let t = text(lang);
        // The service's message names the record and both versions.
        let which = e.to_string();
        return Some((
            StatusCode::CONFLICT,
            vec![
                FieldError::new("version", t.conflict, t.conflict),
                FieldError::new("", which.clone(), which),
            ],
        ));
    }
    if !e.field_errors().is_empty() {
        return Some((StatusCode::UNPROCESSABLE_ENTITY, e.field_errors().to_vec()));
    }
    if e.is_refusal() {
        let m = e.to_string();
        return Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError::new("", m.clone(), m)],
        ));
    }
    None
}

fn error_summary(lang: Lang, errors: &[FieldError]) -> Markup {
    let t = text(lang);
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" {
                h2 { (t.errors) }
                ul {
                    @for e in errors {
                        li {
                            @if e.field.is_empty() { (field_message(lang, e)) }
                            @else { a href={ "#" (e.field.replace(['.', '[', ']'], "_")) } { (field_message(lang, e)) } }
                        }
                    }
                }
            }
        }
    }
}

fn error_for(lang: Lang, errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| field_message(lang, e))
}

/// Form field ids use `_` where the field names use `.` and `[]`.
fn id_of(field: &str) -> String {
    field.replace(['.', '[', ']'], "_")
}

fn input(
    lang: Lang,
    field: &str,
    label: &str,
    value: &str,
    errors: &[FieldError],
    area: bool,
) -> Markup {
    let id = id_of(field);
    let error = error_for(lang, errors, field);
    html! {
        div class=[error.as_ref().map(|_| "field-error")] {
            label for=(id) { (label) }
            (field_error(&id, error.as_deref()))
            @if area {
                textarea.wide id=(id) name=(id) rows="3" aria-invalid=[error.as_ref().map(|_| "true")] { (value) }
            } @else {
                input type="text" id=(id) name=(id) value=(value) aria-invalid=[error.as_ref().map(|_| "true")];
            }
        }
    }
}

fn yen(v: i64) -> String {
    format_yen(v)
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{v:.0}")
        } else {
            format!("{v}")
        }
    })
    .unwrap_or_default()
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "−".into())
}

fn state_label(lang: Lang, s: Option<ReviewState>) -> &'static str {
    match s {
        None => text(lang).none,
        Some(s) => match lang {
            Lang::Ja => s.label_ja(),
            Lang::En => s.label_en(),
        },
    }
}

fn direction_label(lang: Lang, d: Option<ProgramDirection>) -> &'static str {
    match d {
        None => "−",
        Some(d) => match lang {
            Lang::Ja => d.label_ja(),
            Lang::En => d.label_en(),
        },
    }
}

fn cycle_links(ctx: &Ctx, fy: FiscalYear) -> Markup {
    let t = text(ctx.lang);
    let y = fy.year();
    html! {
        p {
            a href={ "/cycle?fy=" (y) } { (t.title) } " · "
            a href={ "/cycle/" (y) "/sheets" } { (t.sheets) } " · "
            a href={ "/cycle/" (y) "/restructure" } { (t.restructure) } " · "
            a href={ "/cycle/" (y) "/budget" } { (t.budget) } " · "
            a href={ "/cycle/" (y) "/progress" } { (progress::text(ctx.lang).title) }
        }
    }
}

fn page(ctx: &Ctx, title: &str, body: Markup, status: StatusCode) -> Response {
    let mut resp = render(
        ctx,
        Page {
            title,
            nav: Nav::Cycle,
            body,
        },
    );
    *resp.status_mut() = status;
    resp
}

fn fy_label(lang: Lang, fy: FiscalYear) -> String {
    match lang {
        Lang::Ja => fy.label_ja(),
        Lang::En => fy.label_en(),
    }
}

// ----- the stage page -----

fn stage_body(ctx: &Ctx, u: &SessionUser, s: &CycleStatus, errors: &[FieldError]) -> Markup {
    let lang = ctx.lang;
    let t = text(lang);
    let y = s.fy.year();
    let manage = can_manage_cycle(u) && s.started;
    html! {
        h1 { (t.title) ": " (fy_label(lang, s.fy)) }
        p.lead { (t.budget_year) ": " (fy_label(lang, s.budget_fy)) }
        (cycle_links(ctx, s.fy))
        (error_summary(lang, errors))
        @if !s.started {
            div.notice.warning role="status" { (t.not_started) }
            @if can_manage_cycle(u) {
                form.inline-form method="post" action={ "/cycle/" (y) "/start" } {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    button type="submit" { (t.start) }
                }
            }
        }
        @if s.state == "closed" { div.notice.warning role="status" { (t.closed) } }
        div.table-wrap { table {
            thead { tr {
                th scope="col" { (t.stage) } th scope="col" { (t.deadline) } th scope="col" { (t.state) }
                th.num scope="col" { (t.owed) } th scope="col" { (t.reason) }
                @if manage { th scope="col" { "" } }
            } }
            tbody {
                @for st in &s.stages {
                    tr {
                        td { (st.number) ". " (lang.name(st.label_ja, st.label_en)) }
                        td { (st.record.deadline.map(|d| d.to_string()).unwrap_or_default()) }
                        td { (lang.name(st.record.state.label_ja(), st.record.state.label_en())) }
                        td.num { (st.owed) }
                        td { (st.record.reason) }
                        @if manage && s.state == "open" {
                            td {
                                form.inline-form method="post" action={ "/cycle/" (y) "/stage" } {
                                    input type="hidden" name="csrf" value=(ctx.csrf());
                                    input type="hidden" name="stage" value=(st.record.stage.as_str());
                                    @if st.record.state.is_done() {
                                        button.secondary type="submit" name="action" value="reopen" { (t.reopen_stage) }
                                    } @else {
                                        button type="submit" name="action" value="close" { (t.close_stage) }
                                        label.visually-hidden for={ "reason-" (st.number) } { (t.reason) }
                                        input type="text" id={ "reason-" (st.number) } name="reason" placeholder=(t.reason);
                                        button.secondary type="submit" name="action" value="waive" { (t.waive_stage) }
                                        label.visually-hidden for={ "deadline-" (st.number) } { (t.deadline) }
                                        input type="text" id={ "deadline-" (st.number) } name="deadline" placeholder="YYYY-MM-DD";
                                        button.secondary type="submit" name="action" value="deadline" { (t.set_deadline) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } }
        @if manage {
            p { a href={ "/cycle/" (y) "/notify" } { (mail::title(lang)) } }
            form.inline-form method="post" action={ "/cycle/" (y) "/state" } {
                input type="hidden" name="csrf" value=(ctx.csrf());
                @if s.state == "open" {
                    button type="submit" name="action" value="close" { (t.close_cycle) }
                } @else {
                    button.secondary type="submit" name="action" value="reopen" { (t.reopen_cycle) }
                }
            }
        }
        h2 { (t.sheets) }
        ul.counts {
            @for (st, n) in &s.sheets { li { (state_label(lang, Some(*st))) ": " (n) } }
        }
        h2 { (t.owed) " (" (s.owed.len()) ")" }
        div.table-wrap { table {
            thead { tr { th scope="col" { (t.stage) } th scope="col" { (t.who) } th scope="col" { (t.what) } } }
            tbody {
                @for o in s.owed.iter().filter(|o| o.department_code.as_deref().is_none_or(|d| can_view_department(u, d))).take(200) {
                    tr {
                        td { (o.stage.number()) }
                        td { (o.section_code.clone().unwrap_or_else(|| t.office.to_string())) }
                        td { @match lang { Lang::Ja => (o.item.describe_ja()), Lang::En => (o.item.describe_en()) } }
                    }
                }
            }
        } }
    }
}

async fn render_stage(
    state: &AppState,
    ctx: &Ctx,
    fy: FiscalYear,
    errors: &[FieldError],
    status: StatusCode,
) -> WebResult<Response> {
    let u = user(ctx)?;
    let year = cycle_year(state, fy).await?;
    let s = &year.status;
    let t = text(ctx.lang);
    Ok(page(ctx, t.title, stage_body(ctx, u, s, errors), status))
}

pub async fn stage_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let fy = ctx.fy;
    render_stage(&state, &ctx, fy, &[], StatusCode::OK).await
}

/// After a write: back to the page, or the page again with the refusal.
async fn after_stage_write(
    state: &AppState,
    ctx: &Ctx,
    fy: FiscalYear,
    result: Result<impl Sized, CycleServiceError>,
) -> WebResult<Response> {
    match result {
        Ok(_) => {
            state.data_changed();
            Ok(Redirect::to(&format!("/cycle?fy={}", fy.year())).into_response())
        }
        Err(e) => match refusal(ctx.lang, &e) {
            Some((status, errors)) => render_stage(state, ctx, fy, &errors, status).await,
            None => Err(WebError::from(e)),
        },
    }
}

pub async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let actor = user(&ctx)?.login.clone();
    let r = service::start_cycle(state.store(), &actor, fy).await;
    after_stage_write(&state, &ctx, fy, r).await
}

#[derive(Deserialize)]
pub struct StageForm {
    stage: String,
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    deadline: String,
}

pub async fn change_stage(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
    Form(form): Form<StageForm>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let actor = user(&ctx)?.login.clone();
    let Some(stage) = Stage::parse(&form.stage) else {
        let errors = vec![FieldError::new(
            "stage",
            format!("段階「{}」はありません", form.stage),
            format!("no stage \"{}\"", form.stage),
        )];
        return render_stage(&state, &ctx, fy, &errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let store = state.store();
    let r = match form.action.as_str() {
        "close" => service::close_stage(store, &actor, fy, stage).await,
        "waive" => service::waive_stage(store, &actor, fy, stage, &form.reason).await,
        "reopen" => service::reopen_stage(store, &actor, fy, stage).await,
        "deadline" => service::set_deadline(store, &actor, fy, stage, &form.deadline).await,
        other => {
            let errors = vec![FieldError::new(
                "action",
                format!("操作「{other}」はありません"),
                format!("no action \"{other}\""),
            )];
            return render_stage(&state, &ctx, fy, &errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    after_stage_write(&state, &ctx, fy, r).await
}

#[derive(Deserialize)]
pub struct StateForm {
    action: String,
}

pub async fn change_state(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
    Form(form): Form<StateForm>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let actor = user(&ctx)?.login.clone();
    let r = match form.action.as_str() {
        "close" => service::close_cycle(state.store(), &actor, fy).await,
        "reopen" => service::reopen_cycle(state.store(), &actor, fy).await,
        _ => return Err(WebError::BadRequest("action".into())),
    };
    after_stage_write(&state, &ctx, fy, r).await
}

// ----- sheets -----

pub async fn sheet_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let only = (u.role == DepartmentEditor).then_some(u.department_code.as_str());
    let snap = state.snapshot().await?;
    let rows = snap
        .cycle_year(state.store(), fy)
        .await?
        .sheet_list(&snap.ds, only);
    let lang = ctx.lang;
    let t = text(lang);
    let body = html! {
        h1 { (t.sheets) ": " (fy_label(lang, fy)) }
        (cycle_links(&ctx, fy))
        p { a.button.secondary href={ "/cycle/" (fy.year()) "/reports/evaluations.xlsx" } download { (t.sheets_xlsx) } }
        div.table-wrap { table {
            thead { tr {
                th scope="col" { (t.program) } th scope="col" { (t.department) }
                th scope="col" { (t.state) } th scope="col" { (t.direction) }
                th.num scope="col" { (t.full_cost) } th.num scope="col" { (t.version) }
            } }
            tbody {
                @for r in &rows {
                    tr {
                        td { a href={ "/cycle/" (fy.year()) "/sheets/" (r.program_code) } { (r.program_code) " " (r.name_ja) } }
                        td { (r.department_code) }
                        td { (state_label(lang, r.state)) }
                        td { (direction_label(lang, r.direction)) }
                        td.num { (r.full_cost.map(yen).unwrap_or_default()) }
                        td.num { (r.version) }
                    }
                }
            }
        } }
    };
    Ok(page(&ctx, t.sheets, body, StatusCode::OK))
}

/// The sheet page: the sheet with its computed fields, the edit form for
/// its section while it is editable, the review form for the strategy
/// office while it is submitted.
fn sheet_body(
    ctx: &Ctx,
    u: &SessionUser,
    v: &SheetView,
    form: Option<&SheetForm>,
    errors: &[FieldError],
    notice: Option<&str>,
) -> Markup {
    let lang = ctx.lang;
    let t = text(lang);
    let s = &v.sheet;
    let c = &v.computed;
    let y = s.fy.year();
    let code = &v.program.code;
    let editable = can_edit_sheet(u, &v.department_code) && s.state.editable_by_section();
    let reviewable = can_manage_cycle(u) && s.state == ReviewState::Submitted;
    let val = |field: &str, stored: String| -> String {
        form.and_then(|f| f.get(field)).unwrap_or(stored)
    };
    html! {
        h1 { (t.sheet) ": " (code) " " (v.program.name_ja) }
        p.lead { (fy_label(lang, s.fy)) " · " (t.state) ": " (state_label(lang, Some(s.state)))
            " · " (t.version) " " (v.version) }
        (cycle_links(ctx, s.fy))
        @if let Some(n) = notice { div.notice.success role="status" { (n) } }
        (error_summary(lang, errors))
        @if !s.reviewer_comment.is_empty() {
            div.notice.warning { strong { (t.reviewer_comment) ": " } (s.reviewer_comment) }
        }
        h2 { (t.position) }
        ul {
            @for p in &v.plan_position {
                li { (p.node_name_ja) " › " (p.kpi_code) " " (p.kpi_name_ja) " (" (p.weight) ")" }
            }
        }
        h2 { (t.money) }
        dl.fields {
            dt { (t.budget_amount) } dd { (yen(s.money.budget)) " " (t.yen) }
            dt { (t.settled) } dd { (s.money.settled.map(yen).unwrap_or_else(|| "−".into())) }
            dt { (t.staff_cost) } dd { (yen(c.staff_cost)) }
            dt { (t.full_cost) } dd id="full_cost" { (yen(c.full_cost)) }
            dt { (t.unit_cost) } dd { (c.unit_cost.map(|u| format!("{u:.0}")).unwrap_or_else(|| "−".into())) }
        }
        // The indicator table sits inside the edit form when the sheet is
        // editable, so the targets and actuals typed into it are the ones sent.
        @let indicators = html! {
            h2 { (t.indicators) }
            div.table-wrap { table {
                thead { tr { th { "" } th { (t.target) } th { (t.actual) } th.num { (t.achievement) } } }
                tbody {
                    @for (i, ind) in s.indicators.iter().enumerate() {
                        tr {
                            td { (ind.code) " " (ind.name_ja) " (" (ind.unit) ")" }
                            @if editable {
                                td { (input(lang, &format!("indicators[{i}].target"), t.target, &val(&format!("indicators_{i}__target"), opt(ind.target)), errors, false)) }
                                td { (input(lang, &format!("indicators[{i}].actual"), t.actual, &val(&format!("indicators_{i}__actual"), opt(ind.actual)), errors, false)) }
                            } @else {
                                td { (opt(ind.target)) } td { (opt(ind.actual)) }
                            }
                            td.num { (pct(c.achievements.get(i).copied().flatten())) }
                        }
                    }
                }
            } }
        };
        @if editable {
            form.stack method="post" action={ "/cycle/" (y) "/sheets/" (code) } novalidate {
                input type="hidden" name="csrf" value=(ctx.csrf());
                input type="hidden" name="version" value=(v.version);
                (indicators)
                (input(lang, "purpose", t.purpose, &val("purpose", s.purpose.clone()), errors, true))
                (input(lang, "target_group", t.target_group, &val("target_group", s.target_group.clone()), errors, true))
                (input(lang, "intent", t.intent, &val("intent", s.intent.clone()), errors, true))
                (input(lang, "means", t.means, &val("means", s.means.clone()), errors, true))
                (input(lang, "money.staff_fte", t.staff_fte, &val("money_staff_fte", s.money.staff_fte.to_string()), errors, false))
                (input(lang, "money.output_quantity", t.output, &val("money_output_quantity", opt(s.money.output_quantity)), errors, false))
                fieldset {
                    legend { (t.scores) }
                    @for (field, label, value) in [
                        ("scores.necessity", t.necessity, s.scores.necessity),
                        ("scores.effectiveness", t.effectiveness, s.scores.effectiveness),
                        ("scores.efficiency", t.efficiency, s.scores.efficiency),
                        ("scores.means", t.means_score, s.scores.means),
                    ] {
                        (input(lang, field, label, &val(&id_of(field), value.map(|v| v.to_string()).unwrap_or_default()), errors, false))
                    }
                }
                (input(lang, "issues", t.issues, &val("issues", s.issues.clone()), errors, true))
                (input(lang, "improvements", t.improvements, &val("improvements", s.improvements.clone()), errors, true))
                @let chosen = val("direction", s.direction.map(|d| d.as_str().to_string()).unwrap_or_default());
                @let derr = error_for(lang, errors, "direction");
                div class=[derr.as_ref().map(|_| "field-error")] {
                    label for="direction" { (t.direction) }
                    (field_error("direction", derr.as_deref()))
                    select id="direction" name="direction" {
                        option value="" { "−" }
                        @for d in ProgramDirection::ALL {
                            option value=(d.as_str()) selected[chosen == d.as_str()] { (direction_label(lang, Some(d))) }
                        }
                    }
                }
                (input(lang, "direction_reason", t.direction_reason, &val("direction_reason", s.direction_reason.clone()), errors, true))
                div {
                    button type="submit" name="action" value="save" { (t.save) } " "
                    button.secondary type="submit" name="action" value="submit" { (t.submit) }
                }
            }
        } @else {
            (indicators)
            dl.fields {
                dt { (t.purpose) } dd { (s.purpose) }
                dt { (t.target_group) } dd { (s.target_group) }
                dt { (t.intent) } dd { (s.intent) }
                dt { (t.means) } dd { (s.means) }
                dt { (t.necessity) } dd { (s.scores.necessity.map(|v| v.to_string()).unwrap_or_default()) }
                dt { (t.effectiveness) } dd { (s.scores.effectiveness.map(|v| v.to_string()).unwrap_or_default()) }
                dt { (t.efficiency) } dd { (s.scores.efficiency.map(|v| v.to_string()).unwrap_or_default()) }
                dt { (t.means_score) } dd { (s.scores.means.map(|v| v.to_string()).unwrap_or_default()) }
                dt { (t.issues) } dd { (s.issues) }
                dt { (t.improvements) } dd { (s.improvements) }
                dt { (t.direction) } dd id="direction" { (direction_label(lang, s.direction)) }
                dt { (t.direction_reason) } dd { (s.direction_reason) }
            }
        }
        @if reviewable {
            h2 { (t.reviewer_comment) }
            form.stack method="post" action={ "/cycle/" (y) "/sheets/" (code) "/review" } novalidate {
                input type="hidden" name="csrf" value=(ctx.csrf());
                input type="hidden" name="version" value=(v.version);
                (input(lang, "reviewer_comment", t.reviewer_comment, &val("reviewer_comment", String::new()), errors, true))
                div {
                    label for="review_direction" { (t.direction) }
                    select id="review_direction" name="direction" {
                        option value="" { "−" }
                        @for d in ProgramDirection::ALL {
                            option value=(d.as_str()) selected[s.direction == Some(d)] { (direction_label(lang, Some(d))) }
                        }
                    }
                }
                div {
                    button type="submit" name="action" value="accept" { (t.accept) } " "
                    button.secondary type="submit" name="action" value="return" { (t.return_sheet) }
                }
            }
        }
    }
}

/// The sheet view, after the department check.
async fn load_sheet(
    state: &AppState,
    u: &SessionUser,
    code: &str,
    fy: FiscalYear,
) -> WebResult<SheetView> {
    let snap = state.snapshot().await?;
    let v = service::sheet_view(state.store(), &snap.ds, code, fy).await?;
    if !can_view_department(u, &v.department_code) {
        return Err(WebError::Forbidden);
    }
    Ok(v)
}

pub async fn sheet_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, code)): Path<(String, String)>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let v = load_sheet(&state, u, &code, fy).await?;
    let t = text(ctx.lang);
    let saved = crate::ctx::query_param(ctx.query.as_deref(), "saved").is_some();
    let body = sheet_body(&ctx, u, &v, None, &[], saved.then_some(t.saved));
    Ok(page(&ctx, t.sheet, body, StatusCode::OK))
}

/// The sheet form's fields as sent (all text), so that a refused form is
/// shown again with what was typed.
#[derive(Deserialize, Default)]
pub struct SheetForm {
    #[serde(flatten)]
    fields: std::collections::HashMap<String, String>,
}

impl SheetForm {
    fn get(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }
}

/// Applies the form to the sheet; every unreadable number is listed.
fn apply_form(sheet: &mut EvaluationSheet, f: &SheetForm) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, slot) in [
        ("purpose", &mut sheet.purpose),
        ("target_group", &mut sheet.target_group),
        ("intent", &mut sheet.intent),
        ("means", &mut sheet.means),
        ("issues", &mut sheet.issues),
        ("improvements", &mut sheet.improvements),
        ("direction_reason", &mut sheet.direction_reason),
    ] {
        if let Some(v) = f.get(name) {
            *slot = v.trim().to_string();
        }
    }
    let number = |field: &str, id: &str, errors: &mut Vec<FieldError>| -> Option<Option<f64>> {
        let raw = f.get(id)?;
        if raw.trim().is_empty() {
            return Some(None);
        }
        match parse_number(&raw) {
            Ok(v) => Some(Some(v)),
            Err(_) => {
                errors.push(FieldError::new(
                    field,
                    format!("「{}」は数値として読めません", raw.trim()),
                    format!("\"{}\" is not a number", raw.trim()),
                ));
                None
            }
        }
    };
    for (i, ind) in sheet.indicators.iter_mut().enumerate() {
        if let Some(v) = number(
            &format!("indicators[{i}].target"),
            &format!("indicators_{i}__target"),
            &mut errors,
        ) {
            ind.target = v;
        }
        if let Some(v) = number(
            &format!("indicators[{i}].actual"),
            &format!("indicators_{i}__actual"),
            &mut errors,
        ) {
            ind.actual = v;
        }
    }
    if let Some(v) = number("money.staff_fte", "money_staff_fte", &mut errors) {
        sheet.money.staff_fte = v.unwrap_or(0.0);
    }
    if let Some(v) = number(
        "money.output_quantity",
        "money_output_quantity",
        &mut errors,
    ) {
        sheet.money.output_quantity = v;
    }
    for (field, slot) in [
        ("scores.necessity", &mut sheet.scores.necessity),
        ("scores.effectiveness", &mut sheet.scores.effectiveness),
        ("scores.efficiency", &mut sheet.scores.efficiency),
        ("scores.means", &mut sheet.scores.means),
    ] {
        if let Some(v) = number(field, &id_of(field), &mut errors) {
            *slot = match v {
                None => None,
                Some(x) if x.fract() == 0.0 && (0.0..=255.0).contains(&x) => Some(x as u8),
                Some(_) => {
                    errors.push(FieldError::new(
                        field,
                        "1〜5の整数で評価してください",
                        "score with a whole number from 1 to 5",
                    ));
                    None
                }
            };
        }
    }
    if let Some(d) = f.get("direction") {
        sheet.direction = if d.trim().is_empty() {
            None
        } else {
            match ProgramDirection::parse(&d) {
                Some(d) => Some(d),
                None => {
                    errors.push(FieldError::new(
                        "direction",
                        format!("方向性「{}」はありません", d.trim()),
                        format!("no direction \"{}\"", d.trim()),
                    ));
                    sheet.direction
                }
            }
        };
    }
    errors
}

fn version_of(f: &SheetForm) -> i64 {
    f.get("version")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(-1)
}

pub async fn save_sheet(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, code)): Path<(String, String)>,
    Form(form): Form<SheetForm>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let v = load_sheet(&state, u, &code, fy).await?;
    if !can_edit_sheet(u, &v.department_code) {
        return Err(WebError::Forbidden);
    }
    let t = text(ctx.lang);
    let mut sheet = v.sheet.clone();
    let errors = apply_form(&mut sheet, &form);
    let show = |errors: Vec<FieldError>, status: StatusCode| {
        let mut shown = v.clone();
        shown.sheet = sheet.clone();
        shown.computed = sheet.computed();
        page(
            &ctx,
            t.sheet,
            sheet_body(&ctx, u, &shown, Some(&form), &errors, None),
            status,
        )
    };
    if !errors.is_empty() {
        return Ok(show(errors, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let store = state.store();
    let mut result = service::save_sheet(store, &u.login, sheet.clone(), version_of(&form)).await;
    if form.get("action").as_deref() == Some("submit")
        && let Ok(saved) = &result
    {
        result = service::submit_sheet(store, &u.login, &code, fy, saved.version).await;
    }
    match result {
        Ok(_) => {
            let program = code.clone();
            state
                .data_changed_by(crate::cache::Change::Sheet { program, fy })
                .await;
            Ok(
                Redirect::to(&format!("/cycle/{}/sheets/{code}?saved=1", fy.year()))
                    .into_response(),
            )
        }
        Err(e) => match refusal(ctx.lang, &e) {
            Some((status, errors)) => Ok(show(errors, status)),
            None => Err(WebError::from(e)),
        },
    }
}

#[derive(Deserialize)]
pub struct ReviewForm {
    action: String,
    #[serde(default)]
    reviewer_comment: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    version: String,
}

fn review_of(
    action: &str,
    comment: &str,
    direction: &str,
    version: i64,
) -> Result<Review, FieldError> {
    let action = match ReviewAction::parse(action) {
        Some(a @ (ReviewAction::Accept | ReviewAction::Return)) => a,
        _ => {
            return Err(FieldError::new(
                "action",
                format!("操作「{action}」はありません（accept / return）"),
                format!("no review action \"{action}\" (accept / return)"),
            ));
        }
    };
    let direction = if direction.trim().is_empty() {
        None
    } else {
        Some(ProgramDirection::parse(direction).ok_or_else(|| {
            FieldError::new(
                "direction",
                format!("方向性「{}」はありません", direction.trim()),
                format!("no direction \"{}\"", direction.trim()),
            )
        })?)
    };
    Ok(Review {
        action,
        comment: comment.to_string(),
        direction,
        expected_version: version,
    })
}

pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, code)): Path<(String, String)>,
    Form(form): Form<ReviewForm>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let v = load_sheet(&state, u, &code, fy).await?;
    let t = text(ctx.lang);
    let version = form.version.trim().parse().unwrap_or(-1);
    let result = match review_of(
        &form.action,
        &form.reviewer_comment,
        &form.direction,
        version,
    ) {
        Ok(r) => service::review_sheet(state.store(), &u.login, &code, fy, &r).await,
        Err(e) => Err(CycleServiceError::Cycle(
            citykpi_store::CycleStoreError::Rule(citykpi_domain::cycle::CycleError::Invalid(vec![
                e,
            ])),
        )),
    };
    match result {
        Ok(_) => {
            state.data_changed();
            Ok(
                Redirect::to(&format!("/cycle/{}/sheets/{code}?saved=1", fy.year()))
                    .into_response(),
            )
        }
        Err(e) => match refusal(ctx.lang, &e) {
            Some((status, errors)) => {
                let f = SheetForm {
                    fields: [(
                        "reviewer_comment".to_string(),
                        form.reviewer_comment.clone(),
                    )]
                    .into(),
                };
                Ok(page(
                    &ctx,
                    t.sheet,
                    sheet_body(&ctx, u, &v, Some(&f), &errors, None),
                    status,
                ))
            }
            None => Err(WebError::from(e)),
        },
    }
}

// ----- restructuring -----

pub async fn restructure_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let year = cycle_year(&state, fy).await?;
    let list = &year.restructure;
    let lang = ctx.lang;
    let t = text(lang);
    let body = html! {
        h1 { (t.restructure) ": " (fy_label(lang, fy)) " (" (list.len()) ")" }
        (cycle_links(&ctx, fy))
        div.table-wrap { table {
            thead { tr {
                th.num scope="col" { "#" } th scope="col" { (t.program) }
                th.num scope="col" { (t.full_cost) } th.num scope="col" { (t.per_100m) }
                th scope="col" { (t.flags) }
            } }
            tbody {
                @for e in list {
                    tr {
                        td.num { (e.rank) }
                        td { a href={ "/cycle/" (fy.year()) "/sheets/" (e.program_code) } { (e.program_code) " " (e.name_ja) } }
                        td.num { (e.full_cost.map(yen).unwrap_or_default()) }
                        td.num { (e.contribution_per_100m_yen.map(|v| format!("{v:.2}")).unwrap_or_else(|| "−".into())) }
                        td { ul {
                            @for f in &e.flags {
                                li {
                                    span.tag { (lang.name(f.kind.label_ja(), f.kind.label_en())) } " "
                                    (lang.name(&f.explanation_ja, &f.explanation_en))
                                }
                            }
                        } }
                    }
                }
            }
        } }
    };
    Ok(page(&ctx, t.restructure, body, StatusCode::OK))
}

// ----- budget -----

fn totals_table(
    lang: Lang,
    title: &str,
    rows: &[citykpi_domain::cycle::TotalRow],
    ceiling: bool,
) -> Markup {
    let t = text(lang);
    html! {
        h2 { (title) }
        div.table-wrap { table {
            thead { tr {
                th scope="col" { "" } th.num scope="col" { (t.last_year) } th.num scope="col" { (t.requested) }
                th.num scope="col" { (t.assessed) } th.num scope="col" { (t.variance) }
                @if ceiling { th.num scope="col" { (t.ceiling) } }
            } }
            tbody {
                @for r in rows {
                    tr {
                        td { (r.key) " " (lang.name(&r.name_ja, &r.name_en)) }
                        td.num { (yen(r.last_year)) }
                        td.num { (yen(r.requested)) }
                        td.num { (yen(r.assessed)) }
                        td.num { (yen(r.variance_assessed)) }
                        @if ceiling { td.num { (r.ceiling.map(yen).unwrap_or_default()) } }
                    }
                }
            }
        } }
    }
}

async fn render_budget(
    state: &AppState,
    ctx: &Ctx,
    fy: FiscalYear,
    errors: &[FieldError],
    status: StatusCode,
) -> WebResult<Response> {
    let u = user(ctx)?;
    let lang = ctx.lang;
    let t = text(lang);
    let snap = state.snapshot().await?;
    let departments = &snap.ds.departments;
    let chosen = if u.role == DepartmentEditor {
        u.department_code.clone()
    } else {
        crate::ctx::query_param(ctx.query.as_deref(), "department")
            .or_else(|| departments.first().map(|d| d.code.clone()))
            .unwrap_or_default()
    };
    let budget_fy = fy.next().next();
    let view = snap
        .cycle_year(state.store(), Cycle::fy_for_budget(budget_fy))
        .await?
        .budget_view(&snap.ds, Some(&chosen));
    let y = fy.year();
    let edit = can_edit_sheet(u, &chosen);
    let assess = can_assess(u);
    let c = &view.compiled;
    let proposals = crate::pages::whatif::proposals_section(state, ctx, budget_fy, &chosen).await?;
    let body = html! {
        h1 { (t.budget) ": " (fy_label(lang, budget_fy)) }
        (cycle_links(ctx, fy))
        @if matches!(u.role, Admin | StrategyOffice | Finance) {
            p {
                a.button.secondary href={ "/cycle/" (y) "/reports/budget.xlsx" } download { (t.budget_xlsx) }
                " "
                a.button.secondary href={ "/whatif/" (budget_fy.year()) } { (ctx.t.nav_whatif) }
            }
        }
        (error_summary(lang, errors))
        (proposals)
        @if u.role != DepartmentEditor {
            form.inline-form method="get" action={ "/cycle/" (y) "/budget" } {
                label for="department" { (t.department) }
                select id="department" name="department" {
                    @for d in departments {
                        option value=(d.code) selected[d.code == chosen] { (d.code) " " (lang.name(&d.name_ja, &d.name_en)) }
                    }
                }
                button.secondary type="submit" { (t.show) }
            }
        }
        @if assess {
            form.inline-form method="post" action={ "/cycle/" (y) "/ceilings" } novalidate {
                input type="hidden" name="csrf" value=(ctx.csrf());
                input type="hidden" name="department" value=(chosen);
                @let shown = view.ceilings.iter().find(|c| c.department_code == chosen).map(|c| c.amount);
                input type="hidden" name="seen" value=(shown.map(|a| a.to_string()).unwrap_or_else(|| "none".into()));
                @let err = error_for(lang, errors, "amount");
                div class=[err.as_ref().map(|_| "field-error")] {
                    label for="amount" { (t.ceiling) " (" (chosen) ")" }
                    (field_error("amount", err.as_deref()))
                    input type="text" id="amount" name="amount"
                        value=(view.ceilings.iter().find(|c| c.department_code == chosen).map(|c| c.amount.to_string()).unwrap_or_default());
                }
                button type="submit" { (t.save) }
            }
        }
        div.table-wrap { table {
            thead { tr {
                th scope="col" { (t.program) } th scope="col" { (t.direction) }
                th.num scope="col" { (t.last_year) } th scope="col" { (t.requested) } th scope="col" { (t.assessed) }
            } }
            tbody {
                @for r in &view.rows {
                    tr {
                        td { a href={ "/cycle/" (y) "/sheets/" (r.program_code) } { (r.program_code) " " (r.name_ja) } }
                        td { (direction_label(lang, r.direction)) }
                        td.num { (yen(r.last_year_budget)) }
                        td {
                            @if edit {
                                form.inline-form method="post" action={ "/cycle/" (y) "/budget/" (r.program_code) } novalidate {
                                    input type="hidden" name="csrf" value=(ctx.csrf());
                                    input type="hidden" name="version" value=(r.version);
                                    label.visually-hidden for={ "req-" (r.program_code) } { (t.requested) }
                                    input type="text" id={ "req-" (r.program_code) } name="requested"
                                        value=(r.request.as_ref().map(|q| q.requested.to_string()).unwrap_or_default());
                                    input type="hidden" name="national" value=(r.request.as_ref().map_or(0, |q| q.funding.national));
                                    input type="hidden" name="prefectural" value=(r.request.as_ref().map_or(0, |q| q.funding.prefectural));
                                    input type="hidden" name="bonds" value=(r.request.as_ref().map_or(0, |q| q.funding.bonds));
                                    input type="hidden" name="other" value=(r.request.as_ref().map_or(0, |q| q.funding.other));
                                    label.visually-hidden for={ "ovr-" (r.program_code) } { (t.override_reason) }
                                    input type="text" id={ "ovr-" (r.program_code) } name="override_reason" placeholder=(t.override_reason)
                                        value=(r.request.as_ref().map(|q| q.override_reason.clone()).unwrap_or_default());
                                    button type="submit" { (t.save) }
                                }
                            } @else {
                                (r.request.as_ref().map(|q| yen(q.requested)).unwrap_or_default())
                            }
                            " " a href={ "/cycle/" (y) "/budget/" (r.program_code) } { (t.breakdown) }
                        }
                        td {
                            @if assess && r.request.is_some() {
                                form.inline-form method="post" action={ "/cycle/" (y) "/budget/" (r.program_code) "/assess" } novalidate {
                                    input type="hidden" name="csrf" value=(ctx.csrf());
                                    input type="hidden" name="version" value=(r.version);
                                    label.visually-hidden for={ "asm-" (r.program_code) } { (t.assessed) }
                                    input type="text" id={ "asm-" (r.program_code) } name="assessed"
                                        value=(r.request.as_ref().and_then(|q| q.assessed).map(|a| a.to_string()).unwrap_or_default());
                                    button type="submit" { (t.save) }
                                }
                            } @else {
                                (r.request.as_ref().and_then(|q| q.assessed).map(yen).unwrap_or_default())
                            }
                        }
                    }
                }
            }
        } }
        (totals_table(lang, t.by_department, &c.by_department, true))
        (totals_table(lang, t.by_policy, &c.by_policy, false))
        (totals_table(lang, t.by_source, &c.by_funding_source, false))
        (totals_table(lang, t.total, std::slice::from_ref(&c.total), false))
    };
    Ok(page(ctx, t.budget, body, status))
}

pub async fn budget_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    render_budget(&state, &ctx, fy, &[], StatusCode::OK).await
}

fn yen_field(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> i64 {
    if raw.trim().is_empty() {
        return 0;
    }
    match parse_yen(raw) {
        Ok(v) => v,
        Err(_) => {
            errors.push(FieldError::new(
                field,
                format!("「{}」は金額（円）として読めません", raw.trim()),
                format!("\"{}\" is not an amount of yen", raw.trim()),
            ));
            0
        }
    }
}

/// A budget request as posted by the budget list (amount only, the funding
/// breakdown in hidden fields) or by the request page (`back=request`, the
/// breakdown in fields named after the domain's `funding.*`).
#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    requested: String,
    #[serde(default, alias = "funding_national")]
    national: String,
    #[serde(default, alias = "funding_prefectural")]
    prefectural: String,
    #[serde(default, alias = "funding_bonds")]
    bonds: String,
    #[serde(default, alias = "funding_other")]
    other: String,
    #[serde(default)]
    override_reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    version: String,
    /// "request" when posted by the request page: errors are shown there.
    #[serde(default)]
    back: String,
}

/// The program's department, after the record rule for writing.
async fn department_for_write(state: &AppState, u: &SessionUser, code: &str) -> WebResult<()> {
    let program = state
        .store()
        .program(code)
        .await?
        .ok_or(WebError::NotFound)?;
    let dept = service::program_department(state.store(), &program).await?;
    if can_edit_sheet(u, &dept) {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

async fn after_budget_write<T>(
    state: &AppState,
    ctx: &Ctx,
    fy: FiscalYear,
    result: Result<T, CycleServiceError>,
) -> WebResult<Response> {
    match result {
        Ok(_) => {
            state.data_changed();
            let q = crate::ctx::query_param(ctx.query.as_deref(), "department")
                // Encoded: a raw value with a newline cannot be a header, and
                // the redirect must not fail once the save is written.
                .map(|d| {
                    let d: String = form_urlencoded::byte_serialize(d.as_bytes()).collect();
                    format!("?department={d}")
                })
                .unwrap_or_default();
            Ok(Redirect::to(&format!("/cycle/{}/budget{q}", fy.year())).into_response())
        }
        Err(e) => match refusal(ctx.lang, &e) {
            Some((status, errors)) => render_budget(state, ctx, fy, &errors, status).await,
            None => Err(WebError::from(e)),
        },
    }
}

pub async fn save_request(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, code)): Path<(String, String)>,
    Form(form): Form<RequestForm>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    department_for_write(&state, u, &code).await?;
    let mut errors = Vec::new();
    let req = BudgetRequest {
        program_code: code.clone(),
        fy: fy.next().next(),
        requested: yen_field("requested", &form.requested, &mut errors),
        funding: FundingSources {
            national: yen_field("funding.national", &form.national, &mut errors),
            prefectural: yen_field("funding.prefectural", &form.prefectural, &mut errors),
            bonds: yen_field("funding.bonds", &form.bonds, &mut errors),
            other: yen_field("funding.other", &form.other, &mut errors),
            general: 0,
        },
        override_reason: form.override_reason.trim().to_string(),
        assessed: None,
        note: form.note.trim().to_string(),
    };
    let from_request_page = form.back == "request";
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return if from_request_page {
            request::render_request(&state, &ctx, fy, &code, Some(&form), &errors, status).await
        } else {
            render_budget(&state, &ctx, fy, &errors, status).await
        };
    }
    let version = form.version.trim().parse().unwrap_or(-1);
    let r = service::save_request(state.store(), &u.login, req, version).await;
    if !from_request_page {
        return after_budget_write(&state, &ctx, fy, r).await;
    }
    match r {
        Ok(_) => {
            state.data_changed();
            Ok(Redirect::to(&format!("/cycle/{}/budget/{code}", fy.year())).into_response())
        }
        Err(e) => match refusal(ctx.lang, &e) {
            Some((status, errors)) => {
                request::render_request(&state, &ctx, fy, &code, Some(&form), &errors, status).await
            }
            None => Err(WebError::from(e)),
        },
    }
}

#[derive(Deserialize)]
pub struct AssessForm {
    #[serde(default)]
    assessed: String,
    #[serde(default)]
    version: String,
}

pub async fn assess(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, code)): Path<(String, String)>,
    Form(form): Form<AssessForm>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    if !can_assess(u) {
        return Err(WebError::Forbidden);
    }
    let mut errors = Vec::new();
    let assessed = if form.assessed.trim().is_empty() {
        None
    } else {
        Some(yen_field("assessed", &form.assessed, &mut errors))
    };
    if !errors.is_empty() {
        return render_budget(&state, &ctx, fy, &errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let version = form.version.trim().parse().unwrap_or(-1);
    let r = service::assess_request(
        state.store(),
        &u.login,
        &code,
        fy.next().next(),
        assessed,
        version,
    )
    .await;
    after_budget_write(&state, &ctx, fy, r).await
}

#[derive(Deserialize)]
pub struct CeilingForm {
    #[serde(default)]
    department: String,
    #[serde(default)]
    amount: String,
    /// The ceiling the form showed (`none` = not set): a stale save is a 409.
    #[serde(default)]
    seen: String,
}

pub async fn set_ceiling(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
    Form(form): Form<CeilingForm>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    if !can_assess(u) {
        return Err(WebError::Forbidden);
    }
    let mut errors = Vec::new();
    let amount = yen_field("amount", &form.amount, &mut errors);
    if form.amount.trim().is_empty() {
        errors.push(FieldError::new(
            "amount",
            "要求上限を入力してください",
            "enter the ceiling",
        ));
    }
    if !errors.is_empty() {
        return render_budget(&state, &ctx, fy, &errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let ceiling = Ceiling {
        fy: fy.next().next(),
        department_code: form.department.trim().to_string(),
        amount,
    };
    let seen = match form.seen.trim() {
        "none" => Some(None),
        raw => Some(Some(raw.parse().unwrap_or(-1))),
    };
    if form.seen.trim().is_empty() {
        let m = (
            "画面を再読み込みしてから保存してください（表示していた上限が送られていません）",
            "reload the page, then save (the form did not send the ceiling it showed)",
        );
        return render_budget(
            &state,
            &ctx,
            fy,
            &[FieldError::new("amount", m.0, m.1)],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let r = service::set_ceiling(state.store(), &u.login, &ceiling, seen).await;
    after_budget_write(&state, &ctx, fy, r).await
}

// ----- API -----

/// A refusal as the API's JSON: the message and every field problem.
fn api_error(lang: Lang, e: CycleServiceError) -> WebResult<Response> {
    match refusal(lang, &e) {
        Some((status, errors)) => {
            let message = if e.is_conflict() {
                e.to_string()
            } else {
                errors
                    .iter()
                    .map(|f| field_message(lang, f))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let body = json!({
                "error": { "status": status.as_u16(), "message": message, "fields": errors }
            });
            Ok((status, Json(body)).into_response())
        }
        None => Err(WebError::from(e)),
    }
}

pub async fn api_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let mut s = cycle_year(&state, fy).await?.status.clone();
    s.owed.retain(|o| {
        o.department_code
            .as_deref()
            .is_none_or(|d| can_view_department(u, d))
    });
    Ok(Json(s).into_response())
}

pub async fn api_restructure(
    State(state): State<AppState>,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    Ok(Json(&cycle_year(&state, fy).await?.restructure).into_response())
}

pub async fn api_budget(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let department = if u.role == DepartmentEditor {
        Some(u.department_code.clone())
    } else {
        crate::ctx::query_param(ctx.query.as_deref(), "department")
    };
    let snap = state.snapshot().await?;
    let view = snap
        .cycle_year(state.store(), Cycle::fy_for_budget(fy.next().next()))
        .await?
        .budget_view(&snap.ds, department.as_deref());
    Ok(Json(view).into_response())
}

pub async fn api_sheet(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, code)): Path<(String, String)>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let v = load_sheet(&state, user(&ctx)?, &code, fy).await?;
    Ok(Json(v).into_response())
}

#[derive(Deserialize)]
pub struct SheetSave {
    version: i64,
    sheet: EvaluationSheet,
    /// Also hand the sheet in after saving.
    #[serde(default)]
    submit: bool,
}

pub async fn api_save_sheet(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, code)): Path<(String, String)>,
    Json(body): Json<SheetSave>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let v = load_sheet(&state, u, &code, fy).await?;
    if !can_edit_sheet(u, &v.department_code) {
        return Err(WebError::Forbidden);
    }
    if body.sheet.program_code != code || body.sheet.fy != fy {
        return Err(WebError::BadRequest(
            "sheet.program_code / sheet.fy はURLと同じにしてください / must match the URL".into(),
        ));
    }
    let store = state.store();
    let mut result = service::save_sheet(store, &u.login, body.sheet, body.version).await;
    if body.submit
        && let Ok(saved) = &result
    {
        result = service::submit_sheet(store, &u.login, &code, fy, saved.version).await;
    }
    match result {
        Ok(saved) => {
            let program = code.clone();
            state
                .data_changed_by(crate::cache::Change::Sheet { program, fy })
                .await;
            Ok(Json(json!({ "version": saved.version, "change": format!("{:?}", saved.change).to_lowercase() })).into_response())
        }
        Err(e) => api_error(ctx.lang, e),
    }
}

#[derive(Deserialize)]
pub struct SheetReview {
    action: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    direction: String,
    version: i64,
}

pub async fn api_review(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, code)): Path<(String, String)>,
    Json(body): Json<SheetReview>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    load_sheet(&state, u, &code, fy).await?;
    let result = match review_of(&body.action, &body.comment, &body.direction, body.version) {
        Ok(r) => service::review_sheet(state.store(), &u.login, &code, fy, &r).await,
        Err(e) => Err(CycleServiceError::Cycle(
            citykpi_store::CycleStoreError::Rule(citykpi_domain::cycle::CycleError::Invalid(vec![
                e,
            ])),
        )),
    };
    match result {
        Ok(saved) => {
            state.data_changed();
            Ok(Json(json!({ "version": saved.version })).into_response())
        }
        Err(e) => api_error(ctx.lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, dept: &str) -> SessionUser {
        SessionUser {
            login: "x".into(),
            display_name: "x".into(),
            role,
            section_code: "S".into(),
            department_code: dept.into(),
        }
    }

    #[test]
    fn department_rules() {
        let editor = user(DepartmentEditor, "D02");
        assert!(can_edit_sheet(&editor, "D02"));
        assert!(!can_edit_sheet(&editor, "D01"));
        assert!(!can_view_department(&editor, "D01"));
        assert!(!can_edit_sheet(&user(DepartmentEditor, ""), ""));
        assert!(!can_edit_sheet(&user(StrategyOffice, "D01"), "D01"));
        assert!(can_view_department(&user(Viewer, ""), "D01"));
        assert!(can_manage_cycle(&user(StrategyOffice, "")));
        assert!(!can_manage_cycle(&user(Finance, "")));
        assert!(can_assess(&user(Finance, "")));
        assert!(!can_assess(&user(DepartmentEditor, "D01")));
    }

    #[test]
    fn every_route_is_in_the_router_table_once() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert((r.method, r.path)), "{} {}", r.method, r.path);
        }
        for (method, path, ..) in API_DOCS {
            assert!(
                ROUTES
                    .iter()
                    .any(|r| r.method == *method && r.path == *path),
                "{method} {path}"
            );
        }
    }
}
