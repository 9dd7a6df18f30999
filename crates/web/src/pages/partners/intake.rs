//! Public proposal intake against published themes, the themes' administration and the public page of published decisions.
//!
//! The public form (`/partners/propose`) is a multipart form, since it
//! carries attachments: its CSRF token (the visitor's pre-session token) is
//! in the action's query, as for the desk's uploads; it has the honeypot,
//! the per-address rate limit of the other public forms and a body limit of
//! its own that fits the files. The desk enters a proposal that came by
//! e-mail, post or visit with the same form. Files are checked by content,
//! stored in the database with the proposal in one transaction, and only
//! ever served as downloads (`/partners/attachments/{id}`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use citykpi_app::partners::intake::{self as svc, INTAKE_BODY, IntakeFile};
use citykpi_app::partners::{PUBLIC_ACTOR, PartnersError, is_desk};
use citykpi_domain::kpi::Kpi;
use citykpi_domain::partner::proposal::{
    IntakeForm, ProposalChannel, ProposalForm, Theme, ThemeForm, decision_of, is_receipt_number,
    jst_day,
};
use citykpi_domain::partner::{Problem, Problems, SdgGoal};
use citykpi_store::ThemeWrite;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{
    DESK, EN, FormCtx, HONEYPOT, JA, allow_submission, app_error, client_ip, enc, error_summary,
    field_message, form_token, goal_tags, honeypot_field, page_of, pager, problems_json, pt,
    set_pre_session, text_field, value, values, viewer, with_status,
};
use crate::AppState;
use crate::access::{Access, RouteRule};
use crate::ctx::{Ctx, query_param};
use crate::error::WebResult;
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
    r("GET", "/partners/propose", Access::Public),
    r("POST", "/partners/propose", Access::Public),
    r("GET", "/partners/propose/thanks", Access::Public),
    r("GET", "/partners/themes", Access::Public),
    r("GET", "/partners/proposals/decisions", Access::Public),
    r("GET", "/partners/proposals/new", Access::Roles(DESK)),
    r("POST", "/partners/proposals/new", Access::Roles(DESK)),
    r(
        "GET",
        "/partners/proposals/{id}/intake",
        Access::Roles(DESK),
    ),
    r("GET", "/partners/themes/manage", Access::Roles(DESK)),
    r("POST", "/partners/themes/manage", Access::Roles(DESK)),
    r("GET", "/partners/themes/manage/{code}", Access::Roles(DESK)),
    r(
        "POST",
        "/partners/themes/manage/{code}",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/themes/manage/{code}/close",
        Access::Roles(DESK),
    ),
    r("GET", "/api/v1/partners/themes", Access::Public),
    r("POST", "/api/v1/partners/proposals", Access::Roles(DESK)),
];

/// API documentation of this part, in `api::API_DOCS`'s shape.
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "GET",
        "/api/v1/partners/themes",
        "受付中の提案募集テーマ（コード・名称・説明・KPI・SDGs・募集期間、ログイン不要）",
        "Proposal themes open today (code, title, description, KPIs, SDG goals, period; no login)",
        None,
    ),
    (
        "POST",
        "/api/v1/partners/proposals",
        "郵送・来庁などで受けた民間提案の登録（窓口のみ）。誤りは項目ごとに422で返す",
        "Enter a private proposal received by e-mail, post or visit (the desk only); problems come back by field as 422",
        Some(
            r#"{"type":"object","required":["title","proposer_name","contact_person","summary","channel"],"properties":{"title":{"type":"string"},"proposer_name":{"type":"string"},"contact_person":{"type":"string"},"contact_email":{"type":"string"},"contact_phone":{"type":"string"},"theme_code":{"type":"string"},"summary":{"type":"string"},"kpi_codes":{"type":"array","items":{"type":"string"}},"sdg_goals":{"type":"array","items":{"type":"integer","minimum":1,"maximum":17}},"publish_consent":{"type":"boolean"},"channel":{"enum":["email","post","visit","other"]}}}"#,
        ),
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/partners/propose",
            // The form carries files: this route alone takes up to the intake limit.
            get(propose_form)
                .post(propose)
                .layer(DefaultBodyLimit::max(INTAKE_BODY)),
        )
        .route("/partners/propose/thanks", get(propose_thanks))
        .route("/partners/themes", get(themes_page))
        .route("/partners/proposals/decisions", get(decisions_page))
        .route(
            "/partners/proposals/new",
            get(new_proposal_form)
                .post(new_proposal)
                .layer(DefaultBodyLimit::max(INTAKE_BODY)),
        )
        .route("/partners/proposals/{id}/intake", get(intake_page))
        .route(
            "/partners/themes/manage",
            get(manage_page).post(create_theme),
        )
        .route(
            "/partners/themes/manage/{code}",
            get(edit_theme_page).post(update_theme),
        )
        .route("/partners/themes/manage/{code}/close", post(close_theme))
        .route("/api/v1/partners/themes", get(api_themes))
        .route("/api/v1/partners/proposals", post(api_create_proposal))
}

// ----- the UI text of this part -----

