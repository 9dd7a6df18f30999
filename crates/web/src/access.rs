//! Who may use which route: one table, checked for every request by one
//! middleware before any handler runs. A route missing from the table is
//! refused for everyone (fail closed), so a new route cannot be forgotten.
//!
//! The table decides by role. Rules that depend on the record (a department
//! editor edits only its own department's programs) are the `can_*`
//! functions below, called by the handlers with the record loaded.

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use citykpi_domain::Kind;
use citykpi_domain::org::Role;

use crate::AppState;
use crate::ctx::{Principal, session_of};
use crate::error::WebError;
use crate::security::same_origin;
use crate::session::{PRE_SESSION_COOKIE, SessionUser, constant_time_eq, cookie};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not (public portal, login form, assets).
    Public,
    /// Any logged-in user.
    Login,
    /// Logged-in users with one of these roles.
    Roles(&'static [Role]),
    /// A machine caller that proves itself by a signature over the raw body
    /// in the named header (the LINE platform's `X-Line-Signature`), not by
    /// a session: no role admits it, no session is attached, the session's
    /// CSRF check does not apply (there is no cookie to forge), and a call
    /// without the header is refused here with 401. The handler checks the
    /// signature itself, through the app service, before it reads the body.
    /// These routes are the declared list `signed_routes`.
    Signed(&'static str),
}

impl Access {
    pub fn allows(self, role: Option<Role>) -> bool {
        match self {
            Access::Public => true,
            Access::Login => role.is_some(),
            Access::Roles(roles) => role.is_some_and(|r| roles.contains(&r)),
            Access::Signed(_) => false,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RouteRule {
    pub method: &'static str,
    /// The route pattern as registered with the router.
    pub path: &'static str,
    pub access: Access,
}

use Role::*;

/// Plans, KPIs and actuals: the strategy office, and department editors for
/// the KPIs their department owns.
pub const KPI_EDITORS: &[Role] = &[Admin, StrategyOffice, DepartmentEditor];
/// Program fields: the strategy office, and department editors for their own programs.
pub const PROGRAM_EDITORS: &[Role] = &[Admin, StrategyOffice, DepartmentEditor];
/// Money: finance, and department editors for their own programs.
pub const MONEY_EDITORS: &[Role] = &[Admin, Finance, DepartmentEditor];
/// File imports (what each may import: `can_import`).
pub const IMPORTERS: &[Role] = &[Admin, StrategyOffice, Finance];
pub const ADMINS: &[Role] = &[Admin];
/// The audit log: administrators all of it, the strategy office its records (`app::audit::AuditScope`).
pub const AUDIT_READERS: &[Role] = &[Admin, StrategyOffice];

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteRule {
    RouteRule {
        method,
        path,
        access,
    }
}

/// The core routes with the roles they admit. The cycle and partnership
/// pages keep their own tables beside their handlers; `all_routes` joins them.
pub const ROUTES: &[RouteRule] = &[
    r("GET", "/", Access::Login),
    r("GET", "/login", Access::Public),
    r("POST", "/login", Access::Public),
    r("POST", "/logout", Access::Login),
    r("GET", "/kpis", Access::Login),
    r("GET", "/kpis/{code}", Access::Login),
    r("GET", "/kpis/{code}/actuals", Access::Roles(KPI_EDITORS)),
    r("POST", "/kpis/{code}/actuals", Access::Roles(KPI_EDITORS)),
    r(
        "POST",
        "/kpis/{code}/actuals/bulk",
        Access::Roles(KPI_EDITORS),
    ),
    // Confirming actuals: who may confirm which value is `citykpi_app::confirm`.
    r(
        "POST",
        "/kpis/{code}/actuals/confirm",
        Access::Roles(KPI_EDITORS),
    ),
    r("GET", "/kpis/confirm", Access::Roles(KPI_EDITORS)),
    r("POST", "/kpis/confirm", Access::Roles(KPI_EDITORS)),
    r("GET", "/programs", Access::Login),
    r("GET", "/programs/{code}", Access::Login),
    r(
        "GET",
        "/programs/{code}/edit",
        Access::Roles(PROGRAM_EDITORS),
    ),
    r(
        "POST",
        "/programs/{code}/edit",
        Access::Roles(PROGRAM_EDITORS),
    ),
    r(
        "GET",
        "/programs/{code}/money",
        Access::Roles(MONEY_EDITORS),
    ),
    r(
        "POST",
        "/programs/{code}/money",
        Access::Roles(MONEY_EDITORS),
    ),
    r("GET", "/search", Access::Login),
    r("GET", "/data", Access::Login),
    r("GET", "/data/export/{kind}", Access::Login),
    r("POST", "/data/import", Access::Roles(IMPORTERS)),
    r("GET", "/account", Access::Login),
    r("POST", "/account/token", Access::Login),
    r("POST", "/account/token/revoke", Access::Login),
    r("POST", "/account/password", Access::Login),
    r("GET", "/admin/audit", Access::Roles(AUDIT_READERS)),
    r("GET", "/admin/users", Access::Roles(ADMINS)),
    r("POST", "/admin/users", Access::Roles(ADMINS)),
    r("POST", "/admin/users/{login}", Access::Roles(ADMINS)),
    r(
        "POST",
        "/admin/users/{login}/password",
        Access::Roles(ADMINS),
    ),
    r(
        "POST",
        "/admin/users/{login}/approver",
        Access::Roles(ADMINS),
    ),
    r("GET", "/admin/mail", Access::Roles(ADMINS)),
    r("GET", "/admin/sign-in", Access::Roles(ADMINS)),
    r("POST", "/admin/mail", Access::Roles(ADMINS)),
    r("GET", "/admin/backups", Access::Roles(ADMINS)),
    r("POST", "/admin/backups", Access::Roles(ADMINS)),
    r("POST", "/admin/backups/verify", Access::Roles(ADMINS)),
    r("GET", "/public", Access::Public),
    r("GET", "/public/plans/{code}", Access::Public),
    r("GET", "/public/kpis/{code}", Access::Public),
    r("GET", "/api", Access::Public),
    r("GET", "/api/openapi.json", Access::Public),
    r("GET", "/api/v1/status", Access::Login),
    r("GET", "/api/v1/kpis", Access::Login),
    r("GET", "/api/v1/kpis/{code}", Access::Login),
    r("GET", "/api/v1/kpis/{code}/observations", Access::Login),
    r(
        "POST",
        "/api/v1/kpis/{code}/observations",
        Access::Roles(KPI_EDITORS),
    ),
    r(
        "POST",
        "/api/v1/kpis/{code}/observations/confirm",
        Access::Roles(KPI_EDITORS),
    ),
    r("GET", "/api/v1/programs", Access::Login),
    r("GET", "/api/v1/programs/{code}", Access::Login),
    r(
        "PUT",
        "/api/v1/programs/{code}",
        Access::Roles(PROGRAM_EDITORS),
    ),
    r(
        "PUT",
        "/api/v1/programs/{code}/money/{fy}",
        Access::Roles(MONEY_EDITORS),
    ),
    r("GET", "/api/v1/search", Access::Login),
    r("GET", "/api/v1/evidence", Access::Login),
    r("GET", "/api/v1/export/{kind}", Access::Login),
    r("POST", "/api/v1/import/{kind}", Access::Roles(IMPORTERS)),
    r("GET", "/api/v1/audit", Access::Roles(AUDIT_READERS)),
    r("GET", "/api/v1/public/plans", Access::Public),
    r("GET", "/static/{file}", Access::Public),
    r("GET", "/favicon.svg", Access::Public),
    r("GET", "/healthz", Access::Public),
    r("POST", "/account/sessions/revoke", Access::Login),
    // For the load balancer: no login, and no link to it on any page.
    r("GET", "/readyz", Access::Public),
    // No login, but the handler admits only the configured addresses or
    // an administrator's API token (`metrics`).
    r("GET", "/metrics", Access::Public),
];

/// Every route of the application with the roles it admits.
pub fn all_routes() -> impl Iterator<Item = &'static RouteRule> {
    ROUTES
        .iter()
        .chain(crate::pages::cycle::ROUTES)
        .chain(crate::pages::partners::ROUTES)
        .chain(crate::pages::partners::intake::ROUTES)
        .chain(crate::pages::partners::menu_public::ROUTES)
        .chain(crate::pages::partners::outreach::ROUTES)
        .chain(crate::pages::partners::registry::ROUTES)
        .chain(crate::pages::mayor::ROUTES)
        .chain(crate::pages::whatif::ROUTES)
        .chain(crate::pages::evidence::ROUTES)
}

/// The signature-verified routes: the only state-changing routes that run
/// without a session and without the CSRF check.
pub fn signed_routes() -> impl Iterator<Item = &'static RouteRule> {
    all_routes().filter(|r| matches!(r.access, Access::Signed(_)))
}

pub fn rule_for(method: &Method, path: &str) -> Option<&'static RouteRule> {
    // HEAD is answered by GET routes.
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    all_routes().find(|r| r.method == method && r.path == path)
}

/// The only state-changing routes the read-only executive role may use: its
/// own session and password. Every other form is refused before its handler.
pub const EXECUTIVE_POSTS: &[&str] = &[
    "/login",
    "/logout",
    // The executive's own credentials: its password, API token and sessions.
    "/account/password",
    "/account/token",
    "/account/token/revoke",
    "/account/sessions/revoke",
];

/// Whether the access check lets a role make this request at all (the
/// executive role reads and changes nothing but its own credentials).
pub fn role_may_send(role: Role, method: &str, path: &str) -> bool {
    role != Role::Executive
        || matches!(method, "GET" | "HEAD" | "OPTIONS")
        || EXECUTIVE_POSTS.contains(&path)
}

/// Largest form body read for the CSRF check (bulk pastes of a few thousand rows fit).
const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;

/// The access check of every route: finds the user (session cookie, or an
/// API token under /api), checks the route's roles, and for every
/// state-changing request made with a cookie checks the origin and the
/// per-session CSRF token.
pub async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(Refusal::Login(path)) => {
            let target = format!(
                "/login?next={}",
                form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
            );
            Redirect::to(&target).into_response()
        }
        Err(Refusal::Error(e)) => e.into_response(),
        Err(Refusal::Response(r)) => r,
    }
}

