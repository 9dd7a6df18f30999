//! Startup outreach: leads, their stage toward a demonstration, events, and the counts tied to KPIs.
//!
//! Staff who are logged in read the lead list (with the funnel by stage),
//! lead pages, events and the counts summed per KPI; the desk (DESK) records
//! and edits leads and events, moves a lead's stage and records an event's
//! count as a KPI actual. A lead's contact person and e-mail address are
//! shown to the desk only. Everything is done by
//! `citykpi_app::partners::outreach`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use citykpi_app::partners::is_desk;
use citykpi_app::partners::outreach::{self as svc, OutreachTable};
use citykpi_domain::partner::outreach::{
    EventForm, EventKind, Lead, LeadField, LeadForm, LeadStage, Measure, MetAt, OutreachEvent,
};
use citykpi_domain::partner::{Problems, SdgGoal};
use citykpi_store::{EventFilter, LeadFilter};
use maud::{Markup, html};
use serde_json::json;

use super::{
    DESK, FormCtx, app_error, area_nav, enc, error_summary, field_message, goal_tags, kpi_links,
    page_of, pager, problems_json, text_field, value, values, viewer, with_status,
};
use crate::AppState;
use crate::access::{Access, RouteRule};
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::extract::{Form, Json, Path};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, field_error, render};

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteRule {
    RouteRule {
        method,
        path,
        access,
    }
}

/// This part's routes with the roles they admit.
pub const ROUTES: &[RouteRule] = &[
    r("GET", "/partners/outreach", Access::Login),
    r("POST", "/partners/outreach/leads", Access::Roles(DESK)),
    r("GET", "/partners/outreach/leads/new", Access::Roles(DESK)),
    r("GET", "/partners/outreach/leads/{id}", Access::Login),
    r("POST", "/partners/outreach/leads/{id}", Access::Roles(DESK)),
    r(
        "GET",
        "/partners/outreach/leads/{id}/edit",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/outreach/leads/{id}/stage",
        Access::Roles(DESK),
    ),
    r("GET", "/partners/outreach/events", Access::Login),
    r("POST", "/partners/outreach/events", Access::Roles(DESK)),
    r("GET", "/partners/outreach/events/{id}", Access::Login),
    r(
        "POST",
        "/partners/outreach/events/{id}",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/outreach/events/{id}/record",
        Access::Roles(DESK),
    ),
    r("GET", "/partners/outreach/export/{table}", Access::Login),
    r("GET", "/api/v1/partners/leads", Access::Login),
    r("GET", "/api/v1/partners/events", Access::Login),
];

/// API documentation of this part, in `api::API_DOCS`'s shape.
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "GET",
        "/api/v1/partners/leads",
        "スタートアップのリード一覧と段階別の件数（?stage= ?field= ?overdue=1 ?q= ?page=、担当者の連絡先は窓口のみ）",
        "Startup leads with the count per stage (?stage= ?field= ?overdue=1 ?q= ?page=; contact data for the desk only)",
        None,
    ),
    (
        "GET",
        "/api/v1/partners/events",
        "誘致の催しの一覧とKPI別・年度別の集計（?fy= ?q= ?page=）",
        "Outreach events with their counts summed per KPI and fiscal year (?fy= ?q= ?page=)",
        None,
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/partners/outreach", get(leads_page))
        .route("/partners/outreach/leads", post(create_lead))
        .route("/partners/outreach/leads/new", get(new_lead_form))
        .route(
            "/partners/outreach/leads/{id}",
            get(lead_page).post(update_lead),
        )
        .route("/partners/outreach/leads/{id}/edit", get(edit_lead_form))
        .route("/partners/outreach/leads/{id}/stage", post(move_lead))
        .route(
            "/partners/outreach/events",
            get(events_page).post(create_event),
        )
        .route(
            "/partners/outreach/events/{id}",
            get(event_page).post(update_event),
        )
        .route("/partners/outreach/events/{id}/record", post(record_count))
        .route("/partners/outreach/export/{table}", get(export))
        .route("/api/v1/partners/leads", get(api_leads))
        .route("/api/v1/partners/events", get(api_events))
}

// ----- the UI text of this part -----

pub struct OutreachText {
    pub title: &'static str,
    pub intro: &'static str,
    pub funnel: &'static str,
    pub new_lead: &'static str,
    pub edit_lead: &'static str,
    pub lead_name: &'static str,
    pub member_id: &'static str,
    pub member_id_hint: &'static str,
    pub met_at: &'static str,
    pub met_where: &'static str,
    pub first_met_on: &'static str,
    pub field: &'static str,
    pub summary: &'static str,
    pub contact_person: &'static str,
    pub email: &'static str,
    pub personal_hidden: &'static str,
    pub kpi_codes: &'static str,
    pub codes_hint: &'static str,
    pub sdg_goals: &'static str,
    pub next_action: &'static str,
    pub next_action_on: &'static str,
    pub stage: &'static str,
    pub history: &'static str,
    pub on: &'static str,
    pub from_to: &'static str,
    pub note: &'static str,
    pub by: &'static str,
    pub move_stage: &'static str,
    pub move_to: &'static str,
    pub move_on_hint: &'static str,
    pub no_moves: &'static str,
    pub events_met: &'static str,
    pub events_title: &'static str,
    pub events_intro: &'static str,
    pub new_event: &'static str,
    pub edit_event: &'static str,
    pub event_title: &'static str,
    pub kind: &'static str,
    pub held_on: &'static str,
    pub fiscal_year: &'static str,
    pub place: &'static str,
    pub section_code: &'static str,
    pub lead_ids: &'static str,
    pub lead_ids_hint: &'static str,
    pub sums_title: &'static str,
    pub sums_intro: &'static str,
    pub events_count: &'static str,
    pub record_title: &'static str,
    pub record_intro: &'static str,
    pub measure: &'static str,
    pub kpi: &'static str,
    pub period: &'static str,
    pub period_hint: &'static str,
    pub record: &'static str,
    pub recorded: &'static str,
    pub postings: &'static str,
    pub value: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub overdue: &'static str,
    pub overdue_only: &'static str,
    pub all: &'static str,
    pub search: &'static str,
    pub filter: &'static str,
    pub results: &'static str,
    pub none: &'static str,
    pub optional: &'static str,
    pub download_leads_csv: &'static str,
    pub download_leads_xlsx: &'static str,
    pub download_events_csv: &'static str,
    pub download_sums_csv: &'static str,
    pub back: &'static str,
}

