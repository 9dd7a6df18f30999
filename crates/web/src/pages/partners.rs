//! Pages and API of the partnerships area: the public member
//! registration and inquiry forms, the public member directory, the staff
//! review of registrations, the one-stop desk's inquiries and the proposal
//! desk. The routes and their access rules live here, joined to the core ones
//! by `access::all_routes`; everything is done by `citykpi_app::partners`.
//!
//! Public forms have no session, so they carry the pre-session CSRF token the
//! login form uses, a honeypot field, a per-address rate limit and a small
//! body limit. All output goes through maud, which escapes it.

pub mod intake;
pub mod menu_public;
pub mod outreach;
pub mod registry;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use citykpi_app::partners::{self as svc, PartnersError, Viewer, is_desk};
use citykpi_domain::org::Role;
use citykpi_domain::partner::desk::{
    Channel, Inquiry, InquiryCategory, InquiryForm, InquiryStatus,
};
use citykpi_domain::partner::member::{
    Member, MemberForm, MemberStatus, OrgSize, OrgType, PublicField,
};
use citykpi_domain::partner::projects::TeamForm;
use citykpi_domain::partner::proposal::{Criterion, MAX_SCORE, Proposal, ProposalStage};
use citykpi_domain::partner::{Problem, Problems, SdgGoal};
use citykpi_store::{InquiryFilter, MemberFilter, Page as ListPage};
use maud::{Markup, html};
use serde_json::json;

use crate::AppState;
use crate::access::{Access, RouteRule};
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, field_error, render};
use crate::session::{PRE_SESSION_COOKIE, cookie, random_token, set_cookie};

use crate::extract::{Form, Json, Path};
use Role::*;

/// The one-stop desk: the Mayor's Office and the administrators.
pub const DESK: &[Role] = &[Admin, StrategyOffice];
/// Who may write in an inquiry's history (the service also checks the routing).
pub const RESPONDERS: &[Role] = &[Admin, StrategyOffice, DepartmentEditor];

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteRule {
    RouteRule {
        method,
        path,
        access,
    }
}

/// This area's routes with the roles they admit.
pub const ROUTES: &[RouteRule] = &[
    r("GET", "/partners/join", Access::Public),
    r("POST", "/partners/join", Access::Public),
    r("GET", "/partners/join/thanks", Access::Public),
    r("GET", "/partners/directory", Access::Public),
    r("GET", "/partners/inquire", Access::Public),
    r("POST", "/partners/inquire", Access::Public),
    r("GET", "/partners/inquire/thanks", Access::Public),
    r("GET", "/partners/members", Access::Roles(DESK)),
    r("GET", "/partners/members/{id}", Access::Roles(DESK)),
    r(
        "POST",
        "/partners/members/{id}/decision",
        Access::Roles(DESK),
    ),
    r("GET", "/partners/inquiries", Access::Login),
    r("POST", "/partners/inquiries", Access::Roles(DESK)),
    r("POST", "/partners/inquiries/retention", Access::Roles(DESK)),
    r("GET", "/partners/inquiries/new", Access::Roles(DESK)),
    r("GET", "/partners/inquiries/{id}", Access::Login),
    r(
        "POST",
        "/partners/inquiries/{id}/reply",
        Access::Roles(RESPONDERS),
    ),
    r(
        "POST",
        "/partners/inquiries/{id}/route",
        Access::Roles(DESK),
    ),
    r("GET", "/partners/proposals", Access::Login),
    r("GET", "/partners/proposals/{id}", Access::Login),
    r(
        "POST",
        "/partners/proposals/{id}/score",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/proposals/{id}/stage",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/proposals/{id}/attachments",
        Access::Roles(DESK),
    ),
    r("GET", "/partners/attachments/{id}", Access::Login),
    // The city's LINE official account calls this; it proves itself by the
    // X-Line-Signature over the body, which the handler checks (no session).
    r("POST", LINE_WEBHOOK, Access::Signed(LINE_SIGNATURE_HEADER)),
    r("GET", "/partners/menu", Access::Login),
    r("POST", "/partners/menu/{code}/apply", Access::Roles(DESK)),
    r("POST", "/partners/participations/{id}", Access::Roles(DESK)),
    r("GET", "/partners/demonstrations", Access::Login),
    r("GET", "/partners/pr", Access::Login),
    r("GET", "/partners/teams", Access::Login),
    r("POST", "/partners/teams", Access::Roles(DESK)),
    r("POST", "/partners/teams/{code}/log", Access::Roles(DESK)),
    r(
        "POST",
        "/api/v1/kpis/{code}/ngsi",
        Access::Roles(NGSI_WRITERS),
    ),
    r("GET", "/partners/export/members", Access::Roles(DESK)),
    r("GET", "/partners/export/inquiries", Access::Login),
    r("GET", "/partners/export/proposals", Access::Login),
    r(
        "GET",
        "/api/v1/partners/export/members",
        Access::Roles(DESK),
    ),
    r("GET", "/api/v1/partners/export/inquiries", Access::Login),
    r("GET", "/api/v1/partners/export/proposals", Access::Login),
    r("GET", "/api/v1/partners/directory", Access::Public),
    r("GET", "/api/v1/partners/members", Access::Roles(DESK)),
    r(
        "POST",
        "/api/v1/partners/members/{id}/decision",
        Access::Roles(DESK),
    ),
    r("GET", "/api/v1/partners/inquiries", Access::Login),
    r("GET", "/api/v1/partners/inquiries/{id}", Access::Login),
    r("GET", "/api/v1/partners/proposals", Access::Login),
];

/// Who may store a city data platform's measurements as KPI actuals.
pub const NGSI_WRITERS: &[Role] = &[Admin, StrategyOffice];
/// Largest NGSI-LD document accepted by the API.
pub const NGSI_BODY: usize = 8 * 1024 * 1024;

/// Where the LINE platform posts the official account's events.
pub const LINE_WEBHOOK: &str = "/partners/line/webhook";
/// The header LINE signs each webhook body in.
pub const LINE_SIGNATURE_HEADER: &str = "x-line-signature";

/// API documentation of this area, in `api::API_DOCS`'s shape.
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "GET",
        "/api/v1/partners/directory",
        "公開会員名簿（公開に同意した会員の同意した項目のみ、?q= ?page=）",
        "Public member directory (consenting members, consented fields; ?q= ?page=)",
        None,
    ),
    (
        "GET",
        "/api/v1/partners/members",
        "会員一覧（窓口用、?status= ?q= ?page=）",
        "Members for the desk (?status= ?q= ?page=)",
        None,
    ),
    (
        "POST",
        "/api/v1/partners/members/{id}/decision",
        "会員登録の承認・却下",
        "Approve or reject a registration",
        Some(
            r#"{"type":"object","required":["decision"],"properties":{"decision":{"enum":["approve","reject"]},"reason":{"type":"string"}}}"#,
        ),
    ),
    (
        "GET",
        "/api/v1/partners/inquiries",
        "相談一覧（期限超過が先、?status= ?overdue=1 ?page=）",
        "Desk inquiries, overdue first (?status= ?overdue=1 ?page=)",
        None,
    ),
    (
        "GET",
        "/api/v1/partners/inquiries/{id}",
        "相談と対応履歴",
        "An inquiry with its reply history",
        None,
    ),
    (
        "GET",
        "/api/v1/partners/proposals",
        "民間提案の一覧（?stage= ?page=）",
        "Private proposals (?stage= ?page=)",
        None,
    ),
    (
        "POST",
        "/api/v1/kpis/{code}/ngsi",
        "都市OS（NGSI-LD）のエンティティ・時系列・購読通知を本文に送り、属性の値を月または年度ごとに集計してKPIの実績値として保存（?attr= 必須、?period=month|fy ?aggregate=mean|sum|last|min|max ?area= ?unit= ?observed_at= ?dry_run=1）",
        "Send NGSI-LD entities, temporal entities or a subscription notification; the attribute's values are aggregated per month or fiscal year and stored as the KPI's actuals (?attr= required; ?period=month|fy ?aggregate=mean|sum|last|min|max ?area= ?unit= ?observed_at= ?dry_run=1)",
        Some(
            r#"{"description":"NGSI-LD JSON: an entity, an array of entities, or a Notification"}"#,
        ),
    ),
    (
        "GET",
        "/api/v1/partners/export/members",
        "会員名簿の書き出し（?format=csv|xlsx|json、窓口のみ）",
        "The member register as a file (?format=csv|xlsx|json; the desk only)",
        None,
    ),
    (
        "GET",
        "/api/v1/partners/export/inquiries",
        "相談の書き出し（扱える相談のみ、個人情報は見てよい相談だけ）",
        "Inquiries as a file (those the user handles; personal data only where allowed)",
        None,
    ),
    (
        "GET",
        "/api/v1/partners/export/proposals",
        "民間提案の書き出し（連絡先は窓口のみ）",
        "Proposals as a file (contact address for the desk only)",
        None,
    ),
];

/// Largest body of any form or request of this area: the longest text
/// fields (10,000 characters of UTF-8) fit; anything larger is refused.
pub const MAX_BODY: usize = 64 * 1024;

/// Largest upload request: one attachment plus the multipart framing.
pub const UPLOAD_BODY: usize = citykpi_domain::partner::attachment::MAX_BYTES + 64 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(intake::routes())
        .merge(menu_public::routes())
        .merge(outreach::routes())
        .merge(registry::routes())
        .route("/partners/join", get(join_form).post(join))
        .route("/partners/join/thanks", get(join_thanks))
        .route("/partners/directory", get(directory))
        .route("/partners/inquire", get(inquire_form).post(inquire))
        .route("/partners/inquire/thanks", get(inquire_thanks))
        .route("/partners/members", get(members))
        .route("/partners/members/{id}", get(member_page))
        .route("/partners/members/{id}/decision", post(decide))
        .route("/partners/inquiries", get(inquiries).post(create_inquiry))
        .route("/partners/inquiries/new", get(new_inquiry_form))
        .route("/partners/inquiries/retention", post(erase_expired))
        .route("/partners/inquiries/{id}", get(inquiry_page))
        .route("/partners/inquiries/{id}/reply", post(reply))
        .route("/partners/inquiries/{id}/route", post(route_inquiry))
        .route("/partners/proposals", get(proposals))
        .route("/partners/proposals/{id}", get(proposal_page))
        .route("/partners/proposals/{id}/score", post(score))
        .route("/partners/proposals/{id}/stage", post(move_stage))
        .route(
            "/partners/proposals/{id}/attachments",
            // Files are larger than any form: this route alone takes up to the attachment limit.
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY)),
        )
        .route("/partners/attachments/{id}", get(download))
        .route(
            LINE_WEBHOOK,
            post(line_webhook).layer(DefaultBodyLimit::max(svc::MAX_LINE_BODY)),
        )
        .route("/partners/menu", get(menu_page))
        .route("/partners/menu/{code}/apply", post(apply_to_menu))
        .route("/partners/participations/{id}", post(move_participation))
        .route("/partners/demonstrations", get(demonstrations_page))
        .route("/partners/pr", get(pr_page))
        .route("/partners/teams", get(teams_page).post(save_team))
        .route("/partners/teams/{code}/log", post(log_team))
        .route(
            "/api/v1/kpis/{code}/ngsi",
            post(api_ngsi).layer(DefaultBodyLimit::max(NGSI_BODY)),
        )
        .route("/partners/export/members", get(export_members))
        .route("/partners/export/inquiries", get(export_inquiries))
        .route("/partners/export/proposals", get(export_proposals))
        .route("/api/v1/partners/export/members", get(export_members))
        .route("/api/v1/partners/export/inquiries", get(export_inquiries))
        .route("/api/v1/partners/export/proposals", get(export_proposals))
        .route("/api/v1/partners/directory", get(api_directory))
        .route("/api/v1/partners/members", get(api_members))
        .route("/api/v1/partners/members/{id}/decision", post(api_decide))
        .route("/api/v1/partners/inquiries", get(api_inquiries))
        .route("/api/v1/partners/inquiries/{id}", get(api_inquiry))
        .route("/api/v1/partners/proposals", get(api_proposals))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

// ----- the UI text of this area -----

