//! Staff forms of the demonstration registry and the PR plans, the NGSI-LD import form, the LINE channel secret and the exports of menu, teams and demonstrations.
//!
//! The desk (Mayor's Office and administrators) creates and edits
//! demonstrations (partners chosen from the approved members, KPIs of the
//! plan), moves their stage and records dated results; imports a city data
//! platform's NGSI-LD document as actuals of one of a demonstration's KPIs
//! through `citykpi_app::ngsi` (the connector the CLI and the API use);
//! creates and edits PR plans and records the reach measured per channel.
//! The administrator sets, replaces or clears the LINE channel secret (never
//! shown back). Every logged-in user reads the pages and downloads the
//! SDGs menu, teams, demonstrations and PR plans as CSV / XLSX (JSON under
//! the API). Everything is done by `citykpi_app::partners::registry`.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use citykpi_app::ngsi::{NgsiImportError, Outcome};
use citykpi_app::partners::registry::{self as reg, NgsiForm, NgsiFormError};
use citykpi_app::partners::{self as svc, PartnersError, is_desk};
use citykpi_domain::partner::ngsi::Aggregate;
use citykpi_domain::partner::projects::{
    DemoField, DemoStage, DemonstrationForm, PrChannel, PrPlanForm,
};
use citykpi_domain::partner::{Problem, Problems};
use maud::{Markup, html};

use super::{
    DESK, FormCtx, LINE_WEBHOOK, NGSI_BODY, NGSI_WRITERS, app_error, area_nav, enc, error_summary,
    export_list, field_message, kpi_links, pt, text_field, value, values, viewer, with_status,
};
use crate::AppState;
use crate::access::{ADMINS, Access, RouteRule};
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::extract::{Form, Path};
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
    r("GET", "/partners/demonstrations/new", Access::Roles(DESK)),
    r("POST", "/partners/demonstrations/new", Access::Roles(DESK)),
    r("GET", "/partners/demonstrations/{code}", Access::Login),
    r(
        "GET",
        "/partners/demonstrations/{code}/edit",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/demonstrations/{code}/edit",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/demonstrations/{code}/stage",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/demonstrations/{code}/results",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/demonstrations/{code}/ngsi",
        Access::Roles(NGSI_WRITERS),
    ),
    r("GET", "/partners/pr/plans/new", Access::Roles(DESK)),
    r("POST", "/partners/pr/plans/new", Access::Roles(DESK)),
    r("GET", "/partners/pr/plans/{code}", Access::Login),
    r("GET", "/partners/pr/plans/{code}/edit", Access::Roles(DESK)),
    r(
        "POST",
        "/partners/pr/plans/{code}/edit",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/pr/plans/{code}/reach",
        Access::Roles(DESK),
    ),
    r("GET", "/partners/line/secret", Access::Roles(ADMINS)),
    r("POST", "/partners/line/secret", Access::Roles(ADMINS)),
    r("GET", "/partners/export/menu", Access::Login),
    r("GET", "/partners/export/teams", Access::Login),
    r("GET", "/partners/export/demonstrations", Access::Login),
    r("GET", "/partners/export/pr_plans", Access::Login),
    r("GET", "/api/v1/partners/export/menu", Access::Login),
    r("GET", "/api/v1/partners/export/teams", Access::Login),
    r(
        "GET",
        "/api/v1/partners/export/demonstrations",
        Access::Login,
    ),
    r("GET", "/api/v1/partners/export/pr_plans", Access::Login),
];

/// API documentation of this part, in `api::API_DOCS`'s shape.
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "GET",
        "/api/v1/partners/export/menu",
        "SDGs貢献メニューと参加の書き出し（参加1件につき1行、?format=csv|xlsx|json、?lang=en で英語の見出し）",
        "The SDGs menu with its participations, one row per participation (?format=csv|xlsx|json; ?lang=en for English headers)",
        None,
    ),
    (
        "GET",
        "/api/v1/partners/export/teams",
        "プロジェクトチームと活動記録の書き出し（記録1件につき1行、?format=csv|xlsx|json）",
        "Project teams with their log, one row per entry (?format=csv|xlsx|json)",
        None,
    ),
    (
        "GET",
        "/api/v1/partners/export/demonstrations",
        "実証プロジェクトの書き出し（分野・段階・期間・連携会員・KPI・成果の記録、?format=csv|xlsx|json）",
        "Demonstrations: field, stage, period, partners, KPIs, dated results (?format=csv|xlsx|json)",
        None,
    ),
    (
        "GET",
        "/api/v1/partners/export/pr_plans",
        "広報計画の書き出し（目標・対象・メッセージ・媒体・期間・KPI・媒体ごとの到達数、?format=csv|xlsx|json）",
        "PR plans: goal, audience, message, channels, schedule, KPIs, reach per channel (?format=csv|xlsx|json)",
        None,
    ),
];

/// Largest NGSI-LD upload: the document plus the form's other fields.
pub const NGSI_FORM_BODY: usize = NGSI_BODY + 64 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/partners/demonstrations/new",
            get(new_demonstration).post(create_demonstration),
        )
        .route("/partners/demonstrations/{code}", get(demonstration_page))
        .route(
            "/partners/demonstrations/{code}/edit",
            get(edit_demonstration).post(update_demonstration),
        )
        .route(
            "/partners/demonstrations/{code}/stage",
            post(move_demonstration),
        )
        .route(
            "/partners/demonstrations/{code}/results",
            post(record_result),
        )
        .route(
            "/partners/demonstrations/{code}/ngsi",
            post(import_ngsi).layer(DefaultBodyLimit::max(NGSI_FORM_BODY)),
        )
        .route(
            "/partners/pr/plans/new",
            get(new_pr_plan).post(create_pr_plan),
        )
        .route("/partners/pr/plans/{code}", get(pr_plan_page))
        .route(
            "/partners/pr/plans/{code}/edit",
            get(edit_pr_plan).post(update_pr_plan),
        )
        .route("/partners/pr/plans/{code}/reach", post(record_reach))
        .route(
            "/partners/line/secret",
            get(line_secret_page).post(line_secret),
        )
        .route("/partners/export/menu", get(export_menu))
        .route("/partners/export/teams", get(export_teams))
        .route(
            "/partners/export/demonstrations",
            get(export_demonstrations),
        )
        .route("/partners/export/pr_plans", get(export_pr_plans))
        .route("/api/v1/partners/export/menu", get(export_menu))
        .route("/api/v1/partners/export/teams", get(export_teams))
        .route(
            "/api/v1/partners/export/demonstrations",
            get(export_demonstrations),
        )
        .route("/api/v1/partners/export/pr_plans", get(export_pr_plans))
}

// ----- the UI text of this part -----