pub const JA: OutreachText = OutreachText {
    title: "スタートアップ誘致",
    intro: "首都圏のコワーキングスペースや催しで出会ったスタートアップ（リード）を、市内での実証に向けて段階ごとに追います。各リードは計画のKPIとSDGsの目標に結び付いています。",
    funnel: "段階別の件数",
    new_lead: "リードを登録",
    edit_lead: "リードを編集",
    lead_name: "企業名",
    member_id: "会員番号",
    member_id_hint: "SDGs推進プラットフォームの会員であれば、その会員番号",
    met_at: "出会った場",
    met_where: "場所・催しの名称",
    first_met_on: "初回接触日",
    field: "分野",
    summary: "事業の概要・実証したいこと",
    contact_person: "担当者名",
    email: "メールアドレス",
    personal_hidden: "担当者の連絡先は窓口にだけ表示されます。",
    kpi_codes: "寄与するKPI",
    codes_hint: "KPIコードをカンマ区切りで",
    sdg_goals: "SDGsの目標",
    next_action: "次の対応",
    next_action_on: "次の対応の期日",
    stage: "段階",
    history: "段階の履歴",
    on: "日付",
    from_to: "変更",
    note: "メモ",
    by: "記録者",
    move_stage: "段階を進める",
    move_to: "進める段階",
    move_on_hint: "空欄なら今日。見送りには理由が必要です。",
    no_moves: "これ以上進める段階はありません。",
    events_met: "出会った催し",
    events_title: "誘致の催し",
    events_intro: "市が開いた催しと、その参加者数・来訪者数・関係人口・企業誘致数です。数は催しが寄与するKPIの実績値として記録できます。",
    new_event: "催しを登録",
    edit_event: "催しを編集",
    event_title: "名称",
    kind: "種類",
    held_on: "開催日",
    fiscal_year: "年度",
    place: "場所",
    section_code: "主催課（課コード）",
    lead_ids: "出会ったリード",
    lead_ids_hint: "リード番号をカンマ区切りで",
    sums_title: "KPI別・年度別の集計",
    sums_intro: "催しが寄与するKPIごとに、催しの数を年度別に合計しています。",
    events_count: "催しの数",
    record_title: "KPIの実績値として記録",
    record_intro: "この催しの数を、寄与するKPIの実績値にします。同じ期間の他の催しの記録と合計した値が実績値になります。",
    measure: "記録する数",
    kpi: "KPI",
    period: "期間",
    period_hint: "空欄なら開催日の年度（例: 2026、2026Q2、2026-07）",
    record: "記録する",
    recorded: "KPIの実績値を記録しました。",
    postings: "KPIへの記録",
    value: "値",
    save: "保存",
    saved: "保存しました。",
    overdue: "期限超過",
    overdue_only: "期限超過のみ",
    all: "すべて",
    search: "検索",
    filter: "絞り込む",
    results: "件",
    none: "まだありません。",
    optional: "任意",
    download_leads_csv: "リードをCSVでダウンロード",
    download_leads_xlsx: "リードをExcelでダウンロード",
    download_events_csv: "催しをCSVでダウンロード",
    download_sums_csv: "集計をCSVでダウンロード",
    back: "スタートアップ誘致に戻る",
};

pub const EN: OutreachText = OutreachText {
    title: "Startup outreach",
    intro: "Startups (leads) met at coworking spaces in the Tokyo area and at events, followed stage by stage toward a demonstration in the city. Each lead is tied to the plan's KPIs and SDG goals.",
    funnel: "Leads per stage",
    new_lead: "New lead",
    edit_lead: "Edit the lead",
    lead_name: "Company",
    member_id: "Member number",
    member_id_hint: "Its number if it is a member of the SDGs partner platform",
    met_at: "Met at",
    met_where: "Place or event",
    first_met_on: "First contact",
    field: "Field",
    summary: "What they do and would demonstrate",
    contact_person: "Contact person",
    email: "E-mail",
    personal_hidden: "The contact's details are shown to the desk only.",
    kpi_codes: "KPIs it serves",
    codes_hint: "KPI codes, comma separated",
    sdg_goals: "SDG goals",
    next_action: "Next action",
    next_action_on: "Next action due",
    stage: "Stage",
    history: "Stage history",
    on: "Date",
    from_to: "Change",
    note: "Note",
    by: "By",
    move_stage: "Move the stage",
    move_to: "Move to",
    move_on_hint: "Empty = today. Setting a lead aside needs a reason.",
    no_moves: "No further stage.",
    events_met: "Events met at",
    events_title: "Outreach events",
    events_intro: "Events the city held with their attendees, visitors, relationship population and firms attracted. The counts can be recorded as actuals of the KPIs the event serves.",
    new_event: "New event",
    edit_event: "Edit the event",
    event_title: "Title",
    kind: "Kind",
    held_on: "Held on",
    fiscal_year: "Fiscal year",
    place: "Place",
    section_code: "Organising section (code)",
    lead_ids: "Leads met",
    lead_ids_hint: "Lead numbers, comma separated",
    sums_title: "Sums per KPI and fiscal year",
    sums_intro: "For each KPI the events serve, their counts summed by fiscal year.",
    events_count: "Events",
    record_title: "Record as a KPI actual",
    record_intro: "Records this event's count as the actual of a KPI it serves. The actual is the sum with the other events recorded for the same period.",
    measure: "Count",
    kpi: "KPI",
    period: "Period",
    period_hint: "Empty = the fiscal year of the event (e.g. 2026, 2026Q2, 2026-07)",
    record: "Record",
    recorded: "The KPI actual was recorded.",
    postings: "Recorded to KPIs",
    value: "Value",
    save: "Save",
    saved: "Saved.",
    overdue: "Overdue",
    overdue_only: "Overdue only",
    all: "All",
    search: "Search",
    filter: "Filter",
    results: "results",
    none: "None yet.",
    optional: "optional",
    download_leads_csv: "Download leads (CSV)",
    download_leads_xlsx: "Download leads (Excel)",
    download_events_csv: "Download events (CSV)",
    download_sums_csv: "Download the sums (CSV)",
    back: "Back to startup outreach",
};

