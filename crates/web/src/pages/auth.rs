//! Login and logout.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::access::user_for;
use crate::ctx::{Ctx, query_param};
use crate::error::WebResult;
use crate::extract::Form;
use crate::layout::{Nav, Page, render};
use crate::session::{PRE_SESSION_COOKIE, SESSION_COOKIE, random_token, set_cookie};

/// Only a path of this site. A browser drops tabs and newlines from a URL
/// and reads `\\` as `/`, so `/\t/evil.example` would become
/// `//evil.example` (another host): a target is taken only when it is
/// printable ASCII without backslashes (what a `Location` header may carry
/// as is) and starts with one `/` not followed by `/`. Anything else goes to `/`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

fn is_local_path(n: &str) -> bool {
    let b = n.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && b.iter().all(|&c| c.is_ascii_graphic() && c != b'\\')
}

fn form_page(
    state: &AppState,
    ctx: &Ctx,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = ctx.t;
    let token = random_token();
    let body = html! {
        h1 { (t.login_title) }
        @if let Some(e) = error {
            div.error-summary role="alert" tabindex="-1" {
                h2 { (t.error_summary) }
                p { (e) }
            }
        }
        form.stack method="post" action="/login" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            div {
                label for="login" { (t.login_name) }
                input type="text" id="login" name="login" autocomplete="username" required;
            }
            div {
                label for="password" { (t.password) }
                input type="password" id="password" name="password" autocomplete="current-password" required;
            }
            div { button type="submit" { (t.login) } }
        }
    };
    let mut resp = render(
        ctx,
        Page {
            title: t.login_title,
            nav: Nav::Public,
            body,
        },
    );
    *resp.status_mut() = status;
    let cookie = set_cookie(
        PRE_SESSION_COOKIE,
        &token,
        Some(3600),
        state.config().secure_cookies,
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn login_form(State(state): State<AppState>, ctx: Ctx) -> Response {
    let next = safe_next(query_param(ctx.query.as_deref(), "next").as_deref());
    if ctx.user().is_some() {
        return Redirect::to(&next).into_response();
    }
    form_page(&state, &ctx, &next, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// An argon2id hash of a random password, verified when the login does not
/// exist so that a wrong login name takes as long as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    citykpi_app::auth::hash_password(&random_token()).unwrap_or_default()
});

pub async fn login(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> WebResult<Response> {
    // Behind a configured reverse proxy each client is counted by its own
    // address, not the proxy's (which every user would share).
    let ip = connect
        .map(|c| {
            crate::proxy::client_ip(c.0.0.ip(), &headers, &state.config().trusted_proxies)
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into());
    let login = form.login.trim().to_string();
    let next = safe_next(Some(&form.next));
    if !state.limiter().allowed(state.store(), &ip, &login).await? {
        let mut resp = form_page(
            &state,
            &ctx,
            &next,
            Some(ctx.t.login_rate_limited),
            StatusCode::TOO_MANY_REQUESTS,
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
        return Ok(resp);
    }
    let stored = match state.store().user_password_hash(&login).await {
        Ok(h) => h,
        Err(citykpi_store::StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let password = form.password;
    // A local account (with a password) signs in here, also when a
    // directory is configured and down; any other login asks the directory.
    let ok = match (&stored, &state.config().ldap) {
        (None, Some(directory)) => {
            match citykpi_app::directory::sign_in(state.store(), directory, &login, &password).await
            {
                Ok(citykpi_app::directory::SignIn::Accepted(_)) => {
                    // The account may have been created or changed.
                    state.data_changed();
                    true
                }
                Ok(citykpi_app::directory::SignIn::Refused(why)) => {
                    tracing::info!(login = %login, reason = why.as_str(), "directory sign-in refused");
                    false
                }
                Err(e) => {
                    tracing::warn!(login = %login, error = %e, "directory sign-in failed");
                    return Ok(form_page(
                        &state,
                        &ctx,
                        &next,
                        Some(ctx.t.login_directory_down),
                        StatusCode::SERVICE_UNAVAILABLE,
                    ));
                }
            }
        }
        _ => tokio::task::spawn_blocking(move || {
            let hash = stored.as_deref().unwrap_or(DUMMY_HASH.as_str());
            citykpi_app::auth::verify_password(&password, hash) && stored.is_some()
        })
        .await
        .unwrap_or(false),
    };
    let user = if ok {
        user_for(&state, &login).await?
    } else {
        None
    };
    let Some(user) = user else {
        state
            .limiter()
            .record_failure(state.store(), &ip, &login)
            .await?;
        return Ok(form_page(
            &state,
            &ctx,
            &next,
            Some(ctx.t.login_failed),
            StatusCode::UNAUTHORIZED,
        ));
    };
    state
        .limiter()
        .record_success(state.store(), &ip, &login)
        .await?;
    let session = state.sessions().create(state.store(), &user.login).await?;
    let secure = state.config().secure_cookies;
    let mut resp = Redirect::to(&next).into_response();
    for c in [
        set_cookie(SESSION_COOKIE, &session.id, None, secure),
        set_cookie(PRE_SESSION_COOKIE, "", Some(0), secure),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    if let Some(s) = ctx.principal.as_ref().and_then(|p| p.session.as_ref()) {
        // The row goes: the cookie is refused on every server from now on.
        state.sessions().remove(state.store(), s).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    let c = set_cookie(SESSION_COOKIE, "", Some(0), state.config().secure_cookies);
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/kpis/K1")), "/kpis/K1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(
            safe_next(Some("/kpis?fy=2024&q=%E5%B8%82")),
            "/kpis?fy=2024&q=%E5%B8%82"
        );
        for bad in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/\\/evil.example",
            "/x\\..\\\\evil.example",
            "/\u{0}",
            "/\n",
            "/市",
            "\t//evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
    }
}