pub struct RegistryText {
    pub demo_new: &'static str,
    pub demo_edit: &'static str,
    pub demo_save: &'static str,
    pub code: &'static str,
    pub code_hint: &'static str,
    pub title: &'static str,
    pub start: &'static str,
    pub end: &'static str,
    pub partner_ids: &'static str,
    pub partner_ids_hint: &'static str,
    pub no_members: &'static str,
    pub filter_members: &'static str,
    pub shown: &'static str,
    pub results_summary: &'static str,
    pub choose: &'static str,
    pub edit: &'static str,
    pub back_to_list: &'static str,
    pub move_stage: &'static str,
    pub move_button: &'static str,
    pub no_moves: &'static str,
    pub result_log: &'static str,
    pub result_add: &'static str,
    pub result_body: &'static str,
    pub on: &'static str,
    pub kpi_actuals: &'static str,
    pub actual_period: &'static str,
    pub actual_area: &'static str,
    pub actual_value: &'static str,
    pub actual_status: &'static str,
    pub actual_source: &'static str,
    pub provisional: &'static str,
    pub final_: &'static str,
    pub no_actuals: &'static str,
    pub unknown_kpi: &'static str,
    pub ngsi_title: &'static str,
    pub ngsi_intro: &'static str,
    pub ngsi_kpi: &'static str,
    pub ngsi_attribute: &'static str,
    pub ngsi_attribute_hint: &'static str,
    pub ngsi_period: &'static str,
    pub ngsi_month: &'static str,
    pub ngsi_fy: &'static str,
    pub ngsi_aggregate: &'static str,
    pub ngsi_area: &'static str,
    pub ngsi_area_hint: &'static str,
    pub ngsi_unit: &'static str,
    pub ngsi_unit_hint: &'static str,
    pub ngsi_observed_at: &'static str,
    pub ngsi_observed_at_hint: &'static str,
    pub ngsi_document: &'static str,
    pub ngsi_document_hint: &'static str,
    pub ngsi_file: &'static str,
    pub ngsi_dry_run: &'static str,
    pub ngsi_import: &'static str,
    pub ngsi_done: &'static str,
    pub ngsi_checked: &'static str,
    pub ngsi_written: &'static str,
    pub ngsi_inserted: &'static str,
    pub ngsi_updated: &'static str,
    pub ngsi_unchanged: &'static str,
    pub ngsi_samples: &'static str,
    pub ngsi_entities: &'static str,
    pub ngsi_refused: &'static str,
    pub ngsi_no_kpis: &'static str,
    pub pr_new: &'static str,
    pub pr_edit: &'static str,
    pub pr_save: &'static str,
    pub pr_title_field: &'static str,
    pub program_code: &'static str,
    pub program_hint: &'static str,
    pub reach_target: &'static str,
    pub reach_actual: &'static str,
    pub reach_by_channel: &'static str,
    pub reach_log: &'static str,
    pub reach_add: &'static str,
    pub reach_count: &'static str,
    pub channel: &'static str,
    pub recorded_by: &'static str,
    pub line_title: &'static str,
    pub line_intro: &'static str,
    pub line_state: &'static str,
    pub line_stored: &'static str,
    pub line_env: &'static str,
    pub line_unset: &'static str,
    pub line_changed: &'static str,
    pub line_cleared_at: &'static str,
    pub line_secret: &'static str,
    pub line_secret_hint: &'static str,
    pub line_set: &'static str,
    pub line_replace: &'static str,
    pub line_clear: &'static str,
    pub line_clear_hint: &'static str,
    pub line_webhook_url: &'static str,
    pub line_webhook_hint: &'static str,
    pub line_saved: &'static str,
    pub line_cleared: &'static str,
    pub line_settings: &'static str,
}

pub const JA: RegistryText = RegistryText {
    demo_new: "実証プロジェクトを登録",
    demo_edit: "実証プロジェクトを編集",
    demo_save: "保存する",
    code: "コード",
    code_hint: "英数字と - _ . （例：DX-MOBILITY）。登録後は変えられません",
    title: "名称",
    start: "開始日",
    end: "終了日",
    partner_ids: "連携する会員",
    partner_ids_hint: "承認済みの会員から選びます。名前や会員番号で絞り込めます",
    filter_members: "絞り込み",
    shown: "表示",
    no_members: "承認済みの会員がまだいません。",
    results_summary: "成果の概要",
    choose: "選んでください",
    edit: "編集",
    back_to_list: "一覧へ戻る",
    move_stage: "段階を進める",
    move_button: "段階を進める",
    no_moves: "この段階からは進められません。",
    result_log: "成果の記録",
    result_add: "成果を記録",
    result_body: "内容",
    on: "日付",
    kpi_actuals: "KPIの最近の実績値",
    actual_period: "期間",
    actual_area: "地域",
    actual_value: "値",
    actual_status: "区分",
    actual_source: "出典",
    provisional: "速報値",
    final_: "確定値",
    no_actuals: "実績値はまだありません。",
    unknown_kpi: "（登録されていないKPI）",
    ngsi_title: "都市OS（NGSI-LD）の計測値を取り込む",
    ngsi_intro: "都市データ連携基盤（FIWAREなどのコンテキストブローカー）のNGSI-LD文書（エンティティ、時系列エンティティ、購読通知）を貼り付けるかファイルで選ぶと、属性の値を月または年度ごとに集計して、選んだKPIの実績値として保存します。問題が1つでもあれば何も保存しません。",
    ngsi_kpi: "実績値を保存するKPI",
    ngsi_attribute: "属性名",
    ngsi_attribute_hint: "例：NO2、occupancy（IRIの末尾でも可）",
    ngsi_period: "集計の単位",
    ngsi_month: "月",
    ngsi_fy: "年度",
    ngsi_aggregate: "集計方法",
    ngsi_area: "地域コード",
    ngsi_area_hint: "6桁の団体コード。空欄なら市全体",
    ngsi_unit: "単位コード",
    ngsi_unit_hint: "UN/CEFACTの単位コード（例：GQ）。指定するとすべての値の単位を確認します",
    ngsi_observed_at: "計測日時",
    ngsi_observed_at_hint: "時刻を持たない値（keyValues形式）に使う日時（例：2026-04-01T00:00:00+09:00）",
    ngsi_document: "NGSI-LD文書（JSON）",
    ngsi_document_hint: "ブローカーの応答をそのまま貼り付けます。ファイルを選んだ場合はファイルを使います",
    ngsi_file: "ファイル（.json / .jsonld）",
    ngsi_dry_run: "確認のみ（保存しない）",
    ngsi_import: "取り込む",
    ngsi_done: "取り込みました",
    ngsi_checked: "確認しました（保存していません）",
    ngsi_written: "書き込んだ実績値",
    ngsi_inserted: "新規",
    ngsi_updated: "更新",
    ngsi_unchanged: "変更なし",
    ngsi_samples: "読み取った値",
    ngsi_entities: "エンティティ",
    ngsi_refused: "取り込めませんでした。何も保存していません。",
    ngsi_no_kpis: "この実証プロジェクトにはKPIがありません。先にKPIを登録してください。",
    pr_new: "広報計画を登録",
    pr_edit: "広報計画を編集",
    pr_save: "保存する",
    pr_title_field: "事業・取組の名称",
    program_code: "事務事業コード",
    program_hint: "事務事業の広報なら、そのコード。取組全体の広報なら空欄",
    reach_target: "到達目標（人）",
    reach_actual: "到達実績（人）",
    reach_by_channel: "媒体ごとの到達数",
    reach_log: "到達数の記録",
    reach_add: "到達数を記録",
    reach_count: "到達数（人）",
    channel: "媒体",
    recorded_by: "記録者",
    line_title: "LINE公式アカウントの連携",
    line_intro: "LINE公式アカウントのメッセージを相談として受け付けるWebhookの設定です。LINE Developersコンソールのチャネルシークレットを登録すると、署名（X-Line-Signature）を確認したメッセージだけを受け付けます。登録した値は表示しません。",
    line_state: "チャネルシークレット",
    line_stored: "設定済み",
    line_env: "サーバーの環境変数で設定済み",
    line_unset: "未設定（Webhookはすべて拒否されます）",
    line_changed: "最終変更",
    line_cleared_at: "削除",
    line_secret: "新しいチャネルシークレット",
    line_secret_hint: "LINE Developersコンソールの「チャネル基本設定」にある32文字の値",
    line_set: "登録する",
    line_replace: "置き換える",
    line_clear: "削除する",
    line_clear_hint: "削除するとWebhookは受け付けなくなります。",
    line_webhook_url: "Webhook URL",
    line_webhook_hint: "このURLをLINE Developersコンソールの「Messaging API設定」のWebhook URLに貼り付けてください。",
    line_saved: "チャネルシークレットを保存しました。",
    line_cleared: "チャネルシークレットを削除しました。",
    line_settings: "LINE公式アカウントの連携設定",
};