pub(super) fn ot(lang: Lang) -> &'static OutreachText {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// A coded value's label in the reader's language.
macro_rules! label {
    ($lang:expr, $v:expr) => {
        match $lang {
            Lang::Ja => $v.label_ja(),
            Lang::En => $v.label_en(),
        }
    };
}

fn desk(ctx: &Ctx) -> bool {
    ctx.user().is_some_and(|u| is_desk(u.role))
}

fn page(ctx: &Ctx, title: &str, body: Markup, status: StatusCode) -> Response {
    with_status(
        render(
            ctx,
            Page {
                title,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    )
}

fn select(
    lang: Lang,
    problems: &Problems,
    id: &str,
    label: &str,
    options: &[(&'static str, &'static str, &'static str)],
    selected: &str,
) -> Markup {
    let msg = field_message(lang, problems, id);
    html! {
        div class=[msg.as_ref().map(|_| "field-error")] {
            label for=(id) { (label) }
            (field_error(id, msg.as_deref()))
            select id=(id) name=(id) aria-invalid=[msg.as_ref().map(|_| "true")] {
                option value="" { "—" }
                @for (code, ja, en) in options {
                    option value=(code) selected[selected == *code] { (match lang { Lang::Ja => *ja, Lang::En => *en }) }
                }
            }
        }
    }
}

fn goals_field(lang: Lang, problems: &Problems, chosen: &[String]) -> Markup {
    let t = ot(lang);
    let msg = field_message(lang, problems, "sdg_goals");
    html! {
        fieldset id="sdg_goals" class=[msg.as_ref().map(|_| "field-error")] {
            legend { (t.sdg_goals) " （" (t.optional) "）" }
            (field_error("sdg_goals", msg.as_deref()))
            @for g in SdgGoal::all() {
                @let id = format!("sdg-{}", g.number());
                div.inline {
                    input type="checkbox" id=(id) name="sdg_goals" value=(g.number()) checked[chosen.iter().any(|v| v == &g.number().to_string())];
                    label for=(id) { (g.number()) ". " (label!(lang, g)) }
                }
            }
        }
    }
}

fn met_at_options() -> Vec<(&'static str, &'static str, &'static str)> {
    MetAt::ALL
        .iter()
        .map(|m| (m.code(), m.label_ja(), m.label_en()))
        .collect()
}

fn field_options() -> Vec<(&'static str, &'static str, &'static str)> {
    LeadField::all()
        .into_iter()
        .map(|f| (f.code(), f.label_ja(), f.label_en()))
        .collect()
}

fn kind_options() -> Vec<(&'static str, &'static str, &'static str)> {
    EventKind::ALL
        .iter()
        .map(|k| (k.code(), k.label_ja(), k.label_en()))
        .collect()
}

fn id_of(raw: &str) -> WebResult<i64> {
    raw.parse::<i64>().map_err(|_| WebError::NotFound)
}

fn version_of(pairs: &[(String, String)]) -> i64 {
    value(pairs, "version").trim().parse().unwrap_or(-1)
}

// ----- leads -----

fn lead_filter(ctx: &Ctx) -> LeadFilter {
    let q = ctx.query.as_deref();
    LeadFilter {
        stage: query_param(q, "stage").and_then(|s| LeadStage::parse(&s)),
        field: query_param(q, "field").and_then(|s| LeadField::parse(&s)),
        overdue_only: query_param(q, "overdue").is_some_and(|v| v == "1"),
        q: query_param(q, "q").unwrap_or_default(),
        page: page_of(ctx),
        per_page: citykpi_app::partners::PAGE_SIZE,
        ..LeadFilter::new(citykpi_app::partners::today())
    }
}

async fn leads_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let t = ot(ctx.lang);
    let lang = ctx.lang;
    let v = viewer(&ctx)?;
    let filter = lead_filter(&ctx);
    let today = filter.today;
    let list = svc::leads(state.store(), &v, &filter)
        .await
        .map_err(app_error)?;
    let funnel = svc::funnel(state.store()).await.map_err(app_error)?;
    let extra = format!(
        "&stage={}&field={}&overdue={}&q={}",
        filter.stage.map_or("", |s| s.code()),
        filter.field.map_or("", |f| f.code()),
        if filter.overdue_only { "1" } else { "" },
        enc(&filter.q)
    );
    let body = html! {
        (area_nav(&ctx, "/partners/outreach"))
        h1 { (t.title) }
        p.lead { (t.intro) }
        h2 { (t.funnel) }
        ol.funnel aria-label=(t.funnel) {
            @for (s, n) in &funnel {
                li { a href={ "/partners/outreach?stage=" (s.code()) } { (label!(lang, s)) } " " strong { (n) } }
            }
        }
        p {
            @if desk(&ctx) { a.button href="/partners/outreach/leads/new" { (t.new_lead) } " " }
            a href="/partners/outreach/events" { (t.events_title) }
        }
        p.downloads {
            a href="/partners/outreach/export/leads?format=csv" download { (t.download_leads_csv) }
            " · "
            a href="/partners/outreach/export/leads?format=xlsx" download { (t.download_leads_xlsx) }
        }
        form.inline-form method="get" action="/partners/outreach" {
            div {
                label for="stage" { (t.stage) }
                select id="stage" name="stage" {
                    option value="" { (t.all) }
                    @for s in LeadStage::ALL { option value=(s.code()) selected[filter.stage == Some(*s)] { (label!(lang, s)) } }
                }
            }
            div {
                label for="field" { (t.field) }
                select id="field" name="field" {
                    option value="" { (t.all) }
                    @for f in LeadField::all() { option value=(f.code()) selected[filter.field == Some(f)] { (label!(lang, f)) } }
                }
            }
            div { input type="checkbox" id="overdue" name="overdue" value="1" checked[filter.overdue_only]; label for="overdue" { (t.overdue_only) } }
            div { label for="q" { (t.search) } input type="search" id="q" name="q" value=(filter.q); }
            div { button.secondary type="submit" { (t.filter) } }
        }
        p.muted { (list.total) " " (t.results) }
        @if list.items.is_empty() { p { (t.none) } } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t.lead_name) } th scope="col" { (t.field) } th scope="col" { (t.stage) }
                    th scope="col" { (t.met_at) } th scope="col" { (t.next_action) } th scope="col" { (t.kpi_codes) }
                } }
                tbody { @for l in &list.items { tr {
                    td { a href={ "/partners/outreach/leads/" (l.id) } { (l.input.name) } }
                    td { (label!(lang, l.input.field)) }
                    td { (label!(lang, l.stage)) }
                    td { (label!(lang, l.input.met_at)) " " span.muted { (l.input.met_where) } }
                    td {
                        (l.input.next_action)
                        @if let Some(d) = l.input.next_action_on { " (" (d) ")" }
                        @if l.is_overdue(today) { " " span.status.status-behind { (t.overdue) } }
                    }
                    td { (kpi_links(&l.input.kpi_codes)) }
                } } }
            } }
        }
        (pager(&ctx, "/partners/outreach", &extra, &list))
    };
    Ok(page(&ctx, t.title, body, StatusCode::OK))
}