/// UI text of the intake pages.
pub struct IntakeText {
    pub propose_title: &'static str,
    pub propose_intro: &'static str,
    pub staff_title: &'static str,
    pub staff_intro: &'static str,
    pub proposer_name: &'static str,
    pub contact_person: &'static str,
    pub contact_email: &'static str,
    pub contact_phone: &'static str,
    pub contact_hint: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub theme: &'static str,
    pub free_proposal: &'static str,
    pub kpis: &'static str,
    pub kpis_hint: &'static str,
    pub sdg_goals: &'static str,
    pub files: &'static str,
    pub files_hint: &'static str,
    pub files_again: &'static str,
    pub publish_consent: &'static str,
    pub channel: &'static str,
    pub send: &'static str,
    pub enter: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub receipt: &'static str,
    pub too_large: &'static str,
    pub unreadable: &'static str,
    pub themes_title: &'static str,
    pub themes_intro: &'static str,
    pub themes_none: &'static str,
    pub propose_on_theme: &'static str,
    pub propose_free: &'static str,
    pub period: &'static str,
    pub until_closed: &'static str,
    pub decisions_title: &'static str,
    pub decisions_intro: &'static str,
    pub decisions_none: &'static str,
    pub decision: &'static str,
    pub adopted: &'static str,
    pub rejected: &'static str,
    pub reason: &'static str,
    pub decided_on: &'static str,
    pub contact_erased: &'static str,
    pub manage_title: &'static str,
    pub new_theme: &'static str,
    pub edit_theme: &'static str,
    pub code: &'static str,
    pub code_hint: &'static str,
    pub description: &'static str,
    pub kpi_codes_hint: &'static str,
    pub open_from: &'static str,
    pub open_until: &'static str,
    pub date_hint: &'static str,
    pub closed: &'static str,
    pub status: &'static str,
    pub open_now: &'static str,
    pub not_open: &'static str,
    pub close: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub intake_title: &'static str,
    pub received_at: &'static str,
    pub not_decided: &'static str,
    pub back: &'static str,
    pub link_new: &'static str,
    pub link_manage: &'static str,
    pub link_decisions: &'static str,
    pub link_themes: &'static str,
    pub links_label: &'static str,
    pub public_label: &'static str,
    pub link_propose: &'static str,
    pub bad_json: &'static str,
}

pub const INTAKE_JA: IntakeText = IntakeText {
    propose_title: "民間提案の受付",
    propose_intro: "市が募集するテーマへの提案と、テーマによらない自由提案を受け付けます。提案は、総合計画のKPIへの寄与を第一の基準に審査します。",
    staff_title: "民間提案の登録（電子メール・郵送・来庁）",
    staff_intro: "ウェブフォーム以外で受けた提案を登録します。受付番号は登録後に表示されます。",
    proposer_name: "提案者（法人・団体名）",
    contact_person: "担当者名",
    contact_email: "メールアドレス",
    contact_phone: "電話番号",
    contact_hint: "メールアドレスか電話番号のどちらかは必ず入力してください。",
    title: "提案名",
    summary: "提案内容",
    theme: "提案募集テーマ",
    free_proposal: "自由提案（テーマによらない提案）",
    kpis: "寄与する計画のKPI",
    kpis_hint: "提案が改善を目指すKPIを選んでください。審査の第一の基準です。",
    sdg_goals: "関連するSDGsの目標",
    files: "添付ファイル",
    files_hint: "PDF・PNG・JPEG・Office文書（xlsx/docx/pptx）・テキスト（txt/csv）。1件10MBまで、3件まで。",
    files_again: "添付ファイルは保存されていません。もう一度選んでください。",
    publish_consent: "審査結果（提案名・テーマ・KPI・採否とその理由）の公表に同意します（提案者名・連絡先は公表しません）",
    channel: "受付方法",
    send: "提案を送信する",
    enter: "登録する",
    thanks_title: "提案を受け付けました",
    thanks_body: "ご提案ありがとうございます。受付番号を控えてください。担当者から連絡します。",
    receipt: "受付番号",
    too_large: "送信できる大きさを超えています（添付ファイルは1件10MB、3件まで）。",
    unreadable: "送信された内容を読み取れませんでした。もう一度送信してください。",
    themes_title: "民間提案の募集テーマ",
    themes_intro: "市が民間事業者・団体からの提案を募集しているテーマです。テーマによらない自由提案もいつでも受け付けています。",
    themes_none: "現在募集中のテーマはありません。",
    propose_on_theme: "このテーマで提案する",
    propose_free: "自由提案をする",
    period: "募集期間",
    until_closed: "終了のお知らせまで",
    decisions_title: "民間提案の審査結果",
    decisions_intro: "提案者が公表に同意した提案について、採否とその理由を公表しています。",
    decisions_none: "公表している審査結果はまだありません。",
    decision: "採否",
    adopted: "採択",
    rejected: "不採択",
    reason: "理由",
    decided_on: "決定日",
    contact_erased: "保存期間を過ぎたため連絡先を消去しました",
    manage_title: "提案募集テーマの管理",
    new_theme: "テーマを追加",
    edit_theme: "テーマを編集",
    code: "コード",
    code_hint: "英数字と - _ . で40文字まで（例: T-PARK）。後から変えられません。",
    description: "説明",
    kpi_codes_hint: "計画のKPIコードをカンマ区切りで（例: K1, K2）",
    open_from: "受付開始日",
    open_until: "受付終了日",
    date_hint: "例: 2026-04-01。空欄なら期限なし。",
    closed: "受付を終了した",
    status: "状態",
    open_now: "受付中",
    not_open: "受付期間外",
    close: "受付を終了する",
    save: "保存する",
    saved: "保存しました。",
    intake_title: "受付情報",
    received_at: "受付日",
    not_decided: "未決定",
    back: "提案に戻る",
    link_new: "提案を登録（電子メール・郵送・来庁）",
    link_manage: "提案募集テーマの管理",
    link_decisions: "公表中の審査結果",
    link_themes: "募集テーマ（公開ページ）",
    links_label: "民間提案の窓口",
    public_label: "民間提案",
    link_propose: "提案する",
    bad_json: "本文をJSONのオブジェクトとして読めません",
};

