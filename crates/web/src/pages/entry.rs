//! Data entry pages: KPI actuals (one value, or a paste from Excel), a
//! program's fields (with the version check) and a year's money. Reading and
//! saving is `citykpi_app::entry`; these pages only show forms and messages.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use citykpi_app::AppError;
use citykpi_app::confirm::{Confirmer, awaiting, confirm};
use citykpi_app::entry::{
    ActualInput, FieldError, MoneyInput, ProgramInput, money_from_input, parse_actual,
    parse_bulk_actuals, parse_versions, program_from_input, save_actuals_checked,
    save_money as save_money_service, save_program as save_program_service, stored_money,
    versions_text,
};
use citykpi_domain::FiscalYear;
use citykpi_domain::money::ProgramMoney;
use citykpi_domain::observation::{Observation, Period};
use citykpi_domain::program::DeliveryMethod;
use citykpi_store::ConfirmItem;
use citykpi_store::{Change, StoreError};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;

use crate::AppState;
use crate::access::{can_edit_money, can_edit_program, can_enter_actual};
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::extract::{Form, Path};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, field_error, render};
use crate::pages::kpi::values_table_with;
use crate::pages::program::delivery_label;
use crate::session::SessionUser;

fn user(ctx: &Ctx) -> WebResult<&SessionUser> {
    ctx.user().ok_or(WebError::Unauthorized)
}

fn error_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

/// The GOV.UK-style error summary: every problem, linked to its field.
fn error_summary(lang: Lang, errors: &[FieldError]) -> Markup {
    let t = lang.text();
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 id="error-summary-title" { (t.error_summary) }
                ul {
                    @for e in errors {
                        li {
                            @if e.field.starts_with("line:") || e.field == "bulk" { a href="#bulk-rows" { (e.message) } }
                            @else { a href={ "#" (e.field) } { (e.message) } }
                        }
                    }
                }
            }
        }
    }
}

/// A labelled text input with its error next to it.
fn text_field(
    id: &str,
    label: &str,
    value: &str,
    errors: &[FieldError],
    hint: Option<&str>,
    wide: bool,
) -> Markup {
    let error = error_for(errors, id);
    let described = match (hint.is_some(), error.is_some()) {
        (true, true) => Some(format!("{id}-hint {id}-error")),
        (true, false) => Some(format!("{id}-hint")),
        (false, true) => Some(format!("{id}-error")),
        (false, false) => None,
    };
    html! {
        div class=[error.map(|_| "field-error")] {
            label for=(id) { (label) }
            @if let Some(h) = hint { span.hint id={ (id) "-hint" } { (h) } }
            (field_error(id, error))
            input type="text" id=(id) name=(id) value=(value) class=[wide.then_some("wide")]
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
        }
    }
}

fn text_area(id: &str, label: &str, value: &str, errors: &[FieldError]) -> Markup {
    let error = error_for(errors, id);
    html! {
        div class=[error.map(|_| "field-error")] {
            label for=(id) { (label) }
            (field_error(id, error))
            textarea id=(id) name=(id) rows="3" aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| format!("{id}-error"))] { (value) }
        }
    }
}

// ----- KPI actuals -----

struct ActualsView<'a> {
    single: &'a ActualInput,
    single_errors: &'a [FieldError],
    bulk: &'a str,
    bulk_errors: &'a [FieldError],
    notice: Option<String>,
    /// A stale save was refused: the message naming the record.
    conflict: Option<String>,
    /// The versions the forms carry: those the editor saw when re-showing
    /// their input after an error; `None` = the stored ones now.
    versions: Option<&'a str>,
}

/// The signed-in user as a confirmer; the approver mark is read now, so a
/// withdrawn mark counts at once.
pub(crate) async fn confirmer_of(state: &AppState, u: &SessionUser) -> WebResult<Confirmer> {
    Ok(Confirmer {
        login: u.login.clone(),
        role: u.role,
        department_code: u.department_code.clone(),
        approver: state.store().is_approver(&u.login).await?,
    })
}