enum Refusal {
    /// A page that needs a login, asked for without one: go to the login form.
    Login(String),
    Error(WebError),
    /// A finished answer (a signed route's JSON refusal).
    Response(Response),
}

async fn check(state: &AppState, req: Request) -> Result<Request, Refusal> {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let Some(rule) = rule_for(req.method(), &path) else {
        // A known address asked with a method it does not answer (someone
        // opens the address of a form, `/logout`, in the browser; OPTIONS or
        // TRACE): the caller's mistake, answered 405 with the methods it has;
        // only an address missing from the table altogether is a fault of ours.
        let mut allowed: Vec<&str> = all_routes()
            .filter(|r| r.path == path)
            .map(|r| r.method)
            .collect();
        if !allowed.is_empty() {
            if allowed.contains(&"GET") {
                allowed.push("HEAD");
            }
            let mut resp = WebError::MethodNotAllowed.into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(&allowed.join(", ")) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            return Err(Refusal::Response(resp));
        }
        tracing::error!(method = %req.method(), path, "route missing from the access table");
        return Err(Refusal::Error(WebError::Forbidden));
    };
    if let Access::Signed(header) = rule.access {
        // Authenticity is the signature, checked by the handler; a cookie
        // the caller happens to send grants nothing and is not looked at.
        let signed = req
            .headers()
            .get(header)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| !v.trim().is_empty());
        if !signed {
            let lang = crate::ctx::lang_of(req.headers(), req.uri().query());
            return Err(Refusal::Response(crate::pages::partners::unsigned(lang)));
        }
        return Ok(req);
    }
    let is_api = path.starts_with("/api/");
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let mut principal = None;
    if let Some(token) = bearer.filter(|_| is_api) {
        let login = state.token_login(&token).await.map_err(Refusal::Error)?;
        let user = match login {
            Some(login) => user_for(state, &login).await.map_err(Refusal::Error)?,
            None => None,
        };
        match user {
            Some(user) => {
                principal = Some(Principal {
                    user,
                    session: None,
                })
            }
            None => return Err(Refusal::Error(WebError::Unauthorized)),
        }
    } else if let Some(session) = session_of(state, req.headers())
        .await
        .map_err(Refusal::Error)?
    {
        // The user as stored now, not as at login: a demotion or
        // deactivation by an administrator takes effect on the next request
        // (a web write refreshes the read model at once, the CLI's within
        // two seconds). A user who is gone or inactive is logged out.
        match user_for(state, &session.login)
            .await
            .map_err(Refusal::Error)?
        {
            Some(user) => {
                principal = Some(Principal {
                    user,
                    session: Some(session),
                })
            }
            None => state
                .sessions()
                .remove(state.store(), &session)
                .await
                .map_err(|e| Refusal::Error(e.into()))?,
        }
    }
    let role = principal.as_ref().map(|p| p.user.role);
    if !rule.access.allows(role) {
        return Err(match (role, is_api) {
            (None, false) => Refusal::Login(
                req.uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
            ),
            (None, true) => Refusal::Error(WebError::Unauthorized),
            (Some(_), _) => Refusal::Error(WebError::Forbidden),
        });
    }
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let Some(r) = role
        && !role_may_send(r, req.method().as_str(), path.as_str())
    {
        return Err(Refusal::Error(WebError::Forbidden));
    }
    let by_cookie = principal.as_ref().is_none_or(|p| p.session.is_some());
    let req = if changes_state && by_cookie {
        csrf_check(req, principal.as_ref())
            .await
            .map_err(Refusal::Error)?
    } else {
        req
    };
    let mut req = req;
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    Ok(req)
}