pub const INTAKE_EN: IntakeText = IntakeText {
    propose_title: "Submit a private proposal",
    propose_intro: "We take proposals on the themes the city publishes and free proposals on anything else. Proposals are judged first by what they contribute to the KPIs of the city's plan.",
    staff_title: "Enter a private proposal (e-mail, post, visit)",
    staff_intro: "Enter a proposal that did not come through the web form. Its receipt number is shown once it is entered.",
    proposer_name: "Proposer (company or organisation)",
    contact_person: "Contact person",
    contact_email: "E-mail address",
    contact_phone: "Phone number",
    contact_hint: "Give an e-mail address or a phone number (at least one).",
    title: "Title of the proposal",
    summary: "Proposal",
    theme: "Theme",
    free_proposal: "Free proposal (no theme)",
    kpis: "KPIs of the plan it contributes to",
    kpis_hint: "Choose the KPIs the proposal aims to improve. This is the first criterion of the review.",
    sdg_goals: "SDG goals",
    files: "Attachments",
    files_hint: "PDF, PNG, JPEG, Office (xlsx/docx/pptx) or text (txt/csv); up to 10 MB each, 3 files at most.",
    files_again: "The attachments were not kept. Please choose them again.",
    publish_consent: "I agree that the decision (title, theme, KPIs, decision and its reason) is published (never the proposer's name or contact details)",
    channel: "How it arrived",
    send: "Send the proposal",
    enter: "Enter",
    thanks_title: "Your proposal was received",
    thanks_body: "Thank you for your proposal. Please keep the receipt number; the desk will contact you.",
    receipt: "Receipt number",
    too_large: "The submission is too large (attachments: up to 10 MB each, 3 files at most).",
    unreadable: "The submission could not be read. Please send it again.",
    themes_title: "Themes open for private proposals",
    themes_intro: "Themes on which the city invites proposals from companies and organisations. Free proposals on anything else are welcome at any time.",
    themes_none: "No theme is open at the moment.",
    propose_on_theme: "Propose on this theme",
    propose_free: "Make a free proposal",
    period: "Open",
    until_closed: "until closed",
    decisions_title: "Decisions on private proposals",
    decisions_intro: "The decision and its reason for the proposals whose proposers agreed to publication.",
    decisions_none: "No decision is published yet.",
    decision: "Decision",
    adopted: "Adopted",
    rejected: "Not adopted",
    reason: "Reason",
    decided_on: "Decided on",
    contact_erased: "The contact was erased at the end of the retention period",
    manage_title: "Proposal themes",
    new_theme: "Add a theme",
    edit_theme: "Edit the theme",
    code: "Code",
    code_hint: "Letters, digits, - _ . up to 40 (e.g. T-PARK). It cannot be changed later.",
    description: "Description",
    kpi_codes_hint: "KPI codes of the plan, separated by commas (e.g. K1, K2)",
    open_from: "First day",
    open_until: "Last day",
    date_hint: "e.g. 2026-04-01; empty for no limit.",
    closed: "Closed",
    status: "Status",
    open_now: "Open",
    not_open: "Not open",
    close: "Close",
    save: "Save",
    saved: "Saved.",
    intake_title: "Intake details",
    received_at: "Received",
    not_decided: "Not decided",
    back: "Back to the proposal",
    link_new: "Enter a proposal (e-mail, post, visit)",
    link_manage: "Proposal themes",
    link_decisions: "Published decisions",
    link_themes: "Themes (public page)",
    links_label: "Proposal desk",
    public_label: "Private proposals",
    link_propose: "Submit a proposal",
    bad_json: "The body is not a JSON object",
};

pub fn it(lang: Lang) -> &'static IntakeText {
    match lang {
        Lang::Ja => &INTAKE_JA,
        Lang::En => &INTAKE_EN,
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

// ----- links from the other partnership pages -----

/// The desk's links on the staff proposal list.
pub fn staff_links(ctx: &Ctx) -> Markup {
    let t = it(ctx.lang);
    let desk = ctx.user().is_some_and(|u| is_desk(u.role));
    html! {
        nav aria-label=(t.links_label) {
            p {
                @if desk {
                    a href="/partners/proposals/new" { (t.link_new) } " ・ "
                    a href="/partners/themes/manage" { (t.link_manage) } " ・ "
                }
                a href="/partners/themes" { (t.link_themes) } " ・ "
                a href="/partners/proposals/decisions" { (t.link_decisions) }
            }
        }
    }
}

/// The link from a proposal to its intake details (the desk's).
pub fn details_link(lang: Lang, id: i64) -> Markup {
    html! { dt { (it(lang).intake_title) } dd { a href={ "/partners/proposals/" (id) "/intake" } { (it(lang).intake_title) } } }
}

/// Links for the public portal.
pub fn public_links(lang: Lang) -> Markup {
    let t = it(lang);
    html! {
        (t.public_label) ": "
        a href="/partners/themes" { (t.themes_title) } " ・ "
        a href="/partners/propose" { (t.link_propose) } " ・ "
        a href="/partners/proposals/decisions" { (t.decisions_title) }
    }
}

// ----- the intake form (public and the desk's) -----

fn intake_form_of(pairs: &[(String, String)]) -> IntakeForm {
    IntakeForm {
        proposal: ProposalForm {
            title: value(pairs, "title"),
            proposer_name: value(pairs, "proposer_name"),
            member_id: None,
            theme_code: value(pairs, "theme_code"),
            summary: value(pairs, "summary"),
            kpi_codes: values(pairs, "kpi_codes").join(","),
            sdg_goals: values(pairs, "sdg_goals"),
            contact_email: value(pairs, "contact_email"),
            publish_consent: value(pairs, "publish_consent") == "1",
        },
        contact_person: value(pairs, "contact_person"),
        contact_phone: value(pairs, "contact_phone"),
        channel: value(pairs, "channel"),
    }
}

/// What a multipart intake form sent: its fields, its files, and whether
/// the body was cut at the limit or could not be read.
#[derive(Default)]
struct Submitted {
    pairs: Vec<(String, String)>,
    files: Vec<IntakeFile>,
    too_large: bool,
    unreadable: bool,
}

/// Most text fields read from one multipart form (the form has about 40
/// with its checkboxes; the KPI list can be long).
const MAX_PARTS: usize = 2000;

async fn read_multipart(mut mp: Multipart) -> Submitted {
    let mut s = Submitted::default();
    let fail = |s: &mut Submitted, status: StatusCode| {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            s.too_large = true;
        } else {
            s.unreadable = true;
        }
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                fail(&mut s, e.status());
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "files" {
            let file_name = field.file_name().unwrap_or("").to_string();
            match field.bytes().await {
                // A file input left empty sends a part without name or bytes.
                Ok(b) if b.is_empty() && file_name.is_empty() => {}
                Ok(b) => s.files.push((file_name, b.to_vec())),
                Err(e) => {
                    fail(&mut s, e.status());
                    break;
                }
            }
        } else {
            match field.text().await {
                Ok(v) if s.pairs.len() < MAX_PARTS => s.pairs.push((name, v)),
                Ok(_) => {}
                Err(e) => {
                    fail(&mut s, e.status());
                    break;
                }
            }
        }
    }
    s
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Public,
    Desk,
}

