//! One program's budget request (予算要求) with its funding breakdown
//! (財源内訳). The budget list edits the requested amount only; here a
//! section enters the specific sources (national, prefectural, bonds,
//! other) beside the amount, sees the general funds computed from them, the
//! direction of the program's evaluation, last year's budget and the
//! department's ceiling, and finance sees what it assesses. The save goes
//! through the same handler and service as the list's (`save_request`).

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::FieldError;
use citykpi_domain::cycle::budget::BudgetRequest;
use citykpi_domain::cycle::stage::Cycle;
use maud::html;

use super::{
    RequestForm, can_edit_sheet, can_view_department, cycle_links, direction_label, error_for,
    error_summary, fy_label, input, page, parse_fy, user, yen,
};
use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::field_error;

/// The words of this page (the cycle's shared words come from `CycleText`).
struct RequestText {
    title: &'static str,
    intro: &'static str,
    program: &'static str,
    department: &'static str,
    direction: &'static str,
    last_year: &'static str,
    ceiling: &'static str,
    no_ceiling: &'static str,
    department_requests: &'static str,
    requested: &'static str,
    national: &'static str,
    prefectural: &'static str,
    bonds: &'static str,
    other: &'static str,
    general: &'static str,
    general_hint: &'static str,
    breakdown: &'static str,
    override_reason: &'static str,
    note: &'static str,
    assessed: &'static str,
    not_assessed: &'static str,
    save: &'static str,
    read_only: &'static str,
    back: &'static str,
}

const JA: RequestText = RequestText {
    title: "予算要求",
    intro: "要求額と財源内訳を入力します。一般財源は要求額から特定財源（国庫・都道府県・地方債・その他）を差し引いて計算されます。",
    program: "事務事業",
    department: "部局",
    direction: "評価の方向性",
    last_year: "前年度予算額",
    ceiling: "部局の要求枠",
    no_ceiling: "未設定",
    department_requests: "部局の要求合計",
    requested: "要求額（円）",
    national: "国庫支出金（円）",
    prefectural: "都道府県支出金（円）",
    bonds: "地方債（円）",
    other: "その他特定財源（円）",
    general: "一般財源（円）",
    general_hint: "要求額 − 特定財源（自動計算）",
    breakdown: "財源内訳",
    override_reason: "前年度を超える理由（縮小の事業のみ）",
    note: "備考",
    assessed: "査定額",
    not_assessed: "未査定",
    save: "保存",
    read_only: "この要求は閲覧のみです。",
    back: "予算要求の一覧へ",
};

const EN: RequestText = RequestText {
    title: "Budget request",
    intro: "Enter the requested amount and its funding breakdown. The general funds are the request minus the specific sources (national, prefectural, bonds, other), computed.",
    program: "Program",
    department: "Department",
    direction: "Direction of the evaluation",
    last_year: "Budget of the running year",
    ceiling: "Department ceiling",
    no_ceiling: "not set",
    department_requests: "Department's requests in total",
    requested: "Requested (yen)",
    national: "National treasury (yen)",
    prefectural: "Prefecture (yen)",
    bonds: "Municipal bonds (yen)",
    other: "Other specific sources (yen)",
    general: "General funds (yen)",
    general_hint: "request − specific sources (computed)",
    breakdown: "Funding breakdown",
    override_reason: "Why more than last year (programs to reduce only)",
    note: "Note",
    assessed: "Assessed",
    not_assessed: "not assessed",
    save: "Save",
    read_only: "You can read this request only.",
    back: "Back to the budget requests",
};

fn words(lang: Lang) -> &'static RequestText {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

pub async fn request_page(
    State(state): State<AppState>,
    ctx: crate::ctx::Ctx,
    Path((fy, code)): Path<(String, String)>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    render_request(&state, &ctx, fy, &code, None, &[], StatusCode::OK).await
}