/// Checks origin and token of a state-changing request made with a cookie.
/// The token is taken from the `X-CSRF-Token` header, the `csrf` field of a
/// URL-encoded form (the body is read and put back), or, for file uploads,
/// the first field of the multipart body, which must be `csrf`.
async fn csrf_check(req: Request, principal: Option<&Principal>) -> Result<Request, WebError> {
    if !same_origin(req.headers()) {
        return Err(WebError::Csrf);
    }
    let expected = match principal.and_then(|p| p.session.as_ref()) {
        Some(s) => s.csrf.clone(),
        // Not logged in (the login form): the token of the pre-session cookie.
        None => cookie(req.headers(), PRE_SESSION_COOKIE)
            .unwrap_or("")
            .to_string(),
    };
    if expected.is_empty() {
        return Err(WebError::Csrf);
    }
    if let Some(given) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return if constant_time_eq(given, &expected) {
            Ok(req)
        } else {
            Err(WebError::Csrf)
        };
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                WebError::BadRequest("フォームが大きすぎます / the form is too large".into())
            })?;
        let given = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !constant_time_eq(&given, &expected) {
            return Err(WebError::Csrf);
        }
        return Ok(Request::from_parts(parts, Body::from(bytes)));
    }
    if content_type.starts_with("multipart/form-data") {
        // An upload carries the token as its first field (never in the URL,
        // where logs and the Referer header would keep it). Only that field
        // is read here; the file behind it streams on to the handler.
        let boundary = multipart_boundary(&content_type_raw(&req)).ok_or(WebError::Csrf)?;
        let (parts, body) = req.into_parts();
        let (given, body) = first_multipart_field(body, &boundary, "csrf").await?;
        if !constant_time_eq(&given, &expected) {
            return Err(WebError::Csrf);
        }
        return Ok(Request::from_parts(parts, body));
    }
    Err(WebError::Csrf)
}