#[derive(Clone, Copy)]
struct IntakeView<'a> {
    mode: Mode,
    form: &'a IntakeForm,
    problems: &'a Problems,
    /// Files were sent with a form that comes back with problems.
    had_files: bool,
    status: StatusCode,
}

fn theme_period(lang: Lang, t: &Theme) -> String {
    let it = it(lang);
    match (t.open_from, t.open_until) {
        (None, None) => it.until_closed.to_string(),
        (from, until) => format!(
            "{} 〜 {}",
            from.map(|d| d.to_string()).unwrap_or_default(),
            until.map_or_else(|| it.until_closed.to_string(), |d| d.to_string())
        ),
    }
}

async fn intake_view(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    v: IntakeView<'_>,
) -> WebResult<Response> {
    let lang = ctx.lang;
    let t = it(lang);
    let p = pt(lang);
    let (form, problems) = (v.form, v.problems);
    let public = v.mode == Mode::Public;
    let themes = if public {
        svc::open_themes(state.store()).await
    } else {
        svc::themes(state.store()).await
    }
    .map_err(app_error)?;
    let snap = state.snapshot().await?;
    let kpis: Vec<&Kpi> = snap
        .ds
        .kpis
        .iter()
        .filter(|k| !public || k.published)
        .collect();
    let (token, fresh) = if public {
        form_token(ctx, headers)
    } else {
        (ctx.csrf().to_string(), false)
    };
    let (title, intro, action, button) = match v.mode {
        Mode::Public => (
            t.propose_title,
            t.propose_intro,
            "/partners/propose",
            t.send,
        ),
        Mode::Desk => (
            t.staff_title,
            t.staff_intro,
            "/partners/proposals/new",
            t.enter,
        ),
    };
    let labels = [
        ("proposer_name", t.proposer_name),
        ("contact_person", t.contact_person),
        ("contact_email", t.contact_email),
        ("contact_phone", t.contact_phone),
        ("title", t.title),
        ("theme_code", t.theme),
        ("summary", t.summary),
        ("kpi_codes", t.kpis),
        ("sdg_goals", t.sdg_goals),
        ("files", t.files),
        ("channel", t.channel),
    ];
    let chosen: Vec<&str> = form
        .proposal
        .kpi_codes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let fc = FormCtx { problems, lang };
    let body = html! {
        @if !public { p { a href="/partners/proposals" { "← " (p.proposals_title) } } }
        h1 { (title) }
        p.lead { (intro) }
        @if public { p { a href="/partners/themes" { (t.themes_title) } } }
        (error_summary(ctx, problems, &labels))
        form.stack method="post" enctype="multipart/form-data" action=(action) novalidate {
            input type="hidden" name="csrf" value=(token);
            @if !public {
                @let msg = field_message(lang, problems, "channel");
                div class=[msg.as_ref().map(|_| "field-error")] {
                    label for="channel" { (t.channel) }
                    (field_error("channel", msg.as_deref()))
                    select id="channel" name="channel" {
                        @for c in ProposalChannel::ALL.iter().filter(|c| **c != ProposalChannel::Web) {
                            option value=(c.code()) selected[form.channel == c.code()] { (label!(lang, c)) }
                        }
                    }
                }
            }
            (text_field(&fc, "proposer_name", t.proposer_name, &form.proposal.proposer_name, "text", true, None))
            (text_field(&fc, "contact_person", t.contact_person, &form.contact_person, "text", true, None))
            (text_field(&fc, "contact_email", t.contact_email, &form.proposal.contact_email, "email", false, Some(t.contact_hint)))
            (text_field(&fc, "contact_phone", t.contact_phone, &form.contact_phone, "tel", false, None))
            (text_field(&fc, "title", t.title, &form.proposal.title, "text", true, None))
            @let msg = field_message(lang, problems, "theme_code");
            div class=[msg.as_ref().map(|_| "field-error")] {
                label for="theme_code" { (t.theme) }
                (field_error("theme_code", msg.as_deref()))
                select id="theme_code" name="theme_code" {
                    option value="" { (t.free_proposal) }
                    @for th in &themes {
                        option value=(th.code) selected[form.proposal.theme_code == th.code] { (th.title) "（" (th.code) "）" }
                    }
                }
            }
            (text_field(&fc, "summary", t.summary, &form.proposal.summary, "textarea", true, None))
            @let msg = field_message(lang, problems, "kpi_codes");
            fieldset id="kpi_codes" class=[msg.as_ref().map(|_| "field-error")] {
                legend { (t.kpis) }
                span.hint { (t.kpis_hint) }
                (field_error("kpi_codes", msg.as_deref()))
                div.scroll-box {
                    @for k in &kpis {
                        @let id = format!("kpi-{}", k.code);
                        div {
                            input type="checkbox" id=(id) name="kpi_codes" value=(k.code) checked[chosen.contains(&k.code.as_str())];
                            label for=(id) { (k.code) " " (lang.name(&k.name_ja, &k.name_en)) }
                        }
                    }
                }
            }
            @let msg = field_message(lang, problems, "sdg_goals");
            fieldset id="sdg_goals" class=[msg.as_ref().map(|_| "field-error")] {
                legend { (t.sdg_goals) " （" (p.optional) "）" }
                (field_error("sdg_goals", msg.as_deref()))
                @for g in SdgGoal::all() {
                    @let id = format!("sdg-{}", g.number());
                    div {
                        input type="checkbox" id=(id) name="sdg_goals" value=(g.number()) checked[form.proposal.sdg_goals.iter().any(|v| v == &g.number().to_string())];
                        label for=(id) { (g.number()) ". " (label!(lang, g)) }
                    }
                }
            }
            @let msg = field_message(lang, problems, "files");
            div class=[msg.as_ref().map(|_| "field-error")] {
                label for="files" { (t.files) " （" (p.optional) "）" }
                span.hint id="files-hint" { (t.files_hint) }
                (field_error("files", msg.as_deref()))
                @if v.had_files && !problems.0.is_empty() { p.hint { (t.files_again) } }
                input type="file" id="files" name="files" multiple accept=".pdf,.png,.jpg,.jpeg,.xlsx,.docx,.pptx,.txt,.csv" aria-describedby="files-hint";
            }
            div {
                input type="checkbox" id="publish_consent" name="publish_consent" value="1" checked[form.proposal.publish_consent];
                label for="publish_consent" { (t.publish_consent) }
            }
            @if public { (honeypot_field(lang)) }
            div { button type="submit" { (button) } }
        }
    };
    let mut resp = with_status(
        render(
            ctx,
            Page {
                title,
                nav: if public { Nav::Public } else { Nav::Partners },
                body,
            },
        ),
        v.status,
    );
    if public {
        set_pre_session(state, &mut resp, &token, fresh);
    }
    Ok(resp)
}

