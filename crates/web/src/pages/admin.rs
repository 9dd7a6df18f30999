//! Administration: the audit log browser, user passwords and the SMTP
//! server of the e-mail notices.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use citykpi_app::AppError;
use citykpi_app::audit::{AuditQuery, AuditScope};
use citykpi_domain::org::Role;
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::extract::{Form, Path};
use crate::layout::{Nav, Page, render};

/// A value shortened for a table cell (the full value is in the API).
fn short(s: &str) -> String {
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The kinds of record in the log, by name. A kind not listed shows its code.
const ENTITY_NAMES: &[(&str, &str, &str)] = &[
    ("dataset", "データ一式（取込）", "Data set (import)"),
    ("backup", "バックアップ", "Backup"),
    ("plan", "計画", "Plan"),
    ("plan_node", "計画の項目", "Plan item"),
    ("kpi", "KPI", "KPI"),
    ("observation", "実績値", "Actual value"),
    ("program", "事務事業", "Program"),
    ("link", "KPI寄与", "KPI link"),
    ("link_evidence", "エビデンス", "Evidence"),
    ("indicator", "活動・成果指標", "Indicator"),
    ("money", "事業費", "Program money"),
    ("department", "部局", "Department"),
    ("section", "課", "Section"),
    ("user", "ユーザー", "User"),
    ("smtp_settings", "メール設定", "Mail settings"),
    ("cycle", "進行管理サイクル", "Yearly cycle"),
    ("sheet", "評価シート", "Evaluation sheet"),
    ("budget_request", "予算要求", "Budget request"),
    ("ceiling", "要求上限", "Budget ceiling"),
    (
        "partner_member",
        "SDGsプラットフォーム会員",
        "SDGs platform member",
    ),
    ("partner_inquiry", "問い合わせ", "Inquiry"),
    ("partner_proposal", "民間提案", "Private proposal"),
    ("partner_menu_item", "連携メニュー", "Partnership menu item"),
    ("partner_team", "連携チーム", "Partnership team"),
    ("partner_theme", "提案テーマ", "Proposal theme"),
    ("partner_demonstration", "実証実験", "Demonstration"),
    ("partner_pr_plan", "広報計画", "PR plan"),
    ("outreach_event", "誘致イベント", "Outreach event"),
    ("outreach_lead", "誘致先", "Outreach lead"),
];

fn entity_name(lang: crate::i18n::Lang, code: &str) -> String {
    match ENTITY_NAMES.iter().find(|(c, _, _)| *c == code) {
        Some((_, ja, en)) => match lang {
            crate::i18n::Lang::Ja => (*ja).to_string(),
            crate::i18n::Lang::En => (*en).to_string(),
        },
        None => code.to_string(),
    }
}

/// The audit page's own text.
struct AuditText {
    filter: &'static str,
    key: &'static str,
    since: &'static str,
    until: &'static str,
    anyone: &'static str,
    any_kind: &'static str,
    show: &'static str,
    clear: &'static str,
    changes: &'static str,
    none: &'static str,
    jst_note: &'static str,
    scope_note: &'static str,
}

const AUDIT_JA: AuditText = AuditText {
    filter: "絞り込み",
    key: "対象のコード・キー（一部）",
    since: "期間（開始日）",
    until: "期間（終了日）",
    anyone: "すべての操作者",
    any_kind: "すべての対象",
    show: "表示",
    clear: "条件を消す",
    changes: "変更内容",
    none: "条件に合う記録はありません。",
    jst_note: "日時は日本時間（JST）です。",
    scope_note: "ユーザーとサーバー設定の記録は管理者だけが読めます。",
};

const AUDIT_EN: AuditText = AuditText {
    filter: "Filter",
    key: "Record code or key (part)",
    since: "From (day)",
    until: "To (day)",
    anyone: "Anyone",
    any_kind: "Any kind of record",
    show: "Show",
    clear: "Clear",
    changes: "Changes",
    none: "No entries match.",
    jst_note: "Times are Japan Standard Time (JST).",
    scope_note: "Entries on users and server settings are read by administrators only.",
};

fn audit_text(lang: crate::i18n::Lang) -> &'static AuditText {
    match lang {
        crate::i18n::Lang::Ja => &AUDIT_JA,
        crate::i18n::Lang::En => &AUDIT_EN,
    }
}