async fn actuals_page(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    view: ActualsView<'_>,
    status: StatusCode,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let kpi = snap.kpi(code).ok_or(WebError::NotFound)?;
    let u = user(ctx)?;
    let depts = snap.kpi_departments(kpi);
    if !can_enter_actual(u, &depts) {
        return Err(WebError::Forbidden);
    }
    let who = confirmer_of(state, u).await?;
    let stored: HashMap<Period, i64> = state
        .store()
        .observation_versions(&kpi.code, &snap.area)
        .await?
        .into_iter()
        .collect();
    let fresh = {
        let mut v: Vec<(Period, i64)> = stored.iter().map(|(p, v)| (*p, *v)).collect();
        v.sort();
        versions_text(&v)
    };
    let versions = view.versions.unwrap_or(&fresh);
    let t = ctx.t;
    let lang = ctx.lang;
    let name = lang.name(&kpi.name_ja, &kpi.name_en);
    let all_errors: Vec<FieldError> = view
        .single_errors
        .iter()
        .chain(view.bulk_errors)
        .cloned()
        .collect();
    let status_options = [("final", t.final_value), ("provisional", t.provisional)];
    let chosen_status = if view.single.status.is_empty() {
        "final"
    } else {
        view.single.status.as_str()
    };
    let csrf = ctx.csrf();
    let confirm_button = |o: &Observation| -> Markup {
        let version = stored.get(&o.period).copied();
        html! {
            @if let Some(v) = version.filter(|_| !o.is_confirmed() && who.may_confirm(o, &depts)) {
                form.inline-form method="post" action={ "/kpis/" (kpi.code) "/actuals/confirm" } {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="items" value={ (o.period) ":" (v) };
                    button.secondary type="submit" { (t.confirm) }
                }
            }
        }
    };
    let body = html! {
        nav aria-label="breadcrumb" {
            ol.breadcrumbs {
                li { a href="/kpis" { (t.nav_kpis) } }
                li { a href={ "/kpis/" (kpi.code) } { (name) } }
                li aria-current="page" { (t.enter_actual) }
            }
        }
        h1 { (t.enter_actual) ": " (name) }
        @if let Some(n) = &view.notice { div.notice.success role="status" { (n) } }
        @if let Some(c) = &view.conflict { div.notice.warning role="alert" { (c) " " (t.conflict) } }
        (error_summary(lang, &all_errors))
        p.hint { (t.unconfirmed_hint) }
        h2 { (t.enter_actual_single) }
        form.stack method="post" action={ "/kpis/" (kpi.code) "/actuals" } novalidate {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="versions" value=(versions);
            (text_field("period", t.period, &view.single.period, view.single_errors, Some("2024 / 令和6年度 / 2024Q1 / 2024-04"), false))
            (text_field("value", &format!("{}（{}）", t.actual, kpi.unit), &view.single.value, view.single_errors, Some("12.5 / 1,234 / -（欠測） / X（秘匿）"), false))
            div {
                label for="status" { (t.value_status) }
                select id="status" name="status" {
                    @for (v, l) in status_options {
                        option value=(v) selected[v == chosen_status] { (l) }
                    }
                }
            }
            (text_field("source", t.source, &view.single.source, view.single_errors, None, true))
            (text_field("note", t.note, &view.single.note, view.single_errors, None, true))
            div { button type="submit" { (t.save) } }
        }
        h2 { (t.enter_actual_bulk) }
        form.stack method="post" action={ "/kpis/" (kpi.code) "/actuals/bulk" } novalidate {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="versions" value=(versions);
            div class=[(!view.bulk_errors.is_empty()).then_some("field-error")] {
                label for="bulk-rows" { (t.bulk_rows) }
                span.hint id="bulk-hint" { (t.bulk_hint) }
                @for e in view.bulk_errors { span.error-message { (e.message) } }
                textarea id="bulk-rows" name="bulk" rows="8" aria-describedby="bulk-hint bulk-count" { (view.bulk) }
                span.hint id="bulk-count" aria-live="polite" data-template=(t.results_count) {}
            }
            div { button type="submit" { (t.save) } }
        }
        h2 { (t.values_table) }
        (values_table_with(lang, &snap, kpi, true, Some(&confirm_button)))
    };
    let mut resp = render(
        ctx,
        Page {
            title: t.enter_actual,
            nav: Nav::Kpis,
            body,
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

fn count_notice(ctx: &Ctx, key: &str, template: &str) -> Option<String> {
    query_param(ctx.query.as_deref(), key)
        .and_then(|n| n.parse::<usize>().ok())
        .map(|n| template.replace("{n}", &n.to_string()))
}

pub async fn actuals_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let notice = count_notice(&ctx, "saved", ctx.t.saved_n)
        .or_else(|| count_notice(&ctx, "confirmed", ctx.t.confirmed_n));
    let single = ActualInput {
        period: ctx.fy.year().to_string(),
        ..Default::default()
    };
    let view = ActualsView {
        single: &single,
        single_errors: &[],
        bulk: "",
        bulk_errors: &[],
        notice,
        conflict: None,
        versions: None,
    };
    actuals_page(&state, &ctx, &code, view, StatusCode::OK).await
}

/// Checks the department rule before reading the form's values.
async fn kpi_for_entry(state: &AppState, ctx: &Ctx, code: &str) -> WebResult<String> {
    let snap = state.snapshot().await?;
    let kpi = snap.kpi(code).ok_or(WebError::NotFound)?;
    if !can_enter_actual(user(ctx)?, &snap.kpi_departments(kpi)) {
        return Err(WebError::Forbidden);
    }
    Ok(snap.area.clone())
}

/// The versions an entry form carried (what its editor saw).
fn seen_versions(text: Option<&str>) -> WebResult<HashMap<Period, i64>> {
    text.and_then(parse_versions).ok_or_else(|| {
        WebError::BadRequest(
            "フォームに版番号がありません。再読み込みしてください / the form carries no versions; reload it"
                .into(),
        )
    })
}

#[derive(Deserialize)]
pub struct ActualForm {
    #[serde(default)]
    versions: Option<String>,
    #[serde(flatten)]
    input: ActualInput,
}

pub async fn save_actual(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<ActualForm>,
) -> WebResult<Response> {
    let area = kpi_for_entry(&state, &ctx, &code).await?;
    let actor = user(&ctx)?.login.clone();
    let input = form.input;
    let (errors, conflict) = match parse_actual(&code, &area, &input, &actor) {
        Ok(obs) => {
            let seen = seen_versions(form.versions.as_deref())?;
            match save_actuals_checked(state.store(), std::slice::from_ref(&obs), &seen, &actor)
                .await
            {
                Ok(_) => {
                    state
                        .data_changed_by(crate::cache::Change::Observations(vec![code.clone()]))
                        .await;
                    return Ok(Redirect::to(&format!("/kpis/{code}?saved=1")).into_response());
                }
                Err(e @ AppError::Store(StoreError::Conflict { .. })) => {
                    (Vec::new(), e.to_string())
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(errors) => (errors, String::new()),
    };
    let view = ActualsView {
        single: &input,
        single_errors: &errors,
        bulk: "",
        bulk_errors: &[],
        notice: None,
        conflict: None,
        versions: None,
    };
    refused(
        &state,
        &ctx,
        &code,
        view,
        conflict,
        form.versions.as_deref(),
    )
    .await
}

/// The actuals page again after a refused save: 409 with the message naming
/// the record when it was stale, else 422 with the field errors. After a
/// conflict the forms carry the versions stored now (saving again is then a
/// deliberate overwrite of what the editor has seen); otherwise the versions
/// the editor's input was based on.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    view: ActualsView<'_>,
    conflict: String,
    posted_versions: Option<&str>,
) -> WebResult<Response> {
    let (status, view) = if conflict.is_empty() {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ActualsView {
                versions: posted_versions,
                ..view
            },
        )
    } else {
        (
            StatusCode::CONFLICT,
            ActualsView {
                conflict: Some(conflict),
                versions: None,
                ..view
            },
        )
    };
    actuals_page(state, ctx, code, view, status).await
}

#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    bulk: String,
    #[serde(default)]
    versions: Option<String>,
}

pub async fn save_bulk(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<BulkForm>,
) -> WebResult<Response> {
    let area = kpi_for_entry(&state, &ctx, &code).await?;
    let actor = user(&ctx)?.login.clone();
    let (errors, conflict) = match parse_bulk_actuals(&code, &area, &form.bulk, &actor) {
        Ok(rows) => match save_actuals_checked(
            state.store(),
            &rows,
            &seen_versions(form.versions.as_deref())?,
            &actor,
        )
        .await
        {
            Ok(_) => {
                state
                    .data_changed_by(crate::cache::Change::Observations(vec![code.clone()]))
                    .await;
                return Ok(
                    Redirect::to(&format!("/kpis/{code}/actuals?saved={}", rows.len()))
                        .into_response(),
                );
            }
            Err(e @ AppError::Store(StoreError::Conflict { .. })) => (Vec::new(), e.to_string()),
            Err(e) => return Err(e.into()),
        },
        Err(errors) => (errors, String::new()),
    };
    let single = ActualInput {
        period: ctx.fy.year().to_string(),
        ..Default::default()
    };
    let view = ActualsView {
        single: &single,
        single_errors: &[],
        bulk: &form.bulk,
        bulk_errors: &errors,
        notice: None,
        conflict: None,
        versions: None,
    };
    refused(
        &state,
        &ctx,
        &code,
        view,
        conflict,
        form.versions.as_deref(),
    )
    .await
}

// ----- confirming actuals -----

#[derive(Deserialize)]
pub struct ConfirmForm {
    /// `period:version` pairs, comma-separated (the versions the confirmer saw).
    #[serde(default)]
    items: String,
}

/// `POST /kpis/{code}/actuals/confirm`: confirms values of one KPI.
pub async fn confirm_kpi_actuals(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    snap.kpi(&code).ok_or(WebError::NotFound)?;
    let seen = parse_versions(&form.items)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            WebError::BadRequest(format!(
                "確認する値（期間:版）が読めません: 「{}」 / cannot read the values to confirm (period:version): \"{}\"",
                form.items, form.items
            ))
        })?;
    let mut items: Vec<ConfirmItem> = seen
        .into_iter()
        .map(|(period, version)| ConfirmItem {
            kpi_code: code.clone(),
            period,
            area_code: snap.area.clone(),
            version,
        })
        .collect();
    items.sort_by_key(|i| i.period);
    let who = confirmer_of(&state, user(&ctx)?).await?;
    let n = confirm(state.store(), &who, &items).await?.len();
    state.data_changed();
    Ok(Redirect::to(&format!("/kpis/{code}/actuals?confirmed={n}")).into_response())
}