pub const EN: RegistryText = RegistryText {
    demo_new: "Register a demonstration",
    demo_edit: "Edit the demonstration",
    demo_save: "Save",
    code: "Code",
    code_hint: "letters, digits, - _ . (e.g. DX-MOBILITY); fixed once registered",
    title: "Title",
    start: "Start",
    end: "End",
    partner_ids: "Partner members",
    partner_ids_hint: "chosen from the approved members; narrow the list by name or member number",
    filter_members: "Filter",
    shown: "shown",
    no_members: "No approved members yet.",
    results_summary: "Results (summary)",
    choose: "Choose",
    edit: "Edit",
    back_to_list: "Back to the list",
    move_stage: "Move the stage",
    move_button: "Move",
    no_moves: "No move from this stage.",
    result_log: "Dated results",
    result_add: "Record a result",
    result_body: "What was found",
    on: "Date",
    kpi_actuals: "Recent actuals of its KPIs",
    actual_period: "Period",
    actual_area: "Area",
    actual_value: "Value",
    actual_status: "Status",
    actual_source: "Source",
    provisional: "provisional",
    final_: "final",
    no_actuals: "No actuals yet.",
    unknown_kpi: "(no such KPI)",
    ngsi_title: "Import measurements from the city OS (NGSI-LD)",
    ngsi_intro: "Paste or choose an NGSI-LD document of the city data platform (a FIWARE context broker's entities, temporal entities or a notification): the attribute's values are aggregated per month or fiscal year and stored as the chosen KPI's actuals. On any problem nothing is stored.",
    ngsi_kpi: "KPI to store the actuals of",
    ngsi_attribute: "Attribute",
    ngsi_attribute_hint: "e.g. NO2, occupancy (the end of an IRI matches too)",
    ngsi_period: "Period",
    ngsi_month: "month",
    ngsi_fy: "fiscal year",
    ngsi_aggregate: "Aggregate",
    ngsi_area: "Area code",
    ngsi_area_hint: "6-digit local-government code; empty for the whole city",
    ngsi_unit: "Unit code",
    ngsi_unit_hint: "UN/CEFACT unit code (e.g. GQ); when given, every value's unit is checked",
    ngsi_observed_at: "Observed at",
    ngsi_observed_at_hint: "the instant of values without one (keyValues), e.g. 2026-04-01T00:00:00+09:00",
    ngsi_document: "NGSI-LD document (JSON)",
    ngsi_document_hint: "paste the broker's answer as it is; a chosen file is used instead",
    ngsi_file: "File (.json / .jsonld)",
    ngsi_dry_run: "Check only (store nothing)",
    ngsi_import: "Import",
    ngsi_done: "Imported",
    ngsi_checked: "Checked (nothing stored)",
    ngsi_written: "Actuals written",
    ngsi_inserted: "new",
    ngsi_updated: "updated",
    ngsi_unchanged: "unchanged",
    ngsi_samples: "Values read",
    ngsi_entities: "Entities",
    ngsi_refused: "Not imported; nothing was stored.",
    ngsi_no_kpis: "This demonstration names no KPI; add one first.",
    pr_new: "Register a PR plan",
    pr_edit: "Edit the PR plan",
    pr_save: "Save",
    pr_title_field: "Program or initiative",
    program_code: "Program code",
    program_hint: "the administrative program publicised, if one; empty for a whole initiative",
    reach_target: "Reach target (people)",
    reach_actual: "Reach measured (people)",
    reach_by_channel: "Reach per channel",
    reach_log: "Recorded reach",
    reach_add: "Record reach",
    reach_count: "Reach (people)",
    channel: "Channel",
    recorded_by: "Recorded by",
    line_title: "LINE official account",
    line_intro: "The webhook that takes messages to the city's LINE official account as desk inquiries. With the channel secret of the LINE Developers console set, only messages with a valid X-Line-Signature are taken. The secret is never shown.",
    line_state: "Channel secret",
    line_stored: "set",
    line_env: "set by the server's environment",
    line_unset: "not set (the webhook refuses every call)",
    line_changed: "Last changed",
    line_cleared_at: "cleared",
    line_secret: "New channel secret",
    line_secret_hint: "the 32-character value under \"Basic settings\" of the channel in the LINE Developers console",
    line_set: "Set",
    line_replace: "Replace",
    line_clear: "Clear",
    line_clear_hint: "Once cleared, the webhook takes nothing.",
    line_webhook_url: "Webhook URL",
    line_webhook_hint: "Paste this URL as the Webhook URL under \"Messaging API\" in the LINE Developers console.",
    line_saved: "The channel secret is saved.",
    line_cleared: "The channel secret is cleared.",
    line_settings: "LINE official account settings",
};