/// The `Content-Type` header as sent (the boundary is case-sensitive).
fn content_type_raw(req: &Request) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The `boundary` parameter of a multipart content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// Most bytes read to find the first field of a multipart body.
const MAX_FIRST_FIELD: usize = 16 * 1024;

/// Reads a multipart body until its first part is complete; returns that
/// part's value if it is the field `name` ("" otherwise) and the whole body
/// again (the bytes read, then the rest, still streaming).
async fn first_multipart_field(
    body: Body,
    boundary: &str,
    name: &str,
) -> Result<(String, Body), WebError> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let delimiter = format!("--{boundary}");
    let value = loop {
        if let Some(v) = parse_first_field(&buf, &delimiter, name) {
            break v;
        }
        if buf.len() > MAX_FIRST_FIELD {
            break None;
        }
        match stream.next().await {
            Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
            Some(Err(_)) => {
                return Err(WebError::BadRequest(
                    "フォームを読めません / the form could not be read".into(),
                ));
            }
            None => break None,
        }
    };
    let head = futures::stream::iter([Ok::<_, axum::Error>(axum::body::Bytes::from(buf))]);
    let body = Body::from_stream(head.chain(stream));
    Ok((value.unwrap_or_default(), body))
}

/// `Some(Some(value))` when the buffer holds the whole first part and it is
/// the field `name`, `Some(None)` when the first part is another field,
/// `None` when more bytes are needed.
fn parse_first_field(buf: &[u8], delimiter: &str, name: &str) -> Option<Option<String>> {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(buf, delimiter.as_bytes())? + delimiter.len();
    let rest = buf.get(start..)?;
    let rest = rest.strip_prefix(b"\r\n")?;
    let head_end = find(rest, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&rest[..head_end]).to_ascii_lowercase();
    let data = &rest[head_end + 4..];
    let end = find(data, format!("\r\n{delimiter}").as_bytes())?;
    let wanted = head.lines().any(|l| {
        l.starts_with("content-disposition:")
            && l.split(';').any(|p| p.trim() == format!("name=\"{name}\""))
    });
    Some(wanted.then(|| String::from_utf8_lossy(&data[..end]).into_owned()))
}