/// The form as first shown: with `?theme=CODE` that theme chosen, with its
/// KPIs and SDG goals ticked.
async fn first_form(state: &AppState, ctx: &Ctx, public: bool) -> WebResult<IntakeForm> {
    let mut form = IntakeForm {
        channel: ProposalChannel::Email.code().into(),
        ..IntakeForm::default()
    };
    // Consent to publication is asked for, never assumed: the box starts unticked.
    if let Some(code) = query_param(ctx.query.as_deref(), "theme") {
        let themes = if public {
            svc::open_themes(state.store()).await
        } else {
            svc::themes(state.store()).await
        }
        .map_err(app_error)?;
        if let Some(th) = themes.into_iter().find(|t| t.code == code) {
            form.proposal.kpi_codes = th.kpi_codes.join(",");
            form.proposal.sdg_goals = th
                .sdg_goals
                .iter()
                .map(|g| g.number().to_string())
                .collect();
            form.proposal.theme_code = th.code;
        }
    }
    Ok(form)
}

pub async fn propose_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> WebResult<Response> {
    let form = first_form(&state, &ctx, true).await?;
    intake_view(
        &state,
        &ctx,
        &headers,
        IntakeView {
            mode: Mode::Public,
            form: &form,
            problems: &Problems(Vec::new()),
            had_files: false,
            status: StatusCode::OK,
        },
    )
    .await
}

/// The refusal of a body that could not be read whole: what was read comes
/// back in the form, with the reason at the files.
fn unread_problem(lang_neutral: &Submitted) -> Option<(Problems, StatusCode)> {
    if lang_neutral.too_large {
        return Some((
            Problems(vec![Problem::new(
                "files",
                INTAKE_JA.too_large,
                INTAKE_EN.too_large,
            )]),
            StatusCode::PAYLOAD_TOO_LARGE,
        ));
    }
    if lang_neutral.unreadable {
        return Some((
            Problems(vec![Problem::new(
                "files",
                INTAKE_JA.unreadable,
                INTAKE_EN.unreadable,
            )]),
            StatusCode::BAD_REQUEST,
        ));
    }
    None
}

