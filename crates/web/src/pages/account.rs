//! The user's own account: who they are, their password (changed with the
//! current one) and their API token (its expiry and last use, issue and
//! revoke).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use citykpi_app::AppError;
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::extract::Form;
use crate::i18n::Lang;
use crate::layout::{Nav, Page, render};
use crate::session::{SESSION_COOKIE, set_cookie};

/// This page's own text (the catalogue holds what other pages share).
struct AccountText {
    token_created: &'static str,
    token_expires: &'static str,
    token_expired: &'static str,
    token_last_used: &'static str,
    token_never_used: &'static str,
    token_none: &'static str,
    token_revoke: &'static str,
    token_revoked: &'static str,
    password_title: &'static str,
    password_rules: &'static str,
    current_password: &'static str,
    confirm_password: &'static str,
    change_password: &'static str,
    password_changed: &'static str,
    wrong_current: &'static str,
    mismatch: &'static str,
    sessions_title: &'static str,
    sessions_hint: &'static str,
    sessions_revoke: &'static str,
}

const JA: AccountText = AccountText {
    token_created: "発行日時",
    token_expires: "有効期限",
    token_expired: "期限切れ",
    token_last_used: "最終利用",
    token_never_used: "未使用",
    token_none: "発行されたトークンはありません。",
    token_revoke: "トークンを無効にする",
    token_revoked: "トークンを無効にしました。",
    password_title: "パスワードの変更",
    password_rules: "10文字以上。ログインIDを含むもの、同じ文字や短い並びの繰り返し、よく使われるパスワードは使えません。変更すると、他の画面のログインとAPIトークンは無効になります。",
    current_password: "現在のパスワード",
    confirm_password: "新しいパスワード（確認）",
    change_password: "パスワードを変更",
    password_changed: "パスワードを変更しました。",
    wrong_current: "現在のパスワードが正しくありません",
    mismatch: "確認のパスワードが一致しません",
    sessions_title: "すべての端末からログアウト",
    sessions_hint: "このアカウントのログインを、この画面も含めてすべてのパソコン・サーバーで終了します。共用端末でログアウトし忘れたときなどに使ってください。",
    sessions_revoke: "すべての端末からログアウト",
};

const EN: AccountText = AccountText {
    token_created: "Issued",
    token_expires: "Expires",
    token_expired: "expired",
    token_last_used: "Last used",
    token_never_used: "never",
    token_none: "No token has been issued.",
    token_revoke: "Revoke the token",
    token_revoked: "The token was revoked.",
    password_title: "Change password",
    password_rules: "At least 10 characters; not containing the login name, not one character or a short pattern repeated, not a common password. Changing it ends your other sessions and revokes your API token.",
    current_password: "Current password",
    confirm_password: "New password (again)",
    change_password: "Change password",
    password_changed: "The password was changed.",
    wrong_current: "The current password is not correct",
    mismatch: "The two new passwords differ",
    sessions_title: "Log out everywhere",
    sessions_hint: "Ends every session of this account on every computer and server, this one included. Use it when you forgot to log out on a shared computer.",
    sessions_revoke: "Log out everywhere",
};