fn rt(lang: Lang) -> &'static RegistryText {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// A coded value's label in the reader's language.
fn lab(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

fn no_problems() -> Problems {
    Problems(Vec::new())
}

fn is_desk_ctx(ctx: &Ctx) -> bool {
    ctx.user().is_some_and(|u| is_desk(u.role))
}

/// A select with its label, hint and message.
#[allow(clippy::too_many_arguments)]
fn select_field(
    fc: &FormCtx<'_>,
    id: &str,
    label: &str,
    options: &[(String, String)],
    selected: &[String],
    required: bool,
    hint: Option<&str>,
) -> Markup {
    let msg = field_message(fc.lang, fc.problems, id);
    let t = rt(fc.lang);
    html! {
        div class=[msg.as_ref().map(|_| "field-error")] {
            label for=(id) { (label) @if !required { " （" (pt(fc.lang).optional) "）" } }
            @if let Some(h) = hint { span.hint id={ (id) "-hint" } { (h) } }
            (field_error(id, msg.as_deref()))
            select id=(id) name=(id) aria-invalid=[msg.as_ref().map(|_| "true")] aria-describedby=[hint.map(|_| format!("{id}-hint"))] {
                option value="" { (t.choose) }
                @for (v, l) in options {
                    option value=(v) selected[selected.iter().any(|s| s == v)] { (l) }
                }
            }
        }
    }
}

/// A long list of checkboxes (a demonstration's partners, chosen from every
/// approved member) in a scrolling box, the ticked ones first, with a search
/// box that narrows the list as one types (app.js; without script the whole
/// list scrolls).
fn searchable_checklist(
    fc: &FormCtx<'_>,
    id: &str,
    label: &str,
    options: &[(String, String)],
    selected: &[String],
    hint: &str,
) -> Markup {
    let msg = field_message(fc.lang, fc.problems, id);
    let t = rt(fc.lang);
    let ticked = |v: &String| selected.iter().any(|s| s == v);
    let ordered = options
        .iter()
        .filter(|(v, _)| ticked(v))
        .chain(options.iter().filter(|(v, _)| !ticked(v)));
    html! {
        fieldset id=(id) class=[msg.as_ref().map(|_| "field-error")] {
            legend { (label) " （" (pt(fc.lang).optional) "）" }
            span.hint id={ (id) "-hint" } { (hint) }
            (field_error(id, msg.as_deref()))
            div.filter-row {
                label for={ (id) "-filter" } { (t.filter_members) }
                input type="search" id={ (id) "-filter" } data-filter-for={ (id) "-list" } hidden autocomplete="off";
                span.muted { (t.shown) " " span id={ (id) "-list-shown" } { (options.len()) } " / " (options.len()) }
            }
            div.scroll-box id={ (id) "-list" } {
                @for (v, l) in ordered {
                    @let cid = format!("{id}-{v}");
                    div {
                        input type="checkbox" id=(cid) name=(id) value=(v) checked[ticked(v)];
                        label for=(cid) { (l) }
                    }
                }
            }
        }
    }
}

/// Checkboxes of one field (PR channels).
fn checkbox_field(
    fc: &FormCtx<'_>,
    id: &str,
    label: &str,
    options: &[(String, String)],
    selected: &[String],
) -> Markup {
    let msg = field_message(fc.lang, fc.problems, id);
    html! {
        fieldset id=(id) class=[msg.as_ref().map(|_| "field-error")] {
            legend { (label) }
            (field_error(id, msg.as_deref()))
            @for (v, l) in options {
                label.checkbox {
                    input type="checkbox" name=(id) value=(v) checked[selected.iter().any(|s| s == v)];
                    " " (l)
                }
            }
        }
    }
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

// ----- demonstrations: create and edit -----

fn demo_form_of(pairs: &[(String, String)]) -> (DemonstrationForm, Vec<String>, String) {
    (
        DemonstrationForm {
            code: value(pairs, "code"),
            title: value(pairs, "title"),
            field: value(pairs, "field"),
            area: value(pairs, "area"),
            start: value(pairs, "start"),
            end: value(pairs, "end"),
            kpi_codes: value(pairs, "kpi_codes"),
        },
        values(pairs, "partner_ids"),
        value(pairs, "results"),
    )
}

async fn demo_form_view(
    state: &AppState,
    ctx: &Ctx,
    edit_code: Option<&str>,
    form: &(DemonstrationForm, Vec<String>, String),
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    let (t, p) = (rt(ctx.lang), pt(ctx.lang));
    let lang = ctx.lang;
    let fc = FormCtx { problems, lang };
    let (f, partners, results) = form;
    let members = reg::member_choices(state.store())
        .await
        .map_err(app_error)?;
    let member_options: Vec<(String, String)> = members
        .iter()
        .map(|(id, name)| (id.to_string(), format!("{name}（#{id}）")))
        .collect();
    let fields: Vec<(String, String)> = DemoField::ALL
        .iter()
        .map(|f| {
            (
                f.code().to_string(),
                lab(lang, f.label_ja(), f.label_en()).to_string(),
            )
        })
        .collect();
    let (title, action) = match edit_code {
        Some(c) => (
            t.demo_edit,
            format!("/partners/demonstrations/{}/edit", enc(c)),
        ),
        None => (t.demo_new, "/partners/demonstrations/new".to_string()),
    };
    let body = html! {
        (area_nav(ctx, "/partners/demonstrations"))
        h1 { (title) }
        (error_summary(ctx, problems, &[("code", t.code), ("title", t.title), ("field", p.field), ("area", p.area), ("start", t.start), ("end", t.end), ("partner_ids", t.partner_ids), ("kpi_codes", p.kpis), ("results", t.results_summary)]))
        form.stack method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf());
            @if let Some(c) = edit_code {
                p { strong { (t.code) } "： " (c) }
            } @else {
                (text_field(&fc, "code", t.code, &f.code, "text", true, Some(t.code_hint)))
            }
            (text_field(&fc, "title", t.title, &f.title, "text", true, None))
            (select_field(&fc, "field", p.field, &fields, std::slice::from_ref(&f.field), true, None))
            (text_field(&fc, "area", p.area, &f.area, "text", true, None))
            (text_field(&fc, "start", t.start, &f.start, "date", true, None))
            (text_field(&fc, "end", t.end, &f.end, "date", true, None))
            @if members.is_empty() {
                p.muted { (t.partner_ids) "： " (t.no_members) }
            } @else {
                (searchable_checklist(&fc, "partner_ids", t.partner_ids, &member_options, partners, t.partner_ids_hint))
            }
            (text_field(&fc, "kpi_codes", p.kpis, &f.kpi_codes, "text", false, Some(p.codes_hint)))
            (text_field(&fc, "results", t.results_summary, results, "textarea", false, None))
            div { button type="submit" { (t.demo_save) } }
        }
        p { a href="/partners/demonstrations" { (t.back_to_list) } }
    };
    Ok(page(ctx, title, body, status))
}

pub async fn new_demonstration(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let form = (DemonstrationForm::default(), Vec::new(), String::new());
    demo_form_view(&state, &ctx, None, &form, &no_problems(), StatusCode::OK).await
}