pub async fn propose(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    ctx: Ctx,
    headers: HeaderMap,
    multipart: Multipart,
) -> WebResult<Response> {
    let sub = read_multipart(multipart).await;
    let form = intake_form_of(&sub.pairs);
    let had_files = !sub.files.is_empty();
    let view = IntakeView {
        mode: Mode::Public,
        form: &form,
        problems: &Problems(Vec::new()),
        had_files,
        status: StatusCode::OK,
    };
    if !allow_submission(&state, &client_ip(connect), "propose") {
        let p = Problems(vec![Problem::new(
            "title",
            JA.rate_limited,
            EN.rate_limited,
        )]);
        let mut resp = intake_view(
            &state,
            &ctx,
            &headers,
            IntakeView {
                problems: &p,
                status: StatusCode::TOO_MANY_REQUESTS,
                ..view
            },
        )
        .await?;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
        return Ok(resp);
    }
    // A filled honeypot is a bot: it is told "thank you" and nothing is stored.
    if !value(&sub.pairs, HONEYPOT).is_empty() {
        return Ok(Redirect::to("/partners/propose/thanks").into_response());
    }
    let (problems, status) = match unread_problem(&sub) {
        Some(refusal) => refusal,
        None => match svc::submit(state.store(), &form, &sub.files, true, PUBLIC_ACTOR).await {
            Ok(r) => {
                return Ok(
                    Redirect::to(&format!("/partners/propose/thanks?no={}", r.number))
                        .into_response(),
                );
            }
            Err(PartnersError::Invalid(p)) => (p, StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => return Err(app_error(e)),
        },
    };
    intake_view(
        &state,
        &ctx,
        &headers,
        IntakeView {
            problems: &problems,
            status,
            ..view
        },
    )
    .await
}

pub async fn propose_thanks(ctx: Ctx) -> Response {
    let t = it(ctx.lang);
    let number = query_param(ctx.query.as_deref(), "no").filter(|n| is_receipt_number(n));
    let body = html! {
        h1 { (t.thanks_title) }
        div.notice.success role="status" {
            p { (t.thanks_body) }
            @if let Some(n) = &number { p { (t.receipt) ": " strong #receipt { (n) } } }
        }
        p { a href="/partners/themes" { (t.themes_title) } " ・ " a href="/partners/proposals/decisions" { (t.decisions_title) } }
    };
    render(
        &ctx,
        Page {
            title: t.thanks_title,
            nav: Nav::Public,
            body,
        },
    )
}

pub async fn new_proposal_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> WebResult<Response> {
    let form = first_form(&state, &ctx, false).await?;
    intake_view(
        &state,
        &ctx,
        &headers,
        IntakeView {
            mode: Mode::Desk,
            form: &form,
            problems: &Problems(Vec::new()),
            had_files: false,
            status: StatusCode::OK,
        },
    )
    .await
}

pub async fn new_proposal(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    multipart: Multipart,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let sub = read_multipart(multipart).await;
    let form = intake_form_of(&sub.pairs);
    let (problems, status) = match unread_problem(&sub) {
        Some(refusal) => refusal,
        None => match svc::submit(state.store(), &form, &sub.files, false, &actor).await {
            Ok(r) => {
                return Ok(
                    Redirect::to(&format!("/partners/proposals/{}?saved=1", r.id)).into_response(),
                );
            }
            Err(PartnersError::Invalid(p)) => (p, StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => return Err(app_error(e)),
        },
    };
    intake_view(
        &state,
        &ctx,
        &headers,
        IntakeView {
            mode: Mode::Desk,
            form: &form,
            problems: &problems,
            had_files: !sub.files.is_empty(),
            status,
        },
    )
    .await
}

/// The desk's view of how a proposal came in and whom to contact.
pub async fn intake_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let lang = ctx.lang;
    let t = it(lang);
    let p = pt(lang);
    let (prop, d) = svc::intake_details(state.store(), id)
        .await
        .map_err(app_error)?;
    let decision = decision_of(prop.stage);
    let body = html! {
        p { a href={ "/partners/proposals/" (id) } { "← " (t.back) } }
        h1 { (t.intake_title) ": " (prop.title) }
        dl.fields {
            dt { (t.receipt) } dd #receipt { (d.receipt) }
            dt { (t.received_at) } dd { (jst_day(&prop.received_at).map(|d| d.to_string()).unwrap_or_default()) }
            dt { (t.channel) } dd { (label!(lang, d.channel)) }
            dt { (t.proposer_name) } dd { (prop.proposer_name) }
            @if let Some(day) = prop.contact_erased_on {
                dt { (t.contact_person) } dd #contact-erased { (t.contact_erased) "（" (day) "）" }
            } @else {
                dt { (t.contact_person) } dd { (d.contact_person) }
                dt { (t.contact_email) } dd { (prop.contact_email) }
                dt { (t.contact_phone) } dd { (d.contact_phone) }
            }
            dt { (t.theme) } dd { @if let Some(c) = &prop.theme_code { (c) } @else { (t.free_proposal) } }
            dt { (p.stage) } dd { (label!(lang, prop.stage)) }
            dt { (t.decision) } dd {
                @match decision {
                    Some(true) => { (t.adopted) }
                    Some(false) => { (t.rejected) }
                    None => { (t.not_decided) }
                }
                @if let Some(day) = d.decided_at.as_deref().and_then(jst_day) { "（" (t.decided_on) " " (day) "）" }
            }
        }
    };
    Ok(render(
        &ctx,
        Page {
            title: t.intake_title,
            nav: Nav::Partners,
            body,
        },
    ))
}

// ----- public pages: themes and decisions -----

/// KPI codes linked to their public page when the KPI is published.
fn public_kpis(state_kpis: &[Kpi], lang: Lang, codes: &[String]) -> Markup {
    html! {
        @for (i, code) in codes.iter().enumerate() {
            @if i > 0 { "、" }
            @match state_kpis.iter().find(|k| &k.code == code && k.published) {
                Some(k) => { a href={ "/public/kpis/" (enc(code)) } { (code) " " (lang.name(&k.name_ja, &k.name_en)) } }
                None => { (code) }
            }
        }
    }
}

pub async fn themes_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let lang = ctx.lang;
    let t = it(lang);
    let themes = svc::open_themes(state.store()).await.map_err(app_error)?;
    let snap = state.snapshot().await?;
    let body = html! {
        h1 { (t.themes_title) }
        p.lead { (t.themes_intro) }
        p { a href="/partners/propose" { (t.propose_free) } " ・ " a href="/partners/proposals/decisions" { (t.decisions_title) } }
        @if themes.is_empty() { p { (t.themes_none) } }
        @for th in &themes {
            section.card id={ "theme-" (th.code) } {
                h2 { (th.title) " " span.muted { "(" (th.code) ")" } }
                @if !th.description.is_empty() { p { (th.description) } }
                dl.fields {
                    dt { (t.period) } dd { (theme_period(lang, th)) }
                    dt { (t.kpis) } dd { (public_kpis(&snap.ds.kpis, lang, &th.kpi_codes)) }
                    dt { (t.sdg_goals) } dd { (goal_tags(lang, &th.sdg_goals)) }
                }
                p { a.button href={ "/partners/propose?theme=" (enc(&th.code)) } { (t.propose_on_theme) } }
            }
        }
    };
    Ok(render(
        &ctx,
        Page {
            title: t.themes_title,
            nav: Nav::Public,
            body,
        },
    ))
}

pub async fn decisions_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let lang = ctx.lang;
    let t = it(lang);
    let page = svc::decisions(state.store(), page_of(&ctx))
        .await
        .map_err(app_error)?;
    let snap = state.snapshot().await?;
    let body = html! {
        h1 { (t.decisions_title) }
        p.lead { (t.decisions_intro) }
        p { a href="/partners/themes" { (t.themes_title) } " ・ " a href="/partners/propose" { (t.link_propose) } }
        @if page.items.is_empty() { p { (t.decisions_none) } } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t.title) } th scope="col" { (t.theme) } th scope="col" { (t.kpis) }
                    th scope="col" { (t.decision) } th scope="col" { (t.reason) } th scope="col" { (t.decided_on) }
                } }
                tbody { @for d in &page.items { tr {
                    td { (d.title) }
                    td { @match (&d.theme_title, &d.theme_code) {
                        (Some(title), _) => { (title) }
                        (None, Some(code)) => { (code) }
                        (None, None) => { (t.free_proposal) }
                    } }
                    td { (public_kpis(&snap.ds.kpis, lang, &d.kpi_codes)) }
                    td { @if d.adopted { strong { (t.adopted) } } @else { (t.rejected) } }
                    td { (d.reason) }
                    td { @if let Some(day) = d.decided_on { (day) } }
                } } }
            } }
        }
        (pager(&ctx, "/partners/proposals/decisions", "", &page))
    };
    Ok(render(
        &ctx,
        Page {
            title: t.decisions_title,
            nav: Nav::Public,
            body,
        },
    ))
}