/// The session view of a stored user (for API tokens and logins).
pub(crate) async fn user_for(
    state: &AppState,
    login: &str,
) -> Result<Option<SessionUser>, WebError> {
    let snap = state.snapshot().await?;
    Ok(snap
        .ds
        .users
        .iter()
        .find(|u| u.login == login && u.active)
        .map(|u| SessionUser {
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            section_code: u.section_code.clone(),
            department_code: snap
                .department_of_section(&u.section_code)
                .unwrap_or_default()
                .to_string(),
        }))
}

// ----- rules that depend on the record -----

/// May `user` enter actuals of a KPI owned by `owner_departments`?
pub fn can_enter_actual(user: &SessionUser, owner_departments: &[&str]) -> bool {
    match user.role {
        Admin | StrategyOffice => true,
        DepartmentEditor => {
            !user.department_code.is_empty()
                && owner_departments.contains(&user.department_code.as_str())
        }
        Finance | Viewer | Executive => false,
    }
}

/// May `user` edit the fields of a program of `department`?
pub fn can_edit_program(user: &SessionUser, department: &str) -> bool {
    match user.role {
        Admin | StrategyOffice => true,
        DepartmentEditor => !user.department_code.is_empty() && user.department_code == department,
        Finance | Viewer | Executive => false,
    }
}

/// May `user` enter money of a program of `department`?
pub fn can_edit_money(user: &SessionUser, department: &str) -> bool {
    match user.role {
        Admin | Finance => true,
        DepartmentEditor => !user.department_code.is_empty() && user.department_code == department,
        StrategyOffice | Viewer | Executive => false,
    }
}