fn lead_form_of(pairs: &[(String, String)]) -> LeadForm {
    LeadForm {
        name: value(pairs, "name"),
        member_id: value(pairs, "member_id"),
        met_at: value(pairs, "met_at"),
        met_where: value(pairs, "met_where"),
        first_met_on: value(pairs, "first_met_on"),
        field: value(pairs, "field"),
        summary: value(pairs, "summary"),
        contact_person: value(pairs, "contact_person"),
        email: value(pairs, "email"),
        kpi_codes: value(pairs, "kpi_codes"),
        sdg_goals: values(pairs, "sdg_goals"),
        next_action: value(pairs, "next_action"),
        next_action_on: value(pairs, "next_action_on"),
    }
}

/// The new/edit lead form; `editing` is the lead's id and loaded version.
fn lead_form_view(
    ctx: &Ctx,
    form: &LeadForm,
    editing: Option<(i64, i64)>,
    problems: &Problems,
    status: StatusCode,
) -> Response {
    let t = ot(ctx.lang);
    let lang = ctx.lang;
    let fc = FormCtx { problems, lang };
    let labels = [
        ("name", t.lead_name),
        ("member_id", t.member_id),
        ("met_at", t.met_at),
        ("met_where", t.met_where),
        ("first_met_on", t.first_met_on),
        ("field", t.field),
        ("summary", t.summary),
        ("contact_person", t.contact_person),
        ("email", t.email),
        ("kpi_codes", t.kpi_codes),
        ("sdg_goals", t.sdg_goals),
        ("next_action", t.next_action),
        ("next_action_on", t.next_action_on),
    ];
    let (title, action) = match editing {
        Some((id, _)) => (t.edit_lead, format!("/partners/outreach/leads/{id}")),
        None => (t.new_lead, "/partners/outreach/leads".to_string()),
    };
    let body = html! {
        p { a href="/partners/outreach" { "← " (t.back) } }
        h1 { (title) }
        (error_summary(ctx, problems, &labels))
        form.stack method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf());
            @if let Some((_, version)) = editing { input type="hidden" name="version" value=(version); }
            (text_field(&fc, "name", t.lead_name, &form.name, "text", true, None))
            (text_field(&fc, "member_id", t.member_id, &form.member_id, "text", false, Some(t.member_id_hint)))
            (select(lang, problems, "met_at", t.met_at, &met_at_options(), &form.met_at))
            (text_field(&fc, "met_where", t.met_where, &form.met_where, "text", false, None))
            (text_field(&fc, "first_met_on", t.first_met_on, &form.first_met_on, "date", false, None))
            (select(lang, problems, "field", t.field, &field_options(), &form.field))
            (text_field(&fc, "summary", t.summary, &form.summary, "textarea", false, None))
            (text_field(&fc, "contact_person", t.contact_person, &form.contact_person, "text", false, None))
            (text_field(&fc, "email", t.email, &form.email, "email", false, None))
            (text_field(&fc, "kpi_codes", t.kpi_codes, &form.kpi_codes, "text", false, Some(t.codes_hint)))
            (goals_field(lang, problems, &form.sdg_goals))
            (text_field(&fc, "next_action", t.next_action, &form.next_action, "text", false, None))
            (text_field(&fc, "next_action_on", t.next_action_on, &form.next_action_on, "date", false, None))
            div { button type="submit" { (t.save) } }
        }
    };
    page(ctx, title, body, status)
}

async fn new_lead_form(ctx: Ctx) -> Response {
    lead_form_view(
        &ctx,
        &LeadForm {
            met_at: "coworking".into(),
            ..LeadForm::default()
        },
        None,
        &Problems(Vec::new()),
        StatusCode::OK,
    )
}