/// The request page of `code` in the cycle of `fy`; `entered` is what the
/// user typed when a save was refused, shown again with the errors.
pub(super) async fn render_request(
    state: &AppState,
    ctx: &crate::ctx::Ctx,
    fy: FiscalYear,
    code: &str,
    entered: Option<&RequestForm>,
    errors: &[FieldError],
    status: StatusCode,
) -> WebResult<Response> {
    let u = user(ctx)?;
    let lang = ctx.lang;
    let t = words(lang);
    let snap = state.snapshot().await?;
    let program = snap
        .ds
        .programs
        .iter()
        .find(|p| p.code == code)
        .ok_or(WebError::NotFound)?;
    let department = snap
        .ds
        .sections
        .iter()
        .find(|s| s.code == program.section_code)
        .map_or("", |s| s.department_code.as_str());
    if !can_view_department(u, department) {
        return Err(WebError::Forbidden);
    }
    let budget_fy = Cycle::new(fy).budget_fy();
    let view = snap
        .cycle_year(state.store(), fy)
        .await?
        .budget_view(&snap.ds, Some(department));
    let row = view
        .rows
        .iter()
        .find(|r| r.program_code == code)
        .ok_or(WebError::NotFound)?;
    let edit = can_edit_sheet(u, department);
    let stored = row.request.as_ref();
    // What the fields show: the entered text after a refused save, else the stored request.
    let amount = |typed: fn(&RequestForm) -> &String, saved: fn(&BudgetRequest) -> i64| {
        entered.map_or_else(
            || stored.map(|r| saved(r).to_string()).unwrap_or_default(),
            |f| typed(f).clone(),
        )
    };
    let requested = amount(|f| &f.requested, |r| r.requested);
    let national = amount(|f| &f.national, |r| r.funding.national);
    let prefectural = amount(|f| &f.prefectural, |r| r.funding.prefectural);
    let bonds = amount(|f| &f.bonds, |r| r.funding.bonds);
    let other = amount(|f| &f.other, |r| r.funding.other);
    let override_reason = entered.map_or_else(
        || {
            stored
                .map(|r| r.override_reason.clone())
                .unwrap_or_default()
        },
        |f| f.override_reason.clone(),
    );
    let note = entered.map_or_else(
        || stored.map(|r| r.note.clone()).unwrap_or_default(),
        |f| f.note.clone(),
    );
    let ceiling = view
        .ceilings
        .iter()
        .find(|c| c.department_code == department)
        .map(|c| c.amount);
    let department_total: i64 = view
        .rows
        .iter()
        .filter_map(|r| r.request.as_ref().map(|q| q.requested))
        .sum();
    let y = fy.year();
    let title = format!("{}: {} {}", t.title, program.code, program.name_ja);
    let funding_error = error_for(lang, errors, "funding");
    let body = html! {
        h1 { (t.title) ": " (fy_label(lang, budget_fy)) }
        (cycle_links(ctx, fy))
        p.lead { (t.intro) }
        (error_summary(lang, errors))
        dl.facts {
            dt { (t.program) } dd { a href={ "/cycle/" (y) "/sheets/" (program.code) } { (program.code) " " (program.name_ja) } }
            dt { (t.department) } dd { (department) }
            dt { (t.direction) } dd { (direction_label(lang, row.direction)) }
            dt { (t.last_year) } dd.num { (yen(row.last_year_budget)) }
            dt { (t.ceiling) } dd.num { (ceiling.map(yen).unwrap_or_else(|| t.no_ceiling.to_string())) }
            dt { (t.department_requests) } dd.num { (yen(department_total)) }
            dt { (t.general) } dd.num { (stored.map(|r| yen(r.funding.general)).unwrap_or_default()) }
            dt { (t.assessed) } dd.num {
                (stored.and_then(|r| r.assessed).map(yen).unwrap_or_else(|| t.not_assessed.to_string()))
            }
        }
        @if edit {
            form method="post" action={ "/cycle/" (y) "/budget/" (program.code) } novalidate {
                input type="hidden" name="csrf" value=(ctx.csrf());
                input type="hidden" name="version" value=(row.version);
                input type="hidden" name="back" value="request";
                (input(lang, "requested", t.requested, &requested, errors, false))
                fieldset class=[funding_error.as_ref().map(|_| "field-error")] {
                    legend { (t.breakdown) }
                    (field_error("funding", funding_error.as_deref()))
                    (input(lang, "funding.national", t.national, &national, errors, false))
                    (input(lang, "funding.prefectural", t.prefectural, &prefectural, errors, false))
                    (input(lang, "funding.bonds", t.bonds, &bonds, errors, false))
                    (input(lang, "funding.other", t.other, &other, errors, false))
                    p.hint { (t.general) ": " (t.general_hint) }
                }
                (input(lang, "override_reason", t.override_reason, &override_reason, errors, true))
                (input(lang, "note", t.note, &note, errors, true))
                button type="submit" { (t.save) }
            }
        } @else {
            p { (t.read_only) }
            @if let Some(r) = stored {
                div.table-wrap { table {
                    caption { (t.breakdown) }
                    tbody {
                        tr { th scope="row" { (t.requested) } td.num { (yen(r.requested)) } }
                        tr { th scope="row" { (t.national) } td.num { (yen(r.funding.national)) } }
                        tr { th scope="row" { (t.prefectural) } td.num { (yen(r.funding.prefectural)) } }
                        tr { th scope="row" { (t.bonds) } td.num { (yen(r.funding.bonds)) } }
                        tr { th scope="row" { (t.other) } td.num { (yen(r.funding.other)) } }
                        tr { th scope="row" { (t.general) } td.num { (yen(r.funding.general)) } }
                    }
                } }
            }
        }
        p { a href={ "/cycle/" (y) "/budget?department=" (department) } { (t.back) } }
    };
    Ok(page(ctx, &title, body, status))
}