/// `GET /kpis/confirm`: the values the signed-in user may confirm.
pub async fn awaiting_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let who = confirmer_of(&state, user(&ctx)?).await?;
    let t = ctx.t;
    let lang = ctx.lang;
    let owners = |code: &str| {
        snap.kpi(code)
            .map(|k| snap.kpi_departments(k))
            .unwrap_or_default()
    };
    let list = awaiting(
        &who,
        snap.ds
            .observations
            .iter()
            .filter(|o| o.area_code == snap.area),
        owners,
    );
    let mut versions: HashMap<(String, Period), i64> = HashMap::new();
    let mut codes: Vec<&str> = list.iter().map(|o| o.kpi_code.as_str()).collect();
    codes.dedup();
    for code in codes {
        for (p, v) in state.store().observation_versions(code, &snap.area).await? {
            versions.insert((code.to_string(), p), v);
        }
    }
    let notice = count_notice(&ctx, "confirmed", t.confirmed_n);
    let body = html! {
        h1 { (t.awaiting_title) }
        @if let Some(n) = &notice { div.notice.success role="status" { (n) } }
        p.hint { (t.unconfirmed_hint) }
        @if list.is_empty() {
            p { (t.awaiting_none) }
        } @else {
            p { (t.awaiting_n.replace("{n}", &list.len().to_string())) }
            form method="post" action="/kpis/confirm" {
                input type="hidden" name="csrf" value=(ctx.csrf());
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { span.visually-hidden { (t.confirm) } }
                        th scope="col" { (t.nav_kpis) }
                        th scope="col" { (t.period) }
                        th.num scope="col" { (t.actual) }
                        th scope="col" { (t.note) }
                        th scope="col" { (t.entered_by) }
                    } }
                    tbody {
                        @for (i, o) in list.iter().enumerate() {
                            @let kpi = snap.kpi(&o.kpi_code);
                            @let version = versions.get(&(o.kpi_code.clone(), o.period)).copied().unwrap_or(0);
                            tr.unconfirmed {
                                td {
                                    input type="checkbox" id={ "item-" (i) } name="item" checked
                                        value={ (o.kpi_code) "|" (o.period) "|" (version) };
                                }
                                td {
                                    label for={ "item-" (i) } {
                                        @if let Some(k) = kpi { (lang.name(&k.name_ja, &k.name_en)) } @else { (o.kpi_code) }
                                    }
                                    " " a href={ "/kpis/" (o.kpi_code) "/actuals" } { "(" (o.kpi_code) ")" }
                                }
                                td { (o.period.label_ja()) }
                                td.num { (o.value) @if let Some(k) = kpi { " " (k.unit) } }
                                td { (o.note) }
                                td { (o.entered_by) }
                            }
                        }
                    }
                } }
                div { button type="submit" { (t.confirm_selected) } }
            }
        }
    };
    Ok(render(
        &ctx,
        Page {
            title: t.awaiting_title,
            nav: Nav::Kpis,
            body,
        },
    ))
}

