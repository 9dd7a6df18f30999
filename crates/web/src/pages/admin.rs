//! Administration: the audit log browser and user passwords.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use citykpi_store::AuditRecord;
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::layout::{Nav, Page, render};

pub const AUDIT_PAGE: i64 = 50;

/// A JSON value shortened for a table cell (the full value is in the API).
fn short_json(v: &Option<serde_json::Value>) -> String {
    let s = v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    if s.chars().count() > 400 {
        format!("{}…", s.chars().take(400).collect::<String>())
    } else {
        s
    }
}

pub async fn audit(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let t = ctx.t;
    let page: i64 = query_param(ctx.query.as_deref(), "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let entries = state
        .store()
        .audit_entries(AUDIT_PAGE + 1, (page - 1) * AUDIT_PAGE)
        .await?;
    let has_more = entries.len() as i64 > AUDIT_PAGE;
    let body = html! {
        h1 { (t.audit_title) }
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { (t.audit_at) }
                    th scope="col" { (t.audit_actor) }
                    th scope="col" { (t.audit_action) }
                    th scope="col" { (t.audit_entity) }
                    th scope="col" { (t.audit_before) }
                    th scope="col" { (t.audit_after) }
                } }
                tbody {
                    @for e in entries.iter().take(AUDIT_PAGE as usize) {
                        tr {
                            td { (e.at) }
                            td { (e.actor) }
                            td { (e.action) }
                            td { (e.entity) " " code { (e.key) } }
                            td { code { (short_json(&e.before)) } }
                            td { code { (short_json(&e.after)) } }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="pagination" {
            @if page > 1 { a href={ "/admin/audit?page=" (page - 1) } rel="prev" { "← " (t.newer) } }
            @if has_more { a href={ "/admin/audit?page=" (page + 1) } rel="next" { (t.older) " →" } }
        }
    };
    Ok(render(
        &ctx,
        Page {
            title: t.audit_title,
            nav: Nav::Audit,
            body,
        },
    ))
}

pub async fn users(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    users_view(&state, &ctx, None, StatusCode::OK).await
}

async fn users_view(
    state: &AppState,
    ctx: &Ctx,
    message: Option<(String, String)>,
    status: StatusCode,
) -> WebResult<Response> {
    let t = ctx.t;
    let users = state.store().users().await?;
    let body = html! {
        h1 { (t.users_title) }
        @if let Some((login, m)) = &message { div.error-summary role="alert" tabindex="-1" { h2 { (t.error_summary) } p { (login) ": " (m) } } }
        @if message.is_none() && query_param(ctx.query.as_deref(), "saved").is_some() { div.notice.success role="status" { (t.saved) } }
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { (t.login_name) }
                    th scope="col" { (t.name) }
                    th scope="col" { (t.role) }
                    th scope="col" { (t.section) }
                    th scope="col" { (t.set_password) }
                } }
                tbody {
                    @for (i, u) in users.iter().enumerate() {
                        tr {
                            td { (u.login) }
                            td { (u.display_name) }
                            td { (ctx.lang.role(u.role)) }
                            td { (u.section_code) }
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
    let hashed = tokio::task::spawn_blocking(move || citykpi_app::auth::hash_password(&password))
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
    state.store().set_password_hash(&login, &hash).await?;
    state
        .store()
        .record_audit(&AuditRecord {
            actor: &actor,
            action: "set_password",
            entity: "user",
            key: &login,
            before: None,
            after: None,
        })
        .await?;
    // Whoever was logged in with the old password is logged out.
    state.sessions().remove_user(&login);
    Ok(Redirect::to("/admin/users?saved=1").into_response())
}
