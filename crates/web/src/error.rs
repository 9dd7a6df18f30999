//! The one mapping from errors to HTTP responses, applied at the edge: a
//! handler returns a `WebError`; `render_errors` turns it into an HTML page
//! in the reader's language, or JSON under `/api`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use citykpi_app::AppError;
use citykpi_store::StoreError;

use crate::AppState;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("見つかりません / not found")]
    NotFound,
    #[error("ログインしてください / please log in")]
    Unauthorized,
    #[error("権限がありません / forbidden")]
    Forbidden,
    #[error("フォームの確認に失敗しました / CSRF check failed")]
    Csrf,
    #[error("このメソッドは使えません / method not allowed")]
    MethodNotAllowed,
    #[error("ログインの試行が多すぎます / too many login attempts")]
    RateLimited,
    #[error("{0}")]
    BadRequest(String),
    /// A body over its route's limit; the message states the limit.
    #[error("{0}")]
    TooLarge(String),
    /// A body in a format the route does not read; the message names the one it does.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Forbidden, with the rule that refused (shown to the user).
    #[error("{0}")]
    Refused(String),
    #[error("アドレス {addr} で待ち受けできません / cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("サーバーが停止しました / the server stopped: {0}")]
    Serve(std::io::Error),
    #[error("設定 / setting {0}")]
    Config(String),
}

pub type WebResult<T> = Result<T, WebError>;

/// A cycle record's rule refused (only reads reach here outside the cycle's
/// pages, which map refusals to form messages themselves).
impl From<citykpi_store::CycleStoreError> for WebError {
    fn from(e: citykpi_store::CycleStoreError) -> Self {
        match e {
            citykpi_store::CycleStoreError::Store(s) => WebError::App(AppError::Store(s)),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

/// A cycle service's error outside a form (form pages show refusals next to
/// their fields first): not found → 404, storage → 500, a refused rule → 400.
impl From<citykpi_app::cycle::CycleServiceError> for WebError {
    fn from(e: citykpi_app::cycle::CycleServiceError) -> Self {
        use citykpi_app::cycle::CycleServiceError;
        if e.is_not_found() {
            return WebError::NotFound;
        }
        match e {
            CycleServiceError::App(a) => WebError::App(a),
            CycleServiceError::Cycle(c) => c.into(),
        }
    }
}

/// A report service's error: its records and rules as above, a refused
/// request (unknown department, a year without data) → 400.
impl From<citykpi_app::reports::ReportServiceError> for WebError {
    fn from(e: citykpi_app::reports::ReportServiceError) -> Self {
        use citykpi_app::reports::ReportServiceError;
        match e {
            ReportServiceError::App(a) => WebError::App(a),
            ReportServiceError::Cycle(c) => c.into(),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

/// A refused confirmation: not this person's to confirm → 403 naming the
/// value and the rule; a value gone → 404; changed since → 409.
impl From<citykpi_app::confirm::ConfirmError> for WebError {
    fn from(e: citykpi_app::confirm::ConfirmError) -> Self {
        use citykpi_app::confirm::ConfirmError;
        match e {
            ConfirmError::NotAllowed { .. } | ConfirmError::OwnEntry { .. } => {
                WebError::Refused(e.to_string())
            }
            ConfirmError::NotFound { .. } => WebError::NotFound,
            ConfirmError::App(a) => WebError::App(a),
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        WebError::App(AppError::Store(e))
    }
}

/// What the edge needs to render an error, carried in the response extensions.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    pub status: StatusCode,
    /// Shown to the user: either a catalogue message key or a service message.
    pub kind: ErrorKind,
}

#[derive(Debug, Clone)]
pub(crate) enum ErrorKind {
    NotFound,
    Unauthorized,
    Forbidden,
    Csrf,
    MethodNotAllowed,
    RateLimited,
    BadRequest(String),
    Internal,
}

impl WebError {
    pub(crate) fn info(&self) -> ErrorInfo {
        let (status, kind) = match self {
            WebError::NotFound => (StatusCode::NOT_FOUND, ErrorKind::NotFound),
            WebError::Unauthorized => (StatusCode::UNAUTHORIZED, ErrorKind::Unauthorized),
            WebError::Forbidden => (StatusCode::FORBIDDEN, ErrorKind::Forbidden),
            WebError::Csrf => (StatusCode::FORBIDDEN, ErrorKind::Csrf),
            WebError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, ErrorKind::MethodNotAllowed)
            }
            WebError::RateLimited => (StatusCode::TOO_MANY_REQUESTS, ErrorKind::RateLimited),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, ErrorKind::BadRequest(m.clone())),
            WebError::TooLarge(m) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorKind::BadRequest(m.clone()),
            ),
            WebError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorKind::BadRequest(m.clone()),
            ),
            WebError::Refused(m) => (StatusCode::FORBIDDEN, ErrorKind::BadRequest(m.clone())),
            WebError::App(e) => match e {
                AppError::NotFound(_) | AppError::Store(StoreError::NotFound { .. }) => {
                    (StatusCode::NOT_FOUND, ErrorKind::NotFound)
                }
                AppError::Store(StoreError::Conflict { .. }) => {
                    (StatusCode::CONFLICT, ErrorKind::BadRequest(e.to_string()))
                }
                AppError::Invalid { .. }
                | AppError::Import(_)
                | AppError::Store(StoreError::MissingReference { .. })
                | AppError::Store(StoreError::InvalidData { .. }) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorKind::BadRequest(e.to_string()),
                ),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, ErrorKind::Internal),
            },
            WebError::Bind { .. } | WebError::Serve(_) | WebError::Config(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorKind::Internal)
            }
        };
        ErrorInfo { status, kind }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let info = self.info();
        if info.status.is_server_error() {
            // The details stay in the log; the reader gets a plain message.
            tracing::error!(error = %self, "request failed");
        }
        let mut r = info.status.into_response();
        r.extensions_mut().insert(info);
        r
    }
}