/// `POST /kpis/confirm`: confirms the checked values (`item` =
/// `KPI|period|version`, repeated) all at once.
pub async fn confirm_awaiting(
    State(state): State<AppState>,
    ctx: Ctx,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let mut items = Vec::new();
    for (k, v) in form_urlencoded::parse(&body) {
        if k != "item" {
            continue;
        }
        let bad = || {
            WebError::BadRequest(format!(
                "確認する値「{v}」が読めません（KPI|期間|版） / cannot read the value to confirm \"{v}\" (KPI|period|version)"
            ))
        };
        let mut parts = v.split('|');
        let (Some(code), Some(period), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        items.push(ConfirmItem {
            kpi_code: code.to_string(),
            period: Period::parse(period).map_err(|_| bad())?,
            area_code: snap.area.clone(),
            version: version.trim().parse().map_err(|_| bad())?,
        });
    }
    if items.is_empty() {
        return Err(WebError::BadRequest(
            "確認する値を選んでください / select the values to confirm".into(),
        ));
    }
    let who = confirmer_of(&state, user(&ctx)?).await?;
    let n = confirm(state.store(), &who, &items).await?.len();
    state.data_changed();
    Ok(Redirect::to(&format!("/kpis/confirm?confirmed={n}")).into_response())
}

// ----- program fields -----

/// `program` is (code, name).
fn program_form_page(
    ctx: &Ctx,
    (code, name): (&str, &str),
    input: &ProgramInput,
    version: i64,
    errors: &[FieldError],
    notice: Option<(&str, &str)>,
    status: StatusCode,
) -> Response {
    let t = ctx.t;
    let lang = ctx.lang;
    let checked = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|s| matches!(s, "on" | "true" | "1"))
    };
    let body = html! {
        nav aria-label="breadcrumb" {
            ol.breadcrumbs {
                li { a href="/programs" { (t.nav_programs) } }
                li { a href={ "/programs/" (code) } { (name) } }
                li aria-current="page" { (t.edit_program) }
            }
        }
        h1 { (t.edit_program) ": " (name) }
        @if let Some((class, text)) = notice { div class={ "notice " (class) } role="status" { (text) } }
        (error_summary(lang, errors))
        form.stack method="post" action={ "/programs/" (code) "/edit" } novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf());
            input type="hidden" name="version" value=(version);
            (text_field("name_ja", t.name, &input.name_ja, errors, None, true))
            (text_field("name_en", "English name", &input.name_en, errors, None, true))
            (text_area("purpose", t.purpose, &input.purpose, errors))
            (text_area("target_group", t.target_group, &input.target_group, errors))
            (text_area("intent", t.intent, &input.intent, errors))
            (text_area("means", t.means, &input.means, errors))
            div class=[error_for(errors, "delivery").map(|_| "field-error")] {
                label for="delivery" { (t.delivery) }
                (field_error("delivery", error_for(errors, "delivery")))
                select id="delivery" name="delivery" {
                    @for d in DeliveryMethod::ALL {
                        option value=(d.as_str()) selected[d.as_str() == input.delivery || d.label_ja() == input.delivery] { (delivery_label(lang, d)) }
                    }
                }
            }
            (text_field("legal_basis", t.legal_basis, &input.legal_basis, errors, None, true))
            (text_field("start_fy", t.program_start_fy, &input.start_fy, errors, Some("2020 / R2"), false))
            (text_field("end_fy", t.program_end_fy, &input.end_fy, errors, Some("2030 / R12"), false))
            div {
                label { input type="checkbox" name="mandatory" checked[checked(&input.mandatory)]; " " (t.mandatory) }
                label { input type="checkbox" name="published" checked[checked(&input.published)]; " " (t.published) }
            }
            p.muted { (t.version) ": " (version) }
            div { button type="submit" { (t.save) } }
        }
    };
    let mut resp = render(
        ctx,
        Page {
            title: t.edit_program,
            nav: Nav::Programs,
            body,
        },
    );
    *resp.status_mut() = status;
    resp
}

