//! The user's own account: who they are, and their API token.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::layout::{Nav, Page, render};

fn view(ctx: &Ctx, new_token: Option<&str>) -> WebResult<Response> {
    let t = ctx.t;
    let user = ctx.user().ok_or(WebError::Unauthorized)?;
    let body: Markup = html! {
        h1 { (t.account_title) }
        dl.fields {
            dt { (t.login_name) } dd { (user.login) }
            dt { (t.name) } dd { (user.display_name) }
            dt { (t.role) } dd { (ctx.lang.role(user.role)) }
            dt { (t.section) } dd { (user.section_code) }
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
        form method="post" action="/account/token" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            button type="submit" { (t.api_token_issue) }
        }
    };
    Ok(render(
        ctx,
        Page {
            title: t.account_title,
            nav: Nav::Account,
            body,
        },
    ))
}

pub async fn page(ctx: Ctx) -> WebResult<Response> {
    view(&ctx, None)
}

pub async fn issue_token(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let login = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    let token = state.issue_token(&login).await?;
    // Who holds API access is worth a trace; the token itself is never logged.
    state
        .store()
        .record_audit(&citykpi_store::AuditRecord {
            actor: &login,
            action: "issue_api_token",
            entity: "user",
            key: &login,
            before: None,
            after: None,
        })
        .await?;
    view(&ctx, Some(&token))
}