/// May `user` import a table of `kind`? Finance imports money only; user
/// accounts are the administrator's.
pub fn can_import(user: &SessionUser, kind: Kind) -> bool {
    match user.role {
        Admin => true,
        StrategyOffice => kind != Kind::Users,
        Finance => kind == Kind::Money,
        DepartmentEditor | Viewer | Executive => false,
    }
}

/// May `user` download a table of `kind`? The user list (names, e-mail
/// addresses) is the administrator's; everything else every logged-in user reads.
pub fn can_export(user: &SessionUser, kind: Kind) -> bool {
    kind != Kind::Users || user.role == Admin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, dept: &str) -> SessionUser {
        SessionUser {
            login: "x".into(),
            display_name: "x".into(),
            role,
            section_code: "s".into(),
            department_code: dept.into(),
        }
    }

    #[test]
    fn table_has_no_duplicates_and_public_is_narrow() {
        let routes: Vec<_> = all_routes().collect();
        for (i, a) in routes.iter().enumerate() {
            for b in &routes[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {}",
                    a.method,
                    a.path
                );
            }
        }
        // Nothing that changes data is public except the login form and the
        // partnership forms meant for the public (registration, inquiry, a
        // member's application to the SDGs menu),
        // which carry the pre-session CSRF token, a honeypot and a rate limit.
        const PUBLIC_FORMS: &[&str] = &[
            "/login",
            "/partners/join",
            "/partners/inquire",
            "/partners/sdgs-menu/{code}/apply",
            "/partners/propose",
        ];
        for r in all_routes().filter(|r| r.access == Access::Public && r.method != "GET") {
            assert!(
                PUBLIC_FORMS.contains(&r.path),
                "public {} {}",
                r.method,
                r.path
            );
        }
        // Only the LINE webhook proves itself by a signature instead of a session.
        let signed: Vec<_> = signed_routes().map(|r| (r.method, r.path)).collect();
        assert_eq!(signed, vec![("POST", "/partners/line/webhook")]);
        assert!(rule_for(&Method::HEAD, "/").is_some());
        assert!(rule_for(&Method::DELETE, "/").is_none());
    }

    #[tokio::test]
    async fn csrf_from_the_first_multipart_field() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\na,b\r\n--XyZ--\r\n";
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        let (v, rest) = first_multipart_field(Body::from(body), "XyZ", "csrf")
            .await
            .unwrap();
        assert_eq!(v, "tok123");
        let back = axum::body::to_bytes(rest, 1 << 20).await.unwrap();
        assert_eq!(back, body.as_bytes(), "the body is passed on whole");
        // The token as a later field, or no token: nothing.
        let late = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok123\r\n--XyZ--\r\n";
        let (v, _) = first_multipart_field(Body::from(late), "XyZ", "csrf")
            .await
            .unwrap();
        assert_eq!(v, "");
        let (v, _) = first_multipart_field(Body::from("garbage"), "XyZ", "csrf")
            .await
            .unwrap();
        assert_eq!(v, "");
    }

    #[test]
    fn department_rules() {
        let ed = user(DepartmentEditor, "D1");
        assert!(can_edit_program(&ed, "D1"));
        assert!(!can_edit_program(&ed, "D2"));
        assert!(can_enter_actual(&ed, &["D2", "D1"]));
        assert!(!can_enter_actual(&ed, &["D2"]));
        assert!(can_edit_money(&ed, "D1"));
        assert!(!can_edit_money(&user(StrategyOffice, ""), "D1"));
        assert!(can_edit_money(&user(Finance, ""), "D1"));
        assert!(!can_edit_program(&user(Finance, "D1"), "D1"));
        assert!(
            !can_edit_program(&user(DepartmentEditor, ""), ""),
            "unknown department edits nothing"
        );
        assert!(can_import(&user(Finance, ""), Kind::Money));
        assert!(!can_import(&user(Finance, ""), Kind::Kpis));
        assert!(!can_import(&user(StrategyOffice, ""), Kind::Users));
        assert!(!can_export(&user(Viewer, ""), Kind::Users));
        assert!(can_export(&user(Viewer, ""), Kind::Kpis));
    }
}