pub async fn create_demonstration(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let form = demo_form_of(&pairs);
    match reg::save_demonstration(state.store(), &form.0, &form.1, &form.2, true, &v.login).await {
        Ok(d) => Ok(Redirect::to(&format!(
            "/partners/demonstrations/{}?saved=1",
            enc(&d.code)
        ))
        .into_response()),
        Err(PartnersError::Invalid(p)) => {
            demo_form_view(
                &state,
                &ctx,
                None,
                &form,
                &p,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn edit_demonstration(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let d = reg::demonstration(state.store(), &code)
        .await
        .map_err(app_error)?
        .demo;
    let form = (
        DemonstrationForm {
            code: d.code.clone(),
            title: d.title.clone(),
            field: d.field.code().to_string(),
            area: d.area.clone(),
            start: d.start.to_string(),
            end: d.end.to_string(),
            kpi_codes: d.kpi_codes.join(", "),
        },
        d.partner_ids.iter().map(i64::to_string).collect(),
        d.results.clone(),
    );
    demo_form_view(
        &state,
        &ctx,
        Some(&d.code),
        &form,
        &no_problems(),
        StatusCode::OK,
    )
    .await
}

pub async fn update_demonstration(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let mut form = demo_form_of(&pairs);
    // The code is the record's: the path names it, the form cannot change it.
    form.0.code = code.clone();
    match reg::save_demonstration(state.store(), &form.0, &form.1, &form.2, false, &v.login).await {
        Ok(d) => Ok(Redirect::to(&format!(
            "/partners/demonstrations/{}?saved=1",
            enc(&d.code)
        ))
        .into_response()),
        Err(PartnersError::Invalid(p)) => {
            demo_form_view(
                &state,
                &ctx,
                Some(&code),
                &form,
                &p,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

// ----- a demonstration's page -----

/// What the NGSI-LD form answered, shown on the page.
enum NgsiPanel {
    None,
    Done(Box<Outcome>, bool),
    Refused(Vec<String>),
}

async fn demonstration_view(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    problems: &Problems,
    ngsi: &NgsiPanel,
    ngsi_form: &NgsiForm,
    status: StatusCode,
) -> WebResult<Response> {
    let (t, p) = (rt(ctx.lang), pt(ctx.lang));
    let lang = ctx.lang;
    let detail = reg::demonstration(state.store(), code)
        .await
        .map_err(app_error)?;
    let d = &detail.demo;
    let desk = is_desk_ctx(ctx);
    let ngsi_writer = ctx.user().is_some_and(|u| NGSI_WRITERS.contains(&u.role));
    let saved = query_param(ctx.query.as_deref(), "saved").is_some();
    let today = svc::today().to_string();
    let next: Vec<&DemoStage> = DemoStage::ALL
        .iter()
        .filter(|s| d.stage.can_move_to(**s))
        .collect();
    let fc = FormCtx { problems, lang };
    let base = format!("/partners/demonstrations/{}", enc(&d.code));
    let body = html! {
        (area_nav(ctx, "/partners/demonstrations"))
        h1 { (d.title) " " span.muted { "(" (d.code) ")" } }
        @if saved && problems.0.is_empty() { div.notice.success role="status" { (p.saved) } }
        (error_summary(ctx, problems, &[("stage", p.stage), ("on", t.on), ("body", t.result_body), ("kpi_code", t.ngsi_kpi), ("attribute", t.ngsi_attribute), ("period", t.ngsi_period), ("aggregate", t.ngsi_aggregate), ("area_code", t.ngsi_area), ("unit_code", t.ngsi_unit), ("observed_at", t.ngsi_observed_at), ("document", t.ngsi_document)]))
        dl.fields {
            dt { (p.field) } dd { (lab(lang, d.field.label_ja(), d.field.label_en())) }
            dt { (p.stage) } dd { span.tag { (lab(lang, d.stage.label_ja(), d.stage.label_en())) } }
            dt { (p.area) } dd { (d.area) }
            dt { (p.period) } dd { (d.start) " 〜 " (d.end) }
            dt { (t.partner_ids) } dd {
                @for (i, (id, name)) in detail.partners.iter().enumerate() {
                    @if i > 0 { "、" }
                    @if desk { a href={ "/partners/members/" (id) } { (name) } } @else { (name) }
                }
            }
            dt { (p.kpis) } dd { (kpi_links(&d.kpi_codes)) }
            dt { (t.results_summary) } dd { (d.results) }
        }
        @if desk {
            p { a.button href={ (base) "/edit" } { (t.edit) } }
            section.card id="stage" {
                h2 { (t.move_stage) }
                @if next.is_empty() { p.muted { (t.no_moves) } } @else {
                    form.inline-form method="post" action={ (base) "/stage" } {
                        input type="hidden" name="csrf" value=(ctx.csrf());
                        div {
                            label for="stage-to" { (p.stage) }
                            (field_error("stage", field_message(lang, problems, "stage").as_deref()))
                            select id="stage-to" name="stage" {
                                @for s in &next { option value=(s.code()) { (lab(lang, s.label_ja(), s.label_en())) } }
                            }
                        }
                        div { button.secondary type="submit" { (t.move_button) } }
                    }
                }
            }
        }
        section id="kpis" {
            h2 { (t.kpi_actuals) }
            @for k in &detail.kpis {
                h3 {
                    a href={ "/kpis/" (enc(&k.code)) } { (k.code) } " "
                    @if k.known { (if lang == Lang::En && !k.name_en.is_empty() { &k.name_en } else { &k.name_ja }) @if !k.unit.is_empty() { " (" (k.unit) ")" } }
                    @else { span.muted { (t.unknown_kpi) } }
                }
                @if k.recent.is_empty() { p.muted { (t.no_actuals) } } @else {
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { (t.actual_period) } th scope="col" { (t.actual_area) } th scope="col" { (t.actual_value) }
                            th scope="col" { (t.actual_status) } th scope="col" { (t.actual_source) }
                        } }
                        tbody { @for o in &k.recent { tr {
                            td { (o.period) } td { (o.area_code) } td.num { (o.value) }
                            td { @if o.status == citykpi_domain::observation::ObsStatus::Provisional { (t.provisional) } @else { (t.final_) } }
                            td { (o.source) }
                        } } }
                    } }
                }
            }
        }
        section id="results" {
            h2 { (t.result_log) }
            @if detail.results.is_empty() { p.muted { (p.none_yet) } } @else {
                ul { @for r in &detail.results { li { (r.on) " " (r.body) " " span.muted { "(" (r.author) ")" } } } }
            }
            @if desk {
                form.stack method="post" action={ (base) "/results" } novalidate {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    (text_field(&fc, "on", t.on, &today, "date", true, None))
                    (text_field(&fc, "body", t.result_body, "", "textarea", true, None))
                    div { button.secondary type="submit" { (t.result_add) } }
                }
            }
        }
        @if ngsi_writer {
            (ngsi_section(ctx, d, &base, problems, ngsi, ngsi_form))
        }
        p { a href="/partners/demonstrations" { (t.back_to_list) } }
    };
    Ok(page(ctx, &d.title, body, status))
}

fn ngsi_section(
    ctx: &Ctx,
    d: &citykpi_domain::partner::projects::Demonstration,
    base: &str,
    problems: &Problems,
    panel: &NgsiPanel,
    f: &NgsiForm,
) -> Markup {
    let t = rt(ctx.lang);
    let lang = ctx.lang;
    let fc = FormCtx { problems, lang };
    let kpis: Vec<(String, String)> = d.kpi_codes.iter().map(|k| (k.clone(), k.clone())).collect();
    let periods = vec![
        ("month".to_string(), t.ngsi_month.to_string()),
        ("fy".to_string(), t.ngsi_fy.to_string()),
    ];
    let aggregates: Vec<(String, String)> = Aggregate::ALL
        .iter()
        .map(|a| {
            (
                a.code().to_string(),
                lab(lang, a.label_ja(), a.code()).to_string(),
            )
        })
        .collect();
    let period = if f.period.is_empty() {
        "month".to_string()
    } else {
        f.period.clone()
    };
    let aggregate = if f.aggregate.is_empty() {
        "mean".to_string()
    } else {
        f.aggregate.clone()
    };
    let document = String::from_utf8_lossy(&f.document).into_owned();
    html! {
        section.card id="ngsi" {
            h2 { (t.ngsi_title) }
            p { (t.ngsi_intro) }
            @match panel {
                NgsiPanel::Done(o, dry) => {
                    div.notice.success role="status" id="ngsi-result" {
                        strong { @if *dry { (t.ngsi_checked) } @else { (t.ngsi_done) } }
                        ul {
                            li { (t.ngsi_samples) "： " (o.samples) " ／ " (t.ngsi_entities) "： " (o.entities.len()) }
                            @if let Some(c) = &o.counts {
                                li { (t.ngsi_written) "： " (c.inserted + c.updated) "（" (t.ngsi_inserted) " " (c.inserted) "・" (t.ngsi_updated) " " (c.updated) "）" }
                                li { (t.ngsi_unchanged) "： " (c.unchanged) }
                            }
                            @for ob in &o.observations { li { (ob.kpi_code) " " (ob.period) " " (ob.area_code) "： " (ob.value) } }
                        }
                    }
                }
                NgsiPanel::Refused(lines) => {
                    div.error-summary role="alert" id="ngsi-problems" {
                        h3 { (t.ngsi_refused) }
                        ul { @for l in lines { li { (l) } } }
                    }
                }
                NgsiPanel::None => {}
            }
            @if kpis.is_empty() { p.muted { (t.ngsi_no_kpis) } } @else {
                form.stack method="post" enctype="multipart/form-data" action={ (base) "/ngsi" } novalidate {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    (select_field(&fc, "kpi_code", t.ngsi_kpi, &kpis, std::slice::from_ref(&f.kpi_code), true, None))
                    (text_field(&fc, "attribute", t.ngsi_attribute, &f.attribute, "text", true, Some(t.ngsi_attribute_hint)))
                    (select_field(&fc, "period", t.ngsi_period, &periods, &[period], true, None))
                    (select_field(&fc, "aggregate", t.ngsi_aggregate, &aggregates, &[aggregate], true, None))
                    (text_field(&fc, "area_code", t.ngsi_area, &f.area_code, "text", false, Some(t.ngsi_area_hint)))
                    (text_field(&fc, "unit_code", t.ngsi_unit, &f.unit_code, "text", false, Some(t.ngsi_unit_hint)))
                    (text_field(&fc, "observed_at", t.ngsi_observed_at, &f.observed_at, "text", false, Some(t.ngsi_observed_at_hint)))
                    (text_field(&fc, "document", t.ngsi_document, &document, "textarea", false, Some(t.ngsi_document_hint)))
                    div {
                        label for="ngsi-file" { (t.ngsi_file) }
                        input type="file" id="ngsi-file" name="file" accept=".json,.jsonld,application/json,application/ld+json";
                    }
                    label.checkbox { input type="checkbox" name="dry_run" value="1" checked[f.dry_run]; " " (t.ngsi_dry_run) }
                    div { button type="submit" { (t.ngsi_import) } }
                }
            }
        }
    }
}

pub async fn demonstration_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    demonstration_view(
        &state,
        &ctx,
        &code,
        &no_problems(),
        &NgsiPanel::None,
        &NgsiForm::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn move_demonstration(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    match reg::move_demonstration(state.store(), &code, &value(&pairs, "stage"), &v.login).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/partners/demonstrations/{}?saved=1#stage",
            enc(&code)
        ))
        .into_response()),
        Err(PartnersError::Invalid(p)) => {
            demonstration_view(
                &state,
                &ctx,
                &code,
                &p,
                &NgsiPanel::None,
                &NgsiForm::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn record_result(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    match reg::record_demo_result(
        state.store(),
        &code,
        &value(&pairs, "on"),
        &value(&pairs, "body"),
        &v.login,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/partners/demonstrations/{}?saved=1#results",
            enc(&code)
        ))
        .into_response()),
        Err(PartnersError::Invalid(p)) => {
            demonstration_view(
                &state,
                &ctx,
                &code,
                &p,
                &NgsiPanel::None,
                &NgsiForm::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

async fn ngsi_form_of(mut multipart: Multipart) -> WebResult<NgsiForm> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!(
            "アップロードを読めません / cannot read the upload: {e}"
        ))
    };
    let mut f = NgsiForm::default();
    let mut pasted = Vec::new();
    let mut file = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            f.file_name = field.file_name().unwrap_or("").chars().take(200).collect();
            file = field.bytes().await.map_err(bad)?.to_vec();
            continue;
        }
        let bytes = field.bytes().await.map_err(bad)?.to_vec();
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "kpi_code" => f.kpi_code = text(),
            "attribute" => f.attribute = text(),
            "period" => f.period = text(),
            "aggregate" => f.aggregate = text(),
            "area_code" => f.area_code = text(),
            "unit_code" => f.unit_code = text(),
            "observed_at" => f.observed_at = text(),
            "dry_run" => f.dry_run = text() == "1",
            "document" => pasted = bytes,
            _ => {}
        }
    }
    if file.is_empty() {
        f.file_name.clear();
        f.document = pasted;
    } else {
        f.document = file;
    }
    Ok(f)
}