// ----- the desk: themes -----

fn theme_form_of(pairs: &[(String, String)]) -> ThemeForm {
    ThemeForm {
        code: value(pairs, "code"),
        title: value(pairs, "title"),
        description: value(pairs, "description"),
        kpi_codes: value(pairs, "kpi_codes"),
        sdg_goals: values(pairs, "sdg_goals"),
        open_from: value(pairs, "open_from"),
        open_until: value(pairs, "open_until"),
        closed: value(pairs, "closed") == "1",
    }
}

fn theme_form_from(th: &Theme) -> ThemeForm {
    ThemeForm {
        code: th.code.clone(),
        title: th.title.clone(),
        description: th.description.clone(),
        kpi_codes: th.kpi_codes.join(", "),
        sdg_goals: th
            .sdg_goals
            .iter()
            .map(|g| g.number().to_string())
            .collect(),
        open_from: th.open_from.map(|d| d.to_string()).unwrap_or_default(),
        open_until: th.open_until.map(|d| d.to_string()).unwrap_or_default(),
        closed: th.closed,
    }
}

/// The theme form: a new theme (`editing` none) or a stored one.
fn theme_form(ctx: &Ctx, form: &ThemeForm, problems: &Problems, editing: Option<&str>) -> Markup {
    let lang = ctx.lang;
    let t = it(lang);
    let p = pt(lang);
    let fc = FormCtx { problems, lang };
    let action = match editing {
        Some(code) => format!("/partners/themes/manage/{}", enc(code)),
        None => "/partners/themes/manage".to_string(),
    };
    let labels = [
        ("code", t.code),
        ("title", t.title),
        ("description", t.description),
        ("kpi_codes", t.kpis),
        ("sdg_goals", t.sdg_goals),
        ("open_from", t.open_from),
        ("open_until", t.open_until),
    ];
    html! {
        (error_summary(ctx, problems, &labels))
        form.stack method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf());
            @if let Some(code) = editing {
                div { label for="code" { (t.code) } input type="text" id="code" name="code" value=(code) readonly; }
            } @else {
                (text_field(&fc, "code", t.code, &form.code, "text", true, Some(t.code_hint)))
            }
            (text_field(&fc, "title", t.title, &form.title, "text", true, None))
            (text_field(&fc, "description", t.description, &form.description, "textarea", false, None))
            (text_field(&fc, "kpi_codes", t.kpis, &form.kpi_codes, "text", false, Some(t.kpi_codes_hint)))
            @let msg = field_message(lang, problems, "sdg_goals");
            fieldset id="sdg_goals" class=[msg.as_ref().map(|_| "field-error")] {
                legend { (t.sdg_goals) " （" (p.optional) "）" }
                (field_error("sdg_goals", msg.as_deref()))
                @for g in SdgGoal::all() {
                    @let id = format!("sdg-{}", g.number());
                    div {
                        input type="checkbox" id=(id) name="sdg_goals" value=(g.number()) checked[form.sdg_goals.iter().any(|v| v == &g.number().to_string())];
                        label for=(id) { (g.number()) ". " (label!(lang, g)) }
                    }
                }
            }
            (text_field(&fc, "open_from", t.open_from, &form.open_from, "date", false, Some(t.date_hint)))
            (text_field(&fc, "open_until", t.open_until, &form.open_until, "date", false, Some(t.date_hint)))
            @if editing.is_some() {
                div {
                    input type="checkbox" id="closed" name="closed" value="1" checked[form.closed];
                    label for="closed" { (t.closed) }
                }
            }
            div { button type="submit" { (t.save) } }
        }
    }
}