/// UI text of the partnership pages (kept here so the area owns its words).
pub struct PartnerText {
    pub join_title: &'static str,
    pub join_intro: &'static str,
    pub name: &'static str,
    pub org_type: &'static str,
    pub size: &'static str,
    pub size_unknown: &'static str,
    pub postal_code: &'static str,
    pub lg_code: &'static str,
    pub lg_code_hint: &'static str,
    pub address: &'static str,
    pub website: &'static str,
    pub contact_person: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub sdg_goals: &'static str,
    pub offers: &'static str,
    pub publish: &'static str,
    pub public_fields: &'static str,
    pub public_fields_hint: &'static str,
    pub honeypot: &'static str,
    pub send: &'static str,
    pub optional: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub directory_title: &'static str,
    pub directory_intro: &'static str,
    pub search: &'static str,
    pub search_button: &'static str,
    pub none_found: &'static str,
    pub results: &'static str,
    pub prev: &'static str,
    pub next: &'static str,
    pub members_title: &'static str,
    pub status: &'static str,
    pub all: &'static str,
    pub registered_at: &'static str,
    pub decision: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
    pub reason: &'static str,
    pub reason_hint: &'static str,
    pub notice_title: &'static str,
    pub decided_by: &'static str,
    pub rate_limited: &'static str,
    pub inquire_title: &'static str,
    pub inquire_intro: &'static str,
    pub inquire_thanks: &'static str,
    pub inquiries_title: &'static str,
    pub overdue: &'static str,
    pub overdue_only: &'static str,
    pub due_on: &'static str,
    pub received_on: &'static str,
    pub category: &'static str,
    pub channel: &'static str,
    pub subject: &'static str,
    pub content: &'static str,
    pub org_name: &'static str,
    pub departments: &'static str,
    pub departments_hint: &'static str,
    pub person_name: &'static str,
    pub personal_title: &'static str,
    pub personal_hidden: &'static str,
    pub personal_erased: &'static str,
    pub history: &'static str,
    pub reply_title: &'static str,
    pub move_to: &'static str,
    pub keep_status: &'static str,
    pub body: &'static str,
    pub record: &'static str,
    pub new_inquiry: &'static str,
    pub route: &'static str,
    pub save: &'static str,
    pub proposals_title: &'static str,
    pub proposer: &'static str,
    pub stage: &'static str,
    pub kpis: &'static str,
    pub rubric: &'static str,
    pub rubric_hint: &'static str,
    pub total: &'static str,
    pub score_save: &'static str,
    pub move_stage: &'static str,
    pub no_moves: &'static str,
    pub suggestions: &'static str,
    pub suggestions_none: &'static str,
    pub decision_reason: &'static str,
    pub publish_consent: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub saved: &'static str,
    pub attachments: &'static str,
    pub attach: &'static str,
    pub attach_hint: &'static str,
    pub file: &'static str,
    pub erase_expired: &'static str,
    pub erased: &'static str,
    pub area_nav: &'static str,
    pub menu_title: &'static str,
    pub menu_intro: &'static str,
    pub menu_kind: &'static str,
    pub menu_open: &'static str,
    pub menu_closed: &'static str,
    pub participations: &'static str,
    pub member: &'static str,
    pub result: &'static str,
    pub note: &'static str,
    pub none_yet: &'static str,
    pub demonstrations_title: &'static str,
    pub demonstrations_intro: &'static str,
    pub field: &'static str,
    pub area: &'static str,
    pub period: &'static str,
    pub partners: &'static str,
    pub results_col: &'static str,
    pub pr_title: &'static str,
    pub pr_intro: &'static str,
    pub section: &'static str,
    pub goal: &'static str,
    pub audience: &'static str,
    pub message: &'static str,
    pub channels: &'static str,
    pub reach: &'static str,
    pub month: &'static str,
    pub show: &'static str,
    pub teams_title: &'static str,
    pub teams_intro: &'static str,
    pub team_code: &'static str,
    pub team_name: &'static str,
    pub members_col: &'static str,
    pub member_ids_hint: &'static str,
    pub sections: &'static str,
    pub codes_hint: &'static str,
    pub team_save: &'static str,
    pub team_new: &'static str,
    pub log: &'static str,
    pub log_add: &'static str,
    pub entry_kind: &'static str,
    pub entry_on: &'static str,
    pub member_number: &'static str,
    pub record_application: &'static str,
    pub update: &'static str,
    pub download_csv: &'static str,
    pub download_xlsx: &'static str,
    pub line_unsigned: &'static str,
    pub line_bad_signature: &'static str,
    pub line_not_configured: &'static str,
    pub line_bad_body: &'static str,
}

pub const JA: PartnerText = PartnerText {
    join_title: "SDGs推進プラットフォーム 会員登録",
    join_intro: "企業・団体の皆さまの登録を受け付けています。市の担当者が内容を確認し、結果をお知らせします。",
    name: "団体名",
    org_type: "団体種別",
    size: "規模",
    size_unknown: "選択しない",
    postal_code: "郵便番号",
    lg_code: "所在地の団体コード",
    lg_code_hint: "市区町村の全国地方公共団体コード（5桁、または検査数字付き6桁）",
    address: "所在地",
    website: "ウェブサイト",
    contact_person: "担当者名",
    email: "メールアドレス",
    phone: "電話番号",
    sdg_goals: "関心のあるSDGsの目標",
    offers: "提供できること",
    publish: "会員名簿（公開）に掲載することに同意します",
    public_fields: "名簿で公開してよい項目",
    public_fields_hint: "団体名は掲載に同意した場合に公開されます。担当者名・メールアドレス・電話番号は公開しません。",
    honeypot: "この欄には何も入力しないでください",
    send: "送信する",
    optional: "任意",
    thanks_title: "登録を受け付けました",
    thanks_body: "ご登録ありがとうございます。審査の結果はメールでお知らせします。",
    directory_title: "SDGs推進プラットフォーム 会員名簿",
    directory_intro: "掲載に同意した会員を、同意した項目だけ掲載しています。",
    search: "団体名で検索",
    search_button: "検索",
    none_found: "該当する会員はいません。",
    results: "件",
    prev: "前へ",
    next: "次へ",
    members_title: "会員登録の審査",
    status: "状態",
    all: "すべて",
    registered_at: "登録日時",
    decision: "審査",
    approve: "承認する",
    reject: "却下する",
    reason: "理由・連絡事項",
    reason_hint: "却下する場合は必須です。申請者に伝えられます。",
    notice_title: "申請者への通知文",
    decided_by: "審査者",
    rate_limited: "送信が多すぎます。しばらくしてからもう一度お試しください。",
    inquire_title: "ワンストップ窓口 ご相談フォーム",
    inquire_intro: "公民連携・SDGs・実証実験などのご相談を受け付けます。担当部局におつなぎします。",
    inquire_thanks: "ご相談を受け付けました。担当からご連絡します。",
    inquiries_title: "ワンストップ窓口 相談一覧",
    overdue: "期限超過",
    overdue_only: "期限超過のみ",
    due_on: "回答期限",
    received_on: "受付日",
    category: "相談の種類",
    channel: "受付方法",
    subject: "件名",
    content: "内容",
    org_name: "団体名",
    departments: "担当部局",
    departments_hint: "部局コードをカンマ区切りで",
    person_name: "お名前",
    personal_title: "相談者の個人情報",
    personal_hidden: "個人情報は窓口と担当部局にだけ表示されます。",
    personal_erased: "保存期間を過ぎたため個人情報は消去されました",
    history: "対応履歴",
    reply_title: "対応を記録",
    move_to: "状態を進める",
    keep_status: "変更しない（メモのみ）",
    body: "回答・メモ",
    record: "記録する",
    new_inquiry: "相談を登録",
    route: "担当部局を設定",
    save: "保存",
    proposals_title: "民間提案",
    proposer: "提案者",
    stage: "段階",
    kpis: "寄与するKPI",
    rubric: "評価表",
    rubric_hint: "各項目0〜5点。計画のKPIへの寄与が第一の基準で、3点未満の提案は採択できません。",
    total: "合計（100点満点）",
    score_save: "採点を保存",
    move_stage: "段階を進める",
    no_moves: "これ以上進める段階はありません。",
    suggestions: "連携候補の会員",
    suggestions_none: "候補はいません。",
    decision_reason: "決定の理由",
    publish_consent: "結果の公表への同意",
    yes: "あり",
    no: "なし",
    saved: "保存しました。",
    attachments: "添付ファイル",
    attach: "添付する",
    attach_hint: "PDF・PNG・JPEG・Office文書・テキスト、10MBまで。ダウンロードでのみ提供します。",
    file: "ファイル",
    erase_expired: "保存期間を過ぎた個人情報を消去",
    erased: "件の相談の個人情報を消去しました。",
    area_nav: "公民連携のページ",
    menu_title: "SDGs貢献メニュー",
    menu_intro: "市が会員に提示する貢献メニューと、会員の申込・受入・成果です。各メニューは計画のKPIとSDGsの目標に結び付いています。",
    menu_kind: "種類",
    menu_open: "受付中",
    menu_closed: "受付終了",
    participations: "申込・参加",
    member: "会員",
    result: "成果",
    note: "メモ",
    none_yet: "まだありません。",
    demonstrations_title: "実証プロジェクト",
    demonstrations_intro: "重点地区で行う実証プロジェクトの一覧です（分野・段階・連携する会員・KPI）。都市OS（NGSI-LD）の測定値は「citykpi ngsi import」でKPIの実績値として取り込めます。",
    field: "分野",
    area: "地区",
    period: "期間",
    partners: "連携する会員",
    results_col: "成果",
    pr_title: "広報計画カレンダー",
    pr_intro: "全部局の広報計画（目的→対象→メッセージ→媒体→効果測定）を月ごとに表示します。",
    section: "担当課",
    goal: "目的",
    audience: "対象",
    message: "メッセージ",
    channels: "媒体",
    reach: "到達数（実績／目標）",
    month: "表示する月",
    show: "表示",
    teams_title: "プロジェクトチーム",
    teams_intro: "会員と市の課が一つの目的に取り組むチームです。目的は計画のKPIに結び付け、活動と成果を記録します。",
    team_code: "チームコード",
    team_name: "チーム名",
    members_col: "会員",
    member_ids_hint: "会員番号をカンマ区切りで",
    sections: "市の課",
    codes_hint: "コードをカンマ区切りで",
    team_save: "チームを保存",
    team_new: "チームを作成・更新",
    log: "活動と成果の記録",
    log_add: "記録する",
    entry_kind: "種類",
    entry_on: "日付",
    member_number: "会員番号",
    record_application: "申込を記録",
    update: "更新",
    download_csv: "CSVでダウンロード",
    download_xlsx: "Excelでダウンロード",
    line_unsigned: "LINEの署名（X-Line-Signature）がありません。",
    line_bad_signature: "LINEの署名（X-Line-Signature）が本文と一致しません。",
    line_not_configured: "LINE公式アカウントのチャネルシークレットが設定されていません。",
    line_bad_body: "LINEから届いた本文をJSONとして読めません",
};

pub const EN: PartnerText = PartnerText {
    join_title: "Join the SDGs partner platform",
    join_intro: "Companies and organisations may register. City staff check each registration and tell you the result.",
    name: "Organisation name",
    org_type: "Type",
    size: "Size",
    size_unknown: "Not given",
    postal_code: "Postal code",
    lg_code: "Local-government code of the address",
    lg_code_hint: "The national code of the municipality (5 digits, or 6 with the check digit)",
    address: "Address",
    website: "Website",
    contact_person: "Contact person",
    email: "E-mail",
    phone: "Phone",
    sdg_goals: "SDG goals of interest",
    offers: "What you can offer",
    publish: "I agree to be listed in the public member directory",
    public_fields: "Fields the directory may show",
    public_fields_hint: "The name is shown if you agree to be listed. The contact person, e-mail and phone are never shown.",
    honeypot: "Leave this field empty",
    send: "Send",
    optional: "optional",
    thanks_title: "Registration received",
    thanks_body: "Thank you for registering. We will tell you the result by e-mail.",
    directory_title: "SDGs partner platform: member directory",
    directory_intro: "Members who agreed to be listed, with only the fields they agreed to show.",
    search: "Search by name",
    search_button: "Search",
    none_found: "No members found.",
    results: "results",
    prev: "Previous",
    next: "Next",
    members_title: "Member registrations",
    status: "Status",
    all: "All",
    registered_at: "Registered",
    decision: "Decision",
    approve: "Approve",
    reject: "Reject",
    reason: "Reason / message",
    reason_hint: "Required to reject. The applicant is told.",
    notice_title: "Notice to the applicant",
    decided_by: "Decided by",
    rate_limited: "Too many submissions. Please try again later.",
    inquire_title: "One-stop desk: ask us",
    inquire_intro: "Questions on partnerships, SDGs or demonstrations. We pass them to the department in charge.",
    inquire_thanks: "We have received your inquiry and will contact you.",
    inquiries_title: "One-stop desk: inquiries",
    overdue: "Overdue",
    overdue_only: "Overdue only",
    due_on: "Due",
    received_on: "Received",
    category: "Category",
    channel: "Channel",
    subject: "Subject",
    content: "Content",
    org_name: "Organisation",
    departments: "Departments",
    departments_hint: "Department codes, comma separated",
    person_name: "Your name",
    personal_title: "Inquirer's personal data",
    personal_hidden: "Personal data is shown only to the desk and the departments in charge.",
    personal_erased: "Personal data was erased after the retention period",
    history: "History",
    reply_title: "Record a reply",
    move_to: "Move to",
    keep_status: "No change (note only)",
    body: "Answer / note",
    record: "Record",
    new_inquiry: "New inquiry",
    route: "Route to departments",
    save: "Save",
    proposals_title: "Private proposals",
    proposer: "Proposer",
    stage: "Stage",
    kpis: "KPIs it serves",
    rubric: "Rubric",
    rubric_hint: "0 to 5 per criterion. Contribution to the plan's KPIs comes first; below 3 a proposal cannot be adopted.",
    total: "Total (of 100)",
    score_save: "Save scores",
    move_stage: "Move stage",
    no_moves: "No further stage.",
    suggestions: "Members to involve",
    suggestions_none: "No suggestions.",
    decision_reason: "Reason of the decision",
    publish_consent: "Consent to publish the result",
    yes: "yes",
    no: "no",
    saved: "Saved.",
    attachments: "Attachments",
    attach: "Attach",
    attach_hint: "PDF, PNG, JPEG, Office documents or text, up to 10 MB. Served as downloads only.",
    file: "File",
    erase_expired: "Erase personal data past the retention period",
    erased: "inquiries had their personal data erased.",
    area_nav: "Partnership pages",
    menu_title: "SDGs contribution menu",
    menu_intro: "The menu the city offers members, with applications, acceptances and results. Each item is tied to the plan's KPIs and SDG goals.",
    menu_kind: "Kind",
    menu_open: "Open",
    menu_closed: "Closed",
    participations: "Applications",
    member: "Member",
    result: "Result",
    note: "Note",
    none_yet: "None yet.",
    demonstrations_title: "Smart-city demonstrations",
    demonstrations_intro: "Demonstration projects in the focus area (field, stage, partner members, KPIs). Measurements of the city data platform (NGSI-LD) are stored as KPI actuals with `citykpi ngsi import`.",
    field: "Field",
    area: "Area",
    period: "Period",
    partners: "Partners",
    results_col: "Results",
    pr_title: "PR plan calendar",
    pr_intro: "Every department's PR plans (goal → audience → message → channel → measured reach) by month.",
    section: "Section",
    goal: "Goal",
    audience: "Audience",
    message: "Message",
    channels: "Channels",
    reach: "Reach (actual / target)",
    month: "Month",
    show: "Show",
    teams_title: "Project teams",
    teams_intro: "Teams of members and city sections working on one goal tied to the plan's KPIs, with a log of activities and results.",
    team_code: "Team code",
    team_name: "Team name",
    members_col: "Members",
    member_ids_hint: "Member numbers, comma separated",
    sections: "City sections",
    codes_hint: "Codes, comma separated",
    team_save: "Save the team",
    team_new: "Create or update a team",
    log: "Log of activities and results",
    log_add: "Add to the log",
    entry_kind: "Kind",
    entry_on: "Date",
    member_number: "Member number",
    record_application: "Record an application",
    update: "Update",
    download_csv: "Download CSV",
    download_xlsx: "Download Excel",
    line_unsigned: "The X-Line-Signature header is missing.",
    line_bad_signature: "The X-Line-Signature does not match the body.",
    line_not_configured: "No channel secret of the LINE official account is set.",
    line_bad_body: "The body from LINE is not readable JSON",
};