async fn program_for_edit(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
) -> WebResult<(citykpi_domain::program::Program, i64)> {
    let (program, version) = state
        .store()
        .program_with_version(code)
        .await?
        .ok_or(WebError::NotFound)?;
    let snap = state.snapshot().await?;
    let dept = snap
        .department_of_section(&program.section_code)
        .unwrap_or("");
    if !can_edit_program(user(ctx)?, dept) {
        return Err(WebError::Forbidden);
    }
    Ok((program, version))
}

pub async fn program_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let (program, version) = program_for_edit(&state, &ctx, &code).await?;
    let saved = query_param(ctx.query.as_deref(), "saved").is_some();
    let notice = saved.then_some(("success", ctx.t.saved));
    let name = ctx
        .lang
        .name(&program.name_ja, &program.name_en)
        .to_string();
    Ok(program_form_page(
        &ctx,
        (&code, &name),
        &ProgramInput::from_program(&program),
        version,
        &[],
        notice,
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
pub struct ProgramForm {
    #[serde(default)]
    version: String,
    #[serde(flatten)]
    input: ProgramInput,
}

pub async fn save_program(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<ProgramForm>,
) -> WebResult<Response> {
    let (stored, stored_version) = program_for_edit(&state, &ctx, &code).await?;
    let actor = user(&ctx)?.login.clone();
    let name = ctx.lang.name(&stored.name_ja, &stored.name_en).to_string();
    let Ok(version) = form.version.trim().parse::<i64>() else {
        return Err(WebError::BadRequest(
            "版番号がありません / the form has no version".into(),
        ));
    };
    let program = match program_from_input(&stored, &form.input) {
        Ok(p) => p,
        Err(errors) => {
            return Ok(program_form_page(
                &ctx,
                (&code, &name),
                &form.input,
                version,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    match save_program_service(state.store(), &program, version, &actor).await {
        Ok(_) => {
            state.data_changed();
            Ok(Redirect::to(&format!("/programs/{code}/edit?saved=1")).into_response())
        }
        Err(AppError::Store(StoreError::Conflict { .. })) => {
            // Keep what this person typed; saving again now is a deliberate overwrite.
            Ok(program_form_page(
                &ctx,
                (&code, &name),
                &form.input,
                stored_version,
                &[],
                Some(("warning", ctx.t.conflict)),
                StatusCode::CONFLICT,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

// ----- money -----

async fn money_program(state: &AppState, ctx: &Ctx, code: &str) -> WebResult<()> {
    let snap = state.snapshot().await?;
    let p = snap.program(code).ok_or(WebError::NotFound)?;
    if !can_edit_money(user(ctx)?, snap.program_department(p)) {
        return Err(WebError::Forbidden);
    }
    Ok(())
}

/// The form's fields and the revision of the figures it was filled from.
#[derive(Deserialize)]
pub struct MoneyForm {
    #[serde(default)]
    version: String,
    #[serde(flatten)]
    input: MoneyInput,
}

#[allow(clippy::too_many_arguments)]
async fn money_page(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    input: &MoneyInput,
    revision: i64,
    errors: &[FieldError],
    notice: Option<&str>,
    status: StatusCode,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let p = snap.program(code).ok_or(WebError::NotFound)?;
    let t = ctx.t;
    let lang = ctx.lang;
    let name = lang.name(&p.name_ja, &p.name_en);
    let body = html! {
        nav aria-label="breadcrumb" {
            ol.breadcrumbs {
                li { a href="/programs" { (t.nav_programs) } }
                li { a href={ "/programs/" (p.code) } { (name) } }
                li aria-current="page" { (t.edit_money) }
            }
        }
        h1 { (t.edit_money) ": " (name) }
        @if let Some(n) = notice { div.notice.success role="status" { (n) } }
        (error_summary(lang, errors))
        form.stack method="post" action={ "/programs/" (p.code) "/money" } novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf());
            input type="hidden" name="version" value=(revision);
            (text_field("fy", t.fy_label, &input.fy, errors, Some("2024 / R6"), false))
            (text_field("budget_initial", &format!("{}（{}）", t.budget_initial, t.yen), &input.budget_initial, errors, None, false))
            (text_field("budget_revised", &format!("{}（{}）", t.budget_revised, t.yen), &input.budget_revised, errors, None, false))
            (text_field("settled", &format!("{}（{}）", t.settled, t.yen), &input.settled, errors, None, false))
            (text_field("staff_fte", t.staff_fte, &input.staff_fte, errors, None, false))
            (text_field("staff_unit_cost", &format!("{}（{}）", t.staff_cost, t.yen), &input.staff_unit_cost, errors, None, false))
            (text_field("output_quantity", t.output_quantity, &input.output_quantity, errors, None, false))
            div { button type="submit" { (t.save) } }
        }
    };
    let mut resp = render(
        ctx,
        Page {
            title: t.edit_money,
            nav: Nav::Programs,
            body,
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn money_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    money_program(&state, &ctx, &code).await?;
    let snap = state.snapshot().await?;
    let fy = query_param(ctx.query.as_deref(), "fy")
        .and_then(|s| FiscalYear::parse(&s).ok())
        .unwrap_or(ctx.fy);
    let existing = snap
        .money_by_program
        .get(&code)
        .and_then(|v| v.iter().map(|i| &snap.ds.money[*i]).find(|m| m.fy == fy));
    let input = existing.map(MoneyInput::from_money).unwrap_or(MoneyInput {
        fy: fy.to_string(),
        ..Default::default()
    });
    let notice = query_param(ctx.query.as_deref(), "saved").map(|_| ctx.t.saved);
    let revision = existing.map_or(0, ProgramMoney::revision);
    money_page(
        &state,
        &ctx,
        &code,
        &input,
        revision,
        &[],
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn save_money(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<MoneyForm>,
) -> WebResult<Response> {
    money_program(&state, &ctx, &code).await?;
    let input = form.input;
    // A form without the revision it was filled from cannot be checked: stale.
    let revision: i64 = form.version.trim().parse().unwrap_or(-1);
    let actor = user(&ctx)?.login.clone();
    let existing = stored_money(state.store(), &code, &input.fy).await?;
    let (status, errors, revision) = match money_from_input(&code, existing.as_ref(), &input) {
        Ok(m) => match save_money_service(state.store(), &m, revision, &actor).await {
            Ok(change) => {
                if change != Change::Unchanged {
                    let (program, fy) = (code.clone(), m.fy);
                    state
                        .data_changed_by(crate::cache::Change::Money { program, fy })
                        .await;
                }
                return Ok(
                    Redirect::to(&format!("/programs/{code}/money?fy={}&saved=1", m.fy))
                        .into_response(),
                );
            }
            Err(e @ AppError::Store(StoreError::Conflict { found, .. })) => {
                // The input stays in the form, now at the stored revision:
                // saving again (after a look at the figures) is deliberate.
                let which = FieldError {
                    field: String::new(),
                    message: e.to_string(),
                };
                let stale = FieldError {
                    field: "version".into(),
                    message: ctx.t.conflict.to_string(),
                };
                (StatusCode::CONFLICT, vec![stale, which], found)
            }
            Err(e) => return Err(e.into()),
        },
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, revision),
    };
    money_page(&state, &ctx, &code, &input, revision, &errors, None, status).await
}