async fn manage_view(
    state: &AppState,
    ctx: &Ctx,
    form: &ThemeForm,
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    let lang = ctx.lang;
    let t = it(lang);
    let today = citykpi_app::partners::today();
    let themes = svc::themes(state.store()).await.map_err(app_error)?;
    let saved = query_param(ctx.query.as_deref(), "saved").is_some() && problems.0.is_empty();
    let body = html! {
        (super::area_nav(ctx, ""))
        h1 { (t.manage_title) }
        (staff_links(ctx))
        @if saved { div.notice.success role="status" { (t.saved) } }
        div.table-wrap { table {
            thead { tr {
                th scope="col" { (t.code) } th scope="col" { (t.title) } th scope="col" { (t.period) }
                th scope="col" { (t.kpis) } th scope="col" { (t.status) } th scope="col" { "" }
            } }
            tbody { @for th in &themes { tr id={ "theme-" (th.code) } {
                td { (th.code) }
                td { a href={ "/partners/themes/manage/" (enc(&th.code)) } { (th.title) } }
                td { (theme_period(lang, th)) }
                td { (th.kpi_codes.join(", ")) }
                td { @if th.is_open(today) { (t.open_now) } @else if th.closed { (t.closed) } @else { (t.not_open) } }
                td {
                    @if !th.closed {
                        form method="post" action={ "/partners/themes/manage/" (enc(&th.code)) "/close" } {
                            input type="hidden" name="csrf" value=(ctx.csrf());
                            button.secondary type="submit" { (t.close) }
                        }
                    }
                }
            } } }
        } }
        h2 { (t.new_theme) }
        (theme_form(ctx, form, problems, None))
    };
    Ok(with_status(
        render(
            ctx,
            Page {
                title: t.manage_title,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    ))
}

pub async fn manage_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    manage_view(
        &state,
        &ctx,
        &ThemeForm::default(),
        &Problems(Vec::new()),
        StatusCode::OK,
    )
    .await
}

pub async fn create_theme(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let form = theme_form_of(&pairs);
    match svc::save_theme(state.store(), &form, ThemeWrite::Create, &actor).await {
        Ok(_) => Ok(Redirect::to("/partners/themes/manage?saved=1").into_response()),
        Err(PartnersError::Invalid(p)) => {
            manage_view(&state, &ctx, &form, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

fn edit_view(
    ctx: &Ctx,
    code: &str,
    form: &ThemeForm,
    problems: &Problems,
    status: StatusCode,
) -> Response {
    let t = it(ctx.lang);
    let body = html! {
        p { a href="/partners/themes/manage" { "← " (t.manage_title) } }
        h1 { (t.edit_theme) ": " (code) }
        (theme_form(ctx, form, problems, Some(code)))
    };
    with_status(
        render(
            ctx,
            Page {
                title: t.edit_theme,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    )
}

pub async fn edit_theme_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let th = svc::theme(state.store(), &code).await.map_err(app_error)?;
    Ok(edit_view(
        &ctx,
        &th.code,
        &theme_form_from(&th),
        &Problems(Vec::new()),
        StatusCode::OK,
    ))
}

pub async fn update_theme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let mut form = theme_form_of(&pairs);
    // The code is the record's key: the one in the address, whatever was sent.
    form.code = code.clone();
    match svc::save_theme(state.store(), &form, ThemeWrite::Update, &actor).await {
        Ok(_) => Ok(Redirect::to("/partners/themes/manage?saved=1").into_response()),
        Err(PartnersError::Invalid(p)) => Ok(edit_view(
            &ctx,
            &code,
            &form,
            &p,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(app_error(e)),
    }
}

pub async fn close_theme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    svc::close_theme(state.store(), &code, &actor)
        .await
        .map_err(app_error)?;
    Ok(Redirect::to("/partners/themes/manage?saved=1").into_response())
}

// ----- JSON API -----

pub async fn api_themes(State(state): State<AppState>) -> WebResult<Json<Value>> {
    let themes = svc::open_themes(state.store()).await.map_err(app_error)?;
    Ok(Json(json!({ "items": themes })))
}

/// A text field of the API body: a string (or a number, as written), empty
/// when missing; another type is a problem of the field.
fn json_text(body: &Value, key: &str, problems: &mut Vec<Problem>) -> String {
    match body.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            problems.push(Problem::new(
                key,
                "文字列で指定してください",
                "must be a string",
            ));
            String::new()
        }
    }
}

/// A list field: an array of strings or numbers, or one text separated by commas.
fn json_list(body: &Value, key: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    match body.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split([',', '、']).map(|x| x.trim().to_string()).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => {
                    problems.push(Problem::new(
                        key,
                        "文字列か数の配列で指定してください",
                        "must be an array of strings or numbers",
                    ));
                    None
                }
            })
            .collect(),
        Some(_) => {
            problems.push(Problem::new(
                key,
                "配列で指定してください",
                "must be an array",
            ));
            Vec::new()
        }
    }
}

pub async fn api_create_proposal(
    State(state): State<AppState>,
    ctx: Ctx,
    body: Bytes,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Ok(problems_json(&Problems(vec![Problem::new(
                "body",
                INTAKE_JA.bad_json,
                INTAKE_EN.bad_json,
            )])));
        }
    };
    let mut problems = Vec::new();
    let publish_consent = match parsed.get("publish_consent") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            problems.push(Problem::new(
                "publish_consent",
                "true か false で指定してください",
                "must be true or false",
            ));
            false
        }
    };
    let form = IntakeForm {
        proposal: ProposalForm {
            title: json_text(&parsed, "title", &mut problems),
            proposer_name: json_text(&parsed, "proposer_name", &mut problems),
            member_id: None,
            theme_code: json_text(&parsed, "theme_code", &mut problems),
            summary: json_text(&parsed, "summary", &mut problems),
            kpi_codes: json_list(&parsed, "kpi_codes", &mut problems).join(","),
            sdg_goals: json_list(&parsed, "sdg_goals", &mut problems),
            contact_email: json_text(&parsed, "contact_email", &mut problems),
            publish_consent,
        },
        contact_person: json_text(&parsed, "contact_person", &mut problems),
        contact_phone: json_text(&parsed, "contact_phone", &mut problems),
        channel: json_text(&parsed, "channel", &mut problems),
    };
    // A field of the wrong type is reported alone: nothing is written.
    if !problems.is_empty() {
        return Ok(problems_json(&Problems(problems)));
    }
    match svc::submit(state.store(), &form, &[], false, &actor).await {
        Ok(r) => {
            let (p, details) = svc::intake_details(state.store(), r.id)
                .await
                .map_err(app_error)?;
            Ok((
                StatusCode::CREATED,
                Json(json!({ "id": r.id, "receipt": r.number, "proposal": p, "intake": details })),
            )
                .into_response())
        }
        Err(PartnersError::Invalid(p)) => Ok(problems_json(&p)),
        Err(e) => Err(app_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use citykpi_app::partners::intake::MAX_INTAKE_FILES;
    use citykpi_domain::partner::attachment::MAX_BYTES;

    use super::*;

    #[test]
    fn limits_fit_the_files() {
        const { assert!(INTAKE_BODY > MAX_INTAKE_FILES * MAX_BYTES) };
        assert!(INTAKE_JA.files_hint.contains("10MB") && INTAKE_EN.files_hint.contains("10 MB"));
    }

    #[test]
    fn json_fields_read_loosely_but_name_the_field() {
        let body =
            json!({ "title": 5, "summary": ["x"], "kpi_codes": "K1, K2", "sdg_goals": [3, "11"] });
        let mut problems = Vec::new();
        assert_eq!(json_text(&body, "title", &mut problems), "5");
        assert_eq!(json_text(&body, "summary", &mut problems), "");
        assert_eq!(
            json_list(&body, "kpi_codes", &mut problems),
            vec!["K1", "K2"]
        );
        assert_eq!(
            json_list(&body, "sdg_goals", &mut problems),
            vec!["3", "11"]
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "summary");
    }
}