async fn create_lead(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let form = lead_form_of(&pairs);
    match svc::create_lead(state.store(), &form, &actor).await {
        Ok(l) => {
            Ok(Redirect::to(&format!("/partners/outreach/leads/{}?saved=1", l.id)).into_response())
        }
        Err(citykpi_app::partners::PartnersError::Invalid(p)) => Ok(lead_form_view(
            &ctx,
            &form,
            None,
            &p,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(app_error(e)),
    }
}

async fn edit_lead_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let (l, _, _) = svc::lead(state.store(), &viewer(&ctx)?, id)
        .await
        .map_err(app_error)?;
    Ok(lead_form_view(
        &ctx,
        &LeadForm::from_lead(&l),
        Some((l.id, l.version)),
        &Problems(Vec::new()),
        StatusCode::OK,
    ))
}

async fn update_lead(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let actor = viewer(&ctx)?.login;
    let form = lead_form_of(&pairs);
    let version = version_of(&pairs);
    match svc::update_lead(state.store(), id, &form, version, &actor).await {
        Ok(l) => {
            Ok(Redirect::to(&format!("/partners/outreach/leads/{}?saved=1", l.id)).into_response())
        }
        Err(citykpi_app::partners::PartnersError::Invalid(p)) => Ok(lead_form_view(
            &ctx,
            &form,
            Some((id, version)),
            &p,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(app_error(e)),
    }
}

struct MoveForm {
    to: String,
    on: String,
    note: String,
}

async fn lead_view(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    mv: &MoveForm,
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    let t = ot(ctx.lang);
    let lang = ctx.lang;
    let (l, moves, events) = svc::lead(state.store(), &viewer(ctx)?, id)
        .await
        .map_err(app_error)?;
    let today = citykpi_app::partners::today();
    let is_desk = desk(ctx);
    let saved = query_param(ctx.query.as_deref(), "saved").is_some() && problems.0.is_empty();
    let next = l.stage.next_allowed();
    let i = &l.input;
    let body = html! {
        p { a href="/partners/outreach" { "← " (t.back) } }
        h1 { (i.name) }
        (error_summary(ctx, problems, &[("to", t.move_to), ("on", t.on), ("note", t.note)]))
        @if saved { div.notice.success role="status" { (t.saved) } }
        dl.fields {
            dt { (t.stage) } dd { strong { (label!(lang, l.stage)) } }
            @if let Some(m) = i.member_id {
                dt { (t.member_id) }
                dd { @if is_desk { a href={ "/partners/members/" (m) } { "#" (m) } } @else { "#" (m) } }
            }
            dt { (t.met_at) } dd { (label!(lang, i.met_at)) " " (i.met_where) }
            dt { (t.first_met_on) } dd { (i.first_met_on) }
            dt { (t.field) } dd { (label!(lang, i.field)) }
            dt { (t.summary) } dd { (i.summary) }
            dt { (t.kpi_codes) } dd { (kpi_links(&i.kpi_codes)) }
            dt { (t.sdg_goals) } dd { (goal_tags(lang, &i.sdg_goals)) }
            dt { (t.next_action) }
            dd {
                (i.next_action)
                @if let Some(d) = i.next_action_on { " (" (d) ")" }
                @if l.is_overdue(today) { " " span.status.status-behind { (t.overdue) } }
            }
            @if is_desk {
                dt { (t.contact_person) } dd { (i.contact.person) }
                dt { (t.email) } dd { (i.contact.email) }
            }
        }
        @if !is_desk { p.muted { (t.personal_hidden) } }
        @if is_desk { p { a href={ "/partners/outreach/leads/" (l.id) "/edit" } { (t.edit_lead) } } }
        h2 { (t.history) }
        div.table-wrap { table {
            thead { tr { th scope="col" { (t.on) } th scope="col" { (t.from_to) } th scope="col" { (t.note) } th scope="col" { (t.by) } } }
            tbody { @for m in &moves { tr {
                td { (m.on) }
                td { @if let Some(f) = m.from { (label!(lang, f)) " → " } (label!(lang, m.to)) }
                td { (m.note) }
                td { (m.by) }
            } } }
        } }
        @if is_desk {
            h2 { (t.move_stage) }
            @if next.is_empty() { p { (t.no_moves) } } @else {
                @let msg = field_message(lang, problems, "to");
                form.stack method="post" action={ "/partners/outreach/leads/" (l.id) "/stage" } novalidate {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    div class=[msg.as_ref().map(|_| "field-error")] {
                        label for="to" { (t.move_to) }
                        (field_error("to", msg.as_deref()))
                        select id="to" name="to" {
                            @for s in &next { option value=(s.code()) selected[mv.to == s.code()] { (label!(lang, s)) } }
                        }
                    }
                    (text_field(&FormCtx { problems, lang }, "on", t.on, &mv.on, "date", false, Some(t.move_on_hint)))
                    (text_field(&FormCtx { problems, lang }, "note", t.note, &mv.note, "textarea", false, None))
                    div { button type="submit" { (t.move_stage) } }
                }
            }
        }
        h2 { (t.events_met) }
        @if events.is_empty() { p { (t.none) } } @else {
            ul { @for e in &events { li { a href={ "/partners/outreach/events/" (e.id) } { (e.input.title) } " (" (e.input.held_on) ")" } } }
        }
    };
    Ok(page(ctx, &i.name, body, status))
}

async fn lead_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let mv = MoveForm {
        to: String::new(),
        on: String::new(),
        note: String::new(),
    };
    lead_view(&state, &ctx, id, &mv, &Problems(Vec::new()), StatusCode::OK).await
}

async fn move_lead(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let actor = viewer(&ctx)?.login;
    let mv = MoveForm {
        to: value(&pairs, "to"),
        on: value(&pairs, "on"),
        note: value(&pairs, "note"),
    };
    match svc::move_lead(state.store(), id, &mv.to, &mv.on, &mv.note, &actor).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/partners/outreach/leads/{id}?saved=1")).into_response())
        }
        Err(citykpi_app::partners::PartnersError::Invalid(p)) => {
            lead_view(&state, &ctx, id, &mv, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

// ----- events -----

fn event_filter(ctx: &Ctx) -> EventFilter {
    let q = ctx.query.as_deref();
    EventFilter {
        fiscal_year: query_param(q, "fy").and_then(|s| s.trim().parse().ok()),
        q: query_param(q, "q").unwrap_or_default(),
        page: page_of(ctx),
        per_page: citykpi_app::partners::PAGE_SIZE,
    }
}

fn event_form_of(pairs: &[(String, String)]) -> EventForm {
    EventForm {
        title: value(pairs, "title"),
        kind: value(pairs, "kind"),
        held_on: value(pairs, "held_on"),
        place: value(pairs, "place"),
        section_code: value(pairs, "section_code"),
        attendees: value(pairs, "attendees"),
        visitors: value(pairs, "visitors"),
        relationship_population: value(pairs, "relationship_population"),
        firms_attracted: value(pairs, "firms_attracted"),
        kpi_codes: value(pairs, "kpi_codes"),
        sdg_goals: values(pairs, "sdg_goals"),
        lead_ids: value(pairs, "lead_ids"),
        note: value(pairs, "note"),
    }
}

fn event_fields(ctx: &Ctx, form: &EventForm, problems: &Problems) -> Markup {
    let t = ot(ctx.lang);
    let lang = ctx.lang;
    let fc = FormCtx { problems, lang };
    html! {
        (text_field(&fc, "title", t.event_title, &form.title, "text", true, None))
        (select(lang, problems, "kind", t.kind, &kind_options(), &form.kind))
        (text_field(&fc, "held_on", t.held_on, &form.held_on, "date", true, None))
        (text_field(&fc, "place", t.place, &form.place, "text", true, None))
        (text_field(&fc, "section_code", t.section_code, &form.section_code, "text", true, None))
        (text_field(&fc, "attendees", Measure::Attendees.label_of(lang), &form.attendees, "text", false, None))
        (text_field(&fc, "visitors", Measure::Visitors.label_of(lang), &form.visitors, "text", false, None))
        (text_field(&fc, "relationship_population", Measure::RelationshipPopulation.label_of(lang), &form.relationship_population, "text", false, None))
        (text_field(&fc, "firms_attracted", Measure::FirmsAttracted.label_of(lang), &form.firms_attracted, "text", false, None))
        (text_field(&fc, "kpi_codes", t.kpi_codes, &form.kpi_codes, "text", true, Some(t.codes_hint)))
        (goals_field(lang, problems, &form.sdg_goals))
        (text_field(&fc, "lead_ids", t.lead_ids, &form.lead_ids, "text", false, Some(t.lead_ids_hint)))
        (text_field(&fc, "note", t.note, &form.note, "textarea", false, None))
    }
}

/// A measure's label in the reader's language (for field labels).
trait LabelOf {
    fn label_of(self, lang: Lang) -> &'static str;
}

impl LabelOf for Measure {
    fn label_of(self, lang: Lang) -> &'static str {
        label!(lang, self)
    }
}

fn event_labels(t: &OutreachText) -> Vec<(&'static str, &'static str)> {
    vec![
        ("title", t.event_title),
        ("kind", t.kind),
        ("held_on", t.held_on),
        ("place", t.place),
        ("section_code", t.section_code),
        ("attendees", JA_EN_MEASURE[0]),
        ("visitors", JA_EN_MEASURE[1]),
        ("relationship_population", JA_EN_MEASURE[2]),
        ("firms_attracted", JA_EN_MEASURE[3]),
        ("kpi_codes", t.kpi_codes),
        ("sdg_goals", t.sdg_goals),
        ("lead_ids", t.lead_ids),
        ("note", t.note),
        ("measure", t.measure),
        ("kpi_code", t.kpi),
        ("period", t.period),
    ]
}

/// The counts' labels in both languages (the error summary names fields by them).
const JA_EN_MEASURE: [&str; 4] = [
    "参加者数 / attendees",
    "来訪者数 / visitors",
    "関係人口 / relationship population",
    "企業誘致数 / firms attracted",
];

fn counts_cells(e: &OutreachEvent) -> Markup {
    let c = &e.input.counts;
    html! {
        td.num { (c.attendees) } td.num { (c.visitors) } td.num { (c.relationship_population) } td.num { (c.firms_attracted) }
    }
}

fn counts_headers(lang: Lang) -> Markup {
    html! { @for m in Measure::ALL { th scope="col" { (label!(lang, m)) } } }
}

async fn events_view(
    state: &AppState,
    ctx: &Ctx,
    form: &EventForm,
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    let t = ot(ctx.lang);
    let lang = ctx.lang;
    let filter = event_filter(ctx);
    let list = svc::events(state.store(), &filter)
        .await
        .map_err(app_error)?;
    let sums = svc::kpi_sums(state.store()).await.map_err(app_error)?;
    let extra = format!(
        "&fy={}&q={}",
        filter
            .fiscal_year
            .map(|y| y.to_string())
            .unwrap_or_default(),
        enc(&filter.q)
    );
    let body = html! {
        (area_nav(ctx, "/partners/outreach"))
        p { a href="/partners/outreach" { "← " (t.back) } }
        h1 { (t.events_title) }
        p.lead { (t.events_intro) }
        (error_summary(ctx, problems, &event_labels(t)))
        p.downloads {
            a href="/partners/outreach/export/events?format=csv" download { (t.download_events_csv) }
            " · "
            a href="/partners/outreach/export/kpi-sums?format=csv" download { (t.download_sums_csv) }
        }
        h2 { (t.sums_title) }
        p.muted { (t.sums_intro) }
        @if sums.is_empty() { p { (t.none) } } @else {
            div.table-wrap { table id="kpi-sums" {
                thead { tr { th scope="col" { (t.kpi) } th scope="col" { (t.fiscal_year) } th scope="col" { (t.events_count) } (counts_headers(lang)) } }
                tbody { @for s in &sums { tr {
                    td { (kpi_links(std::slice::from_ref(&s.kpi_code))) }
                    td { (s.fiscal_year) }
                    td.num { (s.events) }
                    td.num { (s.counts.attendees) } td.num { (s.counts.visitors) } td.num { (s.counts.relationship_population) } td.num { (s.counts.firms_attracted) }
                } } }
            } }
        }
        h2 { (t.events_title) }
        form.inline-form method="get" action="/partners/outreach/events" {
            div { label for="fy" { (t.fiscal_year) } input type="text" inputmode="numeric" id="fy" name="fy" value=(filter.fiscal_year.map(|y| y.to_string()).unwrap_or_default()) size="6"; }
            div { label for="q" { (t.search) } input type="search" id="q" name="q" value=(filter.q); }
            div { button.secondary type="submit" { (t.filter) } }
        }
        p.muted { (list.total) " " (t.results) }
        @if list.items.is_empty() { p { (t.none) } } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { (t.held_on) } th scope="col" { (t.event_title) } th scope="col" { (t.kind) } th scope="col" { (t.place) } (counts_headers(lang)) th scope="col" { (t.kpi_codes) } } }
                tbody { @for e in &list.items { tr {
                    td { (e.input.held_on) }
                    td { a href={ "/partners/outreach/events/" (e.id) } { (e.input.title) } }
                    td { (label!(lang, e.input.kind)) }
                    td { (e.input.place) }
                    (counts_cells(e))
                    td { (kpi_links(&e.input.kpi_codes)) }
                } } }
            } }
        }
        (pager(ctx, "/partners/outreach/events", &extra, &list))
        @if desk(ctx) {
            h2 id="new-event" { (t.new_event) }
            form.stack method="post" action="/partners/outreach/events" novalidate {
                input type="hidden" name="csrf" value=(ctx.csrf());
                (event_fields(ctx, form, problems))
                div { button type="submit" { (t.save) } }
            }
        }
    };
    Ok(page(ctx, t.events_title, body, status))
}