fn text(lang: Lang) -> &'static AccountText {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// `2026-12-07T13:31:11.123Z` → `2026-12-07 22:31`, Japan time.
fn when(at: &str) -> String {
    citykpi_domain::jst::display(at)
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    new_token: Option<&str>,
    password_error: Option<(&str, String)>,
    status: StatusCode,
) -> WebResult<Response> {
    let t = ctx.t;
    let a = text(ctx.lang);
    let user = ctx.user().ok_or(WebError::Unauthorized)?;
    let token = state.store().api_token(&user.login).await?;
    let now = citykpi_store::now_rfc3339();
    let flag = |k: &str| query_param(ctx.query.as_deref(), k).is_some();
    let body: Markup = html! {
        h1 { (t.account_title) }
        dl.fields {
            dt { (t.login_name) } dd { (user.login) }
            dt { (t.name) } dd { (user.display_name) }
            dt { (t.role) } dd { (ctx.lang.role(user.role)) }
            dt { (t.section) } dd { (user.section_code) }
        }
        h2 { (a.password_title) }
        @if let Some((field, message)) = &password_error {
            div.error-summary role="alert" tabindex="-1" {
                h2 { (t.error_summary) }
                p { a href={ "#" (field) } { (message) } }
            }
        }
        @if flag("password_changed") && password_error.is_none() {
            div.notice.success role="status" { (a.password_changed) }
        }
        p.hint { (a.password_rules) }
        form.stack method="post" action="/account/password" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            div {
                label for="current" { (a.current_password) }
                input type="password" id="current" name="current" autocomplete="current-password" required;
            }
            div {
                label for="password" { (t.new_password) }
                input type="password" id="password" name="password" autocomplete="new-password" minlength="10" required;
            }
            div {
                label for="confirm" { (a.confirm_password) }
                input type="password" id="confirm" name="confirm" autocomplete="new-password" minlength="10" required;
            }
            div { button type="submit" { (a.change_password) } }
        }
        h2 { (t.api_token) }
        p { (t.api_token_hint) " " a href="/api" { (t.api_title) } }
        @if let Some(token) = new_token {
            div.notice.success role="status" {
                p { (t.api_token_new) }
                p.token id="new-token" { (token) }
                button.secondary type="button" data-copy="new-token" hidden { "Copy" }
            }
        }
        @if flag("revoked") {
            div.notice.success role="status" { (a.token_revoked) }
        }
        @match &token {
            Some(info) => {
                dl.fields id="api-token" {
                    dt { (a.token_created) } dd { (when(&info.created_at)) }
                    dt { (a.token_expires) }
                    dd {
                        (info.expires_at.as_deref().map(when).unwrap_or_default())
                        @if info.expires_at.as_deref().is_none_or(|e| e <= now.as_str()) {
                            " (" (a.token_expired) ")"
                        }
                    }
                    dt { (a.token_last_used) }
                    dd { (info.last_used_at.as_deref().map(when).unwrap_or_else(|| a.token_never_used.to_string())) }
                }
                form method="post" action="/account/token/revoke" {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    button.secondary type="submit" { (a.token_revoke) }
                }
            }
            None => { p id="api-token" { (a.token_none) } }
        }
        form method="post" action="/account/token" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            button type="submit" { (t.api_token_issue) }
        }
        h2 { (a.sessions_title) }
        p.hint { (a.sessions_hint) }
        form method="post" action="/account/sessions/revoke" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            button.secondary type="submit" { (a.sessions_revoke) }
        }
    };
    let mut resp = render(
        ctx,
        Page {
            title: t.account_title,
            nav: Nav::Account,
            body,
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    view(&state, &ctx, None, None, StatusCode::OK).await
}

pub async fn issue_token(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let login = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    // The audit row is written with the token, in its transaction.
    let token = state.issue_token(&login).await?;
    view(&state, &ctx, Some(&token), None, StatusCode::OK).await
}

/// `POST /account/token/revoke`: the user ends their own API token.
pub async fn revoke_token(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let login = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    state.store().revoke_api_token(&login, &login).await?;
    Ok(Redirect::to("/account?revoked=1").into_response())
}

/// `POST /account/sessions/revoke`: "log out everywhere" — every session
/// of the user ends on every server, this one included, with an audit row.
pub async fn revoke_sessions(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let login = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    state.store().revoke_sessions(&login, &login).await?;
    state.sessions().forget_user(&login);
    let mut resp = Redirect::to("/login").into_response();
    let c = set_cookie(SESSION_COOKIE, "", Some(0), state.config().secure_cookies);
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /account/password`: the user's own new password, given with the
/// current one. The hash, the revocation of the API token and the audit row
/// are one transaction; every other session of the user ends, this one goes on.
pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> WebResult<Response> {
    let a = text(ctx.lang);
    let user = ctx.user().ok_or(WebError::Unauthorized)?.clone();
    let stored = state
        .store()
        .user_password_hash(&user.login)
        .await?
        .unwrap_or_default();
    let login = user.login.clone();
    let current = form.current;
    let new = form.password.clone();
    let checked = tokio::task::spawn_blocking(move || {
        if !citykpi_app::auth::verify_password(&current, &stored) {
            return Err(None);
        }
        citykpi_app::auth::hash_new_password(&login, &new).map_err(Some)
    })
    .await
    .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let refused = match checked {
        Ok(h) if form.password == form.confirm => Ok(h),
        Ok(_) => Err(("confirm", a.mismatch.to_string())),
        Err(None) => Err(("current", a.wrong_current.to_string())),
        Err(Some(AppError::Invalid { reason, .. })) => Err(("password", reason)),
        Err(Some(e)) => return Err(e.into()),
    };
    let hash = match refused {
        Ok(h) => h,
        Err(problem) => {
            return view(
                &state,
                &ctx,
                None,
                Some(problem),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    state
        .store()
        .change_password(&user.login, &hash, Some(&user.login))
        .await?;
    // Other sessions (another browser, a stolen cookie) end; this one is
    // replaced by a new session so the user stays logged in here.
    // The store deleted the user's sessions with the password, on every server.
    state.sessions().forget_user(&user.login);
    let session = state.sessions().create(state.store(), &user.login).await?;
    let mut resp = Redirect::to("/account?password_changed=1").into_response();
    let c = set_cookie(
        SESSION_COOKIE,
        &session.id,
        None,
        state.config().secure_cookies,
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}