pub(super) fn pt(lang: Lang) -> &'static PartnerText {
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

fn problem_text(lang: Lang, p: &Problem) -> String {
    match lang {
        Lang::Ja => p.ja.clone(),
        Lang::En => p.en.clone(),
    }
}

pub(super) fn field_message(lang: Lang, problems: &Problems, field: &str) -> Option<String> {
    let msgs: Vec<String> = problems
        .for_field(field)
        .map(|p| problem_text(lang, p))
        .collect();
    (!msgs.is_empty()).then(|| msgs.join(" "))
}

/// Every problem, each linked to its field (GOV.UK error summary).
pub(super) fn error_summary(ctx: &Ctx, problems: &Problems, labels: &[(&str, &str)]) -> Markup {
    html! {
        @if !problems.0.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 id="error-summary-title" { (ctx.t.error_summary) }
                ul {
                    @for p in &problems.0 {
                        @let label = labels.iter().find(|(f, _)| *f == p.field).map_or(p.field.as_str(), |(_, l)| *l);
                        li { a href={ "#" (p.field) } { (label) ": " (problem_text(ctx.lang, p)) } }
                    }
                }
            }
        }
    }
}

pub(super) fn with_status(mut resp: Response, status: StatusCode) -> Response {
    *resp.status_mut() = status;
    resp
}

pub(super) fn app_error(e: PartnersError) -> WebError {
    match e {
        PartnersError::Invalid(p) => WebError::BadRequest(p.to_string()),
        PartnersError::NotFound(_) => WebError::NotFound,
        PartnersError::Forbidden(_) => WebError::Forbidden,
        PartnersError::Export(m) => WebError::BadRequest(m),
        PartnersError::Store(s) => s.into(),
    }
}

pub(super) fn viewer(ctx: &Ctx) -> WebResult<Viewer> {
    let u = ctx.user().ok_or(WebError::Unauthorized)?;
    Ok(Viewer {
        login: u.login.clone(),
        role: u.role,
        department: u.department_code.clone(),
    })
}