async fn events_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let form = EventForm {
        kind: "pitch".into(),
        ..EventForm::default()
    };
    events_view(&state, &ctx, &form, &Problems(Vec::new()), StatusCode::OK).await
}

async fn create_event(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let form = event_form_of(&pairs);
    match svc::create_event(state.store(), &form, &actor).await {
        Ok(e) => Ok(
            Redirect::to(&format!("/partners/outreach/events/{}?saved=1", e.id)).into_response(),
        ),
        Err(citykpi_app::partners::PartnersError::Invalid(p)) => {
            events_view(&state, &ctx, &form, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

struct RecordForm {
    measure: String,
    kpi_code: String,
    period: String,
}

/// The event page: its fields, counts, leads met, what was recorded to KPIs,
/// and for the desk the record and edit forms. `edit` is the edit form as
/// typed (when it was refused); `problems` belong to whichever form was sent.
#[allow(clippy::too_many_arguments)]
async fn event_view(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    edit: Option<(&EventForm, i64)>,
    rec: &RecordForm,
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    let t = ot(ctx.lang);
    let lang = ctx.lang;
    let (e, postings) = svc::event(state.store(), id).await.map_err(app_error)?;
    let i = &e.input;
    let saved = query_param(ctx.query.as_deref(), "saved").is_some() && problems.0.is_empty();
    let recorded = query_param(ctx.query.as_deref(), "recorded");
    let loaded = EventForm::from_event(&e);
    let (form, version) = edit.unwrap_or((&loaded, e.version));
    let empty = Problems(Vec::new());
    let (edit_problems, record_problems) = if edit.is_some() {
        (problems, &empty)
    } else {
        (&empty, problems)
    };
    let body = html! {
        p { a href="/partners/outreach/events" { "← " (t.events_title) } }
        h1 { (i.title) }
        (error_summary(ctx, problems, &event_labels(t)))
        @if saved { div.notice.success role="status" { (t.saved) } }
        @if let Some(v) = recorded.filter(|_| problems.0.is_empty()) { div.notice.success role="status" { (t.recorded) " (" (v) ")" } }
        dl.fields {
            dt { (t.kind) } dd { (label!(lang, i.kind)) }
            dt { (t.held_on) } dd { (i.held_on) " (" (t.fiscal_year) " " (e.fiscal_year().year()) ")" }
            dt { (t.place) } dd { (i.place) }
            dt { (t.section_code) } dd { (i.section_code) }
            @for m in Measure::ALL { dt { (label!(lang, m)) } dd { (i.counts.get(*m)) } }
            dt { (t.kpi_codes) } dd { (kpi_links(&i.kpi_codes)) }
            dt { (t.sdg_goals) } dd { (goal_tags(lang, &i.sdg_goals)) }
            dt { (t.lead_ids) } dd { @for (n, l) in i.lead_ids.iter().enumerate() { @if n > 0 { ", " } a href={ "/partners/outreach/leads/" (l) } { "#" (l) } } }
            dt { (t.note) } dd { (i.note) }
        }
        h2 { (t.postings) }
        @if postings.is_empty() { p { (t.none) } } @else {
            div.table-wrap { table id="postings" {
                thead { tr { th scope="col" { (t.kpi) } th scope="col" { (t.measure) } th scope="col" { (t.period) } th scope="col" { (t.value) } th scope="col" { (t.by) } } }
                tbody { @for p in &postings { tr {
                    td { (kpi_links(std::slice::from_ref(&p.kpi_code))) }
                    td { (label!(lang, p.measure)) }
                    td { (p.period) }
                    td.num { (p.value) }
                    td { (p.posted_by) " " span.muted { (citykpi_domain::jst::display(&p.posted_at)) } }
                } } }
            } }
        }
        @if desk(ctx) {
            h2 { (t.record_title) }
            p.muted { (t.record_intro) }
            @let mmsg = field_message(lang, record_problems, "measure");
            @let kmsg = field_message(lang, record_problems, "kpi_code");
            form.stack method="post" action={ "/partners/outreach/events/" (e.id) "/record" } novalidate {
                input type="hidden" name="csrf" value=(ctx.csrf());
                div class=[mmsg.as_ref().map(|_| "field-error")] {
                    label for="measure" { (t.measure) }
                    (field_error("measure", mmsg.as_deref()))
                    select id="measure" name="measure" {
                        @for m in Measure::ALL { option value=(m.code()) selected[rec.measure == m.code()] { (label!(lang, m)) " (" (i.counts.get(*m)) ")" } }
                    }
                }
                div class=[kmsg.as_ref().map(|_| "field-error")] {
                    label for="kpi_code" { (t.kpi) }
                    (field_error("kpi_code", kmsg.as_deref()))
                    select id="kpi_code" name="kpi_code" {
                        @for k in &i.kpi_codes { option value=(k) selected[&rec.kpi_code == k] { (k) } }
                    }
                }
                (text_field(&FormCtx { problems: record_problems, lang }, "period", t.period, &rec.period, "text", false, Some(t.period_hint)))
                div { button type="submit" { (t.record) } }
            }
            h2 { (t.edit_event) }
            form.stack method="post" action={ "/partners/outreach/events/" (e.id) } novalidate {
                input type="hidden" name="csrf" value=(ctx.csrf());
                input type="hidden" name="version" value=(version);
                (event_fields(ctx, form, edit_problems))
                div { button type="submit" { (t.save) } }
            }
        }
    };
    Ok(page(ctx, &i.title, body, status))
}

fn no_record() -> RecordForm {
    RecordForm {
        measure: String::new(),
        kpi_code: String::new(),
        period: String::new(),
    }
}

async fn event_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    event_view(
        &state,
        &ctx,
        id,
        None,
        &no_record(),
        &Problems(Vec::new()),
        StatusCode::OK,
    )
    .await
}

async fn update_event(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let actor = viewer(&ctx)?.login;
    let form = event_form_of(&pairs);
    let version = version_of(&pairs);
    match svc::update_event(state.store(), id, &form, version, &actor).await {
        Ok(e) => Ok(
            Redirect::to(&format!("/partners/outreach/events/{}?saved=1", e.id)).into_response(),
        ),
        Err(citykpi_app::partners::PartnersError::Invalid(p)) => {
            event_view(
                &state,
                &ctx,
                id,
                Some((&form, version)),
                &no_record(),
                &p,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

async fn record_count(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let actor = viewer(&ctx)?.login;
    let rec = RecordForm {
        measure: value(&pairs, "measure"),
        kpi_code: value(&pairs, "kpi_code"),
        period: value(&pairs, "period"),
    };
    let area = state.snapshot().await?.area.clone();
    match svc::record_count(
        state.store(),
        id,
        &rec.measure,
        &rec.kpi_code,
        &rec.period,
        &area,
        &actor,
    )
    .await
    {
        Ok(done) => {
            state.data_changed();
            let note = format!(
                "{} {} = {}",
                done.posting.kpi_code, done.posting.period, done.actual
            );
            Ok(Redirect::to(&format!(
                "/partners/outreach/events/{id}?recorded={}",
                enc(&note)
            ))
            .into_response())
        }
        Err(citykpi_app::partners::PartnersError::Invalid(p)) => {
            event_view(
                &state,
                &ctx,
                id,
                None,
                &rec,
                &p,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

// ----- downloads and the API -----

async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(table): Path<String>,
) -> WebResult<Response> {
    use citykpi_io::{Format, HeaderLang};
    let table = OutreachTable::parse(&table).ok_or(WebError::NotFound)?;
    let v = viewer(&ctx)?;
    let format = match query_param(ctx.query.as_deref(), "format").as_deref() {
        None | Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        Some("json") => Format::Json,
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "形式「{other}」は使えません（csv, xlsx, json） / unknown format \"{other}\" (csv, xlsx, json)"
            )));
        }
    };
    let lang = match ctx.lang {
        Lang::Ja => HeaderLang::Ja,
        Lang::En => HeaderLang::En,
    };
    let file = svc::export(state.store(), &v, table, format, lang)
        .await
        .map_err(app_error)?;
    let mut resp = (StatusCode::OK, file.bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.mime_type()),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, private"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// A query value the API refuses, named by its parameter.
fn bad_query(name: &str, value: &str) -> Response {
    problems_json(&Problems(vec![citykpi_domain::partner::Problem::new(
        name,
        format!("「{value}」は使えない値です"),
        format!("\"{value}\" is not an accepted value"),
    )]))
}

async fn api_leads(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let q = ctx.query.as_deref();
    if let Some(s) =
        query_param(q, "stage").filter(|s| !s.is_empty() && LeadStage::parse(s).is_none())
    {
        return Ok(bad_query("stage", &s));
    }
    if let Some(s) =
        query_param(q, "field").filter(|s| !s.is_empty() && LeadField::parse(s).is_none())
    {
        return Ok(bad_query("field", &s));
    }
    let filter = lead_filter(&ctx);
    let page = svc::leads(state.store(), &v, &filter)
        .await
        .map_err(app_error)?;
    let funnel: Vec<serde_json::Value> = svc::funnel(state.store())
        .await
        .map_err(app_error)?
        .into_iter()
        .map(|(s, n)| json!({ "stage": s.code(), "count": n }))
        .collect();
    let items: Vec<serde_json::Value> = page
        .items
        .iter()
        .map(|l: &Lead| {
            let mut j = json!(l);
            if let Some(o) = j.as_object_mut() {
                o.insert("overdue".into(), json!(l.is_overdue(filter.today)));
                if !is_desk(v.role) {
                    o.remove("contact");
                }
            }
            j
        })
        .collect();
    Ok(Json(json!({
        "items": items,
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "funnel": funnel,
        "personal_visible": is_desk(v.role),
    }))
    .into_response())
}

async fn api_events(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    viewer(&ctx)?;
    if let Some(s) = query_param(ctx.query.as_deref(), "fy")
        .filter(|s| !s.trim().is_empty() && s.trim().parse::<i32>().is_err())
    {
        return Ok(bad_query("fy", &s));
    }
    let page = svc::events(state.store(), &event_filter(&ctx))
        .await
        .map_err(app_error)?;
    let sums = svc::kpi_sums(state.store()).await.map_err(app_error)?;
    Ok(Json(json!({
        "items": page.items,
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "kpi_sums": sums,
    }))
    .into_response())
}