/// The connector's refusal as lines naming the entity, attribute and place.
fn refusal_lines(lang: Lang, e: &NgsiImportError) -> Option<Vec<String>> {
    match e {
        NgsiImportError::Document(d) => Some(
            d.0.iter()
                .map(|p| {
                    let mut place = Vec::new();
                    if !p.entity.is_empty() {
                        place.push(format!(
                            "{} {}",
                            lab(lang, "エンティティ", "entity"),
                            p.entity
                        ));
                    }
                    if !p.attribute.is_empty() {
                        place.push(format!(
                            "{} {}",
                            lab(lang, "属性", "attribute"),
                            p.attribute
                        ));
                    }
                    if !p.at.is_empty() {
                        place.push(format!("({})", p.at));
                    }
                    let reason = match lang {
                        Lang::Ja => &p.ja,
                        Lang::En => &p.en,
                    };
                    if place.is_empty() {
                        reason.clone()
                    } else {
                        format!("{}: {reason}", place.join(", "))
                    }
                })
                .collect(),
        ),
        NgsiImportError::UnknownKpi(_)
        | NgsiImportError::NoArea
        | NgsiImportError::NoSamples(_)
        | NgsiImportError::Unit { .. } => Some(vec![e.to_string()]),
        _ => None,
    }
}