pub(super) fn page_of(ctx: &Ctx) -> i64 {
    query_param(ctx.query.as_deref(), "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1)
}

pub(super) fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(super) fn pager<T>(ctx: &Ctx, base: &str, extra: &str, page: &ListPage<T>) -> Markup {
    let t = pt(ctx.lang);
    html! {
        nav.pager aria-label="pagination" {
            @if page.page > 1 { a href={ (base) "?page=" (page.page - 1) (extra) } rel="prev" { "← " (t.prev) } }
            " " (page.page) " / " (page.pages()) " "
            @if page.page < page.pages() { a href={ (base) "?page=" (page.page + 1) (extra) } rel="next" { (t.next) " →" } }
        }
    }
}

// ----- public forms: CSRF token, honeypot, rate limit -----

/// The honeypot: a field people never see or fill, which form-filling bots do.
pub(super) const HONEYPOT: &str = "fax_number";

/// Submissions of the public forms allowed per client address within the window.
pub const MAX_SUBMISSIONS: usize = 20;
pub const SUBMISSION_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Per (server, client address, form) submission times. Keyed by the
/// server's state so that two servers in one process count apart.
type SubmissionLog = HashMap<(usize, String, &'static str), VecDeque<Instant>>;
static SUBMISSIONS: LazyLock<Mutex<SubmissionLog>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Records a submission; false when the address is over the limit.
pub(super) fn allow_submission(state: &AppState, ip: &str, form: &'static str) -> bool {
    let Ok(mut map) = SUBMISSIONS.lock() else {
        return false;
    };
    let now = Instant::now();
    map.retain(|_, q| {
        q.back()
            .is_some_and(|t| now.duration_since(*t) < SUBMISSION_WINDOW)
    });
    let key = (
        std::ptr::from_ref(state.store()) as usize,
        ip.to_string(),
        form,
    );
    let q = map.entry(key).or_default();
    while q
        .front()
        .is_some_and(|t| now.duration_since(*t) >= SUBMISSION_WINDOW)
    {
        q.pop_front();
    }
    if q.len() >= MAX_SUBMISSIONS {
        return false;
    }
    q.push_back(now);
    true
}

pub(super) fn client_ip(connect: Option<Extension<ConnectInfo<SocketAddr>>>) -> String {
    connect
        .map(|c| c.0.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The CSRF token for a public form: the session's when logged in, else the
/// visitor's pre-session token (kept across a re-shown form, so that a tab
/// opened earlier still submits), else a new one set as a cookie.
pub(super) fn form_token(ctx: &Ctx, headers: &HeaderMap) -> (String, bool) {
    if !ctx.csrf().is_empty() {
        return (ctx.csrf().to_string(), false);
    }
    match cookie(headers, PRE_SESSION_COOKIE).filter(|t| t.len() >= 16) {
        Some(t) => (t.to_string(), false),
        None => (random_token(), true),
    }
}

pub(super) fn set_pre_session(state: &AppState, resp: &mut Response, token: &str, fresh: bool) {
    if !fresh {
        return;
    }
    let c = set_cookie(
        PRE_SESSION_COOKIE,
        token,
        Some(3600),
        state.config().secure_cookies,
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Every value of a repeated field (checkboxes).
pub(super) fn values(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

pub(super) fn value(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn member_form_of(pairs: &[(String, String)]) -> MemberForm {
    MemberForm {
        name: value(pairs, "name"),
        org_type: value(pairs, "org_type"),
        size: value(pairs, "size"),
        postal_code: value(pairs, "postal_code"),
        lg_code: value(pairs, "lg_code"),
        address: value(pairs, "address"),
        website: value(pairs, "website"),
        contact_person: value(pairs, "contact_person"),
        email: value(pairs, "email"),
        phone: value(pairs, "phone"),
        sdg_goals: values(pairs, "sdg_goals"),
        offers: value(pairs, "offers"),
        publish: value(pairs, "publish") == "1",
        public_fields: values(pairs, "public_fields"),
    }
}

/// What every field of one form shares: its problems and the language.
pub(super) struct FormCtx<'a> {
    pub(super) problems: &'a Problems,
    pub(super) lang: Lang,
}

pub(super) fn text_field(
    fc: &FormCtx<'_>,
    id: &str,
    label: &str,
    value: &str,
    kind: &str,
    required: bool,
    hint: Option<&str>,
) -> Markup {
    let (problems, lang) = (fc.problems, fc.lang);
    let msg = field_message(lang, problems, id);
    let described = match (hint.is_some(), msg.is_some()) {
        (true, true) => format!("{id}-hint {id}-error"),
        (true, false) => format!("{id}-hint"),
        (false, true) => format!("{id}-error"),
        (false, false) => String::new(),
    };
    html! {
        div class=[msg.as_ref().map(|_| "field-error")] {
            label for=(id) { (label) @if !required { " （" (pt(lang).optional) "）" } }
            @if let Some(h) = hint { span.hint id={ (id) "-hint" } { (h) } }
            (field_error(id, msg.as_deref()))
            @if kind == "textarea" {
                textarea id=(id) name=(id) rows="5" aria-describedby=[(!described.is_empty()).then_some(described.as_str())] aria-invalid=[msg.as_ref().map(|_| "true")] { (value) }
            } @else {
                input type=(kind) id=(id) name=(id) value=(value) required[required] aria-describedby=[(!described.is_empty()).then_some(described.as_str())] aria-invalid=[msg.as_ref().map(|_| "true")];
            }
        }
    }
}

pub(super) fn honeypot_field(lang: Lang) -> Markup {
    html! {
        div.visually-hidden aria-hidden="true" {
            label for=(HONEYPOT) { (pt(lang).honeypot) }
            input type="text" id=(HONEYPOT) name=(HONEYPOT) value="" tabindex="-1" autocomplete="off";
        }
    }
}

fn join_view(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    form: &MemberForm,
    problems: &Problems,
    status: StatusCode,
) -> Response {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let (token, fresh) = form_token(ctx, headers);
    let labels = [
        ("name", t.name),
        ("org_type", t.org_type),
        ("size", t.size),
        ("postal_code", t.postal_code),
        ("lg_code", t.lg_code),
        ("address", t.address),
        ("website", t.website),
        ("contact_person", t.contact_person),
        ("email", t.email),
        ("phone", t.phone),
        ("sdg_goals", t.sdg_goals),
        ("offers", t.offers),
        ("public_fields", t.public_fields),
    ];
    let body = html! {
        h1 { (t.join_title) }
        p.lead { (t.join_intro) }
        (error_summary(ctx, problems, &labels))
        form.stack method="post" action="/partners/join" novalidate {
            input type="hidden" name="csrf" value=(token);
            (text_field(&FormCtx { problems, lang }, "name", t.name, &form.name, "text", true, None))
            @let msg = field_message(lang, problems, "org_type");
            div class=[msg.as_ref().map(|_| "field-error")] {
                label for="org_type" { (t.org_type) }
                (field_error("org_type", msg.as_deref()))
                select id="org_type" name="org_type" {
                    option value="" { "—" }
                    @for o in OrgType::ALL { option value=(o.code()) selected[form.org_type == o.code()] { (label!(lang, o)) } }
                }
            }
            @let msg = field_message(lang, problems, "size");
            div class=[msg.as_ref().map(|_| "field-error")] {
                label for="size" { (t.size) " （" (t.optional) "）" }
                (field_error("size", msg.as_deref()))
                select id="size" name="size" {
                    option value="" { (t.size_unknown) }
                    @for o in OrgSize::ALL { option value=(o.code()) selected[form.size == o.code()] { (label!(lang, o)) } }
                }
            }
            (text_field(&FormCtx { problems, lang }, "postal_code", t.postal_code, &form.postal_code, "text", false, None))
            (text_field(&FormCtx { problems, lang }, "lg_code", t.lg_code, &form.lg_code, "text", true, Some(t.lg_code_hint)))
            (text_field(&FormCtx { problems, lang }, "address", t.address, &form.address, "text", true, None))
            (text_field(&FormCtx { problems, lang }, "website", t.website, &form.website, "url", false, None))
            (text_field(&FormCtx { problems, lang }, "contact_person", t.contact_person, &form.contact_person, "text", true, None))
            (text_field(&FormCtx { problems, lang }, "email", t.email, &form.email, "email", true, None))
            (text_field(&FormCtx { problems, lang }, "phone", t.phone, &form.phone, "tel", false, None))
            @let msg = field_message(lang, problems, "sdg_goals");
            fieldset id="sdg_goals" class=[msg.as_ref().map(|_| "field-error")] {
                legend { (t.sdg_goals) }
                (field_error("sdg_goals", msg.as_deref()))
                @for g in SdgGoal::all() {
                    @let id = format!("sdg-{}", g.number());
                    div {
                        input type="checkbox" id=(id) name="sdg_goals" value=(g.number()) checked[form.sdg_goals.iter().any(|v| v == &g.number().to_string())];
                        label for=(id) { (g.number()) ". " (label!(lang, g)) }
                    }
                }
            }
            (text_field(&FormCtx { problems, lang }, "offers", t.offers, &form.offers, "textarea", false, None))
            div {
                input type="checkbox" id="publish" name="publish" value="1" checked[form.publish];
                label for="publish" { (t.publish) }
            }
            @let msg = field_message(lang, problems, "public_fields");
            fieldset id="public_fields" class=[msg.as_ref().map(|_| "field-error")] {
                legend { (t.public_fields) }
                span.hint { (t.public_fields_hint) }
                (field_error("public_fields", msg.as_deref()))
                @for f in PublicField::ALL {
                    @let id = format!("pf-{}", f.code());
                    div {
                        input type="checkbox" id=(id) name="public_fields" value=(f.code()) checked[form.public_fields.iter().any(|v| v == f.code())];
                        label for=(id) { (label!(lang, f)) }
                    }
                }
            }
            (honeypot_field(lang))
            div { button type="submit" { (t.send) } }
        }
    };
    let mut resp = with_status(
        render(
            ctx,
            Page {
                title: t.join_title,
                nav: Nav::Public,
                body,
            },
        ),
        status,
    );
    set_pre_session(state, &mut resp, &token, fresh);
    resp
}

pub async fn join_form(State(state): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    let form = MemberForm {
        publish: true,
        ..MemberForm::default()
    };
    join_view(
        &state,
        &ctx,
        &headers,
        &form,
        &Problems(Vec::new()),
        StatusCode::OK,
    )
}

pub async fn join(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let form = member_form_of(&pairs);
    if !allow_submission(&state, &client_ip(connect), "join") {
        let p = Problems(vec![Problem::new("name", JA.rate_limited, EN.rate_limited)]);
        let mut resp = join_view(
            &state,
            &ctx,
            &headers,
            &form,
            &p,
            StatusCode::TOO_MANY_REQUESTS,
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
        return Ok(resp);
    }
    // A filled honeypot is a bot: it is told "thank you" and nothing is stored.
    if !value(&pairs, HONEYPOT).is_empty() {
        return Ok(Redirect::to("/partners/join/thanks").into_response());
    }
    match svc::register_member(state.store(), &form).await {
        Ok(_) => Ok(Redirect::to("/partners/join/thanks").into_response()),
        Err(PartnersError::Invalid(p)) => Ok(join_view(
            &state,
            &ctx,
            &headers,
            &form,
            &p,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(app_error(e)),
    }
}

pub async fn join_thanks(ctx: Ctx) -> Response {
    let t = pt(ctx.lang);
    let body = html! {
        h1 { (t.thanks_title) }
        div.notice.success role="status" { p { (t.thanks_body) } }
        p { a href="/partners/directory" { (t.directory_title) } }
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

/// A website shown as text without its scheme: pages link to no other host
/// (the closed network rule), and a reader can still see where it is.
fn site_text(url: &str) -> String {
    url.trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

pub async fn directory(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let q = query_param(ctx.query.as_deref(), "q").unwrap_or_default();
    let page = svc::directory(state.store(), &q, page_of(&ctx))
        .await
        .map_err(app_error)?;
    let extra = if q.is_empty() {
        String::new()
    } else {
        format!("&q={}", enc(&q))
    };
    let body = html! {
        h1 { (t.directory_title) }
        p.lead { (t.directory_intro) }
        form.inline-form method="get" action="/partners/directory" role="search" {
            div { label for="q" { (t.search) } input type="search" id="q" name="q" value=(q); }
            div { button.secondary type="submit" { (t.search_button) } }
        }
        p.muted { (page.total) " " (t.results) }
        @if page.items.is_empty() { p { (t.none_found) } } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t.name) } th scope="col" { (t.org_type) } th scope="col" { (t.size) }
                    th scope="col" { (t.address) } th scope="col" { (t.sdg_goals) } th scope="col" { (t.offers) } th scope="col" { (t.website) }
                } }
                tbody { @for m in &page.items { tr {
                    td { (m.name) }
                    td { @if let Some(o) = m.org_type { (label!(lang, o)) } }
                    td { @if let Some(s) = m.size { (label!(lang, s)) } }
                    td { @if let Some(a) = &m.address { (a) } }
                    td { @for g in &m.sdg_goals { span.tag title=(label!(lang, g)) { (g.number()) } " " } }
                    td { @if let Some(o) = &m.offers { (o) } }
                    td { @if let Some(w) = &m.website { (site_text(w)) } }
                } } }
            } }
        }
        (pager(&ctx, "/partners/directory", &extra, &page))
    };
    Ok(render(
        &ctx,
        Page {
            title: t.directory_title,
            nav: Nav::Public,
            body,
        },
    ))
}

// ----- public inquiry form -----

fn inquiry_form_of(pairs: &[(String, String)]) -> InquiryForm {
    InquiryForm {
        category: value(pairs, "category"),
        channel: value(pairs, "channel"),
        org_name: value(pairs, "org_name"),
        member_id: None,
        subject: value(pairs, "subject"),
        content: value(pairs, "content"),
        person_name: value(pairs, "person_name"),
        email: value(pairs, "email"),
        phone: value(pairs, "phone"),
        departments: value(pairs, "departments"),
        due_on: value(pairs, "due_on"),
    }
}

fn category_select(lang: Lang, selected: &str, problems: &Problems) -> Markup {
    let t = pt(lang);
    let msg = field_message(lang, problems, "category");
    html! {
        div class=[msg.as_ref().map(|_| "field-error")] {
            label for="category" { (t.category) }
            (field_error("category", msg.as_deref()))
            select id="category" name="category" {
                option value="" { "—" }
                @for c in InquiryCategory::ALL { option value=(c.code()) selected[selected == c.code()] { (label!(lang, c)) } }
            }
        }
    }
}

fn inquire_view(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    form: &InquiryForm,
    problems: &Problems,
    status: StatusCode,
) -> Response {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let (token, fresh) = form_token(ctx, headers);
    let labels = [
        ("category", t.category),
        ("org_name", t.org_name),
        ("subject", t.subject),
        ("content", t.content),
        ("person_name", t.person_name),
        ("email", t.email),
        ("phone", t.phone),
    ];
    let body = html! {
        h1 { (t.inquire_title) }
        p.lead { (t.inquire_intro) }
        (error_summary(ctx, problems, &labels))
        form.stack method="post" action="/partners/inquire" novalidate {
            input type="hidden" name="csrf" value=(token);
            (category_select(lang, &form.category, problems))
            (text_field(&FormCtx { problems, lang }, "org_name", t.org_name, &form.org_name, "text", false, None))
            (text_field(&FormCtx { problems, lang }, "subject", t.subject, &form.subject, "text", true, None))
            (text_field(&FormCtx { problems, lang }, "content", t.content, &form.content, "textarea", true, None))
            (text_field(&FormCtx { problems, lang }, "person_name", t.person_name, &form.person_name, "text", true, None))
            (text_field(&FormCtx { problems, lang }, "email", t.email, &form.email, "email", false, None))
            (text_field(&FormCtx { problems, lang }, "phone", t.phone, &form.phone, "tel", false, None))
            (honeypot_field(lang))
            div { button type="submit" { (t.send) } }
        }
    };
    let mut resp = with_status(
        render(
            ctx,
            Page {
                title: t.inquire_title,
                nav: Nav::Public,
                body,
            },
        ),
        status,
    );
    set_pre_session(state, &mut resp, &token, fresh);
    resp
}

pub async fn inquire_form(State(state): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    inquire_view(
        &state,
        &ctx,
        &headers,
        &InquiryForm::default(),
        &Problems(Vec::new()),
        StatusCode::OK,
    )
}

pub async fn inquire(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let mut form = inquiry_form_of(&pairs);
    // The public form routes nothing and sets no due date: the desk does.
    form.departments.clear();
    form.due_on.clear();
    if !allow_submission(&state, &client_ip(connect), "inquire") {
        let p = Problems(vec![Problem::new(
            "subject",
            JA.rate_limited,
            EN.rate_limited,
        )]);
        let mut resp = inquire_view(
            &state,
            &ctx,
            &headers,
            &form,
            &p,
            StatusCode::TOO_MANY_REQUESTS,
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
        return Ok(resp);
    }
    if !value(&pairs, HONEYPOT).is_empty() {
        return Ok(Redirect::to("/partners/inquire/thanks").into_response());
    }
    match svc::create_inquiry(state.store(), &form, None).await {
        Ok(_) => Ok(Redirect::to("/partners/inquire/thanks").into_response()),
        Err(PartnersError::Invalid(p)) => Ok(inquire_view(
            &state,
            &ctx,
            &headers,
            &form,
            &p,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(app_error(e)),
    }
}

pub async fn inquire_thanks(ctx: Ctx) -> Response {
    let t = pt(ctx.lang);
    let body = html! {
        h1 { (t.inquire_title) }
        div.notice.success role="status" { p { (t.inquire_thanks) } }
    };
    render(
        &ctx,
        Page {
            title: t.inquire_title,
            nav: Nav::Public,
            body,
        },
    )
}

// ----- staff: registrations -----

pub async fn members(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let q = query_param(ctx.query.as_deref(), "q").unwrap_or_default();
    let status_code =
        query_param(ctx.query.as_deref(), "status").unwrap_or_else(|| "pending".into());
    let status = MemberStatus::parse(&status_code);
    let filter = MemberFilter {
        status,
        q: q.clone(),
        page: page_of(&ctx),
        per_page: svc::PAGE_SIZE,
    };
    let page = svc::members(state.store(), &filter)
        .await
        .map_err(app_error)?;
    let extra = format!("&status={}&q={}", enc(&status_code), enc(&q));
    let body = html! {
        (area_nav(&ctx, ""))
        h1 { (t.members_title) }
        form.inline-form method="get" action="/partners/members" {
            div {
                label for="status" { (t.status) }
                select id="status" name="status" {
                    option value="all" selected[status.is_none()] { (t.all) }
                    @for s in MemberStatus::ALL { option value=(s.code()) selected[status == Some(*s)] { (label!(lang, s)) } }
                }
            }
            div { label for="q" { (t.search) } input type="search" id="q" name="q" value=(q); }
            div { button.secondary type="submit" { (t.search_button) } }
        }
        p.muted { (page.total) " " (t.results) }
        (download_links(lang, svc::PartnerTable::Members))
        div.table-wrap { table {
            thead { tr { th scope="col" { (t.name) } th scope="col" { (t.org_type) } th scope="col" { (t.address) } th scope="col" { (t.status) } th scope="col" { (t.registered_at) } } }
            tbody { @for m in &page.items { tr {
                td { a href={ "/partners/members/" (m.id) } { (m.org.name) } }
                td { (label!(lang, m.org.org_type)) }
                td { (m.org.address) }
                td { (label!(lang, m.status)) }
                td { (citykpi_domain::jst::display(&m.registered_at)) }
            } } }
        } }
        (pager(&ctx, "/partners/members", &extra, &page))
    };
    Ok(render(
        &ctx,
        Page {
            title: t.members_title,
            nav: Nav::Partners,
            body,
        },
    ))
}

fn member_view(
    ctx: &Ctx,
    m: &Member,
    problems: &Problems,
    reason: &str,
    status: StatusCode,
) -> Response {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let decided = query_param(ctx.query.as_deref(), "decided").is_some();
    let body = html! {
        p { a href="/partners/members" { "← " (t.members_title) } }
        h1 { (m.org.name) }
        (error_summary(ctx, problems, &[("reason", t.reason), ("status", t.status)]))
        @if decided && problems.0.is_empty() { div.notice.success role="status" { (t.saved) } }
        dl.fields {
            dt { (t.status) } dd { (label!(lang, m.status)) }
            dt { (t.org_type) } dd { (label!(lang, m.org.org_type)) }
            dt { (t.size) } dd { @if let Some(s) = m.org.size { (label!(lang, s)) } }
            dt { (t.address) } dd { (m.org.postal_code) " " (m.org.address) " (" (m.org.lg_code) ")" }
            dt { (t.website) } dd { (site_text(&m.org.website)) }
            dt { (t.contact_person) } dd { (m.contact.person) }
            dt { (t.email) } dd { (m.contact.email) }
            dt { (t.phone) } dd { (m.contact.phone) }
            dt { (t.sdg_goals) } dd { @for g in &m.sdg_goals { span.tag { (g.number()) ". " (label!(lang, g)) } " " } }
            dt { (t.offers) } dd { (m.offers) }
            dt { (t.publish) } dd { @if m.consent.publish { (t.yes) ": " @for f in &m.consent.fields { (label!(lang, f)) " " } } @else { (t.no) } }
            dt { (t.registered_at) } dd { (citykpi_domain::jst::display(&m.registered_at)) }
            @if let Some(by) = &m.decided_by { dt { (t.decided_by) } dd { (by) " " (m.decided_at.clone().unwrap_or_default()) } }
            @if !m.decision_reason.is_empty() { dt { (t.reason) } dd { (m.decision_reason) } }
        }
        @if m.status == MemberStatus::Pending {
            h2 { (t.decision) }
            @let msg = field_message(lang, problems, "reason");
            form.stack method="post" action={ "/partners/members/" (m.id) "/decision" } {
                input type="hidden" name="csrf" value=(ctx.csrf());
                div class=[msg.as_ref().map(|_| "field-error")] {
                    label for="reason" { (t.reason) }
                    span.hint id="reason-hint" { (t.reason_hint) }
                    (field_error("reason", msg.as_deref()))
                    textarea id="reason" name="reason" rows="3" aria-describedby="reason-hint" { (reason) }
                }
                div {
                    button type="submit" name="decision" value="approve" { (t.approve) }
                    " "
                    button.secondary type="submit" name="decision" value="reject" { (t.reject) }
                }
            }
        } @else {
            h2 { (t.notice_title) }
            pre { (citykpi_domain::partner::member::decision_notice(m)) }
        }
    };
    with_status(
        render(
            ctx,
            Page {
                title: &m.org.name,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    )
}

pub async fn member_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let m = svc::member(state.store(), id).await.map_err(app_error)?;
    Ok(member_view(
        &ctx,
        &m,
        &Problems(Vec::new()),
        "",
        StatusCode::OK,
    ))
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let reason = value(&pairs, "reason");
    let reject = value(&pairs, "decision") == "reject";
    match svc::decide_member(state.store(), id, reject, &reason, &actor).await {
        Ok(_) => Ok(Redirect::to(&format!("/partners/members/{id}?decided=1")).into_response()),
        Err(PartnersError::Invalid(p)) => {
            let m = svc::member(state.store(), id).await.map_err(app_error)?;
            Ok(member_view(
                &ctx,
                &m,
                &p,
                &reason,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(e) => Err(app_error(e)),
    }
}

// ----- staff: the desk -----

fn inquiry_filter(ctx: &Ctx) -> InquiryFilter {
    let q = ctx.query.as_deref();
    InquiryFilter {
        status: query_param(q, "status").and_then(|s| InquiryStatus::parse(&s)),
        overdue_only: query_param(q, "overdue").is_some_and(|v| v == "1"),
        q: query_param(q, "q").unwrap_or_default(),
        page: page_of(ctx),
        per_page: svc::PAGE_SIZE,
        ..InquiryFilter::new(svc::today())
    }
}

pub async fn inquiries(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let v = viewer(&ctx)?;
    let filter = inquiry_filter(&ctx);
    let today = filter.today;
    let extra = format!(
        "&status={}&overdue={}&q={}",
        filter.status.map_or("", |s| s.code()),
        if filter.overdue_only { "1" } else { "" },
        enc(&filter.q)
    );
    let page = svc::inquiries(state.store(), &v, filter.clone())
        .await
        .map_err(app_error)?;
    let body = html! {
        (area_nav(&ctx, ""))
        h1 { (t.inquiries_title) }
        (download_links(lang, svc::PartnerTable::Inquiries))
        @if let Some(n) = query_param(ctx.query.as_deref(), "erased") { div.notice.success role="status" { (n) " " (t.erased) } }
        @if is_desk(v.role) {
            p { a.button href="/partners/inquiries/new" { (t.new_inquiry) } }
            form.inline-form method="post" action="/partners/inquiries/retention" {
                input type="hidden" name="csrf" value=(ctx.csrf());
                div { button.secondary type="submit" { (t.erase_expired) } }
            }
        }
        form.inline-form method="get" action="/partners/inquiries" {
            div {
                label for="status" { (t.status) }
                select id="status" name="status" {
                    option value="" { (t.all) }
                    @for s in InquiryStatus::ALL { option value=(s.code()) selected[filter.status == Some(*s)] { (label!(lang, s)) } }
                }
            }
            div { input type="checkbox" id="overdue" name="overdue" value="1" checked[filter.overdue_only]; label for="overdue" { (t.overdue_only) } }
            div { label for="q" { (t.search_button) } input type="search" id="q" name="q" value=(filter.q); }
            div { button.secondary type="submit" { (t.search_button) } }
        }
        p.muted { (page.total) " " (t.results) }
        div.table-wrap { table {
            thead { tr { th scope="col" { (t.due_on) } th scope="col" { (t.subject) } th scope="col" { (t.org_name) } th scope="col" { (t.category) } th scope="col" { (t.status) } th scope="col" { (t.departments) } th scope="col" { (t.received_on) } } }
            tbody { @for i in &page.items { tr {
                td { (i.due_on) @if i.is_overdue(today) { " " span.status.status-behind { (t.overdue) } } }
                td { a href={ "/partners/inquiries/" (i.id) } { (i.subject) } }
                td { (i.org_name) }
                td { (label!(lang, i.category)) }
                td { (label!(lang, i.status)) }
                td { (i.departments.join(", ")) }
                td { (i.received_on) }
            } } }
        } }
        (pager(&ctx, "/partners/inquiries", &extra, &page))
    };
    Ok(render(
        &ctx,
        Page {
            title: t.inquiries_title,
            nav: Nav::Partners,
            body,
        },
    ))
}

fn new_inquiry_view(
    ctx: &Ctx,
    form: &InquiryForm,
    problems: &Problems,
    status: StatusCode,
) -> Response {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let labels = [
        ("category", t.category),
        ("channel", t.channel),
        ("subject", t.subject),
        ("content", t.content),
        ("email", t.email),
        ("phone", t.phone),
        ("departments", t.departments),
        ("due_on", t.due_on),
    ];
    let msg = field_message(lang, problems, "channel");
    let body = html! {
        h1 { (t.new_inquiry) }
        (error_summary(ctx, problems, &labels))
        form.stack method="post" action="/partners/inquiries" novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf());
            (category_select(lang, &form.category, problems))
            div class=[msg.as_ref().map(|_| "field-error")] {
                label for="channel" { (t.channel) }
                (field_error("channel", msg.as_deref()))
                select id="channel" name="channel" {
                    @for c in Channel::ALL { option value=(c.code()) selected[form.channel == c.code()] { (label!(lang, c)) } }
                }
            }
            (text_field(&FormCtx { problems, lang }, "org_name", t.org_name, &form.org_name, "text", false, None))
            (text_field(&FormCtx { problems, lang }, "subject", t.subject, &form.subject, "text", true, None))
            (text_field(&FormCtx { problems, lang }, "content", t.content, &form.content, "textarea", true, None))
            (text_field(&FormCtx { problems, lang }, "person_name", t.person_name, &form.person_name, "text", false, None))
            (text_field(&FormCtx { problems, lang }, "email", t.email, &form.email, "email", false, None))
            (text_field(&FormCtx { problems, lang }, "phone", t.phone, &form.phone, "tel", false, None))
            (text_field(&FormCtx { problems, lang }, "departments", t.departments, &form.departments, "text", false, Some(t.departments_hint)))
            (text_field(&FormCtx { problems, lang }, "due_on", t.due_on, &form.due_on, "date", false, None))
            div { button type="submit" { (t.save) } }
        }
    };
    with_status(
        render(
            ctx,
            Page {
                title: t.new_inquiry,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    )
}

/// Erases the personal fields of inquiries closed longer ago than the
/// retention period (one audit row per inquiry).
pub async fn erase_expired(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let ids = svc::erase_expired(state.store(), &actor)
        .await
        .map_err(app_error)?;
    Ok(Redirect::to(&format!("/partners/inquiries?erased={}", ids.len())).into_response())
}

pub async fn new_inquiry_form(ctx: Ctx) -> Response {
    new_inquiry_view(
        &ctx,
        &InquiryForm {
            channel: "phone".into(),
            ..InquiryForm::default()
        },
        &Problems(Vec::new()),
        StatusCode::OK,
    )
}

pub async fn create_inquiry(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let form = inquiry_form_of(&pairs);
    match svc::create_inquiry(state.store(), &form, Some(&v)).await {
        Ok(i) => Ok(Redirect::to(&format!("/partners/inquiries/{}", i.id)).into_response()),
        Err(PartnersError::Invalid(p)) => Ok(new_inquiry_view(
            &ctx,
            &form,
            &p,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(app_error(e)),
    }
}

fn inquiry_view(
    ctx: &Ctx,
    v: &Viewer,
    i: &Inquiry,
    replies: &[citykpi_domain::partner::desk::Reply],
    problems: &Problems,
    status: StatusCode,
) -> Response {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let today = svc::today();
    let sees = v.sees_personal_of(i);
    let msg_body = field_message(lang, problems, "body");
    let body = html! {
        p { a href="/partners/inquiries" { "← " (t.inquiries_title) } }
        h1 { (i.subject) }
        (error_summary(ctx, problems, &[("body", t.body), ("status", t.status), ("departments", t.departments)]))
        @if query_param(ctx.query.as_deref(), "saved").is_some() && problems.0.is_empty() { div.notice.success role="status" { (t.saved) } }
        dl.fields {
            dt { (t.status) } dd { (label!(lang, i.status)) @if i.is_overdue(today) { " " span.status.status-behind { (t.overdue) } } }
            dt { (t.category) } dd { (label!(lang, i.category)) }
            dt { (t.channel) } dd { (label!(lang, i.channel)) }
            dt { (t.org_name) } dd { (i.org_name) @if let Some(m) = i.member_id { @if is_desk(v.role) { " (" a href={ "/partners/members/" (m) } { "#" (m) } ")" } } }
            dt { (t.received_on) } dd { (i.received_on) }
            dt { (t.due_on) } dd { (i.due_on) }
            dt { (t.departments) } dd { (i.departments.join(", ")) }
            dt { (t.content) } dd { (i.content) }
        }
        h2 { (t.personal_title) }
        @if let Some(day) = i.erased_on { p.muted { (t.personal_erased) " (" (day) ")" } }
        @else if sees {
            dl.fields {
                dt { (t.person_name) } dd { (i.personal.name) }
                dt { (t.email) } dd { (i.personal.email) }
                dt { (t.phone) } dd { (i.personal.phone) }
            }
        } @else { p.muted { (t.personal_hidden) } }
        h2 { (t.history) }
        @if replies.is_empty() { p.muted { "—" } }
        ol { @for r in replies { li {
            strong { (r.at) " " (r.author) } @if let Some(s) = r.status_after { " → " (label!(lang, s)) }
            @if !r.body.is_empty() { p { (r.body) } }
        } } }
        @if i.status != InquiryStatus::Closed && RESPONDERS.contains(&v.role) {
            h2 { (t.reply_title) }
            form.stack method="post" action={ "/partners/inquiries/" (i.id) "/reply" } {
                input type="hidden" name="csrf" value=(ctx.csrf());
                div {
                    label for="status" { (t.move_to) }
                    select id="status" name="status" {
                        option value="" { (t.keep_status) }
                        @for s in i.status.next_allowed() { option value=(s.code()) { (label!(lang, s)) } }
                    }
                }
                div class=[msg_body.as_ref().map(|_| "field-error")] {
                    label for="body" { (t.body) }
                    (field_error("body", msg_body.as_deref()))
                    textarea id="body" name="body" rows="4" {}
                }
                div { button type="submit" { (t.record) } }
            }
        }
        @if is_desk(v.role) {
            h2 { (t.route) }
            form.inline-form method="post" action={ "/partners/inquiries/" (i.id) "/route" } {
                input type="hidden" name="csrf" value=(ctx.csrf());
                div { label for="departments" { (t.departments) } input type="text" id="departments" name="departments" value=(i.departments.join(", ")); }
                div { button.secondary type="submit" { (t.save) } }
            }
        }
    };
    with_status(
        render(
            ctx,
            Page {
                title: &i.subject,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    )
}

pub async fn inquiry_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let (i, replies) = svc::inquiry(state.store(), &v, id)
        .await
        .map_err(app_error)?;
    Ok(inquiry_view(
        &ctx,
        &v,
        &i,
        &replies,
        &Problems(Vec::new()),
        StatusCode::OK,
    ))
}

async fn inquiry_error(
    state: &AppState,
    ctx: &Ctx,
    v: &Viewer,
    id: i64,
    p: &Problems,
) -> WebResult<Response> {
    let (i, replies) = svc::inquiry(state.store(), v, id)
        .await
        .map_err(app_error)?;
    Ok(inquiry_view(
        ctx,
        v,
        &i,
        &replies,
        p,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub async fn reply(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    match svc::reply_inquiry(
        state.store(),
        &v,
        id,
        &value(&pairs, "status"),
        &value(&pairs, "body"),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/partners/inquiries/{id}?saved=1")).into_response()),
        Err(PartnersError::Invalid(p)) => inquiry_error(&state, &ctx, &v, id, &p).await,
        Err(e) => Err(app_error(e)),
    }
}

pub async fn route_inquiry(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    match svc::route_inquiry(state.store(), &v, id, &value(&pairs, "departments")).await {
        Ok(_) => Ok(Redirect::to(&format!("/partners/inquiries/{id}?saved=1")).into_response()),
        Err(PartnersError::Invalid(p)) => inquiry_error(&state, &ctx, &v, id, &p).await,
        Err(e) => Err(app_error(e)),
    }
}

// ----- staff: proposals -----

pub async fn proposals(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let stage = query_param(ctx.query.as_deref(), "stage").and_then(|s| ProposalStage::parse(&s));
    let page = svc::proposals(state.store(), stage, page_of(&ctx))
        .await
        .map_err(app_error)?;
    let extra = format!("&stage={}", stage.map_or("", |s| s.code()));
    let body = html! {
        (area_nav(&ctx, ""))
        h1 { (t.proposals_title) }
        (intake::staff_links(&ctx))
        (download_links(lang, svc::PartnerTable::Proposals))
        form.inline-form method="get" action="/partners/proposals" {
            div {
                label for="stage" { (t.stage) }
                select id="stage" name="stage" {
                    option value="" { (t.all) }
                    @for s in ProposalStage::ALL { option value=(s.code()) selected[stage == Some(*s)] { (label!(lang, s)) } }
                }
            }
            div { button.secondary type="submit" { (t.search_button) } }
        }
        div.table-wrap { table {
            thead { tr { th scope="col" { (t.subject) } th scope="col" { (t.proposer) } th scope="col" { (t.stage) } th scope="col" { (t.kpis) } th scope="col" { (t.total) } } }
            tbody { @for p in &page.items { tr {
                td { a href={ "/partners/proposals/" (p.id) } { (p.title) } }
                td { (p.proposer_name) }
                td { (label!(lang, p.stage)) }
                td { (p.kpi_codes.join(", ")) }
                td.num { @if let Some(r) = p.rubric { (format!("{:.0}", r.total())) } @else { "−" } }
            } } }
        } }
        (pager(&ctx, "/partners/proposals", &extra, &page))
    };
    Ok(render(
        &ctx,
        Page {
            title: t.proposals_title,
            nav: Nav::Partners,
            body,
        },
    ))
}

async fn proposal_view(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let v = viewer(ctx)?;
    let p = svc::proposal(state.store(), id).await.map_err(app_error)?;
    let desk = is_desk(v.role);
    let files = svc::attachments(state.store(), id)
        .await
        .map_err(app_error)?;
    let city = state
        .store()
        .get_setting(citykpi_app::settings::CITY_CODE)
        .await?
        .unwrap_or_default();
    let suggestions = if desk {
        svc::suggest_for_proposal(state.store(), &p, &city)
            .await
            .map_err(app_error)?
    } else {
        Vec::new()
    };
    let mut labels: Vec<(String, &str)> = Criterion::ALL
        .iter()
        .map(|c| (format!("score_{}", c.code()), label!(lang, c)))
        .collect();
    labels.push(("reason".into(), t.reason));
    labels.push(("stage".into(), t.stage));
    labels.push(("rubric".into(), t.rubric));
    labels.push(("kpi_codes".into(), t.kpis));
    labels.push(("file".into(), t.file));
    let label_refs: Vec<(&str, &str)> = labels.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    let body = html! {
        p { a href="/partners/proposals" { "← " (t.proposals_title) } }
        h1 { (p.title) }
        (error_summary(ctx, problems, &label_refs))
        @if query_param(ctx.query.as_deref(), "saved").is_some() && problems.0.is_empty() { div.notice.success role="status" { (t.saved) } }
        dl.fields {
            dt { (t.stage) } dd { (label!(lang, p.stage)) }
            dt { (t.proposer) } dd { (p.proposer_name) }
            @if desk { (intake::details_link(lang, p.id)) }
            @if desk { dt { (t.email) } dd { (p.contact_email) } }
            dt { (t.kpis) } dd { (p.kpi_codes.join(", ")) }
            dt { (t.sdg_goals) } dd { @for g in &p.sdg_goals { span.tag { (g.number()) } " " } }
            dt { (t.content) } dd { (p.summary) }
            dt { (t.publish_consent) } dd { @if p.publish_consent { (t.yes) } @else { (t.no) } }
            @if !p.decision_reason.is_empty() { dt { (t.decision_reason) } dd { (p.decision_reason) } }
        }
        h2 { (t.rubric) }
        p.hint { (t.rubric_hint) }
        @if desk && matches!(p.stage, ProposalStage::Dialogue | ProposalStage::Review) {
            form.stack method="post" action={ "/partners/proposals/" (p.id) "/score" } {
                input type="hidden" name="csrf" value=(ctx.csrf());
                @for c in Criterion::ALL {
                    @let id = format!("score_{}", c.code());
                    @let current = p.rubric.map(|r| r.score(*c));
                    div {
                        label for=(id) { (label!(lang, c)) " (" (c.weight()) ")" }
                        (field_error(&id, field_message(lang, problems, &id).as_deref()))
                        select id=(id) name=(id) {
                            @for n in 0..=MAX_SCORE { option value=(n) selected[current == Some(n)] { (n) } }
                        }
                    }
                }
                div { button.secondary type="submit" { (t.score_save) } }
            }
        } @else {
            div.table-wrap { table { tbody {
                @for c in Criterion::ALL { tr { th scope="row" { (label!(lang, c)) " (" (c.weight()) ")" } td.num { @if let Some(r) = p.rubric { (r.score(*c)) } @else { "−" } } } }
            } } }
        }
        @if let Some(r) = p.rubric { p { strong { (t.total) ": " (format!("{:.0}", r.total())) } } }
        h2 { (t.attachments) }
        ul { @for a in &files { li {
            a href={ "/partners/attachments/" (a.id) } download { (a.file_name) } " (" (a.size) " B, " (citykpi_domain::jst::display(&a.uploaded_at)) ")"
        } } }
        @if desk {
            form.stack method="post" enctype="multipart/form-data" action={ "/partners/proposals/" (p.id) "/attachments" } {
                input type="hidden" name="csrf" value=(ctx.csrf());
                div {
                    label for="file" { (t.file) }
                    span.hint id="file-hint" { (t.attach_hint) }
                    (field_error("file", field_message(lang, problems, "file").as_deref()))
                    input type="file" id="file" name="file" aria-describedby="file-hint";
                }
                div { button.secondary type="submit" { (t.attach) } }
            }
        }
        @if desk {
            h2 { (t.move_stage) }
            @let next = p.stage.next_allowed();
            @if next.is_empty() { p.muted { (t.no_moves) } } @else {
                form.stack method="post" action={ "/partners/proposals/" (p.id) "/stage" } {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    div { label for="stage" { (t.stage) } select id="stage" name="stage" { @for s in &next { option value=(s.code()) { (label!(lang, s)) } } } }
                    div { label for="reason" { (t.reason) } (field_error("reason", field_message(lang, problems, "reason").as_deref())) textarea id="reason" name="reason" rows="3" {} }
                    div { button type="submit" { (t.move_stage) } }
                }
            }
            h2 { (t.suggestions) }
            @if suggestions.is_empty() { p.muted { (t.suggestions_none) } }
            ul { @for s in &suggestions { li {
                a href={ "/partners/members/" (s.member_id) } { (s.name) } " (" (s.score) "): "
                @for (n, r) in s.reasons.iter().enumerate() { @if n > 0 { "、" } (match lang { Lang::Ja => &r.ja, Lang::En => &r.en }) }
            } } }
        }
    };
    Ok(with_status(
        render(
            ctx,
            Page {
                title: &p.title,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    ))
}

pub async fn proposal_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    proposal_view(&state, &ctx, id, &Problems(Vec::new()), StatusCode::OK).await
}

pub async fn score(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    match svc::score_proposal(state.store(), id, &pairs, &actor).await {
        Ok(_) => Ok(Redirect::to(&format!("/partners/proposals/{id}?saved=1")).into_response()),
        Err(PartnersError::Invalid(p)) => {
            proposal_view(&state, &ctx, id, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn move_stage(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    match svc::move_proposal(
        state.store(),
        id,
        &value(&pairs, "stage"),
        &value(&pairs, "reason"),
        &actor,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/partners/proposals/{id}?saved=1")).into_response()),
        Err(PartnersError::Invalid(p)) => {
            proposal_view(&state, &ctx, id, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| {
        WebError::BadRequest(format!(
            "アップロードを読めません / cannot read the upload: {e}"
        ))
    })? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|e| {
                WebError::BadRequest(format!(
                    "アップロードを読めません / cannot read the upload: {e}"
                ))
            })?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let (name, bytes) = file.unwrap_or_default();
    match svc::add_attachment(state.store(), id, &name, &bytes, &actor).await {
        Ok(_) => Ok(Redirect::to(&format!("/partners/proposals/{id}?saved=1")).into_response()),
        Err(PartnersError::Invalid(p)) => {
            proposal_view(&state, &ctx, id, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

/// An attachment, always as a download: a generic media type, `attachment`
/// disposition and nosniff, so that no browser renders or runs what a
/// proposer uploaded.
pub async fn download(State(state): State<AppState>, Path(id): Path<i64>) -> WebResult<Response> {
    let (info, bytes) = svc::attachment(state.store(), id)
        .await
        .map_err(app_error)?;
    let ascii: String = info
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let utf8: String = form_urlencoded::byte_serialize(info.file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{utf8}");
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

// ----- JSON API -----

/// 422 with every problem by field, in both languages.
pub(super) fn problems_json(p: &Problems) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": { "status": 422, "message": p.to_string(), "problems": p.0 } })),
    )
        .into_response()
}

fn page_json<T: serde::Serialize>(page: &ListPage<T>) -> Json<serde_json::Value> {
    Json(
        json!({ "items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page }),
    )
}

pub async fn api_directory(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<serde_json::Value>> {
    let q = query_param(ctx.query.as_deref(), "q").unwrap_or_default();
    let page = svc::directory(state.store(), &q, page_of(&ctx))
        .await
        .map_err(app_error)?;
    Ok(page_json(&page))
}

pub async fn api_members(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<serde_json::Value>> {
    let q = ctx.query.as_deref();
    let filter = MemberFilter {
        status: query_param(q, "status").and_then(|s| MemberStatus::parse(&s)),
        q: query_param(q, "q").unwrap_or_default(),
        page: page_of(&ctx),
        per_page: svc::PAGE_SIZE,
    };
    let page = svc::members(state.store(), &filter)
        .await
        .map_err(app_error)?;
    Ok(page_json(&page))
}

#[derive(serde::Deserialize)]
pub struct DecisionBody {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn api_decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> WebResult<Response> {
    let actor = viewer(&ctx)?.login;
    let reject = match b.decision.as_str() {
        "approve" => false,
        "reject" => true,
        other => {
            return Ok(problems_json(&Problems(vec![Problem::new(
                "decision",
                format!("「{other}」ではなく approve か reject を指定してください"),
                format!("must be approve or reject, not \"{other}\""),
            )])));
        }
    };
    match svc::decide_member(state.store(), id, reject, &b.reason, &actor).await {
        Ok((m, notice)) => Ok(Json(json!({ "member": m, "notice": notice })).into_response()),
        Err(PartnersError::Invalid(p)) => Ok(problems_json(&p)),
        Err(e) => Err(app_error(e)),
    }
}

pub async fn api_inquiries(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<serde_json::Value>> {
    let v = viewer(&ctx)?;
    let page = svc::inquiries(state.store(), &v, inquiry_filter(&ctx))
        .await
        .map_err(app_error)?;
    Ok(page_json(&page))
}

pub async fn api_inquiry(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    let v = viewer(&ctx)?;
    let (i, replies) = svc::inquiry(state.store(), &v, id)
        .await
        .map_err(app_error)?;
    let personal_visible = v.sees_personal_of(&i);
    Ok(Json(
        json!({ "inquiry": i, "replies": replies, "personal_visible": personal_visible }),
    ))
}

pub async fn api_proposals(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<serde_json::Value>> {
    let v = viewer(&ctx)?;
    let stage = query_param(ctx.query.as_deref(), "stage").and_then(|s| ProposalStage::parse(&s));
    let mut page = svc::proposals(state.store(), stage, page_of(&ctx))
        .await
        .map_err(app_error)?;
    if !is_desk(v.role) {
        page.items = page
            .items
            .into_iter()
            .map(Proposal::without_contact)
            .collect();
    }
    Ok(page_json(&page))
}

// ----- LINE official account webhook -----

/// A JSON error of the webhook (the caller is LINE's platform, not a browser).
pub(crate) fn webhook_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "status": status.as_u16(), "message": message } })),
    )
        .into_response()
}

/// The answer to a call of a signed route that carries no signature.
pub(crate) fn unsigned(lang: Lang) -> Response {
    webhook_error(StatusCode::UNAUTHORIZED, pt(lang).line_unsigned)
}

/// `POST /partners/line/webhook`: the events of the city's LINE official
/// account. The signature over the raw body is checked by the service before
/// anything is read; each text message becomes a desk inquiry (channel LINE),
/// all in one transaction with an audit row each.
pub async fn line_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use svc::{LineError, LineWebhookError};
    let lang = crate::ctx::lang_of(&headers, None);
    let t = pt(lang);
    let signature = headers
        .get(LINE_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    match svc::line_webhook(state.store(), &body, signature).await {
        Ok(ids) => {
            if !ids.is_empty() {
                tracing::info!(count = ids.len(), "LINE messages recorded as inquiries");
            }
            (StatusCode::OK, Json(json!({ "inquiries": ids }))).into_response()
        }
        Err(LineWebhookError::Refused(e)) => match e {
            LineError::MissingSignature => webhook_error(StatusCode::UNAUTHORIZED, t.line_unsigned),
            LineError::BadSignature => {
                tracing::warn!("LINE webhook with a wrong signature refused");
                webhook_error(StatusCode::UNAUTHORIZED, t.line_bad_signature)
            }
            LineError::NotConfigured => {
                webhook_error(StatusCode::SERVICE_UNAVAILABLE, t.line_not_configured)
            }
            LineError::BadBody(detail) => webhook_error(
                StatusCode::BAD_REQUEST,
                &format!("{}: {detail}", t.line_bad_body),
            ),
        },
        Err(LineWebhookError::Partners(PartnersError::Invalid(p))) => {
            webhook_error(StatusCode::BAD_REQUEST, &p.to_string())
        }
        Err(LineWebhookError::Partners(e)) => {
            tracing::error!(error = %e, "LINE webhook could not be stored");
            webhook_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.text().error_internal,
            )
        }
    }
}

// ----- downloads: the lists as CSV / XLSX (and JSON under the API) -----

fn download_links(lang: Lang, table: svc::PartnerTable) -> Markup {
    let t = pt(lang);
    let base = format!("/partners/export/{}", table.code());
    html! {
        p.downloads {
            a href={ (base) "?format=csv" } download { (t.download_csv) }
            " · "
            a href={ (base) "?format=xlsx" } download { (t.download_xlsx) }
        }
    }
}

async fn export_list(state: &AppState, ctx: &Ctx, table: svc::PartnerTable) -> WebResult<Response> {
    use citykpi_io::{Format, HeaderLang};
    let v = viewer(ctx)?;
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
    let disposition = format!("attachment; filename=\"{}\"", file.file_name);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

pub async fn export_members(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    export_list(&state, &ctx, svc::PartnerTable::Members).await
}

pub async fn export_inquiries(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    export_list(&state, &ctx, svc::PartnerTable::Inquiries).await
}

pub async fn export_proposals(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    export_list(&state, &ctx, svc::PartnerTable::Proposals).await
}

// ----- the SDGs menu, demonstrations and the PR calendar -----

/// Links between the partnership pages (the register only for the desk).
pub(super) fn area_nav(ctx: &Ctx, current: &str) -> Markup {
    let t = pt(ctx.lang);
    let desk = ctx.user().is_some_and(|u| is_desk(u.role));
    let links: Vec<(&str, &str)> = [
        Some(("/partners/inquiries", t.inquiries_title)),
        desk.then_some(("/partners/members", t.members_title)),
        Some(("/partners/proposals", t.proposals_title)),
        Some(("/partners/menu", t.menu_title)),
        Some(("/partners/demonstrations", t.demonstrations_title)),
        Some(("/partners/teams", t.teams_title)),
        Some(("/partners/outreach", outreach::ot(ctx.lang).title)),
        Some(("/partners/pr", t.pr_title)),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        nav.subnav aria-label=(t.area_nav) {
            ul {
                @for (href, label) in links {
                    li {
                        @if href == current { a href=(href) aria-current="page" { (label) } }
                        @else { a href=(href) { (label) } }
                    }
                }
            }
        }
    }
}

pub(super) fn goal_tags(lang: Lang, goals: &[SdgGoal]) -> Markup {
    html! { @for g in goals { span.tag title=(label!(lang, g)) { (g.number()) } " " } }
}

pub(super) fn kpi_links(codes: &[String]) -> Markup {
    html! { @for (i, k) in codes.iter().enumerate() { @if i > 0 { ", " } a href={ "/kpis/" (enc(k)) } { (k) } } }
}

pub async fn menu_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    menu_view(&state, &ctx, &Problems(Vec::new()), StatusCode::OK).await
}

async fn menu_view(
    state: &AppState,
    ctx: &Ctx,
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    use citykpi_domain::partner::menu::ParticipationStatus;
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let items = svc::menu(state.store()).await.map_err(app_error)?;
    let desk = ctx.user().is_some_and(|u| is_desk(u.role));
    let (menu_suggestions, _) = desk_suggestions(state, ctx).await?;
    let saved = query_param(ctx.query.as_deref(), "saved").is_some();
    let body = html! {
        (area_nav(ctx, "/partners/menu"))
        h1 { (t.menu_title) }
        p.lead { (t.menu_intro) }
        (menu_public::staff_links(ctx, desk))
        @if saved && problems.0.is_empty() { div.notice.success role="status" { (t.saved) } }
        (error_summary(ctx, problems, &[("member_id", t.member_number), ("note", t.note), ("status", t.status), ("result", t.result), ("menu_code", t.menu_title)]))
        @if items.is_empty() { p { (t.none_yet) } }
        @for (item, parts) in &items {
            section.card id={ "menu-" (item.code) } {
                h2 { a href={ "/partners/menu-items/" (enc(&item.code)) } { (item.title) } " " span.muted { "(" (item.code) ")" } }
                dl.fields {
                    dt { (t.menu_kind) } dd { (label!(lang, item.kind)) }
                    dt { (t.status) } dd { @if item.open { (t.menu_open) } @else { (t.menu_closed) } }
                    dt { (t.kpis) } dd { (kpi_links(&item.kpi_codes)) }
                    dt { (t.sdg_goals) } dd { (goal_tags(lang, &item.sdg_goals)) }
                }
                @if !item.description.is_empty() { p { (item.description) } }
                @if desk && item.open { (suggestion_list(lang, suggestions_of(&menu_suggestions, &item.code))) }
                h3 { (t.participations) " (" (parts.len()) ")" }
                @if parts.is_empty() { p.muted { (t.none_yet) } } @else {
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { (t.member) } th scope="col" { (t.status) } th scope="col" { (t.note) } th scope="col" { (t.result) }
                            @if desk { th scope="col" { (t.move_to) } }
                        } }
                        tbody { @for (p, name) in parts { tr id={ "participation-" (p.id) } {
                            td { (name) }
                            td { (label!(lang, p.status)) }
                            td { (p.note) }
                            td { (p.result) }
                            @if desk {
                                td {
                                    @let next: Vec<&ParticipationStatus> = ParticipationStatus::ALL.iter().filter(|s| p.status.can_move_to(**s)).collect();
                                    @if !next.is_empty() {
                                        form.inline-form method="post" action={ "/partners/participations/" (p.id) } {
                                            input type="hidden" name="csrf" value=(ctx.csrf());
                                            label.visually-hidden for={ "status-" (p.id) } { (t.move_to) }
                                            select id={ "status-" (p.id) } name="status" {
                                                @for s in &next { option value=(s.code()) { (label!(lang, s)) } }
                                            }
                                            label.visually-hidden for={ "result-" (p.id) } { (t.result) }
                                            input type="text" id={ "result-" (p.id) } name="result" placeholder=(t.result);
                                            button.secondary type="submit" { (t.update) }
                                        }
                                    }
                                }
                            }
                        } } }
                    } }
                }
                @if desk && item.open {
                    form.inline-form method="post" action={ "/partners/menu/" (enc(&item.code)) "/apply" } {
                        input type="hidden" name="csrf" value=(ctx.csrf());
                        div { label for={ "member-" (item.code) } { (t.member_number) } input type="text" id={ "member-" (item.code) } name="member_id" inputmode="numeric" required; }
                        div { label for={ "note-" (item.code) } { (t.note) } input type="text" id={ "note-" (item.code) } name="note"; }
                        div { button.secondary type="submit" { (t.record_application) } }
                    }
                }
            }
        }
        (download_links(lang, svc::PartnerTable::Menu))
    };
    Ok(with_status(
        render(
            ctx,
            Page {
                title: t.menu_title,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    ))
}

pub async fn apply_to_menu(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    match svc::apply_to_menu(
        state.store(),
        &code,
        &value(&pairs, "member_id"),
        &value(&pairs, "note"),
        &v.login,
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/partners/menu?saved=1#menu-{}", enc(&code))).into_response(),
        ),
        Err(PartnersError::Invalid(p)) => {
            menu_view(&state, &ctx, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn move_participation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    match svc::move_participation(
        state.store(),
        id,
        &value(&pairs, "status"),
        &value(&pairs, "result"),
        &v.login,
    )
    .await
    {
        Ok(p) => Ok(
            Redirect::to(&format!("/partners/menu?saved=1#participation-{}", p.id)).into_response(),
        ),
        Err(PartnersError::Invalid(p)) => {
            menu_view(&state, &ctx, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn demonstrations_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    use citykpi_domain::partner::projects::DemoField;
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let list = svc::demonstrations(state.store())
        .await
        .map_err(app_error)?;
    let body = html! {
        (area_nav(&ctx, "/partners/demonstrations"))
        h1 { (t.demonstrations_title) }
        p.lead { (t.demonstrations_intro) }
        (registry::demonstration_actions(&ctx))
        (download_links(lang, svc::PartnerTable::Demonstrations))
        @if list.is_empty() { p { (t.none_yet) } }
        @for field in DemoField::ALL {
            @let of: Vec<_> = list.iter().filter(|(d, _)| d.field == *field).collect();
            @if !of.is_empty() {
                h2 id={ "field-" (field.code()) } { (t.field) "：" (label!(lang, field)) " (" (of.len()) ")" }
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { (t.subject) } th scope="col" { (t.stage) } th scope="col" { (t.area) }
                        th scope="col" { (t.period) } th scope="col" { (t.partners) } th scope="col" { (t.kpis) } th scope="col" { (t.results_col) }
                    } }
                    tbody { @for (d, partners) in &of { tr id={ "demo-" (d.code) } {
                        td { a href={ "/partners/demonstrations/" (enc(&d.code)) } { (d.title) } br; span.muted { (d.code) } }
                        td { (label!(lang, d.stage)) }
                        td { (d.area) }
                        td { (d.start) " 〜 " (d.end) }
                        td { (partners.join("、")) }
                        td { (kpi_links(&d.kpi_codes)) }
                        td { (d.results) }
                    } } }
                } }
            }
        }
    };
    Ok(render(
        &ctx,
        Page {
            title: t.demonstrations_title,
            nav: Nav::Partners,
            body,
        },
    ))
}

/// `YYYY-MM` → the first and last day of that month.
fn month_bounds(s: &str) -> Option<(citykpi_domain::partner::Day, citykpi_domain::partner::Day)> {
    use citykpi_domain::partner::Day;
    let (y, m) = s.trim().split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    let first = Day::new(y, m, 1)?;
    let next = if m == 12 {
        Day::new(y + 1, 1, 1)?
    } else {
        Day::new(y, m + 1, 1)?
    };
    Some((first, next.plus_days(-1)))
}

pub async fn pr_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let today = svc::today();
    let this_month = format!("{:04}-{:02}", today.year(), today.month());
    let asked = query_param(ctx.query.as_deref(), "month").unwrap_or_default();
    let month = if asked.trim().is_empty() {
        this_month
    } else {
        asked.trim().to_string()
    };
    let (first, last) = month_bounds(&month).ok_or_else(|| {
        WebError::BadRequest(format!(
            "「{month}」は年月（YYYY-MM）ではありません / \"{month}\" is not a month (YYYY-MM)"
        ))
    })?;
    let prev = format!(
        "{:04}-{:02}",
        first.plus_days(-1).year(),
        first.plus_days(-1).month()
    );
    let next = format!(
        "{:04}-{:02}",
        last.plus_days(1).year(),
        last.plus_days(1).month()
    );
    let plans = svc::pr_plans(state.store(), first, last)
        .await
        .map_err(app_error)?;
    let body = html! {
        (area_nav(&ctx, "/partners/pr"))
        h1 { (t.pr_title) " " (first.year()) "-" (format!("{:02}", first.month())) }
        p.lead { (t.pr_intro) }
        (registry::pr_actions(&ctx))
        (download_links(lang, svc::PartnerTable::PrPlans))
        form.inline-form method="get" action="/partners/pr" {
            div { label for="month" { (t.month) } input type="month" id="month" name="month" value=(month); }
            div { button.secondary type="submit" { (t.show) } }
        }
        nav.pager aria-label="month" {
            a href={ "/partners/pr?month=" (prev) } rel="prev" { "← " (prev) } " " a href={ "/partners/pr?month=" (next) } rel="next" { (next) " →" }
        }
        @if plans.is_empty() { p { (t.none_yet) } } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t.subject) } th scope="col" { (t.section) } th scope="col" { (t.period) } th scope="col" { (t.goal) }
                    th scope="col" { (t.audience) } th scope="col" { (t.message) } th scope="col" { (t.channels) } th scope="col" { (t.kpis) } th scope="col" { (t.reach) }
                } }
                tbody { @for p in &plans { tr id={ "pr-" (p.code) } {
                    td { a href={ "/partners/pr/plans/" (enc(&p.code)) } { (p.title) } }
                    td { (p.section_code) }
                    td { (p.start) " 〜 " (p.end) }
                    td { (p.goal) }
                    td { (p.audience) }
                    td { (p.message) }
                    td { @for (i, c) in p.channels.iter().enumerate() { @if i > 0 { "、" } (label!(lang, c)) } }
                    td { (kpi_links(&p.kpi_codes)) }
                    td.num {
                        (p.reach_actual.map_or_else(|| "−".to_string(), |v| v.to_string()))
                        " / "
                        (p.reach_target.map_or_else(|| "−".to_string(), |v| v.to_string()))
                    }
                } } }
            } }
        }
    };
    Ok(render(
        &ctx,
        Page {
            title: t.pr_title,
            nav: Nav::Partners,
            body,
        },
    ))
}

/// Members to involve, with the reasons (the desk's view: links to the register).
fn suggestion_list(
    lang: Lang,
    list: Option<&Vec<citykpi_domain::partner::matching::Suggestion>>,
) -> Markup {
    let t = pt(lang);
    html! {
        details.suggestions {
            summary { (t.suggestions) }
            @match list {
                Some(l) if !l.is_empty() => {
                    ul { @for s in l { li {
                        a href={ "/partners/members/" (s.member_id) } { (s.name) } " (" (s.score) "): "
                        @for (n, r) in s.reasons.iter().enumerate() { @if n > 0 { "、" } (match lang { Lang::Ja => &r.ja, Lang::En => &r.en }) }
                    } } }
                }
                _ => { p.muted { (t.suggestions_none) } }
            }
        }
    }
}

async fn desk_suggestions(
    state: &AppState,
    ctx: &Ctx,
) -> WebResult<(
    Vec<(String, Vec<citykpi_domain::partner::matching::Suggestion>)>,
    Vec<(String, Vec<citykpi_domain::partner::matching::Suggestion>)>,
)> {
    if !ctx.user().is_some_and(|u| is_desk(u.role)) {
        return Ok((Vec::new(), Vec::new()));
    }
    let city = state
        .store()
        .get_setting(citykpi_app::settings::CITY_CODE)
        .await?
        .unwrap_or_default();
    svc::suggest_for_menu_and_teams(state.store(), &city, 5)
        .await
        .map_err(app_error)
}

fn suggestions_of<'a>(
    all: &'a [(String, Vec<citykpi_domain::partner::matching::Suggestion>)],
    code: &str,
) -> Option<&'a Vec<citykpi_domain::partner::matching::Suggestion>> {
    all.iter().find(|(c, _)| c == code).map(|(_, l)| l)
}

// ----- project teams -----

async fn teams_view(
    state: &AppState,
    ctx: &Ctx,
    form: &TeamForm,
    problems: &Problems,
    status: StatusCode,
) -> WebResult<Response> {
    use citykpi_domain::partner::projects::TeamEntryKind;
    let t = pt(ctx.lang);
    let lang = ctx.lang;
    let teams = svc::teams(state.store()).await.map_err(app_error)?;
    let desk = ctx.user().is_some_and(|u| is_desk(u.role));
    let (_, team_suggestions) = desk_suggestions(state, ctx).await?;
    let saved = query_param(ctx.query.as_deref(), "saved").is_some();
    let today = svc::today().to_string();
    let body = html! {
        (area_nav(ctx, "/partners/teams"))
        h1 { (t.teams_title) }
        p.lead { (t.teams_intro) }
        (download_links(lang, svc::PartnerTable::Teams))
        @if saved && problems.0.is_empty() { div.notice.success role="status" { (t.saved) } }
        (error_summary(ctx, problems, &[("code", t.team_code), ("name", t.team_name), ("goal", t.goal), ("member_ids", t.members_col), ("section_codes", t.sections), ("kpi_codes", t.kpis), ("kind", t.entry_kind), ("on", t.entry_on), ("body", t.body)]))
        @if teams.is_empty() { p { (t.none_yet) } }
        @for (team, members, log) in &teams {
            section.card id={ "team-" (team.code) } {
                h2 { (team.name) " " span.muted { "(" (team.code) ")" } }
                dl.fields {
                    dt { (t.goal) } dd { (team.goal) }
                    dt { (t.kpis) } dd { (kpi_links(&team.kpi_codes)) }
                    dt { (t.members_col) } dd { (members.join("、")) }
                    dt { (t.sections) } dd { (team.section_codes.join(", ")) }
                }
                h3 { (t.log) }
                @if log.is_empty() { p.muted { (t.none_yet) } } @else {
                    ul { @for e in log { li { (e.on) " " span.tag { (label!(lang, e.kind)) } " " (e.body) " " span.muted { "(" (e.author) ")" } } } }
                }
                @if desk {
                    (suggestion_list(lang, suggestions_of(&team_suggestions, &team.code)))
                    form.inline-form method="post" action={ "/partners/teams/" (enc(&team.code)) "/log" } {
                        input type="hidden" name="csrf" value=(ctx.csrf());
                        div {
                            label for={ "kind-" (team.code) } { (t.entry_kind) }
                            select id={ "kind-" (team.code) } name="kind" {
                                @for k in TeamEntryKind::ALL { option value=(k.code()) { (label!(lang, k)) } }
                            }
                        }
                        div { label for={ "on-" (team.code) } { (t.entry_on) } input type="date" id={ "on-" (team.code) } name="on" value=(today); }
                        div { label for={ "body-" (team.code) } { (t.body) } input type="text" id={ "body-" (team.code) } name="body" required; }
                        div { button.secondary type="submit" { (t.log_add) } }
                    }
                }
            }
        }
        @if desk {
            h2 { (t.team_new) }
            form.stack method="post" action="/partners/teams" novalidate {
                input type="hidden" name="csrf" value=(ctx.csrf());
                (text_field(&FormCtx { problems, lang }, "code", t.team_code, &form.code, "text", true, None))
                (text_field(&FormCtx { problems, lang }, "name", t.team_name, &form.name, "text", true, None))
                (text_field(&FormCtx { problems, lang }, "goal", t.goal, &form.goal, "textarea", true, None))
                (text_field(&FormCtx { problems, lang }, "member_ids", t.members_col, &form.member_ids, "text", false, Some(t.member_ids_hint)))
                (text_field(&FormCtx { problems, lang }, "section_codes", t.sections, &form.section_codes, "text", false, Some(t.codes_hint)))
                (text_field(&FormCtx { problems, lang }, "kpi_codes", t.kpis, &form.kpi_codes, "text", true, Some(t.codes_hint)))
                div { button type="submit" { (t.team_save) } }
            }
        }
    };
    Ok(with_status(
        render(
            ctx,
            Page {
                title: t.teams_title,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    ))
}

pub async fn teams_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    teams_view(
        &state,
        &ctx,
        &TeamForm::default(),
        &Problems(Vec::new()),
        StatusCode::OK,
    )
    .await
}

pub async fn save_team(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let form = TeamForm {
        code: value(&pairs, "code"),
        name: value(&pairs, "name"),
        goal: value(&pairs, "goal"),
        member_ids: value(&pairs, "member_ids"),
        section_codes: value(&pairs, "section_codes"),
        kpi_codes: value(&pairs, "kpi_codes"),
    };
    match svc::save_team(state.store(), &form, &v.login).await {
        Ok(team) => Ok(
            Redirect::to(&format!("/partners/teams?saved=1#team-{}", enc(&team.code)))
                .into_response(),
        ),
        Err(PartnersError::Invalid(p)) => {
            teams_view(&state, &ctx, &form, &p, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn log_team(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    match svc::log_team(
        state.store(),
        &code,
        &value(&pairs, "kind"),
        &value(&pairs, "on"),
        &value(&pairs, "body"),
        &v.login,
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/partners/teams?saved=1#team-{}", enc(&code))).into_response(),
        ),
        Err(PartnersError::Invalid(p)) => {
            teams_view(
                &state,
                &ctx,
                &TeamForm::default(),
                &p,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

// ----- NGSI-LD measurements through the API -----

fn ngsi_error(status: StatusCode, message: String, problems: serde_json::Value) -> Response {
    (
        status,
        Json(json!({ "error": { "status": status.as_u16(), "message": message, "problems": problems } })),
    )
        .into_response()
}

/// `POST /api/v1/kpis/{code}/ngsi?attr=…`: a city data platform's NGSI-LD
/// document (entities, temporal entities, or a subscription's notification,
/// which a broker can send with an API token in its `receiverInfo`) stored
/// as the KPI's actuals through `citykpi_app::ngsi`, in one transaction
/// with an audit row. Every problem names its entity and attribute.
pub async fn api_ngsi(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    use citykpi_app::ngsi::{self, MeasurementSpec, NgsiImportError};
    use citykpi_domain::partner::ngsi::{Aggregate, Granularity};
    let v = viewer(&ctx)?;
    let q = ctx.query.as_deref();
    let param = |k: &str| query_param(q, k).filter(|s| !s.trim().is_empty());
    let Some(attribute) = param("attr") else {
        return Err(WebError::BadRequest(
            "属性（?attr=）を指定してください / give the attribute (?attr=)".into(),
        ));
    };
    let granularity = match param("period") {
        None => Granularity::Month,
        Some(p) => Granularity::parse(&p).ok_or_else(|| {
            WebError::BadRequest(format!(
                "「{p}」は集計の単位ではありません（month, fy） / not a period: month or fy"
            ))
        })?,
    };
    let aggregate = match param("aggregate") {
        None => Aggregate::Mean,
        Some(a) => Aggregate::parse(&a).ok_or_else(|| {
            WebError::BadRequest(format!(
                "「{a}」は集計方法ではありません（mean, sum, last, min, max） / not an aggregate"
            ))
        })?,
    };
    let doc = String::from_utf8(body.to_vec()).map_err(|_| {
        WebError::BadRequest("本文がUTF-8ではありません / the body is not UTF-8".into())
    })?;
    let spec = MeasurementSpec {
        kpi_code: code,
        attribute,
        area_code: param("area"),
        granularity,
        aggregate,
        unit_code: param("unit"),
        observed_at: param("observed_at"),
        source: format!("API {}", v.login),
    };
    let dry_run = param("dry_run").is_some_and(|d| d == "1" || d == "true");
    match ngsi::import_documents(state.store(), &[doc], &spec, &v.login, dry_run).await {
        Ok(outcome) => {
            if !dry_run {
                state.data_changed();
            }
            Ok((StatusCode::OK, Json(json!(outcome))).into_response())
        }
        Err(NgsiImportError::Document(e)) => {
            let problems: Vec<serde_json::Value> = e
                .0
                .iter()
                .map(|p| {
                    json!({ "at": p.at, "entity": p.entity, "attribute": p.attribute, "ja": p.ja, "en": p.en })
                })
                .collect();
            Ok(ngsi_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                e.to_string(),
                json!(problems),
            ))
        }
        Err(e @ NgsiImportError::UnknownKpi(_)) => {
            Ok(ngsi_error(StatusCode::NOT_FOUND, e.to_string(), json!([])))
        }
        Err(
            e @ (NgsiImportError::NoArea
            | NgsiImportError::NoSamples(_)
            | NgsiImportError::Unit { .. }),
        ) => Ok(ngsi_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.to_string(),
            json!([]),
        )),
        Err(NgsiImportError::Store(e)) => Err(e.into()),
        Err(e) => {
            tracing::error!(error = %e, "NGSI-LD import failed");
            Err(WebError::BadRequest(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_and_helpers() {
        assert_ne!(JA.join_title, EN.join_title);
        assert_eq!(site_text("https://example.jp/"), "example.jp");
        let pairs = vec![
            ("sdg_goals".to_string(), "3".to_string()),
            ("sdg_goals".to_string(), "7".to_string()),
            ("name".to_string(), "x".to_string()),
        ];
        assert_eq!(values(&pairs, "sdg_goals"), vec!["3", "7"]);
        assert_eq!(value(&pairs, "name"), "x");
        assert_eq!(value(&pairs, "none"), "");
        for r in ROUTES.iter().filter(|r| r.path.starts_with("/api/v1/")) {
            assert!(
                API_DOCS
                    .iter()
                    .any(|(m, p, ..)| *m == r.method && *p == r.path),
                "{} {}",
                r.method,
                r.path
            );
        }
    }
}