/// The filter as the query string gives it.
pub(crate) fn audit_query_of(query: Option<&str>) -> AuditQuery {
    let get = |name: &str| query_param(query, name).unwrap_or_default();
    AuditQuery {
        actor: get("actor"),
        entity: get("entity"),
        key: get("key"),
        since: get("since"),
        until: get("until"),
        page: get("page").parse().unwrap_or(1),
    }
}

/// The query string of a filter on another page.
fn audit_link(q: &AuditQuery, page: i64) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("actor", &q.actor),
        ("entity", &q.entity),
        ("key", &q.key),
        ("since", &q.since),
        ("until", &q.until),
    ] {
        if !value.is_empty() {
            out.append_pair(name, value);
        }
    }
    out.append_pair("page", &page.to_string());
    format!("/admin/audit?{}", out.finish())
}

pub async fn audit(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let t = ctx.t;
    let at = audit_text(ctx.lang);
    let role = ctx.user().map(|u| u.role).unwrap_or(Role::Viewer);
    let scope = AuditScope::of(role).ok_or(WebError::Forbidden)?;
    let query = audit_query_of(ctx.query.as_deref());
    let (view, problem) =
        match citykpi_app::audit::search(state.store(), scope, query.clone()).await {
            Ok(view) => (Some(view), None),
            Err(AppError::Invalid { field, reason }) => (None, Some((field, reason))),
            Err(e) => return Err(e.into()),
        };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let q = view.as_ref().map(|v| v.query.clone()).unwrap_or(query);
    let (actors, entities) = view
        .as_ref()
        .map(|v| (v.actors.clone(), v.entities.clone()))
        .unwrap_or_default();
    let field_error = |name: &str| -> Option<String> {
        problem
            .as_ref()
            .filter(|(f, _)| f == name)
            .map(|(_, r)| r.clone())
    };
    let body = html! {
        h1 { (t.audit_title) }
        p.hint { (at.jst_note) @if scope == AuditScope::Records { " " (at.scope_note) } }
        form.filters method="get" action="/admin/audit" aria-label=(at.filter) {
            label { (t.audit_actor)
                select name="actor" {
                    option value="" { (at.anyone) }
                    @for a in &actors { option value=(a) selected[*a == q.actor] { (a) } }
                }
            }
            label { (t.audit_entity)
                select name="entity" aria-invalid=[field_error("entity").map(|_| "true")] {
                    option value="" { (at.any_kind) }
                    @for e in &entities { option value=(e) selected[*e == q.entity] { (entity_name(ctx.lang, e)) } }
                }
            }
            label { (at.key) input type="search" name="key" value=(q.key) maxlength="200"; }
            label { (at.since)
                input type="date" name="since" value=(q.since) aria-invalid=[field_error("since").map(|_| "true")];
                @if let Some(r) = field_error("since") { span.field-error role="alert" { (r) } }
            }
            label { (at.until)
                input type="date" name="until" value=(q.until) aria-invalid=[field_error("until").map(|_| "true")];
                @if let Some(r) = field_error("until") { span.field-error role="alert" { (r) } }
            }
            @if let Some(r) = field_error("entity") { p.field-error role="alert" { (r) } }
            button type="submit" { (at.show) }
            " " a href="/admin/audit" { (at.clear) }
        }
        @if let Some(view) = &view {
            @if view.lines.is_empty() {
                p { (at.none) }
            } @else {
                div.table-wrap {
                    table {
                        thead { tr {
                            th scope="col" { (t.audit_at) }
                            th scope="col" { (t.audit_actor) }
                            th scope="col" { (t.audit_action) }
                            th scope="col" { (t.audit_entity) }
                            th scope="col" { (at.changes) }
                        } }
                        tbody {
                            @for line in &view.lines {
                                tr {
                                    td { time datetime=(line.entry.at) { (line.at_jst) } }
                                    td { (line.entry.actor) }
                                    td { (line.entry.action) }
                                    td { (entity_name(ctx.lang, &line.entry.entity)) " " code { (line.entry.key) } }
                                    td {
                                        @if !line.changes.is_empty() {
                                            table.changes {
                                                @for c in &line.changes {
                                                    tr {
                                                        th scope="row" { (c.field) }
                                                        td { del { (short(&c.before)) } }
                                                        td { "→ " ins { (short(&c.after)) } }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label="pagination" {
                @if view.page > 1 { a href=(audit_link(&q, view.page - 1)) rel="prev" { "← " (t.newer) } }
                @if view.has_more { a href=(audit_link(&q, view.page + 1)) rel="next" { (t.older) " →" } }
            }
        }
    };
    Ok((
        status,
        render(
            &ctx,
            Page {
                title: t.audit_title,
                nav: Nav::Audit,
                body,
            },
        ),
    )
        .into_response())
}

pub async fn users(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    users_view(&state, &ctx, None, StatusCode::OK).await
}

/// The users page's own text.
struct UsersText {
    add_title: &'static str,
    email: &'static str,
    active: &'static str,
    inactive: &'static str,
    first_password: &'static str,
    add: &'static str,
    save: &'static str,
    edit_of: &'static str,
}

const USERS_JA: UsersText = UsersText {
    add_title: "ユーザーの追加",
    email: "メールアドレス",
    active: "有効",
    inactive: "無効",
    first_password: "初期パスワード",
    add: "追加",
    save: "保存",
    edit_of: "の変更",
};

const USERS_EN: UsersText = UsersText {
    add_title: "Add a user",
    email: "E-mail",
    active: "Active",
    inactive: "inactive",
    first_password: "First password",
    add: "Add",
    save: "Save",
    edit_of: ": change",
};

fn users_text(lang: crate::i18n::Lang) -> &'static UsersText {
    match lang {
        crate::i18n::Lang::Ja => &USERS_JA,
        crate::i18n::Lang::En => &USERS_EN,
    }
}

async fn users_view(
    state: &AppState,
    ctx: &Ctx,
    message: Option<(String, String)>,
    status: StatusCode,
) -> WebResult<Response> {
    let t = ctx.t;
    let ut = users_text(ctx.lang);
    let users = state.store().users().await?;
    let sections = state.store().sections().await?;
    let section_label = |code: &str| -> String {
        sections
            .iter()
            .find(|s| s.code == code)
            .map(|s| format!("{} {}", s.code, s.name_ja))
            .unwrap_or_else(|| code.to_string())
    };
    let role_select = |id: &str, form: Option<&str>, current: Role| {
        html! {
            select id=(id) name="role" form=[form] {
                @for r in Role::ALL {
                    option value=(r.as_str()) selected[r == current] { (ctx.lang.role(r)) }
                }
            }
        }
    };
    let section_select = |id: &str, form: Option<&str>, current: &str| {
        html! {
            select id=(id) name="section_code" form=[form] {
                @if current.is_empty() { option value="" selected { "—" } }
                @for sec in &sections {
                    option value=(sec.code) selected[sec.code == current] { (section_label(&sec.code)) }
                }
            }
        }
    };
    let approvers: std::collections::HashSet<String> =
        state.store().approvers().await?.into_iter().collect();
    let body = html! {
        h1 { (t.users_title) }
        p { a href="/admin/mail" { (mail_text(ctx.lang).title) } " · " a href="/admin/backups" { (match ctx.lang { crate::i18n::Lang::Ja => "バックアップ", crate::i18n::Lang::En => "Backups" }) } " · " a href="/admin/sign-in" { (match ctx.lang { crate::i18n::Lang::Ja => "ログイン方式の設定", crate::i18n::Lang::En => "Sign-in settings" }) } }
        @if let Some((login, m)) = &message { div.error-summary role="alert" tabindex="-1" { h2 { (t.error_summary) } p { (login) ": " (m) } } }
        @if message.is_none() && query_param(ctx.query.as_deref(), "saved").is_some() { div.notice.success role="status" { (t.saved) } }
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { (t.login_name) }
                    th scope="col" { (t.name) }
                    th scope="col" { (ut.email) }
                    th scope="col" { (t.role) }
                    th scope="col" { (t.section) }
                    th scope="col" { (ut.active) }
                    th scope="col" { (ut.save) }
                    th scope="col" { (t.approver) }
                    th scope="col" { (t.set_password) }
                } }
                tbody {
                    @for (i, u) in users.iter().enumerate() {
                        @let form_id = format!("user-{i}");
                        tr {
                            td { (u.login) @if !u.active { " (" (ut.inactive) ")" } }
                            td {
                                label.visually-hidden for={ "name-" (i) } { (t.name) " (" (u.login) ")" }
                                input type="text" id={ "name-" (i) } name="display_name" value=(u.display_name) form=(form_id) maxlength="100" required;
                            }
                            td {
                                label.visually-hidden for={ "email-" (i) } { (ut.email) " (" (u.login) ")" }
                                input type="email" id={ "email-" (i) } name="email" value=(u.email.clone().unwrap_or_default()) form=(form_id);
                            }
                            td {
                                label.visually-hidden for={ "role-" (i) } { (t.role) " (" (u.login) ")" }
                                (role_select(&format!("role-{i}"), Some(&form_id), u.role))
                            }
                            td {
                                label.visually-hidden for={ "section-" (i) } { (t.section) " (" (u.login) ")" }
                                (section_select(&format!("section-{i}"), Some(&form_id), &u.section_code))
                            }
                            td {
                                input type="checkbox" id={ "active-" (i) } name="active" value="1" checked[u.active] form=(form_id);
                                label.visually-hidden for={ "active-" (i) } { (ut.active) " (" (u.login) ")" }
                            }
                            td {
                                form.inline-form id=(form_id) method="post" action={ "/admin/users/" (u.login) } {
                                    input type="hidden" name="csrf" value=(ctx.csrf());
                                    button.secondary type="submit" aria-label={ (u.login) (ut.edit_of) } { (ut.save) }
                                }
                            }
                            td {
                                @let is = approvers.contains(&u.login);
                                @if is { (t.approver) " " }
                                form.inline-form method="post" action={ "/admin/users/" (u.login) "/approver" } {
                                    input type="hidden" name="csrf" value=(ctx.csrf());
                                    input type="hidden" name="approver" value=(if is { "0" } else { "1" });
                                    button.secondary type="submit" { (if is { t.approver_revoke } else { t.approver_grant }) }
                                }
                            }
                            td {
                                form.inline-form method="post" action={ "/admin/users/" (u.login) "/password" } {
                                    input type="hidden" name="csrf" value=(ctx.csrf());
                                    div {
                                        label.visually-hidden for={ "pw-" (i) } { (t.new_password) " (" (u.login) ")" }
                                        input type="password" id={ "pw-" (i) } name="password" autocomplete="new-password";
                                    }
                                    div { button.secondary type="submit" { (t.set_password) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ut.add_title) }
        form.stack method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            input type="hidden" name="active" value="1";
            div { label for="new-login" { (t.login_name) } input type="text" id="new-login" name="login" autocomplete="off" required; }
            div { label for="new-name" { (t.name) } input type="text" id="new-name" name="display_name" maxlength="100" required; }
            div { label for="new-email" { (ut.email) } input type="email" id="new-email" name="email"; }
            div { label for="new-role" { (t.role) } (role_select("new-role", None, Role::Viewer)) }
            div { label for="new-section" { (t.section) } (section_select("new-section", None, "")) }
            div { label for="new-password" { (ut.first_password) } input type="password" id="new-password" name="password" autocomplete="new-password" minlength="10" required; }
            div { button type="submit" { (ut.add) } }
        }
    };
    let mut resp = render(
        ctx,
        Page {
            title: t.users_title,
            nav: Nav::Users,
            body,
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

/// The add and change forms of a user account.
#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    section_code: String,
    #[serde(default)]
    role: String,
    /// Present (any value) when ticked.
    active: Option<String>,
    #[serde(default)]
    password: String,
}

impl AccountForm {
    fn input(self, login: String) -> citykpi_app::accounts::AccountInput {
        citykpi_app::accounts::AccountInput {
            login,
            display_name: self.display_name,
            email: self.email,
            section_code: self.section_code,
            role: self.role,
            active: self.active.is_some(),
            password: self.password,
        }
    }
}

/// An account service's answer: back to the list, or the list with the
/// refusal (422) naming the login and the reason.
async fn after_account_change(
    state: &AppState,
    ctx: &Ctx,
    login: String,
    result: Result<(), AppError>,
) -> WebResult<Response> {
    match result {
        Ok(()) => {
            // The read model holds the users the access check reads: a
            // changed role or deactivation counts from the next request.
            state.data_changed();
            Ok(Redirect::to("/admin/users?saved=1").into_response())
        }
        Err(AppError::Invalid { reason, .. }) => {
            users_view(
                state,
                ctx,
                Some((login, reason)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/users`: adds a user with a first password.
pub async fn create_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<AccountForm>,
) -> WebResult<Response> {
    let actor = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    let login = form.login.trim().to_string();
    let input = form.input(login.clone());
    let r = citykpi_app::accounts::create(state.store(), &actor, &input).await;
    after_account_change(&state, &ctx, login, r).await
}

/// `POST /admin/users/{login}`: name, e-mail, section, role, active.
pub async fn update_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login): Path<String>,
    Form(form): Form<AccountForm>,
) -> WebResult<Response> {
    let actor = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    let input = form.input(login.clone());
    let r = citykpi_app::accounts::update(state.store(), &actor, &input).await;
    after_account_change(&state, &ctx, login, r).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login): Path<String>,
    Form(form): Form<PasswordForm>,
) -> WebResult<Response> {
    let actor = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    let password = form.password;
    let for_login = login.clone();
    let hashed = tokio::task::spawn_blocking(move || {
        citykpi_app::auth::hash_new_password(&for_login, &password)
    })
    .await
    .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let hash = match hashed {
        Ok(h) => h,
        Err(e) => {
            return users_view(
                &state,
                &ctx,
                Some((login, e.to_string())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    // The hash, the revocation of the user's API token and the audit row
    // in one transaction.
    state
        .store()
        .change_password(&login, &hash, Some(&actor))
        .await?;
    // Whoever was logged in with the old password is logged out.
    // (The store deleted the sessions' rows with the password, on every server.)
    state.sessions().forget_user(&login);
    Ok(Redirect::to("/admin/users?saved=1").into_response())
}

#[derive(Deserialize)]
pub struct ApproverForm {
    #[serde(default)]
    approver: String,
}

/// Marks a user as approver (may confirm the actuals of their department's
/// KPIs), or removes the mark; audited by the store.
pub async fn set_approver(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login): Path<String>,
    Form(form): Form<ApproverForm>,
) -> WebResult<Response> {
    let actor = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    let approver = match form.approver.trim() {
        "1" | "on" | "true" => true,
        "0" | "off" | "false" => false,
        other => {
            return Err(WebError::BadRequest(format!(
                "approver は 1 か 0 です（「{other}」） / approver must be 1 or 0 (\"{other}\")"
            )));
        }
    };
    state.store().set_approver(&login, approver, &actor).await?;
    state.data_changed();
    Ok(Redirect::to("/admin/users?saved=1").into_response())
}

// ----- e-mail notices: the SMTP server -----

/// The mail settings page's text.
struct MailText {
    title: &'static str,
    lead: &'static str,
    enabled: &'static str,
    host: &'static str,
    port: &'static str,
    port_hint: &'static str,
    tls: &'static str,
    tls_none: &'static str,
    tls_starttls: &'static str,
    tls_tls: &'static str,
    from: &'static str,
    user: &'static str,
    password: &'static str,
    password_set: &'static str,
    password_unset: &'static str,
    clear_password: &'static str,
    from_env: &'static str,
    save: &'static str,
    notices: &'static str,
}

const MAIL_JA: MailText = MailText {
    title: "メール通知の設定",
    lead: "期限のある作業の通知を、市のSMTPサーバーからメールでも送ります（既定は無効）。送信は進行管理サイクルの「メール通知」の画面または citykpi cycle notify で行います。",
    enabled: "メール通知を有効にする",
    host: "SMTPサーバー",
    port: "ポート",
    port_hint: "空欄なら暗号化に応じて 25 / 587 / 465",
    tls: "暗号化",
    tls_none: "なし（庁内の中継サーバー）",
    tls_starttls: "STARTTLS",
    tls_tls: "TLS（SMTPS）",
    from: "送信元アドレス",
    user: "SMTP認証のユーザー名（不要なら空欄）",
    password: "SMTP認証のパスワード",
    password_set: "保存されています（表示しません）。変更するときだけ入力してください。",
    password_unset: "保存されていません。",
    clear_password: "保存されているパスワードを削除する",
    from_env: "データベースに値がないため、環境変数の値を使っています",
    save: "保存",
    notices: "メール通知",
};

const MAIL_EN: MailText = MailText {
    title: "Mail settings",
    lead: "Notices of due work can also be mailed through the city's SMTP server (off by default). They are sent from the cycle's e-mail notices page or with citykpi cycle notify.",
    enabled: "Turn e-mail notices on",
    host: "SMTP server",
    port: "Port",
    port_hint: "empty: 25 / 587 / 465 by the TLS mode",
    tls: "TLS",
    tls_none: "none (a relay inside the city's network)",
    tls_starttls: "STARTTLS",
    tls_tls: "TLS (SMTPS)",
    from: "Sender address",
    user: "SMTP user name (empty if none)",
    password: "SMTP password",
    password_set: "A password is stored (never shown). Type one only to change it.",
    password_unset: "No password is stored.",
    clear_password: "Remove the stored password",
    from_env: "Taken from the environment (the database has no value)",
    save: "Save",
    notices: "E-mail notices",
};

fn mail_text(lang: crate::i18n::Lang) -> &'static MailText {
    match lang {
        crate::i18n::Lang::Ja => &MAIL_JA,
        crate::i18n::Lang::En => &MAIL_EN,
    }
}

/// The form's values as typed (checkboxes arrive only when ticked).
#[derive(Deserialize, Default)]
pub struct MailForm {
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    tls: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    clear_password: Option<String>,
}

fn mail_field(
    id: &str,
    label: &str,
    value: &str,
    errors: &[citykpi_domain::cycle::FieldError],
    lang: crate::i18n::Lang,
    hint: Option<&str>,
    kind: &str,
) -> maud::Markup {
    let error = errors.iter().find(|e| e.field == id).map(|e| match lang {
        crate::i18n::Lang::Ja => e.ja.clone(),
        crate::i18n::Lang::En => e.en.clone(),
    });
    html! {
        div class=[error.as_ref().map(|_| "field-error")] {
            label for=(id) { (label) }
            @if let Some(h) = hint { span.muted id={ (id) "-hint" } { " " (h) } }
            (crate::layout::field_error(id, error.as_deref()))
            @if kind == "password" {
                input type="password" id=(id) name=(id) value="" autocomplete="new-password" aria-invalid=[error.as_ref().map(|_| "true")];
            } @else {
                input type="text" id=(id) name=(id) value=(value) autocomplete="off" aria-invalid=[error.as_ref().map(|_| "true")];
            }
        }
    }
}

async fn mail_view(
    state: &AppState,
    ctx: &Ctx,
    form: Option<&MailForm>,
    errors: &[citykpi_domain::cycle::FieldError],
    status: StatusCode,
) -> WebResult<Response> {
    use citykpi_app::notify::{SmtpSettings, TlsMode, keys};
    let lang = ctx.lang;
    let t = mail_text(lang);
    let settings = SmtpSettings::load(state.store()).await;
    // Settings that cannot be read (a bad environment value) are shown as
    // errors; the form then starts from the stored values.
    let mut all_errors: Vec<citykpi_domain::cycle::FieldError> = errors.to_vec();
    if let Err(e) = &settings {
        all_errors.extend(e.field_errors().iter().cloned());
    }
    let current = settings.ok();
    let (enabled, host, port, tls, from, user) = match (form, &current) {
        (Some(f), _) => (
            f.enabled.is_some(),
            f.host.clone(),
            f.port.clone(),
            f.tls.clone(),
            f.from.clone(),
            f.user.clone(),
        ),
        (None, Some(s)) => (
            s.enabled,
            s.host.clone(),
            s.port.to_string(),
            s.tls.as_str().to_string(),
            s.from.clone(),
            s.user.clone(),
        ),
        (None, None) => Default::default(),
    };
    let password_set = current.as_ref().is_some_and(|s| s.password_set);
    let from_env: Vec<&str> = current
        .as_ref()
        .map(|s| s.from_env.clone())
        .unwrap_or_default();
    let env_note = |key: &str| -> Option<String> {
        from_env
            .contains(&key)
            .then(|| format!("（{}: {}）", t.from_env, citykpi_app::notify::env_name(key)))
    };
    let body = html! {
        h1 { (t.title) }
        p.lead { (t.lead) }
        @if !all_errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" {
                h2 { (ctx.t.error_summary) }
                ul {
                    @for e in &all_errors {
                        li { a href={ "#" (e.field) } { (match lang { crate::i18n::Lang::Ja => &e.ja, crate::i18n::Lang::En => &e.en }) } }
                    }
                }
            }
        }
        @if errors.is_empty() && query_param(ctx.query.as_deref(), "saved").is_some() {
            div.notice.success role="status" { (ctx.t.saved) }
        }
        form method="post" action="/admin/mail" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            div {
                input type="checkbox" id="enabled" name="enabled" value="1" checked[enabled];
                " " label for="enabled" { (t.enabled) }
                @if let Some(n) = env_note(keys::ENABLED) { span.muted { (n) } }
            }
            (mail_field("host", t.host, &host, &all_errors, lang, env_note(keys::HOST).as_deref(), "text"))
            (mail_field("port", t.port, &port, &all_errors, lang, Some(t.port_hint), "text"))
            div {
                label for="tls" { (t.tls) }
                @if let Some(n) = env_note(keys::TLS) { span.muted { (n) } }
                select id="tls" name="tls" {
                    @for (mode, label) in [(TlsMode::None, t.tls_none), (TlsMode::Starttls, t.tls_starttls), (TlsMode::Tls, t.tls_tls)] {
                        option value=(mode.as_str()) selected[tls == mode.as_str()] { (label) }
                    }
                }
            }
            (mail_field("from", t.from, &from, &all_errors, lang, env_note(keys::FROM).as_deref(), "text"))
            (mail_field("user", t.user, &user, &all_errors, lang, env_note(keys::USER).as_deref(), "text"))
            (mail_field("password", t.password, "", &all_errors, lang, Some(if password_set { t.password_set } else { t.password_unset }), "password"))
            @if password_set {
                div {
                    input type="checkbox" id="clear_password" name="clear_password" value="1";
                    " " label for="clear_password" { (t.clear_password) }
                }
            }
            div { button type="submit" { (t.save) } }
        }
        p { a href={ "/cycle/" (crate::ctx::default_fy().year()) "/notify" } { (t.notices) } }
    };
    let mut resp = render(
        ctx,
        Page {
            title: t.title,
            nav: Nav::Users,
            body,
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

/// `GET /admin/mail`: the SMTP settings (the password is never shown).
pub async fn mail_settings(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    mail_view(&state, &ctx, None, &[], StatusCode::OK).await
}

/// `POST /admin/mail`: checks and saves the settings with an audit row.
pub async fn save_mail_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<MailForm>,
) -> WebResult<Response> {
    use citykpi_app::notify::{NotifyError, SmtpForm, save_smtp_settings};
    let actor = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    let input = SmtpForm {
        enabled: form.enabled.is_some(),
        host: form.host.clone(),
        port: form.port.clone(),
        tls: form.tls.clone(),
        from: form.from.clone(),
        user: form.user.clone(),
        password: form.password.clone(),
        clear_password: form.clear_password.is_some(),
    };
    match save_smtp_settings(state.store(), &actor, &input).await {
        Ok(_) => {
            state.data_changed();
            Ok(Redirect::to("/admin/mail?saved=1").into_response())
        }
        Err(NotifyError::Invalid(errors)) => {
            mail_view(
                &state,
                &ctx,
                Some(&form),
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(NotifyError::App(e)) => Err(WebError::App(e)),
        Err(other) => Err(WebError::BadRequest(other.to_string())),
    }
}