pub async fn import_ngsi(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    multipart: Multipart,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let form = ngsi_form_of(multipart).await?;
    let (panel, problems, status) = match reg::import_ngsi(state.store(), &code, &form, &v.login)
        .await
    {
        Ok(outcome) => {
            if !form.dry_run {
                state.data_changed();
            }
            (
                NgsiPanel::Done(Box::new(outcome), form.dry_run),
                no_problems(),
                StatusCode::OK,
            )
        }
        Err(NgsiFormError::Invalid(p)) => (NgsiPanel::None, p, StatusCode::UNPROCESSABLE_ENTITY),
        Err(NgsiFormError::Import(e)) => match refusal_lines(ctx.lang, &e) {
            Some(lines) => (
                NgsiPanel::Refused(lines),
                no_problems(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            None => match e {
                NgsiImportError::Store(s) => return Err(s.into()),
                other => return Err(WebError::BadRequest(other.to_string())),
            },
        },
        Err(NgsiFormError::Partners(e)) => return Err(app_error(e)),
    };
    demonstration_view(&state, &ctx, &code, &problems, &panel, &form, status).await
}

// ----- PR plans -----

fn pr_form_of(pairs: &[(String, String)]) -> (PrPlanForm, String) {
    (
        PrPlanForm {
            code: value(pairs, "code"),
            title: value(pairs, "title"),
            section_code: value(pairs, "section_code"),
            goal: value(pairs, "goal"),
            audience: value(pairs, "audience"),
            message: value(pairs, "message"),
            channels: values(pairs, "channels"),
            start: value(pairs, "start"),
            end: value(pairs, "end"),
            kpi_codes: value(pairs, "kpi_codes"),
            reach_target: value(pairs, "reach_target"),
        },
        value(pairs, "program_code"),
    )
}

async fn pr_form_view(
    state: &AppState,
    ctx: &Ctx,
    edit_code: Option<&str>,
    form: &(PrPlanForm, String),
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    let (t, p) = (rt(ctx.lang), pt(ctx.lang));
    let lang = ctx.lang;
    let fc = FormCtx { problems, lang };
    let (f, program) = form;
    let sections: Vec<(String, String)> = state
        .store()
        .sections()
        .await?
        .into_iter()
        .map(|s| {
            let name = match lang {
                Lang::En if !s.name_en.is_empty() => s.name_en,
                _ => s.name_ja,
            };
            (s.code.clone(), format!("{name}（{}）", s.code))
        })
        .collect();
    let channels: Vec<(String, String)> = PrChannel::ALL
        .iter()
        .map(|c| {
            (
                c.code().to_string(),
                lab(lang, c.label_ja(), c.label_en()).to_string(),
            )
        })
        .collect();
    let (title, action) = match edit_code {
        Some(c) => (t.pr_edit, format!("/partners/pr/plans/{}/edit", enc(c))),
        None => (t.pr_new, "/partners/pr/plans/new".to_string()),
    };
    let body = html! {
        (area_nav(ctx, "/partners/pr"))
        h1 { (title) }
        (error_summary(ctx, problems, &[("code", t.code), ("title", t.pr_title_field), ("program_code", t.program_code), ("section_code", p.section), ("goal", p.goal), ("audience", p.audience), ("message", p.message), ("channels", p.channels), ("start", t.start), ("end", t.end), ("kpi_codes", p.kpis), ("reach_target", t.reach_target)]))
        form.stack method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf());
            @if let Some(c) = edit_code {
                p { strong { (t.code) } "： " (c) }
            } @else {
                (text_field(&fc, "code", t.code, &f.code, "text", true, Some(t.code_hint)))
            }
            (text_field(&fc, "title", t.pr_title_field, &f.title, "text", true, None))
            (text_field(&fc, "program_code", t.program_code, program, "text", false, Some(t.program_hint)))
            (select_field(&fc, "section_code", p.section, &sections, std::slice::from_ref(&f.section_code), true, None))
            (text_field(&fc, "goal", p.goal, &f.goal, "textarea", true, None))
            (text_field(&fc, "audience", p.audience, &f.audience, "text", true, None))
            (text_field(&fc, "message", p.message, &f.message, "textarea", true, None))
            (checkbox_field(&fc, "channels", p.channels, &channels, &f.channels))
            (text_field(&fc, "start", t.start, &f.start, "date", true, None))
            (text_field(&fc, "end", t.end, &f.end, "date", true, None))
            (text_field(&fc, "kpi_codes", p.kpis, &f.kpi_codes, "text", false, Some(p.codes_hint)))
            (text_field(&fc, "reach_target", t.reach_target, &f.reach_target, "text", false, None))
            div { button type="submit" { (t.pr_save) } }
        }
        p { a href="/partners/pr" { (t.back_to_list) } }
    };
    Ok(page(ctx, title, body, status))
}

pub async fn new_pr_plan(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let form = (PrPlanForm::default(), String::new());
    pr_form_view(&state, &ctx, None, &form, &no_problems(), StatusCode::OK).await
}