pub(crate) async fn not_found() -> WebError {
    WebError::NotFound
}

/// Renders every error response produced below it.
pub(crate) async fn render_errors(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let lang = crate::ctx::lang_of(req.headers(), req.uri().query());
    let path = req.uri().path().to_string();
    let session_id =
        crate::session::cookie(req.headers(), crate::session::SESSION_COOKIE).map(str::to_string);
    let mut resp = next.run(req).await;
    let Some(info) = resp.extensions_mut().remove::<ErrorInfo>() else {
        return resp;
    };
    let t = lang.text();
    let message = match &info.kind {
        ErrorKind::NotFound => t.error_not_found.to_string(),
        ErrorKind::Unauthorized => t.error_unauthorized.to_string(),
        ErrorKind::Forbidden => t.error_forbidden.to_string(),
        ErrorKind::Csrf => t.error_csrf.to_string(),
        ErrorKind::MethodNotAllowed => t.error_method.to_string(),
        ErrorKind::RateLimited => t.login_rate_limited.to_string(),
        ErrorKind::BadRequest(m) => m.clone(),
        ErrorKind::Internal => t.error_internal.to_string(),
    };
    let mut out = if is_api {
        let body =
            serde_json::json!({ "error": { "status": info.status.as_u16(), "message": message } });
        (info.status, axum::Json(body)).into_response()
    } else {
        // Who is logged in, for the page's header: looked up only for an
        // error page (the access check has just read the session). An error
        // of the lookup itself (the database is down) shows no one.
        let session = match session_id {
            Some(id) => state
                .sessions()
                .get(state.store(), &id)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let user = match session {
            Some(s) => crate::access::user_for(&state, &s.login)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let html = crate::layout::error_page(lang, user.as_ref(), info.status, &message, &path);
        let mut r = Response::new(Body::from(html.into_string()));
        *r.status_mut() = info.status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r
    };
    // Keep headers set by the handler (e.g. Set-Cookie, Retry-After).
    for (k, v) in resp.headers() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().append(k.clone(), v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use citykpi_store::Entity;

    #[test]
    fn status_codes() {
        assert_eq!(WebError::NotFound.info().status, StatusCode::NOT_FOUND);
        assert_eq!(WebError::Csrf.info().status, StatusCode::FORBIDDEN);
        let conflict = WebError::from(StoreError::Conflict {
            entity: Entity::Program,
            key: "P1".into(),
            expected: 1,
            found: 2,
        });
        assert_eq!(conflict.info().status, StatusCode::CONFLICT);
        let invalid = WebError::App(AppError::invalid("x", "だめ"));
        assert_eq!(invalid.info().status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