pub async fn create_pr_plan(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let form = pr_form_of(&pairs);
    match reg::save_pr_plan(state.store(), &form.0, &form.1, true, &v.login).await {
        Ok(p) => Ok(
            Redirect::to(&format!("/partners/pr/plans/{}?saved=1", enc(&p.code))).into_response(),
        ),
        Err(PartnersError::Invalid(p)) => {
            pr_form_view(
                &state,
                &ctx,
                None,
                &form,
                &p,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn edit_pr_plan(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let plan = reg::pr_plan(state.store(), &code)
        .await
        .map_err(app_error)?
        .plan;
    let form = (
        PrPlanForm {
            code: plan.code.clone(),
            title: plan.title.clone(),
            section_code: plan.section_code.clone(),
            goal: plan.goal.clone(),
            audience: plan.audience.clone(),
            message: plan.message.clone(),
            channels: plan.channels.iter().map(|c| c.code().to_string()).collect(),
            start: plan.start.to_string(),
            end: plan.end.to_string(),
            kpi_codes: plan.kpi_codes.join(", "),
            reach_target: plan.reach_target.map(|n| n.to_string()).unwrap_or_default(),
        },
        plan.program_code.clone().unwrap_or_default(),
    );
    pr_form_view(
        &state,
        &ctx,
        Some(&plan.code),
        &form,
        &no_problems(),
        StatusCode::OK,
    )
    .await
}

pub async fn update_pr_plan(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let mut form = pr_form_of(&pairs);
    form.0.code = code.clone();
    match reg::save_pr_plan(state.store(), &form.0, &form.1, false, &v.login).await {
        Ok(p) => Ok(
            Redirect::to(&format!("/partners/pr/plans/{}?saved=1", enc(&p.code))).into_response(),
        ),
        Err(PartnersError::Invalid(p)) => {
            pr_form_view(
                &state,
                &ctx,
                Some(&code),
                &form,
                &p,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

async fn pr_plan_view(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    form: &[(String, String)],
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    let (t, p) = (rt(ctx.lang), pt(ctx.lang));
    let lang = ctx.lang;
    let detail = reg::pr_plan(state.store(), code).await.map_err(app_error)?;
    let plan = &detail.plan;
    let desk = is_desk_ctx(ctx);
    let saved = query_param(ctx.query.as_deref(), "saved").is_some();
    let fc = FormCtx { problems, lang };
    let base = format!("/partners/pr/plans/{}", enc(&plan.code));
    let typed = |k: &str| value(form, k);
    let on = if typed("on").is_empty() {
        svc::today().to_string()
    } else {
        typed("on")
    };
    let channels: Vec<(String, String)> = plan
        .channels
        .iter()
        .map(|c| {
            (
                c.code().to_string(),
                lab(lang, c.label_ja(), c.label_en()).to_string(),
            )
        })
        .collect();
    let count = |n: Option<u64>| n.map_or_else(|| "−".to_string(), |v| v.to_string());
    let body = html! {
        (area_nav(ctx, "/partners/pr"))
        h1 { (plan.title) " " span.muted { "(" (plan.code) ")" } }
        @if saved && problems.0.is_empty() { div.notice.success role="status" { (p.saved) } }
        (error_summary(ctx, problems, &[("channel", t.channel), ("on", t.on), ("reach", t.reach_count), ("note", p.note)]))
        dl.fields {
            dt { (t.program_code) } dd {
                @if let Some(pc) = &plan.program_code { a href={ "/programs/" (enc(pc)) } { (pc) } " " (detail.program_name) }
            }
            dt { (p.section) } dd { (plan.section_code) " " (detail.section_name) }
            dt { (p.period) } dd { (plan.start) " 〜 " (plan.end) }
            dt { (p.goal) } dd { (plan.goal) }
            dt { (p.audience) } dd { (plan.audience) }
            dt { (p.message) } dd { (plan.message) }
            dt { (p.channels) } dd { @for (i, c) in plan.channels.iter().enumerate() { @if i > 0 { "、" } (lab(lang, c.label_ja(), c.label_en())) } }
            dt { (p.kpis) } dd { (kpi_links(&plan.kpi_codes)) }
            dt { (t.reach_target) } dd.num { (count(plan.reach_target)) }
            dt { (t.reach_actual) } dd.num id="reach-actual" { (count(plan.reach_actual)) }
        }
        @if desk { p { a.button href={ (base) "/edit" } { (t.edit) } } }
        section id="reach" {
            h2 { (t.reach_by_channel) }
            div.table-wrap { table {
                thead { tr { th scope="col" { (t.channel) } th scope="col" { (t.reach_count) } } }
                tbody {
                    @for (c, n) in &detail.by_channel {
                        @if plan.channels.contains(c) || *n > 0 {
                            tr { td { (lab(lang, c.label_ja(), c.label_en())) } td.num { (n) } }
                        }
                    }
                }
            } }
            h3 { (t.reach_log) }
            @if detail.reach.is_empty() { p.muted { (p.none_yet) } } @else {
                div.table-wrap { table {
                    thead { tr { th scope="col" { (t.on) } th scope="col" { (t.channel) } th scope="col" { (t.reach_count) } th scope="col" { (p.note) } th scope="col" { (t.recorded_by) } } }
                    tbody { @for r in &detail.reach { tr {
                        td { (r.on) } td { (lab(lang, r.channel.label_ja(), r.channel.label_en())) } td.num { (r.reach) } td { (r.note) } td { (r.author) }
                    } } }
                } }
            }
            @if desk {
                form.stack method="post" action={ (base) "/reach" } novalidate {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    (select_field(&fc, "channel", t.channel, &channels, &[typed("channel")], true, None))
                    (text_field(&fc, "on", t.on, &on, "date", true, None))
                    (text_field(&fc, "reach", t.reach_count, &typed("reach"), "text", true, None))
                    (text_field(&fc, "note", p.note, &typed("note"), "text", false, None))
                    div { button.secondary type="submit" { (t.reach_add) } }
                }
            }
        }
        p { a href={ "/partners/pr?month=" (format!("{:04}-{:02}", plan.start.year(), plan.start.month())) } { (t.back_to_list) } }
    };
    Ok(page(ctx, &plan.title, body, status))
}

pub async fn pr_plan_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    pr_plan_view(&state, &ctx, &code, &[], &no_problems(), StatusCode::OK).await
}

pub async fn record_reach(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    match reg::record_reach(
        state.store(),
        &code,
        &value(&pairs, "channel"),
        &value(&pairs, "on"),
        &value(&pairs, "reach"),
        &value(&pairs, "note"),
        &v.login,
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/partners/pr/plans/{}?saved=1#reach", enc(&code)))
                .into_response(),
        ),
        Err(PartnersError::Invalid(p)) => {
            pr_plan_view(
                &state,
                &ctx,
                &code,
                &pairs,
                &p,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

// ----- the LINE channel secret (administrators) -----

/// The webhook's address as LINE must call it: this server's host as the
/// browser reached it, over https when the server runs behind TLS.
fn webhook_url(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map_or(state.config().secure_cookies, |p| {
            p.eq_ignore_ascii_case("https")
        });
    format!(
        "{}://{host}{LINE_WEBHOOK}",
        if https { "https" } else { "http" }
    )
}

async fn line_view(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    let t = rt(ctx.lang);
    let lang = ctx.lang;
    let fc = FormCtx { problems, lang };
    let s = reg::line_secret_status(state.store())
        .await
        .map_err(app_error)?;
    let notice = match query_param(ctx.query.as_deref(), "done").as_deref() {
        Some("set") => Some(t.line_saved),
        Some("clear") => Some(t.line_cleared),
        _ => None,
    };
    let url = webhook_url(state, headers);
    let body = html! {
        (area_nav(ctx, "/partners/pr"))
        h1 { (t.line_title) }
        p.lead { (t.line_intro) }
        @if let Some(n) = notice { @if problems.0.is_empty() { div.notice.success role="status" { (n) } } }
        (error_summary(ctx, problems, &[("secret", t.line_secret)]))
        dl.fields {
            dt { (t.line_state) }
            dd id="line-state" {
                @if s.stored { (t.line_stored) } @else if s.from_env { (t.line_env) } @else { (t.line_unset) }
            }
            @if let Some(c) = &s.changed {
                dt { (t.line_changed) }
                dd id="line-changed" { (citykpi_domain::jst::display(&c.at)) " · " (c.by) @if !c.set { " （" (t.line_cleared_at) "）" } }
            }
            dt { (t.line_webhook_url) }
            dd { code id="webhook-url" { (url) } br; span.hint { (t.line_webhook_hint) } }
        }
        form.stack method="post" action="/partners/line/secret" novalidate autocomplete="off" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            input type="hidden" name="action" value="set";
            (text_field(&fc, "secret", t.line_secret, "", "password", true, Some(t.line_secret_hint)))
            div { button type="submit" { @if s.stored { (t.line_replace) } @else { (t.line_set) } } }
        }
        @if s.stored {
            form.inline-form method="post" action="/partners/line/secret" {
                input type="hidden" name="csrf" value=(ctx.csrf());
                input type="hidden" name="action" value="clear";
                p.hint { (t.line_clear_hint) }
                div { button.secondary type="submit" { (t.line_clear) } }
            }
        }
    };
    Ok(page(ctx, t.line_title, body, status))
}

pub async fn line_secret_page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> WebResult<Response> {
    line_view(&state, &ctx, &headers, &no_problems(), StatusCode::OK).await
}

pub async fn line_secret(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let result = match value(&pairs, "action").as_str() {
        "clear" => reg::clear_line_secret(state.store(), &v.login)
            .await
            .map(|_| "clear"),
        "set" => reg::set_line_secret(state.store(), &value(&pairs, "secret"), &v.login)
            .await
            .map(|_| "set"),
        other => Err(PartnersError::Invalid(Problems(vec![Problem::new(
            "action",
            format!("「{other}」は操作ではありません（set, clear）"),
            format!("\"{other}\" is not an action (set, clear)"),
        )]))),
    };
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/partners/line/secret?done={done}")).into_response()),
        Err(PartnersError::Invalid(p)) => {
            line_view(&state, &ctx, &headers, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

// ----- downloads -----

pub async fn export_menu(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    export_list(&state, &ctx, svc::PartnerTable::Menu).await
}

pub async fn export_teams(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    export_list(&state, &ctx, svc::PartnerTable::Teams).await
}

pub async fn export_demonstrations(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    export_list(&state, &ctx, svc::PartnerTable::Demonstrations).await
}

pub async fn export_pr_plans(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    export_list(&state, &ctx, svc::PartnerTable::PrPlans).await
}

/// Links the read-only pages show to this part's forms: "register" for the
/// desk, the LINE settings for administrators.
pub fn demonstration_actions(ctx: &Ctx) -> Markup {
    let t = rt(ctx.lang);
    html! {
        @if is_desk_ctx(ctx) { p { a.button href="/partners/demonstrations/new" { (t.demo_new) } } }
    }
}

pub fn pr_actions(ctx: &Ctx) -> Markup {
    let t = rt(ctx.lang);
    let admin = ctx
        .user()
        .is_some_and(|u| u.role == citykpi_domain::org::Role::Admin);
    html! {
        @if is_desk_ctx(ctx) || admin {
            p {
                @if is_desk_ctx(ctx) { a.button href="/partners/pr/plans/new" { (t.pr_new) } }
                @if admin { " " a href="/partners/line/secret" { (t.line_settings) } }
            }
        }
    }
}
